"""The JSON export of EarlyLifeValueModel: exact round trips, and hostile exports refused."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custintel.acquisition import EarlyLifeValueModel
from custintel.exceptions import InvalidModelError

#: Any JSON value a hostile export may hold, infinities and NaN included (json reads them).
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def _table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age_days": rng.choice([0.0, 7.0, 30.0], n),
            "first_amount": rng.gamma(2.0, 20.0, n),
            "first_items": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 5, n)),
            "never": np.nan,  # a column with no value: left out of the trees
            "channel": pd.Categorical(rng.choice(["web", "shop", "phone"], n)),
        }
    )
    rate = X["first_amount"] / 20 * np.where(X["channel"] == "web", 2.0, 1.0)
    return X, rng.poisson(rate.to_numpy()) * 10.0


@pytest.fixture(scope="module")
def fitted() -> tuple[EarlyLifeValueModel, pd.DataFrame]:
    X, y = _table(3000, 0)
    model = EarlyLifeValueModel(max_iter=40, min_samples_leaf=20).fit(X, y)
    test, _ = _table(500, 1)
    test["channel"] = test["channel"].astype(object).where(test.index % 9 != 0, "fax")
    test["channel"] = test["channel"].astype("category")  # "fax" was never seen in fit
    return model, test


def test_round_trip_predicts_the_same_values(
    fitted: tuple[EarlyLifeValueModel, pd.DataFrame],
) -> None:
    model, test = fitted
    export = json.loads(json.dumps(model.to_dict(), allow_nan=False))
    again = EarlyLifeValueModel.from_dict(export)
    np.testing.assert_allclose(again.predict(test), model.predict(test), rtol=1e-12, atol=0)
    assert again.predict(test).name == "early_life_value"
    assert again.columns_used_ == model.columns_used_ and "never" not in again.columns_used_
    assert again.categories_ == {"channel": ["phone", "shop", "web"]}
    assert again.to_dict() == export  # an imported model exports itself unchanged
    assert "n_jobs" not in export["hyperparameters"]
    assert EarlyLifeValueModel.from_dict(json.dumps(export)).max_iter == 40  # JSON text too


def test_the_prediction_is_exp_of_the_raw_score(
    fitted: tuple[EarlyLifeValueModel, pd.DataFrame],
) -> None:
    model, test = fitted
    again = EarlyLifeValueModel.from_dict(model.to_dict())
    frame = test[model.columns_used_]
    raw = again.estimator_.booster.raw(frame)  # type: ignore[attr-defined]
    np.testing.assert_allclose(np.exp(raw), model.predict(test), rtol=1e-12)


def _edit(export: dict[str, Any], change: Any) -> dict[str, Any]:
    data = copy.deepcopy(export)
    change(data)
    return data


def _first_split(data: dict[str, Any]) -> int:
    return int(data["booster"]["nodes"]["is_leaf"].index(0))


def _set_node(field: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        data["booster"]["nodes"][field][_first_split(data)] = value

    return change


def _categorical_bitset(data: dict[str, Any]) -> None:
    nodes = data["booster"]["nodes"]
    split = [
        i
        for i, (leaf, cat) in enumerate(zip(nodes["is_leaf"], nodes["is_categorical"], strict=True))
        if not leaf and cat
    ]
    nodes["bitset_idx"][split[0]] = 5  # the channel splits on bitset 0 of their tree


@pytest.mark.parametrize(
    ("change", "reason", "text"),
    [
        (lambda d: d.update(model="ChurnClassifier"), "wrong_model", "not EarlyLifeValueModel"),
        (lambda d: d.update(format_version=2), "bad_format_version", "format_version 2"),
        (lambda d: d.pop("booster"), "missing_field", "booster"),
        (lambda d: d.update(extra=1), "unknown_field", "extra"),
        (lambda d: d["hyperparameters"].update(max_iter=0), "bad_parameter", "max_iter"),
        (lambda d: d["hyperparameters"].update(learning_rate="fast"), "bad_parameter", "learning"),
        (lambda d: d["hyperparameters"].update(learning_rate=math.nan), "bad_parameter", "rate"),
        (lambda d: d.update(feature_names=["a", "a"]), "bad_parameter", "feature_names"),
        (lambda d: d.update(columns_used=["nope"]), "bad_parameter", "columns_used"),
        (lambda d: d["categories"].update(channel=[None]), "bad_parameter", "categories.channel"),
        (lambda d: d["categories"].update(channel=[math.nan]), "bad_parameter", "channel"),
        (lambda d: d.update(link="identity"), "bad_parameter", "link"),
        (_set_node("left", 10**7), "bad_parameter", "nodes.left"),
        (_set_node("right", 0), "bad_parameter", "nodes.right"),  # back to the root: a cycle
        (_set_node("feature_idx", 99), "bad_parameter", "nodes.feature_idx"),
        (_set_node("feature_idx", -1), "bad_parameter", "nodes.feature_idx"),
        (_set_node("num_threshold", None), "bad_parameter", "num_threshold"),
        (_set_node("num_threshold", math.nan), "bad_parameter", "num_threshold"),
        (_set_node("left", "1"), "bad_parameter", "nodes.left"),
        (_set_node("left", 1.5), "bad_parameter", "nodes.left"),
        (_set_node("is_leaf", 2), "bad_parameter", "is_leaf"),
        (_categorical_bitset, "bad_parameter", "bitset_idx"),
        (lambda d: d["booster"]["nodes"]["value"].__setitem__(-1, None), "bad_parameter", "leaf"),
        (lambda d: d["booster"].update(baseline=math.inf), "bad_parameter", "baseline"),
        (lambda d: d["booster"].update(baseline=1e6), "bad_parameter", "exp of more overflows"),
        (lambda d: d["booster"].update(baseline="0.1"), "bad_parameter", "baseline"),
        (lambda d: d["booster"].update(tree_offsets=[0]), "bad_parameter", "tree_offsets"),
        (lambda d: d["booster"].update(n_categorical=True), "bad_parameter", "n_categorical"),
        (lambda d: d["booster"].update(n_categorical=0), "bad_parameter", "categor"),
        (
            lambda d: d["booster"]["codes"].update(channel=[0.0, 1.0, 999.0]),
            "bad_parameter",
            "codes",
        ),
        (lambda d: d["booster"].update(known_bitsets=[]), "bad_parameter", "known_bitset"),
        (lambda d: d["booster"].update(left_bitsets=[[0] * 7]), "bad_parameter", "left_bitsets"),
        (lambda d: d["booster"].update(features=["age_days"]), "bad_parameter", "features"),
        (lambda d: d["booster"]["nodes"].pop("left"), "missing_field", "left"),
    ],
)
def test_hostile_exports_are_refused(
    fitted: tuple[EarlyLifeValueModel, pd.DataFrame], change: Any, reason: str, text: str
) -> None:
    data = _edit(fitted[0].to_dict(), change)
    with pytest.raises(InvalidModelError) as err:
        EarlyLifeValueModel.from_dict(data)
    assert err.value.reason == reason
    assert text in str(err.value)
    assert "EarlyLifeValueModel export" in str(err.value)


def test_text_that_is_not_an_export_is_refused() -> None:
    with pytest.raises(InvalidModelError, match="not valid JSON"):
        EarlyLifeValueModel.from_dict("{nope")
    with pytest.raises(InvalidModelError, match="JSON object"):
        EarlyLifeValueModel.from_dict([1, 2])  # type: ignore[arg-type]


def test_a_split_on_missing_or_not_keeps_its_infinite_threshold() -> None:
    # x is missing or 5.0: the best split sends every known value left, at threshold inf,
    # which JSON cannot write as a number (the churn export shares this code).
    rng = np.random.default_rng(0)
    x = np.where(rng.random(2000) < 0.5, np.nan, 5.0)
    X = pd.DataFrame({"x": x, "z": rng.random(2000)})
    y = rng.poisson(np.where(np.isnan(x), 1.0, 5.0)).astype(float)
    model = EarlyLifeValueModel(max_iter=10).fit(X, y)
    export = json.loads(json.dumps(model.to_dict(), allow_nan=False))
    assert "inf" in export["booster"]["nodes"]["num_threshold"]
    again = EarlyLifeValueModel.from_dict(export)
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


def _leaves(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Positions in an export, long node arrays sampled (first, middle, last)."""
    if isinstance(value, dict):
        return [(*prefix, k) for k in value] + [
            p for k, v in value.items() for p in _leaves(v, (*prefix, k))
        ]
    if isinstance(value, list) and len(value) > 3:
        picks = sorted({0, len(value) // 2, len(value) - 1})
        return [p for i in picks for p in [(*prefix, i), *_leaves(value[i], (*prefix, i))]]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in [(*prefix, i), *_leaves(v, (*prefix, i))]]
    return []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_exports_are_refused_or_predict_without_crashing(
    fitted: tuple[EarlyLifeValueModel, pd.DataFrame], data: st.DataObject
) -> None:
    model, test = fitted
    export = model.to_dict()
    path = data.draw(st.sampled_from(_leaves(export)))
    mutated = copy.deepcopy(export)
    target: Any = mutated
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(_VALUES)
    try:
        again = EarlyLifeValueModel.from_dict(mutated)
    except InvalidModelError:
        return
    values = again.predict(test).to_numpy()
    assert values.shape == (len(test),)
    assert np.isfinite(values).all() and (values >= 0).all()  # exp of a bounded raw score
