"""predict_clv evaluates a Pareto/NBD posterior once for all months: the same values.

The definition is the sum over months ``k`` of the purchases expected in month
``k`` (``predict_purchases`` at ``k`` periods minus at ``k - 1``), discounted,
times the margin and the expected spend. Written out here with one
``predict_purchases`` call per month, it must equal ``predict_clv`` to the
last bit, for the Pareto/NBD fast path and for a model without one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel.clv import BetaGeoModel, CLVModel, ParetoNBDModel
from custintel.clv import _pareto_nbd_math as pareto_math


@pytest.fixture(scope="module")
def table(cdnow_weeks: pd.DataFrame) -> pd.DataFrame:
    return cdnow_weeks


def _by_definition(
    model: CLVModel, X: pd.DataFrame, horizon: int, rate: float, margin: float, step: float
) -> np.ndarray:
    total = np.zeros(len(X))
    previous = np.zeros(len(X))
    for k in range(1, horizon + 1):
        cumulative = model.purchase_model_.predict_purchases(X, t=k * step).to_numpy()
        total += (cumulative - previous) / (1.0 + rate) ** k
        previous = cumulative
    spend = model.spend_model_.predict_spend(X).to_numpy()
    value = margin * spend * total
    value[total == 0] = 0.0
    return value


@pytest.mark.slow
@pytest.mark.parametrize("purchase_model", [ParetoNBDModel, BetaGeoModel])
def test_predict_clv_equals_the_sum_of_monthly_purchases(
    table: pd.DataFrame, purchase_model: type
) -> None:
    model = CLVModel(purchase_model=purchase_model()).fit(table)
    got = model.predict_clv(table, horizon=13, discount_rate=0.01, margin=0.3, period_length=4.35)
    expected = _by_definition(model, table, 13, 0.01, 0.3, 4.35)
    assert np.array_equal(got.to_numpy(), expected)
    assert got.index.equals(table.index)
    assert (got > 0).any()


def test_expected_purchases_by_equals_one_horizon_at_a_time() -> None:
    params = np.array([0.55, 10.6, 0.61, 11.7])  # about the CDNOW fit, in weeks
    x = np.array([0.0, 1.0, 2.0, 2.0, 7.0, 0.0])
    t_x = np.array([0.0, 30.4, 10.0, 10.0, 35.0, 0.0])
    T = np.array([38.9, 38.9, 20.0, 20.0, 39.0, 0.5])
    times = [0.0, 4.35, 8.7, 52.0]
    by = pareto_math.expected_purchases_by(params, x, t_x, T, times)
    assert len(by) == len(times)
    for t, values in zip(times, by, strict=True):
        assert np.array_equal(values, pareto_math.expected_purchases(params, x, t_x, T, t))
    assert np.all(by[0] == 0.0)  # nothing is bought in no time
    assert np.all(np.diff(np.stack(by), axis=0) >= 0)  # more time, more purchases
