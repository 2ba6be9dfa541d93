"""Uplift: which customers buy *because* they are contacted, and the Qini curve that checks it.

The model is a two-model ("T-learner") estimate built on scikit-learn: one
classifier learns P(response | x) on the treatment group, another on the
control group, and the uplift is their difference. It needs nothing beyond
scikit-learn, handles any classifier, and is the baseline the uplift
literature compares against (Radcliffe 2007; Gutierrez & Gerardy 2017).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from custintel._validation import as_customer_table
from custintel.exceptions import SchemaError

__all__ = ["UpliftModel", "qini_coefficient", "qini_curve"]


def _check_arms(treatment: Any, y: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    treated = np.asarray(treatment)
    outcome = np.asarray(y)
    if treated.shape != (n,) or outcome.shape != (n,):
        raise ValueError(
            f"treatment and y need one value per row of X ({n}), got shapes "
            f"{treated.shape} and {outcome.shape}"
        )
    # Booleans, 0/1 and the group names all read as text: "true"/"1"/"treatment" is contacted.
    treated = pd.Series(treated).map(lambda v: str(v).strip().lower())
    mapping = {"true": 1, "1": 1, "1.0": 1, "treatment": 1}
    mapping.update({"false": 0, "0": 0, "0.0": 0, "control": 0})
    flags = treated.map(mapping)
    if flags.isna().any():
        bad = treated[flags.isna()].astype(str).unique()[:3].tolist()
        raise ValueError(
            f"treatment holds {bad}; use 1/True/'treatment' for contacted customers and "
            "0/False/'control' for held-out ones"
        )
    arms = flags.to_numpy(dtype=np.int64)
    for arm, name in ((1, "treatment"), (0, "control")):
        if not (arms == arm).any():
            raise SchemaError(
                f"the {name} group is empty: an uplift model compares contacted with held-out "
                "customers and needs both",
                reason=f"empty_{name}",
            )
    values = np.unique(outcome)
    if not np.isin(values, [0, 1, True, False]).all():
        raise ValueError(f"y must be 0/1 (responded or not), got values {values[:5].tolist()}")
    return arms, outcome.astype(np.int64)


@dataclass(kw_only=True, repr=False, eq=False)
class UpliftModel(BaseEstimator):
    """Estimate each customer's response uplift from a contact: P(buy | contacted) - P(buy | not).

    Parameters
    ----------
    estimator : scikit-learn classifier or None, default=None
        Fitted once on the treatment group and once on the control group.
        ``None``: ``HistGradientBoostingClassifier(max_iter=200,
        learning_rate=0.05, min_samples_leaf=40, random_state=0)``, which
        takes categorical columns natively.

    Attributes
    ----------
    treatment_model_, control_model_ : classifier
        The two fitted classifiers.
    feature_names_in_ : numpy.ndarray
        Columns of ``X`` seen in ``fit``.
    response_rates_ : dict
        Observed response rate of each group.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"loyal": rng.integers(0, 2, 4000)})
    >>> treated = rng.integers(0, 2, 4000)
    >>> # Only customers who are not loyal react to the contact (+30 points).
    >>> p = 0.2 + 0.3 * treated * (X["loyal"].to_numpy() == 0)
    >>> y = (rng.random(4000) < p).astype(int)
    >>> model = UpliftModel().fit(X, treated, y)
    >>> uplift = model.predict(pd.DataFrame({"loyal": [0, 1]}))
    >>> bool(uplift.iloc[0] > 0.2 and abs(uplift.iloc[1]) < 0.1)
    True
    """

    estimator: Any = None

    def _estimator(self) -> Any:
        if self.estimator is not None:
            return self.estimator
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            min_samples_leaf=40,
            categorical_features="from_dtype",
            random_state=0,
        )

    def _frame(self, X: Any) -> pd.DataFrame:
        X = as_customer_table(X, owner="UpliftModel")
        if not isinstance(X, pd.DataFrame):
            raise SchemaError(
                f"UpliftModel expects a table of customer attributes (a DataFrame), got "
                f"{type(X).__name__}",
                reason="not_a_dataframe",
            )
        if X.empty or X.shape[1] == 0:
            raise SchemaError(f"UpliftModel got an empty table {X.shape}", reason="empty")
        return X

    def fit(self, X: Any, treatment: Any, y: Any) -> UpliftModel:
        """Fit one response model per group.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer attributes and behaviour before the contact (e.g. RFM
            columns and segments), one row per contact.
        treatment : array-like
            1/True/"treatment" for contacted customers, 0/False/"control"
            for held-out ones.
        y : array-like
            1 when the customer responded (bought in the window), else 0.

        Returns
        -------
        UpliftModel
            The fitted model.

        Raises
        ------
        SchemaError
            When a group is empty.
        ValueError
            For treatment or y values that are not two-valued.
        """
        X = self._frame(X)
        arms, outcome = _check_arms(treatment, y, len(X))
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        models = {}
        for arm in (1, 0):
            rows = arms == arm
            if len(np.unique(outcome[rows])) < 2:
                raise SchemaError(
                    f"in the {'treatment' if arm else 'control'} group every customer "
                    f"{'responded' if outcome[rows][0] else 'did not respond'}: there is no "
                    "contrast to learn from; use a longer response window or more contacts",
                    reason="one_outcome",
                )
            models[arm] = clone(self._estimator()).fit(X.loc[rows], outcome[rows])
        self.treatment_model_, self.control_model_ = models[1], models[0]
        self.response_rates_ = {
            "treatment": float(outcome[arms == 1].mean()),
            "control": float(outcome[arms == 0].mean()),
        }
        return self

    def predict(self, X: Any) -> pd.Series:
        """Return each customer's estimated uplift: P(response | contact) - P(response | none).

        Parameters
        ----------
        X : pandas.DataFrame
            The columns seen in ``fit``.

        Returns
        -------
        pandas.Series
            Named ``uplift``, indexed like ``X``; between -1 and 1.

        Raises
        ------
        SchemaError
            When ``X`` lacks a column the model was fitted on.
        """
        check_is_fitted(self, "treatment_model_")
        X = self._frame(X)
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise SchemaError(
                f"UpliftModel was fitted on columns {list(self.feature_names_in_)}; X lacks "
                f"{missing}",
                reason="missing_column",
            )
        X = X[list(self.feature_names_in_)]
        treated = self.treatment_model_.predict_proba(X)[:, 1]
        held_out = self.control_model_.predict_proba(X)[:, 1]
        return pd.Series(treated - held_out, index=X.index, name="uplift")


def qini_curve(y: Any, treatment: Any, uplift: Any, *, n_points: int = 101) -> pd.DataFrame:
    r"""Compute the Qini curve: incremental responses when targeting the top share by uplift.

    Customers are ranked by ``uplift``, best first. After targeting the top
    :math:`\phi` of them, with :math:`R_t, N_t` responders and customers of
    the treatment group among them and :math:`R_c, N_c` of the control group,
    the incremental responses are (Radcliffe 2007)

    .. math:: Q(\phi) = R_t(\phi) - R_c(\phi)\,\frac{N_t(\phi)}{N_c(\phi)}

    (0 while :math:`N_c = 0`). Random targeting gives the straight line from
    0 to :math:`Q(1)`.

    Parameters
    ----------
    y : array-like
        1 when the customer responded, else 0.
    treatment : array-like
        1 for contacted (treatment) customers, 0 for control.
    uplift : array-like
        The scores to rank by (e.g. :meth:`UpliftModel.predict`).
    n_points : int, default=101
        Points on the curve, evenly spaced in the targeted share.

    Returns
    -------
    pandas.DataFrame
        ``targeted_share``, ``incremental_responses`` (the model's curve) and
        ``random`` (the random-targeting line).

    Examples
    --------
    Four customers; the scores put the treated responder first:

    >>> curve = qini_curve([1, 0, 0, 1], [1, 0, 1, 0], [0.9, 0.5, 0.3, 0.1], n_points=5)
    >>> curve["incremental_responses"].tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0]
    """
    outcome = np.asarray(y, dtype=np.float64)
    arms = np.asarray(treatment).astype(np.int64)
    scores = np.asarray(uplift, dtype=np.float64)
    if not (outcome.shape == arms.shape == scores.shape) or outcome.ndim != 1:
        raise ValueError("y, treatment and uplift need one value per customer each")
    if not np.isfinite(scores).all():
        raise ValueError("uplift holds NaN or infinite scores")
    order = np.argsort(-scores, kind="stable")
    treated = arms[order] == 1
    responded = outcome[order]
    n_t = np.concatenate([[0], np.cumsum(treated)])
    n_c = np.concatenate([[0], np.cumsum(~treated)])
    r_t = np.concatenate([[0.0], np.cumsum(responded * treated)])
    r_c = np.concatenate([[0.0], np.cumsum(responded * ~treated)])
    q = r_t - np.divide(r_c * n_t, n_c, out=np.zeros(len(n_c)), where=n_c > 0)
    n = len(scores)
    cut = np.round(np.linspace(0, n, n_points)).astype(np.int64)
    share = cut / max(n, 1)
    return pd.DataFrame(
        {"targeted_share": share, "incremental_responses": q[cut], "random": share * q[-1]}
    )


def qini_coefficient(y: Any, treatment: Any, uplift: Any) -> float:
    """Area between the Qini curve and the random line, over the area of the random triangle.

    Parameters
    ----------
    y, treatment, uplift : array-like
        As for :func:`qini_curve`.

    Returns
    -------
    float
        0 for ranking no better than random, positive when the scores put
        persuadable customers first; NaN when the whole campaign has no
        incremental response (the random line is flat).

    Examples
    --------
    >>> qini_coefficient([1, 0, 0, 1], [1, 0, 1, 0], [0.9, 0.5, 0.3, 0.1])
    nan
    """
    n = len(np.asarray(uplift))
    curve = qini_curve(y, treatment, uplift, n_points=n + 1)
    x = curve["targeted_share"].to_numpy()
    gain = np.trapezoid(curve["incremental_responses"].to_numpy() - curve["random"].to_numpy(), x)
    total = float(curve["incremental_responses"].iloc[-1])
    if total == 0:
        return float("nan")
    return float(gain / (abs(total) / 2))
