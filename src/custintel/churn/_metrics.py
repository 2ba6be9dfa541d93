"""Ranking and calibration metrics for churn scores."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from custintel._metrics import (
    binary_arrays,
    expected_calibration_error,
    gains_table,
    top_decile_lift,
)

__all__ = ["churn_metrics", "expected_calibration_error", "gains_table", "top_decile_lift"]


def churn_metrics(y_true: Any, score: Any, *, probabilistic: bool = True) -> dict[str, float]:
    r"""Compute ranking and calibration metrics of one churn score.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        1 = churned.
    score : array-like of float
        Churn score; higher = more likely to churn.
    probabilistic : bool, default=True
        Whether ``score`` is a probability; if not, Brier and ECE are NaN.

    Returns
    -------
    dict
        ``roc_auc``, ``pr_auc`` (average precision of churn), ``brier``,
        ``ece``, ``top_decile_lift`` (of returning buyers: see Notes),
        ``top_decile_lift_churn`` and ``base_rate``.

    Notes
    -----
    With a churn base rate :math:`\pi`, the lift of churners in any group is
    at most :math:`1/\pi` (1.3 when 77% churn), so ``top_decile_lift`` is
    measured the way a retention team reads it when churn is the norm: the
    share of customers who *buy again* among the 10% scored least likely to
    churn, over the base rate of buying again. When churn is the minority it is
    the churner lift among the 10% scored most likely to churn.
    """
    y, s = binary_arrays(y_true, score)
    if np.unique(y).size < 2:
        raise ValueError("y_true holds one class only; metrics need churners and non-churners")
    churn_is_minority = y.mean() <= 0.5
    out = {
        "roc_auc": float(roc_auc_score(y, s)),
        "pr_auc": float(average_precision_score(y, s)),
        "brier": float(brier_score_loss(y, s)) if probabilistic else np.nan,
        "ece": expected_calibration_error(y, s) if probabilistic else np.nan,
        "top_decile_lift": top_decile_lift(y, s)
        if churn_is_minority
        else top_decile_lift(1 - y, -s),
        "top_decile_lift_churn": top_decile_lift(y, s),
        "base_rate": float(y.mean()),
    }
    return out
