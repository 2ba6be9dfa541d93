"""The shifted-beta-geometric (sBG) model of contractual retention."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from custintel.clv import _shifted_beta_geo_math as sbg
from custintel.clv._base import ParametricModel, check_nonnegative
from custintel.exceptions import SchemaError, plain
from custintel.typing import CustomerTable

__all__ = ["ShiftedBetaGeoModel"]


def _survivor_counts(X: Any) -> np.ndarray:
    """Validate one cohort's survivor counts and return them as floats."""
    name = "ShiftedBetaGeoModel"
    if isinstance(X, pd.DataFrame):
        if "survivors" not in X.columns:
            raise SchemaError(
                f"{name} needs a 'survivors' column (customers still active at periods "
                f"0, 1, ..., k); columns present: {[str(c) for c in X.columns]}",
                reason="missing_column",
            )
        X = X["survivors"]
    try:
        values = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise SchemaError(
            f"{name} expects survivor counts as numbers, got {type(X).__name__}",
            reason="not_numeric",
        ) from None
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise SchemaError(
            f"{name} expects one cohort's survivor counts as a 1-D sequence "
            f"(periods 0, 1, ..., k), got shape {values.shape}",
            reason="not_one_dimensional",
        )
    if len(values) < 3:
        raise SchemaError(
            f"{name} needs survivor counts for at least periods 0, 1 and 2, got {len(values)}; "
            "one period of churn identifies only the first-period churn rate "
            "gamma / (gamma + delta), not gamma and delta",
            reason="too_few_periods",
        )
    problems: list[str] = []

    def note(bad: np.ndarray, what: str) -> None:
        if bad.any():
            where = np.flatnonzero(bad)[:5]
            examples = ", ".join(f"period {i}: {plain(values[i])!r}" for i in where)
            problems.append(f"{int(bad.sum())} counts {what} ({examples})")

    finite = np.isfinite(values)
    note(~finite, "are NaN or infinite")
    note(finite & (values < 0), "are negative")
    note(finite & (values != np.round(values)), "are not whole numbers")
    rises = np.zeros(len(values), dtype=bool)
    rises[1:] = np.diff(values) > 0
    note(rises, "exceed the count of the period before (survivors cannot increase)")
    if finite[0] and values[0] <= 0:
        problems.append(f"the cohort is empty at period 0 (survivors[0] = {plain(values[0])!r})")
    if problems:
        raise SchemaError(
            f"{name}: survivor counts must be non-increasing whole numbers >= 0 with "
            "survivors[0] > 0; " + "; ".join(problems),
            reason="bad_survivor_counts",
        )
    return values


def _period_rows(X: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """Churners per period plus the survivors at the end, as weighted likelihood rows."""
    survivors = _survivor_counts(X)
    k = len(survivors) - 1
    churned = survivors[:-1] - survivors[1:]
    rows = pd.DataFrame(
        {
            "period": np.append(np.arange(1, k + 1), k),
            "censored": np.append(np.zeros(k, dtype=np.int64), 1),
        }
    )
    return rows, np.append(churned, survivors[-1]).astype(np.float64)


def _periods(t: Any, *, minimum: float, name: str = "t") -> tuple[np.ndarray, pd.Index]:
    array = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if array.ndim != 1 or not np.all(np.isfinite(array)) or (array < minimum).any():
        raise ValueError(f"{name} must be finite numbers >= {minimum:g}, got {t!r}")
    return array, pd.Index(array, name=name)


class ShiftedBetaGeoModel(ParametricModel):
    r"""Shifted-beta-geometric (sBG) model of retention in a contractual setting.

    Each customer renews at the end of every period with a constant
    probability :math:`1 - \theta` until they cancel; :math:`\theta` varies
    across customers as Beta(:math:`\gamma, \delta`). The heterogeneity
    makes the cohort's retention rate rise with tenure, as the customers
    likely to cancel leave first, which a single churn rate misses.

    Like every model of :mod:`custintel.clv` it takes the options ``penalizer``,
    ``initial_params`` (of ``gamma`` and ``delta``), ``max_iter`` and
    ``on_failure``, and has ``params_``, ``bse_``, ``log_likelihood_`` and
    ``converged_`` (see the lifetime value guide), where:

    Attributes
    ----------
    n_customers_ : float
        Size of the cohort at period 0.
    n_periods_ : int
        Periods of data the model was fitted on (``k``).

    Notes
    -----
    :meth:`fit` takes one cohort's survivor counts :math:`s_0, s_1, \ldots,
    s_k`: the customers acquired at period 0 and still active at the end of
    each period. The :math:`s_{t-1} - s_t` customers who left in period
    :math:`t` contribute :math:`P(T = t)` and the :math:`s_k` still active
    contribute :math:`S(k)`:

    .. math::

        P(T = t) = \frac{B(\gamma + 1, \delta + t - 1)}{B(\gamma, \delta)}, \qquad
        S(t) = \frac{B(\gamma, \delta + t)}{B(\gamma, \delta)}, \qquad
        r(t) = \frac{S(t)}{S(t - 1)} = \frac{\delta + t - 1}{\gamma + \delta + t - 1}.

    The mean lifetime is :math:`E[T] = (\gamma + \delta - 1) / (\gamma - 1)`
    periods when :math:`\gamma > 1`, and infinite otherwise. For a customer
    who has been active for :math:`n` periods (made :math:`n - 1`
    renewals), evaluated just before the :math:`n`-th renewal decision, the
    discounted expected residual lifetime of [2]_ is

    .. math::

        \mathrm{DERL}(d \mid n - 1 \text{ renewals}) =
        \sum_{t=n}^{\infty} \frac{S(t)}{S(n - 1)} \frac{1}{(1 + d)^{t - n}}
        = \frac{\delta + n - 1}{\gamma + \delta + n - 1}\,
          {}_2F_1\!\left(1, \delta + n; \gamma + \delta + n; \tfrac{1}{1 + d}\right),

    so a customer's residual value is their per-period margin times DERL.

    References
    ----------
    .. [1] Fader, P. S. and Hardie, B. G. S. (2007), "How to Project Customer
       Retention", Journal of Interactive Marketing, 21 (1), 76-90.
    .. [2] Fader, P. S. and Hardie, B. G. S. (2010), "Customer-Base Valuation
       in a Contractual Setting: The Perils of Ignoring Heterogeneity",
       Marketing Science, 29 (1), 85-93.

    Examples
    --------
    The "regular" customers of [1]_: 1,000 acquired in year 0 and the number
    still active at the end of years 1 to 7.

    >>> from custintel.clv import ShiftedBetaGeoModel
    >>> survivors = [1000, 631, 468, 382, 326, 289, 262, 241]
    >>> model = ShiftedBetaGeoModel().fit(survivors)
    >>> model.params_.round(3).to_dict()
    {'gamma': 0.704, 'delta': 1.182}
    >>> model.retention_rate([1, 2, 5, 10]).round(3).tolist()
    [0.627, 0.756, 0.88, 0.935]
    >>> model.expected_lifetime()
    inf
    >>> model.discounted_expected_residual_lifetime([1, 5], discount_rate=0.1).round(2).tolist()
    [2.96, 5.89]
    """

    param_names: ClassVar[tuple[str, ...]] = ("gamma", "delta")
    columns: ClassVar[tuple[str, ...]] = ("period", "censored")
    integer_columns: ClassVar[tuple[str, ...]] = ("period", "censored")

    def fit(
        self, X: CustomerTable, y: Any = None, *, sample_weight: Any = None
    ) -> ShiftedBetaGeoModel:
        """Estimate ``gamma`` and ``delta`` from one cohort's survivor counts.

        Parameters
        ----------
        X : array-like of shape (k + 1,), pandas.Series or pandas.DataFrame
            Customers still active at periods 0, 1, ..., k, in period order:
            a list or 1-D array, a Series, or a DataFrame with a
            ``survivors`` column. Whole numbers, non-increasing, with
            ``X[0] > 0`` and at least three periods (0, 1 and 2).
        y : None
            Ignored; present for scikit-learn compatibility.
        sample_weight : None
            Not supported: the counts already weight the periods.

        Returns
        -------
        ShiftedBetaGeoModel
            The fitted model (``self``).

        Raises
        ------
        SchemaError
            When the counts are not a valid survivor curve.
        """
        if sample_weight is not None:
            raise ValueError(
                "ShiftedBetaGeoModel takes no sample_weight: the survivor counts are the weights"
            )
        rows, weights = _period_rows(X)
        super().fit(rows, sample_weight=weights)
        self.n_periods_ = len(rows) - 1
        return self

    def score(self, X: CustomerTable, y: Any = None, *, sample_weight: Any = None) -> float:
        """Return the mean log-likelihood per customer of a cohort's survivor counts.

        Parameters
        ----------
        X : array-like, pandas.Series or pandas.DataFrame
            Survivor counts, as for :meth:`fit`.
        y : None
            Ignored.
        sample_weight : None
            Not supported.

        Returns
        -------
        float
        """
        if sample_weight is not None:
            raise ValueError("ShiftedBetaGeoModel takes no sample_weight")
        rows, weights = _period_rows(X)
        return super().score(rows, sample_weight=weights)

    def _loglik(
        self, params: np.ndarray, data: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        return sbg.sbg_loglik(params, data["period"], data["censored"])

    # --- retention curves -----------------------------------------------------------

    def _curve(
        self, t: Any, name: str, formula: Callable[..., np.ndarray], *, first: float
    ) -> pd.Series:
        """Evaluate ``formula(gamma, delta, periods)`` at the periods ``t >= first``."""
        gamma, delta = self._params
        periods, index = _periods(t, minimum=first)
        return pd.Series(formula(gamma, delta, periods), index=index, name=name)

    def survival_function(self, t: Any) -> pd.Series:
        r"""Return :math:`S(t)`, the share of a new cohort still active after ``t`` periods.

        Parameters
        ----------
        t : float or array-like of float
            Periods since acquisition (``>= 0``).

        Returns
        -------
        pandas.Series
            ``survival``, indexed by ``t``.
        """
        return self._curve(t, "survival", sbg.survival, first=0.0)

    def retention_rate(self, t: Any) -> pd.Series:
        r"""Return :math:`r(t) = S(t) / S(t - 1)`, the renewal rate of those left at ``t - 1``.

        Parameters
        ----------
        t : float or array-like of float
            Periods (``>= 1``).

        Returns
        -------
        pandas.Series
            ``retention_rate``, indexed by ``t``; it rises towards 1 with ``t``.
        """
        return self._curve(t, "retention_rate", sbg.retention_rate, first=1.0)

    def churn_probability(self, t: Any) -> pd.Series:
        r"""Return :math:`P(T = t)`, the share of a new cohort that leaves in period ``t``.

        Parameters
        ----------
        t : float or array-like of float
            Periods ``>= 1``, as for :meth:`retention_rate`.

        Returns
        -------
        pandas.Series
            ``churn_probability``, indexed by ``t``; its sum over periods 1 to ``t``
            is ``1 - S(t)``.
        """
        return self._curve(t, "churn_probability", sbg.churn_probability, first=1.0)

    def expected_lifetime(self) -> float:
        r"""Return the mean lifetime :math:`E[T]` of a new customer, in periods.

        Returns
        -------
        float
            :math:`(\gamma + \delta - 1) / (\gamma - 1)` when :math:`\gamma > 1`;
            ``inf`` when :math:`\gamma \le 1`, where enough customers almost
            never cancel that the mean diverges. Use
            :meth:`discounted_expected_residual_lifetime` (finite for any
            positive discount rate) or :meth:`survival_function` instead.
        """
        gamma, delta = self._params
        if gamma <= 1.0:
            return float("inf")
        return float((gamma + delta - 1) / (gamma - 1))

    def discounted_expected_lifetime(self, *, discount_rate: float) -> float:
        r"""Return the discounted expected lifetime of a new customer, counting period 1 as 1.

        Parameters
        ----------
        discount_rate : float
            Per-period discount rate :math:`d \ge 0`.

        Returns
        -------
        float
            :math:`\sum_{t \ge 0} S(t) / (1 + d)^t =
            {}_2F_1(1, \delta; \gamma + \delta; 1 / (1 + d))`; times the
            per-period margin it is the expected value of a customer at
            acquisition. ``inf`` when ``discount_rate == 0`` and
            :math:`\gamma \le 1`.
        """
        return 1.0 + float(
            self.discounted_expected_residual_lifetime(1, discount_rate=discount_rate).iloc[0]
        )

    def discounted_expected_residual_lifetime(
        self, periods_alive: Any, *, discount_rate: float
    ) -> pd.Series:
        r"""Return DERL, the discounted number of future renewals of an active customer.

        Parameters
        ----------
        periods_alive : int or array-like of int
            :math:`n \ge 1`: the customer has been active for :math:`n`
            periods (made :math:`n - 1` renewals) and the :math:`n`-th
            renewal decision is next. A customer in their first period has
            ``periods_alive=1``.
        discount_rate : float
            Per-period discount rate :math:`d \ge 0`.

        Returns
        -------
        pandas.Series
            Indexed by ``periods_alive``. The next renewal counts 1
            (undiscounted) and each later one :math:`1 / (1 + d)` less. With
            ``discount_rate == 0`` this is the expected number of further
            renewals, :math:`(\delta + n - 1) / (\gamma - 1)`, infinite when
            :math:`\gamma \le 1`.
        """
        gamma, delta = self._params
        n, index = _periods(periods_alive, minimum=1.0, name="periods_alive")
        if (n != np.round(n)).any():
            raise ValueError(f"periods_alive must be whole numbers >= 1, got {periods_alive!r}")
        d = check_nonnegative(discount_rate, "discount_rate")
        if d > 0.0:
            values = sbg.sbg_derl(gamma, delta, n, d)
        elif gamma > 1.0:
            values = (delta + (n - 1)) / (gamma - 1)
        else:
            values = np.full_like(n, np.inf)
        return pd.Series(values, index=index, name="derl")

    def sample(self, n_customers: int, *, n_periods: int, random_state: Any = None) -> pd.Series:
        """Simulate one cohort's survivor counts from the fitted parameters.

        Parameters
        ----------
        n_customers : int
            Size of the cohort at period 0.
        n_periods : int
            Last period ``k`` to report.
        random_state : int, numpy.random.Generator or None, default=None
            Seed.

        Returns
        -------
        pandas.Series
            Customers still active at periods 0..k, indexed by ``period``;
            ready to :meth:`fit`.
        """
        gamma, delta = self._params
        size, k = int(n_customers), int(n_periods)
        if size < 1 or k < 0:
            raise ValueError(
                f"n_customers must be >= 1 and n_periods >= 0, got {n_customers!r}, {n_periods!r}"
            )
        rng = np.random.default_rng(random_state)
        theta = rng.beta(gamma, delta, size)
        with np.errstate(divide="ignore", invalid="ignore"):
            # Lifetime T >= 1 with P(T > t) = (1 - theta)^t, by inversion.
            lifetime = np.floor(np.log(1.0 - rng.random(size)) / np.log1p(-theta)) + 1.0
        lifetime = np.nan_to_num(lifetime, nan=np.inf, posinf=np.inf)
        churned = np.bincount(np.minimum(lifetime, k + 1).astype(np.int64), minlength=k + 2)
        survivors = size - np.cumsum(churned[: k + 1])
        return pd.Series(survivors, index=pd.RangeIndex(k + 1, name="period"), name="survivors")
