"""CLVModel with continuous discounting (DERT) and with tables in another time unit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from custintel.clv import CLVModel, ParetoNBDModel, continuous_discount_rate
from custintel.datasets import load_cdnow
from custintel.exceptions import SchemaError
from custintel.features import summarize_customers

pytestmark = pytest.mark.filterwarnings("ignore::custintel.exceptions.DataQualityWarning")


@pytest.fixture(scope="module")
def weekly():
    tx = load_cdnow()
    return summarize_customers(tx, observation_end="1997-09-30", time_unit="W", duplicates="keep")


@pytest.fixture(scope="module")
def clv(weekly) -> CLVModel:
    return CLVModel(purchase_model=ParetoNBDModel()).fit(weekly)


def test_continuous_without_discounting_equals_discrete_without_discounting(clv, weekly) -> None:
    X = weekly.head(200)
    discrete = clv.predict_clv(X, horizon=12, discount_rate=0.0)
    continuous = clv.predict_clv(X, horizon=12, discount_rate=0.0, discounting="continuous")
    np.testing.assert_allclose(continuous, discrete, rtol=1e-6)


def test_continuous_discounting_lies_between_end_of_period_and_none(clv, weekly) -> None:
    X = weekly.head(200)
    d = 0.01  # per month
    none = clv.predict_clv(X, horizon=24, discount_rate=0.0)
    end_of_period = clv.predict_clv(X, horizon=24, discount_rate=d)
    continuous = clv.predict_clv(
        X, horizon=24, discount_rate=math.log1p(d), discounting="continuous"
    )
    positive = none > 0
    assert (continuous[positive] < none[positive]).all()
    assert (continuous[positive] > end_of_period[positive]).all()


def test_the_whole_future_needs_a_positive_rate(clv, weekly) -> None:
    X = weekly.head(50)
    rate = continuous_discount_rate(0.1, time_unit="M")  # 10 % a year, per month
    forever = clv.predict_clv(X, horizon=math.inf, discount_rate=rate, discounting="continuous")
    ten_years = clv.predict_clv(X, horizon=120, discount_rate=rate, discounting="continuous")
    assert (forever >= ten_years - 1e-9).all()
    with pytest.raises(ValueError, match="discounting must be"):
        clv.predict_clv(X, horizon=12, discounting="annual")
    with pytest.raises(ValueError, match="discrete' only"):
        clv.predict_clv(X, horizon=12, discounting="continuous", interval=0.9)


def test_a_table_in_another_time_unit_is_refused(clv) -> None:
    daily = summarize_customers(
        load_cdnow(), observation_end="1997-09-30", time_unit="D", duplicates="keep"
    )
    with pytest.raises(SchemaError, match="W") as err:
        clv.predict_clv(daily.head(10), horizon=12)
    assert err.value.reason == "time_unit_mismatch"
