"""Each section's headline agrees with its own tables; none states what its section contradicts."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from custintel.datasets import make_transactions
from custintel.pipeline import CustomerIntelligence, IntelligenceResult
from custintel.report import _format as fmt
from custintel.report._churn import churn_section
from custintel.report._clv import clv_section
from custintel.report._crosssell import crosssell_section, top_rules


def _fit(tx: pd.DataFrame, horizon: int) -> IntelligenceResult:
    with threadpool_limits(limits=1):
        return CustomerIntelligence(horizon=horizon, currency="GBP").fit(tx).result_


@pytest.fixture(scope="module")
def demo() -> IntelligenceResult:
    """Simulated demo data: two years, a 120-day horizon that the history can test."""
    return _fit(make_transactions(300, random_state=3).transactions, 120)


@pytest.fixture(scope="module")
def one_year() -> IntelligenceResult:
    """One year and a week of history at the default 365-day horizon."""
    tx = make_transactions(
        600, start="2023-01-01", end="2024-01-08", acquisition_days=200, random_state=5
    ).transactions
    return _fit(tx, 365)


def _text(blocks: list[str]) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", "".join(b for b in blocks if "<img" not in b)))


def _check_churn(result: IntelligenceResult) -> None:
    horizon = result.log.horizon
    section = churn_section(result, horizon)
    body = _text(section.blocks)
    days = result.churn.horizon
    bt = result.churn.backtest
    if bt is None:
        assert section.action.startswith("No churn headline")
        assert "likely to churn" not in body  # no untested key figures either
        return
    row = bt.metrics.loc["ChurnClassifier"]
    # The AUC and lift the headline quotes are those of the backtest table.
    assert fmt.number(row["roc_auc"]) in section.action
    assert fmt.number(row["roc_auc"]) in body
    lift = fmt.ratio(row["top_decile_lift_churn"])
    assert lift in section.action and lift in body
    if float(row["top_decile_lift_churn"]) >= 1.2:
        assert f"within {days} days" in section.action
    assert f"likely to churn within {days} days" in body
    high = int((result.scores["churn_probability"] > 0.5).sum())
    assert fmt.count(high) in body
    if days < horizon:
        assert f"shortened from {horizon} to {days} days so it can be tested" in body


def _check_clv(result: IntelligenceResult) -> None:
    total = result.scores["expected_clv"].sum()
    with fmt.currency(result.currency):
        section = clv_section(result, result.log.horizon)
        money = fmt.money(total)
    body = _text(section.blocks)
    assert money in section.action and money in body
    assert f"horizon {result.log.horizon} days" in body and "amounts in GBP" in body
    assert "annual discount rate 10%" in body
    chosen = result.clv.selection.index[result.clv.selection["chosen"]][0]
    assert f"purchase model {chosen}" in body


def _check_crosssell(result: IntelligenceResult) -> None:
    section = crosssell_section(result)
    rules = result.cross_sell.rules
    if rules is None or not len(rules):
        return
    best = top_rules(rules, 1).iloc[0]
    assert best["customers who buy"] in section.action
    assert fmt.percent(best["confidence"]) in section.action
    body = _text(section.blocks)
    assert f"of {fmt.count(len(rules))} rules" in body
    # The headline's rule is the first row of the table, which is ranked by support x lift.
    table = top_rules(rules)
    assert table.iloc[0]["customers who buy"] == best["customers who buy"]
    weight = table["support"] * table["lift"]
    assert weight.is_monotonic_decreasing


@pytest.mark.slow
def test_demo_headlines_agree_with_their_sections(demo: IntelligenceResult) -> None:
    assert demo.churn.validated and demo.churn.horizon == demo.log.horizon
    _check_churn(demo)
    _check_clv(demo)
    _check_crosssell(demo)


@pytest.mark.slow
def test_one_year_at_365_days_tests_a_shorter_churn_window(one_year: IntelligenceResult) -> None:
    # 365 days cannot be tested on a year: the window is the longest that can.
    assert one_year.log.horizon == 365 and one_year.churn.validated
    assert one_year.churn.horizon < 365
    assert any(n.startswith("churn horizon shortened from 365") for n in one_year.data_quality)
    # The migration compares with half the history, not with 8 days of data a year ago.
    days = one_year.segments.migration_days
    assert days is not None and days < 365
    assert any("segment migration compares now with" in n for n in one_year.data_quality)
    _check_churn(one_year)
    _check_clv(one_year)
    _check_crosssell(one_year)


@pytest.mark.slow
def test_an_untested_churn_model_gets_no_headline(one_year: IntelligenceResult) -> None:
    note = (
        "churn backtest skipped: it needs 730 days of history; no churn window of 28 days or "
        "more can be tested either"
    )
    untested = replace(
        one_year, churn=replace(one_year.churn, backtest=None, notes=[note], horizon=365)
    )
    _check_churn(untested)
    section = churn_section(untested, 365)
    assert "it needs 730 days of history" in section.action
    # No share of "likely churners" is stated anywhere in the section.
    assert not re.search(r"\d+ customers \(\d", section.action)
