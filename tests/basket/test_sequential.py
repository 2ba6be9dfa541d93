"""sequential_rules: hand-computed cases, a brute-force property, planted sequences, bad input."""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custintel import SchemaError
from custintel.basket import SEQUENTIAL_RULE_COLUMNS, sequential_rules
from custintel.datasets import make_transactions, plant_sequences


def _log(rows: list[tuple[str, str, str]], amount: float = 1.0) -> pd.DataFrame:
    """(customer, timestamp, item) rows as a transaction log."""
    customer, when, item = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "customer_id": list(customer),
            "timestamp": pd.to_datetime(list(when)),
            "item_id": list(item),
            "amount": [amount] * len(rows),
        }
    )


def _pairs(rules: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {
        (a, c): int(n)
        for a, c, n in zip(
            rules["antecedent"], rules["consequent"], rules["n_customers"], strict=True
        )
    }


# Four customers; gaps in calendar days.
#   a: x 01-01, y 01-31 (30 days)              -> x=>y within 30, not within 29
#   b: x 01-01, y 02-01 (31 days)              -> x=>y only from 31 days
#   c: x and y in two orders on 01-01 (08:00, 20:00): same day, bought together -> no pair
#      then y on 01-02 23:00 after x 01-01 08:00: 1 calendar day later     -> x=>y (gap 1)
#   d: y 01-01, x 01-05: y=>x, never x=>y
BOUNDARY = _log(
    [
        ("a", "2024-01-01 10:00", "x"),
        ("a", "2024-01-31 09:00", "y"),
        ("b", "2024-01-01 10:00", "x"),
        ("b", "2024-02-01 10:00", "y"),
        ("c", "2024-01-01 08:00", "x"),
        ("c", "2024-01-01 20:00", "y"),
        ("c", "2024-01-02 23:00", "y"),
        ("d", "2024-01-01 10:00", "y"),
        ("d", "2024-01-05 10:00", "x"),
    ]
)


def test_gap_boundaries_and_same_day_orders() -> None:
    # Within 30 days: a (30), c (1) hold x=>y; d holds y=>x (4 days).
    rules = sequential_rules(BOUNDARY, max_gap_days=30, min_support=0.25)
    assert _pairs(rules) == {("x", "y"): 2, ("y", "x"): 1}
    # Within 29 days a's 30-day gap no longer counts; within 31 days b's does.
    assert _pairs(sequential_rules(BOUNDARY, max_gap_days=29, min_support=0.25)) == {
        ("x", "y"): 1,
        ("y", "x"): 1,
    }
    assert _pairs(sequential_rules(BOUNDARY, max_gap_days=31, min_support=0.25)) == {
        ("x", "y"): 3,
        ("y", "x"): 1,
    }
    # One day: only c's y the calendar day after x (less than 48 hours, more than 24).
    assert _pairs(sequential_rules(BOUNDARY, max_gap_days=1, min_support=0.25)) == {("x", "y"): 1}


def test_metrics_over_customers() -> None:
    rules = sequential_rules(BOUNDARY, max_gap_days=30, min_support=0.25).set_index(
        ["antecedent", "consequent"]
    )
    assert list(rules.reset_index().columns) == list(SEQUENTIAL_RULE_COLUMNS)
    # N = 4 customers, all bought x and y: supports 1, confidence 2/4, lift 0.5 / 1.
    xy = rules.loc[("x", "y")]
    assert xy["support"] == pytest.approx(2 / 4)
    assert xy["antecedent_support"] == pytest.approx(1.0)
    assert xy["consequent_support"] == pytest.approx(1.0)
    assert xy["confidence"] == pytest.approx(0.5)
    assert xy["lift"] == pytest.approx(0.5)
    assert rules.loc[("y", "x"), "confidence"] == pytest.approx(0.25)
    assert rules.attrs == {"max_gap_days": 30, "n_customers": 4}


def test_repeated_items_count_a_customer_once() -> None:
    # e buys x on days 0, 5 and 10, then y on day 12 and again on day 13: x=>y held by one
    # customer, however many (x, y) occasions there are. f buys x once and nothing after.
    # Customers: 2; x bought by 2, y by 1.
    tx = _log(
        [
            ("e", "2024-03-01", "x"),
            ("e", "2024-03-06", "x"),
            ("e", "2024-03-11", "x"),
            ("e", "2024-03-13", "y"),
            ("e", "2024-03-14", "y"),
            ("f", "2024-03-01", "x"),
        ]
    )
    rules = sequential_rules(tx, max_gap_days=30, min_support=0.5).set_index(
        ["antecedent", "consequent"]
    )
    assert rules.index.tolist() == [("x", "y")]
    assert rules.loc[("x", "y"), "n_customers"] == 1
    assert rules.loc[("x", "y"), "confidence"] == pytest.approx(1 / 2)
    # lift = (1/2) / (1/2 of customers bought y) = 1
    assert rules.loc[("x", "y"), "lift"] == pytest.approx(1.0)
    # With repeats, x=>x (e: 0 -> 5 days) and y=>y (e: 1 day) appear, once each.
    with_repeats = _pairs(sequential_rules(tx, max_gap_days=30, min_support=0.5, repeats=True))
    assert with_repeats == {("x", "y"): 1, ("x", "x"): 1, ("y", "y"): 1}
    # A 4-day gap leaves x=>x out (gaps of 5) but keeps x=>y (11 -> 13) and y=>y (13 -> 14).
    assert _pairs(sequential_rules(tx, max_gap_days=4, min_support=0.5, repeats=True)) == {
        ("x", "y"): 1,
        ("y", "y"): 1,
    }


def test_support_and_confidence_thresholds() -> None:
    # x=>y held by 2 of 4 customers; y=>x by 1.
    assert _pairs(sequential_rules(BOUNDARY, max_gap_days=30, min_support=0.5)) == {("x", "y"): 2}
    assert _pairs(
        sequential_rules(BOUNDARY, max_gap_days=30, min_support=0.25, min_confidence=0.3)
    ) == {("x", "y"): 2}


def test_refund_lines_are_not_purchases() -> None:
    tx = _log([("a", "2024-01-01", "x"), ("a", "2024-01-03", "y"), ("b", "2024-01-01", "x")])
    refund = _log([("b", "2024-01-02", "y")], amount=-1.0)
    rules = sequential_rules(pd.concat([tx, refund]), max_gap_days=5, min_support=0.1)
    assert _pairs(rules) == {("x", "y"): 1}


def test_input_is_not_mutated_and_row_order_does_not_matter() -> None:
    shuffled = BOUNDARY.sample(frac=1.0, random_state=3)
    before = shuffled.copy()
    left = sequential_rules(shuffled, max_gap_days=30, min_support=0.25)
    pd.testing.assert_frame_equal(shuffled, before)
    right = sequential_rules(BOUNDARY, max_gap_days=30, min_support=0.25)
    pd.testing.assert_frame_equal(left, right)
    # Categorical items (as make_transactions gives them), unused categories included.
    categorical = shuffled.astype({"item_id": pd.CategoricalDtype(["w", "y", "x", "z"])})
    pd.testing.assert_frame_equal(
        sequential_rules(categorical, max_gap_days=30, min_support=0.25), right
    )


def _brute_force(tx: pd.DataFrame, gap: int, repeats: bool) -> dict[tuple[str, str], int]:
    days = tx["timestamp"].dt.normalize()
    held: dict[tuple[str, str], set[str]] = {}
    for customer, group in tx.assign(day=days).groupby("customer_id"):
        lines = list(zip(group["day"], group["item_id"], strict=True))
        for (d1, x), (d2, y) in product(lines, lines):
            if 1 <= (d2 - d1).days <= gap and (repeats or x != y):
                held.setdefault((x, y), set()).add(str(customer))
    return {pair: len(customers) for pair, customers in held.items()}


LINES = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3", "c4"]),
        st.integers(0, 40),
        st.integers(0, 23),
        st.sampled_from(["p", "q", "r", "s"]),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(lines=LINES, gap=st.integers(1, 20), repeats=st.booleans())
def test_counts_equal_a_brute_force_count(
    lines: list[tuple[str, int, int, str]], gap: int, repeats: bool
) -> None:
    start = pd.Timestamp("2024-01-01")
    tx = pd.DataFrame(
        {
            "customer_id": [c for c, _, _, _ in lines],
            "timestamp": [start + pd.Timedelta(days=d, hours=h) for _, d, h, _ in lines],
            "item_id": [i for _, _, _, i in lines],
            "amount": 1.0,
        }
    )
    n = tx["customer_id"].nunique()
    rules = sequential_rules(tx, max_gap_days=gap, min_support=1 / n / 2, repeats=repeats)
    assert _pairs(rules) == _brute_force(tx, gap, repeats)
    bought = tx.groupby("item_id")["customer_id"].nunique()
    expected_confidence = rules["n_customers"] / rules["antecedent"].map(bought).to_numpy()
    np.testing.assert_allclose(rules["confidence"], expected_confidence)
    assert ((rules["support"] > 0) & (rules["support"] <= 1)).all()
    assert (rules["confidence"] <= 1).all()


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    sim = make_transactions(3000, random_state=7)
    result = plant_sequences(
        sim.transactions,
        [("P0015", "P0042"), ("P0023", "P0031"), ("P0050", "P0012")],
        max_gap_days=10,
        probability=0.6,
        random_state=7,
    )
    return result.transactions, result.sequences


@pytest.mark.slow
def test_planted_sequences_are_the_strongest_rules(
    planted: tuple[pd.DataFrame, list[tuple[str, str]]],
) -> None:
    tx, sequences = planted
    rules = sequential_rules(tx, max_gap_days=10, min_support=0.002)
    top = list(zip(rules["antecedent"], rules["consequent"], strict=True))[: len(sequences)]
    assert set(top) == set(sequences)
    by_pair = rules.set_index(["antecedent", "consequent"])
    for pair in sequences:
        # Every X line is followed up with probability 0.6 (a customer with several X
        # lines more likely still), minus those past the end of the log.
        assert by_pair.loc[pair, "confidence"] > 0.5
        assert by_pair.loc[pair, "lift"] > 3
    pairs = zip(rules["antecedent"], rules["consequent"], strict=True)
    others = rules[[pair not in set(sequences) for pair in pairs]]
    assert others["confidence"].max() < 0.25


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_gap_days": -3}, "max_gap_days must be at least 1 day"),
        ({"max_gap_days": 0}, "max_gap_days must be at least 1 day"),
        ({"max_gap_days": 2.5}, "whole number of days"),
        ({"max_gap_days": True}, "whole number of days"),
        ({"min_support": 0.0}, "min_support must be a share"),
        ({"min_support": 1.5}, "min_support must be a share"),
        ({"min_confidence": -0.1}, "min_confidence must be in"),
        ({"min_confidence": float("nan")}, "min_confidence must be in"),
        ({"repeats": "yes"}, "repeats must be True or False"),
        ({"max_pairs": 0}, "max_pairs must be an integer"),
    ],
)
def test_bad_parameters(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sequential_rules(BOUNDARY, **options)  # type: ignore[arg-type]


def test_missing_columns() -> None:
    with pytest.raises(SchemaError, match="'item_id' role") as info:
        sequential_rules(BOUNDARY.drop(columns="item_id"))
    assert info.value.reason == "missing_column"
    with pytest.raises(SchemaError, match="customer_id"):
        sequential_rules(BOUNDARY.drop(columns="customer_id"))
    with pytest.raises(SchemaError, match="have no item_id"):
        sequential_rules(BOUNDARY.assign(item_id=["x", None, *BOUNDARY["item_id"][2:]]))
    renamed = BOUNDARY.rename(columns={"item_id": "sku"})
    assert len(sequential_rules(renamed, schema={"item_id": "sku"}, min_support=0.25)) == 2


def test_baskets_without_dates_are_refused() -> None:
    with pytest.raises(TypeError, match="order of purchases matters"):
        sequential_rules([["x", "y"], ["y"]])


def test_only_refunds() -> None:
    with pytest.raises(SchemaError, match="no purchase line"):
        sequential_rules(_log([("a", "2024-01-01", "x")], amount=-1.0))


def test_too_many_pairs_are_refused_with_the_numbers() -> None:
    with pytest.raises(ValueError, match=r"more than max_pairs=1 distinct sequential pairs"):
        sequential_rules(BOUNDARY, max_gap_days=30, min_support=0.25, max_pairs=1)


def test_no_frequent_item_gives_an_empty_table() -> None:
    rules = sequential_rules(BOUNDARY, max_gap_days=30, min_support=1.0, min_confidence=0.9)
    assert list(rules.columns) == list(SEQUENTIAL_RULE_COLUMNS)
    assert rules.empty


def test_polars_input_gives_the_same_rules() -> None:
    pl = pytest.importorskip("polars")
    rules = sequential_rules(BOUNDARY, max_gap_days=30, min_support=0.25)
    pd.testing.assert_frame_equal(
        sequential_rules(pl.from_pandas(BOUNDARY), max_gap_days=30, min_support=0.25), rules
    )
