"""Plots for the lifetime-value models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custintel.clv import alive_path
from custintel.plotting._mpl import axes, duration_label, resolve_time_unit

__all__ = [
    "plot_alive_path",
    "plot_calibration_vs_holdout",
    "plot_clv_distribution",
    "plot_cumulative_purchases",
    "plot_frequency_recency_matrix",
]


def plot_calibration_vs_holdout(
    model: Any,
    X: pd.DataFrame,
    *,
    max_frequency: int = 7,
    time_unit: str | None = None,
    ax: Any = None,
) -> Any:
    """Plot actual vs predicted holdout purchases by calibration-period frequency.

    Customers are grouped by their calibration ``frequency`` (the last group
    collects ``max_frequency`` and more); each group shows the mean actual
    ``frequency_holdout`` and the mean model prediction over
    ``duration_holdout``. The classic check of Fader, Hardie and Lee (2005).

    Parameters
    ----------
    model : PurchaseModel
        A fitted purchase model.
    X : pandas.DataFrame
        Output of :func:`custintel.calibration_holdout_split`.
    max_frequency : int, default=7
        Frequencies above this are pooled.
    time_unit : {"D", "W"}, optional
        Unit of ``duration_holdout``, named on the axis; by default
        ``X.attrs['time_unit']`` (recorded by the split).
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
    """
    missing = {"frequency_holdout", "duration_holdout"} - set(X.columns)
    if missing:
        raise ValueError(
            f"X lacks {sorted(missing)}; build it with custintel.calibration_holdout_split"
        )
    duration = float(X["duration_holdout"].iloc[0])
    predicted = model.predict_purchases(X, t=duration)
    group = X["frequency"].clip(upper=max_frequency)
    table = (
        pd.DataFrame({"actual": X["frequency_holdout"], "predicted": predicted, "group": group})
        .groupby("group")[["actual", "predicted"]]
        .mean()
    )
    ax = axes(ax)
    ax.plot(table.index, table["actual"], marker="o", label="actual")
    ax.plot(table.index, table["predicted"], marker="s", linestyle="--", label=type(model).__name__)
    labels = [str(int(i)) for i in table.index]
    labels[-1] = f"{labels[-1]}+"
    ax.set_xticks(table.index, labels)
    ax.set_xlabel("purchases in the calibration period")
    unit = resolve_time_unit(time_unit, X, model)
    holdout = f" ({duration_label(duration, unit)})" if np.isfinite(duration) else ""
    ax.set_ylabel(f"mean purchases in the holdout{holdout}")
    ax.set_title("Calibration vs holdout purchases")
    ax.legend()
    return ax


def plot_frequency_recency_matrix(
    model: Any,
    X: pd.DataFrame | None = None,
    *,
    T: float | None = None,
    kind: str = "purchases",
    t: float = 1.0,
    max_frequency: int | None = None,
    time_unit: str | None = None,
    ax: Any = None,
) -> Any:
    """Plot expected purchases, or P(alive), over a grid of frequencies and recencies.

    Each cell is a hypothetical customer of age ``T`` with that frequency
    (repeat purchases) and recency (time of the last purchase).

    Parameters
    ----------
    model : PurchaseModel
        A fitted purchase model.
    X : pandas.DataFrame, optional
        The customer table the model was fitted on (``frequency``, ``T``). When
        given, the grid covers its range: frequencies up to its largest
        ``frequency`` and customers of its largest age ``T``, and its
        ``attrs['time_unit']`` names the unit.
    T : float, optional
        Age of the hypothetical customers, in the model's time unit; required
        without ``X``.
    kind : {"purchases", "alive"}, default="purchases"
        Expected purchases in the next ``t``, or the probability of being alive.
    t : float, default=1.0
        Horizon for ``kind="purchases"``, in the model's time unit.
    max_frequency : int, optional
        Largest frequency shown; defaults to the largest ``frequency`` in ``X``,
        or without ``X`` to ``T`` rounded up (the most repeat purchases a
        customer of age ``T`` can make at one occasion per time unit).
    time_unit : {"D", "W"}, optional
        Unit of ``T``, ``t`` and recency, named on the axes and in the title;
        by default ``X.attrs['time_unit']`` or the model's ``time_unit_``.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import custintel as ci
    >>> from custintel.clv import BetaGeoModel
    >>> from custintel.datasets import load_cdnow
    >>> X = ci.summarize_customers(load_cdnow(), observation_end="1998-06-30",
    ...                            time_unit="W", duplicates="keep")
    >>> ax = plot_frequency_recency_matrix(BetaGeoModel().fit(X), X)
    >>> [float(limit) for limit in ax.get_ylim()]     # CDNOW's largest frequency
    [0.0, 170.0]
    >>> ax.get_title()
    'expected purchases in the next 1 week for customers of age 77.9 weeks'
    """
    if kind not in ("purchases", "alive"):
        raise ValueError(f"kind must be 'purchases' or 'alive', got '{kind}'")
    if X is not None:
        missing = {"frequency", "T"} - set(X.columns)
        if missing:
            raise ValueError(
                f"X lacks {sorted(missing)}; pass the customer table the model was fitted on "
                "(custintel.summarize_customers)"
            )
        if len(X) == 0:
            raise ValueError("X has no customers; pass the table the model was fitted on")
    if T is None:
        if X is None:
            raise ValueError(
                "give the customers' age T, or the customer table X to take its largest T"
            )
        T = float(X["T"].max())
    T = float(T)
    if not np.isfinite(T) or T <= 0:
        raise ValueError(f"T must be a positive age, got {T:g}")
    if max_frequency is None:
        top = int(X["frequency"].max()) if X is not None else int(np.ceil(T))
    else:
        top = int(max_frequency)
    top = max(top, 1)
    unit = resolve_time_unit(time_unit, X, model)
    frequency, recency = np.meshgrid(np.arange(top + 1), np.linspace(0, T, 50), indexing="ij")
    grid = pd.DataFrame({"frequency": frequency.ravel(), "recency": recency.ravel(), "T": T})
    grid.loc[grid["frequency"] == 0, "recency"] = 0.0
    if kind == "purchases":
        values = model.predict_purchases(grid, t=t)
        label = f"expected purchases in the next {duration_label(t, unit)}"
    else:
        values = model.predict_proba_alive(grid)
        label = "P(alive)"
    ax = axes(ax)
    image = ax.imshow(
        values.to_numpy().reshape(frequency.shape),
        origin="lower",
        aspect="auto",
        extent=(0, T, 0, top),
        cmap="viridis",
    )
    ax.figure.colorbar(image, ax=ax, label=label)
    unit_words = duration_label(2, unit).split(" ", 1)[1]
    ax.set_xlabel(f"recency (time of last purchase, {unit_words})")
    ax.set_ylabel("frequency (repeat purchases)")
    ax.set_title(f"{label} for customers of age {duration_label(round(T, 1), unit)}")
    return ax


def plot_cumulative_purchases(
    model: Any,
    timeline: pd.DataFrame,
    first_purchase: Any,
    *,
    calibration_end: float | None = None,
    ax: Any = None,
) -> Any:
    """Plot actual vs expected cumulative repeat purchases over calendar time.

    Parameters
    ----------
    model : PurchaseModel
        A fitted purchase model; its
        :meth:`~custintel.clv.BetaGeoModel.expected_cumulative_purchases` draws
        the expected curve.
    timeline : pandas.DataFrame
        Output of :func:`custintel.features.repeat_purchase_timeline`
        (``cumulative`` by ``period``).
    first_purchase : array-like of float
        Each customer's first purchase in periods since the start of the
        timeline (0 = the first day of data).
    calibration_end : float, optional
        Period at which to draw the end of calibration.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
    """
    periods = timeline.index.to_numpy(dtype=np.float64)
    expected = model.expected_cumulative_purchases(first_purchase, t=periods)
    ax = axes(ax)
    ax.plot(periods, timeline["cumulative"].to_numpy(), label="actual")
    ax.plot(periods, expected.to_numpy(), linestyle="--", label=type(model).__name__)
    if calibration_end is not None:
        ax.axvline(calibration_end, color="grey", linestyle=":", label="end of calibration")
    ax.set_xlabel("period")
    ax.set_ylabel("cumulative repeat purchases")
    ax.set_title("Tracking cumulative repeat purchases")
    ax.legend()
    return ax


def plot_clv_distribution(
    clv: pd.Series, *, bins: int = 50, currency: str | None = None, ax: Any = None
) -> Any:
    """Plot the distribution of predicted CLV, with its mean and median.

    Parameters
    ----------
    clv : pandas.Series
        Output of :meth:`custintel.clv.CLVModel.predict_clv`.
    bins : int, default=50
        Histogram bins.
    currency : str, optional
        Currency of the values, written on the axis (e.g. ``"GBP"``).
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
    """
    values = np.asarray(clv, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        raise ValueError("clv has no finite values to plot")
    ax = axes(ax)
    ax.hist(values, bins=bins, color="tab:blue", alpha=0.8)
    ax.axvline(float(np.mean(values)), color="tab:red", label=f"mean {np.mean(values):,.2f}")
    ax.axvline(
        float(np.median(values)), color="tab:green", label=f"median {np.median(values):,.2f}"
    )
    ax.set_yscale("log")
    ax.set_xlabel(
        f"customer lifetime value ({currency})" if currency else "customer lifetime value"
    )
    ax.set_ylabel("customers (log scale)")
    ax.set_title("Distribution of predicted CLV")
    ax.legend()
    return ax


def plot_alive_path(
    model: Any,
    purchases: Any,
    *,
    observation_end: Any = None,
    time_unit: str = "D",
    ax: Any = None,
) -> Any:
    """Plot P(alive) over one customer's history, with a mark at each purchase.

    The path is :func:`custintel.clv.alive_path` (lifetimes'
    ``plot_history_alive``, which fails on pandas 3): P(alive) jumps at each
    purchase and decays in between.

    Parameters
    ----------
    model : PurchaseModel
        A fitted purchase model with ``predict_proba_alive``.
    purchases : array-like or pandas.DataFrame
        The customer's purchase times (see :func:`custintel.clv.alive_path`).
    observation_end : date-like or float, optional
        Last day of the path; the last purchase by default.
    time_unit : {"D", "W"}, default="D"
        The time unit the model was fitted in.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from custintel.clv import BetaGeoModel
    >>> from custintel.plotting import plot_alive_path
    >>> model = BetaGeoModel.from_dict({
    ...     "model": "BetaGeoModel", "format_version": 1,
    ...     "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    ...     "log_likelihood": -9582.4, "converged": True})
    >>> ax = plot_alive_path(model, ["2024-01-01", "2024-01-15", "2024-02-01"],
    ...                      observation_end="2024-06-30", time_unit="W")
    >>> ax.get_ylabel()
    'P(alive)'
    """
    path = alive_path(model, purchases, observation_end=observation_end, time_unit=time_unit)
    ax = axes(ax)
    x = path.index.to_numpy()
    ax.plot(x, path["proba_alive"].to_numpy(), color="tab:blue", label="P(alive)")
    bought = path["purchase"].to_numpy(dtype=bool)
    for i, when in enumerate(x[bought]):
        ax.axvline(
            when,
            color="tab:red",
            linestyle=":",
            alpha=0.7,
            label="purchase" if i == 0 else "_nolegend_",
        )
    ax.scatter(x[bought], path["proba_alive"].to_numpy()[bought], color="tab:red", zorder=3, s=15)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel(path.index.name)
    ax.set_ylabel("P(alive)")
    ax.set_title(f"P(alive) over the customer's history ({type(model).__name__})")
    ax.legend(loc="lower left")
    return ax


def plot_model_comparison(comparison: Any, *, max_frequency: int = 7, ax: Any = None) -> Any:
    """Plot each model's mean predicted holdout purchases against the actual, by frequency.

    Customers are grouped by their calibration ``frequency`` (the last group
    collects ``max_frequency`` and more), as in
    :func:`plot_calibration_vs_holdout`, with one line per model of the
    comparison, so the models that track the holdout best stand out.

    Parameters
    ----------
    comparison : ModelComparison
        Output of :func:`custintel.clv.compare_models`.
    max_frequency : int, default=7
        Frequencies above this are pooled.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One line for the actual purchases and one per model, its holdout MAE
        in the legend.
    """
    predictions = getattr(comparison, "predictions", None)
    if not isinstance(predictions, pd.DataFrame) or predictions.empty:
        raise ValueError("comparison must be the result of custintel.clv.compare_models")
    group = comparison.frequency.clip(upper=max_frequency)
    means = predictions.assign(actual=comparison.actual).groupby(group.to_numpy()).mean()
    ax = axes(ax)
    ax.plot(means.index, means["actual"], marker="o", color="black", label="actual")
    for name in predictions.columns:
        mae = comparison.table.loc[name, "holdout_mae"]
        ax.plot(
            means.index, means[name], marker=".", linestyle="--", label=f"{name} (MAE {mae:.3f})"
        )
    ax.set_xlabel(
        f"purchases in the calibration period ({max_frequency} = {max_frequency} or more)"
    )
    ax.set_ylabel("mean purchases in the holdout")
    ax.set_title("Model comparison on the holdout")
    ax.legend()
    return ax


def plot_period_transactions(table: pd.DataFrame, *, ax: Any = None) -> Any:
    """Plot customers by number of repeat purchases: observed against the model's simulation.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`custintel.clv.period_transactions`.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        Two bars per number of repeat purchases (the last one meaning "or
        more"): observed and simulated customers.
    """
    if not isinstance(table, pd.DataFrame) or not {"observed", "simulated"} <= set(table.columns):
        raise ValueError(
            "table must be the output of custintel.clv.period_transactions "
            "(columns observed and simulated)"
        )
    ax = axes(ax)
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["observed"], width=0.4, label="observed")
    ax.bar(x + 0.2, table["simulated"], width=0.4, label="simulated from the model")
    labels = [str(v) for v in table.index]
    labels[-1] += "+"
    ax.set_xticks(x, labels)
    ax.set_xlabel("repeat purchases")
    ax.set_ylabel("customers")
    ax.set_title("Customers by number of repeat purchases")
    ax.legend()
    return ax
