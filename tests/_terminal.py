"""A standard error that says it is a terminal, for the progress-bar tests."""

from __future__ import annotations

import io

import pytest


class Terminal(io.StringIO):
    """A captured standard error that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def fake_terminal(monkeypatch: pytest.MonkeyPatch, *, delay: float | None = None) -> Terminal:
    """Make standard error a terminal for this test and return what it captures.

    Called in the test's body: pytest's capture puts its own stream back
    between a fixture's setup and the test. ``delay`` replaces the seconds an
    automatic bar waits before it shows (``0.0``: at once).
    """
    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    if delay is not None:
        from custintel import _progress

        monkeypatch.setattr(_progress, "AUTO_DELAY", delay)
    return stream
