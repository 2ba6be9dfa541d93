"""Prediction intervals from the parameters' uncertainty (issue 22)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from custintel.clv import (
    BetaGeoModel,
    CLVModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)
from custintel.clv import _beta_geo_math as bgm
from custintel.clv import _pareto_nbd_math as pnm
from custintel.clv._base import draw_parameters
from custintel.datasets import load_cdnow_summary


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    X = load_cdnow_summary()
    rng = np.random.default_rng(3)
    return X.assign(group=rng.integers(0, 2, len(X)).astype(float))


@pytest.fixture(scope="module")
def bg(cdnow) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow)


def test_interval_frame(bg, cdnow):
    X = cdnow.iloc[:300]
    frame = bg.predict_purchases(X, t=39, interval=0.9, random_state=0)
    assert list(frame.columns) == ["expected_purchases", "lower", "upper"]
    assert frame.index.equals(X.index)
    pd.testing.assert_series_equal(frame["expected_purchases"], bg.predict_purchases(X, t=39))
    assert (frame["lower"] <= frame["upper"]).all()
    # the point estimate lies inside its interval for (nearly) every customer
    inside = (frame["lower"] <= frame["expected_purchases"]) & (
        frame["expected_purchases"] <= frame["upper"]
    )
    assert inside.mean() > 0.95
    again = bg.predict_purchases(X, t=39, interval=0.9, random_state=0)
    pd.testing.assert_frame_equal(frame, again)
    wider = bg.predict_purchases(X, t=39, interval=0.99, random_state=0)
    assert (wider["upper"] - wider["lower"] >= frame["upper"] - frame["lower"]).all()


@pytest.mark.parametrize("method", ["predict_proba_alive", "predict_proba_no_purchase"])
def test_probability_intervals_stay_in_unit_interval(bg, cdnow, method):
    kwargs = {"t": 20} if method == "predict_proba_no_purchase" else {}
    frame = getattr(bg, method)(cdnow, interval=0.8, n_draws=50, random_state=1, **kwargs)
    assert list(frame.columns[1:]) == ["lower", "upper"]
    assert frame["lower"].between(0, 1).all() and frame["upper"].between(0, 1).all()


@pytest.mark.parametrize("interval", [0, 1, 1.5, -0.1, "0.9", True, float("nan")])
def test_bad_levels_are_refused(bg, cdnow, interval):
    with pytest.raises(ValueError, match="interval must be None or a level"):
        bg.predict_purchases(cdnow, t=10, interval=interval)


@pytest.mark.parametrize("n_draws", [1, 0, 2.5, True])
def test_bad_draw_counts_are_refused(bg, cdnow, n_draws):
    with pytest.raises(ValueError, match="n_draws"):
        bg.predict_purchases(cdnow, t=10, interval=0.9, n_draws=n_draws)


@pytest.mark.parametrize(
    "method, kwargs",
    [
        ("predict_purchases", {"t": 39}),
        ("predict_proba_alive", {}),
        ("predict_proba_no_purchase", {"t": 39}),
    ],
)
def test_delta_method_agrees_with_the_bootstrap(bg, cdnow, method, kwargs):
    X = cdnow.iloc[:400]
    boot = getattr(bg, method)(X, interval=0.9, n_draws=2000, random_state=0, **kwargs)
    delta = getattr(bg, method)(X, interval=0.9, interval_method="delta", **kwargs)
    pd.testing.assert_series_equal(delta.iloc[:, 0], boot.iloc[:, 0])
    width = (boot["upper"] - boot["lower"]).to_numpy()
    for bound in ("lower", "upper"):
        gap = np.abs(delta[bound] - boot[bound]).to_numpy()
        assert np.all(gap <= 0.15 * width + 1e-12), (bound, float(np.max(gap / (width + 1e-300))))
    assert (delta["lower"] <= delta.iloc[:, 0]).all() and (delta.iloc[:, 0] <= delta["upper"]).all()


def test_delta_clv_and_spend(cdnow):
    clv = CLVModel(spend_model=GammaGammaModel(spend_covariates=["group"])).fit(cdnow)
    options = {"horizon": 6, "period_length": 4.35, "discount_rate": 0.01, "interval": 0.9}
    boot = clv.predict_clv(cdnow, n_draws=1000, random_state=0, **options)
    delta = clv.predict_clv(cdnow, interval_method="delta", **options)
    width = (boot["upper"] - boot["lower"]).to_numpy()
    assert np.all(np.abs(delta["lower"] - boot["lower"]).to_numpy() <= 0.15 * width + 1e-9)
    assert np.all(np.abs(delta["upper"] - boot["upper"]).to_numpy() <= 0.15 * width + 1e-9)
    spend = clv.predict_spend(cdnow, interval=0.9, interval_method="delta")
    assert (spend["lower"] < spend["expected_spend"]).all()
    with pytest.raises(ValueError, match="interval_method must be"):
        clv.predict_clv(cdnow, interval_method="exact", **options)


def test_draws_are_on_the_log_scale(bg):
    draws = draw_parameters(bg, 20000, np.random.default_rng(0))
    assert (draws > 0).all()
    log_draws = np.log(draws)
    np.testing.assert_allclose(log_draws.mean(axis=0), np.log(bg.params_), atol=0.01)
    # delta method: sd of log(theta) = se / theta
    np.testing.assert_allclose(log_draws.std(axis=0), bg.bse_ / bg.params_, rtol=0.03)


def _manual_interval(model, X, formula, level, n_draws, seed, linked):
    """The bootstrap written out: one draw and one customer at a time."""
    draws = draw_parameters(model, n_draws, np.random.default_rng(seed))
    values = np.empty((n_draws, len(X)))
    for d, theta in enumerate(draws):
        params = (
            model._link(theta, {c: X[c].to_numpy(float) for c in X.columns})[0]
            if linked
            else list(theta)
        )
        for i in range(len(X)):
            row = [p[i] if np.ndim(p) else p for p in params]
            values[d, i] = formula(
                np.array(row),
                X["frequency"].to_numpy(float)[i : i + 1],
                X["recency"].to_numpy(float)[i : i + 1],
                X["T"].to_numpy(float)[i : i + 1],
            )[0]
    return np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0)


def test_vectorised_bootstrap_matches_the_loop(bg, cdnow):
    X = cdnow.iloc[:25]
    frame = bg.predict_purchases(X, t=30, interval=0.9, n_draws=40, random_state=5)
    lo, hi = _manual_interval(
        bg,
        X,
        lambda p, x, tx, T: bgm.expected_purchases(p, x, tx, T, 30.0, modified=False),
        0.9,
        40,
        5,
        linked=False,
    )
    np.testing.assert_allclose(frame["lower"], lo, rtol=1e-10)
    np.testing.assert_allclose(frame["upper"], hi, rtol=1e-10)


def test_pareto_covariate_bootstrap_matches_the_loop(cdnow):
    model = ParetoNBDModel(purchase_covariates=["group"], dropout_covariates=["group"]).fit(cdnow)
    X = cdnow.iloc[:20]
    frame = model.predict_proba_alive(X, interval=0.8, n_draws=30, random_state=2)
    lo, hi = _manual_interval(model, X, pnm.proba_alive, 0.8, 30, 2, linked=True)
    np.testing.assert_allclose(frame["lower"], lo, rtol=1e-10)
    np.testing.assert_allclose(frame["upper"], hi, rtol=1e-10)


def test_mbg_covariate_intervals(cdnow):
    model = ModifiedBetaGeoModel(dropout_covariates=["group"]).fit(cdnow)
    frame = model.predict_purchases(cdnow, t=39, interval=0.9, n_draws=50, random_state=0)
    assert (frame["lower"] < frame["upper"]).all()
    pd.testing.assert_series_equal(
        frame["expected_purchases"], model.predict_purchases(cdnow, t=39)
    )


def test_spend_and_clv_intervals(cdnow):
    spend = GammaGammaModel(spend_covariates=["group"]).fit(cdnow)
    frame = spend.predict_spend(cdnow, interval=0.9, n_draws=100, random_state=0)
    assert list(frame.columns) == ["expected_spend", "lower", "upper"]
    pd.testing.assert_series_equal(frame["expected_spend"], spend.predict_spend(cdnow))
    assert (frame["lower"] < frame["upper"]).all()

    clv = CLVModel().fit(cdnow)
    value = clv.predict_clv(cdnow, horizon=6, period_length=4.35, discount_rate=0.01)
    frame = clv.predict_clv(
        cdnow, horizon=6, period_length=4.35, discount_rate=0.01, interval=0.9, random_state=0
    )
    assert list(frame.columns) == ["clv", "lower", "upper"]
    pd.testing.assert_series_equal(frame["clv"], value)
    assert (frame["lower"] <= frame["upper"]).all() and (frame["lower"] >= 0).all()
    # no margin, no value: the interval collapses to 0
    zero = clv.predict_clv(cdnow.iloc[:5], horizon=6, period_length=4.35, margin=0, interval=0.9)
    assert (zero.to_numpy() == 0).all()


def test_intervals_survive_export(cdnow):
    model = BetaGeoModel(purchase_covariates=["group"]).fit(cdnow)
    loaded = BetaGeoModel.from_dict(json.loads(json.dumps(model.to_dict())))
    X = cdnow.iloc[:100]
    pd.testing.assert_frame_equal(
        loaded.predict_purchases(X, t=10, interval=0.9, random_state=4),
        model.predict_purchases(X, t=10, interval=0.9, random_state=4),
    )


def test_export_without_covariance_refuses_intervals(bg, cdnow):
    export = bg.to_dict()
    export["covariance"] = None
    loaded = BetaGeoModel.from_dict(export)
    with pytest.raises(ValueError, match="covariance is not available"):
        loaded.predict_purchases(cdnow, t=10, interval=0.9)


def test_hostile_covariance_is_refused(bg):
    from custintel.exceptions import InvalidModelError

    export = bg.to_dict()
    bad = [row[:] for row in export["covariance"]]
    bad[0][1] += 1.0
    for value in (bad, [[1.0]], "x", [[float("nan")] * 4] * 4):
        with pytest.raises(InvalidModelError):
            BetaGeoModel.from_dict({**export, "covariance": value})


# --- coverage --------------------------------------------------------------------------------

TRUE_PURCHASE = np.array([0.8, 12.0, 0.9, 3.0])  # r, alpha, a, b (weeks)
TRUE_SPEND = np.array([5.0, 4.0, 30.0])  # p, q, gamma


def _simulate(n, rng):
    T = rng.uniform(20, 78, n)
    data = bgm.sample_beta_geo(TRUE_PURCHASE, T, rng)
    x = data["frequency"].astype(float)
    p, q, gamma = TRUE_SPEND
    nu = rng.gamma(q, 1.0 / gamma, n)
    m = np.where(x > 0, rng.gamma(p * np.maximum(x, 1), 1.0 / (np.maximum(x, 1) * nu)), 0.0)
    return pd.DataFrame({**data, "frequency": x, "monetary_value": m})


@pytest.mark.slow
def test_nominal_90_percent_intervals_cover_the_truth():
    """Coverage of the expected value under the true parameters, over repeated samples.

    Each replication simulates a fresh calibration sample from the true
    BG/NBD and Gamma-Gamma parameters, fits both models and computes 90%
    intervals for a fixed panel of customer histories. The truth for a
    history is its expectation under the true parameters (the interval is
    for the parameter uncertainty, not for the customer's own randomness).
    """
    rng = np.random.default_rng(2024)
    panel = pd.DataFrame(
        {
            "frequency": [0.0, 1, 2, 5, 10, 3, 0, 7],
            "recency": [0.0, 10, 30, 50, 70, 5, 0, 60],
            "T": [30.0, 52, 52, 60, 75, 60, 70, 62],
            "monetary_value": [0.0, 20, 35, 50, 40, 15, 0, 80],
        }
    )
    t, step, horizon, rate = 26.0, 4.35, 6, 0.01
    x, tx, T = (panel[c].to_numpy() for c in ("frequency", "recency", "T"))
    truth_purchases = bgm.expected_purchases(TRUE_PURCHASE, x, tx, T, t, modified=False)
    cumulative = [
        bgm.expected_purchases(TRUE_PURCHASE, x, tx, T, k * step, modified=False)
        for k in range(1, horizon + 1)
    ]
    p, q, gamma = TRUE_SPEND
    m = panel["monetary_value"].to_numpy()
    spend = p * (gamma + x * m) / (p * x + q - 1)
    discounted = sum(
        (c - prev) / (1 + rate) ** k
        for k, (c, prev) in enumerate(
            zip(cumulative, [np.zeros_like(x), *cumulative[:-1]], strict=True), start=1
        )
    )
    truth_clv = spend * discounted

    hits_purchases, hits_clv, hits_delta = [], [], []
    for _ in range(120):
        X = _simulate(3000, rng)
        model = CLVModel().fit(X)
        seed = int(rng.integers(2**31))
        purchases = model.predict_purchases(
            panel, t=t, interval=0.9, n_draws=300, random_state=seed
        )
        clv = model.predict_clv(
            panel,
            horizon=horizon,
            period_length=step,
            discount_rate=rate,
            interval=0.9,
            n_draws=300,
            random_state=seed,
        )
        hits_purchases.append(
            (purchases["lower"] <= truth_purchases) & (truth_purchases <= purchases["upper"])
        )
        hits_clv.append((clv["lower"] <= truth_clv) & (truth_clv <= clv["upper"]))
        delta = model.predict_purchases(panel, t=t, interval=0.9, interval_method="delta")
        hits_delta.append((delta["lower"] <= truth_purchases) & (truth_purchases <= delta["upper"]))
    coverage_purchases = float(np.mean(hits_purchases))
    coverage_clv = float(np.mean(hits_clv))
    assert 0.85 <= coverage_purchases <= 0.95, coverage_purchases
    assert 0.85 <= coverage_clv <= 0.95, coverage_clv
    coverage_delta = float(np.mean(hits_delta))
    assert 0.85 <= coverage_delta <= 0.95, coverage_delta


def test_auto_uses_the_delta_method_only_for_large_tables(bg, cdnow, monkeypatch):
    # "auto" (the default): the bootstrap up to AUTO_DELTA_CUSTOMERS customers, the delta
    # method beyond, where draws would cost about n_draws point predictions.
    from custintel.clv import _base

    X = cdnow.iloc[:300]
    small = bg.predict_purchases(X, t=39, interval=0.9, random_state=0)
    boot = bg.predict_purchases(X, t=39, interval=0.9, random_state=0, interval_method="bootstrap")
    delta = bg.predict_purchases(X, t=39, interval=0.9, interval_method="delta")
    pd.testing.assert_frame_equal(small, boot)
    monkeypatch.setattr(_base, "AUTO_DELTA_CUSTOMERS", 299)
    large = bg.predict_purchases(X, t=39, interval=0.9, random_state=0)
    pd.testing.assert_frame_equal(large, delta)
    assert not large.equals(boot)
