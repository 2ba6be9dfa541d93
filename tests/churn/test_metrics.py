"""Churn metrics: hand-computed values and agreement with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from custintel.churn import churn_metrics, expected_calibration_error, gains_table, top_decile_lift


def test_ece_hand_computed() -> None:
    # bins of width 0.5: [0.05] -> |0 - 0.05| = 0.05; [0.95, 0.95, 0.55] -> |3 - 2.45| = 0.55
    # ECE = (0.05 + 0.55) / 4 = 0.15
    assert expected_calibration_error([0, 1, 1, 1], [0.05, 0.95, 0.95, 0.55], n_bins=2) == (
        pytest.approx(0.15)
    )


def test_gains_table_hand_computed() -> None:
    # 10 customers, 4 positives (base rate 0.4); sorted by score: 1 1 0 1 0 0 1 0 0 0
    y = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
    score = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    table = gains_table(y, score, n_bins=5)
    # groups of two: positives 2, 1, 0, 1, 0 -> rates 1, .5, 0, .5, 0 -> lifts 2.5, 1.25, 0, 1.25, 0
    assert table["positives"].tolist() == [2, 1, 0, 1, 0]
    assert table["lift"].tolist() == pytest.approx([2.5, 1.25, 0, 1.25, 0])
    assert table["gain"].tolist() == pytest.approx([0.5, 0.75, 0.75, 1.0, 1.0])
    assert table["cumulative_lift"].iloc[1] == pytest.approx(0.75 / 0.4)
    assert top_decile_lift(y, score) == pytest.approx(2.5)  # top 1 of 10 is a positive


def test_ece_matches_calibration_curve() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(size=2000)
    y = (rng.uniform(size=2000) < p**1.5).astype(int)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts = np.histogram(p, bins=np.linspace(0, 1, 11))[0]
    counts = counts[counts > 0]
    expected = np.sum(counts / counts.sum() * np.abs(prob_true - prob_pred))
    assert expected_calibration_error(y, p) == pytest.approx(expected)


def test_metrics_lift_reads_the_rarer_outcome() -> None:
    # churn is the majority (3 of 4): the lift is that of returners among the lowest scores
    metrics = churn_metrics([1, 1, 1, 0], [0.9, 0.8, 0.7, 0.1])
    assert metrics["roc_auc"] == 1.0 and metrics["base_rate"] == 0.75
    assert metrics["top_decile_lift"] == pytest.approx(4.0)  # 1 / 0.25


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=2, max_size=60).filter(
        lambda rows: len({r[0] for r in rows}) == 2
    )
)
def test_metric_ranges(rows: list[tuple[int, float]]) -> None:
    y, p = zip(*rows, strict=True)
    m = churn_metrics(y, p)
    assert 0 <= m["roc_auc"] <= 1 and 0 <= m["brier"] <= 1 and 0 <= m["ece"] <= 1
    table = gains_table(y, p)
    assert table["gain"].iloc[-1] == pytest.approx(1.0)
    assert table["customers"].sum() == len(y)


def test_metric_errors() -> None:
    with pytest.raises(ValueError, match="one class"):
        churn_metrics([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="only 0 and 1"):
        churn_metrics([2, 0], [0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        churn_metrics([1, 0], [np.nan, 0.3])
    with pytest.raises(ValueError, match="probabilities"):
        expected_calibration_error([1, 0], [3.0, 0.3])
