"""The shared estimator machinery of custintel's parametric CLV models.

A model subclasses :class:`ParametricModel` and declares its parameter names,
the summary columns it reads, a starting point and its log-likelihood. The base
class does the rest the same way for every model: input checks with clear
errors, weighting of identical customers, the maximum-likelihood fit,
standard errors, and plain-JSON export.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custintel._export import NONNEGATIVE, Domain, ExportReader, as_float, show
from custintel.clv._fit import _LOG_BOUND, LogLikelihood, MLEResult, fit_mle, standard_errors
from custintel.exceptions import SchemaError

__all__ = ["FITTED_RANGE", "ParametricModel", "check_customer_table"]

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


class ParametricModel(BaseEstimator):
    """Base class of the parametric CLV models (maximum likelihood).

    Subclasses set :attr:`param_names` and :attr:`columns` and implement
    :meth:`_loglik` (per-customer log-likelihood and gradient) and
    :meth:`_initial_params`.

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty ``penalizer * sum(params**2)`` on the mean negative
        log-likelihood; 0 gives the plain maximum-likelihood estimate.
    initial_params : dict or None, default=None
        Starting values by parameter name; ``None`` uses the model's default.
    max_iter : int, default=1000
        Iterations per optimiser run.
    on_failure : {"raise", "warn"}, default="raise"
        What a fit that does not converge does.
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    columns: ClassVar[tuple[str, ...]] = ()
    integer_columns: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        initial_params: Mapping[str, float] | None = None,
        max_iter: int = 1000,
        on_failure: str = "raise",
    ) -> None:
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.max_iter = max_iter
        self.on_failure = on_failure

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

    def _prepare(self, X: Any) -> tuple[dict[str, np.ndarray], pd.Index]:
        arrays, index = check_customer_table(
            X, self.columns, model_name=type(self).__name__, integer_columns=self.integer_columns
        )
        self._check_data(arrays, index)
        return arrays, index

    def fit(self, X: Any, y: Any = None, *, sample_weight: Any = None) -> ParametricModel:
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
            on_failure=self.on_failure,
            model_name=type(self).__name__,
        )
        self._set_fitted(result, n_customers=float(weights.sum()))
        return self

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

    def score(self, X: Any, y: Any = None, *, sample_weight: Any = None) -> float:
        """Return the mean log-likelihood per customer of ``X`` at the fitted parameters.

        Higher is better, so model selection tools such as ``GridSearchCV`` can
        use it directly.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's :attr:`columns`.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_customers,), optional
            Number of customers each row stands for.

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

    #: Fields of :meth:`to_dict`; a hand-written export may leave out the optional ones.
    _EXPORT_REQUIRED: ClassVar[tuple[str, ...]] = (
        "model",
        "format_version",
        "params",
        "log_likelihood",
        "converged",
    )
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
            For anything :meth:`to_dict` does not write, with a ``reason``:
            ``"bad_json"`` or ``"not_a_mapping"`` (not an export at all),
            ``"wrong_model"`` (``model`` names another class),
            ``"bad_format_version"``, ``"missing_field"``,
            ``"unknown_field"`` (including unknown parameter or
            hyperparameter names), ``"bad_parameter"`` (a parameter that is
            not a finite real number in its domain: positive, within
            :data:`FITTED_RANGE` where the fit keeps it),
            ``"bad_hyperparameter"`` (a value the estimator refuses), or
            ``"bad_field"`` (a standard error that is not a finite number
            ``>= 0`` or null, a ``log_likelihood`` that is not a finite
            number or null, a ``converged`` that is not a bool, an
            ``n_customers`` that is not a finite number ``>= 0`` or null).

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
        data = reader.load(data)
        reader.model_name(data, (cls.__name__,))
        reader.format_version(data, (_FORMAT_VERSION,))
        reader.keys(data, required=cls._EXPORT_REQUIRED, optional=cls._EXPORT_OPTIONAL)

        values = reader.mapping(data, "params")
        reader.keys(values, required=cls.param_names, where="parameter", prefix="params.")
        params = np.array(
            [
                reader.number(
                    values[name],
                    f"parameter {name!r}",
                    cls.param_domains.get(name, FITTED_RANGE),
                    reason="bad_parameter",
                )
                for name in cls.param_names
            ],
            dtype=np.float64,
        )

        model = cls._from_hyperparameters(reader, data)
        errors: Mapping[str, Any] = {}
        if "standard_errors" in data:
            errors = reader.mapping(data, "standard_errors")
            reader.keys(
                errors,
                required=(),
                optional=cls.param_names,
                where="parameter",
                prefix="standard_errors.",
            )
        bse = [
            reader.number(
                errors.get(name),
                f"standard error of {name!r}",
                NONNEGATIVE,
                allow_none=True,
            )
            for name in cls.param_names
        ]
        model.params_ = pd.Series(params, index=list(cls.param_names), name="estimate")
        model.bse_ = pd.Series(bse, index=list(cls.param_names), name="se", dtype=np.float64)
        model.log_likelihood_ = reader.number(
            data["log_likelihood"], "field 'log_likelihood'", allow_none=True
        )
        model.converged_ = reader.boolean(data["converged"], "field 'converged'")
        model.n_iter_ = 0
        model.n_customers_ = reader.number(
            data.get("n_customers"), "field 'n_customers'", NONNEGATIVE, allow_none=True
        )
        return model

    @classmethod
    def _from_hyperparameters(cls, reader: ExportReader, data: Mapping[str, Any]) -> Any:
        """Build the estimator from the export's hyperparameters, checked as ``fit`` checks them."""
        if "hyperparameters" not in data:
            return cls()
        hyperparameters = reader.mapping(data, "hyperparameters")
        names = tuple(cls().get_params(deep=False))
        reader.keys(
            hyperparameters,
            required=(),
            optional=names,
            where="hyperparameter",
            prefix="hyperparameters.",
        )
        model = cls(**hyperparameters)
        try:
            model._check_params()
        except (TypeError, ValueError) as err:
            reader.fail(f"hyperparameters: {err}", reason="bad_hyperparameter")
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


class PurchaseModel(ParametricModel):
    """Base class of the BTYD purchase models on ``(frequency, recency, T)``.

    Subclasses implement the array-level maths: :meth:`_loglik`,
    :meth:`_expected_purchases`, :meth:`_proba_alive`,
    :meth:`_proba_no_purchase`, :meth:`expected_purchases_new_customer` and
    :meth:`_sample`. This class validates inputs and wraps results in pandas
    objects indexed by customer.
    """

    columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    integer_columns: ClassVar[tuple[str, ...]] = ("frequency",)

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

    # --- array-level maths to implement --------------------------------------------

    def _expected_purchases(
        self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
    ) -> np.ndarray:
        raise NotImplementedError

    def _proba_alive(
        self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        raise NotImplementedError

    def _proba_no_purchase(
        self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
    ) -> np.ndarray:
        raise NotImplementedError

    def _sample(
        self, params: np.ndarray, T: np.ndarray, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def expected_purchases_new_customer(self, t: Any) -> np.ndarray:
        """Return E[X(t)], the expected repeat purchases of a new customer by time t."""
        raise NotImplementedError

    # --- public API ------------------------------------------------------------------

    def _arrays(self, X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index]:
        check_is_fitted(self, "params_")
        arrays, index = self._prepare(X)
        return arrays["frequency"], arrays["recency"], arrays["T"], index

    @staticmethod
    def _check_horizon(t: Any) -> float:
        try:
            horizon = float(t)
        except (TypeError, ValueError):
            horizon = np.nan
        if not np.isfinite(horizon) or horizon < 0:
            raise ValueError(
                f"t must be a finite number >= 0 (in the table's time unit), got {t!r}"
            )
        return horizon

    def predict_purchases(self, X: Any, *, t: float) -> pd.Series:
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
            Conditional expectation per customer, indexed like ``X``.
        """
        horizon = self._check_horizon(t)
        x, t_x, T, index = self._arrays(X)
        values = self._expected_purchases(self._params, x, t_x, T, horizon)
        return pd.Series(values, index=index, name="expected_purchases")

    def predict_proba_alive(self, X: Any) -> pd.Series:
        """Predict the probability that each customer is still active at the end of observation.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency``, ``recency`` and ``T``.

        Returns
        -------
        pandas.Series
            P(alive) per customer, indexed like ``X``.
        """
        x, t_x, T, index = self._arrays(X)
        values = self._proba_alive(self._params, x, t_x, T)
        return pd.Series(values, index=index, name="proba_alive")

    def predict_proba_no_purchase(self, X: Any, *, t: float) -> pd.Series:
        """Predict the probability that each customer makes no purchase in the next ``t``.

        This is the churn score that ranks customers correctly. ``1 - P(alive)``
        does not: P(alive) is 1 for every one-time buyer in BG/NBD, so it
        ranks them as the safest customers.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency``, ``recency`` and ``T``.
        t : float
            Horizon, in the time unit of the table.

        Returns
        -------
        pandas.Series
            P(no purchase in (T, T + t]) per customer, indexed like ``X``.
        """
        horizon = self._check_horizon(t)
        x, t_x, T, index = self._arrays(X)
        values = self._proba_no_purchase(self._params, x, t_x, T, horizon)
        return pd.Series(values, index=index, name="proba_no_purchase")

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
        columns = self._sample(self._params, lengths, rng)
        return pd.DataFrame(columns, index=pd.RangeIndex(int(n_customers), name="customer_id"))
