"""Qini curve and campaign lift plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from custintel.plotting import plot_campaign_lift, plot_qini_curve
from custintel.promotions import qini_curve


def test_qini_plot_draws_each_curve_and_the_random_line() -> None:
    curve = qini_curve([1, 0, 0, 1], [1, 0, 1, 0], [0.9, 0.5, 0.3, 0.1], n_points=5)
    ax = plot_qini_curve({"model": curve, "other": curve})
    assert [line.get_label() for line in ax.get_lines()] == ["model", "other", "random"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), curve["incremental_responses"])
    with pytest.raises(ValueError, match="lacks"):
        plot_qini_curve(curve.drop(columns="random"))


def test_campaign_lift_plot_shows_points_and_intervals() -> None:
    response = pd.DataFrame(
        {"lift": [0.1, -0.02], "lift_lower": [0.05, -0.06], "lift_upper": [0.15, 0.01]},
        index=["deal-driven", "full-price"],
    )
    ax = plot_campaign_lift(response)
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == [-2.0, 10.0]
    where = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert where["deal-driven"] > where["full-price"]  # the table's first row on top
    with pytest.raises(ValueError, match="campaign_response"):
        plot_campaign_lift(response.drop(columns="lift_upper"))
