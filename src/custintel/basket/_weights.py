"""Basket weights for weighted and time-decayed support: revenue, quantity, recency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel.features import transaction_baskets
from custintel.schema import TransactionSchema, validate_transactions

__all__ = ["basket_weights"]

WeightBy = Literal["revenue", "quantity"]


def basket_weights(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    by: WeightBy | None = None,
    half_life: float | str | pd.Timedelta | None = None,
    as_of: Any = None,
    level: Literal["order", "customer"] = "order",
) -> pd.Series:
    r"""Weigh each basket of a transaction log by its value and by how recent it is.

    The weights line up with the rows of
    :func:`custintel.features.basket_matrix` (same ``tx``, ``schema`` and
    ``level``), so they can be passed straight to
    ``frequent_itemsets(basket_matrix(tx), weights=...)``: this season's
    bundles then outrank last year's, and a bundle bought by big spenders
    outranks one bought in small orders.

    Parameters
    ----------
    tx : DataFrame
        Transactions (pandas, polars or pyarrow), one row per order line.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    by : {"revenue", "quantity"} or None, default=None
        Weigh a basket by its revenue (the sum of its purchase lines'
        ``amount``) or its number of units (``quantity``); ``None`` gives
        every basket weight 1 before the decay.
    half_life : float, str, pandas.Timedelta or None, default=None
        Time for a basket's weight to halve, in days or as a timedelta
        (``"90D"``); ``None`` for no decay.
    as_of : date-like, optional
        The date the age of each basket is measured from; default: the last
        purchase in ``tx``. Baskets after it get a weight above 1 (they are
        not dropped).
    level : {"order", "customer"}, default="order"
        As in :func:`custintel.features.basket_matrix`.

    Returns
    -------
    pandas.Series
        One non-negative weight per basket, indexed by order id (or
        customer id), in the row order of ``basket_matrix``, named
        ``weight``.

    Raises
    ------
    SchemaError
        When the transactions fail validation, or ``by="quantity"`` without
        a ``quantity`` column.
    ValueError
        For an unknown ``by`` or a non-positive ``half_life``.

    Notes
    -----
    A basket :math:`b` bought at time :math:`t_b` (its first purchase line)
    with value :math:`v_b` (1, revenue or units) gets

    .. math:: w_b = v_b \cdot 2^{-(t_{\mathrm{as\_of}} - t_b) / h},

    with half-life :math:`h`. Weighted support is then
    :math:`\sum_{b \ni X} w_b / \sum_b w_b`, the share of weighted baskets
    holding :math:`X`; it shrinks when an item is added, so the usual
    search still applies. Refund lines (negative amounts) do not enter a
    basket, nor its revenue.

    Examples
    --------
    Two orders of milk and bread 60 days ago, one of milk and eggs today;
    with a 30-day half-life the old orders weigh 0.25 each:

    >>> import pandas as pd
    >>> from custintel.basket import basket_weights, frequent_itemsets
    >>> from custintel.features import basket_matrix
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b", "c", "c"],
    ...     "order_id": ["1", "1", "2", "2", "3", "3"],
    ...     "timestamp": pd.to_datetime(["2024-01-01"] * 4 + ["2024-03-01"] * 2),
    ...     "item_id": ["milk", "bread", "milk", "bread", "milk", "eggs"],
    ...     "amount": 1.0,
    ... })
    >>> w = basket_weights(tx, half_life=30)
    >>> w.round(4).tolist()
    [0.25, 0.25, 1.0]
    >>> found = frequent_itemsets(basket_matrix(tx), min_support=0.6, weights=w)
    >>> found[["itemset", "support", "count"]].round(3)
            itemset  support  count
    0       (eggs,)    0.667      1
    1       (milk,)    1.000      3
    2  (eggs, milk)    0.667      1
    """
    if by not in (None, "revenue", "quantity"):
        raise ValueError(
            f"by must be 'revenue', 'quantity' or None (every basket weighs 1), got {by!r}"
        )
    half_life_days = _half_life_days(half_life)
    baskets = transaction_baskets(tx, schema, level=level, context=False)
    validated = validate_transactions(tx, schema, refunds="net", duplicates="keep")
    purchase = validated[validated["amount"] >= 0]
    key = "order_id" if level == "order" else "customer_id"
    groups = purchase.groupby(key, sort=False, observed=True)
    if by is None:
        value = pd.Series(1.0, index=baskets.rows)
    else:
        column = "amount" if by == "revenue" else "quantity"
        if column not in purchase.columns:
            from custintel.exceptions import SchemaError

            raise SchemaError(
                f"by={by!r} needs the {column!r} role, but the transactions have no "
                f"{column!r} column (columns: {list(validated.columns)}); map it with "
                f"TransactionSchema({column}='<your column>') or use by='revenue'",
                reason="missing_column",
            )
        value = groups[column].sum().astype(np.float64).reindex(baskets.rows)
    weight = value.to_numpy(dtype=np.float64)
    if half_life_days is not None:
        first = groups["timestamp"].min().reindex(baskets.rows)
        reference = pd.Timestamp(as_of) if as_of is not None else purchase["timestamp"].max()
        age_days = (reference - first).dt.total_seconds().to_numpy() / 86_400.0
        weight = weight * np.exp2(-age_days / half_life_days)
    return pd.Series(weight, index=baskets.rows, name="weight")


def _half_life_days(half_life: Any) -> float | None:
    if half_life is None:
        return None
    if isinstance(half_life, (str, pd.Timedelta, np.timedelta64)) or hasattr(
        half_life, "total_seconds"
    ):
        days = pd.Timedelta(half_life).total_seconds() / 86_400.0
    elif isinstance(half_life, (int, float, np.integer, np.floating)) and not isinstance(
        half_life, bool
    ):
        days = float(half_life)
    else:
        raise ValueError(
            f"half_life must be a number of days or a timedelta such as '90D', got {half_life!r}"
        )
    if not np.isfinite(days) or days <= 0:
        raise ValueError(f"half_life must be positive, got {half_life!r}")
    return days
