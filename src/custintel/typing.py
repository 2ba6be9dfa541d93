"""Named types of what custintel's public functions take.

``TransactionsLike`` is any table of transactions the feature layer reads:
pandas, Polars (eager or lazy), a pyarrow Table, a DuckDB relation or a
Spark DataFrame. ``CustomerTable`` is the one-row-per-customer pandas frame
that :func:`~custintel.summarize_customers` returns and the estimators read.
The engine types are named for type checkers only: importing this module
imports no engine.
"""

from __future__ import annotations

import datetime
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, TypeAlias, Union

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import duckdb
    import polars
    import pyarrow
    import pyspark.sql
    import scipy.sparse

__all__ = [
    "BasketsLike",
    "CustomerFeatures",
    "CustomerTable",
    "CustomerValues",
    "DateLike",
    "TransactionsLike",
]

TransactionsLike: TypeAlias = Union[
    pd.DataFrame,
    "polars.DataFrame",
    "polars.LazyFrame",
    "pyarrow.Table",
    "duckdb.DuckDBPyRelation",
    "pyspark.sql.DataFrame",
]
"""A transaction table on any supported engine."""

CustomerTable: TypeAlias = pd.DataFrame
"""One row per customer, indexed by ``customer_id`` (the feature layer's output)."""

CustomerFeatures: TypeAlias = Union[pd.DataFrame, np.ndarray]  # noqa: UP007
"""What an estimator's ``fit``, ``predict`` and ``transform`` read: a
:data:`CustomerTable`, or (for estimators that work inside scikit-learn's
``Pipeline``) a numeric array with the same columns in the same order."""

CustomerValues: TypeAlias = Union[pd.DataFrame, pd.Series]  # noqa: UP007
"""One value per customer: a :data:`CustomerTable` with the value column, or a
Series indexed by customer id (what the 80/20 estimators read)."""

BasketsLike: TypeAlias = Union[
    TransactionsLike,
    tuple["scipy.sparse.sparray | scipy.sparse.spmatrix", pd.Index],
    "scipy.sparse.sparray",
    "scipy.sparse.spmatrix",
    Iterable[Iterable[Hashable]],
]
"""Baskets for mining: a transaction log with item (and order) ids, the
``(matrix, items)`` pair of :func:`~custintel.features.basket_matrix`, a
sparse baskets-by-items matrix, mlxtend's one-hot frame, or a list of baskets."""

DateLike: TypeAlias = Union[str, datetime.date, pd.Timestamp, np.datetime64, None]  # noqa: UP007
"""A day: ISO text, a date or datetime, a pandas Timestamp or a numpy datetime64; None
means the default of the argument."""
