"""Churn plots: checked through the data drawn on the returned Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from custintel.churn import cohort_retention, gains_table, lapse_survival
from custintel.plotting import (
    plot_calibration_curve,
    plot_cohort_heatmap,
    plot_gains,
    plot_survival_curve,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_gains_and_lift() -> None:
    y = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
    table = gains_table(y, np.arange(10, 0, -1), n_bins=5)
    ax = plot_gains({"a": table})
    x, gain = ax.lines[0].get_data()
    assert list(x) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert list(gain) == pytest.approx([0, 0.5, 0.75, 0.75, 1.0, 1.0])
    ax = plot_gains(table, kind="lift")
    assert list(ax.lines[0].get_ydata()) == pytest.approx([2.5, 1.25, 0, 1.25, 0])
    with pytest.raises(ValueError, match="kind"):
        plot_gains(table, kind="pie")
    with pytest.raises(ValueError, match="gains must be"):
        plot_gains([1, 2])


def test_calibration_curve() -> None:
    # bin 0 holds 0.05 (y=0); bin 9 holds 0.95, 0.95 (y=1, 1)
    ax = plot_calibration_curve([0, 1, 1], pd.Series([0.05, 0.95, 0.95]))
    x, y = ax.lines[0].get_data()
    assert list(x) == pytest.approx([0.05, 0.95]) and list(y) == pytest.approx([0.0, 1.0])
    with pytest.raises(ValueError, match="not a probability"):
        plot_calibration_curve([0, 1], [3.0, 0.2])


def test_cohort_heatmap_and_survival(cdnow_sample: pd.DataFrame) -> None:
    rates = cohort_retention(cdnow_sample, normalize=True, duplicates="keep")
    ax = plot_cohort_heatmap(rates, annotate=True)
    np.testing.assert_array_equal(
        np.ma.filled(ax.images[0].get_array(), np.nan), rates.to_numpy(dtype=float)
    )
    curve = lapse_survival(cdnow_sample, lapse_days=180, duplicates="keep")
    ax = plot_survival_curve(curve)
    assert list(ax.lines[0].get_ydata()) == pytest.approx(curve["survival"].tolist())
    with pytest.raises(ValueError, match="lapse_survival"):
        plot_survival_curve(rates)
