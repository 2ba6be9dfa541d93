"""segment_migration and segment_profile on hand-computed frames."""

from __future__ import annotations

import pandas as pd
import pytest

from custintel.exceptions import SchemaError
from custintel.segmentation import segment_migration, segment_profile


def test_migration_counts_revenue_and_moved_down() -> None:
    before = pd.Series(
        pd.Categorical(["Gold", "Gold", "Iron", "Lead"], categories=["Gold", "Iron", "Lead"]),
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )
    after = pd.Series(["Lead", "Gold", "Gold", "Iron"], index=[1, 2, 3, 5])
    rev = pd.Series({1: 5.0, 2: 50.0, 3: 20.0, 5: 7.0})
    m = segment_migration(before, after, revenue=rev)
    # 1: Gold->Lead (2 down), 2: Gold->Gold, 3: Iron->Gold (up), 4: Lead->gone, 5: new Iron.
    assert m.counts.loc["Gold", "Lead"] == 1
    assert m.counts.loc["Gold", "Gold"] == 1
    assert m.counts.loc["Iron", "Gold"] == 1
    assert m.counts.loc["Lead", "(none)"] == 1
    assert m.counts.loc["(none)", "Iron"] == 1
    assert int(m.counts.to_numpy().sum()) == 5
    assert m.revenue is not None
    assert m.revenue.loc["Gold", "Gold"] == 50.0
    assert m.revenue.loc["(none)", "Iron"] == 7.0
    assert m.moved_down.index.tolist() == [1]
    assert m.moved_down.loc[1, "steps"] == 2
    assert m.moved_down.loc[1, "revenue"] == 5.0


def test_migration_accepts_segmenter_frames_and_checks_order() -> None:
    b = pd.DataFrame({"tier": ["A", "B"]}, index=[1, 2])
    a = pd.DataFrame({"tier": ["B", "B"]}, index=[1, 2])
    m = segment_migration(b, a, segment="tier")
    assert m.moved_down.index.tolist() == [1]
    with pytest.raises(ValueError, match="order lacks segments"):
        segment_migration(b, a, segment="tier", order=["A"])
    with pytest.raises(SchemaError, match="no column 'segment'"):
        segment_migration(b, a)


def test_profile_with_margin_churn_clv_and_breakdown() -> None:
    customers = pd.DataFrame(
        {
            "total_amount": [30.0, 10.0, 60.0, 0.0],
            "total_margin": [10.0, 5.0, 5.0, 0.0],
            "customer_type": ["B2B", "B2C", "B2C", "B2C"],
        },
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )
    seg = pd.Series(["A", "A", "B", "B"], index=customers.index)
    churned = pd.Series([False, True, False, True], index=customers.index)
    clv = pd.Series([100.0, 20.0, 50.0, 0.0], index=customers.index)
    out = segment_profile(seg, customers, churned=churned, clv=clv)
    # A: revenue 40/100, margin 15/20, churn 1/2, CLV (100 + 20)/2.
    assert out.loc["A", "revenue_share"] == pytest.approx(0.4)
    assert out.loc["A", "margin_share"] == pytest.approx(0.75)
    assert out.loc["A", "churn_rate"] == 0.5
    assert out.loc["A", "mean_clv"] == 60.0
    assert out.loc["B", "customers"] == 2
    by = segment_profile(seg, customers, by="customer_type")
    assert by.loc[("A", "B2B"), "revenue_share"] == pytest.approx(0.3)
    assert by.loc[("B", "B2C"), "customers"] == 2
    with pytest.raises(SchemaError, match="not a column"):
        segment_profile(seg, customers, by="region")
    with pytest.raises(SchemaError, match="not in the customer table"):
        segment_profile(pd.Series(["A"], index=[99]), customers)
