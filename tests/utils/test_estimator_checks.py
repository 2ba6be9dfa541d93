"""The common estimator checks, run on every public estimator of custintel.

Each (estimator, check) pair is one test. A check that does not apply is
skipped with its reason ("not applicable because ..."); a check that fails
because of a known bug in code owned elsewhere is a strict xfail naming the bug.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from custintel import acquisition, basket, churn, clv, profitability, promotions, segmentation
from custintel.exceptions import SchemaError
from custintel.utils import CHECKS, check_estimator, iter_checks
from custintel.utils.estimator_checks import assert_identical

from . import _cases
from ._cases import CASES, run

# Checks that fail because of bugs in code this test does not own; each is a strict xfail,
# so the test turns red (XPASS) the day the bug is fixed and the entry must go.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


def _params() -> list[Any]:
    params = []
    for name in CASES:
        for check in CHECKS:
            marks = [pytest.mark.slow] if name in _cases.SLOW else []
            if (name, check) in KNOWN_FAILURES:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[name, check]))
            params.append(pytest.param(name, check, marks=marks, id=f"{name}-{check}"))
    return params


def test_every_public_estimator_is_checked() -> None:
    """New estimators must be added to tests/utils/_cases.py."""
    found = set()
    for module in (clv, segmentation, churn, basket, profitability, promotions, acquisition):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, BaseEstimator):
                found.add(name)
    try:
        pipeline = importlib.import_module("custintel.pipeline")
    except ImportError:
        pipeline = None
    if pipeline is not None:
        found |= {
            n
            for n in getattr(pipeline, "__all__", [])
            if isinstance(getattr(pipeline, n), type)
            and issubclass(getattr(pipeline, n), BaseEstimator)
        }
    assert found - set(CASES) == set(), f"estimators without common checks: {found - set(CASES)}"


# Where a check does not apply, and why; the test asserts the check itself reports
# "not applicable" there (and passes everywhere else), so a check that silently stops
# applying turns red instead of being skipped.
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    "set_output_pandas": dict.fromkeys(
        (
            "BetaGeoModel",
            "ModifiedBetaGeoModel",
            "ParetoNBDModel",
            "NBDModel",
            "BetaGeoBetaBinomModel",
            "GammaGammaModel",
            "ShiftedBetaGeoModel",
            "CLVModel",
            "ChurnClassifier",
            "CrossSellRecommender",
            "SequentialRecommender",
            "MBGCNBDModel",
            "ParetoAnalysis",
            "WhaleCurve",
            "CustomerIntelligence",
            "UpliftModel",
            "EarlyLifeValueModel",
            "LookalikeModel",
        ),
        "no transform method: predictions, not a feature transform",
    ),
    "rows_scored_independently": dict.fromkeys(
        (
            "ShiftedBetaGeoModel",
            "CrossSellRecommender",
            "SequentialRecommender",
            "ParetoAnalysis",
            "WhaleCurve",
        ),
        "the output is a population-level table, not one row per input row",
    )
    | {"CustomerIntelligence": "score takes transactions, not one row per customer"},
    "json_round_trip": dict.fromkeys(
        (
            "CustomerSegmenter",
            "ParetoAnalysis",
            "WhaleCurve",
            "CustomerIntelligence",
            "DealSegmenter",
            "UpliftModel",
            "LookalikeModel",
        ),
        "no to_dict/from_dict: CustomerSegmenter, the deal segments, the uplift and lookalike "
        "models and the profitability analyses are not part of a bundle; "
        "CustomerIntelligence saves a bundle folder instead",
    ),
}


@pytest.mark.parametrize(("name", "check"), _params())
def test_common_check(name: str, check: str) -> None:
    result = run(name, check)
    if name in NOT_APPLICABLE.get(check, {}):
        assert result.status == "not applicable", (
            f"{name} {check} was expected not to apply "
            f"({NOT_APPLICABLE[check][name]}), got {result.status}: {result.detail}"
        )
    else:
        assert result.status == "passed", f"{name} {check}: {result.detail}"


# --- scikit-learn's own checks --------------------------------------------------------------
#
# Only ChurnClassifier takes generic features (any numeric or categorical columns); every other
# estimator reads named columns of a customer table (BTYD models: frequency/recency/T; the
# segmenters and profitability analyses: their configured columns), survivor counts
# (ShiftedBetaGeoModel), transactions or baskets (CrossSellRecommender), so scikit-learn's
# checks, which feed unnamed numpy arrays, cannot apply to them. ChurnClassifier's default
# model (btyd_logistic) reads named columns too (frequency, recency, T and five more); its
# model="hgb" takes any 2-D array-like of numbers as well as a DataFrame, and any two labels,
# so that one runs them all; the one check that still fails is the missing n_iter_.
SKLEARN_EXPECTED_FAILURES: dict[str, str] = {
    "check_non_transformer_estimators_n_iter": (
        "no n_iter_: max_iter is passed to the HistGradientBoostingClassifier, which "
        "CalibratedClassifierCV refits once per fold, so there is no single iteration count"
    ),
}


@parametrize_with_checks(
    [
        churn.ChurnClassifier(
            model="hgb",
            calibration="isotonic",
            max_iter=10,
            min_samples_leaf=5,
            cv=3,
            min_customers=1,
        )
    ],
    expected_failed_checks=lambda estimator: SKLEARN_EXPECTED_FAILURES,
)
def test_sklearn_checks(estimator: Any, check: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


# --- the checks themselves can fail -----------------------------------------------------------


class _Good(TransformerMixin, BaseEstimator):
    """A well-behaved transformer on a 'value' column."""

    def __init__(self, *, scale: float = 1.0, random_state: int | None = None) -> None:
        self.scale = scale
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any = None) -> _Good:
        if "value" not in X.columns:
            raise SchemaError("column 'value' is missing", reason="missing_column")
        self.mean_ = float(X["value"].mean())
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self)
        if "value" not in X.columns:
            raise SchemaError("column 'value' is missing", reason="missing_column")
        return pd.DataFrame({"centred": (X["value"] - self.mean_) * self.scale}, index=X.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(["centred"], dtype=object)

    def to_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "mean": self.mean_}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Good:
        model = cls(scale=data["scale"])
        model.mean_ = data["mean"]
        return model


class _Mutates(_Good):
    def fit(self, X: pd.DataFrame, y: Any = None) -> _Mutates:
        X["value"] = X["value"].fillna(0.0)  # writes into the caller's frame
        X.attrs["seen"] = True
        return super().fit(X)


class _ReturnsNone(_Good):
    def fit(self, X: pd.DataFrame, y: Any = None) -> Any:
        super().fit(X)
        return None


class _SetsInInit(_Good):
    def __init__(self, *, scale: float = 1.0, random_state: int | None = None) -> None:
        super().__init__(scale=scale, random_state=random_state)
        self.cache = {}


class _NoFittedCheck(_Good):
    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"centred": X["value"] * self.scale}, index=X.index)


class _KeyErrorOnMissing(_Good):
    def fit(self, X: pd.DataFrame, y: Any = None) -> _KeyErrorOnMissing:
        self.mean_ = float(X["value"].mean())  # KeyError from deep inside pandas
        return self


class _Random(_Good):
    def fit(self, X: pd.DataFrame, y: Any = None) -> _Random:
        super().fit(X)
        self.mean_ += np.random.default_rng().normal()  # ignores random_state
        return self


class _BatchDependent(_Good):
    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self)
        return pd.DataFrame({"centred": X["value"] - X["value"].mean()}, index=X.index)


class _LossyJson(_Good):
    def to_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "mean": round(self.mean_, 2)}


class _NanJson(_Good):
    def to_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "mean": float("nan")}


_X = pd.DataFrame({"value": [1.0, 2.5, np.nan, 7.25]}, index=pd.Index(list("abcd"), name="c"))


def test_a_good_estimator_passes_everything() -> None:
    report = check_estimator(_Good(), _X.copy())
    assert (report["status"] == "passed").all(), report


@pytest.mark.parametrize(
    ("estimator", "check", "message"),
    [
        (_Mutates(), "input_not_mutated", "X after fit"),
        (_ReturnsNone(), "fit_returns_self", "fit returned NoneType"),
        (_SetsInInit(), "init_stores_only_params", "['cache']"),
        (_NoFittedCheck(), "not_fitted_error", "raised nothing"),
        (_KeyErrorOnMissing(), "missing_column_schema_error", "raised KeyError"),
        (_Random(), "deterministic", "output of a second fit"),
        (_BatchDependent(), "rows_scored_independently", "shuffled third of the rows"),
        (_LossyJson(), "json_round_trip", "after JSON round trip"),
        (_NanJson(), "json_round_trip", "not plain JSON"),
    ],
    ids=lambda v: type(v).__name__.strip("_") if isinstance(v, BaseEstimator) else "",
)
def test_each_check_catches_its_bug(estimator: Any, check: str, message: str) -> None:
    (bound,) = iter_checks(estimator, _X.copy(), checks=[check])
    result = bound()
    assert result.status == "failed"
    assert message in result.detail
    with pytest.raises(AssertionError, match=check):
        check_estimator(estimator, _X.copy(), checks=[check])


def test_expected_failures_are_reported_and_must_stay_current() -> None:
    report = check_estimator(
        _Mutates(), _X.copy(), checks=["input_not_mutated"],
        expected_failed_checks={"input_not_mutated": "known"},
    )  # fmt: skip
    assert report.loc["input_not_mutated", "status"] == "expected failure"
    with pytest.raises(AssertionError, match="expected to fail"):
        check_estimator(_Good(), _X.copy(), expected_failed_checks={"fit_returns_self": "no"})


class NoTransform(BaseEstimator):
    def fit(self, X: Any, y: Any = None) -> NoTransform:
        self.n_ = len(X)
        return self


def test_not_applicable_checks_say_why() -> None:
    report = check_estimator(NoTransform(), [1, 2, 3])
    reasons = report.loc[report["status"] == "not applicable", "detail"].to_dict()
    assert reasons == {
        "json_round_trip": "not applicable because NoTransform has no to_dict/from_dict "
        "JSON export",
        "set_output_pandas": "not applicable because NoTransform has no transform method",
        "missing_column_schema_error": "not applicable because X is a list, not a DataFrame "
        "with columns",
        "rows_scored_independently": "not applicable because X is a list, not a DataFrame of rows",
    }


def test_unknown_check_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown checks"):
        list(iter_checks(_Good(), _X, checks=["no_such_check"]))


@pytest.mark.parametrize(
    ("left", "right", "where"),
    [
        (pd.Series([1.0, 2.0]), pd.Series([1.0, 2.0 + 1e-15]), "output"),
        (pd.Series([1.0]), pd.Series([1], dtype="int64"), "output"),
        ({"a": [1, 2]}, {"a": [1, 3]}, "output['a'][1]"),
        (np.array([1.0, np.nan]), np.array([1.0, 2.0]), "array values differ"),
        (1.5, 1.5000001, "output"),
        ((1, 2), [1, 2], "type tuple != list"),
    ],
)
def test_assert_identical_is_exact(left: Any, right: Any, where: str) -> None:
    with pytest.raises(AssertionError, match=__import__("re").escape(where)):
        assert_identical(left, right)


def test_assert_identical_treats_nan_as_equal() -> None:
    assert_identical(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
    assert_identical({"x": float("nan")}, {"x": float("nan")})
    assert_identical(np.array(["a", None], dtype=object), np.array(["a", None], dtype=object))


def test_not_fitted_error_is_sklearns() -> None:
    """custintel raises scikit-learn's NotFittedError itself, so callers catch one class."""
    with pytest.raises(NotFittedError):
        clv.BetaGeoModel().predict_purchases(_cases.summary_weeks(), t=1.0)
