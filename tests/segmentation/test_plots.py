"""Segmentation plots: the data drawn on the returned Axes (Agg backend)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from custintel.plotting import plot_migration, plot_rfm_heatmap, plot_segment_bars  # noqa: E402
from custintel.segmentation import segment_migration, segment_profile  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():  # type: ignore[no-untyped-def]
    yield
    plt.close("all")


def _scores() -> pd.DataFrame:
    return pd.DataFrame(
        {"r_score": [1, 1, 2, 2, 2], "f_score": [1, 2, 1, 1, 2]},
        index=pd.Index(list("abcde"), name="customer_id"),
    )


def test_rfm_heatmap_counts_and_means() -> None:
    ax = plot_rfm_heatmap(_scores())
    # Rows R = 2 (top), 1; columns F = 1, 2: counts [[2, 1], [1, 1]].
    np.testing.assert_array_equal(ax.images[0].get_array(), [[2, 1], [1, 1]])
    assert ax.get_ylabel() == "R score"
    value = pd.Series([10.0, 20, 30, 50, 60], index=list("abcde"), name="total_amount")
    ax = plot_rfm_heatmap(_scores(), value=value)
    np.testing.assert_allclose(ax.images[0].get_array(), [[40.0, 60.0], [10.0, 20.0]])
    assert ax.get_title() == "mean total_amount by R and F score"
    with pytest.raises(ValueError, match="r_score"):
        plot_rfm_heatmap(pd.DataFrame({"x": [1]}))


def test_segment_bars() -> None:
    customers = pd.DataFrame({"total_amount": [30.0, 10.0, 60.0]}, index=[1, 2, 3])
    prof = segment_profile(pd.Series(["A", "A", "B"], index=[1, 2, 3]), customers)
    ax = plot_segment_bars(prof)
    size, revenue = ax.containers
    np.testing.assert_allclose([b.get_width() for b in size], [2 / 3, 1 / 3])
    np.testing.assert_allclose([b.get_width() for b in revenue], [0.4, 0.6])
    with pytest.raises(ValueError, match="customer_share"):
        plot_segment_bars(pd.DataFrame({"x": [1]}))


def test_migration_heatmap() -> None:
    before = pd.Series(["A", "A", "B"], index=[1, 2, 3])
    after = pd.Series(["A", "B", "B"], index=[1, 2, 3])
    m = segment_migration(before, after, revenue=pd.Series({1: 5.0, 2: 7.0, 3: 1.0}))
    ax = plot_migration(m)
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 1], [0, 1]])
    ax = plot_migration(m, kind="share")
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.5, 0.5], [0.0, 1.0]])
    ax = plot_migration(m, kind="revenue")
    np.testing.assert_allclose(ax.images[0].get_array(), [[5.0, 7.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="kind must be"):
        plot_migration(m, kind="pie")
    m2 = segment_migration(before, after)
    with pytest.raises(ValueError, match="no revenue"):
        plot_migration(m2, kind="revenue")
