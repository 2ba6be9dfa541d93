"""BetaGeoBetaBinomModel: published donations fit, lifetimes, hand-computed cases, Monte Carlo."""

from __future__ import annotations

import json
from math import comb

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, gammaln
from sklearn.base import clone

from custintel import SchemaError
from custintel.clv import BetaGeoBetaBinomModel, _bgbb_math
from custintel.clv._bgbb_math import bgbb_loglik, log_sum_beta

NAMES = ("alpha", "beta", "gamma", "delta")
# Fader, Hardie and Shang (2010), Table 2 (donations data, 1995 cohort, 1996-2001).
PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
PUBLISHED_LL = -33225.6


def model_with(params: dict[str, float] | tuple[float, ...]) -> BetaGeoBetaBinomModel:
    if not isinstance(params, dict):
        params = dict(zip(NAMES, params, strict=True))
    return BetaGeoBetaBinomModel.from_dict(  # type: ignore[return-value]
        {
            "model": "BetaGeoBetaBinomModel",
            "format_version": 1,
            "params": {k: float(v) for k, v in params.items()},
            "log_likelihood": 0.0,
            "converged": True,
        }
    )


def random_histories(rng: np.random.Generator, size: int, max_n: int = 40) -> pd.DataFrame:
    n = rng.integers(0, max_n + 1, size)
    t_x = np.floor(rng.random(size) * (n + 1)).astype(int)
    x = np.where(t_x > 0, 1 + np.floor(rng.random(size) * t_x).astype(int), 0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": n})


@pytest.fixture(scope="module")
def donations() -> tuple[pd.DataFrame, np.ndarray]:
    lifetimes_datasets = pytest.importorskip("lifetimes.datasets")
    data = lifetimes_datasets.load_donations()
    X = data.rename(columns={"periods": "T"})[["frequency", "recency", "T"]]
    return X, data["weights"].to_numpy()


@pytest.fixture(scope="module")
def fitted(donations: tuple[pd.DataFrame, np.ndarray]) -> BetaGeoBetaBinomModel:
    X, weights = donations
    return BetaGeoBetaBinomModel().fit(X, sample_weight=weights)


@pytest.fixture(scope="module")
def lifetimes_fitter(donations: tuple[pd.DataFrame, np.ndarray]):  # type: ignore[no-untyped-def]
    lifetimes = pytest.importorskip("lifetimes")
    X, weights = donations
    return lifetimes.BetaGeoBetaBinomFitter().fit(
        X["frequency"], X["recency"], X["T"], weights=weights
    )


# --- golden values ------------------------------------------------------------------------


def test_published_donations_estimates(fitted: BetaGeoBetaBinomModel) -> None:
    assert fitted.converged_
    for name, value in PUBLISHED.items():
        assert fitted.params_[name] == pytest.approx(value, abs=6e-4)
    assert fitted.log_likelihood_ == pytest.approx(PUBLISHED_LL, abs=0.05)
    assert fitted.n_customers_ == 11104
    assert (fitted.bse_ > 0).all()


def test_fit_equals_lifetimes(fitted: BetaGeoBetaBinomModel, lifetimes_fitter) -> None:  # type: ignore[no-untyped-def]
    # lifetimes keeps the weighted mean negative log-likelihood.
    theirs = -lifetimes_fitter._negative_log_likelihood_ * fitted.n_customers_
    assert fitted.log_likelihood_ >= theirs - 1e-6
    np.testing.assert_allclose(
        fitted.params_[list(NAMES)], lifetimes_fitter.params_[list(NAMES)], rtol=1e-3
    )
    np.testing.assert_allclose(
        fitted.bse_[list(NAMES)], lifetimes_fitter.standard_errors_[list(NAMES)], rtol=2e-2
    )


def test_formulas_equal_lifetimes(lifetimes_fitter) -> None:  # type: ignore[no-untyped-def]
    from lifetimes import BetaGeoBetaBinomFitter

    model = model_with(lifetimes_fitter.params_.to_dict())
    rng = np.random.default_rng(3)
    X = random_histories(rng, 300, max_n=25)
    x, t_x, n = (X[c].to_numpy() for c in ("frequency", "recency", "T"))
    params = model.params_.to_numpy()
    ll, _ = bgbb_loglik(params, x, t_x, n)
    theirs = BetaGeoBetaBinomFitter._loglikelihood(params, x, t_x, n)
    # lifetimes seeds its sum with 1e-15, so compare likelihoods with that absolute slack
    np.testing.assert_allclose(np.exp(ll), np.exp(theirs), rtol=1e-10, atol=2e-15)
    for t in (1, 5, 26):
        ours = model.predict_purchases(X, t=t).to_numpy()
        theirs = lifetimes_fitter.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, n)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    # lifetimes' conditional_probability_alive(m) is P(alive at n + m); ours is m = 1 (eq. 11).
    theirs = lifetimes_fitter.conditional_probability_alive(1, x, t_x, n)
    np.testing.assert_allclose(model.predict_proba_alive(X).to_numpy(), theirs, rtol=1e-6)


def test_new_customer_mean_equals_lifetimes_histogram(lifetimes_fitter) -> None:  # type: ignore[no-untyped-def]
    # lifetimes' expected_number_of_transactions_in_first_n_periods is the histogram of X(n)
    # (eq. 8 times the cohort size); its mean must be eq. 7. The donations data have all x = 0..6.
    model = model_with(lifetimes_fitter.params_.to_dict())
    histogram = lifetimes_fitter.expected_number_of_transactions_in_first_n_periods(6)["model"]
    mean = float((histogram.index.to_numpy() * histogram.to_numpy()).sum() / histogram.sum())
    assert model.expected_purchases_new_customer(6) == pytest.approx(mean, rel=1e-6)
    assert histogram.sum() == pytest.approx(11104, rel=1e-6)


def test_new_customer_closed_form_of_the_paper() -> None:
    # eq. 7: alpha/(alpha+beta) * delta/(gamma-1) * [1 - G(g+d)G(1+d+n) / (G(g+d+n)G(1+d))]
    a, b, g, d = 1.2, 0.75, 0.66, 2.8
    n = np.array([0, 1, 2, 6, 11, 100, 5000])
    paper = (
        a
        / (a + b)
        * d
        / (g - 1)
        * (1 - np.exp(gammaln(g + d) + gammaln(1 + d + n) - gammaln(g + d + n) - gammaln(1 + d)))
    )
    np.testing.assert_allclose(
        model_with((a, b, g, d)).expected_purchases_new_customer(n), paper, rtol=1e-10
    )


# --- hand-computed cases -------------------------------------------------------------------


def test_hand_computed_uniform_priors() -> None:
    # alpha = beta = gamma = delta = 1: p and theta uniform. Customer x=1, t_x=1, n=2:
    #   alive through 2: E[p(1-p)] E[(1-theta)^2] = 1/6 * 1/3 = 1/18
    #   died at the start of opportunity 2: E[p] E[theta(1-theta)] = 1/2 * 1/6 = 1/12
    #   L = 5/36.  P(alive at 3) = E[p(1-p)] E[(1-theta)^3] / L = (1/24) / (5/36) = 0.3.
    #   E[X(2, 3)] = E[p^2 (1-p)] E[(1-theta)^3] / L = (1/12 * 1/4) / (5/36) = 0.15.
    #   P(no purchase at 3) = L(1, 1, 3) / L, L(1, 1, 3) = E[p(1-p)^2] E[(1-theta)^3]
    #     + E[p] E[theta(1-theta)] + E[p(1-p)] E[theta(1-theta)^2] = 1/48 + 1/12 + 1/72 = 17/144,
    #   so it is (17/144) / (5/36) = 0.85 = 1 - E[X(2, 3)].
    model = model_with((1.0, 1.0, 1.0, 1.0))
    X = pd.DataFrame({"frequency": [1], "recency": [1], "T": [2]})
    ll, _ = bgbb_loglik(np.ones(4), np.array([1.0]), np.array([1.0]), np.array([2.0]))
    assert np.exp(ll[0]) == pytest.approx(5 / 36, rel=1e-12)
    assert model.predict_proba_alive(X).iloc[0] == pytest.approx(0.3, rel=1e-12)
    assert model.predict_purchases(X, t=1).iloc[0] == pytest.approx(0.15, rel=1e-12)
    assert model.predict_proba_no_purchase(X, t=1).iloc[0] == pytest.approx(0.85, rel=1e-12)
    # New customer: E[X(1)] = E[p] E[1 - theta] = 1/4.
    assert model.expected_purchases_new_customer(1) == pytest.approx(0.25, rel=1e-12)


@pytest.mark.parametrize("n", [0, 1, 4, 9])
def test_likelihood_is_a_distribution_over_histories(n: int) -> None:
    # P(x, t_x | n) = C(t_x - 1, x - 1) L(x, t_x, n) for x >= 1 and L(0, 0, n): sums to 1.
    params = np.array([0.8, 1.7, 0.6, 2.4])
    x, t_x = zip(
        *[(0, 0)] + [(k, t) for t in range(1, n + 1) for k in range(1, t + 1)], strict=True
    )
    xa, ta = np.array(x, float), np.array(t_x, float)
    ll, _ = bgbb_loglik(params, xa, ta, np.full_like(xa, n))
    counts = np.array(
        [comb(int(t) - 1, int(k) - 1) if k else 1 for k, t in zip(x, t_x, strict=True)]
    )
    assert (counts * np.exp(ll)).sum() == pytest.approx(1.0, abs=1e-12)


# --- gradient and numerics -----------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        (1.204, 0.750, 0.657, 2.783),
        (0.05, 4.0, 12.0, 0.3),
        (40.0, 0.2, 0.999, 60.0),
        (3.0, 3.0, 1.0, 1.0),
    ],
)
def test_gradient_matches_central_differences(params: tuple[float, ...]) -> None:
    rng = np.random.default_rng(7)
    X = random_histories(rng, 400)
    x, t_x, n = (X[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    p = np.array(params)
    _, grad = bgbb_loglik(p, x, t_x, n)
    for j in range(4):
        step = 1e-5 * p[j]
        up, down = p.copy(), p.copy()
        up[j] += step
        down[j] -= step
        numeric = (bgbb_loglik(up, x, t_x, n)[0] - bgbb_loglik(down, x, t_x, n)[0]) / (2 * step)
        np.testing.assert_allclose(grad[:, j], numeric, rtol=1e-5, atol=1e-6 / p[j])


def test_chunked_sums_equal_one_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    X = random_histories(rng, 500, max_n=60)
    args = [X[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")]
    p = np.array([1.1, 0.9, 0.7, 2.2])
    whole = bgbb_loglik(p, *args)
    monkeypatch.setattr(_bgbb_math, "_CHUNK_ELEMENTS", 37)
    chunked = bgbb_loglik(p, *args)
    np.testing.assert_allclose(chunked[0], whole[0], rtol=1e-13)
    np.testing.assert_allclose(chunked[1], whole[1], rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("gamma", [0.2, 0.9, 0.9999, 1.0, 1.0 + 1e-9, 1.3, 1.6, 7.0, 5e3])
@pytest.mark.parametrize("n", [0, 7, 4000])
def test_log_sum_beta_equals_direct_sum(gamma: float, n: int) -> None:
    for delta in (0.05, 2.7, 800.0):
        for m in (1, 2, 13, 300):
            terms = betaln(gamma, delta + n + np.arange(1, m + 1))
            direct = terms.max() + np.log(np.exp(terms - terms.max()).sum())
            assert log_sum_beta(gamma, delta, np.array([n]), np.array([m]))[0] == pytest.approx(
                direct, rel=1e-11, abs=1e-11
            )


def test_extremes_are_finite() -> None:
    X = pd.DataFrame(
        {
            "frequency": [0, 300, 300, 1, 0, 5, 100_000, 0, 450],
            "recency": [0, 300, 100_000, 100_000, 0, 5, 100_000, 0, 460],
            "T": [100_000, 100_000, 100_000, 100_000, 0, 5, 100_000, 1, 460],
        }
    )
    x, t_x, n = (X[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    for params in [
        (1e-6,) * 4,
        (3e6,) * 4,
        (1e-6, 3e6, 3e6, 1e-6),
        (3e6, 1e-6, 1e-6, 3e6),
        (1.2, 0.75, 1.0, 2.7),
    ]:
        model = model_with(params)
        ll, grad = bgbb_loglik(np.array(params), x, t_x, n)
        assert np.isfinite(ll).all() and (ll <= 1e-12).all()
        assert np.isfinite(grad).all()
        for values in (
            model.predict_proba_alive(X),
            model.predict_proba_no_purchase(X, t=1000),
        ):
            assert values.between(0, 1).all()
        purchases = model.predict_purchases(X, t=52)
        assert np.isfinite(purchases).all() and purchases.between(0, 52).all()
        assert np.isfinite(model.expected_purchases_new_customer([0, 1, 100_000])).all()


# --- predictions against simulation ------------------------------------------------------------


def brute_force_paths(params: tuple[float, ...], size: int, opportunities: int, seed: int):  # type: ignore[no-untyped-def]
    """Simulate opportunity by opportunity: death at the start of each, then a Bernoulli(p)."""
    a, b, g, d = params
    rng = np.random.default_rng(seed)
    p = rng.beta(a, b, size)[:, None]
    theta = rng.beta(g, d, size)[:, None]
    alive = np.cumprod(rng.random((size, opportunities)) >= theta, axis=1).astype(bool)
    buys = alive & (rng.random((size, opportunities)) < p)
    return alive, buys


def summarise(buys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = buys.sum(axis=1)
    last = buys.shape[1] - np.argmax(buys[:, ::-1], axis=1)
    return x, np.where(x > 0, last, 0)


def test_predictions_match_monte_carlo() -> None:
    params, n, t = (1.2, 0.75, 0.66, 2.8), 4, 3
    alive, buys = brute_force_paths(params, 300_000, n + t, seed=5)
    x, t_x = summarise(buys[:, :n])
    future = buys[:, n:].sum(axis=1)
    frame = pd.DataFrame(
        {
            "frequency": x,
            "recency": t_x,
            "T": n,
            "future": future,
            "none": future == 0,
            "alive_next": alive[:, n],
        }
    )
    groups = frame.groupby(["frequency", "recency"])
    observed = groups[["future", "none", "alive_next"]].mean()
    spread = groups[["future", "none", "alive_next"]].std() / np.sqrt(
        groups.size().to_numpy()[:, None]
    )
    X = observed.index.to_frame(index=False).assign(T=n)
    model = model_with(params)
    expected = {
        "future": model.predict_purchases(X, t=t).to_numpy(),
        "none": model.predict_proba_no_purchase(X, t=t).to_numpy(),
        "alive_next": model.predict_proba_alive(X).to_numpy(),
    }
    for column, values in expected.items():
        z = (observed[column].to_numpy() - values) / (spread[column].to_numpy() + 1e-9)
        assert np.abs(z).max() < 4.5, column
    assert model.expected_purchases_new_customer(n) == pytest.approx(
        x.mean(), abs=4 * x.std() / np.sqrt(len(x))
    )


def test_sample_follows_the_model() -> None:
    params, n = (0.9, 1.4, 0.5, 1.8), 5
    model = model_with(params)
    simulated = model.sample(200_000, T=n, random_state=2)
    assert simulated.dtypes.eq(np.int64).all()
    assert (simulated["frequency"] <= simulated["recency"]).all()
    assert (simulated["recency"] <= simulated["T"]).all()
    counts = simulated.groupby(["frequency", "recency"]).size()
    x = counts.index.get_level_values(0).to_numpy(dtype=float)
    t_x = counts.index.get_level_values(1).to_numpy(dtype=float)
    ll, _ = bgbb_loglik(np.array(params), x, t_x, np.full_like(x, n))
    multiplicity = np.array(
        [comb(int(t) - 1, int(k) - 1) if k else 1 for k, t in zip(x, t_x, strict=True)]
    )
    expected = multiplicity * np.exp(ll) * len(simulated)
    assert expected.sum() == pytest.approx(len(simulated), rel=1e-9)  # every history was seen
    z = (counts.to_numpy() - expected) / np.sqrt(expected)
    assert np.abs(z).max() < 4.5
    # and the brute-force simulator agrees on the share of zero repeaters
    _, buys = brute_force_paths(params, 200_000, n, seed=9)
    assert (buys.sum(axis=1) == 0).mean() == pytest.approx(
        (simulated["frequency"] == 0).mean(), abs=0.006
    )


def test_parameter_recovery() -> None:
    truth = {"alpha": 1.3, "beta": 0.8, "gamma": 0.6, "delta": 2.5}
    rng = np.random.default_rng(21)
    simulated = model_with(truth).sample(30_000, T=rng.integers(3, 15, 30_000), random_state=4)
    model = BetaGeoBetaBinomModel().fit(simulated)
    assert model.converged_
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 3 * model.bse_[name], name


# --- inputs, persistence -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"frequency": [3], "recency": [2], "T": [5]}), "exceed recency"),
        (pd.DataFrame({"frequency": [1], "recency": [6], "T": [5]}), "exceed T"),
        (pd.DataFrame({"frequency": [0], "recency": [2], "T": [5]}), "frequency is 0"),
        (pd.DataFrame({"frequency": [1], "recency": [2], "T": [5.5]}), "whole numbers"),
        (pd.DataFrame({"frequency": [1], "recency": [1.5], "T": [5]}), "whole numbers"),
    ],
)
def test_bad_tables(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        model_with(PUBLISHED).predict_proba_alive(frame)
    with pytest.raises(SchemaError, match=message):
        BetaGeoBetaBinomModel().fit(frame)


def test_horizons_must_be_whole_opportunities() -> None:
    model = model_with(PUBLISHED)
    X = pd.DataFrame({"frequency": [1], "recency": [2], "T": [5]})
    with pytest.raises(ValueError, match="whole number"):
        model.predict_purchases(X, t=2.5)
    with pytest.raises(ValueError, match="whole number"):
        model.predict_proba_no_purchase(X, t=0.5)
    with pytest.raises(ValueError, match="whole number"):
        model.expected_purchases_new_customer([1, 1.5])
    with pytest.raises(ValueError, match="whole number"):
        model.sample(3, T=2.5)
    assert model.predict_purchases(X, t=0).iloc[0] == 0.0
    assert model.predict_proba_no_purchase(X, t=0).iloc[0] == pytest.approx(1.0)
    no_purchase = [model.predict_proba_no_purchase(X, t=t).iloc[0] for t in range(0, 30, 3)]
    assert np.all(np.diff(no_purchase) < 0)


def test_predictions_keep_the_index(fitted: BetaGeoBetaBinomModel, donations) -> None:  # type: ignore[no-untyped-def]
    X, _ = donations
    X = X.set_axis(pd.Index([f"c{i}" for i in range(len(X))], name="customer_id"))
    for result in (
        fitted.predict_purchases(X, t=5),
        fitted.predict_proba_alive(X),
        fitted.predict_proba_no_purchase(X, t=5),
    ):
        assert result.index.equals(X.index)
    cumulative = fitted.expected_cumulative_purchases([0, 0, 1], t=[0, 1, 2, 5])
    expected = (
        2 * fitted.expected_purchases_new_customer([0, 1, 2, 5])
        + np.r_[0, fitted.expected_purchases_new_customer([0, 1, 4])]
    )
    np.testing.assert_allclose(cumulative.to_numpy(), expected)


def test_round_trips(fitted: BetaGeoBetaBinomModel, donations, tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, _ = donations
    restored = BetaGeoBetaBinomModel.from_dict(json.loads(json.dumps(fitted.to_dict())))
    from_text = BetaGeoBetaBinomModel.from_dict(json.dumps(fitted.to_dict()))
    joblib.dump(fitted, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    for other in (restored, from_text, loaded):
        pd.testing.assert_series_equal(other.params_, fitted.params_)
        pd.testing.assert_series_equal(
            other.predict_purchases(X, t=5), fitted.predict_purchases(X, t=5)
        )
        pd.testing.assert_series_equal(
            other.predict_proba_no_purchase(X, t=5), fitted.predict_proba_no_purchase(X, t=5)
        )
    assert clone(fitted).get_params() == fitted.get_params()
    assert not hasattr(clone(fitted), "params_")


@pytest.mark.parametrize("method", ["bootstrap", "delta"])
def test_proba_alive_intervals_hold_the_point_and_stay_in_unit_interval(
    donations: tuple[pd.DataFrame, np.ndarray], method: str
) -> None:
    X, weights = donations
    model = BetaGeoBetaBinomModel().fit(X, sample_weight=weights)
    out = model.predict_proba_alive(
        X, periods_ahead=2, interval=0.9, n_draws=100, random_state=0, interval_method=method
    )
    point = model.predict_proba_alive(X, periods_ahead=2)
    np.testing.assert_allclose(out["proba_alive"], point)
    assert ((out["lower"] <= out["proba_alive"]) & (out["proba_alive"] <= out["upper"])).all()
    assert ((out["lower"] >= 0) & (out["upper"] <= 1)).all()
    assert (out["upper"] - out["lower"]).max() > 0
