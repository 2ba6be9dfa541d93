"""``basket_matrix``: transactions as a sparse baskets-by-items matrix.

Basket analysis needs to know which items were bought together. This module
turns the long transaction log into a boolean CSR matrix with one row per
basket (an order, or everything a customer bought) and one column per item,
without ever building a dense one-hot frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import sparse

from custintel._validation import ValidatedTransactions
from custintel.exceptions import SchemaError
from custintel.schema import TransactionSchema, validated_transactions
from custintel.typing import TransactionsLike

__all__ = [
    "BasketLevel",
    "TransactionBaskets",
    "basket_matrix",
    "canonical_order",
    "transaction_baskets",
]

BasketLevel = Literal["order", "customer"]


def canonical_order(labels: Any) -> np.ndarray:
    """Return the positions that put item labels in custintel's canonical order.

    Labels are sorted when they can be compared (strings, numbers). Labels of
    mixed, incomparable types are ordered by type name, then ``repr``, so the
    order never depends on the order the labels were first seen in.

    Parameters
    ----------
    labels : array-like
        Distinct item labels.

    Returns
    -------
    numpy.ndarray
        ``int64`` positions into ``labels``.
    """
    values = np.asarray(labels, dtype=object) if not isinstance(labels, np.ndarray) else labels
    try:
        return np.argsort(values, kind="stable").astype(np.int64, copy=False)
    except TypeError:
        keys = [(type(v).__module__, type(v).__qualname__, repr(v)) for v in values]
        return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)


def basket_matrix(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    level: BasketLevel = "order",
) -> tuple[sparse.csr_matrix, pd.Index]:
    """Build the sparse baskets-by-items matrix of a transaction log.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions, one row per order line; validated with
        :func:`~custintel.validate_transactions`. The ``item_id`` role must be
        mapped, and ``order_id`` too for ``level="order"``.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    level : {"order", "customer"}, default="order"
        ``"order"`` gives one row per order (``order_id``), in ascending
        order id; ``"customer"`` gives one row per customer, holding every
        item the customer ever bought, in ascending customer id.

    Returns
    -------
    matrix : scipy.sparse.csr_matrix
        Boolean, shape ``(n_baskets, n_items)``; ``True`` where the basket
        holds the item. An item bought twice in one basket is one entry.
    item_index : pandas.Index
        The item label of each column, named ``item_id``, in canonical order
        (sorted; see Notes).

    Raises
    ------
    SchemaError
        When the transactions fail validation, or ``item_id`` (or
        ``order_id`` at order level) is not mapped.
    ValueError
        For an unknown ``level``.

    Notes
    -----
    Only purchase rows (``amount >= 0``) enter a basket: a refund line does
    not mean the item was bought. Orders and customers with no purchase row
    have no row. Exact duplicate rows do not matter, since an item is either
    in a basket or not.

    Items are sorted by label when the labels are comparable; otherwise by
    type name, then ``repr``. The same order is used by every miner in
    :mod:`custintel.basket`, so itemset tuples list their items in column
    order.

    The matrix is built directly from the long table: memory is about
    5 bytes per order line, where a dense one-hot frame needs one byte per
    basket and item (1.4 GB for 88k baskets of 16k items).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b", "b"],
    ...     "order_id": [1, 1, 2, 3, 3, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01"] * 2 + ["2024-01-05"] + ["2024-01-02"] * 3),
    ...     "item_id": ["milk", "bread", "milk", "bread", "butter", "bread"],
    ...     "amount": [1.0, 2.0, 1.0, 2.0, 3.0, 2.0],
    ... })
    >>> matrix, items = basket_matrix(tx)
    >>> list(items)
    ['bread', 'butter', 'milk']
    >>> matrix.toarray().astype(int)
    array([[1, 0, 1],
           [0, 0, 1],
           [1, 1, 0]])
    >>> basket_matrix(tx, level="customer")[0].toarray().astype(int)
    array([[1, 0, 1],
           [1, 1, 0]])
    """
    baskets = transaction_baskets(tx, schema, level=level, context=False)
    return baskets.matrix, baskets.items


@dataclass(frozen=True)
class TransactionBaskets:
    """Baskets built from transactions, with what the cross-sell code needs to know.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        Boolean baskets-by-items matrix.
    items : pandas.Index
        Item label of each column, in canonical order.
    rows : pandas.Index
        Order id (``level="order"``) or customer id of each row, ascending.
    customers : pandas.Index
        Customer id of each row (empty when built without context).
    days : numpy.ndarray
        ``int32`` calendar day of the row's first purchase line (empty when
        built without context).
    """

    matrix: sparse.csr_matrix
    items: pd.Index
    rows: pd.Index
    customers: pd.Index
    days: np.ndarray


def transaction_baskets(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    level: BasketLevel = "order",
    context: bool = True,
) -> TransactionBaskets:
    """Validate transactions and build their baskets, for the cross-sell estimators.

    :func:`basket_matrix` returns the matrix and items of this; the
    cross-sell code also reads which customer and day each basket belongs to.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions with ``item_id`` (and ``order_id`` for ``level="order"``).
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    level : {"order", "customer"}, default="order"
        One basket per order, or per customer.
    context : bool, default=True
        Also return each basket's customer and day.

    Returns
    -------
    TransactionBaskets

    Raises
    ------
    SchemaError
        When a needed role is not mapped.
    ValueError
        For an unknown ``level``.
    """
    if level not in ("order", "customer"):
        raise ValueError(
            f"level must be 'order' (one row per order) or 'customer' (one row per "
            f"customer), got {level!r}"
        )
    validated = validated_transactions(tx, schema, refunds="net", duplicates="keep")
    _require(validated, "item_id", schema, "the product bought on each line")
    if level == "order":
        _require(validated, "order_id", schema, "the order (basket) of each line", level)
    return _baskets_from_validated(validated, level, context=context)


def _require(
    validated: ValidatedTransactions,
    role: str,
    schema: TransactionSchema | Mapping[str, str] | None,
    meaning: str,
    level: str | None = None,
) -> None:
    if validated.has(role):
        return
    present = [str(c) for c in validated.columns]
    extra = " or pass level='customer' for one basket per customer" if level else ""
    raise SchemaError(
        f"basket analysis needs the {role!r} role ({meaning}), but no column {role!r} is "
        f"present or mapped (validated columns: {present}); map it with "
        f"TransactionSchema({role}='<your column>'){extra}",
        reason="missing_column",
    )


def _baskets_from_validated(
    validated: ValidatedTransactions, level: BasketLevel, *, context: bool = True
) -> TransactionBaskets:
    """Build the baskets; ``context=False`` skips the customer and day of each row."""
    purchase = validated.columns["amount"].to_numpy(dtype=np.float64) >= 0
    if not purchase.any():
        raise SchemaError(
            "every transaction line is a refund (negative amount), so there are no baskets; "
            "basket analysis uses purchase lines (amount >= 0)",
            reason="empty",
        )
    everything = bool(purchase.all())
    # Rows stay in input order: only their basket and item codes are needed.
    customer_code = None
    if context or level == "customer":
        customer_code = np.empty(len(validated.order), dtype=validated.customer_codes.dtype)
        customer_code[validated.order] = validated.customer_codes
        if not everything:
            customer_code = customer_code[purchase]

    item_code, items = _item_codes(validated.columns["item_id"], purchase)
    if level == "order":
        orders = validated.columns["order_id"]
        row_code, rows = _sorted_codes(orders if everything else orders[purchase])
        rows.name = "order_id"
    else:
        assert customer_code is not None
        present = np.bincount(customer_code, minlength=len(validated.customers)) > 0
        row_code = (np.cumsum(present) - 1)[customer_code]
        rows = validated.customers[present]
    n_baskets = len(rows)

    index_dtype = np.int32 if max(n_baskets, len(items)) < np.iinfo(np.int32).max else np.int64
    matrix = sparse.csr_matrix(
        (
            np.ones(len(row_code), dtype=bool),
            (row_code.astype(index_dtype, copy=False), item_code.astype(index_dtype, copy=False)),
        ),
        shape=(n_baskets, len(items)),
    )
    matrix.sum_duplicates()  # boolean sum is "or": an item twice in a basket is one entry

    customers = pd.Index([], name="customer_id")
    basket_day = np.zeros(0, dtype=np.int32)
    if context:
        assert customer_code is not None
        # Every order belongs to one customer (checked by validation).
        row_customer = np.zeros(n_baskets, dtype=customer_code.dtype)
        row_customer[row_code] = customer_code
        customers = pd.Index(validated.customers[row_customer], name="customer_id")
        day = np.empty(len(validated.order), dtype=np.int32)
        day[validated.order] = validated.days
        basket_day = np.full(n_baskets, np.iinfo(np.int32).max, dtype=np.int32)
        np.minimum.at(basket_day, row_code, day if everything else day[purchase])
    return TransactionBaskets(
        matrix=matrix, items=items, rows=rows, customers=customers, days=basket_day
    )


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Return codes of ``values`` in ascending order of value, and the distinct values."""
    if ptypes.is_integer_dtype(values.dtype) and not values.hasnans:
        raw = values.to_numpy(dtype=np.int64)
        low, high = int(raw.min()), int(raw.max())
        if high - low <= 4 * len(raw) + 1_000_000:
            # Dense integer ids: a bincount replaces hashing and sorting.
            present = np.bincount(raw - low, minlength=high - low + 1) > 0
            codes = (np.cumsum(present) - 1)[raw - low]
            return codes, pd.Index(np.flatnonzero(present) + low).astype(values.dtype)
    codes, uniques = pd.factorize(values, sort=True)
    return codes, pd.Index(uniques)


def _item_codes(items: pd.Series, purchase: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Return the purchase lines' item codes in canonical item order, and the labels."""
    if isinstance(items.dtype, pd.CategoricalDtype):
        codes = items.cat.codes.to_numpy()
        categories = items.cat.categories
        if not purchase.all():
            codes = codes[purchase]
        present = np.flatnonzero(np.bincount(codes, minlength=len(categories)))
        labels = categories[present]
        remap = np.full(len(categories), -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        codes = remap[codes]
    else:
        values = items[purchase] if not purchase.all() else items
        codes, labels = pd.factorize(values)
        labels = pd.Index(labels)
    order = canonical_order(labels.to_numpy())
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], pd.Index(labels[order], name="item_id")
