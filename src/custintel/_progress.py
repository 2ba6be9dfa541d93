"""Progress bars for long work: tqdm on standard error, shown only in a terminal.

A bar appears when the caller asked for feedback (``verbose=True`` in Python,
the default of the command line) *and* standard error is a terminal: CI logs,
pipes, files and notebooks' captured streams get no bar characters. Without
tqdm installed there is no bar either; nothing else changes.

One bar at a time is current (a context variable), so a step deep inside the
main job can report to the job's bar without being handed it, and a function
called with ``progress=None`` (automatic) knows whether the job around it
shows feedback: inside a job whose bar is off (``verbose=False``, or not a
terminal) it shows none either; inside a shown bar its own bar nests below the
job's and is cleared when done. An automatic bar appears only once its work
has run for :data:`AUTO_DELAY` seconds, so quick calls leave no trace.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

__all__ = [
    "AUTO_DELAY",
    "Bar",
    "current_bar",
    "follow",
    "is_shown",
    "iterate",
    "progress_bar",
    "stderr_is_terminal",
]

T = TypeVar("T")

#: Seconds an automatic bar (``enabled=None``) waits before it first shows.
AUTO_DELAY = 0.5

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


class _Delayed:
    """A tqdm bar whose explicit redraws (a reset, a new description) also wait for its delay.

    tqdm's ``delay`` holds back only the redraws of ``update``; ``reset`` and
    ``set_description_str`` draw at once, so an automatic bar over quick work
    (``score_file`` knows its total only after reading) would leave a trace.
    """

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def _due(self) -> bool:
        return bool(self.bar._time() >= self.bar.start_t + self.bar.delay)

    def update(self, n: float = 1) -> Any:
        """Advance by ``n`` units (tqdm waits for the delay itself)."""
        return self.bar.update(n)

    def set_description_str(self, desc: str | None = None, refresh: bool = True) -> Any:
        """Name what is running now; drawn only once the delay is over."""
        return self.bar.set_description_str(desc, refresh=refresh and self._due())

    def reset(self, total: float | None = None) -> Any:
        """Start again from zero, with a new ``total``; drawn only once the delay is over."""
        if self._due():
            return self.bar.reset(total)
        self.bar.n = 0
        if total is not None:
            self.bar.total = total
        return None


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


def is_shown(bar: Bar) -> bool:
    """Return whether ``bar`` is a real bar (not the silent stand-in of a quiet run).

    Parameters
    ----------
    bar : Bar
        As yielded by :func:`progress_bar`.

    Returns
    -------
    bool
    """
    return not isinstance(bar, _NoBar)


def _wanted(enabled: bool | None) -> tuple[bool, float]:
    """Resolve ``enabled`` (``None``: automatic) to whether a bar may show, and its delay."""
    if enabled is None:
        outer = _CURRENT.get()
        return not isinstance(outer, _NoBar), AUTO_DELAY
    return bool(enabled), 0.0


@contextmanager
def progress_bar(
    total: float | None,
    *,
    desc: str,
    unit: str = "it",
    enabled: bool | None = True,
    initial: float = 0,
    leave: bool | None = None,
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
    enabled : bool or None, default=True
        The caller's wish (``verbose``, ``progress``); even when true, the bar
        appears only when standard error is a terminal. ``None`` is automatic
        (a function's ``progress=None``): off inside a block whose bar is off
        (a quiet job), otherwise on, shown once the work has run for
        :data:`AUTO_DELAY` seconds.
    initial : float, default=0
        Units already done (e.g. validation run before ``fit``).
    leave : bool or None, default=None
        Whether the finished bar stays on screen; ``None``: unless it is
        nested in another bar. A bar whose work goes on under another bar
        (the main job's validation, before ``fit``) passes ``False``.

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
    wanted, delay = _wanted(enabled)
    wanted = wanted and stderr_is_terminal()
    if wanted:  # tqdm is imported only when a bar will show
        try:
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency
            wanted = False
    if not wanted:
        bar: Bar = _NoBar()
        token = _CURRENT.set(bar)
        try:
            yield bar
        finally:
            _CURRENT.reset(token)
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
            delay=delay,
            # a bar inside a bar disappears when its work is done
            leave=not nested if leave is None else leave,
        ) as shown,
        logging_redirect_tqdm(loggers=[logging.getLogger("custintel")]),
    ):
        current: Bar = _Delayed(shown) if delay > 0 else shown
        token = _CURRENT.set(current)
        try:
            yield current
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
    items: Iterable[T],
    *,
    total: float | None,
    desc: str,
    unit: str = "it",
    enabled: bool | None = True,
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


def follow(
    work: Callable[[], T],
    bar: Bar,
    done: Callable[[], float],
    *,
    every: float = 0.1,
    stop: Callable[[], None] | None = None,
) -> T:
    """Return ``work()``, moving ``bar`` to ``done()`` every ``every`` seconds meanwhile.

    For compiled kernels that release the GIL and count their own progress
    in an array: the kernel runs in a worker thread while this thread moves
    the bar, so the kernel pays one store per unit of work and nothing else.
    When ``bar`` is not shown, ``work`` runs here, with no thread.

    Parameters
    ----------
    work : callable
        The work, without arguments.
    bar : Bar
        As yielded by :func:`progress_bar`.
    done : callable
        Units done so far; read after ``work`` ends too, so ``work`` should
        leave it at the total.
    every : float, default=0.1
        Seconds between two reads of ``done``.
    stop : callable, optional
        Asks ``work`` to end early. Called when the caller is interrupted
        (e.g. Ctrl-C) while ``work`` runs in the worker thread, which is then
        waited for, so no kernel keeps a core busy after the interruption.
        Without it, the worker runs on (a daemon thread, ended at exit).

    Returns
    -------
    object
        What ``work`` returned; an exception it raised is raised here.

    Examples
    --------
    >>> with progress_bar(1, desc="demo", enabled=False) as bar:
    ...     follow(lambda: 42, bar, lambda: 1)
    42
    """
    if not is_shown(bar):
        return work()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # raised again in the caller's thread
            outcome["error"] = exc

    # A daemon thread: an interrupted caller does not wait for the kernel at exit.
    worker = threading.Thread(target=run, name="custintel-progress", daemon=True)
    worker.start()
    seen: float = 0
    try:
        while True:
            worker.join(every)
            now = done()
            bar.update(now - seen)  # also refreshes a bar still at zero once its delay is over
            seen = now
            if not worker.is_alive():
                break
    except BaseException:  # KeyboardInterrupt, most likely: stop the work before raising
        if stop is not None:
            stop()
            worker.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value
