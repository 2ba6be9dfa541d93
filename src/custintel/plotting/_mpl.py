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


_UNIT_WORDS = {"D": ("day", "days"), "W": ("week", "weeks")}


def resolve_time_unit(*sources: Any) -> str | None:
    """Return the first time unit found in a unit code, a table or a model.

    Each source is a unit code (``"D"``, ``"W"``), a frame whose ``attrs['time_unit']``
    records one (what :func:`custintel.summarize_customers` writes), a fitted model with a
    ``time_unit_`` attribute (:class:`custintel.clv.CLVModel`), or None.
    """
    for source in sources:
        if source is None:
            continue
        if isinstance(source, str):
            if source not in _UNIT_WORDS:
                raise ValueError(f"time_unit must be 'D' (days) or 'W' (weeks), got '{source}'")
            return source
        attrs = getattr(source, "attrs", None)
        unit = attrs.get("time_unit") if isinstance(attrs, dict) else None
        unit = unit if unit is not None else getattr(source, "time_unit_", None)
        if unit in _UNIT_WORDS:
            return str(unit)
    return None


def duration_label(value: float, unit: str | None) -> str:
    """Say ``value`` time units in words: ``'1 week'``, ``'39 weeks'``, ``'273 days'``.

    Without a known unit the label says so (``'39 time units'``), so an axis never
    shows a bare number of units.
    """
    singular, plural = _UNIT_WORDS.get(unit or "", ("time unit", "time units"))
    return f"{value:g} {singular if value == 1 else plural}"
