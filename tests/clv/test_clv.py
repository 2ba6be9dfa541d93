"""CLVModel: equality with lifetimes' customer_lifetime_value, margins, discounting, export."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest

from custintel.clv import BetaGeoModel, CLVModel, GammaGammaModel


@pytest.fixture(scope="module")
def table(cdnow_weeks: pd.DataFrame) -> pd.DataFrame:
    return cdnow_weeks


@pytest.fixture(scope="module")
def fitted(table: pd.DataFrame) -> CLVModel:
    return CLVModel().fit(table)


lifetimes = pytest.importorskip("lifetimes")


def test_equals_lifetimes_customer_lifetime_value(table: pd.DataFrame, fitted: CLVModel) -> None:
    bg = lifetimes.BetaGeoFitter().fit(table["frequency"], table["recency"], table["T"])
    repeat = table[(table["frequency"] > 0) & (table["monetary_value"] > 0)]
    gg = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    expected = gg.customer_lifetime_value(
        bg,
        table["frequency"],
        table["recency"],
        table["T"],
        table["monetary_value"],
        time=12,
        discount_rate=0.01,
        freq="W",
    )
    # lifetimes' month in weeks is 4.345
    ours = fitted.predict_clv(table, horizon=12, discount_rate=0.01, period_length=4.345)
    np.testing.assert_allclose(ours.to_numpy(), expected.to_numpy(), rtol=1e-3)


def test_default_period_is_a_month_from_the_table_time_unit(
    table: pd.DataFrame, fitted: CLVModel
) -> None:
    default = fitted.predict_clv(table, horizon=6)
    explicit = fitted.predict_clv(table, horizon=6, period_length=30.4375 / 7)
    pd.testing.assert_series_equal(default, explicit)
    bare = table.copy()
    bare.attrs = {}
    model = CLVModel().fit(bare)
    with pytest.raises(ValueError, match="pass period_length"):
        model.predict_clv(bare, horizon=6)


def test_clv_is_purchases_times_spend_without_discounting(
    table: pd.DataFrame, fitted: CLVModel
) -> None:
    # with no discount the sum telescopes: CLV = margin * E[spend] * E[purchases in K periods]
    value = fitted.predict_clv(table, horizon=4, margin=0.25, period_length=13.0)
    purchases = fitted.predict_purchases(table, t=52.0)
    spend = fitted.predict_spend(table)
    np.testing.assert_allclose(value, 0.25 * spend * purchases, rtol=1e-12)


def test_discounting_and_margins(table: pd.DataFrame, fitted: CLVModel) -> None:
    plain = fitted.predict_clv(table, horizon=12)
    discounted = fitted.predict_clv(table, horizon=12, discount_rate=0.05)
    assert (discounted <= plain + 1e-12).all()
    assert (plain >= 0).all()
    per_customer = pd.Series(0.5, index=table.index[::-1])  # aligned by customer, not position
    pd.testing.assert_series_equal(
        fitted.predict_clv(table, horizon=12, margin=per_customer), plain * 0.5
    )
    with pytest.raises(ValueError, match="margin has no value for customers"):
        fitted.predict_clv(table, horizon=12, margin=per_customer.iloc[1:])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "horizon must be"),
        ({"horizon": 2.5}, "horizon must be"),
        ({"horizon": 3, "discount_rate": -1.0}, "discount_rate"),
        ({"horizon": 3, "period_length": 0.0}, "period_length"),
    ],
)
def test_bad_arguments(table: pd.DataFrame, fitted: CLVModel, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fitted.predict_clv(table, **kwargs)


def test_custom_models_are_cloned(table: pd.DataFrame) -> None:
    purchase = BetaGeoModel(penalizer=0.001)
    model = CLVModel(purchase_model=purchase, spend_model=GammaGammaModel()).fit(table)
    assert not hasattr(purchase, "params_")
    assert model.purchase_model_.penalizer == 0.001


def test_round_trips(table: pd.DataFrame, fitted: CLVModel, tmp_path) -> None:
    expected = fitted.predict_clv(table, horizon=12, discount_rate=0.01)
    restored = CLVModel.from_dict(json.dumps(fitted.to_dict()))
    pd.testing.assert_series_equal(
        restored.predict_clv(table, horizon=12, discount_rate=0.01), expected
    )
    joblib.dump(fitted, tmp_path / "clv.joblib")
    loaded = joblib.load(tmp_path / "clv.joblib")
    pd.testing.assert_series_equal(
        loaded.predict_clv(table, horizon=12, discount_rate=0.01), expected
    )
