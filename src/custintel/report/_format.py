"""Numbers, dates and tables formatted for people (managers, not parsers)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

__all__ = [
    "count",
    "date",
    "format_frame",
    "item_set",
    "money",
    "number",
    "percent",
    "ratio",
]


def _missing(x: Any) -> bool:
    try:
        return x is None or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def count(x: Any) -> str:
    """Format a count with thousands separators: ``12,345``."""
    if _missing(x):
        return "–"
    return f"{round(float(x)):,}"


def money(x: Any) -> str:
    """Format an amount: ``1.2M``, ``45,300`` or ``12.50``."""
    if _missing(x):
        return "–"
    v = float(x)
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.1f}M"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def number(x: Any, digits: int = 2) -> str:
    """Format a plain number with ``digits`` decimals (thousands separated)."""
    if _missing(x):
        return "–"
    return f"{float(x):,.{digits}f}"


def percent(x: Any) -> str:
    """Format a share in [0, 1] as a percentage, with a decimal only below 10%."""
    if _missing(x):
        return "–"
    v = 100.0 * float(x)
    if v != 0 and abs(v) < 10 and not math.isclose(v, round(v)):
        return f"{v:.1f}%"
    return f"{v:.0f}%"


def ratio(x: Any) -> str:
    """Format a lift or multiple: ``2.3×``."""
    if _missing(x):
        return "–"
    return f"{float(x):.1f}×"


def date(x: Any) -> str:
    """Format a timestamp as ``YYYY-MM-DD``."""
    if _missing(x):
        return "–"
    return pd.Timestamp(x).strftime("%Y-%m-%d")


def item_set(items: Any) -> str:
    """Join the items of a rule side: ``P0001 + P0002``."""
    if isinstance(items, str):
        return items
    if isinstance(items, Iterable):
        return " + ".join(str(i) for i in sorted(items, key=str))
    return str(items)


def format_frame(frame: pd.DataFrame, formats: Mapping[str, Callable[[Any], str]]) -> pd.DataFrame:
    """Return a copy of ``frame`` with the listed columns turned into display strings.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table to display.
    formats : mapping of str to callable
        Column name to formatter; columns not in ``frame`` are skipped and
        columns not listed are kept as they are.

    Returns
    -------
    pandas.DataFrame
        The formatted copy.
    """
    out = frame.copy()
    for column, fmt in formats.items():
        if column in out.columns:
            out[column] = [fmt(v) for v in out[column].tolist()]
    return out
