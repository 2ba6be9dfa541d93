"""Score a transaction file with a saved bundle, in bounded memory.

A Parquet or CSV input is read batch by batch; every row goes to one of
``n_buckets`` temporary Parquet files chosen by a hash of its customer id,
so all of a customer's rows land in the same bucket. Each bucket is then
scored on its own. Scoring is row-wise per customer, so the result equals
scoring the whole file at once, with at most one bucket in memory.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from custintel._progress import current_bar, progress_bar
from custintel.exceptions import SchemaError
from custintel.pipeline._reading import (
    EXACT_FLOATS,
    _count_lines,
    _parse_dayfirst,
    _require_pyarrow,
    csv_options,
    read_transactions,
)

__all__ = ["ID_ROLES", "id_columns", "output_frame", "read_transactions", "score_file"]

logger = logging.getLogger("custintel")

_STRING_COLUMNS = (
    "rfm_score",
    "rfm_segment",
    "value_tier",
    "lifecycle_stage",
    "abc_class",
    "recommendation_1",
    "recommendation_2",
    "recommendation_3",
)


#: Roles whose columns hold identifiers: text, so that ``007`` and ``7`` stay different.
ID_ROLES: tuple[str, ...] = ("customer_id", "order_id", "item_id")


def id_columns(mapping: Mapping[str, str | None] | None = None) -> list[str]:
    """Name the columns that hold identifiers, for reading them as text.

    Parameters
    ----------
    mapping : mapping of str to str, optional
        Role to column, as in :class:`~custintel.TransactionSchema` or a fitted
        pipeline's ``schema_mapping_``. A role that is missing or ``None`` uses
        the column with the role's own name, as the schema does.

    Returns
    -------
    list of str
        The id columns, in the order of :data:`ID_ROLES`.

    Examples
    --------
    >>> id_columns({"customer_id": "cust", "item_id": "sku"})
    ['cust', 'order_id', 'sku']
    """
    mapping = mapping or {}
    return [mapping.get(role) or role for role in ID_ROLES]


def output_frame(scored: pd.DataFrame) -> pd.DataFrame:
    """Give scored customer rows stable column types for a file: categories become strings.

    Parameters
    ----------
    scored : pandas.DataFrame
        Scored customers, as :meth:`CustomerIntelligence.score` returns them
        (or the fitted ``customers_``).

    Returns
    -------
    pandas.DataFrame
        A copy whose segment, class and recommendation columns hold plain
        strings (``None`` where missing), so CSV and Parquet files written
        from different batches have the same column types.
    """
    out = scored.copy()
    for column in _STRING_COLUMNS:
        values = out[column].astype(object)
        out[column] = values.where(values.notna(), None)
    return out


class _Writer:
    """Append scored chunks to one CSV or Parquet file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.suffix = path.suffix.lower()
        if self.suffix not in (".csv", ".parquet", ".pq"):
            raise SchemaError(
                f"cannot write {str(path)!r}: use a .csv or .parquet output file",
                reason="unsupported_format",
            )
        self._parquet: Any = None
        self._schema: Any = None
        self._rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, scored: pd.DataFrame) -> None:
        frame = output_frame(scored)
        if self.suffix == ".csv":
            frame.to_csv(self.path, mode="w" if self._rows == 0 else "a", header=self._rows == 0)
        else:
            _require_pyarrow()
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._schema is None:
                table = pa.Table.from_pandas(frame, preserve_index=True)
                fields = [
                    pa.field(f.name, pa.string()) if f.name in _STRING_COLUMNS else f
                    for f in table.schema
                ]
                self._schema = pa.schema(fields, metadata=table.schema.metadata)
                self._parquet = pq.ParquetWriter(self.path, self._schema)
            table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=True)
            self._parquet.write_table(table)
        self._rows += len(frame)

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()


def _bucket_of(ids: pd.Series, n_buckets: int) -> np.ndarray:
    hashed = pd.util.hash_pandas_object(ids.reset_index(drop=True), index=False).to_numpy()
    return (hashed % np.uint64(n_buckets)).astype(np.int64)


def score_file(
    models: Any,
    input: str | Path,
    out: str | Path,
    *,
    as_of: Any = None,
    trusted: bool = False,
    rows_per_bucket: int = 2_000_000,
    batch_size: int = 250_000,
    read_options: Mapping[str, Any] | None = None,
    progress: bool | None = None,
) -> int:
    """Score a transaction file with a fitted pipeline or a saved bundle, without refitting.

    Every customer is scored as of one fixed day, so the result does not
    depend on the file, its size or its buckets: a customer gets the row it
    gets from :meth:`CustomerIntelligence.score` on any set of customers
    that holds all of its transactions. For a nightly file of some
    customers keep the default (or pass today's date for every file); to
    rescore the full history at a later day pass ``as_of`` explicitly, the
    same for every file.

    Parameters
    ----------
    models : CustomerIntelligence, str or pathlib.Path
        A fitted pipeline, or the folder of a saved bundle, loaded with
        ``load_bundle(models, trusted=trusted)``.
    input : str or pathlib.Path
        Transactions, ``.parquet`` or ``.csv`` (optionally ``.gz``), or an
        Excel workbook (read at once). Parquet and CSV files are read in
        batches of ``batch_size`` rows and split into buckets, so memory is
        bounded by ``rows_per_bucket``; a file of at most one bucket is read
        at once. The column types of a CSV file are fixed
        from its first batch (text columns, the customer id included when
        it is not numeric, are read as strings); when a later batch does not
        fit them, or pyarrow (needed for the bucket files) is missing, the
        CSV file is read at once, with a note in the ``custintel`` log.
    out : str or pathlib.Path
        ``.parquet`` or ``.csv`` file for the customer table
        (:data:`CUSTOMER_COLUMNS`, index ``customer_id``). With more than one
        bucket the rows are grouped by bucket, not sorted by customer id.
    as_of : date-like, optional
        Day to score as of, inclusive; default: the day the model was fitted
        at (its ``observation_end_``). Later transactions are left out with a
        :class:`~custintel.exceptions.DataQualityWarning`. A time-zone-aware
        date counts in its own zone's wall-clock time.
    trusted : bool, default=False
        Passed to :func:`load_bundle` when ``models`` is a folder: also open
        pickled files. Only for bundles you wrote yourself.
    rows_per_bucket : int, default=2_000_000
        Target number of transaction rows scored at once.
    batch_size : int, default=250_000
        Rows per Parquet or CSV read batch.
    read_options : mapping, optional
        How to read the file: the keyword arguments ``sep``, ``decimal``,
        ``encoding``, ``dayfirst`` and ``sheet`` of :func:`read_transactions`.
        The id columns are read as text and ``dayfirst`` applies to the
        timestamp column of the fitted schema.
    progress : bool or None, default=None
        Show a progress bar over the buckets on standard error, when it is
        a terminal (``custintel score`` does unless ``--quiet``). ``None``
        is automatic, as for itemset mining: the bar shows once the scoring
        has run for half a second, and never inside a quiet job; ``False``
        never shows one.

    Returns
    -------
    int
        Number of customers scored.

    Raises
    ------
    SchemaError
        For an unreadable file or invalid transactions; with
        ``reason="missing_column"`` (before any bucket is written) when the
        file lacks a column the model was trained with.
    """
    from custintel.pipeline import load_bundle

    ci = models if hasattr(models, "score_customers") else load_bundle(models, trusted=trusted)
    source = Path(input)
    writer = _Writer(Path(out))
    if rows_per_bucket < 1 or batch_size < 1:
        raise ValueError("rows_per_bucket and batch_size must be >= 1")
    options = _read_options(read_options, ci.schema_mapping_)
    with progress_bar(None, desc="score", unit="bucket", enabled=progress):
        return _score_source(ci, source, writer, as_of, rows_per_bucket, batch_size, options)


def _score_source(
    ci: Any,
    source: Path,
    writer: _Writer,
    as_of: Any,
    rows_per_bucket: int,
    batch_size: int,
    options: dict[str, Any],
) -> int:
    """Score ``source`` in buckets where its format allows, else at once; close ``writer``."""
    try:
        suffix = source.suffix.lower()
        if suffix in (".parquet", ".pq") and source.exists() and not options["dayfirst"]:
            return _score_parquet(ci, source, writer, as_of, rows_per_bucket, batch_size)
        if suffix in (".csv", ".txt", ".gz") and source.exists():
            total = _score_csv(ci, source, writer, as_of, rows_per_bucket, batch_size, options)
            if total is not None:
                return total
        frame = read_transactions(source, **options)
        scored = ci.score(frame, as_of=as_of)
        writer.write(scored)
        return len(scored)
    finally:
        writer.close()


_READ_OPTIONS = ("sep", "decimal", "encoding", "dayfirst", "sheet")


def _read_options(
    given: Mapping[str, Any] | None, mapping: Mapping[str, str | None]
) -> dict[str, Any]:
    """Return the keyword arguments of read_transactions for a file of the fitted schema."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(_READ_OPTIONS))
    if unknown:
        raise TypeError(
            f"read_options takes {list(_READ_OPTIONS)}, not {unknown}; the id and date "
            "columns come from the fitted schema"
        )
    return {
        "sep": None,
        "decimal": None,
        "encoding": None,
        "dayfirst": False,
        "sheet": None,
        **given,
        "text_columns": id_columns(mapping),
        "date_columns": [mapping.get("timestamp") or "timestamp"],
    }


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _dates_as_text(chunk: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Parse day-first dates and write them back as ISO text, which reads one way only."""
    for column in columns:
        if column in chunk.columns:
            parsed = _parse_dayfirst(chunk[column])
            if not ptypes.is_datetime64_any_dtype(parsed.dtype):  # some stay text: validation
                parsed = parsed.map(lambda v: v.isoformat() if isinstance(v, pd.Timestamp) else v)
            else:
                parsed = parsed.map(lambda v: v.isoformat() if pd.notna(v) else None)
            chunk[column] = parsed.astype(object)
    return chunk


def _score_parquet(
    ci: Any,
    source: Path,
    writer: _Writer,
    as_of: Any,
    rows_per_bucket: int,
    batch_size: int,
) -> int:
    _require_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source)
    except Exception as err:
        raise SchemaError(
            f"cannot read {str(source)!r}: {err}; check that it is a valid Parquet file",
            reason="unreadable",
        ) from err
    n_rows = parquet.metadata.num_rows
    if n_rows == 0:
        raise SchemaError(f"input file {str(source)!r} has no rows", reason="empty")
    n_buckets = max(1, math.ceil(n_rows / rows_per_bucket))
    if n_buckets == 1:
        scored = ci.score(pd.read_parquet(source), as_of=as_of)
        writer.write(scored)
        return len(scored)
    id_column = ci.schema_mapping_.get("customer_id", "customer_id")
    time_column = ci.schema_mapping_.get("timestamp", "timestamp")
    names = parquet.schema_arrow.names
    missing = [c for c in (id_column, time_column) if c not in names]
    if missing:
        raise SchemaError(
            f"{str(source)!r} lacks the columns {missing} of the fitted schema; columns present: "
            f"{names}",
            reason="missing_column",
        )
    _check_columns(ci, names)
    tables = (pa.Table.from_batches([b]) for b in parquet.iter_batches(batch_size=batch_size))
    return _score_buckets(ci, tables, n_buckets, id_column, writer, as_of)


def _check_columns(ci: Any, columns: list[str]) -> None:
    """Refuse a file without a column the model was trained with, before bucketing it."""
    check = getattr(ci, "check_transaction_columns", None)
    if check is not None:
        check(columns)


def _score_buckets(
    ci: Any,
    tables: Iterator[Any],
    n_buckets: int,
    id_column: str,
    writer: _Writer,
    as_of: Any,
) -> int:
    """Split pyarrow tables into hash buckets of the customer id, then score each bucket.

    Every bucket is scored as of the same day (``as_of``, default the model's
    own), so the result does not depend on how the customers fall into buckets.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="custintel-score-") as tmp:
        writers: dict[int, Any] = {}
        try:
            for table in tables:
                ids = table.column(id_column).to_pandas()
                bucket = _bucket_of(ids, n_buckets)
                for b in np.unique(bucket):
                    part = table.take(pa.array(np.flatnonzero(bucket == b)))
                    if b not in writers:
                        writers[b] = pq.ParquetWriter(
                            Path(tmp) / f"bucket-{b}.parquet", part.schema
                        )
                    writers[b].write_table(part)
        finally:
            for w in writers.values():
                w.close()
        total = 0
        bar = current_bar()
        if bar is not None:
            bar.reset(total=len(writers))
        for b in sorted(writers):
            frame = pd.read_parquet(Path(tmp) / f"bucket-{b}.parquet")
            scored = ci.score(frame, as_of=as_of)
            writer.write(scored)
            total += len(scored)
            if bar is not None:
                bar.update()
    return total


def _csv_dtypes(first: pd.DataFrame, text_columns: Sequence[str] = ()) -> dict[str, Any]:
    """Fix each column's type from the first batch: text columns become strings.

    The columns in ``text_columns`` (the id columns) are strings even when the
    first batch looks numeric, so ``007`` stays ``007``.
    """
    text = set(text_columns)
    dtypes: dict[str, Any] = {}
    for column, dtype in first.dtypes.items():
        if str(column) in text:
            dtypes[str(column)] = str
        elif pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            dtypes[str(column)] = dtype
        else:
            dtypes[str(column)] = str
    return dtypes


def _score_csv(
    ci: Any,
    source: Path,
    writer: _Writer,
    as_of: Any,
    rows_per_bucket: int,
    batch_size: int,
    options: Mapping[str, Any],
) -> int | None:
    """Score a CSV file larger than one bucket through bucket files; None: read it at once."""
    try:
        n_rows = _count_lines(source) - 1  # the header
    except (OSError, EOFError):
        return None  # read_transactions reports the unreadable file
    n_buckets = max(1, math.ceil(n_rows / rows_per_bucket))
    if n_buckets == 1:
        return None
    if not _has_pyarrow():
        logger.warning(
            "%s has about %d rows (%d buckets) but bucketed scoring needs pyarrow for its "
            "bucket files; reading the CSV file at once instead "
            "(pip install 'custintel[parquet]' to bound the memory)",
            source,
            n_rows,
            n_buckets,
        )
        return None
    import pyarrow as pa

    try:
        reading = csv_options(
            source, sep=options["sep"], decimal=options["decimal"], encoding=options["encoding"]
        )
        first = pd.read_csv(source, nrows=batch_size, **reading, **EXACT_FLOATS)
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        OSError,
        SchemaError,
    ):
        return None  # read_transactions reports the unreadable file
    dates = options["date_columns"] if options["dayfirst"] else []
    first = _dates_as_text(first, dates)
    id_column = ci.schema_mapping_.get("customer_id", "customer_id")
    time_column = ci.schema_mapping_.get("timestamp", "timestamp")
    missing = [c for c in (id_column, time_column) if c not in first.columns]
    if missing:
        raise SchemaError(
            f"{str(source)!r} lacks the columns {missing} of the fitted schema; columns present: "
            f"{list(first.columns)}",
            reason="missing_column",
        )
    _check_columns(ci, [str(c) for c in first.columns])
    dtypes = _csv_dtypes(first, id_columns(ci.schema_mapping_))
    arrow = pa.Schema.from_pandas(first.astype(dtypes), preserve_index=False)
    fields = [pa.field(f.name, pa.string()) if dtypes[f.name] is str else f for f in arrow]
    schema = pa.schema(fields)
    del first

    def tables() -> Iterator[Any]:
        with pd.read_csv(
            source, chunksize=batch_size, dtype=dtypes, **reading, **EXACT_FLOATS
        ) as reader:
            while True:
                try:
                    chunk = _dates_as_text(next(reader), dates)
                    table = pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)
                except StopIteration:
                    return
                except (ValueError, TypeError, pa.ArrowException) as err:
                    raise _TypesChangedError(str(err)) from err
                yield table

    try:
        return _score_buckets(ci, tables(), n_buckets, id_column, writer, as_of)
    except _TypesChangedError as err:
        logger.warning(
            "%s does not read in batches with the column types of its first %d rows (%s); "
            "reading the CSV file at once instead",
            source,
            batch_size,
            err,
        )
        return None


class _TypesChangedError(Exception):
    """A CSV batch does not fit the column types fixed from the first batch."""
