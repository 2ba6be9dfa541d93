"""The MBG/CNBD-k purchase model: MBG/NBD with regular (Erlang-k) times between purchases."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from custintel.clv import _cnbd_math as cnbd
from custintel.clv._base import PurchaseMaths, PurchaseModel, _inverse, check_customer_table
from custintel.clv._fit import (
    _GRADIENT_TOL,
    LogLikelihood,
    MLEResult,
    check_converged,
    fit_mle,
    standard_errors,
)
from custintel.clv._time_units import UNIT_DAYS, check_time_unit, table_time_unit
from custintel.exceptions import DataQualityWarning, InvalidModelError, SchemaError, plain, warn
from custintel.export import Domain, ExportReader, show
from custintel.typing import CustomerTable

__all__ = ["MBGCNBDModel"]

#: The extra column the fit reads: the sum of the logs of the times between purchases.
LITT = "litt"


def _loglik_needs_litt(*_: Any, **__: Any) -> tuple[np.ndarray, np.ndarray]:
    raise ValueError(
        "the MBG/CNBD-k likelihood needs each customer's litt (sum of log inter-purchase "
        "times): use MBGCNBDModel.fit / score on a table with a 'litt' column"
    )


@dataclass(kw_only=True, repr=False, eq=False)
class MBGCNBDModel(PurchaseModel):
    r"""MBG/CNBD-k model: MBG/NBD with Erlang-k (regular) times between purchases.

    While alive, a customer's times between purchases are
    :math:`\mathrm{Gamma}(k, \lambda)` (Erlang-:math:`k`: a purchase at every
    :math:`k`-th event of a Poisson process of rate :math:`\lambda`), so the
    larger :math:`k`, the more regular the rhythm; :math:`k = 1` is the
    memoryless timing of MBG/NBD. Across customers
    :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; right after every
    purchase, the first one included, a customer drops out for good with
    probability :math:`p \sim \mathrm{Beta}(a, b)`. This is the model of
    Platzer and Reutterer (2016) and of the R package BTYDplus
    (``mbgcnbd.*``), whose likelihood, P(alive), simulator and
    new-customer distribution it reproduces.

    The fit needs one more statistic per customer than MBG/NBD: ``litt``,
    the sum of the logs of the times between consecutive purchases (in the
    table's time unit), added by
    :func:`custintel.features.add_litt`. Predictions need only
    ``frequency``, ``recency`` and ``T``.

    Parameters
    ----------
    k : int or None, default=None
        Regularity, fixed; ``None`` chooses it by likelihood: ``k = 1, 2, ...``
        are fitted in turn, each with ``k`` fixed (as BTYDplus'
        ``mbgcnbd.EstimateParameters``), stopping at ``k_max``, when a fit
        fails, or when the log-likelihood fell twice in a row; the best is kept.
    k_max : int, default=12
        Largest ``k`` of the search (BTYDplus searches 1 to 12).
    penalizer, initial_params, max_iter, on_failure
        The fitting options every model of :mod:`custintel.clv` shares
        (``initial_params`` names ``r``, ``alpha``, ``a``, ``b``).

    Attributes
    ----------
    params_ : pandas.Series
        ``k``, ``r``, ``alpha`` (a rate per time unit of the table), ``a``, ``b``.
    bse_ : pandas.Series
        Standard errors (NaN for ``k``, which is chosen, not estimated by a gradient).
    k_log_likelihoods_ : pandas.Series
        Log-likelihood of each ``k`` tried (NaN for a fit that did not converge).
    boundary_ : bool
        Whether the fit ended on the edge of the dropout parameters: ``a`` at
        0 (nobody drops out) or ``b`` at infinity (one dropout probability
        for everyone). It then warns, as BG/NBD does, and predicts with that
        fit; its likelihood still competes in the search over ``k``.
    time_unit_ : str or None
        ``X.attrs["time_unit"]`` of the training table (``None`` if it
        records none). Predictions refuse a table that records another unit.
    log_likelihood_, converged_, n_iter_, n_customers_
        As for every model, at the chosen ``k``.

    See Also
    --------
    ModifiedBetaGeoModel : The case ``k = 1``.
    custintel.features.add_litt : Adds the ``litt`` column the fit needs.
    custintel.features.estimate_regularity : Wheat and Morrison's check of regularity.

    Notes
    -----
    The log-likelihood of a customer with :math:`x` repeat purchases, the last
    at :math:`t_x`, observed for :math:`T`, is (BTYDplus' ``mbgcnbd.LL``)

    .. math::

        \log L = (k - 1)\,\mathrm{litt} - x \log (k - 1)!
            + \log\frac{B(a, b + x + 1)}{B(a, b)}
            + \log\frac{\Gamma(r + kx)\,\alpha^r}{\Gamma(r)(\alpha + T)^{r + kx}}
            + \log\Big(S_1 + \sum_{j=0}^{k-1} c_j\Big),

    with :math:`S_1 = \frac{a}{b + x}\left(\frac{\alpha + T}{\alpha + t_x}\right)^{r + kx}`
    and :math:`c_j = \frac{(r + kx)_j}{j!}\left(\frac{T - t_x}{\alpha + T}\right)^j`;
    :math:`P(\text{alive}) = [1 + S_1 / \sum_j c_j]^{-1}`. Given alive, the
    number :math:`j` of Poisson events since the last purchase has
    :math:`P(j) \propto c_j` and then :math:`\lambda \sim \mathrm{Gamma}(r + kx + j,
    \alpha + T)`, :math:`p \sim \mathrm{Beta}(a, b + x + 1)`, so the expected
    purchases in the next :math:`t` are computed exactly:

    .. math::

        E[Y(t)] = P(\text{alive}) \sum_j P(j) \sum_{m \ge 1}
            \frac{B(a, b + x + m)}{B(a, b + x + 1)} P(N_j(t) \ge mk - j),

    :math:`N_j(t)` negative binomial with shape :math:`r + kx + j` and
    :math:`z = t / (\alpha + T + t)`. BTYDplus instead rescales a BG/NBD
    approximation so that the cohort's total matches the unconditional
    expectation, which makes one customer's forecast depend on the others
    scored with it; the two agree in aggregate.

    References
    ----------
    .. [1] Platzer, M. and Reutterer, T. (2016), "Ticking Away the Moments:
       Timing Regularity Helps to Better Predict Customer Activity",
       Marketing Science, 35 (5), 779-799.
    .. [2] Reutterer, T., Platzer, M. and Schroeder, N. (2021), "Leveraging
       Purchase Regularity for Predicting Customer Behavior the Easy Way",
       International Journal of Research in Marketing, 38 (1), 194-215.

    Examples
    --------
    Customers simulated with every third Poisson event a purchase (k = 3),
    the parameters of BTYDplus' own test:

    >>> from custintel.clv import MBGCNBDModel
    >>> truth = MBGCNBDModel.from_dict({
    ...     "model": "MBGCNBDModel", "format_version": 1, "log_likelihood": None,
    ...     "converged": True,
    ...     "params": {"k": 3, "r": 0.85, "alpha": 1.45, "a": 0.79, "b": 2.42}})
    >>> X = truth.sample(3000, T=52, random_state=1)
    >>> list(X.columns)
    ['frequency', 'recency', 'T', 'litt']
    >>> model = MBGCNBDModel().fit(X)
    >>> int(model.params_["k"])
    3
    >>> int(model.k_log_likelihoods_.idxmax())
    3
    >>> model.predict_purchases(X, t=26).head(3).round(3).tolist()
    [0.14, 0.346, 1.224]
    """

    param_names: ClassVar[tuple[str, ...]] = ("k", "r", "alpha", "a", "b")
    maths: ClassVar[PurchaseMaths] = PurchaseMaths(
        loglik=_loglik_needs_litt,
        expected_purchases=partial(cnbd.expected_purchases, modified=True),
        proba_alive=partial(cnbd.proba_alive, modified=True),
        proba_no_purchase=partial(cnbd.proba_no_purchase, modified=True),
        new_customer=partial(cnbd.expected_purchases_new_customer, modified=True),
        sample=partial(cnbd.sample_customers, modified=True),
    )
    param_domains: ClassVar[dict[str, Domain]] = {
        "k": Domain(1, 1000, label="a whole number in [1, 1000]")
    }

    #: The maths takes one whole k, so parameter draws are evaluated one at a time.
    broadcasts: ClassVar[bool] = False

    k: int | None = None
    k_max: int = 12

    # --- checks -----------------------------------------------------------------------

    def _check_params(self) -> None:
        super()._check_params()
        if self.initial_params is not None and "k" in self.initial_params:
            raise ValueError(
                "initial_params cannot set k: k is not fitted by the optimiser; pass "
                "MBGCNBDModel(k=...) to fix it"
            )
        for name, value, low in (("k", self.k, 1), ("k_max", self.k_max, 1)):
            if value is None and name == "k":
                continue
            if (
                isinstance(value, (bool, np.bool_))
                or not isinstance(value, (int, np.integer))
                or not low <= value <= 1000
            ):
                raise ValueError(
                    f"{name} must be a whole number in [1, 1000]"
                    + (" or None (choose k by likelihood)" if name == "k" else "")
                    + f", got {show(value)}"
                )

    def _checked_table(self, X: Any) -> tuple[dict[str, np.ndarray], pd.Index]:
        arrays, index = super()._checked_table(X)
        if isinstance(X, pd.DataFrame) and LITT in X.columns:
            extra, _ = check_customer_table(
                X, (LITT,), model_name=type(self).__name__, nonnegative=False
            )
            arrays[LITT] = extra[LITT]
        return arrays, index

    def _check_data(self, arrays: dict[str, np.ndarray], index: pd.Index) -> None:
        super()._check_data(arrays, index)
        if LITT not in arrays:
            return
        x, t_x, litt = arrays["frequency"], arrays["recency"], arrays[LITT]
        problems = []
        orphan = (x == 0) & (litt != 0)
        if orphan.any():
            problems.append(_examples(index, litt, orphan, "are not 0 although frequency is 0"))
        # The mean of the logs of x gaps is at most the log of their mean, t_x / x.
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.where(x > 0, x * np.log(t_x / np.maximum(x, 1)), np.inf)
        over = (x > 0) & (litt > bound + 1e-9 * np.abs(bound) + 1e-9)
        if over.any():
            problems.append(
                _examples(
                    index,
                    litt,
                    over,
                    "exceed frequency * log(recency / frequency), impossible for a sum of "
                    "log gaps: litt and recency are probably in different time units",
                )
            )
        if problems:
            raise SchemaError(
                f"{type(self).__name__}: "
                + "; ".join(problems)
                + ". Add litt with custintel.features.add_litt(summary, transactions), which "
                "uses the summary's own time unit.",
                reason="bad_customer_table",
            )

    # --- fitting ----------------------------------------------------------------------

    def _terms(
        self, k: int, arrays: dict[str, np.ndarray], weights: np.ndarray
    ) -> tuple[LogLikelihood, np.ndarray]:
        """Likelihood terms at fixed ``k`` on the distinct ``(x, t_x, T)`` rows.

        The log-likelihood is linear in ``litt``, so a group of identical
        ``(x, t_x, T)`` rows is one term with their weighted mean ``litt``:
        the weighted sum is that of the whole table.
        """
        keys = pd.MultiIndex.from_arrays([arrays["frequency"], arrays["recency"], arrays["T"]])
        codes, uniques = pd.factorize(keys)
        merged = np.bincount(codes, weights=weights, minlength=len(uniques))
        litt_sum = np.bincount(codes, weights=weights * arrays[LITT], minlength=len(uniques))
        with np.errstate(invalid="ignore", divide="ignore"):
            litt = np.where(merged > 0, litt_sum / merged, 0.0)
        x, t_x, T = (uniques.get_level_values(i).to_numpy(np.float64) for i in range(3))

        def loglik(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return cnbd.cnbd_loglik(np.r_[float(k), params], x, t_x, T, litt, modified=True)

        return loglik, merged

    def _start(self, k: int, arrays: dict[str, np.ndarray]) -> np.ndarray:
        # Purchase rate lambda / k ~ the mean rate of the repeat purchases seen, r = 1;
        # dropout ~ Beta(1, 3), as MBG/NBD's start.
        mean_T = float(np.mean(arrays["T"]))
        mean_x = float(np.mean(arrays["frequency"]))
        alpha = mean_T / (k * max(mean_x, 1e-2)) if mean_T > 0 else 1.0
        start = np.array([1.0, float(np.clip(alpha, 1e-4, 1e5)), 1.0, 3.0])
        if self.initial_params is not None:
            names = self.param_names[1:]
            start = np.array(
                [self.initial_params.get(n, v) for n, v in zip(names, start, strict=True)]
            )
        return start

    def fit(self, X: CustomerTable, y: Any = None, *, sample_weight: Any = None) -> MBGCNBDModel:
        """Estimate the parameters by maximum likelihood, ``k`` by a search over the likelihood.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency``, ``recency``, ``T`` and ``litt``
            (see :func:`custintel.features.add_litt`).
        y : None
            Ignored; present for scikit-learn compatibility.
        sample_weight : array-like of shape (n_customers,), optional
            Number of customers each row stands for.

        Returns
        -------
        self
        """
        self._check_params()
        arrays, _ = self._prepare(X)
        if LITT not in arrays:
            raise SchemaError(
                f"{type(self).__name__} needs column 'litt' (the sum of the logs of each "
                "customer's times between purchases) to fit; columns present: "
                f"{[str(c) for c in X.columns]}. Add it with "
                "custintel.features.add_litt(summary, transactions).",
                reason="missing_column",
            )
        weights = (
            np.ones(len(X))
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float64)
        )
        if weights.shape != (len(X),) or not np.all(np.isfinite(weights)) or (weights < 0).any():
            raise ValueError(
                f"sample_weight must be {len(X)} finite non-negative numbers, one per row of X"
            )
        if not weights.sum() > 0:
            raise ValueError("sample_weight must not be all zero")
        self._check_fit_data(arrays, weights)

        candidates = [int(self.k)] if self.k is not None else range(1, int(self.k_max) + 1)
        results: dict[int, MLEResult] = {}
        log_likelihoods: dict[int, float] = {}
        on_edge: dict[int, bool] = {}
        for k in candidates:
            loglik, term_weights = self._terms(k, arrays, weights)
            result = fit_mle(
                loglik,
                self._start(k, arrays),
                weights=term_weights,
                penalizer=float(self.penalizer),
                max_iter=self.max_iter,
                on_failure="return",
                model_name=f"{type(self).__name__}(k={k})",
            )
            results[k] = result
            usable, on_edge[k] = _usable(result, loglik, term_weights, float(self.penalizer))
            log_likelihoods[k] = result.log_likelihood if usable else math.nan
            if self.k is None and not usable and k > 1:
                break  # as BTYDplus: stop the search where a fit fails
            seen = [log_likelihoods.get(k - i, math.nan) for i in range(3)]
            if self.k is None and k > 2 and seen[0] < seen[1] < seen[2]:
                break  # the likelihood fell twice in a row
        fitted = {k: ll for k, ll in log_likelihoods.items() if not math.isnan(ll)}
        best = (
            max(fitted, key=lambda k: fitted[k])
            if fitted
            else max(results, key=lambda k: results[k].log_likelihood)
        )
        result = results[best]
        self.boundary_ = bool(on_edge[best])
        if self.boundary_:
            result = replace(result, converged=True)
            a, b = result.params[2], result.params[3]
            meaning = (
                "no customer drops out: P(alive) is about 1 for everyone"
                if result.at_bound[2]
                else "every customer has the same dropout probability "
                f"a / (a + b) = {a / (a + b):.3g} after each purchase"
            )
            warn(
                f"{type(self).__name__}: the fit (k = {best}) ends on the edge of the "
                f"parameter space (a = {a:.3g}, b = {b:.3g}), where {meaning}; it predicts "
                "with that fit. A longer window, with customers seen leaving, may move it "
                "inside.",
                DataQualityWarning,
            )
        check_converged(
            result, on_failure=self.on_failure, model_name=f"{type(self).__name__}(k={best})"
        )
        names = list(self.param_names)
        self.params_ = pd.Series(np.r_[float(best), result.params], index=names, name="estimate")
        self.bse_ = pd.Series(
            np.r_[math.nan, standard_errors(result.hessian)], index=names, name="se"
        )
        # Intervals are conditional on the chosen k: it has no variance, and is never drawn.
        covariance = np.zeros((len(names), len(names)))
        covariance[1:, 1:] = _inverse(result.hessian)
        self._set_covariance(covariance)
        self.log_likelihood_ = result.log_likelihood
        self.converged_ = bool(result.converged)
        self.n_iter_ = sum(r.n_iter for r in results.values())
        self.n_customers_ = float(weights.sum())
        self.time_unit_ = table_time_unit(X)
        self.k_log_likelihoods_ = pd.Series(
            log_likelihoods, name="log_likelihood", dtype=np.float64
        ).rename_axis("k")
        return self

    def score(self, X: CustomerTable, y: Any = None, *, sample_weight: Any = None) -> float:
        """Return the mean log-likelihood per customer of ``X`` (which needs ``litt``).

        Parameters
        ----------
        X, y, sample_weight
            As for :meth:`fit`.

        Returns
        -------
        float
        """
        params = self._params
        arrays, _ = self._prepare(X)
        if LITT not in arrays:
            raise SchemaError(
                f"{type(self).__name__}.score needs column 'litt'; add it with "
                "custintel.features.add_litt(summary, transactions)",
                reason="missing_column",
            )
        weights = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
        ll, _ = cnbd.cnbd_loglik(
            params, arrays["frequency"], arrays["recency"], arrays["T"], arrays[LITT]
        )
        return float(ll @ weights / weights.sum())

    def _predict(self, X: Any, *args: Any, **kwargs: Any) -> Any:
        check_time_unit(getattr(self, "time_unit_", None), X, model_name=type(self).__name__)
        return super()._predict(X, *args, **kwargs)

    _EXPORT_OPTIONAL: ClassVar[tuple[str, ...]] = (
        *PurchaseModel._EXPORT_OPTIONAL,
        "k_log_likelihoods",
    )

    def to_dict(self) -> dict[str, Any]:
        """Export the fitted model as plain JSON-serialisable data.

        Returns
        -------
        dict
            The fields of every model (see :meth:`ParametricModel.to_dict`),
            ``params`` with ``k``, plus ``time_unit`` and ``k_log_likelihoods``.
        """
        data = super().to_dict()
        data["time_unit"] = getattr(self, "time_unit_", None)
        lls = getattr(self, "k_log_likelihoods_", pd.Series(dtype=np.float64))
        data["k_log_likelihoods"] = {
            str(int(k)): (float(v) if np.isfinite(v) else None) for k, v in lls.items()
        }
        return data

    def _loglik(
        self, params: np.ndarray, data: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        return cnbd.cnbd_loglik(
            params, data["frequency"], data["recency"], data["T"], data[LITT], modified=True
        )

    @classmethod
    def from_dict(cls, data: Any) -> MBGCNBDModel:
        """Rebuild a fitted model from :meth:`to_dict` output (or its JSON text).

        As :meth:`ParametricModel.from_dict`, and ``params.k`` must be a
        whole number.

        Parameters
        ----------
        data : dict or str
            The export.

        Returns
        -------
        MBGCNBDModel

        Raises
        ------
        InvalidModelError
            As :meth:`ParametricModel.from_dict`; ``"bad_parameter"`` for a
            ``k`` that is not a whole number.
        """
        reader = ExportReader(f"{cls.__name__} export")
        loaded = reader.load(data)
        model = super().from_dict(loaded)
        unit = loaded.get("time_unit")
        model.time_unit_ = reader.choice(unit, "time_unit", tuple(UNIT_DAYS), allow_none=True)
        lls = loaded.get("k_log_likelihoods") or {}
        lls = reader.mapping(lls, "k_log_likelihoods")
        by_k: dict[int, float] = {}
        for key, value in lls.items():
            if not (isinstance(key, str) and key.isdigit() and 1 <= int(key) <= 1000):
                reader.fail(f"k_log_likelihoods: key {show(key)} is not a k in 1..1000")
            by_k[int(key)] = reader.number(value, f"k_log_likelihoods.{key}", allow_none=True)
        model.k_log_likelihoods_ = pd.Series(
            by_k, name="log_likelihood", dtype=np.float64
        ).rename_axis("k")
        k = float(model.params_["k"])
        if k != round(k):
            raise InvalidModelError(
                f"{cls.__name__} export: parameter 'k' is {k!r}; it must be a whole number "
                ">= 1; re-export the model with to_dict() from a fitted model",
                reason="bad_parameter",
            )
        return model


def _usable(
    result: MLEResult, loglik: LogLikelihood, weights: np.ndarray, penalizer: float
) -> tuple[bool, bool]:
    """Return whether a fit at fixed k can be compared, and whether it is a boundary solution.

    A fit whose only parameters at the bound of the search are the dropout
    parameters ``a`` (to 0) or ``b`` (to infinity), with the gradient of the
    others at zero, is the maximum on the edge where nobody drops out: its
    likelihood is valid, and comparable across k.
    """
    if result.converged:
        return True, False
    at = result.at_bound
    if at.size != 4 or not at.any() or at[:2].any():
        return False, False
    _, grad = loglik(result.params)
    total = float(weights.sum())
    mean_grad = -(weights @ grad) / total + 2.0 * penalizer * result.params
    free = ~at
    return bool(np.all(np.abs(mean_grad[free] * result.params[free]) < _GRADIENT_TOL)), True


def _examples(index: pd.Index, values: np.ndarray, bad: np.ndarray, what: str) -> str:
    positions = np.flatnonzero(bad)[:5]
    examples = ", ".join(f"{plain(index[i])!r}: {float(values[i]):.6g}" for i in positions)
    return f"{int(bad.sum()):,} of {len(values):,} values in column 'litt' {what} (e.g. {examples})"
