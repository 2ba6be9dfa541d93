"""What is known about a new customer early on, and what they went on to spend.

A BTYD model sees a one-time buyer only as (frequency 0, recency 0, T), so all
new customers of a cohort get the same forecast. Their first order says more:
its size, its items, the channel and region it came through, the season. This
module builds those rows at a chosen *age* (days since the first purchase):
the first day's order, the behaviour up to that age, and, for training, the
value over the ``horizon_days`` that follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel._validation import ValidatedTransactions
from custintel.backends import (
    EARLY_LIFE_ATTRIBUTES,
    EARLY_LIFE_COLUMNS,
    early_life_columns,
    to_fixed,
)
from custintel.exceptions import SchemaError
from custintel.features._churn import attribute_mode
from custintel.schema import TransactionSchema, validated_transactions
from custintel.typing import TransactionsLike

__all__ = ["EARLY_LIFE_COLUMNS", "early_life_features", "make_early_life_dataset"]


def _rows_at(
    validated: ValidatedTransactions, ages: np.ndarray, eligible: np.ndarray
) -> pd.DataFrame:
    """Build the feature rows of the customers ``eligible`` (codes) at their ``ages`` (days).

    The aggregates are those of :func:`~custintel.backends.early_life_columns`
    (money summed exactly, as the engines sum it), so a Spark scoring of the
    same bundle computes the same features.
    """
    codes = validated.customer_codes
    days = validated.days.astype(np.int64)
    amount = validated.values("amount", np.float64)
    starts = np.concatenate([[0], np.cumsum(validated.counts)[:-1]])
    first_day = days[starts]  # sorted by customer then time: a customer's first row
    offset = days - first_day[codes]  # days since the customer's first purchase
    n = len(validated.customers)
    age_of_line = np.full(n, -1, dtype=np.int64)
    age_of_line[eligible] = ages
    known = offset <= age_of_line[codes]  # lines up to the age, inclusive
    on_first_day = offset == 0
    later = known & ~on_first_day
    high, low = to_fixed(amount)

    def per_customer(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], weights=weights[mask], minlength=n)

    aggregates: dict[str, np.ndarray] = {
        "first_day": first_day,
        "first_net": per_customer(high, on_first_day),
        "first_net_lo": per_customer(low, on_first_day),
        "first_lines": np.bincount(codes[on_first_day], minlength=n),
        "early_net": per_customer(high, later),
        "early_net_lo": per_customer(low, later),
    }
    if validated.has("item_id"):
        items = pd.factorize(validated.values("item_id"))[0].astype(np.int64)
        width = int(items.max()) + 1
        pairs = np.unique(codes[on_first_day].astype(np.int64) * width + items[on_first_day])
        aggregates["first_items"] = np.bincount(pairs // width, minlength=n)
    if validated.has("quantity"):
        quantity = validated.values("quantity", np.float64)
        aggregates["first_quantity"] = per_customer(quantity, on_first_day)
    bought = known & (amount > 0)
    bought_later = bought & ~on_first_day
    early_days = np.unique(codes[bought_later].astype(np.int64) * (1 << 32) + offset[bought_later])
    aggregates["early_orders"] = np.bincount(early_days >> 32, minlength=n)
    last_offset = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_offset, codes[bought], offset[bought])
    aggregates["last_offset"] = last_offset
    table = pd.DataFrame(early_life_columns(aggregates, age_of_line), index=validated.customers)
    first_rows = np.flatnonzero(on_first_day)
    for role in EARLY_LIFE_ATTRIBUTES:
        if validated.has(role):
            table[role] = attribute_mode(validated, role, first_rows).remove_unused_categories()
    return table.iloc[eligible]


def _validated(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None,
    observation_end: Any,
    refunds: str,
    duplicates: str,
) -> ValidatedTransactions:
    return validated_transactions(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )


def _first_days(validated: ValidatedTransactions) -> np.ndarray:
    starts = np.concatenate([[0], np.cumsum(validated.counts)[:-1]])
    return validated.days.astype(np.int64)[starts]


def early_life_features(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    max_age_days: int = 90,
    observation_end: Any = None,
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    """Describe each new customer by their first order and their first days, as of today.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions (see :func:`~custintel.validate_transactions`).
    schema : TransactionSchema, dict or None, default=None
        Column mapping; ``item_id``, ``quantity``, ``customer_type``,
        ``region`` and ``channel`` are used when mapped.
    max_age_days : int, default=90
        Customers whose first purchase is at most this many days before the
        observation end are new; older ones are left out.
    observation_end : date-like, optional
        Today: the last day of the data, inclusive (default: the last
        transaction day).
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies of :func:`~custintel.validate_transactions`.

    Returns
    -------
    pandas.DataFrame
        One row per new customer, indexed by ``customer_id``, with
        :data:`EARLY_LIFE_COLUMNS`: ``age_days`` (days since the first
        purchase), the first day's ``first_amount``, ``first_lines``,
        ``first_items`` (distinct items; NaN without ``item_id``) and
        ``first_quantity`` (NaN without ``quantity``), the acquisition
        ``acquisition_month`` (1-12) and ``acquisition_weekday`` (0 is
        Monday), the ``early_orders`` (purchase days after the first) and
        ``early_amount`` up to today, and ``days_since_last``; then the first
        day's ``customer_type``, ``region`` and ``channel`` (categorical)
        when mapped.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "old"],
    ...                    "timestamp": pd.to_datetime(["2024-03-01", "2024-03-20", "2024-03-25",
    ...                                                 "2023-01-01"]),
    ...                    "amount": [30.0, 12.0, 80.0, 5.0]})
    >>> early_life_features(tx, observation_end="2024-03-31")[
    ...     ["age_days", "first_amount", "early_amount", "days_since_last"]]
                 age_days  first_amount  early_amount  days_since_last
    customer_id
    a                30.0          30.0          12.0             11.0
    b                 6.0          80.0           0.0              6.0
    """
    if isinstance(max_age_days, bool) or not isinstance(max_age_days, (int, np.integer)):
        raise ValueError(f"max_age_days must be a whole number of days, got {max_age_days!r}")
    if max_age_days < 0:
        raise ValueError(f"max_age_days must be >= 0, got {max_age_days}")
    validated = _validated(tx, schema, observation_end, refunds, duplicates)
    end = int(validated.end_day.astype("datetime64[D]").astype(np.int64))
    age = end - _first_days(validated)
    eligible = np.flatnonzero(age <= max_age_days)
    return _rows_at(validated, age[eligible], eligible)


def make_early_life_dataset(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    horizon_days: int = 365,
    ages: Sequence[int] = (0, 7, 14, 30, 60, 90),
    acquired_from: Any = None,
    acquired_until: Any = None,
    observation_end: Any = None,
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> tuple[pd.DataFrame, pd.Series]:
    """Build training rows: what was known at each age, and the value in the horizon after it.

    For every customer acquired in ``[acquired_from, acquired_until]`` and
    every age ``a`` in ``ages``, one row holds the features of
    :func:`early_life_features` as they stood ``a`` days after the first
    purchase, and the label is the net amount spent in the ``horizon_days``
    after that day. Only rows whose label window ends by the observation end
    are kept, so no label is cut short and nothing after the observation end
    is read.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    horizon_days : int, default=365
        Length of the label window, in days.
    ages : sequence of int, default=(0, 7, 14, 30, 60, 90)
        Ages (days since the first purchase) to take rows at; 0 is the day
        of the first order.
    acquired_from, acquired_until : date-like, optional
        The cohorts to use (first purchase days, inclusive); default every
        customer whose label window fits.
    observation_end : date-like, optional
        Last day of the data, inclusive.
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies of :func:`~custintel.validate_transactions`.

    Returns
    -------
    X : pandas.DataFrame
        One row per customer and age, indexed by ``customer_id`` (repeated
        once per age), columns as :func:`early_life_features`.
    y : pandas.Series
        Named ``future_value``: the amount in ``(age, age + horizon_days]``
        days after the first purchase.

    Raises
    ------
    SchemaError
        When no customer has a label window that fits in the data.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-03-01",
    ...                                                 "2024-01-02"]),
    ...                    "amount": [30.0, 12.0, 50.0, 80.0]})
    >>> X, y = make_early_life_dataset(tx, horizon_days=30, ages=(0, 7),
    ...                                observation_end="2024-03-31")
    >>> pd.concat([X[["age_days", "early_amount"]], y], axis=1)
                 age_days  early_amount  future_value
    customer_id
    a                 0.0           0.0          12.0
    b                 0.0           0.0           0.0
    a                 7.0          12.0           0.0
    b                 7.0           0.0           0.0
    """
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, (int, np.integer)):
        raise ValueError(f"horizon_days must be a whole number of days, got {horizon_days!r}")
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be >= 1, got {horizon_days}")
    checked_ages = sorted({int(a) for a in ages})
    if not checked_ages or checked_ages[0] < 0:
        raise ValueError(f"ages must be days >= 0, got {list(ages)!r}")
    validated = _validated(tx, schema, observation_end, refunds, duplicates)
    end = int(validated.end_day.astype("datetime64[D]").astype(np.int64))
    first = _first_days(validated)
    in_cohort = np.ones(len(first), dtype=bool)
    for bound, keep in ((acquired_from, np.greater_equal), (acquired_until, np.less_equal)):
        if bound is not None:
            day = int(np.datetime64(pd.Timestamp(bound).date(), "D").astype(np.int64))
            in_cohort &= keep(first, day)
    codes = validated.customer_codes
    offset = validated.days.astype(np.int64) - first[codes]
    amount = validated.values("amount", np.float64)
    frames, labels = [], []
    for age in checked_ages:
        eligible = np.flatnonzero(in_cohort & (first + age + horizon_days <= end))
        if len(eligible) == 0:
            continue
        rows = _rows_at(validated, np.full(len(eligible), age), eligible)
        window = (offset > age) & (offset <= age + horizon_days)
        value = np.bincount(codes[window], weights=amount[window], minlength=len(first))
        frames.append(rows)
        labels.append(pd.Series(value[eligible], index=rows.index, name="future_value"))
    if not frames:
        raise SchemaError(
            f"no customer has {horizon_days} days of data after the ages {checked_ages}: the "
            "data end too soon after the cohorts' first purchases; use a shorter "
            "horizon_days, earlier cohorts (acquired_until=...), or more history",
            reason="no_label_window",
        )
    return pd.concat(frames), pd.concat(labels)
