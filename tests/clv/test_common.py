"""Checks every CLV estimator must pass: the scikit-learn contract and persistence."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from custintel import clv

PURCHASE_MODELS = ["BetaGeoModel", "ModifiedBetaGeoModel", "ParetoNBDModel", "NBDModel"]


@pytest.fixture(scope="module")
def table(cdnow_weeks: pd.DataFrame) -> pd.DataFrame:
    return cdnow_weeks


def estimators() -> list[tuple[str, Callable[[], Any]]]:
    found = [(name, getattr(clv, name)) for name in PURCHASE_MODELS]
    return [*found, ("GammaGammaModel", clv.GammaGammaModel), ("CLVModel", clv.CLVModel)]


def predict(model: Any, X: pd.DataFrame) -> pd.Series:
    if isinstance(model, clv.CLVModel):
        return model.predict_clv(X, horizon=6)
    if isinstance(model, clv.GammaGammaModel):
        return model.predict_spend(X)
    return model.predict_purchases(X, t=10.0)


@pytest.mark.parametrize(
    ("name", "factory"), estimators(), ids=lambda v: v if isinstance(v, str) else ""
)
class TestContract:
    def test_init_only_stores_parameters_and_clone_works(
        self, name: str, factory: Callable
    ) -> None:
        model = factory()
        assert set(vars(model)) == set(model.get_params())
        copy = clone(model)
        assert copy.get_params() == model.get_params()
        if "penalizer" in model.get_params():
            model.set_params(penalizer=0.01)
            assert model.get_params()["penalizer"] == 0.01

    def test_not_fitted_error(self, name: str, factory: Callable, table: pd.DataFrame) -> None:
        with pytest.raises(NotFittedError):
            predict(factory(), table)

    def test_fit_returns_self_and_leaves_input_alone(
        self, name: str, factory: Callable, table: pd.DataFrame
    ) -> None:
        before = table.copy(deep=True)
        model = factory()
        assert model.fit(table) is model
        pd.testing.assert_frame_equal(table, before)
        result = predict(model, table)
        assert result.index.equals(table.index)
        assert np.all(np.isfinite(result))

    def test_pickle_and_json_round_trips(
        self, name: str, factory: Callable, table: pd.DataFrame
    ) -> None:
        model = factory().fit(table)
        expected = predict(model, table)
        pd.testing.assert_series_equal(predict(pickle.loads(pickle.dumps(model)), table), expected)
        restored = type(model).from_dict(json.loads(json.dumps(model.to_dict())))
        pd.testing.assert_series_equal(predict(restored, table), expected)

    def test_fitted_model_keeps_no_training_data(
        self, name: str, factory: Callable, table: pd.DataFrame
    ) -> None:
        model = factory().fit(table)
        size = len(pickle.dumps(model))
        assert size < 20_000, f"{name} pickles to {size} bytes: it keeps training data"


@pytest.mark.parametrize(
    ("name", "factory"), estimators()[:-1], ids=lambda v: v if isinstance(v, str) else ""
)
def test_score_is_the_mean_log_likelihood(
    name: str, factory: Callable, table: pd.DataFrame
) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = factory().fit(table)
        assert model.score(table) * model.n_customers_ == pytest.approx(model.log_likelihood_)


def test_score_of_the_other_models() -> None:
    from lifetimes.datasets import load_donations

    survivors = [1000, 631, 468, 382, 326, 289, 262, 241]
    sbg = clv.ShiftedBetaGeoModel().fit(survivors)
    assert sbg.score(survivors) * 1000 == pytest.approx(sbg.log_likelihood_)
    donations = load_donations().rename(columns={"periods": "T"})
    bgbb = clv.BetaGeoBetaBinomModel().fit(donations, sample_weight=donations["weights"])
    total = bgbb.score(donations, sample_weight=donations["weights"]) * donations["weights"].sum()
    assert total == pytest.approx(bgbb.log_likelihood_)
