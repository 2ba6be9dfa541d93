"""Plots for churn and retention: gains and lift, calibration, cohort heatmap, survival."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from custintel.plotting._mpl import axes

__all__ = [
    "plot_calibration_curve",
    "plot_cohort_heatmap",
    "plot_customer_survival",
    "plot_gains",
    "plot_survival_curve",
]


def _tables(gains: Any) -> dict[str, pd.DataFrame]:
    if hasattr(gains, "gains") and isinstance(gains.gains, Mapping):
        return dict(gains.gains)
    if isinstance(gains, pd.DataFrame):
        return {"model": gains}
    if isinstance(gains, Mapping):
        return dict(gains)
    raise ValueError(
        "gains must be a gains_table frame, a dict of them, or a BacktestResult, "
        f"got {type(gains).__name__}"
    )


def _positive_class(gains: Any) -> str:
    """Name the outcome a gains table ranks: a backtest ranks the rarer of churn and stay."""
    y_test = getattr(gains, "y_test", None)
    if y_test is not None and hasattr(gains, "gains"):
        # backtest() ranks churners when they are the minority, else the customers who stayed.
        return "churners" if float(np.mean(y_test)) <= 0.5 else "customers who stayed"
    return "positives (y = 1)"


def plot_gains(
    gains: Any, *, kind: str = "gains", positive: str | None = None, ax: Any = None
) -> Any:
    """Plot cumulative gains or lift by decile, one line per model.

    Parameters
    ----------
    gains : DataFrame, dict of DataFrame, or BacktestResult
        Output of :func:`custintel.churn.gains_table`, several of them by
        name, or a :class:`custintel.churn.BacktestResult`.
    kind : {"gains", "lift"}, default="gains"
        ``"gains"``: share of all positives captured against the share of
        customers targeted, with the random diagonal. ``"lift"``: lift of
        each group, with the line at 1.
    positive : str, optional
        Name of the outcome the score ranks (the class counted as 1 by
        :func:`~custintel.churn.gains_table`), plural, e.g. ``"churners"``;
        written on the axis and in the title. A
        :class:`~custintel.churn.BacktestResult` names it itself (churners, or
        the customers who stayed when they are the rarer outcome); a bare table
        says "positives (y = 1)".
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One line per model, in the order given, then the reference line.

    Examples
    --------
    >>> from custintel.churn import gains_table
    >>> table = gains_table([1, 0, 1, 0, 0], [0.9, 0.1, 0.8, 0.3, 0.2], n_bins=5)
    >>> plot_gains(table, positive="churners").get_ylabel()
    'share of churners captured'
    """
    if kind not in ("gains", "lift"):
        raise ValueError(f"kind must be 'gains' or 'lift', got '{kind}'")
    tables = _tables(gains)
    if positive is None:
        positive = _positive_class(gains)
    ax = axes(ax)
    for name, table in tables.items():
        if kind == "gains":
            x = np.r_[0.0, table["cumulative_share"].to_numpy()]
            y = np.r_[0.0, table["gain"].to_numpy()]
            ax.plot(x, y, marker="o", label=name)
        else:
            ax.plot(table.index.to_numpy(), table["lift"].to_numpy(), marker="o", label=name)
    if kind == "gains":
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
        ax.set_xlabel("share of customers targeted")
        ax.set_ylabel(f"share of {positive} captured")
        ax.set_title(f"Cumulative gains: {positive} found by targeting the highest scores first")
    else:
        ax.axhline(1.0, linestyle=":", color="grey", label="random")
        ax.set_xlabel("group (1 = highest scores)")
        ax.set_ylabel(f"lift (rate of {positive} / overall rate)")
        ax.set_title(f"Lift: {positive} by score group")
    ax.legend()
    return ax


def plot_calibration_curve(y_true: Any, proba: Any, *, n_bins: int = 10, ax: Any = None) -> Any:
    """Plot observed churn against predicted churn in equal-width bins.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Observed churn.
    proba : array-like, pandas.Series or pandas.DataFrame
        Predicted P(churn); a DataFrame draws one line per column.
    n_bins : int, default=10
        Equal-width bins on [0, 1]; empty bins are skipped.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One line per model (x: mean predicted, y: observed rate), then the
        diagonal.
    """
    y = np.asarray(y_true, dtype=float).ravel()
    frame = proba if isinstance(proba, pd.DataFrame) else pd.DataFrame({"model": np.asarray(proba)})
    if len(frame) != y.size:
        raise ValueError(f"y_true has {y.size} values but proba has {len(frame)} rows")
    ax = axes(ax)
    for name in frame.columns:
        p = frame[name].to_numpy(dtype=float)
        if np.nanmin(p) < 0 or np.nanmax(p) > 1:
            raise ValueError(f"proba column {name!r} is not a probability in [0, 1]")
        bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
        n = np.bincount(bins, minlength=n_bins)
        keep = n > 0
        mean_p = np.bincount(bins, weights=p, minlength=n_bins)[keep] / n[keep]
        rate = np.bincount(bins, weights=y, minlength=n_bins)[keep] / n[keep]
        ax.plot(mean_p, rate, marker="o", label=str(name))
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect calibration")
    ax.set_xlabel("predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.legend()
    return ax


def plot_cohort_heatmap(
    table: pd.DataFrame, *, annotate: bool = False, max_labels: int = 24, ax: Any = None
) -> Any:
    """Draw a cohort retention table as a heatmap.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`custintel.churn.cohort_retention` (counts or rates).
    annotate : bool, default=False
        Write each cell's value.
    max_labels : int, default=24
        Most tick labels per axis; with more cohorts or periods every k-th
        one is labelled, so that labels never overlap.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        The first image holds ``table``'s values (NaN cells are blank).
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError("table must be a non-empty cohort_retention frame")
    ax = axes(ax)
    values = table.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    rates = bool(finite.size) and float(finite.max()) <= 1
    image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap="viridis")
    bar = ax.figure.colorbar(image, ax=ax)
    if rates:
        from matplotlib.ticker import PercentFormatter

        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        bar.set_label("share of the cohort active")
    else:
        bar.set_label("customers active")
    cols, rows = values.shape[1], values.shape[0]
    xstep = max(1, int(np.ceil(cols / max(max_labels, 1))))
    ystep = max(1, int(np.ceil(rows / max(max_labels, 1))))
    ax.set_xticks(range(0, cols, xstep))
    ax.set_xticklabels([str(c) for c in table.columns[::xstep]])
    ax.set_yticks(range(0, rows, ystep))
    ax.set_yticklabels([str(i) for i in table.index[::ystep]])
    ax.set_xlabel("periods since acquisition")
    ax.set_ylabel("cohort")
    if annotate:
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                text = f"{value:.0%}" if rates else f"{value:,.0f}"
                # Dark text on the bright end of viridis, white on the dark end.
                bright = image.norm(value) > 0.6
                color = "black" if bright else "white"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
    return ax


def plot_survival_curve(curve: pd.DataFrame, *, ax: Any = None, label: str = "customers") -> Any:
    """Plot a Kaplan-Meier curve of time to lapse as a step function.

    Parameters
    ----------
    curve : pandas.DataFrame
        Output of :func:`custintel.churn.lapse_survival`.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    label : str, default="customers"
        Legend label.

    Returns
    -------
    matplotlib.axes.Axes
        The first line is the survival curve.
    """
    if not isinstance(curve, pd.DataFrame) or "survival" not in curve.columns:
        raise ValueError("curve must be a lapse_survival frame with a 'survival' column")
    ax = axes(ax)
    ax.step(curve.index.to_numpy(), curve["survival"].to_numpy(), where="post", label=label)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("days since first purchase")
    ax.set_ylabel("share not yet lapsed")
    ax.legend()
    return ax


def plot_customer_survival(
    survival: pd.DataFrame, customers: Any = None, *, max_lines: int = 10, ax: Any = None
) -> Any:
    """Plot chosen customers' probability of still being active against days from now.

    Parameters
    ----------
    survival : pandas.DataFrame
        Output of :func:`custintel.churn.btyd_survival`: customers (rows) ×
        days (columns).
    customers : customer id or list of them, optional
        Whom to draw; by default every row, when there are at most
        ``max_lines``.
    max_lines : int, default=10
        Most customers drawn when ``customers`` is not given.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One line per customer, in the order asked (x: days, y: P(still active)).
    """
    if not isinstance(survival, pd.DataFrame) or survival.empty:
        raise ValueError("survival must be a non-empty btyd_survival frame (customers x days)")
    try:
        days = np.asarray(survival.columns, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(
            "survival's columns must be days (numbers); pass the btyd_survival frame"
        ) from error
    if customers is None:
        if len(survival) > max_lines:
            raise ValueError(
                f"survival has {len(survival)} customers, more than max_lines={max_lines} lines; "
                "choose some with customers=[...]"
            )
        chosen = list(survival.index)
    else:
        chosen = list(customers) if isinstance(customers, (list, tuple, pd.Index)) else [customers]
        unknown = [c for c in chosen if c not in survival.index]
        if unknown:
            raise ValueError(
                f"customers {unknown[:5]} are not in survival's index "
                f"(e.g. {survival.index[:3].tolist()}); ids are matched exactly, as text or numbers"
            )
    ax = axes(ax)
    for customer in chosen:
        ax.plot(days, survival.loc[customer].to_numpy(dtype=float), marker="o", label=str(customer))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("days from the end of observation")
    ax.set_ylabel("P(still active)")
    ax.legend(title="customer")
    return ax
