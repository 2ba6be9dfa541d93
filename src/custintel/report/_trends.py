"""Sections 3 and 4: revenue and customers over time (months, cohorts) and by region.

Both are computed from what the result carries: the validated transactions
(``result.log.frame``: ``customer_id``, ``timestamp``, ``amount`` and, when
mapped, ``region``) and the scores (``expected_clv``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custintel.churn import cohort_retention
from custintel.exceptions import quiet
from custintel.pipeline import IntelligenceResult
from custintel.plotting import plot_breakdown, plot_cohort_heatmap, plot_monthly_activity
from custintel.report import _format as fmt
from custintel.report._document import Section, figure, guarded, heading, kpis, note, table

__all__ = [
    "monthly_activity",
    "partial_months",
    "region_breakdown",
    "regions_section",
    "trends_section",
]

#: Regions shown one by one; the rest are pooled into one "other" row.
TOP_REGIONS = 10


def _transactions(result: IntelligenceResult) -> pd.DataFrame | None:
    frame = getattr(result.log, "frame", None)
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        return None
    if not {"customer_id", "timestamp", "amount"} <= set(frame.columns):
        return None
    return frame


def monthly_activity(tx: pd.DataFrame) -> pd.DataFrame:
    """Revenue, active and new customers per calendar month.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical transactions: ``customer_id``, ``timestamp`` and ``amount``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``month`` (a monthly ``Period``, every month from the first
        to the last, none skipped): ``revenue`` (sum of amounts),
        ``active_customers`` (customers with a line that month) and
        ``new_customers`` (customers whose first line falls that month).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...                    "timestamp": pd.to_datetime(["2024-01-03", "2024-03-09",
    ...                                                 "2024-03-10", "2024-03-11"]),
    ...                    "amount": [10.0, 5.0, 2.0, 1.0]})
    >>> monthly_activity(tx)
             revenue  active_customers  new_customers
    month
    2024-01     10.0                 1              1
    2024-02      0.0                 0              0
    2024-03      8.0                 3              2
    """
    month = pd.PeriodIndex(pd.to_datetime(tx["timestamp"]), freq="M")
    frame = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].to_numpy(),
            "month": month,
            "amount": tx["amount"].to_numpy(dtype=np.float64),
        }
    )
    grouped = frame.groupby("month")
    first = frame.groupby("customer_id")["month"].min()
    months = pd.period_range(month.min(), month.max(), freq="M", name="month")
    out = pd.DataFrame(
        {
            "revenue": grouped["amount"].sum(),
            "active_customers": grouped["customer_id"].nunique(),
            "new_customers": first.value_counts(),
        }
    ).reindex(months)
    out = out.fillna({"revenue": 0.0, "active_customers": 0, "new_customers": 0})
    out.index.name = "month"
    out["active_customers"] = out["active_customers"].astype(np.int64)
    out["new_customers"] = out["new_customers"].astype(np.int64)
    return out


def partial_months(first: Any, last: Any) -> tuple[pd.Period, ...]:
    """Return the months a window from ``first`` to ``last`` (days) covers only in part.

    Examples
    --------
    >>> partial_months(pd.Timestamp("2010-12-01"), pd.Timestamp("2011-12-09"))
    (Period('2011-12', 'M'),)
    """
    out = []
    a, b = pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()
    if a.day != 1:
        out.append(pd.Period(a, freq="M"))
    if not b.is_month_end:
        out.append(pd.Period(b, freq="M"))
    return tuple(dict.fromkeys(out))


def _monthly(result: IntelligenceResult) -> pd.DataFrame | None:
    given = getattr(result, "monthly", None)
    if isinstance(given, pd.DataFrame) and not given.empty:
        frame = given.set_index("month") if "month" in given.columns else given
        return frame
    tx = _transactions(result)
    return None if tx is None else monthly_activity(tx)


def _change(now: float, before: float) -> str:
    if not before:
        return "–"
    return f"{'+' if now >= before else '-'}{fmt.percent(abs(now / before - 1))}"


def trends_section(result: IntelligenceResult) -> Section:
    """Build the section on revenue and customers over time."""
    monthly = _monthly(result)
    title = "Revenue and customers over time"
    if monthly is None:
        return Section(
            "trends",
            title,
            "Monthly revenue and cohorts need the transactions, which this result does not carry.",
            [
                note(
                    "Monthly revenue, active customers and cohorts are not available because the "
                    "result holds no transactions (result.log.frame is empty)."
                )
            ],
        )
    tx = _transactions(result)
    first = tx["timestamp"].min() if tx is not None else monthly.index[0].start_time
    partial = partial_months(first, result.log.observation_end)
    end = pd.Period(pd.Timestamp(result.log.observation_end), freq="M")
    full = monthly.loc[[m not in partial for m in monthly.index]]
    action, facts = _trend_action(full if len(full) else monthly)
    currency = getattr(result, "currency", None)
    blocks = [
        kpis(facts),
        guarded(
            "The monthly plot",
            lambda: figure(
                lambda ax: plot_monthly_activity(
                    monthly, currency=currency, partial=partial, ax=ax
                ),
                alt="revenue and customers per month",
                caption="Bars: revenue per month; lines: customers who bought that month, and "
                "those among them buying for the first time. Hatched: a month only partly "
                "in the data.",
                size=(9.0, 3.9),
            ),
        ),
        heading("Cohort retention"),
        guarded("The cohort retention", lambda: _cohorts(tx, end if end in partial else None)),
    ]
    return Section("trends", title, action, blocks)


def _trend_action(monthly: pd.DataFrame) -> tuple[str, list[tuple[str, str]]]:
    last = monthly.index[-1]
    row = monthly.iloc[-1]
    year_ago = last - 12
    if year_ago in monthly.index:
        before, label = monthly.loc[year_ago], str(year_ago)
    elif len(monthly) > 1:
        before, label = monthly.iloc[-2], str(monthly.index[-2])
    else:
        before, label = None, ""
    facts = [
        (f"revenue in {last}", fmt.money(row["revenue"])),
        (f"active customers in {last}", fmt.count(row["active_customers"])),
    ]
    if "new_customers" in monthly.columns:
        facts.append((f"new customers in {last}", fmt.count(row["new_customers"])))
    text = (
        f"The last full month, {last}, brought {fmt.money(row['revenue'])} from "
        f"{fmt.count(row['active_customers'])} customers"
    )
    if before is None:
        return text + ": one month is too short to show a trend.", facts
    change = float(row["revenue"]) / float(before["revenue"]) - 1 if before["revenue"] else 0.0
    facts.append((f"revenue against {label}", _change(row["revenue"], before["revenue"])))
    facts.append(
        (
            f"customers against {label}",
            _change(row["active_customers"], before["active_customers"]),
        )
    )
    text += (
        f" ({_change(row['revenue'], before['revenue'])} revenue and "
        f"{_change(row['active_customers'], before['active_customers'])} customers on {label})"
    )
    if change < -0.1:
        return text + ": find out what changed before planning on past months.", facts
    if change > 0.1:
        return text + ": plan stock, staff and budget for the growth.", facts
    return text + ": revenue is steady, plan on it.", facts


def _cohorts(tx: pd.DataFrame | None, partial_end: pd.Period | None = None) -> str:
    if tx is None:
        return note("Cohort retention is not available because the result holds no transactions.")
    with quiet():  # the lines were validated (and their warnings reported) once already
        counts = cohort_retention(
            tx[["customer_id", "timestamp", "amount"]], period="M", duplicates="keep"
        )
    cut = False
    if partial_end is not None and len(counts) and counts.index.min() < partial_end:
        # A month only partly observed would read as a drop in every cohort: leave it out.
        cut = True
        ages = np.arange(counts.shape[1])[None, :]
        reached = (counts.index.asi8[:, None] + ages) >= partial_end.ordinal
        counts = counts.mask(reached)
        counts = counts.loc[counts.index < partial_end, counts.notna().any()]
    if counts.shape[1] < 2:
        return note(
            "Cohort retention is not available because the data covers a single month, so no "
            "customer can come back in a later one."
        )
    rates = counts.div(counts[0], axis=0)
    sizes = counts[0]

    def back(k: int) -> float:
        seen = counts[k].notna() if k in counts.columns else pd.Series(False, index=counts.index)
        return float(counts.loc[seen, k].sum() / sizes[seen].sum()) if seen.any() else np.nan

    facts = kpis(
        [
            ("cohorts (months of first purchase)", fmt.count(len(counts))),
            ("buy again 1 month after the first", fmt.percent(back(1))),
            ("buy again 3 months after", fmt.percent(back(3))),
            ("buy again 12 months after", fmt.percent(back(12))),
        ]
    )
    height = min(6.5, 2.2 + 0.22 * len(rates))
    # Month 0 is 100% by definition: leaving it out keeps the colour scale for the rest.
    later = rates.iloc[:, 1:]
    later.index = [f"{c} ({fmt.count(n)})" for c, n in zip(rates.index, sizes, strict=True)]

    def draw(ax: Any) -> None:
        plot_cohort_heatmap(later, annotate=later.shape[1] <= 14, ax=ax)
        ax.set_xlabel("months since the first purchase")
        ax.set_ylabel("month of the first purchase")

    plot = figure(
        draw,
        alt="cohort retention heatmap",
        caption="Each row is the customers whose first purchase fell in that month (how many, in "
        "brackets); each cell the share of them who bought again k months later (blank: not "
        "yet observed" + ("; the last month, only partly observed, is left out)." if cut else ")."),
        size=(9.0, height),
    )
    return facts + plot


def _region_codes(region: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Code each line's region as text, missing as ``"(unknown)"``: codes and their names."""
    codes, uniques = pd.factorize(region)  # categories and repeated values: one pass
    names = np.asarray(pd.Index(uniques).astype("string").astype(object), dtype=object)
    if (codes < 0).any():
        names = np.append(names, "(unknown)")
        codes = np.where(codes < 0, len(names) - 1, codes)
    merged, texts = pd.factorize(pd.Index(names, dtype=object))  # e.g. 1 and "1": one region
    return merged[codes], np.asarray(texts, dtype=object)


def _main_group(
    customer: np.ndarray, group: np.ndarray, amount: np.ndarray, rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's group with most revenue (on a tie, the first group name in text order).

    Returns the customer codes that have lines and, for each, its main group.
    """
    n_groups = int(group.max()) + 1 if len(group) else 1
    inverse, pair = pd.factorize(customer * n_groups + group)  # hashing: no sort of the lines
    spend = np.bincount(inverse, weights=amount, minlength=len(pair))
    who, which = pair // n_groups, pair % n_groups
    order = np.lexsort((rank[which], -spend, who))
    first = np.ones(len(order), dtype=bool)
    first[1:] = who[order][1:] != who[order][:-1]
    return who[order][first], which[order][first]


def region_breakdown(
    tx: pd.DataFrame, clv: pd.Series | None = None, *, top: int = TOP_REGIONS
) -> pd.DataFrame:
    """Revenue, customers and CLV by region: the ``top`` regions by revenue, then the rest.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical transactions with ``customer_id``, ``amount`` and ``region``.
    clv : pandas.Series, optional
        Expected CLV per customer; summed over each customer's main region
        (the one with most of their revenue).
    top : int, default=10
        Regions shown one by one; the others are pooled in one row named
        ``"other (N regions)"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``region``, largest revenue first: ``revenue``,
        ``revenue_share``, ``customers`` (customers with a line there, so a
        customer may count in two regions) and, with ``clv``,
        ``expected_clv`` and ``mean_clv`` (over customers whose main region it is).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "amount": [5.0, 1.0, 3.0, 1.0],
    ...                    "region": ["UK", "FR", "UK", "DE"]})
    >>> region_breakdown(tx, pd.Series({"a": 10.0, "b": 2.0, "c": 1.0}), top=1)
                       revenue  revenue_share  customers  expected_clv  mean_clv
    region
    UK                     8.0            0.8          2          12.0       6.0
    other (2 regions)      2.0            0.2          2           1.0       1.0
    """
    code, names = _region_codes(tx["region"])
    amount = tx["amount"].to_numpy(dtype=np.float64)
    customer, ids = pd.factorize(tx["customer_id"])
    by_region = np.bincount(code, weights=amount, minlength=len(names))
    alphabetical = np.argsort(names.astype(str), kind="stable")
    # most revenue first; ties in the order of the names
    ranked = alphabetical[np.argsort(-by_region[alphabetical], kind="stable")]
    shown = [str(names[i]) for i in ranked[:top]]
    rest = len(names) - len(shown)
    other = f"other ({rest} region{'s' if rest > 1 else ''})"
    order = shown + ([other] if rest else [])
    # group of each region: its place among the shown, or the pooled rest
    group_of = np.full(len(names), len(shown), dtype=np.int64)
    group_of[ranked[:top]] = np.arange(len(shown))
    group = group_of[code]
    n_groups = len(order)
    revenue = np.bincount(group, weights=amount, minlength=n_groups)
    pairs = pd.unique(group.astype(np.int64) * max(len(ids), 1) + customer)
    customers = np.bincount(pairs // max(len(ids), 1), minlength=n_groups)
    out = pd.DataFrame({"revenue": revenue, "customers": customers.astype(np.int64)})
    total = float(out["revenue"].sum())
    out.insert(1, "revenue_share", out["revenue"] / total if total else np.nan)
    if clv is not None:
        rank = np.argsort(np.argsort(np.asarray(order, dtype=str), kind="stable"))
        who, main = _main_group(customer.astype(np.int64), group, amount, rank)
        values = pd.Series(clv, dtype="float64").reindex(ids[who]).to_numpy()
        known = ~np.isnan(values)
        summed = np.bincount(main[known], weights=values[known], minlength=n_groups)
        counted = np.bincount(main[known], minlength=n_groups)
        members = np.bincount(main, minlength=n_groups)
        # no customer based there: unknown (NaN); customers without a CLV add nothing
        out["expected_clv"] = np.where(members > 0, summed, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["mean_clv"] = np.where(counted > 0, summed / np.maximum(counted, 1), np.nan)
    out.index = pd.Index(order, name="region")
    return out


def regions_section(result: IntelligenceResult) -> Section:
    """Build the breakdown by region (or country), when a region column is mapped."""
    tx = _transactions(result)
    title = "Regions"
    if tx is None or "region" not in tx.columns:
        return Section(
            "regions",
            title,
            "Map a region or country column (TransactionSchema(region=...), or --region) to see "
            "revenue, customers and CLV by region.",
            [
                note(
                    "The breakdown by region is not available because the data has no region "
                    "column."
                )
            ],
        )
    clv = result.scores["expected_clv"] if "expected_clv" in result.scores.columns else None
    table_ = region_breakdown(tx, clv)
    n_regions = int(tx["region"].nunique())
    lead = table_.index[0]
    row = table_.iloc[0]
    action = (
        f"{lead} brings {fmt.percent(row['revenue_share'])} of revenue from "
        f"{fmt.count(row['customers'])} customers"
    )
    if len(table_) > 1:
        second = table_.index[1]
        action += (
            f", {second} {fmt.percent(table_.iloc[1]['revenue_share'])} (of {n_regions} regions)"
        )
    action += ": weigh regional plans and budgets by this split."
    currency = getattr(result, "currency", None)
    shown = fmt.format_frame(
        table_,
        {
            "revenue": fmt.money,
            "revenue_share": fmt.percent,
            "customers": fmt.count,
            "expected_clv": fmt.money,
            "mean_clv": fmt.money,
        },
    ).rename(columns={"expected_clv": "expected CLV", "mean_clv": "mean CLV"})
    blocks = [
        guarded(
            "The region bars",
            lambda: figure(
                lambda ax: plot_breakdown(table_, "revenue", currency=currency, ax=ax),
                alt="revenue by region",
                size=(6.4, 0.9 + 0.38 * len(table_)),
            ),
        ),
        table(
            shown,
            caption=f"The {min(TOP_REGIONS, n_regions)} regions with most revenue"
            + (", then the rest pooled" if n_regions > TOP_REGIONS else "")
            + ". Customers: those with a purchase line there (one may count in two regions); "
            "CLV: over the next horizon, of the customers whose main region (most revenue) "
            "it is.",
        ),
    ]
    return Section("regions", title, action, blocks)
