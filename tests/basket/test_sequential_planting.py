"""plant_sequences: follow-up lines where, when and as often as planted; bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel.datasets import make_transactions, plant_sequences


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return make_transactions(1500, random_state=4).transactions


def _follow_ups(result: pd.DataFrame, original: pd.DataFrame) -> pd.DataFrame:
    return result[result["order_id"] > original["order_id"].max()]


def test_follow_ups_come_one_gap_later_for_the_same_customer(log: pd.DataFrame) -> None:
    before = log.copy()
    planted = plant_sequences(log, [("P0010", "P0020")], max_gap_days=1, probability=1.0)
    pd.testing.assert_frame_equal(log, before)  # the input is not modified
    added = _follow_ups(planted.transactions, log)
    assert planted.n_planted == len(added) == len(planted.transactions) - len(log)
    # Probability 1 and a gap of exactly one day: one follow-up per line of P0010, one day
    # later, except those that would fall after the last day of the log.
    triggers = log[log["item_id"] == "P0010"]
    last_day = log["timestamp"].max().normalize()
    due = triggers[triggers["timestamp"] + pd.Timedelta(days=1) < last_day + pd.Timedelta(days=1)]
    expected = sorted(zip(due["customer_id"], due["timestamp"] + pd.Timedelta(days=1), strict=True))
    assert sorted(zip(added["customer_id"], added["timestamp"], strict=True)) == expected
    assert set(added["item_id"]) == {"P0020"}
    assert (added["quantity"] == 1).all()
    # The amount is the median unit amount of P0020, the cost keeps its median margin.
    p20 = log[log["item_id"] == "P0020"]
    np.testing.assert_allclose(added["amount"], (p20["amount"] / p20["quantity"]).median())
    np.testing.assert_allclose(
        added["cost"] / added["amount"], (p20["cost"] / p20["amount"]).median()
    )
    # Customer attributes come from the trigger line.
    attributes = log.drop_duplicates("customer_id").set_index("customer_id")["region"]
    assert (added["region"].astype(object) == added["customer_id"].map(attributes)).all()


def test_log_stays_sorted_with_fresh_order_ids(log: pd.DataFrame) -> None:
    tx = plant_sequences(log, 3, random_state=0).transactions
    assert tx["timestamp"].is_monotonic_increasing
    assert tx["order_id"].is_unique is False  # order lines share their order id
    assert tx.groupby("order_id")["customer_id"].nunique().max() == 1
    assert isinstance(tx["item_id"].dtype, pd.CategoricalDtype)
    assert tx["item_id"].dtype == log["item_id"].dtype
    assert list(tx.columns) == list(log.columns)
    assert isinstance(tx.index, pd.RangeIndex)


def test_gaps_and_probability(log: pd.DataFrame) -> None:
    planted = plant_sequences(
        log, [("P0005", "P0050")], max_gap_days=5, probability=0.3, random_state=1
    )
    added = _follow_ups(planted.transactions, log)
    triggers = log[log["item_id"] == "P0005"]
    # Every follow-up is 1..5 days (same time of day) after some P0005 line of its customer.
    by_customer = triggers.groupby("customer_id")["timestamp"].apply(list).to_dict()
    for customer, when in zip(added["customer_id"], added["timestamp"], strict=True):
        gaps = [(when - t) / pd.Timedelta(days=1) for t in by_customer[customer]]
        assert any(g in {1.0, 2.0, 3.0, 4.0, 5.0} for g in gaps)
    # About 30% of the P0005 lines are followed up (fewer near the end of the log).
    share = len(added) / len(triggers)
    sd = np.sqrt(0.3 * 0.7 / len(triggers))
    assert 0.3 - 4 * sd - 0.02 < share < 0.3 + 4 * sd


def test_seeded_and_drawn_pairs(log: pd.DataFrame) -> None:
    first = plant_sequences(log, 4, random_state=9)
    second = plant_sequences(log, 4, random_state=9)
    pd.testing.assert_frame_equal(first.transactions, second.transactions)
    assert first.sequences == second.sequences
    assert len(first.sequences) == 4
    items = [item for pair in first.sequences for item in pair]
    assert len(set(items)) == 8  # distinct triggers and follow-ups
    assert "SequencedTransactions(" in repr(first)


def test_end_cuts_follow_ups(log: pd.DataFrame) -> None:
    end = "2024-06-30"
    planted = plant_sequences(log, [("P0010", "P0020")], probability=1.0, end=end)
    added = _follow_ups(planted.transactions, log)
    assert added["timestamp"].max() < pd.Timestamp("2024-07-01")
    assert planted.n_planted > 0


def test_probability_zero_adds_nothing(log: pd.DataFrame) -> None:
    planted = plant_sequences(log, [("P0010", "P0020")], probability=0.0)
    assert planted.n_planted == 0
    assert len(planted.transactions) == len(log)


@pytest.mark.parametrize(
    ("change", "options", "error", "message"),
    [
        (
            lambda tx: tx.drop(columns="order_id"),
            {},
            ValueError,
            r"lack the columns \['order_id'\]",
        ),
        (lambda tx: tx.astype({"order_id": str}), {}, ValueError, "must hold integers"),
        (lambda tx: tx.to_dict(), {}, TypeError, "takes a pandas DataFrame"),
        (None, {"max_gap_days": 0}, ValueError, "max_gap_days must be a whole number"),
        (None, {"max_gap_days": -2}, ValueError, "max_gap_days must be a whole number"),
        (None, {"probability": 1.5}, ValueError, "probability must be in"),
        (None, {"probability": float("nan")}, ValueError, "probability must be in"),
        (None, {"sequences": [("P0010", "nope")]}, ValueError, "not in the log's item_id"),
        (None, {"sequences": [("P0010", "P0010")]}, ValueError, "two different items"),
        (None, {"sequences": [("P0010",)]}, ValueError, "must be a pair"),
        (None, {"sequences": []}, ValueError, "sequences is empty"),
        (None, {"sequences": 0}, ValueError, "count >= 1"),
        (None, {"sequences": 500}, ValueError, "cannot draw 500 pairs"),
        (None, {"sequences": "P0010"}, ValueError, "list of"),
    ],
)
def test_bad_input(
    log: pd.DataFrame, change: object, options: dict[str, object], error: type, message: str
) -> None:
    data = change(log) if callable(change) else log
    with pytest.raises(error, match=message):
        plant_sequences(data, **options)  # type: ignore[arg-type]
