"""Plots for segmentations: RFM heatmap, segment size and revenue bars, migration heatmap."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custintel.plotting._mpl import axes

__all__ = ["plot_migration", "plot_rfm_heatmap", "plot_segment_bars"]


def _heatmap(ax: Any, table: pd.DataFrame, fmt: str, cmap: str) -> Any:
    data = table.to_numpy(dtype=np.float64)
    image = ax.imshow(data, cmap=cmap, aspect="auto")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=45, ha="right")
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    finite = data[np.isfinite(data)]
    middle = (finite.max() + finite.min()) / 2 if finite.size else 0.0
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            if np.isfinite(data[i, j]):
                ax.text(
                    j,
                    i,
                    format(data[i, j], fmt),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if data[i, j] > middle else "black",
                )
    ax.figure.colorbar(image, ax=ax)
    return ax


def plot_rfm_heatmap(
    scores: pd.DataFrame,
    *,
    value: pd.Series | None = None,
    n_bins: int | None = None,
    ax: Any = None,
) -> Any:
    """Draw customers (or the mean of ``value``) by R score and F score.

    Every score from 1 to ``n_bins`` gets a row and a column, also a score no
    customer earned (with ties, CDNOW's many one-time buyers leave F score 2
    empty): its cells read 0 customers (or stay blank for means) and the axis
    label names the unused scores.

    Parameters
    ----------
    scores : pandas.DataFrame
        Output of :meth:`custintel.segmentation.RFMSegmenter.transform`.
    value : pandas.Series, optional
        A per-customer value (e.g. ``total_amount``) to average in each cell;
        by default cells count customers.
    n_bins : int, optional
        The segmenter's ``n_bins`` (scores run 1..``n_bins``); by default the
        largest score in any of the ``r_score``, ``f_score`` and ``m_score``
        columns.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        Rows are R scores (best at the top), columns F scores.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"r_score": [1, 3, 3], "f_score": [1, 1, 3]})
    >>> ax = plot_rfm_heatmap(scores)
    >>> ax.get_xlabel()
    'F score (no customer has F score 2)'
    >>> ax.images[0].get_array().tolist()     # rows R = 3, 2, 1; columns F = 1, 2, 3
    [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    """
    for col in ("r_score", "f_score"):
        if col not in scores.columns:
            raise ValueError(f"scores must be RFMSegmenter output with column '{col}'")
    present = [c for c in ("r_score", "f_score", "m_score") if c in scores.columns]
    if n_bins is None:
        top = scores[present].max().max() if len(scores) else 1
        n_bins = int(top) if pd.notna(top) else 1
    levels = pd.Index(range(1, int(n_bins) + 1))
    ax = axes(ax)
    if value is None:
        table = pd.crosstab(scores["r_score"], scores["f_score"])
        table = table.reindex(index=levels, columns=levels, fill_value=0)
        fmt, title = ",.0f", "customers by R and F score"
    else:
        v = pd.Series(value).reindex(scores.index).astype("float64")
        table = pd.crosstab(scores["r_score"], scores["f_score"], values=v, aggfunc="mean")
        table = table.reindex(index=levels, columns=levels)
        fmt, title = ",.1f", f"mean {value.name or 'value'} by R and F score"
    table = table.sort_index(ascending=False)
    _heatmap(ax, table, fmt, "Blues")
    ax.set_xlabel("F score" + _unused(scores["f_score"], levels, "F"))
    ax.set_ylabel("R score" + _unused(scores["r_score"], levels, "R"))
    ax.set_title(title)
    return ax


def _unused(column: pd.Series, levels: pd.Index, letter: str) -> str:
    """Say which scores of ``levels`` no customer has, e.g. ``' (no customer has F score 2)'``."""
    unused = [int(level) for level in levels.difference(pd.Index(column.unique()))]
    if not unused:
        return ""
    names = ", ".join(str(u) for u in unused)
    return f" (no customer has {letter} score{'s' if len(unused) > 1 else ''} {names})"


def plot_segment_bars(profile: pd.DataFrame, *, ax: Any = None) -> Any:
    """Draw each segment's share of customers next to its share of revenue.

    Parameters
    ----------
    profile : pandas.DataFrame
        Output of :func:`custintel.segmentation.segment_profile` (or any
        frame indexed by segment with ``customer_share`` and ``revenue_share``).
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers: customer share, then revenue share.
    """
    for col in ("customer_share", "revenue_share"):
        if col not in profile.columns:
            raise ValueError(f"profile needs a {col!r} column; build it with segment_profile")
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    ax = axes(ax)
    y = np.arange(len(profile))
    ax.barh(y - 0.2, profile["customer_share"], height=0.4, label="customers")
    ax.barh(y + 0.2, profile["revenue_share"], height=0.4, label="revenue")
    ax.set_yticks(y, [str(i) for i in profile.index])
    ax.invert_yaxis()
    # Whole percents and at most five ticks: "0% 10% 20% ..." never run into each other.
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of total")
    ax.set_title("segment size and revenue")
    ax.legend()
    return ax


def plot_migration(migration: Any, *, kind: str = "counts", ax: Any = None) -> Any:
    """Draw a segment migration table as a heatmap.

    Parameters
    ----------
    migration : custintel.segmentation.SegmentMigration
        Output of :func:`custintel.segmentation.segment_migration`.
    kind : {"counts", "revenue", "share"}, default="counts"
        Customers, revenue, or the share of each "before" row.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        Rows: segment before; columns: segment after.
    """
    if kind not in ("counts", "revenue", "share"):
        raise ValueError(f"kind must be 'counts', 'revenue' or 'share', got {kind!r}")
    ax = axes(ax)
    if kind == "revenue":
        if migration.revenue is None:
            raise ValueError("this migration has no revenue; pass revenue= to segment_migration")
        table, fmt = migration.revenue, ",.0f"
    elif kind == "share":
        counts = migration.counts
        table, fmt = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0), ".0%"
    else:
        table, fmt = migration.counts, ",.0f"
    _heatmap(ax, table, fmt, "Purples")
    ax.set_xlabel("segment after")
    ax.set_ylabel("segment before")
    ax.set_title(f"segment migration ({kind})")
    return ax
