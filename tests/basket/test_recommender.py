"""CrossSellRecommender: hand-computed recommendations, fallback, evaluation, persistence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from custintel import SchemaError
from custintel.basket import RECOMMENDATION_COLUMNS, CrossSellRecommender
from custintel.datasets import make_transactions

from ._helpers import BASKETS

# Six baskets: milk 4, bread 4, butter 3, jam 1; milk+bread 3, milk+butter 2, bread+butter 2,
# all three 1 (below a count of 2).
BASKETS_6 = [
    ["milk", "bread"],
    ["milk", "bread", "butter"],
    ["milk", "butter"],
    ["bread", "butter"],
    ["milk", "bread"],
    ["jam"],
]


@pytest.fixture
def model() -> CrossSellRecommender:
    # min_support 0.3 of 6 is a count of 2; rules with confidence >= 0.5:
    # bread -> milk 3/4, milk -> bread 3/4, butter -> bread 2/3, butter -> milk 2/3,
    # bread -> butter 2/4, milk -> butter 2/4.
    return CrossSellRecommender(min_support=0.3, min_confidence=0.5).fit(BASKETS_6)


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return make_transactions(1500, random_state=0).transactions


def test_rules_and_popularity(model: CrossSellRecommender) -> None:
    rules = model.rules_
    assert list(zip(rules["antecedents"], rules["consequents"], strict=True)) == [
        (("bread",), ("milk",)),
        (("milk",), ("bread",)),
        (("butter",), ("bread",)),
        (("butter",), ("milk",)),
        (("bread",), ("butter",)),
        (("milk",), ("butter",)),
    ]
    np.testing.assert_allclose(rules["confidence"], [0.75, 0.75, 2 / 3, 2 / 3, 0.5, 0.5])
    # supports 4/6, 4/6, 3/6, 1/6: most popular first, ties in item order
    assert model.item_support_.index.tolist() == ["bread", "milk", "butter", "jam"]
    np.testing.assert_allclose(model.item_support_, [4 / 6, 4 / 6, 3 / 6, 1 / 6])
    assert model.n_baskets_ == 6


def test_recommend_hand_computed(model: CrossSellRecommender) -> None:
    found = model.recommend([["bread"], ["butter", "jam"], ["jam"]], n=3)
    assert list(found.columns) == list(RECOMMENDATION_COLUMNS)
    assert found.index.name == "basket"
    # bread: milk (3/4) and butter (2/4) from rules, then jam by popularity
    first = found.loc[0]
    assert first["item_id"].tolist() == ["milk", "butter", "jam"]
    assert first["source"].tolist() == ["rule", "rule", "popularity"]
    np.testing.assert_allclose(first["score"], [0.75, 0.5, 1 / 6])
    assert first["rule"].tolist()[:2] == ["bread -> milk", "bread -> butter"]
    assert first["antecedents"].tolist() == [("bread",), ("bread",), ()]
    assert first["rank"].tolist() == [1, 2, 3]
    # butter + jam: bread and milk (2/3 each; tie broken by lift 1.0 = 1.0, then support)
    second = found.loc[1]
    assert second["item_id"].tolist() == ["bread", "milk"]
    np.testing.assert_allclose(second["lift"], [1.0, 1.0])
    # jam fires no rule: popularity only, never jam itself
    third = found.loc[2]
    assert third["item_id"].tolist() == ["bread", "milk", "butter"]
    assert (third["source"] == "popularity").all()
    assert third["confidence"].isna().all()


def test_recommend_keeps_purchased_when_asked(model: CrossSellRecommender) -> None:
    found = model.recommend([["bread", "milk"]], n=4, exclude_purchased=False)
    # bread -> milk 0.75 and milk -> bread 0.75 first, butter next (0.5), then jam
    assert found["item_id"].tolist() == ["milk", "bread", "butter", "jam"]


def test_recommend_input_shapes(model: CrossSellRecommender) -> None:
    expected = model.recommend([["bread"], ["jam"]], n=2)
    by_mapping = model.recommend({"ann": ["bread"], "bob": ["jam"]}, n=2)
    assert by_mapping.index.tolist() == ["ann", "ann", "bob", "bob"]
    assert by_mapping.index.name == "customer_id"
    assert by_mapping["item_id"].tolist() == expected["item_id"].tolist()
    series = pd.Series([["bread"], ["jam"]], index=pd.Index([7, 9], name="cust"))
    by_series = model.recommend(series, n=2)
    assert by_series.index.tolist() == [7, 7, 9, 9] and by_series.index.name == "cust"
    # unknown items fire nothing and are ignored
    unknown = model.recommend([["bread", "caviar"]], n=2)
    assert unknown["item_id"].tolist() == ["milk", "butter"]


def test_recommend_from_transactions_uses_the_whole_history(model: CrossSellRecommender) -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_id": [1, 2, 3],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-05"]),
            "item_id": ["bread", "milk", "butter"],
            "amount": [1.0, 1.0, 1.0],
        }
    )
    found = model.recommend(tx, n=2)
    # a holds bread and milk (two orders): butter from bread -> butter (0.5), then jam
    assert found.loc["a", "item_id"].tolist() == ["butter", "jam"]
    assert found.loc["b", "item_id"].tolist() == ["bread", "milk"]
    assert found.index.name == "customer_id"


def test_fit_on_transactions_and_levels(simulated: pd.DataFrame) -> None:
    orders = CrossSellRecommender(min_support=0.01).fit(simulated)
    bundle_rules = orders.rules_[orders.rules_["lift"] > 5]
    assert len(bundle_rules) > 0
    customers = CrossSellRecommender(min_support=0.05, level="customer").fit(simulated)
    assert customers.n_baskets_ == simulated["customer_id"].nunique()
    baskets = simulated.groupby("order_id", observed=True)["item_id"].agg(list)
    owners = simulated.groupby("order_id", observed=True)["customer_id"].first()
    from_lists = CrossSellRecommender(min_support=0.05, level="customer").fit(
        [[str(i) for i in b] for b in baskets], customer_ids=owners.to_numpy()
    )
    pd.testing.assert_frame_equal(from_lists.rules_, customers.rules_)
    pd.testing.assert_series_equal(from_lists.item_support_, customers.item_support_)


def test_evaluation_beats_popularity_on_planted_bundles(simulated: pd.DataFrame) -> None:
    model = CrossSellRecommender(min_support=0.005, min_confidence=0.1)
    report = model.evaluate(simulated, calibration_end="2024-03-31", k=5)
    assert report.index.tolist() == ["rules", "popularity"]
    rules, popular = report.loc["rules"], report.loc["popularity"]
    for metric in ("hit_rate", "precision", "recall"):
        assert rules[metric] > popular[metric] + 0.05, metric
    assert rules["n_queries"] == popular["n_queries"] > rules["n_customers"] > 100
    assert report.attrs["k"] == 5 and report.attrs["n_rules"] > 0
    assert not hasattr(model, "rules_")  # evaluate fits a clone


def test_evaluation_hand_computed() -> None:
    # Calibration (up to Jan 15): bread + milk in orders 1 and 2, jam alone in 3, 5 and 6.
    # Supports: jam 3/5, bread 2/5, milk 2/5, bread + milk 2/5; rules bread <-> milk (conf 1).
    # Customer x's next order (4, in Feb) is bread, milk, butter; each item is held out:
    # - bread from {milk, butter}: milk -> bread recommends bread: hit; popularity: jam
    # - milk from {bread, butter}: bread -> milk: hit; popularity: jam
    # - butter from {bread, milk}: no rule gives a new item, so popularity tops up: jam.
    # Rules: 2 hits of 3, so hit rate 1, precision 2 / (k * 3) with k = 1, recall 2 / 3.
    # Popularity: no hit.
    tx = pd.DataFrame(
        {
            "customer_id": ["x", "x", "y", "y", "z", "v", "u", "x", "x", "x"],
            "order_id": [1, 1, 2, 2, 3, 5, 6, 4, 4, 4],
            "timestamp": pd.to_datetime(["2024-01-01"] * 7 + ["2024-02-01"] * 3),
            "item_id": [
                "bread",
                "milk",
                "bread",
                "milk",
                "jam",
                "jam",
                "jam",
                "bread",
                "milk",
                "butter",
            ],
            "amount": 1.0,
        }
    )
    model = CrossSellRecommender(min_support=0.4, min_confidence=0.5)
    report = model.evaluate(tx, calibration_end="2024-01-15", k=1)
    assert report.loc["rules", "n_customers"] == 1 and report.loc["rules", "n_queries"] == 3
    np.testing.assert_allclose(
        report.loc["rules", ["hit_rate", "precision", "recall"]].to_numpy(float), [1, 2 / 3, 2 / 3]
    )
    np.testing.assert_allclose(
        report.loc["popularity", ["hit_rate", "precision", "recall"]].to_numpy(float), [0, 0, 0]
    )


def test_evaluation_errors(simulated: pd.DataFrame) -> None:
    model = CrossSellRecommender()
    with pytest.raises(SchemaError, match="leaves no orders on one side"):
        model.evaluate(simulated, calibration_end="2030-01-01")
    with pytest.raises(ValueError, match="k must be"):
        model.evaluate(simulated, calibration_end="2024-03-31", k=0)


# --- the estimator contract ------------------------------------------------------------


def test_clone_params_and_not_fitted() -> None:
    model = CrossSellRecommender(min_support=0.2, rank_by="lift")
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.recommend([["a"]])
    with pytest.raises(NotFittedError):
        model.to_dict()


def test_input_not_mutated(simulated: pd.DataFrame) -> None:
    before = simulated.copy()
    baskets = [list(b) for b in BASKETS_6]
    model = CrossSellRecommender(min_support=0.05).fit(simulated)
    model.recommend(simulated.head(50))
    pd.testing.assert_frame_equal(simulated, before)
    CrossSellRecommender(min_support=0.3).fit(baskets).recommend(baskets)
    assert baskets == BASKETS_6


def test_joblib_and_json_round_trips(model: CrossSellRecommender, tmp_path: Path) -> None:
    queries = [["bread"], ["butter", "jam"], []]
    expected = model.recommend(queries, n=3)
    joblib.dump(model, tmp_path / "model.joblib")
    pd.testing.assert_frame_equal(
        joblib.load(tmp_path / "model.joblib").recommend(queries, n=3), expected
    )
    data = json.loads(json.dumps(model.to_dict()))
    restored = CrossSellRecommender.from_dict(data)
    pd.testing.assert_frame_equal(restored.recommend(queries, n=3), expected)
    pd.testing.assert_frame_equal(restored.rules_, model.rules_)
    assert restored.get_params() == model.get_params()


def test_json_round_trip_keeps_infinite_conviction(simulated: pd.DataFrame) -> None:
    model = CrossSellRecommender(min_support=0.01).fit(simulated)
    assert np.isinf(model.rules_["conviction"]).any()
    restored = CrossSellRecommender.from_dict(json.loads(json.dumps(model.to_dict())))
    pd.testing.assert_frame_equal(restored.rules_, model.rules_)


def test_to_dict_needs_json_labels() -> None:
    model = CrossSellRecommender(min_support=0.5).fit([[("a", 1), "b"], [("a", 1)]])
    with pytest.raises(ValueError, match="not a JSON value"):
        model.to_dict()
    with pytest.raises(ValueError, match="not a CrossSellRecommender export"):
        CrossSellRecommender.from_dict({"format": "something else"})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_support": 0}, "min_support"),
        ({"min_confidence": 1.5}, "min_confidence"),
        ({"max_len": 1}, "max_len"),
        ({"rank_by": "support"}, "rank_by"),
        ({"level": "basket"}, "level"),
    ],
)
def test_bad_parameters(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CrossSellRecommender(**params).fit(BASKETS_6)


def test_bad_calls(model: CrossSellRecommender) -> None:
    with pytest.raises(ValueError, match="n must be"):
        model.recommend([["bread"]], n=0)
    with pytest.raises(ValueError, match="needs customer_ids"):
        CrossSellRecommender(level="customer").fit(BASKETS_6)
    with pytest.raises(ValueError, match="7 customer ids for 6 baskets"):
        CrossSellRecommender(level="customer").fit(BASKETS_6, customer_ids=list(range(7)))


@settings(max_examples=40, deadline=None)
@given(baskets=BASKETS)
def test_recommendations_are_well_formed(baskets: list[list[str]]) -> None:
    model = CrossSellRecommender(min_support=0.1, min_confidence=0.2).fit(baskets)
    found = model.recommend(baskets, n=3)
    n_items = len(model.item_support_)
    for position, basket in enumerate(baskets):
        mine = found[found.index == position]
        # never an item already held, never twice, ranks 1..len, as many as items allow
        assert not set(mine["item_id"]) & set(basket)
        assert mine["item_id"].is_unique
        assert mine["rank"].tolist() == list(range(1, len(mine) + 1))
        assert len(mine) == min(3, n_items - len(set(basket)))
        # rule rows come first, best score first
        rule_rows = mine[mine["source"] == "rule"]
        assert (mine["source"].iloc[: len(rule_rows)] == "rule").all()
        assert rule_rows["score"].is_monotonic_decreasing
