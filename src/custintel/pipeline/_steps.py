"""The individual steps of :class:`~custintel.pipeline.CustomerIntelligence`.

Each function here calls the existing estimators and feature builders; none
of them recomputes a feature or a model of its own.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from custintel.exceptions import ConvergenceError, SchemaError

if TYPE_CHECKING:
    from custintel.clv import CLVModel
    from custintel.profitability import ParetoAnalysis

__all__ = [
    "CANDIDATES",
    "ROLE_FEATURES",
    "STEPS",
    "abc_thresholds",
    "apply_thresholds",
    "auto_min_support",
    "booster_threads",
    "churn_features",
    "customer_items",
    "fit_clv",
    "missing_columns_error",
    "missing_features_error",
    "scoring_roles",
    "select_clv_model",
    "step",
]

logger = logging.getLogger("custintel")

#: Candidate purchase models of the CLV step: display name -> class name in custintel.clv.
CANDIDATES: dict[str, str] = {"BG/NBD": "BetaGeoModel", "Pareto/NBD": "ParetoNBDModel"}


def _candidate(name: str) -> Any:
    from custintel import clv

    return getattr(clv, CANDIDATES[name])


#: Below this many customers the churn booster runs on one OpenMP thread. On tables of
#: this size, thread hand-offs cost more than they save as soon as the cores are busy:
#: on a shared 2-core machine, HistGradientBoosting on 52,000 customers fitted in 1.3 s
#: on one thread and 12.9 s on two (benchmarks/RESULTS.md, "The main job").
SMALL_TABLE = 100_000


def booster_threads(n_rows: int) -> Any:
    """Return a context that limits OpenMP to one thread for small tables."""
    if n_rows >= SMALL_TABLE:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


#: Steps of ``fit``, in order, for the step log.
STEPS = (
    "validate",
    "summarise customers",
    "fit CLV models",
    "train churn classifier",
    "segment customers",
    "Pareto and whale analysis",
    "mine rules and recommend",
    "score customers",
)


@contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    """Time one pipeline step and log one line with its time when it ends."""
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    timings[name] = elapsed
    number = STEPS.index(name) + 1 if name in STEPS else 0
    logger.info("[%d/%d] %s: %.1f s", number, len(STEPS), name, elapsed)


def churn_features(tx: pd.DataFrame, *, cutoff: pd.Timestamp, horizon: int) -> pd.DataFrame:
    """Build the churn features of :func:`~custintel.features.churn_features` at ``cutoff``.

    Scoring at the observation end has no label window after it, so the
    pipeline takes the features (no label) with the model's trend window,
    half of ``horizon``.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical (validated) transactions.
    cutoff : pandas.Timestamp
        Last day of the feature period, inclusive.
    horizon : int
        Label window of the model in days; the trend window is half of it.

    Returns
    -------
    pandas.DataFrame
        One row per customer with a purchase on or before ``cutoff``.
    """
    from custintel.features import churn_features as features

    with warnings.catch_warnings():
        # The caller validated these rows already and reported what it found.
        warnings.simplefilter("ignore")
        X = features(tx, cutoff=str(cutoff.date()), horizon=horizon, duplicates="keep")
    X.attrs.clear()
    return X


#: The customer feature that each optional transaction role feeds when a pipeline scores.
ROLE_FEATURES: dict[str, str] = {
    "order_id": "n_orders",
    "quantity": "total_quantity",
    "cost": "total_margin",
    "margin": "total_margin",
    "channel": "channel",
    "region": "region",
    "customer_type": "customer_type",
    "item_id": "items",
}

_REQUIRED_ROLES = ("customer_id", "timestamp", "amount")


def scoring_roles(
    mapping: Mapping[str, str], features: Iterable[str], *, explicit: Iterable[str] = ()
) -> dict[str, str]:
    """Return the optional roles a fitted pipeline needs at scoring time, with their columns.

    A role is needed when it was mapped in training and its feature
    (:data:`ROLE_FEATURES`) is read by the fitted models, or when the fitted
    schema names its column explicitly (validation requires such a column).

    Parameters
    ----------
    mapping : mapping of str to str
        Role to column of the training data (``schema_mapping_``).
    features : iterable of str
        Customer features the fitted models read.
    explicit : iterable of str, default=()
        Roles the fitted schema maps explicitly.

    Returns
    -------
    dict
        Role to the user's column name.

    Examples
    --------
    >>> scoring_roles({"customer_id": "id", "quantity": "Qty", "item_id": "sku"},
    ...               ["frequency", "total_quantity"])
    {'quantity': 'Qty'}
    """
    read, named = set(features), set(explicit)
    return {
        role: column
        for role, column in mapping.items()
        if role not in _REQUIRED_ROLES and (ROLE_FEATURES.get(role) in read or role in named)
    }


def missing_columns_error(missing: Mapping[str, str], features: Iterable[str]) -> SchemaError:
    """Build the error for transactions that lack columns the model was trained with.

    Parameters
    ----------
    missing : mapping of str to str
        Role to the user's column name, for every missing column.
    features : iterable of str
        Customer features the fitted models read.

    Returns
    -------
    SchemaError
        With ``reason="missing_column"`` and one failure case per column.
    """
    read = set(features)
    parts = []
    for role, column in missing.items():
        feature = ROLE_FEATURES.get(role)
        use = ""
        if feature == "items":
            use = ": the recommendations are made from it"
        elif feature in read:
            use = f": the scores read the feature {feature!r} made from it"
        parts.append(f"column {column!r} (role {role!r}), which the model was trained with{use}")
    several = len(missing) > 1
    return SchemaError(
        f"the transactions to score lack the {'; '.join(parts)}. Add "
        f"{'these columns' if several else 'the column'} to the transactions, or refit the "
        f"model on data without {'them' if several else 'it'}",
        reason="missing_column",
        failure_cases=pd.DataFrame(
            {
                "role": list(missing),
                "column": list(missing.values()),
                "feature": [ROLE_FEATURES.get(role) for role in missing],
                "reason": "missing_column",
            }
        ),
    )


def missing_features_error(missing: Iterable[str], mapping: Mapping[str, str]) -> SchemaError:
    """Build the error for customer rows that lack features the fitted models read.

    Parameters
    ----------
    missing : iterable of str
        The missing feature columns.
    mapping : mapping of str to str
        Role to column of the training data (``schema_mapping_``), to name the
        transaction column each feature comes from.

    Returns
    -------
    SchemaError
        With ``reason="missing_column"`` and one failure case per feature.
    """
    names = list(missing)
    parts = []
    for feature in names:
        found = [
            (role, mapping[role])
            for role, made in ROLE_FEATURES.items()
            if made == feature and role in mapping
        ]
        if found and feature != "n_orders":  # n_orders exists with or without order ids
            role, column = found[0]
            parts.append(
                f"{feature!r} (made from the transaction column {column!r}, role {role!r}, "
                "which the model was trained with)"
            )
        else:
            parts.append(repr(feature))
    return SchemaError(
        f"the customer rows lack {', '.join(parts)}, which the fitted models read; build the "
        "rows with customer_features(tx) from transactions that have every column the model "
        "was trained with, or refit the model without them",
        reason="missing_column",
        failure_cases=pd.DataFrame({"feature": names, "reason": "missing_column"}),
    )


def customer_items(tx: pd.DataFrame, customers: pd.Index) -> pd.Series:
    """Return the list of distinct items each customer bought (purchase rows only).

    ``tx`` must be canonical (sorted by customer), as validation returns it.
    """
    bought = tx.loc[tx["amount"].to_numpy() >= 0, ["customer_id", "item_id"]].drop_duplicates()
    codes = customers.get_indexer(bought["customer_id"])
    keep = codes >= 0
    codes = codes[keep]
    items = bought["item_id"].to_numpy(dtype=object)[keep]
    order = np.argsort(codes, kind="stable")
    codes, items = codes[order], items[order]
    bounds = np.searchsorted(codes, np.arange(len(customers) + 1))
    lists = [items[bounds[i] : bounds[i + 1]].tolist() for i in range(len(customers))]
    return pd.Series(lists, index=customers.copy(), name="items", dtype=object)


def select_clv_model(
    tx: pd.DataFrame, *, end: pd.Timestamp, holdout_days: int
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Fit BG/NBD and Pareto/NBD on a calibration period and compare them on the holdout.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical transactions up to ``end``.
    end : pandas.Timestamp
        Observation end.
    holdout_days : int
        Length of the holdout period.

    Returns
    -------
    selection : pandas.DataFrame
        Indexed by candidate name: ``holdout_mae``, ``log_likelihood``,
        ``chosen``.
    holdout : pandas.DataFrame
        ``frequency_holdout`` and ``predicted_holdout`` (chosen model) per
        calibration customer.
    chosen : str
        Name of the model with the lower holdout MAE.
    """
    from custintel.features import calibration_holdout_split

    calibration_end = end - pd.Timedelta(days=holdout_days)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = calibration_holdout_split(
            tx,
            calibration_end=str(calibration_end.date()),
            observation_end=str(end.date()),
            duplicates="keep",
        )
    duration = float(split["duration_holdout"].iloc[0])
    actual = split["frequency_holdout"].astype(float)
    rows: dict[str, dict[str, float]] = {}
    predictions: dict[str, pd.Series] = {}
    for name in CANDIDATES:
        try:
            model = _candidate(name)().fit(split)
        except (ConvergenceError, ValueError) as err:
            logger.info("CLV candidate %s failed on the calibration period: %s", name, err)
            rows[name] = {"holdout_mae": np.nan, "log_likelihood": np.nan}
            continue
        predicted = model.predict_purchases(split, t=duration)
        predictions[name] = predicted
        rows[name] = {
            "holdout_mae": float(np.mean(np.abs(predicted.to_numpy() - actual.to_numpy()))),
            "log_likelihood": float(model.log_likelihood_),
        }
    selection = pd.DataFrame.from_dict(rows, orient="index")
    if not predictions:
        raise SchemaError(
            "neither BG/NBD nor Pareto/NBD could be fitted on the calibration period "
            f"(up to {calibration_end.date()}); the data may hold too few repeat purchases",
            reason="clv_fit_failed",
        )
    chosen = str(selection["holdout_mae"].idxmin())
    selection["chosen"] = selection.index == chosen
    selection.index.name = "model"
    holdout = pd.DataFrame(
        {"frequency_holdout": actual, "predicted_holdout": predictions[chosen]},
        index=split.index,
    )
    return selection, holdout, chosen


def fit_clv(summary: pd.DataFrame, chosen: str) -> CLVModel:
    """Refit the chosen purchase model with Gamma-Gamma on the full period."""
    from custintel.clv import CLVModel

    return CLVModel(purchase_model=_candidate(chosen)()).fit(summary)


def auto_min_support(n_baskets: int) -> float:
    """Pick a minimum support from the number of baskets.

    At least 20 baskets must hold an itemset, and the support is kept
    between 0.1 % and 1 %: low enough to find cross-sell pairs in a large
    catalogue, high enough that the rules rest on repeated evidence.
    """
    return float(min(0.01, max(0.001, 20.0 / max(n_baskets, 1))))


def abc_thresholds(pareto: ParetoAnalysis) -> list[float]:
    """Return the least value that earns class A and B in the fitted Pareto analysis.

    Scoring compares a customer's value with these thresholds, so it never
    depends on the other customers being scored. Customers tied on the value
    at a cut all get the higher class (``abc_classes`` splits such ties by id).
    """
    classes = pareto.abc_classes()
    values = pareto.table_["value"].reindex(classes.index)
    thresholds = []
    for label in ("A", "B"):
        upto = classes.isin(["A", "B"][: ["A", "B"].index(label) + 1])
        thresholds.append(float(values[upto].min()) if upto.any() else float("inf"))
    return thresholds


def apply_thresholds(values: np.ndarray, thresholds: list[float]) -> pd.Categorical:
    """Place each value in class A, B or C by the fitted thresholds."""
    clipped = np.maximum(np.nan_to_num(values, nan=0.0), 0.0)
    codes = (clipped[:, None] < np.asarray(thresholds)[None, :]).sum(axis=1)
    return pd.Categorical.from_codes(codes, categories=["A", "B", "C"])
