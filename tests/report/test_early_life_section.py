"""The CLV section says which new customers got an early_life_value and why, or why not."""

from __future__ import annotations

import re
import warnings

import pytest
from threadpoolctl import threadpool_limits

from custintel.datasets import make_transactions, plant_first_basket_effects
from custintel.pipeline import CustomerIntelligence
from custintel.report import render_report


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow
def test_the_report_names_the_new_customers_and_why() -> None:
    sim = make_transactions(1000, start="2022-01-01", acquisition_days=1095, random_state=3)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ci = CustomerIntelligence(horizon=180).fit(plant_first_basket_effects(sim))
        text = _text(render_report(ci))
    new = int(ci.customers_["early_life_value"].notna().sum())
    assert "New customers: early-life value" in text
    assert "Customers at most 90 days past their first purchase get an early_life_value" in text
    assert "Their BTYD forecast (expected_clv) knows almost nothing about them" in text
    assert f"{new:,} new customers scored" in text


def test_a_skipped_model_is_explained() -> None:
    # 400 customers: too few earlier customers to train on, so the section says why not
    tx = make_transactions(400, start="2022-01-01", acquisition_days=365, random_state=1)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ci = CustomerIntelligence(horizon=180).fit(tx.transactions)
        text = _text(render_report(ci))
    assert "New customers: early-life value" in text
    assert "early-life value skipped: it trains on at least 500 earlier customers" in text
