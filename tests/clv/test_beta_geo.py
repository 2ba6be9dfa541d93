"""BG/NBD and MBG/NBD: published CDNOW values, lifetimes on the same data, recovery, maths."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, gammaln
from sklearn.base import clone

from custintel import (
    ConvergenceError,
    ConvergenceWarning,
    SchemaError,
    calibration_holdout_split,
    summarize_customers,
)
from custintel.clv import BetaGeoModel, ModifiedBetaGeoModel
from custintel.clv import _beta_geo_math as bgm
from custintel.datasets import load_cdnow, make_transactions

MODELS = [BetaGeoModel, ModifiedBetaGeoModel]
CDNOW_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL (2005), weeks


def _split(tx: pd.DataFrame) -> pd.DataFrame:
    return calibration_holdout_split(
        tx,
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit="W",
        duplicates="keep",
    )


@pytest.fixture(scope="module")
def cdnow_weeks() -> pd.DataFrame:
    """The CDNOW 1/10 sample of FHL (2005): 2,357 customers, weeks."""
    return _split(load_cdnow(sample=True))


@pytest.fixture(scope="module")
def cdnow_full_weeks() -> pd.DataFrame:
    """Full CDNOW: 23,570 customers, weeks."""
    return _split(load_cdnow())


def _model(cls: type, params: dict[str, float]) -> BetaGeoModel:
    return cls.from_dict(
        {
            "model": cls.__name__,
            "format_version": 1,
            "params": params,
            "log_likelihood": None,  # not known: the parameters are given, not fitted
            "converged": True,
        }
    )


def _arrays(X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, t_x, T = (X[c].to_numpy(np.float64) for c in ("frequency", "recency", "T"))
    return x, t_x, T


EXTREMES = pd.DataFrame(
    {
        "frequency": [300, 300, 0, 0, 0, 1, 5, 300, 2, 40],
        "recency": [1e5, 1.0, 0.0, 0.0, 0.0, 1e-6, 0.0, 1e-6, 39.0, 1e5 - 1],
        "T": [1e5, 1e5, 1e-6, 1e5, 39.0, 1e-6, 1e5, 1e-6, 39.0, 1e5],
    },
    index=pd.Index([f"c{i}" for i in range(10)], name="customer_id"),
)


# --- published values --------------------------------------------------------------


def test_published_cdnow_bgnbd(cdnow_weeks: pd.DataFrame) -> None:
    # Fader, Hardie and Lee (2005), section 5: r = 0.243, alpha = 4.414, a = 0.793,
    # b = 2.426, LL = -9,582.4 on the 2,357-customer CDNOW sample in weeks.
    model = BetaGeoModel().fit(cdnow_weeks)
    assert model.converged_
    assert model.params_.round(3).to_dict() == CDNOW_BG
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert model.n_customers_ == 2357
    assert np.all(model.bse_ > 0)


# --- lifetimes on the full CDNOW calibration table -----------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("cls", MODELS)
def test_against_lifetimes_full_cdnow(cls: type, cdnow_full_weeks: pd.DataFrame) -> None:
    from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter

    fitter_cls = BetaGeoFitter if cls is BetaGeoModel else ModifiedBetaGeoFitter
    X = cdnow_full_weeks
    x, t_x, T = _arrays(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter = fitter_cls().fit(x, t_x, T)
    theirs = fitter.params_[["r", "alpha", "a", "b"]]
    twin = _model(cls, theirs.to_dict())

    # (a) formula checks with lifetimes' parameters
    for t in (1.0, 10.0, 39.0, 78.0):
        np.testing.assert_allclose(
            twin.predict_purchases(X, t=t).to_numpy(),
            fitter.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T),
            rtol=1e-3,
        )
    np.testing.assert_allclose(
        twin.predict_proba_alive(X).to_numpy(),
        fitter.conditional_probability_alive(x, t_x, T),
        rtol=1e-3,
    )
    ages = np.array([0.5, 1.0, 10.0, 39.0, 78.0, 500.0])
    np.testing.assert_allclose(
        twin.expected_purchases_new_customer(ages),
        fitter.expected_number_of_purchases_up_to_time(ages),
        rtol=1e-3,
    )

    # Our likelihood is lifetimes' one: lifetimes rescales time by s (max T -> 10),
    # which multiplies each customer's likelihood by s**-x.
    ll_at_theirs = float(
        bgm.beta_geo_loglik(theirs.to_numpy(), x, t_x, T, modified=cls._modified)[0].sum()
    )
    theirs_total = -fitter._negative_log_likelihood_ * len(X) + x.sum() * np.log(fitter._scale)
    assert ll_at_theirs == pytest.approx(theirs_total, rel=1e-9)

    # (b) fit check: equal or better likelihood, the same optimum
    model = cls().fit(X)
    assert model.converged_
    assert model.log_likelihood_ >= ll_at_theirs - 1e-6
    np.testing.assert_allclose(model.params_.to_numpy(), theirs.to_numpy(), rtol=1e-3)
    np.testing.assert_allclose(
        model.predict_purchases(X, t=39).to_numpy(),
        fitter.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T),
        rtol=1e-3,
    )
    np.testing.assert_allclose(
        model.bse_.to_numpy(), fitter.standard_errors_[["r", "alpha", "a", "b"]], rtol=1e-2
    )


# --- parameter recovery ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_recovery_from_make_transactions(seed: int) -> None:
    # summarize_customers merges orders on the same calendar day into one
    # occasion, which biases alpha up by about 4% at the simulator's default
    # rates (checked on 200,000 customers: exact order times recover every
    # parameter within 1.4 SE, day summaries put alpha 7 SE off). At 3,000
    # customers that bias is about one standard error, well inside 3.
    sim = make_transactions(3000, random_state=seed)
    X = summarize_customers(sim.transactions)
    model = BetaGeoModel().fit(X)
    truth = pd.Series(sim.purchase_params)[list(model.params_.index)]
    z = (model.params_ - truth) / model.bse_
    assert np.all(np.abs(z) < 3), z.to_dict()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("cls", "params"),
    [
        (BetaGeoModel, {"r": 0.5, "alpha": 8.0, "a": 0.6, "b": 2.0}),
        (BetaGeoModel, {"r": 2.0, "alpha": 30.0, "a": 1.5, "b": 6.0}),
        (ModifiedBetaGeoModel, {"r": 0.6, "alpha": 7.0, "a": 0.8, "b": 1.3}),
        (ModifiedBetaGeoModel, {"r": 1.5, "alpha": 20.0, "a": 2.0, "b": 8.0}),
    ],
)
def test_recovery_from_own_sample(cls: type, params: dict[str, float]) -> None:
    truth = _model(cls, params)
    T = np.random.default_rng(7).uniform(26, 78, 20_000)
    X = truth.sample(20_000, T=T, random_state=11)
    assert X["frequency"].dtype == np.int64
    assert (X["recency"] <= X["T"]).all()
    assert ((X["frequency"] == 0) == (X["recency"] == 0)).all()
    model = cls().fit(X)
    z = (model.params_ - pd.Series(params)) / model.bse_
    assert np.all(np.abs(z) < 3), z.to_dict()


@pytest.mark.parametrize("cls", MODELS)
def test_sample_matches_unconditional_expectation(cls: type) -> None:
    # E[X(T)] of the simulator against the closed form (FHL eq. 9; Batislam et al.)
    model = _model(cls, {"r": 0.8, "alpha": 5.0, "a": 0.7, "b": 2.5})
    for T in (5.0, 40.0):
        X = model.sample(200_000, T=T, random_state=3)
        expected = float(model.expected_purchases_new_customer(T))
        se = X["frequency"].std() / np.sqrt(len(X))
        assert abs(X["frequency"].mean() - expected) < 4 * se
        # and the share of customers with no repeat purchase: P(X(T) = 0)
        r, alpha, a, b = model._params
        p0 = (alpha / (alpha + T)) ** r
        if cls is ModifiedBetaGeoModel:  # gone at once, or alive with no purchase yet
            p0 = a / (a + b) + b / (a + b) * p0
        share = (X["frequency"] == 0).mean()
        assert abs(share - p0) < 4 * np.sqrt(p0 * (1 - p0) / len(X))


# --- conditional predictions against simulation ---------------------------------------


def _simulate_future(
    cls: type, params: dict[str, float], x: float, t_x: float, T: float, t: float
) -> tuple[float, float, float, float]:
    """Monte-Carlo P(no purchase in (T, T+t]) and E[purchases] given a history.

    Customers are drawn from the model and weighted by the likelihood of the
    history (importance sampling of the posterior), then simulated forward.
    This uses only the generative process, not the posterior formulas: for
    each (lambda, p), the history arises either with the customer alive at T,
    (1-p)^(x+s) lambda^x e^(-lambda T), or with dropout right after the last
    purchase, p (1-p)^(x+s-1) lambda^x e^(-lambda t_x) (s = 0 for BG/NBD,
    where this needs x > 0; s = 1 for MBG/NBD). An alive customer then buys
    at Poisson times and tosses the dropout coin after each purchase.
    """
    rng = np.random.default_rng(2024)
    n = 1_000_000
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    s = 1.0 if cls is ModifiedBetaGeoModel else 0.0
    # Proposal for lambda near its posterior: Gamma(r + x, alpha + t_x); weight
    # prior / proposal times the likelihood of the history.
    lam = rng.gamma(r + x, 1.0 / (alpha + t_x), n)
    p = rng.beta(a, b, n)
    log_prior_over_proposal = (
        r * np.log(alpha)
        - gammaln(r)
        - (r + x) * np.log(alpha + t_x)
        + gammaln(r + x)
        - x * np.log(lam)
        + lam * t_x
    )
    log_alive = (x + s) * np.log1p(-p) + x * np.log(lam) - lam * T
    if s == 0 and x == 0:
        log_dead = np.full(n, -np.inf)
    else:
        log_dead = np.log(p) + (x + s - 1) * np.log1p(-p) + x * np.log(lam) - lam * t_x
    log_w = log_prior_over_proposal + np.logaddexp(log_alive, log_dead)
    w = np.exp(log_w - log_w.max())
    alive = rng.random(n) < np.exp(log_alive - np.logaddexp(log_alive, log_dead))
    # forward: purchases in (T, T+t] of alive customers, min(Poisson(lambda t), K)
    n_poisson = rng.poisson(lam * t)
    with np.errstate(divide="ignore"):
        k = np.floor(np.log1p(-rng.random(n)) / np.log1p(-p)) + 1
    future = np.where(alive, np.minimum(n_poisson, k), 0.0)
    none = (future == 0).astype(float)
    total = w.sum()
    p_none = float(w @ none / total)
    e_future = float(w @ future / total)
    se_none = float(np.sqrt(w**2 @ (none - p_none) ** 2) / total)
    se_future = float(np.sqrt(w**2 @ (future - e_future) ** 2) / total)
    return p_none, se_none, e_future, se_future


@pytest.mark.slow
@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize(
    ("x", "t_x", "T"),
    [(0, 0.0, 30.0), (2, 30.43, 38.86), (5, 10.0, 40.0), (10, 38.0, 39.0), (1, 1.0, 38.0)],
)
def test_conditional_predictions_match_simulation(cls: type, x: int, t_x: float, T: float) -> None:
    params = CDNOW_BG if cls is BetaGeoModel else {"r": 0.525, "alpha": 6.18, "a": 0.89, "b": 1.61}
    model = _model(cls, params)
    t = 39.0
    history = pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T]})
    p_none, se_none, e_future, se_future = _simulate_future(cls, params, x, t_x, T, t)
    assert float(model.predict_proba_no_purchase(history, t=t).iloc[0]) == pytest.approx(
        p_none, abs=4 * se_none + 1e-4
    )
    assert float(model.predict_purchases(history, t=t).iloc[0]) == pytest.approx(
        e_future, abs=4 * se_future + 1e-4
    )


def test_no_purchase_formula_by_hand() -> None:
    # BG/NBD at CDNOW values, x = 2, t_x = 30, T = 38, t = 10 (worked out here):
    # odds of dead = a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)
    r, alpha, a, b = CDNOW_BG.values()
    x, t_x, T, t = 2.0, 30.0, 38.0, 10.0
    odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    alive = 1 / (1 + odds)
    expected = 1 - alive * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x))
    model = _model(BetaGeoModel, CDNOW_BG)
    history = pd.DataFrame({"frequency": [2], "recency": [30.0], "T": [38.0]})
    assert model.predict_proba_alive(history).iloc[0] == pytest.approx(alive, rel=1e-12)
    assert model.predict_proba_no_purchase(history, t=t).iloc[0] == pytest.approx(
        expected, rel=1e-12
    )
    # BG/NBD one-time buyers are alive for sure; MBG/NBD ones may be gone
    once = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [38.0]})
    assert model.predict_proba_alive(once).iloc[0] == 1.0
    mbg = _model(ModifiedBetaGeoModel, CDNOW_BG)
    assert mbg.predict_proba_alive(once).iloc[0] == pytest.approx(
        1 / (1 + a / b * ((alpha + T) / alpha) ** r), rel=1e-12
    )


@pytest.mark.parametrize("cls", MODELS)
def test_probabilities_and_monotonicity(cls: type, cdnow_weeks: pd.DataFrame) -> None:
    model = _model(cls, CDNOW_BG)
    X = pd.concat([cdnow_weeks[["frequency", "recency", "T"]], EXTREMES])
    alive = model.predict_proba_alive(X)
    assert alive.between(0, 1).all()
    previous_none = pd.Series(1.0, index=X.index)
    previous_e = pd.Series(0.0, index=X.index)
    for t in (0.0, 1e-6, 0.1, 1.0, 10.0, 39.0, 100.0, 1e3, 1e5):
        none = model.predict_proba_no_purchase(X, t=t)
        expected = model.predict_purchases(X, t=t)
        assert none.between(0, 1).all() and np.isfinite(expected).all()
        assert (none <= previous_none + 1e-12).all()
        assert (expected >= previous_e * (1 - 1e-9)).all()
        assert (none >= 1 - alive - 1e-12).all()
        previous_none, previous_e = none, expected
    assert (model.predict_purchases(X, t=0) == 0).all()
    assert np.allclose(model.predict_proba_no_purchase(X, t=0), 1.0)


# --- hypergeometric evaluation ----------------------------------------------------------


def test_alive_expectation_closed_form_against_quadrature() -> None:
    # Series, Euler-transformed hyp2f1 and adaptive quadrature are independent
    # routes to E_p[(1 - (1 + p t/alpha)^-r) / p], p ~ Beta(a, b).
    rng = np.random.default_rng(5)
    for _ in range(300):
        r = float(np.exp(rng.uniform(-3, 6)))
        alpha = float(np.exp(rng.uniform(-5, 12)))
        a = float(np.exp(rng.uniform(-2, 2)))
        b = float(np.exp(rng.uniform(-2, 6)))
        t = float(np.exp(rng.uniform(-8, 14)))
        closed = float(bgm.alive_expected_purchases(r, alpha, a, b, t))
        quad = bgm._quadrature(r, t / alpha, a, b)
        assert closed == pytest.approx(quad, rel=2e-5), (r, alpha, a, b, t)


@pytest.mark.parametrize("a", [1.0, 1 + 1e-9, 1 - 1e-7, 1 + 5e-4, 0.999])
def test_alive_expectation_continuous_at_a_equal_one(a: float) -> None:
    # the closed form divides by a - 1; the value is smooth through a = 1
    for r, b, t in [(0.3, 2.4, 5.0), (300.3, 2.4, 0.7), (2.0, 0.2, 1e9)]:
        value = float(bgm.alive_expected_purchases(r, 1.0, a, b, t))
        assert value == pytest.approx(bgm._quadrature(r, t, a, b), rel=1e-5)


def test_new_customer_expectation_degenerate_parameters() -> None:
    # a + b = 1 makes the BG/NBD hypergeometric's c zero; integers make scipy's
    # connection formulas degenerate. The result stays finite and correct.
    for params in ([0.5, 4.0, 0.3, 0.7], [2.0, 0.01, 5.0, 0.2], [1.0, 1.0, 2.0, 3.0]):
        t = np.array([0.1, 1.0, 10.0, 1e4, 1e7])
        value = bgm.expected_purchases_new_customer(np.array(params), t)
        reference = [bgm._quadrature(params[0], s / params[1], params[2], params[3]) for s in t]
        np.testing.assert_allclose(value, reference, rtol=1e-5)


# --- likelihood and gradient -------------------------------------------------------------


@pytest.mark.parametrize("modified", [False, True])
@pytest.mark.parametrize(
    "params",
    [
        [0.243, 4.414, 0.793, 2.426],
        [2.0, 0.01, 5.0, 0.3],
        [0.05, 100.0, 0.3, 50.0],
        [20, 1e3, 1, 1],
    ],
)
def test_gradient_matches_finite_differences(modified: bool, params: list[float]) -> None:
    x, t_x, T = _arrays(EXTREMES)
    p = np.array(params, dtype=np.float64)
    ll, grad = bgm.beta_geo_loglik(p, x, t_x, T, modified=modified)
    assert np.all(np.isfinite(ll)) and np.all(np.isfinite(grad))
    for j in range(4):
        h = 1e-5 * p[j]
        up, down = p.copy(), p.copy()
        up[j] += h
        down[j] -= h
        numeric = (
            bgm.beta_geo_loglik(up, x, t_x, T, modified=modified)[0]
            - bgm.beta_geo_loglik(down, x, t_x, T, modified=modified)[0]
        ) / (2 * h)
        # central differences lose ~1e-16 * |ll| / h to rounding
        tolerance = 1e-6 * (1 + np.abs(grad[:, j])) + 1e-14 * np.abs(ll) / h
        assert np.all(np.abs(numeric - grad[:, j]) <= tolerance), (j, numeric, grad[:, j])


@pytest.mark.parametrize("modified", [False, True])
def test_loglik_closed_form_by_hand(modified: bool) -> None:
    # The likelihood written out with beta functions (FHL eq. 6; Batislam et al.)
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    s = 1 if modified else 0
    rows = [(0, 0.0, 30.0), (3, 20.0, 35.0), (1, 5.0, 5.0)]
    for x, t_x, T in rows:
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        alive = betaln(a, b + x + s) - betaln(a, b) - (r + x) * np.log(alpha + T)
        dead = -np.inf
        if x > 0 or modified:
            dead = betaln(a + 1, b + x + s - 1) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
        expected = common + np.logaddexp(alive, dead)
        ll, _ = bgm.beta_geo_loglik(
            np.array([r, alpha, a, b]),
            np.array([float(x)]),
            np.array([t_x]),
            np.array([T]),
            modified=modified,
        )
        assert ll[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("modified", [False, True])
def test_sufficient_statistics_equal_per_customer_sums(
    modified: bool, cdnow_weeks: pd.DataFrame
) -> None:
    X = pd.concat([cdnow_weeks[["frequency", "recency", "T"]], EXTREMES])
    x, t_x, T = _arrays(X)
    weights = np.random.default_rng(0).integers(0, 4, len(x)).astype(float)
    stats = bgm.beta_geo_stats(x, t_x, T, weights, modified=modified)
    for params in ([0.243, 4.414, 0.793, 2.426], [3.0, 0.5, 0.2, 9.0]):
        p = np.array(params)
        ll, grad = bgm.beta_geo_loglik(p, x, t_x, T, modified=modified)
        total, total_grad = bgm.beta_geo_total_loglik(p, stats, modified=modified)
        assert total == pytest.approx(weights @ ll, rel=1e-12)
        np.testing.assert_allclose(total_grad, weights @ grad, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("cls", MODELS)
def test_extremes_are_finite(cls: type, cdnow_weeks: pd.DataFrame) -> None:
    x, t_x, T = _arrays(EXTREMES)
    for params in ([0.243, 4.414, 0.793, 2.426], [5.0, 1e-4, 0.05, 40.0], [1e-3, 1e4, 30.0, 1e-3]):
        ll, grad = bgm.beta_geo_loglik(np.array(params), x, t_x, T, modified=cls._modified)
        assert np.all(np.isfinite(ll)) and np.all(np.isfinite(grad))
        model = _model(cls, dict(zip(("r", "alpha", "a", "b"), params, strict=True)))
        for t in (0.0, 1e-6, 1.0, 39.0, 1e5):
            assert np.isfinite(model.predict_purchases(EXTREMES, t=t)).all()
            assert model.predict_proba_no_purchase(EXTREMES, t=t).between(0, 1).all()
        assert model.predict_proba_alive(EXTREMES).between(0, 1).all()
    # A fit with extreme customers among ordinary ones converges. (Not with 300
    # purchases within T = 1e-6: that customer alone drives alpha to 0, and the
    # fit rightly raises ConvergenceError.)
    plausible = EXTREMES.loc[["c0", "c1", "c2", "c3", "c4", "c6", "c8", "c9"]]
    model = cls().fit(pd.concat([cdnow_weeks[["frequency", "recency", "T"]], plausible]))
    assert model.converged_ and np.all(np.isfinite(model.params_))
    with pytest.raises(ConvergenceError):
        cls().fit(pd.concat([cdnow_weeks[["frequency", "recency", "T"]], EXTREMES]))


@pytest.mark.parametrize("cls", MODELS)
def test_all_one_time_buyers_never_give_nan(cls: type) -> None:
    X = pd.DataFrame({"frequency": 0, "recency": 0.0, "T": np.linspace(1, 50, 400)})
    try:
        model = cls(on_failure="raise").fit(X)
    except ConvergenceError as err:
        assert "did not converge" in str(err)
    else:
        assert np.all(np.isfinite(model.params_))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = cls(on_failure="warn").fit(X)
    assert np.all(np.isfinite(model.params_))
    assert model.converged_ or any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert np.isfinite(model.predict_purchases(X, t=10)).all()
    assert model.predict_proba_no_purchase(X, t=10).between(0, 1).all()


# --- input errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"frequency": [1, 2], "recency": [5.0, 12.0], "T": [10.0, 10.0]}, "exceed T"),
        ({"frequency": [-1, 2], "recency": [0.0, 3.0], "T": [10.0, 10.0]}, "negative"),
        ({"frequency": [1.5, 2], "recency": [1.0, 3.0], "T": [10.0, 10.0]}, "whole numbers"),
        ({"frequency": [1, 2], "recency": [np.nan, 3.0], "T": [10.0, 10.0]}, "NaN"),
        ({"frequency": [1, 2], "T": [10.0, 10.0]}, "missing \\['recency'\\]"),
        ({"frequency": [0, 2], "recency": [1.0, 3.0], "T": [10.0, 10.0]}, "frequency is 0"),
    ],
)
def test_bad_input_raises_schema_error(cls: type, frame: dict, message: str) -> None:
    X = pd.DataFrame(frame)
    with pytest.raises(SchemaError, match=message):
        cls().fit(X)
    fitted = _model(cls, CDNOW_BG)
    with pytest.raises(SchemaError, match=message):
        fitted.predict_purchases(X, t=1)


@pytest.mark.parametrize("cls", MODELS)
def test_bad_arguments(cls: type, cdnow_weeks: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="sample_weight"):
        cls().fit(cdnow_weeks, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="unknown initial_params"):
        cls(initial_params={"gamma": 1.0}).fit(cdnow_weeks)
    with pytest.raises(ValueError, match="on_failure"):
        cls(on_failure="ignore").fit(cdnow_weeks)
    with pytest.raises(ValueError, match="t must be"):
        _model(cls, CDNOW_BG).predict_purchases(cdnow_weeks, t=-1)
    with pytest.raises(ValueError, match="t must be"):
        _model(cls, CDNOW_BG).expected_purchases_new_customer([1.0, np.nan])


# --- estimator contract and persistence -------------------------------------------------


def test_sample_weight_equals_repeated_rows(cdnow_weeks: pd.DataFrame) -> None:
    X = cdnow_weeks[["frequency", "recency", "T"]].iloc[:600]
    counts = np.random.default_rng(1).integers(1, 4, len(X))
    weighted = BetaGeoModel().fit(X, sample_weight=counts)
    repeated = BetaGeoModel().fit(X.loc[X.index.repeat(counts)])
    np.testing.assert_allclose(weighted.params_, repeated.params_, rtol=1e-5)
    assert weighted.log_likelihood_ == pytest.approx(repeated.log_likelihood_, rel=1e-9)


def test_initial_params_and_penalizer(cdnow_weeks: pd.DataFrame) -> None:
    start = BetaGeoModel(initial_params={"r": 2.0, "alpha": 0.5, "a": 3.0, "b": 0.5}).fit(
        cdnow_weeks
    )
    np.testing.assert_allclose(start.params_.round(3), list(CDNOW_BG.values()))
    penalised = BetaGeoModel(penalizer=0.1).fit(cdnow_weeks)
    assert (penalised.params_**2).sum() < (start.params_**2).sum()
    assert penalised.log_likelihood_ < start.log_likelihood_
    assert clone(penalised).get_params()["penalizer"] == 0.1


@pytest.mark.parametrize("cls", MODELS)
def test_round_trips(cls: type, cdnow_weeks: pd.DataFrame, tmp_path: Path) -> None:
    X = pd.concat([cdnow_weeks[["frequency", "recency", "T"]], EXTREMES])
    model = cls(penalizer=0.0).fit(cdnow_weeks)
    assert not hasattr(model, "data") and "frequency" not in vars(model)
    text = json.dumps(model.to_dict())
    restored = cls.from_dict(json.loads(text))
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    for other in (restored, cls.from_dict(text), loaded):
        pd.testing.assert_series_equal(other.params_, model.params_)
        for t in (1.0, 39.0):
            pd.testing.assert_series_equal(
                other.predict_purchases(X, t=t), model.predict_purchases(X, t=t)
            )
            pd.testing.assert_series_equal(
                other.predict_proba_no_purchase(X, t=t), model.predict_proba_no_purchase(X, t=t)
            )
        pd.testing.assert_series_equal(other.predict_proba_alive(X), model.predict_proba_alive(X))
        np.testing.assert_array_equal(
            other.expected_purchases_new_customer([1.0, 52.0]),
            model.expected_purchases_new_customer([1.0, 52.0]),
        )
    with pytest.raises(ValueError, match="not"):
        (ModifiedBetaGeoModel if cls is BetaGeoModel else BetaGeoModel).from_dict(text)


def test_cumulative_purchases_of_a_cohort(cdnow_weeks: pd.DataFrame) -> None:
    model = _model(BetaGeoModel, CDNOW_BG)
    births = (cdnow_weeks["T"].max() - cdnow_weeks["T"]).to_numpy()
    grid = np.arange(0, 79, 13.0)
    curve = model.expected_cumulative_purchases(births, t=grid)
    assert curve.iloc[0] == 0 and curve.is_monotonic_increasing
    by_hand = sum(
        float(model.expected_purchases_new_customer(78.0 - b)) for b in births if b < 78.0
    )
    assert curve.loc[78.0] == pytest.approx(by_hand, rel=1e-9)
