"""The horizon-free churn view: BTYD survival curves per customer, and their plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from custintel.backends import btyd_table
from custintel.churn import btyd_survival
from custintel.clv import (
    BetaGeoModel,
    CLVModel,
    ModifiedBetaGeoModel,
    NBDModel,
    ParetoNBDModel,
)
from custintel.datasets import make_transactions
from custintel.features import make_churn_dataset, summarize_customers
from custintel.plotting import plot_customer_survival


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def churn_table() -> pd.DataFrame:
    tx = make_transactions(600, random_state=3).transactions
    X, _ = make_churn_dataset(tx, cutoff="2023-09-30", horizon=90)
    return X


def _fixed(cls: type, params: dict[str, float]) -> object:
    model = cls()
    model.params_ = pd.Series(params, name="estimate")
    return model


TABLE = pd.DataFrame(
    {"frequency": [0, 3, 40], "recency": [0.0, 70.0, 210.0], "T": [140.0, 210.0, 245.0]},
    index=pd.Index(["a", "b", "c"], name="customer_id"),
)


def _posterior_mean(
    x: float, T: float, tau: float, r: float, alpha: float, a: float, b: float
) -> float:
    """E[exp(-lambda p tau)], lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b): by quadrature."""

    def weight(p: float) -> float:
        return p ** (a - 1) * (1 - p) ** (b - 1)

    def f(p: float) -> float:
        return (1 + p * tau / (alpha + T)) ** (-(r + x)) * weight(p)

    return integrate.quad(f, 0, 1, limit=200)[0] / integrate.quad(weight, 0, 1, limit=200)[0]


@pytest.mark.parametrize(("cls", "extra"), [(BetaGeoModel, 0), (ModifiedBetaGeoModel, 1)])
def test_beta_geo_closed_form_matches_quadrature(cls: type, extra: int) -> None:
    params = {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5}
    model = _fixed(cls, params)
    days = [0, 35, 350, 3500]
    curves = btyd_survival(model, TABLE, t=days)  # weeks by default: tau = days / 7
    alive = model.predict_proba_alive(btyd_table(TABLE)).to_numpy()
    weeks = btyd_table(TABLE)
    for i, (x, T) in enumerate(zip(weeks["frequency"], weeks["T"], strict=True)):
        for j, d in enumerate(days):
            expected = alive[i] * _posterior_mean(
                x, T, d / 7, params["r"], params["alpha"], params["a"], params["b"] + x + extra
            )
            assert curves.iloc[i, j] == pytest.approx(expected, rel=1e-7)


def test_pareto_nbd_closed_form() -> None:
    params = {"r": 0.5, "alpha": 4.0, "s": 0.7, "beta": 10.0}
    model = _fixed(ParetoNBDModel, params)
    curves = btyd_survival(model, TABLE, t=[0, 70], time_unit="D")
    alive = model.predict_proba_alive(TABLE).to_numpy()
    # given alive, mu ~ Gamma(s, beta + T): E[exp(-70 mu)] = ((beta + T) / (beta + T + 70))^s
    T = TABLE["T"].to_numpy()
    expected = alive * ((10.0 + T) / (80.0 + T)) ** 0.7
    np.testing.assert_allclose(curves[70].to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(curves[0].to_numpy(), alive, rtol=1e-12)


def test_nbd_has_no_dropout() -> None:
    model = _fixed(NBDModel, {"r": 0.5, "alpha": 4.0})
    curves = btyd_survival(model, TABLE, t=[0, 10_000])
    assert (curves.to_numpy() == 1.0).all()


@pytest.mark.parametrize("name", ["bgnbd", "mbgnbd", "pareto_nbd"])
def test_shape_start_and_monotone(churn_table: pd.DataFrame, name: str) -> None:
    days = np.arange(0, 1000, 25)
    curves = btyd_survival(name, churn_table, t=days)
    assert curves.index.equals(churn_table.index) and curves.columns.name == "days"
    assert curves.columns.tolist() == days.tolist()
    values = curves.to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()
    assert (np.diff(values, axis=1) <= 1e-12).all()
    # t = 0 is P(alive) of the same model, fitted on the same weeks table
    fitted = {"bgnbd": BetaGeoModel, "mbgnbd": ModifiedBetaGeoModel, "pareto_nbd": ParetoNBDModel}
    model = fitted[name]().fit(btyd_table(churn_table))
    alive = model.predict_proba_alive(btyd_table(churn_table))
    np.testing.assert_allclose(curves[0].to_numpy(), alive.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(
        btyd_survival(model, churn_table, t=[0, 90]).to_numpy(),
        curves[[0]].join(btyd_survival(model, churn_table, t=[90])).to_numpy(),
    )


def test_clv_model_in_days(churn_table: pd.DataFrame) -> None:
    days_table = churn_table[["frequency", "recency", "T", "monetary_value"]].copy()
    days_table.attrs["time_unit"] = "D"
    clv = CLVModel().fit(days_table)
    curves = btyd_survival(clv, churn_table, t=[0, 180])
    np.testing.assert_allclose(
        curves[0].to_numpy(), clv.purchase_model_.predict_proba_alive(days_table).to_numpy()
    )
    # the same fitted purchase model, told its unit, gives the same curve
    direct = btyd_survival(clv.purchase_model_, churn_table, t=[0, 180], time_unit="D")
    np.testing.assert_allclose(direct.to_numpy(), curves.to_numpy())


def test_errors(churn_table: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="model must be one of"):
        btyd_survival("weibull", churn_table)
    with pytest.raises(ValueError, match="t must be"):
        btyd_survival("bgnbd", churn_table, t=[-1, 3])
    with pytest.raises(ValueError, match="lacks columns \\['T'\\]"):
        btyd_survival("bgnbd", churn_table[["frequency", "recency"]])
    with pytest.raises(ValueError, match="time_unit must be"):
        btyd_survival("bgnbd", churn_table, time_unit="M")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="custintel BTYD purchase model"):
        btyd_survival(object(), churn_table)
    clv = CLVModel().fit(churn_table[["frequency", "recency", "T", "monetary_value"]])
    with pytest.raises(ValueError, match="does not record the time unit"):
        btyd_survival(clv, churn_table)


@pytest.mark.slow
def test_recovers_the_simulated_truth() -> None:
    # The simulator is BG/NBD and knows when each customer dropped out: the predicted
    # share still active t days after the cutoff must match the true share, overall and
    # within fifths of the predicted S(180) (a per-customer check, not just the average).
    sim = make_transactions(4000, random_state=1)
    tx = sim.transactions
    cut = pd.Timestamp("2023-09-30")
    X = summarize_customers(tx[tx["timestamp"] < cut + pd.Timedelta(days=1)], observation_end=cut)
    days = [0, 30, 90, 180, 365, 450]  # cut + 450 days is before the simulation's end
    curves = btyd_survival("bgnbd", X, t=days)
    truth = sim.customers.loc[curves.index]
    dropped = truth["first_purchase"] + pd.to_timedelta(truth["dropout_day"], unit="D")
    active = pd.DataFrame(
        {d: (truth["dropout_day"].isna() | (dropped > cut + pd.Timedelta(days=d))) for d in days}
    )
    np.testing.assert_allclose(curves.mean().to_numpy(), active.mean().to_numpy(), atol=0.02)
    fifth = pd.qcut(curves[180], 5, labels=False, duplicates="drop")
    by_fifth = pd.DataFrame(
        {
            "predicted": curves[180].groupby(fifth).mean(),
            "observed": active[180].groupby(fifth).mean(),
        }
    )
    np.testing.assert_allclose(by_fifth["predicted"], by_fifth["observed"], atol=0.04)
    # and it ranks: the top fifth's observed survival is far above the bottom fifth's
    assert by_fifth["observed"].iloc[-1] - by_fifth["observed"].iloc[0] > 0.5


def test_plot_customer_survival(churn_table: pd.DataFrame) -> None:
    curves = btyd_survival("bgnbd", churn_table, t=[0, 90, 365])
    chosen = curves.index[:2].tolist()
    ax = plot_customer_survival(curves, chosen)
    assert len(ax.lines) == 2
    x, y = ax.lines[1].get_data()
    assert list(x) == [0, 90, 365]
    assert list(y) == pytest.approx(curves.loc[chosen[1]].tolist())
    assert ax.get_legend().get_texts()[0].get_text() == str(chosen[0])
    ax = plot_customer_survival(curves, chosen[0])
    assert len(ax.lines) == 1
    with pytest.raises(ValueError, match="not in survival's index"):
        plot_customer_survival(curves, ["nobody"])
    with pytest.raises(ValueError, match="more than max_lines"):
        plot_customer_survival(curves)
    with pytest.raises(ValueError, match="btyd_survival frame"):
        plot_customer_survival(pd.DataFrame())
