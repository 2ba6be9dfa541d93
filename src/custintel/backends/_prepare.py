"""In-engine validation with the ``SchemaError`` reason codes of ``validate_transactions``.

The checks that are cheap in Polars, DuckDB and Spark run in one aggregate pass.

Everything is written once on narwhals' lazy API; only the timestamp-to-day
step is native (see :mod:`custintel.backends._engines`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from custintel._validation import (
    LABEL_ROLES,
    N_EXAMPLES,
    NUMERIC_ROLES,
    CleaningPolicies,
    Problems,
    describe_column,
    resolve_columns,
    to_day,
)
from custintel.backends._engines import DAY, STAMP, engine_of, with_day_numbers
from custintel.exceptions import DataQualityWarning, SchemaError, warn
from custintel.schema import TransactionSchema, suggest_column

__all__ = ["Prepared", "prepare"]


@dataclass(frozen=True)
class Prepared:
    """Validated transactions inside their engine.

    Attributes
    ----------
    rows : narwhals.LazyFrame
        Canonical columns (role names, ``margin`` turned into ``cost``) plus
        ``day`` (int64 day number); rows removed by the policies left out.
    roles : tuple of str
        Roles present in ``rows``.
    end_day : int
        Observation end as a day number.
    first_day, last_day : int
        First and last day of the kept rows.
    engine : str
        ``"polars"``, ``"duckdb"`` or ``"spark"``.
    id_range : tuple of int or None
        Smallest and largest customer id of the kept rows when the engine is
        Polars and the ids are integers (its sort-based plan packs them into a
        key), else ``None``.
    """

    rows: Any
    roles: tuple[str, ...]
    end_day: int
    first_day: int
    last_day: int
    engine: str
    id_range: tuple[int, int] | None = None


def lazy_frame(tx: Any) -> Any:
    """Wrap a native frame as a narwhals LazyFrame (eager Polars frames become lazy)."""
    frame = nw.from_native(tx)
    if isinstance(frame, nw.DataFrame):
        frame = frame.lazy()
    return frame


def _widen_native_types(tx: Any, engine: str) -> Any:
    """Cast engine types narwhals cannot describe into ones it can, inside the engine.

    DuckDB's nanosecond zoned timestamps (``TIMESTAMPTZ_NS``, e.g. a pandas 2 column
    ``datetime64[ns, tz]`` passed through Arrow) are unknown to narwhals; as microsecond
    ``TIMESTAMPTZ`` they keep the same instant to the microsecond, and days are all that
    is read.
    """
    if engine != "duckdb":
        return tx
    types = [str(t) for t in tx.types]
    if "TIMESTAMPTZ_NS" not in types:
        return tx
    quoted = ['"' + str(name).replace('"', '""') + '"' for name in tx.columns]
    columns = [
        f"CAST({name} AS TIMESTAMPTZ) AS {name}" if kind == "TIMESTAMPTZ_NS" else name
        for name, kind in zip(quoted, types, strict=True)
    ]
    return tx.project(", ".join(columns))


def _timestamp_kind(dtype: Any) -> str | None:
    if isinstance(dtype, nw.Datetime):
        return "datetime_tz" if dtype.time_zone else "datetime"
    if dtype == nw.Date:
        return "date"
    if dtype == nw.String:
        return "string"
    return None


def _is_categorical(dtype: Any) -> bool:
    return dtype in (nw.Categorical, nw.Enum) or isinstance(dtype, nw.Enum)


def _count(expr: Any) -> Any:
    return expr.fill_null(False).cast(nw.Int64).sum()


def _in_engine_refunds(refunds: str, mapping: Mapping[str, str]) -> str:
    """Resolve ``refunds="auto"`` as pandas does, and refuse ``"match"``, which is pandas-only.

    Pairing each return with the purchase it reverses is an ordered, per-line walk that
    runs on pandas (:func:`custintel.validate_transactions`); in an engine, refunds are
    netted, dropped or refused.
    """
    keyed = "item_id" in mapping or "order_id" in mapping
    policy = ("match" if keyed else "net") if refunds == "auto" else refunds
    if policy == "match":
        how = (
            "refunds='auto' means 'match' when item or order ids are mapped, as here"
            if refunds == "auto"
            else "refunds='match' was passed"
        )
        raise SchemaError(
            f"{how}; matching each return to the purchase it reverses runs on pandas only, "
            "not inside Polars, DuckDB or Spark. Pass refunds='net' (returns lower revenue "
            "where they fall) to compute in the engine, or clean on pandas first with "
            "custintel.validate_transactions(..., refunds='match') and pass the cleaned rows",
            reason="unsupported_policy",
        )
    return policy


def prepare(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None,
    policies: CleaningPolicies,
) -> Prepared:
    """Validate ``tx`` inside its engine and apply the refunds, end and duplicates policies.

    Parameters
    ----------
    tx : polars.DataFrame, polars.LazyFrame, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        The transactions.
    schema : TransactionSchema, dict or None
        Column mapping.
    policies : CleaningPolicies
        Checked cleaning policies; engines apply ``refunds``, ``observation_end``
        and ``duplicates``. ``refunds="auto"`` is ``"net"`` when neither item nor
        order ids are mapped; ``"match"`` (what ``"auto"`` means with item or order
        ids) is pandas-only and raises ``SchemaError(reason="unsupported_policy")``.

    Returns
    -------
    Prepared

    Raises
    ------
    SchemaError
        With the reason codes of :func:`custintel.validate_transactions`.
    """
    resolved = TransactionSchema.coerce(schema)
    engine = engine_of(tx)
    if engine is None:  # pragma: no cover - callers dispatch on engine_of
        raise TypeError(f"not a Polars, DuckDB or Spark frame: {type(tx).__name__}")
    frame = lazy_frame(_widen_native_types(tx, engine))
    source_schema = frame.collect_schema()
    names = list(source_schema.names())
    mapping = resolve_columns(pd.Index(names), resolved, suggest_column)
    refunds = _in_engine_refunds(policies.refunds, mapping)
    observation_end = policies.observation_end
    end = None if observation_end is None else to_day(observation_end, "observation_end")
    problems = Problems()

    # Type checks need only the schema, not a pass over the data.
    canonical: dict[str, Any] = {}
    counts: dict[str, tuple[Any, str, str, str]] = {}  # reason -> (mask, role, what, fix)
    for role, column in mapping.items():
        dtype = source_schema[column]
        col = nw.col(column)
        if role == "customer_id":
            if dtype == nw.Boolean:
                problems.add(
                    "bad_customer_id",
                    f"{describe_column(role, column)} holds booleans; map the real customer "
                    "identifier column instead",
                )
            elif dtype.is_float():
                counts["bad_customer_id"] = (
                    col != col.round(0),
                    role,
                    "are non-integer numbers",
                    "customer ids must be labels; map the id column",
                )
                col = col.cast(nw.Int64)
            elif _is_categorical(dtype):
                col = col.cast(nw.String)
            counts["null_customer_id"] = (
                nw.col(column).is_null(),
                role,
                "have no customer id",
                "drop them (filter out nulls) or fill them with a real id",
            )
            if dtype == nw.String or _is_categorical(dtype):
                counts["blank_customer_id"] = (
                    nw.col(column).cast(nw.String).str.strip_chars() == "",
                    role,
                    "have a blank customer id",
                    "drop them or fill them with a real id",
                )
            canonical[role] = col
        elif role == "timestamp":
            kind = _timestamp_kind(dtype)
            if kind is None:
                reason = "numeric_timestamp" if dtype.is_numeric() else "unparseable_timestamp"
                problems.add(
                    reason,
                    f"{describe_column(role, column)} has type {dtype}, not a datetime, date or "
                    "string; convert it to a timestamp in the engine first, e.g. "
                    "pl.col(c).cast(pl.Datetime), CAST(c AS TIMESTAMP) or F.to_timestamp(c)",
                )
                continue
            counts["null_timestamp"] = (
                nw.col(column).is_null(),
                role,
                "have no timestamp",
                "drop them or fill them before validating",
            )
            counts["unparseable_timestamp"] = (
                nw.col(STAMP).is_null() & ~nw.col(column).is_null(),
                role,
                "could not be parsed as dates",
                "parse the column yourself in the engine, e.g. "
                "pl.col(c).str.to_datetime(format=...) or F.to_timestamp(c, fmt)",
            )
            canonical[role] = nw.col(STAMP)
        elif role in NUMERIC_ROLES:
            if not dtype.is_numeric() or dtype == nw.Boolean:
                problems.add(
                    f"non_numeric_{role}",
                    f"{describe_column(role, column)} has type {dtype}, not a number; cast it to a "
                    "number in the engine first (numeric strings are parsed only for pandas)",
                )
                continue
            number = col.cast(nw.Float64)
            counts[f"non_finite_{role}"] = (
                ~number.is_finite().fill_null(False),
                role,
                "are missing (NaN) or infinite",
                "drop or fill them",
            )
            canonical[role] = number
        elif role in LABEL_ROLES:
            counts[f"null_{role}"] = (
                col.is_null(),
                role,
                f"have no {role}",
                "drop those rows or fill the column",
            )
            canonical[role] = col.cast(nw.String) if _is_categorical(dtype) else col
        else:
            canonical[role] = col.cast(nw.String)
    problems.raise_if_any()

    kind = _timestamp_kind(source_schema[mapping["timestamp"]])
    native = nw.to_native(frame)
    if engine == "polars" and not hasattr(native, "collect"):
        native = native.lazy()
    frame = lazy_frame(with_day_numbers(native, engine, mapping["timestamp"], str(kind)))

    amount = nw.col(mapping["amount"]).cast(nw.Float64)
    day = nw.col(DAY)
    # every row is a real (non-null) day here or the stats below raise first
    keep = ~day.is_null() | day.is_null()
    if refunds == "drop":
        keep = amount >= 0
    if end is not None:
        keep = keep & (day <= int(end.astype(np.int64)))
    today = int(np.datetime64(pd.Timestamp.now().floor("D").to_datetime64(), "D").astype(np.int64))
    stats_exprs = [nw.len().alias("n_rows")]
    stats_exprs += [_count(mask).alias(reason) for reason, (mask, *_) in counts.items()]
    stats_exprs += [
        _count(amount < 0).alias("negative"),
        _count(keep).alias("n_kept"),
        _count(day > today).alias("future"),
        _count(day > (int(end.astype(np.int64)) if end is not None else today)).alias("late"),
        nw.when(keep).then(day).min().alias("first_day"),
        nw.when(keep).then(day).max().alias("last_day"),
    ]
    integer_ids = (
        engine == "polars"
        and "customer_id" in canonical
        and source_schema[mapping["customer_id"]].is_integer()
    )
    if integer_ids:
        ids = canonical["customer_id"]
        stats_exprs += [
            nw.when(keep).then(ids).min().alias("id_min"),
            nw.when(keep).then(ids).max().alias("id_max"),
        ]
    stats = frame.select(*stats_exprs).collect().rows(named=True)[0]
    n_rows = int(stats["n_rows"])
    if n_rows == 0:
        raise SchemaError(
            f"the transactions frame is empty (0 rows, {len(names)} columns); custintel needs "
            "at least one transaction with customer_id, timestamp and amount",
            reason="empty",
        )
    for reason, (mask, role, what, fix) in counts.items():
        bad = int(stats[reason] or 0)
        if bad:
            _report(problems, frame, reason, mapping[role], role, mask, bad, n_rows, what, fix)
    problems.raise_if_any()
    negative = int(stats["negative"])
    if negative and refunds == "raise":
        _report(
            problems,
            frame,
            "negative_amount",
            mapping["amount"],
            "amount",
            amount < 0,
            negative,
            n_rows,
            "have a negative amount",
            "pass refunds='net' to keep refunds or refunds='drop' to remove them",
        )
        problems.raise_if_any()

    if end is not None:
        late = int(stats["late"])
        if late > 0:
            warn(
                f"{late:,} of {n_rows:,} transactions fall after observation_end {end}; they "
                "were dropped. Pass a later observation_end to keep them.",
                DataQualityWarning,
            )
    elif stats["future"]:
        warn(
            f"{int(stats['future']):,} transactions are dated after today; check the timestamp "
            "column, or pass observation_end to cut them off.",
            DataQualityWarning,
        )
    if int(stats["n_kept"]) == 0:
        raise SchemaError(
            "no transactions are left after applying observation_end and the refunds policy; "
            f"{negative:,} rows are refunds; pass a later observation_end or refunds='net'",
            reason="empty",
        )

    if "margin" in canonical:
        margin = canonical.pop("margin")
        canonical["cost"] = canonical["amount"] - margin
    rows = frame.filter(keep).select(
        *(expr.alias(role) for role, expr in canonical.items()), day.alias("day")
    )
    rows = _apply_duplicates(rows, policies.duplicates, int(stats["n_kept"]))
    if "order_id" in canonical:
        _check_orders(rows)
    first_day, last_day = int(stats["first_day"]), int(stats["last_day"])
    return Prepared(
        rows=rows,
        roles=tuple(canonical),
        end_day=int(end.astype(np.int64)) if end is not None else last_day,
        first_day=first_day,
        last_day=last_day,
        engine=engine,
        id_range=(int(stats["id_min"]), int(stats["id_max"])) if integer_ids else None,
    )


def _report(
    problems: Problems,
    frame: Any,
    reason: str,
    column: str,
    role: str,
    mask: Any,
    count: int,
    n_rows: int,
    what: str,
    fix: str,
) -> None:
    """Record a row-level problem with up to five example values (engines have no row labels)."""
    sample = (
        frame.filter(mask.fill_null(False))
        .select(nw.col(column))
        .head(N_EXAMPLES)
        .collect()
        .to_pandas()
    )
    values = sample.iloc[:, 0].tolist()
    problems.add(
        reason,
        f"{describe_column(role, column)}: {count:,} of {n_rows:,} rows {what}, "
        f"e.g. values {values}; {fix}",
        pd.DataFrame({"column": column, "value": values}),
    )


def _apply_duplicates(rows: Any, policy: str, n_rows: int) -> Any:
    """Count exact duplicate rows (a distinct over every mapped column) and apply the policy."""
    if policy == "keep":
        return rows
    distinct = rows.drop("day").unique()
    n_distinct = int(distinct.select(nw.len()).collect().item())
    count = n_rows - n_distinct
    if count == 0:
        return rows
    if policy == "raise":
        raise SchemaError(
            f"{count:,} rows are exact duplicates of an earlier row; pass duplicates='drop' to "
            "remove them or duplicates='keep' if they are genuine",
            reason="duplicate_rows",
        )
    if policy == "warn":
        warn(
            f"{count:,} of {n_rows:,} rows are exact duplicates of an earlier row; they were "
            "kept as separate transactions. Pass duplicates='drop' if they were loaded twice, "
            "or duplicates='keep' to silence this (and skip the check, a full distinct).",
            DataQualityWarning,
        )
        return rows
    return rows.unique()


def _check_orders(rows: Any) -> None:
    """Raise when an order id belongs to more than one customer."""
    shared = (
        rows.group_by("order_id")
        .agg(nw.col("customer_id").n_unique().alias("n_customers"))
        .filter(nw.col("n_customers") > 1)
    )
    bad = shared.select(nw.len().alias("n"), nw.col("order_id").min().alias("example"))
    found = bad.collect().rows(named=True)[0]
    if int(found["n"]):
        raise SchemaError(
            f"column 'order_id': {int(found['n']):,} orders belong to more than one customer, "
            f"e.g. {found['example']!r}; an order id must identify one customer's basket, so "
            "make ids unique per customer (e.g. combine customer and order)",
            reason="order_with_several_customers",
        )
