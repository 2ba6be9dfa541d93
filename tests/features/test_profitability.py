"""customer_profitability and customer_attributes: hand-computed cases, agreement with the
summary, the three ways of giving costs, and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custintel import DataQualityWarning, SchemaError, TransactionSchema, summarize_customers
from custintel.datasets import make_transactions
from custintel.features import (
    PROFITABILITY_COLUMNS,
    customer_attributes,
    customer_profitability,
)
from custintel.features._profitability import mode_dense, mode_sorted


@pytest.fixture
def orders_tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c", "c"],
            "order_id": [1, 1, 2, 3, 4, 5, 6],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-10",
                    "2024-01-20",
                    "2024-01-05",
                    "2024-01-07",
                    "2024-01-08",
                ]
            ),
            "quantity": [2, 1, 1, -1, 3, 1, -1],
            "amount": [20.0, 10.0, 10.0, -10.0, 9.0, 5.0, -5.0],
            "cost": [12.0, 4.0, 6.0, -6.0, 9.0, 2.0, -2.0],
            "channel": ["web", "web", "store", "store", "store", "web", "web"],
        }
    )


@pytest.fixture(scope="module")
def sim_tx() -> pd.DataFrame:
    return make_transactions(800, random_state=7).transactions


def test_hand_computed_service_costs(orders_tx: pd.DataFrame) -> None:
    # a: revenue 20 + 10 + 10 - 10 = 30; goods 12 + 4 + 6 - 6 = 16;
    #    orders with a purchase: 1 and 2 (order 3 is a refund) -> 2; units sold 2 + 1 + 1 = 4
    #    service = 2 * 2 + 0.5 * 4 + 1 = 7; cost 23; profit 7; margin 7 / 30
    # b: revenue 9, goods 9, 1 order, 3 units: service 2 + 1.5 + 1 = 4.5; profit -4.5
    # c: revenue 5 - 5 = 0, goods 0, 1 order, 1 unit: service 3.5; profit -3.5; margin NaN
    p = customer_profitability(
        orders_tx, cost_per_order=2.0, cost_per_item=0.5, cost_per_customer=1.0
    )
    assert list(p.columns) == [*PROFITABILITY_COLUMNS, "channel"]
    assert p.index.tolist() == ["a", "b", "c"]
    assert p.index.name == "customer_id"
    assert p["revenue"].tolist() == [30.0, 9.0, 0.0]
    assert p["goods_cost"].tolist() == [16.0, 9.0, 0.0]
    assert p["n_orders"].tolist() == [2, 1, 1]
    assert p["n_items"].tolist() == [4, 3, 1]
    assert p["n_items"].dtype == np.int64
    assert p["service_cost"].tolist() == [7.0, 4.5, 3.5]
    assert p["custom_cost"].tolist() == [0.0, 0.0, 0.0]
    assert p["cost"].tolist() == [23.0, 13.5, 3.5]
    assert p["profit"].tolist() == [7.0, -4.5, -3.5]
    assert p["profit_margin"].iloc[0] == pytest.approx(7 / 30)
    assert p["profit_margin"].iloc[1] == pytest.approx(-0.5)
    assert np.isnan(p["profit_margin"].iloc[2])
    assert p["profitable"].tolist() == [True, False, False]
    # a: web on 2 rows, store on 2 rows -> tie, "store" sorts first; b: store; c: web
    assert p["channel"].astype(str).tolist() == ["store", "store", "web"]


def test_cost_function_sums_row_costs(orders_tx: pd.DataFrame) -> None:
    # 10% payment fee on purchase rows: a 0.1 * 40 = 4, b 0.9, c 0.5
    seen: list[pd.DataFrame] = []

    def fee(frame: pd.DataFrame) -> pd.Series:
        seen.append(frame)
        return 0.1 * frame["amount"].clip(lower=0)

    p = customer_profitability(orders_tx, cost_function=fee)
    np.testing.assert_allclose(p["custom_cost"], [4.0, 0.9, 0.5])
    np.testing.assert_allclose(p["profit"], np.array([30.0, 9.0, 0.0]) - [16, 9, 0] - [4, 0.9, 0.5])
    assert p["service_cost"].tolist() == [0.0, 0.0, 0.0]
    # the callable gets canonical names, sorted rows and a RangeIndex
    frame = seen[0]
    assert frame["customer_id"].tolist() == ["a"] * 4 + ["b"] + ["c"] * 2
    assert isinstance(frame.index, pd.RangeIndex)
    # a plain array works too
    q = customer_profitability(orders_tx, cost_function=lambda f: np.ones(len(f)))
    assert q["custom_cost"].tolist() == [4.0, 1.0, 2.0]


def test_per_customer_costs_from_a_series(orders_tx: pd.DataFrame) -> None:
    costs = pd.Series({"a": 10.0, "b": 1.0, "c": 0.0, "zz": 99.0})  # extra ids are ignored
    p = customer_profitability(orders_tx, cost_per_customer=costs)
    assert p["service_cost"].tolist() == [10.0, 1.0, 0.0]
    assert p["profit"].tolist() == [30 - 16 - 10.0, 9 - 9 - 1.0, 0.0]
    with pytest.raises(SchemaError, match=r"no cost for 1 of 3 customers, e.g. \['c'\]") as err:
        customer_profitability(orders_tx, cost_per_customer=pd.Series({"a": 1.0, "b": 1.0}))
    assert err.value.reason == "missing_cost"
    with pytest.raises(SchemaError, match="negative, NaN or infinite"):
        customer_profitability(
            orders_tx, cost_per_customer=pd.Series({"a": -1.0, "b": 1.0, "c": 1.0})
        )


def test_margin_column_is_converted_to_cost(orders_tx: pd.DataFrame) -> None:
    raw = orders_tx.assign(gm=orders_tx["amount"] - orders_tx["cost"]).drop(columns="cost")
    p = customer_profitability(raw, TransactionSchema(margin="gm"))
    assert p["goods_cost"].tolist() == [16.0, 9.0, 0.0]
    assert p["profit"].tolist() == [14.0, 0.0, 0.0]
    assert p["profitable"].tolist() == [True, False, False]  # zero profit is not profitable


def test_without_order_and_quantity_rows_count(orders_tx: pd.DataFrame) -> None:
    # no order_id: each purchase row is an order; no quantity: each purchase row is an item
    raw = orders_tx.drop(columns=["order_id", "quantity", "cost"])
    p = customer_profitability(raw, cost_per_order=1.0, cost_per_item=0.25)
    assert p["n_orders"].tolist() == [3, 1, 1]
    assert p["n_items"].tolist() == [3, 1, 1]
    assert p["service_cost"].tolist() == [3.75, 1.25, 1.25]


def test_agrees_with_the_summary(sim_tx: pd.DataFrame) -> None:
    p = customer_profitability(sim_tx, cost_per_order=3.0, cost_per_item=0.5)
    s = summarize_customers(sim_tx)
    pd.testing.assert_index_equal(p.index, s.index)
    np.testing.assert_allclose(p["revenue"], s["total_amount"])
    np.testing.assert_allclose(p["revenue"] - p["goods_cost"], s["total_margin"])
    np.testing.assert_array_equal(p["n_orders"], s["n_orders"])
    # simulated logs have no refunds, so units sold are the summary's total_quantity
    np.testing.assert_array_equal(p["n_items"], s["total_quantity"])
    # reference: pandas groupby on the raw log
    by = sim_tx.groupby("customer_id", observed=True)
    reference = (
        by["amount"].sum()
        - by["cost"].sum()
        - 3.0 * by["order_id"].nunique()
        - 0.5 * by["quantity"].sum()
    )
    np.testing.assert_allclose(p["profit"], reference.reindex(p.index), rtol=1e-10)
    assert p["profitable"].equals(p["profit"] > 0)


def test_channel_costs_through_a_callable_match_pandas(sim_tx: pd.DataFrame) -> None:
    def channel_cost(frame: pd.DataFrame) -> np.ndarray:
        return np.where(frame["channel"] == "Partner", 0.15 * frame["amount"], 0.0)

    p = customer_profitability(sim_tx, cost_function=channel_cost)
    reference = (
        (0.15 * sim_tx["amount"])
        .where(sim_tx["channel"] == "Partner", 0.0)
        .groupby(sim_tx["customer_id"])
        .sum()
    )
    np.testing.assert_allclose(p["custom_cost"], reference.reindex(p.index), atol=1e-9)


def test_refund_only_customers_are_left_out_with_a_warning(orders_tx: pd.DataFrame) -> None:
    extra = pd.DataFrame(
        {
            "customer_id": ["d"],
            "order_id": [7],
            "timestamp": pd.to_datetime(["2024-01-09"]),
            "quantity": [-1],
            "amount": [-3.0],
            "cost": [-1.0],
            "channel": ["web"],
        }
    )
    tx = pd.concat([orders_tx, extra], ignore_index=True)
    with pytest.warns(DataQualityWarning, match="1 customers have only refund rows"):
        p = customer_profitability(tx, cost_per_order=1.0)
    assert p.index.tolist() == ["a", "b", "c"]


def test_input_is_not_mutated(orders_tx: pd.DataFrame) -> None:
    before = orders_tx.copy(deep=True)
    customer_profitability(orders_tx, cost_per_order=1.0, cost_function=lambda f: f["amount"] * 0)
    customer_attributes(orders_tx)
    pd.testing.assert_frame_equal(orders_tx, before)


def test_row_order_does_not_matter(sim_tx: pd.DataFrame) -> None:
    shuffled = sim_tx.sample(frac=1.0, random_state=3)
    a = customer_profitability(sim_tx, cost_per_order=2.0)
    b = customer_profitability(shuffled, cost_per_order=2.0)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_no_cost_model_is_an_error(orders_tx: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no cost model"):
        customer_profitability(orders_tx.drop(columns="cost"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cost_per_order": -1.0}, "cost_per_order must be a finite number >= 0"),
        ({"cost_per_item": float("nan")}, "cost_per_item must be a finite number >= 0"),
        ({"cost_per_customer": True}, "cost_per_customer must be a number"),
        ({"cost_per_order": "5"}, "cost_per_order must be a number"),
        ({"cost_function": 3.0}, "cost_function must be a callable"),
    ],
)
def test_bad_cost_arguments(orders_tx: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        customer_profitability(orders_tx, **kwargs)


def test_bad_cost_function_results(orders_tx: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"one cost per transaction row \(7\), got shape \(3,\)"):
        customer_profitability(orders_tx, cost_function=lambda f: np.ones(3))
    with pytest.raises(ValueError, match=r"1 NaN or infinite costs, e.g. at rows \[2\]"):
        customer_profitability(orders_tx, cost_function=lambda f: np.r_[0, 0, np.nan, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="index differs"):
        customer_profitability(
            orders_tx, cost_function=lambda f: pd.Series(1.0, index=f.index + 100)
        )
    with pytest.raises(ValueError, match="must return numbers"):
        customer_profitability(orders_tx, cost_function=lambda f: ["x"] * len(f))


def test_schema_errors_come_from_validation() -> None:
    with pytest.raises(SchemaError) as err:
        customer_profitability(pd.DataFrame(), cost_per_order=1.0)
    assert err.value.reason == "empty"


# --- customer_attributes -------------------------------------------------------------


def test_attributes_most_frequent_with_ties_and_missing_values() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3, 3],
            "timestamp": pd.to_datetime([f"2024-01-0{d}" for d in (1, 2, 3, 1, 2, 1, 2)]),
            "amount": [1.0] * 7,
            "region": ["S", "N", "S", "S", "N", None, None],
            "channel": ["web", "web", "store", "store", "web", "web", "web"],
        }
    )
    a = customer_attributes(tx)
    # 1: S twice, N once -> S; 2: S and N tie -> N sorts first; 3: all missing -> NaN
    assert a["region"].iloc[:2].tolist() == ["S", "N"]
    assert pd.isna(a["region"].iloc[2])
    # 1: web 2, store 1 -> web; 2: tie -> store; 3: web
    assert a["channel"].astype(str).tolist() == ["web", "store", "web"]
    assert list(a.columns) == ["region", "channel"]
    assert isinstance(a["channel"].dtype, pd.CategoricalDtype)
    # row order does not matter, ties included
    shuffled = customer_attributes(tx.iloc[::-1])
    pd.testing.assert_frame_equal(a, shuffled)
    assert customer_attributes(tx, roles=["channel"]).columns.tolist() == ["channel"]


def test_attributes_categorical_ties_follow_category_order() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "amount": [1.0, 1.0],
            "channel": pd.Categorical(["web", "store"], categories=["web", "store"]),
        }
    )
    assert customer_attributes(tx)["channel"].tolist() == ["web"]


def test_attributes_match_the_simulated_truth(sim_tx: pd.DataFrame) -> None:
    # make_transactions gives each customer one fixed type, region and channel
    sim = make_transactions(800, random_state=7)
    a = customer_attributes(sim_tx)
    for role in ("customer_type", "region", "channel"):
        truth = sim.customers[role].astype(str).reindex(a.index)
        assert (a[role].astype(str) == truth).all()


def test_attribute_errors(orders_tx: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="no customer_type, region or channel column"):
        customer_attributes(orders_tx.drop(columns="channel"))
    with pytest.raises(SchemaError, match=r"\['region'\] are not mapped"):
        customer_attributes(orders_tx, roles=["region"])
    with pytest.raises(ValueError, match="unknown attribute roles"):
        customer_attributes(orders_tx, roles=["colour"])
    # mixed label types still give one deterministic answer (pandas sorts numbers first)
    mixed = orders_tx.assign(channel=["web", 1, 1, "web", 2, "web", "web"])
    assert customer_attributes(mixed)["channel"].tolist() == [1, 2, "web"]


def test_duplicate_policy_applies_to_items_and_attributes() -> None:
    # customer 1 has one row loaded twice (web, 2 units) and one store row (1 unit)
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02"]),
            "amount": [5.0, 5.0, 7.0],
            "quantity": [2, 2, 1],
            "channel": ["web", "web", "store"],
        }
    )
    # keep: 2 + 2 + 1 = 5 units; web on 2 rows beats store
    kept = customer_profitability(tx, cost_per_item=1.0, duplicates="keep")
    assert kept["n_items"].tolist() == [5]
    assert kept["channel"].tolist() == ["web"]
    # drop: 2 + 1 = 3 units; web and store tie -> store sorts first
    dropped = customer_profitability(tx, cost_per_item=1.0, duplicates="drop")
    assert dropped["n_items"].tolist() == [3]
    assert dropped["revenue"].tolist() == [12.0]
    assert dropped["channel"].tolist() == ["store"]
    assert customer_attributes(tx, duplicates="drop")["channel"].tolist() == ["store"]


@settings(max_examples=50, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 4)), min_size=0, max_size=60))
def test_dense_and_sorted_mode_kernels_agree(pairs: list[tuple[int, int]]) -> None:
    n_codes, n_values = 7, 5
    keys = np.array([c * n_values + v for c, v in pairs], dtype=np.int64)
    dense = mode_dense(keys, n_codes, n_values)
    np.testing.assert_array_equal(dense, mode_sorted(keys, n_codes, n_values))
    # reference: most frequent value per customer, ties to the lowest value, -1 when none
    for customer in range(n_codes):
        values = [v for c, v in pairs if c == customer]
        if not values:
            assert dense[customer] == -1
        else:
            counts = np.bincount(values, minlength=n_values)
            assert dense[customer] == int(np.argmax(counts))


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.integers(0, 4),  # customer
            st.integers(0, 3),  # order of that customer
            st.integers(0, 5),  # day
            st.integers(-3, 9),  # amount (negative: a refund line)
        ),
        min_size=1,
        max_size=40,
    ),
    ids=st.sampled_from(["dense", "sparse", "negative", "text"]),
    duplicates=st.sampled_from(["keep", "drop"]),
)
def test_sums_and_order_counts_match_a_pandas_groupby(
    lines: list[tuple[int, int, int, int]], ids: str, duplicates: str
) -> None:
    # Order ids in a narrow integer range are their own codes, others are factorized:
    # both give the distinct orders with a purchase line, as pandas' nunique does.
    customer, order, day, amount = (np.array(column) for column in zip(*lines, strict=True))
    order_key = customer * 4 + order  # an order belongs to one customer
    order_id = {
        "dense": order_key,
        "sparse": order_key * 10**12,
        "negative": order_key - 10**15,
        "text": np.array([f"o{k}" for k in order_key]),
    }[ids]
    tx = pd.DataFrame(
        {
            "customer_id": customer.astype(str),
            "order_id": order_id,
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D"),
            "amount": amount.astype(float),
            "cost": amount * 0.5,
        }
    )
    clean = tx.drop_duplicates() if duplicates == "drop" else tx
    purchases = clean[clean["amount"] >= 0]
    if purchases.empty:
        return  # no customer: validation's own error, tested elsewhere
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        p = customer_profitability(tx, cost_per_order=1.0, duplicates=duplicates)
    by = clean.groupby("customer_id")
    expected = pd.DataFrame(
        {
            "revenue": by["amount"].sum(),
            "goods_cost": by["cost"].sum(),
            "n_orders": purchases.groupby("customer_id")["order_id"].nunique(),
        }
    ).dropna()
    expected.index.name = "customer_id"
    pd.testing.assert_index_equal(p.index, expected.index.astype(p.index.dtype))
    np.testing.assert_allclose(p["revenue"], expected["revenue"], atol=1e-9)
    np.testing.assert_allclose(p["goods_cost"], expected["goods_cost"], atol=1e-9)
    np.testing.assert_array_equal(p["n_orders"], expected["n_orders"].astype(np.int64))
    assert p["n_orders"].dtype == np.int64
