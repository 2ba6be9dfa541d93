"""Sequential rules: "bought X, then within d days bought Y", counted over customers.

Each customer's purchases are grouped into *occasions* (one per calendar day
bought on), and a customer holds the sequential pair ``(X, Y)`` when X is in
one occasion and Y in a later one at most ``max_gap_days`` days after it.
Everything is counted with sparse matrix products over all customers at once:

- ``O`` (occasions x items) marks the items of each occasion;
- ``G`` (occasions x occasions) marks, for each occasion, the same customer's
  occasions 1 to ``max_gap_days`` days later (a contiguous run, since
  occasions are sorted by customer and day);
- ``W = G @ O`` is what each occasion is followed by within the gap;
- ``L`` (customer-item pairs x occasions) marks the occasions holding item X
  of customer c, so row ``(c, X)`` of ``L @ W`` is non-zero at Y exactly when
  customer c bought Y within the gap after buying X.

The rows of ``L @ W`` are computed in chunks whose size is bounded before
they are allocated, and each non-zero counts one customer for the pair.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from custintel.basket._itemsets import check_min_support
from custintel.basket._mining import min_count_for
from custintel.exceptions import SchemaError
from custintel.features import canonical_order
from custintel.schema import TransactionSchema, ValidatedTransactions, validated_transactions
from custintel.typing import TransactionsLike

__all__ = [
    "SEQUENTIAL_RULE_COLUMNS",
    "Occasions",
    "TooManySequentialPairsError",
    "check_gap",
    "occasions_from_validated",
    "pair_counts",
    "rules_from_occasions",
    "sequential_rules",
    "validate_sequence_log",
]

#: Columns of :func:`sequential_rules`, in this order.
SEQUENTIAL_RULE_COLUMNS: tuple[str, ...] = (
    "antecedent",
    "consequent",
    "n_customers",
    "support",
    "antecedent_support",
    "consequent_support",
    "confidence",
    "lift",
)

# Entries of the (customer, item) x items product computed at once.
_ENTRIES_PER_CHUNK = 1 << 22


class TooManySequentialPairsError(ValueError):
    """Raised when the distinct (X, Y) pairs would pass ``max_pairs``."""


@dataclass(frozen=True)
class Occasions:
    """Purchase occasions (customer, calendar day), sorted by customer then day.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        Boolean occasions-by-items matrix.
    customer : numpy.ndarray
        ``int64`` customer code of each occasion (non-decreasing).
    day : numpy.ndarray
        ``int64`` calendar day (days since 1970-01-01) of each occasion.
    items : numpy.ndarray
        Item label of each column (object), in canonical order.
    customers : pandas.Index
        Customer id of each customer code.
    end_day : int
        Last observed calendar day.
    """

    matrix: sparse.csr_matrix
    customer: np.ndarray
    day: np.ndarray
    items: np.ndarray
    customers: pd.Index
    end_day: int

    @property
    def n_customers(self) -> int:
        """Customers with at least one purchase."""
        return len(self.customers)

    def customer_items(self) -> sparse.csr_matrix:
        """Boolean customers-by-items matrix: every item a customer ever bought."""
        n_occasions = self.matrix.shape[0]
        merge = sparse.csr_matrix(
            (np.ones(n_occasions, dtype=np.int32), (self.customer, np.arange(n_occasions))),
            shape=(self.n_customers, n_occasions),
        )
        merged = sparse.csr_matrix(merge @ sparse.csr_matrix(self.matrix, dtype=np.int32))
        merged.data[:] = 1
        return sparse.csr_matrix(merged, dtype=bool)


def check_gap(value: Any, name: str = "max_gap_days") -> int:
    """Return a gap in days as an ``int`` >= 1, or raise a ``ValueError`` saying why."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number of days >= 1, got {value!r}")
    if value < 1:
        raise ValueError(
            f"{name} must be at least 1 day (a later purchase falls on a later day), got {value!r}"
        )
    return int(value)


def validate_sequence_log(
    X: TransactionsLike, schema: TransactionSchema | Mapping[str, str] | None
) -> ValidatedTransactions:
    """Validate a transaction log for sequential mining; it needs ``item_id``."""
    if not isinstance(X, pd.DataFrame) and not type(X).__module__.startswith("polars"):
        raise TypeError(
            "sequential rules need a transaction log (a pandas or Polars DataFrame with "
            "customer_id, timestamp, item_id and amount), because the order of purchases "
            f"matters; got {type(X).__name__}. Baskets without dates cannot be put in sequence"
        )
    validated = validated_transactions(X, schema, refunds="net", duplicates="keep")
    if not validated.has("item_id"):
        present = [str(c) for c in validated.columns]
        raise SchemaError(
            "sequential rules need the 'item_id' role (the product bought on each line), but no "
            f"column 'item_id' is present or mapped (validated columns: {present}); map it with "
            "TransactionSchema(item_id='<your column>')",
            reason="missing_column",
        )
    return validated


def occasions_from_validated(
    validated: ValidatedTransactions, *, until_day: int | None = None
) -> Occasions:
    """Group the purchase lines (amount >= 0) into occasions: one per customer and day.

    Lines after ``until_day`` are left out. Customers keep their codes (and
    ``customers`` lists every validated customer), so a customer without a
    purchase line has no occasion.
    """
    amount = validated.values("amount", np.float64)
    days = validated.days.astype(np.int64)
    keep = amount >= 0
    if until_day is not None:
        keep &= days <= until_day
    column = validated.columns["item_id"]
    customer = validated.customer_codes.astype(np.int64)[keep]
    days = days[keep]
    if isinstance(column.dtype, pd.CategoricalDtype):
        # Categories are distinct labels already: their codes skip hashing every line.
        raw = column.cat.codes.to_numpy()[validated.order][keep]
        present = np.flatnonzero(np.bincount(raw, minlength=len(column.cat.categories)))
        remap = np.full(len(column.cat.categories), -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        codes, labels = remap[raw], column.cat.categories[present]
    else:
        items = validated.values("item_id")[keep]
        codes, labels = pd.factorize(pd.Series(items, dtype=object))
    label_array = np.empty(len(labels), dtype=object)
    label_array[:] = [v.item() if isinstance(v, np.generic) else v for v in labels.tolist()]
    order = canonical_order(label_array)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    item_code = rank[codes]
    if len(days):
        low = int(days.min())
        span = int(days.max()) - low + 1
        key = customer * span + (days - low)
        occasion_key, occasion = np.unique(key, return_inverse=True)
        occasion_customer, occasion_day = np.divmod(occasion_key, span)
        occasion_day += low
    else:
        occasion = np.zeros(0, dtype=np.int64)
        occasion_customer = occasion_day = np.zeros(0, dtype=np.int64)
    matrix = sparse.csr_matrix(
        (np.ones(len(occasion), dtype=bool), (occasion, item_code)),
        shape=(len(occasion_customer), len(order)),
    )
    matrix.sum_duplicates()  # boolean sum is "or": an item twice on one day is one entry
    matrix.sort_indices()
    end_day = int(validated.end_day.astype("datetime64[D]").astype(np.int64))
    if until_day is not None:
        end_day = min(end_day, int(until_day))
    return Occasions(
        matrix=matrix,
        customer=occasion_customer.astype(np.int64),
        day=occasion_day.astype(np.int64),
        items=label_array[order],
        customers=validated.customers,
        end_day=end_day,
    )


def _window(occasions: Occasions, max_gap_days: int) -> sparse.csr_matrix:
    """``G``: occasion a -> the same customer's occasions 1..max_gap_days days later."""
    day = occasions.day
    n = len(day)
    if n == 0:
        return sparse.csr_matrix((0, 0), dtype=np.int32)
    low = int(day.min())
    # Customers spaced more than max_gap_days apart, so no window crosses a customer.
    stride = int(day.max()) - low + max_gap_days + 1
    key = occasions.customer * stride + (day - low)
    start = np.arange(1, n + 1)  # occasions of a customer are on distinct, rising days
    stop = np.searchsorted(key, key + max_gap_days, side="right")
    lengths = stop - start
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    columns = np.arange(int(indptr[-1])) - np.repeat(indptr[:-1] - start, lengths)
    return sparse.csr_matrix((np.ones(len(columns), dtype=np.int32), columns, indptr), shape=(n, n))


def pair_counts(
    occasions: Occasions,
    items: np.ndarray,
    *,
    max_gap_days: int,
    repeats: bool,
    max_pairs: int,
) -> sparse.csr_matrix:
    """Count customers holding each sequential pair among the item codes ``items``.

    Returns a ``len(items) x len(items)`` CSR matrix of ``int64`` counts,
    rows the antecedent X and columns the consequent Y (positions in
    ``items``).
    """
    f = len(items)
    if f == 0:
        return sparse.csr_matrix((0, 0), dtype=np.int64)
    occasion_items = sparse.csr_matrix(occasions.matrix[:, items], dtype=np.int32)
    follows = _window(occasions, max_gap_days)
    followed_by = sparse.csr_matrix(follows @ occasion_items)  # W: occasion x item
    followed_by.data[:] = 1
    # L: one row per (customer, item) the customer bought; its occasions holding the item.
    row_of_entry = np.repeat(np.arange(occasion_items.shape[0]), np.diff(occasion_items.indptr))
    key = occasions.customer[row_of_entry] * f + occasion_items.indices
    pair_keys, pair_row = np.unique(key, return_inverse=True)
    pair_item = pair_keys % f
    holders = sparse.csr_matrix(
        (np.ones(len(pair_row), dtype=np.int32), (pair_row, row_of_entry)),
        shape=(len(pair_keys), occasion_items.shape[0]),
    )
    # Entries of row (c, X) of L @ W are at most the sum over its occasions, and at most f.
    bound = np.minimum(holders @ np.diff(followed_by.indptr).astype(np.int64), f)
    cumulative = np.cumsum(bound)
    total = sparse.csr_matrix((f, f), dtype=np.int64)
    start, n_rows = 0, len(pair_keys)
    while start < n_rows:
        base = cumulative[start - 1] if start else 0
        stop = int(np.searchsorted(cumulative, base + _ENTRIES_PER_CHUNK, side="right"))
        stop = max(stop, start + 1)
        product = sparse.csr_matrix(holders[start:stop] @ followed_by)
        rows = np.repeat(np.arange(start, stop), np.diff(product.indptr))
        antecedent = pair_item[rows]
        consequent = product.indices.astype(np.int64)
        if not repeats:
            different = antecedent != consequent
            antecedent, consequent = antecedent[different], consequent[different]
        # Each entry is one customer (rows are distinct customer-item pairs).
        total = total + sparse.csr_matrix(
            (np.ones(len(antecedent), dtype=np.int64), (antecedent, consequent)), shape=(f, f)
        )
        if total.nnz > max_pairs:
            raise TooManySequentialPairsError(
                f"more than max_pairs={max_pairs:,} distinct sequential pairs (found "
                f"{total.nnz:,} after {stop:,} of {n_rows:,} customer-item rows, among {f:,} "
                "items above min_support); raise min_support, shorten max_gap_days, or raise "
                "max_pairs if the memory is there (about 16 bytes a pair)"
            )
        start = stop
    total.sort_indices()
    return total


def sequential_rules(
    X: TransactionsLike,
    *,
    max_gap_days: int = 30,
    min_support: float = 0.01,
    min_confidence: float = 0.0,
    repeats: bool = False,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    max_pairs: int = 10_000_000,
) -> pd.DataFrame:
    r"""Mine "bought X, then within ``max_gap_days`` days bought Y" rules over customers.

    Parameters
    ----------
    X : pandas.DataFrame or polars.DataFrame
        A transaction log with ``customer_id``, ``timestamp``, ``item_id``
        and ``amount`` (``order_id`` is not needed); validated with
        :func:`~custintel.validate_transactions`. Refund lines (negative
        amount) are not purchases and are left out.
    max_gap_days : int, default=30
        Longest gap, in calendar days, from buying X to buying Y; at least 1.
    min_support : float, default=0.01
        Minimum share of customers holding the pair, in (0, 1].
    min_confidence : float, default=0.0
        Minimum confidence, in [0, 1].
    repeats : bool, default=False
        Also return rules ``X -> X``: buying the same item again within the
        gap.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    max_pairs : int, default=10_000_000
        Refuse (``ValueError``) when more distinct item pairs than this
        would be counted, before memory runs out.

    Returns
    -------
    pandas.DataFrame
        One row per rule, in the columns of :data:`SEQUENTIAL_RULE_COLUMNS`:
        ``antecedent`` (X), ``consequent`` (Y), ``n_customers`` (customers
        holding the pair), ``support``, ``antecedent_support``,
        ``consequent_support``, ``confidence`` and ``lift``; best first by
        confidence, then lift, then support, then item order.
        ``attrs`` records ``max_gap_days`` and ``n_customers`` (:math:`N`).

    Raises
    ------
    SchemaError
        When the log fails validation or ``item_id`` is not mapped.
    TypeError
        For input that is not a transaction log (baskets carry no dates).
    ValueError
        For a parameter out of range, or more than ``max_pairs`` pairs.

    See Also
    --------
    association_rules : Rules of items bought together in one basket.
    SequentialRecommender : Next-purchase recommendations from these rules.

    Notes
    -----
    A customer's purchases are grouped by calendar day into occasions
    (orders on the same day are one occasion: what is bought on one day is
    bought together, not in sequence). Customer :math:`c` *holds* the pair
    :math:`X \Rightarrow Y` when it bought X on some day :math:`t` and Y on
    a day :math:`t'` with :math:`1 \le t' - t \le d`, :math:`d` =
    ``max_gap_days``. A customer holds a pair once, however often it
    happened. With :math:`N` the customers with a purchase:

    .. math::

        \operatorname{support}(X \Rightarrow Y) = \frac{|\{c : c \text{ holds }
        X \Rightarrow Y\}|}{N}, \qquad
        \operatorname{confidence} = \frac{\operatorname{support}(X \Rightarrow Y)}
        {\operatorname{support}(X)}, \qquad
        \operatorname{lift} = \frac{\operatorname{confidence}}{\operatorname{support}(Y)},

    where :math:`\operatorname{support}(X)` (``antecedent_support``) and
    :math:`\operatorname{support}(Y)` (``consequent_support``) are the shares
    of customers who ever bought X and Y. Confidence is the share of X's
    buyers who went on to buy Y within :math:`d` days; lift compares it with
    the share of all customers who ever bought Y, so a lift above 1 says X's
    buyers follow up with Y more often than customers at large buy it at
    all. These are the sequence support and confidence of sequential pattern
    mining [1]_ restricted to two single-item events with a maximum gap.
    Customers who bought X shortly before the end of the log had less time
    to follow up, so confidence is a lower bound for them.

    Only items that at least ``min_support`` of the customers bought can be
    in a rule (a pair's support is at most either item's), so the counting
    runs over those items only.

    References
    ----------
    .. [1] Srikant, R. and Agrawal, R. (1996), "Mining Sequential Patterns:
       Generalizations and Performance Improvements", EDBT, 3-17.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b", "c", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-01",
    ...                                  "2024-03-01", "2024-01-02", "2024-01-02"]),
    ...     "item_id": ["tent", "stove", "tent", "stove", "tent", "stove"],
    ...     "amount": [100.0, 30.0, 100.0, 30.0, 100.0, 30.0],
    ... })
    >>> rules = sequential_rules(tx, max_gap_days=30, min_support=0.3)
    >>> rules[["antecedent", "consequent", "n_customers", "support", "confidence", "lift"]]
      antecedent consequent  n_customers  support  confidence  lift
    0       tent      stove            1 0.333333    0.333333   0.333333

    Customer ``a`` bought the stove 4 days after the tent; ``b`` waited 60
    days (more than 30) and ``c`` bought both on the same day (bought
    together, not in sequence).
    """
    max_gap_days = check_gap(max_gap_days)
    min_support = check_min_support(min_support)
    _check_confidence(min_confidence)
    _check_bool(repeats, "repeats")
    max_pairs = _check_positive(max_pairs, "max_pairs")
    validated = validate_sequence_log(X, schema)
    occasions = occasions_from_validated(validated)
    return rules_from_occasions(
        occasions,
        max_gap_days=max_gap_days,
        min_support=min_support,
        min_confidence=float(min_confidence),
        repeats=repeats,
        max_pairs=max_pairs,
    )


def rules_from_occasions(
    occasions: Occasions,
    *,
    max_gap_days: int,
    min_support: float,
    min_confidence: float,
    repeats: bool,
    max_pairs: int,
) -> pd.DataFrame:
    """Mine the rules of :func:`sequential_rules` from occasions already built."""
    n_customers = int(np.count_nonzero(np.bincount(occasions.customer)))
    if n_customers == 0:
        raise SchemaError(
            "no purchase line (amount >= 0) to put in sequence; sequential rules need purchases",
            reason="empty",
        )
    bought = np.bincount(occasions.customer_items().indices, minlength=len(occasions.items)).astype(
        np.int64
    )
    min_count = min_count_for(min_support, n_customers)
    frequent = np.flatnonzero(bought >= min_count)
    counts = pair_counts(
        occasions, frequent, max_gap_days=max_gap_days, repeats=repeats, max_pairs=max_pairs
    )
    coo = counts.tocoo()
    keep = coo.data >= min_count
    x = frequent[coo.row[keep]]
    y = frequent[coo.col[keep]]
    held = coo.data[keep].astype(np.int64)
    support = held / n_customers
    antecedent_support = bought[x] / n_customers
    consequent_support = bought[y] / n_customers
    confidence = held / bought[x]
    lift = confidence / consequent_support
    strong = confidence >= min_confidence
    columns = {
        "antecedent": x[strong],
        "consequent": y[strong],
        "n_customers": held[strong],
        "support": support[strong],
        "antecedent_support": antecedent_support[strong],
        "consequent_support": consequent_support[strong],
        "confidence": confidence[strong],
        "lift": lift[strong],
    }
    # Best first; ties in item order, so the table does not depend on the input's row order.
    order = np.lexsort(
        (
            columns["consequent"],
            columns["antecedent"],
            -columns["support"],
            -columns["lift"],
            -columns["confidence"],
        )
    )
    frame = pd.DataFrame({name: values[order] for name, values in columns.items()})
    for side in ("antecedent", "consequent"):
        labels = np.empty(len(frame), dtype=object)
        labels[:] = occasions.items[frame[side].to_numpy()]
        frame[side] = labels
    frame.attrs.update({"max_gap_days": int(max_gap_days), "n_customers": n_customers})
    return frame


def _check_confidence(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ValueError(f"min_confidence must be in [0, 1], got {value!r}")
    return float(value)


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)
