"""Section "Promotions": deal-driven customers against full-price ones, when the data say."""

from __future__ import annotations

import pandas as pd

from custintel.pipeline import IntelligenceResult
from custintel.plotting import plot_segment_bars
from custintel.report import _format as fmt
from custintel.report._document import Section, figure, guarded, table
from custintel.segmentation import segment_profile

_FORMATS = {
    "customers": fmt.count,
    "customer_share": fmt.percent,
    "revenue": fmt.money,
    "revenue_share": fmt.percent,
    "mean_clv": fmt.money,
    "deal_order_share": fmt.percent,
    "discount_depth": fmt.percent,
    "churn_probability": fmt.percent,
}


def deal_profile(result: IntelligenceResult) -> pd.DataFrame:
    """Profile the deal segments: size, revenue, CLV, deal share, discount depth and churn risk.

    Parameters
    ----------
    result : IntelligenceResult
        A run whose ``segments.deals`` is set.

    Returns
    -------
    pandas.DataFrame
        One row per deal segment, in segment order.
    """
    deals = result.segments.deals
    assert deals is not None
    scores = result.scores.join(deals[["deal_order_share", "discount_depth"]], how="inner")
    clv = scores["expected_clv"] if "expected_clv" in scores.columns else None
    profile = segment_profile(
        deals["deal_segment"].reindex(scores.index), scores, margin=None, clv=clv
    )
    segment = deals["deal_segment"].reindex(scores.index)
    extra = scores.groupby(segment, observed=False)[
        [c for c in ("deal_order_share", "discount_depth", "churn_probability") if c in scores]
    ].mean()
    return profile.join(extra)


def promotions_section(result: IntelligenceResult) -> Section | None:
    """Build the promotions section; ``None`` when the data have no promotion or discount."""
    if result.segments.deals is None:
        return None
    profile = deal_profile(result)
    driven = profile.loc["deal-driven"] if "deal-driven" in profile.index else None
    full = profile.loc["full-price"] if "full-price" in profile.index else None
    if driven is not None and driven["customers"] > 0:
        action = (
            f"{fmt.percent(driven['customer_share'])} of customers buy mostly on deals and bring "
            f"{fmt.percent(driven['revenue_share'])} of revenue"
        )
        if full is not None and full["customers"] > 0 and "mean_clv" in profile.columns:
            action += (
                f"; their expected CLV is {fmt.money(driven['mean_clv'])} against "
                f"{fmt.money(full['mean_clv'])} for full-price customers"
            )
        action += (
            ". Send deals to the deal-driven and deal-responsive, and keep full-price "
            "customers off discount lists: a discount they do not need gives margin away."
        )
    else:
        action = "Few customers buy mostly on deals: promotions do not drive this business."
    blocks = [
        guarded(
            "The deal segment bars",
            lambda: figure(
                lambda ax: plot_segment_bars(profile, ax=ax),
                alt="deal segments: share of customers and of revenue",
                size=(5.4, 3.6),
            ),
        ),
        table(
            fmt.format_frame(profile, _FORMATS),
            caption="Deal segments: deal-driven customers have at least 75 % of their orders on "
            "a promotion or discount (or never bought off one), deal-responsive at least 25 %. "
            "discount_depth is the share of the list price given away on discounted lines; "
            "mean_clv the expected CLV over the horizon.",
        ),
    ]
    return Section("promotions", "Promotions", action, blocks)
