"""compare_models: the holdout comparison of purchase models, and its plot."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from custintel.clv import BetaGeoModel, ModelComparison, ParetoNBDModel, compare_models
from custintel.datasets import load_cdnow
from custintel.features import calibration_holdout_split


@pytest.fixture(scope="module")
def split() -> pd.DataFrame:
    return calibration_holdout_split(
        load_cdnow(sample=True),
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit="W",
        duplicates="keep",
    )


def test_the_table_is_computed_as_documented(split: pd.DataFrame) -> None:
    result = compare_models(split)
    assert isinstance(result, ModelComparison)
    table = result.table
    assert list(table.index) == ["Pareto/NBD", "MBG/NBD", "BG/NBD", "NBD"]
    assert result.best == "Pareto/NBD" and table["best"].sum() == 1
    # the docs' CDNOW holdout errors (docs/clv.md), recomputed by hand here
    bg = BetaGeoModel().fit(split)
    predicted = bg.predict_purchases(split, t=39.0)
    mae = float((predicted - split["frequency_holdout"]).abs().mean())
    assert table.loc["BG/NBD", "holdout_mae"] == pytest.approx(mae, rel=1e-12)
    assert round(mae, 3) == 0.785
    ll, n = bg.log_likelihood_, len(split)
    assert table.loc["BG/NBD", "aic"] == pytest.approx(8 - 2 * ll)
    assert table.loc["BG/NBD", "bic"] == pytest.approx(4 * math.log(n) - 2 * ll)
    assert table.loc["NBD", "n_params"] == 2
    total = float(split["frequency_holdout"].sum())
    assert table.loc["BG/NBD", "actual_total"] == total
    assert table.loc["BG/NBD", "aggregate_error"] == pytest.approx(predicted.sum() / total - 1)
    assert (table["error"] == "").all()
    pd.testing.assert_series_equal(
        result.predictions["BG/NBD"], predicted.astype(float), check_names=False
    )
    assert list(result.predictions.columns) == list(table.index)


def test_a_model_that_fails_keeps_its_row_with_the_reason(split: pd.DataFrame) -> None:
    bad = split.copy()
    models = {"BG/NBD": BetaGeoModel(), "Pareto/NBD": ParetoNBDModel(max_iter=1)}
    result = compare_models(bad, models)
    failed = result.table.loc["Pareto/NBD"]
    assert failed["error"] and np.isnan(failed["holdout_mae"]) and not failed["best"]
    assert result.best == "BG/NBD"
    assert list(result.predictions.columns) == ["BG/NBD"]


def test_bad_input_is_refused_clearly(split: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"lacks \['frequency_holdout'\]"):
        compare_models(split.drop(columns="frequency_holdout"))
    with pytest.raises(ValueError, match="no customers"):
        compare_models(split.iloc[:0])
    with pytest.raises(ValueError, match="models is empty"):
        compare_models(split, {})
    with pytest.raises(ValueError, match=r"models\['x'\] is a str, not a purchase model"):
        compare_models(split, {"x": "BG/NBD"})
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        compare_models(split.to_numpy())  # type: ignore[arg-type]


def test_the_plot_draws_the_actual_and_each_model(split: pd.DataFrame) -> None:
    pytest.importorskip("matplotlib")
    from custintel.plotting import plot_model_comparison

    result = compare_models(split, {"BG/NBD": BetaGeoModel(), "Pareto/NBD": ParetoNBDModel()})
    ax = plot_model_comparison(result)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0] == "actual" and len(labels) == 3
    assert any(label.startswith("Pareto/NBD (MAE 0.755)") for label in labels)
    actual = ax.get_lines()[0].get_ydata()
    by_group = split["frequency_holdout"].groupby(split["frequency"].clip(upper=7)).mean()
    np.testing.assert_allclose(actual, by_group.to_numpy())
    with pytest.raises(ValueError, match="compare_models"):
        plot_model_comparison(object())


def test_period_transactions_counts_and_simulates() -> None:
    from custintel.clv import NBDModel, period_transactions
    from custintel.datasets import load_cdnow_summary

    X = load_cdnow_summary()
    bg = BetaGeoModel().fit(X)
    table = period_transactions(bg, X)
    assert table.index.tolist() == list(range(8)) and table.index.name == "repeat_purchases"
    # observed: a plain count, the last row pooling 7 or more
    assert table["observed"].tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert table["observed"].sum() == table["simulated"].sum() == len(X)
    # the BG/NBD reproduces CDNOW's histogram (Fader, Hardie and Lee 2005, Figure 2)
    # (within sampling error: three standard deviations of a Poisson count)
    gap = (table["simulated"] - table["observed"]).abs()
    assert (gap <= 3 * np.sqrt(table["observed"])).all(), gap
    # seeded: the same table twice
    pd.testing.assert_frame_equal(table, period_transactions(bg, X))
    # every purchase model simulates, the NBD too (same observed column, same total)
    nbd = period_transactions(NBDModel().fit(X), X, n_draws=2)
    assert nbd["observed"].equals(table["observed"]) and nbd["simulated"].sum() == len(X)
    with pytest.raises(ValueError, match="fitted purchase model"):
        period_transactions(object(), X)
    with pytest.raises(ValueError, match=r"X lacks \['T'\]"):
        period_transactions(bg, X.drop(columns="T"))
    with pytest.raises(ValueError, match="max_frequency"):
        period_transactions(bg, X, max_frequency=0)


def test_the_period_transactions_plot_has_two_bars_per_count() -> None:
    pytest.importorskip("matplotlib")
    from custintel.clv import period_transactions
    from custintel.datasets import load_cdnow_summary
    from custintel.plotting import plot_period_transactions

    X = load_cdnow_summary()
    table = period_transactions(BetaGeoModel().fit(X), X, max_frequency=4, n_draws=2)
    ax = plot_period_transactions(table)
    assert len(ax.patches) == 2 * len(table)
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "4+"
    with pytest.raises(ValueError, match="period_transactions"):
        plot_period_transactions(pd.DataFrame({"x": [1]}))
