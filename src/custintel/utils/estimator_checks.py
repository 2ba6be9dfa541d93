"""Common checks that every custintel estimator passes, for your own estimators too.

custintel's estimators take customer tables, transaction logs or baskets
rather than generic numeric arrays, so most of scikit-learn's
``check_estimator`` does not apply to them. The checks here test the same
contract on the estimator's own kind of input:

- ``clone_and_params``: ``clone`` works and ``set_params(**get_params())`` changes nothing.
- ``init_stores_only_params``: ``__init__`` sets exactly its parameters, unchanged.
- ``fit_returns_self``: ``fit`` returns the estimator and leaves its parameters alone.
- ``not_fitted_error``: the output raises ``sklearn.exceptions.NotFittedError``
  (or a subclass) before ``fit``.
- ``input_not_mutated``: ``fit`` and the output leave ``X`` and ``y`` exactly as they were.
- ``joblib_round_trip``: a ``joblib`` dump and load gives an identical output.
- ``json_round_trip``: ``from_dict(json.loads(json.dumps(to_dict())))`` gives an
  identical output, and the export is strict JSON (no NaN or infinity).
- ``set_output_pandas``: after ``set_output(transform="pandas")``, ``transform``
  returns a DataFrame indexed like ``X`` with the ``get_feature_names_out()`` columns.
- ``missing_column_schema_error``: removing a column makes ``fit`` and the output
  raise :class:`~custintel.exceptions.SchemaError` naming it (or work), never
  another error.
- ``deterministic``: two fits with ``random_state=0`` give an identical output.
- ``rows_scored_independently``: for a per-customer output (one row per row of ``X``),
  the output is indexed like ``X``, and scoring a shuffled subset of the rows gives
  exactly those rows of the full output: a customer's score never depends on the
  other customers in the batch.

A check that cannot apply (``set_output`` on an estimator without
``transform``, say) returns the status ``"not applicable"`` and says why.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Unpack

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from custintel.exceptions import SchemaError

__all__ = [
    "CHECKS",
    "CheckOptions",
    "CheckResult",
    "EstimatorCheck",
    "assert_identical",
    "check_estimator",
    "default_output",
    "iter_checks",
]

#: Names of the checks, in the order :func:`iter_checks` yields them.
CHECKS: tuple[str, ...] = (
    "clone_and_params",
    "init_stores_only_params",
    "fit_returns_self",
    "not_fitted_error",
    "input_not_mutated",
    "joblib_round_trip",
    "json_round_trip",
    "set_output_pandas",
    "missing_column_schema_error",
    "deterministic",
    "rows_scored_independently",
)

Status = Literal["passed", "failed", "not applicable"]
Output = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes
    ----------
    check : str
        Name of the check, one of :data:`CHECKS`.
    status : {"passed", "failed", "not applicable"}
        Outcome.
    detail : str
        Why the check failed, why it does not apply, or a note on what was
        checked.
    """

    check: str
    status: Status
    detail: str = ""


def _require(condition: Any, message: str) -> None:
    """Fail the check with ``message`` unless ``condition`` holds (``assert`` vanishes under -O)."""
    if not condition:
        raise AssertionError(message)


class _NotApplicableError(Exception):
    """Raised inside a check that does not apply; the message says why."""


@dataclass(frozen=True)
class EstimatorCheck:
    """One check bound to an estimator and its input; call it to run it.

    Attributes
    ----------
    name : str
        The check, as :data:`CHECKS` names it.
    estimator : estimator
        The (unfitted) estimator checked; each check works on clones.
    """

    name: str
    estimator: Any
    _function: Callable[[], str]

    def __call__(self) -> CheckResult:
        """Run the check.

        Returns
        -------
        CheckResult
            ``"failed"`` with the assertion message when the check fails;
            exceptions other than ``AssertionError`` count as failures too.
        """
        try:
            detail = self._function()
        except _NotApplicableError as exc:
            return CheckResult(self.name, "not applicable", f"not applicable because {exc}")
        except AssertionError as exc:
            return CheckResult(self.name, "failed", str(exc))
        except Exception as exc:  # any crash is a failure of the estimator
            return CheckResult(self.name, "failed", f"raised {type(exc).__name__}: {exc}")
        return CheckResult(self.name, "passed", detail)

    def __repr__(self) -> str:
        return f"EstimatorCheck({self.name!r}, {type(self.estimator).__name__})"


# --- comparing outputs -----------------------------------------------------------------------


def assert_identical(left: Any, right: Any, *, path: str = "output") -> None:
    """Assert that two outputs are identical: same types, values, index and dtypes.

    pandas objects are compared exactly (``check_exact=True``), arrays value
    by value with NaN equal to NaN, mappings and sequences item by item and
    fitted estimators by their fitted attributes.

    Parameters
    ----------
    left, right : object
        The two outputs.
    path : str, default="output"
        Where in the output we are, for the message.

    Raises
    ------
    AssertionError
        Naming the first place where the two differ.
    """
    if type(left) is not type(right):
        raise AssertionError(f"{path}: type {type(left).__name__} != {type(right).__name__}")
    try:
        if isinstance(left, pd.DataFrame):
            pd.testing.assert_frame_equal(left, right, check_exact=True)
        elif isinstance(left, pd.Series):
            pd.testing.assert_series_equal(left, right, check_exact=True)
        elif isinstance(left, pd.Index):
            pd.testing.assert_index_equal(left, right, exact=True)
        elif isinstance(left, np.ndarray):
            _assert_arrays(left, right)
    except AssertionError as exc:
        raise AssertionError(f"{path}: {exc}") from None
    if isinstance(left, (pd.DataFrame, pd.Series, pd.Index, np.ndarray)):
        return
    if isinstance(left, Mapping):
        if list(left) != list(right):
            raise AssertionError(f"{path}: keys {list(left)} != {list(right)}")
        for key in left:
            assert_identical(left[key], right[key], path=f"{path}[{key!r}]")
    elif isinstance(left, (list, tuple)):
        if len(left) != len(right):
            raise AssertionError(f"{path}: length {len(left)} != {len(right)}")
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_identical(a, b, path=f"{path}[{i}]")
    elif isinstance(left, float):
        if not (left == right or (math.isnan(left) and math.isnan(right))):
            raise AssertionError(f"{path}: {left!r} != {right!r}")
    elif isinstance(left, BaseEstimator):
        assert_identical(left.get_params(deep=False), right.get_params(deep=False), path=path)
        assert_identical(_fitted_attributes(left), _fitted_attributes(right), path=path)
    else:
        try:
            same = left == right
        except Exception:  # objects without a usable __eq__ are compared by repr
            same = repr(left) == repr(right)
        if isinstance(same, (bool, np.bool_)) and not same:
            raise AssertionError(f"{path}: {left!r} != {right!r}")


def _assert_arrays(left: np.ndarray, right: np.ndarray) -> None:
    if left.dtype != right.dtype or left.shape != right.shape:
        raise AssertionError(
            f"arrays differ in dtype or shape: {left.dtype}{left.shape} != "
            f"{right.dtype}{right.shape}"
        )
    if left.dtype.kind in "fc":
        same = np.array_equal(left, right, equal_nan=True)
    elif left.dtype == object:
        same = all(
            _same_scalar(a, b)
            for a, b in zip(left.ravel().tolist(), right.ravel().tolist(), strict=True)
        )
    else:
        same = np.array_equal(left, right)
    if not same:
        raise AssertionError("array values differ")


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        assert_identical(a, b)
    except AssertionError:
        return False
    return True


def _fitted_attributes(estimator: Any) -> dict[str, Any]:
    return {
        name: value
        for name, value in sorted(vars(estimator).items())
        if name.endswith("_") and not name.startswith("_")
    }


def _fitted_state(estimator: Any, X: Any) -> dict[str, Any]:
    """Return the fitted attributes of an estimator without a prediction method."""
    check_is_fitted(estimator)
    return _fitted_attributes(estimator)


def default_output(estimator: Any) -> Output:
    """Choose what the checks compare for an estimator.

    The first of ``transform``, ``predict_proba`` and ``predict`` that the
    estimator has; for an estimator with none of them (an analysis such as
    :class:`~custintel.profitability.ParetoAnalysis`), its fitted attributes
    (public names ending in ``_``) after ``check_is_fitted``.

    Parameters
    ----------
    estimator : estimator
        The estimator.

    Returns
    -------
    callable
        ``output(fitted_estimator, X)``.
    """
    for method in ("transform", "predict_proba", "predict"):
        if callable(getattr(estimator, method, None)):
            return functools.partial(_call_method, method)
    return _fitted_state


def _call_method(method: str, fitted: Any, X: Any) -> Any:
    return getattr(fitted, method)(X)


# --- the checks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Case:
    estimator: Any
    X: Any
    y: Any
    output: Output
    fit_params: Mapping[str, Any]
    columns: Sequence[Any] | None
    # Deep copies of X and y taken before any check runs, and one fitted clone shared by the
    # checks that only need a fitted model (fits can take seconds).
    snapshot: tuple[Any, Any, Any] = field(default=(None, None, None))
    cache: dict[str, Any] = field(default_factory=dict)

    def fit(self, estimator: Any | None = None, X: Any = None) -> Any:
        model = clone(self.estimator) if estimator is None else estimator
        data = self.X if X is None else X
        if self.y is None:
            return model.fit(data, **self.fit_params)
        return model.fit(data, self.y, **self.fit_params)

    def fitted(self) -> Any:
        """Return a fitted clone, fitted once and shared."""
        if "fitted" not in self.cache:
            self.cache["fitted"] = self.fit()
        return self.cache["fitted"]


def _check_clone_and_params(case: _Case) -> str:
    estimator = case.estimator
    params = estimator.get_params(deep=False)
    copied = clone(estimator)
    _require(copied is not estimator, "clone returned the estimator itself")
    assert_identical(copied.get_params(deep=False), params, path="clone(estimator).get_params()")
    deep = estimator.get_params(deep=True)
    copied.set_params(**params)
    assert_identical(copied.get_params(deep=True), deep, path="after set_params(**get_params())")
    again = clone(copied)
    assert_identical(again.get_params(deep=True), deep, path="clone(clone(estimator))")
    return f"{len(params)} parameters survive clone and set_params"


def _check_init_stores_only_params(case: _Case) -> str:
    estimator = clone(case.estimator)
    params = estimator.get_params(deep=False)
    attributes = {k: v for k, v in vars(estimator).items() if k != "_sklearn_output_config"}
    extra = sorted(set(attributes) - set(params))
    missing = sorted(set(params) - set(attributes))
    _require(not extra, f"__init__ sets attributes that are not parameters: {extra}")
    _require(
        not missing, f"parameters that __init__ does not store under their own name: {missing}"
    )
    fresh = type(estimator)(**params)
    for name, value in params.items():
        _require(
            getattr(fresh, name) is value,
            f"__init__ changes parameter {name!r} (stores a copy or a converted value); "
            "store it as given and validate it in fit",
        )
    return "__init__ stores its parameters as given and nothing else"


def _check_fit_returns_self(case: _Case) -> str:
    estimator = clone(case.estimator)
    before = copy.deepcopy(estimator.get_params(deep=False))
    fitted = case.fit(estimator)
    _require(fitted is estimator, f"fit returned {type(fitted).__name__}, not the estimator itself")
    assert_identical(
        estimator.get_params(deep=False), before, path="get_params() after fit (fit changed them)"
    )
    return "fit returns self and leaves the parameters alone"


def _check_not_fitted_error(case: _Case) -> str:
    estimator = clone(case.estimator)
    try:
        case.output(estimator, case.X)
    except NotFittedError:
        return "the output raises NotFittedError before fit"
    except Exception as exc:
        raise AssertionError(
            f"before fit the output raised {type(exc).__name__} ({exc}), not a "
            "sklearn.exceptions.NotFittedError; call check_is_fitted(self) first"
        ) from None
    raise AssertionError("before fit the output raised nothing; call check_is_fitted(self) first")


def _check_input_not_mutated(case: _Case) -> str:
    X_before, y_before, attrs_before = case.snapshot
    case.output(case.fitted(), case.X)
    assert_identical(case.X, X_before, path="X after fit and output")
    assert_identical(case.y, y_before, path="y after fit and output")
    if attrs_before is not None:
        assert_identical(case.X.attrs, attrs_before, path="X.attrs after fit and output")
    return "X and y are unchanged (deep comparison) after fit and output"


def _check_joblib_round_trip(case: _Case) -> str:
    fitted = case.fitted()
    expected = case.output(fitted, case.X)
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    restored = joblib.load(buffer)
    assert_identical(case.output(restored, case.X), expected, path="output after joblib load")
    return f"identical output after a joblib round trip ({buffer.getbuffer().nbytes:,} bytes)"


def _check_json_round_trip(case: _Case) -> str:
    kind = type(case.estimator)
    if not (
        callable(getattr(kind, "to_dict", None)) and callable(getattr(kind, "from_dict", None))
    ):
        raise _NotApplicableError(f"{kind.__name__} has no to_dict/from_dict JSON export")
    fitted = case.fitted()
    expected = case.output(fitted, case.X)
    try:
        text = json.dumps(fitted.to_dict(), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"to_dict() is not plain JSON: {exc}") from None
    restored = kind.from_dict(json.loads(text))
    _require(type(restored) is kind, f"from_dict returned {type(restored).__name__}")
    assert_identical(case.output(restored, case.X), expected, path="output after JSON round trip")
    return f"identical output after a JSON round trip ({len(text):,} characters)"


def _check_set_output_pandas(case: _Case) -> str:
    if not callable(getattr(case.estimator, "transform", None)):
        raise _NotApplicableError(f"{type(case.estimator).__name__} has no transform method")
    estimator = clone(case.estimator)
    _require(
        callable(getattr(estimator, "set_output", None)),
        "a transformer without set_output; define get_feature_names_out and inherit "
        "TransformerMixin",
    )
    estimator.set_output(transform="pandas")
    out = case.fit(estimator).transform(case.X)
    _require(
        isinstance(out, pd.DataFrame),
        f'transform returned {type(out).__name__} after set_output(transform="pandas")',
    )
    _require(
        len(out) == len(case.X),
        f"transform changed the row count: {len(case.X)} rows in, {len(out)} out",
    )
    if isinstance(case.X, (pd.DataFrame, pd.Series)):
        pd.testing.assert_index_equal(out.index, case.X.index, check_names=False)
    if callable(getattr(estimator, "get_feature_names_out", None)):
        names = [str(c) for c in estimator.get_feature_names_out()]
        _require(
            [str(c) for c in out.columns] == names,
            f"columns {list(out.columns)} != get_feature_names_out() {names}",
        )
    estimator.set_output(transform="default")
    estimator.transform(case.X)
    return "transform returns a DataFrame indexed like X, columns = get_feature_names_out()"


def _check_missing_column_schema_error(case: _Case) -> str:
    if not isinstance(case.X, pd.DataFrame):
        raise _NotApplicableError(f"X is a {type(case.X).__name__}, not a DataFrame with columns")
    columns = list(case.X.columns if case.columns is None else case.columns)
    fitted = case.fitted()
    raised: list[str] = []
    for column in columns:
        reduced = case.X.drop(columns=[column])
        for stage, run in (
            ("fit", lambda data: case.fit(X=data)),
            ("the output", lambda data: case.output(fitted, data)),
        ):
            try:
                run(reduced)
            except SchemaError as exc:
                _require(
                    exc.reason, f"SchemaError without a reason code when {column!r} is missing"
                )
                _require(
                    str(column) in str(exc),
                    f"the SchemaError of {stage} without column {column!r} does not name it: {exc}",
                )
                raised.append(f"{stage} without {column!r}: {exc.reason}")
            except Exception as exc:
                raise AssertionError(
                    f"{stage} on X without column {column!r} raised {type(exc).__name__} "
                    f"({exc}), not custintel.exceptions.SchemaError"
                ) from None
    _require(
        raised,
        f"removing any one of the columns {columns} raised no SchemaError; every required "
        "column should be checked (pass columns= to name the required ones)",
    )
    return "; ".join(raised)


def _check_deterministic(case: _Case) -> str:
    params = case.estimator.get_params(deep=True)
    seeds = {
        name: 0 for name in params if name == "random_state" or name.endswith("__random_state")
    }
    if all(params[name] == 0 for name in seeds):
        first = case.fitted()  # already seeded with 0 (or nothing to seed)
    else:
        first = case.fit(clone(case.estimator).set_params(**seeds))
    second = case.fit(clone(case.estimator).set_params(**seeds))
    assert_identical(
        case.output(second, case.X), case.output(first, case.X), path="output of a second fit"
    )
    if seeds:
        return f"identical output from two fits with {sorted(seeds)} = 0"
    return "no random_state parameter; two fits give identical output"


def _check_rows_scored_independently(case: _Case) -> str:
    X = case.X
    if not isinstance(X, pd.DataFrame):
        raise _NotApplicableError(f"X is a {type(X).__name__}, not a DataFrame of rows")
    fitted = case.fitted()
    full = case.output(fitted, X)
    per_row = isinstance(full, (pd.Series, pd.DataFrame, np.ndarray)) and len(full) == len(X)
    if not per_row:
        raise _NotApplicableError(
            f"the output ({type(full).__name__}) does not have one row per row of X"
        )
    if isinstance(full, (pd.Series, pd.DataFrame)):
        _require(
            full.index.equals(X.index),
            f"the output is not indexed like X: {full.index[:5].tolist()} vs "
            f"{X.index[:5].tolist()}",
        )
    rng = np.random.default_rng(0)
    rows = rng.permutation(len(X))[: max(min(2, len(X)), len(X) // 3)]
    part = case.output(fitted, X.iloc[rows])
    expected = full[rows] if isinstance(full, np.ndarray) else full.iloc[rows]
    assert_identical(part, expected, path="output on a shuffled third of the rows")
    return f"{len(rows)} shuffled rows of X score exactly as in the full batch"


_FUNCTIONS: dict[str, Callable[[_Case], str]] = {
    "clone_and_params": _check_clone_and_params,
    "init_stores_only_params": _check_init_stores_only_params,
    "fit_returns_self": _check_fit_returns_self,
    "not_fitted_error": _check_not_fitted_error,
    "input_not_mutated": _check_input_not_mutated,
    "joblib_round_trip": _check_joblib_round_trip,
    "json_round_trip": _check_json_round_trip,
    "set_output_pandas": _check_set_output_pandas,
    "missing_column_schema_error": _check_missing_column_schema_error,
    "deterministic": _check_deterministic,
    "rows_scored_independently": _check_rows_scored_independently,
}


class CheckOptions(TypedDict, total=False):
    """The options of :func:`iter_checks` that :func:`check_estimator` passes on.

    Attributes
    ----------
    y : object
        Target passed to ``fit``.
    output : callable or None
        What the checks compare: ``output(fitted_estimator, X)``.
    fit_params : mapping or None
        Extra keyword arguments of ``fit``.
    columns : sequence or None
        Columns the missing-column check removes one at a time.
    checks : sequence of str or None
        The checks to run.
    """

    y: Any
    output: Output | None
    fit_params: Mapping[str, Any] | None
    columns: Sequence[Any] | None
    checks: Sequence[str] | None


def iter_checks(
    estimator: Any,
    X: Any,
    *,
    y: Any = None,
    output: Output | None = None,
    fit_params: Mapping[str, Any] | None = None,
    columns: Sequence[Any] | None = None,
    checks: Sequence[str] | None = None,
) -> Iterator[EstimatorCheck]:
    """Yield the common checks for one estimator and its input, ready to run.

    Parameters
    ----------
    estimator : estimator
        An unfitted estimator; every check works on clones of it.
    X : object
        Input to ``fit``: a customer table, a transaction log, baskets, ...
    y : object, optional
        Target passed to ``fit`` when given.
    output : callable, optional
        ``output(fitted_estimator, X)`` returns what the checks compare,
        e.g. ``lambda m, X: m.predict_purchases(X, t=10)``. Before ``fit`` it
        must raise ``NotFittedError``. By default :func:`default_output`.
    fit_params : mapping, optional
        Extra keyword arguments of ``fit``, e.g. ``{"sample_weight": w}``.
    columns : sequence, optional
        Columns of ``X`` that the missing-column check removes one at a
        time; by default every column.
    checks : sequence of str, optional
        Run only these checks (names from :data:`CHECKS`).

    Yields
    ------
    EstimatorCheck
        Call it to get a :class:`CheckResult`.

    Notes
    -----
    ``X`` and ``y`` are deep-copied when this is called, so that the
    input-mutation check sees any change made by any check. The checks that
    only need a fitted model share one fit; the others fit their own clones.

    Examples
    --------
    >>> import pandas as pd
    >>> from custintel.profitability import WhaleCurve
    >>> profit = pd.DataFrame({"profit": [10.0, 5.0, -3.0]},
    ...                       index=pd.Index([1, 2, 3], name="customer_id"))
    >>> for check in iter_checks(WhaleCurve(), profit,
    ...                          checks=["fit_returns_self", "set_output_pandas"]):
    ...     result = check()
    ...     print(result.check, "|", result.status, "|", result.detail)
    fit_returns_self | passed | fit returns self and leaves the parameters alone
    set_output_pandas | not applicable | not applicable because WhaleCurve has no transform method
    """
    names = CHECKS if checks is None else tuple(checks)
    unknown = sorted(set(names) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown checks {unknown}; choose from {list(CHECKS)}")
    case = _Case(
        estimator=estimator,
        X=X,
        y=y,
        output=default_output(estimator) if output is None else output,
        fit_params=dict(fit_params or {}),
        columns=columns,
        snapshot=(copy.deepcopy(X), copy.deepcopy(y), copy.deepcopy(getattr(X, "attrs", None))),
    )
    for name in names:
        function = _FUNCTIONS[name]
        yield EstimatorCheck(name, estimator, functools.partial(function, case))


def check_estimator(
    estimator: Any,
    X: Any,
    *,
    expected_failed_checks: Mapping[str, str] | None = None,
    raise_on_failure: bool = True,
    **options: Unpack[CheckOptions],
) -> pd.DataFrame:
    """Run the common checks on an estimator and report every outcome.

    Parameters
    ----------
    estimator : estimator
        An unfitted estimator.
    X : object
        Input to ``fit``.
    expected_failed_checks : mapping of str to str, optional
        Checks known to fail, with the reason; their failures are reported
        as ``"expected failure"`` and do not raise. One that passes raises,
        so the mapping stays current.
    raise_on_failure : bool, default=True
        Raise ``AssertionError`` listing the failed checks.
    **options
        ``y``, ``output``, ``fit_params``, ``columns`` and ``checks``, as for
        :func:`iter_checks` (see :class:`CheckOptions`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``check``, with ``status`` and ``detail``.

    Raises
    ------
    AssertionError
        When a check fails (and ``raise_on_failure``), or an expected failure
        passes.

    Examples
    --------
    >>> import pandas as pd
    >>> from custintel.profitability import ParetoAnalysis
    >>> X = pd.DataFrame({"total_amount": [50.0, 30.0, 15.0, 5.0]},
    ...                  index=pd.Index(list("abcd"), name="customer_id"))
    >>> report = check_estimator(ParetoAnalysis(), X)
    >>> report["status"].value_counts().to_dict()
    {'passed': 8, 'not applicable': 3}
    """
    expected = dict(expected_failed_checks or {})
    rows = []
    for check in iter_checks(estimator, X, **options):
        result = check()
        status: str = result.status
        detail = result.detail
        if check.name in expected:
            if status == "failed":
                status, detail = "expected failure", f"{expected[check.name]} ({detail})"
            elif status == "passed":
                status = "failed"
                detail = (
                    f"expected to fail ({expected[check.name]}) but passed; remove it from "
                    "expected_failed_checks"
                )
        rows.append({"check": check.name, "status": status, "detail": detail})
    report = pd.DataFrame(rows, columns=["check", "status", "detail"]).set_index("check")
    failed = report[report["status"] == "failed"]
    if raise_on_failure and len(failed):
        lines = "\n".join(f"  {name}: {detail}" for name, detail in failed["detail"].items())
        raise AssertionError(
            f"{type(estimator).__name__} failed {len(failed)} of {len(report)} checks:\n{lines}"
        )
    return report
