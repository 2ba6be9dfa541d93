"""``from_dict`` of the CLV models reads exports from anyone: it refuses what to_dict never writes.

Hand-written cases cover every reason code for every model; hypothesis then
mutates valid exports (one random leaf replaced by a random JSON value, a key
dropped or added) and checks that ``from_dict`` either refuses the export with
an ``InvalidModelError`` or returns a model whose predictions are in range.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custintel.clv import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    CLVModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
)
from custintel.exceptions import InvalidModelError

from .._json_fuzz import json_paths, json_values

PURCHASE_MODELS = (BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, BetaGeoBetaBinomModel)
ALL_MODELS = (*PURCHASE_MODELS, GammaGammaModel, ShiftedBetaGeoModel)

# The donations data of Fader, Hardie and Shang (2010): repeat donations at six yearly
# opportunities, one row per (frequency, recency) pattern with its number of donors.
DONATIONS = pd.DataFrame(
    {
        "frequency": [0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6],
        "recency": [0, 1, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 3, 4, 5, 6, 4, 5, 6, 5, 6, 6],
        "T": 6,
    }
)
DONORS = [3464, 1091, 277, 129, 78, 119, 129, 613, 255, 155, 173,
          234, 322, 181, 225, 357, 240, 284, 512, 335, 728, 1203]  # fmt: skip
SURVIVORS = [1000, 631, 468, 382, 326, 289, 262, 241]

# Customers to score: a one-time buyer, ordinary and heavy repeat buyers, a long silence.
CUSTOMERS = pd.DataFrame(
    {
        "frequency": [0, 1, 2, 7, 30, 3],
        "recency": [0.0, 3.0, 30.4, 38.0, 39.0, 5.0],
        "T": [39.0, 39.0, 38.9, 39.0, 39.0, 78.0],
        "monetary_value": [0.0, 12.5, 40.0, 25.0, 3.0, 400.0],
    },
    index=pd.Index(["a", "b", "c", "d", "e", "f"], name="customer_id"),
)
OPPORTUNITIES = pd.DataFrame(
    {"frequency": [0, 1, 3, 6, 2], "recency": [0, 2, 5, 6, 2], "T": [6, 6, 6, 6, 11]},
    index=pd.Index(list("vwxyz"), name="customer_id"),
)


@pytest.fixture(scope="module")
def exports(cdnow_weeks: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """A JSON round trip of the to_dict of every model, fitted on its usual data."""
    models: list[Any] = [cls().fit(cdnow_weeks) for cls in (*PURCHASE_MODELS[:3],)]
    models.append(BetaGeoBetaBinomModel().fit(DONATIONS, sample_weight=DONORS))
    models.append(GammaGammaModel().fit(cdnow_weeks))
    models.append(ShiftedBetaGeoModel().fit(SURVIVORS))
    out = {type(m).__name__: json.loads(json.dumps(m.to_dict())) for m in models}
    out["CLVModel"] = json.loads(json.dumps(CLVModel().fit(cdnow_weeks).to_dict()))
    return out


def _export(exports: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    return copy.deepcopy(exports[name])


def _reason(cls: Any, data: Any) -> str:
    with pytest.raises(InvalidModelError) as info:
        cls.from_dict(data)
    assert isinstance(info.value, ValueError)  # callers catching ValueError still work
    return info.value.reason


# --- exact round trips -------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_round_trip_is_exact(
    cls: Any, exports: dict[str, dict[str, Any]], cdnow_weeks: pd.DataFrame
) -> None:
    data = _export(exports, cls.__name__)
    text = json.dumps(data, allow_nan=False)  # strict JSON
    for restored in (cls.from_dict(json.loads(text)), cls.from_dict(text)):
        assert type(restored) is cls
        assert restored.params_.to_numpy().tolist() == list(data["params"].values())
        assert json.loads(json.dumps(restored.to_dict(), allow_nan=False)) == data
    if cls in PURCHASE_MODELS:
        X = OPPORTUNITIES if cls is BetaGeoBetaBinomModel else CUSTOMERS
        original = cls.from_dict(data)
        restored = cls.from_dict(text)
        pd.testing.assert_series_equal(
            restored.predict_purchases(X, t=5), original.predict_purchases(X, t=5)
        )


def test_clv_round_trip_is_exact(
    exports: dict[str, dict[str, Any]], cdnow_weeks: pd.DataFrame
) -> None:
    fitted = CLVModel().fit(cdnow_weeks)
    text = json.dumps(fitted.to_dict(), allow_nan=False)
    restored = CLVModel.from_dict(text)
    pd.testing.assert_series_equal(
        restored.predict_clv(cdnow_weeks, horizon=12, discount_rate=0.01),
        fitted.predict_clv(cdnow_weeks, horizon=12, discount_rate=0.01),
    )
    assert restored.to_dict() == fitted.to_dict()
    for cls in PURCHASE_MODELS:  # every allowed purchase model loads inside a CLVModel
        data = {**_export(exports, "CLVModel"), "purchase_model": _export(exports, cls.__name__)}
        assert type(CLVModel.from_dict(data).purchase_model_) is cls


def test_a_minimal_hand_written_export_loads() -> None:
    # log_likelihood may be null, and hyperparameters, standard errors and n_customers may
    # be left out, for models built from published parameters rather than fitted.
    data = {
        "model": "BetaGeoModel",
        "format_version": 1,
        "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        "log_likelihood": None,
        "converged": True,
    }
    model = BetaGeoModel.from_dict(data)
    assert model.get_params() == BetaGeoModel().get_params()
    assert model.bse_.isna().all() and math.isnan(model.log_likelihood_)
    again = json.loads(json.dumps(model.to_dict(), allow_nan=False))
    assert again["log_likelihood"] is None and again["n_customers"] is None
    assert BetaGeoModel.from_dict(again).params_.equals(model.params_)


# --- one case per reason code, for every model -------------------------------------------


def _params(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**data, "params": {**data["params"], **changes}}


BAD_VALUES = [-1, -1.0, 0, 0.0, None, math.nan, math.inf, -math.inf, "1", True, False,
              [1.0], {"value": 1.0}, 10**400, 1e300, 1e-300]  # fmt: skip


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_bad_parameter_values(cls: Any, value: Any, exports: dict[str, dict[str, Any]]) -> None:
    data = _export(exports, cls.__name__)
    for name in cls.param_names:
        with pytest.raises(InvalidModelError, match=f"parameter '{name}' is") as info:
            cls.from_dict(_params(data, **{name: value}))
        assert info.value.reason == "bad_parameter"
        assert "it must be a finite number > 0" in str(info.value)
        assert "re-export the model with to_dict()" in str(info.value)


def test_the_message_names_the_field_the_value_the_domain_and_the_fix(
    exports: dict[str, dict[str, Any]],
) -> None:
    with pytest.raises(InvalidModelError) as info:
        BetaGeoModel.from_dict(_params(_export(exports, "BetaGeoModel"), r=-1.0))
    assert str(info.value) == (
        "BetaGeoModel export: parameter 'r' is -1.0; it must be a finite number > 0, within "
        "[3.06e-07, 3.27e+06] (the range fit estimates in); re-export the model with "
        "to_dict() from a fitted model"
    )


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_parameters_at_the_edge_of_the_fitted_range(
    cls: Any, exports: dict[str, dict[str, Any]]
) -> None:
    data = _export(exports, cls.__name__)
    name = cls.param_names[0]
    for value in (math.exp(-15), math.exp(15), 1, np.float64(2.5), np.int64(3)):
        assert cls.from_dict(_params(data, **{name: value})).params_[name] == value
    for value in (math.exp(-15) * 0.999, math.exp(15) * 1.001):
        assert _reason(cls, _params(data, **{name: value})) == "bad_parameter"


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_missing_and_extra_parameters(cls: Any, exports: dict[str, dict[str, Any]]) -> None:
    data = _export(exports, cls.__name__)
    for name in cls.param_names:
        short = {k: v for k, v in data["params"].items() if k != name}
        with pytest.raises(InvalidModelError, match=f"parameter 'params.{name}' is missing"):
            cls.from_dict({**data, "params": short})
        assert _reason(cls, {**data, "params": short}) == "missing_field"
    assert _reason(cls, _params(data, extra=1.0)) == "unknown_field"
    assert _reason(cls, {**data, "params": [1.0] * len(cls.param_names)}) == "bad_parameter"


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_wrong_model_name(cls: Any, exports: dict[str, dict[str, Any]]) -> None:
    data = _export(exports, cls.__name__)
    others = [c.__name__ for c in ALL_MODELS if c is not cls]
    for name in [*others, "CLVModel", "os", "__class__", "", None, 1, ["BetaGeoModel"]]:
        with pytest.raises(InvalidModelError, match=f"not {cls.__name__}") as info:
            cls.from_dict({**data, "model": name})
        assert info.value.reason == "wrong_model"
    del data["model"]
    assert _reason(cls, data) == "missing_field"


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_format_version(cls: Any, exports: dict[str, dict[str, Any]]) -> None:
    data = _export(exports, cls.__name__)
    for version in (0, 2, "1", 1.5, True, None):
        with pytest.raises(InvalidModelError, match="format_version") as info:
            cls.from_dict({**data, "format_version": version})
        assert info.value.reason == "bad_format_version"
    assert cls.from_dict({**data, "format_version": np.int64(1)}).params_.size
    del data["format_version"]
    assert _reason(cls, data) == "missing_field"


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_missing_and_unknown_fields(cls: Any, exports: dict[str, dict[str, Any]]) -> None:
    data = _export(exports, cls.__name__)
    for field in ("params", "log_likelihood", "converged"):
        with pytest.raises(InvalidModelError, match=f"field '{field}' is missing") as info:
            cls.from_dict({k: v for k, v in data.items() if k != field})
        assert info.value.reason == "missing_field"
    for field in ("hyperparameters", "standard_errors", "n_customers"):  # optional
        cls.from_dict({k: v for k, v in data.items() if k != field})
    for extra in ("extra", "__class__", "params_"):
        with pytest.raises(InvalidModelError, match=f"unknown field '{extra}'") as info:
            cls.from_dict({**data, extra: 1})
        assert info.value.reason == "unknown_field"


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_bad_hyperparameters(cls: Any, exports: dict[str, dict[str, Any]]) -> None:
    data = _export(exports, cls.__name__)
    first = cls.param_names[0]
    bad: list[dict[str, Any]] = [
        {"penalizer": -1.0},
        {"penalizer": "0"},
        {"penalizer": None},
        {"max_iter": 0},
        {"max_iter": "1000"},
        {"max_iter": 10.5},
        {"max_iter": True},
        {"on_failure": "ignore"},
        {"on_failure": None},
        {"initial_params": [1.0]},
        {"initial_params": {first: -1.0}},
        {"initial_params": {first: "1"}},
        {"initial_params": {"nope": 1.0}},
    ]
    for change in bad:
        hyper = {**data["hyperparameters"], **change}
        with pytest.raises(InvalidModelError, match="hyperparameters: ") as info:
            cls.from_dict({**data, "hyperparameters": hyper})
        assert info.value.reason == "bad_parameter", change
    unknown = {**data, "hyperparameters": {**data["hyperparameters"], "n_jobs": 2}}
    assert _reason(cls, unknown) == "unknown_field"
    assert _reason(cls, {**data, "hyperparameters": None}) == "bad_parameter"
    # Valid values load, and missing ones take their defaults.
    good = {**data, "hyperparameters": {"penalizer": 0.1, "initial_params": {first: 2.0}}}
    model = cls.from_dict(good)
    assert model.penalizer == 0.1 and model.max_iter == cls().max_iter


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_bad_statistics(cls: Any, exports: dict[str, dict[str, Any]]) -> None:
    data = _export(exports, cls.__name__)
    first = cls.param_names[0]
    cases: list[tuple[str, Any]] = [
        ("standard_errors", {**data["standard_errors"], first: -0.1}),
        ("standard_errors", {**data["standard_errors"], first: math.nan}),
        ("standard_errors", {**data["standard_errors"], first: "0.1"}),
        ("standard_errors", [0.1]),
        ("log_likelihood", math.nan),
        ("log_likelihood", math.inf),
        ("log_likelihood", "-10"),
        ("converged", 1),
        ("converged", "true"),
        ("converged", None),
        ("n_customers", -1),
        ("n_customers", math.inf),
        ("n_customers", False),
    ]
    for field, value in cases:
        with pytest.raises(InvalidModelError) as info:
            cls.from_dict({**data, field: value})
        assert info.value.reason == "bad_parameter", (field, value)
    extra_se = {**data, "standard_errors": {**data["standard_errors"], "zz": 0.1}}
    assert _reason(cls, extra_se) == "unknown_field"
    # null standard errors (not computable) and a null log-likelihood are allowed
    nulls = {**data, "standard_errors": {first: None}, "log_likelihood": None}
    assert cls.from_dict(nulls).bse_.isna().all()


@pytest.mark.parametrize("cls", [BetaGeoModel, CLVModel], ids=lambda c: c.__name__)
def test_not_an_export(cls: Any) -> None:
    for data in ([], [1, 2], 3, None, 2.5, ("model", "x")):
        assert _reason(cls, data) == "wrong_model"
    for text in ("", "{", "[1, 2", "not json", '{"model": NaN'):
        assert _reason(cls, text) == "wrong_model"
    assert _reason(cls, "[1, 2]") == "wrong_model"
    assert _reason(cls, "[" * 100_000 + "]" * 100_000) == "wrong_model"
    assert _reason(cls, {}) == "missing_field"


# --- CLVModel ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["CLVModel", "os", "__class__", "GammaGammaModel", "ShiftedBetaGeoModel",
             "PurchaseModel", "ParametricModel", "_BetaGeoBase", "np", "clv", "", None, 7]
)  # fmt: skip
def test_clv_refuses_a_purchase_model_outside_the_allowlist(
    name: Any, exports: dict[str, dict[str, Any]]
) -> None:
    data = _export(exports, "CLVModel")
    data["purchase_model"]["model"] = name
    with pytest.raises(InvalidModelError, match=r"purchase_model\.model") as info:
        CLVModel.from_dict(data)
    assert info.value.reason == "wrong_model"
    assert "BetaGeoModel" in str(info.value)  # the message lists what is allowed


def test_clv_refuses_a_spend_model_that_is_not_gamma_gamma(
    exports: dict[str, dict[str, Any]],
) -> None:
    data = _export(exports, "CLVModel")
    for name in ("BetaGeoModel", "CLVModel", "os", None):
        data["spend_model"]["model"] = name
        assert _reason(CLVModel, data) == "wrong_model"
    data["spend_model"] = _export(exports, "BetaGeoModel")
    assert _reason(CLVModel, data) == "wrong_model"


def test_clv_structure(exports: dict[str, dict[str, Any]]) -> None:
    data = _export(exports, "CLVModel")
    assert _reason(CLVModel, {**data, "model": "BetaGeoModel"}) == "wrong_model"
    assert _reason(CLVModel, {**data, "format_version": 2}) == "bad_format_version"
    for field in ("time_unit", "purchase_model", "spend_model"):
        assert _reason(CLVModel, {k: v for k, v in data.items() if k != field}) == ("missing_field")
    assert _reason(CLVModel, {**data, "extra": 1}) == "unknown_field"
    units: list[Any] = ["Q", "d", "days", 7, True, ["W"]]
    for unit in units:
        with pytest.raises(InvalidModelError, match="time_unit") as info:
            CLVModel.from_dict({**data, "time_unit": unit})
        assert info.value.reason == "bad_parameter"
    for good in ("h", "D", "W", "M", None):
        assert CLVModel.from_dict({**data, "time_unit": good}).time_unit_ == good
    for field in ("purchase_model", "spend_model"):
        for value in (None, "BetaGeoModel", json.dumps(data[field]), [data[field]]):
            assert _reason(CLVModel, {**data, field: value}) == "bad_parameter"


def test_clv_passes_on_the_reason_of_the_model_inside(exports: dict[str, dict[str, Any]]) -> None:
    data = _export(exports, "CLVModel")
    data["purchase_model"]["params"]["r"] = -1
    with pytest.raises(InvalidModelError) as info:
        CLVModel.from_dict(data)
    assert info.value.reason == "bad_parameter"
    assert str(info.value).startswith(
        "CLVModel export, field 'purchase_model': BetaGeoModel export: parameter 'r' is -1;"
    )
    data = _export(exports, "CLVModel")
    data["spend_model"]["params"]["q"] = None
    with pytest.raises(InvalidModelError, match=r"field 'spend_model'.*parameter 'q' is None"):
        CLVModel.from_dict(data)


# --- fuzzing: mutated exports load as valid models or fail with InvalidModelError ---------

# Floats where the maths is most fragile, and the edges of every domain.
SPECIAL_FLOATS = st.sampled_from(
    [0.0, -0.0, -1.0, 1.0, 0.5, 1e-320, 5e-324, 1e-300, 1e-7, math.exp(-15), math.exp(15),
     3.3e6, 1e30, 1e308, 1.7976931348623157e308, -1e308, math.nan, math.inf, -math.inf]
)  # fmt: skip
NAMES = st.sampled_from(
    ["BetaGeoModel", "ModifiedBetaGeoModel", "ParetoNBDModel", "BetaGeoBetaBinomModel",
     "GammaGammaModel", "ShiftedBetaGeoModel", "CLVModel", "os", "__class__", "D", "W"]
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.sampled_from([10**400, -(10**400)])
    | st.floats(allow_nan=True, allow_infinity=True)
    | SPECIAL_FLOATS
    | st.floats(-15.0, 15.0).map(math.exp)  # anywhere a fit can put a parameter
    | st.text(max_size=8)
    | NAMES
)
JSON_VALUES = json_values(SCALARS)


def _like(value: Any) -> st.SearchStrategy[Any]:
    """Values of the same JSON type as ``value``, often valid: they reach the models' maths."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(-2, 2 * abs(value) + 2)
    if isinstance(value, float):
        return st.floats(-0.5, 1.5) | st.floats(-16.0, 16.0).map(math.exp) | st.just(-value)
    if isinstance(value, str):
        return NAMES
    return JSON_VALUES


@st.composite
def mutated(draw: Any, export: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``export`` with one or two positions replaced, deleted, or a key added."""
    data = copy.deepcopy(export)
    for _ in range(draw(st.integers(1, 2))):
        paths = json_paths(data)
        path = draw(st.sampled_from(paths))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON_VALUES | _like(parent[path[-1]]))
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6) | NAMES)] = draw(JSON_VALUES)
    return data


def _check_loaded(model: Any) -> None:
    """Predictions of a model that from_dict accepted are finite and in range."""
    with warnings.catch_warnings():
        # Only the values matter here (the maths may warn, e.g. scipy's IntegrationWarning).
        warnings.simplefilter("ignore")
        if isinstance(model, CLVModel):
            _check_purchases(model.purchase_model_)
            spend = model.predict_spend(CUSTOMERS)
            value = model.predict_clv(CUSTOMERS, horizon=6, discount_rate=0.01, period_length=4.0)
            assert not value.isna().any() and (value >= 0).all(), value.tolist()
            # Infinite only where the mean spend does not exist (Gamma-Gamma p x + q <= 1).
            assert np.isfinite(value[np.isfinite(spend)]).all(), value.tolist()
        elif isinstance(model, GammaGammaModel):
            spend = model.predict_spend(CUSTOMERS)
            assert not spend.isna().any() and (spend > 0).all(), spend.tolist()
        elif isinstance(model, ShiftedBetaGeoModel):
            t = [1, 2, 10, 1000]
            for curve in (
                model.survival_function([0, *t]),
                model.retention_rate(t),
                model.churn_probability(t),
            ):
                assert curve.between(0, 1).all(), curve.tolist()
            derl = model.discounted_expected_residual_lifetime([1, 5], discount_rate=0.1)
            assert np.isfinite(derl).all() and (derl >= 0).all(), derl.tolist()
        else:
            _check_purchases(model)
    again = json.dumps(model.to_dict(), allow_nan=False)  # re-exports as strict JSON
    assert type(model).from_dict(again).to_dict() == model.to_dict()


def _check_purchases(model: Any) -> None:
    X = OPPORTUNITIES if isinstance(model, BetaGeoBetaBinomModel) else CUSTOMERS
    alive = model.predict_proba_alive(X)
    assert alive.between(0, 1).all(), alive.tolist()
    for t in (1, 13, 52):
        expected = model.predict_purchases(X, t=t)
        assert np.isfinite(expected).all() and (expected >= 0).all(), expected.tolist()
        quiet = model.predict_proba_no_purchase(X, t=t)
        assert quiet.between(0, 1).all(), quiet.tolist()


def _fuzz(cls: Any, data: dict[str, Any] | str) -> None:
    try:
        model = cls.from_dict(data)
    except InvalidModelError:
        return
    assert type(model) is cls
    _check_loaded(model)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
@FUZZ
@given(data=st.data())
def test_fuzzed_exports_load_valid_models_or_raise_invalid_model_error(
    cls: Any, data: Any, exports: dict[str, dict[str, Any]]
) -> None:
    _fuzz(cls, data.draw(mutated(exports[cls.__name__])))


@FUZZ
@given(data=st.data())
def test_fuzzed_clv_exports_load_valid_models_or_raise_invalid_model_error(
    data: Any, exports: dict[str, dict[str, Any]]
) -> None:
    _fuzz(CLVModel, data.draw(mutated(exports["CLVModel"])))


@FUZZ
@given(data=st.data())
def test_fuzzed_exports_as_json_text(data: Any, exports: dict[str, dict[str, Any]]) -> None:
    # The same through JSON text, where NaN and Infinity are literals; any text is refused
    # or loaded, never crashes the parser.
    cls = data.draw(st.sampled_from(ALL_MODELS))
    text = json.dumps(data.draw(mutated(exports[cls.__name__])))
    cut = data.draw(st.integers(0, len(text)))
    for candidate in (text, text[:cut]):
        _fuzz(cls, candidate)
