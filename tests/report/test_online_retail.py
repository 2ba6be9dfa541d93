"""Issue 16's command on the real UCI Online Retail export, from raw CSV to the report.

The file is in ``../shared/data`` (present in CI; the tests skip elsewhere). One
CLI run writes every output once per session; the checks read them as a user
would, and the same log fitted in Python gives the result object whose
headlines are checked against their own sections (``test_headlines``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from custintel.pipeline import CustomerIntelligence, IntelligenceResult, read_transactions
from custintel.report import _format as fmt
from custintel.report._segments import segments_section
from custintel.schema import TransactionSchema

from .conftest import ONLINE_RETAIL, ONLINE_RETAIL_ROLES, require_online_retail
from .test_headlines import _check_churn, _check_clv, _check_crosssell, _text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result() -> IntelligenceResult:
    """The same job in Python, read with the same reader."""
    require_online_retail()
    tx = read_transactions(ONLINE_RETAIL, text_columns=["CustomerID", "InvoiceNo", "StockCode"])
    with pytest.warns(Warning, match="exact duplicates"):
        schema = TransactionSchema(**ONLINE_RETAIL_ROLES)
        ci = CustomerIntelligence(schema, missing_ids="drop").fit(tx)
    return ci.result_


def test_every_output_is_written(online_retail_run: tuple[Path, str]) -> None:
    out, printed = online_retail_run
    names = {p.name for p in out.iterdir()}
    assert {
        "report.html",
        "customers.csv",
        "rules.csv",
        "models",
        "call-at-risk-high-value.csv",
        "win-back-lapsed.csv",
        "onboard-new.csv",
        "reward-champions.csv",
        "cross-sell-loyal.csv",
    } <= names
    # the automatic support aims at hundreds to a few thousand rules, not 200,000
    rules = pd.read_csv(out / "rules.csv", dtype=str)
    assert 200 <= len(rules) <= 5000
    assert (out / "rules.csv").stat().st_size < 2_000_000
    # rules carry the item names next to the codes
    herbs = rules[rules["antecedents"] == "22916 & 22918"]
    assert "HERB MARKER THYME & HERB MARKER PARSLEY" in herbs["antecedent_names"].tolist()
    assert "cross-sell rules:" in printed


def test_data_quality_counts_are_stated(online_retail_run: tuple[Path, str]) -> None:
    out, printed = online_retail_run
    # Counted by hand from the file with pandas: 135,080 lines have no CustomerID.
    assert "note: 135,080 of 541,909 lines (24.9%) have no customer id" in printed
    page = (out / "report.html").read_text(encoding="utf-8")
    quality = page[page.index('<section id="quality"') :]
    quality = quality[: quality.index("</section>")]
    for figure in ("541,909", "135,080", "396,635"):
        assert figure in quality
    assert "matched" in quality


def test_ids_are_text_and_cancelled_purchases_are_gone(online_retail_run: tuple[Path, str]) -> None:
    out, _ = online_retail_run
    customers = pd.read_csv(out / "customers.csv", dtype={"customer_id": str})
    assert customers["customer_id"].str.fullmatch(r"\d{5}").all()  # not 12346.0
    ids = set(customers["customer_id"])
    # 12346 bought 74,215 x 23166 on 2011-01-18 and cancelled all of it the same day:
    # no purchase is left, so they are no customer.
    assert "12346" not in ids
    # 16446 bought 80,995 x 23843 (168,469.60) and cancelled it the same day; the 2.90
    # they really spent is all that is left, and they are no longer a top-CLV customer.
    row = customers.set_index("customer_id").loc["16446"]
    assert row["total_amount"] == pytest.approx(2.90)
    assert row["frequency"] == 0
    rank = customers["expected_clv"].rank(ascending=False)[customers["customer_id"] == "16446"]
    assert float(rank.iloc[0]) > 1000


def test_headlines_agree_with_their_sections(result: IntelligenceResult) -> None:
    # One year of data at the default 365-day horizon: churn is tested on a shorter window.
    assert result.churn.validated and result.churn.horizon < 365
    _check_churn(result)
    _check_clv(replace(result, currency="GBP"))
    _check_crosssell(result)
    # The migration headline names the day it really compares with.
    section = segments_section(result, result.log.horizon)
    days = result.segments.migration_days
    assert days is not None
    since = fmt.date(result.log.observation_end - pd.Timedelta(days=days))
    assert since in section.action or since in _text(section.blocks)
    assert not re.search(r"\b0 customers \(0%\)", section.action)
