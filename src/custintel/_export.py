"""Checks for reading a model export (``from_dict``) that may come from anyone.

An export is plain JSON data: a CRM system may load one that somebody else
wrote. Every ``from_dict`` reads it through an :class:`ExportReader`, which
refuses anything that is not exactly what ``to_dict`` writes (unknown or
missing fields, wrong types, non-finite numbers, values outside their domain)
with an :class:`~custintel.exceptions.InvalidModelError` that names the field,
the value, what is allowed and the fix. Nothing in the export is looked up by
name or executed.
"""

from __future__ import annotations

import json
import math
import numbers
import reprlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from custintel.exceptions import InvalidModelError

__all__ = [
    "ANY_NUMBER",
    "NONNEGATIVE",
    "POSITIVE",
    "UNIT_INTERVAL",
    "Domain",
    "ExportReader",
    "as_float",
    "is_real_number",
    "show",
]

#: The fix every message ends with, unless a reader is given another.
REEXPORT = "re-export the model with to_dict() from a fitted model"

_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = 4
_SHORT.maxlevel = 2


def show(value: Any) -> str:
    """Return a short ``repr`` of a value from an export, safe for any value."""
    try:
        return _SHORT.repr(value)
    except (ValueError, RecursionError):  # e.g. an int of more digits than repr allows
        return f"<{type(value).__name__}>"


def is_real_number(value: Any) -> bool:
    """Whether ``value`` is a real number type: int or float (numpy too), not bool or str."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def as_float(value: Any) -> float:
    """Return a real number as a float; NaN for anything else (or an int too large)."""
    if not is_real_number(value):
        return math.nan
    try:
        return float(value)
    except (OverflowError, ValueError, TypeError):
        return math.nan


@dataclass(frozen=True)
class Domain:
    """An interval of allowed numbers, e.g. ``Domain(0.0, low_open=True)`` for ``> 0``.

    Parameters
    ----------
    low, high : float, default=-inf, inf
        Bounds.
    low_open, high_open : bool, default=False
        Whether a bound itself is excluded.
    label : str, default=""
        The domain in words, for messages; by default made from the bounds.
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

    def describe(self) -> str:
        """Return the domain in words, e.g. ``"> 0"``, ``"in [0, 1]"``; ``""`` if unbounded."""
        if self.label:
            return self.label
        low, high = f"{self.low:g}", f"{self.high:g}"
        if math.isinf(self.high):
            return "" if math.isinf(self.low) else f"{'>' if self.low_open else '>='} {low}"
        if math.isinf(self.low):
            return f"{'<' if self.high_open else '<='} {high}"
        return f"in {'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"


POSITIVE = Domain(0.0, low_open=True)
NONNEGATIVE = Domain(0.0)
UNIT_INTERVAL = Domain(0.0, 1.0)
ANY_NUMBER = Domain()


class ExportReader:
    """Read one export and raise :class:`InvalidModelError` for anything unexpected.

    Parameters
    ----------
    what : str
        What is read, the start of every message, e.g. ``"BetaGeoModel export"``.
    fix : str, default="re-export the model with to_dict() from a fitted model"
        How to fix a bad export, the end of every message.
    """

    def __init__(self, what: str, *, fix: str = REEXPORT) -> None:
        self.what = what
        self.fix = fix

    def fail(self, problem: str, *, reason: str) -> NoReturn:
        """Raise ``InvalidModelError`` for ``problem`` with the reason code ``reason``."""
        raise InvalidModelError(f"{self.what}: {problem}; {self.fix}", reason=reason)

    # --- structure -----------------------------------------------------------------------

    def load(self, data: Any) -> Mapping[str, Any]:
        """Return ``data`` as a mapping, parsing JSON text first."""
        if isinstance(data, (str, bytes, bytearray)):
            try:
                data = json.loads(data)
            except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
                self.fail(f"the text is not valid JSON ({show(str(err))})", reason="bad_json")
        if not isinstance(data, Mapping):
            self.fail(
                f"expected a mapping (dict) or its JSON text, got {type(data).__name__} "
                f"{show(data)}",
                reason="not_a_mapping",
            )
        return data

    def mapping(self, data: Mapping[str, Any], field: str) -> Mapping[str, Any]:
        """Return the mapping stored in ``data[field]``."""
        value = data[field]
        if not isinstance(value, Mapping):
            self.fail(
                f"field {field!r} is {show(value)}; it must be a mapping (a JSON object)",
                reason="bad_field",
            )
        return value

    def keys(
        self,
        data: Mapping[Any, Any],
        *,
        required: Collection[str],
        optional: Collection[str] = (),
        where: str = "field",
        prefix: str = "",
    ) -> None:
        """Refuse a missing required key, then any key that is neither required nor optional.

        Parameters
        ----------
        data : mapping
            The mapping to check.
        required, optional : collection of str
            Its keys.
        where : str, default="field"
            What a key is, in messages: ``"field"``, ``"parameter"``...
        prefix : str, default=""
            Path of ``data`` in the export, e.g. ``"params."``.
        """
        known = [*required, *optional]
        missing = [k for k in required if k not in data]
        if missing:
            self.fail(
                f"{where} {prefix + missing[0]!r} is missing (expected {where}s: {known})",
                reason="missing_field",
            )
        unknown = [k for k in data if k not in known]
        if unknown:
            key = unknown[0]
            name = show(prefix + key) if isinstance(key, str) else f"{prefix}{show(key)}"
            self.fail(
                f"unknown {where} {name} (expected {where}s: {known})", reason="unknown_field"
            )

    def model_name(
        self,
        data: Mapping[str, Any],
        expected: Collection[str],
        *,
        field: str = "model",
        label: str | None = None,
    ) -> str:
        """Return ``data[field]`` if it is one of the ``expected`` model names.

        ``label`` is the field's name in messages (default: ``field``).
        """
        label = field if label is None else label
        if field not in data:
            self.fail(f"field {label!r} is missing", reason="missing_field")
        name = data[field]
        if not isinstance(name, str) or name not in expected:
            names = sorted(expected)
            allowed = names[0] if len(names) == 1 else f"one of {names}"
            self.fail(
                f"field {label!r} is {show(name)}, not {allowed}; load an export with the "
                "from_dict of the model it names",
                reason="wrong_model",
            )
        return name

    def format_version(
        self, data: Mapping[str, Any], supported: Collection[int], field: str = "format_version"
    ) -> int:
        """Return ``data[field]`` if it is one of the ``supported`` format versions."""
        if field not in data:
            self.fail(f"field {field!r} is missing", reason="missing_field")
        version = data[field]
        if (
            isinstance(version, (bool, np.bool_))
            or not isinstance(version, numbers.Integral)
            or version not in supported
        ):
            self.fail(
                f"field {field!r} is {show(version)}; this version of custintel reads "
                f"{field} {' or '.join(map(str, sorted(supported)))} (an export written by a "
                "newer custintel needs that version to load)",
                reason="bad_format_version",
            )
        return int(version)

    # --- values --------------------------------------------------------------------------

    def number(
        self,
        value: Any,
        field: str,
        domain: Domain = ANY_NUMBER,
        *,
        reason: str = "bad_field",
        allow_none: bool = False,
    ) -> float:
        """Return ``value`` as a float if it is a finite real number in ``domain``.

        ``None`` gives NaN when ``allow_none``. ``field`` is the name used in
        the message, e.g. ``"parameter 'r'"``.
        """
        if value is None and allow_none:
            return math.nan
        number = as_float(value)
        if not (math.isfinite(number) and number in domain):
            self.fail(
                f"{field} is {show(value)}; it must be "
                + " ".join(filter(None, ["a finite number", domain.describe()]))
                + (" or null" if allow_none else ""),
                reason=reason,
            )
        return number

    def integer(
        self, value: Any, field: str, domain: Domain = ANY_NUMBER, *, reason: str = "bad_field"
    ) -> int:
        """Return ``value`` if it is an int (not bool) in ``domain``."""
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Integral)
            or int(value) not in domain
        ):
            self.fail(
                f"{field} is {show(value)}; it must be "
                + " ".join(filter(None, ["a whole number", domain.describe()])),
                reason=reason,
            )
        return int(value)

    def boolean(self, value: Any, field: str, *, reason: str = "bad_field") -> bool:
        """Return ``value`` if it is a bool (``true`` or ``false``)."""
        if not isinstance(value, (bool, np.bool_)):
            self.fail(f"{field} is {show(value)}; it must be true or false", reason=reason)
        return bool(value)

    def choice(
        self,
        value: Any,
        field: str,
        allowed: Collection[Any],
        *,
        reason: str = "bad_field",
        allow_none: bool = False,
    ) -> Any:
        """Return ``value`` if it is one of ``allowed`` (compared by type and value)."""
        if value is None and allow_none:
            return None
        if not any(type(value) is type(a) and value == a for a in allowed):
            self.fail(
                f"{field} is {show(value)}; it must be one of {list(allowed)}"
                + (" or null" if allow_none else ""),
                reason=reason,
            )
        return value

    def array(
        self,
        value: Any,
        field: str,
        *,
        length: int | None = None,
    ) -> list[Any]:
        """Return ``value`` if it is a list (a JSON array), of ``length`` items if given."""
        if not isinstance(value, (list, tuple)):
            self.fail(
                f"{field} is {show(value)}; it must be a list (a JSON array)", reason="bad_field"
            )
        if length is not None and len(value) != length:
            self.fail(
                f"{field} has {len(value)} entries; it must have {length}", reason="bad_field"
            )
        return list(value)

    def numbers(
        self,
        value: Any,
        field: str,
        domain: Domain = ANY_NUMBER,
        *,
        length: int | None = None,
        none_means: float | None = None,
    ) -> np.ndarray:
        """Return a list of finite numbers in ``domain`` as a float array.

        ``None`` entries are allowed, and stand for ``none_means``, when it
        is given (e.g. ``inf``, which JSON cannot write).
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
                special = np.isinf(out) & (out == none_means) if none_means is not None else False
                ok = (np.isfinite(out) | special) & _within(out, domain)
                if ok.all():
                    return out
        out = np.empty(len(values), dtype=np.float64)
        for i, v in enumerate(values):
            if none_means is not None and isinstance(v, float) and v == none_means:
                out[i] = none_means
            else:
                out[i] = self.number(v, f"{field}[{i}]", domain)
        return out


def _within(values: np.ndarray, domain: Domain) -> np.ndarray:
    low = values > domain.low if domain.low_open else values >= domain.low
    high = values < domain.high if domain.high_open else values <= domain.high
    return np.asarray(low & high)
