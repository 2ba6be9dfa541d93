"""Sort-based numpy kernels shared by the customer feature builders.

The validated rows are sorted by customer code, then time. The kernels walk
them in blocks of whole customers (about a million rows each), so every
temporary array is block-sized: on large logs, fresh memory costs as much
time as the arithmetic, and peak memory is what runs out first. Within a block
everything is vectorised; there is no per-customer Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custintel._validation import ValidatedTransactions
from custintel.backends import (
    LOW,
    Aggregate,
    aggregates_for,
    reduce_marked,
    to_fixed,
)

BLOCK_ROWS = 1 << 20


def run_starts(key: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal values in a sorted array.

    Parameters
    ----------
    key : numpy.ndarray
        Sorted (or at least grouped) values.

    Returns
    -------
    numpy.ndarray
        Start index of each run; ``[0, ...]`` when ``key`` is not empty.
    """
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.empty(len(key), dtype=bool)
    change[0] = True
    np.not_equal(key[1:], key[:-1], out=change[1:])
    return np.flatnonzero(change)


def customer_blocks(
    row_ends: np.ndarray, block_rows: int = BLOCK_ROWS
) -> Iterator[tuple[int, int]]:
    """Split sorted rows into blocks of whole customers.

    Parameters
    ----------
    row_ends : numpy.ndarray
        Cumulative row count at the end of each customer code.
    block_rows : int, default=BLOCK_ROWS
        Target rows per block; a customer with more rows gets a block of its own.

    Yields
    ------
    tuple of int
        ``(row_lo, row_hi)`` of each block.
    """
    n_codes = len(row_ends)
    code_lo, row_lo = 0, 0
    while code_lo < n_codes:
        code_hi = int(np.searchsorted(row_ends, row_lo + block_rows, side="right"))
        code_hi = max(code_hi, code_lo + 1)
        row_hi = int(row_ends[code_hi - 1])
        if row_hi > row_lo:
            yield row_lo, row_hi
        code_lo, row_lo = code_hi, row_hi


@dataclass(frozen=True)
class CustomerTotals:
    """Per-customer aggregates, one entry per customer code (all customers).

    Attributes
    ----------
    values : dict of str to numpy.ndarray
        Each aggregate of :data:`custintel.backends.CUSTOMER_AGGREGATES` asked for,
        by name (money as two float limbs, the low one's name ending in ``_lo``).
        Customers without a purchase occasion in the rows considered have
        ``n_occ == 0``, zero sums and NaN gaps.
    has_rows : numpy.ndarray
        Whether the customer has any row (purchase or refund).
    """

    values: dict[str, np.ndarray]
    has_rows: np.ndarray

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]


def customer_totals(
    validated: ValidatedTransactions,
    rows: np.ndarray | None = None,
    *,
    aggregates: tuple[Aggregate, ...] | None = None,
    cut_day: int | None = None,
    window: int | None = None,
) -> CustomerTotals:
    """Evaluate the per-customer aggregates on sorted transactions, block by block.

    Parameters
    ----------
    validated : ValidatedTransactions
        Sorted, validated transactions.
    rows : numpy.ndarray of bool, optional
        Sorted-row mask restricting the rows considered (e.g. a calibration
        period).
    aggregates : tuple of Aggregate, optional
        Which aggregates; default: the summary's (:func:`custintel.backends.aggregates_for`
        of the mapped roles).
    cut_day, window : int, optional
        Cutoff and trend window, for churn aggregates.

    Returns
    -------
    CustomerTotals
    """
    if aggregates is None:
        aggregates = aggregates_for(tuple(validated.columns))
    n_codes = len(validated.customers)
    values = {
        a.name: (
            np.full(n_codes, np.nan)
            if a.reduction in ("last", "max") and a.source == "gap"
            else np.zeros(n_codes, dtype=np.float64 if a.source == "quantity" else np.int64)
        )
        for a in aggregates
    }
    for agg in aggregates:
        if agg.money:
            values[agg.name] = np.zeros(n_codes)
            values[agg.name + LOW] = np.zeros(n_codes)
    totals = CustomerTotals(values=values, has_rows=np.zeros(n_codes, dtype=bool))
    sources = {a.source for a in aggregates} | {"amount"}
    if "margin" in sources:
        sources.add("cost")
    source: dict[str, np.ndarray] = {
        role: validated.columns[role].to_numpy()
        for role in ("amount", "quantity", "cost", "order_id")
        if role in sources and validated.has(role)
    }
    row_ends = np.cumsum(validated.counts)
    for lo, hi in customer_blocks(row_ends):
        positions = validated.order[lo:hi]
        codes, days = validated.customer_codes[lo:hi], validated.days[lo:hi]
        if rows is not None:
            keep = rows[lo:hi]
            positions, codes, days = positions[keep], codes[keep], days[keep]
            if len(codes) == 0:
                continue
        block = {role: values[positions] for role, values in source.items()}
        _add_block(totals, aggregates, codes, days, block, cut_day, window)
    return totals


def _add_block(
    totals: CustomerTotals,
    aggregates: tuple[Aggregate, ...],
    codes: np.ndarray,
    days: np.ndarray,
    block: dict[str, np.ndarray],
    cut_day: int | None,
    window: int | None,
) -> None:
    """Mark one block of whole customers and evaluate the aggregates into ``totals``."""
    amounts = block["amount"].astype(np.float64, copy=False)
    high, low = to_fixed(amounts)
    starts = run_starts(codes)
    present = codes[starts]
    totals.has_rows[present] = True
    limbs = {"net": high, "net" + LOW: low}
    sums: dict[str, np.ndarray] = {}
    for agg in aggregates:
        if not agg.on_all_rows:
            continue
        if agg.source == "quantity":
            totals.values[agg.name][present] = np.add.reduceat(
                block["quantity"].astype(np.float64), starts
            )
            continue
        if agg.source == "margin":
            cost_high, cost_low = to_fixed(block["cost"].astype(np.float64))
            limbs["margin"], limbs["margin" + LOW] = high - cost_high, low - cost_low
        for suffix in ("", LOW):
            sums[agg.source + suffix] = np.add.reduceat(limbs[agg.source + suffix], starts)
            totals.values[agg.name + suffix][present] = sums[agg.source + suffix]

    purchase = amounts >= 0
    if purchase.all():
        # no refund rows: the purchase rows are the rows, and spend is net
        known = {"spend": sums["net"], "spend" + LOW: sums["net" + LOW]} if "net" in sums else {}
    else:
        known = {}
        codes, days, high, low = codes[purchase], days[purchase], high[purchase], low[purchase]
        block = {role: values[purchase] for role, values in block.items()}
        if len(codes) == 0:
            return
        starts = run_starts(codes)
        present = codes[starts]

    # Rows are in (customer, day) order: a row opens an occasion when it starts its
    # customer or its day differs from the previous row's; the gap is that difference.
    gaps = np.zeros(len(codes), dtype=np.int64)
    np.subtract(days[1:], days[:-1], out=gaps[1:], casting="unsafe")
    gaps[starts] = 0
    opens = gaps != 0
    opens[starts] = True
    marked = {
        "day": days,
        "opens": opens,
        "gap": gaps,
        "spend": high,
        "spend" + LOW: low,
    }
    if "order_id" in block and any(a.source == "order_id" for a in aggregates):
        marked["order_id"] = pd.factorize(block["order_id"])[0]
    on_purchases = tuple(a for a in aggregates if not a.on_all_rows)
    reduced = reduce_marked(
        on_purchases, marked, starts, cut_day=cut_day, window=window, known=known
    )
    for name, value in reduced.items():
        totals.values[name][present] = value
