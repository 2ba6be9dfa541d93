"""Plots for the 80/20 profitability analyses: Pareto and Lorenz curves, whale curve, ABC bars."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from custintel.plotting._mpl import axes

__all__ = ["plot_abc", "plot_pareto", "plot_whale_curve"]


def _percent_axis(axis: Any) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0))


#: Customer-table columns in words, for titles and legends.
_WORDS = {"total_amount": "revenue", "total_margin": "margin", "expected_clv": "expected CLV"}


def _words(column: Any) -> str:
    return _WORDS.get(str(column), str(column).replace("_", " "))


def plot_pareto(
    analysis: Any, *, kind: str = "pareto", mark: float | None = 0.2, ax: Any = None
) -> Any:
    """Plot the Pareto curve (or the Lorenz curve) of a fitted :class:`ParetoAnalysis`.

    The Pareto curve plots the cumulative share of value against the share
    of customers ranked from the most valuable; the Lorenz curve ranks them
    from the least valuable, so the area between it and the diagonal is
    half the Gini coefficient.

    Parameters
    ----------
    analysis : custintel.profitability.ParetoAnalysis
        A fitted analysis.
    kind : {"pareto", "lorenz"}, default="pareto"
        Which curve to draw.
    mark : float or None, default=0.2
        For the Pareto curve: mark the share of value of the top ``mark`` of
        customers (``None`` for no mark).
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        The first line is the curve (starting at (0, 0)), the second the
        line of equality.
    """
    check_is_fitted(analysis, "table_")
    if kind not in ("pareto", "lorenz"):
        raise ValueError(f"kind must be 'pareto' or 'lorenz', got {kind!r}")
    ax = axes(ax)
    label = _words(analysis.column_)
    if kind == "pareto":
        x = np.concatenate(([0.0], analysis.table_["cumulative_customer_share"].to_numpy()))
        y = np.concatenate(([0.0], analysis.table_["cumulative_value_share"].to_numpy()))
        ax.plot(x, y, label="Pareto curve")
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="equality")
        ax.set_xlabel("customers, most valuable first")
        title = f"Pareto curve of {label}"
        if mark is not None:
            share = analysis.share_of_top(mark)
            ax.plot([mark, mark, 0], [0, share, share], linestyle="--", color="black", lw=0.8)
            ax.scatter([mark], [share], color="black", zorder=3)
            title = f"Top {mark:.0%} of customers produce {share:.1%} of {label}"
    else:
        ax.plot(
            analysis.lorenz_["customer_share"].to_numpy(),
            analysis.lorenz_["value_share"].to_numpy(),
            label="Lorenz curve",
        )
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="equality")
        ax.set_xlabel("customers, least valuable first")
        title = f"Lorenz curve of {label} (Gini {analysis.gini_:.3f})"
    ax.set_ylabel(f"cumulative share of {label}")
    _percent_axis(ax.xaxis)
    _percent_axis(ax.yaxis)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="lower right")
    return ax


def plot_whale_curve(whale: Any, *, currency: str | None = None, ax: Any = None) -> Any:
    """Plot the whale curve of a fitted :class:`WhaleCurve`.

    Cumulative profit, as a share of total profit, against the share of
    customers ranked from the most profitable; the curve peaks above 100%
    when some customers destroy value.

    Parameters
    ----------
    whale : custintel.profitability.WhaleCurve
        A fitted whale curve.
    currency : str, optional
        Currency of profit, on the axis when the curve is drawn in amounts.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        The first line is the curve (starting at (0, 0)); a horizontal line
        marks 100% of total profit and a point the peak. When total profit
        is not positive, the curve is drawn in currency instead of shares.
    """
    check_is_fitted(whale, "curve_")
    ax = axes(ax)
    x = np.concatenate(([0.0], whale.curve_["customer_share"].to_numpy()))
    in_shares = whale.total_profit_ > 0
    column = "cumulative_profit_share" if in_shares else "cumulative_profit"
    y = np.concatenate(([0.0], whale.curve_[column].to_numpy()))
    ax.plot(x, y, label="cumulative profit")
    peak = whale.peak_share_ if in_shares else whale.peak_profit_
    ax.axhline(1.0 if in_shares else whale.total_profit_, color="grey", linestyle=":", lw=1)
    ax.scatter([whale.peak_customer_share_], [peak], color="black", zorder=3, label="peak")
    ax.set_xlabel("customers, most profitable first")
    _percent_axis(ax.xaxis)
    ax.set_xlim(0, 1)
    if in_shares:
        _percent_axis(ax.yaxis)
        ax.set_ylabel("cumulative share of total profit")
        ax.set_title(
            f"Whale curve: peak {whale.peak_share_:.0%} of profit at "
            f"{whale.peak_customer_share_:.0%} of customers"
        )
    else:
        unit = f" ({currency})" if currency else ""
        ax.set_ylabel(f"cumulative {_words(whale.column_)}{unit}")
        ax.set_title("Whale curve (total profit is not positive)")
    ax.legend(loc="lower center")
    return ax


def plot_abc(
    analysis: Any,
    *,
    cuts: Sequence[float] = (0.8, 0.95),
    labels: Sequence[str] | None = None,
    ax: Any = None,
) -> Any:
    """Plot the share of customers and of value in each ABC class.

    Parameters
    ----------
    analysis : custintel.profitability.ParetoAnalysis
        A fitted analysis.
    cuts : sequence of float, default=(0.8, 0.95)
        Cumulative shares closing each class; see
        :meth:`~custintel.profitability.ParetoAnalysis.abc_classes`.
    labels : sequence of str, optional
        Class names.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers, in class order: share of customers, then share
        of value.
    """
    check_is_fitted(analysis, "table_")
    table = analysis.abc_summary(cuts, labels=labels)
    ax = axes(ax)
    positions = np.arange(len(table))
    width = 0.4
    customers = ax.bar(positions - width / 2, table["customer_share"], width, label="customers")
    label = _words(analysis.column_)
    value = ax.bar(positions + width / 2, table["value_share"], width, label=label)
    for container in (customers, value):
        ax.bar_label(container, fmt="{:.0%}".format, padding=2, fontsize=8)
    ax.set_xticks(positions, [str(c) for c in table.index])
    ax.set_xlabel("class")
    ax.set_ylabel("share")
    _percent_axis(ax.yaxis)
    ax.set_ylim(0, 1.1)
    ax.set_title(f"ABC classes of {label}")
    ax.legend()
    return ax
