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

    A purchase occasion is a customer-day with at least one non-negative
    amount; its spend is the sum of those amounts. Customers without an
    occasion in the rows considered have ``n_occasions == 0``.

    Attributes
    ----------
    n_occasions : numpy.ndarray
        Purchase occasions.
    first_day, last_day : numpy.ndarray
        Day number (days since 1970-01-01) of the first and last occasion.
    first_spend, total_spend : numpy.ndarray
        Spend of the first occasion and of all occasions.
    gap_sum_sq : numpy.ndarray
        Sum of squared days between consecutive occasions.
    has_rows : numpy.ndarray
        Whether the customer has any row (purchase or refund).
    net_amount : numpy.ndarray
        Sum of all amounts, refunds included.
    n_orders : numpy.ndarray
        Distinct orders with a purchase row, or purchase rows without order ids.
    net_quantity, net_margin : numpy.ndarray or None
        Sums of quantity and of amount minus cost, when those roles are mapped.
    """

    n_occasions: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    first_spend: np.ndarray
    total_spend: np.ndarray
    gap_sum_sq: np.ndarray
    has_rows: np.ndarray
    net_amount: np.ndarray
    n_orders: np.ndarray
    net_quantity: np.ndarray | None
    net_margin: np.ndarray | None


def customer_totals(
    validated: ValidatedTransactions, rows: np.ndarray | None = None
) -> CustomerTotals:
    """Aggregate sorted transactions per customer, block by block.

    Parameters
    ----------
    validated : ValidatedTransactions
        Sorted, validated transactions.
    rows : numpy.ndarray of bool, optional
        Sorted-row mask restricting the rows considered (e.g. a calibration
        period).

    Returns
    -------
    CustomerTotals
    """
    n_codes = len(validated.customers)
    int_zeros, float_zeros = np.zeros(n_codes, dtype=np.int64), np.zeros(n_codes)
    totals = CustomerTotals(
        n_occasions=int_zeros.copy(),
        first_day=int_zeros.copy(),
        last_day=int_zeros.copy(),
        first_spend=float_zeros.copy(),
        total_spend=float_zeros.copy(),
        gap_sum_sq=float_zeros.copy(),
        has_rows=np.zeros(n_codes, dtype=bool),
        net_amount=float_zeros.copy(),
        n_orders=int_zeros.copy(),
        net_quantity=float_zeros.copy() if validated.has("quantity") else None,
        net_margin=float_zeros.copy() if validated.has("cost") else None,
    )
    source = {
        role: validated.columns[role].to_numpy()
        for role in ("amount", "quantity", "cost", "order_id")
        if validated.has(role)
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
        _add_block(totals, codes, days, block)
    return totals


def _add_block(
    totals: CustomerTotals, codes: np.ndarray, days: np.ndarray, block: dict[str, np.ndarray]
) -> None:
    """Aggregate one block of whole customers into ``totals`` (by customer code)."""
    amounts = block["amount"].astype(np.float64, copy=False)
    starts = run_starts(codes)
    present = codes[starts]
    totals.has_rows[present] = True
    totals.net_amount[present] = np.add.reduceat(amounts, starts)
    if totals.net_quantity is not None:
        totals.net_quantity[present] = np.add.reduceat(block["quantity"].astype(np.float64), starts)
    if totals.net_margin is not None:
        totals.net_margin[present] = np.add.reduceat(amounts - block["cost"], starts)

    purchase = amounts >= 0
    if not purchase.all():
        codes, days, amounts = codes[purchase], days[purchase], amounts[purchase]
        block = {role: values[purchase] for role, values in block.items()}
        if len(codes) == 0:
            return
        starts = run_starts(codes)
        present = codes[starts]
    ends = np.append(starts[1:], len(codes))

    # A row opens an occasion when its day differs from the previous row's,
    # or when it is the customer's first row.
    opens = np.empty(len(codes), dtype=bool)
    opens[0] = True
    np.not_equal(days[1:], days[:-1], out=opens[1:])
    opens[starts] = True
    n_occasions = np.add.reduceat(opens, starts, dtype=np.int64)
    total_spend = np.add.reduceat(amounts, starts)
    first_day, last_day = days[starts], days[ends - 1]

    # Spend of the first occasion: the customer's leading rows on their first day.
    first_rows = np.add.reduceat(
        days == np.repeat(first_day, ends - starts), starts, dtype=np.int64
    )
    bounds = np.empty(2 * len(starts), dtype=np.int64)
    bounds[0::2] = starts
    bounds[1::2] = np.minimum(starts + first_rows, len(codes) - 1)
    first_spend = np.where(n_occasions > 1, np.add.reduceat(amounts, bounds)[0::2], total_spend)

    # Squared gaps between consecutive rows of a customer; rows of one day add 0.
    gaps = np.zeros(len(codes), dtype=np.int64)
    np.subtract(days[1:], days[:-1], out=gaps[:-1], casting="unsafe")
    gaps[ends - 1] = 0  # no gap across customers (nor after the last row)

    totals.n_occasions[present] = n_occasions
    totals.first_day[present] = first_day
    totals.last_day[present] = last_day
    totals.first_spend[present] = first_spend
    totals.total_spend[present] = total_spend
    totals.gap_sum_sq[present] = np.add.reduceat(gaps * gaps, starts)
    if "order_id" in block:
        order_codes, _ = pd.factorize(block["order_id"])
        customer_of_order = np.empty(order_codes.max() + 1, dtype=np.int64)
        customer_of_order[order_codes] = codes  # validated: an order has one customer
        totals.n_orders[present] = np.bincount(customer_of_order, minlength=present.max() + 1)[
            present
        ]
    else:
        totals.n_orders[present] = ends - starts
