"""MBG/CNBD-k: BTYDplus' reference values, the k = 1 reduction, recovery and tracking."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from custintel.clv import (
    BetaGeoModel,
    MBGCNBDModel,
    ModifiedBetaGeoModel,
    compare_models,
)
from custintel.clv import _beta_geo_math as bgm
from custintel.clv import _cnbd_math as cm
from custintel.datasets import load_cdnow_summary
from custintel.exceptions import InvalidModelError, SchemaError

# BTYDplus' own test (tests/testthat/test-mbg-cnbd-k.R)
TRUTH = np.array([3.0, 0.85, 1.45, 0.79, 2.42])


def _model(params: np.ndarray) -> MBGCNBDModel:
    names = ("k", "r", "alpha", "a", "b")
    return MBGCNBDModel.from_dict(
        {
            "model": "MBGCNBDModel",
            "format_version": 1,
            "log_likelihood": None,
            "converged": True,
            "params": {
                n: (int(v) if n == "k" else float(v)) for n, v in zip(names, params, strict=True)
            },
        }
    )


@pytest.fixture(scope="module")
def btydplus_cohort() -> pd.DataFrame:
    """BTYDplus' recovery setup: n = 8,000, T = 36..96 in steps of 12, holdout 36."""
    rng = np.random.default_rng(1)
    T = np.round(rng.uniform(36, 96, 8000) / 12) * 12
    return pd.DataFrame(cm.sample_customers(TRUTH, T, rng, holdout=36.0))


# --- BTYDplus' reference values (src/slice-sampling.cpp) ---------------------------------


def test_loglik_matches_btydplus_reference() -> None:
    # stopifnot(round(xbgcnbd_ll_cpp(c(3, 0.5, 2, 0.3, 0.6), c(3,4), c(12,12), c(14,14),
    #   c(3,3)), 5) == c(-10.42500, -12.22396)) -- the BG/CNBD-k likelihood
    params = np.array([3, 0.5, 2, 0.3, 0.6])
    ll, _ = cm.cnbd_loglik(
        params, np.array([3.0, 4.0]), np.array([12.0, 12.0]), np.array([14.0, 14.0]),
        np.array([3.0, 3.0]), modified=False,
    )  # fmt: skip
    np.testing.assert_allclose(ll, [-10.42500, -12.22396], atol=5e-6)


def test_pmf_matches_btydplus_reference() -> None:
    params = np.array([3, 0.5, 2, 0.3, 0.6])
    # round(xbgcnbd_pmf_cpp(params, 10, 2), 5) == 0.05669; with dropout at zero 0.04548
    assert round(float(cm.pmf_new_customer(params, 10.0, 2, modified=False)), 5) == 0.05669
    assert round(float(cm.pmf_new_customer(params, 10.0, 2, modified=True)), 5) == 0.04548
    counts = np.arange(0, 1001)
    for modified in (False, True):
        pmf = cm.pmf_new_customer(params, 10.0, counts, modified=modified)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
        # sum(i * pmf) == xbgcnbd_exp_cpp: the expectation of a new customer
        mean = cm.expected_purchases_new_customer(params, 10.0, modified=modified)
        assert float(counts @ pmf) == pytest.approx(float(mean), rel=1e-10)


# --- k = 1 is MBG/NBD --------------------------------------------------------------------


def test_k1_maths_equal_mbg_nbd_exactly() -> None:
    X = load_cdnow_summary()
    x, t_x, T = (X[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    mbg = np.array([0.525, 6.183, 0.891, 1.614])
    params = np.r_[1.0, mbg]
    ll, grad = cm.cnbd_loglik(params, x, t_x, T, np.zeros_like(x))
    ll_mbg, grad_mbg = bgm.beta_geo_loglik(mbg, x, t_x, T, modified=True)
    np.testing.assert_allclose(ll, ll_mbg, rtol=1e-12)
    np.testing.assert_allclose(grad, grad_mbg, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(
        cm.proba_alive(params, x, t_x, T), bgm.proba_alive(mbg, x, t_x, T, modified=True),
        rtol=1e-12,
    )  # fmt: skip
    np.testing.assert_allclose(
        cm.expected_purchases(params, x, t_x, T, 39.0),
        bgm.expected_purchases(mbg, x, t_x, T, 39.0, modified=True),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        cm.proba_no_purchase(params, x, t_x, T, 39.0),
        bgm.proba_no_purchase(mbg, x, t_x, T, 39.0, modified=True),
        rtol=1e-10,
    )
    ages = np.array([0.0, 1.0, 39.0, 500.0])
    np.testing.assert_allclose(
        cm.expected_purchases_new_customer(params, ages),
        bgm.expected_purchases_new_customer(mbg, ages, modified=True),
        rtol=1e-9,
    )


def test_k1_fit_equals_modified_beta_geo() -> None:
    X = load_cdnow_summary()
    # Any valid litt (here: equal gaps) gives the same fit at k = 1, where litt has weight k - 1.
    x, t_x = X["frequency"].to_numpy(float), X["recency"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        X = X.assign(litt=np.where(x > 0, x * np.log(t_x / np.maximum(x, 1)), 0.0))
    cnbd = MBGCNBDModel(k=1).fit(X)
    mbg = ModifiedBetaGeoModel().fit(X)
    np.testing.assert_allclose(cnbd.params_.iloc[1:], mbg.params_, rtol=1e-4)
    assert cnbd.log_likelihood_ == pytest.approx(mbg.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(cnbd.bse_.iloc[1:], mbg.bse_, rtol=1e-3)
    np.testing.assert_allclose(
        cnbd.predict_purchases(X, t=39), mbg.predict_purchases(X, t=39), rtol=1e-4
    )


def test_gradient_matches_finite_differences() -> None:
    params = np.array([4.0, 0.7, 2.0, 0.8, 1.5])
    x = np.array([0.0, 1.0, 3.0, 6.0, 2.0])
    t_x = np.array([0.0, 4.0, 12.0, 30.0, 35.0])
    T = np.array([35.0, 35.0, 40.0, 31.0, 35.0])
    litt = np.array([0.0, 1.0, 3.0, 9.0, 2.0])
    for modified in (True, False):
        _, grad = cm.cnbd_loglik(params, x, t_x, T, litt, modified=modified)
        for i in range(4):
            step = np.zeros(5)
            step[i + 1] = 1e-6
            up, _ = cm.cnbd_loglik(params + step, x, t_x, T, litt, modified=modified)
            down, _ = cm.cnbd_loglik(params - step, x, t_x, T, litt, modified=modified)
            np.testing.assert_allclose(grad[:, i], (up - down) / 2e-6, atol=1e-6)


# --- predictions -------------------------------------------------------------------------


def test_conditional_expectation_averages_to_the_unconditional_one() -> None:
    # Law of total expectation: over customers of age T, the mean of E[Y(t) | history]
    # is E[X(T + t)] - E[X(T)] of a new customer, whatever k.
    rng = np.random.default_rng(3)
    for params in (TRUTH, np.array([2.0, 1.5, 6.0, 0.6, 3.0])):
        T = np.full(20_000, 40.0)
        X = cm.sample_customers(params, T, rng)
        conditional = cm.expected_purchases(params, X["frequency"], X["recency"], T, 26.0)
        new = cm.expected_purchases_new_customer(params, np.array([40.0, 66.0]))
        standard_error = conditional.std() / np.sqrt(len(T))
        assert abs(conditional.mean() - (new[1] - new[0])) < 4 * standard_error


def test_predictions_do_not_depend_on_the_batch() -> None:
    model = _model(TRUTH)
    X = model.sample(300, T=52.0, random_state=2)
    full = model.predict_purchases(X, t=26)
    alone = pd.concat([model.predict_purchases(X.iloc[[i]], t=26) for i in range(5)])
    np.testing.assert_allclose(alone, full.iloc[:5], rtol=1e-12)
    p0 = model.predict_proba_no_purchase(X, t=26)
    alive = model.predict_proba_alive(X)
    assert ((p0 >= 1 - alive - 1e-12) & (p0 <= 1)).all()


def test_btydplus_approximation_and_exact_agree_in_aggregate(
    btydplus_cohort: pd.DataFrame,
) -> None:
    X = btydplus_cohort
    args = (X["frequency"].to_numpy(float), X["recency"].to_numpy(float), X["T"].to_numpy(float))
    exact = cm.expected_purchases(TRUTH, *args, 36.0)
    approx = cm.expected_purchases_btydplus(TRUTH, *args, 36.0)
    actual = X["frequency_holdout"].sum()
    # BTYDplus' test: "require less than 5% deviation" with the true parameters
    assert exact.sum() == pytest.approx(actual, rel=0.05)
    assert approx.sum() == pytest.approx(actual, rel=0.05)
    assert exact.sum() == pytest.approx(approx.sum(), rel=0.05)
    silent = cm.proba_no_purchase(TRUTH, *args, 36.0)
    assert silent.mean() == pytest.approx((X["frequency_holdout"] == 0).mean(), abs=0.02)


# --- fitting -----------------------------------------------------------------------------


@pytest.mark.slow
def test_recovers_btydplus_parameters(btydplus_cohort: pd.DataFrame) -> None:
    # expect_equal(est, params, tolerance = 0.1) with k searched
    model = MBGCNBDModel().fit(btydplus_cohort)
    assert model.params_["k"] == 3
    np.testing.assert_allclose(model.params_, TRUTH, rtol=0.1)
    assert model.k_log_likelihoods_.idxmax() == 3
    assert model.converged_
    # the search stopped after the likelihood fell twice (k = 4, 5), not at k_max
    assert list(model.k_log_likelihoods_.index) == [1, 2, 3, 4, 5]
    assert np.isnan(model.bse_["k"]) and (model.bse_.iloc[1:] > 0).all()


@pytest.mark.slow
def test_regular_timing_tracks_holdout_better_than_bg_nbd(
    btydplus_cohort: pd.DataFrame,
) -> None:
    X = btydplus_cohort
    actual = X["frequency_holdout"].sum()
    errors = {}
    for name, model in (("cnbd", MBGCNBDModel()), ("bgnbd", BetaGeoModel())):
        predicted = model.fit(X).predict_purchases(X, t=36).sum()
        errors[name] = predicted / actual - 1
    assert abs(errors["cnbd"]) < 0.06
    assert abs(errors["bgnbd"]) > 0.08  # double digits on this seed (+13 %)
    assert abs(errors["bgnbd"]) > 2 * abs(errors["cnbd"])


def test_fixed_k_and_the_search_options() -> None:
    X = _model(TRUTH).sample(1500, T=52.0, random_state=4)
    fixed = MBGCNBDModel(k=2).fit(X)
    assert fixed.params_["k"] == 2 and list(fixed.k_log_likelihoods_.index) == [2]
    capped = MBGCNBDModel(k_max=2).fit(X)
    assert list(capped.k_log_likelihoods_.index) == [1, 2]
    assert capped.params_["k"] == 2
    assert capped.log_likelihood_ == pytest.approx(fixed.log_likelihood_, rel=1e-8)
    weighted = MBGCNBDModel(k=2).fit(pd.concat([X, X]))
    doubled = MBGCNBDModel(k=2).fit(X, sample_weight=np.full(len(X), 2.0))
    assert doubled.log_likelihood_ == pytest.approx(weighted.log_likelihood_, rel=1e-9)
    assert fixed.score(X) == pytest.approx(fixed.log_likelihood_ / len(X), rel=1e-9)


def test_clone_export_and_round_trip() -> None:
    X = _model(TRUTH).sample(1000, T=52.0, random_state=5)
    model = MBGCNBDModel(k_max=4, penalizer=0.0).fit(X)
    assert clone(model).get_params() == model.get_params()
    text = json.dumps(model.to_dict())
    loaded = MBGCNBDModel.from_dict(text)
    pd.testing.assert_series_equal(loaded.params_, model.params_)
    pd.testing.assert_series_equal(
        loaded.k_log_likelihoods_, model.k_log_likelihoods_, check_index_type=False
    )
    np.testing.assert_allclose(loaded.predict_purchases(X, t=10), model.predict_purchases(X, t=10))
    bad = json.loads(text)
    bad["params"]["k"] = 2.5
    with pytest.raises(InvalidModelError, match="whole number") as err:
        MBGCNBDModel.from_dict(bad)
    assert err.value.reason == "bad_parameter"
    bad["params"]["k"] = 0
    with pytest.raises(InvalidModelError):
        MBGCNBDModel.from_dict(bad)


def test_clear_errors() -> None:
    X = _model(TRUTH).sample(200, T=52.0, random_state=6)
    with pytest.raises(SchemaError, match=r"needs column 'litt'.*add_litt") as err:
        MBGCNBDModel().fit(X.drop(columns="litt"))
    assert err.value.reason == "missing_column"
    # Predictions do not need litt.
    assert len(_model(TRUTH).predict_purchases(X.drop(columns="litt"), t=5)) == len(X)
    # litt in days with recency in weeks: impossible sums of log gaps
    wrong = X.assign(litt=X["litt"] + X["frequency"] * np.log(7))
    with pytest.raises(SchemaError, match="different time units"):
        MBGCNBDModel().fit(wrong[wrong["frequency"] > 0])
    orphan = X.assign(litt=np.where(X["frequency"] == 0, 1.0, X["litt"]))
    with pytest.raises(SchemaError, match="not 0 although frequency is 0"):
        MBGCNBDModel().fit(orphan)
    for bad in ({"k": 0}, {"k": 1.5}, {"k_max": 0}, {"k": True}):
        with pytest.raises(ValueError, match="whole number in"):
            MBGCNBDModel(**bad).fit(X)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="initial_params cannot set k"):
        MBGCNBDModel(initial_params={"k": 2}).fit(X)


def test_sample_is_reproducible_and_fits() -> None:
    model = _model(TRUTH)
    first = model.sample(50, T=30.0, random_state=9)
    again = model.sample(50, T=30.0, random_state=9)
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns) == ["frequency", "recency", "T", "litt"]
    assert (first["recency"] <= first["T"]).all()
    assert (first.loc[first["frequency"] == 0, "litt"] == 0).all()


def test_compare_models_includes_mbg_cnbd(btydplus_cohort: pd.DataFrame) -> None:
    split = btydplus_cohort.iloc[:1500].assign(duration_holdout=36.0)
    result = compare_models(split, {"MBG/CNBD-k": MBGCNBDModel(k_max=4), "BG/NBD": BetaGeoModel()})
    assert set(result.table.index) == {"MBG/CNBD-k", "BG/NBD"}
    assert result.table.loc["MBG/CNBD-k", "n_params"] == 5
    assert result.table.loc["MBG/CNBD-k", "error"] == ""
    # the default candidates take MBG/CNBD-k in when the split carries litt
    assert "MBG/CNBD-k" in compare_models(split).table.index
    assert "MBG/CNBD-k" not in compare_models(split.drop(columns="litt")).table.index


def test_intervals_are_conditional_on_the_chosen_k() -> None:
    # k is chosen, not estimated: it has no variance, is never drawn, and the intervals
    # carry the uncertainty of r, alpha, a and b given it (bootstrap and delta agree).
    from custintel.clv._base import draw_parameters

    X = _model(TRUTH).sample(2000, T=52, random_state=1)
    model = MBGCNBDModel().fit(X)
    draws = draw_parameters(model, 500, np.random.default_rng(0))
    assert (draws[:, 0] == 3).all() and np.ptp(draws[:, 1]) > 0
    for method, options in (
        ("predict_purchases", {"t": 26}),
        ("predict_proba_alive", {}),
        ("predict_proba_no_purchase", {"t": 26}),
    ):
        point = getattr(model, method)(X, **options)
        boot = getattr(model, method)(
            X, interval=0.9, n_draws=1000, random_state=0, interval_method="bootstrap", **options
        )
        delta = getattr(model, method)(X, interval=0.9, interval_method="delta", **options)
        pd.testing.assert_series_equal(boot.iloc[:, 0], point)
        assert (boot["lower"] <= point).all() and (point <= boot["upper"]).all()
        width = (boot["upper"] - boot["lower"]).to_numpy()
        assert (width > 0).any()
        for bound in ("lower", "upper"):
            # (1e-9: customers certain to buy nothing more, where both bounds round to 1)
            gap = np.abs(delta[bound] - boot[bound]).to_numpy()
            assert np.all(gap <= 0.15 * width + 1e-9), (method, bound)
    # the export carries the covariance: the same intervals after a round trip
    again = MBGCNBDModel.from_dict(json.loads(json.dumps(model.to_dict())))
    pd.testing.assert_frame_equal(
        again.predict_purchases(X, t=26, interval=0.9, random_state=0),
        model.predict_purchases(X, t=26, interval=0.9, random_state=0),
    )


@pytest.mark.slow
def test_nominal_90_percent_intervals_cover_the_truth() -> None:
    """Coverage of the expectation under the true parameters, over repeated samples (k fixed)."""
    rng = np.random.default_rng(7)
    panel = pd.DataFrame(
        {"frequency": [0, 1, 3, 8, 2, 5], "recency": [0.0, 20, 30, 48, 10, 40], "T": 52.0}
    )
    truth = _model(TRUTH).predict_purchases(panel, t=26).to_numpy()
    hits = []
    for _ in range(60):
        X = _model(TRUTH).sample(2000, T=52, random_state=int(rng.integers(2**31)))
        fitted = MBGCNBDModel(k=3).fit(X)
        bounds = fitted.predict_purchases(
            panel, t=26, interval=0.9, n_draws=300, random_state=int(rng.integers(2**31))
        )
        hits.append((bounds["lower"] <= truth) & (truth <= bounds["upper"]))
    coverage = float(np.mean(hits))
    assert 0.85 <= coverage <= 0.95, coverage
