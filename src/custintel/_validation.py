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
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import sparse

from custintel.exceptions import DataQualityWarning, SchemaError, warn

__all__ = [
    "ATTRIBUTE_ROLES",
    "LABEL_ROLES",
    "NUMERIC_ROLES",
    "N_EXAMPLES",
    "Problems",
    "RoleResolver",
    "ValidatedTransactions",
    "as_pandas",
    "check_policies",
    "describe_column",
    "resolve_columns",
    "run_validation",
    "to_day",
]

logger = logging.getLogger("custintel")

#: Example rows an error message shows at most.
N_EXAMPLES = 5
#: Roles whose columns must be numbers.
NUMERIC_ROLES: tuple[str, ...] = ("amount", "quantity", "cost", "margin")
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
    """

    columns: dict[str, pd.Series]
    order: np.ndarray
    customer_codes: np.ndarray
    counts: np.ndarray
    days: np.ndarray
    customers: pd.Index
    end_day: np.datetime64

    def values(self, role: str, dtype: Any = None) -> np.ndarray:
        """Sorted values of one role as a numpy array."""
        return self.columns[role].to_numpy(dtype=dtype)[self.order]

    def has(self, role: str) -> bool:
        """Whether the role is mapped."""
        return role in self.columns

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The canonical sorted frame (see :func:`custintel.validate_transactions`)."""
        return pd.DataFrame(
            {
                role: values.iloc[self.order].reset_index(drop=True)
                for role, values in self.columns.items()
            }
        )


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
        failure_cases = pd.concat(self.cases, ignore_index=True, sort=False)
        raise SchemaError(
            text,
            reason=self.reasons[0],
            reasons=tuple(self.reasons),
            failure_cases=failure_cases,
        )


def _examples(values: pd.Series, mask: np.ndarray) -> tuple[str, pd.DataFrame]:
    """Describe up to five offending rows: text for the message, rows for the error."""
    positions = np.flatnonzero(mask)[:N_EXAMPLES]
    sample = values.iloc[positions]
    text = ", ".join(f"row {label!r}: {value!r}" for label, value in sample.items())
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
        f"{describe_column(role, str(values.name))}: {count:,} of {len(values):,} rows {what}, "
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
    module = type(df).__module__ or ""
    if module.startswith("polars"):
        frame = df.collect() if hasattr(df, "collect") else df
        try:
            return frame.to_pandas()
        except Exception as exc:  # polars needs pyarrow for to_pandas
            raise SchemaError(
                f"could not convert the polars {type(df).__name__} to pandas ({exc}); "
                "install pyarrow (pip install 'custintel[parquet]') or pass df.to_pandas()",
                reason="conversion_failed",
            ) from exc
    raise SchemaError(
        f"transactions must be a pandas DataFrame (or polars DataFrame), got "
        f"{type(df).__module__}.{type(df).__name__}; build one with pd.DataFrame(...) "
        "or read it with pd.read_csv(...)",
        reason="not_a_dataframe",
    )


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
    missing = [role for role, column in mapping.items() if column not in columns]
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
            "drop them (df.dropna(subset=[...])) or fill them with a real id",
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
                "drop them or fill them with a real id",
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
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parsed = pd.to_datetime(values, errors="coerce")
                if (parsed.isna() & values.notna()).any():
                    # ISO 8601 with and without a time of day is unambiguous: accept it.
                    iso = pd.to_datetime(values, errors="coerce", format="ISO8601")
                    if not (iso.isna() & values.notna()).any():
                        parsed = iso
        except (ValueError, TypeError) as exc:
            problems.add(
                "mixed_timezones",
                f"{where} could not be parsed as one kind of datetime ({exc}); if it mixes UTC "
                f"offsets, convert it explicitly, e.g. pd.to_datetime(df[{values.name!r}], "
                "utc=True).dt.tz_convert('Europe/London').dt.tz_localize(None)",
            )
            return values
        if not ptypes.is_datetime64_any_dtype(parsed.dtype):
            problems.add(
                "mixed_timezones",
                f"{where} mixes time zones or UTC offsets; convert it explicitly, e.g. "
                f"pd.to_datetime(df[{values.name!r}], utc=True).dt.tz_convert('Europe/London')"
                ".dt.tz_localize(None)",
            )
            return values
        _warn_if_day_month_ambiguous(values)
        unparseable = (parsed.isna() & values.notna()).to_numpy()
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


def _warn_if_day_month_ambiguous(values: pd.Series) -> None:
    """Warn when text dates such as 03/04/2024 could be day-first or month-first.

    pandas reads them month-first; when no value has a first or second part above 12,
    nothing in the data tells the two readings apart, so the choice must not be silent.
    """
    distinct = pd.Series(pd.unique(values.dropna().astype(str)))
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


def check_policies(refunds: str, duplicates: str) -> None:
    """Check the ``refunds`` and ``duplicates`` policy arguments of every validating entry point.

    Parameters
    ----------
    refunds : str
        Must be ``"net"``, ``"drop"`` or ``"raise"``.
    duplicates : str
        Must be ``"warn"``, ``"keep"``, ``"drop"`` or ``"raise"``.

    Raises
    ------
    ValueError
        When either is not one of its values.
    """
    if refunds not in ("net", "drop", "raise"):
        raise ValueError(f"refunds must be 'net', 'drop' or 'raise', got {refunds!r}")
    if duplicates not in ("warn", "keep", "drop", "raise"):
        raise ValueError(
            f"duplicates must be 'warn', 'keep', 'drop' or 'raise', got {duplicates!r}"
        )


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


def run_validation(
    df: Any,
    schema: RoleResolver,
    *,
    suggest: Callable[[str, list[str]], str | None],
    refunds: str,
    observation_end: Any,
    duplicates: str,
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
    refunds, observation_end, duplicates
        The policies of :func:`custintel.validate_transactions`, already checked
        (:func:`check_policies`).

    Returns
    -------
    ValidatedTransactions
    """
    df = as_pandas(df)
    _check_shape(df)
    mapping = resolve_columns(df.columns, schema, suggest)
    end_day = None if observation_end is None else to_day(observation_end, "observation_end")

    problems = Problems()
    columns: dict[str, pd.Series] = {}
    for role, column in mapping.items():
        values = df[column]
        if role == "customer_id":
            columns[role] = _check_customer_ids(values, problems)
        elif role == "timestamp":
            columns[role] = _check_timestamps(values, problems)
        elif role in NUMERIC_ROLES:
            columns[role] = _check_numeric(role, values, problems)
        elif role in LABEL_ROLES:
            columns[role] = _check_labels(role, values, problems)
        else:
            columns[role] = values
    problems.raise_if_any()

    if "margin" in columns:
        margin = columns.pop("margin")
        columns["cost"] = (columns["amount"] - margin).rename("cost")

    keep = np.ones(len(df), dtype=bool)
    negative = columns["amount"].to_numpy() < 0
    if negative.any():
        if refunds == "raise":
            _report(
                problems,
                "negative_amount",
                "amount",
                df[mapping["amount"]],
                negative,
                "have a negative amount",
                "pass refunds='net' to keep refunds or refunds='drop' to remove them",
            )
            problems.raise_if_any()
        elif refunds == "drop":
            logger.info("dropping %d rows with negative amount (refunds='drop')", negative.sum())
            keep &= ~negative

    times = columns["timestamp"].to_numpy()
    days = day_numbers(times)
    if end_day is not None:
        late = days > end_day.astype(np.int64)
        if late.any():
            warn(
                f"{int(late.sum()):,} of {len(df):,} transactions fall after observation_end "
                f"{end_day}; they were dropped. Pass a later observation_end to keep them.",
                DataQualityWarning,
            )
            keep &= ~late
    else:
        today = np.datetime64(pd.Timestamp.now().floor("D").to_datetime64(), "D")
        future = days > today.astype(np.int64)
        if future.any():
            text, _ = _examples(df[mapping["timestamp"]], future)
            warn(
                f"{int(future.sum()):,} transactions are dated after today ({today}), e.g. {text}; "
                "check the timestamp column, or pass observation_end to cut them off.",
                DataQualityWarning,
            )

    if not keep.all():
        if not keep.any():
            raise SchemaError(
                "no transactions are left after applying observation_end and the refunds policy; "
                f"{int(negative.sum()):,} rows are refunds and the earliest transaction is on "
                f"{np.datetime64(int(days.min()), 'D')}; pass a later observation_end or "
                "refunds='net'",
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
    validated = _apply_duplicate_policy(validated, duplicates, problems)
    _check_orders(validated, problems)
    problems.raise_if_any()
    return validated


def _apply_duplicate_policy(
    validated: ValidatedTransactions, policy: str, problems: Problems
) -> ValidatedTransactions:
    """Find rows identical to an earlier row and apply the ``duplicates`` policy.

    Rows are sorted by (customer, timestamp), so identical rows are within one
    run of equal (customer, timestamp); only those runs are compared in full,
    by a 64-bit hash of each row, and hash matches are confirmed value by value.
    ``"keep"`` skips the scan: its outcome would not depend on it.
    """
    if policy == "keep":
        return validated
    codes, days = validated.customer_codes, validated.days
    same_as_prev = np.zeros(len(codes), dtype=bool)
    same_as_prev[1:] = (codes[1:] == codes[:-1]) & (days[1:] == days[:-1])
    pairs = np.flatnonzero(same_as_prev)
    if len(pairs) == 0:
        return validated
    # Only rows sharing a customer and a day can be identical: compare their full times.
    times = validated.columns["timestamp"].to_numpy().view(np.int64)
    same_as_prev[pairs] = times[validated.order[pairs]] == times[validated.order[pairs - 1]]
    in_run = same_as_prev.copy()
    in_run[:-1] |= same_as_prev[1:]
    if not in_run.any():
        return validated
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
        return validated
    subset = pd.DataFrame(
        {
            role: values.iloc[validated.order[candidates]].reset_index(drop=True)
            for role, values in validated.columns.items()
        }
    )
    repeated = candidates[_repeated_rows(subset)]
    if len(repeated) == 0:
        return validated
    count = len(repeated)
    labels = validated.columns["customer_id"].index[validated.order[repeated[:N_EXAMPLES]]]
    examples = ", ".join(repr(label) for label in labels)
    if policy == "raise":
        problems.add(
            "duplicate_rows",
            f"{count:,} rows are exact duplicates of an earlier row (input rows {examples}); "
            "pass duplicates='drop' to remove them or duplicates='keep' if they are genuine",
            pd.DataFrame({"row": labels}),
        )
    elif policy == "warn":
        warn(
            f"{count:,} of {len(codes):,} rows are exact duplicates of an earlier row "
            f"(input rows {examples}); they were kept as separate transactions. Pass "
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
        )
    return validated


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
    orders = validated.values("order_id")
    order_codes, _ = pd.factorize(orders)
    first_customer = np.full(order_codes.max() + 1, -1, dtype=np.int64)
    first_customer[order_codes[::-1]] = codes[::-1]
    conflict = first_customer[order_codes] != codes
    if conflict.any():
        bad = orders[conflict]
        labels = validated.columns["order_id"].index[validated.order[conflict]]
        shown = list(dict.fromkeys(bad.tolist()))[:N_EXAMPLES]
        problems.add(
            "order_with_several_customers",
            f"column 'order_id': {len(set(bad.tolist())):,} orders belong to more than one "
            f"customer, e.g. {shown}; an order id must identify one customer's basket, so "
            "make ids unique per customer (e.g. combine customer and order)",
            pd.DataFrame({"row": labels[:N_EXAMPLES], "value": bad[:N_EXAMPLES]}),
        )
