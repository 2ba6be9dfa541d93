"""Progress bars over the bootstrap intervals: in a terminal when asked, silent elsewhere."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from custintel.clv import BetaGeoBetaBinomModel, BetaGeoModel, CLVModel
from custintel.datasets import load_cdnow_summary

from .._terminal import fake_terminal


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def clv(cdnow: pd.DataFrame) -> CLVModel:
    return CLVModel().fit(cdnow)


def _done(text: str) -> tuple[str, str]:
    counts = re.findall(r"(\d+)/(\d+) \[", text)
    assert counts, text
    return counts[-1]


def test_every_interval_shows_a_bar_over_the_customers(
    monkeypatch: pytest.MonkeyPatch, clv: CLVModel, cdnow: pd.DataFrame
) -> None:
    X = cdnow.iloc[:500]
    calls = {
        "purchases": lambda p: clv.predict_purchases(
            X, t=10, interval=0.9, n_draws=50, random_state=0, progress=p
        ),
        "alive": lambda p: clv.purchase_model_.predict_proba_alive(
            X, interval=0.9, n_draws=50, random_state=0, progress=p
        ),
        "spend": lambda p: clv.predict_spend(
            X, interval=0.9, n_draws=50, random_state=0, progress=p
        ),
        "clv": lambda p: clv.predict_clv(
            X, horizon=3, interval=0.9, n_draws=50, random_state=0, progress=p
        ),
    }
    for name, call in calls.items():
        quiet = fake_terminal(monkeypatch)
        expected = call(False)
        assert quiet.getvalue() == "", name
        stream = fake_terminal(monkeypatch)
        pd.testing.assert_frame_equal(call(True), expected)
        text = stream.getvalue()
        assert "bootstrap interval" in text and "customer" in text, name
        done, total = _done(text)
        # Customers with equal inputs are evaluated once: the bar counts the distinct ones.
        assert done == total and 0 < int(total) <= len(X), name


def test_bg_bb_interval_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    truth = BetaGeoBetaBinomModel.from_dict(
        {
            "model": "BetaGeoBetaBinomModel",
            "format_version": 1,
            "params": {"alpha": 1.2035, "beta": 0.7497, "gamma": 0.6567, "delta": 2.7834},
            "log_likelihood": -33225.6,
            "converged": True,
        }
    )
    X = truth.sample(5000, T=6, random_state=0)
    model = BetaGeoBetaBinomModel().fit(X)
    stream = fake_terminal(monkeypatch)
    model.predict_proba_alive(X, interval=0.9, n_draws=20, random_state=0, progress=True)
    assert "bootstrap interval" in stream.getvalue()
    histories = str(len(X.drop_duplicates()))  # one evaluation per distinct history
    assert _done(stream.getvalue()) == (histories, histories)


def test_no_bar_when_standard_error_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], cdnow: pd.DataFrame
) -> None:
    bg = BetaGeoModel().fit(cdnow)
    bg.predict_purchases(cdnow, t=10, interval=0.9, n_draws=20, progress=True)
    assert capsys.readouterr().err == ""


def test_the_delta_method_shows_no_bar(
    monkeypatch: pytest.MonkeyPatch, clv: CLVModel, cdnow: pd.DataFrame
) -> None:
    stream = fake_terminal(monkeypatch)
    clv.predict_clv(cdnow, horizon=3, interval=0.9, interval_method="delta", progress=True)
    assert stream.getvalue() == ""
