"""Section 2: how concentrated value is (80/20, ABC classes) and the whale curve."""

from __future__ import annotations

from typing import Any

from custintel.pipeline import IntelligenceResult
from custintel.plotting import plot_abc, plot_pareto, plot_whale_curve
from custintel.report import _format as fmt
from custintel.report._document import Section, figure, guarded, heading, kpis, note, table

_VALUE_NAMES = {"total_amount": "revenue", "revenue": "revenue", "total_margin": "margin"}


def value_name(column: Any) -> str:
    """Say what a value column is in words."""
    return _VALUE_NAMES.get(str(column), str(column))


def pareto_section(result: IntelligenceResult) -> Section:
    """Build the 80/20 and whale-curve section."""
    pareto, whale = result.profitability.pareto, result.profitability.whale
    label = value_name(pareto.column_)
    top = pareto.share_of_top(0.2)
    action = f"The top 20% of customers bring {fmt.percent(top)} of {label}: protect them first."
    # Losses are worth a line only when they are material: 1% of total profit or more.
    if whale is not None and whale.losses_ > 0.01 * max(whale.total_profit_, 0.0):
        action += (
            f" {fmt.percent(whale.value_destroying_share_)} of customers lose money "
            f"({fmt.money(whale.losses_)} in total): review what it costs to serve them."
        )
    blocks = [
        kpis(
            [
                (f"share of {label} from the top 20%", fmt.percent(top)),
                (f"customers making 80% of {label}", fmt.percent(pareto.customers_for_share(0.8))),
                ("Gini coefficient", fmt.number(pareto.gini_)),
                (f"total {label}", fmt.money(pareto.total_)),
            ]
        ),
        '<div class="grid">',
        guarded(
            "The Pareto curve",
            lambda: figure(
                lambda ax: plot_pareto(pareto, ax=ax),
                alt=f"Pareto curve of {label}",
                size=(5.2, 3.8),
            ),
        ),
        guarded(
            "The ABC classes",
            lambda: figure(lambda ax: plot_abc(pareto, ax=ax), alt="ABC classes", size=(5.2, 3.8)),
        ),
        "</div>",
        guarded("The ABC table", lambda: _abc_table(pareto, label)),
        heading("Whale curve"),
    ]
    if whale is None:
        blocks.append(
            note(
                "The whale curve is not available because the data has no cost column: "
                "map one (cost or margin) to see which customers destroy profit."
            )
        )
    else:
        blocks.append(
            kpis(
                [
                    ("peak of cumulative profit", fmt.percent(whale.peak_share_)),
                    ("reached at customers", fmt.percent(whale.peak_customer_share_)),
                    ("customers losing money", fmt.percent(whale.value_destroying_share_)),
                    ("their losses", fmt.money(whale.losses_)),
                ]
            )
        )
        blocks.append(
            guarded(
                "The whale curve",
                lambda: figure(
                    lambda ax: plot_whale_curve(whale, currency=fmt.currency_label(), ax=ax),
                    alt="whale curve",
                ),
            )
        )
    return Section("pareto", "80/20 and the whale curve", action, blocks)


def _abc_table(pareto: Any, label: str) -> str:
    summary = pareto.abc_summary()
    shown = fmt.format_frame(
        summary,
        {
            "customers": fmt.count,
            "customer_share": fmt.percent,
            "value": fmt.money,
            "value_share": fmt.percent,
        },
    ).rename(columns={"value": label, "value_share": f"{label} share"})
    return table(shown, caption="ABC classes: A makes the first 80% of value, B the next 15%.")
