"""The customer feature builders inside Polars, DuckDB and Spark, on narwhals' lazy API.

The plan is the same in every engine:

1. ``daily``: group the rows by (customer, day): purchase spend, purchase
   rows, net amount, quantity and margin. This is the one step that reads
   every row; its partial aggregation runs before any shuffle.
2. One window per customer over those days, ordered by (purchase day?, day),
   gives each purchase day the previous and next purchase day.
3. One group-by customer (already partitioned by the window) aggregates it
   all, plus, with an order id, the distinct purchase orders.

Only the customer-level table is collected; the last arithmetic (monetary
value, gap statistics, time units) runs in numpy exactly as in the pandas
path, so results agree with it to the last bit on integers and dates and up
to summation order on money.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from custintel._validation import to_day
from custintel.backends._prepare import Prepared, prepare
from custintel.exceptions import DataQualityWarning, SchemaError
from custintel.features._churn import (
    _ATTRIBUTES,
    _DROPPED_SUMMARY,
    _btyd_score,
    _check_cutoff,
    _positive_days,
)
from custintel.features._occasions import unit_days
from custintel.schema import TransactionSchema

_ID = "customer_id"


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


def customer_table(
    rows: Any,
    roles: tuple[str, ...],
    *,
    cut_day: int | None = None,
    window: int | None = None,
) -> Any:
    """Build the lazy per-customer aggregate table (every customer with a row).

    Parameters
    ----------
    rows : narwhals.LazyFrame
        Canonical rows (see :class:`~custintel.backends._prepare.Prepared`).
    roles : tuple of str
        Roles present.
    cut_day, window : int, optional
        With both given, add the churn trend and gap columns.

    Returns
    -------
    narwhals.LazyFrame
        ``customer_id``, ``n_occ`` (0 without an occasion), ``first_day``,
        ``last_day``, ``first_spend``, ``total_spend``, ``gap_sum_sq``,
        ``net_amount``, ``n_rows`` (purchase rows), optional
        ``n_distinct_orders``, ``net_quantity``, ``net_margin``, and with a
        cutoff ``last_gap``, ``gap_max``, ``occasions_recent``,
        ``occasions_earlier``, ``spend_recent``, ``spend_earlier``.
    """
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
            nw.when(nw.col("is_last")).then(gap).max().alias("last_gap"),
            gap.max().alias("gap_max"),
            recent.cast(nw.Float64).sum().alias("occasions_recent"),
            earlier.cast(nw.Float64).sum().alias("occasions_earlier"),
            nw.when(recent).then(nw.col("spend")).otherwise(0.0).sum().alias("spend_recent"),
            nw.when(earlier).then(nw.col("spend")).otherwise(0.0).sum().alias("spend_earlier"),
        ]
    table = days.group_by(_ID).agg(*aggs)
    if "order_id" in roles:
        orders = (
            rows.filter(_purchase())
            .group_by(_ID)
            .agg(nw.col("order_id").n_unique().alias("n_distinct_orders"))
        )
        table = table.join(orders, on=_ID, how="left")
    return table


def collect_customers(table: Any) -> pd.DataFrame:
    """Collect a customer-level lazy table into pandas, sorted by customer id."""
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
    refund_only = int((~has_occasion).sum())
    if refund_only:
        warnings.warn(
            f"{refund_only:,} customers have only refund rows and no purchase; "
            "they are left out of the customer summary.",
            DataQualityWarning,
            stacklevel=4,
        )
    present = table.loc[has_occasion].reset_index(drop=True)
    n = len(present)
    n_occasions = _ints(present["n_occ"])
    first_day, last_day = _ints(present["first_day"]), _ints(present["last_day"])
    frequency = n_occasions - 1
    repeat_spend = _floats(present["total_spend"]) - _floats(present["first_spend"])
    monetary = np.divide(repeat_spend, frequency, out=np.zeros(n), where=frequency > 0)
    recency_days = (last_day - first_day).astype(np.float64)
    gap_mean = np.divide(recency_days, frequency, out=np.full(n, np.nan), where=frequency > 0)
    gap_sum_sq = _ints(present["gap_sum_sq"]).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = (gap_sum_sq - frequency * gap_mean**2) / (frequency - 1)
    gap_std = np.where(frequency >= 2, np.sqrt(np.clip(variance, 0.0, None)), np.nan)
    if "order_id" in roles:
        n_orders = _ints(present["n_distinct_orders"])
    else:
        n_orders = _ints(present["n_rows"])
    columns: dict[str, Any] = {
        "frequency": frequency,
        "recency": recency_days / scale,
        "T": (end - first_day).astype(np.float64) / scale,
        "monetary_value": monetary,
        "n_orders": n_orders,
        "total_amount": _floats(present["net_amount"]),
        "days_since_last": end - last_day,
        "tenure_days": end - first_day,
        "gap_mean_days": gap_mean,
        "gap_std_days": gap_std,
        "first_purchase": first_day.astype("datetime64[D]").astype("datetime64[ns]"),
        "last_purchase": last_day.astype("datetime64[D]").astype("datetime64[ns]"),
    }
    if "quantity" in roles:
        columns["total_quantity"] = _floats(present["net_quantity"])
    if "cost" in roles:
        columns["total_margin"] = _floats(present["net_margin"])
    summary = pd.DataFrame(columns, index=_customer_index(present[_ID]), copy=False)
    return summary, present


def _day_string(day: int) -> str:
    return str(np.datetime64(day, "D"))


def summarize_customers(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    observation_end: Any = None,
    time_unit: str = "D",
    refunds: str = "net",
    duplicates: str = "warn",
) -> pd.DataFrame:
    """Run :func:`custintel.features.summarize_customers` inside the frame's engine.

    Parameters
    ----------
    tx : polars.DataFrame, polars.LazyFrame, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        Transactions.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    observation_end : date-like, optional
        Last day observed, inclusive.
    time_unit : {"D", "W"}, default="D"
        Unit of ``recency`` and ``T``.
    refunds : {"net", "drop", "raise"}, default="net"
        Policy for negative amounts.
    duplicates : {"warn", "keep", "drop", "raise"}, default="warn"
        Policy for exact duplicate rows.

    Returns
    -------
    pandas.DataFrame
        The same frame as the pandas path.
    """
    scale = unit_days(time_unit)
    prepared = prepare(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )
    table = collect_customers(customer_table(prepared.rows, prepared.roles))
    summary, _ = finish_summary(table, prepared.roles, prepared.end_day, scale)
    summary.attrs.update({"observation_end": _day_string(prepared.end_day), "time_unit": time_unit})
    return summary


def calibration_holdout_split(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    time_unit: str = "D",
    refunds: str = "net",
    duplicates: str = "warn",
) -> pd.DataFrame:
    """Run :func:`custintel.features.calibration_holdout_split` inside the frame's engine.

    Parameters
    ----------
    tx : polars.DataFrame, polars.LazyFrame, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        Transactions.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    calibration_end : date-like
        Last day of the calibration period, inclusive.
    observation_end : date-like, optional
        Last day of the holdout period, inclusive.
    time_unit : {"D", "W"}, default="D"
        Unit of ``recency``, ``T`` and ``duration_holdout``.
    refunds : {"net", "drop", "raise"}, default="net"
        Policy for negative amounts.
    duplicates : {"warn", "keep", "drop", "raise"}, default="warn"
        Policy for exact duplicate rows.

    Returns
    -------
    pandas.DataFrame
        The same frame as the pandas path.
    """
    scale = unit_days(time_unit)
    prepared = prepare(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )
    calibration_day = to_day(calibration_end, "calibration_end")
    cal = int(calibration_day.astype(np.int64))
    if not prepared.first_day <= cal < prepared.end_day:
        raise SchemaError(
            f"calibration_end {calibration_day} must fall on or after the first transaction "
            f"({_day_string(prepared.first_day)}) and before observation_end "
            f"({_day_string(prepared.end_day)}); pick a date inside the data",
            reason="bad_calibration_end",
        )
    rows = prepared.rows
    calibration = customer_table(rows.filter(nw.col("day") <= cal), prepared.roles)
    holdout = (
        rows.filter((nw.col("day") > cal) & _purchase())
        .group_by(_ID, "day")
        .agg(nw.col("amount").sum().alias("spend"))
        .group_by(_ID)
        .agg(nw.len().alias("holdout_n"), nw.col("spend").sum().alias("holdout_spend"))
    )
    table = collect_customers(calibration.join(holdout, on=_ID, how="left"))
    summary, present = finish_summary(table, prepared.roles, cal, scale)
    count = _ints(present["holdout_n"])
    summary["frequency_holdout"] = count
    summary["monetary_value_holdout"] = np.divide(
        _floats(present["holdout_spend"]), count, out=np.zeros(len(count)), where=count > 0
    )
    summary["duration_holdout"] = float((prepared.end_day - cal) / scale)
    summary.attrs.update(
        {
            "calibration_end": str(calibration_day),
            "observation_end": _day_string(prepared.end_day),
            "time_unit": time_unit,
        }
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


def make_churn_dataset(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    cutoff: Any,
    horizon: int,
    min_history: int = 0,
    window: int | None = None,
    btyd: Any = None,
    refunds: str = "net",
    duplicates: str = "warn",
) -> tuple[pd.DataFrame, pd.Series]:
    """Run :func:`custintel.features.make_churn_dataset` inside the frame's engine.

    Parameters
    ----------
    tx : polars.DataFrame, polars.LazyFrame, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        Transactions.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    cutoff : date-like
        Last day of the feature period, inclusive.
    horizon : int
        Length of the label window in days.
    min_history : int, default=0
        Keep customers with ``tenure_days >= min_history``.
    window : int, optional
        Length in days of the trend windows; default half the horizon.
    btyd : {"bgnbd", "mbgnbd", "pareto_nbd"}, estimator or None, default=None
        Adds ``p_no_purchase``, fitted on the collected customer rows.
    refunds : {"net", "drop", "raise"}, default="net"
        Policy for negative amounts.
    duplicates : {"warn", "keep", "drop", "raise"}, default="warn"
        Policy for exact duplicate rows.

    Returns
    -------
    X : pandas.DataFrame
        The same features as the pandas path.
    y : pandas.Series
        The same labels as the pandas path.
    """
    horizon_days = _positive_days(horizon, "horizon")
    window_days = max(horizon_days // 2, 1) if window is None else _positive_days(window, "window")
    if isinstance(min_history, bool) or not isinstance(min_history, (int, np.integer)):
        raise ValueError(f"min_history must be a whole number of days >= 0, got {min_history!r}")
    if min_history < 0:
        raise ValueError(f"min_history must be >= 0 days, got {min_history}")
    prepared: Prepared = prepare(
        tx, schema, refunds=refunds, observation_end=None, duplicates=duplicates
    )
    cut = to_day(cutoff, "cutoff")
    cut_day = int(cut.astype(np.int64))
    _check_cutoff(cut, cut_day, prepared.first_day, prepared.last_day, horizon_days)

    rows, roles = prepared.rows, prepared.roles
    before = rows.filter(nw.col("day") <= cut_day)
    table = customer_table(before, roles, cut_day=cut_day, window=window_days)
    attributes = [role for role in _ATTRIBUTES if role in roles]
    for role in attributes:
        table = table.join(_attribute_table(before, role), on=_ID, how="left")
    in_window = (nw.col("day") > cut_day) & (nw.col("day") <= cut_day + horizon_days)
    buyers = rows.filter(in_window & _purchase()).group_by(_ID).agg(nw.len().alias("label_buys"))
    table = collect_customers(table.join(buyers, on=_ID, how="left"))

    summary, present = finish_summary(table, roles, cut_day, 1.0)
    keep = summary["tenure_days"].to_numpy() >= min_history
    X = summary.loc[keep].drop(columns=list(_DROPPED_SUMMARY))
    present = present.loc[keep].reset_index(drop=True)
    if X.empty:
        raise ValueError(
            f"no customer has a purchase at least min_history={min_history} days before the "
            f"cutoff {cut}; pass a later cutoff or a smaller min_history"
        )
    X = X.join(_gap_features(present, X))
    for role in attributes:
        values = present[f"attr_{role}"].to_numpy(dtype=object)
        known = sorted({v for v in values if not pd.isna(v)})
        X[role] = pd.Categorical(values, categories=pd.Index(known))
    if btyd is not None:
        X["p_no_purchase"] = _btyd_score(btyd, X, horizon_days)
    bought = present["label_buys"].notna().to_numpy()
    y = pd.Series((~bought).astype(np.int64), index=X.index.copy(), name="churn")
    X.attrs.update({"cutoff": str(cut), "horizon": horizon_days, "window": window_days})
    return X, y


def _gap_features(present: pd.DataFrame, X: pd.DataFrame) -> pd.DataFrame:
    """Compute the churn gap and trend columns with the arithmetic of the pandas path."""
    out = pd.DataFrame(
        {
            "last_gap_days": _floats(present["last_gap"]),
            "gap_max_days": _floats(present["gap_max"]),
            "occasions_recent": _floats(present["occasions_recent"]),
            "occasions_earlier": _floats(present["occasions_earlier"]),
            "spend_recent": _floats(present["spend_recent"]),
            "spend_earlier": _floats(present["spend_earlier"]),
        },
        index=X.index,
    )
    spend = _floats(present["total_spend"])
    since = X["days_since_last"].to_numpy(dtype=float)
    gap_mean = X["gap_mean_days"].to_numpy(dtype=float)
    tenure = X["tenure_days"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["recency_to_gap_mean"] = since / gap_mean
        out["recency_to_gap_max"] = since / out["gap_max_days"].to_numpy(dtype=float)
        out["recency_gap_z"] = (since - gap_mean) / X["gap_std_days"].to_numpy(dtype=float)
    for column in ("recency_to_gap_mean", "recency_to_gap_max", "recency_gap_z"):
        out[column] = out[column].replace([np.inf, -np.inf], np.nan)
    out["recency_share"] = since / (tenure + 1)
    out["frequency_trend"] = out["occasions_recent"] - out["occasions_earlier"]
    out["spend_trend"] = out["spend_recent"] - out["spend_earlier"]
    n_occasions = X["frequency"].to_numpy(dtype=float) + 1
    out["purchase_rate"] = 30.0 * n_occasions / (tenure + 1)
    out["mean_spend"] = spend / n_occasions
    return out
