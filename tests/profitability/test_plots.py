"""Profitability plots: the data drawn on the returned Axes (Agg backend)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from custintel.plotting import plot_abc, plot_pareto, plot_whale_curve  # noqa: E402
from custintel.profitability import ParetoAnalysis, WhaleCurve  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():  # type: ignore[no-untyped-def]
    yield
    plt.close("all")


@pytest.fixture
def pareto() -> ParetoAnalysis:
    # 50, 30, 15, 5: C = 0.5, 0.8, 0.95, 1.0
    return ParetoAnalysis().fit(pd.Series([15.0, 50.0, 5.0, 30.0], index=list("cadb")))


def test_pareto_curve(pareto: ParetoAnalysis) -> None:
    ax = plot_pareto(pareto, mark=0.25)
    curve, equality = ax.lines[0], ax.lines[1]
    np.testing.assert_allclose(curve.get_xdata(), [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve.get_ydata(), [0, 0.5, 0.8, 0.95, 1.0])
    np.testing.assert_allclose(equality.get_ydata(), [0, 1])
    # the mark: top 25% produce 50%
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[0.25, 0.5]])
    assert ax.get_title() == "Top 25% of customers produce 50.0% of value"


def test_lorenz_curve(pareto: ParetoAnalysis) -> None:
    _, ax = plt.subplots()
    returned = plot_pareto(pareto, kind="lorenz", ax=ax)
    assert returned is ax
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0, 0.05, 0.2, 0.5, 1.0])
    assert "Gini 0.375" in ax.get_title()


def test_whale_curve() -> None:
    whale = WhaleCurve().fit(pd.Series([0.0, 10.0, -3.0, 5.0], index=[1, 2, 3, 4]))
    ax = plot_whale_curve(whale)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0, 10 / 12, 1.25, 1.25, 1.0])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [1.0, 1.0])  # 100% of profit
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[0.5, 1.25]])
    assert ax.get_title() == "Whale curve: peak 125% of profit at 50% of customers"


def test_whale_curve_with_a_total_loss_is_drawn_in_currency() -> None:
    with pytest.warns(UserWarning):
        whale = WhaleCurve().fit(pd.Series([4.0, -10.0], index=[1, 2]))
    ax = plot_whale_curve(whale)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0, 4.0, -6.0])


def test_abc_bars(pareto: ParetoAnalysis) -> None:
    ax = plot_abc(pareto)
    customers, value = ax.containers[0], ax.containers[1]
    # A: a, b (2 of 4, 80%); B: c (15%); C: d (5%)
    np.testing.assert_allclose([p.get_height() for p in customers], [0.5, 0.25, 0.25])
    np.testing.assert_allclose([p.get_height() for p in value], [0.8, 0.15, 0.05])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B", "C"]


def test_plots_need_fitted_objects() -> None:
    with pytest.raises(NotFittedError):
        plot_pareto(ParetoAnalysis())
    with pytest.raises(NotFittedError):
        plot_whale_curve(WhaleCurve())
    with pytest.raises(NotFittedError):
        plot_abc(ParetoAnalysis())
    with pytest.raises(ValueError, match="kind must be"):
        plot_pareto(ParetoAnalysis().fit(pd.Series([1.0])), kind="gini")
