"""Writing and reading the plain-JSON model exports (``to_dict`` / ``from_dict``).

Every estimator with a JSON export (the CLV models, the segmenters, the churn
classifier, the cross-sell recommender, the early-life value model) writes it
with the helpers here and reads it back through one :class:`ExportReader`.
An export may come from anyone (a CRM system loads what somebody else saved),
so the reader refuses anything that is not exactly what ``to_dict`` writes:
missing or unknown fields, wrong types, non-finite numbers, values outside
their domain. Nothing in an export is looked up by name or executed.

Every refusal is an :class:`~custintel.exceptions.InvalidModelError` whose
message names the field, the value, what is allowed and the fix, and whose
``reason`` is one of:

``wrong_model``
    Not an export of this model: text that is not JSON, a value that is not a
    JSON object, or a ``model`` field that names another class.
``bad_format_version``
    A format version this custintel does not read.
``missing_field`` / ``unknown_field``
    A field (or parameter, or column) that must be there is not, or one that
    ``to_dict`` never writes is.
``bad_parameter``
    A value of the wrong type or outside its domain: a parameter, a
    hyperparameter the estimator refuses, a fitted statistic, a table cell.

This module sits in the lowest layer, beside :mod:`custintel.exceptions`: it
imports nothing else of custintel, so every estimator package may use it.
"""

from __future__ import annotations

import json
import math
import numbers
import reprlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypedDict, TypeVar, Unpack

import numpy as np
import pandas as pd

from custintel.exceptions import InvalidModelError

__all__ = [
    "ANY_NUMBER",
    "NONNEGATIVE",
    "POSITIVE",
    "REASONS",
    "REEXPORT",
    "UNIT_INTERVAL",
    "Domain",
    "EntryOptions",
    "ExportReader",
    "NumberOptions",
    "as_float",
    "export_header",
    "frame_to_json",
    "is_real_number",
    "json_float",
    "show",
]

#: Every ``reason`` an :class:`ExportReader` gives (see the module docstring).
REASONS = frozenset(
    {"wrong_model", "bad_format_version", "missing_field", "unknown_field", "bad_parameter"}
)

#: The fix every message ends with, unless a reader is given another.
REEXPORT = "re-export the model with to_dict() from a fitted model"

_T = TypeVar("_T")

_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxtuple = 6
_SHORT.maxdict = 4
_SHORT.maxlevel = 2


class _Missing:
    """What a message shows for a field that is not there."""

    def __repr__(self) -> str:
        return "missing"


_MISSING: Any = _Missing()


def show(value: Any) -> str:
    """Return a short ``repr`` of a value from an export, safe for any value.

    Parameters
    ----------
    value : object
        Anything, possibly huge or deeply nested.

    Returns
    -------
    str
        At most about 60 characters.

    Examples
    --------
    >>> show(list(range(100)))
    '[0, 1, 2, 3, 4, 5, ...]'
    >>> show(10**5000)
    'an integer of 16610 bits'
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"an integer of {value.bit_length()} bits"
    try:
        return _SHORT.repr(value)
    except (ValueError, RecursionError):  # deep nesting
        return f"<{type(value).__name__}>"


def is_real_number(value: Any) -> bool:
    """Return whether ``value`` is an int or a float (numpy too), not a bool or a string."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def as_float(value: Any) -> float:
    """Return a real number as a float; NaN for anything else (or an int too large)."""
    if not is_real_number(value):
        return math.nan
    try:
        return float(value)
    except (OverflowError, ValueError, TypeError):
        return math.nan


def _bound(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


@dataclass(frozen=True)
class Domain:
    """An interval of allowed numbers, e.g. ``Domain(0.0, low_open=True)`` for ``> 0``.

    Parameters
    ----------
    low, high : float, default=-inf, inf
        Bounds (ints are shown exactly in messages).
    low_open, high_open : bool, default=False
        Whether a bound itself is excluded.
    label : str, default=""
        The domain in words, for messages; by default made from the bounds.

    Examples
    --------
    >>> Domain(0.0, 1.0, high_open=True).describe(), 1.0 in Domain(0.0, 1.0, high_open=True)
    ('in [0, 1)', False)
    """

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    label: str = ""

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Return, element-wise, whether ``values`` lie in the domain."""
        low = values > self.low if self.low_open else values >= self.low
        high = values < self.high if self.high_open else values <= self.high
        return np.asarray(low & high)

    def describe(self) -> str:
        """Return the domain in words, e.g. ``"> 0"``, ``"in [0, 1]"``; ``""`` if unbounded."""
        if self.label:
            return self.label
        low, high = _bound(self.low), _bound(self.high)
        if math.isinf(self.high):
            return "" if math.isinf(self.low) else f"{'>' if self.low_open else '>='} {low}"
        if math.isinf(self.low):
            return f"{'<' if self.high_open else '<='} {high}"
        return f"in {'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"


POSITIVE = Domain(0.0, low_open=True)
NONNEGATIVE = Domain(0.0)
UNIT_INTERVAL = Domain(0.0, 1.0)
ANY_NUMBER = Domain()


# --- writing -----------------------------------------------------------------------------


def json_float(value: Any) -> float | str:
    """Return a float as JSON data: finite values as floats, infinities as text.

    JSON has no infinity (and the model bundle writes with ``allow_nan=False``),
    so ``inf`` and ``-inf`` are written as the strings ``"inf"`` and ``"-inf"``;
    :meth:`ExportReader.number` reads them back with ``infinity=``. Finite
    floats round-trip exactly through :func:`json.dumps` and :func:`json.loads`.

    Parameters
    ----------
    value : float
        A number.

    Returns
    -------
    float or str
        ``float(value)``, or ``"inf"`` / ``"-inf"``.

    Raises
    ------
    ValueError
        For NaN, which no export field holds.
    """
    number = float(value)
    if math.isnan(number):
        raise ValueError("NaN has no place in a model export")
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return number


def _plain(value: Any, name: str) -> Any:
    """Return a hyperparameter value as JSON data (tuples and arrays become lists)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_plain(v, name) for v in value]
    raise ValueError(
        f"hyperparameter {name!r} is a {type(value).__name__}, which has no JSON form; "
        "use None, a string, a number or a list of them"
    )


def export_header(estimator: Any, format_version: int, **converted: Any) -> dict[str, Any]:
    """Start an export: ``model``, ``format_version`` and JSON-safe ``hyperparameters``.

    Parameters
    ----------
    estimator : BaseEstimator
        The fitted estimator.
    format_version : int
        The export layout its ``from_dict`` reads.
    **converted
        Hyperparameters the caller has already turned into JSON data (e.g. a
        frame written by :func:`frame_to_json`); the others go through as
        plain values.

    Returns
    -------
    dict
        The first three fields of the export.

    Raises
    ------
    ValueError
        For a hyperparameter with no JSON form.
    """
    params = estimator.get_params(deep=False)
    return {
        "model": type(estimator).__name__,
        "format_version": format_version,
        "hyperparameters": {
            name: converted[name] if name in converted else _plain(value, name)
            for name, value in params.items()
        },
    }


def _cell(value: Any, where: str) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ValueError(f"{where} is infinite, which a JSON export cannot hold")
        return value
    if isinstance(value, (str, bool, int)):
        return value
    raise ValueError(
        f"{where} is a {type(value).__name__}; a JSON export holds strings, numbers, booleans "
        "and missing values; convert it, e.g. with .astype(str)"
    )


_FRAME_FIELDS = ("index_name", "index", "columns", "records")


def frame_to_json(frame: pd.DataFrame, name: str) -> dict[str, Any]:
    """Write a small table (a playbook) as records; :meth:`ExportReader.frame` reads it.

    Parameters
    ----------
    frame : pandas.DataFrame
        String index and string column names; cells are strings, numbers,
        booleans or missing values.
    name : str
        What the frame is, for messages.

    Returns
    -------
    dict
        ``index_name``, ``index`` (row labels), ``columns`` and ``records``
        (one ``{column: value}`` object per row; missing values are ``None``).

    Raises
    ------
    ValueError
        For labels that are not strings, duplicated column names or cells
        with no JSON form.
    """
    labels = [*frame.index.tolist(), *frame.columns.tolist(), frame.index.name]
    odd = [v for v in labels if v is not None and not isinstance(v, str)]
    if odd:
        raise ValueError(
            f"{name} has labels that are not strings, e.g. {odd[:3]}; a JSON export needs "
            "string row and column labels (and index name)"
        )
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise ValueError(f"{name} has duplicated column names {columns}; rename them")
    # to_numpy keeps one (empty) row per label when there are no columns; pandas 2's
    # itertuples yields nothing then
    rows = [tuple(row) for row in frame.astype(object).to_numpy()]
    return {
        "index_name": frame.index.name,
        "index": [str(v) for v in frame.index],
        "columns": columns,
        "records": [
            {
                column: _cell(value, f"{name} cell ({label!r}, {column!r})")
                for column, value in zip(columns, row, strict=True)
            }
            for label, row in zip(frame.index, rows, strict=True)
        ],
    }


# --- reading -----------------------------------------------------------------------------


class EntryOptions(TypedDict, total=False):
    """How :meth:`ExportReader.number` reads one number, besides its domain.

    Attributes
    ----------
    allowed : str or None
        The domain in words, for the message; by default made from the domain.
    infinity : {"inf", "-inf"} or None
        An infinity the field may hold, written as this text (see :func:`json_float`).
    """

    allowed: str | None
    infinity: str | None


class NumberOptions(EntryOptions, total=False):
    """:class:`EntryOptions` and how a lone number is named and may be null.

    Attributes
    ----------
    allow_none : bool
        Whether ``None`` (JSON null) is allowed; it reads as NaN. False by default.
    label : str or None
        How to name the field in messages, instead of ``field 'path'``.
    """

    allow_none: bool
    label: str | None


def _stands_for_none(values: np.ndarray, none_means: float | None) -> np.ndarray:
    """Where ``values`` hold the number that JSON null stands for (NaN or an infinity)."""
    if none_means is None:
        return np.zeros(np.shape(values), dtype=bool)
    return np.isnan(values) if math.isnan(none_means) else np.asarray(values == none_means)


class ExportReader:
    """Read one export and raise :class:`InvalidModelError` for anything unexpected.

    Every check takes the value read and its ``field``: its path in the
    export (``"cut_points.recency[2]"``), named ``field 'cut_points.recency[2]'``
    in messages; ``label=`` names it otherwise (``"parameter 'r'"``). Every
    message reads ``<what>: <field> is <value>; it must be <allowed>; <fix>``.

    Parameters
    ----------
    what : str
        What is read, the start of every message, e.g. ``"BetaGeoModel export"``.
    fix : str, default="re-export the model with to_dict() from a fitted model"
        How to fix a bad export, the end of every message.

    Examples
    --------
    >>> reader = ExportReader("Demo export")
    >>> data = reader.envelope('{"model": "Demo", "format_version": 1, "rate": -2}',
    ...                        model="Demo", versions=(1,), required=("rate",))
    >>> try:
    ...     reader.number(data["rate"], "rate", POSITIVE)
    ... except InvalidModelError as err:
    ...     print(err.reason, "|", err)
    bad_parameter | Demo export: field 'rate' is -2; it must be a finite number > 0;
    re-export the model with to_dict() from a fitted model
    """

    def __init__(self, what: str, *, fix: str = REEXPORT) -> None:
        self.what = what
        self.fix = fix

    # --- messages ------------------------------------------------------------------------

    def fail(self, problem: str, *, reason: str = "bad_parameter", fix: str = "") -> NoReturn:
        """Raise ``InvalidModelError`` for ``problem`` with the reason code ``reason``.

        Parameters
        ----------
        problem : str
            What is wrong.
        reason : str, default="bad_parameter"
            One of :data:`REASONS`.
        fix : str, default=""
            How to fix it; by default the reader's fix.

        Raises
        ------
        InvalidModelError
            Always.
        """
        raise InvalidModelError(f"{self.what}: {problem}; {fix or self.fix}", reason=reason)

    @staticmethod
    def name(field: str) -> str:
        """Return how messages name the field at path ``field``."""
        return f"field {field!r}"

    def reject(
        self,
        field: str,
        value: Any,
        allowed: str,
        *,
        reason: str = "bad_parameter",
        label: str | None = None,
    ) -> NoReturn:
        """Refuse ``value`` read at ``field``: say what it is and what it must be.

        Parameters
        ----------
        field : str
            Path of the field.
        value : object
            What it holds.
        allowed : str
            What it may hold, after "it must be".
        reason : str, default="bad_parameter"
            One of :data:`REASONS`.
        label : str or None, default=None
            How to name the field, instead of ``field 'path'``.

        Raises
        ------
        InvalidModelError
            Always.
        """
        name = self.name(field) if label is None else label
        self.fail(f"{name} is {show(value)}; it must be {allowed}", reason=reason)

    def checked(
        self,
        field: str,
        check: Callable[[], _T],
        errors: tuple[type[Exception], ...] = (ValueError,),
    ) -> _T:
        """Run one of the estimator's own checks; what it raises becomes ``bad_parameter``.

        Parameters
        ----------
        field : str
            Path of what is checked, e.g. ``"hyperparameters"``.
        check : callable
            The check, returning what it computed.
        errors : tuple of exception types, default=(ValueError,)
            What the check raises for a bad value.

        Returns
        -------
        object
            What ``check`` returns.
        """
        try:
            return check()
        except errors as err:
            self.fail(f"{field}: {err} (the estimator's own check)")

    # --- structure -----------------------------------------------------------------------

    def load(self, data: Any) -> Mapping[str, Any]:
        """Return ``data`` as a mapping, parsing JSON text first (``wrong_model`` otherwise)."""
        if isinstance(data, (str, bytes, bytearray)):
            try:
                data = json.loads(data)
            except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
                self.fail(f"the text is not valid JSON ({show(str(err))})", reason="wrong_model")
        if not isinstance(data, Mapping):
            self.fail(
                f"expected a JSON object (a mapping) or its JSON text, got {type(data).__name__} "
                f"{show(data)}",
                reason="wrong_model",
            )
        return data

    def envelope(
        self,
        data: Any,
        *,
        model: str,
        versions: Collection[int],
        required: Collection[str],
        optional: Collection[str] = (),
    ) -> Mapping[str, Any]:
        """Check an export's envelope: a mapping of this model and format version, known fields.

        Parameters
        ----------
        data : mapping or str
            The export, or its JSON text.
        model : str
            The class name its ``model`` field must hold.
        versions : collection of int
            The format versions this custintel reads.
        required, optional : collection of str
            The other top-level fields (``model`` and ``format_version`` are added).

        Returns
        -------
        mapping
            The export.
        """
        export = self.load(data)
        self.model_name(export, (model,))
        self.format_version(export, versions)
        return self.keys(export, required=("model", "format_version", *required), optional=optional)

    def keys(
        self,
        value: Any,
        field: str = "",
        *,
        required: Collection[str],
        optional: Collection[str] = (),
        where: str = "field",
    ) -> Mapping[str, Any]:
        """Check a mapping: every required key present, no key neither required nor optional.

        Parameters
        ----------
        field : str, default=""
            Its path (``""`` for the export itself).
        required, optional : collection of str
            Its keys.
        where : str, default="field"
            What a key is, in messages: ``"field"``, ``"parameter"``...

        Returns
        -------
        mapping
            ``value``.
        """
        known = [*required, *optional]
        if not isinstance(value, Mapping):
            self.reject(field, value, f"a JSON object with the {where}s {known}")
        prefix = f"{field}." if field else ""
        missing = [k for k in required if k not in value]
        if missing:
            self.fail(
                f"{where} {prefix + missing[0]!r} is missing (expected {where}s: {known})",
                reason="missing_field",
            )
        unknown = [k for k in value if k not in known]
        if unknown:
            key = unknown[0]
            name = show(prefix + key) if isinstance(key, str) else f"{prefix}{show(key)}"
            self.fail(
                f"unknown {where} {name} (expected {where}s: {known})", reason="unknown_field"
            )
        return value

    def mapping(self, value: Any, field: str) -> Mapping[str, Any]:
        """Return ``value`` if it is a mapping (a JSON object)."""
        if not isinstance(value, Mapping):
            self.reject(field, value, "a mapping (a JSON object)")
        return value

    def model_name(
        self,
        data: Mapping[str, Any],
        expected: Collection[str],
        *,
        field: str = "model",
        label: str | None = None,
    ) -> str:
        """Return ``data[field]`` if it is one of the ``expected`` model names.

        ``label`` is the field's path in messages (default: ``field``).
        """
        label = field if label is None else label
        names = sorted(expected)
        allowed = names[0] if len(names) == 1 else f"one of {names}"
        if field not in data:
            self.fail(
                f"field {label!r} is missing (expected the model name {allowed})",
                reason="missing_field",
            )
        name = data[field]
        if not isinstance(name, str) or name not in expected:
            where = f" ({name}.from_dict)" if isinstance(name, str) and name.isidentifier() else ""
            self.fail(
                f"field {label!r} is {show(name)}, not {allowed}; load this export with the "
                f"class it names{where}",
                reason="wrong_model",
            )
        return name

    def format_version(
        self, data: Mapping[str, Any], supported: Collection[int], field: str = "format_version"
    ) -> int:
        """Return ``data[field]`` if it is one of the ``supported`` format versions."""
        versions = " or ".join(map(str, sorted(supported)))
        if field not in data:
            self.fail(
                f"field {field!r} is missing (expected {field} {versions})", reason="missing_field"
            )
        version = data[field]
        if (
            isinstance(version, (bool, np.bool_))
            or not isinstance(version, numbers.Integral)
            or version not in supported
        ):
            self.fail(
                f"field {field!r} is {show(version)}; this version of custintel reads "
                f"{field} {versions} (an export of {field} {show(version)} needs the "
                "custintel that wrote it)",
                reason="bad_format_version",
            )
        return int(version)

    # --- values --------------------------------------------------------------------------

    def number(
        self, value: Any, field: str, domain: Domain = ANY_NUMBER, **how: Unpack[NumberOptions]
    ) -> float:
        """Return ``value`` if it is a finite real number in ``domain``.

        Parameters
        ----------
        domain : Domain, default=ANY_NUMBER
            Where it may lie.
        **how
            The :class:`NumberOptions`: ``allowed``, ``infinity``,
            ``allow_none`` and ``label``.

        Returns
        -------
        float
            The number; an int stays an int, so hyperparameters keep their type.
        """
        allowed, infinity = how.get("allowed"), how.get("infinity")
        allow_none = how.get("allow_none", False)
        if value is None and allow_none:
            return math.nan
        if infinity is not None and isinstance(value, str) and value == infinity:
            number = float(value)
            ok = number in domain
        else:
            number = as_float(value)
            ok = math.isfinite(number) and number in domain
        if not ok:
            if allowed is None:
                allowed = " ".join(filter(None, ["a finite number", domain.describe()]))
                allowed += " or null" if allow_none else ""
            self.reject(field, value, allowed, label=how.get("label"))
        if isinstance(value, numbers.Integral):
            return int(value)
        return number

    def integer(
        self, value: Any, field: str, domain: Domain = ANY_NUMBER, *, label: str | None = None
    ) -> int:
        """Return ``value`` if it is an int (not a bool, not a float) in ``domain``."""
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Integral)
            or int(value) not in domain
        ):
            allowed = " ".join(filter(None, ["an integer", domain.describe()]))
            self.reject(field, value, allowed, label=label)
        return int(value)

    def boolean(self, value: Any, field: str, *, label: str | None = None) -> bool:
        """Return ``value`` if it is a bool (``true`` or ``false``)."""
        if not isinstance(value, (bool, np.bool_)):
            self.reject(field, value, "true or false", label=label)
        return bool(value)

    def string(self, value: Any, field: str) -> str:
        """Return ``value`` if it is a string."""
        if not isinstance(value, str):
            self.reject(field, value, "a string")
        return value

    def choice(
        self, value: Any, field: str, allowed: Collection[Any], *, allow_none: bool = False
    ) -> Any:
        """Return ``value`` if it is one of ``allowed`` (compared by type and value)."""
        if value is None and allow_none:
            return None
        if not any(type(value) is type(a) and value == a for a in allowed):
            self.reject(
                field, value, f"one of {list(allowed)}" + (" or null" if allow_none else "")
            )
        return value

    def array(self, value: Any, field: str, *, length: int | None = None) -> list[Any]:
        """Return ``value`` if it is a list (a JSON array), of ``length`` items if given."""
        if not isinstance(value, (list, tuple)):
            entries = "" if length is None else f" of {length} entries"
            self.reject(field, value, f"a list (a JSON array){entries}")
        if length is not None and len(value) != length:
            entries = "entry" if len(value) == 1 else "entries"
            self.fail(f"{self.name(field)} has {len(value)} {entries}; it must have {length}")
        return list(value)

    def strings(self, value: Any, field: str, *, length: int | None = None) -> list[str]:
        """Return ``value`` if it is a list of strings (of ``length`` if given)."""
        items = self.array(value, field, length=length)
        for i, item in enumerate(items):
            self.string(item, f"{field}[{i}]")
        return items

    def numbers(
        self,
        value: Any,
        field: str,
        domain: Domain = ANY_NUMBER,
        *,
        length: int | None = None,
        none_means: float | None = None,
        **each: Unpack[EntryOptions],
    ) -> np.ndarray:
        """Return a list of finite numbers in ``domain`` as a float array.

        Parameters
        ----------
        domain : Domain, default=ANY_NUMBER
            Where each entry ``field[i]`` may lie.
        length : int or None, default=None
            The number of entries, if fixed.
        none_means : float or None, default=None
            What a ``None`` entry stands for, if it is allowed: ``inf``, which
            JSON cannot write, or NaN for "no value". That value itself is
            allowed too.
        **each
            ``allowed`` and ``infinity``, as for :meth:`number`, for each entry.

        Returns
        -------
        numpy.ndarray
            The entries as ``float64``.
        """
        values = self.array(value, field, length=length)
        if none_means is not None:
            values = [none_means if v is None else v for v in values]
        if set(map(type, values)) <= {float, int}:  # the usual case, checked at once
            try:
                out = np.asarray(values, dtype=np.float64)
            except OverflowError:
                out = None
            if out is not None:
                ok = (np.isfinite(out) & domain.contains(out)) | _stands_for_none(out, none_means)
                if ok.all():
                    return out
        out = np.empty(len(values), dtype=np.float64)
        for i, v in enumerate(values):
            if isinstance(v, float) and _stands_for_none(np.array(v), none_means):
                out[i] = v
            else:
                out[i] = self.number(v, f"{field}[{i}]", domain, **each)
        return out

    def integers(self, value: Any, field: str, domain: Domain = ANY_NUMBER) -> np.ndarray:
        """Return a list of whole numbers in ``domain`` (e.g. node indices) as an int64 array.

        A whole number may be written as an int or as a float without a
        fraction (``3.0``), and must be at most ``2**53`` in size, where
        floats still count every integer.

        Parameters
        ----------
        domain : Domain, default=ANY_NUMBER
            Where each entry may lie.

        Returns
        -------
        numpy.ndarray
            The entries as ``int64``.
        """
        values = self.array(value, field)
        for i, v in enumerate(values):
            whole = (isinstance(v, int) and not isinstance(v, bool)) or (
                isinstance(v, float) and v.is_integer()
            )
            if not whole or abs(v) > 2**53:
                self.reject(f"{field}[{i}]", v, "a whole number of at most 2**53 in size")
        out = np.asarray(values, dtype=np.float64)
        bad = np.flatnonzero(~domain.contains(out))
        if bad.size:
            allowed = " ".join(filter(None, ["a whole number", domain.describe()]))
            self.reject(f"{field}[{bad[0]}]", values[bad[0]], allowed)
        return out.astype(np.int64)

    def monotone(self, values: np.ndarray, field: str, *, decreasing: bool = False) -> None:
        """Refuse numbers that decrease (or, with ``decreasing``, increase) along the list.

        Parameters
        ----------
        values : numpy.ndarray
            Numbers already read by :meth:`numbers`.
        field : str
            Their path.
        decreasing : bool, default=False
            Whether they must be non-increasing instead.
        """
        # Compared, not subtracted: inf - inf would be NaN.
        bad = np.flatnonzero(values[1:] > values[:-1] if decreasing else values[1:] < values[:-1])
        if bad.size:
            i = int(bad[0]) + 1
            order, bound = ("non-increasing", "<=") if decreasing else ("non-decreasing", ">=")
            self.reject(
                f"{field}[{i}]",
                float(values[i]),
                f"{bound} entry {i - 1}, {float(values[i - 1])!r} (the values are {order})",
            )

    def feature_names(self, value: Any, field: str, required: Sequence[str]) -> np.ndarray:
        """Return the fitted column names; the columns the estimator reads must be among them.

        Parameters
        ----------
        required : sequence of str
            Columns the estimator reads (so they were in the table it was fitted on).

        Returns
        -------
        numpy.ndarray
            The names, ``object`` dtype, as in ``feature_names_in_``.
        """
        names = self.strings(value, field)
        missing = [c for c in required if c not in names]
        if missing:
            self.reject(
                field,
                names,
                f"the columns of the fitted table, which include the columns the estimator "
                f"reads; missing: {missing}",
            )
        return np.asarray(names, dtype=object)

    def frame(self, value: Any, field: str) -> pd.DataFrame:
        """Rebuild a table written by :func:`frame_to_json`.

        Returns
        -------
        pandas.DataFrame
            The table; columns get pandas' usual type inference, as when the
            table was first built from lists.
        """
        spec = self.keys(value, field, required=_FRAME_FIELDS)
        index_name = spec["index_name"]
        if index_name is not None:
            self.string(index_name, f"{field}.index_name")
        index = self.strings(spec["index"], f"{field}.index")
        columns = self.strings(spec["columns"], f"{field}.columns")
        if len(set(columns)) != len(columns):
            self.reject(f"{field}.columns", columns, "distinct column names")
        records = self.array(spec["records"], f"{field}.records", length=len(index))
        cells: dict[str, list[Any]] = {c: [] for c in columns}
        for i, record in enumerate(records):
            where = f"{field}.records[{i}]"
            self.keys(record, where, required=columns)
            for column in columns:
                cell = record[column]
                if cell is not None and not isinstance(cell, (str, bool, int)):
                    self.number(
                        cell,
                        f"{where}.{column}",
                        allowed="a string, a finite number, true, false or null",
                    )
                cells[column].append(cell)
        return pd.DataFrame(cells, index=pd.Index(index, name=index_name))
