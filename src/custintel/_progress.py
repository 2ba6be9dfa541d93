"""Progress bars for long work: tqdm on standard error, shown only in a terminal.

A bar appears when the caller asked for feedback (``verbose=True`` in Python,
the default of the command line) *and* standard error is a terminal: CI logs,
pipes, files and notebooks' captured streams get no bar characters. Without
tqdm installed there is no bar either; nothing else changes.

One bar at a time is current (a context variable), so a step deep inside the
main job can report to the job's bar without being handed it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

__all__ = ["Bar", "current_bar", "iterate", "progress_bar", "stderr_is_terminal"]

T = TypeVar("T")

_CURRENT: ContextVar[Bar | None] = ContextVar("custintel_progress_bar", default=None)


class Bar(Protocol):
    """What callers use of a bar (a subset of ``tqdm.tqdm``)."""

    def update(self, n: float = 1) -> Any:
        """Advance by ``n`` units."""

    def set_description_str(self, desc: str | None = None, refresh: bool = True) -> Any:
        """Name what is running now."""

    def reset(self, total: float | None = None) -> Any:
        """Start again from zero, with a new ``total`` once it is known."""


class _NoBar:
    """A bar that shows nothing: used when feedback is off or impossible."""

    def update(self, n: float = 1) -> None:
        """Do nothing."""

    def set_description_str(self, desc: str | None = None, refresh: bool = True) -> None:
        """Do nothing."""

    def reset(self, total: float | None = None) -> None:
        """Do nothing."""


def stderr_is_terminal() -> bool:
    """Return whether standard error is an interactive terminal.

    Returns
    -------
    bool
        ``False`` for pipes, files, CI logs and streams without ``isatty``.
    """
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


@contextmanager
def progress_bar(
    total: float | None, *, desc: str, unit: str = "it", enabled: bool = True, initial: float = 0
) -> Iterator[Bar]:
    """Show a tqdm bar on standard error for the work inside the block.

    Parameters
    ----------
    total : float or None
        Units of work expected (``None``: unknown, the bar counts up).
    desc : str
        What the bar is for.
    unit : str, default="it"
        Name of one unit (``"step"``, ``"rows"``).
    enabled : bool, default=True
        The caller's wish (``verbose``); even when true, the bar appears only
        when standard error is a terminal.
    initial : float, default=0
        Units already done (e.g. validation run before ``fit``).

    Yields
    ------
    Bar
        A ``tqdm`` bar, or one that shows nothing. Log records of the
        ``custintel`` logger are written above the bar while it is shown.

    Examples
    --------
    >>> with progress_bar(3, desc="demo", enabled=False) as bar:
    ...     for _ in range(3):
    ...         bar.update()
    """
    bar: Bar
    if not enabled or not stderr_is_terminal():
        bar = _NoBar()
        token = _CURRENT.set(bar)
        try:
            yield bar
        finally:
            _CURRENT.reset(token)
        return
    try:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        yield _NoBar()
        return
    outer = _CURRENT.get()
    nested = outer is not None and not isinstance(outer, _NoBar)
    with (
        tqdm(
            total=total,
            desc=desc,
            unit=unit,
            initial=initial,
            file=sys.stderr,
            dynamic_ncols=True,
            leave=not nested,  # a bar inside a bar disappears when its work is done
        ) as shown,
        logging_redirect_tqdm(loggers=[logging.getLogger("custintel")]),
    ):
        token = _CURRENT.set(shown)
        try:
            yield shown
        finally:
            _CURRENT.reset(token)


def current_bar() -> Bar | None:
    """Return the bar of the innermost :func:`progress_bar` block, if any.

    Returns
    -------
    Bar or None
    """
    return _CURRENT.get()


def iterate(
    items: Iterable[T], *, total: float | None, desc: str, unit: str = "it", enabled: bool = True
) -> Iterator[T]:
    """Yield ``items``, advancing a bar by one for each (see :func:`progress_bar`).

    Parameters
    ----------
    items : iterable
        The work, one unit per item.
    total : float or None
        How many items there are, when known.
    desc, unit, enabled
        As for :func:`progress_bar`.

    Yields
    ------
    object
        Each item, unchanged.

    Examples
    --------
    >>> list(iterate([1, 2], total=2, desc="demo", enabled=False))
    [1, 2]
    """
    with progress_bar(total, desc=desc, unit=unit, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.update()
