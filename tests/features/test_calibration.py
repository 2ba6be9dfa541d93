"""calibration_holdout_split: hand-computed case and equality with lifetimes on CDNOW."""

from __future__ import annotations

import pandas as pd
import pytest

from custintel import SchemaError, calibration_holdout_split, summarize_customers


def test_hand_computed(tiny_tx: pd.DataFrame) -> None:
    # calibration up to Jan 15: a has occasions Jan 1 and Jan 11 (frequency 1, recency 10,
    # T 14); c has Jan 5 (T 10). b first buys on Jan 20, in the holdout: excluded.
    # holdout Jan 16..31: a buys once (30.0); c only refunds (no occasion).
    split = calibration_holdout_split(tiny_tx, calibration_end="2024-01-15")
    assert split.index.tolist() == ["a", "c"]
    assert split["frequency"].tolist() == [1, 0]
    assert split["recency"].tolist() == [10.0, 0.0]
    assert split["T"].tolist() == [14.0, 10.0]
    assert split["frequency_holdout"].tolist() == [1, 0]
    assert split["monetary_value_holdout"].tolist() == [30.0, 0.0]
    assert split["duration_holdout"].tolist() == [16.0, 16.0]
    assert split.attrs["calibration_end"] == "2024-01-15"


def test_calibration_columns_equal_a_summary_of_the_calibration_period(
    tiny_tx: pd.DataFrame,
) -> None:
    split = calibration_holdout_split(tiny_tx, calibration_end="2024-01-15")
    calibration = tiny_tx[tiny_tx["timestamp"] < "2024-01-16"]
    expected = summarize_customers(calibration, observation_end="2024-01-15")
    pd.testing.assert_frame_equal(split[expected.columns], expected)


@pytest.mark.parametrize("end", ["2023-12-01", "2024-01-31", "2024-03-01"])
def test_calibration_end_outside_the_data(tiny_tx: pd.DataFrame, end: str) -> None:
    with pytest.raises(SchemaError, match="calibration_end"):
        calibration_holdout_split(tiny_tx, calibration_end=end, observation_end="2024-01-31")


lifetimes_utils = pytest.importorskip("lifetimes.utils")


@pytest.mark.parametrize(("time_unit", "multiplier"), [("D", 1), ("W", 7)])
def test_equals_lifetimes_on_cdnow(cdnow: pd.DataFrame, time_unit: str, multiplier: int) -> None:
    expected = lifetimes_utils.calibration_and_holdout_data(
        cdnow,
        "customer_id",
        "timestamp",
        calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30",
        freq="D",
        freq_multiplier=multiplier,
        monetary_value_col="amount",
    )
    ours = calibration_holdout_split(
        cdnow,
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit=time_unit,  # type: ignore[arg-type]
        duplicates="keep",
    )
    renamed = {f"{c}_cal": c for c in ["frequency", "recency", "T", "monetary_value"]}
    expected = expected.rename(columns=renamed)
    columns = [*renamed.values(), "frequency_holdout", "duration_holdout"]
    pd.testing.assert_frame_equal(
        ours[columns].astype(float), expected[columns], check_names=False, check_index_type=False
    )


def test_monetary_holdout_equals_lifetimes_on_one_row_per_day(cdnow: pd.DataFrame) -> None:
    # lifetimes averages holdout spend over raw rows, custintel over purchase days; on a log
    # with one row per customer-day the two definitions coincide.
    daily = cdnow.groupby(["customer_id", "timestamp"], as_index=False)["amount"].sum()
    expected = lifetimes_utils.calibration_and_holdout_data(
        daily,
        "customer_id",
        "timestamp",
        calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30",
        monetary_value_col="amount",
    )
    ours = calibration_holdout_split(
        cdnow, calibration_end="1997-09-30", observation_end="1998-06-30", duplicates="keep"
    )
    pd.testing.assert_series_equal(
        ours["monetary_value_holdout"],
        expected["monetary_value_holdout"],
        check_names=False,
        check_index_type=False,
    )


def test_equals_lifetimes_on_simulated_lines() -> None:
    from custintel.datasets import make_transactions

    tx = make_transactions(3000, random_state=3).transactions
    daily = tx.assign(timestamp=tx["timestamp"].dt.floor("D"))
    daily = daily.groupby(["customer_id", "timestamp"], as_index=False)["amount"].sum()
    expected = lifetimes_utils.calibration_and_holdout_data(
        daily,
        "customer_id",
        "timestamp",
        calibration_period_end="2024-03-31",
        observation_period_end="2024-12-31",
        monetary_value_col="amount",
    )
    ours = calibration_holdout_split(tx, calibration_end="2024-03-31", observation_end="2024-12-31")
    renamed = {f"{c}_cal": c for c in ["frequency", "recency", "T", "monetary_value"]}
    expected = expected.rename(columns=renamed)
    columns = [*renamed.values(), "frequency_holdout", "monetary_value_holdout", "duration_holdout"]
    pd.testing.assert_frame_equal(
        ours[columns].astype(float), expected[columns], check_names=False, check_index_type=False
    )
