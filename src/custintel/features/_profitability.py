"""Per-customer revenue, cost and profit under a cost model, and customer attributes.

The cost model is applied to the validated transactions here, because only the
feature layer turns transactions into customer rows; the analyses in
:mod:`custintel.profitability` take the resulting table.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel._validation import ValidatedTransactions
from custintel.exceptions import DataQualityWarning, SchemaError, warn
from custintel.features._occasions import run_starts
from custintel.schema import TransactionSchema, validated_transactions
from custintel.typing import TransactionsLike

__all__ = [
    "ATTRIBUTE_ROLES",
    "PROFITABILITY_COLUMNS",
    "customer_attributes",
    "customer_profitability",
]

#: Columns of :func:`customer_profitability`, always present, in this order.
PROFITABILITY_COLUMNS: tuple[str, ...] = (
    "revenue",
    "goods_cost",
    "service_cost",
    "custom_cost",
    "cost",
    "profit",
    "profit_margin",
    "profitable",
    "n_orders",
    "n_items",
)

#: Attribute roles summarised per customer by :func:`customer_attributes`.
ATTRIBUTE_ROLES: tuple[str, ...] = ("customer_type", "region", "channel")

CostFunction = Callable[[pd.DataFrame], Any]


def customer_profitability(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    cost_per_order: float = 0.0,
    cost_per_item: float = 0.0,
    cost_per_customer: float | pd.Series = 0.0,
    cost_function: CostFunction | None = None,
    observation_end: Any = None,
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    r"""Compute each customer's revenue, cost and profit under a cost model.

    The cost model has three parts, which add up; give at least one:

    1. **Cost of goods**, from the ``cost`` (or ``margin``) column of the
       transactions, when the schema maps one.
    2. **Service costs**: ``cost_per_order`` for every order,
       ``cost_per_item`` for every unit sold and ``cost_per_customer`` for
       every customer (a fixed account cost).
    3. **A callable**, ``cost_function(transactions)``, returning one cost per
       transaction row, for anything else (costs by channel, shipping by
       region, ...).

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions; validated with :func:`~custintel.validate_transactions`.
    schema : TransactionSchema, dict or None, default=None
        Column mapping. A mapped ``cost`` or ``margin`` column gives the cost
        of goods; mapped ``customer_type``, ``region`` and ``channel`` columns
        are summarised per customer (see :func:`customer_attributes`).
    cost_per_order : float, default=0.0
        Service cost of each order (picking, payment, shipping), ``>= 0``.
    cost_per_item : float, default=0.0
        Service cost of each unit sold, ``>= 0``.
    cost_per_customer : float or pandas.Series, default=0.0
        Fixed cost of each customer (account management, marketing), ``>= 0``;
        a Series indexed by ``customer_id`` gives each customer their own
        cost and must cover every customer.
    cost_function : callable, optional
        Called once as ``cost_function(frame)`` with the validated
        transactions: canonical column names (``customer_id``, ``timestamp``,
        ``amount``, and any mapped optional roles), rows sorted by customer
        then time, and a ``RangeIndex``. It must return one finite cost per
        row (an array, or a Series with that same index).
    observation_end : date-like, optional
        Last day, inclusive; later transactions are dropped with a warning.
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies of :func:`~custintel.validate_transactions`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (ascending), the same customers as
        :func:`~custintel.summarize_customers`, with the columns in
        :data:`PROFITABILITY_COLUMNS`, followed by ``customer_type``,
        ``region`` and ``channel`` (categorical) for those roles that are
        mapped, as in :func:`customer_attributes`.

    Raises
    ------
    ValueError
        When no cost model is given, or a service cost is negative or not
        finite, or ``cost_function`` returns the wrong number of costs or
        non-finite ones.
    SchemaError
        For invalid transactions, or a ``cost_per_customer`` Series that
        misses customers.

    Notes
    -----
    For a customer with rows :math:`j`:

    - ``revenue`` :math:`= \sum_j a_j`, all amounts net of refunds (equal to
      ``total_amount`` of the summary);
    - ``goods_cost`` :math:`= \sum_j c_j`, the cost column, net of returns
      (so ``revenue - goods_cost`` is the summary's ``total_margin``); 0
      without a cost column;
    - ``n_orders``: orders with a purchase row, as in the summary (purchase
      rows when no ``order_id`` is mapped);
    - ``n_items``: units sold, the sum of ``quantity`` over purchase rows
      (rows with a non-negative amount), or the number of purchase rows when
      no ``quantity`` is mapped. Returns do not reduce the handling work, so
      they do not reduce ``n_items``;
    - ``service_cost`` = ``cost_per_order`` × ``n_orders`` +
      ``cost_per_item`` × ``n_items`` + ``cost_per_customer``;
    - ``custom_cost``: the sum of ``cost_function``'s row costs (0 without
      one);
    - ``cost`` = ``goods_cost + service_cost + custom_cost`` and
      ``profit = revenue - cost``;
    - ``profit_margin`` = ``profit / revenue``, a ratio (NaN when revenue is
      not positive). It is not the summary's ``total_margin``, which is a
      currency amount;
    - ``profitable`` = ``profit > 0``: a customer with zero profit is not
      profitable (and does not destroy value either).

    Customers whose every row is a refund have no purchase and are left out
    with a :class:`~custintel.exceptions.DataQualityWarning`, as in the
    summary, so the two tables have the same rows.

    Examples
    --------
    Customer ``a`` has two orders of 50 and 30 (cost of goods 30 and 20),
    customer ``b`` one order of 10 (cost 8). With a service cost of 5 per
    order, ``a`` makes 80 - 50 - 10 = 20 and ``b`` makes 10 - 8 - 5 = -3:

    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "order_id": [1, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-03"]),
    ...     "amount": [50.0, 30.0, 10.0],
    ...     "cost": [30.0, 20.0, 8.0],
    ... })
    >>> p = customer_profitability(tx, cost_per_order=5.0)
    >>> p[["revenue", "goods_cost", "service_cost", "cost", "profit", "profitable"]]
                 revenue  goods_cost  service_cost  cost  profit  profitable
    customer_id
    a               80.0        50.0          10.0  60.0    20.0        True
    b               10.0         8.0           5.0  13.0    -3.0       False
    """
    rates = {
        "cost_per_order": _check_rate("cost_per_order", cost_per_order),
        "cost_per_item": _check_rate("cost_per_item", cost_per_item),
    }
    per_customer_series = isinstance(cost_per_customer, pd.Series | Mapping)
    if not per_customer_series:
        rates["cost_per_customer"] = _check_rate("cost_per_customer", cost_per_customer)
    if cost_function is not None and not callable(cost_function):
        raise ValueError(
            f"cost_function must be a callable taking the transactions frame and returning one "
            f"cost per row, got {type(cost_function).__name__}"
        )
    validated = validated_transactions(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )
    has_cost_model = (
        validated.has("cost")
        or per_customer_series
        or cost_function is not None
        or any(rate > 0 for rate in rates.values())
    )
    if not has_cost_model:
        raise ValueError(
            "no cost model: the transactions have no cost (or margin) column and no service "
            "cost or cost_function was given, so profit would equal revenue; map a cost "
            "column with TransactionSchema(cost='<column>'), or pass cost_per_order=, "
            "cost_per_item=, cost_per_customer= or cost_function="
        )

    codes = input_order_codes(validated)
    sums = _customer_sums(validated, codes)
    present = np.flatnonzero(sums.n_purchases > 0)
    _warn_refund_only(int(np.count_nonzero(validated.counts)) - len(present))
    customers = validated.customers[present]

    revenue = sums.revenue[present]
    goods = sums.goods_cost[present] if sums.goods_cost is not None else np.zeros(len(present))
    n_orders = sums.n_orders[present]
    n_items = _units_sold(validated, codes)[present]
    if per_customer_series:
        fixed = _per_customer_costs(cost_per_customer, customers)
    else:
        fixed = np.full(len(present), rates["cost_per_customer"])
    service = rates["cost_per_order"] * n_orders + rates["cost_per_item"] * n_items + fixed
    custom = (
        _function_costs(validated, cost_function)[present]
        if cost_function is not None
        else np.zeros(len(present))
    )
    cost = goods + service + custom
    profit = revenue - cost
    margin = np.divide(profit, revenue, out=np.full(len(present), np.nan), where=revenue > 0)

    columns: dict[str, Any] = {
        "revenue": revenue,
        "goods_cost": goods,
        "service_cost": service,
        "custom_cost": custom,
        "cost": cost,
        "profit": profit,
        "profit_margin": margin,
        "profitable": profit > 0,
        "n_orders": n_orders,
        "n_items": n_items,
    }
    for role in ATTRIBUTE_ROLES:
        if validated.has(role):
            columns[role] = _most_frequent(validated, role, codes).take(present)
    table = pd.DataFrame(columns, index=customers, copy=False)
    table.attrs["observation_end"] = str(validated.end_day)
    return table


def customer_attributes(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    roles: Sequence[str] | None = None,
    observation_end: Any = None,
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    """Give each customer their most frequent ``customer_type``, ``region`` and ``channel``.

    Attributes live on the transactions, and a customer may buy through
    several channels or in several regions; this takes, per customer, the
    value on most of their rows, for breakdowns by attribute (see
    :func:`custintel.profitability.breakdown`).

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions.
    schema : TransactionSchema, dict or None, default=None
        Column mapping; attribute columns named after their role are found
        automatically.
    roles : sequence of str, optional
        Attribute roles to summarise, among ``customer_type``, ``region`` and
        ``channel`` and the schema's other ``attributes``; default: every one
        that is mapped.
    observation_end, refunds, duplicates : optional
        Cleaning policies of :func:`~custintel.validate_transactions`; by default the
        latest transaction's day, "net" and "warn".

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (ascending), the same customers as
        :func:`~custintel.summarize_customers`, one categorical column per
        role.

    Raises
    ------
    SchemaError
        When no attribute role is mapped, or a requested one is missing.
    ValueError
        For an unknown role.

    Notes
    -----
    A customer's value is the one on the most of their rows (all rows,
    refunds included; missing values are ignored). Ties go to the value that
    sorts first (category order for categorical columns), so the result
    does not depend on the order of the rows. A customer whose every value
    is missing gets NaN.

    Examples
    --------
    Customer 1 buys twice online and once in store; customer 2 once in each
    channel, a tie that goes to ``"online"``, which sorts first:

    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-01", "2024-01-02"]),
    ...     "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
    ...     "channel": ["online", "store", "online", "store", "online"],
    ... })
    >>> customer_attributes(tx)
                channel
    customer_id
    1            online
    2            online
    """
    schema = TransactionSchema.coerce(schema)
    known = (*ATTRIBUTE_ROLES, *schema.attributes)  # the roles, then the schema's others
    if roles is not None:
        unknown = sorted(set(roles) - set(known))
        if unknown:
            raise ValueError(
                f"unknown attribute roles {unknown}; use some of {list(known)} (other columns "
                "are named in TransactionSchema(attributes=[...]))"
            )
    validated = validated_transactions(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )
    wanted = [r for r in known if (roles is None or r in roles)]
    missing = [r for r in wanted if not validated.has(r)]
    if roles is not None and missing:
        raise SchemaError(
            f"attribute role(s) {missing} are not mapped; map them with "
            + "TransactionSchema("
            + ", ".join(f"{r}='<column>'" for r in missing)
            + ")",
            reason="missing_column",
        )
    found = [r for r in wanted if validated.has(r)]
    if not found:
        raise SchemaError(
            "the transactions have no customer_type, region or channel column; map one with "
            "e.g. TransactionSchema(region='store_region')",
            reason="missing_column",
        )
    codes = input_order_codes(validated)
    present = np.flatnonzero(_purchase_rows(validated, codes) > 0)
    _warn_refund_only(int(np.count_nonzero(validated.counts)) - len(present))
    return pd.DataFrame(
        {role: _most_frequent(validated, role, codes).take(present) for role in found},
        index=validated.customers[present],
        copy=False,
    )


def _check_rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    rate = float(value)
    if not np.isfinite(rate) or rate < 0:
        raise ValueError(
            f"{name} must be a finite number >= 0 (a cost, in currency), got {value!r}; "
            "to model a credit, use cost_function"
        )
    return rate


def _warn_refund_only(count: int) -> None:
    if count:
        warn(
            f"{count:,} customers have only refund rows and no purchase; "
            "they are left out of the customer table.",
            DataQualityWarning,
        )


def input_order_codes(validated: ValidatedTransactions) -> np.ndarray:
    """Return the customer code of each row in input order (not the sorted order).

    Per-customer sums by ``np.bincount`` need no particular row order, so one
    scatter of the codes replaces a gather of every column summed. Rows that a
    policy removed after sorting (``duplicates="drop"``) get the code
    ``len(validated.customers)``, one past the last customer: an extra
    ``bincount`` bin that is sliced off, so sums need no mask.
    """
    n_rows, n_codes = len(validated.columns["amount"]), len(validated.customers)
    if len(validated.order) < n_rows:
        codes = np.full(n_rows, n_codes, dtype=np.intp)
    else:
        codes = np.empty(n_rows, dtype=np.intp)
    codes[validated.order] = validated.customer_codes
    return codes


@dataclass(frozen=True)
class _CustomerSums:
    """Per-customer sums of :func:`customer_profitability`, one entry per customer code."""

    revenue: np.ndarray
    goods_cost: np.ndarray | None
    n_purchases: np.ndarray
    n_orders: np.ndarray


def _purchase_rows(validated: ValidatedTransactions, codes: np.ndarray) -> np.ndarray:
    """Rows with a non-negative amount (purchase rows) per customer code."""
    n_codes = len(validated.customers)
    purchase = validated.columns["amount"].to_numpy() >= 0
    return np.bincount(codes[purchase], minlength=n_codes + 1)[:n_codes]


def _customer_sums(validated: ValidatedTransactions, codes: np.ndarray) -> _CustomerSums:
    """Sum amounts and costs and count purchase rows and orders per customer code.

    The same quantities as the summary's ``total_amount``, ``total_margin``
    and ``n_orders``, computed in input order with ``np.bincount`` rather
    than through the sorted-order kernel of :mod:`custintel.features`, which
    also computes the occasions, days and gaps that this table does not use.
    Sums are in another order than the summary's, so they agree with it to
    rounding.
    """
    n_codes = len(validated.customers)
    binned = codes  # removed rows: bin n_codes (see input_order_codes)
    bins = n_codes + 1
    amounts = validated.columns["amount"].to_numpy(dtype=np.float64)
    revenue = np.bincount(binned, weights=amounts, minlength=bins)[:n_codes]
    goods_cost = (
        np.bincount(
            binned, weights=validated.columns["cost"].to_numpy(dtype=np.float64), minlength=bins
        )[:n_codes]
        if validated.has("cost")
        else None
    )
    purchase = amounts >= 0
    all_purchases = bool(purchase.all())
    purchase_codes = binned if all_purchases else binned[purchase]
    n_purchases = np.bincount(purchase_codes, minlength=bins)[:n_codes]
    if validated.has("order_id"):
        order_ids = validated.columns["order_id"]
        if not all_purchases:
            order_ids = order_ids[purchase]
        # Validation checked that an order has one customer: count each order once.
        order_codes, n_ids = _order_codes(order_ids)
        customer_of_order = np.full(n_ids, n_codes, dtype=np.intp)
        # Rows of removed duplicates (bin n_codes) must not own their order.
        known = (order_codes >= 0) & (purchase_codes < n_codes)
        if known.all():  # the usual case: no gather
            customer_of_order[order_codes] = purchase_codes
        else:
            customer_of_order[order_codes[known]] = purchase_codes[known]
        n_orders = np.bincount(customer_of_order, minlength=bins)[:n_codes]
    else:
        n_orders = n_purchases
    return _CustomerSums(
        revenue=revenue,
        goods_cost=goods_cost,
        n_purchases=n_purchases,
        n_orders=n_orders.astype(np.int64, copy=False),
    )


def _order_codes(order_ids: pd.Series) -> tuple[np.ndarray, int]:
    """Code each row's order id in ``range(n)``; return the codes and ``n``.

    Whole-number ids in a range not much wider than the rows are their own
    codes (offset by the smallest id): no hashing. Any other ids are
    factorized. Codes need not be dense: unused codes own no row. Missing
    ids get -1.
    """
    values = order_ids.to_numpy()
    if np.issubdtype(values.dtype, np.integer) and len(values):
        low, high = int(values.min()), int(values.max())
        span = 4 * len(values) + (1 << 16)
        if low >= 0 and high < span:  # ids from 0 or 1 up: no copy
            return values, high + 1
        if high - low < span:
            return values - low, high - low + 1
    codes, uniques = pd.factorize(order_ids)
    return codes, len(uniques)


def _units_sold(validated: ValidatedTransactions, codes: np.ndarray) -> np.ndarray:
    """Units on purchase rows (non-negative amount) per customer code.

    Whole numbers (``int64``) unless the quantity column holds fractions.
    ``codes`` come from :func:`input_order_codes`.
    """
    n_codes = len(validated.customers)
    bins = n_codes + 1
    purchase = validated.columns["amount"].to_numpy() >= 0  # not refunds
    all_purchases = bool(purchase.all())
    if not validated.has("quantity"):
        rows = codes if all_purchases else codes[purchase]
        return np.bincount(rows, minlength=bins)[:n_codes].astype(np.int64)
    quantity = validated.columns["quantity"].to_numpy()
    weights = quantity.astype(np.float64)  # a copy: zeroed on refunds below
    if not all_purchases:
        weights[~purchase] = 0.0
    units = np.bincount(codes, weights=weights, minlength=bins)[:n_codes]
    if np.issubdtype(quantity.dtype, np.integer):
        return np.rint(units).astype(np.int64)
    return units


def _per_customer_costs(costs: pd.Series | Mapping[Any, float], customers: pd.Index) -> np.ndarray:
    series = costs if isinstance(costs, pd.Series) else pd.Series(dict(costs), dtype=np.float64)
    if series.index.has_duplicates:
        dupes = series.index[series.index.duplicated()].unique()[:5].tolist()
        raise SchemaError(
            f"cost_per_customer has duplicated customer ids, e.g. {dupes}; give one cost per "
            "customer",
            reason="duplicate_customer_id",
        )
    try:
        values = series.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise SchemaError(
            f"cost_per_customer must hold numbers, got dtype {series.dtype}",
            reason="non_numeric_cost",
        ) from None
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        examples = series[bad].head(5).to_dict()
        raise SchemaError(
            f"cost_per_customer: {int(bad.sum()):,} of {len(values):,} costs are negative, NaN "
            f"or infinite, e.g. {examples}; give every customer a finite cost >= 0",
            reason="bad_cost",
        )
    aligned = series.reindex(customers)
    missing = aligned.isna().to_numpy()
    if missing.any():
        examples = customers[missing][:5].tolist()
        raise SchemaError(
            f"cost_per_customer has no cost for {int(missing.sum()):,} of {len(customers):,} "
            f"customers, e.g. {examples} (check that the ids have the same type as the "
            "transactions' customer_id); fill them, e.g. "
            "costs.reindex(customer_ids, fill_value=0.0)",
            reason="missing_cost",
        )
    return aligned.to_numpy(dtype=np.float64)


def _function_costs(validated: ValidatedTransactions, function: CostFunction) -> np.ndarray:
    """Call the cost function on the canonical frame; sum its row costs per customer code."""
    frame = validated.frame
    result = function(frame)
    if isinstance(result, pd.Series | pd.Index) and not result.index.equals(frame.index):
        raise ValueError(
            "cost_function returned a Series whose index differs from the frame it was given; "
            "return one cost per row in the same order (e.g. an array or a Series built from "
            "the frame's columns)"
        )
    try:
        row_costs = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"cost_function must return numbers, one per row; got {type(result).__name__}"
        ) from None
    if row_costs.shape != (len(frame),):
        raise ValueError(
            f"cost_function must return one cost per transaction row ({len(frame):,}), got shape "
            f"{row_costs.shape}"
        )
    bad = ~np.isfinite(row_costs)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise ValueError(
            f"cost_function returned {int(bad.sum()):,} NaN or infinite costs, e.g. at rows "
            f"{rows} of the frame it was given; return a finite cost for every row"
        )
    # The frame is in sorted order, so row i belongs to customer_codes[i].
    return np.bincount(
        validated.customer_codes, weights=row_costs, minlength=len(validated.customers)
    )


def _most_frequent(
    validated: ValidatedTransactions, role: str, codes: np.ndarray
) -> pd.Categorical:
    """Most frequent value of ``role`` per customer code (ties: first in sort order).

    ``codes`` are the customer codes in input order (see :func:`input_order_codes`).
    """
    values = validated.columns[role]
    if isinstance(values.dtype, pd.CategoricalDtype):
        # category order is the sort order; -1 marks missing values
        value_codes = values.cat.codes.to_numpy()
        categories, ordered = values.cat.categories, bool(values.cat.ordered)
    else:
        try:
            value_codes, categories = pd.factorize(values, sort=True)
            ordered = False
        except TypeError:
            raise SchemaError(
                f"column {role!r} mixes value types that cannot be compared; convert it to "
                f"one type, e.g. df[{values.name!r}].astype(str)",
                reason=f"mixed_{role}",
            ) from None
    n_codes, n_values = len(validated.customers), len(categories)
    known = value_codes >= 0  # not missing
    if len(validated.order) < len(codes):
        known &= codes < n_codes  # nor a removed row
    if known.all():  # the usual case: no gather
        keys = codes * max(n_values, 1)
        keys += value_codes
    else:
        keys = codes[known] * max(n_values, 1)
        keys += value_codes[known]
    if n_codes * n_values <= max(4 * len(keys), 1 << 24):
        best = mode_dense(keys, n_codes, n_values)
    else:
        best = mode_sorted(keys, n_codes, n_values)
    return pd.Categorical.from_codes(best, categories=pd.Index(categories), ordered=ordered)


def mode_dense(keys: np.ndarray, n_codes: int, n_values: int) -> np.ndarray:
    """Most frequent value code per customer from ``customer * n_values + value`` keys.

    Counts in a dense customer × value table: O(rows), no sort; for few values.
    Ties go to the lowest value code; customers without a key get -1.
    """
    if n_values == 0 or len(keys) == 0:
        return np.full(n_codes, -1, dtype=np.int64)
    counts = np.bincount(keys, minlength=n_codes * n_values).reshape(n_codes, n_values)
    best = counts.argmax(axis=1)  # the first maximum: the lowest value code
    best[counts[np.arange(n_codes), best] == 0] = -1
    return best.astype(np.int64, copy=False)


def mode_sorted(keys: np.ndarray, n_codes: int, n_values: int) -> np.ndarray:
    """Do what :func:`mode_dense` does by sorting the keys, for many distinct values."""
    best = np.full(n_codes, -1, dtype=np.int64)
    if n_values == 0 or len(keys) == 0:
        return best
    pairs, counts = np.unique(keys, return_counts=True)
    pair_customer, pair_value = np.divmod(pairs, n_values)
    # Per customer: highest count first, then the lowest value code.
    order = np.lexsort((pair_value, -counts, pair_customer))
    pair_customer, pair_value = pair_customer[order], pair_value[order]
    firsts = run_starts(pair_customer)
    best[pair_customer[firsts]] = pair_value[firsts]
    return best
