"""Section 1: what data the report is built on, and what is wrong with it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from custintel.pipeline import IntelligenceResult
from custintel.report import _format as fmt
from custintel.report._document import Section, bullets, heading, kpis, paragraph


def overview_section(result: IntelligenceResult) -> Section:
    """Build the data overview and data-quality section."""
    ov: dict[str, Any] = dict(result.customers.overview or {})
    warnings = [str(w) for w in (result.data_quality or [])]
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
        heading("Data-quality warnings"),
        bullets(warnings, css="warnings") if warnings else paragraph("None."),
    ]
    return Section("overview", "Data overview", action, blocks)
