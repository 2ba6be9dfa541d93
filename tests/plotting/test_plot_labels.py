"""Plot polish (issue 18): the data's range, units on axes and titles, named classes, no
silently dropped score columns. Checked through what the returned Axes hold."""

from __future__ import annotations

import copy

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from custintel import summarize_customers
from custintel.churn import BacktestResult, gains_table
from custintel.clv import BetaGeoModel
from custintel.plotting import (
    plot_calibration_vs_holdout,
    plot_frequency_recency_matrix,
    plot_gains,
    plot_rfm_heatmap,
)
from custintel.segmentation import RFMSegmenter


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def full_weeks(cdnow: pd.DataFrame) -> pd.DataFrame:
    """The full CDNOW customer table in weeks: frequencies up to 170, T up to 77.9 weeks."""
    return summarize_customers(
        cdnow, observation_end="1998-06-30", time_unit="W", duplicates="keep"
    )


@pytest.fixture(scope="module")
def full_model(full_weeks: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(full_weeks)


def test_matrix_covers_the_data_range_and_names_the_unit(
    full_model: BetaGeoModel, full_weeks: pd.DataFrame
) -> None:
    assert full_weeks.attrs["time_unit"] == "W"
    top = int(full_weeks["frequency"].max())
    assert top == 170  # the old default stopped at 50
    ax = plot_frequency_recency_matrix(full_model, full_weeks)
    image = ax.get_images()[0]
    assert image.get_array().shape == (top + 1, 50)
    assert image.get_extent()[3] == top
    assert image.get_extent()[1] == pytest.approx(full_weeks["T"].max())
    assert ax.get_title() == (
        "expected purchases in the next 1 week for customers of age 77.9 weeks"
    )
    assert ax.get_xlabel() == "recency (time of last purchase, weeks)"
    colorbar_label = ax.figure.axes[-1].get_ylabel()
    assert colorbar_label == "expected purchases in the next 1 week"
    # the highest cell is the customer with the most purchases, seen at the end
    grid = image.get_array()
    assert np.unravel_index(np.argmax(grid), grid.shape) == (top, 49)


def test_matrix_without_a_table(full_model: BetaGeoModel) -> None:
    ax = plot_frequency_recency_matrix(full_model, T=30.0, t=4, time_unit="W", kind="alive")
    assert ax.get_images()[0].get_array().shape == (31, 50)  # T rounded up, no cap
    assert ax.get_title() == "P(alive) for customers of age 30 weeks"
    ax = plot_frequency_recency_matrix(full_model, T=2.5, t=7, time_unit="D")
    assert ax.get_title() == "expected purchases in the next 7 days for customers of age 2.5 days"
    # without a table, the unit the model was fitted in
    ax = plot_frequency_recency_matrix(full_model, T=10.0)
    assert "in the next 1 week for customers of age 10 weeks" in ax.get_title()
    # a unit nobody recorded is named as such, never a bare number
    unrecorded = copy.deepcopy(full_model)
    unrecorded.time_unit_ = None
    ax = plot_frequency_recency_matrix(unrecorded, T=10.0)
    assert "in the next 1 time unit for customers of age 10 time units" in ax.get_title()
    with pytest.raises(ValueError, match="customers' age T"):
        plot_frequency_recency_matrix(full_model)
    with pytest.raises(ValueError, match="'D' \\(days\\) or 'W'"):
        plot_frequency_recency_matrix(full_model, T=10.0, time_unit="M")
    with pytest.raises(ValueError, match="lacks \\['frequency'\\]"):
        plot_frequency_recency_matrix(full_model, pd.DataFrame({"T": [1.0]}))


def test_calibration_vs_holdout_names_the_holdout_length(cdnow_weeks: pd.DataFrame) -> None:
    model = BetaGeoModel().fit(cdnow_weeks)
    ax = plot_calibration_vs_holdout(model, cdnow_weeks)
    assert ax.get_ylabel() == "mean purchases in the holdout (39 weeks)"
    ax = plot_calibration_vs_holdout(
        model, cdnow_weeks.assign(duration_holdout=273.0), time_unit="D"
    )
    assert ax.get_ylabel() == "mean purchases in the holdout (273 days)"


def test_gains_name_the_positive_class() -> None:
    y = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
    table = gains_table(y, np.arange(10, 0, -1), n_bins=5)
    ax = plot_gains(table, positive="churners")
    assert ax.get_ylabel() == "share of churners captured"
    assert "churners" in ax.get_title()
    assert plot_gains(table).get_ylabel() == "share of positives (y = 1) captured"
    ax = plot_gains(table, kind="lift", positive="buyers")
    assert ax.get_ylabel() == "lift (rate of buyers / overall rate)"

    scores = pd.DataFrame({"m": np.arange(10.0)})
    minority = BacktestResult(
        metrics=pd.DataFrame(), scores=scores, y_test=pd.Series(y), gains={"m": table}
    )
    assert plot_gains(minority).get_ylabel() == "share of churners captured"
    # backtest() ranks the customers who stayed when churners are the majority
    majority = BacktestResult(
        metrics=pd.DataFrame(),
        scores=scores,
        y_test=pd.Series([1 - v for v in y]),
        gains={"m": table},
    )
    assert plot_gains(majority).get_ylabel() == "share of customers who stayed captured"


def test_rfm_heatmap_shows_an_unused_score(cdnow: pd.DataFrame) -> None:
    customers = summarize_customers(cdnow, observation_end="1998-06-30", duplicates="keep")
    scores = RFMSegmenter().fit_transform(customers)
    assert 2 not in set(scores["f_score"])  # CDNOW's ties: the one-time buyers take F 1 and 2
    ax = plot_rfm_heatmap(scores)
    grid = ax.images[0].get_array()
    assert grid.shape == (5, 5)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "4", "5"]
    np.testing.assert_array_equal(grid[:, 1], 0)  # the F = 2 column is there, empty
    assert grid.sum() == len(scores)
    assert ax.get_xlabel() == "F score (no customer has F score 2)"
    assert ax.get_ylabel() == "R score"

    means = plot_rfm_heatmap(scores, value=customers["total_amount"])
    grid = np.ma.filled(means.images[0].get_array(), np.nan)
    assert grid.shape == (5, 5)
    assert np.isnan(grid[:, 1]).all()  # blank cells, no number written on them
    written = {t.get_position() for t in means.texts}
    assert not any(x == 1 for x, _ in written)

    # a segmenter with more bins than any customer reached: pass n_bins
    six = plot_rfm_heatmap(scores, n_bins=6)
    assert six.images[0].get_array().shape == (6, 6)
    assert six.get_ylabel() == "R score (no customer has R score 6)"
    assert six.get_xlabel() == "F score (no customer has F scores 2, 6)"
