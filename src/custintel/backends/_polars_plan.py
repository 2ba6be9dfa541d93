"""Polars' own plan for the per-customer aggregates: one sort on a packed integer key.

The generic plan of :mod:`custintel.backends._features` (group by customer and
day, a window per customer ordered by day, group by customer) is what every
engine can run; in Polars its high-cardinality group-by and ordered window cost
about three times the pandas path (see ``benchmarks/bench_backends.py``). When
customer ids are integers, Polars can instead do what the pandas kernels do:
sort the rows once, by a single ``int64`` key that packs (customer, refund?,
day), and mark every row from its neighbours with global shifts and fills; one
group-by customer of plain sums, minima and maxima follows, in Polars' streaming
engine, at about the pandas path's CPU cost.

It only marks the rows (which purchase rows open an occasion, their gaps, the
first occasion's day); the aggregation is the one every engine runs,
``custintel.backends._features.aggregate_marked_rows``, generated from
``custintel.backends.CUSTOMER_AGGREGATES``. The backend tests run every
plan against the pandas path on every column.
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw

__all__ = ["DAY_BITS", "ID_BITS", "sorted_marked_rows"]

#: Bits of the day offset in the packed key (about 5,700 years of days).
DAY_BITS = 21
#: Largest span of integer customer ids the key packs (with the purchase bit and the day).
ID_BITS = 63 - DAY_BITS - 1 - 1


def sorted_marked_rows(rows: Any, *, id_min: int, day_min: int) -> Any:
    """Mark the rows for ``aggregate_marked_rows`` in Polars, from one sort by a packed key.

    Parameters
    ----------
    rows : narwhals.LazyFrame
        Canonical rows backed by a Polars LazyFrame (``customer_id``, ``day``,
        ``amount``, and any measure columns, which pass through), with integer
        ``customer_id`` values in ``[id_min, id_min + 2**ID_BITS)`` and days in
        ``[day_min, day_min + 2**DAY_BITS)``.
    id_min, day_min : int
        Smallest customer id and day number among ``rows`` (or below them).

    Returns
    -------
    narwhals.LazyFrame
        ``rows`` with ``refund``, ``opens``, ``gap`` and ``first_seen``, as
        ``custintel.backends._features.aggregate_marked_rows`` defines them.

    Notes
    -----
    Rows are sorted by ``((id - id_min) * 2 + refund) * 2**DAY_BITS + (day - day_min)``,
    so each customer's purchase rows come first, in day order, then its refund rows.
    A purchase row *follows a purchase* of the same customer when the row before it
    is one; it opens an occasion unless it follows a purchase on the same day; its gap
    is the day difference to the previous purchase row when that is a different day.
    The first occasion's day is the forward-filled day of each customer's first
    purchase row.
    """
    import polars as pl

    native = nw.to_native(rows)
    amount, day = pl.col("amount"), pl.col("day")
    refund = (amount < 0).cast(pl.Int64)
    code = pl.col("customer_id").cast(pl.Int64) - id_min
    keyed = native.with_columns(refund.alias("refund"), code.alias("__code")).with_columns(
        ((pl.col("__code") * 2 + pl.col("refund")) * (1 << DAY_BITS) + (day - day_min)).alias(
            "__key"
        )
    )
    ordered = keyed.sort("__key", maintain_order=True)
    bought = pl.col("refund") == 0
    same_code = pl.col("__code") == pl.col("__code").shift(1)
    after_purchase = (bought & same_code & (pl.col("refund").shift(1) == 0)).fill_null(False)
    previous = day.shift(1)
    marked = ordered.with_columns(
        (bought & ~(after_purchase & (day == previous))).alias("opens"),
        pl.when(after_purchase & (day != previous)).then(day - previous).alias("gap"),
        pl.when(bought & ~after_purchase).then(day).forward_fill().alias("first_seen"),
    ).drop("__code", "__key")
    return nw.from_native(marked)
