"""Customer rows for scoring: the features a fitted pipeline reads, and what they need.

Scoring turns validated transactions into one row per customer with the
summary, the churn features, the profit and the items bought; these helpers
build the parts that are not plain feature-layer calls and say clearly which
transaction column a missing feature comes from.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from itertools import pairwise

import numpy as np
import pandas as pd

from custintel._roles import OPTIONAL_ROLES, REQUIRED_ROLES
from custintel._validation import ValidatedTransactions
from custintel.exceptions import SchemaError, quiet

__all__ = [
    "ROLE_FEATURES",
    "apply_thresholds",
    "churn_features",
    "customer_items",
    "missing_columns_error",
    "missing_features_error",
    "scoring_roles",
]


def churn_features(
    tx: pd.DataFrame | ValidatedTransactions,
    *,
    cutoff: pd.Timestamp,
    horizon: int,
    summary: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Build the churn features of :func:`~custintel.features.churn_features` at ``cutoff``.

    Scoring at the observation end has no label window after it, so the
    pipeline takes the features (no label) with the model's trend window,
    half of ``horizon``.

    Parameters
    ----------
    tx : pandas.DataFrame or ValidatedTransactions
        Canonical (validated) transactions, or the validation's result itself,
        which is then not validated again.
    cutoff : pandas.Timestamp
        Last day of the feature period, inclusive.
    horizon : int
        Label window of the model in days; the trend window is half of it.
    summary : pandas.DataFrame, optional
        The customer summary of the same rows at ``cutoff`` (the pipeline's
        own), reused instead of computed again; the result is the same.

    Returns
    -------
    pandas.DataFrame
        One row per customer with a purchase on or before ``cutoff``.
    """
    from custintel.features import churn_features as features

    with quiet():
        # The caller validated these rows already and reported what it found.
        X = features(
            tx, cutoff=str(cutoff.date()), horizon=horizon, duplicates="keep", summary=summary
        )
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
        played = (
            f"role {role!r}"
            if role in (*REQUIRED_ROLES, *OPTIONAL_ROLES)
            else "an attribute of the schema, TransactionSchema(attributes=...)"
        )
        parts.append(f"column {column!r} ({played}), which the model was trained with{use}")
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

    Each list holds a customer's items in the order of their first purchase
    row; customers without a purchase row in ``tx`` get an empty list.

    Parameters
    ----------
    tx : pandas.DataFrame
        Validated transactions with an ``item_id`` column, best in canonical
        order (sorted by customer), as validation returns them: then ids are
        looked up once per customer, not once per row.
    customers : pandas.Index
        Customers to return a list for, in this order.

    Returns
    -------
    pandas.Series
        ``items`` (lists of item ids), indexed by ``customers``.
    """
    purchase = np.flatnonzero(tx["amount"].to_numpy() >= 0)
    ids = tx["customer_id"].to_numpy()[purchase]
    # One lookup per run of equal ids: a canonical frame has one run per customer.
    starts = run_starts(ids)
    codes = np.repeat(
        customers.get_indexer(ids[starts]), np.diff(np.append(starts, len(ids)))
    ).astype(np.int64)
    item_codes, labels = pd.factorize(tx["item_id"].iloc[purchase], use_na_sentinel=False)
    names = pd.Series(labels).to_numpy(dtype=object)
    keep = codes >= 0
    width = max(len(names), 1)
    codes, item_codes = codes[keep], item_codes[keep].astype(np.int64)
    key = codes * width + item_codes
    # The first row of each (customer, item) pair, in row order: a stable sort of the
    # keys (runs of customers make it cheap), then the first of each run of equal keys.
    by_key = np.argsort(key, kind="stable")
    first = run_starts(key[by_key])
    chosen = np.zeros(len(key), dtype=bool)
    chosen[by_key[first]] = True
    owner, item = codes[chosen], item_codes[chosen]
    if len(owner) > 1 and not bool(np.all(owner[1:] >= owner[:-1])):
        order = np.argsort(owner, kind="stable")
        owner, item = owner[order], item[order]
    bounds = np.searchsorted(owner, np.arange(len(customers) + 1)).tolist()
    flat = names[item].tolist()
    # Hundreds of thousands of new lists would set off many garbage collections, each
    # walking every live object: pause the collector (lists of labels form no cycles).
    enabled = gc.isenabled()
    gc.disable()
    try:
        # fromiter makes a 1-D array of the lists; pandas would first look for a 2-D shape.
        lists = np.fromiter(
            (flat[lo:hi] for lo, hi in pairwise(bounds)), dtype=object, count=len(customers)
        )
    finally:
        if enabled:
            gc.enable()
    return pd.Series(lists, index=customers.copy(), name="items", dtype=object, copy=False)


def run_starts(values: np.ndarray) -> np.ndarray:
    """Start position of each run of equal values (``[0, ...]`` unless empty)."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.empty(len(values), dtype=bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    return np.flatnonzero(change)


def apply_thresholds(values: np.ndarray, thresholds: list[float]) -> pd.Categorical:
    """Place each value in class A, B or C by the fitted thresholds.

    A value within 1e-9 (relative) below a threshold reaches it: a total added
    up in another order (Spark, another batch) differs in the last bits, and
    the customer whose total is the threshold must keep its class.
    """
    clipped = np.maximum(np.nan_to_num(values, nan=0.0), 0.0)
    t = np.asarray(thresholds, dtype=np.float64)
    finite = np.isfinite(t)
    reach = np.where(finite, t - 1e-9 * np.maximum(1.0, np.abs(np.where(finite, t, 0.0))), t)
    codes = (clipped[:, None] < reach[None, :]).sum(axis=1)
    return pd.Categorical.from_codes(codes, categories=["A", "B", "C"])
