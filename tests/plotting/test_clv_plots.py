"""CLV plots: drawn from real fits, checked through the data on the returned Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from custintel import summarize_customers
from custintel.clv import BetaGeoModel, CLVModel
from custintel.features import repeat_purchase_timeline
from custintel.plotting import (
    plot_calibration_vs_holdout,
    plot_clv_distribution,
    plot_cumulative_purchases,
    plot_frequency_recency_matrix,
)


@pytest.fixture(scope="module")
def table(cdnow_weeks: pd.DataFrame) -> pd.DataFrame:
    return cdnow_weeks


@pytest.fixture(scope="module")
def model(table: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(table)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_calibration_vs_holdout(model: BetaGeoModel, table: pd.DataFrame) -> None:
    ax = plot_calibration_vs_holdout(model, table, max_frequency=7)
    actual, predicted = ax.get_lines()
    assert list(actual.get_xdata()) == list(range(8))
    zero = table["frequency"] == 0
    assert actual.get_ydata()[0] == pytest.approx(table.loc[zero, "frequency_holdout"].mean())
    assert predicted.get_ydata()[0] == pytest.approx(
        model.predict_purchases(table[zero], t=39.0).mean()
    )
    assert ax.get_xticklabels()[-1].get_text() == "7+"
    with pytest.raises(ValueError, match="calibration_holdout_split"):
        plot_calibration_vs_holdout(model, table.drop(columns="frequency_holdout"))


@pytest.mark.parametrize("kind", ["purchases", "alive"])
def test_frequency_recency_matrix(model: BetaGeoModel, kind: str) -> None:
    ax = plot_frequency_recency_matrix(model, T=39.0, kind=kind, max_frequency=10)
    image = ax.get_images()[0].get_array()
    assert image.shape == (11, 50)
    assert np.all(np.isfinite(image))
    if kind == "alive":
        assert image.max() <= 1.0
        assert image[0].min() == pytest.approx(1.0)  # BG/NBD: one-time buyers are alive
    with pytest.raises(ValueError, match="kind must be"):
        plot_frequency_recency_matrix(model, T=39.0, kind="value")


def test_cumulative_purchases(model: BetaGeoModel, cdnow_sample: pd.DataFrame) -> None:
    timeline = repeat_purchase_timeline(cdnow_sample, time_unit="W", duplicates="keep")
    summary = summarize_customers(cdnow_sample, duplicates="keep")
    first = (summary["first_purchase"] - pd.Timestamp("1997-01-01")).dt.days / 7
    ax = plot_cumulative_purchases(model, timeline, first, calibration_end=39)
    actual, expected = ax.get_lines()[:2]
    assert actual.get_ydata()[-1] == timeline["cumulative"].iloc[-1]
    # the model tracks the sample to within 5% at week 78 (Fader, Hardie and Lee 2005, fig. 2)
    assert expected.get_ydata()[-1] == pytest.approx(actual.get_ydata()[-1], rel=0.05)


def test_clv_distribution(table: pd.DataFrame) -> None:
    value = CLVModel().fit(table).predict_clv(table, horizon=12)
    ax = plot_clv_distribution(value, bins=20)
    assert len(ax.patches) == 20
    assert "mean" in ax.get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match="no finite values"):
        plot_clv_distribution(pd.Series([np.nan]))
