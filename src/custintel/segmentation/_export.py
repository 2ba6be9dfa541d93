"""The JSON export of the segmenters: plain values out, checked values in.

Each segmenter's ``to_dict`` builds its export with :func:`export_header`,
:func:`json_float` and :func:`frame_to_json`; each ``from_dict`` reads it
through one :class:`ExportReader`, which refuses anything ``to_dict`` would
not have written with an :class:`~custintel.exceptions.InvalidModelError`
that names the field, the value, what is allowed and the fix. An export is
loaded by people who did not make it, so nothing is trusted: every field is
present and known, every number has its type and domain.
"""

from __future__ import annotations

import json
import math
import reprlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from custintel.exceptions import InvalidModelError

__all__ = [
    "FORMAT_VERSION",
    "ExportReader",
    "export_header",
    "frame_to_json",
    "json_float",
]

#: The export layout written by this version; ``from_dict`` reads exactly this one.
FORMAT_VERSION = 1

_FIX = "re-export the fitted segmenter with to_dict() rather than editing its JSON by hand"
_FRAME_FIELDS = ("index_name", "index", "columns", "records")

_T = TypeVar("_T")


class _Missing:
    def __repr__(self) -> str:
        return "missing"


# What a message shows for a field that is not there.
_MISSING: Any = _Missing()

_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = 6
_REPR.maxdict = 4


def json_float(value: Any) -> float | str:
    """Return a float as JSON data: finite values as floats, infinities as text.

    JSON has no infinity (and the model bundle writes with ``allow_nan=False``),
    so ``inf`` and ``-inf`` are written as the strings ``"inf"`` and ``"-inf"``.
    Finite floats round-trip exactly through :func:`json.dumps` and :func:`json.loads`.

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
        raise ValueError("NaN has no place in a segmenter export")
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


def export_header(estimator: BaseEstimator, **converted: Any) -> dict[str, Any]:
    """Start an export: ``model``, ``format_version`` and JSON-safe ``hyperparameters``.

    Parameters
    ----------
    estimator : BaseEstimator
        The fitted segmenter.
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
        "format_version": FORMAT_VERSION,
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


def frame_to_json(frame: pd.DataFrame, name: str) -> dict[str, Any]:
    """Write a small table (a playbook) as records.

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
    rows = frame.astype(object).itertuples(index=False, name=None)
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


def _show(value: Any) -> str:
    """Return a short repr of a (possibly huge or deeply nested) value, for messages."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"an integer of {value.bit_length()} bits"
    try:
        return _REPR.repr(value)
    except (ValueError, RecursionError):  # ints beyond str()'s digit limit, deep nesting
        return f"a {type(value).__name__}"


class ExportReader:
    """Read one segmenter export, refusing anything ``to_dict`` would not write.

    Every method takes the value and its field path (``"cut_points.recency[2]"``)
    and returns the value checked, or raises
    :class:`~custintel.exceptions.InvalidModelError`.

    Parameters
    ----------
    model : str
        Class name the export must declare.
    """

    def __init__(self, model: str) -> None:
        self.model = model

    def fail(
        self, field: str, value: Any, allowed: str, *, reason: str = "bad_parameter", fix: str = ""
    ) -> NoReturn:
        """Raise :class:`~custintel.exceptions.InvalidModelError` for one field.

        Parameters
        ----------
        field : str
            Path of the field.
        value : object
            What it holds.
        allowed : str
            What it may hold.
        reason : str, default="bad_parameter"
            The error's reason code.
        fix : str, default=""
            How to fix it; by default, re-export.

        Raises
        ------
        InvalidModelError
            Always.
        """
        raise InvalidModelError(
            f"{self.model}.from_dict: field {field!r} is {_show(value)}; allowed: {allowed}; "
            f"{fix or _FIX}",
            reason=reason,
        )

    def load(self, data: Any, fields: Sequence[str]) -> Mapping[str, Any]:
        """Check the envelope: a mapping (or its JSON text) of this model, version and fields.

        Parameters
        ----------
        data : mapping or str
            The export, or its JSON text.
        fields : sequence of str
            Every top-level field the export has (``model`` and
            ``format_version`` included).

        Returns
        -------
        mapping
            The export.

        Raises
        ------
        InvalidModelError
            ``wrong_model`` for text that is not JSON, data that is not a
            mapping or an export of another model; ``bad_format_version``;
            ``missing_field`` and ``unknown_field``.
        """
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except (ValueError, RecursionError) as err:
                raise InvalidModelError(
                    f"{self.model}.from_dict: the text is not valid JSON ({err}); pass the "
                    f"dict returned by {self.model}.to_dict() or its json.dumps text",
                    reason="wrong_model",
                ) from None
        if not isinstance(data, Mapping):
            raise InvalidModelError(
                f"{self.model}.from_dict expects the mapping returned by {self.model}.to_dict() "
                f"(or its JSON text), got {type(data).__name__}",
                reason="wrong_model",
            )
        if "model" not in data:
            self.fail(
                "model",
                _MISSING,
                f"the string {self.model!r}",
                reason="missing_field",
                fix=f"load the output of {self.model}.to_dict()",
            )
        model = data["model"]
        if not (isinstance(model, str) and model == self.model):
            self.fail(
                "model",
                model,
                f"the string {self.model!r}",
                reason="wrong_model",
                fix="load this export with the class it names, e.g. "
                f"{model}.from_dict" + ("" if isinstance(model, str) else " (no such class)"),
            )
        if "format_version" not in data:
            self.fail(
                "format_version",
                _MISSING,
                f"the integer {FORMAT_VERSION}",
                reason="missing_field",
            )
        version = data["format_version"]
        if isinstance(version, bool) or not isinstance(version, int) or version != FORMAT_VERSION:
            self.fail(
                "format_version",
                version,
                f"the integer {FORMAT_VERSION} (the format this custintel reads)",
                reason="bad_format_version",
                fix="load it with the custintel version that wrote it, or re-export the "
                "fitted segmenter with this version's to_dict()",
            )
        return self.keys(data, "", fields)

    def keys(self, value: Any, field: str, fields: Sequence[str]) -> Mapping[str, Any]:
        """Check that ``value`` is a mapping with exactly the keys ``fields``.

        Parameters
        ----------
        value : object
            The value read.
        field : str
            Its path (``""`` for the export itself).
        fields : sequence of str
            The keys it must have.

        Returns
        -------
        mapping
            ``value``.

        Raises
        ------
        InvalidModelError
            ``bad_parameter`` for a non-mapping, ``missing_field`` or
            ``unknown_field``.
        """
        if not isinstance(value, Mapping):
            self.fail(field, value, f"an object with the fields {list(fields)}")
        prefix = f"{field}." if field else ""
        missing = [k for k in fields if k not in value]
        if missing:
            self.fail(
                f"{prefix}{missing[0]}",
                _MISSING,
                f"{field or 'the export'} has exactly the fields {list(fields)}; "
                f"missing: {missing}",
                reason="missing_field",
            )
        unknown = [k for k in value if k not in fields]
        if unknown:
            self.fail(
                f"{prefix}{unknown[0]}",
                value[unknown[0]],
                f"{field or 'the export'} has exactly the fields {list(fields)}; "
                f"unknown: {[_show(k) for k in unknown]}",
                reason="unknown_field",
                fix=f"remove the unknown fields, or load the export with the custintel "
                f"version that wrote it ({FORMAT_VERSION} reads only its own fields)",
            )
        return value

    def hyperparameters(self, value: Any, estimator: type[BaseEstimator]) -> Mapping[str, Any]:
        """Check the ``hyperparameters`` field has exactly the estimator's parameters.

        Parameters
        ----------
        value : object
            The field.
        estimator : type
            The segmenter class.

        Returns
        -------
        mapping
            ``value``; its entries are checked by the caller.
        """
        return self.keys(value, "hyperparameters", list(estimator().get_params(deep=False)))

    def sequence(self, value: Any, field: str, length: int | None = None) -> list[Any]:
        """Check a list (of ``length`` entries when given).

        Parameters
        ----------
        value : object
            The value read.
        field : str
            Its path.
        length : int or None, default=None
            Required length.

        Returns
        -------
        list
            ``value``.
        """
        if not isinstance(value, list):
            entries = "" if length is None else f" of {_show(length)} entries"
            self.fail(field, value, f"a list{entries}")
        if length is not None and len(value) != length:
            self.fail(field, value, f"a list of {_show(length)} entries, got {len(value)}")
        return value

    def string(self, value: Any, field: str) -> str:
        """Check a string.

        Parameters
        ----------
        value : object
            The value read.
        field : str
            Its path.

        Returns
        -------
        str
            ``value``.
        """
        if not isinstance(value, str):
            self.fail(field, value, "a string")
        return value

    def strings(self, value: Any, field: str, length: int | None = None) -> list[str]:
        """Check a list of strings.

        Parameters
        ----------
        value : object
            The value read.
        field : str
            Its path.
        length : int or None, default=None
            Required length.

        Returns
        -------
        list of str
            ``value``.
        """
        items = self.sequence(value, field, length)
        for i, item in enumerate(items):
            self.string(item, f"{field}[{i}]")
        return items

    def boolean(self, value: Any, field: str) -> bool:
        """Check ``true`` or ``false``.

        Parameters
        ----------
        value : object
            The value read.
        field : str
            Its path.

        Returns
        -------
        bool
            ``value``.
        """
        if not isinstance(value, bool):
            self.fail(field, value, "true or false")
        return value

    def integer(
        self, value: Any, field: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        """Check an integer (not a bool, not a float) in ``[minimum, maximum]``.

        Parameters
        ----------
        value : object
            The value read.
        field : str
            Its path.
        minimum, maximum : int or None, default=None
            Bounds, inclusive; ``None`` for none.

        Returns
        -------
        int
            ``value``.
        """
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
        ):
            bounds = [f">= {minimum}"] * (minimum is not None) + [f"<= {maximum}"] * (
                maximum is not None
            )
            self.fail(field, value, " ".join(["an integer", " and ".join(bounds)]).strip())
        return value

    def number(
        self,
        value: Any,
        field: str,
        *,
        allowed: str = "a finite number",
        check: Callable[[float], bool] | None = None,
        infinity: str | None = None,
    ) -> float:
        """Check a number: an int or a finite float (not a bool, a string or None).

        Parameters
        ----------
        value : object
            The value read.
        field : str
            Its path.
        allowed : str, default="a finite number"
            Description of the domain, for the message.
        check : callable or None, default=None
            Domain test on the number (infinities included when allowed).
        infinity : {"inf", "-inf"} or None, default=None
            An infinity the field may hold, written as this string.

        Returns
        -------
        float
            The number (an int stays an int, so hyperparameters keep their type).
        """
        if infinity is not None and isinstance(value, str) and value == infinity:
            number = float(value)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(field, value, allowed)
        else:
            try:
                finite = math.isfinite(value)
            except OverflowError:  # an int beyond float range
                finite = False
            if not finite:
                self.fail(field, value, allowed)
            number = value
        if check is not None and not check(number):
            self.fail(field, value, allowed)
        return number

    def numbers(
        self,
        value: Any,
        field: str,
        length: int,
        *,
        allowed: str = "a finite number",
        check: Callable[[float], bool] | None = None,
        infinity: str | None = None,
    ) -> np.ndarray:
        """Check a list of ``length`` numbers (see :meth:`number`).

        Parameters
        ----------
        value : object
            The value read.
        field : str
            Its path.
        length : int
            Required length.
        allowed, check, infinity
            As in :meth:`number`, for each entry.

        Returns
        -------
        numpy.ndarray
            The entries as ``float64``.
        """
        items = self.sequence(value, field, length)
        checked = [
            self.number(v, f"{field}[{i}]", allowed=allowed, check=check, infinity=infinity)
            for i, v in enumerate(items)
        ]
        return np.asarray(checked, dtype=np.float64)

    def monotone(self, values: np.ndarray, field: str, *, decreasing: bool = False) -> None:
        """Check that numbers never decrease (or, with ``decreasing``, never increase).

        Parameters
        ----------
        values : numpy.ndarray
            Numbers already checked by :meth:`numbers`.
        field : str
            Their path.
        decreasing : bool, default=False
            Whether they must be non-increasing instead.
        """
        # Compared, not subtracted: inf - inf would be NaN.
        bad = np.flatnonzero(values[1:] > values[:-1] if decreasing else values[1:] < values[:-1])
        if bad.size:
            i = int(bad[0]) + 1
            order = "non-increasing" if decreasing else "non-decreasing"
            self.fail(
                f"{field}[{i}]",
                float(values[i]),
                f"{order} values; entry {i - 1} is {float(values[i - 1])!r}",
            )

    def checked(self, field: str, check: Callable[[], _T]) -> _T:
        """Run one of the estimator's own checks; its ``ValueError`` becomes ``bad_parameter``.

        Parameters
        ----------
        field : str
            Path of what is checked.
        check : callable
            The check (raises ``ValueError``), returning what it computed.

        Returns
        -------
        object
            What ``check`` returns.
        """
        try:
            return check()
        except ValueError as err:
            raise InvalidModelError(
                f"{self.model}.from_dict: field {field!r} fails the segmenter's own check: "
                f"{err}; {_FIX}",
                reason="bad_parameter",
            ) from None

    def feature_names(self, value: Any, field: str, required: Sequence[str]) -> np.ndarray:
        """Check the fitted column names; the columns the segmenter reads must be among them.

        Parameters
        ----------
        value : object
            The value read.
        field : str
            Its path.
        required : sequence of str
            Columns the segmenter reads (so they were in the table it was fitted on).

        Returns
        -------
        numpy.ndarray
            The names, ``object`` dtype, as in ``feature_names_in_``.
        """
        names = self.strings(value, field)
        missing = [c for c in required if c not in names]
        if missing:
            self.fail(
                field,
                names,
                f"the columns of the fitted table, which include the columns the segmenter "
                f"reads; missing: {missing}",
            )
        return np.asarray(names, dtype=object)

    def frame(self, value: Any, field: str) -> pd.DataFrame:
        """Rebuild a table written by :func:`frame_to_json`.

        Parameters
        ----------
        value : object
            The value read.
        field : str
            Its path.

        Returns
        -------
        pandas.DataFrame
            The table; columns get pandas' usual type inference, as when the
            table was first built from lists.
        """
        spec = self.keys(value, field, _FRAME_FIELDS)
        index_name = spec["index_name"]
        if index_name is not None:
            self.string(index_name, f"{field}.index_name")
        index = self.strings(spec["index"], f"{field}.index")
        columns = self.strings(spec["columns"], f"{field}.columns")
        if len(set(columns)) != len(columns):
            self.fail(f"{field}.columns", columns, "distinct column names")
        records = self.sequence(spec["records"], f"{field}.records", len(index))
        cells: dict[str, list[Any]] = {c: [] for c in columns}
        for i, record in enumerate(records):
            where = f"{field}.records[{i}]"
            self.keys(record, where, columns)
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
