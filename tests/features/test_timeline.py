"""repeat_purchase_timeline: hand-computed case and consistency with the summary."""

from __future__ import annotations

import pandas as pd

from custintel import summarize_customers
from custintel.features import repeat_purchase_timeline


def test_hand_computed(tiny_tx: pd.DataFrame) -> None:
    # data start Jan 1. Repeat occasions: a on Jan 11 (period 2: days 7..13) and Jan 31
    # (period 5: days 28..34). b and c have none (c's Jan 25 row is a refund).
    timeline = repeat_purchase_timeline(tiny_tx, time_unit="W")
    assert timeline.index.tolist() == [1, 2, 3, 4, 5]
    assert timeline["repeat_purchases"].tolist() == [0, 1, 0, 0, 1]
    assert timeline["cumulative"].tolist() == [0, 1, 1, 1, 2]


def test_total_equals_sum_of_frequencies(cdnow_sample: pd.DataFrame) -> None:
    timeline = repeat_purchase_timeline(cdnow_sample, duplicates="keep", time_unit="D")
    summary = summarize_customers(cdnow_sample, duplicates="keep")
    assert timeline["cumulative"].iloc[-1] == summary["frequency"].sum()
    assert len(timeline) == (pd.Timestamp("1998-06-30") - pd.Timestamp("1997-01-01")).days + 1
