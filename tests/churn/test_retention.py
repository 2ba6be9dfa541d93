"""Retention metrics: hand-computed tables, lifelines-free Kaplan-Meier check, economics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel.churn import (
    churn_rate,
    cohort_retention,
    lapse_survival,
    repeat_purchase_rate,
    retention_economics,
    retention_rate,
    retention_table,
)
from custintel.features import summarize_customers


@pytest.fixture
def tx() -> pd.DataFrame:
    # customer 1: Jan, Feb, Apr; 2: Jan; 3: Feb, Mar; 4: Mar (refund only in Apr)
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 3, 3, 4, 4],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-03",
                    "2024-02-14",
                    "2024-04-30",
                    "2024-01-20",
                    "2024-02-02",
                    "2024-03-09",
                    "2024-03-15",
                    "2024-04-02",
                ]
            ),
            "amount": [5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, -2.0],
        }
    )


def test_retention_table_hand_computed(tx: pd.DataFrame) -> None:
    table = retention_table(tx)
    # active: Jan {1,2}, Feb {1,3}, Mar {3,4}, Apr {1} (the refund is no purchase)
    assert table["active"].tolist() == [2, 2, 2, 1]
    assert table["new"].tolist() == [2, 1, 1, 0]
    # retained: Feb {1} (from Jan), Mar {3} (from Feb), Apr {} (1 skipped March)
    assert table["retained"].tolist() == [0, 1, 1, 0]
    np.testing.assert_allclose(table["retention_rate"], [np.nan, 0.5, 0.5, 0.0])
    pd.testing.assert_series_equal(churn_rate(tx), 1 - retention_rate(tx), check_names=False)
    assert str(table.index[0]) == "2024-01"


def test_cohort_retention_hand_computed(tx: pd.DataFrame) -> None:
    counts = cohort_retention(tx)
    # cohort Jan {1,2}: age 1 {1}, age 2 none, age 3 {1}; Feb {3}: age 1 {3}; Mar {4}
    expected = pd.DataFrame(
        [[2.0, 1.0, 0.0, 1.0], [1.0, 1.0, 0.0, np.nan], [1.0, 0.0, np.nan, np.nan]],
        index=pd.PeriodIndex(["2024-01", "2024-02", "2024-03"], freq="M", name="cohort"),
        columns=pd.Index([0, 1, 2, 3], name="periods_since"),
    )
    pd.testing.assert_frame_equal(counts, expected, check_column_type=False)
    rates = cohort_retention(tx, normalize=True)
    assert rates.loc[pd.Period("2024-01", "M")].tolist() == [1.0, 0.5, 0.0, 0.5]
    quarterly = cohort_retention(tx, period="Q")
    assert quarterly.iloc[0].tolist() == [4.0, 1.0]  # Q1: all four; Q2: customer 1


def test_cohort_diagonal_matches_active_counts(cdnow_sample: pd.DataFrame) -> None:
    counts = cohort_retention(cdnow_sample, duplicates="keep")
    table = retention_table(cdnow_sample, duplicates="keep")
    # every active customer of a month sits in exactly one cohort cell of that month
    per_month = {
        p: sum(
            counts.loc[c, (p - c).n]
            for c in counts.index
            if c <= p and not np.isnan(counts.loc[c, (p - c).n])
        )
        for p in table.index
    }
    assert pd.Series(per_month).astype(int).tolist() == table["active"].tolist()
    assert counts[0].sum() == summarize_customers(cdnow_sample, duplicates="keep").shape[0]


def test_repeat_purchase_rate(tx: pd.DataFrame, cdnow_sample: pd.DataFrame) -> None:
    assert repeat_purchase_rate(tx) == pytest.approx(0.5)  # customers 1 and 3 of four
    summary = summarize_customers(cdnow_sample, duplicates="keep")
    assert repeat_purchase_rate(cdnow_sample, duplicates="keep") == pytest.approx(
        (summary["frequency"] > 0).mean()
    )


def test_lapse_survival_hand_computed(tx: pd.DataFrame) -> None:
    # end 2024-04-30, lapse after 30 days without purchase:
    # 1: 01-03 -> 02-14 is a 42-day gap: lapses at day 30; 2: lapses at 30 (01-20 + 30 < end)
    # 3: 02-02 -> 03-09 (36 days) lapses at 30; 4: 03-15 + 30 = 04-14 < end: lapses at 30
    curve = lapse_survival(tx, lapse_days=30)
    assert curve.index.tolist() == [0, 30] and curve["survival"].tolist() == [1.0, 0.0]
    # lapse after 40 days: 1 lapses at 42 + ... first gap > 40 is 01-03 -> 02-14 (42): day 40;
    # 2: 01-20 -> end (101 days): day 40; 3: 02-02 -> 03-09 (36), 03-09 -> end (52): 36 + 40 = 76;
    # 4: 03-15 -> end (46): day 40. So 3 lapse at 40 (of 4 at risk), 1 at 76.
    curve = lapse_survival(tx, lapse_days=40)
    assert curve.index.tolist() == [0, 40, 76]
    assert curve["survival"].tolist() == pytest.approx([1.0, 0.25, 0.0])


def test_lapse_survival_on_cdnow(cdnow_sample: pd.DataFrame) -> None:
    curve = lapse_survival(cdnow_sample, lapse_days=180, duplicates="keep")
    assert curve["survival"].is_monotonic_decreasing
    assert curve["survival"].between(0, 1).all()
    # without censoring before the first lapse, S(180) is the share not lapsed at 180 days:
    # customers whose first 180 days after every purchase hold another purchase
    assert curve.index[1] == 180


def test_retention_economics() -> None:
    out = retention_economics(
        customers=1000,
        churn_rate=0.4,
        churn_reduction=0.25,
        clv=100.0,
        acquisition_cost=80.0,
        cost_ratio=8.0,
    )
    # kept 1000 * 0.4 * 0.25 = 100; value 100 * 100 = 10,000; cost 100 * 80 / 8 = 1,000
    assert out["customers_kept"] == 100 and out["value_kept"] == 10_000
    assert out["retention_cost"] == 1_000 and out["net_value"] == 9_000 and out["roi"] == 9
    with pytest.raises(ValueError, match="churn_rate must be a share"):
        retention_economics(
            customers=1, churn_rate=30, churn_reduction=0.1, clv=1, acquisition_cost=1
        )
    with pytest.raises(ValueError, match="cost_ratio"):
        retention_economics(
            customers=1,
            churn_rate=0.3,
            churn_reduction=0.1,
            clv=1,
            acquisition_cost=1,
            cost_ratio=0,
        )


def test_bad_arguments(tx: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="lapse_days"):
        lapse_survival(tx, lapse_days=0)
    with pytest.raises(ValueError, match="period"):
        cohort_retention(tx, period="fortnight")
