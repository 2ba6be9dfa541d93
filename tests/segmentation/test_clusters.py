"""CustomerSegmenter: planted clusters, the auto-k rule, labels, CDNOW golden k, bad input."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from custintel.exceptions import SchemaError
from custintel.segmentation import CustomerSegmenter


def _planted(n_per: int = 60, seed: int = 0) -> pd.DataFrame:
    # Three well-separated groups on the log scale: loyal, occasional, lapsed one-off.
    rng = np.random.default_rng(seed)
    days = np.concatenate(
        [rng.uniform(1, 10, n_per), rng.uniform(40, 80, n_per), rng.uniform(300, 500, n_per)]
    )
    orders = np.concatenate(
        [rng.integers(15, 30, n_per), rng.integers(4, 7, n_per), np.ones(n_per, dtype=int)]
    )
    amount = np.concatenate(
        [rng.uniform(800, 1500, n_per), rng.uniform(100, 200, n_per), rng.uniform(5, 15, n_per)]
    )
    return pd.DataFrame(
        {"days_since_last": days, "n_orders": orders, "total_amount": amount},
        index=pd.Index([f"c{i:03d}" for i in range(3 * n_per)], name="customer_id"),
    )


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_auto_finds_planted_groups_with_readable_labels(method) -> None:
    X = _planted()
    seg = CustomerSegmenter(method=method).fit(X)
    assert seg.n_clusters_ == 3
    # k = 3 explains almost everything; k = 4 adds less than min_gain, which stopped the search.
    assert seg.k_scores_.loc[3, "explained_variance"] > 0.9
    assert seg.k_scores_.loc[4, "gain"] < 0.05
    out = seg.transform(X)
    assert out.groupby(out.index.str[1:].astype(int) // 60)["cluster"].nunique().max() == 1
    labels = set(out["segment"].astype(str))
    assert any(lab.startswith("very recent") or lab.startswith("recent") for lab in labels)
    assert any("lapsed, one-off" in lab for lab in labels)
    prof = seg.profile_
    assert prof["customers"].sum() == len(X)
    assert prof["revenue_share"].sum() == pytest.approx(1.0)
    assert prof.loc[prof["mean_n_orders"].idxmax(), "revenue_share"] > 0.8


def test_fixed_k_and_contract(tmp_path) -> None:
    X = _planted(20)
    before = X.copy()
    seg = clone(CustomerSegmenter(n_clusters=2)).set_output(transform="pandas").fit(X)
    pd.testing.assert_frame_equal(X, before)
    assert seg.n_clusters_ == 2 and not hasattr(seg, "k_scores_")
    out = seg.transform(X)
    assert list(out.columns) == list(seg.get_feature_names_out())
    joblib.dump(seg, tmp_path / "c.joblib")
    pd.testing.assert_series_equal(joblib.load(tmp_path / "c.joblib").predict(X), seg.predict(X))


def test_bad_input() -> None:
    X = _planted(2)  # 6 customers
    with pytest.raises(SchemaError, match="at least 7 customers, got 6"):
        CustomerSegmenter(n_clusters=7).fit(X)
    same = pd.DataFrame(
        {"days_since_last": [5.0] * 4, "n_orders": [2] * 4, "total_amount": [9.0] * 4},
        index=pd.Index(list("abcd"), name="customer_id"),
    )
    # Identical customers: "auto" gives one segment; a fixed k > 1 is a clear error.
    seg = CustomerSegmenter().fit(same)
    assert seg.n_clusters_ == 1 and set(seg.transform(same)["segment"]) == {"average"}
    with pytest.raises(SchemaError, match="only 1 distinct customers"):
        CustomerSegmenter(n_clusters=2).fit(same)
    assert CustomerSegmenter().fit(same.iloc[:1]).n_clusters_ == 1
    nan = X.copy()
    nan.iloc[0, 2] = np.nan
    with pytest.raises(SchemaError, match="NaN"):
        CustomerSegmenter().fit(nan)
    with pytest.raises(ValueError, match="method must be"):
        CustomerSegmenter(method="dbscan").fit(X)
    with pytest.raises(ValueError, match="n_clusters must be"):
        CustomerSegmenter(n_clusters="best").fit(X)


@pytest.mark.slow
def test_cdnow_auto_k_is_four(cdnow_clusters) -> None:
    # Golden numbers quoted in the docstring: explained variance 0.577, 0.702, 0.758, 0.803
    # for k = 2..5; the gain from 4 to 5 (0.045) is below min_gain = 0.05, so k = 4.
    seg = cdnow_clusters
    assert seg.n_clusters_ == 4
    assert seg.k_scores_["explained_variance"].round(3).tolist() == [0.577, 0.702, 0.758, 0.803]
    assert seg.profile_["customer_share"].min() >= 0.05
    assert seg.profile_["label"].nunique() == 4
