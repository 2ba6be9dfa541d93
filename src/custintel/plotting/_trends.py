"""Plots over time and across places: monthly revenue and customers, breakdown by region."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd

from custintel.plotting._mpl import axes

__all__ = ["money_axis_label", "plot_breakdown", "plot_monthly_activity"]


def money_axis_label(what: str, currency: str | None) -> str:
    """Return an axis label for an amount, with its currency when known.

    Examples
    --------
    >>> money_axis_label("revenue", "GBP"), money_axis_label("revenue", None)
    ('revenue (GBP)', 'revenue')
    """
    return f"{what} ({currency})" if currency else what


def _thousands(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    def short(v: float, _: Any) -> str:
        a = abs(v)
        if a >= 1e6:
            return f"{v / 1e6:,.1f}M"
        if a >= 1e4:
            return f"{v / 1e3:,.0f}k"
        return f"{v:,.0f}"

    axis.set_major_formatter(FuncFormatter(short))


def plot_monthly_activity(
    monthly: pd.DataFrame,
    *,
    currency: str | None = None,
    partial: tuple[Any, ...] = (),
    ax: Any = None,
) -> Any:
    """Draw revenue per month as bars and active (and new) customers as lines.

    Parameters
    ----------
    monthly : pandas.DataFrame
        Indexed by month (a ``Period`` or anything printable), with columns
        ``revenue`` and ``active_customers`` and, optionally, ``new_customers``.
    currency : str, optional
        Currency of ``revenue``, written on its axis.
    partial : tuple, default=()
        Months of the index only partly observed (the first and last of a
        file, usually): drawn lighter and hatched, so a short month does not
        read as a drop.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        The revenue axes (one bar container); customers are on its twin,
        ``ax.right_ax``.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> m = pd.DataFrame({"revenue": [10.0, 30.0], "active_customers": [2, 3]},
    ...                  index=pd.period_range("2024-01", periods=2, freq="M"))
    >>> ax = plot_monthly_activity(m, currency="GBP", ax=Figure().add_subplot())
    >>> ax.get_ylabel(), ax.right_ax.get_ylabel()
    ('revenue (GBP)', 'customers')
    """
    for column in ("revenue", "active_customers"):
        if column not in monthly.columns:
            raise ValueError(
                f"monthly needs a {column!r} column (one row per month); it has "
                f"{list(monthly.columns)}"
            )
    if monthly.empty:
        raise ValueError("monthly has no rows: there is no month to draw")
    ax = axes(ax)
    x = np.arange(len(monthly))
    labels = [str(i) for i in monthly.index]
    is_partial = np.array([i in set(partial) for i in monthly.index], dtype=bool)
    bars = ax.bar(x, monthly["revenue"].to_numpy(dtype=float), color="tab:blue", alpha=0.75)
    for bar, part in zip(bars, is_partial, strict=True):
        if part:
            bar.set_alpha(0.35)
            bar.set_hatch("//")
    ax.set_ylabel(money_axis_label("revenue", currency))
    _thousands(ax.yaxis)
    right = ax.twinx()
    right.plot(
        x,
        monthly["active_customers"].to_numpy(dtype=float),
        color="tab:orange",
        marker="o",
        ms=3,
        label="active customers",
    )
    if "new_customers" in monthly.columns:
        right.plot(
            x,
            monthly["new_customers"].to_numpy(dtype=float),
            color="tab:green",
            marker="s",
            ms=3,
            ls="--",
            label="new customers",
        )
    right.set_ylabel("customers")
    right.set_ylim(bottom=0)
    _thousands(right.yaxis)
    # At most about 12 month labels, rotated, so they never run into each other.
    step = max(1, int(np.ceil(len(x) / 12)))
    ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right")
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_xlabel("month")
    handles, names = right.get_legend_handles_labels()
    from matplotlib.patches import Patch

    handles.insert(0, Patch(color="tab:blue", alpha=0.75, label="revenue"))
    names.insert(0, "revenue")
    if is_partial.any():
        handles.append(Patch(facecolor="tab:blue", alpha=0.35, hatch="//"))
        names.append("partial month")
    # Above the plot, in one row: never on top of a bar.
    ax.legend(
        handles,
        names,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(names),
        fontsize=8,
        frameon=False,
    )
    ax.right_ax = right
    return ax


def _wrap(label: Any, width: int = 22) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def plot_breakdown(
    table: pd.DataFrame,
    column: str,
    *,
    currency: str | None = None,
    money: bool = True,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """Draw one column of a breakdown table (e.g. revenue by region) as horizontal bars.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by group (region, country, ...), largest first; the row
        labels are wrapped so that long names stay readable.
    column : str
        Column to draw.
    currency : str, optional
        Currency of the column, written on its axis when ``money``.
    money : bool, default=True
        Whether the column is an amount.
    title : str, optional
        Title; by default the column and the index name.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container, in table order (the first row on top).

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> t = pd.DataFrame({"revenue": [30.0, 10.0]},
    ...                  index=pd.Index(["United Kingdom", "France"], name="region"))
    >>> ax = plot_breakdown(t, "revenue", currency="GBP", ax=Figure().add_subplot())
    >>> ax.get_xlabel()
    'revenue (GBP)'
    """
    if column not in table.columns:
        raise ValueError(f"table has no column {column!r}; it has {list(table.columns)}")
    ax = axes(ax)
    y = np.arange(len(table))
    ax.barh(y, table[column].to_numpy(dtype=float), color="tab:blue")
    ax.set_yticks(y, [_wrap(i) for i in table.index])
    ax.invert_yaxis()
    label = column.replace("_", " ")
    ax.set_xlabel(money_axis_label(label, currency) if money else label)
    _thousands(ax.xaxis)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    group = table.index.name or "group"
    ax.set_title(title or f"{label} by {group}")
    return ax
