"""summarize_customers: hand-computed cases, invariants, and equality with lifetimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custintel import DataQualityWarning, SchemaError, TransactionSchema, summarize_customers
from custintel.features import SUMMARY_COLUMNS


def test_tiny_hand_computed(tiny_tx: pd.DataFrame) -> None:
    # a: occasions on Jan 1 (10 + 5 = 15, two rows same day), Jan 11 (20), Jan 31 (30)
    #    frequency 2, recency 30, T 30 (observation end = last day, Jan 31),
    #    monetary (20 + 30) / 2 = 25, gaps 10 and 20: mean 15, std sqrt(50)
    # b: one purchase on Jan 20: frequency 0, T 11
    # c: purchase Jan 5 (12) and a refund Jan 25 (-4): the refund is no occasion,
    #    frequency 0, T 26, total_amount 8 (net)
    s = summarize_customers(tiny_tx)
    assert list(s.columns) == list(SUMMARY_COLUMNS)
    assert s.index.tolist() == ["a", "b", "c"]
    assert s.index.name == "customer_id"
    assert s["frequency"].tolist() == [2, 0, 0]
    assert s["recency"].tolist() == [30.0, 0.0, 0.0]
    assert s["T"].tolist() == [30.0, 11.0, 26.0]
    assert s["monetary_value"].tolist() == [25.0, 0.0, 0.0]
    assert s["n_orders"].tolist() == [4, 1, 1]
    assert s["total_amount"].tolist() == [65.0, 7.0, 8.0]
    assert s["days_since_last"].tolist() == [0, 11, 26]
    assert s["tenure_days"].tolist() == [30, 11, 26]
    assert s["gap_mean_days"].iloc[0] == 15.0
    assert s["gap_std_days"].iloc[0] == pytest.approx(np.sqrt(50.0))
    assert s[["gap_mean_days", "gap_std_days"]].iloc[1:].isna().all().all()
    assert s["first_purchase"].tolist() == list(
        pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-05"])
    )
    assert s["last_purchase"].iloc[0] == pd.Timestamp("2024-01-31")
    assert s.attrs == {"observation_end": "2024-01-31", "time_unit": "D"}


def test_weeks_are_days_over_seven(tiny_tx: pd.DataFrame) -> None:
    days = summarize_customers(tiny_tx)
    weeks = summarize_customers(tiny_tx, time_unit="W")
    np.testing.assert_allclose(weeks["recency"], days["recency"] / 7)
    np.testing.assert_allclose(weeks["T"], days["T"] / 7)
    pd.testing.assert_series_equal(weeks["days_since_last"], days["days_since_last"])
    with pytest.raises(ValueError, match="time_unit must be"):
        summarize_customers(tiny_tx, time_unit="Q")  # type: ignore[arg-type]


def test_observation_end_extends_t_and_drops_later_rows(tiny_tx: pd.DataFrame) -> None:
    s = summarize_customers(tiny_tx, observation_end="2024-02-10")
    assert s.loc["a", "T"] == 40.0
    with pytest.warns(DataQualityWarning, match="3 of 7 transactions fall after"):
        cut = summarize_customers(tiny_tx, observation_end="2024-01-15")
    assert cut.loc["a", "frequency"] == 1
    assert "b" not in cut.index


def test_refund_only_customer_is_left_out_with_warning() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "amount": [5.0, -3.0],
        }
    )
    with pytest.warns(DataQualityWarning, match="1 customers have only refund rows"):
        s = summarize_customers(tx)
    assert s.index.tolist() == [1]
    assert len(summarize_customers(tx, refunds="drop")) == 1


def test_optional_columns_orders_quantity_margin() -> None:
    tx = pd.DataFrame(
        {
            "cust": [1, 1, 1, 2],
            "when": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-03", "2024-01-02"]),
            "revenue": [10.0, 6.0, 4.0, 8.0],
            "order": ["o1", "o1", "o2", "o3"],
            "qty": [1, 2, 1, 3],
            "cost": [7.0, 3.0, 5.0, 2.0],
        }
    )
    schema = TransactionSchema(
        customer_id="cust", timestamp="when", amount="revenue", order_id="order", quantity="qty"
    )
    s = summarize_customers(tx, schema)
    assert s["n_orders"].tolist() == [2, 1]  # o1 has two lines
    assert s["total_quantity"].tolist() == [4.0, 3.0]
    assert s["total_margin"].tolist() == [5.0, 6.0]  # (3 + 3 - 1), 6


def test_missing_column_error_reaches_the_user() -> None:
    with pytest.raises(SchemaError, match="TransactionSchema\\(amount='revenue'\\)"):
        summarize_customers(
            pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"], "revenue": [1.0]})
        )


def test_input_not_mutated(tiny_tx: pd.DataFrame) -> None:
    before = tiny_tx.copy(deep=True)
    summarize_customers(tiny_tx)
    pd.testing.assert_frame_equal(tiny_tx, before)


# --- properties ----------------------------------------------------------------------

transactions = st.lists(
    st.tuples(
        st.integers(0, 6),  # customer
        st.integers(0, 60),  # day
        st.integers(0, 23),  # hour
        st.floats(-20, 200, allow_nan=False).map(lambda x: round(x, 2)),
    ),
    min_size=1,
    max_size=60,
).filter(lambda rows: any(amount >= 0 for *_, amount in rows))


def to_frame(rows: list[tuple[int, int, int, float]]) -> pd.DataFrame:
    customer, day, hour, amount = zip(*rows, strict=True)
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.array(day) * 24 + np.array(hour), "h")
    return pd.DataFrame({"customer_id": customer, "timestamp": stamps, "amount": amount})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(rows=transactions, seed=st.integers(0, 2**16))
def test_summary_invariants_and_row_order_independence(rows: list, seed: int) -> None:
    import warnings

    tx = to_frame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        s = summarize_customers(tx, observation_end="2024-03-15")
        shuffled = tx.sample(frac=1.0, random_state=seed)
        pd.testing.assert_frame_equal(
            summarize_customers(shuffled, observation_end="2024-03-15"), s
        )
        # the id encoding does not matter: strings and categoricals give the same numbers
        as_str = tx.assign(customer_id=tx["customer_id"].map(lambda c: f"c{c}"))
        by_str = summarize_customers(
            as_str.astype({"customer_id": "category"}), observation_end="2024-03-15"
        )
    pd.testing.assert_frame_equal(by_str.reset_index(drop=True), s.reset_index(drop=True))
    assert (s["T"] >= 0).all()
    assert ((s["recency"] >= 0) & (s["recency"] <= s["T"])).all()
    assert (s.loc[s["frequency"] == 0, "recency"] == 0).all()
    assert (s.loc[s["frequency"] == 0, "monetary_value"] == 0).all()
    assert (s["n_orders"] >= s["frequency"] + 1).all()
    assert (s["monetary_value"] >= 0).all()


# --- equality with lifetimes on CDNOW --------------------------------------------------

lifetimes_utils = pytest.importorskip("lifetimes.utils")
BTYD = ["frequency", "recency", "T", "monetary_value"]


@pytest.mark.parametrize(("time_unit", "multiplier"), [("D", 1), ("W", 7)])
@pytest.mark.parametrize("sample", [False, True], ids=["full", "sample"])
def test_summary_equals_lifetimes_on_cdnow(
    request: pytest.FixtureRequest, sample: bool, time_unit: str, multiplier: int
) -> None:
    tx = request.getfixturevalue("cdnow_sample" if sample else "cdnow")
    expected = lifetimes_utils.summary_data_from_transaction_data(
        tx,
        "customer_id",
        "timestamp",
        monetary_value_col="amount",
        observation_period_end="1998-06-30",
        freq="D",
        freq_multiplier=multiplier,
    )
    ours = summarize_customers(
        tx,
        observation_end="1998-06-30",
        time_unit=time_unit,
        duplicates="keep",  # type: ignore[arg-type]
    )
    assert len(ours) == (2357 if sample else 23570)
    pd.testing.assert_frame_equal(
        ours[BTYD].astype(float), expected[BTYD], check_names=False, check_index_type=False
    )


def test_summary_equals_lifetimes_on_simulated_lines() -> None:
    # Simulated logs have times of day and several lines per order: the day collapsing and
    # the first-occasion exclusion are exercised much harder than on CDNOW.
    from custintel.datasets import make_transactions

    tx = make_transactions(3000, random_state=7).transactions
    expected = lifetimes_utils.summary_data_from_transaction_data(
        tx, "customer_id", "timestamp", monetary_value_col="amount", freq="D"
    )
    ours = summarize_customers(tx)
    assert (ours["n_orders"] > ours["frequency"]).any()  # several orders on one day exist
    pd.testing.assert_frame_equal(
        ours[BTYD].astype(float), expected[BTYD], check_names=False, check_index_type=False
    )
    per_order = tx.groupby("customer_id")["order_id"].nunique()
    pd.testing.assert_series_equal(ours["n_orders"], per_order, check_names=False)
    margin = (tx["amount"] - tx["cost"]).groupby(tx["customer_id"]).sum()
    np.testing.assert_allclose(ours["total_margin"], margin)
