"""Input checks shared by the segmenters: one customer table, numeric finite columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from custintel.exceptions import SchemaError

__all__ = ["customer_columns"]

_HINT = "build the table with custintel.summarize_customers(transactions)"


def customer_columns(
    X: Any,
    columns: Sequence[str],
    *,
    owner: str,
    min_rows: int = 1,
    allow_nan: Sequence[str] = (),
) -> tuple[np.ndarray, pd.Index]:
    """Check ``columns`` of a customer table and return them as a float matrix.

    Parameters
    ----------
    X : pandas.DataFrame
        One row per customer, indexed by customer id.
    columns : sequence of str
        Columns to read, in order.
    owner : str
        Name of the caller, for messages.
    min_rows : int, default=1
        Fewest customers accepted.
    allow_nan : sequence of str, default=()
        Columns where NaN is legitimate (e.g. ``gap_mean_days`` of one-time buyers).

    Returns
    -------
    values : numpy.ndarray
        ``float64`` matrix of shape ``(n_customers, len(columns))``.
    index : pandas.Index
        Customer ids, named ``customer_id`` when unnamed.

    Raises
    ------
    SchemaError
        For a non-DataFrame, missing or non-numeric columns, duplicated
        customer ids, NaN or infinite values, or fewer than ``min_rows`` rows.
    """
    if not isinstance(X, pd.DataFrame):
        raise SchemaError(
            f"{owner} expects a customer table (pandas DataFrame, one row per customer), got "
            f"{type(X).__name__}; {_HINT}",
            reason="not_a_dataframe",
        )
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise SchemaError(
            f"{owner} reads columns {missing}, which the customer table lacks; columns present: "
            f"{[str(c) for c in X.columns]}; {_HINT}, or rename your columns",
            reason="missing_column",
        )
    if len(X) < min_rows:
        raise SchemaError(
            f"{owner} needs at least {min_rows} customers, got {len(X)}; use fewer bins or "
            "clusters, or more customers",
            reason="too_few_customers",
        )
    if X.index.has_duplicates:
        dupes = X.index[X.index.duplicated()].unique()
        raise SchemaError(
            f"{owner}: {len(dupes):,} customer ids appear more than once, e.g. "
            f"{dupes[:5].tolist()}; the table must have one row per customer; {_HINT}",
            reason="duplicate_customer_id",
        )
    out = np.empty((len(X), len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        series = X[col]
        if isinstance(series, pd.DataFrame):
            raise SchemaError(
                f"{owner}: column {col!r} appears more than once; rename the duplicates",
                reason="duplicate_column_names",
            )
        if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(
            series.dtype
        ):
            raise SchemaError(
                f"{owner}: column {col!r} must be numeric, got dtype {series.dtype}; convert it, "
                f"e.g. pd.to_numeric(X[{col!r}])",
                reason="non_numeric_value",
            )
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(values) if col in allow_nan else ~np.isfinite(values)
        if bad.any():
            where = np.flatnonzero(bad)[:5]
            examples = ", ".join(f"{X.index[i]!r}: {values[i]!r}" for i in where)
            raise SchemaError(
                f"{owner}: {int(bad.sum()):,} of {len(values):,} values in column {col!r} are "
                f"NaN or infinite (e.g. {examples}); drop or fill those customers first",
                reason="non_finite_value",
            )
        out[:, j] = values
    index = X.index if X.index.name is not None else X.index.rename("customer_id")
    return out, index
