"""Time-invariant covariates of BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma (issue 22)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr
from sklearn.base import clone

from custintel import summarize_customers
from custintel.clv import (
    BetaGeoModel,
    CLVModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)
from custintel.clv import _beta_geo_math as bgm
from custintel.clv import _pareto_nbd_math as pnm
from custintel.datasets import load_cdnow_summary, make_transactions
from custintel.exceptions import DataQualityWarning, InvalidModelError, SchemaError

PURCHASE_MODELS = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel]


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    X = load_cdnow_summary()
    rng = np.random.default_rng(7)
    return X.assign(
        zero=0.0,
        group=rng.integers(0, 2, len(X)).astype(float),
        score=np.round(rng.normal(size=len(X)), 1),
    )


def _fit_quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return model.fit(X)


# --- all-zero covariates: the plain model ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("cls", PURCHASE_MODELS)
def test_zero_covariates_fit_equals_plain_model(cls, cdnow):
    plain = cls().fit(cdnow)
    with pytest.warns(DataQualityWarning, match=r"\['zero'\] take one value"):
        covariate = cls(purchase_covariates=["zero"], dropout_covariates=["zero"]).fit(cdnow)
    np.testing.assert_allclose(covariate.params_[list(cls.param_names)], plain.params_, rtol=1e-9)
    assert covariate.params_["purchase:zero"] == 0.0
    assert covariate.params_["dropout:zero"] == 0.0
    assert covariate.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-12)
    pd.testing.assert_series_equal(
        covariate.predict_purchases(cdnow, t=39),
        plain.predict_purchases(cdnow, t=39),
        rtol=1e-8,
    )


def test_zero_spend_covariate_equals_plain_gamma_gamma(cdnow):
    plain = GammaGammaModel().fit(cdnow)
    with pytest.warns(DataQualityWarning, match="not identified"):
        covariate = GammaGammaModel(spend_covariates=["zero"]).fit(cdnow)
    np.testing.assert_allclose(covariate.params_[["p", "q", "gamma"]], plain.params_, rtol=1e-9)
    assert covariate.params_["spend:zero"] == 0.0
    pd.testing.assert_series_equal(
        covariate.predict_spend(cdnow), plain.predict_spend(cdnow), rtol=1e-10
    )


# --- the likelihood's gradient -----------------------------------------------------------------


def _check_gradient(model, X, theta):
    arrays, _ = model._prepare(X)
    ll, grad = model._covariate_loglik(theta, arrays)
    assert grad.shape == (len(ll), len(theta))
    for j in range(len(theta)):
        step = 1e-6 * max(abs(theta[j]), 1.0)
        up, down = theta.copy(), theta.copy()
        up[j] += step
        down[j] -= step
        numeric = (
            model._covariate_loglik(up, arrays)[0] - model._covariate_loglik(down, arrays)[0]
        ) / (2 * step)
        np.testing.assert_allclose(grad[:, j], numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("cls", PURCHASE_MODELS)
def test_gradient_matches_finite_differences(cls, cdnow):
    X = cdnow.iloc[:300]
    model = cls(purchase_covariates=["group", "score"], dropout_covariates=["score"])
    theta = np.array([0.6, 8.0, 0.9, 3.0, 0.3, -0.2, 0.25])
    _check_gradient(model, X, theta)


def test_gamma_gamma_gradient_matches_finite_differences(cdnow):
    X = cdnow[cdnow["frequency"] > 0].iloc[:300]
    _check_gradient(
        GammaGammaModel(spend_covariates=["group", "score"]),
        X,
        np.array([5.0, 3.5, 12.0, 0.2, -0.3]),
    )


# --- predictions use each customer's own parameters --------------------------------------------


def test_bg_predictions_use_each_customers_parameters(cdnow):
    X = cdnow.iloc[:200]
    model = _fit_quietly(
        BetaGeoModel(purchase_covariates=["score"], dropout_covariates=["group"]), cdnow
    )
    r, alpha, a, b, g_p, g_d = model.params_.to_numpy()
    alpha_i = alpha * np.exp(-g_p * X["score"].to_numpy())
    scale = np.exp(g_d * X["group"].to_numpy())
    expected = [
        bgm.expected_purchases(
            np.array([r, al, a * sc, b * sc]),
            np.array([x]),
            np.array([tx]),
            np.array([T]),
            10.0,
            modified=False,
        )[0]
        for al, sc, x, tx, T in zip(
            alpha_i, scale, X["frequency"], X["recency"], X["T"], strict=True
        )
    ]
    np.testing.assert_allclose(model.predict_purchases(X, t=10.0), expected, rtol=1e-10)


def test_pareto_predictions_use_each_customers_parameters(cdnow):
    X = cdnow.iloc[:150]
    model = ParetoNBDModel(purchase_covariates=["score"], dropout_covariates=["group"])
    model.fit(cdnow)
    r, alpha, s, beta, g_p, g_d = model.params_.to_numpy()
    alpha_i = alpha * np.exp(-g_p * X["score"].to_numpy())
    beta_i = beta * np.exp(-g_d * X["group"].to_numpy())
    for formula, method in [
        (pnm.proba_alive, model.predict_proba_alive),
        (lambda *a: pnm.expected_purchases(*a, 20.0), lambda X: model.predict_purchases(X, t=20)),
        (
            lambda *a: pnm.proba_no_purchase(*a, 20.0),
            lambda X: model.predict_proba_no_purchase(X, t=20),
        ),
    ]:
        expected = [
            formula(np.array([r, al, s, be]), np.array([x]), np.array([tx]), np.array([T]))[0]
            for al, be, x, tx, T in zip(
                alpha_i, beta_i, X["frequency"], X["recency"], X["T"], strict=True
            )
        ]
        np.testing.assert_allclose(method(X), expected, rtol=1e-10)


def test_missing_covariate_column_is_named(cdnow):
    model = _fit_quietly(BetaGeoModel(dropout_covariates=["group"]), cdnow)
    with pytest.raises(SchemaError, match=r"lacks \['group'\]") as err:
        model.predict_purchases(cdnow.drop(columns="group"), t=10)
    assert err.value.reason == "missing_column"
    assert "dropout_covariates" in str(err.value)


def test_bad_covariate_values_are_refused(cdnow):
    X = cdnow.assign(group=cdnow["group"].where(cdnow.index != cdnow.index[3]))
    with pytest.raises(SchemaError, match=r"'group'.*NaN"):
        BetaGeoModel(purchase_covariates=["group"]).fit(X)


@pytest.mark.parametrize(
    "value, match",
    [
        ("group", "list of column names"),
        (["group", "group"], "twice"),
        (["frequency"], "model's own columns"),
        ([3], "column names"),
    ],
)
def test_bad_covariate_hyperparameters(cdnow, value, match):
    with pytest.raises(ValueError, match=match):
        BetaGeoModel(purchase_covariates=value).fit(cdnow)


def test_single_parameter_predictions_refuse_covariates(cdnow):
    model = _fit_quietly(ParetoNBDModel(purchase_covariates=["group"]), cdnow)
    with pytest.raises(ValueError, match="each customer has their own parameters"):
        model.predict_proba_purchases(cdnow, t=10, n=0)
    with pytest.raises(ValueError, match="each customer has their own parameters"):
        model.sample(10, T=30)


def test_clone_and_get_params(cdnow):
    model = BetaGeoModel(purchase_covariates=["group"], dropout_covariates=["score"])
    assert clone(model).get_params()["dropout_covariates"] == ["score"]
    assert GammaGammaModel(spend_covariates=["group"]).get_params()["spend_covariates"] == ["group"]
    assert "spend_covariates" not in BetaGeoModel().get_params()


# --- summary: Wald tests of each coefficient ----------------------------------------------------


def test_summary_has_wald_tests(cdnow):
    model = _fit_quietly(BetaGeoModel(purchase_covariates=["group", "score"]), cdnow)
    table = model.summary()
    assert list(table.columns) == ["estimate", "se", "lower_95", "upper_95", "z", "p_value"]
    rows = ["purchase:group", "purchase:score"]
    z = table.loc[rows, "estimate"] / table.loc[rows, "se"]
    np.testing.assert_allclose(table.loc[rows, "z"], z)
    np.testing.assert_allclose(table.loc[rows, "p_value"], 2 * ndtr(-np.abs(z)))
    assert table.loc[["r", "alpha", "a", "b"], "z"].isna().all()
    # the covariates are noise: no effect at the 0.1% level
    assert (table.loc[rows, "p_value"] > 0.001).all()
    # a model without covariates keeps its four columns
    assert list(BetaGeoModel().fit(cdnow).summary().columns) == [
        "estimate",
        "se",
        "lower_95",
        "upper_95",
    ]


# --- export ------------------------------------------------------------------------------------


def test_export_round_trip_carries_coefficients(cdnow):
    model = _fit_quietly(
        ParetoNBDModel(purchase_covariates=["group"], dropout_covariates=["score"]), cdnow
    )
    export = json.loads(json.dumps(model.to_dict(), allow_nan=False))
    assert set(export["params"]) == {"r", "alpha", "s", "beta", "purchase:group", "dropout:score"}
    assert export["hyperparameters"]["dropout_covariates"] == ["score"]
    loaded = ParetoNBDModel.from_dict(export)
    pd.testing.assert_series_equal(
        loaded.predict_purchases(cdnow, t=20), model.predict_purchases(cdnow, t=20)
    )
    pd.testing.assert_frame_equal(
        loaded.summary()[["estimate", "se"]], model.summary()[["estimate", "se"]]
    )

    spend = GammaGammaModel(spend_covariates=["group"]).fit(cdnow)
    clv = CLVModel(purchase_model=model, spend_model=spend)
    clv.purchase_model_, clv.spend_model_, clv.time_unit_ = model, spend, "W"
    back = CLVModel.from_dict(json.loads(json.dumps(clv.to_dict())))
    pd.testing.assert_series_equal(
        back.predict_clv(cdnow, horizon=6), clv.predict_clv(cdnow, horizon=6)
    )


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda e: e["params"].pop("purchase:group"), "missing"),
        (lambda e: e["params"].update({"purchase:group": float("nan")}), "coefficient"),
        (lambda e: e["params"].update({"purchase:group": 1e6}), "coefficient"),
        (lambda e: e["params"].update({"purchase:other": 0.1}), "unknown"),
        (lambda e: e["hyperparameters"].update({"purchase_covariates": "group"}), "list"),
        (lambda e: e["hyperparameters"].update({"purchase_covariates": [{"a": 1}]}), "column"),
    ],
)
def test_hostile_exports_are_refused(cdnow, edit, match):
    model = _fit_quietly(BetaGeoModel(purchase_covariates=["group"]), cdnow)
    export = model.to_dict()
    edit(export)
    with pytest.raises(InvalidModelError, match=match):
        BetaGeoModel.from_dict(export)


# --- recovery of planted effects ----------------------------------------------------------------

EFFECTS = {
    "purchase": {"customer_type=B2B": 0.7},
    "dropout": {"channel=Online": -0.6},
    "spend": {"region=North": 0.4},
}


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    sim = make_transactions(6000, random_state=11, covariate_effects=EFFECTS)
    X = summarize_customers(sim.transactions)
    attributes = sim.customers.loc[X.index]
    return X.assign(
        b2b=(attributes["customer_type"] == "B2B").astype(float),
        online=(attributes["channel"] == "Online").astype(float),
        north=(attributes["region"] == "North").astype(float),
    )


def test_make_transactions_rejects_unknown_effects():
    with pytest.raises(ValueError, match="valid dummies"):
        make_transactions(10, covariate_effects={"purchase": {"customer_type=Retail": 1.0}})
    with pytest.raises(ValueError, match="valid groups"):
        make_transactions(10, covariate_effects={"lifetime": {}})


def test_make_transactions_without_effects_is_unchanged():
    a = make_transactions(50, random_state=3).transactions
    b = make_transactions(50, random_state=3, covariate_effects=None).transactions
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_bg_recovers_planted_effects(planted):
    model = BetaGeoModel(purchase_covariates=["b2b"], dropout_covariates=["online"]).fit(planted)
    table = model.summary()
    for name, truth in [("purchase:b2b", 0.7), ("dropout:online", -0.6)]:
        estimate, se = table.loc[name, ["estimate", "se"]]
        assert abs(estimate - truth) < 3.5 * se, (name, estimate, se)
        assert table.loc[name, "p_value"] < 0.01
    assert model.params_["r"] == pytest.approx(0.75, rel=0.2)
    assert model.params_["alpha"] == pytest.approx(40.0, rel=0.25)


@pytest.mark.slow
def test_gamma_gamma_recovers_planted_spend_effect(planted):
    model = GammaGammaModel(spend_covariates=["north", "b2b"]).fit(planted)
    table = model.summary()
    estimate, se = table.loc["spend:north", ["estimate", "se"]]
    assert abs(estimate - 0.4) < 3.5 * se
    assert table.loc["spend:north", "p_value"] < 1e-3
    assert abs(table.loc["spend:b2b", "estimate"]) < 3.5 * table.loc["spend:b2b", "se"]


@pytest.mark.slow
def test_pareto_recovers_planted_effects():
    rng = np.random.default_rng(5)
    n = 5000
    z = rng.integers(0, 2, n).astype(float)
    w = rng.integers(0, 2, n).astype(float)
    r, alpha, s, beta, g_p, g_d = 0.8, 30.0, 0.7, 60.0, 0.6, -0.8
    T = rng.uniform(150, 400, n)
    params = [r, alpha * np.exp(-g_p * z), s, beta * np.exp(-g_d * w)]
    X = pd.DataFrame(pnm.sample_customers(params, T, rng)).assign(z=z, w=w)
    model = ParetoNBDModel(purchase_covariates=["z"], dropout_covariates=["w"]).fit(X)
    table = model.summary()
    for name, truth in [("purchase:z", g_p), ("dropout:w", g_d)]:
        estimate, se = table.loc[name, ["estimate", "se"]]
        assert abs(estimate - truth) < 3.5 * se, (name, estimate, se)


def test_score_is_the_mean_log_likelihood_with_covariates(cdnow):
    for model in (
        _fit_quietly(BetaGeoModel(purchase_covariates=["group"]), cdnow),
        GammaGammaModel(spend_covariates=["group"]).fit(cdnow),
    ):
        assert model.score(cdnow) * model.n_customers_ == pytest.approx(
            model.log_likelihood_, rel=1e-9
        )
