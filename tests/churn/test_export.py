"""ChurnClassifier.to_dict / from_dict: exact JSON round trips and refusal of hostile exports."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from custintel.churn import ChurnClassifier
from custintel.datasets import make_transactions
from custintel.exceptions import InvalidModelError, SchemaError
from custintel.features import make_churn_dataset

#: The boosted model with the calibration it was the default with (before the BTYD stack).
HGB = {"model": "hgb", "calibration": "isotonic"}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    tx = make_transactions(1500, random_state=3).transactions
    X, y = make_churn_dataset(tx, cutoff="2023-09-30", horizon=180)
    X2, _ = make_churn_dataset(tx, cutoff="2024-06-30", horizon=180)
    # scoring rows with an unseen category, missing categories and missing numbers
    X2 = X2.copy()
    X2["region"] = X2["region"].astype(object)
    X2.iloc[:5, X2.columns.get_loc("region")] = "Atlantis"
    X2.iloc[5:10, X2.columns.get_loc("region")] = None
    X2.iloc[10:15, X2.columns.get_loc("gap_mean_days")] = np.nan
    return X, y, X2


@pytest.fixture(scope="module")
def fitted(tables: Any) -> ChurnClassifier:
    X, y, _ = tables
    return ChurnClassifier(**HGB, max_iter=60).fit(X, y)


def _round_trip(model: ChurnClassifier) -> ChurnClassifier:
    text = json.dumps(model.to_dict(), allow_nan=False)
    return ChurnClassifier.from_dict(json.loads(text))


@pytest.mark.parametrize("calibration", ["isotonic", "sigmoid", None])
def test_round_trip_predicts_exactly(tables: Any, calibration: str | None) -> None:
    X, y, X2 = tables
    model = ChurnClassifier(model="hgb", max_iter=60, calibration=calibration, cv=3).fit(X, y)
    again = _round_trip(model)
    assert X2["region"].isin(["Atlantis"]).any() and X2["region"].isna().any()
    np.testing.assert_array_equal(again.predict_proba(X2), model.predict_proba(X2))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    pd.testing.assert_series_equal(again.predict_churn(X2), model.predict_churn(X2))
    assert again.categorical_features_ == model.categorical_features_
    assert again.get_params() == model.get_params()
    # a rebuilt model exports the same JSON again
    assert again.to_dict() == json.loads(json.dumps(model.to_dict()))


def test_round_trip_of_a_model_fitted_on_numbers(tables: Any) -> None:
    X, y, X2 = tables
    numbers = X.select_dtypes("number")
    model = ChurnClassifier(**HGB, max_iter=40).fit(numbers.to_numpy(), y)
    again = _round_trip(model)
    data = X2[numbers.columns].to_numpy()
    np.testing.assert_array_equal(again.predict_proba(data), model.predict_proba(data))
    assert not hasattr(again, "feature_names_in_")


def test_columns_are_taken_by_name(tables: Any, fitted: ChurnClassifier) -> None:
    _, _, X2 = tables
    again = _round_trip(fitted)
    shuffled = X2[list(reversed(X2.columns))]
    np.testing.assert_array_equal(again.predict_proba(shuffled), fitted.predict_proba(X2))


def test_logistic_has_no_export_yet(tables: Any) -> None:
    X, y, _ = tables
    model = ChurnClassifier(model="logistic").fit(X, y)
    with pytest.raises(ValueError, match="only ChurnClassifier\\(model='hgb'\\)"):
        model.to_dict()


def _first_split(booster: dict[str, Any]) -> int:
    return int(booster["nodes"]["is_leaf"].index(0))


def _edit(export: dict[str, Any], change: Any) -> dict[str, Any]:
    data = copy.deepcopy(export)
    change(data)
    return data


def _booster(data: dict[str, Any]) -> dict[str, Any]:
    booster: dict[str, Any] = data["members"][0]["booster"]
    return booster


def _set_node(field: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        b = _booster(data)
        b["nodes"][field][_first_split(b)] = value

    return change


def _categorical_split(data: dict[str, Any]) -> None:
    b = _booster(data)
    nodes = b["nodes"]
    i = _first_split(b)
    nodes["is_categorical"][i] = 1
    nodes["feature_idx"][i] = b["n_categorical"] + 1  # a numeric feature


@pytest.mark.parametrize(
    ("change", "reason", "text"),
    [
        (lambda d: d.update(model="BetaGeoModel"), "wrong_model", "not ChurnClassifier"),
        (lambda d: d.update(format_version=7), "bad_format_version", "format_version 7"),
        (lambda d: d.pop("members"), "missing_field", "members"),
        (lambda d: d.update(extra=1), "unknown_field", "extra"),
        (lambda d: d["hyperparameters"].update(cv="5"), "bad_parameter", "'cv'"),
        (lambda d: d["hyperparameters"].update(model="logistic"), "bad_parameter", "hgb"),
        (lambda d: d.update(feature_names=["a", "a"]), "bad_parameter", "feature_names"),
        (lambda d: d.update(members=[]), "bad_parameter", "members"),
        (lambda d: d["members"][0].update(calibrator=None), "bad_parameter", "calibration"),
        (_set_node("left", 10**7), "bad_parameter", "nodes.left"),
        (_set_node("right", 0), "bad_parameter", "nodes.right"),  # back to the root: a cycle
        (_set_node("feature_idx", 99), "bad_parameter", "nodes.feature_idx"),
        (_set_node("feature_idx", -1), "bad_parameter", "nodes.feature_idx"),
        (_set_node("num_threshold", None), "bad_parameter", "num_threshold"),
        (_set_node("is_leaf", 2), "bad_parameter", "is_leaf"),
        (_set_node("left", 1.5), "bad_parameter", "nodes.left"),
        (_set_node("left", True), "bad_parameter", "nodes.left"),
        (_categorical_split, "bad_parameter", "categorical"),
        (lambda d: _booster(d)["nodes"]["value"].__setitem__(-1, None), "bad_parameter", "leaf"),
        (lambda d: _booster(d).update(baseline="0.1"), "bad_parameter", "baseline"),
        (lambda d: _booster(d).update(tree_offsets=[0]), "bad_parameter", "tree_offsets"),
        (lambda d: _booster(d).update(kind="xgboost"), "bad_parameter", "kind"),
        (lambda d: _booster(d)["nodes"].pop("left"), "missing_field", "left"),
        (_set_node("count", -3), "bad_parameter", "nodes.count"),
        (lambda d: _booster(d)["nodes"]["count"].pop(), "bad_parameter", "nodes.count"),
        (
            lambda d: _booster(d)["codes"].update(region=[0.0, 1.0, 2.0, 999.0]),
            "bad_parameter",
            "codes of 'region'",
        ),
        (
            lambda d: _booster(d).update(known_bitsets=[[0] * 8]),
            "bad_parameter",
            "known_bitset",
        ),
        (
            lambda d: d["members"][0]["calibrator"].update(
                y=[2.0] * len(d["members"][0]["calibrator"]["y"])
            ),
            "bad_parameter",
            "calibrator y",
        ),
    ],
)
def test_hostile_exports_are_refused(
    fitted: ChurnClassifier, change: Any, reason: str, text: str
) -> None:
    data = _edit(fitted.to_dict(), change)
    with pytest.raises(InvalidModelError) as err:
        ChurnClassifier.from_dict(data)
    assert err.value.reason == reason
    assert text in str(err.value)


def test_not_json() -> None:
    with pytest.raises(InvalidModelError, match="not valid JSON"):
        ChurnClassifier.from_dict("{nope")
    with pytest.raises(InvalidModelError, match="JSON object"):
        ChurnClassifier.from_dict([1, 2])  # type: ignore[arg-type]


_JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.integers(-3, 300), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every leaf path of a JSON value (list items sampled to keep it small)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _paths(v, (*prefix, k))]
    if isinstance(value, list) and value:
        picks = sorted({0, len(value) // 2, len(value) - 1})
        return [p for i in picks for p in _paths(value[i], (*prefix, i))]
    return [prefix]


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fuzzed_exports_are_refused_or_score_in_range(
    fitted: ChurnClassifier, tables: Any, data: st.DataObject
) -> None:
    export = fitted.to_dict()
    paths = _paths(export)
    path = data.draw(st.sampled_from(paths))
    value = data.draw(_JSON_LEAVES)
    mutated = copy.deepcopy(export)
    target = mutated
    for key in path[:-1]:
        target = target[key]
    if path:
        target[path[-1]] = value
    try:
        model = ChurnClassifier.from_dict(mutated)
    except InvalidModelError:
        return
    proba = model.predict_proba(tables[2])
    assert proba.shape == (len(tables[2]), 2)
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    assert all(math.isfinite(v) for v in proba[:, 1])


def test_exports_leave_out_n_jobs_and_older_exports_still_load(tables: Any) -> None:
    X, y, X2 = tables
    model = ChurnClassifier(**HGB, max_iter=60, cv=3, n_jobs=2).fit(X, y)
    export = json.loads(json.dumps(model.to_dict()))
    assert "n_jobs" not in export["hyperparameters"]
    again = ChurnClassifier.from_dict(export)
    assert again.n_jobs is None  # how to run is the loader's choice
    np.testing.assert_array_equal(again.predict_proba(X2), model.predict_proba(X2))
    # An export written before max_samples existed: all customers were used.
    older = copy.deepcopy(export)
    del older["hyperparameters"]["max_samples"]
    old = ChurnClassifier.from_dict(older)
    assert old.max_samples is None and old.cv == 3
    np.testing.assert_array_equal(old.predict_proba(X2), model.predict_proba(X2))
    with_threads = copy.deepcopy(export)
    with_threads["hyperparameters"]["n_jobs"] = 2
    with pytest.raises(InvalidModelError, match="n_jobs") as err:
        ChurnClassifier.from_dict(with_threads)
    assert err.value.reason == "unknown_field"


@pytest.mark.parametrize("cv", ["auto", "holdout", 2, 10])
def test_every_cv_reads_back(fitted: ChurnClassifier, cv: Any) -> None:
    export = fitted.to_dict()
    export["hyperparameters"]["cv"] = cv
    assert ChurnClassifier.from_dict(export).cv == cv


@pytest.mark.parametrize("cv", [1, 2.0, "2", None, True])
def test_bad_cv_in_an_export_is_refused(fitted: ChurnClassifier, cv: Any) -> None:
    export = fitted.to_dict()
    export["hyperparameters"]["cv"] = cv
    with pytest.raises(InvalidModelError, match="'cv'") as err:
        ChurnClassifier.from_dict(export)
    assert err.value.reason == "bad_parameter"


def test_a_holdout_model_round_trips(tables: Any) -> None:
    X, y, X2 = tables
    model = ChurnClassifier(**HGB, max_iter=60, cv="holdout").fit(X, y)
    again = _round_trip(model)
    assert len(again.to_dict()["members"]) == 1
    np.testing.assert_array_equal(again.predict_proba(X2), model.predict_proba(X2))


# --- the default model, btyd_logistic (issue 17) ---------------------------------------------


@pytest.fixture(scope="module")
def stacked(tables: Any) -> ChurnClassifier:
    X, y, _ = tables
    return ChurnClassifier().fit(X, y)


@pytest.mark.parametrize("calibration", [None, "sigmoid", "isotonic"])
def test_btyd_logistic_round_trips(tables: Any, calibration: str | None) -> None:
    X, y, X2 = tables
    model = ChurnClassifier(calibration=calibration, cv=3).fit(X, y)
    export = json.loads(json.dumps(model.to_dict(), allow_nan=False))
    members = export["members"]
    assert len(members) == (1 if calibration is None else 3)
    stack = members[0]["btyd_logistic"]
    assert stack["kind"] == "btyd_logistic" and stack["horizon_days"] == 180.0
    assert stack["time_unit_days"] == 7.0
    assert set(stack["btyd"]["params"]) == {"r", "alpha", "a", "b"}
    assert stack["features"][0] == "p_no_purchase" and len(stack["coef"]) == 6
    again = ChurnClassifier.from_dict(export)
    assert again.horizon_ == model.horizon_ == 180.0
    # the same arithmetic as the fitted pipeline: bit for bit, as bundles promise
    np.testing.assert_array_equal(again.predict_proba(X2), model.predict_proba(X2))
    np.testing.assert_array_equal(again.predict(X2), model.predict(X2))
    assert again.get_params() == model.get_params()
    assert again.to_dict() == export
    # one customer scores as in the batch (nothing is refitted at scoring)
    one = again.predict_churn(X2.iloc[[3]]).iloc[0]
    assert one == pytest.approx(model.predict_churn(X2).iloc[3], abs=1e-12)


def test_btyd_logistic_follows_the_documented_formula(
    tables: Any, stacked: ChurnClassifier
) -> None:
    # what a CRM system computes from the export alone (docs/guarantees.md)
    from scipy.special import expit

    _, _, X2 = tables
    export = stacked.to_dict()
    m = export["members"][0]["btyd_logistic"]
    r, alpha, a, b = (m["btyd"]["params"][k] for k in ("r", "alpha", "a", "b"))
    assert not m["btyd"]["dropout_test"]["boundary"]
    x = X2["frequency"].to_numpy(float)
    tx, T = X2["recency"].to_numpy(float) / 7, X2["T"].to_numpy(float) / 7
    h = m["horizon_days"] / m["time_unit_days"]
    odds = np.where(
        x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + tx)) ** (r + x), 0
    )
    alive = 1 / (1 + odds)
    p0 = 1 - alive * (1 - ((alpha + T) / (alpha + T + h)) ** (r + x))
    p0 = np.clip(p0, 1e-9, 1 - 1e-9)
    z = [np.log(p0 / (1 - p0))]
    for k, name in enumerate(m["features"][1:]):
        v = X2[name].to_numpy(float)
        v = np.where(np.isnan(v), m["medians"][k], v)
        z.append(np.sign(v) * np.log1p(np.abs(v)))
    Z = np.column_stack(z)
    log_odds = m["intercept"] + ((Z - m["mean"]) / m["scale"]) @ np.asarray(m["coef"])
    np.testing.assert_allclose(expit(log_odds), stacked.predict_churn(X2), rtol=1e-9, atol=1e-12)


def test_btyd_logistic_with_string_labels_round_trips(tables: Any) -> None:
    X, y, X2 = tables
    words = np.where(y == 1, "churned", "active")
    model = ChurnClassifier().fit(X, words)
    again = _round_trip(model)
    assert again.classes_.tolist() == ["active", "churned"] and again.pos_label_ == "churned"
    np.testing.assert_array_equal(again.predict(X2), model.predict(X2))


def _stack(data: dict[str, Any]) -> dict[str, Any]:
    stack: dict[str, Any] = data["members"][0]["btyd_logistic"]
    return stack


@pytest.mark.parametrize(
    ("change", "reason", "text"),
    [
        (lambda d: _stack(d).update(kind="xgboost"), "bad_parameter", "kind"),
        (lambda d: _stack(d).pop("coef"), "missing_field", "coef"),
        (lambda d: _stack(d).update(extra=1), "unknown_field", "extra"),
        (lambda d: _stack(d).update(coef=[1.0] * 5), "bad_parameter", "coef"),
        (lambda d: _stack(d)["coef"].__setitem__(2, None), "bad_parameter", "coef"),
        (lambda d: _stack(d)["coef"].__setitem__(2, "1"), "bad_parameter", "coef"),
        (lambda d: _stack(d)["mean"].__setitem__(0, float("inf")), "bad_parameter", "mean"),
        (lambda d: _stack(d)["scale"].__setitem__(1, 0.0), "bad_parameter", "scale"),
        (lambda d: _stack(d)["scale"].__setitem__(1, -2.0), "bad_parameter", "scale"),
        (lambda d: _stack(d).update(medians=[1.0, 2.0]), "bad_parameter", "medians"),
        (lambda d: _stack(d).update(intercept=float("nan")), "bad_parameter", "intercept"),
        (lambda d: _stack(d).update(intercept=True), "bad_parameter", "intercept"),
        (lambda d: _stack(d).update(horizon_days=0), "bad_parameter", "horizon_days"),
        (lambda d: _stack(d).update(horizon_days="90"), "bad_parameter", "horizon_days"),
        (lambda d: _stack(d).update(time_unit_days=1.0), "bad_parameter", "time_unit_days"),
        (lambda d: _stack(d).update(features=["a"] * 6), "bad_parameter", "features"),
        (lambda d: _stack(d)["btyd"]["params"].update(r=-1.0), "bad_parameter", "'r'"),
        (lambda d: _stack(d)["btyd"]["params"].pop("a"), "missing_field", "a"),
        (lambda d: _stack(d)["btyd"].update(model="NBDModel"), "wrong_model", "BetaGeoModel"),
        (lambda d: _stack(d).update(btyd=[1, 2]), "bad_parameter", "btyd"),
        (lambda d: d.update(feature_names=d["feature_names"][1:]), "bad_parameter", "feature"),
        (lambda d: d["hyperparameters"].update(model="hgb"), "bad_parameter", "model"),
        (lambda d: d["hyperparameters"].update(horizon=-5), "bad_parameter", "horizon"),
        (lambda d: d["members"][0].update(booster={}), "unknown_field", "booster"),
        (
            lambda d: d["members"][0].update(calibrator={"method": "sigmoid"}),
            "missing_field",
            "calibrator",
        ),
    ],
)
def test_hostile_btyd_logistic_exports_are_refused(
    stacked: ChurnClassifier, change: Any, reason: str, text: str
) -> None:
    data = _edit(stacked.to_dict(), change)
    with pytest.raises(InvalidModelError) as err:
        ChurnClassifier.from_dict(data)
    assert err.value.reason == reason
    assert text in str(err.value)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fuzzed_btyd_logistic_exports_are_refused_or_score_in_range(
    stacked: ChurnClassifier, tables: Any, data: st.DataObject
) -> None:
    export = stacked.to_dict()
    path = data.draw(st.sampled_from(_paths(export)))
    value = data.draw(_JSON_LEAVES)
    mutated = copy.deepcopy(export)
    target = mutated
    for key in path[:-1]:
        target = target[key]
    if path:
        target[path[-1]] = value
    try:
        model = ChurnClassifier.from_dict(mutated)
    except InvalidModelError:
        return
    if path[0] == "feature_names" and set(model.feature_names_in_) - set(tables[2].columns):
        # a renamed column the stack does not read: a valid model of other columns, which
        # says so when it is given this table
        with pytest.raises(SchemaError, match="lacks columns") as err:
            model.predict_proba(tables[2])
        assert err.value.reason == "missing_column"
        return
    proba = model.predict_proba(tables[2])
    assert proba.shape == (len(tables[2]), 2)
    assert np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all()


def test_old_hgb_exports_still_load_under_the_new_default(tables: Any) -> None:
    # an hgb export from before the default changed: its hyperparameters name the model
    # and calibration, and older ones lack pos_label, horizon and node counts
    X, y, X2 = tables
    model = ChurnClassifier(**HGB, max_iter=40, cv=2).fit(X, y)
    export = json.loads(json.dumps(model.to_dict()))
    old = copy.deepcopy(export)
    for name in ("pos_label", "horizon", "max_samples"):
        del old["hyperparameters"][name]
    del old["classes"], old["churn_label"]
    for member in old["members"]:
        del member["booster"]["nodes"]["count"]
    loaded = ChurnClassifier.from_dict(old)
    assert (loaded.model, loaded.calibration) == ("hgb", "isotonic")
    assert loaded.horizon is None and not hasattr(loaded, "horizon_")
    np.testing.assert_array_equal(loaded.predict_proba(X2), model.predict_proba(X2))
