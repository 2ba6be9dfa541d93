"""RFMSegmenter: hand-computed scores, tie robustness, the grid, CDNOW reachability, bad input."""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

import custintel as ci
from custintel.exceptions import SchemaError
from custintel.segmentation import (
    SEGMENT_NAMES,
    RFMSegmenter,
    default_segment_map,
    tie_robust_scores,
)


def _table(days, orders, amount, ids=None) -> pd.DataFrame:
    ids = ids if ids is not None else [f"c{i}" for i in range(len(days))]
    return pd.DataFrame(
        {"days_since_last": days, "n_orders": orders, "total_amount": amount},
        index=pd.Index(ids, name="customer_id"),
    )


def test_scores_hand_computed() -> None:
    # n = 10, n_bins = 5: score = 1 + floor(5 * b / 10) = 1 + b // 2, b = # strictly below.
    # orders [1]*6 + [2, 2, 3, 9]: b = 0 for the six 1s -> 1; b = 6 for the 2s -> 4;
    # b = 8 for 3 -> 5; b = 9 for 9 -> 5.  Score 2 and 3 are never earned (tied block).
    orders = np.array([1, 1, 1, 1, 1, 1, 2, 2, 3, 9], dtype=float)
    assert tie_robust_scores(orders, 5).tolist() == [1] * 6 + [4, 4, 5, 5]
    X = _table(np.arange(10) * 10.0, orders, np.arange(1, 11) * 10.0)
    seg = RFMSegmenter().fit(X)
    out = seg.transform(X)
    assert out["f_score"].tolist() == [1] * 6 + [4, 4, 5, 5]
    # Recency: days 0, 10, ..., 90; smaller is better, so c0 scores 5 and c9 scores 1.
    assert out["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert out["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert (out["rfm_sum"] == out[["r_score", "f_score", "m_score"]].sum(axis=1)).all()
    # c0: R5, F1, M1 -> FM = (1 + 1 + 1) // 2 = 1 -> "New"; c9: R1, F5, M5 -> "Can't Lose".
    assert out.loc["c0", "segment"] == "New"
    assert out.loc["c9", "segment"] == "Can't Lose"
    # Frequency edges: score 4 from 2 orders, 5 from 3; 2 and 3 unearned (NaN).
    assert seg.bin_edges_["frequency"].tolist()[2:] == [2.0, 3.0]
    assert seg.bin_edges_["frequency"].isna().tolist()[:2] == [True, True]
    # Recency edges are in days: 5 is earned at <= 10 days.
    assert seg.bin_edges_.loc[5, "recency"] == 10.0


def test_transform_applies_training_cut_points() -> None:
    X = _table([0.0, 10, 20, 30, 40], [1, 2, 3, 4, 5], [1.0, 2, 3, 4, 5])
    seg = RFMSegmenter().fit(X)
    new = _table([100.0, -5.0], [50, 0], [1e6, -3.0], ids=["x", "y"])
    out = seg.transform(new)
    assert out["r_score"].tolist() == [1, 5]
    assert out["f_score"].tolist() == [5, 1]
    assert out["m_score"].tolist() == [5, 1]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=5, max_size=40),
    st.randoms(use_true_random=False),
)
def test_ties_share_scores_and_row_order_is_irrelevant(values, rnd) -> None:
    n = len(values)
    X = _table(np.array(values, float), np.array(values, float) + 1, np.array(values, float))
    out = RFMSegmenter().fit_transform(X)
    for col in ("r_score", "f_score", "m_score"):
        assert out.groupby(np.array(values))[col].nunique().max() == 1
        assert out[col].between(1, 5).all()
    perm = list(range(n))
    rnd.shuffle(perm)
    shuffled = RFMSegmenter().fit_transform(X.iloc[perm])
    pd.testing.assert_frame_equal(shuffled.loc[out.index], out)


def test_identical_customers_all_score_one() -> None:
    X = _table([7.0] * 6, [2] * 6, [50.0] * 6)
    out = RFMSegmenter().fit_transform(X)
    assert (out[["r_score", "f_score", "m_score"]] == 1).all().all()
    assert set(out["segment"]) == {"Lost"}


def test_zero_and_negative_monetary_score_lowest() -> None:
    X = _table([1.0, 2, 3, 4, 5], [1, 1, 1, 1, 1], [0.0, -2.0, 10, 20, 30])
    out = RFMSegmenter().fit_transform(X)
    assert out["m_score"].tolist() == [2, 1, 3, 4, 5]


def test_cdnow_one_time_buyers_share_one_frequency_score(cdnow) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = ci.summarize_customers(cdnow, duplicates="keep")
    out = RFMSegmenter().fit_transform(summary)
    once = summary["n_orders"] == 1
    # 13,080 identical one-time buyers (by orders) in CDNOW all get F = 1.
    assert out.loc[once, "f_score"].unique().tolist() == [1]
    assert len(out) == len(summary)


def test_every_default_segment_reachable_on_cdnow(cdnow) -> None:
    # At the end of CDNOW's acquisition quarter new customers still exist; later, no
    # customer is new (the cohort was acquired in Q1 1997), so "New" cannot occur.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = ci.summarize_customers(cdnow, observation_end="1997-03-31", duplicates="keep")
    counts = RFMSegmenter().fit_transform(summary)["segment"].value_counts()
    assert set(counts[counts > 0].index) == set(SEGMENT_NAMES)
    assert counts.min() >= 400


def test_replaceable_segment_map() -> None:
    X = _table([0.0, 10, 20, 30, 40], [5, 4, 3, 2, 1], [5.0, 4, 3, 2, 1])
    grid = default_segment_map()
    grid.loc[5, 5] = "VIP"
    out = RFMSegmenter(segment_map=grid).fit_transform(X)
    assert out.loc["c0", "segment"] == "VIP"
    simple = {(r, fm): ("good" if r + fm > 5 else "bad") for r in (1, 2) for fm in (1, 2)}
    out2 = RFMSegmenter(n_bins=2, segment_map=simple).fit_transform(X)
    assert set(out2["segment"]) <= {"good", "bad"}
    with pytest.raises(ValueError, match="lacks 21 of the 25"):
        RFMSegmenter(segment_map={(1, 1): "x", (2, 2): "y", (3, 3): "z", (4, 4): "w"}).fit(X)


def test_bad_input() -> None:
    X = _table([0.0, 10, 20], [1, 2, 3], [1.0, 2, 3])
    with pytest.raises(SchemaError, match="at least 5 customers, got 3"):
        RFMSegmenter().fit(X)
    with pytest.raises(SchemaError, match="at least 2 customers, got 1"):
        RFMSegmenter(n_bins=2).fit(X.iloc[:1])
    bad = X.copy()
    bad.loc["c1", "total_amount"] = np.nan
    with pytest.raises(SchemaError, match="1 of 3 values in column 'total_amount' are NaN"):
        RFMSegmenter(n_bins=2).fit(bad)
    with pytest.raises(SchemaError, match="lacks"):
        RFMSegmenter(n_bins=2).fit(X.drop(columns="n_orders"))
    with pytest.raises(ValueError, match="n_bins must be an integer >= 2"):
        RFMSegmenter(n_bins=1).fit(X)
    # A single customer can still be scored on a fitted scale.
    seg = RFMSegmenter(n_bins=3).fit(X)
    assert len(seg.transform(X.iloc[:1])) == 1


def test_sklearn_contract(tmp_path) -> None:
    X = _table([0.0, 10, 20, 30, 40, 50], [1, 1, 2, 3, 4, 5], [1.0, 2, 3, 4, 5, 6])
    before = X.copy()
    seg = clone(RFMSegmenter(n_bins=3)).set_output(transform="pandas").fit(X)
    pd.testing.assert_frame_equal(X, before)
    path = tmp_path / "rfm.joblib"
    joblib.dump(seg, path)
    pd.testing.assert_frame_equal(joblib.load(path).transform(X), seg.transform(X))
    assert list(seg.get_feature_names_out()) == list(seg.transform(X).columns)
    assert seg.transform(X).index.name == "customer_id"
