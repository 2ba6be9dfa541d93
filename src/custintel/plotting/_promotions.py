"""Plots of promotions: the Qini curve of uplift scores, and lift by campaign segment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from custintel.plotting._mpl import axes

__all__ = ["plot_campaign_lift", "plot_qini_curve"]


def plot_qini_curve(curves: pd.DataFrame | Mapping[str, pd.DataFrame], *, ax: Any = None) -> Any:
    """Plot incremental responses against the share of customers targeted, with random targeting.

    Parameters
    ----------
    curves : DataFrame or dict of DataFrame
        Output of :func:`custintel.promotions.qini_curve`, or several by
        name (e.g. the model's and the planted or another model's).
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One line per curve, then the random-targeting line of the first.
    """
    named = {"uplift model": curves} if isinstance(curves, pd.DataFrame) else dict(curves)
    if not named:
        raise ValueError("curves is empty; pass qini_curve(...) output")
    for name, curve in named.items():
        missing = {"targeted_share", "incremental_responses", "random"} - set(curve.columns)
        if missing:
            raise ValueError(f"curve {name!r} lacks {sorted(missing)}; build it with qini_curve")
    ax = axes(ax)
    for name, curve in named.items():
        ax.plot(curve["targeted_share"], curve["incremental_responses"], label=name)
    first = next(iter(named.values()))
    ax.plot(first["targeted_share"], first["random"], linestyle=":", color="grey", label="random")
    ax.set_xlabel("share of customers targeted, highest uplift first")
    ax.set_ylabel("incremental responses (Qini)")
    ax.legend()
    return ax


def plot_campaign_lift(response: pd.DataFrame, *, ax: Any = None) -> Any:
    """Plot each segment's response lift (treatment minus control) with its interval.

    Parameters
    ----------
    response : pandas.DataFrame
        Output of :func:`custintel.promotions.campaign_response` (with ``by``).
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One horizontal bar per row, with the interval as an error bar.
    """
    needed = {"lift", "lift_lower", "lift_upper"}
    if not needed <= set(response.columns):
        raise ValueError(
            f"response lacks {sorted(needed - set(response.columns))}; build it with "
            "campaign_response"
        )
    ax = axes(ax)
    lift = response["lift"].to_numpy(dtype=np.float64) * 100
    lower = response["lift_lower"].to_numpy(dtype=np.float64) * 100
    upper = response["lift_upper"].to_numpy(dtype=np.float64) * 100
    position = np.arange(len(response))[::-1]
    ax.barh(position, lift, xerr=[lift - lower, upper - lift], capsize=4, color="tab:blue")
    ax.axvline(0, color="grey", linewidth=1)
    ax.set_yticks(position, [str(i) for i in response.index])
    ax.set_xlabel("response lift, percentage points (treatment - control), 95 % interval")
    return ax
