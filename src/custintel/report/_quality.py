"""Section 2: data quality: what cleaning read, kept, dropped and changed, from the ledger."""

from __future__ import annotations

from typing import Any

import pandas as pd

from custintel.pipeline import IntelligenceResult
from custintel.report import _format as fmt
from custintel.report._document import Section, bullets, heading, kpis, note, paragraph, table

__all__ = ["quality_section", "quality_table"]

_MISSING_IDS = {"drop": "dropped", "raise": "none allowed: the run stops on one"}
_UNMATCHED = {
    "net": "netted against the customer's spend",
    "drop": "dropped",
    "raise": "none allowed: the run stops on one",
}
_DUPLICATES = {
    "warn": "kept, with a warning",
    "keep": "kept",
    "drop": "dropped",
    "raise": "none allowed: the run stops on one",
}


def ledger_of(result: IntelligenceResult) -> Any:
    """Return the cleaning ledger (a ``DataQuality``) of ``result``, or ``None``."""
    ledger = getattr(result, "quality", None)
    if ledger is None:
        ledger = getattr(result.log, "quality", None)
    return ledger


def guest_share(ledger: Any) -> float | None:
    """Share of revenue on guest lines: their amount over kept plus guest revenue.

    ``None`` when there is no revenue at all.
    """
    guest = float(ledger.missing_id_amount)
    total = float(ledger.revenue_kept) + guest
    return guest / total if total > 0 else None


def quality_table(ledger: Any) -> pd.DataFrame:
    """Tabulate the ledger: one row per check, with lines, amount and what was done.

    Parameters
    ----------
    ledger : custintel.schema.DataQuality
        The cleaning ledger of a run.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``check``: ``lines``, ``share_of_lines`` (of the lines
        read), ``amount`` (``NaN`` where the ledger keeps no amount) and
        ``action``, in the order cleaning applies them.
    """
    codes = ", ".join(str(c) for c in ledger.excluded_item_codes)
    cancelled, reduced = int(ledger.purchases_cancelled_lines), int(ledger.purchases_reduced_lines)
    rows: list[tuple[str, int, float, str]] = [
        (
            "guest lines (no customer id)",
            ledger.missing_id_lines,
            ledger.missing_id_amount,
            _MISSING_IDS.get(str(ledger.missing_ids_policy), str(ledger.missing_ids_policy)),
        ),
        (
            "excluded items",
            ledger.excluded_item_lines,
            ledger.excluded_item_amount,
            "kept out of purchases and baskets" + (f" (codes {codes})" if codes else ""),
        ),
        (
            "price zero or negative",
            ledger.nonpositive_price_lines,
            float("nan"),
            "kept out of purchases and baskets",
        ),
        (
            "returns matched to a purchase",
            ledger.returns_matched_lines,
            ledger.returns_matched_amount,
            f"{fmt.count(cancelled)} purchase lines cancelled in full, {fmt.count(reduced)} "
            "reduced",
        ),
        (
            "returns with no matching purchase",
            ledger.returns_unmatched_lines,
            ledger.returns_unmatched_amount,
            _UNMATCHED.get(str(ledger.unmatched_policy), str(ledger.unmatched_policy)),
        ),
        (
            "duplicate lines",
            ledger.duplicate_lines,
            float("nan"),
            _DUPLICATES.get(str(ledger.duplicates_policy), str(ledger.duplicates_policy)),
        ),
        (
            "lines after the observation end",
            ledger.late_lines,
            float("nan"),
            "left out (after the last observed day)",
        ),
    ]
    read = int(ledger.lines_read)
    frame = pd.DataFrame(
        {
            "lines": [int(r[1]) for r in rows],
            "share_of_lines": [int(r[1]) / read if read else float("nan") for r in rows],
            "amount": [float(r[2]) for r in rows],
            "action": [r[3] for r in rows],
        },
        index=pd.Index([r[0] for r in rows], name="check"),
    )
    return frame


def _headline(ledger: Any, n_warnings: int) -> str:
    read, kept = int(ledger.lines_read), int(ledger.lines_kept)
    share = kept / read if read else float("nan")
    head = (
        f"{fmt.count(kept)} of the {fmt.count(read)} lines read ({fmt.percent(share)}) were "
        f"kept, worth {fmt.money(ledger.revenue_kept)}"
    )
    guests = int(ledger.missing_id_lines)
    if guests:
        gs = guest_share(ledger)
        head += (
            f"; {fmt.count(guests)} guest lines without a customer id "
            f"({fmt.money(ledger.missing_id_amount)}, {fmt.percent(gs)} of revenue) are in no "
            "customer figure"
        )
    if kept < read or guests:
        return head + ": reconcile with finance on the kept revenue, not on the raw file."
    if n_warnings:
        return head + f"; read the {n_warnings} warning{'s' if n_warnings > 1 else ''} below."
    return head + ": nothing was dropped, so the figures cover the whole file."


def quality_section(result: IntelligenceResult) -> Section:
    """Build the data-quality section from the cleaning ledger and the warnings."""
    warnings = [str(w) for w in (result.data_quality or [])]
    ledger = ledger_of(result)
    currency = getattr(result, "currency", None)
    blocks: list[str] = []
    if ledger is None:
        n = len(warnings)
        action = (
            "No cleaning ledger was recorded for this run, so the lines read, kept and dropped "
            "are not known"
            + (
                f": read the {n} data-quality warning{'s' if n > 1 else ''} below."
                if n
                else "; validation raised no warning."
            )
        )
        blocks.append(
            note(
                "The cleaning ledger is not available because this result was built without one "
                "(no DataQuality was recorded by the validate step), so no counts of dropped or "
                "changed lines are shown."
            )
        )
    else:
        action = _headline(ledger, len(warnings))
        blocks.append(
            kpis(
                [
                    ("lines read", fmt.count(ledger.lines_read)),
                    ("lines kept", fmt.count(ledger.lines_kept)),
                    ("revenue kept", fmt.money(ledger.revenue_kept)),
                    ("first day", fmt.date(ledger.first_date)),
                    ("last day", fmt.date(ledger.last_date)),
                    ("currency", currency or "not given"),
                ]
            )
        )
        shown = fmt.format_frame(
            quality_table(ledger),
            {"lines": fmt.count, "share_of_lines": fmt.percent, "amount": fmt.money},
        ).rename(columns={"share_of_lines": "share of lines read"})
        caption = (
            "What cleaning found, line by line, in the order it is applied. Guest lines and "
            "excluded items show their net amount (purchases less returns), returns their value "
            "(– where no amount is kept)."
        )
        if int(ledger.missing_id_lines):
            caption += (
                f" Guest lines carry {fmt.percent(guest_share(ledger))} of revenue (their amount "
                "over kept plus guest revenue)."
            )
        blocks.append(table(shown, caption=caption))
        blocks.append(
            paragraph(
                f"Policies: refunds '{ledger.refunds_policy}' (returns with no matching purchase: "
                f"'{ledger.unmatched_policy}'), missing customer ids "
                f"'{ledger.missing_ids_policy}', "
                f"duplicates '{ledger.duplicates_policy}'. Currency: "
                + (currency if currency else "not given (amounts are shown without a symbol)")
                + "."
            )
        )
        notes = [str(n) for n in ledger.notes()]
        blocks.append(heading("What cleaning did"))
        blocks.append(
            bullets(notes) if notes else paragraph("Nothing: every line was kept as read.")
        )
    blocks.append(heading("Data-quality warnings"))
    blocks.append(bullets(warnings, css="warnings") if warnings else paragraph("None."))
    return Section("quality", "Data quality", action, blocks)
