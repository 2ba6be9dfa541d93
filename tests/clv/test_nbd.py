"""The NBD model, and BG/NBD, MBG/NBD and Pareto/NBD fits that reduce to it (boundary solutions)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from custintel.clv import (
    BetaGeoModel,
    CLVModel,
    ModifiedBetaGeoModel,
    NBDModel,
    ParetoNBDModel,
)
from custintel.clv import _beta_geo_math as bgm
from custintel.clv import _nbd_math as nbd
from custintel.clv import _pareto_nbd_math as pnm
from custintel.exceptions import DataQualityWarning, InvalidModelError

NO_DROPOUT = (
    "no evidence of dropout in this window: P(alive) is 1 for everyone; forecasts equal "
    "the NBD model's"
)


def _simulate(n: int = 4000, *, r: float = 0.8, alpha: float = 60.0, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.uniform(100, 365, n)
    return NBDModel.from_dict(
        {
            "model": "NBDModel",
            "format_version": 1,
            "params": {"r": r, "alpha": alpha},
            "log_likelihood": None,
            "converged": True,
        }
    ).sample(n, T=T, random_state=rng)


@pytest.fixture(scope="module")
def nbd_data() -> pd.DataFrame:
    return _simulate()


def test_hand_computed_case() -> None:
    # r = 2, alpha = 10; x = 3 repeat purchases over T = 5:
    # log L = log G(5) - log G(2) + 2 log 10 - 5 log 15 = log 24 + 4.605170 - 13.540251
    params = np.array([2.0, 10.0])
    x, t_x, T = np.array([3.0, 0.0]), np.array([4.0, 0.0]), np.array([5.0, 5.0])
    ll, _ = nbd.nbd_loglik(params, x, t_x, T)
    assert ll[0] == pytest.approx(math.log(24) + 2 * math.log(10) - 5 * math.log(15), rel=1e-12)
    # x = 0: (alpha / (alpha + T))^r = (10 / 15)^2
    assert ll[1] == pytest.approx(2 * math.log(10 / 15), rel=1e-12)
    # E[Y(10)] = 10 (2 + 3) / (10 + 5) = 3.3333; P(Y(10) = 0) = (15 / 25)^5 = 0.07776
    assert nbd.expected_purchases(params, x, t_x, T, 10.0)[0] == pytest.approx(10 / 3)
    assert nbd.proba_no_purchase(params, x, t_x, T, 10.0)[0] == pytest.approx(0.6**5)
    # a new customer: E[X(10)] = 2 * 10 / 10 = 2
    assert nbd.expected_purchases_new_customer(params, np.array([10.0]))[0] == pytest.approx(2.0)


def test_likelihood_is_the_count_likelihood_up_to_a_constant() -> None:
    params = np.array([0.7, 30.0])
    x = np.array([0.0, 1.0, 4.0, 25.0])
    T = np.array([10.0, 50.0, 200.0, 365.0])
    ll, _ = nbd.nbd_loglik(params, x, x, T)
    count = stats.nbinom.logpmf(x, params[0], params[1] / (params[1] + T))
    factor = x * np.log(T) - np.array([math.lgamma(v + 1) for v in x])  # log T^x / x!
    np.testing.assert_allclose(ll + factor, count, rtol=1e-10)


def test_gradient_matches_finite_differences() -> None:
    params = np.array([0.9, 45.0])
    x, T = np.array([0.0, 3.0, 17.0]), np.array([20.0, 100.0, 300.0])
    _, grad = nbd.nbd_loglik(params, x, x, T)
    for j in range(2):
        step = 1e-6 * params[j]
        up, down = params.copy(), params.copy()
        up[j] += step
        down[j] -= step
        numeric = (nbd.nbd_loglik(up, x, x, T)[0] - nbd.nbd_loglik(down, x, x, T)[0]) / (2 * step)
        np.testing.assert_allclose(grad[:, j], numeric, rtol=1e-6)


def test_bg_nbd_and_pareto_nbd_likelihoods_tend_to_the_nbd_likelihood() -> None:
    x = np.array([0.0, 1.0, 5.0, 40.0])
    t_x = np.array([0.0, 20.0, 150.0, 300.0])
    T = np.array([30.0, 100.0, 200.0, 365.0])
    target, _ = nbd.nbd_loglik(np.array([0.8, 60.0]), x, t_x, T)
    gaps = []
    for a in (1e-2, 1e-4, 1e-6, 1e-8):
        ll, _ = bgm.beta_geo_loglik(np.array([0.8, 60.0, a, 5.0]), x, t_x, T)
        gaps.append(np.max(np.abs(ll - target)))
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-6
    modified, _ = bgm.beta_geo_loglik(np.array([0.8, 60.0, 1e-9, 5.0]), x, t_x, T, modified=True)
    np.testing.assert_allclose(modified, target, atol=1e-6)
    pareto, _ = pnm.pareto_nbd_loglik(np.array([0.8, 60.0, 1e-9, 50.0]), x, t_x, T)
    np.testing.assert_allclose(pareto, target, atol=1e-6)


@pytest.mark.slow
def test_parameters_are_recovered_from_simulated_data() -> None:
    X = _simulate(8000, r=0.8, alpha=60.0, seed=7)
    model = NBDModel().fit(X)
    np.testing.assert_allclose(model.params_.to_numpy(), [0.8, 60.0], rtol=0.1)
    se = model.bse_.to_numpy()
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    assert model.predict_proba_alive(X).eq(1.0).all()


def test_json_round_trip_and_clv_bundle(nbd_data: pd.DataFrame) -> None:
    model = NBDModel().fit(nbd_data)
    again = NBDModel.from_dict(json.loads(json.dumps(model.to_dict())))
    pd.testing.assert_series_equal(
        again.predict_purchases(nbd_data, t=30), model.predict_purchases(nbd_data, t=30)
    )
    with pytest.raises(InvalidModelError):
        NBDModel.from_dict({**model.to_dict(), "params": {"r": -1.0, "alpha": 2.0}})
    # Gamma-Gamma spend: nu ~ Gamma(q = 4, rate 15), mean of x amounts ~ Gamma(6 x, rate nu x)
    rng = np.random.default_rng(0)
    x = nbd_data["frequency"].to_numpy()
    nu = rng.gamma(4.0, 1 / 15.0, len(x))
    spend = rng.gamma(6.0 * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1)))
    table = nbd_data.assign(monetary_value=np.where(x > 0, spend, 0.0))
    clv = CLVModel(purchase_model=NBDModel()).fit(table)
    restored = CLVModel.from_dict(json.dumps(clv.to_dict()))
    assert isinstance(restored.purchase_model_, NBDModel)
    pd.testing.assert_series_equal(
        restored.predict_clv(table, horizon=6, period_length=30.0),
        clv.predict_clv(table, horizon=6, period_length=30.0),
    )


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_fit_at_the_boundary_is_the_nbd_model(cls: type, nbd_data: pd.DataFrame) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = cls().fit(nbd_data)  # no ConvergenceError, even for Pareto/NBD
    said = [w for w in caught if issubclass(w.category, DataQualityWarning)]
    assert len(said) == 1 and NO_DROPOUT in str(said[0].message)
    assert "likelihood-ratio test" in str(said[0].message)
    assert model.boundary_ and model.converged_
    test = model.dropout_test_
    assert test.boundary and test.statistic < 0.01 and test.p_value > 0.4
    assert "50:50 mixture" in test.distribution
    nested = model.nested_model_
    assert isinstance(nested, NBDModel)
    np.testing.assert_allclose(nested.params_.to_numpy(), [0.8, 60.0], rtol=0.15)
    assert model.predict_proba_alive(nbd_data).eq(1.0).all()
    pd.testing.assert_series_equal(
        model.predict_purchases(nbd_data, t=90), nested.predict_purchases(nbd_data, t=90)
    )
    pd.testing.assert_series_equal(
        model.predict_proba_no_purchase(nbd_data, t=90),
        nested.predict_proba_no_purchase(nbd_data, t=90),
    )
    # the export keeps the outcome, and from_dict checks it
    export = json.loads(json.dumps(model.to_dict()))
    again = cls.from_dict(export)
    assert again.boundary_
    pd.testing.assert_series_equal(
        again.predict_purchases(nbd_data, t=90), model.predict_purchases(nbd_data, t=90)
    )
    export["dropout_test"]["p_value"] = 2.0
    with pytest.raises(InvalidModelError, match="p_value"):
        cls.from_dict(export)


def test_data_with_dropout_are_not_a_boundary(cdnow_weeks: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        model = BetaGeoModel().fit(cdnow_weeks)
    assert not model.boundary_
    assert model.dropout_test_.statistic > 100 and model.dropout_test_.p_value < 1e-10
    assert model.predict_proba_alive(cdnow_weeks).min() < 0.5
    assert BetaGeoModel.from_dict(model.to_dict()).dropout_test_.p_value < 1e-10


def _transactions(seed: int = 3, n: int = 1500) -> pd.DataFrame:
    """An NBD purchase log over one year: first purchases in the first 150 days, no dropout."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-01-01")
    rows = []
    for i in range(n):
        first = rng.uniform(0, 150)
        rate = rng.gamma(0.8, 1 / 40.0)
        count = rng.poisson(rate * (365 - first))
        times = np.concatenate([[first], rng.uniform(first, 365, count)])
        for t in times:
            rows.append((f"c{i:05d}", start + pd.Timedelta(days=float(t)), 10.0 + rng.gamma(2, 5)))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


@pytest.mark.slow
def test_model_choice_compares_boundary_candidates_as_the_nbd() -> None:
    from custintel.pipeline._steps import fit_clv, select_clv_model
    from custintel.schema import validate_transactions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tx = validate_transactions(_transactions())
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # said in the notes, not warned
        selection, _, chosen = select_clv_model(
            tx, end=pd.Timestamp("2021-12-31"), holdout_days=120
        )
    assert chosen == "NBD"
    assert selection.loc["BG/NBD", "boundary"] and selection.loc["Pareto/NBD", "boundary"]
    assert not selection.loc["NBD", "boundary"] and selection.loc["NBD", "chosen"]
    assert (selection["lr_p_value"].dropna() > 0.4).all()
    model = fit_clv(
        __import__("custintel").summarize_customers(tx, observation_end="2021-12-31"), chosen
    )
    assert isinstance(model.purchase_model_, NBDModel)
