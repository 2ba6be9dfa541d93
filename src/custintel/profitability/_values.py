"""Input checks and the deterministic ranking shared by the profitability analyses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custintel._validation import as_customer_table
from custintel.exceptions import SchemaError, plain

__all__ = ["TOLERANCE", "customer_values", "finite_values", "one_row_per_customer", "rank_order"]

#: Relative tolerance when a cumulative share is compared with a cut: cumulative
#: sums of floats carry rounding errors of about ``n * 1e-16``.
TOLERANCE = 1e-10

_NEGATIVE_POLICIES = ("raise", "clip", "drop", "allow")


def _examples(index: pd.Index, values: np.ndarray, bad: np.ndarray) -> str:
    positions = np.flatnonzero(bad)[:5]
    return ", ".join(f"{plain(index[i])!r}: {plain(values[i])!r}" for i in positions)


def customer_values(
    X: Any,
    column: str | None,
    *,
    owner: str,
    hint: str,
    negative: str = "allow",
) -> tuple[np.ndarray, pd.Index, str]:
    """Check one value per customer and return it as floats with its customer index.

    Parameters
    ----------
    X : pandas.DataFrame or pandas.Series
        A customer table (one row per customer) or a per-customer Series.
    column : str or None
        Column of ``X`` to read; ignored for a Series.
    owner : str
        Name of the caller, for messages.
    hint : str
        How to obtain the missing column, for messages.
    negative : {"raise", "clip", "drop", "allow"}, default="allow"
        What to do with negative values.

    Returns
    -------
    values : numpy.ndarray
        ``float64`` values.
    index : pandas.Index
        Customer ids (named ``customer_id`` when unnamed).
    label : str
        Name of the column read.

    Raises
    ------
    SchemaError
        For a non-table input, a missing or non-numeric column, no rows,
        duplicated customer ids, NaN or infinite values, or negative values
        under ``negative="raise"``.
    """
    if negative not in _NEGATIVE_POLICIES:
        raise ValueError(f"negative must be 'raise', 'clip' or 'drop', got {negative!r}")
    X = as_customer_table(X, owner=owner)
    if isinstance(X, pd.Series):
        series = X
        label = str(X.name) if X.name is not None else "value"
    elif isinstance(X, pd.DataFrame):
        if column not in X.columns:
            raise SchemaError(
                f"{owner} reads column {column!r}, which the customer table lacks; columns "
                f"present: {[str(c) for c in X.columns]}. {hint}",
                reason="missing_column",
            )
        series = X[column]
        if isinstance(series, pd.DataFrame):
            raise SchemaError(
                f"{owner}: column {column!r} appears more than once; rename the duplicates",
                reason="duplicate_column_names",
            )
        label = str(column)
    else:
        raise SchemaError(
            f"{owner} expects a customer table (pandas DataFrame, one row per customer) or a "
            f"pandas Series of one value per customer, got {type(X).__name__}; build the table "
            "with custintel.summarize_customers(transactions)",
            reason="not_a_dataframe",
        )
    if len(series) == 0:
        raise SchemaError(
            f"{owner} got no customers (an empty table); it needs at least one customer",
            reason="empty",
        )
    index = series.index
    one_row_per_customer(index, owner)
    values = finite_values(series, owner=owner, label=label)
    below = values < 0
    if below.any() and negative != "allow":
        if negative == "raise":
            raise SchemaError(
                f"{owner}: {int(below.sum()):,} of {len(values):,} customers have a negative "
                f"{label!r} (e.g. {_examples(index, values, below)}), e.g. refunds exceeding "
                "purchases; shares of a total are only defined for non-negative values. Pass "
                "negative='clip' to count them as 0 or negative='drop' to leave them out "
                "(for profit with losses, use WhaleCurve)",
                reason="negative_value",
            )
        if negative == "clip":
            values = np.where(below, 0.0, values)
        else:
            keep = ~below
            if not keep.any():
                raise SchemaError(
                    f"{owner}: every customer has a negative {label!r}; nothing is left after "
                    "negative='drop'",
                    reason="negative_value",
                )
            values, index = values[keep], index[keep]
    if index.name is None:
        index = index.rename("customer_id")
    return values, index, label


def one_row_per_customer(index: pd.Index, owner: str) -> None:
    """Raise ``SchemaError`` if a customer id appears more than once in ``index``."""
    if index.has_duplicates:
        dupes = index[index.duplicated()].unique()
        raise SchemaError(
            f"{owner}: {len(dupes):,} customer ids appear more than once, e.g. "
            f"{dupes[:5].tolist()}; the table must have one row per customer (aggregate it, e.g. "
            "with custintel.summarize_customers)",
            reason="duplicate_customer_id",
        )


def finite_values(series: pd.Series, *, owner: str, label: str) -> np.ndarray:
    """Return a numeric column of finite values as floats.

    Parameters
    ----------
    series : pandas.Series
        One value per customer, indexed by customer id.
    owner : str
        Name of the caller, for messages.
    label : str
        Name of the column, for messages.

    Returns
    -------
    numpy.ndarray
        ``float64`` values.

    Raises
    ------
    SchemaError
        For a non-numeric column (booleans included) or NaN or infinite values,
        naming the count and up to five customers.
    """
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        raise SchemaError(
            f"{owner}: column {label!r} must be numeric, got dtype {series.dtype}; convert it, "
            f"e.g. pd.to_numeric(X[{label!r}])",
            reason="non_numeric_value",
        )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise SchemaError(
            f"{owner}: {int(bad.sum()):,} of {len(values):,} values in column {label!r} are NaN "
            f"or infinite (e.g. {_examples(series.index, values, bad)}); drop or fill those "
            "customers",
            reason="non_finite_value",
        )
    return values


def rank_order(values: np.ndarray, index: pd.Index) -> np.ndarray:
    """Positions that rank customers by value, highest first; ties by ascending customer id.

    The tie-break makes the ranking deterministic and independent of the row
    order of the input.

    Parameters
    ----------
    values : numpy.ndarray
        One value per customer.
    index : pandas.Index
        Unique customer ids, in the same order.

    Returns
    -------
    numpy.ndarray
        A permutation of ``range(len(values))``.
    """
    try:
        by_id = index.argsort()
    except TypeError:
        raise SchemaError(
            "customer ids of different types cannot be ordered (needed to break ties "
            "deterministically); convert them to one type, e.g. X.index = X.index.astype(str)",
            reason="mixed_customer_id",
        ) from None
    id_rank = np.empty(len(index), dtype=np.int64)
    id_rank[by_id] = np.arange(len(index))
    # -0.0 == 0.0, so negating keeps ties tied.
    return np.lexsort((id_rank, -values))
