"""DERT and continuous discounting, against CLVTools' definition, integrals and hand cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import gammaln, hyperu

from custintel.clv import (
    BetaGeoModel,
    MBGCNBDModel,
    ModifiedBetaGeoModel,
    NBDModel,
    ParetoNBDModel,
    continuous_discount_rate,
    dert,
    pareto_nbd_dert,
)
from custintel.clv import _pareto_nbd_math as pnm
from custintel.datasets import load_cdnow_summary

# Fader, Hardie and Lee's CDNOW Pareto/NBD estimates (weeks)
PNBD = np.array([0.5534, 10.5802, 0.6061, 11.6562])
DELTA = 0.0027  # FHL (2005): 15 % a year, compounded continuously per week


def _clvtools_dert(params: np.ndarray, x, t_x, T, delta: float) -> np.ndarray:
    """CLVTools' pnbd_DERT_ind, term by term (src/pnbd.cpp)."""
    r, alpha, s, beta = params
    ll, _ = pnm.pareto_nbd_loglik(params, x, t_x, T)
    return np.exp(
        r * math.log(alpha)
        + s * math.log(beta)
        + (s - 1) * math.log(delta)
        + gammaln(r + x + 1)
        + np.log(hyperu(s, s, delta * (beta + T)))
        - gammaln(r)
        - (r + x + 1) * np.log(alpha + T)
        - ll
    )


def _by_quadrature(expected, delta: float, horizon: float = math.inf) -> float:
    """Integral of e^{-delta t} dE[Y(t)], by parts, with adaptive quadrature."""
    head = 0.0 if math.isinf(horizon) else math.exp(-delta * horizon) * expected(horizon)
    body, _ = integrate.quad(
        lambda t: delta * math.exp(-delta * t) * expected(t), 0, horizon, limit=200
    )
    return head + body


def test_pareto_closed_form_is_clvtools_definition() -> None:
    X = load_cdnow_summary()
    args = [X[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    ours = pareto_nbd_dert(PNBD, *args, discount_rate=DELTA)
    np.testing.assert_allclose(ours, _clvtools_dert(PNBD, *args, DELTA), rtol=1e-9)


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 38.86), (2, 30.43, 38.86), (26, 35.7, 38.9)])
def test_pareto_closed_form_is_the_integral(x: int, t_x: float, T: float) -> None:
    def expected(t: float) -> float:
        one = pnm.expected_purchases(PNBD, np.array([x]), np.array([t_x]), np.array([T]), t)
        return float(np.asarray(one).ravel()[0])

    closed = pareto_nbd_dert(PNBD, x, t_x, T, discount_rate=DELTA)
    assert float(np.asarray(closed).ravel()[0]) == pytest.approx(
        _by_quadrature(expected, DELTA), rel=1e-6
    )


def test_nbd_by_hand() -> None:
    # E[Y(t)] = (r + x) / (alpha + T) t, so DERT = (r + x) / ((alpha + T) delta) and over
    # a horizon H the value is (r + x) / (alpha + T) (1 - e^{-delta H}) / delta.
    X = pd.DataFrame({"frequency": [0, 3], "T": [10.0, 20.0]}, index=["a", "b"])
    model = NBDModel().fit(X)
    r, alpha = model.params_
    rate = (r + X["frequency"]) / (alpha + X["T"])
    np.testing.assert_allclose(dert(model, X, discount_rate=0.01), rate / 0.01, rtol=1e-10)
    finite = dert(model, X, discount_rate=0.01, horizon=52)
    np.testing.assert_allclose(finite, rate * (1 - math.exp(-0.52)) / 0.01, rtol=1e-10)
    undiscounted = dert(model, X, discount_rate=0.0, horizon=52)
    np.testing.assert_allclose(undiscounted, model.predict_purchases(X, t=52), rtol=1e-12)
    assert finite.name == "dert" and list(finite.index) == ["a", "b"]


def test_quadrature_matches_adaptive_integration() -> None:
    X = load_cdnow_summary().iloc[:40]
    model = BetaGeoModel().fit(load_cdnow_summary())
    values = dert(model, X, discount_rate=DELTA)
    finite = dert(model, X, discount_rate=DELTA, horizon=104)
    for i in (0, 3, 17, 39):
        row = X.iloc[[i]]

        def expected(t: float, row: pd.DataFrame = row) -> float:
            return float(model.predict_purchases(row, t=t).iloc[0])

        assert values.iloc[i] == pytest.approx(_by_quadrature(expected, DELTA), rel=2e-4)
        assert finite.iloc[i] == pytest.approx(_by_quadrature(expected, DELTA, 104.0), rel=1e-8)
    assert (finite < values).all()


def test_pareto_model_uses_the_closed_form_and_agrees_with_quadrature() -> None:
    X = load_cdnow_summary()
    model = ParetoNBDModel().fit(X)
    closed = dert(model, X, discount_rate=DELTA)
    args = [X[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    np.testing.assert_allclose(
        closed, pareto_nbd_dert(model.params_.to_numpy(), *args, discount_rate=DELTA)
    )
    # the Gauss-Laguerre path on the same model, through a horizon long enough to vanish
    long = dert(model, X.iloc[:30], discount_rate=0.05, horizon=2000, n_nodes=200)
    np.testing.assert_allclose(long, dert(model, X.iloc[:30], discount_rate=0.05), rtol=1e-5)


def _cnbd(params: dict[str, float]) -> MBGCNBDModel:
    return MBGCNBDModel.from_dict(
        {
            "model": "MBGCNBDModel",
            "format_version": 1,
            "log_likelihood": None,
            "converged": True,
            "params": params,
        }
    )


def test_mbg_cnbd_dert_is_the_integral_of_its_exact_expectation() -> None:
    truth = _cnbd({"k": 3, "r": 0.85, "alpha": 1.45, "a": 0.79, "b": 2.42})
    X = pd.DataFrame(
        {"frequency": [0, 1, 4, 10], "recency": [0.0, 10.0, 40.0, 50.0], "T": [52.0] * 4}
    )
    values = dert(truth, X, discount_rate=0.05)
    for i in range(len(X)):
        row = X.iloc[[i]]

        def expected(t: float, row: pd.DataFrame = row) -> float:
            return float(truth.predict_purchases(row, t=t).iloc[0])

        assert values.iloc[i] == pytest.approx(_by_quadrature(expected, 0.05), rel=1e-6)
    slower = dert(truth, X, discount_rate=0.001)
    assert np.isfinite(slower).all() and (slower > values).all()
    assert (dert(truth, X, discount_rate=0.05, horizon=26) < values).all()


def test_mbg_cnbd_k1_dert_equals_mbg_nbd_by_quadrature() -> None:
    X = load_cdnow_summary().iloc[:25]
    mbg = ModifiedBetaGeoModel().fit(load_cdnow_summary())
    k1 = _cnbd({"k": 1, **mbg.params_.to_dict()})
    np.testing.assert_allclose(
        dert(k1, X, discount_rate=DELTA), dert(mbg, X, discount_rate=DELTA), rtol=2e-4
    )


def test_continuous_rate_conversion() -> None:
    assert continuous_discount_rate(0.1, time_unit="W") == pytest.approx(
        math.log(1.1) / (365.25 / 7)
    )
    assert continuous_discount_rate(0.1, time_unit="D") == pytest.approx(math.log(1.1) / 365.25)
    assert continuous_discount_rate(0.1, time_unit="M") == pytest.approx(math.log(1.1) / 12)
    assert continuous_discount_rate(0.1, time_unit="h") == pytest.approx(math.log(1.1) / 8766)
    with pytest.raises(ValueError, match="time_unit"):
        continuous_discount_rate(0.1, time_unit="Y")
    with pytest.raises(ValueError, match="annual_rate"):
        continuous_discount_rate(-1.0, time_unit="D")


def test_errors() -> None:
    X = load_cdnow_summary().iloc[:5]
    model = NBDModel().fit(load_cdnow_summary())
    with pytest.raises(ValueError, match="> 0 without a horizon"):
        dert(model, X, discount_rate=0.0)
    with pytest.raises(ValueError, match="discount_rate"):
        dert(model, X, discount_rate=-0.1, horizon=5)
    with pytest.raises(ValueError, match="horizon"):
        dert(model, X, discount_rate=0.1, horizon=-5)
    with pytest.raises(ValueError, match="n_nodes"):
        dert(model, X, discount_rate=0.1, n_nodes=1)
