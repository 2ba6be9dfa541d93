"""The customer feature builders inside Polars, DuckDB and Spark, on narwhals' lazy API.

The per-customer aggregates are not written here: each row of
:data:`~custintel.backends.CUSTOMER_AGGREGATES` becomes a narwhals expression
(:func:`aggregate_expressions`) over *marked rows*, which each engine builds
with the plan that suits it (:func:`marked_rows`):

- **Spark** (and Polars with non-integer ids): group the rows by (customer, day),
  then one window per customer over those days ordered by (refund?, day). The
  (customer, day) step pre-aggregates before any shuffle, which shrinks it by
  the lines per occasion of line-item logs.
- **DuckDB**: the same window over the rows themselves; DuckDB's
  high-cardinality (customer, day) group-by cost as much as the window.
- **Polars with integer ids**: one sort by a packed (customer, refund?, day)
  key and global shifts, in Polars' streaming engine
  (:mod:`custintel.backends._polars_plan`).

Then one group-by customer evaluates the table. Only the customer-level table
is collected; the last arithmetic (monetary value, gap statistics, time units,
churn ratios) is the pandas path's own (``custintel.backends._definitions``).
Money is summed as exact integer limbs, so results agree with the pandas path
to the last bit on every column. The backend tests check every plan against
the pandas path on every column.

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
from custintel.backends._aggregates import (
    GAP_BITS,
    HIGH_BITS,
    HOLDOUT_AGGREGATES,
    LOW,
    LOW_BITS,
    Aggregate,
    aggregates_for,
)
from custintel.backends._definitions import (
    CHURN_ATTRIBUTES,
    CHURN_DROPPED_COLUMNS,
    add_holdout_columns,
    btyd_no_purchase,
    check_calibration_end,
    check_cutoff,
    churn_columns,
    churn_days,
    collected_attribute,
    money,
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


def _limbs(value: Any) -> tuple[Any, Any]:
    """Money as the two limbs of :func:`~custintel.backends.to_fixed`, in the engine."""
    scaled = value * float(1 << HIGH_BITS)
    high = scaled.floor()
    low = ((scaled - high) * float(1 << LOW_BITS) + 0.5).floor()
    return high.cast(nw.Float64), low.cast(nw.Float64)


def _row_columns(roles: tuple[str, ...]) -> list[str]:
    """Columns of the canonical rows that the aggregates read."""
    return [_ID, "day", "amount", *(role for role in ("quantity", "cost") if role in roles)]


def _with_measures(frame: Any, roles: tuple[str, ...]) -> Any:
    """Add the marked-row measures to rows: money limbs and ``buys``.

    ``spend`` is the purchase amount (0 on refund rows), ``net`` the amount and
    ``margin`` amount minus cost (limb by limb, as the numpy kernels subtract them).
    The row-level plans add them after marking, so the sort or window does not
    carry them.
    """
    bought = _purchase()
    high, low = _limbs(nw.col("amount"))
    columns = [
        nw.when(bought).then(high).otherwise(0.0).alias("spend"),
        nw.when(bought).then(low).otherwise(0.0).alias("spend" + LOW),
        high.alias("net"),
        low.alias("net" + LOW),
        bought.cast(nw.Int64).alias("buys"),
    ]
    if "cost" in roles:
        cost_high, cost_low = _limbs(nw.col("cost"))
        columns += [(high - cost_high).alias("margin"), (low - cost_low).alias("margin" + LOW)]
    return frame.with_columns(*columns)


def _measure_columns(roles: tuple[str, ...]) -> list[str]:
    money = ["spend", "net", *(["margin"] if "cost" in roles else [])]
    return [
        *(name + suffix for name in money for suffix in ("", LOW)),
        "buys",
        *(["quantity"] if "quantity" in roles else []),
    ]


def _daily(rows: Any, roles: tuple[str, ...]) -> Any:
    """Sum the measures per (customer, day); a day without a purchase row is a refund row."""
    daily = (
        _with_measures(rows.select(*_row_columns(roles)), roles)
        .group_by(_ID, "day")
        .agg(*(nw.col(name).sum() for name in _measure_columns(roles)))
    )
    return daily.with_columns((nw.col("buys") == 0).cast(nw.Int64).alias("refund"))


def _window_marked(rows: Any) -> Any:
    """Mark rows (or (customer, day) rows) with one window per customer.

    The window is ordered by (refund?, day), which puts the purchase rows first, in
    day order: each purchase row's previous row is the previous purchase row (or
    none), and the running minimum day is the first occasion's day.
    """
    day = nw.col("day")
    order = {"order_by": ["refund", "day"]}
    marked = rows.with_columns(
        day.shift(1).over(_ID, **order).alias("prev"),
        nw.col("refund").shift(1).over(_ID, **order).alias("prev_refund"),
        day.cum_min().over(_ID, **order).alias("first_seen"),
    )
    bought = nw.col("refund") == 0
    after_purchase = bought & (nw.col("prev_refund").fill_null(1) == 0)
    return marked.with_columns(
        (bought & ~(after_purchase & (day == nw.col("prev")))).alias("opens"),
        nw.when(after_purchase & (day != nw.col("prev"))).then(day - nw.col("prev")).alias("gap"),
    )


def _row_filter(agg: Aggregate, cut_day: int | None, window: int | None) -> Any:
    """Return the marked-row predicate of ``agg.rows`` (None: every row)."""
    day, bought = nw.col("day"), nw.col("refund") == 0
    if agg.rows == "all":
        return None
    if agg.rows == "purchase":
        return bought
    if agg.rows == "first_occasion":
        return bought & (day == nw.col("first_seen"))
    if cut_day is None or window is None:
        raise ValueError(f"{agg.name} needs a cutoff and a trend window")
    if agg.rows == "recent":
        return bought & (day > cut_day - window)
    return bought & (day > cut_day - 2 * window) & (day <= cut_day - window)


def aggregate_expressions(
    agg: Aggregate, cut_day: int | None = None, window: int | None = None
) -> list[Any]:
    """Narwhals expressions of one :class:`~custintel.backends.Aggregate` over marked rows.

    Parameters
    ----------
    agg : Aggregate
        A row of :data:`~custintel.backends.CUSTOMER_AGGREGATES` (not ``n_unique``,
        which :func:`customer_table` joins from the canonical rows).
    cut_day, window : int, optional
        Cutoff and trend window of the churn aggregates.

    Returns
    -------
    list of narwhals.Expr
        One expression per output column (two for money: the limbs); a ``last``
        aggregate returns its packed key, which :func:`_unpack_last` turns back.
    """
    pred = _row_filter(agg, cut_day, window)
    value = nw.col(agg.source)

    def kept(expr: Any, otherwise: Any = None) -> Any:
        if pred is None:
            return expr
        chosen = nw.when(pred).then(expr)
        return chosen if otherwise is None else chosen.otherwise(otherwise)

    if agg.reduction == "sum" and agg.source == "quantity":
        return [kept(value, 0.0).sum().alias(agg.name)]
    if agg.reduction == "sum":
        names = [agg.name, agg.name + LOW] if agg.money else [agg.name]
        sources = [agg.source, agg.source + LOW] if agg.money else [agg.source]
        if agg.money:  # integer-valued floats: exact sums in any order
            return [
                kept(nw.col(src), 0.0).sum().alias(name)
                for name, src in zip(names, sources, strict=True)
            ]
        # DuckDB sums integers into 128 bits, which pandas holds as objects
        return [kept(value.cast(nw.Int64), 0).sum().cast(nw.Int64).alias(agg.name)]
    if agg.reduction == "sum_sq":
        return [kept(value * value, 0).sum().cast(nw.Int64).alias(agg.name)]
    if agg.reduction == "min":
        return [kept(value).min().alias(agg.name)]
    if agg.reduction == "max":
        expr = kept(value).max()
        return [
            expr.cast(nw.Float64).alias(agg.name) if agg.source == "gap" else expr.alias(agg.name)
        ]
    if agg.reduction == "last":
        # the value on the latest day that has one: the maximum of day * 2**GAP_BITS + value
        return [kept(nw.col("day") * (1 << GAP_BITS) + value).max().alias(agg.name)]
    raise ValueError(f"no engine expression for {agg.reduction} of {agg.source} ({agg.name})")


def _unpack_last(table: Any, aggregates: tuple[Aggregate, ...]) -> Any:
    """Turn the packed keys of ``last`` aggregates back into their values."""
    last = [a.name for a in aggregates if a.reduction == "last"]
    if not last:
        return table
    return table.with_columns(
        *((nw.col(name) % (1 << GAP_BITS)).cast(nw.Float64).alias(name) for name in last)
    )


def aggregate_marked_rows(
    marked: Any, aggregates: tuple[Aggregate, ...], cut_day: int | None, window: int | None
) -> Any:
    """Group marked rows by customer and evaluate ``aggregates``: the one engine definition.

    Parameters
    ----------
    marked : narwhals.LazyFrame
        Marked rows (see ``custintel.backends._aggregates``): canonical rows
        marked by one window (DuckDB) or one sort (Polars,
        :func:`~custintel.backends._polars_plan.sorted_marked_rows`), or rows
        grouped by (customer, day) first (Spark).
    aggregates : tuple of Aggregate
        What to compute (``n_unique`` aggregates are left to the caller).
    cut_day, window : int, optional
        Cutoff and trend window of the churn aggregates.

    Returns
    -------
    narwhals.LazyFrame
        ``customer_id`` and one column per aggregate (money: two).
    """
    expressions = [
        expr
        for agg in aggregates
        if agg.reduction != "n_unique"
        for expr in aggregate_expressions(agg, cut_day, window)
    ]
    return _unpack_last(marked.group_by(_ID).agg(*expressions), aggregates)


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


def marked_rows(rows: Any, roles: tuple[str, ...], *, prepared: Prepared | None = None) -> Any:
    """Mark canonical rows for :func:`aggregate_marked_rows`, with the plan that suits the engine.

    - **Polars with integer ids**: one sort by a packed (customer, refund?, day)
      key and global shifts, in Polars' streaming engine
      (:func:`~custintel.backends._polars_plan.sorted_marked_rows`).
    - **DuckDB**: one window per customer over the rows themselves; DuckDB's
      high-cardinality (customer, day) group-by costs as much as the window.
    - **Spark** (and Polars with other ids): group the rows by (customer, day),
      then one window per customer over those days. The (customer, day) step
      pre-aggregates before any shuffle, which shrinks it by the lines per
      occasion of line-item logs.
    """
    bounds = _packed_key_bounds(prepared)
    selected = rows.select(*_row_columns(roles))
    if bounds is not None:
        marked = sorted_marked_rows(selected, id_min=bounds[0], day_min=bounds[1])
        return _with_measures(marked, roles)
    if rows.implementation is nw.Implementation.DUCKDB:
        refund = (nw.col("amount") < 0).cast(nw.Int64).alias("refund")
        return _with_measures(_window_marked(selected.with_columns(refund)), roles)
    return _window_marked(_daily(rows, roles))


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
        With both given, add the churn aggregates.
    prepared : Prepared, optional
        What ``rows`` came from; with integer customer ids in Polars it selects
        the sort-based marking (same columns).

    Returns
    -------
    narwhals.LazyFrame
        ``customer_id`` and the aggregates of
        :func:`~custintel.backends.aggregates_for` (``n_occ`` is 0 for a
        customer without an occasion; money as two limbs).
    """
    churn = cut_day is not None and window is not None
    aggregates = aggregates_for(roles, churn=churn)
    marked = marked_rows(rows, roles, prepared=prepared)
    table = aggregate_marked_rows(marked, aggregates, cut_day, window)
    for agg in aggregates:
        if agg.reduction == "n_unique":
            # the canonical rows: a (customer, day) row has no order id
            kept = rows.filter(_purchase()) if agg.rows == "purchase" else rows
            distinct = kept.group_by(_ID).agg(nw.col(agg.source).n_unique().alias(agg.name))
            table = table.join(distinct, on=_ID, how="left")
    return table


def _holdout_table(rows: Any, roles: tuple[str, ...]) -> Any:
    """Holdout occasions and their spend per customer, from purchase rows (no window needed)."""
    daily = _daily(rows.filter(_purchase()), roles).with_columns(nw.lit(True).alias("opens"))
    table = aggregate_marked_rows(daily, HOLDOUT_AGGREGATES, None, None)
    return table.rename({name: f"holdout_{name}" for name in table.columns if name != _ID})


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
    has_occasion = table["n_occ"].to_numpy(dtype=np.int64, na_value=0) > 0
    warn_refund_only(int((~has_occasion).sum()))
    present = table.loc[has_occasion].reset_index(drop=True)
    columns = summary_columns(present, end=end, scale=scale)
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
    holdout = _holdout_table(rows.filter(nw.col("day") > cal), prepared.roles)
    table = collect_customers(calibration.join(holdout, on=_ID, how="left"))
    summary, present = finish_summary(table, prepared.roles, cal, scale)
    count = present["holdout_n_occ"].to_numpy(dtype=np.int64, na_value=0)
    spend = money(present, "holdout_total_spend")  # no holdout occasion: null, read as 0
    end = prepared.end_day
    add_holdout_columns(
        summary, count, spend, calibration_end=cal, observation_end=end, time_unit=time_unit
    )
    return summary


def attribute_table(rows: Any, role: str) -> Any:
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
            table = table.join(attribute_table(rows, role), on=_ID, how="left")
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
    rows = summary.join(churn_columns(summary, present))
    for role in CHURN_ATTRIBUTES:
        if role in roles:
            rows[role] = collected_attribute(present[f"attr_{role}"])
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
