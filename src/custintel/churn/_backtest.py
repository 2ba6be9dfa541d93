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

__all__ = ["BacktestResult", "backtest", "backtest_tables", "rfm_baseline"]

#: Score names ``backtest`` understands besides estimators: scores without training.
BASELINES = ("recency", "bgnbd", "pareto_nbd", "mbgnbd", "bgnbd_1-p_alive")
#: Baseline names of models ``backtest`` trains on the training table (see ``rfm_baseline``).
TRAINED_BASELINES = ("logistic_rfm", "hgb_rfm")
#: The RFM columns of the RFM baselines: recency, frequency, monetary.
RFM_FEATURES = ("days_since_last", "n_orders", "total_amount")


def rfm_baseline(kind: Literal["logistic", "hgb"], *, random_state: int | None = 0) -> Any:
    """Build the RFM baseline classifier a churn model must beat.

    It takes the churn table of :func:`~custintel.features.make_churn_dataset`,
    keeps the three RFM columns (``days_since_last``, ``n_orders``,
    ``total_amount``) and transforms them with a signed ``log1p`` (total
    spend can be negative after refunds) and a median imputation.

    Parameters
    ----------
    kind : {"logistic", "hgb"}
        ``"logistic"``: standardised logistic regression;
        ``"hgb"``: scikit-learn's HistGradientBoostingClassifier with its
        default settings.
    random_state : int or None, default=0
        Seed of the boosting.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; ``backtest(models=["logistic_rfm", "hgb_rfm"])`` fits it.

    Examples
    --------
    >>> from custintel.datasets import make_transactions
    >>> from custintel.features import make_churn_dataset
    >>> tx = make_transactions(500, random_state=0).transactions
    >>> X, y = make_churn_dataset(tx, cutoff="2023-06-30", horizon=90)
    >>> rfm_baseline("logistic").fit(X, y).predict_proba(X).shape == (len(X), 2)
    True
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    log_rfm = make_pipeline(FunctionTransformer(_signed_log1p), SimpleImputer(strategy="median"))
    select = ColumnTransformer([("rfm", log_rfm, list(RFM_FEATURES))])
    if kind == "logistic":
        return make_pipeline(select, StandardScaler(), LogisticRegression(max_iter=1000))
    if kind == "hgb":
        return make_pipeline(select, HistGradientBoostingClassifier(random_state=random_state))
    raise ValueError(f"kind must be 'logistic' or 'hgb', got {kind!r}")


def _signed_log1p(values: Any) -> Any:
    return np.sign(values) * np.log1p(np.abs(values))


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

    def against_baselines(
        self,
        model: str = "ChurnClassifier",
        baselines: Sequence[str] | None = None,
        *,
        auc_margin: float = 0.003,
        lift_margin: float = 0.05,
        max_ece: float = 0.03,
    ) -> pd.Series:
        """Check one model against the best of the baselines: the churn quality goal.

        The goal is met when the model's ROC AUC is at least the best
        baseline's minus ``auc_margin``, its top-decile lift at least the
        best baseline's minus ``lift_margin`` (each best taken separately),
        and its expected calibration error at most ``max_ece``.

        Parameters
        ----------
        model : str, default="ChurnClassifier"
            Row of :attr:`metrics` to check.
        baselines : sequence of str, optional
            Rows to compare with; default: every other row.
        auc_margin, lift_margin, max_ece : float
            The goal's tolerances (issue 17: 0.003, 0.05 and 0.03).

        Returns
        -------
        pandas.Series
            ``roc_auc``, ``best_baseline_auc`` (and ``best_auc_baseline``, its
            name), ``top_decile_lift``, ``best_baseline_lift``
            (``best_lift_baseline``), ``ece``, ``top_decile_predicted`` and
            ``top_decile_observed`` (mean P(churn) and churn rate among the
            10% the model ranks riskiest), and ``auc_met``, ``lift_met``,
            ``ece_met`` and ``met``.

        Examples
        --------
        >>> from custintel.datasets import make_transactions
        >>> from custintel.features import make_churn_dataset
        >>> tx = make_transactions(800, random_state=0).transactions
        >>> train = make_churn_dataset(tx, cutoff="2023-06-30", horizon=180)
        >>> test = make_churn_dataset(tx, cutoff="2024-01-31", horizon=180)
        >>> result = backtest_tables(train, test, horizon=180)
        >>> goal = result.against_baselines(baselines=["recency", "BG/NBD"])
        >>> goal["best_auc_baseline"], bool(goal["auc_met"])
        ('BG/NBD', True)
        """
        if model not in self.metrics.index:
            raise ValueError(
                f"model {model!r} is not in the backtest; its models are {list(self.metrics.index)}"
            )
        others = [m for m in self.metrics.index if m != model] if baselines is None else baselines
        unknown = [b for b in others if b not in self.metrics.index]
        if unknown or not others:
            raise ValueError(
                f"baselines {unknown or others} are not models of the backtest; pass some of "
                f"{[m for m in self.metrics.index if m != model]}"
            )
        table = self.metrics.loc[list(others)]
        row = self.metrics.loc[model]
        best_auc, best_lift = table["roc_auc"].idxmax(), table["top_decile_lift"].idxmax()
        score = self.scores[model]
        top = score.rank(method="first", ascending=False) <= max(1, round(0.1 * len(score)))
        auc, lift, ece = float(row["roc_auc"]), float(row["top_decile_lift"]), float(row["ece"])
        base_auc = float(table.loc[best_auc, "roc_auc"])
        base_lift = float(table.loc[best_lift, "top_decile_lift"])
        auc_met, lift_met = auc >= base_auc - auc_margin, lift >= base_lift - lift_margin
        ece_met = bool(ece <= max_ece)  # NaN (a score that is not a probability) fails
        out: dict[str, Any] = {
            "roc_auc": auc,
            "best_baseline_auc": base_auc,
            "best_auc_baseline": str(best_auc),
            "top_decile_lift": lift,
            "best_baseline_lift": base_lift,
            "best_lift_baseline": str(best_lift),
            "ece": ece,
            "top_decile_predicted": float(score[top].mean()),
            "top_decile_observed": float(self.y_test[top].mean()),
            "auc_met": auc_met,
            "lift_met": lift_met,
            "ece_met": ece_met,
            "met": auc_met and lift_met and ece_met,
        }
        return pd.Series(out, name=model, dtype=object)


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
        ``"bgnbd_1-p_alive"`` (the pitfall: 1 - P(alive)); or to
        ``"logistic_rfm"`` or ``"hgb_rfm"``, the :func:`rfm_baseline`
        classifiers, trained like estimators. A sequence of names uses each
        as its own name. Default: ``ChurnClassifier()``,
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
    if any(not isinstance(m, str) or m in TRAINED_BASELINES for m in models.values()):
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
    known = BASELINES + TRAINED_BASELINES
    for name, model in models.items():
        if isinstance(model, str) and model not in known:
            raise ValueError(f"model {name!r}: unknown baseline {model!r}; use one of {known}")
    return {
        name: rfm_baseline("logistic" if model == "logistic_rfm" else "hgb")
        if isinstance(model, str) and model in TRAINED_BASELINES
        else model
        for name, model in models.items()
    }


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
            if hasattr(fitted, "predict_churn"):
                # a ChurnClassifier knows which column is churn, whatever its labels
                score = pd.Series(fitted.predict_churn(X_test).to_numpy(), index=X_test.index)
            else:
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
