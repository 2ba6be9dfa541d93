"""``backtest``: train at one cutoff, score at a later one, compare churn scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone

from custintel.churn._classifier import ChurnClassifier
from custintel.churn._metrics import churn_metrics, gains_table
from custintel.churn._scores import btyd_churn_score
from custintel.features import make_churn_dataset
from custintel.schema import TransactionSchema

__all__ = ["BacktestResult", "backtest", "backtest_tables"]

#: Score names ``backtest`` understands besides estimators.
BASELINES = ("recency", "bgnbd", "pareto_nbd", "mbgnbd", "bgnbd_1-p_alive")


@dataclass
class BacktestResult:
    """What :func:`backtest` measured.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per model: ``roc_auc``, ``pr_auc``, ``brier``, ``ece``,
        ``top_decile_lift``, ``top_decile_lift_churn`` and ``base_rate`` (see
        :func:`churn_metrics`). Brier and ECE are NaN for scores that are not
        probabilities (recency).
    scores : pandas.DataFrame
        Churn score of each test customer (rows) under each model (columns).
    y_test : pandas.Series
        Observed churn of the test customers.
    gains : dict of str to pandas.DataFrame
        :func:`gains_table` per model, ranking the rarer outcome (the one
        ``top_decile_lift`` measures).
    """

    metrics: pd.DataFrame
    scores: pd.DataFrame
    y_test: pd.Series
    gains: dict[str, pd.DataFrame] = field(default_factory=dict)


def backtest(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    train_cutoff: Any,
    test_cutoff: Any,
    horizon: int,
    models: Mapping[str, Any] | Sequence[str] | None = None,
    refunds: Literal["net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
    **dataset_options: Any,
) -> BacktestResult:
    """Evaluate churn models out of time: train at one cutoff, score at a later one.

    Labels of the training cutoff must be known before the test cutoff, so
    ``train_cutoff + horizon <= test_cutoff`` is required.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions (see :func:`~custintel.validate_transactions`).
    schema : TransactionSchema, dict or None, default=None
        Column mapping; by default the columns are the role names.
    train_cutoff, test_cutoff : date-like
        Cutoffs of the training and of the test table.
    horizon : int
        Label window in days.
    models : dict or sequence, optional
        Name to estimator (anything with ``fit(X, y)`` and ``predict_proba``;
        it is cloned and fitted on the training table) or to one of the
        baseline names: ``"recency"`` (``days_since_last``), ``"bgnbd"``,
        ``"mbgnbd"``, ``"pareto_nbd"`` (BTYD P(no purchase within the
        horizon), fitted on the test cutoff's history only), and
        ``"bgnbd_1-p_alive"`` (the pitfall: 1 - P(alive)). A sequence of
        names uses each as its own name. Default: ``ChurnClassifier()``,
        ``"recency"`` and ``"bgnbd"``.
    refunds, duplicates : str
        Validation policies, see :func:`~custintel.validate_transactions`.
    **dataset_options
        Passed on to :func:`~custintel.features.make_churn_dataset`
        (``min_history``, ``window``, ``btyd``).

    Returns
    -------
    BacktestResult
        Metrics, scores, labels and gains tables.

    Raises
    ------
    ValueError
        When the cutoffs are out of order or overlap through the horizon, a
        model name is unknown, or a table holds one class only.
    """
    train_day = pd.Timestamp(train_cutoff).floor("D")
    test_day = pd.Timestamp(test_cutoff).floor("D")
    if (
        isinstance(horizon, (int, np.integer))
        and train_day + pd.Timedelta(days=int(horizon)) > test_day
    ):
        raise ValueError(
            f"train_cutoff {train_day.date()} + horizon {horizon} days runs past test_cutoff "
            f"{test_day.date()}: the training labels would not be known at scoring time; "
            "use an earlier train_cutoff or a later test_cutoff"
        )
    models = _models(models)
    options = {"refunds": refunds, "duplicates": duplicates, **dataset_options}
    X_test, y_test = make_churn_dataset(tx, schema, cutoff=test_cutoff, horizon=horizon, **options)
    options["duplicates"] = "keep" if duplicates == "warn" else duplicates
    train: tuple[pd.DataFrame, pd.Series] | None = None
    if any(not isinstance(m, str) for m in models.values()):
        train = make_churn_dataset(tx, schema, cutoff=train_cutoff, horizon=horizon, **options)
    return _evaluate(models, train, (X_test, y_test), horizon)


def backtest_tables(
    train: tuple[pd.DataFrame, pd.Series] | None,
    test: tuple[pd.DataFrame, pd.Series],
    *,
    horizon: int,
    models: Mapping[str, Any] | Sequence[str] | None = None,
) -> BacktestResult:
    """Evaluate churn models out of time on churn tables that are already built.

    What :func:`backtest` does after building its two tables with
    :func:`~custintel.features.make_churn_dataset`: for a caller that has
    the tables already (the main job trains its final model on the test
    table), so that no table is built twice.

    Parameters
    ----------
    train : tuple of (pandas.DataFrame, pandas.Series) or None
        ``(X, y)`` at the training cutoff; ``None`` when ``models`` holds
        only baseline names.
    test : tuple of (pandas.DataFrame, pandas.Series)
        ``(X, y)`` at the test cutoff, at least ``horizon`` days after the
        training cutoff.
    horizon : int
        Label window of both tables, in days (used by the BTYD baselines).
    models : dict or sequence, optional
        As in :func:`backtest`.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ValueError
        For an unknown baseline name, an estimator without ``train``, or a
        table that holds one class only.

    Examples
    --------
    >>> from custintel.datasets import make_transactions
    >>> from custintel.features import make_churn_dataset
    >>> tx = make_transactions(800, random_state=0).transactions
    >>> train = make_churn_dataset(tx, cutoff="2023-06-30", horizon=180)
    >>> test = make_churn_dataset(tx, cutoff="2024-01-31", horizon=180)
    >>> result = backtest_tables(train, test, horizon=180)
    >>> sorted(result.metrics.index)
    ['BG/NBD', 'ChurnClassifier', 'recency']
    """
    return _evaluate(_models(models), train, test, horizon)


def _models(models: Mapping[str, Any] | Sequence[str] | None) -> Mapping[str, Any]:
    """Name every model (the defaults when None) and check the baseline names."""
    if models is None:
        models = {"ChurnClassifier": ChurnClassifier(), "recency": "recency", "BG/NBD": "bgnbd"}
    elif not isinstance(models, Mapping):
        models = {str(name): name for name in models}
    for name, model in models.items():
        if isinstance(model, str) and model not in BASELINES:
            raise ValueError(f"model {name!r}: unknown baseline {model!r}; use one of {BASELINES}")
    return models


def _evaluate(
    models: Mapping[str, Any],
    train: tuple[pd.DataFrame, pd.Series] | None,
    test: tuple[pd.DataFrame, pd.Series],
    horizon: int,
) -> BacktestResult:
    """Fit each estimator on ``train``, score ``test`` with every model, and compare."""
    X_test, y_test = test
    scores: dict[str, pd.Series] = {}
    probabilistic: dict[str, bool] = {}
    for name, model in models.items():
        if isinstance(model, str):
            if model == "recency":
                score = X_test["days_since_last"].astype(float)
            else:
                kind, _, variant = model.partition("_1-")
                score = btyd_churn_score(
                    kind, X_test, horizon=horizon, method="p_alive" if variant else "no_purchase"
                )
            probabilistic[name] = model != "recency"
        else:
            if train is None:
                raise ValueError(
                    f"model {name!r} must be trained, but no training table was given; pass "
                    "train=(X, y) from make_churn_dataset at an earlier cutoff"
                )
            fitted = clone(model).fit(*train)
            score = pd.Series(fitted.predict_proba(X_test)[:, 1], index=X_test.index)
            probabilistic[name] = True
        scores[name] = score.rename(name)
    table = pd.DataFrame(scores)
    metrics = pd.DataFrame(
        {
            name: churn_metrics(y_test, table[name], probabilistic=probabilistic[name])
            for name in table
        }
    ).T
    metrics.index.name = "model"
    churn_is_minority = y_test.mean() <= 0.5
    gains = {
        name: gains_table(y_test, table[name])
        if churn_is_minority
        else gains_table(1 - y_test, -table[name])
        for name in table
    }
    return BacktestResult(metrics=metrics, scores=table, y_test=y_test, gains=gains)
