"""``CrossSellRecommender.from_dict`` reads exports from anyone, so it refuses what to_dict never
writes.

Hand-written cases cover every reason code; hypothesis then mutates a valid
export (one random leaf replaced by a random JSON value, a key dropped or
added) and checks that ``from_dict`` either refuses it with an
``InvalidModelError`` or returns a recommender whose recommendations are sound.
"""

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

from custintel.basket import RECOMMENDATION_COLUMNS, CrossSellRecommender
from custintel.exceptions import InvalidModelError

from .._json_fuzz import json_paths, json_values

# milk 4, bread 4, butter 3, jam 1 of 6 baskets; at min_support 0.3 and min_confidence 0.5 the
# rules are bread -> milk, milk -> bread (3/4), butter -> bread, butter -> milk (2/3),
# bread -> butter and milk -> butter (2/4).
BASKETS_6 = [
    ["milk", "bread"],
    ["milk", "bread", "butter"],
    ["milk", "butter"],
    ["bread", "butter"],
    ["milk", "bread"],
    ["jam"],
]
# Every kind of query: known items, an unknown one, nothing, everything.
QUERIES = [["bread"], ["butter", "jam"], [], ["tea"], ["milk", "bread", "butter", "jam"]]


@pytest.fixture(scope="module")
def fitted() -> CrossSellRecommender:
    return CrossSellRecommender(min_support=0.3, min_confidence=0.5).fit(BASKETS_6)


@pytest.fixture(scope="module")
def export(fitted: CrossSellRecommender) -> dict[str, Any]:
    return json.loads(json.dumps(fitted.to_dict(), allow_nan=False))


@pytest.fixture
def data(export: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the export for one test to change."""
    return copy.deepcopy(export)


def _reason(data: Any) -> str:
    with pytest.raises(InvalidModelError) as info:
        CrossSellRecommender.from_dict(data)
    assert isinstance(info.value, ValueError)  # callers catching ValueError still work
    return info.value.reason


def test_round_trip_is_exact(fitted: CrossSellRecommender, export: dict[str, Any]) -> None:
    text = json.dumps(export, allow_nan=False)
    for restored in (
        CrossSellRecommender.from_dict(json.loads(text)),
        CrossSellRecommender.from_dict(text),
    ):
        pd.testing.assert_frame_equal(restored.rules_, fitted.rules_)
        pd.testing.assert_series_equal(restored.item_support_, fitted.item_support_)
        pd.testing.assert_frame_equal(
            restored.recommend(QUERIES, n=3), fitted.recommend(QUERIES, n=3)
        )
        assert restored.to_dict() == export


def test_round_trip_of_numeric_labels_and_infinite_conviction() -> None:
    baskets = [[1, 2], [1, 2], [1, 2, 3.5], [3.5, "x"], [1]]
    model = CrossSellRecommender(min_support=0.2, min_confidence=0.1).fit(baskets)
    export = model.to_dict()
    assert None in export["rules"]["conviction"]  # confidence 1: infinite conviction
    restored = CrossSellRecommender.from_dict(json.dumps(export, allow_nan=False))
    pd.testing.assert_frame_equal(restored.rules_, model.rules_)
    pd.testing.assert_frame_equal(restored.recommend([[2], [3.5]]), model.recommend([[2], [3.5]]))


def test_rules_and_items_in_another_order_are_sorted_again(
    fitted: CrossSellRecommender, data: dict[str, Any]
) -> None:
    rules = data["rules"]
    for column in rules.values():
        column.reverse()
    order = list(reversed(range(len(data["items"]))))
    data["item_support"] = [data["item_support"][i] for i in order]
    data["items"] = [data["items"][i] for i in order]
    recode = {old: new for new, old in enumerate(order)}
    for side in ("antecedents", "consequents"):
        rules[side] = [[recode[c] for c in codes] for codes in rules[side]]
    restored = CrossSellRecommender.from_dict(data)
    # Best first again (ties may come in another order than in the fitted model).
    assert (np.diff(restored.rules_["confidence"].to_numpy()) <= 0).all()
    assert (np.diff(restored.item_support_.to_numpy()) <= 0).all()
    key = ["antecedents", "consequents", "confidence", "lift"]
    assert sorted(map(tuple, restored.rules_[key].to_numpy().tolist())) == sorted(
        map(tuple, fitted.rules_[key].to_numpy().tolist())
    )
    assert restored.recommend([["bread"]], n=2)["item_id"].tolist() == ["milk", "butter"]


# --- one case per reason code --------------------------------------------------------------


def test_not_an_export() -> None:
    values: list[Any] = [[], 3, None, ("format", "x")]
    for value in values:
        assert _reason(value) == "wrong_model"
    for text in ("", "{", "nope", '{"format": NaN'):
        assert _reason(text) == "wrong_model"
    assert _reason({}) == "missing_field"


def test_wrong_format(data: dict[str, Any]) -> None:
    names: list[Any] = ["something else", "custintel.CLVModel", "CrossSellRecommender", None, 1, []]
    for name in names:
        with pytest.raises(InvalidModelError, match="not a CrossSellRecommender export") as info:
            CrossSellRecommender.from_dict({**data, "format": name})
        assert info.value.reason == "wrong_model"


def test_format_version(data: dict[str, Any]) -> None:
    for version in (0, 2, "1", 1.5, True, None):
        with pytest.raises(InvalidModelError, match="field 'version'") as info:
            CrossSellRecommender.from_dict({**data, "version": version})
        assert info.value.reason == "bad_format_version"
    del data["version"]
    assert _reason(data) == "missing_field"


def test_missing_and_unknown_fields(data: dict[str, Any]) -> None:
    for field in ("params", "n_baskets", "items", "item_support", "rules"):
        with pytest.raises(InvalidModelError, match=f"field '{field}' is missing") as info:
            CrossSellRecommender.from_dict({k: v for k, v in data.items() if k != field})
        assert info.value.reason == "missing_field"
    assert _reason({**data, "extra": 1}) == "unknown_field"
    for name in ("min_support", "schema"):
        params = {k: v for k, v in data["params"].items() if k != name}
        assert _reason({**data, "params": params}) == "missing_field"
    assert _reason({**data, "params": {**data["params"], "n_jobs": 2}}) == "unknown_field"
    rules = data["rules"]
    for column in ("antecedents", "consequents", "confidence", "lift", "conviction"):
        short = {k: v for k, v in rules.items() if k != column}
        with pytest.raises(InvalidModelError, match=f"'rules.{column}' is missing"):
            CrossSellRecommender.from_dict({**data, "rules": short})
        assert _reason({**data, "rules": short}) == "missing_field"
    assert _reason({**data, "rules": {**rules, "score": rules["lift"]}}) == "unknown_field"


@pytest.mark.parametrize(
    "change",
    [
        {"min_support": 0},
        {"min_support": 1.5},
        {"min_support": "0.3"},
        {"min_support": math.nan},
        {"min_confidence": -0.1},
        {"min_confidence": True},
        {"max_len": 1},
        {"max_len": 2.5},
        {"max_len": "3"},
        {"rank_by": "support"},
        {"rank_by": None},
        {"level": "basket"},
        {"max_itemsets": 0},
        {"max_itemsets": "many"},
        {"schema": "item_id"},
        {"schema": {"product": "sku"}},
        {"schema": {"item_id": 7}},
        {"schema": {"item_id": ""}},
    ],
    ids=repr,
)
def test_bad_params(change: dict[str, Any], data: dict[str, Any]) -> None:
    with pytest.raises(InvalidModelError, match="params: ") as info:
        CrossSellRecommender.from_dict({**data, "params": {**data["params"], **change}})
    assert info.value.reason == "bad_parameter"


def test_valid_params_are_kept(data: dict[str, Any]) -> None:
    changes = {"rank_by": "lift", "max_len": None, "schema": {"item_id": "sku"}}
    model = CrossSellRecommender.from_dict({**data, "params": {**data["params"], **changes}})
    assert model.rank_by == "lift" and model.max_len is None
    assert model.schema == {"item_id": "sku"}
    lift = model.rules_["lift"].to_numpy()
    assert (np.diff(lift) <= 0).all()  # ranked by lift now


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_baskets", 0, "n_baskets"),
        ("n_baskets", 6.0, "n_baskets"),
        ("n_baskets", True, "n_baskets"),
        ("n_baskets", "6", "n_baskets"),
        ("items", "milk", "items"),
        ("items", ["bread", "milk", "butter", None], r"items\[3\]"),
        ("items", ["bread", "milk", "butter", ["jam"]], r"items\[3\]"),
        ("items", ["bread", "milk", "butter", math.nan], r"items\[3\]"),
        ("items", ["bread", "milk", "butter", "milk"], "listed twice"),
        ("item_support", [0.5, 0.5, 0.5], "it must have 4"),
        ("item_support", [0.7, 0.7, 0.5, 1.5], r"item_support\[3\]' is 1.5"),
        ("item_support", [0.7, 0.7, 0.5, -0.1], r"item_support\[3\]"),
        ("item_support", [0.7, 0.7, 0.5, None], r"item_support\[3\]"),
        ("item_support", [0.7, 0.7, 0.5, "0.1"], r"item_support\[3\]"),
        ("item_support", [0.7, 0.7, 0.5, math.inf], r"item_support\[3\]"),
        ("rules", [], "rules"),
    ],
    ids=repr,
)
def test_bad_fields(field: str, value: Any, message: str, data: dict[str, Any]) -> None:
    with pytest.raises(InvalidModelError, match=message) as info:
        CrossSellRecommender.from_dict({**data, field: value})
    assert info.value.reason == "bad_parameter"


@pytest.mark.parametrize(
    ("side", "codes", "message"),
    [
        ("antecedents", [], "non-empty list of distinct"),
        ("antecedents", [0, 0], "non-empty list of distinct"),
        ("antecedents", [4], r"an item code in rules.antecedents\[0\] is 4"),
        ("antecedents", [-1], "a position in 'items'"),
        ("antecedents", ["bread"], "a position in 'items'"),
        ("antecedents", [0.0], "a position in 'items'"),
        ("antecedents", [True], "a position in 'items'"),
        ("antecedents", [10**400], "a position in 'items'"),
        ("antecedents", 0, "must be a list"),
        ("consequents", [], "one item code"),
        ("consequents", [1, 2], "one item code"),
        ("consequents", [None], "a position in 'items'"),
    ],
    ids=repr,
)
def test_bad_rule_items(side: str, codes: Any, message: str, data: dict[str, Any]) -> None:
    data["rules"][side][0] = codes
    with pytest.raises(InvalidModelError, match=message) as info:
        CrossSellRecommender.from_dict(data)
    assert info.value.reason == "bad_parameter"


def test_a_consequent_inside_its_antecedent_is_refused(data: dict[str, Any]) -> None:
    data["rules"]["consequents"][0] = list(data["rules"]["antecedents"][0])
    assert _reason(data) == "bad_parameter"
    data = copy.deepcopy(data)
    data["rules"]["antecedents"].append([0])  # one more antecedent than consequents
    with pytest.raises(InvalidModelError, match="it must have"):
        CrossSellRecommender.from_dict(data)


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("support", 1.5),
        ("support", -0.5),
        ("confidence", 1.01),
        ("confidence", None),
        ("antecedent_support", 2.0),
        ("consequent_support", -1.0),
        ("lift", -0.1),
        ("lift", math.inf),
        ("lift", None),
        ("leverage", 0.3),
        ("leverage", -0.3),
        ("conviction", -1.0),
        ("conviction", -math.inf),
        ("zhangs_metric", 1.5),
        ("jaccard", 1.2),
        ("certainty", 1.5),
        ("certainty", -math.inf),
        ("kulczynski", -0.1),
        ("confidence", math.nan),
        ("confidence", "0.5"),
        ("confidence", True),
        ("confidence", [0.5]),
    ],
    ids=repr,
)
def test_bad_metric_values(metric: str, value: Any, data: dict[str, Any]) -> None:
    data["rules"][metric][0] = value
    with pytest.raises(InvalidModelError, match=rf"rules\.{metric}\[0\]' is") as info:
        CrossSellRecommender.from_dict(data)
    assert info.value.reason == "bad_parameter"
    assert "it must be a finite number" in str(info.value)


def test_metric_columns_of_the_wrong_length_or_type(data: dict[str, Any]) -> None:
    data["rules"]["lift"] = data["rules"]["lift"][:-1]
    with pytest.raises(InvalidModelError, match=r"rules\.lift' has 5 entries; it must have 6"):
        CrossSellRecommender.from_dict(data)
    data["rules"]["lift"] = {"0": 1.0}
    assert _reason(data) == "bad_parameter"


def test_in_range_metric_values_load(data: dict[str, Any]) -> None:
    # certainty can be far below 0, leverage reaches -0.25, conviction is null for infinity
    data["rules"]["certainty"][0] = -1e6
    data["rules"]["leverage"][0] = -0.25
    data["rules"]["conviction"][0] = None
    model = CrossSellRecommender.from_dict(data)
    assert np.isinf(model.rules_["conviction"]).sum() == 1


def test_the_message_names_the_field_the_value_the_domain_and_the_fix(
    data: dict[str, Any],
) -> None:
    data["rules"]["confidence"][2] = 1.5
    with pytest.raises(InvalidModelError) as info:
        CrossSellRecommender.from_dict(data)
    assert str(info.value) == (
        "CrossSellRecommender export: field 'rules.confidence[2]' is 1.5; it must be a finite "
        "number in [0, 1]; re-export the model with to_dict() from a fitted model"
    )


# --- fuzzing: mutated exports load as sound recommenders or fail with InvalidModelError -----

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-5, 10)
    | st.integers(-(10**30), 10**30)
    | st.sampled_from([10**400, 0.0, -0.0, 1.0, 0.5, 1e-320, 1e308, math.nan, math.inf, -math.inf])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(0.0, 1.0)  # in range for most metrics
    | st.text(max_size=6)
    | st.sampled_from(["milk", "bread", "jam", "confidence", "lift", "order", "customer"])
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
        return st.sampled_from(
            [
                "milk",
                "bread",
                "butter",
                "jam",
                "tea",
                "confidence",
                "lift",
                "order",
                "customer",
                "item_id",
            ]
        )
    return JSON_VALUES


@st.composite
def mutated(draw: Any, export: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``export`` with one or two positions replaced, deleted, or a key added."""
    data = copy.deepcopy(export)
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(json_paths(data)))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON_VALUES | _like(parent[path[-1]]))
        elif action == "delete":
            del parent[path[-1]]  # a key of an object, or an entry of a list
        else:
            key = draw(st.text(max_size=6))
            if isinstance(parent, dict):
                parent[key] = draw(JSON_VALUES)
            else:
                parent.append(draw(JSON_VALUES))
    return data


def _check_loaded(model: CrossSellRecommender) -> None:
    """A recommender that from_dict accepted recommends soundly and re-exports exactly."""
    for n in (1, 3):
        out = model.recommend(QUERIES, n=n)
        assert list(out.columns) == list(RECOMMENDATION_COLUMNS)
        assert out["rank"].between(1, n).all()
        assert np.isfinite(out["score"]).all() and (out["score"] >= 0).all()
        from_rule = out["source"] == "rule"
        assert out.loc[from_rule, "confidence"].between(0, 1).all()
        assert (out.loc[from_rule, "lift"] >= 0).all()
        for basket, group in out.groupby(level=0):
            held = set(QUERIES[basket])
            assert not held & set(group["item_id"]), (held, group)  # never what is held
            assert group["item_id"].is_unique
    again = json.dumps(model.to_dict(), allow_nan=False)
    assert CrossSellRecommender.from_dict(again).to_dict() == model.to_dict()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_exports_load_sound_recommenders_or_raise_invalid_model_error(
    data: Any, export: dict[str, Any]
) -> None:
    candidate = data.draw(mutated(export))
    as_text = data.draw(st.booleans())
    try:
        model = CrossSellRecommender.from_dict(json.dumps(candidate) if as_text else candidate)
    except InvalidModelError:
        return
    _check_loaded(model)
