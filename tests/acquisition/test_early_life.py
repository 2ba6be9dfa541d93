"""Early-life features, the training rows, and the early-life value model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from custintel.acquisition import EarlyLifeValueModel
from custintel.datasets import make_transactions
from custintel.exceptions import SchemaError
from custintel.features import EARLY_LIFE_COLUMNS, early_life_features, make_early_life_dataset

TX = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
        "order_id": ["1", "1", "2", "3", "4", "5", "6"],
        "item_id": ["X", "Y", "X", "Z", "X", "X", "Y"],
        "quantity": [1, 3, 1, 1, 2, 1, 1],
        "channel": ["web", "web", "shop", "shop", "shop", "web", "web"],
        "timestamp": pd.to_datetime(
            [
                "2024-01-01",
                "2024-01-01",
                "2024-01-08",
                "2024-02-15",
                "2024-01-03",
                "2024-03-30",
                "2024-03-20",
            ]
        ),
        "amount": [10.0, 30.0, 5.0, 50.0, 20.0, 7.0, 9.0],
    }
)


def test_features_at_each_customers_age_by_hand() -> None:
    X = early_life_features(TX, observation_end="2024-03-31")
    assert list(X.columns[: len(EARLY_LIFE_COLUMNS)]) == list(EARLY_LIFE_COLUMNS)
    a = X.loc["a"]
    assert a["age_days"] == 90 and a["first_amount"] == 40 and a["first_lines"] == 2
    assert a["first_items"] == 2 and a["first_quantity"] == 4
    assert (a["early_orders"], a["early_amount"], a["days_since_last"]) == (2, 55, 45)
    assert (a["acquisition_month"], a["acquisition_weekday"]) == (1, 0)  # a Monday
    assert X.loc["a", "channel"] == "web"  # the first day's channel, not the most frequent
    assert X.loc["c", "age_days"] == 11
    assert "b" in X.index  # 88 days old: still new
    assert early_life_features(
        TX, observation_end="2024-03-31", max_age_days=30
    ).index.tolist() == ["c"]


def test_training_rows_read_nothing_after_each_age_and_labels_fit_the_data() -> None:
    X, y = make_early_life_dataset(TX, horizon_days=30, ages=(0, 7), observation_end="2024-03-31")
    rows = pd.concat([X[["age_days", "early_amount"]], y], axis=1)
    at_0 = rows.loc[rows["age_days"] == 0]
    # a at age 0: knows the first day only; the next 30 days hold the 5.0 of day 7.
    assert at_0.loc["a", "early_amount"] == 0 and at_0.loc["a", "future_value"] == 5.0
    at_7 = rows.loc[rows["age_days"] == 7]
    # a at age 7: day 7 is known; the 30 days after it hold nothing (day 45 is later).
    assert at_7.loc["a", "early_amount"] == 5.0 and at_7.loc["a", "future_value"] == 0.0
    # c was acquired 11 days before the end: no 30-day label fits, so no row.
    assert "c" not in rows.index
    assert "b" in at_0.index and at_0.loc["b", "future_value"] == 0.0  # day 87 is outside


def test_cohorts_and_short_data_are_checked() -> None:
    X, _ = make_early_life_dataset(
        TX, horizon_days=30, ages=(0,), acquired_from="2024-01-02", observation_end="2024-03-31"
    )
    assert X.index.tolist() == ["b"]
    with pytest.raises(SchemaError, match="shorter horizon_days"):
        make_early_life_dataset(TX, horizon_days=365)
    with pytest.raises(ValueError, match="ages must be days >= 0"):
        make_early_life_dataset(TX, ages=(-1,))


@pytest.mark.slow
def test_the_model_learns_from_the_first_order_on_simulated_cohorts() -> None:
    # The simulator draws each order's value around the customer's own mean spend, so a
    # big first order announces a big spender: the model must rank by it.
    tx = make_transactions(4000, acquisition_days=365, random_state=3).transactions
    X, y = make_early_life_dataset(
        tx, horizon_days=365, ages=(0, 30), acquired_until="2023-06-30", duplicates="keep"
    )
    model = EarlyLifeValueModel().fit(X, y.clip(lower=0))
    new = early_life_features(
        tx.loc[tx["timestamp"] < "2024-01-01"],
        max_age_days=60,
        observation_end="2023-12-31",
        duplicates="keep",
    )
    forecast = model.predict(new)
    later = tx.loc[tx["timestamp"] >= "2024-01-01"].groupby("customer_id")["amount"].sum()
    truth = later.reindex(new.index, fill_value=0.0)
    assert stats.spearmanr(forecast, truth).statistic > 0.1
    assert (forecast >= 0).all() and forecast.name == "early_life_value"


def test_the_model_refuses_bad_input() -> None:
    X = pd.DataFrame({"age_days": [0.0, 1.0], "first_amount": [1.0, 2.0]})
    with pytest.raises(ValueError, match="negative values"):
        EarlyLifeValueModel().fit(X, [1.0, -2.0])
    with pytest.raises(SchemaError, match="neither"):
        EarlyLifeValueModel().fit(X.assign(note=["x", "y"]), [1.0, 2.0])
    fitted = EarlyLifeValueModel(min_samples_leaf=1).fit(X, [1.0, 2.0])
    with pytest.raises(SchemaError, match="lacks \\['first_amount'\\]"):
        fitted.predict(X[["age_days"]])


def test_unseen_categories_read_as_missing() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "first_amount": rng.gamma(2, 10, 600),
            "channel": pd.Categorical(rng.choice(["web", "shop"], 600)),
        }
    )
    y = rng.poisson(3, 600).astype(float)
    model = EarlyLifeValueModel().fit(X, y)
    new = pd.DataFrame({"first_amount": [20.0], "channel": pd.Categorical(["partner"])})
    assert np.isfinite(model.predict(new)).all()


@pytest.mark.slow
def test_a_planted_first_basket_signal_is_read_where_btyd_cannot() -> None:
    from custintel.clv import BetaGeoModel, GammaGammaModel
    from custintel.datasets import plant_first_basket_effects
    from custintel.features import summarize_customers

    sim = make_transactions(4000, acquisition_days=365, random_state=4)
    tx = plant_first_basket_effects(sim, strength=1.0)
    X, y = make_early_life_dataset(
        tx,
        horizon_days=365,
        ages=(0, 30, 60, 90),
        acquired_until="2023-06-30",
        duplicates="keep",
    )
    model = EarlyLifeValueModel().fit(X, y.clip(lower=0))
    today = "2023-12-31"
    past = tx.loc[tx["timestamp"] < "2024-01-01"]
    new = early_life_features(past, max_age_days=90, observation_end=today, duplicates="keep")
    later = tx.loc[tx["timestamp"] >= "2024-01-01"].groupby("customer_id")["amount"].sum()
    truth = later.reindex(new.index, fill_value=0.0)
    summary = summarize_customers(past, observation_end=today, duplicates="keep")
    purchases = BetaGeoModel().fit(summary).predict_purchases(summary, t=365)
    spend = GammaGammaModel().fit(summary[summary["frequency"] > 0]).predict_spend(summary)
    btyd = (purchases * spend).reindex(new.index)
    early = stats.spearmanr(model.predict(new), truth).statistic
    assert early > stats.spearmanr(btyd, truth).statistic + 0.1
