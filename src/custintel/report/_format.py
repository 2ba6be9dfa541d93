"""Numbers, dates and tables formatted for people (managers, not parsers).

Amounts carry the report's currency: :func:`currency` sets it for the
duration of one rendering (a :class:`contextvars.ContextVar`, so concurrent
renderings in threads do not see each other's), and :func:`money` reads it.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pandas as pd

__all__ = [
    "count",
    "currency",
    "currency_label",
    "date",
    "format_frame",
    "item_set",
    "money",
    "number",
    "percent",
    "ratio",
    "telling_digits",
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


#: Codes written as their symbol, before the number; any other code follows it.
_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥"}

_CURRENCY: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "custintel_report_currency", default=None
)


@contextlib.contextmanager
def currency(code: str | None) -> Iterator[None]:
    """Format amounts in ``code`` (``"GBP"``, ``"£"``, ...) inside the ``with`` block.

    Examples
    --------
    >>> with currency("GBP"):
    ...     money(1234.5)
    '£1,234'
    >>> money(1234.5)
    '1,234'
    """
    code = code.strip() if isinstance(code, str) else None
    token = _CURRENCY.set(code or None)
    try:
        yield
    finally:
        _CURRENCY.reset(token)


def _affixes() -> tuple[str, str]:
    code = _CURRENCY.get()
    if not code:
        return "", ""
    symbol = _SYMBOLS.get(code.upper())
    if symbol is not None:
        return symbol, ""
    if any(c.isalpha() for c in code):
        return "", f" {code}"
    return code, ""  # a symbol the caller gave, such as "£" or "R$"


def currency_label() -> str | None:
    """Return the current currency as a short label for axes and captions, or ``None``.

    Examples
    --------
    >>> with currency("GBP"):
    ...     currency_label()
    'GBP'
    >>> currency_label() is None
    True
    """
    return _CURRENCY.get()


def money(x: Any) -> str:
    """Format an amount: ``1.2M``, ``45,300`` or ``12.50``, with the current currency.

    Examples
    --------
    >>> money(45321.4), money(12.5), money(-2_500_000)
    ('45,321', '12.50', '-2.5M')
    >>> with currency("EUR"):
    ...     money(-12.5)
    '-€12.50'
    >>> with currency("CHF"):
    ...     money(1200)
    '1,200 CHF'
    """
    if _missing(x):
        return "–"
    v = float(x)
    if abs(v) >= 1e6:
        text = f"{abs(v) / 1e6:,.1f}M"
    elif abs(v) >= 100:
        text = f"{abs(v):,.0f}"
    else:
        text = f"{abs(v):,.2f}"
    before, after = _affixes()
    sign = "-" if v < 0 and text.strip("0.,M") else ""
    return f"{sign}{before}{text}{after}"


def number(x: Any, digits: int = 2) -> str:
    """Format a plain number with ``digits`` decimals (thousands separated)."""
    if _missing(x):
        return "–"
    return f"{float(x):,.{digits}f}"


def telling_digits(values: Any, least: int = 2, most: int = 4) -> int:
    """Return the fewest decimals (``least`` to ``most``) that keep different values apart.

    For a column a reader compares across rows (e.g. the holdout error that
    decided a model choice): 1.538 and 1.540 would both read 1.54.

    Examples
    --------
    >>> telling_digits([1.5384, 1.5396, 1.5384])
    3
    >>> telling_digits([1.5, 2.25])
    2
    """
    numbers = sorted({float(v) for v in values if not _missing(v)})
    for digits in range(least, most + 1):
        if len({round(v, digits) for v in numbers}) == len(numbers):
            return digits
    return most


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
