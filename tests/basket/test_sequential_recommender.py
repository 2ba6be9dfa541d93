"""SequentialRecommender: hand-computed recommendations, the interface, persistence, bad input."""

from __future__ import annotations

import copy
import json
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from custintel import SchemaError
from custintel.basket import RECOMMENDATION_COLUMNS, SequentialRecommender
from custintel.datasets import make_transactions, plant_sequences
from custintel.exceptions import InvalidModelError
from custintel.utils.estimator_checks import check_estimator

from .._json_fuzz import json_paths, json_values

# Five customers (N = 5). Within 10 days:
#   a: tent 01-01, stove 01-05          -> tent=>stove
#   b: tent 01-01, stove 01-08, lamp 01-09 -> tent=>stove, tent=>lamp, stove=>lamp
#   c: tent 01-02, lamp 01-30 (28 days: too late)
#   d: lamp 02-01, tent 02-25 (the reference date is 02-28)
#   e: mug 01-10
# Bought by: tent 4, stove 2, lamp 3, mug 1. With min_support 0.2 (a count of 1):
#   tent=>stove 2/4 = 0.5 (lift 0.5 / 0.4 = 1.25), tent=>lamp 1/4, stove=>lamp 1/2.
LOG = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b", "b", "b", "c", "c", "d", "d", "e"],
        "timestamp": pd.to_datetime(
            [
                "2024-01-01",
                "2024-01-05",
                "2024-01-01",
                "2024-01-08",
                "2024-01-09",
                "2024-01-02",
                "2024-01-30",
                "2024-02-01",
                "2024-02-25",
                "2024-02-28",
            ]
        ),
        "item_id": [
            "tent",
            "stove",
            "tent",
            "stove",
            "lamp",
            "tent",
            "lamp",
            "lamp",
            "tent",
            "mug",
        ],
        "amount": [100.0, 30.0, 100.0, 30.0, 12.0, 100.0, 12.0, 12.0, 100.0, 5.0],
    }
)


@pytest.fixture
def model() -> SequentialRecommender:
    return SequentialRecommender(max_gap_days=10, min_support=0.2, min_confidence=0.2).fit(LOG)


def test_rules_and_popularity(model: SequentialRecommender) -> None:
    rules = model.rules_
    # Best by confidence; the tie at 0.5 goes to the higher lift: tent=>stove 0.5 / 0.4
    # (stove bought by 2 of 5) before stove=>lamp 0.5 / 0.6 (lamp by 3 of 5).
    assert list(zip(rules["antecedent"], rules["consequent"], strict=True)) == [
        ("tent", "stove"),
        ("stove", "lamp"),
        ("tent", "lamp"),
    ]
    np.testing.assert_allclose(rules["confidence"], [0.5, 0.5, 0.25])
    np.testing.assert_allclose(rules["lift"], [0.5 / 0.4, 0.5 / 0.6, 0.25 / 0.6])
    np.testing.assert_allclose(rules["support"], [2 / 5, 1 / 5, 1 / 5])
    assert model.item_support_.index.tolist() == ["tent", "lamp", "stove", "mug"]
    np.testing.assert_allclose(model.item_support_, [0.8, 0.6, 0.4, 0.2])
    assert model.n_customers_ == 5
    assert model.observation_end_ == pd.Timestamp("2024-02-28")


def test_rules_ranked_by_lift() -> None:
    by_lift = SequentialRecommender(
        max_gap_days=10, min_support=0.2, min_confidence=0.2, rank_by="lift"
    ).fit(LOG)
    assert by_lift.rules_["lift"].is_monotonic_decreasing


def test_recommend_from_the_log(model: SequentialRecommender) -> None:
    recs = model.recommend(LOG, n=2)
    assert list(recs.columns) == list(RECOMMENDATION_COLUMNS)
    assert recs.index.name == "customer_id"
    # As of 02-28 with a 10-day lookback only d (tent 02-25) and e (mug 02-28) bought
    # recently. d: tent fires tent=>stove (0.5) and tent=>lamp, but d holds the lamp.
    d = recs.loc["d"]
    assert d["item_id"].tolist() == ["stove", "mug"]
    assert d["source"].tolist() == ["rule", "popularity"]
    assert d["antecedents"].iloc[0] == ("tent",)
    assert d["rule"].iloc[0] == "tent -> stove within 10 days"
    assert d["confidence"].iloc[0] == pytest.approx(0.5)
    assert d["lift"].iloc[0] == pytest.approx(1.25)
    assert np.isnan(d["confidence"].iloc[1])
    # a bought long ago: popularity only, skipping what it holds (tent, stove).
    assert recs.loc["a", "item_id"].tolist() == ["lamp", "mug"]
    assert recs.loc["a", "rule"].iloc[0] == "popular: bought by 60.0% of customers"
    # e: mug fires nothing.
    assert recs.loc["e", "item_id"].tolist() == ["tent", "lamp"]


def test_as_of_and_lookback(model: SequentialRecommender) -> None:
    # As of 01-06, a bought the tent 5 days before: tent=>stove would fire but a holds the
    # stove (bought 01-05), so tent=>lamp is next. Lines after 01-06 are not seen.
    recs = model.recommend(LOG, n=1, as_of="2024-01-06")
    assert recs.loc[["a"], "item_id"].tolist() == ["lamp"]
    assert recs.loc[["a"], "source"].tolist() == ["rule"]
    # b bought only the tent by 01-06: tent=>stove.
    assert recs.loc[["b"], "item_id"].tolist() == ["stove"]
    # A longer lookback fires a's tent as of 02-28 too.
    longer = clone(model).set_params(lookback_days=60).fit(LOG)
    assert longer.recommend(LOG, n=1).loc[["a"], "source"].tolist() == ["rule"]


def test_scores_do_not_depend_on_the_batch(model: SequentialRecommender) -> None:
    full = model.recommend(LOG, n=3)
    alone = model.recommend(LOG[LOG["customer_id"] == "d"], n=3)
    pd.testing.assert_frame_equal(alone, full.loc[["d"]])


def test_recommend_from_baskets_and_mappings(model: SequentialRecommender) -> None:
    items = model.recommend_items([["tent"], ["stove"], ["unknown"]], n=2)
    assert items.index.name == "basket"
    assert items.to_numpy().tolist() == [["stove", "lamp"], ["lamp", "tent"], ["tent", "lamp"]]
    by_customer = model.recommend({"z": ["tent", "stove"]}, n=1)
    assert by_customer.index.tolist() == ["z"]
    assert by_customer["item_id"].tolist() == ["lamp"]
    series = model.recommend_items(pd.Series({"z": ["tent"]}), n=1)
    assert series.loc["z", "item_1"] == "stove"


def test_exclude_purchased_and_repeats() -> None:
    # Customer r re-buys coffee every week; s once.
    tx = pd.DataFrame(
        {
            "customer_id": ["r", "r", "r", "s"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-15"]),
            "item_id": ["coffee", "coffee", "coffee", "tea"],
            "amount": 4.0,
        }
    )
    model = SequentialRecommender(max_gap_days=7, min_support=0.5, repeats=True).fit(tx)
    assert list(zip(model.rules_["antecedent"], model.rules_["consequent"], strict=True)) == [
        ("coffee", "coffee")
    ]
    kept = model.recommend(tx, n=1, exclude_purchased=False)
    assert kept.loc[["r"], "item_id"].tolist() == ["coffee"]
    assert kept.loc[["r"], "source"].tolist() == ["rule"]
    assert model.recommend(tx, n=1).loc[["r"], "item_id"].tolist() == ["tea"]


def test_recommend_items_matches_recommend(model: SequentialRecommender) -> None:
    recs = model.recommend(LOG, n=3)
    table = model.recommend_items(LOG, n=3)
    for customer, group in recs.groupby(level=0):
        row = table.loc[customer].tolist()
        assert row[: len(group)] == group["item_id"].tolist()
        assert all(v is None for v in row[len(group) :])


def test_not_fitted_and_bad_arguments(model: SequentialRecommender) -> None:
    with pytest.raises(NotFittedError):
        SequentialRecommender().recommend(LOG)
    for n in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n must be an integer >= 1"):
            model.recommend(LOG, n=n)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exclude_purchased must be True or False"):
        model.recommend(LOG, exclude_purchased="no")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="as_of is for a transaction log"):
        model.recommend([["tent"]], as_of="2024-01-01")
    with pytest.raises(SchemaError, match="as_of"):
        model.recommend(LOG, as_of="not a date")
    for bad in (None, 5):
        with pytest.raises(TypeError, match="recommend takes a transaction log"):
            model.recommend(bad)
    with pytest.raises(SchemaError, match="baskets must be a list"):
        model.recommend("tent")
    with pytest.raises(SchemaError, match="missing"):
        model.recommend([["tent", None]])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_gap_days": -1}, "max_gap_days must be at least 1 day"),
        ({"lookback_days": 0}, "lookback_days must be at least 1 day"),
        ({"min_support": 0}, "min_support must be a share"),
        ({"min_confidence": 2}, "min_confidence must be in"),
        ({"rank_by": "support"}, "rank_by must be one of"),
        ({"repeats": 1}, "repeats must be True or False"),
        ({"max_rules": 0}, "max_rules must be an integer >= 1"),
        ({"max_pairs": -5}, "max_pairs must be an integer >= 1"),
    ],
)
def test_bad_parameters_are_refused_at_fit(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SequentialRecommender(**params).fit(LOG)


def test_fit_needs_a_dated_log() -> None:
    with pytest.raises(TypeError, match="Baskets without dates"):
        SequentialRecommender().fit([["tent", "stove"]])
    with pytest.raises(SchemaError, match="'item_id' role"):
        SequentialRecommender().fit(LOG.drop(columns="item_id"))


def test_max_rules_keeps_the_best(model: SequentialRecommender) -> None:
    capped = clone(model).set_params(max_rules=1).fit(LOG)
    assert len(capped.rules_) == 1
    assert capped.n_rules_found_ == 3
    pd.testing.assert_frame_equal(capped.rules_, model.rules_.iloc[:1])


def test_common_estimator_checks() -> None:
    tx = make_transactions(300, random_state=0).transactions
    report = check_estimator(
        SequentialRecommender(min_support=0.02),
        tx,
        output=lambda model, X: model.recommend(X, n=3),
        columns=("customer_id", "item_id", "timestamp", "amount"),
        raise_on_failure=False,
    )
    failed = report[report["status"] == "failed"]
    assert failed.empty, failed.to_dict(orient="index")
    assert (report["status"] == "passed").sum() >= 8


def test_joblib_round_trip(model: SequentialRecommender, tmp_path: Any) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    pd.testing.assert_frame_equal(loaded.recommend(LOG), model.recommend(LOG))


# --- the recommender on planted sequences -------------------------------------------------


@pytest.mark.slow
def test_planted_follow_ups_are_recommended() -> None:
    sim = make_transactions(2000, random_state=11)
    planted = plant_sequences(
        sim.transactions, [("P0030", "P0044")], max_gap_days=14, probability=0.8, random_state=2
    )
    tx = planted.transactions
    model = SequentialRecommender(max_gap_days=14, min_support=0.005).fit(tx)
    assert (model.rules_["antecedent"].iloc[0], model.rules_["consequent"].iloc[0]) == (
        "P0030",
        "P0044",
    )
    recs = model.recommend({"new": ["P0030"]}, n=1)
    assert recs["item_id"].tolist() == ["P0044"]
    assert recs["rule"].tolist() == ["P0030 -> P0044 within 14 days"]


# --- JSON export ---------------------------------------------------------------------------


@pytest.fixture
def export(model: SequentialRecommender) -> dict[str, Any]:
    return json.loads(json.dumps(model.to_dict()))


def _reason(data: Any) -> str:
    with pytest.raises(InvalidModelError) as info:
        SequentialRecommender.from_dict(data)
    return str(info.value.reason)


def test_json_round_trip_is_exact(model: SequentialRecommender, export: dict[str, Any]) -> None:
    loaded = SequentialRecommender.from_dict(export)
    pd.testing.assert_frame_equal(loaded.rules_, model.rules_)
    pd.testing.assert_series_equal(loaded.item_support_, model.item_support_)
    assert loaded.get_params() == model.get_params()
    assert loaded.observation_end_ == model.observation_end_
    assert loaded.n_customers_ == model.n_customers_
    pd.testing.assert_frame_equal(loaded.recommend(LOG), model.recommend(LOG))
    assert SequentialRecommender.from_dict(json.dumps(export)).to_dict() == export


def test_export_with_a_schema_and_numeric_labels() -> None:
    tx = LOG.rename(columns={"item_id": "sku"}).assign(
        sku=LOG["item_id"].map({"tent": 1, "stove": 2, "lamp": 3, "mug": 4})
    )
    model = SequentialRecommender(max_gap_days=10, min_support=0.2, schema={"item_id": "sku"})
    model.fit(tx)
    loaded = SequentialRecommender.from_dict(json.loads(json.dumps(model.to_dict())))
    pd.testing.assert_frame_equal(loaded.recommend(tx), model.recommend(tx))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.pop("format"), "missing_field"),
        (lambda d: d.update(format="custintel.CrossSellRecommender"), "wrong_model"),
        (lambda d: d.update(version=2), "bad_format_version"),
        (lambda d: d.pop("rules"), "missing_field"),
        (lambda d: d.update(extra=1), "unknown_field"),
        (lambda d: d["params"].pop("max_gap_days"), "missing_field"),
        (lambda d: d["params"].update(max_gap_days=-2), "bad_parameter"),
        (lambda d: d["params"].update(rank_by="support"), "bad_parameter"),
        (lambda d: d.update(n_customers=0), "bad_parameter"),
        (lambda d: d.update(observation_end="28/02/2024"), "bad_parameter"),
        (lambda d: d.update(observation_end=20240228), "bad_parameter"),
        (lambda d: d["items"].__setitem__(1, d["items"][0]), "bad_parameter"),
        (lambda d: d["items"].__setitem__(0, None), "bad_parameter"),
        (lambda d: d["item_support"].__setitem__(0, 1.5), "bad_parameter"),
        (lambda d: d["item_support"].pop(), "bad_parameter"),
        (lambda d: d["rules"]["antecedent"].__setitem__(0, 99), "bad_parameter"),
        (lambda d: d["rules"]["antecedent"].__setitem__(0, "tent"), "bad_parameter"),
        (lambda d: d["rules"]["consequent"].pop(), "bad_parameter"),
        (
            lambda d: d["rules"]["consequent"].__setitem__(0, d["rules"]["antecedent"][0]),
            "bad_parameter",
        ),
        (lambda d: d["rules"]["n_customers"].__setitem__(0, 0), "bad_parameter"),
        (lambda d: d["rules"]["n_customers"].__setitem__(0, 6), "bad_parameter"),
        (lambda d: d["rules"]["confidence"].__setitem__(0, 1.5), "bad_parameter"),
        (lambda d: d["rules"]["lift"].__setitem__(0, -1.0), "bad_parameter"),
        (lambda d: d["rules"]["support"].__setitem__(0, float("nan")), "bad_parameter"),
        (lambda d: d["rules"].pop("lift"), "missing_field"),
    ],
)
def test_hostile_exports_are_refused(change: Any, reason: str, export: dict[str, Any]) -> None:
    data = copy.deepcopy(export)
    change(data)
    assert _reason(data) == reason


def test_not_an_export() -> None:
    assert _reason("not json") == "wrong_model"
    assert _reason([1, 2]) == "wrong_model"


@st.composite
def _mutated(draw: Any, export: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(export)
    path = draw(st.sampled_from(json_paths(data)))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = draw(json_values())
    return data


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_exports_load_sound_models_or_raise_invalid_model_error(
    data: st.DataObject, export: dict[str, Any]
) -> None:
    mutated = data.draw(_mutated(export))
    try:
        model = SequentialRecommender.from_dict(mutated)
    except InvalidModelError:
        return
    recs = model.recommend([["tent"], ["lamp", "mug"]], n=2)
    assert list(recs.columns) == list(RECOMMENDATION_COLUMNS)
    assert model.rules_["confidence"].between(0, 1 + 1e-9).all()
