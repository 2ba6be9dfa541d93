"""Lookalike prospects: planted attribute effects recovered, calibration, lift, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from custintel._metrics import expected_calibration_error
from custintel.acquisition import LookalikeModel
from custintel.exceptions import DataQualityWarning, SchemaError


def _planted(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers whose value depends on channel (web x3) and size, not on region."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "channel": rng.choice(["web", "store", "partner"], n, p=[0.4, 0.4, 0.2]),
            "region": rng.choice(["north", "south"], n),
            "employees": rng.lognormal(3.0, 1.0, n),
        }
    )
    scale = np.where(X["channel"] == "web", 3.0, 1.0) * (X["employees"] / 20.0) ** 0.5
    value = rng.gamma(2.0, 50.0 * scale)
    return X, value


def test_planted_attribute_effects_are_recovered() -> None:
    X, value = _planted(8000, seed=0)
    model = LookalikeModel().fit(X, value)
    drivers = model.drivers_.set_index(["attribute", "value"])
    web = drivers.loc[("channel", "web"), "coefficient"]
    store = drivers.loc[("channel", "store"), "coefficient"]
    assert web - store > 1.0  # web customers are far likelier to be high-value
    assert drivers.loc[("employees", "(per sd of log(1 + x))"), "coefficient"] > 0.3
    north = drivers.loc[("region", "north"), "coefficient"]
    south = drivers.loc[("region", "south"), "coefficient"]
    assert abs(north - south) < 0.15  # no planted region effect
    assert model.drivers_["attribute"].iloc[0] == "channel"
    assert model.base_rate_ == pytest.approx(0.2, abs=0.01)


def test_probabilities_are_calibrated_and_rank_out_of_sample() -> None:
    X, value = _planted(8000, seed=0)
    model = LookalikeModel().fit(X, value)
    X_new, value_new = _planted(4000, seed=1)
    proba = model.predict_proba(X_new)
    high = (value_new >= model.threshold_).astype(int)
    assert expected_calibration_error(high, proba) < 0.03
    assert roc_auc_score(high, proba) > 0.7
    lift = model.lift_table(X_new, value_new)
    assert lift["lift"].iloc[0] > 2.0 and lift["gain"].iloc[-1] == pytest.approx(1.0)


def test_prospects_without_an_attribute_are_refused() -> None:
    X, value = _planted(500, seed=2)
    model = LookalikeModel().fit(X, value)
    with pytest.raises(SchemaError, match="lack the attributes \\['region'\\]"):
        model.predict_proba(X.drop(columns="region"))


def test_unseen_attribute_values_warn_or_raise() -> None:
    X, value = _planted(500, seed=2)
    prospects = pd.DataFrame({"channel": ["fax"], "region": ["north"], "employees": [10.0]})
    with pytest.warns(DataQualityWarning, match="channel: \\['fax'\\]"):
        proba = LookalikeModel().fit(X, value).predict_proba(prospects)
    assert 0 < proba.iloc[0] < 1
    with pytest.raises(SchemaError, match="no customer has"):
        LookalikeModel(unknown="raise").fit(X, value).predict_proba(prospects)


def test_values_that_do_not_vary_are_refused() -> None:
    X, _ = _planted(100, seed=3)
    with pytest.raises(ValueError, match="do not vary"):
        LookalikeModel().fit(X, np.ones(100))
    with pytest.raises(ValueError, match="top_share"):
        LookalikeModel(top_share=1.5).fit(X, np.arange(100.0))
