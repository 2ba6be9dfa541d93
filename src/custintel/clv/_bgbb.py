"""The BG/BB model of repeat transactions at discrete opportunities."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import betaln
from sklearn.utils.validation import check_is_fitted

from custintel.clv._base import PurchaseModel, _describe, check_recency
from custintel.clv._bgbb_math import bgbb_loglik, log_sum_beta
from custintel.exceptions import SchemaError

__all__ = ["BetaGeoBetaBinomModel"]


def _whole(value: Any, name: str) -> np.ndarray:
    """Return ``value`` as a float array of whole numbers ``>= 0`` or raise ``ValueError``."""
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)) or (array < 0).any() or (array != np.round(array)).any():
        raise ValueError(
            f"{name} must be a whole number of transaction opportunities >= 0 "
            f"(the BG/BB model runs in discrete time), got {value!r}"
        )
    return array


class BetaGeoBetaBinomModel(PurchaseModel):
    r"""BG/BB model of repeat transactions at discrete transaction opportunities.

    For settings where a customer can transact only at fixed opportunities
    (a yearly fund drive, an annual event, a weekly visit recorded as
    yes/no): while "alive", a customer transacts at each opportunity with
    probability :math:`p`, and becomes inactive at the start of each
    opportunity with probability :math:`\theta`. Across customers
    :math:`p \sim` Beta(:math:`\alpha, \beta`) and :math:`\theta \sim`
    Beta(:math:`\gamma, \delta`), independently.

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters.
    initial_params : dict or None, default=None
        Starting values for ``alpha``, ``beta``, ``gamma`` and ``delta``.
    max_iter : int, default=1000
        Optimiser iterations per run.
    on_failure : {"raise", "warn"}, default="raise"
        What a fit that does not converge does.

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta``, ``gamma`` and ``delta``.
    bse_ : pandas.Series
        Standard errors from the observed information.
    log_likelihood_ : float
        Log-likelihood at the estimate.
    converged_ : bool
        Whether the optimiser converged.

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

    def _loglik(
        self, params: np.ndarray, data: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        ll, grad = bgbb_loglik(params, data["frequency"], data["recency"], data["T"])
        assert grad is not None
        return ll, grad

    def _initial_params(self, data: dict[str, np.ndarray]) -> np.ndarray:
        return np.array([1.0, 1.0, 1.0, 1.0])

    # --- array-level predictions ---------------------------------------------------

    def _expected_purchases(
        self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
    ) -> np.ndarray:
        horizon = float(_whole(t, "t"))
        alpha, beta, gamma, delta = params
        ll, _ = bgbb_loglik(params, x, t_x, T, gradient=False)
        unique_n, inverse = np.unique(T, return_inverse=True)
        log_sum = log_sum_beta(gamma, delta, unique_n, np.full_like(unique_n, horizon))
        log_e = (
            betaln(alpha + x + 1, beta + (T - x))
            - betaln(alpha, beta)
            - betaln(gamma, delta)
            + log_sum[inverse.ravel()]
            - ll
        )
        return np.minimum(np.exp(log_e), horizon)  # at most one transaction per opportunity

    def _proba_alive(
        self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        alpha, beta, gamma, delta = params
        ll, _ = bgbb_loglik(params, x, t_x, T, gradient=False)
        log_alive = (
            betaln(alpha + x, beta + (T - x))
            - betaln(alpha, beta)
            + betaln(gamma, delta + T + 1)
            - betaln(gamma, delta)
            - ll
        )
        return np.minimum(np.exp(log_alive), 1.0)

    def _proba_no_purchase(
        self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
    ) -> np.ndarray:
        horizon = float(_whole(t, "t"))
        ll_now, _ = bgbb_loglik(params, x, t_x, T, gradient=False)
        ll_later, _ = bgbb_loglik(params, x, t_x, T + horizon, gradient=False)
        return np.clip(np.exp(ll_later - ll_now), 0.0, 1.0)

    def expected_purchases_new_customer(self, t: Any) -> np.ndarray:
        r"""Return :math:`E[X(n)]`, a new customer's expected transactions in ``n`` opportunities.

        Parameters
        ----------
        t : int or array-like of int
            Numbers of opportunities :math:`n` (whole numbers ``>= 0``).

        Returns
        -------
        numpy.ndarray
            Expected repeat transactions, shaped like ``t`` (equation 7 of
            Fader, Hardie and Shang, 2010).
        """
        check_is_fitted(self, "params_")
        n = _whole(t, "t")
        alpha, beta, gamma, delta = self._params
        flat = n.ravel()
        log_sum = log_sum_beta(gamma, delta, np.zeros_like(flat), flat)
        expected = alpha / (alpha + beta) * np.exp(log_sum - betaln(gamma, delta))
        return expected.reshape(n.shape)

    def _sample(
        self, params: np.ndarray, T: np.ndarray, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        n = _whole(T, "T")
        alpha, beta, gamma, delta = params
        size = len(n)
        p = rng.beta(alpha, beta, size)
        theta = rng.beta(gamma, delta, size)
        with np.errstate(divide="ignore", invalid="ignore"):
            # Opportunities survived: P(alive at opportunity k) = (1 - theta)^k.
            survived = np.log(1.0 - rng.random(size)) / np.log1p(-theta)
            survived = np.nan_to_num(survived, nan=np.inf, posinf=np.inf)
            alive = np.minimum(np.floor(survived), n)
            # At least one transaction among the alive opportunities?
            any_prob = -np.expm1(alive * np.log1p(-p))
            buys = rng.random(size) < any_prob
            # Trailing opportunities without a transaction: truncated geometric on 0..alive-1.
            tail = np.ceil(np.log1p(-rng.random(size) * any_prob) / np.log1p(-p)) - 1.0
            tail = np.nan_to_num(tail, nan=0.0, posinf=0.0, neginf=0.0)
        tail = np.clip(tail, 0.0, np.maximum(alive - 1.0, 0.0))
        recency = np.where(buys, alive - tail, 0.0).astype(np.int64)
        before_last = np.maximum(recency - 1, 0)
        frequency = np.where(buys, 1 + rng.binomial(before_last, np.clip(p, 0.0, 1.0)), 0)
        return {
            "frequency": frequency.astype(np.int64),
            "recency": recency,
            "T": n.astype(np.int64),
        }
