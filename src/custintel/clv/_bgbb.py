"""The BG/BB model of repeat transactions at discrete opportunities."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from custintel.clv import _bgbb_math as bgbb
from custintel.clv._base import (
    PurchaseMaths,
    PurchaseModel,
    _describe,
    bootstrap_interval,
    check_interval,
    check_recency,
)
from custintel.exceptions import SchemaError
from custintel.typing import CustomerTable

__all__ = ["BetaGeoBetaBinomModel"]


class BetaGeoBetaBinomModel(PurchaseModel):
    r"""BG/BB model of repeat transactions at discrete transaction opportunities.

    For settings where a customer can transact only at fixed opportunities
    (a yearly fund drive, an annual event, a weekly visit recorded as
    yes/no): while "alive", a customer transacts at each opportunity with
    probability :math:`p`, and becomes inactive at the start of each
    opportunity with probability :math:`\theta`. Across customers
    :math:`p \sim` Beta(:math:`\alpha, \beta`) and :math:`\theta \sim`
    Beta(:math:`\gamma, \delta`), independently.

    Its ``params_`` are ``alpha``, ``beta``, ``gamma`` and ``delta``; the
    fitting options (``penalizer``, ``initial_params``, ``max_iter``,
    ``on_failure``) and the other fitted attributes are the same for every
    model of :mod:`custintel.clv` (see the lifetime value guide).

    Notes
    -----
    The customer table has whole-number columns ``frequency`` (:math:`x`,
    repeat transactions), ``recency`` (:math:`t_x`, the opportunity of the
    last one, 0 if none) and ``T`` (:math:`n`, the opportunities observed
    since the first transaction), with :math:`0 \le x \le t_x \le n`.
    Horizons ``t`` count opportunities and must be whole numbers too.

    The likelihood of one customer is

    .. math::

        L = \frac{B(\alpha + x, \beta + n - x)}{B(\alpha, \beta)}
            \frac{B(\gamma, \delta + n)}{B(\gamma, \delta)}
          + \sum_{i=0}^{n - t_x - 1}
            \frac{B(\alpha + x, \beta + t_x - x + i)}{B(\alpha, \beta)}
            \frac{B(\gamma + 1, \delta + t_x + i)}{B(\gamma, \delta)}.

    Predictions (equations 7, 11 and 13 of [1]_):

    .. math::

        E[X(n)] &= \frac{\alpha}{\alpha + \beta} \sum_{s=1}^{n}
                   \frac{B(\gamma, \delta + s)}{B(\gamma, \delta)}, \\
        P(\text{alive at } n + 1) &= \frac{B(\alpha + x, \beta + n - x)}{B(\alpha, \beta)}
            \frac{B(\gamma, \delta + n + 1)}{B(\gamma, \delta)} \Big/ L, \\
        E[X(n, n + t)] &= \frac{B(\alpha + x + 1, \beta + n - x)}{B(\alpha, \beta)}
            \sum_{s=1}^{t} \frac{B(\gamma, \delta + n + s)}{B(\gamma, \delta)} \Big/ L.

    The sums have the closed form of the paper,
    :math:`\frac{\delta}{\gamma - 1}\frac{\Gamma(\gamma + \delta)}{\Gamma(1 + \delta)}
    \bigl[\frac{\Gamma(1 + \delta + n)}{\Gamma(\gamma + \delta + n)} -
    \frac{\Gamma(1 + \delta + n + t)}{\Gamma(\gamma + \delta + n + t)}\bigr]`,
    evaluated here without its 0/0 at :math:`\gamma = 1`. The probability of
    no transaction in the next :math:`t` opportunities is the chance that the
    history extends by :math:`t` empty opportunities,
    :math:`L(x, t_x, n + t) / L(x, t_x, n)`.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Shang, J. (2010), "Customer-Base
       Analysis in a Discrete-Time Noncontractual Setting", Marketing
       Science, 29 (6), 1086-1108.

    Examples
    --------
    The donations data of [1]_: 11,104 first-time donors of 1995 and their
    repeat donations over the six yearly opportunities 1996-2001, one row per
    pattern with its number of donors.

    >>> import pandas as pd
    >>> from custintel.clv import BetaGeoBetaBinomModel
    >>> X = pd.DataFrame({
    ...     "frequency": [0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6],
    ...     "recency": [0, 1, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 3, 4, 5, 6, 4, 5, 6, 5, 6, 6],
    ...     "T": 6,
    ... })
    >>> donors = [3464, 1091, 277, 129, 78, 119, 129, 613, 255, 155, 173,
    ...           234, 322, 181, 225, 357, 240, 284, 512, 335, 728, 1203]
    >>> model = BetaGeoBetaBinomModel().fit(X, sample_weight=donors)
    >>> model.params_.round(3).to_dict()
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    >>> round(model.log_likelihood_, 1)
    -33225.6
    >>> model.predict_purchases(X.tail(2), t=5).round(3).tolist()
    [3.232, 3.753]
    """

    param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")
    integer_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    maths: ClassVar[PurchaseMaths] = PurchaseMaths.of(bgbb, loglik="loglik_and_gradient")

    def _check_data(self, arrays: dict[str, np.ndarray], index: pd.Index) -> None:
        check_recency(arrays, index, type(self).__name__)
        frequency, recency = arrays["frequency"], arrays["recency"]
        late = frequency > recency
        if late.any():
            raise SchemaError(
                f"{type(self).__name__}: "
                + _describe(index, "frequency", frequency, late, "exceed recency")
                + "; x transactions at opportunities 1..recency need frequency <= recency",
                reason="bad_customer_table",
            )

    def _horizon(self, t: Any) -> float:
        return float(bgbb.whole_numbers(super()._horizon(t), "t"))

    def _ages(self, t: Any) -> np.ndarray:
        return bgbb.whole_numbers(t, "t")

    def predict_proba_alive(
        self,
        X: CustomerTable,
        *,
        periods_ahead: int = 1,
        interval: float | None = None,
        n_draws: int = 200,
        random_state: Any = None,
        interval_method: str = "auto",
        progress: bool | None = None,
    ) -> pd.Series | pd.DataFrame:
        """Predict the probability that each customer is alive ``periods_ahead`` opportunities on.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency``, ``recency`` and ``T``.
        periods_ahead : int, default=1
            A whole number ``m >= 0``: P(alive at opportunity ``T + m``).
            The default 1 is the next opportunity (FHS 2010, eq. 11); 0 is
            the last one observed. Lifetimes calls it ``m_periods_in_future``.
        interval, n_draws, random_state, interval_method, progress
            As for :meth:`custintel.clv.BetaGeoModel.predict_purchases`: with
            a level, the point value with ``lower`` and ``upper`` bounds.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            ``proba_alive`` per customer, indexed like ``X``; it decreases in
            ``periods_ahead``. With ``interval``, a DataFrame.

        Examples
        --------
        A donor who gave in each of the six years and one who gave in the
        first year only:

        >>> import pandas as pd
        >>> from custintel.clv import BetaGeoBetaBinomModel
        >>> model = BetaGeoBetaBinomModel.from_dict({
        ...     "model": "BetaGeoBetaBinomModel", "format_version": 1,
        ...     "params": {"alpha": 1.2035, "beta": 0.7497, "gamma": 0.6567, "delta": 2.7834},
        ...     "log_likelihood": -33225.6, "converged": True})
        >>> X = pd.DataFrame({"frequency": [6, 1], "recency": [6, 1], "T": 6})
        >>> model.predict_proba_alive(X, periods_ahead=5).round(3).tolist()
        [0.74, 0.055]
        """
        m = float(bgbb.whole_numbers(periods_ahead, "periods_ahead"))
        level = check_interval(interval)
        check_is_fitted(self, "params_")
        arrays, index = self._prepare(X)
        f, r, T = arrays["frequency"], arrays["recency"], arrays["T"]
        values = bgbb.proba_alive(self._params, f, r, T, m)
        if level is None:
            return pd.Series(values, index=index, name="proba_alive")

        def at(draws: np.ndarray, rows: np.ndarray) -> np.ndarray:
            return np.stack(
                [bgbb.proba_alive(theta, f[rows], r[rows], T[rows], m) for theta in draws]
            )

        return bootstrap_interval(
            self,
            values,
            at,
            [f, r, T],
            "proba_alive",
            index,
            level,
            n_draws,
            random_state,
            method=interval_method,
            scale="logit",
            progress=progress,
        )

    def predict_proba_purchases_new(self, t: Any, n: Any) -> np.ndarray:
        r"""Return :math:`P(X(t) = n)`: ``n`` transactions of a new customer in ``t`` opportunities.

        Parameters
        ----------
        t : int or array-like of int
            Opportunities since the first transaction (whole numbers ``>= 0``).
        n : int or array-like of int
            Numbers of repeat transactions (whole numbers ``>= 0``); broadcast
            with ``t``.

        Returns
        -------
        numpy.ndarray
            Probabilities (FHS 2010, eq. 8), 0 where ``n > t``; over
            ``n = 0..t`` they sum to 1.
        """
        check_is_fitted(self, "params_")
        return bgbb.proba_purchases_new_customer(
            self._params, bgbb.whole_numbers(t, "t"), bgbb.whole_numbers(n, "n")
        )

    def expected_customers_by_frequency(
        self, t: int, *, n_customers: float | None = None
    ) -> pd.Series:
        """Return the expected number of customers with each count of transactions in ``t`` periods.

        The in-sample fit check of Fader, Hardie and Shang (2010, Figure 3):
        compare with the observed counts of customers by ``frequency`` (all
        observed for ``t`` opportunities). Lifetimes calls it
        ``expected_number_of_transactions_in_first_n_periods``.

        Parameters
        ----------
        t : int
            Transaction opportunities (a whole number ``>= 0``).
        n_customers : float, optional
            Size of the cohort; the fitted ``n_customers_`` (the total
            weight of the fit) by default.

        Returns
        -------
        pandas.Series
            ``expected_customers`` indexed by ``frequency`` ``0..t``; sums
            to ``n_customers``.

        Examples
        --------
        The donations of the class example: 11,104 donors over six years.

        >>> from custintel.clv import BetaGeoBetaBinomModel
        >>> model = BetaGeoBetaBinomModel.from_dict({
        ...     "model": "BetaGeoBetaBinomModel", "format_version": 1,
        ...     "params": {"alpha": 1.2035, "beta": 0.7497, "gamma": 0.6567, "delta": 2.7834},
        ...     "log_likelihood": -33225.6, "converged": True, "n_customers": 11104})
        >>> model.expected_customers_by_frequency(6).round(1).tolist()
        [3454.9, 1888.6, 1348.9, 1113.4, 1017.9, 1027.2, 1253.1]
        """
        check_is_fitted(self, "params_")
        periods = float(bgbb.whole_numbers(t, "t"))
        size = self.n_customers_ if n_customers is None else n_customers
        if size is None or not np.isfinite(size) or size < 0:
            raise ValueError(
                "n_customers must be a finite number >= 0; the model does not know how many "
                f"customers it was fitted on (n_customers_ is {self.n_customers_!r}): pass "
                "n_customers"
            )
        counts = np.arange(int(periods) + 1, dtype=np.float64)
        proba = bgbb.proba_purchases_new_customer(self._params, np.array(periods), counts)
        return pd.Series(
            float(size) * proba,
            index=pd.Index(counts.astype(np.int64), name="frequency"),
            name="expected_customers",
        )
