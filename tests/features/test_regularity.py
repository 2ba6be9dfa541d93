"""The litt statistic of MBG/CNBD-k and Wheat and Morrison's regularity estimator."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from custintel.clv import MBGCNBDModel
from custintel.exceptions import DataQualityWarning, SchemaError
from custintel.features import (
    add_litt,
    calibration_holdout_split,
    estimate_regularity,
    inter_purchase_log_sum,
    summarize_customers,
)


def test_litt_by_hand(tiny_tx: pd.DataFrame) -> None:
    # a: occasions on Jan 1 (two rows, one occasion), Jan 11, Jan 31 -> gaps 10 and 20 days
    # b: one occasion; c: one occasion and a refund, which is never an occasion
    litt = inter_purchase_log_sum(tiny_tx)
    assert litt.name == "litt"
    assert litt.to_dict() == pytest.approx({"a": math.log(10) + math.log(20), "b": 0.0, "c": 0.0})
    weeks = inter_purchase_log_sum(tiny_tx, time_unit="W")
    assert weeks["a"] == pytest.approx(math.log(10 / 7) + math.log(20 / 7))
    # observation_end cuts the purchases counted
    with pytest.warns(DataQualityWarning, match="fall after observation_end"):
        early = inter_purchase_log_sum(tiny_tx, observation_end="2024-01-20")
    assert early["a"] == pytest.approx(math.log(10))


def test_add_litt_matches_the_summary(tiny_tx: pd.DataFrame) -> None:
    summary = summarize_customers(tiny_tx, time_unit="W")
    before = summary.copy()
    X = add_litt(summary, tiny_tx)
    pd.testing.assert_frame_equal(summary, before)  # the caller's table is not changed
    assert X["litt"].to_dict() == pytest.approx(
        {"a": math.log(10 / 7) + math.log(20 / 7), "b": 0.0, "c": 0.0}
    )
    assert X.attrs == summary.attrs
    # the bound the model checks: litt <= x log(t_x / x)
    a = X.loc["a"]
    assert a["litt"] <= a["frequency"] * math.log(a["recency"] / a["frequency"])


def test_add_litt_on_a_calibration_split(tiny_tx: pd.DataFrame) -> None:
    split = calibration_holdout_split(
        tiny_tx, calibration_end="2024-01-15", observation_end="2024-01-31"
    )
    X = add_litt(split, tiny_tx)
    # only the calibration gap of a (10 days) counts; b bought after the calibration end
    assert X.loc["a", "litt"] == pytest.approx(math.log(10))
    assert X.loc["a", "frequency"] == 1


def test_add_litt_refuses_other_transactions(tiny_tx: pd.DataFrame) -> None:
    summary = summarize_customers(tiny_tx)
    other = tiny_tx[tiny_tx["timestamp"] != pd.Timestamp("2024-01-11")]
    with pytest.raises(SchemaError, match="another number of purchase occasions") as err:
        add_litt(summary, other)
    assert err.value.reason == "customer_mismatch"
    with pytest.raises(SchemaError, match="no transaction in tx"):
        add_litt(summary, tiny_tx[tiny_tx["customer_id"] != "b"])
    with pytest.raises(SchemaError, match="does not record") as err:
        add_litt(pd.DataFrame({"frequency": [1]}), tiny_tx)
    assert err.value.reason == "missing_attrs"
    with pytest.raises(SchemaError, match="customer table"):
        add_litt(tiny_tx, tiny_tx)


def _erlang_log(k: int, n: int, seed: int) -> pd.DataFrame:
    """Customers buying every ~Gamma(k) days for two years, with gamma-spread rates."""
    rng = np.random.default_rng(seed)
    rows = []
    start = np.datetime64("2022-01-01")
    for customer in range(n):
        mean_gap = rng.gamma(2.0, 15.0) + 5.0
        gaps = np.maximum(np.round(rng.gamma(k, mean_gap / k, 200)), 1).astype(int)
        days = np.concatenate([[0], np.cumsum(gaps)])
        days = days[days <= 700] + int(rng.integers(0, 30))
        rows.append(pd.DataFrame({"customer_id": customer, "day": days}))
    log = pd.concat(rows, ignore_index=True)
    return pd.DataFrame(
        {
            "customer_id": log["customer_id"].astype(str),
            "timestamp": start + log["day"].to_numpy().astype("timedelta64[D]"),
            "amount": 1.0,
        }
    )


def test_wheat_morrison_finds_the_regularity() -> None:
    regular = _erlang_log(4, 1500, seed=1)
    assert estimate_regularity(regular) == pytest.approx(4.0, rel=0.2)
    poisson = _erlang_log(1, 1500, seed=2)
    assert estimate_regularity(poisson) == pytest.approx(1.0, rel=0.25)


@pytest.mark.slow
def test_litt_from_a_log_lets_the_model_choose_k() -> None:
    tx = _erlang_log(4, 800, seed=3)
    X = add_litt(summarize_customers(tx, time_unit="W", observation_end="2023-12-31"), tx)
    # Nobody drops out in this log: the fit ends on the edge of the dropout parameters
    # (b -> infinity: one small dropout probability for all), and says so.
    with pytest.warns(DataQualityWarning, match="edge of the parameter space"):
        model = MBGCNBDModel(k_max=6).fit(X)
    assert model.boundary_ and model.converged_
    assert model.params_["k"] == 4
    assert model.params_["a"] / (model.params_["a"] + model.params_["b"]) < 0.01
    assert model.k_log_likelihoods_[int(model.params_["k"])] > model.k_log_likelihoods_[1] + 100


def test_estimate_regularity_errors(tiny_tx: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="at least 2 customers"):
        estimate_regularity(tiny_tx)
    with pytest.raises(ValueError, match="min_purchases"):
        estimate_regularity(tiny_tx, min_purchases=2)
