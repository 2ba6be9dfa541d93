"""Section 6: cross-sell: the strongest association rules and example recommendations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from custintel.pipeline import IntelligenceResult
from custintel.report import _format as fmt
from custintel.report._document import Section, heading, note, table

_N_RULES = 10
_N_EXAMPLES = 10


def top_rules(rules: pd.DataFrame, n: int = _N_RULES) -> pd.DataFrame:
    """Return the ``n`` rules that matter most, by support x lift, for display.

    Lift alone ranks rare near-duplicates first (two colours of one product
    bought together by a handful of baskets); support x lift weighs how
    much stronger than chance a rule is by how many baskets it reaches.
    Items show by name when the rules carry ``antecedent_names`` and
    ``consequent_names``.
    """
    weight = rules["support"].to_numpy(dtype=float) * rules["lift"].to_numpy(dtype=float)
    ranked = rules.assign(_weight=weight).sort_values(
        ["_weight", "confidence", "lift"], ascending=False, kind="stable"
    )
    named = {"antecedent_names", "consequent_names"} <= set(ranked.columns)
    left = ranked["antecedent_names" if named else "antecedents"].head(n)
    right = ranked["consequent_names" if named else "consequents"].head(n)
    out = pd.DataFrame(
        {
            "customers who buy": [fmt.item_set(a) for a in left],
            "also buy": [fmt.item_set(c) for c in right],
        }
    )
    for column in ("support", "confidence", "lift"):
        out[column] = ranked[column].head(n).to_numpy()
    out.index = pd.RangeIndex(1, len(out) + 1, name="rank")
    return out


def crosssell_section(result: IntelligenceResult) -> Section:
    """Build the cross-sell section."""
    rules = result.cross_sell.rules
    if result.cross_sell.skipped is not None:
        return Section(
            "crosssell",
            "Cross-sell",
            "Mining the baskets failed, so this report has no cross-sell rules; the other "
            "sections are complete.",
            [note(result.cross_sell.skipped[:1].upper() + result.cross_sell.skipped[1:] + ".")],
        )
    if rules is None:
        return Section(
            "crosssell",
            "Cross-sell",
            "Map an item column (item_id) to get cross-sell rules and recommendations.",
            [note("Cross-sell is not available because the data has no item column.")],
        )
    if len(rules) == 0:
        return Section(
            "crosssell",
            "Cross-sell",
            "No pair of items is bought together often enough for a rule: recommend the best "
            "sellers instead.",
            [note("No association rule reached the minimum support and confidence.")],
        )
    best = top_rules(rules, 1).iloc[0]
    action = (
        f"Customers who buy {best['customers who buy']} also buy {best['also buy']} "
        f"{fmt.percent(best['confidence'])} of the time ({fmt.ratio(best['lift'])} the usual "
        "rate): recommend or bundle them together."
    )
    support = result.cross_sell.min_support
    mined = f" mined at a minimum support of {fmt.percent(support)}" if support else ""
    shown = fmt.format_frame(
        top_rules(rules),
        {"support": fmt.percent, "confidence": fmt.percent, "lift": fmt.ratio},
    )
    blocks = [
        table(
            shown,
            caption=f"The {len(shown)} rules that reach most baskets above chance (support "
            f"x lift) of {fmt.count(len(rules))} rules{mined}. Support: share of baskets with "
            "all the items; confidence: share of the first items' baskets that also hold the "
            "second; lift: confidence over the second's base rate.",
        ),
        *[note(n) for n in result.cross_sell.notes],
        heading("Example recommendations"),
        _examples(
            result.scores,
            result.cross_sell.name_of if result.cross_sell.item_names is not None else None,
        ),
    ]
    return Section("crosssell", "Cross-sell", action, blocks)


def _examples(customers: pd.DataFrame, names: Callable[[Any], list[Any]] | None = None) -> str:
    columns = [
        c
        for c in ("recommendation_1", "recommendation_2", "recommendation_3")
        if c in customers.columns
    ]
    if not columns:
        return note("Recommendations are not available because they were not scored.")
    has = customers[columns[0]].notna()
    if not has.any():
        return note("No customer has a recommendation: no rule applies to what they bought.")
    frame = customers.loc[has]
    if "expected_clv" in frame.columns:
        frame = frame.sort_values("expected_clv", ascending=False, kind="stable")
    context = [c for c in ("rfm_segment", "expected_clv") if c in frame.columns]
    frame = frame[context + columns].head(_N_EXAMPLES)
    if names is not None:
        frame = frame.assign(**{c: names(frame[c]) for c in columns})
    shown = fmt.format_frame(frame, {"expected_clv": fmt.money})
    shown = shown.rename(columns=lambda c: str(c).replace("recommendation_", "item "))
    return table(
        shown,
        caption=f"The {len(shown)} most valuable customers with a recommendation "
        f"({fmt.count(has.sum())} customers have one).",
    )
