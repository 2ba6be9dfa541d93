"""Section 1: what data the report is built on (the warnings are listed under "Data quality")."""

from __future__ import annotations

from typing import Any

import pandas as pd

from custintel.pipeline import IntelligenceResult
from custintel.report import _format as fmt
from custintel.report._document import Section, kpis, paragraph
from custintel.report._quality import ledger_of


def overview_section(result: IntelligenceResult) -> Section:
    """Build the data overview section."""
    ov: dict[str, Any] = dict(result.customers.overview or {})
    warnings = [str(w) for w in (result.data_quality or [])]
    ledger = ledger_of(result)
    first, last = ov.get("first_date"), ov.get("last_date")
    facts = (
        f"{fmt.count(ov.get('n_customers'))} customers placed {fmt.count(ov.get('n_orders'))} "
        f"orders worth {fmt.money(ov.get('total_revenue'))} from {fmt.date(first)} to "
        f"{fmt.date(last)}"
    )
    if warnings:
        n = len(warnings)
        action = (
            f"{facts}; check the {n} data-quality warning{'s' if n > 1 else ''} below "
            "before acting on the numbers in this report."
        )
    elif ledger is not None and int(ledger.lines_kept) < int(ledger.lines_read):
        left = int(ledger.lines_read) - int(ledger.lines_kept)
        action = (
            f"{facts}; cleaning left out {fmt.count(left)} of the {fmt.count(ledger.lines_read)} "
            "lines read: see 'Data quality' for which and why before comparing with other totals."
        )
    else:
        action = f"{facts}; the data passed every quality check, so the numbers below can be used."
    days = None
    if first is not None and last is not None:
        days = (pd.Timestamp(last) - pd.Timestamp(first)).days + 1
    blocks = [
        kpis(
            [
                ("customers", fmt.count(ov.get("n_customers"))),
                ("orders", fmt.count(ov.get("n_orders"))),
                ("transaction rows", fmt.count(ov.get("n_rows"))),
                ("revenue", fmt.money(ov.get("total_revenue"))),
                ("days of history", fmt.count(days)),
                ("observation end", fmt.date(result.log.observation_end)),
            ]
        ),
        paragraph(
            "Item column: "
            + ("present (cross-sell is computed)" if ov.get("has_items") else "absent")
            + ". Cost column: "
            + (
                "present (profit and the whale curve are computed)"
                if ov.get("has_costs")
                else "absent (values are revenue)"
            )
            + "."
        ),
    ]
    return Section("overview", "Data overview", action, blocks)
