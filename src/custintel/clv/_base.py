"""The shared estimator machinery of custintel's parametric CLV models.

A model subclasses :class:`ParametricModel` and declares its parameter names,
the summary columns it reads, a starting point and its log-likelihood. The base
class does the rest the same way for every model: input checks with clear
errors, weighting of identical customers, the maximum-likelihood fit,
standard errors, and plain-JSON export. :class:`PurchaseModel` adds the
prediction plumbing of the purchase models: it checks a customer table and a
horizon, hands the columns to the model's array maths and wraps the result in
a Series indexed by customer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custintel._progress import progress_bar
from custintel._repr import EstimatesReprMixin
from custintel._validation import as_customer_table
from custintel.clv._fit import (
    _LOG_BOUND,
    COEF_BOUND,
    LogLikelihood,
    MLEResult,
    check_converged,
    fit_mle,
    standard_errors,
)
from custintel.clv._time_units import UNIT_DAYS, check_time_unit, table_time_unit
from custintel.exceptions import DataQualityWarning, SchemaError, plain, warn
from custintel.export import NONNEGATIVE, Domain, ExportReader, as_float, show
from custintel.typing import CustomerTable

__all__ = [
    "COEFFICIENT_RANGE",
    "FITTED_RANGE",
    "ParametricModel",
    "PurchaseMaths",
    "PurchaseModel",
    "check_customer_table",
    "check_nonnegative",
]

_FORMAT_VERSION = 1

#: Where a fitted parameter can be: fit_mle keeps every parameter within exp(±15) of 1,
#: and the models' maths is tested to stay finite there.
FITTED_RANGE = Domain(
    math.exp(-_LOG_BOUND),
    math.exp(_LOG_BOUND),
    label=f"> 0, within [{math.exp(-_LOG_BOUND):.3g}, {math.exp(_LOG_BOUND):.3g}] "
    "(the range fit estimates in)",
)
#: Where a fitted covariate coefficient can be.
COEFFICIENT_RANGE = Domain(
    -COEF_BOUND, COEF_BOUND, label=f"a real number within [-{COEF_BOUND:g}, {COEF_BOUND:g}]"
)
#: Longest covariate list a model (or an export) may name.
_MAX_COVARIATES = 200


def by_parameter_group(
    function: Callable[..., Any], params: Sequence[Any], *arrays: np.ndarray
) -> Any:
    """Evaluate ``function(params, *arrays)`` where ``params`` holds per-customer arrays.

    For maths that takes scalar parameters only (Pareto/NBD's integral
    :math:`I(y)`): customers are grouped by their parameter vector (one group
    per distinct covariate pattern of the parameters that vary) and
    ``function`` runs once per group, vectorised within it. Scalar entries of
    ``params`` are shared. ``function`` returns an array of shape ``(n, ...)``
    or a tuple of such arrays; the result is assembled in customer order.
    """
    n = len(arrays[0])
    columns = [np.broadcast_to(np.asarray(p, dtype=np.float64), (n,)) for p in params]
    varying = [j for j, p in enumerate(params) if np.ndim(p) > 0]
    if not varying:
        return function(np.array([float(p) for p in params]), *arrays)
    codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([columns[j] for j in varying]))
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    out: Any = None
    for g in range(len(uniques)):
        rows = order[starts[g] : starts[g + 1]]
        theta = np.array([float(c[rows[0]]) for c in columns])
        value = function(theta, *(a[rows] for a in arrays))
        parts = value if isinstance(value, tuple) else (value,)
        if out is None:
            out = [np.empty((n, *np.shape(v)[1:])) for v in parts]
        for target, v in zip(out, parts, strict=True):
            target[rows] = v
    assert out is not None
    return tuple(out) if isinstance(value, tuple) else out[0]


def check_customer_table(
    X: Any,
    columns: Sequence[str],
    *,
    model_name: str,
    integer_columns: Sequence[str] = (),
    nonnegative: bool = True,
) -> tuple[dict[str, np.ndarray], pd.Index]:
    """Check a customer table and return its columns as float arrays.

    Parameters
    ----------
    X : pandas.DataFrame
        Customer rows, e.g. from :func:`custintel.summarize_customers`.
    columns : sequence of str
        Columns the model reads.
    model_name : str
        Used in messages.
    integer_columns : sequence of str, default=()
        Columns that must hold whole numbers.
    nonnegative : bool, default=True
        Whether every column must be ``>= 0``.

    Returns
    -------
    arrays : dict of str to numpy.ndarray
        ``float64`` values of each column.
    index : pandas.Index
        The customer index of ``X``.

    Raises
    ------
    SchemaError
        For a non-frame input, missing columns, NaN or infinite values,
        negative values or non-integers, naming the column, the count and
        examples.
    """
    X = as_customer_table(X, owner=model_name)
    if not isinstance(X, pd.DataFrame):
        raise SchemaError(
            f"{model_name} expects a customer table (a pandas, polars or pyarrow frame) with "
            "columns "
            f"{list(columns)}, got {type(X).__name__}; build one with "
            "custintel.summarize_customers(transactions)",
            reason="not_a_dataframe",
        )
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise SchemaError(
            f"{model_name} needs columns {list(columns)}; missing {missing}; columns present: "
            f"{[str(c) for c in X.columns]}. Build the table with "
            "custintel.summarize_customers(transactions) or rename your columns.",
            reason="missing_column",
        )
    if len(X) == 0:
        raise SchemaError(f"{model_name} got an empty customer table", reason="empty")
    arrays: dict[str, np.ndarray] = {}
    problems: list[str] = []
    for column in columns:
        try:
            values = X[column].to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            problems.append(f"column {column!r} is not numeric ({X[column].dtype})")
            continue
        checks = [(~np.isfinite(values), "are NaN or infinite")]
        if nonnegative:
            checks.append((values < 0, "are negative"))
        if column in integer_columns:
            checks.append(
                (np.isfinite(values) & (values != np.round(values)), "are not whole numbers")
            )
        for bad, what in checks:
            if bad.any():
                problems.append(_describe(X.index, column, values, bad, what))
        arrays[column] = values
    if problems:
        raise SchemaError(f"{model_name}: " + "; ".join(problems), reason="bad_customer_table")
    return arrays, X.index


def check_nonnegative(value: Any, name: str, *, unit: str = "") -> float:
    """Return ``value`` as a float if it is a finite number ``>= 0``, else raise ``ValueError``.

    Parameters
    ----------
    value : object
        A horizon, a discount rate...
    name : str
        Its name, for the message.
    unit : str, default=""
        Said after "a finite number >= 0" in the message, e.g. ``" (in the table's time unit)"``.

    Returns
    -------
    float
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0{unit}, got {value!r}")
    return number


def check_recency(arrays: dict[str, np.ndarray], index: pd.Index, model_name: str) -> None:
    """Check ``recency <= T`` and ``frequency == 0 => recency == 0``."""
    frequency, recency, T = arrays["frequency"], arrays["recency"], arrays["T"]
    problems = []
    late = recency > T * (1 + 1e-12) + 1e-12
    if late.any():
        problems.append(_describe(index, "recency", recency, late, "exceed T"))
    orphan = (frequency == 0) & (recency > 0)
    if orphan.any():
        problems.append(
            _describe(index, "recency", recency, orphan, "are positive although frequency is 0")
        )
    if problems:
        raise SchemaError(f"{model_name}: " + "; ".join(problems), reason="bad_customer_table")


def _describe(index: pd.Index, column: str, values: np.ndarray, bad: np.ndarray, what: str) -> str:
    positions = np.flatnonzero(bad)[:5]
    examples = ", ".join(f"{plain(index[i])!r}: {plain(values[i])!r}" for i in positions)
    count = f"{int(bad.sum()):,} of {len(values):,}"
    return f"{count} values in column {column!r} {what} (e.g. {examples})"


def compress_rows(
    arrays: dict[str, np.ndarray], weights: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Merge identical customers into one row with a summed weight.

    Summaries in days have many identical ``(frequency, recency, T)`` rows;
    fitting on the unique rows gives the same likelihood for less work. Rows
    are matched by hashing (``pandas.factorize``), not by sorting.
    """
    keys = pd.MultiIndex.from_arrays(list(arrays.values()))
    codes, uniques = pd.factorize(keys)
    if len(uniques) > 0.7 * len(codes):
        return arrays, weights
    merged = np.bincount(codes, weights=weights, minlength=len(uniques))
    return {
        name: uniques.get_level_values(i).to_numpy(dtype=np.float64)
        for i, name in enumerate(arrays)
    }, merged


@dataclass(kw_only=True, repr=False, eq=False)
class ParametricModel(EstimatesReprMixin, BaseEstimator):
    """Base class of the parametric CLV models, fitted by maximum likelihood.

    Every model of :mod:`custintel.clv` but :class:`~custintel.clv.CLVModel`
    is one: they share these fitting options, fitted attributes, :meth:`score`,
    :meth:`summary` and the JSON export (:meth:`to_dict`, :meth:`from_dict`).
    Subclasses set :attr:`param_names` and :attr:`columns` and implement
    :meth:`_loglik` (per-customer log-likelihood and gradient) and
    :meth:`_initial_params`.

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty ``penalizer * sum(params**2)`` on the mean negative
        log-likelihood (lifetimes' ``penalizer_coef``); 0 gives the plain
        maximum-likelihood estimate.
    initial_params : dict or None, default=None
        Starting values by parameter name (any of :attr:`param_names`);
        ``None`` uses the model's default.
    max_iter : int, default=1000
        Iterations per optimiser run.
    on_failure : {"raise", "warn"}, default="raise"
        What a fit that does not converge does: raise
        :class:`~custintel.exceptions.ConvergenceError` or warn
        :class:`~custintel.exceptions.ConvergenceWarning`.

    Attributes
    ----------
    params_ : pandas.Series
        The estimates, indexed by :attr:`param_names`.
    bse_ : pandas.Series
        Standard errors from the observed information (NaN where the
        Hessian is not positive definite).
    log_likelihood_ : float
        Log-likelihood at the estimate, summed over customers.
    converged_ : bool
        Whether the optimiser converged.
    n_iter_ : int
        Optimiser iterations.
    n_customers_ : float
        Number (total weight) of customers fitted.
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    columns: ClassVar[tuple[str, ...]] = ()
    integer_columns: ClassVar[tuple[str, ...]] = ()
    #: The covariate groups a model takes, ``{group: ((parameter, sign), ...)}``: with the
    #: hyperparameter ``<group>_covariates`` naming columns ``z``, each listed parameter
    #: becomes per customer ``parameter * exp(sign * gamma_group' z)``.
    covariate_links: ClassVar[Mapping[str, tuple[tuple[str, int], ...]]] = {}

    penalizer: float = 0.0
    initial_params: Mapping[str, float] | None = None
    max_iter: int = 1000
    on_failure: str = "raise"

    # --- to implement ---------------------------------------------------------------

    def _loglik(
        self, params: np.ndarray, data: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the per-customer log-likelihood ``(n,)`` and gradient ``(n, k)`` at ``params``."""
        raise NotImplementedError

    def _initial_params(self, data: dict[str, np.ndarray]) -> np.ndarray:
        """Return a starting point for the optimiser."""
        return np.ones(len(self.param_names))

    def _check_data(self, arrays: dict[str, np.ndarray], index: pd.Index) -> None:
        """Model-specific consistency checks (raise ``SchemaError``)."""

    def _check_fit_data(self, arrays: dict[str, np.ndarray], weights: np.ndarray) -> None:
        """Run the checks that only fitting needs (raise ``SchemaError``); scoring skips them."""

    def _fit_terms(
        self, arrays: dict[str, np.ndarray], weights: np.ndarray
    ) -> tuple[LogLikelihood, np.ndarray]:
        """Return the likelihood terms the optimiser sums, and their weights.

        By default identical customers (covariates included) are merged
        (:func:`compress_rows`) and each remaining row is one term of
        :meth:`_loglik`. A model with sufficient statistics can override this
        to return fewer, aggregated terms (when it has no covariates); the
        weighted sum, its mean and Hessian must stay those of the whole table.
        """
        data, merged = compress_rows(arrays, weights)
        if not self._coef_names():
            return (lambda params: self._loglik(params, data)), merged
        return (lambda theta: self._covariate_loglik(theta, data)), merged

    # --- covariates ------------------------------------------------------------------

    def _covariates(self) -> dict[str, tuple[str, ...]]:
        """Return the covariate columns of each group the model takes (empty when unused)."""
        return {
            group: tuple(getattr(self, f"{group}_covariates", None) or ())
            for group in self.covariate_links
        }

    def _coef_names(self) -> list[str]:
        """Names of the covariate coefficients: ``"<group>:<column>"``."""
        return [f"{g}:{c}" for g, columns in self._covariates().items() for c in columns]

    def _all_param_names(self) -> list[str]:
        return [*self.param_names, *self._coef_names()]

    def _covariate_columns(self) -> list[str]:
        """Every column the covariates read, once each, in order."""
        return list(dict.fromkeys(c for cols in self._covariates().values() for c in cols))

    def _link(
        self, theta: np.ndarray, arrays: Mapping[str, np.ndarray]
    ) -> tuple[list[Any], dict[int, Any]]:
        """Return each customer's model parameters and how they depend on the coefficients.

        ``theta`` is ``(base parameters..., coefficients...)`` or a matrix
        of draws, one per row; the parameter ``j`` linked to covariates is
        ``theta[j] * exp(sum of sign * gamma' z)`` per customer (shape
        ``(n,)``, or ``(n_draws, n)`` for draws); the others stay scalars
        (``(n_draws, 1)`` for draws). The second result maps each linked
        parameter to ``(multiplier exp(...), [(coefficient position, sign,
        z column), ...])``.
        """
        k = len(self.param_names)
        theta = np.asarray(theta, dtype=np.float64)
        draws = theta.ndim == 2
        base = [theta[:, j : j + 1] if draws else float(theta[j]) for j in range(k)]
        eta: dict[int, Any] = {}
        uses: dict[int, list[tuple[int, int, np.ndarray]]] = {}
        position = k
        for group, columns in self._covariates().items():
            if not columns:
                continue
            Z = np.column_stack([arrays[c] for c in columns])
            gamma = (
                theta[:, position : position + len(columns)]
                if draws
                else theta[position : position + len(columns)]
            )
            score = gamma @ Z.T if draws else Z @ gamma
            for name, sign in self.covariate_links[group]:
                j = self.param_names.index(name)
                eta[j] = eta.get(j, 0.0) + sign * score
                uses.setdefault(j, []).extend(
                    (position + c, sign, Z[:, c]) for c in range(len(columns))
                )
            position += len(columns)
        with np.errstate(over="ignore"):
            multipliers = {j: np.exp(v) for j, v in eta.items()}
        params = [base[j] * multipliers[j] if j in eta else base[j] for j in range(k)]
        return params, {j: (multipliers[j], uses[j]) for j in uses}

    def _covariate_loglik(
        self, theta: np.ndarray, data: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""Per-customer log-likelihood and its gradient in ``(base parameters, coefficients)``.

        The model's :meth:`_loglik` gives the gradient in each customer's own
        parameters; the chain rule through :meth:`_link` does the rest:
        :math:`\partial\theta_{ij}/\partial\theta_j = e^{\eta_{ij}}` and
        :math:`\partial\theta_{ij}/\partial\gamma_c = \pm z_{ic}\theta_{ij}`.
        """
        params, uses = self._link(theta, data)
        ll, grad_i = self._loglik(params, data)  # type: ignore[arg-type]
        full = np.zeros((len(ll), len(theta)))
        for j in range(len(self.param_names)):
            if j in uses:
                multiplier, terms = uses[j]
                full[:, j] = grad_i[:, j] * multiplier  # exact when the covariates are 0
                local = grad_i[:, j] * params[j]
                for c, sign, z in terms:
                    full[:, c] += sign * z * local
            else:
                full[:, j] = grad_i[:, j]
        return ll, full

    def _check_covariates(self) -> None:
        """Check the ``<group>_covariates`` hyperparameters (``ValueError``)."""
        for group in self.covariate_links:
            name = f"{group}_covariates"
            value = getattr(self, name, None)
            if value is None:
                continue
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise ValueError(
                    f"{name} must be None or a list of column names, got {show(value)}; "
                    f"e.g. {name}=['customer_type']"
                )
            if len(value) > _MAX_COVARIATES:
                raise ValueError(f"{name} names {len(value)} columns; at most {_MAX_COVARIATES}")
            for column in value:
                if not isinstance(column, str) or not column or len(column) > 200:
                    raise ValueError(
                        f"{name} must list column names (non-empty text), got {show(column)}"
                    )
                if column in self.columns:
                    raise ValueError(
                        f"{name}: {column!r} is one of the model's own columns "
                        f"{list(self.columns)}; a covariate is another customer attribute"
                    )
            if len(set(value)) != len(value):
                raise ValueError(f"{name} names a column twice: {show(list(value))}")

    def _warn_constant_covariates(self, arrays: Mapping[str, np.ndarray]) -> None:
        constant = [
            c for c in self._covariate_columns() if np.ptp(arrays[c]) == 0 and len(arrays[c])
        ]
        if constant:
            warn(
                f"{type(self).__name__}: covariates {constant} take one value for every "
                "customer fitted; their effects are not identified (a constant only rescales "
                "the baseline parameter), so their standard errors are NaN. Drop them, or "
                "centre them and fit on customers that differ.",
                DataQualityWarning,
            )

    # --- shared machinery -------------------------------------------------------------

    def _checked_table(self, X: Any) -> tuple[dict[str, np.ndarray], pd.Index]:
        """Check ``X`` has the model's columns (and covariates); return them as float arrays."""
        name = type(self).__name__
        X = as_customer_table(X, owner=name)
        arrays, index = check_customer_table(
            X, self.columns, model_name=name, integer_columns=self.integer_columns
        )
        covariates = self._covariate_columns()
        if covariates:
            missing = [c for c in covariates if c not in X.columns]
            if missing:
                named = {f"{g}_covariates": list(c) for g, c in self._covariates().items() if c}
                raise SchemaError(
                    f"{name} uses covariates {named}, but the customer table lacks "
                    f"{missing}; columns present: {[str(c) for c in X.columns]}. Add these "
                    "columns (one value per customer, numeric, e.g. 0/1 dummies) to the table "
                    "you fit and predict on.",
                    reason="missing_column",
                )
            values, _ = check_customer_table(X, covariates, model_name=name, nonnegative=False)
            arrays.update(values)
        return arrays, index

    def _prepare(self, X: Any) -> tuple[dict[str, np.ndarray], pd.Index]:
        """Return the checked columns of ``X`` the likelihood reads, and their index."""
        arrays, index = self._checked_table(X)
        self._check_data(arrays, index)
        return arrays, index

    def fit(self, X: CustomerTable, y: Any = None, *, sample_weight: Any = None) -> ParametricModel:
        """Estimate the parameters by maximum likelihood.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's :attr:`columns`.
        y : None
            Ignored; present for scikit-learn compatibility.
        sample_weight : array-like of shape (n_customers,), optional
            Number of customers each row stands for.

        Returns
        -------
        self
        """
        self._check_params()
        X = as_customer_table(X, owner=type(self).__name__)
        arrays, _ = self._prepare(X)
        if self._coef_names():
            self._warn_constant_covariates(arrays)
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
        loglik, fit_weights = self._fit_terms(arrays, weights)
        initial = self._initial_params(arrays)
        if self.initial_params is not None:
            initial = np.array(
                [
                    self.initial_params.get(n, v)
                    for n, v in zip(self.param_names, initial, strict=True)
                ],
                dtype=np.float64,
            )
        n_coef = len(self._coef_names())
        result = fit_mle(
            loglik,
            np.concatenate([initial, np.zeros(n_coef)]),
            weights=fit_weights,
            penalizer=float(self.penalizer),
            max_iter=self.max_iter,
            on_failure="return",
            model_name=type(self).__name__,
            positive=np.arange(len(initial) + n_coef) < len(initial),
        )
        result = self._after_fit(result, arrays, weights)
        check_converged(result, on_failure=self.on_failure, model_name=type(self).__name__)
        self._set_fitted(result, n_customers=float(weights.sum()))
        self.time_unit_ = table_time_unit(X)
        return self

    def _after_fit(
        self, result: MLEResult, arrays: dict[str, np.ndarray], weights: np.ndarray
    ) -> MLEResult:
        """Look at the optimum before the convergence check; may set fitted attributes.

        The default returns ``result`` unchanged. A model with a nested
        special case (BG/NBD, Pareto/NBD) compares the two here.
        """
        return result

    def _check_params(self) -> None:
        """Check the hyperparameters; raise ``ValueError`` naming the first bad one."""
        self._check_covariates()
        if not isinstance(self.on_failure, str) or self.on_failure not in ("raise", "warn"):
            raise ValueError(f"on_failure must be 'raise' or 'warn', got {show(self.on_failure)}")
        if not as_float(self.penalizer) >= 0 or math.isinf(as_float(self.penalizer)):
            raise ValueError(f"penalizer must be a finite number >= 0, got {show(self.penalizer)}")
        if (
            isinstance(self.max_iter, (bool, np.bool_))
            or not isinstance(self.max_iter, (int, np.integer))
            or self.max_iter < 1
        ):
            raise ValueError(f"max_iter must be a whole number >= 1, got {show(self.max_iter)}")
        if self.initial_params is None:
            return
        if not isinstance(self.initial_params, Mapping):
            raise ValueError(
                "initial_params must be None or a dict of starting values by parameter name "
                f"{self.param_names}, got {type(self.initial_params).__name__}"
            )
        unknown = set(self.initial_params) - set(self.param_names)
        if unknown:
            raise ValueError(
                f"unknown initial_params {show(sorted(unknown, key=str))}; use {self.param_names}"
            )
        for name, value in self.initial_params.items():
            # The optimiser starts from log(value).
            if not 0 < as_float(value) < math.inf:
                raise ValueError(
                    f"initial_params[{name!r}] must be a finite number > 0, got {show(value)}"
                )

    def score(self, X: CustomerTable, y: Any = None, *, sample_weight: Any = None) -> float:
        """Return the mean log-likelihood per customer of ``X`` at the fitted parameters.

        Higher is better, so model selection tools such as ``GridSearchCV`` can
        use it directly.

        Parameters
        ----------
        X, y, sample_weight
            As for :meth:`fit`.

        Returns
        -------
        float
        """
        params = self._theta
        self._check_time_unit(X)
        arrays, _ = self._prepare(X)
        n_rows = len(next(iter(arrays.values())))
        weights = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
        loglik, term_weights = self._fit_terms(arrays, weights)
        ll, _ = loglik(params)
        return float(np.einsum("i,i->", ll, term_weights) / weights.sum())

    def _set_fitted(self, result: MLEResult, *, n_customers: float) -> None:
        names = self._all_param_names()
        self.params_ = pd.Series(result.params, index=names, name="estimate")
        self.log_likelihood_ = result.log_likelihood
        self.converged_ = result.converged
        self.n_iter_ = result.n_iter
        self.bse_ = pd.Series(standard_errors(result.hessian), index=names, name="se")
        self.n_customers_ = n_customers
        self._set_covariance(_inverse(result.hessian))

    def _set_covariance(self, covariance: np.ndarray) -> None:
        # Kept as plain nested tuples: a fitted model holds no arrays (no training data).
        self._covariance = tuple(tuple(map(float, row)) for row in covariance)

    def _covariance_matrix(self) -> np.ndarray | None:
        covariance = getattr(self, "_covariance", None)
        return None if covariance is None else np.array(covariance, dtype=np.float64)

    @property
    def _params(self) -> np.ndarray:
        """The model's own parameters (without covariate coefficients)."""
        check_is_fitted(self, "params_")
        return self.params_.to_numpy()[: len(self.param_names)]

    @property
    def _theta(self) -> np.ndarray:
        """All estimates: the model's parameters, then the covariate coefficients."""
        check_is_fitted(self, "params_")
        return self.params_.to_numpy()

    def _estimates_tables(self) -> dict[str, pd.DataFrame]:
        """Return the estimates the notebook display shows (``{}`` until fitted)."""
        if not hasattr(self, "params_"):
            return {}
        fit = pd.DataFrame(
            {
                "value": [
                    f"{self.log_likelihood_:,.2f}",
                    str(bool(self.converged_)),
                    f"{self.n_customers_:,.0f}",
                    str(getattr(self, "time_unit_", None)),
                ]
            },
            index=["log-likelihood", "converged", "customers", "time unit"],
        )
        return {"estimates (95 % Wald intervals)": self.summary(), "fit": fit}

    def summary(self) -> pd.DataFrame:
        r"""Estimates with standard errors and 95% Wald intervals (and tests of covariates).

        Returns
        -------
        pandas.DataFrame
            One row per parameter: ``estimate``, ``se``, ``lower_95``,
            ``upper_95``. A model with covariates has a row per coefficient
            (``"<group>:<column>"``, e.g. ``"purchase:age"``) and two more
            columns: ``z``, the Wald statistic :math:`\hat\gamma / \mathrm{se}`,
            and ``p_value``, its two-sided p-value :math:`2\Phi(-|z|)` for the
            test of :math:`\gamma = 0` (NaN for the model's own parameters,
            which are positive by definition).
        """
        estimates = pd.Series(self._theta, index=self.params_.index)
        table = pd.DataFrame(
            {
                "estimate": estimates,
                "se": self.bse_,
                "lower_95": estimates - 1.959964 * self.bse_,
                "upper_95": estimates + 1.959964 * self.bse_,
            }
        )
        coefficients = self._coef_names()
        if coefficients:
            from scipy.special import ndtr

            z = (estimates / self.bse_).where(estimates.index.isin(coefficients))
            table["z"] = z
            table["p_value"] = 2.0 * ndtr(-np.abs(z.to_numpy()))
        return table

    def _check_time_unit(self, X: Any) -> None:
        """Refuse ``X`` in another time unit than the fit's (both recorded in ``attrs``)."""
        check_time_unit(getattr(self, "time_unit_", None), X, model_name=type(self).__name__)

    #: Fields of :meth:`to_dict` a hand-written export may leave out.
    _EXPORT_OPTIONAL: ClassVar[tuple[str, ...]] = (
        "hyperparameters",
        "standard_errors",
        "n_customers",
        "covariance",
        "time_unit",
    )
    #: Domain of each parameter in an export; parameters not listed are in FITTED_RANGE.
    param_domains: ClassVar[Mapping[str, Domain]] = {}

    def to_dict(self) -> dict[str, Any]:
        """Export the fitted model as plain JSON-serialisable data.

        Returns
        -------
        dict
            ``model``, ``format_version``, ``hyperparameters``, ``params``,
            ``standard_errors``, ``log_likelihood``, ``converged``,
            ``n_customers`` and ``covariance`` (the estimates' covariance
            matrix, rows and columns in the order of ``params``, which
            prediction intervals draw from; ``None`` when it could not be
            computed). Numbers that are not finite (a standard error that
            could not be computed) are ``None``, so the export is strict JSON.
        """
        params = self._theta
        covariance = self._covariance_matrix()
        if covariance is not None and not np.all(np.isfinite(covariance)):
            covariance = None
        return {
            "model": type(self).__name__,
            "format_version": _FORMAT_VERSION,
            "hyperparameters": {k: _jsonable(v) for k, v in self.get_params().items()},
            "params": dict(zip(self._all_param_names(), map(float, params), strict=True)),
            "standard_errors": {k: _jsonable(float(v)) for k, v in self.bse_.items()},
            "log_likelihood": _jsonable(float(self.log_likelihood_)),
            "converged": bool(self.converged_),
            "n_customers": _jsonable(float(self.n_customers_)),
            "covariance": None if covariance is None else covariance.tolist(),
            "time_unit": getattr(self, "time_unit_", None),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> ParametricModel:
        """Rebuild a fitted model from :meth:`to_dict` output (or its JSON text).

        The export is checked completely before anything is built from it,
        because it may come from someone else (a CRM system loading a saved
        model): nothing in it is looked up by name or executed.

        Parameters
        ----------
        data : dict or str
            The exported model: a mapping, or its JSON text. Required fields
            are ``model`` (this class's name), ``format_version`` (1),
            ``params``, ``log_likelihood`` and ``converged``;
            ``hyperparameters``, ``standard_errors`` and ``n_customers`` may
            be left out (missing hyperparameters take their defaults).

        Returns
        -------
        ParametricModel
            A fitted model that predicts exactly like the exported one.

        Raises
        ------
        InvalidModelError
            For anything :meth:`to_dict` does not write, with a ``reason``
            (see :mod:`custintel.export`): ``"wrong_model"`` (not an export
            at all, or ``model`` names another class),
            ``"bad_format_version"``, ``"missing_field"``,
            ``"unknown_field"`` (including unknown parameter or
            hyperparameter names), or ``"bad_parameter"``: a parameter that
            is not a finite real number in its domain (positive, within
            :data:`FITTED_RANGE` where the fit keeps it), a hyperparameter
            the estimator refuses, a standard error that is not a finite
            number ``>= 0`` or null, a ``log_likelihood`` that is not a
            finite number or null, a ``converged`` that is not a bool, an
            ``n_customers`` that is not a finite number ``>= 0`` or null.

        Examples
        --------
        >>> from custintel.clv import GammaGammaModel
        >>> export = {"model": "GammaGammaModel", "format_version": 1,
        ...           "params": {"p": 6.25, "q": -3.74, "gamma": 15.44},
        ...           "log_likelihood": -4055.9, "converged": True}
        >>> from custintel.exceptions import InvalidModelError
        >>> try:
        ...     GammaGammaModel.from_dict(export)
        ... except InvalidModelError as err:
        ...     print(err.reason, "|", err)  # doctest: +NORMALIZE_WHITESPACE
        bad_parameter | GammaGammaModel export: parameter 'q' is -3.74; it must be a finite
        number > 0, within [3.06e-07, 3.27e+06] (the range fit estimates in); re-export the
        model with to_dict() from a fitted model
        >>> GammaGammaModel.from_dict({**export, "params": {"p": 6.25, "q": 3.74, "gamma": 15.44}})
        GammaGammaModel()
        """
        reader = ExportReader(f"{cls.__name__} export")
        data = reader.envelope(
            data,
            model=cls.__name__,
            versions=(_FORMAT_VERSION,),
            required=("params", "log_likelihood", "converged"),
            optional=cls._EXPORT_OPTIONAL,
        )
        model = cls._from_hyperparameters(reader, data)
        # The covariates named by the (checked) hyperparameters fix the coefficients expected.
        names = model._all_param_names()
        coefficients = set(model._coef_names())
        values = reader.keys(data["params"], "params", required=names, where="parameter")
        params = np.array(
            [
                reader.number(
                    values[name],
                    f"params.{name}",
                    COEFFICIENT_RANGE
                    if name in coefficients
                    else cls.param_domains.get(name, FITTED_RANGE),
                    label=f"{'coefficient' if name in coefficients else 'parameter'} {name!r}",
                )
                for name in names
            ],
            dtype=np.float64,
        )
        errors: Mapping[str, Any] = {}
        if "standard_errors" in data:
            errors = reader.keys(
                data["standard_errors"],
                "standard_errors",
                required=(),
                optional=names,
                where="parameter",
            )
        bse = [
            reader.number(
                errors.get(name),
                f"standard_errors.{name}",
                NONNEGATIVE,
                allow_none=True,
                label=f"standard error of {name!r}",
            )
            for name in names
        ]
        model.params_ = pd.Series(params, index=names, name="estimate")
        model.bse_ = pd.Series(bse, index=names, name="se", dtype=np.float64)
        model._set_covariance(_read_covariance(reader, data.get("covariance"), len(names)))
        model.log_likelihood_ = reader.number(
            data["log_likelihood"], "log_likelihood", allow_none=True
        )
        model.converged_ = reader.boolean(data["converged"], "converged")
        model.n_iter_ = 0
        model.n_customers_ = reader.number(
            data.get("n_customers"), "n_customers", NONNEGATIVE, allow_none=True
        )
        model.time_unit_ = reader.choice(
            data.get("time_unit"), "time_unit", tuple(UNIT_DAYS), allow_none=True
        )
        return model

    @classmethod
    def _from_hyperparameters(cls, reader: ExportReader, data: Mapping[str, Any]) -> Any:
        """Build the estimator from the export's hyperparameters, checked as ``fit`` checks them."""
        if "hyperparameters" not in data:
            return cls()
        hyperparameters = reader.keys(
            data["hyperparameters"],
            "hyperparameters",
            required=(),
            optional=tuple(cls().get_params(deep=False)),
            where="hyperparameter",
        )
        model = cls(**hyperparameters)
        reader.checked("hyperparameters", model._check_params, (TypeError, ValueError))
        return model

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "params_")


#: Most parameter-draw by customer values held at once by an interval computation.
_DRAW_BLOCK = 1 << 22


def check_interval(interval: Any) -> float | None:
    """Return the interval level as a float in (0, 1), or ``None``; ``ValueError`` otherwise."""
    if interval is None:
        return None
    if isinstance(interval, (bool, np.bool_)) or not 0 < as_float(interval) < 1:
        raise ValueError(
            f"interval must be None or a level between 0 and 1, e.g. interval=0.9 for a "
            f"90% interval, got {show(interval)}"
        )
    return as_float(interval)


def draw_parameters(model: Any, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    r"""Draw parameter vectors from the fitted model's asymptotic normal distribution.

    Draws are made on the scale the optimiser uses: :math:`\log\theta` for
    the model's positive parameters (whose covariance is the inverse
    Hessian mapped by the delta method, :math:`J \Sigma J` with
    :math:`J = \mathrm{diag}(1/\hat\theta)`), and the coefficients as they
    are; drawn positive parameters are exponentiated, so they stay positive.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_draws, n_parameters)``, in natural parameters.
    """
    if (
        isinstance(n_draws, (bool, np.bool_))
        or not isinstance(n_draws, (int, np.integer))
        or n_draws < 2
    ):
        raise ValueError(f"n_draws must be a whole number >= 2, got {show(n_draws)}")
    center, root, positive, fixed = _optimiser_scale(model)
    u = center + rng.standard_normal((int(n_draws), len(center))) @ root.T
    draws = _natural(u, positive)
    draws[:, fixed] = model._theta[fixed]  # exactly: e.g. MBG/CNBD-k's whole k
    return draws


def _natural(u: np.ndarray, positive: np.ndarray) -> np.ndarray:
    return np.where(positive, np.exp(np.where(positive, u, 0.0)), u)


def _optimiser_scale(model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the estimate on the optimiser's scale and a square root of its covariance.

    Also returns which parameters are positive (on the log scale there), and
    which are fixed: a zero variance marks a parameter the fit chose rather
    than estimated (MBG/CNBD-k's k), which is never drawn nor stepped.
    """
    theta = model._theta
    covariance = model._covariance_matrix()
    name = type(model).__name__
    if covariance is None or not np.all(np.isfinite(covariance)):
        raise ValueError(
            f"{name}: the parameters' covariance is not available (the Hessian at the "
            "estimate is not positive definite, e.g. a parameter on a bound or an "
            "unidentified covariate), so prediction intervals cannot be computed; check "
            "summary() for NaN standard errors"
        )
    positive = np.arange(len(theta)) < len(model.param_names)
    scale = np.where(positive, 1.0 / theta, 1.0)
    center = np.where(positive, np.log(np.where(positive, theta, 1.0)), theta)
    cov_u = covariance * np.outer(scale, scale)
    values, vectors = np.linalg.eigh((cov_u + cov_u.T) / 2)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    fixed = np.diag(covariance) == 0
    root[fixed] = 0.0
    return center, root, positive, fixed


#: Above this many customers ``interval_method="auto"`` uses the delta method: the
#: bootstrap costs about ``n_draws`` point predictions (24-57x at 1M customers with 50
#: draws), the delta method a few (under 10x; benchmarks/RESULTS.md).
AUTO_DELTA_CUSTOMERS = 100_000


def bootstrap_interval(
    model: Any,
    point: np.ndarray,
    at: Callable[[Any, np.ndarray], np.ndarray],
    keys: Sequence[np.ndarray],
    name: str,
    index: pd.Index,
    level: float,
    n_draws: int,
    random_state: Any,
    *,
    method: str = "bootstrap",
    scale: str = "log",
    progress: bool | None = None,
) -> pd.DataFrame:
    r"""Return the percentile interval of a prediction over parameter draws (bootstrap).

    ``method="auto"`` is the delta method above :data:`AUTO_DELTA_CUSTOMERS`
    customers and the bootstrap otherwise. With ``method="delta"`` the
    interval is the delta method's instead: the
    prediction's gradient in the optimiser's parameters by forward
    differences (one evaluation per parameter), its variance
    :math:`J \Sigma J'` on the ``scale`` of the prediction (``"log"`` for
    expectations, ``"logit"`` for probabilities), and normal bounds there
    mapped back, so they stay in range.

    ``at(draws, rows)`` evaluates the prediction for the customers ``rows``
    at each row of ``draws``: ``(n_draws, len(rows))``. ``model`` may be a
    tuple of independently fitted models: ``draws`` is then a tuple of
    matrices, one per model. Customers with equal
    ``keys`` (the prediction's inputs) are evaluated once. The work is done in
    blocks of customers, so memory stays bounded for any table; with
    ``progress`` (see :func:`custintel._progress.progress_bar`, ``None``:
    automatic) a bar on standard error counts the distinct customers done.
    """
    if method not in ("auto", "bootstrap", "delta"):
        raise ValueError(
            f"interval_method must be 'auto', 'bootstrap' or 'delta', got {show(method)}"
        )
    if method == "auto":
        method = "delta" if len(point) > AUTO_DELTA_CUSTOMERS else "bootstrap"
    if method == "delta":
        return _delta_interval(model, point, at, keys, name, index, level, scale)
    rng = np.random.default_rng(random_state)
    if isinstance(model, tuple):  # independent fits (CLV: purchases and spend)
        draws: Any = tuple(draw_parameters(m, n_draws, rng) for m in model)
    else:
        draws = draw_parameters(model, n_draws, rng)
    n = len(point)
    codes, first = _distinct_rows(keys, n)
    m = len(first)
    lower, upper = np.empty(m), np.empty(m)
    block = max(1, _DRAW_BLOCK // int(n_draws))
    tails = [(1.0 - level) / 2.0, (1.0 + level) / 2.0]
    with progress_bar(m, desc="bootstrap interval", unit="customer", enabled=progress) as bar:
        for start in range(0, m, block):
            rows = first[start : start + block]
            values = at(draws, rows)
            lo, hi = np.quantile(values, tails, axis=0)
            lower[start : start + len(rows)] = lo
            upper[start : start + len(rows)] = hi
            bar.update(len(rows))
    return pd.DataFrame({name: point, "lower": lower[codes], "upper": upper[codes]}, index=index)


def _delta_interval(
    model: Any,
    point: np.ndarray,
    at: Callable[[Any, np.ndarray], np.ndarray],
    keys: Sequence[np.ndarray],
    name: str,
    index: pd.Index,
    level: float,
    scale: str,
) -> pd.DataFrame:
    """Return the delta-method interval of :func:`bootstrap_interval` (``method="delta"``)."""
    from scipy.special import expit, logit, ndtri

    models = model if isinstance(model, tuple) else (model,)
    spaces = [_optimiser_scale(m) for m in models]
    sizes = [len(center) for center, _, _, _ in spaces]
    n_rows = 1 + sum(sizes)
    # Row 0: every model at its estimate; then one row per parameter, that one stepped.
    blocks, steps, offset = [], [], 1
    for (center, _, positive, fixed), estimated in zip(spaces, models, strict=True):
        u = np.tile(center, (n_rows, 1))
        h = np.where(fixed, 1.0, 1e-6 * np.maximum(1.0, np.abs(center)))
        u[offset + np.arange(len(center)), np.arange(len(center))] += np.where(fixed, 0.0, h)
        natural = _natural(u, positive)
        natural[:, fixed] = estimated._theta[fixed]  # not stepped: no variance to carry
        blocks.append(natural)
        steps.append(h)
        offset += len(center)
    draws: Any = tuple(blocks) if isinstance(model, tuple) else blocks[0]
    step = np.concatenate(steps)
    covariance = np.zeros((sum(sizes), sum(sizes)))
    offset = 0
    for (_, root, _, _), k in zip(spaces, sizes, strict=True):
        covariance[offset : offset + k, offset : offset + k] = root @ root.T
        offset += k
    # No merging of identical customers here: for a handful of evaluations it costs more
    # than it saves.
    m = len(point)
    first = np.arange(m)
    lower, upper = np.empty(m), np.empty(m)
    z = float(ndtri((1.0 + level) / 2.0))
    block = max(1, _DRAW_BLOCK // n_rows)
    for start in range(0, m, block):
        rows = first[start : start + block]
        values = at(draws, rows)
        f = values[0]
        jacobian = (values[1:] - f) / step[:, None]  # (k, rows)
        sd = np.sqrt(np.maximum(np.einsum("jr,jk,kr->r", jacobian, covariance, jacobian), 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            if scale == "logit":
                width = z * sd / (f * (1.0 - f))
                centre = logit(f)
                lo, hi = expit(centre - width), expit(centre + width)
            else:
                width = z * sd / f
                lo, hi = f * np.exp(-width), f * np.exp(width)
        # A prediction on the edge of its range (0, a probability of 1) stays there.
        edge = ~np.isfinite(width)
        lo, hi = np.where(edge, f, lo), np.where(edge, f, hi)
        lower[start : start + len(rows)] = lo
        upper[start : start + len(rows)] = hi
    return pd.DataFrame({name: point, "lower": lower, "upper": upper}, index=index)


def _distinct_rows(keys: Sequence[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return each row's code among the distinct rows of ``keys``, and each code's first row."""
    if not keys:
        return np.zeros(n, dtype=np.intp), np.zeros(min(n, 1), dtype=np.intp)
    # Combine the columns' own codes (hashing 1-D arrays is fast; a MultiIndex is not).
    combined, size = np.zeros(n, dtype=np.int64), 1
    for key in keys:
        column, levels = pd.factorize(np.asarray(key))
        if size * len(levels) >= 2**62:
            combined, seen = pd.factorize(combined)
            size = len(seen)
        combined = combined * len(levels) + column
        size *= len(levels)
    codes, uniques = pd.factorize(combined)
    if len(uniques) > 0.9 * n:
        return np.arange(n), np.arange(n)
    first = np.full(len(uniques), n, dtype=np.intp)
    np.minimum.at(first, codes, np.arange(n))
    return codes, first


def _read_covariance(reader: ExportReader, value: Any, k: int) -> np.ndarray:
    """Check an exported covariance and return it as a ``(k, k)`` array.

    It must be ``k`` rows of ``k`` finite numbers, symmetric, with a
    non-negative diagonal; ``None`` (or absent) is "not available" (all NaN).
    """
    if value is None:
        return np.full((k, k), np.nan)
    rows = reader.array(value, "covariance", length=k)
    matrix = np.array(
        [reader.numbers(row, f"covariance[{i}]", length=k) for i, row in enumerate(rows)]
    )
    scale = np.sqrt(np.outer(np.abs(np.diag(matrix)), np.abs(np.diag(matrix)))) + 1e-300
    if np.any(np.diag(matrix) < 0) or np.any(np.abs(matrix - matrix.T) > 1e-8 * scale):
        reader.fail(
            "field 'covariance' is not a covariance matrix (it must be symmetric with a "
            "non-negative diagonal)"
        )
    return matrix


def _inverse(hessian: np.ndarray) -> np.ndarray:
    """Covariance of the estimates (inverse Hessian); NaN where it is not positive definite."""
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return np.full_like(hessian, np.nan)
    if not np.all(np.isfinite(covariance)) or np.any(np.diag(covariance) <= 0):
        return np.full_like(hessian, np.nan)
    return np.asarray((covariance + covariance.T) / 2)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class PurchaseMaths:
    """The array maths of one purchase model, each function taking the parameters first.

    Attributes
    ----------
    loglik : callable
        ``(params, x, t_x, T) -> (ll, grad)``: per-customer log-likelihood
        ``(n,)`` and its gradient ``(n, k)``.
    expected_purchases : callable
        ``(params, x, t_x, T, t) -> E[Y(t) | x, t_x, T]``.
    proba_alive : callable
        ``(params, x, t_x, T) -> P(alive)``.
    proba_no_purchase : callable
        ``(params, x, t_x, T, t) -> P(no purchase in (T, T + t])``.
    new_customer : callable
        ``(params, ages) -> E[X(age)]`` of a new customer.
    sample : callable
        ``(params, T, rng) -> {"frequency", "recency", "T"}`` of simulated customers.
    """

    loglik: Callable[..., tuple[np.ndarray, np.ndarray]]
    expected_purchases: Callable[..., np.ndarray]
    proba_alive: Callable[..., np.ndarray]
    proba_no_purchase: Callable[..., np.ndarray]
    new_customer: Callable[..., np.ndarray]
    sample: Callable[..., dict[str, np.ndarray]]

    @classmethod
    def of(
        cls, module: ModuleType, *, loglik: str, sample: str = "sample_customers", **options: Any
    ) -> PurchaseMaths:
        """Collect a maths module's formulas, found by their usual names.

        Parameters
        ----------
        module : module
            Defines ``expected_purchases``, ``proba_alive``,
            ``proba_no_purchase`` and ``expected_purchases_new_customer``,
            and the likelihood and simulator named below.
        loglik : str
            Name of the likelihood function.
        sample : str, default="sample_customers"
            Name of the simulator.
        **options
            Keyword arguments every function gets (e.g. ``modified=True``).

        Returns
        -------
        PurchaseMaths
        """

        def formula(name: str) -> Callable[..., Any]:
            function = getattr(module, name)
            return partial(function, **options) if options else function

        return cls(
            loglik=formula(loglik),
            expected_purchases=formula("expected_purchases"),
            proba_alive=formula("proba_alive"),
            proba_no_purchase=formula("proba_no_purchase"),
            new_customer=formula("expected_purchases_new_customer"),
            sample=formula(sample),
        )


class PurchaseModel(ParametricModel):
    """Base class of the BTYD purchase models on ``(frequency, recency, T)``.

    A subclass sets :attr:`param_names`, its array maths :attr:`maths` (a
    :class:`PurchaseMaths`) and, where the default does badly, a starting
    point. This class checks every input the same way for every model, hands
    the columns to the maths and wraps the results in pandas objects indexed
    by customer.
    """

    columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    integer_columns: ClassVar[tuple[str, ...]] = ("frequency",)
    #: The model's array maths.
    maths: ClassVar[PurchaseMaths]
    #: Whether :attr:`maths` broadcasts per-customer parameter arrays; if not,
    #: covariate models evaluate it once per distinct parameter vector
    #: (:func:`by_parameter_group`).
    broadcasts: ClassVar[bool] = True

    def _loglik(
        self, params: np.ndarray, data: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._evaluate(
            self.maths.loglik, params, data["frequency"], data["recency"], data["T"]
        )

    def _evaluate(self, function: Callable[..., Any], params: Any, *arrays: Any) -> Any:
        """Call a maths function with (possibly per-customer) parameters."""
        if self.broadcasts or all(np.ndim(p) == 0 for p in params):
            return function(params, *arrays)
        customers = [a for a in arrays if np.ndim(a) > 0]
        scalars = arrays[len(customers) :]
        return by_parameter_group(
            lambda theta, *rows: function(theta, *rows, *scalars), params, *customers
        )

    def _check_data(self, arrays: dict[str, np.ndarray], index: pd.Index) -> None:
        check_recency(arrays, index, type(self).__name__)

    def _check_fit_data(self, arrays: dict[str, np.ndarray], weights: np.ndarray) -> None:
        # With T = 0 everywhere the likelihood is 1 whatever the parameters: the optimiser
        # "converges" at once to the starting point. Scoring such customers is fine.
        observed = weights > 0
        if not (arrays["T"][observed] > 0).any():
            raise SchemaError(
                f"{type(self).__name__}: every customer has T = 0 ({int(observed.sum()):,} "
                "customers): there is no observation period to learn from; any parameters "
                "fit equally well. Fit on customers observed for a while after their first "
                "purchase: pass summarize_customers an observation_end after the first "
                "purchases, or check that T is in the intended time unit.",
                reason="no_observation_period",
            )

    def _horizon(self, t: Any) -> float:
        """Return the prediction horizon ``t`` checked (``ValueError`` otherwise)."""
        return check_nonnegative(t, "t", unit=" (in the table's time unit)")

    def _ages(self, t: Any) -> np.ndarray:
        """Return the ages ``t`` of new customers checked, as a float array."""
        ages = np.asarray(t, dtype=np.float64)
        if not np.all(np.isfinite(ages)) or np.any(ages < 0):
            raise ValueError("t must be finite and >= 0 (in the time unit of the fit)")
        return ages

    def _scoring(self) -> tuple[PurchaseMaths, np.ndarray]:
        """Return the maths and parameters predictions use: the model's own by default.

        A model whose fit reduced to a nested model (a boundary solution)
        predicts with that model's. A model with covariates has no single
        parameter vector: what needs one (the count distribution, new
        customers, simulation) refuses with a clear error.
        """
        if self._coef_names():
            raise ValueError(
                f"{type(self).__name__} has covariates ({', '.join(self._coef_names())}): "
                "each customer has their own parameters, so this prediction, which needs one "
                "parameter set for everyone, is not available. Use predict_purchases, "
                "predict_proba_alive or predict_proba_no_purchase (which read each customer's "
                "covariates), or fit without covariates."
            )
        return self.maths, self._params

    def _predict(
        self,
        X: Any,
        name: str,
        formula: str,
        t: Any = None,
        *,
        interval: Any = None,
        n_draws: int = 200,
        random_state: Any = None,
        interval_method: str = "auto",
        progress: bool | None = None,
    ) -> pd.Series | pd.DataFrame:
        """Evaluate the :attr:`maths` function ``formula`` on the customer table ``X``."""
        self._check_time_unit(X)
        options: dict[str, Any] = {
            "method": interval_method,
            "scale": "logit" if formula.startswith("proba") else "log",
            "progress": progress,
        }
        horizon = () if t is None else (self._horizon(t),)
        level = check_interval(interval)
        check_is_fitted(self, "params_")
        arrays, index = self._prepare(X)
        frequency = arrays["frequency"]
        recency = arrays.get("recency", np.zeros_like(frequency))  # NBD: unused
        columns = (frequency, recency, arrays["T"])
        if not self._coef_names():
            maths, params = self._scoring()
            function = getattr(maths, formula)
            values = function(params, *columns, *horizon)
            if level is None:
                return pd.Series(values, index=index, name=name)

            def at(theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
                return self._draw_values(function, theta, [c[rows] for c in columns], horizon)

            # A boundary solution predicts with the nested NBD fit: draw its parameters.
            source = self if maths is self.maths else getattr(self, "nested_model_", self)
            return bootstrap_interval(
                source, values, at, columns, name, index, level, n_draws, random_state, **options
            )
        function = getattr(self.maths, formula)
        own, _ = self._link(self._theta, arrays)
        values = self._evaluate(function, own, *columns, *horizon)
        if level is None:
            return pd.Series(values, index=index, name=name)

        def at_cov(theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
            sub = {k: v[rows] for k, v in arrays.items()}
            draws, _ = self._link(theta, sub)
            cols = [c[rows] for c in columns]
            return self._draw_values(function, draws, cols, horizon, linked=True)

        keys = [*columns, *(arrays[c] for c in self._covariate_columns())]
        return bootstrap_interval(
            self, values, at_cov, keys, name, index, level, n_draws, random_state, **options
        )

    def _draw_expected(
        self, draws: np.ndarray, arrays: Mapping[str, np.ndarray], times: Sequence[float]
    ) -> list[np.ndarray]:
        """Return the expected purchases at each horizon of ``times`` for each parameter draw.

        Returns one ``(n_draws, n_customers)`` array per horizon; ``draws``
        are those of :func:`draw_parameters` for this model (or, for a
        boundary solution, its nested model).
        """
        frequency = arrays["frequency"]
        columns = [frequency, arrays.get("recency", np.zeros_like(frequency)), arrays["T"]]
        if self._coef_names():
            function = self.maths.expected_purchases
            params, _ = self._link(draws, arrays)
        else:
            maths, _ = self._scoring()
            function = maths.expected_purchases
            params = [draws[:, j : j + 1] for j in range(draws.shape[1])]
        return [
            self._draw_values(function, params, columns, (float(t),), linked=True) for t in times
        ]

    def _draw_values(
        self,
        function: Callable[..., Any],
        params: Any,
        columns: list[np.ndarray],
        horizon: tuple[float, ...],
        *,
        linked: bool = False,
    ) -> np.ndarray:
        """Evaluate ``function`` at a block of parameter draws: ``(n_draws, n_customers)``.

        ``params`` is a matrix of draws (one row each), or with ``linked`` the
        per-customer parameters of :meth:`_link` for the draws. Broadcasting
        maths gets every draw at once; the other is looped over draws.
        """
        if not linked:
            params = [params[:, j : j + 1] for j in range(params.shape[1])]
        n_draws = max(np.shape(p)[0] for p in params)
        if self.broadcasts:
            values = function(params, *(c[None, :] for c in columns), *horizon)
            return np.broadcast_to(values, (n_draws, len(columns[0])))
        out = np.empty((n_draws, len(columns[0])))
        for d in range(n_draws):
            row: list[Any] = []
            for p in params:
                v = np.asarray(p)[d]
                row.append(float(v[0]) if v.size == 1 else v)
            out[d] = self._evaluate(function, row, *columns, *horizon)
        return out

    # --- public API ------------------------------------------------------------------

    def predict_purchases(
        self,
        X: CustomerTable,
        *,
        t: float,
        interval: float | None = None,
        n_draws: int = 200,
        random_state: Any = None,
        interval_method: str = "auto",
        progress: bool | None = None,
    ) -> pd.Series | pd.DataFrame:
        """Predict the expected number of purchases in the next ``t`` time units.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency``, ``recency`` and ``T`` (and the
            covariate columns of a model fitted with covariates).
        t : float
            Horizon, in the time unit of the table.
        interval : float or None, default=None
            With a level such as 0.9, return the point prediction with the
            bounds of its interval from the uncertainty of the estimated
            parameters (see *Prediction intervals* in the lifetime value
            guide): a parametric bootstrap, ``n_draws`` parameter vectors
            drawn from the estimates' asymptotic normal distribution on the
            scale the optimiser uses (log of the positive parameters,
            covariate coefficients as they are), and the percentiles of the
            prediction over the draws. It is an interval for the expected
            value, not for the customer's actual count.
        n_draws : int, default=200
            Parameter draws for ``interval``.
        random_state : int, numpy.random.Generator or None, default=None
            Seed of the draws.
        interval_method : {"auto", "bootstrap", "delta"}, default="auto"
            ``"auto"``: the bootstrap for up to ``AUTO_DELTA_CUSTOMERS``
            (100,000) customers, the delta method beyond, where the draws
            would cost about ``n_draws`` point predictions.
            ``"delta"`` replaces the draws by the delta method on the
            optimiser's scale: the prediction's gradient by forward
            differences (one evaluation per parameter, so a few times the
            cost of the point prediction instead of about ``n_draws``
            times), and normal bounds on the log scale (logit for
            probabilities), mapped back.
        progress : bool or None, default=None
            Show a progress bar on standard error over the customers while
            the bootstrap ``interval`` is computed, when standard error is a
            terminal. ``None`` (automatic) shows it once the work has run
            for half a second, and not inside a quiet
            :class:`~custintel.pipeline.CustomerIntelligence` job; ``False``
            never shows one.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            ``expected_purchases``: the conditional expectation per customer,
            indexed like ``X``.
            With ``interval``: a DataFrame with columns ``expected_purchases`` (the point
            prediction, as without it), ``lower`` and ``upper``.
        """
        return self._predict(
            X,
            "expected_purchases",
            "expected_purchases",
            t,
            interval=interval,
            n_draws=n_draws,
            random_state=random_state,
            interval_method=interval_method,
            progress=progress,
        )

    def predict_proba_alive(
        self,
        X: CustomerTable,
        *,
        interval: float | None = None,
        n_draws: int = 200,
        random_state: Any = None,
        interval_method: str = "auto",
        progress: bool | None = None,
    ) -> pd.Series | pd.DataFrame:
        """Predict the probability that each customer is still active at the end of observation.

        Parameters
        ----------
        X : pandas.DataFrame
            The customer table, as for :meth:`predict_purchases`.
        interval, n_draws, random_state, interval_method, progress
            As for :meth:`predict_purchases`.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            ``proba_alive`` per customer, indexed like ``X``.
            With ``interval``: a DataFrame with columns ``proba_alive`` (the point
            prediction, as without it), ``lower`` and ``upper``.
        """
        return self._predict(
            X,
            "proba_alive",
            "proba_alive",
            interval=interval,
            n_draws=n_draws,
            random_state=random_state,
            interval_method=interval_method,
            progress=progress,
        )

    def predict_proba_no_purchase(
        self,
        X: CustomerTable,
        *,
        t: float,
        interval: float | None = None,
        n_draws: int = 200,
        random_state: Any = None,
        interval_method: str = "auto",
        progress: bool | None = None,
    ) -> pd.Series | pd.DataFrame:
        """Predict the probability that each customer makes no purchase in the next ``t``.

        This is the churn score that ranks customers correctly. ``1 - P(alive)``
        does not: P(alive) is 1 for every one-time buyer in BG/NBD, so it
        ranks them as the safest customers.

        Parameters
        ----------
        X, t
            The customer table and the horizon, as for :meth:`predict_purchases`.
        interval, n_draws, random_state, interval_method, progress
            As for :meth:`predict_purchases`.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            ``proba_no_purchase``, P(no purchase in (T, T + t]) per customer,
            indexed like ``X``.
            With ``interval``: a DataFrame with columns ``proba_no_purchase`` (the point
            prediction, as without it), ``lower`` and ``upper``.
        """
        return self._predict(
            X,
            "proba_no_purchase",
            "proba_no_purchase",
            t,
            interval=interval,
            n_draws=n_draws,
            random_state=random_state,
            interval_method=interval_method,
            progress=progress,
        )

    def expected_purchases_new_customer(self, t: Any) -> np.ndarray:
        """Return E[X(t)], the expected repeat purchases of a new customer by age ``t``.

        Parameters
        ----------
        t : float or array-like of float
            Ages since the first purchase, in the time unit of the fit
            (``>= 0``; whole numbers of opportunities for BG/BB).

        Returns
        -------
        numpy.ndarray
            Expected repeat purchases, shaped like ``t``; the model's
            formula is in its Notes.
        """
        check_is_fitted(self, "params_")
        maths, params = self._scoring()
        return maths.new_customer(params, self._ages(t))

    def expected_cumulative_purchases(self, first_purchase: Any, *, t: Any) -> pd.Series:
        """Compute the expected cumulative repeat purchases of a cohort over calendar time.

        Parameters
        ----------
        first_purchase : array-like of float
            Each customer's first purchase, in time units since the start of
            the calendar (e.g. ``T.max() - T`` for a summary table).
        t : array-like of float
            Calendar times at which to evaluate.

        Returns
        -------
        pandas.Series
            Expected total repeat purchases by each time in ``t``, indexed by ``t``.
        """
        check_is_fitted(self, "params_")
        births = np.asarray(first_purchase, dtype=np.float64).ravel()
        grid = np.asarray(t, dtype=np.float64).ravel()
        if not (np.all(np.isfinite(births)) and np.all(np.isfinite(grid))):
            raise ValueError("first_purchase and t must be finite numbers")
        unique_births, counts = np.unique(births, return_counts=True)
        age = grid[:, None] - unique_births[None, :]
        expected = np.where(
            age > 0, self.expected_purchases_new_customer(np.clip(age, 0, None)), 0.0
        )
        return pd.Series(
            expected @ counts, index=pd.Index(grid, name="t"), name="expected_cumulative"
        )

    def sample(self, n_customers: int, *, T: Any, random_state: Any = None) -> pd.DataFrame:
        """Simulate customers from the fitted parameters.

        Parameters
        ----------
        n_customers : int
            Number of customers.
        T : float or array-like of float
            Observation length of each customer (time since first purchase).
        random_state : int, numpy.random.Generator or None, default=None
            Seed.

        Returns
        -------
        pandas.DataFrame
            ``frequency``, ``recency`` and ``T`` per simulated customer, ready to
            fit, indexed by ``customer_id`` 0..n-1.
        """
        check_is_fitted(self, "params_")
        if int(n_customers) < 1:
            raise ValueError(f"n_customers must be >= 1, got {n_customers!r}")
        lengths = np.broadcast_to(np.asarray(T, dtype=np.float64), (int(n_customers),)).copy()
        if not np.all(np.isfinite(lengths)) or (lengths < 0).any():
            raise ValueError("T must be finite and >= 0")
        rng = np.random.default_rng(random_state)
        maths, params = self._scoring()
        columns = maths.sample(params, lengths, rng)
        return pd.DataFrame(columns, index=pd.RangeIndex(int(n_customers), name="customer_id"))
