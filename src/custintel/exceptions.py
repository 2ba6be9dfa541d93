"""Exceptions and warnings raised by custintel.

Every input problem that custintel detects is reported through one of these
classes, so callers can catch them without catching unrelated errors.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "CustintelWarning",
    "DataQualityWarning",
    "InvalidModelError",
    "SchemaError",
    "collect_notes",
    "plain",
    "quiet",
    "warn",
]


class SchemaError(ValueError):
    """Transactions that do not fit the :class:`~custintel.TransactionSchema`.

    One ``SchemaError`` collects every problem found in one validation pass,
    so a user fixes their data once rather than once per problem.

    Parameters
    ----------
    message : str
        Human-readable description: what is wrong, where, how many rows, and
        how to fix it.
    reason : str
        Machine-readable code of the first problem, e.g. ``"missing_column"``.
        All codes found are in :attr:`reasons`.
    failure_cases : pandas.DataFrame, optional
        The offending rows or values, with a ``reason`` column.
    reasons : tuple of str, optional
        Every reason code found, in the order reported.

    Attributes
    ----------
    reason : str
        Code of the first problem.
    reasons : tuple of str
        Codes of all problems.
    failure_cases : pandas.DataFrame
        Offending rows (up to a few per problem) with a ``reason`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> from custintel import validate_transactions
    >>> try:
    ...     validate_transactions(pd.DataFrame({"cust": [1], "date": ["2024-01-01"]}))
    ... except SchemaError as err:
    ...     print(err.reason)
    missing_column
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        failure_cases: pd.DataFrame | None = None,
        reasons: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.reasons = reasons if reasons is not None else (reason,)
        self.failure_cases = (
            failure_cases if failure_cases is not None else pd.DataFrame({"reason": [reason]})
        )


class InvalidModelError(ValueError):
    """A saved model that custintel refuses to load.

    Raised for a model bundle that is not a bundle, is incomplete, tampered
    with (a file whose SHA-256 differs from the manifest), names a path outside
    its folder, or was written in a newer format; and by every ``from_dict``
    for an export with unknown names, wrong types, non-finite numbers or
    parameters outside the model's domain. Nothing of the file is executed
    before these checks pass.

    Parameters
    ----------
    message : str
        What is wrong, in which file or field, and how to fix it.
    reason : str
        Machine-readable code, e.g. ``"checksum_mismatch"``, ``"bad_parameter"``.

    Attributes
    ----------
    reason : str
        The code.

    Examples
    --------
    >>> from custintel.clv import BetaGeoModel
    >>> try:
    ...     BetaGeoModel.from_dict({"model": "GammaGammaModel"})
    ... except InvalidModelError as err:
    ...     print(err.reason)
    wrong_model
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class CustintelWarning(UserWarning):
    """Base class of every warning custintel emits."""


class DataQualityWarning(CustintelWarning):
    """The data was accepted, but something in it deserves a look.

    Raised for duplicate rows, transactions dated in the future, rows dropped
    because they fall after ``observation_end``, and similar cases. The
    message says how many rows are affected and what was done with them.
    """


class ConvergenceWarning(CustintelWarning):
    """An optimiser stopped without meeting its convergence criterion."""


class ConvergenceError(RuntimeError):
    """An optimiser failed and its result cannot be trusted."""


# --- emitting warnings -------------------------------------------------------------------

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_NOTES: ContextVar[list[str] | None] = ContextVar("custintel_notes", default=None)
_QUIET: ContextVar[bool] = ContextVar("custintel_quiet", default=False)


def _caller_level() -> int:
    """Return the ``stacklevel`` of the first frame outside custintel (the user's line)."""
    frame = sys._getframe(2)  # the caller of warn()
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def warn(message: str, category: type[Warning] = DataQualityWarning) -> None:
    """Emit a custintel warning that points at the caller's own line.

    However deep inside custintel the problem is found, the warning names the
    first line outside the package (Python 3.12's ``skip_file_prefixes``,
    for 3.11). Inside :func:`collect_notes` a data-quality message is also
    recorded; inside :func:`quiet` nothing is emitted. Global warning filters
    are never touched.

    Parameters
    ----------
    message : str
        What was found, how many rows, and what to do.
    category : type of Warning, default=DataQualityWarning
        The warning class.
    """
    if _QUIET.get():
        return
    notes = _NOTES.get()
    if notes is not None and issubclass(category, DataQualityWarning) and message not in notes:
        notes.append(message)
    warnings.warn(message, category, stacklevel=_caller_level())


@contextmanager
def collect_notes() -> Iterator[list[str]]:
    """Record every data-quality message emitted with :func:`warn` in this context.

    The warnings are still emitted as usual; the list lets a job report them
    too (``CustomerIntelligence.data_quality_``). Context-local: other
    threads and tasks are not affected.

    Yields
    ------
    list of str
        The distinct messages, in the order they were first emitted.
    """
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


@contextmanager
def quiet() -> Iterator[None]:
    """Emit no custintel warning in this context (e.g. re-reading rows already validated).

    Context-local, unlike ``warnings.catch_warnings``: it neither reads nor
    changes the global warning filters.
    """
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)


def plain(value: Any) -> Any:
    """Turn numpy scalars into Python numbers, inside containers too, for a message.

    numpy 2 prints a scalar's type in its ``repr`` (``np.int64(4)``), so a dict or a
    list of them in an f-string reads ``{np.int64(4): np.float64(10000.0)}``. Pass
    such values through ``plain`` before formatting them; everything else is
    returned as it is.

    Parameters
    ----------
    value : object
        A numpy scalar or array, or a dict, list, tuple or set holding them.

    Returns
    -------
    object
        The same value with Python ``int``, ``float``, ``bool`` and ``str`` in place
        of numpy scalars (arrays become lists).

    Examples
    --------
    >>> import numpy as np
    >>> f"costs by item: {plain({np.int64(4): np.float64(10000.0)})}"
    'costs by item: {4: 10000.0}'
    >>> f"rows {plain(np.array([3, 5]))}, threshold {plain(np.float32(0.5))!r}"
    'rows [3, 5], threshold 0.5'
    """
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()  # builtins, nested for arrays
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [plain(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, (set, frozenset)):
        return type(value)(plain(item) for item in value)
    return value
