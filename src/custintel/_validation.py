"""The checks behind :func:`custintel.validate_transactions`.

Each ``_check_*`` function looks at one role's column, records every problem it
finds in a :class:`Problems` collector, and returns the cleaned column. Nothing
here mutates the caller's frame: cleaned columns are new objects.

This module is the bottom of the schema layer: :mod:`custintel.schema` builds
on it, and it never imports the schema module. The role-to-column mapping comes
in through the small :class:`RoleResolver` protocol, which
:class:`~custintel.TransactionSchema` satisfies. The names in ``__all__`` are
shared with the feature layer and the engine adapters (``custintel.backends``).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import sparse

from custintel._roles import OPTIONAL_ROLES, REQUIRED_ROLES
from custintel.exceptions import DataQualityWarning, SchemaError, warn

__all__ = [
    "ATTRIBUTE_ROLES",
    "DUPLICATE_POLICIES",
    "LABEL_ROLES",
    "MISSING_ID_POLICIES",
    "NUMERIC_ROLES",
    "N_EXAMPLES",
    "OTHER_FRAME_KINDS",
    "REFUNDS_POLICIES",
    "UNMATCHED_POLICIES",
    "CleaningPolicies",
    "DataQuality",
    "Problems",
    "RoleResolver",
    "ValidatedTransactions",
    "as_customer_table",
    "as_pandas",
    "describe_column",
    "engine_or_pandas",
    "exclusion_rule",
    "resolve_columns",
    "row_word",
    "run_validation",
    "to_day",
]

logger = logging.getLogger("custintel")

#: Example rows an error message shows at most.
N_EXAMPLES = 5
#: Roles whose columns must be numbers.
NUMERIC_ROLES: tuple[str, ...] = (
    "amount",
    "quantity",
    "unit_price",
    "cost",
    "margin",
    "discount",
    "list_amount",
)
#: Line columns that shrink with the line when a return reduces a purchase.
PRO_RATA_ROLES: tuple[str, ...] = ("cost", "discount")
#: Roles whose columns are labels that must not be missing.
LABEL_ROLES: tuple[str, ...] = ("order_id", "item_id")
#: Roles that describe the customer (kept as given).
ATTRIBUTE_ROLES: tuple[str, ...] = ("channel", "region", "customer_type")


class RoleResolver(Protocol):
    """What validation needs from a schema: the column each role uses in a frame.

    :class:`~custintel.TransactionSchema` satisfies it.
    """

    def resolve(self, columns: pd.Index) -> dict[str, str]:
        """Map each role to the column it uses in a frame with ``columns``."""
        ...


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _lines(count: int, what: str) -> str:
    return f"{count:,} {what}" + (" was" if count == 1 else "s were")


@dataclass(frozen=True)
class DataQuality:
    """The ledger of what cleaning did to a transaction log: every line dropped or changed.

    :func:`custintel.validate_transactions` applies its policies in a fixed
    order and counts each line once, under the first policy that takes it:
    missing customer ids, excluded items, non-positive unit prices, lines after
    ``observation_end``, returns (matched, or unmatched under their policy),
    then exact duplicates. So ``lines_read`` equals ``lines_kept`` plus every
    line left out (see :meth:`lines_left_out`).

    Amounts are in the currency of the data and are never negative: each is
    the sum of the absolute amounts of the lines it counts.

    Attributes
    ----------
    lines_read : int
        Lines in the input.
    lines_kept : int
        Lines in the validated transactions.
    revenue_kept : float
        Sum of the kept lines' amounts (net of kept refunds).
    first_date, last_date : pandas.Timestamp or None
        Earliest and latest timestamp kept.
    missing_id_lines : int
        Lines without a customer id (dropped under ``missing_ids="drop"``).
    missing_id_amount : float
        Their net amount (purchases less returns): the revenue they carry.
    excluded_item_lines : int
        Lines whose item id is in ``exclude_items``.
    excluded_item_amount : float
        Their net amount (purchases less returns).
    excluded_item_codes : tuple of str
        The distinct excluded item ids actually seen, most lines first (at most 20).
    nonpositive_price_lines : int
        Lines with a unit price of zero or less (always left out when
        ``unit_price`` is mapped).
    returns_matched_lines : int
        Return lines paired with the purchase they reverse (both leave the log
        or the purchase shrinks).
    returns_matched_amount : float
        Their absolute amount.
    purchases_cancelled_lines : int
        Purchase lines returned in full, removed.
    purchases_reduced_lines : int
        Purchase lines returned in part: their quantity and amount were reduced.
    returns_unmatched_lines : int
        Return lines not paired with a purchase; they follow ``unmatched_policy``.
        Under ``refunds="net"`` or ``"drop"`` nothing is matched, so every
        return line is counted here.
    returns_unmatched_amount : float
        Their absolute amount.
    unmatched_policy : str
        What happened to unmatched returns: ``"net"`` (kept as refunds) or
        ``"drop"`` (left out).
    refunds_policy : str
        The refunds policy applied (``"auto"`` resolved to ``"match"`` or ``"net"``).
    missing_ids_policy : str
        ``"raise"`` or ``"drop"``.
    duplicate_lines : int
        Lines identical to an earlier line (0 when ``duplicates="keep"``, which
        does not look for them).
    duplicates_policy : str
        ``"warn"``, ``"keep"``, ``"drop"`` or ``"raise"``.
    late_lines : int
        Lines after ``observation_end``, left out.

    Examples
    --------
    >>> quality = DataQuality(lines_read=10, lines_kept=8, revenue_kept=120.0,
    ...                       missing_id_lines=2, missing_id_amount=15.0,
    ...                       missing_ids_policy="drop")
    >>> quality.notes()
    ['2 of 10 lines (20.0%) have no customer id (amount 15.00); they were left out.']
    >>> quality.lines_left_out()
    2
    """

    lines_read: int = 0
    lines_kept: int = 0
    revenue_kept: float = 0.0
    first_date: pd.Timestamp | None = None
    last_date: pd.Timestamp | None = None
    missing_id_lines: int = 0
    missing_id_amount: float = 0.0
    excluded_item_lines: int = 0
    excluded_item_amount: float = 0.0
    excluded_item_codes: tuple[str, ...] = ()
    nonpositive_price_lines: int = 0
    returns_matched_lines: int = 0
    returns_matched_amount: float = 0.0
    purchases_cancelled_lines: int = 0
    purchases_reduced_lines: int = 0
    returns_unmatched_lines: int = 0
    returns_unmatched_amount: float = 0.0
    unmatched_policy: str = "net"
    refunds_policy: str = "net"
    missing_ids_policy: str = "raise"
    duplicate_lines: int = 0
    duplicates_policy: str = "warn"
    late_lines: int = 0

    def lines_left_out(self) -> int:
        """Lines of the input that are not in the validated transactions.

        Returns
        -------
        int
            ``lines_read - lines_kept``, equal to the sum of the counts of
            every policy that leaves lines out.
        """
        return self.lines_read - self.lines_kept

    def _rows(self) -> list[tuple[str, int, float, str]]:
        unmatched_action = {
            "net": "kept as refunds: they lower revenue, never count as purchases",
            "drop": "left out",
        }.get(self.unmatched_policy, self.unmatched_policy)
        duplicate_action = {
            "warn": "kept, with a warning",
            "keep": "kept (not looked for)",
            "drop": "left out",
            "raise": "raised an error",
        }.get(self.duplicates_policy, self.duplicates_policy)
        return [
            (
                "missing customer id",
                self.missing_id_lines,
                self.missing_id_amount,
                "left out"
                if self.missing_ids_policy == "drop"
                else "an error (missing_ids='raise')",
            ),
            (
                "excluded items",
                self.excluded_item_lines,
                self.excluded_item_amount,
                "left out",
            ),
            ("unit price zero or less", self.nonpositive_price_lines, np.nan, "left out"),
            ("after observation end", self.late_lines, np.nan, "left out"),
            (
                "returns matched to a purchase",
                self.returns_matched_lines,
                self.returns_matched_amount,
                "left out with the part of the purchase they reverse",
            ),
            (
                "purchases cancelled in full",
                self.purchases_cancelled_lines,
                np.nan,
                "left out",
            ),
            (
                "purchases returned in part",
                self.purchases_reduced_lines,
                np.nan,
                "quantity and amount reduced",
            ),
            (
                "returns not matched",
                self.returns_unmatched_lines,
                self.returns_unmatched_amount,
                unmatched_action,
            ),
            ("exact duplicate lines", self.duplicate_lines, np.nan, duplicate_action),
        ]

    def to_frame(self) -> pd.DataFrame:
        """One row per check: what it found and what was done.

        Returns
        -------
        pandas.DataFrame
            Columns ``check``, ``lines``, ``amount`` (absolute amount, NaN
            where not measured), ``share_of_lines`` (of ``lines_read``) and
            ``action``; every check appears, also when it found nothing.
        """
        rows = self._rows()
        lines = np.array([r[1] for r in rows], dtype=np.int64)
        return pd.DataFrame(
            {
                "check": [r[0] for r in rows],
                "lines": lines,
                "amount": np.array([r[2] for r in rows], dtype=np.float64),
                "share_of_lines": lines / self.lines_read if self.lines_read else 0.0 * lines,
                "action": [r[3] for r in rows],
            }
        )

    def notes(self) -> list[str]:
        """One plain sentence per check that found something, for a report or a terminal.

        Returns
        -------
        list of str
        """
        read = max(self.lines_read, 1)

        def share(lines: int) -> str:
            return f"{lines:,} of {self.lines_read:,} lines ({100 * lines / read:.1f}%)"

        notes: list[str] = []
        if self.missing_id_lines:
            notes.append(
                f"{share(self.missing_id_lines)} have no customer id "
                f"(amount {_money(self.missing_id_amount)}); they were left out."
            )
        if self.excluded_item_lines:
            codes = ", ".join(self.excluded_item_codes[:5])
            more = ", ..." if len(self.excluded_item_codes) > 5 else ""
            notes.append(
                f"{share(self.excluded_item_lines)} are excluded items ({codes}{more}; amount "
                f"{_money(self.excluded_item_amount)}); they were left out."
            )
        if self.nonpositive_price_lines:
            notes.append(
                f"{share(self.nonpositive_price_lines)} have a unit price of zero or less "
                "(samples, adjustments); they were left out."
            )
        if self.late_lines:
            notes.append(
                f"{share(self.late_lines)} fall after the observation end; they were left out."
            )
        if self.returns_matched_lines:
            notes.append(
                f"{self.returns_matched_lines:,} return lines (amount "
                f"{_money(self.returns_matched_amount)}) were matched to the purchases they "
                f"reverse: {_lines(self.purchases_cancelled_lines, 'purchase line')} "
                f"cancelled in full and {self.purchases_reduced_lines:,} reduced."
            )
        if self.returns_unmatched_lines:
            what = (
                "were left out"
                if self.unmatched_policy == "drop"
                else "were kept as refunds (they lower revenue but are never purchases)"
            )
            lead = (
                "matched no earlier purchase and"
                if self.refunds_policy == "match"
                else f"are refunds (refunds={self.refunds_policy!r}) and"
            )
            notes.append(
                f"{self.returns_unmatched_lines:,} return lines (amount "
                f"{_money(self.returns_unmatched_amount)}) {lead} {what}."
            )
        # Under duplicates="warn" the DataQualityWarning says it, with the fix.
        if self.duplicate_lines and self.duplicates_policy != "warn":
            done = {
                "drop": "they were left out",
                "warn": "they were kept as separate lines",
            }.get(self.duplicates_policy, "they were kept")
            notes.append(
                f"{share(self.duplicate_lines)} are exact duplicates of an earlier line; {done}."
            )
        return notes


@dataclass(frozen=True)
class ValidatedTransactions:
    """Validated transactions, held as sorted arrays; the frame is built on demand.

    Attributes
    ----------
    columns : dict of str to pandas.Series
        Cleaned column of each role, in input order (rows removed by the
        refunds and observation_end policies already left out). Rows dropped
        by ``duplicates="drop"`` are only left out of ``order``: always read
        columns through ``order``.
    order : numpy.ndarray
        Positions into ``columns`` that sort the rows by customer, then time.
    customer_codes : numpy.ndarray
        ``int32`` code of each sorted row's customer; non-decreasing.
    counts : numpy.ndarray
        Rows per customer code.
    days : numpy.ndarray
        ``int32`` calendar day (days since 1970-01-01) of each sorted row.
    customers : pandas.Index
        Customer ids, in code order (ascending).
    end_day : numpy.datetime64
        Last observed calendar day: ``observation_end`` if given, else the
        day of the latest transaction.
    quality : DataQuality
        What cleaning did: every line dropped or changed, counted.
    """

    columns: dict[str, pd.Series]
    order: np.ndarray
    customer_codes: np.ndarray
    counts: np.ndarray
    days: np.ndarray
    customers: pd.Index
    end_day: np.datetime64
    quality: DataQuality = field(default_factory=DataQuality)

    def values(self, role: str, dtype: Any = None) -> np.ndarray:
        """Sorted values of one role as a numpy array."""
        return self.columns[role].to_numpy(dtype=dtype)[self.order]

    def has(self, role: str) -> bool:
        """Whether the role is mapped."""
        return role in self.columns

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The canonical sorted frame (see :func:`custintel.validate_transactions`).

        Each column is taken through ``order`` straight into its final array:
        no row-sized index per column, and no consolidation of the columns
        into 2-D blocks, which would copy the whole log a second time. Rows
        that are already in canonical order (a frame validated before) are
        shared with ``columns`` under copy-on-write, so writing to either
        copies only then.
        """
        if _is_identity(self.order, self.columns) and _copy_on_write():
            data = {role: values.reset_index(drop=True) for role, values in self.columns.items()}
        else:
            data = {role: _taken(values, self.order) for role, values in self.columns.items()}
        return pd.DataFrame(data, copy=False)


def _copy_on_write() -> bool:
    """Whether pandas copies shared data on write (always from pandas 3)."""
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return bool(pd.get_option("mode.copy_on_write") is True)


def _is_identity(order: np.ndarray, columns: Mapping[str, pd.Series]) -> bool:
    """Whether ``order`` keeps every row of ``columns`` in place."""
    n = len(order)
    if any(len(values) != n for values in columns.values()):
        return False
    if n == 0:
        return True
    # ``order`` holds distinct positions below n: n of them in ascending order are 0..n-1.
    return bool(order[0] == 0 and order[-1] == n - 1 and np.all(order[1:] > order[:-1]))


def _taken(values: pd.Series, order: np.ndarray) -> Any:
    """Take the values at ``order`` into a new array of the same dtype, with no index."""
    array = values.array
    if isinstance(array, pd.arrays.NumpyExtensionArray):
        return np.asarray(array).take(order)
    return array.take(order)


@dataclass
class Problems:
    """Collect every problem found in a transaction log, to raise them together.

    Validation records each problem as it finds it and raises once, so a
    user sees every problem of a file in one :class:`~custintel.SchemaError`.

    Attributes
    ----------
    messages : list of str
        One message per problem: what is wrong, how many rows, examples, the fix.
    reasons : list of str
        The reason code of each problem (``SchemaError.reasons``).
    cases : list of pandas.DataFrame
        The offending rows of each problem (``SchemaError.failure_cases``).
    """

    messages: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    cases: list[pd.DataFrame] = field(default_factory=list)

    def add(self, reason: str, message: str, cases: pd.DataFrame | None = None) -> None:
        """Record one problem.

        Parameters
        ----------
        reason : str
            Reason code, e.g. ``"missing_column"``.
        message : str
            The whole message for the user.
        cases : pandas.DataFrame, optional
            Offending rows; a ``reason`` column is added.
        """
        self.reasons.append(reason)
        self.messages.append(message)
        frame = cases.copy() if cases is not None else pd.DataFrame(index=[0])
        frame["reason"] = reason
        self.cases.append(frame)

    def raise_if_any(self) -> None:
        """Raise one :class:`~custintel.SchemaError` with every problem, if there is any.

        Raises
        ------
        SchemaError
            With the first reason as ``.reason``, all of them as ``.reasons``
            and the offending rows as ``.failure_cases``.
        """
        if not self.messages:
            return
        if len(self.messages) == 1:
            text = self.messages[0]
        else:
            numbered = "\n".join(f"  {i}. {m}" for i, m in enumerate(self.messages, 1))
            text = f"{len(self.messages)} problems found in the transactions:\n{numbered}"
        with warnings.catch_warnings():
            # pandas 2 announces that all-NA cells (a missing value is a failure case too)
            # will count towards the columns' dtype one day; the cases are shown, not computed on.
            warnings.filterwarnings(
                "ignore", message=".*concatenation with empty or all-NA", category=FutureWarning
            )
            failure_cases = pd.concat(self.cases, ignore_index=True, sort=False)
        raise SchemaError(
            text,
            reason=self.reasons[0],
            reasons=tuple(self.reasons),
            failure_cases=failure_cases,
        )


def row_word(index: pd.Index) -> str:
    """How messages name a row: ``"line"`` when the index holds file line numbers, else ``"row"``.

    A reader that indexes rows by their line in the file (header = line 1)
    names the index ``"line"``; messages then point at lines a user can open.

    Parameters
    ----------
    index : pandas.Index
        The index of the transactions frame.

    Returns
    -------
    str

    Examples
    --------
    >>> row_word(pd.RangeIndex(3, name="line")), row_word(pd.RangeIndex(3))
    ('line', 'row')
    """
    return "line" if index.name == "line" else "row"


class _Written(str):
    """Text shown as written in a message (no quotes), e.g. ``Quantity=-2, UnitPrice=9.9``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _shown(value: Any) -> str:
    """Show a cell in a message: a missing cell reads ``(empty)``, not ``nan``."""
    try:
        missing = bool(pd.isna(value))
    except (TypeError, ValueError):  # array-like cells
        missing = False
    return "(empty)" if missing else repr(value)


def _examples(values: pd.Series, mask: np.ndarray) -> tuple[str, pd.DataFrame]:
    """Describe up to five offending rows: text for the message, rows for the error."""
    positions = np.flatnonzero(mask)[:N_EXAMPLES]
    sample = values.iloc[positions]
    word = row_word(values.index)
    text = ", ".join(f"{word} {label!r}: {_shown(value)}" for label, value in sample.items())
    cases = pd.DataFrame({"row": sample.index, "column": values.name, "value": sample.to_numpy()})
    return text, cases


def describe_column(role: str, column: str) -> str:
    """Name a column in a message, with its role when the names differ.

    Parameters
    ----------
    role : str
        The role, e.g. ``"amount"``.
    column : str
        The column that plays it.

    Returns
    -------
    str

    Examples
    --------
    >>> describe_column("amount", "revenue")
    "column 'revenue' (role 'amount')"
    """
    return f"column {column!r}" if role == column else f"column {column!r} (role {role!r})"


def _report(
    problems: Problems,
    reason: str,
    role: str,
    values: pd.Series,
    mask: np.ndarray,
    what: str,
    fix: str,
) -> None:
    """Record a row-level problem with its count, examples and fix."""
    count = int(mask.sum())
    text, cases = _examples(values, mask)
    problems.add(
        reason,
        f"{describe_column(role, str(values.name))}: {count:,} of {len(values):,} "
        f"{row_word(values.index)}s {what}, "
        f"e.g. {text}; {fix}",
        cases,
    )


def as_pandas(df: Any) -> pd.DataFrame:
    """Return ``df`` as a pandas DataFrame, converting polars frames.

    Parameters
    ----------
    df : pandas.DataFrame, polars.DataFrame or polars.LazyFrame
        The transactions.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself when it is already a pandas frame.

    Raises
    ------
    SchemaError
        When ``df`` is neither a pandas nor a polars frame.
    """
    if isinstance(df, pd.DataFrame):
        return df
    converted = _other_frame_to_pandas(df)
    if converted is not None:
        return converted
    raise SchemaError(
        f"transactions must be a pandas DataFrame, a polars DataFrame or LazyFrame, or a "
        f"pyarrow Table, got {type(df).__module__}.{type(df).__name__}; build one with "
        "pd.DataFrame(...) or read it with pd.read_csv(...)",
        reason="not_a_dataframe",
    )


#: The frame kinds every public entry point accepts besides pandas.
OTHER_FRAME_KINDS = "a polars DataFrame or LazyFrame, a pyarrow Table or a narwhals DataFrame"


def _other_frame_to_pandas(df: Any) -> pd.DataFrame | None:
    """Return a polars, pyarrow or narwhals frame as pandas; ``None`` for anything else."""
    module = type(df).__module__ or ""
    if module.startswith("narwhals"):
        native = df.to_native()
        if native is df:  # pragma: no cover - narwhals always wraps a native frame
            return None
        return _other_frame_to_pandas(native) if not isinstance(native, pd.DataFrame) else native
    if module.startswith("polars"):
        if not hasattr(df, "to_pandas") and not hasattr(df, "collect"):
            return None
        frame = df.collect() if hasattr(df, "collect") else df
        kind = f"polars {type(df).__name__}"
    elif module.startswith("pyarrow") and type(df).__name__ in {"Table", "RecordBatch"}:
        frame, kind = df, f"pyarrow {type(df).__name__}"
    else:
        return None
    try:
        return frame.to_pandas()
    except Exception as exc:  # polars needs pyarrow for to_pandas
        raise SchemaError(
            f"could not convert the {kind} to pandas ({exc}); install pyarrow "
            "(pip install 'custintel[parquet]') or pass df.to_pandas()",
            reason="conversion_failed",
        ) from exc


def engine_or_pandas(df: Any) -> Any:
    """Unwrap a narwhals frame and turn a pyarrow table into pandas; leave the rest alone.

    Polars, DuckDB and Spark frames stay as they are, for the engine paths;
    pandas frames and anything that is not a frame are returned unchanged.

    Parameters
    ----------
    df : object
        A frame of any supported library.

    Returns
    -------
    object
        ``df``, its native frame (narwhals), or a pandas frame (pyarrow).

    Examples
    --------
    >>> import pyarrow as pa
    >>> type(engine_or_pandas(pa.table({"a": [1]}))).__name__
    'DataFrame'
    """
    module = type(df).__module__ or ""
    if module.startswith("narwhals"):
        return engine_or_pandas(df.to_native())
    if module.startswith("pyarrow") and type(df).__name__ in {"Table", "RecordBatch"}:
        return as_pandas(df)
    return df


def as_customer_table(X: Any, *, owner: str) -> Any:
    """Return a customer table from another frame library as pandas, indexed by customer.

    pandas frames come back as they are. A polars (eager or lazy), pyarrow
    or narwhals frame is converted; as those have no index, a
    ``customer_id`` column becomes the index, so results are indexed by
    customer as they are for pandas input. Anything else (numpy arrays,
    lists) is returned unchanged for the caller's own checks.

    Parameters
    ----------
    X : pandas.DataFrame, polars.DataFrame, polars.LazyFrame, pyarrow.Table or other
        The customer table.
    owner : str
        Who reads it, for messages.

    Returns
    -------
    pandas.DataFrame or the input
        The converted table; other inputs unchanged.

    Raises
    ------
    SchemaError
        When a polars or pyarrow frame cannot be converted, or its
        ``customer_id`` column repeats a customer.

    Examples
    --------
    >>> import pyarrow as pa
    >>> table = pa.table({"customer_id": ["a", "b"], "frequency": [1, 0]})
    >>> as_customer_table(table, owner="BetaGeoModel")
                 frequency
    customer_id
    a                    1
    b                    0
    """
    if isinstance(X, pd.DataFrame):
        return X
    converted = _other_frame_to_pandas(X)
    if converted is None:
        return X
    if "customer_id" in converted.columns and isinstance(converted.index, pd.RangeIndex):
        ids = converted["customer_id"]
        if ids.duplicated().any():
            repeated = ids[ids.duplicated()].astype(str).unique()[:3].tolist()
            raise SchemaError(
                f"{owner}: the customer table's customer_id column repeats customers "
                f"(e.g. {repeated}); it must have one row per customer. Build it with "
                "custintel.summarize_customers(transactions)",
                reason="duplicate_customer",
            )
        converted = converted.set_index("customer_id")
    return converted


def _check_shape(df: pd.DataFrame) -> None:
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise SchemaError(
            f"the transactions frame is empty ({df.shape[0]} rows, {df.shape[1]} columns); "
            "custintel needs at least one transaction with customer_id, timestamp and amount",
            reason="empty",
        )
    duplicated = df.columns[df.columns.duplicated()].unique().tolist()
    if duplicated:
        raise SchemaError(
            f"column names {duplicated} appear more than once; rename them so each is unique, "
            "e.g. df.columns = [...]",
            reason="duplicate_column_names",
        )


def resolve_columns(
    columns: pd.Index,
    schema: RoleResolver,
    suggest: Callable[[str, list[str]], str | None],
    *,
    derive_amount: bool = False,
) -> dict[str, str]:
    """Map each role to its column, or raise one error naming every missing column.

    Parameters
    ----------
    columns : pandas.Index
        Column labels of the transactions.
    schema : RoleResolver
        Usually a :class:`~custintel.TransactionSchema`.
    suggest : callable
        ``suggest(role, present_columns)`` guesses the column of a missing
        role for the message (:func:`custintel.schema.suggest_column`).
    derive_amount : bool, default=False
        Whether a missing amount column is allowed when ``quantity`` and
        ``unit_price`` are both present (amount = quantity x unit price); the
        mapping then has no ``"amount"`` entry. Callers that cannot derive
        the amount leave it ``False`` and get the missing-column error.

    Returns
    -------
    dict
        Role name to column name.

    Raises
    ------
    SchemaError
        ``reason="missing_column"`` with a suggested mapping, or
        ``reason="cost_and_margin"`` when both are mapped.
    """
    mapping = schema.resolve(columns)
    present = [str(c) for c in columns]
    priced = all(mapping.get(r) in columns for r in ("quantity", "unit_price"))
    if derive_amount and mapping["amount"] not in columns and priced:
        del mapping["amount"]
    missing = [role for role, column in mapping.items() if column not in columns]
    extra = [r for r in missing if r not in (*REQUIRED_ROLES, *OPTIONAL_ROLES)]  # attributes
    if extra:
        raise SchemaError(
            f"the attribute column(s) {extra} of TransactionSchema(attributes=...) are missing; "
            f"columns present: {present}; add them to the data, or leave them out of "
            "attributes",
            reason="missing_column",
        )
    if missing:
        guesses = {role: suggest(role, present) for role in missing}
        parts = [
            f"column {mapping[r]!r} is missing" + ("" if mapping[r] == r else f" (role {r!r})")
            for r in missing
        ]
        known = {r: g for r, g in guesses.items() if g is not None}
        if known:
            args = ", ".join(f"{r}={g!r}" for r, g in known.items())
            fix = f"map {'it' if len(known) == 1 else 'them'} with TransactionSchema({args})"
        else:
            args = ", ".join(f"{r}='<your column>'" for r in missing)
            fix = f"map the column(s) with TransactionSchema({args})"
        line_level = "quantity" in mapping or "unit_price" in mapping
        if "amount" in missing and derive_amount and line_level:
            have = [r for r in ("quantity", "unit_price") if mapping.get(r) in columns]
            need = [r for r in ("quantity", "unit_price") if r not in have]
            fix += (
                "; or, for line-level data, map both quantity and unit_price so that amount "
                f"= quantity x unit price (mapped: {have or 'neither'}; still to map: "
                f"{', '.join(f'{r}=...' for r in need)})"
            )
        raise SchemaError(
            f"{'; '.join(parts)}; columns present: {present}; {fix}",
            reason="missing_column",
            failure_cases=pd.DataFrame(
                {
                    "role": missing,
                    "column": [mapping[r] for r in missing],
                    "suggestion": [guesses[r] for r in missing],
                }
            ),
        )
    if "cost" in mapping and "margin" in mapping:
        raise SchemaError(
            f"both cost ({mapping['cost']!r}) and margin ({mapping['margin']!r}) are mapped; "
            "they describe the same thing (margin = amount - cost), so map only one, e.g. "
            "TransactionSchema(margin=None) after renaming or dropping the other column",
            reason="cost_and_margin",
        )
    if "discount" in mapping and "list_amount" in mapping:
        raise SchemaError(
            f"both discount ({mapping['discount']!r}) and list_amount "
            f"({mapping['list_amount']!r}) are mapped; they describe the same thing "
            "(discount = list_amount - amount), so map only one, e.g. "
            "TransactionSchema(list_amount=None)",
            reason="discount_and_list_amount",
        )
    return mapping


def _check_customer_ids(values: pd.Series, problems: Problems) -> pd.Series:
    role = "customer_id"
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = pd.Series(np.asarray(values, dtype=object), index=values.index, name=values.name)
        values = values.infer_objects()
    null = values.isna().to_numpy()
    if null.any():
        _report(
            problems,
            "null_customer_id",
            role,
            values,
            null,
            "have no customer id",
            "pass missing_ids='drop' to leave them out (they are counted in the data "
            "quality ledger), or fill them with a real id",
        )
        return values
    kind = ptypes.infer_dtype(values, skipna=True)
    if kind == "boolean":
        problems.add(
            "bad_customer_id",
            f"{describe_column(role, str(values.name))} holds booleans; "
            "map the real customer identifier column instead",
        )
    elif kind.startswith("mixed") or kind not in (
        "string",
        "integer",
        "floating",
        "empty",
        "bytes",
    ):
        types = values.map(lambda v: type(v).__name__)
        if types.nunique() == 1:
            # One type, but not a label type (tuples, dates, Decimals, intervals, ...).
            problems.add(
                "bad_customer_id",
                f"{describe_column(role, str(values.name))} holds {types.iloc[0]} values; "
                "customer ids must be integers or strings, e.g. "
                f"df[{values.name!r}].astype(str)",
            )
            return values
        bad = (types != types.mode().iloc[0]).to_numpy()
        _report(
            problems,
            "mixed_customer_id",
            role,
            values,
            bad,
            f"have a different type than the rest (types: {sorted(types.unique())})",
            f"convert the column to one type, e.g. df[{values.name!r}].astype(str)",
        )
    elif kind == "floating":
        floats = values.to_numpy(dtype=float)
        # Beyond 2**53 floats are not exact integers, and inf or 1e300 would wrap around
        # in int64: such ids would silently merge customers.
        fractional = ~np.isfinite(floats) | (np.abs(floats) > 2.0**53)
        fractional[~fractional] = floats[~fractional] != np.round(floats[~fractional])
        if fractional.any():
            _report(
                problems,
                "bad_customer_id",
                role,
                values,
                fractional,
                "are not whole numbers that fit an integer id (fractions, infinite or "
                "beyond 2**53)",
                "customer ids must be labels; map the id column, or read it as strings",
            )
        else:
            values = pd.Series(floats.astype(np.int64), index=values.index, name=values.name)
    elif kind == "string":
        uniques = pd.Series(pd.unique(values))
        blank_ids = set(uniques[uniques.str.strip().eq("")])
        if blank_ids:
            blank = values.isin(blank_ids).to_numpy()
            _report(
                problems,
                "blank_customer_id",
                role,
                values,
                blank,
                "have a blank customer id",
                "pass missing_ids='drop' to leave them out, or fill them with a real id",
            )
    return values


def _check_timestamps(values: pd.Series, problems: Problems) -> pd.Series:
    role = "timestamp"
    where = describe_column(role, str(values.name))
    if isinstance(values.dtype, pd.ArrowDtype) and ptypes.is_datetime64_any_dtype(values.dtype):
        # pyarrow timestamps (e.g. from read_parquet(dtype_backend="pyarrow")) become numpy
        # datetime64, keeping their unit and zone, so the rest sees one kind of datetime.
        arrow_type = values.dtype.pyarrow_dtype
        zone = getattr(arrow_type, "tz", None)
        values = values.astype(
            pd.DatetimeTZDtype(unit=arrow_type.unit, tz=zone)
            if zone
            else np.dtype(f"datetime64[{arrow_type.unit}]")
        )
    if ptypes.is_bool_dtype(values.dtype) or ptypes.is_numeric_dtype(values.dtype):
        problems.add(
            "numeric_timestamp",
            f"{where} is numeric ({values.dtype}), which is ambiguous; convert it first, e.g. "
            f"pd.to_datetime(df[{values.name!r}].astype(str), format='%Y%m%d') for 19970101-style "
            f"dates or pd.to_datetime(df[{values.name!r}], unit='s') for Unix seconds",
        )
        return values
    parsed = values
    if not ptypes.is_datetime64_any_dtype(values.dtype):
        # Exports repeat each timestamp on every line of an order: parse each distinct
        # value once (the first value, which sets the inferred format, stays first).
        codes, distinct = pd.factorize(values)
        texts = pd.Series(distinct, name=values.name, dtype=object)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parsed_texts = pd.to_datetime(texts, errors="coerce")
                if parsed_texts.isna().any():
                    # ISO 8601 with and without a time of day is unambiguous: accept it.
                    iso = pd.to_datetime(texts, errors="coerce", format="ISO8601")
                    if not iso.isna().any():
                        parsed_texts = iso
        except (ValueError, TypeError) as exc:
            problems.add(
                "mixed_timezones",
                f"{where} could not be parsed as one kind of datetime ({exc}); if it mixes UTC "
                f"offsets, convert it explicitly, e.g. pd.to_datetime(df[{values.name!r}], "
                "utc=True).dt.tz_convert('Europe/London').dt.tz_localize(None)",
            )
            return values
        if not ptypes.is_datetime64_any_dtype(parsed_texts.dtype):
            problems.add(
                "mixed_timezones",
                f"{where} mixes time zones or UTC offsets; convert it explicitly, e.g. "
                f"pd.to_datetime(df[{values.name!r}], utc=True).dt.tz_convert('Europe/London')"
                ".dt.tz_localize(None)",
            )
            return values
        _warn_if_day_month_ambiguous(texts)
        parsed = pd.Series(
            parsed_texts.array.take(codes, allow_fill=True), index=values.index, name=values.name
        )
        # code -1 (a missing value) reads the appended False: only texts that failed count
        unparseable = np.append(parsed_texts.isna().to_numpy(), False)[codes]
        if unparseable.any():
            _report(
                problems,
                "unparseable_timestamp",
                role,
                values,
                unparseable,
                "could not be parsed as dates (or use a different format from the first rows)",
                f"fix those values, or parse the column yourself, e.g. pd.to_datetime("
                f"df[{values.name!r}], format='mixed', dayfirst=True)",
            )
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)  # local wall-clock time keeps the business's days
    null = (parsed.isna() & values.isna()).to_numpy()
    if null.any():
        _report(
            problems,
            "null_timestamp",
            role,
            values,
            null,
            "have no timestamp",
            "drop them or fill them before validating",
        )
    return parsed


_SLASH_DATE = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}(?:\D|$)"
_SLASH_DATE_PATTERN = re.compile(_SLASH_DATE)


def _warn_if_day_month_ambiguous(values: pd.Series) -> None:
    """Warn when text dates such as 03/04/2024 could be day-first or month-first.

    pandas reads them month-first; when no value has a first or second part above 12,
    nothing in the data tells the two readings apart, so the choice must not be silent.
    """
    distinct = pd.Series(pd.unique(values.dropna().astype(str)))
    if distinct.empty or _SLASH_DATE_PATTERN.match(distinct.iloc[0]) is None:
        return  # one value not in dd/mm/yyyy style is enough: no need to scan them all
    parts = distinct.str.extract(_SLASH_DATE)
    if distinct.empty or parts[0].isna().any():
        return  # not (only) dd/mm/yyyy-style text: ISO dates and others are unambiguous
    first, second = parts[0].astype(int), parts[1].astype(int)
    if (first <= 12).all() and (second <= 12).all() and (first != second).any():
        example = distinct[first != second].iloc[0]
        warn(
            f"{describe_column('timestamp', str(values.name))} holds dates like {example!r} "
            "whose day and month cannot be told apart (no part is above 12); they were read "
            "month-first "
            f"(MM/DD). If they are day-first, parse them yourself: pd.to_datetime(df["
            f"{values.name!r}], dayfirst=True)",
            DataQualityWarning,
        )


def _check_numeric(role: str, values: pd.Series, problems: Problems) -> pd.Series:
    where = describe_column(role, str(values.name))
    if ptypes.is_bool_dtype(values.dtype):
        problems.add(f"bad_{role}", f"{where} holds booleans, not numbers; map a numeric column")
        return values
    if ptypes.is_datetime64_any_dtype(values.dtype) or ptypes.is_timedelta64_dtype(values.dtype):
        # numpy would turn them into nanosecond counts: silently wrong amounts
        problems.add(
            f"bad_{role}", f"{where} holds dates or durations ({values.dtype}), not numbers"
        )
        return values
    if ptypes.is_complex_dtype(values.dtype):
        problems.add(
            f"bad_{role}",
            f"{where} holds complex numbers ({values.dtype}); map a real-valued column",
        )
        return values
    if values.dtype == np.float64 and role != "quantity":
        numbers = values
    elif ptypes.is_numeric_dtype(values.dtype):
        if ptypes.is_integer_dtype(values.dtype) and not values.hasnans:
            numbers = values.astype(np.int64) if role == "quantity" else values.astype(np.float64)
        else:
            numbers = pd.Series(
                values.to_numpy(dtype=np.float64, na_value=np.nan),
                index=values.index,
                name=values.name,
            )
    else:
        numbers = pd.to_numeric(values, errors="coerce")
        unparseable = (numbers.isna() & values.notna()).to_numpy()
        if unparseable.any():
            _report(
                problems,
                f"non_numeric_{role}",
                role,
                values,
                unparseable,
                "are not numbers",
                "strip currency symbols and thousands separators, e.g. "
                f"df[{values.name!r}].str.replace(r'[^0-9.-]', '', regex=True)",
            )
            return values
        numbers = numbers.astype(np.float64)
    as_float = numbers.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(as_float)
    if bad.any():
        _report(
            problems,
            f"non_finite_{role}",
            role,
            values,
            bad,
            "are missing (NaN) or infinite",
            "drop or fill them, e.g. df = df[np.isfinite(df[...])]",
        )
    return numbers


def _check_labels(role: str, values: pd.Series, problems: Problems) -> pd.Series:
    null = values.isna().to_numpy()
    if null.any():
        _report(
            problems,
            f"null_{role}",
            role,
            values,
            null,
            f"have no {role}",
            "drop those rows or fill the column",
        )
    return values


def to_day(timestamp: Any, name: str) -> np.datetime64:
    """Parse a date-like argument into a calendar day; ``SchemaError`` names the argument.

    Parameters
    ----------
    timestamp : date-like
        A date string, ``datetime``, ``pandas.Timestamp`` or ``numpy.datetime64``;
        a time of day is dropped and a time zone keeps its wall-clock day.
    name : str
        The argument's name, for the error message and reason code.

    Returns
    -------
    numpy.datetime64
        The calendar day (unit ``"D"``).

    Raises
    ------
    SchemaError
        ``reason="bad_<name>"`` for numbers, unparseable values and NaT.

    Examples
    --------
    >>> print(to_day("2024-03-01 17:30", "cutoff"))
    2024-03-01
    """
    if isinstance(timestamp, (bool, int, float, np.number)):
        # pd.Timestamp(20240101) is 20,240,101 ns after 1970-01-01: silently the wrong day.
        raise SchemaError(
            f"{name}={timestamp!r} is a number, which is ambiguous; pass a date such as "
            f"'1997-09-30' or pd.Timestamp(...), e.g. pd.to_datetime(str({timestamp!r}), "
            "format='%Y%m%d')",
            reason=f"bad_{name}",
        )
    try:
        stamp = pd.Timestamp(timestamp)
    except (ValueError, TypeError) as exc:
        raise SchemaError(
            f"{name}={timestamp!r} is not a date; pass e.g. '1997-09-30' or pd.Timestamp(...)",
            reason=f"bad_{name}",
        ) from exc
    if stamp is pd.NaT:
        raise SchemaError(f"{name} is NaT; pass a real date", reason=f"bad_{name}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return np.datetime64(stamp.floor("D").to_datetime64(), "D")


#: Values of the ``refunds`` policy.
REFUNDS_POLICIES: tuple[str, ...] = ("auto", "match", "net", "drop", "raise")
#: Values of the ``unmatched_refunds`` policy.
UNMATCHED_POLICIES: tuple[str, ...] = ("net", "drop", "raise")
#: Values of the ``missing_ids`` policy.
MISSING_ID_POLICIES: tuple[str, ...] = ("raise", "drop")
#: Values of the ``duplicates`` policy.
DUPLICATE_POLICIES: tuple[str, ...] = ("warn", "keep", "drop", "raise")


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        *head, last = [repr(a) for a in allowed]
        raise ValueError(f"{name} must be {', '.join(head)} or {last}, got {value!r}")


@dataclass(frozen=True)
class CleaningPolicies:
    """The cleaning policies of :func:`custintel.validate_transactions`, checked once.

    Every validating entry point builds one from its keywords (with its own
    defaults) and passes it whole to the internal functions that apply it.

    Attributes
    ----------
    refunds, unmatched_refunds, missing_ids, exclude_items, observation_end, duplicates
        As in :func:`custintel.validate_transactions`, with its defaults;
        ``observation_end`` is parsed where it is applied.

    Raises
    ------
    ValueError
        When a policy is not one of its values, or ``exclude_items`` is not a
        valid regular expression or sequence.

    Examples
    --------
    >>> CleaningPolicies(refunds="match", missing_ids="drop").duplicates
    'warn'
    >>> CleaningPolicies(refunds="ignore")
    Traceback (most recent call last):
    ...
    ValueError: refunds must be 'auto', 'match', 'net', 'drop' or 'raise', got 'ignore'
    """

    refunds: str = "auto"
    unmatched_refunds: str = "net"
    missing_ids: str = "raise"
    exclude_items: Any = None
    observation_end: Any = None
    duplicates: str = "warn"

    def __post_init__(self) -> None:
        _one_of("refunds", self.refunds, REFUNDS_POLICIES)
        _one_of("duplicates", self.duplicates, DUPLICATE_POLICIES)
        _one_of("unmatched_refunds", self.unmatched_refunds, UNMATCHED_POLICIES)
        _one_of("missing_ids", self.missing_ids, MISSING_ID_POLICIES)
        exclusion_rule(self.exclude_items)


def exclusion_rule(exclude_items: Any) -> Callable[[pd.Index], np.ndarray] | None:
    """Turn ``exclude_items`` into a test on item ids as text, checking it.

    Parameters
    ----------
    exclude_items : None, str or sequence
        A string is a regular expression that must match a whole item id
        (``"POST|M|D"``, ``r"[A-Z ]+"``); a sequence lists item ids exactly
        (compared as text, so ``[22423]`` excludes item ``"22423"``).

    Returns
    -------
    callable or None
        ``rule(ids_as_text) -> bool array``; ``None`` when nothing is excluded.

    Raises
    ------
    ValueError
        For an invalid regular expression or a value that is neither.

    Examples
    --------
    >>> rule = exclusion_rule("POST|M")
    >>> rule(pd.Index(["POST", "M", "MM", "22423"])).tolist()
    [True, True, False, False]
    >>> exclusion_rule(["POST", 22423])(pd.Index(["POST", "22423", "D"])).tolist()
    [True, True, False]
    """
    if exclude_items is None:
        return None
    if isinstance(exclude_items, str):
        try:
            pattern = re.compile(exclude_items)
        except re.error as exc:
            raise ValueError(
                f"exclude_items={exclude_items!r} is not a valid regular expression ({exc}); "
                "pass a pattern such as 'POST|M|D|BANK CHARGES', or a list of item ids"
            ) from exc
        return lambda ids: np.fromiter(
            (pattern.fullmatch(i) is not None for i in ids), dtype=bool, count=len(ids)
        )
    if isinstance(exclude_items, (bytes, Mapping)) or not isinstance(exclude_items, Iterable):
        raise ValueError(
            "exclude_items must be None, a regular expression (str) or a list of item ids, "
            f"got {type(exclude_items).__name__}"
        )
    wanted = {str(i) for i in exclude_items}
    return lambda ids: np.asarray(ids.isin(wanted), dtype=bool)


def _stable_sort_by_code(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable counting sort of dense integer codes in O(n + n_codes).

    The row indices of a canonical CSC matrix with one entry per row, in
    column ``codes[i]``, are exactly the stable sort order: each column
    (code) lists its rows in ascending position.

    Returns
    -------
    order : numpy.ndarray
        Permutation that sorts ``codes`` stably.
    counts : numpy.ndarray
        Rows per code.
    """
    n = len(codes)
    index_dtype = np.int32 if max(n, n_codes) < np.iinfo(np.int32).max else np.int64
    matrix = sparse.csc_matrix(
        (
            np.ones(n, dtype=np.int8),
            (np.arange(n, dtype=index_dtype), codes.astype(index_dtype, copy=False)),
        ),
        shape=(n, n_codes),
    )
    matrix.sort_indices()  # a no-op check when already sorted; guarantees the order
    return matrix.indices, np.diff(matrix.indptr)


def _sort_order(
    codes: np.ndarray, n_codes: int, times: np.ndarray, days: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row order by (customer code, timestamp), ties in input order; rows per code; sorted days.

    Logs usually arrive in time order; then one counting sort by customer is
    enough. Otherwise two counting sorts (by day, then by customer) give
    (customer, day) order, and only runs of one customer-day whose times are
    out of order are sorted further.
    """
    if _in_canonical_order(codes, times):
        # A frame validated before: the stable sort is the identity, and no copy is needed.
        index_dtype = np.int32 if max(len(codes), n_codes) < np.iinfo(np.int32).max else np.int64
        order = np.arange(len(codes), dtype=index_dtype)
        return order, np.bincount(codes, minlength=n_codes).astype(index_dtype), days
    monotonic = len(times) < 2 or bool(np.all(times[1:] >= times[:-1]))
    if monotonic:
        order, counts = _stable_sort_by_code(codes, n_codes)
        return order, counts, days[order]
    first_day = int(days.min())
    by_day, _ = _stable_sort_by_code(days - first_day, int(days.max()) - first_day + 1)
    within, counts = _stable_sort_by_code(codes[by_day], n_codes)
    order = by_day[within]
    del by_day, within

    sorted_codes = np.repeat(np.arange(n_codes), counts)
    sorted_days = days[order]
    same_run = np.zeros(len(order), dtype=bool)
    same_run[1:] = (sorted_codes[1:] == sorted_codes[:-1]) & (sorted_days[1:] == sorted_days[:-1])
    del sorted_codes
    pairs = np.flatnonzero(same_run)
    backwards = pairs[times[order[pairs]] < times[order[pairs - 1]]]
    if len(backwards):
        run_starts = np.flatnonzero(~same_run)
        bad = np.unique(np.searchsorted(run_starts, backwards, side="right") - 1)
        starts = run_starts[bad]
        ends = np.append(run_starts, len(order))[bad + 1]
        lengths = ends - starts
        run = np.repeat(np.arange(len(bad)), lengths)
        rows = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        rows += np.repeat(starts, lengths)
        # lexsort is stable: equal times keep input order, as they already are within a run.
        order[rows] = order[rows[np.lexsort((times[order[rows]], run))]]
    return order, counts, sorted_days


def _in_canonical_order(codes: np.ndarray, times: np.ndarray) -> bool:
    """Whether the rows are already sorted by customer code, then time."""
    if len(codes) < 2:
        return True
    later_customer = codes[1:] > codes[:-1]
    if not bool(np.all(later_customer | (codes[1:] == codes[:-1]))):
        return False  # the usual log, in time order: found without comparing times
    later_customer |= times[1:] >= times[:-1]
    return bool(np.all(later_customer))


def _code_dtype(n_codes: int) -> type[np.signedinteger[Any]]:
    return np.int32 if n_codes < np.iinfo(np.int32).max else np.int64


def day_numbers(times: np.ndarray) -> np.ndarray:
    """Calendar day of ``datetime64`` values as ``int32`` days since 1970-01-01.

    Floor division writes straight into the ``int32`` result, with no
    row-sized ``int64`` temporary.

    Parameters
    ----------
    times : numpy.ndarray
        ``datetime64`` values of any unit.

    Returns
    -------
    numpy.ndarray
        ``int32`` day numbers.
    """
    unit: Any  # numpy's stubs want a literal unit
    unit, count = np.datetime_data(times.dtype)
    per_day = int(np.timedelta64(1, "D") // np.timedelta64(count, unit))
    days = np.empty(len(times), dtype=np.int32)
    np.floor_divide(times.view(np.int64), per_day, out=days, casting="unsafe")
    return days


def _customer_codes(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes in ascending id order, with a fast path for dense integer ids."""
    if ptypes.is_integer_dtype(ids.dtype):
        raw = ids.to_numpy() if ids.dtype == np.int64 else ids.to_numpy(dtype=np.int64)
        low, high = int(raw.min()), int(raw.max())
        if high - low <= 4 * len(raw) + 1_000_000:
            dtype = _code_dtype(high - low + 1)
            codes = np.empty(len(raw), dtype=dtype)
            np.subtract(raw, low, out=codes, casting="unsafe")
            present = np.bincount(codes, minlength=high - low + 1) > 0
            remap = (np.cumsum(present) - 1).astype(dtype)
            np.take(remap, codes, out=codes)
            uniques = np.flatnonzero(present) + low
            return codes, pd.Index(uniques, name="customer_id").astype(ids.dtype)
    codes, uniques = pd.factorize(ids, sort=True)
    return codes.astype(_code_dtype(len(uniques))), pd.Index(uniques, name="customer_id")


def _missing_ids(values: pd.Series) -> np.ndarray:
    """Lines without a customer id: missing values, or text that is blank."""
    missing = values.isna().to_numpy(copy=True)
    if values.dtype == object or ptypes.is_string_dtype(values.dtype):
        uniques = pd.Series(pd.unique(values), dtype=object)
        texts = uniques[uniques.map(lambda v: isinstance(v, str))].astype(str)
        blank = set(texts[texts.str.strip().eq("")])
        if blank:
            missing |= values.isin(blank).to_numpy()
    return missing


def _net_total(frame: pd.DataFrame, mapping: dict[str, str]) -> float:
    """Net amount (purchases less returns) of lines left out before their columns are checked."""

    def number(role: str) -> np.ndarray:
        try:
            values = pd.to_numeric(frame[mapping[role]], errors="coerce")
            return np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            return np.full(len(frame), np.nan)

    amounts = number("amount") if "amount" in mapping else number("quantity") * number("unit_price")
    return float(np.nansum(amounts))


def _report_amounts(
    problems: Problems,
    reason: str,
    df: pd.DataFrame,
    mapping: dict[str, str],
    mask: np.ndarray,
    what: str,
    fix: str,
) -> None:
    """Record a problem about amounts, showing each example as written in the file.

    A mapped amount column shows its cells as read; a derived amount shows the
    quantity and unit price it came from (``Quantity=-2, UnitPrice=9.9``),
    never the float product.
    """
    if "amount" in mapping:
        _report(problems, reason, "amount", df[mapping["amount"]], mask, what, fix)
        return
    quantity, price = mapping["quantity"], mapping["unit_price"]
    positions = np.flatnonzero(mask)[:N_EXAMPLES]
    q, p = df[quantity].iloc[positions], df[price].iloc[positions]
    shown = pd.Series(
        [_Written(f"{quantity}={a}, {price}={b}") for a, b in zip(q, p, strict=True)],
        index=q.index,
        name=f"{quantity} x {price}",
        dtype=object,
    )
    text, cases = _examples(shown, np.ones(len(shown), dtype=bool))
    problems.add(
        reason,
        f"amount ({quantity} x {price}): {int(mask.sum()):,} of {len(df):,} "
        f"{row_word(df.index)}s {what}, e.g. {text}; {fix}",
        cases,
    )


def match_returns(
    purchase_keys: np.ndarray,
    purchase_times: np.ndarray,
    purchase_quantities: np.ndarray,
    return_keys: np.ndarray,
    return_times: np.ndarray,
    return_quantities: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair each return with the purchase it reverses.

    A return goes to the earliest purchase with the same key, at or before
    the return's time, that has at least the return's quantity left. Returns
    of one key are taken in time order (ties in input order), and each
    match lowers what is left of its purchase.

    Keys are independent, so the k-th return of every key is matched in one
    vectorised round; the loop runs as many rounds as the most returns any
    one key has.

    Parameters
    ----------
    purchase_keys, return_keys : numpy.ndarray
        Non-negative integer key of each line (e.g. a code of customer and item).
    purchase_times, return_times : numpy.ndarray
        ``int64`` times (or any orderable numbers).
    purchase_quantities, return_quantities : numpy.ndarray
        Positive quantities (returns as positive numbers).

    Returns
    -------
    match : numpy.ndarray
        For each return, the position of its purchase, or -1 when none qualifies.
    remaining : numpy.ndarray
        Quantity left on each purchase (``float64``).

    Examples
    --------
    >>> keys, times = np.array([0, 0, 1]), np.array([1, 2, 1])
    >>> match, left = match_returns(keys, times, np.array([2, 5, 1]),
    ...                             np.array([0, 0, 1]), np.array([3, 3, 0]), np.array([3, 2, 1]))
    >>> match.tolist(), left.tolist()
    ([1, 0, -1], [0.0, 2.0, 1.0])
    """
    n_purchases, n_returns = len(purchase_keys), len(return_keys)
    match = np.full(n_returns, -1, dtype=np.int64)
    remaining = np.asarray(purchase_quantities, dtype=np.float64).copy()
    if n_purchases == 0 or n_returns == 0:
        return match, remaining
    _, key_codes = np.unique(
        np.concatenate([purchase_keys, return_keys]).astype(np.int64), return_inverse=True
    )
    _, time_ranks = np.unique(np.concatenate([purchase_times, return_times]), return_inverse=True)
    width = np.int64(time_ranks.max() + 2)
    combined = key_codes.astype(np.int64) * width + time_ranks
    p_order = np.argsort(combined[:n_purchases], kind="stable")
    r_order = np.argsort(combined[n_purchases:], kind="stable")
    p_sorted = combined[:n_purchases][p_order]
    r_sorted = combined[n_purchases:][r_order]
    r_keys = key_codes[n_purchases:][r_order].astype(np.int64)
    needed = np.asarray(return_quantities, dtype=np.float64)[r_order]
    left = remaining[p_order]
    # Purchases of the return's key, up to and including its time, are one slice.
    starts = np.searchsorted(p_sorted, r_keys * width, side="left")
    ends = np.searchsorted(p_sorted, r_sorted, side="right")
    first_of_key = np.ones(n_returns, dtype=bool)
    first_of_key[1:] = r_keys[1:] != r_keys[:-1]
    position = np.arange(n_returns)
    rounds = position - np.maximum.accumulate(np.where(first_of_key, position, 0))
    by_round = np.argsort(rounds, kind="stable")
    bounds = np.searchsorted(rounds[by_round], np.arange(int(rounds.max()) + 2))
    never = np.int64(n_purchases)
    for k in range(len(bounds) - 1):
        chosen = by_round[bounds[k] : bounds[k + 1]]
        lengths = ends[chosen] - starts[chosen]
        chosen, lengths = chosen[lengths > 0], lengths[lengths > 0]
        if len(chosen) == 0:
            continue
        offsets = np.cumsum(lengths) - lengths
        flat = np.arange(int(lengths.sum())) - np.repeat(offsets - starts[chosen], lengths)
        want = needed[chosen]
        enough = left[flat] >= np.repeat(want - 1e-9 * np.maximum(1.0, want), lengths)
        first = np.minimum.reduceat(np.where(enough, flat, never), offsets)
        found = first < never
        hit = first[found]
        left[hit] -= want[found]
        match[r_order[chosen[found]]] = p_order[hit]
    remaining[p_order] = np.maximum(left, 0.0)
    return match, remaining


@dataclass
class _Ledger:
    """Counts gathered while cleaning, turned into a :class:`DataQuality` at the end."""

    counts: dict[str, Any] = field(default_factory=dict)

    def add(
        self, name: str, lines: np.ndarray, amounts: np.ndarray | None = None, *, net: bool = False
    ) -> None:
        """Count ``lines`` under ``name``; their amount is absolute, or signed with ``net``."""
        self.counts[f"{name}_lines"] = int(lines.sum())
        if amounts is not None:
            total = amounts[lines].sum() if net else np.abs(amounts[lines]).sum()
            # rounded to a millionth: float noise of quantity x price, not currency
            self.counts[f"{name}_amount"] = round(float(total), 6)


def _check_columns(
    df: pd.DataFrame, mapping: dict[str, str], guests: np.ndarray | None
) -> tuple[dict[str, pd.Series], Problems]:
    """Check and clean the column of each role.

    Lines without a customer id (``guests``, left out later) borrow another
    line's id for the check, so that one pass over the whole frame suffices.
    """
    problems = Problems()
    columns: dict[str, pd.Series] = {}
    for role, column in mapping.items():
        values = df[column]
        if role == "customer_id":
            if guests is not None:
                stand_in = values.iloc[int(np.argmin(guests))]
                values = values.where(~guests, stand_in)
            columns[role] = _check_customer_ids(values, problems)
        elif role == "timestamp":
            columns[role] = _check_timestamps(values, problems)
        elif role in NUMERIC_ROLES:
            columns[role] = _check_numeric(role, values, problems)
        elif role in LABEL_ROLES:
            columns[role] = _check_labels(role, values, problems)
        else:
            columns[role] = values
    return columns, problems


def _pair_returns(
    columns: dict[str, pd.Series],
    keep: np.ndarray,
    key_role: str,
    ledger: _Ledger,
) -> tuple[dict[str, pd.Series], np.ndarray, np.ndarray]:
    """Apply refunds="match": pair returns with purchases, cancel or reduce them.

    Returns the columns (amount, quantity and cost of reduced purchases
    changed), the new ``keep`` mask and the mask of unmatched returns.
    """
    amount = columns["amount"].to_numpy(dtype=np.float64)
    has_quantity = "quantity" in columns
    quantity = columns["quantity"].to_numpy(dtype=np.float64) if has_quantity else amount
    is_return = (amount < 0) | (quantity < 0)
    returns = np.flatnonzero(keep & is_return)
    purchases = np.flatnonzero(keep & ~is_return)
    unmatched = np.zeros(len(keep), dtype=bool)
    unmatched[returns] = True
    if len(returns) == 0 or len(purchases) == 0:
        return columns, keep, unmatched
    lines = np.concatenate([purchases, returns])
    customer_codes, _ = pd.factorize(columns["customer_id"])
    item_codes, items = pd.factorize(columns[key_role])
    wide = customer_codes[lines].astype(np.int64) * max(len(items), 1) + item_codes[lines]
    keys, distinct = pd.factorize(wide)
    times = columns["timestamp"].to_numpy().view(np.int64)
    n_purchases = len(purchases)
    returned = np.zeros(len(distinct), dtype=bool)
    returned[keys[n_purchases:]] = True
    relevant = returned[keys[:n_purchases]]
    candidates = purchases[relevant]
    return_quantity = np.abs(quantity[returns])
    match, remaining = match_returns(
        keys[:n_purchases][relevant],
        times[candidates],
        quantity[candidates],
        keys[n_purchases:],
        times[returns],
        np.where(return_quantity > 0, return_quantity, np.inf),  # nothing to return: no match
    )
    found = match >= 0
    hits = np.bincount(match[found], minlength=len(candidates))
    reduction = np.bincount(
        match[found], weights=np.abs(amount[returns[found]]), minlength=len(candidates)
    )
    touched = hits > 0
    cancelled = touched & (remaining <= 1e-9 * np.maximum(1.0, np.abs(quantity[candidates])))
    reduced = touched & ~cancelled

    matched_lines = np.zeros(len(keep), dtype=bool)
    matched_lines[returns[found]] = True
    ledger.add("returns_matched", matched_lines, amount)
    ledger.counts["purchases_cancelled_lines"] = int(cancelled.sum())
    ledger.counts["purchases_reduced_lines"] = int(reduced.sum())
    unmatched[returns[found]] = False
    keep = keep.copy()
    keep[returns[found]] = False
    keep[candidates[cancelled]] = False

    if reduced.any():
        rows = candidates[reduced]
        old_amount = amount[rows]
        new_amount = np.maximum(old_amount - reduction[reduced], 0.0)
        columns = dict(columns)
        columns["amount"] = _with_values(columns["amount"], rows, new_amount)
        if has_quantity:
            old_quantity = quantity[rows]
            new_quantity = remaining[reduced]
            columns["quantity"] = _with_values(columns["quantity"], rows, new_quantity)
            share = new_quantity / old_quantity
        else:
            share = np.divide(new_amount, old_amount, out=np.zeros(len(rows)), where=old_amount > 0)
        for role in PRO_RATA_ROLES:
            if role in columns:
                old = columns[role].to_numpy(dtype=np.float64)[rows]
                columns[role] = _with_values(columns[role], rows, old * share)
    return columns, keep, unmatched


def _with_values(values: pd.Series, rows: np.ndarray, new: np.ndarray) -> pd.Series:
    """Copy ``values`` with the given positions replaced (integers stay integers)."""
    array = values.to_numpy(copy=True)
    if ptypes.is_integer_dtype(array.dtype):
        rounded = np.round(new)
        if np.all(rounded == new):
            new = rounded
        else:
            array = array.astype(np.float64)
    array[rows] = new
    return pd.Series(array, index=values.index, name=values.name)


def _derive_amount(columns: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """Amount = quantity x unit price, placed where the amount column would be."""
    quantity = columns["quantity"].to_numpy(dtype=np.float64)
    price = columns["unit_price"].to_numpy(dtype=np.float64)
    amount = pd.Series(quantity * price, index=columns["quantity"].index, name="amount")
    ordered: dict[str, pd.Series] = {}
    for role, values in columns.items():
        ordered[role] = values
        if role == "timestamp":
            ordered["amount"] = amount
    return ordered


def run_validation(
    df: Any,
    schema: RoleResolver,
    *,
    suggest: Callable[[str, list[str]], str | None],
    policies: CleaningPolicies,
) -> ValidatedTransactions:
    """Validate ``df`` against ``schema``; see :func:`custintel.validate_transactions`.

    Parameters
    ----------
    df : pandas.DataFrame or polars frame
        The transactions.
    schema : RoleResolver
        Usually a :class:`~custintel.TransactionSchema`.
    suggest : callable
        Guesses the column of a missing role (see :func:`resolve_columns`).
    policies : CleaningPolicies
        The cleaning policies, already checked.

    Returns
    -------
    ValidatedTransactions
        With its :class:`DataQuality` ledger in ``quality``.
    """
    df = as_pandas(df)
    _check_shape(df)
    mapping = resolve_columns(df.columns, schema, suggest, derive_amount=True)
    observation_end, exclude_items = policies.observation_end, policies.exclude_items
    end_day = None if observation_end is None else to_day(observation_end, "observation_end")
    rule = exclusion_rule(exclude_items)
    key_role = next((r for r in ("item_id", "order_id") if r in mapping), None)
    policy = ("match" if key_role else "net") if policies.refunds == "auto" else policies.refunds
    if policy == "match" and key_role is None:
        raise SchemaError(
            "refunds='match' pairs each return with the purchase it reverses by customer and "
            "item (or order), but neither item_id nor order_id is mapped; map one, e.g. "
            "TransactionSchema(item_id='StockCode'), or pass refunds='net'",
            reason="refunds_match_needs_key",
        )
    if rule is not None and "item_id" not in mapping:
        raise SchemaError(
            f"exclude_items={exclude_items!r} needs the item id column, but item_id is not "
            "mapped; map it, e.g. TransactionSchema(item_id='StockCode')",
            reason="exclude_items_needs_item_id",
        )
    lines_read = len(df)
    ledger = _Ledger()

    guests = _missing_ids(df[mapping["customer_id"]]) if policies.missing_ids == "drop" else None
    if guests is not None and guests.all():
        raise SchemaError(
            f"none of the {lines_read:,} lines has a customer id "
            f"({describe_column('customer_id', mapping['customer_id'])} is empty); "
            "map the column that identifies customers",
            reason="empty",
        )
    if guests is not None and not guests.any():
        guests = None
    columns, problems = _check_columns(df, mapping, guests)
    if problems.messages and guests is not None:
        # The problems may sit only on lines without a customer id, which are left out
        # anyway (a totals line at the end of an export): check the other lines alone.
        ledger.counts["missing_id_lines"] = int(guests.sum())
        ledger.counts["missing_id_amount"] = round(_net_total(df.loc[guests], mapping), 6)
        df = df.loc[~guests, list(dict.fromkeys(mapping.values()))]
        guests = None
        columns, problems = _check_columns(df, mapping, None)
    problems.raise_if_any()

    if "amount" not in mapping:
        columns = _derive_amount(columns)
    if "margin" in columns:
        margin = columns.pop("margin")
        columns["cost"] = (columns["amount"] - margin).rename("cost")
    if "list_amount" in columns:
        listed = columns.pop("list_amount")
        columns["discount"] = (listed - columns["amount"]).rename("discount")

    amount = columns["amount"].to_numpy(dtype=np.float64)
    keep = np.ones(len(df), dtype=bool)
    if guests is not None:
        ledger.add("missing_id", guests, amount, net=True)
        keep &= ~guests
    if rule is not None:
        codes, uniques = pd.factorize(columns["item_id"])
        texts = pd.Index(uniques).astype(str)
        excluded = keep & rule(texts)[codes]
        ledger.add("excluded_item", excluded, amount, net=True)
        per_code = np.bincount(codes[excluded], minlength=len(texts))
        seen = np.argsort(-per_code, kind="stable")[: min(20, int((per_code > 0).sum()))]
        ledger.counts["excluded_item_codes"] = tuple(texts[seen])
        keep &= ~excluded
    if "unit_price" in columns:
        nonpositive = keep & (columns["unit_price"].to_numpy(dtype=np.float64) <= 0)
        ledger.add("nonpositive_price", nonpositive)
        keep &= ~nonpositive

    times = columns["timestamp"].to_numpy()
    days = day_numbers(times)
    if end_day is not None:
        late = keep & (days > end_day.astype(np.int64))
        if late.any():
            warn(
                f"{int(late.sum()):,} of {lines_read:,} transactions fall after observation_end "
                f"{end_day}; they were dropped. Pass a later observation_end to keep them.",
                DataQualityWarning,
            )
            ledger.add("late", late)
            keep &= ~late
    else:
        today = np.datetime64(pd.Timestamp.now().floor("D").to_datetime64(), "D")
        future = keep & (days > today.astype(np.int64))
        if future.any():
            text, _ = _examples(df[mapping["timestamp"]], future)
            warn(
                f"{int(future.sum()):,} transactions are dated after today ({today}), e.g. {text}; "
                "check the timestamp column, or pass observation_end to cut them off.",
                DataQualityWarning,
            )

    if policy == "match":
        assert key_role is not None
        columns, keep, returns = _pair_returns(columns, keep, key_role, ledger)
        amount = columns["amount"].to_numpy(dtype=np.float64)
        unmatched_policy = policies.unmatched_refunds
        what = (
            f"are returns that match no earlier purchase of the same customer and {key_role} "
            "with enough quantity left"
        )
        fix = (
            "pass unmatched_refunds='net' to keep them as refunds or unmatched_refunds='drop' "
            "to leave them out"
        )
    else:
        returns = keep & (amount < 0)
        unmatched_policy = policy
        what = "have a negative amount"
        fix = "pass refunds='net' to keep refunds or refunds='drop' to remove them"
        if key_role is not None:
            fix += " or refunds='match' to pair them with the purchases they reverse"
    if returns.any():
        if unmatched_policy == "raise":
            _report_amounts(problems, "negative_amount", df, mapping, returns, what, fix)
            problems.raise_if_any()
        ledger.add("returns_unmatched", returns, amount)
        if unmatched_policy == "drop":
            logger.info("dropping %d return lines (refunds=%r)", returns.sum(), policy)
            keep &= ~returns

    if not keep.all():
        if not keep.any():
            raise SchemaError(
                "no transactions are left after applying the cleaning policies "
                f"(observation_end, refunds={policy!r}, exclude_items, unit prices); of "
                f"{lines_read:,} lines, {_left_out_text(ledger)}; the earliest transaction is "
                f"on {np.datetime64(int(days.min()), 'D')}; pass a later observation_end, "
                "refunds='net' or fewer exclusions",
                reason="empty",
            )
        columns = {role: values[keep] for role, values in columns.items()}
        times, days = times[keep], days[keep]

    codes, customers = _customer_codes(columns["customer_id"])
    order, counts, sorted_days = _sort_order(codes, len(customers), times.view(np.int64), days)
    code_dtype = codes.dtype
    del codes  # row-sized arrays dominate peak memory, and peak memory dominates time
    validated = ValidatedTransactions(
        columns=columns,
        order=order,
        customer_codes=np.repeat(np.arange(len(customers), dtype=code_dtype), counts),
        counts=counts,
        days=sorted_days,
        customers=customers,
        end_day=end_day if end_day is not None else np.datetime64(int(days.max()), "D"),
    )
    validated, duplicate_lines = _apply_duplicate_policy(validated, policies.duplicates, problems)
    _check_orders(validated, problems)
    problems.raise_if_any()
    kept_times = times[validated.order]
    quality = DataQuality(
        lines_read=lines_read,
        lines_kept=len(validated.order),
        revenue_kept=float(validated.values("amount", np.float64).sum()),
        first_date=pd.Timestamp(kept_times.min()),
        last_date=pd.Timestamp(kept_times.max()),
        unmatched_policy=unmatched_policy if policy == "match" else policy,
        refunds_policy=policy,
        missing_ids_policy=policies.missing_ids,
        duplicate_lines=duplicate_lines,
        duplicates_policy=policies.duplicates,
        **ledger.counts,
    )
    return replace(validated, quality=quality)


def _left_out_text(ledger: _Ledger) -> str:
    parts = [
        f"{value:,} {name.removesuffix('_lines').replace('_', ' ')}"
        for name, value in ledger.counts.items()
        if name.endswith("_lines") and value
    ]
    return ", ".join(parts) + " lines were left out" if parts else "none was left out"


def _apply_duplicate_policy(
    validated: ValidatedTransactions, policy: str, problems: Problems
) -> tuple[ValidatedTransactions, int]:
    """Find rows identical to an earlier row and apply the ``duplicates`` policy.

    Rows are sorted by (customer, timestamp), so identical rows are within one
    run of equal (customer, timestamp); only those runs are compared in full,
    by a 64-bit hash of each row, and hash matches are confirmed value by value.
    ``"keep"`` skips the scan: its outcome would not depend on it. Returns the
    transactions and the number of repeated rows found.
    """
    if policy == "keep":
        return validated, 0
    codes, days = validated.customer_codes, validated.days
    same_as_prev = np.zeros(len(codes), dtype=bool)
    same_as_prev[1:] = (codes[1:] == codes[:-1]) & (days[1:] == days[:-1])
    pairs = np.flatnonzero(same_as_prev)
    if len(pairs) == 0:
        return validated, 0
    # Only rows sharing a customer and a day can be identical: compare their full times.
    times = validated.columns["timestamp"].to_numpy().view(np.int64)
    same_as_prev[pairs] = times[validated.order[pairs]] == times[validated.order[pairs - 1]]
    in_run = same_as_prev.copy()
    in_run[:-1] |= same_as_prev[1:]
    if not in_run.any():
        return validated, 0
    candidates = np.flatnonzero(in_run)
    # Identical rows also share their amount: keep only rows whose (customer, time,
    # amount) key repeats, using a cheap 64-bit mix (collisions only add candidates).
    positions = validated.order[candidates]
    amounts = validated.columns["amount"].to_numpy(dtype=np.float64)[positions]
    with np.errstate(over="ignore"):
        key = (
            codes[candidates].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
            + times[positions].view(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
            + amounts.view(np.uint64) * np.uint64(0x94D049BB133111EB)
        )
    run_id = np.cumsum(~same_as_prev[candidates])
    candidates = candidates[_repeated_keys_within_runs(run_id, key)]
    if len(candidates) == 0:
        return validated, 0
    positions = validated.order[candidates]
    subset = pd.DataFrame(
        {role: _comparable(values, positions) for role, values in validated.columns.items()}
    )
    repeated = candidates[_repeated_rows(subset)]
    if len(repeated) == 0:
        return validated, 0
    count = len(repeated)
    labels = validated.columns["customer_id"].index[validated.order[repeated[:N_EXAMPLES]]]
    examples = ", ".join(repr(label) for label in labels)
    where = "lines" if row_word(labels) == "line" else "input rows"
    if policy == "raise":
        problems.add(
            "duplicate_rows",
            f"{count:,} rows are exact duplicates of an earlier row ({where} {examples}); "
            "pass duplicates='drop' to remove them or duplicates='keep' if they are genuine",
            pd.DataFrame({"row": labels}),
        )
    elif policy == "warn":
        warn(
            f"{count:,} of {len(codes):,} rows are exact duplicates of an earlier row "
            f"({where} {examples}); they were kept as separate transactions. Pass "
            "duplicates='drop' if they were loaded twice, or duplicates='keep' to silence this.",
            DataQualityWarning,
        )
    elif policy == "drop":
        logger.info("dropping %d duplicate rows (duplicates='drop')", count)
        keep = np.ones(len(codes), dtype=bool)
        keep[repeated] = False
        return replace(
            validated,
            order=validated.order[keep],
            customer_codes=codes[keep],
            counts=np.bincount(codes[keep], minlength=len(validated.counts)),
            days=validated.days[keep],
        ), count
    return validated, count


def _comparable(values: pd.Series, positions: np.ndarray) -> np.ndarray:
    """Values at ``positions`` in a form that compares and hashes like the values.

    Text columns become their factorize codes (missing values share code -1),
    which is much cheaper than taking Arrow-backed strings row by row.
    """
    if ptypes.is_numeric_dtype(values.dtype) or ptypes.is_datetime64_any_dtype(values.dtype):
        return values.to_numpy()[positions]
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    return codes[positions]


def _repeated_keys_within_runs(run_id: np.ndarray, key: np.ndarray, window: int = 8) -> np.ndarray:
    """Mark rows whose key occurs again in the same run (runs are contiguous).

    Runs are short (the lines of one customer's purchase at one moment), so
    each row is compared with its next ``window - 1`` neighbours in shifted,
    vectorised passes; only rows of longer runs go through a hash table.
    """
    repeated = np.zeros(len(key), dtype=bool)
    for shift in range(1, window):
        if shift >= len(key):
            break
        same = (run_id[shift:] == run_id[:-shift]) & (key[shift:] == key[:-shift])
        repeated[shift:] |= same
        repeated[:-shift] |= same
    long_run = np.bincount(run_id)[run_id] > window
    if long_run.any():
        rows = np.flatnonzero(long_run)
        pairs = pd.DataFrame({"run": run_id[rows], "key": key[rows]})
        repeated[rows] |= pairs.duplicated(keep=False).to_numpy()
    return repeated


def _repeated_rows(frame: pd.DataFrame) -> np.ndarray:
    """Positions of rows equal to an earlier row (hash first, then confirmed exactly)."""
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    codes, _ = pd.factorize(hashes)  # codes are numbered in order of first appearance
    is_new = np.ones(len(codes), dtype=bool)
    is_new[1:] = codes[1:] > np.maximum.accumulate(codes)[:-1]
    suspects = np.flatnonzero(~is_new)
    if len(suspects) == 0:
        return suspects
    originals = np.flatnonzero(is_new)[codes[suspects]]
    later = frame.iloc[suspects].reset_index(drop=True)
    earlier = frame.iloc[originals].reset_index(drop=True)
    same = ((later == earlier) | (later.isna() & earlier.isna())).all(axis=1).to_numpy()
    return suspects[same]


def _check_orders(validated: ValidatedTransactions, problems: Problems) -> None:
    """Check that every order belongs to exactly one customer."""
    if not validated.has("order_id"):
        return
    codes = validated.customer_codes
    unsorted_codes, _ = pd.factorize(validated.columns["order_id"])
    order_codes = unsorted_codes[validated.order]
    first_customer = np.full(order_codes.max() + 1, -1, dtype=np.int64)
    first_customer[order_codes[::-1]] = codes[::-1]
    conflict = first_customer[order_codes] != codes
    if conflict.any():
        bad = validated.columns["order_id"].to_numpy()[validated.order[conflict]]
        labels = validated.columns["order_id"].index[validated.order[conflict]]
        shown = list(dict.fromkeys(bad.tolist()))[:N_EXAMPLES]
        problems.add(
            "order_with_several_customers",
            f"column 'order_id': {len(set(bad.tolist())):,} orders belong to more than one "
            f"customer, e.g. {shown}; an order id must identify one customer's basket, so "
            "make ids unique per customer (e.g. combine customer and order)",
            pd.DataFrame({"row": labels[:N_EXAMPLES], "value": bad[:N_EXAMPLES]}),
        )
