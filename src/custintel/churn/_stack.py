r"""``model="btyd_logistic"``: a logistic regression stacked on a BG/NBD purchase model.

Both the fitted classifier and the one rebuilt from its JSON export score
with :class:`LinearStack`, so they compute the same numbers the same way.
For a customer with churn features ``x`` (days)::

    P0(x)  = BG/NBD P(no purchase in (T, T + h]) for frequency, recency / u, T / u
             (parameters r, alpha, a, b of the training customers, time unit u = 7 days,
              h = horizon / u)
    z_0    = logit(clip(P0, 1e-9, 1 - 1e-9))
    z_k    = sign(v_k) * log(1 + |v_k|),  v_k = x_k, or median_k when x_k is missing,
             for the STACK_FEATURES k = 1..5
    log-odds = intercept + sum_j coef_j * (z_j - mean_j) / scale_j
    P(churn) = expit(log-odds)         (before calibration, if any)

with, for a BG/NBD alive after the last purchase (Fader, Hardie and Lee 2005, 2008),
``P0 = 1 - P(alive) * (1 - ((alpha + T) / (alpha + T + h)) ** (r + x))`` and
``P(alive) = 1 / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + recency)) ** (r + x))``;
a BG/NBD fit that is a boundary solution (no dropout seen) predicts with its nested NBD
model: ``P0 = ((alpha + T) / (alpha + T + h)) ** (r + x)`` with the NBD's ``r`` and ``alpha``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from custintel.exceptions import ConvergenceError, SchemaError, quiet

__all__ = [
    "BTYD_FEATURES",
    "DAYS_PER_UNIT",
    "NO_PURCHASE",
    "STACK_FEATURES",
    "BTYDStack",
    "LinearStack",
    "signed_log1p",
]

#: The churn features ``model="btyd_logistic"`` puts beside the BG/NBD score (signed log,
#: median-imputed): recency, frequency, spend, age and recency against the usual gap.
STACK_FEATURES = (
    "days_since_last",
    "n_orders",
    "total_amount",
    "tenure_days",
    "recency_to_gap_mean",
)
#: The BG/NBD inputs of ``model="btyd_logistic"``, in days.
BTYD_FEATURES = ("frequency", "recency", "T")
#: The name of the BG/NBD column of the stack (its P(no purchase in the horizon)).
NO_PURCHASE = "p_no_purchase"
#: Days per time unit of the BG/NBD fit (weeks).
DAYS_PER_UNIT = 7.0
#: P(no purchase) is clipped to [CLIP, 1 - CLIP] before its logit.
CLIP = 1e-9


def signed_log1p(values: Any) -> Any:
    """Return ``sign(v) * log(1 + |v|)``, elementwise."""
    return np.sign(values) * np.log1p(np.abs(values))


def _btyd_table(X: pd.DataFrame) -> pd.DataFrame:
    from custintel.backends import btyd_table

    table: pd.DataFrame = btyd_table(X)
    return table


def _design(btyd: Any, horizon: float, medians: np.ndarray, X: pd.DataFrame) -> np.ndarray:
    """Return the stack's inputs ``z`` (rows × 6): logit P0, then the signed-log features."""
    no_purchase = btyd.predict_proba_no_purchase(
        _btyd_table(X), t=float(horizon) / DAYS_PER_UNIT
    ).to_numpy(dtype=float)
    p = np.clip(no_purchase, CLIP, 1 - CLIP)
    columns = [np.log(p / (1 - p))]
    for k, name in enumerate(STACK_FEATURES):
        values = X[name].to_numpy(dtype=float, na_value=np.nan)
        columns.append(signed_log1p(np.where(np.isnan(values), medians[k], values)))
    return np.column_stack(columns)


class BTYDStack(TransformerMixin, BaseEstimator):
    """The inputs of ``model="btyd_logistic"``: logit BG/NBD P(no purchase) and robust features.

    ``fit`` fits a BG/NBD model on ``frequency``, ``recency`` and ``T`` (days,
    turned into weeks) of the training customers and the medians of
    ``STACK_FEATURES``; ``transform`` returns the logit of the fitted model's
    probability of no purchase within ``horizon`` days and the signed log of
    each feature (missing values replaced by the training median). The
    BG/NBD parameters are those of the training table: scoring one customer
    does not refit anything. A BG/NBD fit that finds no dropout (a boundary
    solution) scores with its nested NBD model, silently: that is the
    purchase model such data support.
    """

    def __init__(self, horizon: float = 90.0) -> None:
        self.horizon = horizon

    def fit(self, X: pd.DataFrame, y: Any = None) -> BTYDStack:
        from custintel.clv import BetaGeoModel

        missing = [c for c in BTYD_FEATURES + STACK_FEATURES if c not in X.columns]
        if missing:
            raise SchemaError(
                f"model='btyd_logistic' needs the churn features {missing}, absent from X; "
                "build X with custintel.features.make_churn_dataset (named columns)",
                reason="missing_column",
            )
        try:
            # A boundary fit (no dropout seen) predicts with its nested NBD model, which is
            # what the stack wants; its warning would tell a churn user to fit NBDModel.
            with quiet():
                self.btyd_ = BetaGeoModel().fit(_btyd_table(X))
        except ConvergenceError as err:
            raise ValueError(
                f"model='btyd_logistic': the BG/NBD model of its first stage could not be fitted "
                f"on these {len(X)} training customers ({err}); use more customers or a longer "
                "history, or ChurnClassifier(model='hgb')"
            ) from err
        medians = X[list(STACK_FEATURES)].astype(float).median()
        self.medians_ = medians.fillna(0.0).to_dict()
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "btyd_")
        medians = np.array([self.medians_[name] for name in STACK_FEATURES], dtype=float)
        return _design(self.btyd_, self.horizon, medians, X)


@dataclass(frozen=True, eq=False)
class LinearStack:
    """The scoring formula of one fitted ``btyd_logistic`` pipeline (see the module docstring).

    Parameters
    ----------
    btyd : BetaGeoModel
        Fitted on the training customers, in weeks.
    horizon : float
        Label window in days.
    medians : numpy.ndarray of shape (5,)
        Training medians of ``STACK_FEATURES``.
    mean, scale, coef : numpy.ndarray of shape (6,)
        The scaler's mean and scale and the regression's coefficients, for
        ``p_no_purchase`` then ``STACK_FEATURES``.
    intercept : float
        The regression's intercept.
    """

    btyd: Any
    horizon: float
    medians: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    #: Column names of the stack's inputs.
    columns = (NO_PURCHASE, *STACK_FEATURES)

    @classmethod
    def of(cls, pipeline: Any) -> LinearStack:
        """Read the formula off a fitted ``BTYDStack -> StandardScaler -> LogisticRegression``."""
        stack, scaler, regression = (step for _, step in pipeline.steps)
        return cls(
            btyd=stack.btyd_,
            horizon=float(stack.horizon),
            medians=np.array([stack.medians_[n] for n in STACK_FEATURES], dtype=float),
            mean=np.asarray(scaler.mean_, dtype=float),
            scale=np.asarray(scaler.scale_, dtype=float),
            coef=np.asarray(regression.coef_, dtype=float).ravel(),
            intercept=float(np.asarray(regression.intercept_).ravel()[0]),
        )

    def design(self, X: pd.DataFrame) -> np.ndarray:
        """Return the inputs ``z`` of the regression (rows × 6)."""
        return _design(self.btyd, self.horizon, self.medians, X)

    def contributions(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return ``coef_j * (z_j - mean_j) / scale_j`` (rows × 6) and the ``z`` they came from."""
        z = self.design(X)
        return (z - self.mean) / self.scale * self.coef, z

    def decision(self, X: pd.DataFrame) -> np.ndarray:
        """Return the log-odds of churn, as ``LogisticRegression.decision_function`` does."""
        scaled = (self.design(X) - self.mean) / self.scale
        # the matrix product of LogisticRegression.decision_function, so the scores match
        scores = scaled @ self.coef.reshape(-1, 1) + np.array([self.intercept])
        return np.asarray(scores.ravel(), dtype=np.float64)

    def proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return P(churn) before calibration."""
        from scipy.special import expit

        return np.asarray(expit(self.decision(X)), dtype=np.float64)
