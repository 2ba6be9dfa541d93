"""A fitted model's notebook display shows its estimates under scikit-learn's widget."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn import config_context

from custintel.churn import ChurnClassifier
from custintel.datasets import make_transactions
from custintel.features import make_churn_dataset


@pytest.fixture(scope="module")
def churn_data() -> tuple[pd.DataFrame, pd.Series]:
    tx = make_transactions(500, random_state=4).transactions
    cutoff = tx["timestamp"].max() - pd.Timedelta(days=180)
    return make_churn_dataset(tx, cutoff=cutoff, horizon=90)


def test_an_unfitted_model_shows_only_the_parameters() -> None:
    html = ChurnClassifier()._repr_mimebundle_()["text/html"]
    assert "fitted estimates" not in html
    assert "ChurnClassifier" in html


@pytest.mark.slow
def test_the_default_churn_model_shows_its_coefficients_and_bg_nbd(
    churn_data: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = churn_data
    clf = ChurnClassifier().fit(X, y)
    html = clf._repr_mimebundle_()["text/html"]
    assert "ChurnClassifier: fitted estimates" in html
    assert "p_no_purchase" in html and "intercept" in html
    assert "BG/NBD inside the stack" in html
    tables = clf._estimates_tables()
    coefficients = tables["logistic regression on standardised inputs (first model)"]
    assert len(coefficients) == 7
    assert coefficients.loc["intercept", "coefficient"] == pytest.approx(
        clf._raw_pipelines()[0].steps[-1][1].intercept_[0]
    )
    # Both notebook entry points show the estimates.
    assert "ChurnClassifier: fitted estimates" in clf._repr_html_inner()


@pytest.mark.slow
def test_the_booster_shows_its_size(churn_data: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = churn_data
    clf = ChurnClassifier(model="hgb").fit(X, y)
    tables = clf._estimates_tables()
    assert tables["gradient boosting (first model)"].loc["boosting iterations", "value"] == str(
        clf._raw_pipelines()[0].steps[-1][1].n_iter_
    )


def test_text_display_leaves_the_html_out() -> None:
    with config_context(display="text"):
        bundle = ChurnClassifier()._repr_mimebundle_()
    assert "text/html" not in bundle


def test_btyd_and_clv_models_show_estimates_and_standard_errors() -> None:
    from custintel.clv import BetaGeoModel, CLVModel, ShiftedBetaGeoModel
    from custintel.datasets import load_cdnow_summary

    summary = load_cdnow_summary()
    assert "fitted estimates" not in BetaGeoModel()._repr_mimebundle_()["text/html"]
    bg = BetaGeoModel().fit(summary)
    html = bg._repr_mimebundle_()["text/html"]
    assert "BetaGeoModel: fitted estimates" in html
    for name in ("r", "alpha", "a", "b"):
        assert f"<th>{name}</th>" in html
    assert f"{bg.params_['r']:.4g}" in html and f"{bg.bse_['r']:.4g}" in html
    clv = CLVModel().fit(summary)
    html = clv._repr_html_inner()
    assert "purchase model: BetaGeoModel" in html and "spend model: GammaGammaModel" in html
    sbg = ShiftedBetaGeoModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    assert "ShiftedBetaGeoModel: fitted estimates" in sbg._repr_html_inner()
