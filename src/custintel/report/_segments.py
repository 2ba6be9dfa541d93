"""Section 3: segments (RFM, value tiers, lifecycle): sizes, revenue and migration."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn import config_context

from custintel.pipeline import IntelligenceResult
from custintel.plotting import plot_migration, plot_rfm_heatmap, plot_segment_bars
from custintel.report import _format as fmt
from custintel.report._document import Section, figure, guarded, heading, note, table
from custintel.segmentation import segment_profile

_PROFILE_FORMATS = {
    "customers": fmt.count,
    "customer_share": fmt.percent,
    "revenue": fmt.money,
    "revenue_share": fmt.percent,
    "mean_clv": fmt.money,
    "value": fmt.money,
    "value_share": fmt.percent,
}


def _profile(customers: pd.DataFrame, column: str) -> pd.DataFrame:
    clv = customers["expected_clv"] if "expected_clv" in customers.columns else None
    return segment_profile(customers[column], customers, margin=None, clv=clv)


def segments_section(result: IntelligenceResult, horizon: int | None) -> Section:
    """Build the segments section."""
    customers: pd.DataFrame = result.scores
    profile = _profile(customers, "rfm_segment")
    best = profile["revenue_share"].idxmax()
    keep = (
        f"keep '{best}' ({fmt.percent(profile.loc[best, 'customer_share'])} of customers, "
        f"{fmt.percent(profile.loc[best, 'revenue_share'])} of revenue) loyal"
    )
    migration = result.segments.migration
    since = _since(result, horizon)
    if migration is not None and len(migration.moved_down):
        action = f"{_win_back(migration, since)}, and {keep}."
    else:
        action = f"{keep[0].upper()}{keep[1:]}: they carry the business."
    blocks = [
        heading("RFM segments"),
        '<div class="grid">',
        guarded(
            "The segment bars",
            lambda: figure(
                lambda ax: plot_segment_bars(profile, ax=ax),
                alt="segment size and revenue",
                size=(5.4, 4.2),
            ),
        ),
        guarded("The RFM heatmap", lambda: _rfm_heatmap(result)),
        "</div>",
        table(
            fmt.format_frame(profile, _PROFILE_FORMATS),
            caption="RFM segments, best first; mean_clv is the expected CLV over the horizon.",
        ),
        heading("Value tiers"),
        guarded("The value tiers", lambda: _tiers(result)),
        heading("Lifecycle stages"),
        guarded(
            "The lifecycle stages",
            lambda: table(
                fmt.format_frame(
                    _profile(customers, "lifecycle_stage"), _PROFILE_FORMATS
                ).rename_axis("stage")
            ),
        ),
        heading("Migration"),
    ]
    if migration is None:
        reason = "; ".join(
            n.removeprefix("segment migration skipped: ") for n in result.segments.notes
        ) or (
            "the history is shorter than one horizon before the observation end, so there is "
            "no earlier period to compare"
        )
        blocks.append(note(f"Segment migration is not available because {reason}."))
    else:
        blocks.append(
            guarded(
                "The migration heatmap",
                lambda: figure(
                    lambda ax: plot_migration(migration, kind="counts", ax=ax),
                    alt="segment migration",
                    caption=f"Customers by RFM segment on {since} (rows) and now (columns).",
                    size=(7.2, 5.4),
                ),
            )
        )
        blocks.append(guarded("The moved-down table", lambda: _moved_down(migration)))
    return Section("segments", "Segments", action, blocks)


def _win_back(migration: Any, since: str) -> str:
    moved = migration.moved_down
    # The best two segments (rows are in order, best first): those customers matter most.
    top = [str(s) for s in migration.counts.index if str(s) != "(none)"][:2]
    fell = int(moved["before"].astype(str).isin(top).sum())
    head = f"{fmt.count(len(moved))} customers moved to a worse segment since {since}"
    if 0 < fell < len(moved):
        names = " or ".join(f"'{s}'" for s in top)
        return f"{head}: win back the {fmt.count(fell)} who were {names} first"
    return f"{head}: win them back"


def _since(result: IntelligenceResult, horizon: int | None) -> str:
    """Name the day migration compares with: ``migration_days`` back, else one horizon."""
    end = result.log.observation_end
    days = result.segments.migration_days or horizon
    if end is None or days is None:
        return "the previous period"
    return fmt.date(pd.Timestamp(end) - pd.Timedelta(days=int(days)))


def _rfm_heatmap(result: IntelligenceResult) -> str:
    with config_context(transform_output="default"):  # pandas, whatever set_config says
        scores = result.segments.rfm.transform(result.customers.summary)
    return figure(
        lambda ax: plot_rfm_heatmap(scores, ax=ax),
        alt="customers by R and F score",
        size=(5.2, 4.2),
    )


def _tiers(result: IntelligenceResult) -> str:
    tiers = result.segments.value_tiers
    if tiers is None:
        return note("Value tiers are not available because they were not fitted.")
    summary = fmt.format_frame(tiers.summary_, _PROFILE_FORMATS)
    playbook = getattr(tiers, "playbook_", None)
    if isinstance(playbook, pd.DataFrame) and len(playbook.columns):
        summary = summary.join(playbook.iloc[:, :1])
    return table(summary, caption="Value pyramid: tiers by share of cumulative value.")


def _moved_down(migration: Any) -> str:
    moved = migration.moved_down.head(10)
    if moved.empty:
        return note("No customer moved to a worse segment.")
    shown = fmt.format_frame(moved, {"revenue": fmt.money})
    return table(shown, caption="Largest drops (first 10 customers).")
