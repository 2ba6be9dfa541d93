"""Properties of the CLV models at random parameters and random customers.

Fitted models are built from random parameters through the JSON export
(``from_dict``), so the maths is exercised far from any one data set.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from custintel.clv import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    CLVModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
)
from custintel.exceptions import ConvergenceError, ConvergenceWarning

# Parameters between 0.01 and 100 (log-uniform, through the exponent).
PARAM = st.floats(-2.0, 2.0).map(lambda e: float(10.0**e))

# 40 under the default profiles; see tests/properties/conftest.py.
EXAMPLES = max(1, settings.default.max_examples * 2 // 5)


def _model(cls: type, params: dict[str, float]) -> Any:
    return cls.from_dict(
        {
            "model": cls.__name__,
            "format_version": 1,
            "params": params,
            "log_likelihood": 0.0,
            "converged": True,
        }
    )


@st.composite
def customers(draw: Any, *, discrete: bool = False, max_rows: int = 8) -> pd.DataFrame:
    n = draw(st.integers(1, max_rows))
    rows = []
    for _ in range(n):
        if discrete:
            T = draw(st.integers(0, 60))
            x = draw(st.integers(0, T))
            t_x = draw(st.integers(x, T)) if x else 0
        else:
            T = draw(st.floats(0.0, 1000.0))
            x = draw(st.integers(0, 300))
            t_x = draw(st.floats(0.0, T)) if x else 0.0
        rows.append((x, t_x, T))
    frame = pd.DataFrame(rows, columns=["frequency", "recency", "T"])
    frame["monetary_value"] = np.where(frame["frequency"] > 0, draw(st.floats(0.0, 1e4)), 0.0)
    frame.index.name = "customer_id"
    return frame


_PURCHASE = {
    "BetaGeoModel": (BetaGeoModel, ("r", "alpha", "a", "b")),
    "ModifiedBetaGeoModel": (ModifiedBetaGeoModel, ("r", "alpha", "a", "b")),
    "ParetoNBDModel": (ParetoNBDModel, ("r", "alpha", "s", "beta")),
}


@pytest.mark.parametrize("name", sorted(_PURCHASE))
@settings(max_examples=EXAMPLES, deadline=2000)
@given(
    data=st.data(),
    X=customers(),
    t=st.tuples(st.floats(0.0, 500.0), st.floats(0.0, 500.0)).map(sorted),
)
def test_purchase_models_are_finite_bounded_and_monotone(
    name: str, data: Any, X: pd.DataFrame, t: list[float]
) -> None:
    cls, names = _PURCHASE[name]
    model = _model(cls, {n: data.draw(PARAM, label=n) for n in names})
    _check_purchase_model(model, X, t)


@settings(max_examples=EXAMPLES, deadline=2000)
@given(
    params=st.tuples(PARAM, PARAM, PARAM, PARAM),
    X=customers(discrete=True),
    t=st.tuples(st.integers(0, 100), st.integers(0, 100)).map(sorted),
)
def test_bgbb_is_finite_bounded_and_monotone(
    params: tuple[float, ...], X: pd.DataFrame, t: list[int]
) -> None:
    model = _model(
        BetaGeoBetaBinomModel, dict(zip(("alpha", "beta", "gamma", "delta"), params, strict=True))
    )
    _check_purchase_model(model, X, t)
    assert (model.predict_purchases(X, t=t[1]) <= t[1]).all()  # one purchase per opportunity


def _check_purchase_model(model: Any, X: pd.DataFrame, t: list[float]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings either
        early = model.predict_purchases(X, t=t[0])
        late = model.predict_purchases(X, t=t[1])
        alive = model.predict_proba_alive(X)
        quiet_early = model.predict_proba_no_purchase(X, t=t[0])
        quiet_late = model.predict_proba_no_purchase(X, t=t[1])
        new = model.expected_purchases_new_customer(np.asarray(t))
    for series in (early, late, alive, quiet_early, quiet_late):
        assert series.index.equals(X.index)
        assert np.isfinite(series).all(), f"{series.name} not finite: {series.tolist()}"
    assert np.isfinite(new).all() and (np.diff(new) >= -1e-9 * np.abs(new[1])).all()
    assert (early >= 0).all()
    # non-decreasing in t, up to rounding
    assert (late >= early - 1e-9 * np.maximum(1.0, np.abs(late))).all(), (early, late)
    for p in (alive, quiet_early, quiet_late):
        assert ((p >= 0) & (p <= 1)).all(), p.tolist()
    assert (quiet_late <= quiet_early + 1e-9).all()
    if t[0] == 0:
        np.testing.assert_allclose(early, 0.0, atol=1e-12)
        np.testing.assert_allclose(quiet_early, 1.0, rtol=1e-9)


@settings(max_examples=3 * EXAMPLES // 2, deadline=2000)
@given(p=PARAM, q=PARAM, gamma=PARAM, X=customers())
def test_gamma_gamma_spend_is_positive_and_between_prior_and_observed(
    p: float, q: float, gamma: float, X: pd.DataFrame
) -> None:
    model = _model(GammaGammaModel, {"p": p, "q": q, "gamma": gamma})
    spend = model.predict_spend(X)
    assert spend.index.equals(X.index)
    # E[M] is the mean of a positive quantity: positive, and infinite only when the posterior
    # mean does not exist (p x + q <= 1).
    assert (spend > 0).all(), spend.tolist()
    exists = p * X["frequency"] + q > 1
    assert np.isfinite(spend[exists]).all()
    assert np.isinf(spend[~exists]).all()


@settings(max_examples=EXAMPLES, deadline=4000)
@given(
    data=st.data(),
    X=customers(),
    margin=st.sampled_from([0.0, 0.3, 1.0]),
    discount=st.floats(0.0, 0.2),
    horizon=st.integers(1, 24),
)
def test_clv_is_non_negative_for_non_negative_margins(
    data: Any, X: pd.DataFrame, margin: float, discount: float, horizon: int
) -> None:
    purchase = _model(
        BetaGeoModel, {n: data.draw(PARAM, label=n) for n in ("r", "alpha", "a", "b")}
    )
    q = data.draw(PARAM, label="q")
    spend = _model(GammaGammaModel, {"p": data.draw(PARAM), "q": q, "gamma": data.draw(PARAM)})
    clv = CLVModel.from_dict(
        {
            "model": "CLVModel",
            "format_version": 1,
            "time_unit": "W",
            "purchase_model": purchase.to_dict(),
            "spend_model": spend.to_dict(),
        }
    )
    short = clv.predict_clv(X, horizon=horizon, discount_rate=discount, margin=margin)
    longer = clv.predict_clv(X, horizon=horizon + 6, discount_rate=discount, margin=margin)
    assert not short.isna().any() and (short >= 0).all(), short.tolist()
    if margin == 0:
        assert (short == 0).all()
    # Finite wherever the mean spend exists (p x + q > 1, see the Gamma-Gamma property).
    exists = spend.params_["p"] * X["frequency"] + q > 1
    assert np.isfinite(short[exists]).all()
    assert (longer >= short * (1 - 1e-12)).all()


@settings(max_examples=3 * EXAMPLES // 2, deadline=2000)
@given(gamma=PARAM, delta=PARAM, t=st.lists(st.integers(0, 200), min_size=1, max_size=6))
def test_shifted_beta_geo_curves_are_probabilities(
    gamma: float, delta: float, t: list[int]
) -> None:
    model = _model(ShiftedBetaGeoModel, {"gamma": gamma, "delta": delta})
    periods = sorted(set(t))
    survival = model.survival_function(periods)
    assert ((survival >= 0) & (survival <= 1)).all() and np.isfinite(survival).all()
    assert (np.diff(survival.to_numpy()) <= 1e-12).all()
    positive = [p for p in periods if p >= 1]
    if positive:
        for curve in (model.retention_rate(positive), model.churn_probability(positive)):
            assert ((curve >= 0) & (curve <= 1)).all() and np.isfinite(curve).all()


@settings(max_examples=EXAMPLES // 4, deadline=None)
@given(
    params=st.tuples(
        st.floats(0.2, 5.0), st.floats(1.0, 20.0), st.floats(0.2, 3.0), st.floats(0.5, 5.0)
    ),
    seed=st.integers(0, 1000),
)
def test_fits_on_simulated_customers_are_finite_or_fail_loudly(
    params: tuple[float, ...], seed: int
) -> None:
    truth = _model(BetaGeoModel, dict(zip(("r", "alpha", "a", "b"), params, strict=True)))
    X = truth.sample(300, T=np.linspace(10, 40, 300), random_state=seed)
    assume(X["frequency"].sum() > 0)
    # Pareto/NBD fits take seconds each (2.8 s on 300 such customers): not fuzzed here.
    for cls in (BetaGeoModel, ModifiedBetaGeoModel):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fitted = cls().fit(X)
        except ConvergenceError:
            continue
        assert np.isfinite(fitted.params_).all() and (fitted.params_ > 0).all()
        assert np.isfinite(fitted.log_likelihood_)
        assert np.isfinite(fitted.predict_purchases(X, t=10)).all()
