"""Predictions the peers have: P(X(t) = n), BG/BB by frequency and ahead, alive paths, q_min.

Reference values: R BTYD's ``bgnbd.pmf`` (quoted in lifetimes' test suite), Hardie's
BG/BB spreadsheet (quoted there too) and lifetimes itself where it is installed; the
rest are identities every distribution must satisfy (it sums to 1, its mean is the
model's expectation, n = 0 is P(no purchase)).
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from custintel import summarize_customers
from custintel.clv import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    alive_path,
)
from custintel.clv import _pareto_nbd_math as pnm
from custintel.clv._counts import check_counts, nbd_log_pmf, nbd_sf
from custintel.clv._pareto_nbd_predictive import (
    alive_proba_purchases,
    proba_purchases,
    proba_purchases_new_customer,
)
from custintel.datasets import load_cdnow_summary

BTYD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.5533, "alpha": 10.578, "s": 0.6062, "beta": 11.669}  # CDNOW fit, weeks
DONATIONS = {"alpha": 1.2035, "beta": 0.7497, "gamma": 0.6567, "delta": 2.7834}
TOP = 400  # counts summed over: far beyond any CDNOW customer's mass at t = 39


def from_params(cls: Any, params: dict[str, float], **extra: Any) -> Any:
    return cls.from_dict(
        {
            "model": cls.__name__,
            "format_version": 1,
            "params": params,
            "log_likelihood": 0.0,
            "converged": True,
            **extra,
        }
    )


@pytest.fixture(scope="module")
def cdnow_weeks() -> pd.DataFrame:
    return load_cdnow_summary()


# --- nbd helpers --------------------------------------------------------------------------


def test_nbd_pmf_and_tail_match_scipy() -> None:
    from scipy import stats

    k = np.arange(30)
    expected = stats.nbinom(0.7, 3.0 / 8.0)
    np.testing.assert_allclose(np.exp(nbd_log_pmf(0.7, 3.0, 5.0, k)), expected.pmf(k), rtol=1e-12)
    np.testing.assert_allclose(nbd_sf(0.7, 3.0, 5.0, k), expected.sf(k - 1), rtol=1e-10)
    assert np.exp(nbd_log_pmf(0.7, 3.0, 0.0, np.array([0.0, 1.0]))).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("bad", [-1, 1.5, np.nan, [], [[1]], "two"])
def test_counts_must_be_whole_numbers(bad: Any) -> None:
    with pytest.raises(ValueError, match="whole number of purchases"):
        check_counts(bad)


# --- BG/NBD and MBG/NBD ------------------------------------------------------------------


def test_bg_nbd_new_customer_matches_r_btyd() -> None:
    # R BTYD bgnbd.pmf, as quoted in lifetimes' tests (CDNOW parameters, weeks).
    model = from_params(BetaGeoModel, BTYD)
    assert model.predict_proba_purchases_new(2, 10) == pytest.approx(1.07869e-07, rel=1e-4)
    assert model.predict_proba_purchases_new(39, 0) == pytest.approx(0.5737864, rel=1e-6)
    expected = [
        0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
        0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260,
    ]  # fmt: skip
    np.testing.assert_allclose(
        model.predict_proba_purchases_new(30, np.arange(11, 21)), expected, rtol=0, atol=6e-11
    )


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_new_customer_distribution_sums_to_one_with_the_model_mean(cls: Any) -> None:
    model = from_params(cls, BTYD)
    for t in (0.0, 0.5, 39.0, 500.0):
        proba = model.predict_proba_purchases_new(t, np.arange(4000))
        assert proba.sum() == pytest.approx(1.0, abs=1e-8)
        assert proba @ np.arange(4000) == pytest.approx(
            float(model.expected_purchases_new_customer(t)), rel=1e-8, abs=1e-12
        )
    # broadcast over t and n
    grid = model.predict_proba_purchases_new(np.array([[1.0], [39.0]]), np.arange(3))
    assert grid.shape == (2, 3)
    assert grid[1, 0] == pytest.approx(float(model.predict_proba_purchases_new(39.0, 0)))


def test_mbg_nbd_new_customer_by_hand() -> None:
    # MBG/NBD: a/(a+b) leave at the first purchase; the rest are BG/NBD with b + 1.
    a, b = BTYD["a"], BTYD["b"]
    mbg = from_params(ModifiedBetaGeoModel, BTYD)
    bg_shifted = from_params(BetaGeoModel, {**BTYD, "b": b + 1})
    n = np.arange(6)
    expected = b / (a + b) * bg_shifted.predict_proba_purchases_new(10.0, n)
    expected[0] += a / (a + b)
    np.testing.assert_allclose(mbg.predict_proba_purchases_new(10.0, n), expected, rtol=1e-13)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_new_customer_matches_lifetimes(cls: Any) -> None:
    fitters = pytest.importorskip("lifetimes")
    fitter = fitters.BetaGeoFitter() if cls is BetaGeoModel else fitters.ModifiedBetaGeoFitter()
    fitter.params_ = pd.Series(list(BTYD.values()), index=list(BTYD))
    model = from_params(cls, BTYD)
    for t in (1.0, 10.0, 39.0, 78.0):
        for n in (0, 1, 2, 5, 10):
            assert float(model.predict_proba_purchases_new(t, n)) == pytest.approx(
                float(fitter.probability_of_n_purchases_up_to_time(t, n)), rel=1e-9, abs=1e-15
            )


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_conditional_distribution_on_cdnow(cls: Any, cdnow_weeks: pd.DataFrame) -> None:
    model = from_params(cls, BTYD)
    proba = model.predict_proba_purchases(cdnow_weeks, t=39, n=list(range(TOP)))
    assert isinstance(proba, pd.DataFrame)
    assert list(proba.columns[:3]) == [0, 1, 2]
    assert proba.index.equals(cdnow_weeks.index)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-8)
    np.testing.assert_allclose(
        proba.to_numpy() @ np.arange(TOP), model.predict_purchases(cdnow_weeks, t=39), rtol=1e-8
    )
    np.testing.assert_allclose(
        proba[0], model.predict_proba_no_purchase(cdnow_weeks, t=39), rtol=1e-12
    )
    one = model.predict_proba_purchases(cdnow_weeks, t=39, n=2)
    assert isinstance(one, pd.Series) and one.name == "proba_purchases"
    np.testing.assert_array_equal(one.to_numpy(), proba[2].to_numpy())


def test_conditional_bg_nbd_by_hand() -> None:
    # x = 2, t_x = 30, T = 38, t = 10, n = 1: P(alive) times the alive customer's
    # probability with the posterior (r + x, alpha + T, a, b + x), written out.
    from scipy.special import betaln, gammaln

    r, alpha, a, b = BTYD.values()
    x, t_x, T, t = 2.0, 30.0, 38.0, 10.0
    alive = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    rr, aa, bb = r + x, alpha + T, b + x
    q = aa / (aa + t)
    nb0 = q**rr
    nb1 = np.exp(gammaln(rr + 1) - gammaln(rr)) * q**rr * (1 - q)
    stay = np.exp(betaln(a, bb + 1) - betaln(a, bb)) * nb1
    leave = np.exp(betaln(a + 1, bb) - betaln(a, bb)) * (1 - nb0)
    X = pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T]})
    got = from_params(BetaGeoModel, BTYD).predict_proba_purchases(X, t=t, n=1)
    assert float(got.iloc[0]) == pytest.approx(alive * (stay + leave), rel=1e-12)


def test_zero_horizon_is_a_point_mass(cdnow_weeks: pd.DataFrame) -> None:
    model = from_params(BetaGeoModel, BTYD)
    proba = model.predict_proba_purchases(cdnow_weeks.head(50), t=0, n=[0, 1])
    np.testing.assert_allclose(proba[0], 1.0)
    np.testing.assert_allclose(proba[1], 0.0)


def test_bad_arguments_are_refused(cdnow_weeks: pd.DataFrame) -> None:
    model = from_params(BetaGeoModel, BTYD)
    with pytest.raises(ValueError, match="whole number of purchases"):
        model.predict_proba_purchases(cdnow_weeks, t=39, n=-1)
    with pytest.raises(ValueError, match="t must be"):
        model.predict_proba_purchases(cdnow_weeks, t=-1, n=0)
    with pytest.raises(ValueError, match="whole number of purchases"):
        model.predict_proba_purchases_new(10, 0.5)


def test_boundary_fit_predicts_the_nbd_distribution(cdnow_weeks: pd.DataFrame) -> None:
    nbd = {"r": 0.4, "alpha": 6.0}
    export = {
        "dropout_test": {
            "statistic": 0.0,
            "p_value": 1.0,
            "boundary": True,
            "nested_model": {
                "model": "NBDModel",
                "format_version": 1,
                "params": nbd,
                "log_likelihood": 0.0,
                "converged": True,
            },
        }
    }
    model = from_params(BetaGeoModel, {**BTYD, "a": 1e-6}, **export)
    assert model.boundary_
    X = cdnow_weeks.head(20)
    got = model.predict_proba_purchases(X, t=39, n=3)
    expected = np.exp(nbd_log_pmf(0.4 + X["frequency"], 6.0 + X["T"], 39.0, 3.0))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert float(model.predict_proba_purchases_new(39, 0)) == pytest.approx(
        (6.0 / 45.0) ** 0.4, rel=1e-12
    )


# --- Pareto/NBD ----------------------------------------------------------------------------


def _pnbd_columns(X: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(X[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T"))


def test_pareto_nbd_conditional_identities(cdnow_weeks: pd.DataFrame) -> None:
    params = np.array(list(PNBD.values()))
    X = cdnow_weeks.iloc[::4]  # a quarter of CDNOW keeps the test quick
    x, t_x, T = _pnbd_columns(X)
    proba = np.column_stack(
        [proba_purchases(params, x, t_x, T, 39.0, float(k)) for k in range(150)]
    )
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-8)
    np.testing.assert_allclose(
        proba @ np.arange(150), pnm.expected_purchases(params, x, t_x, T, 39.0), rtol=1e-8
    )
    np.testing.assert_allclose(
        proba[:, 0], pnm.proba_no_purchase(params, x, t_x, T, 39.0), rtol=1e-12
    )


def test_pareto_nbd_new_customer_identities() -> None:
    params = np.array(list(PNBD.values()))
    for t in (0.0, 1.0, 39.0, 1000.0):
        proba = proba_purchases_new_customer(params, np.full(3000, t), np.arange(3000))
        assert proba.sum() == pytest.approx(1.0, abs=1e-8)
        assert proba @ np.arange(3000) == pytest.approx(
            float(pnm.expected_purchases_new_customer(params, np.array(t))), rel=1e-8, abs=1e-12
        )


@pytest.mark.parametrize(
    ("r", "alpha", "s", "beta", "t"),
    [
        (0.5, 1.0, 0.01, 1e6, 39.0),  # almost no dropout (the NBD edge)
        (0.5, 1.0, 5.0, 0.1, 39.0),  # short lifetimes
        (300.0, 50.0, 0.6, 60.0, 39.0),  # a heavy buyer's posterior
        (0.2, 1e4, 0.5, 1e-3, 1e3),
    ],
)
def test_pareto_nbd_alive_distribution_at_extremes(
    r: float, alpha: float, s: float, beta: float, t: float
) -> None:
    from scipy import integrate

    proba = np.array([alive_proba_purchases(r, alpha, s, beta, t, k) for k in range(3000)]).ravel()
    assert proba.sum() == pytest.approx(1.0, abs=1e-9)

    # against adaptive quadrature of the defining integral, for n = 1
    def integrand(tau: float) -> float:
        density = s / beta * (1 + tau / beta) ** (-s - 1)
        return float(np.exp(nbd_log_pmf(r, alpha, tau, 1.0))) * density

    tail, _ = integrate.quad(integrand, 0, t, limit=500, epsabs=1e-14, epsrel=1e-11)
    direct = float(np.exp(nbd_log_pmf(r, alpha, t, 1.0))) * (beta / (beta + t)) ** s + tail
    assert proba[1] == pytest.approx(direct, rel=1e-7, abs=1e-13)


def test_pareto_nbd_matches_lifetimes(cdnow_weeks: pd.DataFrame) -> None:
    fitters = pytest.importorskip("lifetimes")
    fitter = fitters.ParetoNBDFitter()
    fitter.params_ = pd.Series(list(PNBD.values()), index=list(PNBD))
    params = np.array(list(PNBD.values()))
    X = cdnow_weeks.iloc[[0, 1, 2, 10, 100, 500]]
    x, t_x, T = _pnbd_columns(X)
    for n in (0, 1, 2, 5):
        ours = proba_purchases(params, x, t_x, T, 39.0, float(n))
        theirs = [
            fitter.conditional_probability_of_n_purchases_up_to_time(n, 39.0, *row)
            for row in zip(x, t_x, T, strict=True)
        ]
        np.testing.assert_allclose(ours, np.asarray(theirs, dtype=float), rtol=1e-9)


def test_pareto_nbd_model_with_the_mixin(cdnow_weeks: pd.DataFrame) -> None:
    model = from_params(ParetoNBDModel, PNBD)
    X = cdnow_weeks.head(30)
    got = model.predict_proba_purchases(X, t=39, n=[0, 1])
    np.testing.assert_allclose(got[0], model.predict_proba_no_purchase(X, t=39), rtol=1e-12)
    assert model.predict_proba_purchases_new(39, [0, 1]).shape == (2,)


# --- BG/BB ----------------------------------------------------------------------------------

DONATION_ROWS = pd.DataFrame(
    {
        "frequency": [0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6],
        "recency": [0, 1, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 3, 4, 5, 6, 4, 5, 6, 5, 6, 6],
        "T": 6,
    }
)


def test_bgbb_expected_customers_matches_hardie_sheet() -> None:
    # Hardie's BG/BB spreadsheet, cells C18 and C24 (quoted in lifetimes' tests).
    model = from_params(BetaGeoBetaBinomModel, DONATIONS, n_customers=11104)
    expected = model.expected_customers_by_frequency(6)
    assert expected.index.tolist() == list(range(7))
    assert expected.loc[0] == pytest.approx(3454.9, abs=0.05)
    assert expected.loc[6] == pytest.approx(1253.1, abs=0.05)
    assert expected.sum() == pytest.approx(11104.0, rel=1e-12)
    assert model.expected_customers_by_frequency(6, n_customers=1.0).sum() == pytest.approx(1.0)


def test_bgbb_new_customer_distribution() -> None:
    model = from_params(BetaGeoBetaBinomModel, DONATIONS)
    for n in (0, 1, 6, 25):
        proba = model.predict_proba_purchases_new(n, np.arange(n + 3))
        assert proba.sum() == pytest.approx(1.0, abs=1e-12)
        assert (proba[n + 1 :] == 0).all()
        assert proba @ np.arange(n + 3) == pytest.approx(
            float(model.expected_purchases_new_customer(n)), rel=1e-10, abs=1e-14
        )
    with pytest.raises(ValueError, match="whole number"):
        model.predict_proba_purchases_new(2.5, 1)


def test_bgbb_expected_customers_needs_a_size() -> None:
    model = from_params(BetaGeoBetaBinomModel, DONATIONS)
    with pytest.raises(ValueError, match="pass n_customers"):
        model.expected_customers_by_frequency(6)


def test_bgbb_proba_alive_ahead() -> None:
    model = from_params(BetaGeoBetaBinomModel, DONATIONS)
    now = model.predict_proba_alive(DONATION_ROWS)
    np.testing.assert_array_equal(model.predict_proba_alive(DONATION_ROWS, periods_ahead=1), now)
    ahead = [model.predict_proba_alive(DONATION_ROWS, periods_ahead=m) for m in range(6)]
    for earlier, later in itertools.pairwise(ahead):
        assert (later <= earlier + 1e-15).all()
    # By hand for x = 6 of n = 6: B(a+6, b)/B(a, b) B(g, d+6+m)/B(g, d) / L; L has no death terms.
    from scipy.special import betaln

    al, be, ga, de = DONATIONS.values()
    m = 4
    log_l = betaln(al + 6, be) - betaln(al, be) + betaln(ga, de + 6) - betaln(ga, de)
    by_hand = np.exp(
        betaln(al + 6, be) - betaln(al, be) + betaln(ga, de + 6 + m) - betaln(ga, de) - log_l
    )
    assert model.predict_proba_alive(DONATION_ROWS, periods_ahead=m).iloc[-1] == pytest.approx(
        by_hand, rel=1e-12
    )
    with pytest.raises(ValueError, match="periods_ahead"):
        model.predict_proba_alive(DONATION_ROWS, periods_ahead=1.5)


def test_bgbb_proba_alive_ahead_matches_lifetimes() -> None:
    fitters = pytest.importorskip("lifetimes")
    fitter = fitters.BetaGeoBetaBinomFitter()
    fitter.params_ = pd.Series(list(DONATIONS.values()), index=list(DONATIONS))
    model = from_params(BetaGeoBetaBinomModel, DONATIONS)
    columns = [DONATION_ROWS[c].to_numpy() for c in ("frequency", "recency", "T")]
    for m in (0, 1, 3, 5):
        np.testing.assert_allclose(
            model.predict_proba_alive(DONATION_ROWS, periods_ahead=m),
            np.asarray(fitter.conditional_probability_alive(m, *columns), dtype=float),
            rtol=1e-10,
        )


# --- alive path ------------------------------------------------------------------------------


def test_alive_path_rows_are_the_summaries_of_each_day() -> None:
    model = from_params(BetaGeoModel, {**BTYD, "alpha": BTYD["alpha"] * 7})  # days
    days = pd.to_datetime(["2024-01-03", "2024-01-03", "2024-01-10", "2024-02-01"])
    tx = pd.DataFrame({"customer_id": "c", "timestamp": days, "amount": 10.0})
    path = alive_path(model, tx, observation_end="2024-02-20")
    assert path.index[0] == pd.Timestamp("2024-01-03")
    assert path.index[-1] == pd.Timestamp("2024-02-20")
    assert len(path) == 49
    assert path["purchase"].sum() == 3
    for day in ("2024-01-03", "2024-01-09", "2024-01-10", "2024-01-31", "2024-02-20"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            summary = summarize_customers(tx[tx.timestamp <= day], observation_end=day)
        row = summary.iloc[0]
        for column in ("frequency", "recency", "T"):
            assert path.loc[day, column] == pytest.approx(float(row[column]))
        assert path.loc[day, "proba_alive"] == pytest.approx(
            float(model.predict_proba_alive(summary).iloc[0]), rel=1e-12
        )


def test_alive_path_inputs() -> None:
    model = from_params(BetaGeoModel, BTYD)
    dated = alive_path(
        model, ["2024-01-01", "2024-01-15"], observation_end="2024-03-01", time_unit="W"
    )
    tz = alive_path(
        model,
        pd.Series(pd.to_datetime(["2024-01-01 10:00", "2024-01-15 23:00"]).tz_localize("UTC")),
        observation_end="2024-03-01",
        time_unit="W",
    )
    np.testing.assert_allclose(dated["proba_alive"], tz["proba_alive"])
    numeric = alive_path(model, [0.0, 2.0], observation_end=60 / 7)
    assert numeric.index.name == "t"
    # numeric weeks at whole units, dated weeks at each day: the same customer where they meet
    assert numeric.loc[8.0, "proba_alive"] == pytest.approx(
        dated.loc["2024-02-26", "proba_alive"], rel=1e-12
    )
    with pytest.raises(ValueError, match="before the last purchase"):
        alive_path(model, ["2024-01-01", "2024-01-15"], observation_end="2024-01-10")
    with pytest.raises(ValueError, match="time_unit"):
        alive_path(model, ["2024-01-01"], time_unit="Y")
    with pytest.raises(ValueError, match="timestamp"):
        alive_path(model, pd.DataFrame({"date": ["2024-01-01"]}))
    with pytest.raises(ValueError, match="at least one purchase"):
        alive_path(model, [])


def test_alive_path_bgbb_on_opportunities() -> None:
    model = from_params(BetaGeoBetaBinomModel, DONATIONS)
    path = alive_path(model, [0, 2, 3], observation_end=6)
    assert path.index.tolist() == [0, 1, 2, 3, 4, 5, 6]
    expected = model.predict_proba_alive(
        pd.DataFrame({"frequency": [2], "recency": [3], "T": [6]})
    ).iloc[0]
    assert path["proba_alive"].iloc[-1] == pytest.approx(expected)


def test_plot_alive_path_marks_the_purchases() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from custintel.plotting import plot_alive_path

    model = from_params(BetaGeoModel, BTYD)
    ax = plot_alive_path(
        model,
        ["2024-01-01", "2024-01-15", "2024-02-01"],
        observation_end="2024-04-01",
        time_unit="W",
    )
    assert len(ax.lines) == 1 + 3  # the path and one line per purchase
    assert ax.collections[0].get_offsets().shape == (3, 2)
    assert ax.get_ylim() == (0.0, 1.05)
    plt.close(ax.figure)


# --- Gamma-Gamma with q_min ----------------------------------------------------------------


def _heavy_tailed_spend(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, p, q, g = 3000, 2.0, 0.8, 10.0
    nu = rng.gamma(q, 1 / g, n)
    x = rng.integers(1, 8, n)
    m = np.array([rng.gamma(p, 1 / rate, k).mean() for rate, k in zip(nu, x, strict=True)])
    return pd.DataFrame({"frequency": x, "monetary_value": m})


def test_q_min_that_does_not_bind_changes_nothing(cdnow_weeks: pd.DataFrame) -> None:
    free = GammaGammaModel().fit(cdnow_weeks)
    bounded = GammaGammaModel(q_min=1.0).fit(cdnow_weeks)
    assert not bounded.q_constrained_
    pd.testing.assert_series_equal(free.params_, bounded.params_)
    pd.testing.assert_series_equal(free.bse_, bounded.bse_)
    assert free.log_likelihood_ == bounded.log_likelihood_


@pytest.mark.slow
def test_q_min_that_binds_holds_q_on_the_bound() -> None:
    data = _heavy_tailed_spend()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        free = GammaGammaModel().fit(data)
    assert free.params_["q"] < 1
    with pytest.warns(UserWarning, match="held at q_min"):
        bounded = GammaGammaModel(q_min=1.0).fit(data)
    assert bounded.q_constrained_ and bounded.converged_
    assert bounded.params_["q"] == 1.0
    assert bounded.log_likelihood_ < free.log_likelihood_
    assert np.isnan(bounded.bse_["q"]) and np.isfinite(bounded.bse_[["p", "gamma"]]).all()
    # the maximum over (p, gamma) at q = 1: no nearby point is better
    base = bounded.score(data) * len(data)
    for scale in (0.999, 1.001):
        for name in ("p", "gamma"):
            moved = GammaGammaModel.from_dict(
                {
                    **bounded.to_dict(),
                    "params": {**bounded.params_.to_dict(), name: bounded.params_[name] * scale},
                }
            )
            assert moved.score(data) * len(data) < base
    # a q_min above 1 gives a finite mean spend for one-time buyers
    finite = GammaGammaModel(q_min=1.2).fit(data)
    assert finite.params_["q"] == 1.2
    one_timer = pd.DataFrame({"frequency": [0], "monetary_value": [0.0]})
    assert np.isfinite(finite.predict_spend(one_timer)).all()
    # a bound below the free estimate is not active
    loose = GammaGammaModel(q_min=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loose.fit(data)
    pd.testing.assert_series_equal(loose.params_, free.params_)


@pytest.mark.slow
def test_q_min_matches_lifetimes_q_constraint() -> None:
    fitters = pytest.importorskip("lifetimes")
    data = _heavy_tailed_spend()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = GammaGammaModel(q_min=1.0).fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes passes options scipy deprecates
        theirs = fitters.GammaGammaFitter().fit(
            data["frequency"], data["monetary_value"], q_constraint=True
        )
    np.testing.assert_allclose(ours.params_.to_numpy(), theirs.params_.to_numpy(), rtol=1e-4)
    assert ours.log_likelihood_ >= -theirs._negative_log_likelihood_ * len(data) - 1e-6


@pytest.mark.parametrize("bad", [0, -1.0, np.inf, True, "1"])
def test_q_min_is_checked(bad: Any, cdnow_weeks: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="q_min"):
        GammaGammaModel(q_min=bad).fit(cdnow_weeks)


def test_q_min_survives_the_export(cdnow_weeks: pd.DataFrame) -> None:
    model = GammaGammaModel(q_min=1.5).fit(cdnow_weeks)
    again = GammaGammaModel.from_dict(model.to_dict())
    assert again.q_min == 1.5
