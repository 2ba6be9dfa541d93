"""The per-customer aggregates behind every feature builder, declared once for every engine.

Every customer column of :func:`~custintel.features.summarize_customers`,
:func:`~custintel.features.calibration_holdout_split` and
:func:`~custintel.features.make_churn_dataset` is arithmetic
(``custintel.backends._definitions``) on a few per-customer aggregates. Those
aggregates are the rows of :data:`CUSTOMER_AGGREGATES`: a name, a reduction,
the source column it reads and the rows it keeps. Two evaluators read that one
table:

- :func:`reduce_marked` runs it with sort-based numpy kernels (the pandas path);
- ``custintel.backends._features`` turns each row into a narwhals expression
  (Polars, DuckDB, Spark).

Both evaluate the same rows, *marked rows*, built from the transactions:

``customer_id``, ``day``
    The customer and the calendar day (days since 1970-01-01).
``refund``
    1 when the row has no purchase (a negative amount, or in engines that
    group rows by (customer, day) first, a day with only refunds), else 0.
``opens``
    The row opens a purchase occasion: the customer's first purchase row of its day.
``gap``
    On a row that opens an occasion after an earlier one, the days since that
    one; null (numpy: 0 with ``has_gap`` false) elsewhere.
``first_seen``
    On purchase rows, the day of the customer's first occasion.
``spend``, ``net``, ``margin``
    Money as two integer-valued limbs (:func:`to_fixed`; the low limb's
    column ends in ``_lo``): the purchase amount (0 on refund rows), the amount (refunds
    negative) and amount minus cost.
``buys``
    Purchase rows (1 or 0 per row; engines that group by day first sum it).
``quantity``
    The quantity.

Money is summed exactly, as two integer-valued limbs, and turned back into a
float once per customer, so a sum does not depend on row order: every engine
returns the same float to the last bit, whatever order its group-by adds in (a
tree model's threshold can sit exactly on a sum). Unlike rounding to cents or
micro-units, the limbs keep every bit of an amount of 1 or more (smaller ones
to 2**-53). Sums of integers below 2**53 are exact in floating point too, so
the limbs are summed as floats: exact while a customer's money stays within
±2**33 (8.6 billion) and its rows below 2**21; beyond that a sum rounds, as a
plain float sum would.

Adding a feature aggregate is adding one :class:`Aggregate` row here; the
backend tests compare every engine with pandas on every column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "CUSTOMER_AGGREGATES",
    "GAP_BITS",
    "HIGH_BITS",
    "HOLDOUT_AGGREGATES",
    "LOW",
    "LOW_BITS",
    "Aggregate",
    "aggregates_for",
    "from_fixed",
    "reduce_marked",
    "to_fixed",
]

#: Money is summed as two limbs, in units of 2**-HIGH_BITS and 2**-(HIGH_BITS + LOW_BITS).
HIGH_BITS = 20
#: Low limbs are at most 2**LOW_BITS: 2**21 rows of a customer sum exactly.
LOW_BITS = 32
#: Suffix of the low limb's column of a money aggregate.
LOW = "_lo"
_CHUNK = 1 << 15
#: A "last" aggregate packs the day above its value (values below 2**GAP_BITS).
GAP_BITS = 21

Reduction = Literal["sum", "min", "max", "last", "sum_sq", "n_unique"]
RowFilter = Literal["all", "purchase", "first_occasion", "recent", "earlier"]


@dataclass(frozen=True)
class Aggregate:
    """One per-customer aggregate: ``reduction`` of ``source`` over the rows ``rows`` keeps.

    Attributes
    ----------
    name : str
        Column of the per-customer table.
    reduction : {"sum", "min", "max", "last", "sum_sq", "n_unique"}
        ``last`` is the value on the latest day that has one (null without
        any); ``sum_sq`` sums squares; ``n_unique`` counts distinct non-null values.
    source : str
        Marked-row column read (see the module docstring), or ``"order_id"``.
    rows : {"all", "purchase", "first_occasion", "recent", "earlier"}, default="all"
        Rows kept: every row; purchase rows; purchase rows on the first
        occasion's day; purchase rows in the trend windows
        ``(cut - window, cut]`` and ``(cut - 2 window, cut - window]``.
    role : str, optional
        Computed only when this role is mapped.
    churn : bool, default=False
        Computed only for the churn features (needs a cutoff and a window).

    Examples
    --------
    >>> spend = Aggregate("spend_recent", "sum", "spend", rows="recent", churn=True)
    >>> spend.money, spend.on_all_rows
    (True, False)
    """

    name: str
    reduction: Reduction
    source: str
    rows: RowFilter = "all"
    role: str | None = None
    churn: bool = False

    @property
    def money(self) -> bool:
        """Whether the aggregate is a money sum, two limbs (:func:`from_fixed` turns it back)."""
        return self.source in _MONEY_SOURCES

    @property
    def on_all_rows(self) -> bool:
        """Whether refund rows count (the source is not zero or null on them)."""
        return self.rows == "all" and self.source in _REFUND_SOURCES


_MONEY_SOURCES = frozenset({"spend", "net", "margin"})
#: Sources that are not zero or null on refund rows.
_REFUND_SOURCES = frozenset({"net", "margin", "quantity"})

#: Every per-customer aggregate of the feature builders, in the table's column order.
CUSTOMER_AGGREGATES: tuple[Aggregate, ...] = (
    Aggregate("n_occ", "sum", "opens"),
    Aggregate("first_day", "min", "day", rows="purchase"),
    Aggregate("last_day", "max", "day", rows="purchase"),
    Aggregate("total_spend", "sum", "spend"),
    Aggregate("first_spend", "sum", "spend", rows="first_occasion"),
    Aggregate("gap_sum_sq", "sum_sq", "gap"),
    Aggregate("net_amount", "sum", "net"),
    Aggregate("n_rows", "sum", "buys"),
    Aggregate("n_distinct_orders", "n_unique", "order_id", rows="purchase", role="order_id"),
    Aggregate("net_quantity", "sum", "quantity", role="quantity"),
    Aggregate("net_margin", "sum", "margin", role="cost"),
    Aggregate("last_gap_days", "last", "gap", churn=True),
    Aggregate("gap_max_days", "max", "gap", churn=True),
    Aggregate("occasions_recent", "sum", "opens", rows="recent", churn=True),
    Aggregate("occasions_earlier", "sum", "opens", rows="earlier", churn=True),
    Aggregate("spend_recent", "sum", "spend", rows="recent", churn=True),
    Aggregate("spend_earlier", "sum", "spend", rows="earlier", churn=True),
)


#: The holdout aggregates of ``calibration_holdout_split``: occasions and their spend.
HOLDOUT_AGGREGATES: tuple[Aggregate, ...] = tuple(
    a for a in CUSTOMER_AGGREGATES if a.name in ("n_occ", "total_spend")
)


def aggregates_for(
    roles: tuple[str, ...] | frozenset[str], *, churn: bool = False
) -> tuple[Aggregate, ...]:
    """Return the rows of :data:`CUSTOMER_AGGREGATES` that apply to a log with ``roles``.

    Parameters
    ----------
    roles : tuple of str
        Roles mapped in the log.
    churn : bool, default=False
        Include the churn aggregates.

    Returns
    -------
    tuple of Aggregate

    Examples
    --------
    >>> [a.name for a in aggregates_for(("amount",))][:3]
    ['n_occ', 'first_day', 'last_day']
    >>> len(aggregates_for(("amount", "order_id"), churn=True))
    15
    """
    return tuple(
        a
        for a in CUSTOMER_AGGREGATES
        if (a.role is None or a.role in roles) and (churn or not a.churn)
    )


def to_fixed(amounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split money into two integer-valued limbs whose sums are exact, as every engine does.

    ``high = floor(amount * 2**20)`` and
    ``low = floor((amount * 2**20 - high) * 2**32 + 0.5)``, in units of 2**-20
    and 2**-52. Each step is a single IEEE operation, so every engine computes
    the same limbs; for ``|amount| >= 1`` they hold it exactly, below that to 2**-53.

    Parameters
    ----------
    amounts : numpy.ndarray
        Finite amounts.

    Returns
    -------
    high, low : numpy.ndarray of float64
        Integer-valued.

    Examples
    --------
    >>> high, low = to_fixed(np.array([0.1, -2.5]))
    >>> from_fixed(high, low).tolist()
    [0.1, -2.5]
    """
    high = np.multiply(amounts, float(1 << HIGH_BITS), dtype=np.float64)
    low = np.empty_like(high)
    # in chunks that stay in cache: five passes over each
    for lo in range(0, len(high), _CHUNK):
        scaled, part = high[lo : lo + _CHUNK], low[lo : lo + _CHUNK]
        np.floor(scaled, out=part)
        np.subtract(scaled, part, out=part)  # the fraction, exactly
        np.floor(scaled, out=scaled)
        part *= float(1 << LOW_BITS)
        part += 0.5
        np.floor(part, out=part)
    return high, low


def from_fixed(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Turn sums of the limbs of :func:`to_fixed` back into money (one rounding).

    Examples
    --------
    >>> high, low = to_fixed(np.array([0.1, 0.2]))
    >>> float(from_fixed(high.sum(keepdims=True), low.sum(keepdims=True))[0])
    0.3
    """
    high = np.asarray(high, dtype=np.float64)
    low = np.asarray(low, dtype=np.float64)
    return high / float(1 << HIGH_BITS) + low / float(1 << (HIGH_BITS + LOW_BITS))


def reduce_marked(
    aggregates: tuple[Aggregate, ...],
    marked: dict[str, np.ndarray],
    starts: np.ndarray,
    *,
    cut_day: int | None = None,
    window: int | None = None,
    known: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Evaluate aggregates on marked numpy rows grouped by customer (the pandas path).

    Parameters
    ----------
    aggregates : tuple of Aggregate
        What to compute; none may be :attr:`Aggregate.on_all_rows`.
    marked : dict of str to numpy.ndarray
        The *purchase* rows of whole customers, sorted by customer then day,
        as marked-row columns (``day``, ``opens``, ``gap``, 0 where a row has
        none, ``spend`` and ``spend_lo``; ``order_id`` codes, -1 for a missing one,
        when an aggregate counts them). ``buys`` may be left out (one per row).
    starts : numpy.ndarray
        Start of each customer's run of rows.
    cut_day, window : int, optional
        Cutoff and trend window of the churn aggregates.
    known : dict of str to numpy.ndarray, optional
        Per-customer sums of marked columns over all the rows, by column, that
        the caller already has (e.g. ``spend`` when no row is a refund).

    Returns
    -------
    dict of str to numpy.ndarray
        One value per customer run. Sums of ``opens`` and ``buys`` are
        ``int64``, of money float64 (two limbs, the low one's ending in ``_lo``);
        ``last`` and ``max`` of ``gap`` are float with NaN where no gap exists.

    Notes
    -----
    Rows are in day order within a customer, so the first occasion's rows
    lead each run (one ``reduceat`` over their bounds), minima and maxima of
    the day are the first and last row, and only the trend windows need
    masks. Sums of integers (and of integer-valued limbs) are exact in any order.

    Examples
    --------
    Two customers: the first buys on day 10 (two rows) and day 15, the second on day 3.

    >>> high, low = to_fixed(np.array([2.0, 3.0, 4.0, 1.5]))
    >>> marked = {
    ...     "day": np.array([10, 10, 15, 3]),
    ...     "opens": np.array([True, False, True, True]),
    ...     "gap": np.array([0, 0, 5, 0]),
    ...     "spend": high,
    ...     "spend_lo": low,
    ... }
    >>> wanted = tuple(a for a in aggregates_for(("amount",)) if not a.on_all_rows)
    >>> out = reduce_marked(wanted, marked, np.array([0, 3]))
    >>> out["n_occ"].tolist(), out["gap_sum_sq"].tolist(), out["n_rows"].tolist()
    ([2, 1], [25, 0], [3, 1])
    >>> from_fixed(out["first_spend"], out["first_spend_lo"]).tolist()
    [5.0, 1.5]
    """
    out: dict[str, np.ndarray] = {}
    day = marked["day"]
    ends = np.append(starts[1:], len(day))
    # customer totals already known (e.g. spend when no row is a refund), by source
    totals: dict[str, np.ndarray] = dict(known or {})
    totals["opens"] = n_occ = np.add.reduceat(marked["opens"], starts, dtype=np.int64)

    def total(source: str) -> np.ndarray:
        if source not in totals:
            totals[source] = np.add.reduceat(marked[source], starts)
        return totals[source]

    first_bounds: np.ndarray | None = None
    if any(a.rows == "first_occasion" for a in aggregates):
        # the first occasion's rows end where the second occasion starts
        open_rows = np.flatnonzero(marked["opens"])
        first_open = np.cumsum(n_occ) - n_occ  # each customer's first row opens one
        second = open_rows[np.minimum(first_open + 1, len(open_rows) - 1)]
        first_bounds = np.empty(2 * len(starts), dtype=np.int64)
        first_bounds[0::2] = starts
        first_bounds[1::2] = np.where(n_occ > 1, second, np.minimum(ends, len(day) - 1))
    masks: dict[str, np.ndarray] = {}
    if cut_day is not None and window is not None:
        masks["recent"] = day > cut_day - window
        masks["earlier"] = (day > cut_day - 2 * window) & (day <= cut_day - window)
    for agg in aggregates:
        if agg.on_all_rows:
            raise ValueError(f"{agg.name} reads refund rows; sum it over all rows")
        if agg.reduction == "n_unique":
            out[agg.name] = _count_distinct(marked[agg.source], starts)
            continue
        if agg.source == "buys" and "buys" not in marked:  # one per purchase row
            out[agg.name] = (ends - starts).astype(np.int64)
            continue
        sources = [agg.source, agg.source + LOW] if agg.money else [agg.source]
        names = [agg.name, agg.name + LOW] if agg.money else [agg.name]
        if agg.reduction == "sum" and agg.rows in ("all", "purchase"):
            for name, source in zip(names, sources, strict=True):
                out[name] = total(source)
            continue
        if agg.reduction == "sum" and agg.rows == "first_occasion" and first_bounds is not None:
            for name, source in zip(names, sources, strict=True):
                leading = np.add.reduceat(marked[source], first_bounds)[0::2]
                out[name] = np.where(n_occ > 1, leading, total(source))
            continue
        if agg.reduction == "sum":
            for name, source in zip(names, sources, strict=True):
                kept = np.where(masks[agg.rows], marked[source], 0)
                out[name] = np.add.reduceat(kept, starts)
            continue
        if agg.reduction == "sum_sq" and agg.rows == "all":
            values = marked[agg.source]  # zero where there is no gap
            out[agg.name] = np.add.reduceat(values * values, starts, dtype=np.int64)
            continue
        if agg.reduction in ("min", "max") and agg.source == "day" and agg.rows != "all":
            out[agg.name] = day[starts] if agg.reduction == "min" else day[ends - 1]
            continue
        if agg.reduction in ("max", "last") and agg.source == "gap" and agg.rows == "all":
            values = marked["gap"]  # 0 on rows without a gap
            if agg.reduction == "max":
                key = values
            else:
                key = day.astype(np.int64) * (1 << GAP_BITS) + values
            best = np.maximum.reduceat(np.where(values != 0, key, -1), starts)
            if agg.reduction == "last":
                best = np.where(best >= 0, best % (1 << GAP_BITS), -1)
            out[agg.name] = np.where(best >= 0, best, np.nan)
            continue
        raise ValueError(  # pragma: no cover - every row of the table is handled above
            f"no numpy kernel for {agg.reduction} of {agg.source} over {agg.rows} ({agg.name})"
        )
    return out


def _count_distinct(codes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Distinct non-negative ``codes`` per customer run (an order belongs to one customer)."""
    known = codes >= 0
    if not known.any():
        return np.zeros(len(starts), dtype=np.int64)
    customer_of_code = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
    run = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(codes))))
    customer_of_code[codes[known]] = run[known]
    seen = customer_of_code[customer_of_code >= 0]
    return np.bincount(seen, minlength=len(starts)).astype(np.int64)
