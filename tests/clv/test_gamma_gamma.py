"""GammaGammaModel: published CDNOW values, lifetimes, recovery, gradient, edge cases."""

from __future__ import annotations

import json
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime

from custintel import DataQualityWarning, SchemaError, calibration_holdout_split
from custintel.clv import GammaGammaModel
from custintel.clv._gamma_gamma_math import gamma_gamma_loglik
from custintel.datasets import make_transactions


def test_published_cdnow_values(cdnow_weeks: pd.DataFrame) -> None:
    # Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value": p 6.25, q 3.74,
    # gamma 15.44, LL -4,055.92 on the 946 repeat buyers of the CDNOW sample.
    model = GammaGammaModel().fit(cdnow_weeks)
    assert model.params_.round(2).tolist() == [6.25, 3.74, 15.44]
    assert model.log_likelihood_ == pytest.approx(-4055.92, abs=0.01)
    assert model.n_customers_ == 946
    assert model.converged_
    assert (model.bse_ > 0).all()


@pytest.mark.parametrize("point", [(6.25, 3.74, 15.44), (0.5, 1.2, 0.3), (40.0, 20.0, 300.0)])
def test_gradient_matches_finite_differences(point: tuple[float, float, float]) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(1, 200, 50).astype(float)
    m = rng.gamma(2.0, 20.0, 50)
    params = np.array(point)
    _, grad = gamma_gamma_loglik(params, x, m)
    numeric = approx_fprime(params, lambda p: gamma_gamma_loglik(p, x, m)[0].sum(), 1e-6 * params)
    np.testing.assert_allclose(grad.sum(axis=0), numeric, rtol=1e-4)


lifetimes = pytest.importorskip("lifetimes")


def test_matches_lifetimes_on_full_cdnow(cdnow: pd.DataFrame) -> None:
    table = calibration_holdout_split(
        cdnow, calibration_end="1997-09-30", observation_end="1998-06-30", duplicates="keep"
    )
    repeat = table[(table["frequency"] > 0) & (table["monetary_value"] > 0)]
    fitter = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    with pytest.warns(DataQualityWarning, match="mean repeat spend of 0"):
        ours = GammaGammaModel().fit(table)
    theirs = fitter.params_[["p", "q", "v"]].to_numpy()
    np.testing.assert_allclose(ours.params_.to_numpy(), theirs, rtol=1e-3)
    their_ll = -fitter._negative_log_likelihood_ * len(repeat)
    assert ours.log_likelihood_ >= their_ll - 1e-6
    expected = fitter.conditional_expected_average_profit(
        table["frequency"], table["monetary_value"]
    )
    np.testing.assert_allclose(ours.predict_spend(table), expected, rtol=1e-3)


def test_formula_matches_lifetimes_at_the_same_params(cdnow_weeks: pd.DataFrame) -> None:
    fitter = lifetimes.GammaGammaFitter()
    fitter.params_ = pd.Series({"p": 6.25, "q": 3.74, "v": 15.44})
    model = GammaGammaModel.from_dict(
        {
            "model": "GammaGammaModel",
            "format_version": 1,
            "params": {"p": 6.25, "q": 3.74, "gamma": 15.44},
            "log_likelihood": 0.0,
            "converged": True,
        }
    )
    expected = fitter.conditional_expected_average_profit(
        cdnow_weeks["frequency"], cdnow_weeks["monetary_value"]
    )
    np.testing.assert_allclose(model.predict_spend(cdnow_weeks), expected, rtol=1e-10)


@pytest.mark.slow
def test_parameter_recovery_from_simulated_transactions() -> None:
    # The model's unit is one transaction, so build (x, mean repeat order value) from the
    # simulated orders directly; the summary collapses same-day orders into one occasion.
    sim = make_transactions(100_000, random_state=1)
    orders = (
        sim.transactions.groupby("order_id")
        .agg(customer_id=("customer_id", "first"), ts=("timestamp", "first"), z=("amount", "sum"))
        .sort_values(["customer_id", "ts"])
    )
    repeat = orders[orders.groupby("customer_id").cumcount() > 0]
    stats = repeat.groupby("customer_id")["z"].agg(["count", "mean"])
    table = pd.DataFrame({"frequency": stats["count"], "monetary_value": stats["mean"]})
    model = GammaGammaModel().fit(table)
    for name, truth in sim.spend_params.items():
        assert abs(model.params_[name] - truth) < 3 * model.bse_[name], name


def test_zero_spend_repeat_buyers_are_excluded_with_a_warning() -> None:
    table = pd.DataFrame(
        {"frequency": [2, 3, 1, 0, 4, 2], "monetary_value": [10.0, 0.0, 12.0, 0.0, 8.0, 9.5]}
    )
    with pytest.warns(DataQualityWarning, match="1 repeat buyers have a mean repeat spend of 0"):
        model = GammaGammaModel(on_failure="warn").fit(table)
    assert model.n_excluded_ == 1
    assert model.n_customers_ == 4


def test_one_time_buyers_get_the_population_mean(cdnow_weeks: pd.DataFrame) -> None:
    model = GammaGammaModel().fit(cdnow_weeks)
    p, q, g = model.params_
    spend = model.predict_spend(cdnow_weeks)
    one_time = cdnow_weeks["frequency"] == 0
    np.testing.assert_allclose(spend[one_time], p * g / (q - 1))
    assert spend.index.equals(cdnow_weeks.index)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({"frequency": [1]}), "missing \\['monetary_value'\\]"),
        (pd.DataFrame({"frequency": [1.5], "monetary_value": [3.0]}), "not whole numbers"),
        (pd.DataFrame({"frequency": [1], "monetary_value": [np.nan]}), "NaN or infinite"),
        (pd.DataFrame({"frequency": [1], "monetary_value": [-3.0]}), "negative"),
    ],
)
def test_bad_input(table: pd.DataFrame, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        GammaGammaModel().fit(table)


def test_no_repeat_buyers() -> None:
    with pytest.raises(ValueError, match="needs repeat buyers"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0]}))


def test_round_trips(cdnow_weeks: pd.DataFrame, tmp_path) -> None:
    model = GammaGammaModel().fit(cdnow_weeks)
    expected = model.predict_spend(cdnow_weeks)
    restored = GammaGammaModel.from_dict(json.loads(json.dumps(model.to_dict())))
    pd.testing.assert_series_equal(restored.predict_spend(cdnow_weeks), expected)
    joblib.dump(model, tmp_path / "gg.joblib")
    pd.testing.assert_series_equal(
        joblib.load(tmp_path / "gg.joblib").predict_spend(cdnow_weeks), expected
    )
    assert pickle.loads(pickle.dumps(model)).params_.equals(model.params_)
    with pytest.raises(ValueError, match="not GammaGammaModel"):
        GammaGammaModel.from_dict({**model.to_dict(), "model": "BetaGeoModel"})
