"""ShiftedBetaGeoModel: published retention fits, hand-computed curves, DERL, simulation."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln
from sklearn.base import clone

from custintel import SchemaError
from custintel.clv import ShiftedBetaGeoModel
from custintel.clv._shifted_beta_geo_math import sbg_derl, sbg_loglik

# Fader and Hardie (2007), "How to Project Customer Retention": customers still active at the
# end of years 0..7 of a 1,000-customer cohort. The published estimates are calibrated on
# exactly these eight points (years 0-7; years 8-12 are their holdout), and a fit on them
# reproduces both segments to the published three decimals.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


def model_with(gamma: float, delta: float) -> ShiftedBetaGeoModel:
    return ShiftedBetaGeoModel.from_dict(  # type: ignore[return-value]
        {
            "model": "ShiftedBetaGeoModel",
            "format_version": 1,
            "params": {"gamma": gamma, "delta": delta},
            "log_likelihood": 0.0,
            "converged": True,
        }
    )


def direct_log_likelihood(gamma: float, delta: float, survivors: list[int]) -> float:
    # the paper's recursion: P(T=1) = g/(g+d), P(T=t) = P(T=t-1) (d+t-2)/(g+d+t-1)
    total, churn, alive = 0.0, gamma / (gamma + delta), 1.0
    for t in range(1, len(survivors)):
        if t > 1:
            churn *= (delta + t - 2) / (gamma + delta + t - 1)
        alive -= churn
        total += (survivors[t - 1] - survivors[t]) * np.log(churn)
    return total + survivors[-1] * np.log(alive)


@pytest.mark.parametrize(
    ("survivors", "gamma", "delta"), [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)]
)
def test_published_estimates(survivors: list[int], gamma: float, delta: float) -> None:
    model = ShiftedBetaGeoModel().fit(survivors)
    assert model.converged_
    assert model.params_["gamma"] == pytest.approx(gamma, abs=6e-4)
    assert model.params_["delta"] == pytest.approx(delta, abs=6e-4)
    assert model.n_customers_ == 1000
    assert model.n_periods_ == 7
    fitted = model.params_.to_numpy()
    assert model.log_likelihood_ == pytest.approx(
        direct_log_likelihood(*fitted, survivors), rel=1e-12
    )
    # the optimum: nudging either parameter lowers the likelihood
    for step in ([1e-3, 0], [-1e-3, 0], [0, 1e-3], [0, -1e-3]):
        assert direct_log_likelihood(*(fitted + step), survivors) < model.log_likelihood_
    assert (model.bse_ > 0).all()


def test_input_forms_give_the_same_fit() -> None:
    expected = ShiftedBetaGeoModel().fit(REGULAR).params_
    for data in (
        np.array(REGULAR),
        np.array(REGULAR, dtype=float)[:, None],
        pd.Series(REGULAR),
        pd.DataFrame({"survivors": REGULAR, "year": range(8)}),
        tuple(REGULAR),
    ):
        pd.testing.assert_series_equal(ShiftedBetaGeoModel().fit(data).params_, expected)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1000, 631, 650, 382], "survivors cannot increase"),
        ([1000, 631, -1, -2], "negative"),
        ([1000, 631.5, 468, 382], "whole numbers"),
        ([1000, np.nan, 468, 382], "NaN"),
        ([0, 0, 0], "empty at period 0"),
        ([1000, 631], "at least periods 0, 1 and 2"),
        (np.ones((4, 2)), "1-D"),
        (pd.DataFrame({"alive": REGULAR}), "'survivors' column"),
        (["a", "b", "c"], "numbers"),
    ],
)
def test_bad_survivor_counts(data: object, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        ShiftedBetaGeoModel().fit(data)


def test_sample_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="sample_weight"):
        ShiftedBetaGeoModel().fit(REGULAR, sample_weight=np.ones(8))


@pytest.mark.parametrize("params", [(0.704, 1.182), (0.05, 0.2), (40.0, 300.0), (1.0, 1.0)])
def test_gradient_matches_central_differences(params: tuple[float, float]) -> None:
    period = np.array([1, 2, 3, 7, 40, 0, 3, 7, 500], dtype=float)
    censored = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
    p = np.array(params)
    _, grad = sbg_loglik(p, period, censored)
    for j in range(2):
        step = 1e-5 * p[j]
        up, down = p.copy(), p.copy()
        up[j] += step
        down[j] -= step
        numeric = (sbg_loglik(up, period, censored)[0] - sbg_loglik(down, period, censored)[0]) / (
            2 * step
        )
        np.testing.assert_allclose(grad[:, j], numeric, rtol=1e-5, atol=1e-7 / p[j])


def test_hand_computed_curves() -> None:
    # gamma = 1, delta = 2: theta ~ Beta(1, 2). S(t) = B(1, 2 + t)/B(1, 2) = 2/(2 + t);
    # r(t) = (t + 1)/(t + 2); P(T = t) = S(t-1) - S(t) = 2/((t + 1)(t + 2));
    # E[T] diverges (gamma = 1); DERL at n = 1 with d = 0 diverges too.
    model = model_with(1.0, 2.0)
    t = np.array([0, 1, 2, 5, 10])
    np.testing.assert_allclose(model.survival_function(t).to_numpy(), 2 / (2 + t), rtol=1e-12)
    np.testing.assert_allclose(model.retention_rate(t[1:]).to_numpy(), (t[1:] + 1) / (t[1:] + 2))
    np.testing.assert_allclose(
        model.churn_probability(t[1:]).to_numpy(), 2 / ((t[1:] + 1) * (t[1:] + 2)), rtol=1e-12
    )
    assert model.expected_lifetime() == np.inf
    assert model.discounted_expected_residual_lifetime(1, discount_rate=0).iloc[0] == np.inf
    # gamma = 3, delta = 2: E[T] = E[1/theta] = (g + d - 1)/(g - 1) = 2; the residual count of
    # renewals after n periods is (d + n - 1)/(g - 1).
    model = model_with(3.0, 2.0)
    assert model.expected_lifetime() == pytest.approx(2.0)
    assert model.expected_lifetime() == pytest.approx(
        model.survival_function(np.arange(0, 200_000)).sum(), rel=1e-5
    )
    derl = model.discounted_expected_residual_lifetime([1, 4], discount_rate=0.0)
    np.testing.assert_allclose(derl.to_numpy(), [1.0, 2.5])
    assert derl.index.name == "periods_alive"


def test_curves_are_consistent() -> None:
    model = ShiftedBetaGeoModel().fit(REGULAR)
    t = np.arange(1, 30)
    survival = model.survival_function(np.arange(0, 30)).to_numpy()
    np.testing.assert_allclose(np.cumprod(model.retention_rate(t).to_numpy()), survival[1:])
    np.testing.assert_allclose(model.churn_probability(t).to_numpy(), -np.diff(survival))
    assert np.all(np.diff(model.retention_rate(t).to_numpy()) > 0)  # retention rises with tenure
    assert model.expected_lifetime() == np.inf  # gamma = 0.704 <= 1
    with pytest.raises(ValueError, match=">= 1"):
        model.retention_rate([0, 1])
    with pytest.raises(ValueError, match=">= 0"):
        model.survival_function([-1])


def direct_derl(gamma: float, delta: float, n: int, d: float) -> float:
    # sum_{t >= n} S(t)/S(n-1) / (1+d)^(t-n), summed until the terms vanish
    t = np.arange(n, n + 40_000)
    terms = np.exp(betaln(gamma, delta + t) - betaln(gamma, delta + n - 1) - (t - n) * np.log1p(d))
    return float(terms.sum())


@pytest.mark.parametrize(
    "params", [(0.704, 1.182), (0.668, 3.806), (3.0, 12.0), (0.02, 500.0), (0.01, 0.03)]
)
@pytest.mark.parametrize("d", [0.01, 0.1, 1.0])
def test_derl_equals_the_direct_sum(params: tuple[float, float], d: float) -> None:
    model = model_with(*params)
    n = [1, 2, 5, 30]
    expected = [direct_derl(*params, k, d) for k in n]
    got = model.discounted_expected_residual_lifetime(n, discount_rate=d)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-11)
    assert model.discounted_expected_lifetime(discount_rate=d) == pytest.approx(
        1 + expected[0], rel=1e-11
    )


def test_derl_closed_form_at_the_limits() -> None:
    # d -> 0 with gamma > 1 tends to (delta + n - 1)/(gamma - 1); d -> inf leaves only the next
    # renewal, r(n) = (delta + n - 1)/(gamma + delta + n - 1).
    model = model_with(2.5, 4.0)
    n = np.array([1, 3, 50])
    np.testing.assert_allclose(
        model.discounted_expected_residual_lifetime(n, discount_rate=1e-9).to_numpy(),
        (4.0 + n - 1) / 1.5,
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        model.discounted_expected_residual_lifetime(n, discount_rate=1e9).to_numpy(),
        model.retention_rate(n).to_numpy(),
        rtol=1e-8,
    )
    with pytest.raises(ValueError, match="discount_rate"):
        model.discounted_expected_residual_lifetime(n, discount_rate=-0.1)
    with pytest.raises(ValueError, match="whole numbers"):
        model.discounted_expected_residual_lifetime([1.5], discount_rate=0.1)
    with pytest.raises(ValueError, match=">= 1"):
        model.discounted_expected_residual_lifetime([0], discount_rate=0.1)


def test_extremes_are_finite() -> None:
    for gamma, delta in [(1e-6, 1e-6), (3e6, 3e6), (1e-6, 3e6), (3e6, 1e-6), (0.7, 2.0)]:
        model = model_with(gamma, delta)
        t = [1, 2, 1e5]
        for values in (
            model.survival_function([0, *t]),
            model.retention_rate(t),
            model.churn_probability(t),
        ):
            assert values.between(0, 1).all()
        for d in (1e-12, 1e-4, 0.1, 1e6):
            derl = sbg_derl(gamma, delta, np.array([1.0, 2.0, 1e5]), d)
            # DERL lies between the next renewal probability and 1/(1 - x) = (1 + d)/d
            assert np.isfinite(derl).all()
            lower = model.retention_rate(t).to_numpy()
            assert (derl >= lower * (1 - 1e-9)).all() and (derl <= (1 + d) / d * (1 + 1e-9)).all()
        ll, grad = sbg_loglik(
            np.array([gamma, delta]), np.array([1.0, 1e5, 1e5]), np.array([0, 0, 1])
        )
        assert np.isfinite(ll).all() and np.isfinite(grad).all()


def test_sample_follows_the_model() -> None:
    model = model_with(0.704, 1.182)
    draws = np.array(
        [model.sample(2_000, n_periods=10, random_state=s).to_numpy() for s in range(60)]
    )
    assert draws.shape == (60, 11)
    assert (np.diff(draws, axis=1) <= 0).all() and (draws[:, 0] == 2_000).all()
    share = draws.mean(axis=0) / 2_000
    expected = model.survival_function(np.arange(11)).to_numpy()
    spread = np.sqrt(expected * (1 - expected) / 2_000 / 60) + 1e-12
    assert np.abs((share - expected) / spread).max() < 4.5
    one = model.sample(5, n_periods=3, random_state=1)
    assert one.index.name == "period" and one.name == "survivors"
    pd.testing.assert_series_equal(one, model.sample(5, n_periods=3, random_state=1))


@pytest.mark.parametrize(("gamma", "delta"), [(0.7, 1.2), (2.5, 6.0)])
def test_parameter_recovery(gamma: float, delta: float) -> None:
    survivors = model_with(gamma, delta).sample(20_000, n_periods=12, random_state=8)
    model = ShiftedBetaGeoModel().fit(survivors)
    assert model.converged_
    assert abs(model.params_["gamma"] - gamma) < 3 * model.bse_["gamma"]
    assert abs(model.params_["delta"] - delta) < 3 * model.bse_["delta"]


def test_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = ShiftedBetaGeoModel().fit(HIGH_END)
    restored = ShiftedBetaGeoModel.from_dict(json.loads(json.dumps(model.to_dict())))
    joblib.dump(model, tmp_path / "sbg.joblib")
    loaded = joblib.load(tmp_path / "sbg.joblib")
    for other in (restored, loaded):
        pd.testing.assert_series_equal(other.params_, model.params_)
        pd.testing.assert_series_equal(other.bse_, model.bse_)
        assert other.log_likelihood_ == model.log_likelihood_
        pd.testing.assert_series_equal(
            other.discounted_expected_residual_lifetime([1, 5], discount_rate=0.1),
            model.discounted_expected_residual_lifetime([1, 5], discount_rate=0.1),
        )
        pd.testing.assert_series_equal(
            other.survival_function([0, 12]), model.survival_function([0, 12])
        )
    assert model.to_dict()["n_customers"] == 1000
    assert not hasattr(clone(model), "params_")
    with pytest.raises(Exception, match="not fitted"):
        ShiftedBetaGeoModel().survival_function([1])
