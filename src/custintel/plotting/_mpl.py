"""Lazy access to matplotlib."""

from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    """Return ``matplotlib.pyplot``, with an install hint when it is missing."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "custintel's plots need matplotlib: pip install 'custintel[plot]'"
        ) from exc
    return plt


def axes(ax: Any) -> Any:
    """Return ``ax``, or a new figure's axes when ``ax`` is None."""
    if ax is not None:
        return ax
    _, new = pyplot().subplots(figsize=(7, 4.5))
    return new
