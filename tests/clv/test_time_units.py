"""Hours and calendar months, and the refusal to score a table in another time unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel.clv import MBGCNBDModel, check_time_unit, dert
from custintel.exceptions import SchemaError
from custintel.features import add_litt, summarize_customers

DAYS_PER_MONTH = 365.25 / 12


@pytest.fixture
def regular_tx() -> pd.DataFrame:
    """400 customers buying about every 3 weeks, regularly, for a year, until they leave."""
    rng = np.random.default_rng(0)
    frames = []
    for customer in range(400):
        gaps = np.maximum(np.round(rng.gamma(3, 7 * rng.uniform(0.5, 1.5), 40)), 1).astype(int)
        stays = rng.geometric(rng.beta(2.0, 8.0))  # repeat purchases before dropping out
        days = np.concatenate([[0], np.cumsum(gaps[:stays])])
        days = days[days <= 360] + int(rng.integers(0, 20))
        frames.append(pd.DataFrame({"customer_id": f"c{customer}", "day": days}))
    log = pd.concat(frames, ignore_index=True)
    return pd.DataFrame(
        {
            "customer_id": log["customer_id"],
            "timestamp": np.datetime64("2024-01-01") + log["day"].to_numpy().astype("m8[D]"),
            "amount": 10.0,
        }
    )


def test_hours_and_months_are_scaled_days(tiny_tx: pd.DataFrame) -> None:
    days = summarize_customers(tiny_tx)
    hours = summarize_customers(tiny_tx, time_unit="h")
    months = summarize_customers(tiny_tx, time_unit="M")
    for table, per_day in ((hours, 24.0), (months, 1 / DAYS_PER_MONTH)):
        np.testing.assert_allclose(table["recency"], days["recency"] * per_day)
        np.testing.assert_allclose(table["T"], days["T"] * per_day)
        pd.testing.assert_series_equal(table["days_since_last"], days["days_since_last"])
    assert months.attrs["time_unit"] == "M" and hours.attrs["time_unit"] == "h"
    with pytest.raises(ValueError, match="'h' \\(hours\\), 'D' \\(days\\)"):
        summarize_customers(tiny_tx, time_unit="Y")  # type: ignore[arg-type]


def test_check_time_unit_names_both_units_and_the_fix() -> None:
    X = pd.DataFrame({"frequency": [1]})
    X.attrs["time_unit"] = "D"
    with pytest.raises(SchemaError) as err:
        check_time_unit("W", X, model_name="BetaGeoModel")
    message = str(err.value)
    assert err.value.reason == "time_unit_mismatch"
    assert "in weeks (time_unit='W')" in message and "in days" in message
    assert "time_unit='W'" in message and "refit" in message
    assert "factor of about 7" in message
    # Nothing to compare: a model or a table that does not record its unit passes.
    check_time_unit(None, X, model_name="m")
    check_time_unit("W", pd.DataFrame({"frequency": [1]}), model_name="m")
    check_time_unit("D", X, model_name="m")


def test_a_model_refuses_a_table_in_another_unit(regular_tx: pd.DataFrame) -> None:
    weeks = add_litt(summarize_customers(regular_tx, time_unit="W"), regular_tx)
    days = add_litt(summarize_customers(regular_tx, time_unit="D"), regular_tx)
    model = MBGCNBDModel(k=3).fit(weeks)
    assert model.time_unit_ == "W"
    assert len(model.predict_purchases(weeks, t=4)) == len(weeks)
    for predict in (
        lambda: model.predict_purchases(days, t=28),
        lambda: model.predict_proba_alive(days),
        lambda: model.predict_proba_no_purchase(days, t=28),
        lambda: dert(model, days, discount_rate=0.001),
    ):
        with pytest.raises(SchemaError, match=r"fitted on a table in weeks.*in days") as err:
            predict()
        assert err.value.reason == "time_unit_mismatch"
    # A hand-made table records no unit: it is the caller's responsibility.
    plain = pd.DataFrame(
        days[["frequency", "recency", "T"]].to_numpy(), columns=["frequency", "recency", "T"]
    )
    assert len(model.predict_purchases(plain, t=4)) == len(plain)
    # The unit survives the export.
    assert MBGCNBDModel.from_dict(model.to_dict()).time_unit_ == "W"


def test_the_same_customers_in_months_fit_the_same_model(regular_tx: pd.DataFrame) -> None:
    # Rates scale with the unit: alpha in months = alpha in days / 30.44, and the
    # likelihood differs by the Jacobian of the change of unit only.
    days = add_litt(summarize_customers(regular_tx, time_unit="D"), regular_tx)
    months = add_litt(summarize_customers(regular_tx, time_unit="M"), regular_tx)
    in_days = MBGCNBDModel(k=3).fit(days)
    in_months = MBGCNBDModel(k=3).fit(months)
    assert in_months.params_["alpha"] == pytest.approx(
        in_days.params_["alpha"] / DAYS_PER_MONTH, rel=1e-3
    )
    for name in ("r", "a", "b"):
        assert in_months.params_[name] == pytest.approx(in_days.params_[name], rel=1e-3)
    np.testing.assert_allclose(
        in_months.predict_purchases(months, t=3),
        in_days.predict_purchases(days, t=3 * DAYS_PER_MONTH),
        rtol=1e-3,
    )


@pytest.mark.parametrize("unit", ["h", "M"])
def test_engines_agree_on_the_new_units(tiny_tx: pd.DataFrame, unit: str) -> None:
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    tx = tiny_tx[tiny_tx["amount"] > 0]
    expected = summarize_customers(tx, time_unit=unit)  # type: ignore[arg-type]
    for native in (pl.from_pandas(tx), duckdb.from_df(tx)):
        got = summarize_customers(native, time_unit=unit)  # type: ignore[arg-type]
        for column in ("frequency", "recency", "T"):
            np.testing.assert_allclose(got[column], expected[column], rtol=1e-12)


@pytest.mark.parametrize("name", ["BetaGeoModel", "ParetoNBDModel", "GammaGammaModel"])
def test_every_model_refuses_a_table_in_another_unit_and_exports_its_unit(name: str) -> None:
    import custintel.clv as clv
    from custintel.datasets import load_cdnow
    from custintel.exceptions import SchemaError
    from custintel.features import summarize_customers

    tx = load_cdnow()
    weekly = summarize_customers(tx, time_unit="W", duplicates="keep")
    daily = summarize_customers(tx, time_unit="D", duplicates="keep")
    table = weekly[weekly["frequency"] > 0] if name == "GammaGammaModel" else weekly
    model = getattr(clv, name)().fit(table)
    assert model.time_unit_ == "W"
    predict = (
        (lambda m, X: m.predict_spend(X))
        if name == "GammaGammaModel"
        else (lambda m, X: m.predict_purchases(X, t=10))
    )
    with pytest.raises(SchemaError) as err:
        predict(model, daily.head(5))
    assert err.value.reason == "time_unit_mismatch"
    with pytest.raises(SchemaError):
        model.score(daily.head(5))
    rebuilt = type(model).from_dict(model.to_dict())
    assert rebuilt.time_unit_ == "W"
    with pytest.raises(SchemaError):
        predict(rebuilt, daily.head(5))
    plain = daily.head(5).copy()
    plain.attrs.clear()  # a hand-made table records no unit: not checked
    predict(model, plain)
