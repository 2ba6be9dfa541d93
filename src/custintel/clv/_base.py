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

from custintel.clv._fit import (
    _LOG_BOUND,
    LogLikelihood,
    MLEResult,
    check_converged,
    fit_mle,
    standard_errors,
)
from custintel.exceptions import SchemaError
from custintel.export import NONNEGATIVE, Domain, ExportReader, as_float, show
from custintel.typing import CustomerTable

__all__ = [
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
    if not isinstance(X, pd.DataFrame):
        raise SchemaError(
            f"{model_name} expects a customer table (pandas DataFrame) with columns "
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
    examples = ", ".join(f"{index[i]!r}: {values[i]!r}" for i in positions)
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
class ParametricModel(BaseEstimator):
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

        By default identical customers are merged (:func:`compress_rows`) and
        each remaining row is one term of :meth:`_loglik`. A model with
        sufficient statistics can override this to return fewer, aggregated
        terms; the weighted sum, its mean and Hessian must stay those of the
        whole table.
        """
        data, merged = compress_rows(arrays, weights)
        return (lambda params: self._loglik(params, data)), merged

    # --- shared machinery -------------------------------------------------------------

    def _checked_table(self, X: Any) -> tuple[dict[str, np.ndarray], pd.Index]:
        """Check ``X`` has the model's columns; return them as float arrays and its index."""
        return check_customer_table(
            X, self.columns, model_name=type(self).__name__, integer_columns=self.integer_columns
        )

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
        arrays, _ = self._prepare(X)
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
        result = fit_mle(
            loglik,
            initial,
            weights=fit_weights,
            penalizer=float(self.penalizer),
            max_iter=self.max_iter,
            on_failure="return",
            model_name=type(self).__name__,
        )
        result = self._after_fit(result, arrays, weights)
        check_converged(result, on_failure=self.on_failure, model_name=type(self).__name__)
        self._set_fitted(result, n_customers=float(weights.sum()))
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
        params = self._params
        arrays, _ = self._prepare(X)
        n_rows = len(next(iter(arrays.values())))
        weights = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
        loglik, term_weights = self._fit_terms(arrays, weights)
        ll, _ = loglik(params)
        return float(np.einsum("i,i->", ll, term_weights) / weights.sum())

    def _set_fitted(self, result: MLEResult, *, n_customers: float) -> None:
        self.params_ = pd.Series(result.params, index=list(self.param_names), name="estimate")
        self.log_likelihood_ = result.log_likelihood
        self.converged_ = result.converged
        self.n_iter_ = result.n_iter
        self.bse_ = pd.Series(
            standard_errors(result.hessian), index=list(self.param_names), name="se"
        )
        self.n_customers_ = n_customers

    @property
    def _params(self) -> np.ndarray:
        check_is_fitted(self, "params_")
        return self.params_.to_numpy()

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% Wald intervals.

        Returns
        -------
        pandas.DataFrame
            One row per parameter: ``estimate``, ``se``, ``lower_95``, ``upper_95``.
        """
        estimates = pd.Series(self._params, index=self.params_.index)
        return pd.DataFrame(
            {
                "estimate": estimates,
                "se": self.bse_,
                "lower_95": estimates - 1.959964 * self.bse_,
                "upper_95": estimates + 1.959964 * self.bse_,
            }
        )

    #: Fields of :meth:`to_dict` a hand-written export may leave out.
    _EXPORT_OPTIONAL: ClassVar[tuple[str, ...]] = (
        "hyperparameters",
        "standard_errors",
        "n_customers",
    )
    #: Domain of each parameter in an export; parameters not listed are in FITTED_RANGE.
    param_domains: ClassVar[Mapping[str, Domain]] = {}

    def to_dict(self) -> dict[str, Any]:
        """Export the fitted model as plain JSON-serialisable data.

        Returns
        -------
        dict
            ``model``, ``format_version``, ``hyperparameters``, ``params``,
            ``standard_errors``, ``log_likelihood``, ``converged`` and
            ``n_customers``. Numbers that are not finite (a standard error
            that could not be computed) are ``None``, so the export is
            strict JSON.
        """
        params = self._params
        return {
            "model": type(self).__name__,
            "format_version": _FORMAT_VERSION,
            "hyperparameters": {k: _jsonable(v) for k, v in self.get_params().items()},
            "params": dict(zip(self.param_names, map(float, params), strict=True)),
            "standard_errors": {k: _jsonable(float(v)) for k, v in self.bse_.items()},
            "log_likelihood": _jsonable(float(self.log_likelihood_)),
            "converged": bool(self.converged_),
            "n_customers": _jsonable(float(self.n_customers_)),
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
        values = reader.keys(data["params"], "params", required=cls.param_names, where="parameter")
        params = np.array(
            [
                reader.number(
                    values[name],
                    f"params.{name}",
                    cls.param_domains.get(name, FITTED_RANGE),
                    label=f"parameter {name!r}",
                )
                for name in cls.param_names
            ],
            dtype=np.float64,
        )

        model = cls._from_hyperparameters(reader, data)
        errors: Mapping[str, Any] = {}
        if "standard_errors" in data:
            errors = reader.keys(
                data["standard_errors"],
                "standard_errors",
                required=(),
                optional=cls.param_names,
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
            for name in cls.param_names
        ]
        model.params_ = pd.Series(params, index=list(cls.param_names), name="estimate")
        model.bse_ = pd.Series(bse, index=list(cls.param_names), name="se", dtype=np.float64)
        model.log_likelihood_ = reader.number(
            data["log_likelihood"], "log_likelihood", allow_none=True
        )
        model.converged_ = reader.boolean(data["converged"], "converged")
        model.n_iter_ = 0
        model.n_customers_ = reader.number(
            data.get("n_customers"), "n_customers", NONNEGATIVE, allow_none=True
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

    def _loglik(
        self, params: np.ndarray, data: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.maths.loglik(params, data["frequency"], data["recency"], data["T"])

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
        predicts with that model's.
        """
        return self.maths, self._params

    def _predict(self, X: Any, name: str, formula: str, t: Any = None) -> pd.Series:
        """Evaluate the :attr:`maths` function ``formula`` on the customer table ``X``."""
        horizon = () if t is None else (self._horizon(t),)
        check_is_fitted(self, "params_")
        arrays, index = self._prepare(X)
        maths, params = self._scoring()
        frequency = arrays["frequency"]
        recency = arrays.get("recency", np.zeros_like(frequency))  # NBD: unused
        values = getattr(maths, formula)(params, frequency, recency, arrays["T"], *horizon)
        return pd.Series(values, index=index, name=name)

    # --- public API ------------------------------------------------------------------

    def predict_purchases(self, X: CustomerTable, *, t: float) -> pd.Series:
        """Predict the expected number of purchases in the next ``t`` time units.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency``, ``recency`` and ``T``.
        t : float
            Horizon, in the time unit of the table.

        Returns
        -------
        pandas.Series
            ``expected_purchases``: the conditional expectation per customer,
            indexed like ``X``.
        """
        return self._predict(X, "expected_purchases", "expected_purchases", t)

    def predict_proba_alive(self, X: CustomerTable) -> pd.Series:
        """Predict the probability that each customer is still active at the end of observation.

        Parameters
        ----------
        X : pandas.DataFrame
            The customer table, as for :meth:`predict_purchases`.

        Returns
        -------
        pandas.Series
            ``proba_alive`` per customer, indexed like ``X``.
        """
        return self._predict(X, "proba_alive", "proba_alive")

    def predict_proba_no_purchase(self, X: CustomerTable, *, t: float) -> pd.Series:
        """Predict the probability that each customer makes no purchase in the next ``t``.

        This is the churn score that ranks customers correctly. ``1 - P(alive)``
        does not: P(alive) is 1 for every one-time buyer in BG/NBD, so it
        ranks them as the safest customers.

        Parameters
        ----------
        X, t
            The customer table and the horizon, as for :meth:`predict_purchases`.

        Returns
        -------
        pandas.Series
            ``proba_no_purchase``, P(no purchase in (T, T + t]) per customer,
            indexed like ``X``.
        """
        return self._predict(X, "proba_no_purchase", "proba_no_purchase", t)

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
