"""make_churn_dataset: hand-computed features, labels, no leakage, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custintel.datasets import make_transactions
from custintel.exceptions import SchemaError
from custintel.features import make_churn_dataset


@pytest.fixture
def small_tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 3, 1],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 00:00",
                    "2024-01-11 15:00",
                    "2024-02-05 00:00",  # after the cutoff, inside the horizon
                    "2024-01-05 00:00",
                    "2024-01-25 00:00",  # customer 3 is first seen after the cutoff
                    "2024-01-11 09:00",  # same day as the 15:00 row: one occasion
                ]
            ),
            "amount": [10.0, 20.0, 5.0, 8.0, 3.0, 4.0],
        }
    )


def test_hand_computed_features_and_labels(small_tx: pd.DataFrame) -> None:
    # cutoff 2024-01-20, horizon 16 days -> label window (01-20, 02-05]; window = 16 // 2 = 8.
    X, y = make_churn_dataset(small_tx, cutoff="2024-01-20", horizon=16)
    assert X.index.tolist() == [1, 2]  # customer 3 starts after the cutoff
    assert y.tolist() == [0, 1]  # 1 buys on 02-05; 2 never comes back
    one = X.loc[1]
    # occasions on 01-01 (10) and 01-11 (20 + 4 = 24)
    assert one["frequency"] == 1 and one["recency"] == 10 and one["T"] == 19
    assert one["days_since_last"] == 9  # 01-20 - 01-11
    assert one["last_gap_days"] == 10 and one["gap_max_days"] == 10
    assert one["recency_to_gap_mean"] == pytest.approx(0.9)  # 9 / 10
    assert one["recency_share"] == pytest.approx(9 / 20)  # 9 / (19 + 1)
    assert np.isnan(one["recency_gap_z"])  # one gap: no std
    # recent window (01-12, 01-20]: nothing; earlier (01-04, 01-12]: the 01-11 occasion, 24
    assert one["occasions_recent"] == 0 and one["occasions_earlier"] == 1
    assert one["spend_earlier"] == 24 and one["spend_trend"] == -24
    assert one["frequency_trend"] == -1
    assert one["purchase_rate"] == pytest.approx(3.0)  # 30 * 2 occasions / (19 + 1) days
    assert one["mean_spend"] == pytest.approx(17.0)  # (10 + 24) / 2
    two = X.loc[2]
    assert two["frequency"] == 0 and np.isnan(two["last_gap_days"])
    assert two["days_since_last"] == 15
    assert "first_purchase" not in X.columns
    assert y.name == "churn" and X.index.name == "customer_id"
    assert X.attrs["cutoff"] == "2024-01-20" and X.attrs["horizon"] == 16


def test_input_not_mutated(small_tx: pd.DataFrame) -> None:
    before = small_tx.copy()
    make_churn_dataset(small_tx, cutoff="2024-01-20", horizon=16)
    pd.testing.assert_frame_equal(small_tx, before)


def test_min_history_filters_new_customers(small_tx: pd.DataFrame) -> None:
    # customer 2 has tenure 15 days, customer 1 has 19
    X, y = make_churn_dataset(small_tx, cutoff="2024-01-20", horizon=16, min_history=16)
    assert X.index.tolist() == [1] and y.tolist() == [0]


def test_refund_after_cutoff_is_not_a_purchase(small_tx: pd.DataFrame) -> None:
    refund = pd.DataFrame(
        {"customer_id": [2], "timestamp": [pd.Timestamp("2024-01-30")], "amount": [-8.0]}
    )
    _, y = make_churn_dataset(
        pd.concat([small_tx, refund], ignore_index=True), cutoff="2024-01-20", horizon=16
    )
    assert y.loc[2] == 1


@pytest.fixture(scope="module")
def sim_tx() -> pd.DataFrame:
    return make_transactions(300, random_state=1).transactions


def test_attributes_are_categorical_features(sim_tx: pd.DataFrame) -> None:
    X, y = make_churn_dataset(sim_tx, cutoff="2024-06-30", horizon=90)
    for role in ("customer_type", "region", "channel"):
        assert isinstance(X[role].dtype, pd.CategoricalDtype)
    assert set(y.unique()) == {0, 1}
    assert (X["T"] >= X["recency"]).all()


def test_no_leakage_when_the_future_changes(sim_tx: pd.DataFrame) -> None:
    cutoff = pd.Timestamp("2024-03-31")
    X, _ = make_churn_dataset(sim_tx, cutoff=cutoff, horizon=90, btyd="bgnbd")
    changed = sim_tx.copy()
    late = changed["timestamp"] >= cutoff + pd.Timedelta(days=1)
    rng = np.random.default_rng(0)
    changed.loc[late, "amount"] = rng.uniform(1, 500, late.sum())
    changed["region"] = changed["region"].cat.add_categories(["Nowhere"])
    changed.loc[late, "region"] = "Nowhere"
    changed.loc[late, "timestamp"] += pd.to_timedelta(rng.integers(0, 20, late.sum()), unit="D")
    changed = changed.loc[~late | (rng.random(len(changed)) < 0.5)]  # drop half the future
    extra = changed.iloc[[0]].assign(
        customer_id=10_000, order_id=10_000, timestamp=pd.Timestamp("2024-04-02")
    )
    X2, _ = make_churn_dataset(pd.concat([changed, extra]), cutoff=cutoff, horizon=90, btyd="bgnbd")
    pd.testing.assert_frame_equal(X, X2)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 59), st.floats(0, 100)), min_size=3, max_size=30
    ),
    future=st.lists(
        st.tuples(st.integers(0, 8), st.integers(31, 60), st.floats(0, 100)), max_size=10
    ),
)
def test_property_future_rows_never_change_features(
    data: list[tuple[int, int, float]], future: list[tuple[int, int, float]]
) -> None:
    # Day 0 is 2024-01-01; cutoff day 30; rows on days 31..60 are the future.
    anchor = [(0, 0, 1.0), (0, 60, 1.0)]  # the data always spans the cutoff and horizon
    base = pd.DataFrame(anchor + data, columns=["customer_id", "day", "amount"])
    base["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(base["day"], unit="D")
    past = base.loc[base["day"] <= 30]
    other = pd.DataFrame(anchor + future, columns=["customer_id", "day", "amount"])
    other["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(other["day"], unit="D")
    X1, y1 = make_churn_dataset(
        base.drop(columns="day"), cutoff="2024-01-31", horizon=30, duplicates="keep"
    )
    X2, _ = make_churn_dataset(
        pd.concat([past, other.loc[other["day"] > 30]]).drop(columns="day"),
        cutoff="2024-01-31",
        horizon=30,
        duplicates="keep",
    )
    pd.testing.assert_frame_equal(X1, X2)
    assert y1.isin([0, 1]).all()
    assert set(X1.index) == set(past["customer_id"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cutoff": "2023-12-01", "horizon": 16}, "outside the data"),
        ({"cutoff": "2024-03-01", "horizon": 16}, "outside the data"),
        ({"cutoff": "2024-01-25", "horizon": 16}, "runs past the last transaction"),
        ({"cutoff": "2024-01-20", "horizon": 0}, "horizon must be a whole number of days > 0"),
        ({"cutoff": "2024-01-20", "horizon": -5}, "horizon must be"),
        ({"cutoff": "2024-01-20", "horizon": 2.5}, "horizon must be"),
        ({"cutoff": "2024-01-20", "horizon": 16, "window": 0}, "window must be"),
        ({"cutoff": "2024-01-20", "horizon": 16, "min_history": -1}, "min_history"),
        ({"cutoff": "2024-01-20", "horizon": 16, "min_history": 100}, "no customer"),
        ({"cutoff": "2024-01-20", "horizon": 16, "btyd": "xyz"}, "btyd must be"),
    ],
)
def test_bad_arguments(small_tx: pd.DataFrame, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_churn_dataset(small_tx, **kwargs)


def test_bad_cutoff_string(small_tx: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="cutoff"):
        make_churn_dataset(small_tx, cutoff="not a date", horizon=16)
