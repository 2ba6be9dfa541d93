"""Turn any accepted basket input into one boolean CSR matrix with item labels.

The miners accept three shapes of input: the ``(matrix, item_index)`` pair of
:func:`custintel.features.basket_matrix` (or a bare sparse matrix), a list of
baskets (an iterable of item lists), and mlxtend's one-hot DataFrame. Each is
checked here and encoded once, with items in canonical order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import sparse

from custintel.backends import as_pandas
from custintel.exceptions import SchemaError
from custintel.features import canonical_order

__all__ = ["EncodedBaskets", "encode_baskets"]

_N_EXAMPLES = 5
_OTHER_FRAME_MODULES = frozenset({"polars", "pyarrow", "narwhals"})


@dataclass(frozen=True)
class EncodedBaskets:
    """A boolean baskets-by-items CSR matrix and the label of each column.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        Boolean, canonical format (sorted indices, no duplicates, no zeros).
    labels : numpy.ndarray
        Object array of item labels (plain Python scalars), canonical order.
    """

    matrix: sparse.csr_matrix
    labels: np.ndarray

    @property
    def n_baskets(self) -> int:
        """Number of baskets (rows), empty ones included."""
        return int(self.matrix.shape[0])


def encode_baskets(data: Any, *, items: Any = None) -> EncodedBaskets:
    """Check and encode basket input (see :func:`custintel.basket.frequent_itemsets`).

    Parameters
    ----------
    data : tuple, sparse matrix, DataFrame, or iterable of iterables
        The baskets.
    items : sequence, optional
        Column labels of a bare sparse matrix or boolean array.

    Returns
    -------
    EncodedBaskets
    """
    if isinstance(data, tuple) and len(data) == 2 and sparse.issparse(data[0]):
        if items is not None:
            raise ValueError(
                "items was given twice: in the (matrix, item_index) pair and as items=; "
                "pass one of them"
            )
        return _from_matrix(data[0], data[1])
    if sparse.issparse(data):
        return _from_matrix(data, items)
    if isinstance(data, np.ndarray) and data.ndim == 2 and data.dtype == bool:
        return _from_matrix(sparse.csr_matrix(data), items)
    if items is not None:
        raise ValueError(
            "items= labels the columns of a sparse matrix or boolean array; a DataFrame's "
            "columns or a list of baskets already name their items"
        )
    if isinstance(data, pd.DataFrame):
        return _from_one_hot(data)
    if (type(data).__module__ or "").split(".")[0] in _OTHER_FRAME_MODULES:
        # A polars, pyarrow or narwhals one-hot frame; iterating one would yield its
        # columns (or rows of values), not baskets.
        return _from_one_hot(as_pandas(data))
    if isinstance(data, (str, bytes, Mapping)) or not isinstance(data, Iterable):
        raise SchemaError(
            f"baskets must be a list of item lists (e.g. [['milk', 'bread'], ['milk']]), the "
            f"(matrix, item_index) pair of custintel.features.basket_matrix, a scipy sparse "
            f"matrix or a one-hot DataFrame; got {type(data).__name__}",
            reason="bad_baskets",
        )
    return _from_lists(data)


def _check_labels(labels: Any, n_columns: int) -> np.ndarray:
    values = np.empty(n_columns, dtype=object)
    as_list = list(labels)
    if len(as_list) != n_columns:
        raise ValueError(
            f"got {len(as_list)} item labels for a matrix with {n_columns} columns; "
            "pass one label per column"
        )
    values[:] = [v.item() if isinstance(v, np.generic) else v for v in as_list]
    try:
        distinct = set(values.tolist())
    except TypeError as exc:
        raise SchemaError(
            f"item labels must be hashable ({exc}); use strings or numbers",
            reason="unhashable_item",
        ) from exc
    if len(distinct) < n_columns:
        counts = Counter(values.tolist())
        shown = [label for label, count in counts.items() if count > 1]
        raise SchemaError(
            f"{n_columns - len(distinct)} item labels repeat an earlier one, e.g. "
            f"{shown[:_N_EXAMPLES]}; each column must be a different item",
            reason="duplicate_items",
        )
    return values


def _canonical(matrix: sparse.csr_matrix, labels: np.ndarray) -> EncodedBaskets:
    order = canonical_order(labels)
    if not np.array_equal(order, np.arange(len(order))):
        matrix = matrix[:, order]
        labels = labels[order]
    matrix = sparse.csr_matrix(matrix, dtype=bool)
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return EncodedBaskets(matrix, labels)


def _from_matrix(matrix: Any, labels: Any) -> EncodedBaskets:
    csr = sparse.csr_matrix(matrix)
    n_baskets, n_items = csr.shape
    if n_baskets == 0:
        raise SchemaError("the basket matrix has no rows; pass at least one basket", reason="empty")
    if csr.dtype != bool and np.issubdtype(csr.dtype, np.floating):
        bad = ~np.isfinite(csr.data)
        if bad.any():
            rows = np.repeat(np.arange(n_baskets), np.diff(csr.indptr))[bad][:_N_EXAMPLES]
            raise SchemaError(
                f"the basket matrix holds {int(bad.sum())} NaN or infinite entries (rows "
                f"{rows.tolist()}); entries mean 'bought' when non-zero, so fill them with 0 "
                "or 1",
                reason="nan_item",
            )
    values = _check_labels(range(n_items) if labels is None else labels, n_items)
    return _canonical(csr, values)


def _from_one_hot(frame: pd.DataFrame) -> EncodedBaskets:
    if frame.shape[0] == 0:
        raise SchemaError(
            "the one-hot DataFrame has no rows; pass at least one basket", reason="empty"
        )
    labels = _check_labels(frame.columns, frame.shape[1])
    n_baskets = frame.shape[0]
    row_parts: list[np.ndarray] = []
    col_parts: list[np.ndarray] = []
    bad_columns: list[str] = []
    nan_columns: list[str] = []
    for position, (name, column) in enumerate(frame.items()):
        dtype = column.dtype
        if isinstance(dtype, pd.SparseDtype):
            column = column.sparse.to_dense()
            dtype = column.dtype
        if not (ptypes.is_bool_dtype(dtype) or ptypes.is_numeric_dtype(dtype)):
            bad_columns.append(f"{name!r} ({dtype})")
            continue
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(values).any():
            nan_columns.append(repr(name))
            continue
        if not np.isin(values, (0.0, 1.0)).all():
            bad_columns.append(f"{name!r} (values {sorted(set(values.tolist()))[:_N_EXAMPLES]})")
            continue
        rows = np.flatnonzero(values)
        row_parts.append(rows)
        col_parts.append(np.full(len(rows), position, dtype=np.int64))
    if bad_columns:
        raise SchemaError(
            f"a one-hot basket frame holds only True/False or 0/1, but {len(bad_columns)} "
            f"columns do not: {bad_columns[:_N_EXAMPLES]}; for a long transaction table "
            "(one row per line) use custintel.features.basket_matrix(tx) instead",
            reason="not_one_hot",
        )
    if nan_columns:
        raise SchemaError(
            f"{len(nan_columns)} columns of the one-hot basket frame hold NaN, e.g. "
            f"{nan_columns[:_N_EXAMPLES]}; an item is either in a basket or not, so fill "
            "them with frame.fillna(False)",
            reason="nan_item",
        )
    rows = np.concatenate(row_parts) if row_parts else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(col_parts) if col_parts else np.zeros(0, dtype=np.int64)
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), dtype=bool), (rows, cols)), shape=(n_baskets, frame.shape[1])
    )
    return _canonical(matrix, labels)


def _from_lists(data: Iterable[Any]) -> EncodedBaskets:
    baskets = data.tolist() if isinstance(data, (pd.Series, np.ndarray)) else list(data)
    if not baskets:
        raise SchemaError(
            "the list of baskets is empty; pass at least one basket, e.g. [['milk', 'bread']]",
            reason="empty",
        )
    lengths = np.empty(len(baskets), dtype=np.int64)
    for position, basket in enumerate(baskets):
        if isinstance(basket, (str, bytes)):
            raise SchemaError(
                f"basket {position} is a string ({basket!r}), not a list of items; wrap "
                f"single items in a list, e.g. [{basket!r}]",
                reason="bad_baskets",
            )
        try:
            lengths[position] = len(basket)
        except TypeError:
            if not isinstance(basket, Iterable):
                raise SchemaError(
                    f"basket {position} is a {type(basket).__name__} ({basket!r}), not a "
                    "list of items; each basket must be a list, tuple or set of item labels",
                    reason="bad_baskets",
                ) from None
            baskets[position] = basket = list(basket)
            lengths[position] = len(basket)
    flat = np.empty(int(lengths.sum()), dtype=object)
    flat[:] = list(chain.from_iterable(baskets))
    basket_of = np.repeat(np.arange(len(baskets)), lengths)

    missing = pd.isna(flat) if len(flat) else np.zeros(0, dtype=bool)
    if missing.any():
        where = basket_of[missing]
        raise SchemaError(
            f"{int(missing.sum())} items in {len(np.unique(where))} baskets are missing "
            f"(NaN or None), e.g. in baskets {np.unique(where)[:_N_EXAMPLES].tolist()}; drop "
            "them, e.g. [[i for i in b if i == i and i is not None] for b in baskets]",
            reason="nan_item",
        )
    try:
        codes, uniques = pd.factorize(flat)
    except TypeError:
        bad = [i for i, v in enumerate(flat) if not _hashable(v)]
        shown = ", ".join(f"basket {basket_of[i]}: {flat[i]!r}" for i in bad[:_N_EXAMPLES])
        raise SchemaError(
            f"{len(bad)} items are not hashable ({type(flat[bad[0]]).__name__}), e.g. "
            f"{shown}; item labels must be strings, numbers or tuples; flatten nested "
            "lists so each basket is a flat list of labels",
            reason="unhashable_item",
        ) from None
    labels = np.empty(len(uniques), dtype=object)
    labels[:] = [v.item() if isinstance(v, np.generic) else v for v in uniques]
    matrix = sparse.csr_matrix(
        (np.ones(len(codes), dtype=bool), (basket_of, codes)),
        shape=(len(baskets), len(labels)),
    )
    return _canonical(matrix, labels)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
