"""Recognise Polars, DuckDB and Spark frames, and turn timestamps into day numbers natively.

Nothing here imports an engine at module level: an engine is recognised by the
module of the object's type, so ``import custintel`` never pulls one in.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ENGINES", "engine_of"]

#: Engines the feature layer runs in, besides pandas.
ENGINES: tuple[str, ...] = ("polars", "duckdb", "spark")

DAY = "__custintel_day"
STAMP = "__custintel_timestamp"


def engine_of(tx: Any) -> str | None:
    """Name the engine a frame belongs to.

    Parameters
    ----------
    tx : object
        A transaction frame.

    Returns
    -------
    str or None
        ``"polars"`` for a Polars DataFrame or LazyFrame, ``"duckdb"`` for a
        DuckDB relation, ``"spark"`` for a Spark DataFrame (classic or Spark
        Connect), ``None`` for anything else (pandas included).

    Examples
    --------
    >>> import pandas as pd
    >>> engine_of(pd.DataFrame()) is None
    True
    """
    module = type(tx).__module__ or ""
    name = type(tx).__name__
    if module.startswith("polars") and name in ("DataFrame", "LazyFrame"):
        return "polars"
    if module.startswith(("duckdb", "_duckdb")) and name == "DuckDBPyRelation":
        return "duckdb"
    if module.startswith("pyspark.sql") and name == "DataFrame":
        return "spark"
    return None


def with_day_numbers(native: Any, engine: str, column: str, kind: str) -> Any:
    """Add the parsed timestamp and its calendar-day number, computed inside the engine.

    Parameters
    ----------
    native : polars.LazyFrame, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        The transactions.
    engine : {"polars", "duckdb", "spark"}
        Which engine ``native`` belongs to.
    column : str
        The timestamp column.
    kind : {"datetime", "datetime_tz", "date", "string"}
        Type of the column, from its schema.

    Returns
    -------
    Same type as ``native``
        With two more columns: the timestamp as a naive (wall-clock) datetime,
        null where a string did not parse, and the day number (days since
        1970-01-01, 64-bit integer) of its calendar day.
    """
    if engine == "polars":
        return _polars_days(native, column, kind)
    if engine == "duckdb":
        quoted = '"' + column.replace('"', '""') + '"'
        # TIMESTAMPTZ casts to the session time zone's wall-clock time
        stamp = f"TRY_CAST({quoted} AS TIMESTAMP)"
        day = f"datediff('day', DATE '1970-01-01', CAST({STAMP} AS DATE))"
        return native.project(f"*, {stamp} AS {STAMP}").project(f"*, {day} AS {DAY}")
    if engine == "spark":
        return _spark_days(native, column, kind)
    raise ValueError(f"unknown engine {engine!r}")  # pragma: no cover


def _polars_days(native: Any, column: str, kind: str) -> Any:
    import polars as pl

    raw = pl.col(column)
    if kind == "string":
        stamp = raw.str.to_datetime(strict=False)
    elif kind == "datetime_tz":
        # wall-clock time of the column's own zone keeps the business's days
        stamp = raw.dt.replace_time_zone(None)
    elif kind == "date":
        stamp = raw.cast(pl.Datetime("us"))
    else:
        stamp = raw
    return native.with_columns(stamp.alias(STAMP)).with_columns(
        pl.col(STAMP).dt.date().cast(pl.Int64).alias(DAY)
    )


def _spark_days(native: Any, column: str, kind: str) -> Any:
    from pyspark.sql import functions as sf

    raw = sf.col(f"`{column}`")
    stamp = sf.try_to_timestamp(raw) if kind == "string" else raw.cast("timestamp")
    # Spark has no duration type: day numbers are integers from unix_date, taken on the
    # session time zone's calendar.
    return native.withColumn(STAMP, stamp).withColumn(
        DAY, sf.unix_date(sf.to_date(sf.col(STAMP))).cast("long")
    )
