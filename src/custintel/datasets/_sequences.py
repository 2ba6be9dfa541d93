"""Planted purchase sequences: "after buying X, buy Y within d days with probability p"."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SequencedTransactions", "plant_sequences"]

_NS_PER_DAY = 86_400 * 10**9
_REQUIRED = ("customer_id", "order_id", "timestamp", "item_id", "amount")
# Default triggers and follow-ups are drawn from these popularity ranks (1 = most popular):
# popular enough to be mined at a low support, not so popular that co-purchase finds them.
_TRIGGER_RANKS = (11, 60)


@dataclass(frozen=True, eq=False)
class SequencedTransactions:
    """A transaction log with planted follow-up purchases, and the truth planted.

    Attributes
    ----------
    transactions : pandas.DataFrame
        The input log plus one follow-up order (one line) per planted
        purchase, sorted by ``timestamp`` then ``order_id``, with a
        ``RangeIndex``.
    sequences : list of tuple
        The planted ``(X, Y)`` pairs.
    max_gap_days : int
        Follow-ups come 1 to ``max_gap_days`` calendar days after X.
    probability : float
        Chance that a line of X is followed up.
    n_planted : int
        Follow-up lines added (those that would fall after the end of the
        log are not).
    """

    transactions: pd.DataFrame
    sequences: list[tuple[Any, Any]]
    max_gap_days: int
    probability: float
    n_planted: int

    def __repr__(self) -> str:
        return (
            f"SequencedTransactions(n_rows={len(self.transactions)}, "
            f"sequences={self.sequences}, max_gap_days={self.max_gap_days}, "
            f"probability={self.probability}, n_planted={self.n_planted})"
        )


def plant_sequences(
    transactions: pd.DataFrame,
    sequences: Sequence[tuple[Any, Any]] | int = 5,
    *,
    max_gap_days: int = 14,
    probability: float = 0.5,
    end: str | pd.Timestamp | None = None,
    random_state: int | np.random.Generator | None = None,
) -> SequencedTransactions:
    r"""Add follow-up purchases: after buying X, the customer buys Y within d days.

    Every purchase line of an item X of a planted pair ``(X, Y)`` is, with
    probability ``probability``, followed by a new one-line order of Y by
    the same customer, a whole number of days later drawn uniformly from
    ``1..max_gap_days`` (same time of day). Follow-ups do not trigger
    follow-ups of their own.

    Parameters
    ----------
    transactions : pandas.DataFrame
        A log in the columns of :func:`make_transactions`: at least
        ``customer_id``, ``order_id`` (integers), ``timestamp``, ``item_id``
        and ``amount``; ``quantity``, ``cost`` and customer attribute
        columns are filled in when present. Not modified.
    sequences : sequence of (X, Y) pairs, or int, default=5
        The pairs to plant, or how many pairs to draw: triggers X and
        follow-ups Y are distinct items, drawn from popularity ranks 11 to
        60 of the log (fewer when the catalogue is smaller).
    max_gap_days : int, default=14
        Longest delay, in days, from X to its follow-up; at least 1.
    probability : float, default=0.5
        Chance that a purchase of X is followed up, in [0, 1].
    end : str or pandas.Timestamp, optional
        Last day of observation: follow-ups after its end are not added.
        By default, the day of the last timestamp in the log.
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator.

    Returns
    -------
    SequencedTransactions
        The log with the follow-ups, and the truth planted.

    Raises
    ------
    ValueError
        For a missing column, a parameter out of range, a pair naming an
        item not in the log, or a pair ``(X, X)``.

    Notes
    -----
    A follow-up line of Y has quantity 1 and Y's median unit amount
    (``amount / quantity``) in the log; its ``cost`` keeps Y's median
    cost-to-amount ratio. Customer attributes are copied from the trigger
    line. Its order id continues after the largest in the log.

    A customer who bought X at least once before the last ``max_gap_days``
    days of the log holds the sequential pair ``X -> Y`` with probability
    at least ``probability``, so a miner should find confidence of about
    ``probability`` or more for planted pairs and the background rate for
    the others.

    Examples
    --------
    >>> from custintel.datasets import make_transactions, plant_sequences
    >>> sim = make_transactions(300, random_state=0)
    >>> planted = plant_sequences(sim.transactions, [("P0020", "P0030")], random_state=0)
    >>> planted.sequences
    [('P0020', 'P0030')]
    >>> tx = planted.transactions
    >>> len(tx) - len(sim.transactions) == planted.n_planted > 0
    True
    >>> follow_ups = tx[tx["order_id"] > sim.transactions["order_id"].max()]
    >>> set(follow_ups["item_id"])
    {'P0030'}
    """
    _check_columns(transactions)
    gap = _check_gap(max_gap_days)
    p = _check_probability(probability)
    rng = np.random.default_rng(random_state)
    items = transactions["item_id"]
    labels = pd.Index(items.unique())
    if isinstance(sequences, numbers.Integral) and not isinstance(sequences, bool):
        pairs = _draw_pairs(rng, items, int(sequences))
    else:
        pairs = _check_pairs(sequences, labels)

    timestamps = pd.to_datetime(transactions["timestamp"])
    stamp_ns = timestamps.to_numpy(dtype="datetime64[ns]").view(np.int64)
    last_day = timestamps.max().normalize() if end is None else pd.Timestamp(end).normalize()
    limit_ns = (last_day + pd.Timedelta(days=1)).value  # follow-ups before the day after end

    quantity = (
        transactions["quantity"].to_numpy(dtype=np.float64)
        if "quantity" in transactions
        else np.ones(len(transactions))
    )
    amount = transactions["amount"].to_numpy(dtype=np.float64)
    item_values = items.astype(object).to_numpy()
    sources, follow_ns, follow_items = [], [], []
    for x, y in pairs:
        trigger = np.flatnonzero((item_values == x) & (amount >= 0))
        chosen = trigger[rng.random(len(trigger)) < p]
        delay = rng.integers(1, gap + 1, size=len(chosen))
        when = stamp_ns[chosen] + delay * _NS_PER_DAY
        inside = when < limit_ns
        sources.append(chosen[inside])
        follow_ns.append(when[inside])
        follow_items.append(np.full(int(inside.sum()), y, dtype=object))
    source = np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)
    when_ns = np.concatenate(follow_ns) if follow_ns else np.zeros(0, dtype=np.int64)
    new_item = np.concatenate(follow_items) if follow_items else np.zeros(0, dtype=object)

    added = transactions.iloc[source].copy()
    # Follow-up order ids continue the log's, in time order.
    order_ids = transactions["order_id"].to_numpy()
    first_id = int(order_ids.max()) + 1 if len(order_ids) else 1
    rank = np.argsort(np.argsort(when_ns, kind="stable"), kind="stable")
    added["order_id"] = (first_id + rank).astype(transactions["order_id"].dtype)
    added["timestamp"] = pd.DatetimeIndex(when_ns.view("datetime64[ns]")).astype(
        transactions["timestamp"].dtype
    )
    unit = _median_by_item(item_values, amount / np.where(quantity > 0, quantity, np.nan))
    added_item = pd.Series(new_item, index=added.index, dtype=object)
    if isinstance(items.dtype, pd.CategoricalDtype):
        added["item_id"] = pd.Categorical(new_item, categories=items.cat.categories)
    else:
        added["item_id"] = added_item.astype(items.dtype)
    new_amount = added_item.map(unit).to_numpy(dtype=np.float64)
    if "quantity" in transactions:
        added["quantity"] = np.ones(len(added), dtype=transactions["quantity"].dtype)
    added["amount"] = new_amount
    if "cost" in transactions:
        ratio = _median_by_item(
            item_values,
            transactions["cost"].to_numpy(dtype=np.float64) / np.where(amount != 0, amount, np.nan),
        )
        added["cost"] = new_amount * added_item.map(ratio).to_numpy(dtype=np.float64)

    combined = pd.concat([transactions, added], ignore_index=True)
    if isinstance(items.dtype, pd.CategoricalDtype):
        combined["item_id"] = combined["item_id"].astype(items.dtype)
    combined = combined.sort_values(["timestamp", "order_id"], kind="stable", ignore_index=True)
    return SequencedTransactions(
        transactions=combined,
        sequences=pairs,
        max_gap_days=gap,
        probability=p,
        n_planted=len(added),
    )


def _median_by_item(items: np.ndarray, values: np.ndarray) -> pd.Series:
    frame = pd.DataFrame({"item": items, "value": values})
    return frame.groupby("item", sort=False)["value"].median()


def _draw_pairs(rng: np.random.Generator, items: pd.Series, count: int) -> list[tuple[Any, Any]]:
    if count < 1:
        raise ValueError(f"sequences must be a list of (X, Y) pairs or a count >= 1, got {count}")
    popular = items.astype(object).value_counts(sort=True)
    low, high = _TRIGGER_RANKS
    pool = popular.index[low - 1 : high].tolist()
    if len(pool) < 2 * count:
        pool = popular.index.tolist()
    if len(pool) < 2 * count:
        raise ValueError(
            f"cannot draw {count} pairs of distinct items from a log of {len(pool)} items; "
            "ask for fewer sequences or pass the pairs"
        )
    chosen = rng.choice(len(pool), size=2 * count, replace=False)
    return [(pool[chosen[2 * k]], pool[chosen[2 * k + 1]]) for k in range(count)]


def _check_pairs(sequences: Any, labels: pd.Index) -> list[tuple[Any, Any]]:
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, Sequence):
        raise ValueError(
            f"sequences must be a list of (X, Y) pairs or a count >= 1, got {sequences!r}"
        )
    pairs = []
    for at, pair in enumerate(sequences):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"sequences[{at}] must be a pair (X, Y), got {pair!r}")
        x, y = pair
        for item in (x, y):
            if item not in labels:
                raise ValueError(
                    f"sequences[{at}] names item {item!r}, which is not in the log's item_id "
                    "column; plant pairs of items the log sells"
                )
        if x == y:
            raise ValueError(f"sequences[{at}] is ({x!r}, {y!r}); plant two different items")
        pairs.append((x, y))
    if not pairs:
        raise ValueError("sequences is empty; give at least one (X, Y) pair")
    return pairs


def _check_columns(transactions: Any) -> None:
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(
            "plant_sequences takes a pandas DataFrame (make_transactions(...).transactions), "
            f"got {type(transactions).__name__}"
        )
    missing = [c for c in _REQUIRED if c not in transactions.columns]
    if missing:
        raise ValueError(
            f"transactions lack the columns {missing} (columns present: "
            f"{[str(c) for c in transactions.columns]}); plant_sequences needs {list(_REQUIRED)}, "
            "as make_transactions returns"
        )
    if not pd.api.types.is_integer_dtype(transactions["order_id"].dtype):
        raise ValueError(
            "column 'order_id' must hold integers (new orders continue after the largest id), "
            f"got dtype {transactions['order_id'].dtype}"
        )


def _check_gap(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"max_gap_days must be a whole number of days >= 1, got {value!r}")
    return int(value)


def _check_probability(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ValueError(f"probability must be in [0, 1], got {value!r}")
    return float(value)
