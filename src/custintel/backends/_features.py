"""The customer feature builders inside Polars, DuckDB and Spark, on narwhals' lazy API.

Every engine produces the same per-customer aggregate table (documented in
:func:`customer_table`), with the plan that suits it:

- **Spark** (and Polars with non-integer ids): group the rows by (customer, day),
  one window per customer over those days ordered by (purchase day?, day), then
  one group-by customer. The (customer, day) step pre-aggregates before any
  shuffle, which shrinks it by the lines per occasion of line-item logs.
- **DuckDB**: one window per customer over the rows themselves, ordered by
  (refund?, day), then one group-by customer (:func:`_row_table`); DuckDB's
  high-cardinality (customer, day) group-by cost as much as the window.
- **Polars with integer ids**: one sort by a packed (customer, refund?, day)
  key and global shifts, in Polars' streaming engine
  (:mod:`custintel.backends._polars_plan`).

Only the customer-level table is collected; the last arithmetic (monetary
value, gap statistics, time units, churn ratios) is the pandas path's own
(``custintel.backends._definitions``), so results agree with it to the last
bit on integers and dates and up to summation order on money. The backend
tests check every plan against the pandas path on every column.

The builders here are what :func:`custintel.backends.dispatch` runs; their
parameters and results are those of the :mod:`custintel.features` functions of
the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from custintel._validation import CleaningPolicies, to_day
from custintel.backends._definitions import (
    CHURN_ATTRIBUTES,
    CHURN_DROPPED_COLUMNS,
    add_holdout_columns,
    btyd_no_purchase,
    check_calibration_end,
    check_cutoff,
    churn_columns,
    churn_days,
    summary_columns,
    unit_days,
    warn_refund_only,
)
from custintel.backends._polars_plan import DAY_BITS, ID_BITS, sorted_marked_rows
from custintel.backends._prepare import Prepared, prepare
from custintel.schema import TransactionSchema

_ID = "customer_id"

SchemaLike = TransactionSchema | Mapping[str, str] | None


def _purchase() -> Any:
    return nw.col("amount") >= 0


def _daily(rows: Any, roles: tuple[str, ...]) -> Any:
    aggs = [
        nw.when(_purchase()).then(nw.col("amount")).otherwise(0.0).sum().alias("spend"),
        _purchase().cast(nw.Int64).sum().alias("buys"),
        nw.col("amount").sum().alias("net"),
    ]
    if "quantity" in roles:
        aggs.append(nw.col("quantity").sum().alias("qty"))
    if "cost" in roles:
        aggs.append((nw.col("amount") - nw.col("cost")).sum().alias("margin"))
    return rows.group_by(_ID, "day").agg(*aggs)


def _with_neighbours(daily: Any) -> Any:
    """Mark each purchase day's gap to the previous one, and the first and last purchase day.

    One window per customer ordered by (purchase day?, day) puts the refund-only days
    first, so among purchase days the previous and next rows are the neighbouring
    occasions; the same window serves all three shifts (one sort in every engine).
    """
    bought = nw.col("buys") > 0
    order = {"order_by": ["bought", "day"]}
    marked = daily.with_columns(bought.cast(nw.Int64).alias("bought"))
    marked = marked.with_columns(
        nw.col("day").shift(1).over(_ID, **order).alias("prev"),
        nw.col("bought").shift(1).over(_ID, **order).alias("prev_bought"),
        nw.col("day").shift(-1).over(_ID, **order).alias("next"),
    )
    after_purchase = nw.col("prev_bought").fill_null(0) == 1
    return marked.with_columns(
        nw.when(bought & after_purchase).then(nw.col("day") - nw.col("prev")).alias("gap"),
        (bought & ~after_purchase).alias("is_first"),
        (bought & nw.col("next").is_null()).alias("is_last"),
    )


#: Day numbers are packed above the gap (in days) to take the last occasion's gap with a max.
_GAP_BITS = 21


def row_columns(roles: tuple[str, ...]) -> list[str]:
    """Columns of the canonical rows that the row-level plans read."""
    return [_ID, "day", "amount", *(role for role in ("quantity", "cost") if role in roles)]


def aggregate_marked_rows(
    marked: Any, roles: tuple[str, ...], cut_day: int | None, window: int | None
) -> Any:
    """Aggregate marked rows per customer: the one definition of the row-level plans.

    Parameters
    ----------
    marked : narwhals.LazyFrame
        The rows of :func:`row_columns` with, per row: ``refund`` (1 for a
        negative amount, else 0), ``opens`` (a purchase row that opens an
        occasion: the customer's first purchase row, or one on a later day than the
        previous purchase row), ``gap`` (on a row that opens an occasion after an
        earlier one, the days since that one; else null) and ``first_seen`` (on
        purchase rows, the day of the customer's first occasion).
    roles : tuple of str
        Roles present.
    cut_day, window : int, optional
        With both given, add the churn trend and gap columns.

    Returns
    -------
    narwhals.LazyFrame
        The columns of :func:`customer_table` except ``n_distinct_orders``.

    Notes
    -----
    DuckDB marks the rows with one window (:func:`_row_table`), Polars with one
    sort by a packed key (:func:`~custintel.backends._polars_plan.sorted_marked_rows`);
    both aggregate here. The last occasion's gap is the gap of the latest day with
    a gap, the maximum of ``day * 2**21 + gap`` (gaps are under 2**21 days).
    """
    day, amount = nw.col("day"), nw.col("amount")
    bought, opens, gap = nw.col("refund") == 0, nw.col("opens"), nw.col("gap")
    aggs = [
        # DuckDB sums integers into 128 bits, which pandas holds as objects
        opens.cast(nw.Int64).sum().cast(nw.Int64).alias("n_occ"),
        nw.when(bought).then(day).min().alias("first_day"),
        nw.when(bought).then(day).max().alias("last_day"),
        nw.when(bought).then(amount).otherwise(0.0).sum().alias("total_spend"),
        nw.when(bought & (day == nw.col("first_seen")))
        .then(amount)
        .otherwise(0.0)
        .sum()
        .alias("first_spend"),
        (gap * gap).sum().cast(nw.Int64).alias("gap_sum_sq"),
        amount.sum().alias("net_amount"),
        bought.cast(nw.Int64).sum().cast(nw.Int64).alias("n_rows"),
    ]
    if "quantity" in roles:
        aggs.append(nw.col("quantity").sum().alias("net_quantity"))
    if "cost" in roles:
        aggs.append((amount - nw.col("cost")).sum().alias("net_margin"))
    churn = cut_day is not None and window is not None
    if cut_day is not None and window is not None:
        recent = bought & (day > cut_day - window)
        earlier = bought & (day > cut_day - 2 * window) & (day <= cut_day - window)
        aggs += [
            (day * (1 << _GAP_BITS) + gap).max().alias("last_gap_key"),
            gap.max().cast(nw.Float64).alias("gap_max_days"),
            (opens & recent).cast(nw.Float64).sum().alias("occasions_recent"),
            (opens & earlier).cast(nw.Float64).sum().alias("occasions_earlier"),
            nw.when(recent).then(amount).otherwise(0.0).sum().alias("spend_recent"),
            nw.when(earlier).then(amount).otherwise(0.0).sum().alias("spend_earlier"),
        ]
    table = marked.group_by(_ID).agg(*aggs)
    if churn:
        last = nw.col("last_gap_key") % (1 << _GAP_BITS)
        table = table.with_columns(last.cast(nw.Float64).alias("last_gap_days")).drop(
            "last_gap_key"
        )
    return table


def _row_table(rows: Any, roles: tuple[str, ...], cut_day: int | None, window: int | None) -> Any:
    """Mark the rows with one window per customer, then :func:`aggregate_marked_rows`.

    The window is ordered by (refund?, day), which puts the purchase rows first, in
    day order: each purchase row's previous row is the previous purchase row (or
    none), and the running minimum day is the first occasion's day. In DuckDB this
    skips the high-cardinality group-by by (customer, day); Spark keeps that group-by,
    because there it shrinks the shuffle of line-item logs (several lines per occasion).
    """
    day, amount = nw.col("day"), nw.col("amount")
    order = {"order_by": ["refund", "day"]}
    marked = rows.select(*row_columns(roles)).with_columns(
        (amount < 0).cast(nw.Int64).alias("refund")
    )
    marked = marked.with_columns(
        day.shift(1).over(_ID, **order).alias("prev"),
        nw.col("refund").shift(1).over(_ID, **order).alias("prev_refund"),
        day.cum_min().over(_ID, **order).alias("first_seen"),
    )
    bought = nw.col("refund") == 0
    after_purchase = bought & (nw.col("prev_refund").fill_null(1) == 0)
    marked = marked.with_columns(
        (bought & ~(after_purchase & (day == nw.col("prev")))).alias("opens"),
        nw.when(after_purchase & (day != nw.col("prev"))).then(day - nw.col("prev")).alias("gap"),
    )
    return aggregate_marked_rows(marked, roles, cut_day, window)


def _packed_key_bounds(prepared: Prepared | None) -> tuple[int, int] | None:
    """``(id_min, day_min)`` when Polars' sorted plan can pack the rows' keys, else ``None``."""
    if prepared is None or prepared.id_range is None:
        return None
    id_min, id_max = prepared.id_range
    fits = (
        id_max < (1 << 63)  # unsigned ids above int64 do not cast
        and id_max - id_min < (1 << ID_BITS)
        and prepared.last_day - prepared.first_day < (1 << DAY_BITS)
    )
    return (id_min, prepared.first_day) if fits else None


def customer_table(
    rows: Any,
    roles: tuple[str, ...],
    *,
    cut_day: int | None = None,
    window: int | None = None,
    prepared: Prepared | None = None,
) -> Any:
    """Build the lazy per-customer aggregate table (every customer with a row).

    Parameters
    ----------
    rows : narwhals.LazyFrame
        Canonical rows (see ``custintel.backends.Prepared``), possibly filtered.
    roles : tuple of str
        Roles present.
    cut_day, window : int, optional
        With both given, add the churn trend and gap columns.
    prepared : Prepared, optional
        What ``rows`` came from; with integer customer ids in Polars it selects
        the sort-based marking of
        :func:`~custintel.backends._polars_plan.sorted_marked_rows` (same columns).

    Returns
    -------
    narwhals.LazyFrame
        ``customer_id``, ``n_occ`` (0 without an occasion), ``first_day``,
        ``last_day``, ``first_spend``, ``total_spend``, ``gap_sum_sq``,
        ``net_amount``, ``n_rows`` (purchase rows), optional
        ``n_distinct_orders``, ``net_quantity``, ``net_margin``, and with a
        cutoff ``last_gap_days``, ``gap_max_days``, ``occasions_recent``,
        ``occasions_earlier``, ``spend_recent``, ``spend_earlier``.
    """
    bounds = _packed_key_bounds(prepared)
    if bounds is not None:
        marked = sorted_marked_rows(
            rows.select(*row_columns(roles)), id_min=bounds[0], day_min=bounds[1]
        )
        return _with_orders(aggregate_marked_rows(marked, roles, cut_day, window), rows, roles)
    if rows.implementation is nw.Implementation.DUCKDB:
        return _with_orders(_row_table(rows, roles, cut_day, window), rows, roles)
    days = _with_neighbours(_daily(rows, roles))
    bought = nw.col("buys") > 0
    gap, day = nw.col("gap"), nw.col("day")
    aggs = [
        nw.col("bought").sum().alias("n_occ"),
        nw.when(bought).then(day).min().alias("first_day"),
        nw.when(bought).then(day).max().alias("last_day"),
        nw.col("spend").sum().alias("total_spend"),
        nw.when(nw.col("is_first")).then(nw.col("spend")).otherwise(0.0).sum().alias("first_spend"),
        (gap * gap).sum().alias("gap_sum_sq"),
        nw.col("net").sum().alias("net_amount"),
        nw.col("buys").sum().alias("n_rows"),
    ]
    if "quantity" in roles:
        aggs.append(nw.col("qty").sum().alias("net_quantity"))
    if "cost" in roles:
        aggs.append(nw.col("margin").sum().alias("net_margin"))
    if cut_day is not None and window is not None:
        recent = bought & (day > cut_day - window)
        earlier = bought & (day > cut_day - 2 * window) & (day <= cut_day - window)
        aggs += [
            nw.when(nw.col("is_last")).then(gap).max().alias("last_gap_days"),
            gap.max().alias("gap_max_days"),
            recent.cast(nw.Float64).sum().alias("occasions_recent"),
            earlier.cast(nw.Float64).sum().alias("occasions_earlier"),
            nw.when(recent).then(nw.col("spend")).otherwise(0.0).sum().alias("spend_recent"),
            nw.when(earlier).then(nw.col("spend")).otherwise(0.0).sum().alias("spend_earlier"),
        ]
    return _with_orders(days.group_by(_ID).agg(*aggs), rows, roles)


def _with_orders(table: Any, rows: Any, roles: tuple[str, ...]) -> Any:
    """Join the distinct purchase orders per customer, when order ids are mapped."""
    if "order_id" not in roles:
        return table
    orders = (
        rows.filter(_purchase())
        .group_by(_ID)
        .agg(nw.col("order_id").n_unique().alias("n_distinct_orders"))
    )
    return table.join(orders, on=_ID, how="left")


def collect_customers(table: Any) -> pd.DataFrame:
    """Collect a customer-level lazy table into pandas, sorted by customer id.

    Polars runs the plan in its streaming engine, whose hash group-bys cost about
    half the CPU of the in-memory engine's on large logs. Polars and DuckDB sort
    the customers in the engine (in parallel), which leaves pandas' stable sort a
    check of already sorted rows; Spark is not asked for a global sort (one more
    shuffle), pandas sorts what it collects.
    """
    implementation = table.implementation
    if implementation is nw.Implementation.POLARS:
        frame = table.sort(_ID).collect(engine="streaming").to_pandas()
    elif implementation is nw.Implementation.DUCKDB:
        frame = table.sort(_ID).collect().to_pandas()
    else:
        frame = table.collect().to_pandas()
    return frame.sort_values(_ID, kind="stable", ignore_index=True)


def _ints(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=np.int64, na_value=0)


def _floats(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _customer_index(ids: pd.Series) -> pd.Index:
    return pd.Index(ids.to_numpy(), name=_ID)


def finish_summary(
    table: pd.DataFrame, roles: tuple[str, ...], end: int, scale: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn collected aggregates into the summary columns, exactly as the pandas path does.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`collect_customers`.
    roles : tuple of str
        Roles present.
    end : int
        Observation end (day number).
    scale : float
        Days per time unit.

    Returns
    -------
    summary : pandas.DataFrame
        The summary (customers with an occasion), like
        :func:`custintel.features.summarize_customers`.
    present : pandas.DataFrame
        The rows of ``table`` behind ``summary``, same order.
    """
    has_occasion = _ints(table["n_occ"]) > 0
    warn_refund_only(int((~has_occasion).sum()))
    present = table.loc[has_occasion].reset_index(drop=True)
    columns = summary_columns(
        n_occasions=_ints(present["n_occ"]),
        first_day=_ints(present["first_day"]),
        last_day=_ints(present["last_day"]),
        first_spend=_floats(present["first_spend"]),
        total_spend=_floats(present["total_spend"]),
        gap_sum_sq=_ints(present["gap_sum_sq"]),
        n_orders=_ints(present["n_distinct_orders" if "order_id" in roles else "n_rows"]),
        net_amount=_floats(present["net_amount"]),
        net_quantity=_floats(present["net_quantity"]) if "quantity" in roles else None,
        net_margin=_floats(present["net_margin"]) if "cost" in roles else None,
        end=end,
        scale=scale,
    )
    summary = pd.DataFrame(columns, index=_customer_index(present[_ID]), copy=False)
    return summary, present


def _day_string(day: int) -> str:
    return str(np.datetime64(day, "D"))


def summarize_customers(
    tx: Any, schema: SchemaLike, *, policies: CleaningPolicies, time_unit: str
) -> pd.DataFrame:
    """Run :func:`custintel.features.summarize_customers` inside the frame's engine.

    Same parameters and result as the pandas function, with its cleaning policies
    in ``policies``.
    """
    scale = unit_days(time_unit)
    prepared = prepare(tx, schema, policies)
    table = collect_customers(customer_table(prepared.rows, prepared.roles, prepared=prepared))
    summary, _ = finish_summary(table, prepared.roles, prepared.end_day, scale)
    summary.attrs.update({"observation_end": _day_string(prepared.end_day), "time_unit": time_unit})
    return summary


def calibration_holdout_split(
    tx: Any, schema: SchemaLike, *, policies: CleaningPolicies, calibration_end: Any, time_unit: str
) -> pd.DataFrame:
    """Run :func:`custintel.features.calibration_holdout_split` inside the frame's engine.

    Same parameters and result as the pandas function (policies as in
    :func:`summarize_customers`); the holdout is one more aggregate over the rows
    after ``calibration_end``.
    """
    scale = unit_days(time_unit)
    prepared = prepare(tx, schema, policies)
    calibration_day = to_day(calibration_end, "calibration_end")
    check_calibration_end(calibration_day, prepared.first_day, prepared.end_day)
    cal = int(calibration_day.astype(np.int64))
    rows = prepared.rows
    calibration = customer_table(
        rows.filter(nw.col("day") <= cal), prepared.roles, prepared=prepared
    )
    holdout = (
        rows.filter((nw.col("day") > cal) & _purchase())
        .group_by(_ID, "day")
        .agg(nw.col("amount").sum().alias("spend"))
        .group_by(_ID)
        .agg(nw.len().alias("holdout_n"), nw.col("spend").sum().alias("holdout_spend"))
    )
    table = collect_customers(calibration.join(holdout, on=_ID, how="left"))
    summary, present = finish_summary(table, prepared.roles, cal, scale)
    count, spend = _ints(present["holdout_n"]), _floats(present["holdout_spend"])
    end = prepared.end_day
    add_holdout_columns(
        summary, count, spend, calibration_end=cal, observation_end=end, time_unit=time_unit
    )
    return summary


def _attribute_table(rows: Any, role: str) -> Any:
    """Most frequent non-null value per customer; ties go to the value that sorts first."""
    counted = (
        rows.filter(~nw.col(role).is_null())
        .group_by(_ID, role)
        .agg(nw.len().alias("n"))
        .with_columns(nw.col("n").max().over(_ID).alias("best"))
    )
    return (
        counted.filter(nw.col("n") == nw.col("best"))
        .group_by(_ID)
        .agg(nw.col(role).min().alias(f"attr_{role}"))
    )


def churn_table(
    rows: Any,
    roles: tuple[str, ...],
    *,
    cut_day: int,
    window: int,
    prepared: Prepared | None = None,
) -> Any:
    """Build the lazy per-customer aggregates behind the churn features at a cutoff.

    Parameters
    ----------
    rows : narwhals.LazyFrame
        Canonical rows on or before the cutoff (``custintel.backends.Prepared.rows``).
    roles : tuple of str
        Roles present.
    cut_day : int
        The cutoff as a day number.
    window : int
        Length in days of the "recent" and "earlier" trend windows.
    prepared : Prepared, optional
        What ``rows`` came from (see :func:`customer_table`).

    Returns
    -------
    narwhals.LazyFrame
        The columns of :func:`customer_table` with the churn columns, plus
        ``attr_<role>`` (the most frequent value) for each mapped role of
        :data:`~custintel.backends.CHURN_ATTRIBUTES`.
    """
    table = customer_table(rows, roles, cut_day=cut_day, window=window, prepared=prepared)
    for role in CHURN_ATTRIBUTES:
        if role in roles:
            table = table.join(_attribute_table(rows, role), on=_ID, how="left")
    return table


def churn_rows(
    table: pd.DataFrame, roles: tuple[str, ...], cut_day: int, *, min_history: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Finish collected churn aggregates into summary and churn feature rows.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`churn_table`, collected and sorted by customer id.
    roles : tuple of str
        Roles present.
    cut_day : int
        The cutoff as a day number.
    min_history : int, default=0
        Keep customers with ``tenure_days >= min_history``.

    Returns
    -------
    rows : pandas.DataFrame
        Indexed by ``customer_id``: every summary column (in days, dates
        included), the churn columns and the categorical attributes, as
        ``make_churn_dataset`` defines them.
    present : pandas.DataFrame
        The rows of ``table`` behind ``rows``, same order.
    """
    summary, present = finish_summary(table, roles, cut_day, 1.0)
    keep = summary["tenure_days"].to_numpy() >= min_history
    summary = summary.loc[keep]
    present = present.loc[keep].reset_index(drop=True)
    rows = summary.join(churn_columns(summary, present, _floats(present["total_spend"])))
    for role in CHURN_ATTRIBUTES:
        if role in roles:
            values = present[f"attr_{role}"].to_numpy(dtype=object)
            known = sorted({v for v in values if not pd.isna(v)})
            rows[role] = pd.Categorical(values, categories=pd.Index(known))
    return rows, present


def make_churn_dataset(
    tx: Any,
    schema: SchemaLike,
    *,
    policies: CleaningPolicies,
    cutoff: Any,
    horizon: int,
    min_history: int,
    window: int | None,
    btyd: Any,
) -> tuple[pd.DataFrame, pd.Series]:
    """Run :func:`custintel.features.make_churn_dataset` inside the frame's engine.

    Same parameters and result as the pandas function (policies as in
    :func:`summarize_customers`); ``btyd`` is fitted on the collected customer rows.
    """
    horizon_days, window_days = churn_days(horizon, window, min_history)
    prepared = prepare(tx, schema, policies)
    cut = to_day(cutoff, "cutoff")
    cut_day = int(cut.astype(np.int64))
    check_cutoff(cut, cut_day, prepared.first_day, prepared.last_day, horizon_days)

    rows, roles = prepared.rows, prepared.roles
    table = churn_table(
        rows.filter(nw.col("day") <= cut_day),
        roles,
        cut_day=cut_day,
        window=window_days,
        prepared=prepared,
    )
    in_window = (nw.col("day") > cut_day) & (nw.col("day") <= cut_day + horizon_days)
    buyers = rows.filter(in_window & _purchase()).group_by(_ID).agg(nw.len().alias("label_buys"))
    table = collect_customers(table.join(buyers, on=_ID, how="left"))

    features, present = churn_rows(table, roles, cut_day, min_history=min_history)
    if features.empty:
        raise ValueError(
            f"no customer has a purchase at least min_history={min_history} days before the "
            f"cutoff {cut}; pass a later cutoff or a smaller min_history"
        )
    X = features.drop(columns=list(CHURN_DROPPED_COLUMNS))
    if btyd is not None:
        X["p_no_purchase"] = btyd_no_purchase(btyd, X, horizon_days)
    bought = present["label_buys"].notna().to_numpy()
    y = pd.Series((~bought).astype(np.int64), index=X.index.copy(), name="churn")
    X.attrs.update({"cutoff": str(cut), "horizon": horizon_days, "window": window_days})
    return X, y
