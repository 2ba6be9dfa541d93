"""churn_features: the feature half of make_churn_dataset, without a label window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel.datasets import make_transactions
from custintel.features import churn_features, make_churn_dataset


@pytest.fixture
def small_tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 3, 1],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 00:00",
                    "2024-01-11 15:00",
                    "2024-02-05 00:00",
                    "2024-01-05 00:00",
                    "2024-01-25 00:00",
                    "2024-01-11 09:00",  # same day as the 15:00 row: one occasion
                ]
            ),
            "amount": [10.0, 20.0, 5.0, 8.0, 3.0, 4.0],
        }
    )


def test_hand_computed_at_the_end_of_the_data(small_tx: pd.DataFrame) -> None:
    # cutoff 2024-02-10 is after the last transaction: make_churn_dataset cannot label it,
    # churn_features still builds the features. window = 16 // 2 = 8 days.
    X = churn_features(small_tx, cutoff="2024-02-10", horizon=16)
    assert X.index.tolist() == [1, 2, 3]
    one = X.loc[1]
    # occasions 01-01 (10), 01-11 (20 + 4 = 24), 02-05 (5); gaps 10 and 25 days
    assert one["frequency"] == 2 and one["days_since_last"] == 5  # 02-10 - 02-05
    assert one["last_gap_days"] == 25 and one["gap_max_days"] == 25
    assert one["recency_to_gap_mean"] == pytest.approx(5 / 17.5)  # mean gap (10 + 25) / 2
    assert one["recency_to_gap_max"] == pytest.approx(5 / 25)
    # recent (02-02, 02-10]: the 02-05 occasion; earlier (01-25, 02-02]: nothing
    assert one["occasions_recent"] == 1 and one["occasions_earlier"] == 0
    assert one["spend_recent"] == 5 and one["spend_trend"] == 5
    assert one["mean_spend"] == pytest.approx(13.0)  # (10 + 24 + 5) / 3
    # tenure 01-01 -> 02-10 = 40 days: 30 * 3 occasions / 41
    assert one["purchase_rate"] == pytest.approx(90 / 41)
    assert X.loc[3, "days_since_last"] == 16 and np.isnan(X.loc[3, "last_gap_days"])
    assert X.attrs == {"cutoff": "2024-02-10", "horizon": 16, "window": 8}


def test_equals_make_churn_dataset_hand_case(small_tx: pd.DataFrame) -> None:
    X, _ = make_churn_dataset(small_tx, cutoff="2024-01-20", horizon=16)
    features = churn_features(small_tx, cutoff="2024-01-20", horizon=16)
    pd.testing.assert_frame_equal(features, X)
    assert features.attrs == X.attrs
    # by hand: customer 1 has occasions 01-01 and 01-11, so 9 days since last, one gap of 10
    assert features.loc[1, "days_since_last"] == 9 and features.loc[1, "last_gap_days"] == 10
    # without a horizon the window is given directly: same table
    by_window = churn_features(small_tx, cutoff="2024-01-20", window=8)
    pd.testing.assert_frame_equal(by_window, X)
    assert "horizon" not in by_window.attrs


@pytest.mark.parametrize("cutoff", ["2023-04-30", "2023-09-15"])
def test_equals_make_churn_dataset_on_synthetic_data(cutoff: str) -> None:
    tx = make_transactions(400, random_state=3).transactions
    X, _ = make_churn_dataset(tx, cutoff=cutoff, horizon=60, duplicates="keep", min_history=7)
    features = churn_features(tx, cutoff=cutoff, horizon=60, duplicates="keep", min_history=7)
    pd.testing.assert_frame_equal(features, X)
    assert "region" in features.columns  # attributes come along


def test_default_window_and_btyd(small_tx: pd.DataFrame) -> None:
    assert churn_features(small_tx, cutoff="2024-01-20").attrs["window"] == 45
    with pytest.raises(ValueError, match="horizon"):
        churn_features(small_tx, cutoff="2024-01-20", btyd="bgnbd")


def test_clear_errors(small_tx: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="before the first transaction"):
        churn_features(small_tx, cutoff="2023-12-01")
    with pytest.raises(ValueError, match="window"):
        churn_features(small_tx, cutoff="2024-01-20", window=0)
    with pytest.raises(ValueError, match="min_history"):
        churn_features(small_tx, cutoff="2024-01-20", min_history=-1)
    with pytest.raises(TypeError, match="make_churn_dataset"):
        churn_features(small_tx.to_dict("list"), cutoff="2024-01-20")


def test_does_not_mutate_input(small_tx: pd.DataFrame) -> None:
    before = small_tx.copy()
    churn_features(small_tx, cutoff="2024-01-20", horizon=16)
    pd.testing.assert_frame_equal(small_tx, before)
