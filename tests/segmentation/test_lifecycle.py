"""LifecycleSegmenter: stages on each customer's own rhythm, previous-period stages, win-back."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from custintel.exceptions import SchemaError
from custintel.segmentation import LifecycleSegmenter


def _table() -> pd.DataFrame:
    # Repeat buyers' gaps: 30, 30, 300, 100, 10 -> typical gap = median = 30.
    return pd.DataFrame(
        {
            "days_since_last": [20.0, 90, 90, 400, 5, 70, 40],
            "n_orders": [10, 10, 3, 4, 1, 1, 6],
            "tenure_days": [300.0, 400, 700, 800, 5, 70, 100],
            "gap_mean_days": [30.0, 30, 300, 100, np.nan, np.nan, 10],
            "total_amount": [500.0, 400, 90, 60, 20, 15, 700],
        },
        index=pd.Index(list("abcdefg"), name="customer_id"),
    )


def test_stages_relative_to_own_rhythm() -> None:
    X = _table()
    seg = LifecycleSegmenter().fit(X)
    assert seg.typical_gap_ == 30.0
    out = seg.transform(X)
    # a: 20/30 = 0.67 active; b: 90/30 = 3.0 at-risk (not > 3); c: 90/300 = 0.3 active
    # (same silence as b, slower rhythm); d: 400/100 = 4 lapsed; e: one order, tenure 5 <=
    # 1.5 * 30 -> new; f: one order, tenure 70 > 45, 70/30 = 2.33 at-risk; g: 40/10 = 4 lapsed.
    assert out["stage"].astype(str).tolist() == [
        "active",
        "at-risk",
        "active",
        "lapsed",
        "new",
        "at-risk",
        "lapsed",
    ]
    assert out.loc["b", "silence_ratio"] == 3.0
    assert out.loc["f", "expected_gap_days"] == 30.0
    assert not seg.uses_previous_


def test_previous_period_won_back_shifting_and_falling() -> None:
    now = pd.DataFrame(
        {
            "days_since_last": [5.0, 10, 10, 10],
            "n_orders": [12, 20, 20, 11],
            "tenure_days": [400.0, 400, 400, 400],
            "gap_mean_days": [30.0, 20, 20, 35],
            "total_amount": [1000.0, 2050, 2000, 300],
        },
        index=pd.Index(["won", "shift", "steady", "slow"], name="customer_id"),
    )
    prev = pd.DataFrame(
        {
            # 'won' was silent 250 days on a 30-day rhythm at the earlier cut (lapsed).
            "days_since_last": [250.0, 5, 5, 5],
            "n_orders": [10, 15, 15, 10],
            "tenure_days": [300.0, 300, 300, 300],
            "gap_mean_days": [5.0, 20, 20, 30],
            "total_amount": [900.0, 2000, 1500, 290],
        },
        index=now.index,
    )
    X = now.join(prev.add_suffix("_prev"))
    seg = LifecycleSegmenter().fit(X)
    assert seg.uses_previous_
    assert seg.large_account_ == pytest.approx(1700.0)
    out = seg.transform(X)["stage"].astype(str)
    # shift: spend 50 over 100 days = 0.5/day vs 0.5 * 2000/300 = 3.33/day, and a large account
    # (prev spend 2000 >= 80th percentile of prev spend [290, 900, 1500, 2000]
    # = 1500 + 0.4 * 500 = 1700) -> shifting.
    # steady: 500 over 100 days = 5/day vs 0.5 * 1500/300 = 2.5 -> active.
    # slow: orders 1 over 100 days = 0.01 vs 0.5 * 10/300 = 0.0167 -> at-risk.
    assert out.to_dict() == {
        "won": "won back",
        "shift": "shifting",
        "steady": "active",
        "slow": "at-risk",
    }
    # A customer absent from the previous period is judged on the current one only.
    X2 = X.copy()
    X2.loc["slow", [c for c in X2.columns if c.endswith("_prev")]] = np.nan
    assert seg.transform(X2).loc["slow", "stage"] == "active"


def test_win_back_ranks_lapsed_by_value() -> None:
    X = _table()
    wb = LifecycleSegmenter().fit(X).win_back(X)
    assert wb.index.tolist() == ["g", "d"]  # both lapsed, 700 before 60
    assert LifecycleSegmenter(lost_after=3.5).fit(X).win_back(
        X, include_lost=True
    ).index.tolist() == ["g", "d"]


def test_bad_input_and_contract(tmp_path) -> None:
    X = _table()
    bad = X.copy()
    bad.loc["a", "days_since_last"] = np.nan
    with pytest.raises(SchemaError, match="NaN"):
        LifecycleSegmenter().fit(bad)
    with pytest.raises(ValueError, match="at_risk_after < lapsed_after"):
        LifecycleSegmenter(lapsed_after=1.0).fit(X)
    same = pd.concat([X.iloc[[0]]] * 3).set_axis(pd.Index([1, 2, 3], name="customer_id"))
    # Identical customers are staged normally: 20 days on a 30-day rhythm -> active.
    assert set(LifecycleSegmenter().fit_transform(same)["stage"]) == {"active"}
    one = LifecycleSegmenter().fit(X.iloc[[4]])  # a single one-time buyer: typical gap = tenure
    assert one.transform(X.iloc[[4]])["stage"].tolist() == ["new"]
    seg = clone(LifecycleSegmenter()).set_output(transform="pandas").fit(X)
    joblib.dump(seg, tmp_path / "l.joblib")
    pd.testing.assert_frame_equal(joblib.load(tmp_path / "l.joblib").transform(X), seg.transform(X))
