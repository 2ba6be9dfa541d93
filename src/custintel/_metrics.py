"""Ranking and calibration metrics of a binary outcome: gains, lift, calibration error.

Shared by every package that scores a yes/no outcome (churn, high-value
prospects, campaign response); :mod:`custintel.churn` re-exports them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["binary_arrays", "expected_calibration_error", "gains_table", "top_decile_lift"]


def binary_arrays(y_true: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``y_true`` (0/1) and ``score`` as float arrays, checked (``ValueError``)."""
    y = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(score, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(
            f"y_true has {y.size} values but the score has {s.size}; pass one per customer"
        )
    if y.size == 0:
        raise ValueError("y_true is empty; pass at least one customer")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must hold only 0 and 1 (1 = the outcome the score ranks)")
    if not np.isfinite(s).all():
        raise ValueError(f"the score has {int((~np.isfinite(s)).sum())} NaN or infinite values")
    return y, s


def expected_calibration_error(y_true: Any, proba: Any, *, n_bins: int = 10) -> float:
    r"""Compute the expected calibration error over equal-width probability bins.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Observed outcomes.
    proba : array-like of float
        Predicted probabilities of outcome 1, in [0, 1].
    n_bins : int, default=10
        Number of equal-width bins on [0, 1].

    Returns
    -------
    float
        :math:`\sum_b \frac{n_b}{n} |\bar y_b - \bar p_b|`.

    Examples
    --------
    >>> round(expected_calibration_error([0, 1, 1, 1], [0.05, 0.95, 0.95, 0.55], n_bins=2), 4)
    0.15
    """
    y, p = binary_arrays(y_true, proba)
    if (p < 0).any() or (p > 1).any():
        raise ValueError("proba must lie in [0, 1]; pass probabilities, not raw scores")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    gap = np.abs(
        np.bincount(bins, weights=y, minlength=n_bins)
        - np.bincount(bins, weights=p, minlength=n_bins)
    )
    return float(gap.sum() / y.size)


def gains_table(y_true: Any, score: Any, *, n_bins: int = 10) -> pd.DataFrame:
    """Tabulate cumulative gains and lift by score decile (highest scores first).

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Observed outcomes; 1 is the outcome the score ranks.
    score : array-like of float
        Higher means more likely to be 1.
    n_bins : int, default=10
        Number of equal-size groups.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``group`` (1 = highest scores), with ``customers``,
        ``positives``, ``rate``, ``lift`` (rate / base rate),
        ``cumulative_share`` (share of customers so far), ``gain`` (share of
        all positives captured so far) and ``cumulative_lift``.
        Ties are ordered by position, so groups have sizes that differ by at
        most one (empty groups, when there are fewer customers than groups,
        have rate 0).

    Examples
    --------
    >>> gains_table([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.3], n_bins=2)[["positives", "lift", "gain"]]
           positives  lift  gain
    group
    1              2   2.0   1.0
    2              0   0.0   1.0
    """
    y, s = binary_arrays(y_true, score)
    if y.sum() == 0:
        raise ValueError("y_true has no positive outcome; gains are undefined")
    order = np.argsort(-s, kind="stable")
    group = np.arange(y.size) * n_bins // y.size
    customers = np.bincount(group, minlength=n_bins)
    positives = np.bincount(group, weights=y[order], minlength=n_bins)
    base = y.mean()
    table = pd.DataFrame(
        {
            "customers": customers,
            "positives": positives.astype(np.int64),
            "rate": positives / np.maximum(customers, 1),
        },
        index=pd.RangeIndex(1, n_bins + 1, name="group"),
    )
    table["lift"] = table["rate"] / base
    table["cumulative_share"] = np.cumsum(customers) / y.size
    table["gain"] = np.cumsum(positives) / positives.sum()
    table["cumulative_lift"] = table["gain"] / table["cumulative_share"]
    return table


def top_decile_lift(y_true: Any, score: Any) -> float:
    """Compute the outcome rate among the top 10% of scores, divided by the base rate.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Observed outcomes.
    score : array-like of float
        Higher means more likely to be 1.

    Returns
    -------
    float
        Lift of the first decile of :func:`gains_table`.
    """
    return float(gains_table(y_true, score, n_bins=10)["lift"].iloc[0])
