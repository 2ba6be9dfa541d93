"""The Gamma-Gamma model of the value of repeat purchases."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from custintel.clv._base import ParametricModel, bootstrap_interval, check_interval
from custintel.clv._fit import MLEResult, _hessian, fit_mle, standard_errors
from custintel.clv._gamma_gamma_math import gamma_gamma_loglik
from custintel.exceptions import DataQualityWarning, warn
from custintel.export import as_float, show
from custintel.typing import CustomerTable

__all__ = ["GammaGammaModel"]


@dataclass(kw_only=True, repr=False, eq=False)
class GammaGammaModel(ParametricModel):
    r"""Gamma-Gamma model of average spend per repeat purchase.

    Each customer's purchase values are Gamma(:math:`p`, :math:`\nu`) with
    :math:`\nu \sim` Gamma(:math:`q`, :math:`\gamma`) across customers, and
    spend is independent of purchase frequency.

    The fitting options and fitted attributes (here ``params_`` ``p``, ``q``
    and ``gamma``) are those every model of :mod:`custintel.clv` shares; see
    the lifetime value guide. Besides them:

    Parameters
    ----------
    q_min : float or None, default=None
        Lower bound on ``q`` (lifetimes' ``q_constraint=True`` is
        ``q_min=1``). The population mean spend :math:`p\gamma/(q-1)`
        exists only for ``q > 1``; on heavy-tailed spend data the
        unconstrained estimate can fall below 1 and make every one-time
        buyer's expected spend infinite; any ``q_min > 1`` keeps it finite.
        With ``q_min`` the likelihood is
        maximised over ``q >= q_min``: when the unconstrained estimate
        already satisfies it, the fit is exactly the unconstrained one;
        otherwise ``q`` is held at ``q_min`` (the constrained maximum lies on
        the bound; checked by the sign of the derivative in ``q``, with a
        search of ``q > q_min`` when it is not) and its standard error is
        NaN. ``None`` fits without a bound.

    spend_covariates : list of str or None, default=None
        Columns of the customer table (numeric, one value per customer) that
        shift the spend level: customer :math:`i`'s rate
        :math:`\nu_i \sim \mathrm{Gamma}(q, \gamma e^{\delta' z_i})`, i.e.
        :math:`\nu_i = \nu e^{-\delta' z_i}`, so every expected spend is
        multiplied by :math:`e^{\delta' z_i}` (CLVTools' Gamma-Gamma has no
        covariates; this is the natural choice, the scale of the spend
        distribution). The coefficients :math:`\delta` are in ``params_`` as
        ``"spend:<column>"``, with standard errors and Wald tests in
        :meth:`summary`; predictions read each customer's columns.

    Attributes
    ----------
    n_excluded_ : int
        Repeat buyers left out because their mean spend is 0.
    q_constrained_ : bool
        Whether ``q_min`` binds: the estimate of ``q`` is ``q_min``.

    Notes
    -----
    The model is fitted on repeat buyers only (``frequency > 0``): their
    mean repeat spend :math:`\bar m_x` is informative. With
    :math:`x` repeat purchases the expected mean spend is

    .. math::

        E[M \mid x, \bar m_x] = \frac{p(\gamma + x \bar m_x)}{px + q - 1},

    a weighted average of the population mean :math:`p\gamma/(q-1)` and the
    customer's own mean. Customers with a repeat purchase but a mean spend
    of 0 cannot come from a Gamma distribution; they are excluded with a
    :class:`~custintel.exceptions.DataQualityWarning`.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV:
       Using Iso-Value Curves for Customer Base Analysis", Journal of
       Marketing Research, 42 (4), 415-430.
    .. [2] Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
       Monetary Value", http://brucehardie.com/notes/025/.

    Examples
    --------
    >>> from custintel.clv import GammaGammaModel
    >>> from custintel.datasets import load_cdnow_summary
    >>> model = GammaGammaModel().fit(load_cdnow_summary())
    >>> model.params_.round(2).to_dict()
    {'p': 6.25, 'q': 3.74, 'gamma': 15.44}
    >>> round(model.log_likelihood_, 2)
    -4055.92
    """

    param_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")
    columns: ClassVar[tuple[str, ...]] = ("frequency", "monetary_value")
    integer_columns: ClassVar[tuple[str, ...]] = ("frequency",)
    covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {"spend": (("gamma", 1),)}

    q_min: float | None = None
    spend_covariates: Sequence[str] | None = None

    def _check_params(self) -> None:
        super()._check_params()
        if self.q_min is None:
            return
        if isinstance(self.q_min, (bool, np.bool_)) or not (0 < as_float(self.q_min) < math.inf):
            raise ValueError(
                f"q_min must be None or a finite number > 0 (1 keeps the mean spend "
                f"finite, as lifetimes' q_constraint=True), got {show(self.q_min)}"
            )

    def _after_fit(
        self, result: MLEResult, arrays: dict[str, np.ndarray], weights: np.ndarray
    ) -> MLEResult:
        self.q_constrained_ = False
        self._q_fixed_hessian: np.ndarray | None = None
        if self.q_min is None or result.params[1] >= float(self.q_min):
            return result
        return self._fit_with_q_min(result, arrays, weights, float(self.q_min))

    def _fit_with_q_min(
        self,
        free: MLEResult,
        arrays: dict[str, np.ndarray],
        weights: np.ndarray,
        q_min: float,
    ) -> MLEResult:
        """Maximise the likelihood over ``q >= q_min`` when the free estimate is below it."""
        loglik, fit_weights = self._fit_terms(arrays, weights)
        options = {
            "weights": fit_weights,
            "penalizer": float(self.penalizer),
            "max_iter": self.max_iter,
            "on_failure": "return",
            "model_name": type(self).__name__,
        }
        # p, q, gamma are positive; covariate coefficients (after them) are not
        positive = np.arange(len(free.params)) < 3

        def at_bound(pg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            ll, grad = loglik(np.insert(pg, 1, q_min))
            return ll, np.delete(grad, 1, axis=1)

        fixed = fit_mle(
            at_bound,
            np.delete(free.params, 1),
            positive=np.delete(positive, 1),
            **options,  # type: ignore[arg-type]
        )
        params = np.insert(fixed.params, 1, q_min)
        _, grad = loglik(params)
        slope = (
            float(fit_weights @ grad[:, 1])
            - 2.0 * float(self.penalizer) * float(fit_weights.sum()) * q_min
        )
        if slope > 1e-6 * max(1.0, abs(fixed.log_likelihood)):
            # The likelihood still rises into q > q_min: the constrained maximum is inside.
            def above(pdg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                theta = pdg.copy()
                theta[1] += q_min
                return loglik(theta)

            start = params.copy()
            start[1] = 1.0
            inside = fit_mle(above, start, positive=positive, **options)  # type: ignore[arg-type]
            if inside.log_likelihood > fixed.log_likelihood:
                shifted = inside.params.copy()
                shifted[1] += q_min
                hessian = _hessian(
                    loglik, shifted, fit_weights, float(self.penalizer), positive=positive
                )
                return replace(inside, params=shifted, hessian=hessian)
        self.q_constrained_ = True
        self._q_fixed_hessian = fixed.hessian
        hessian = _hessian(loglik, params, fit_weights, float(self.penalizer), positive=positive)
        return MLEResult(
            params,
            fixed.log_likelihood,
            fixed.converged,
            free.n_iter + fixed.n_iter,
            hessian,
            f"q held at q_min = {q_min:g}; {fixed.message}",
            np.insert(fixed.at_bound, 1, False),
        )

    def _prepare(self, X: Any) -> tuple[dict[str, np.ndarray], pd.Index]:
        arrays, index, _, _ = self._repeat_buyers(X)
        return arrays, index

    def _repeat_buyers(self, X: Any) -> tuple[dict[str, np.ndarray], pd.Index, np.ndarray, int]:
        """Check ``X``; return the usable repeat buyers, their mask and the count left out.

        Sets no attribute: ``score`` goes through here too, and must not change
        the fitted ``n_excluded_``.
        """
        arrays, index = self._checked_table(X)
        repeat = arrays["frequency"] > 0
        zero_spend = repeat & (arrays["monetary_value"] <= 0)
        n_excluded = int(zero_spend.sum())
        if n_excluded:
            warn(
                f"{n_excluded:,} repeat buyers have a mean repeat spend of 0; the "
                "Gamma-Gamma model cannot use them and leaves them out of the fit.",
                DataQualityWarning,
            )
        keep = repeat & ~zero_spend
        if not keep.any():
            raise ValueError(
                "GammaGammaModel needs repeat buyers (frequency > 0) with a positive "
                "monetary_value; the table has none"
            )
        return (
            {name: values[keep] for name, values in arrays.items()},
            index[keep],
            keep,
            n_excluded,
        )

    def fit(self, X: CustomerTable, y: Any = None, *, sample_weight: Any = None) -> GammaGammaModel:
        """Estimate ``p``, ``q`` and ``gamma`` from repeat buyers' mean spend.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency`` and ``monetary_value``.
        y : None
            Ignored.
        sample_weight : array-like, optional
            Number of customers each row stands for.

        Returns
        -------
        self
        """
        # Validate X first, so a missing column is a SchemaError even with sample_weight.
        arrays, index, keep, excluded = self._repeat_buyers(X)
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != keep.shape:
                raise ValueError(
                    f"sample_weight must be {len(keep)} numbers, one per row of X; "
                    f"got shape {weights.shape}"
                )
            sample_weight = weights[keep]
        kept = pd.DataFrame(arrays, index=index)
        kept.attrs.update(getattr(X, "attrs", {}))  # the time unit of the table fitted
        super().fit(kept, sample_weight=sample_weight)
        self.n_excluded_ = excluded
        if self._q_fixed_hessian is not None:
            # q sits on its bound: no standard error for it; those of p and gamma with q fixed.
            errors = standard_errors(self._q_fixed_hessian)
            self.bse_ = pd.Series(np.insert(errors, 1, np.nan), index=self.params_.index, name="se")
            # Intervals hold q at its bound: no variance for it, none shared with it.
            covariance = np.linalg.pinv(self._q_fixed_hessian)
            self._set_covariance(np.insert(np.insert(covariance, 1, 0.0, axis=0), 1, 0.0, axis=1))
        q = float(self.params_["q"])
        if q <= 1 and self.q_constrained_:
            warn(
                f"GammaGammaModel: q is held at q_min = {q:.4g}; the data would put it "
                "lower. With q <= 1 the population mean spend p * gamma / (q - 1) does not "
                "exist and predict_spend is infinite for one-time buyers: pass a q_min "
                "above 1 (e.g. 1.1) for a finite mean.",
                DataQualityWarning,
            )
        elif q <= 1:
            warn(
                f"GammaGammaModel: q = {q:.4g} <= 1, so the population mean spend "
                "p * gamma / (q - 1) does not exist; predict_spend is infinite for customers "
                "with p * frequency + q <= 1 (all one-time buyers). The spend data are very "
                "heavy-tailed: check for outliers, or use a penalizer.",
                DataQualityWarning,
            )
        return self

    def _loglik(
        self, params: np.ndarray, data: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        return gamma_gamma_loglik(params, data["frequency"], data["monetary_value"])

    def predict_spend(
        self,
        X: CustomerTable,
        *,
        interval: float | None = None,
        n_draws: int = 200,
        random_state: Any = None,
        interval_method: str = "auto",
        progress: bool | None = None,
    ) -> pd.Series | pd.DataFrame:
        r"""Return the expected mean value of each customer's future purchases.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency`` and ``monetary_value`` (and the
            ``spend_covariates`` columns of a model fitted with them).
        interval : float or None, default=None
            With a level such as 0.9, also return the bounds of the interval
            of the expected spend from the uncertainty of the estimates: a
            parametric bootstrap over ``n_draws`` draws of the parameters on
            the optimiser's scale (log of ``p``, ``q``, ``gamma``;
            coefficients as they are), as for the purchase models'
            ``predict_purchases``.
        n_draws : int, default=200
            Parameter draws for ``interval``.
        random_state : int, numpy.random.Generator or None, default=None
            Seed of the draws.
        interval_method : {"auto", "bootstrap", "delta"}, default="auto"
            ``"auto"``: the bootstrap for up to 100,000 customers, the delta
            method beyond. ``"delta"``: the delta method instead of draws (a few point
            predictions' cost instead of about ``n_draws``), with normal
            bounds on the log scale; see the purchase models'
            ``predict_purchases``.
        progress : bool or None, default=None
            Show a progress bar on standard error over the customers while
            the bootstrap ``interval`` is computed, as for the purchase
            models' ``predict_purchases``.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            ``expected_spend``, indexed like ``X``; one-time buyers get the
            population mean :math:`p\gamma/(q-1)`. Infinite where
            :math:`px + q \le 1` (for one-time buyers: ``q <= 1``), where the
            mean does not exist. With ``interval``: a DataFrame with columns
            ``expected_spend``, ``lower`` and ``upper``.
        """
        self._check_time_unit(X)
        level = check_interval(interval)
        theta = self._theta
        arrays, index = self._checked_table(X)
        spend = self._spend(theta, arrays)
        if level is None:
            return pd.Series(spend, index=index, name="expected_spend")

        def at(draws: np.ndarray, rows: np.ndarray) -> np.ndarray:
            return self._spend(draws, {k: v[rows] for k, v in arrays.items()})

        keys = [arrays[c] for c in (*self.columns, *self._covariate_columns())]
        return bootstrap_interval(
            self,
            spend,
            at,
            keys,
            "expected_spend",
            index,
            level,
            n_draws,
            random_state,
            method=interval_method,
            progress=progress,
        )

    def _spend(self, theta: np.ndarray, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Return the expected spend per customer at ``theta`` (or per draw, for a matrix)."""
        (p, q, g), _ = self._link(theta, arrays)
        x, m = arrays["frequency"], arrays["monetary_value"]
        # The posterior mean of 1/nu exists only when p x + q > 1; otherwise E[M] is infinite
        # (the formula would turn negative there).
        denominator = p * x + q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.where(denominator > 0, p * (g + x * m) / denominator, np.inf))
