"""``repeat_purchase_timeline``: repeat purchases per period, for tracking plots."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel.backends import TimeUnit, unit_days
from custintel.schema import TransactionSchema, validated_transactions
from custintel.typing import TransactionsLike

__all__ = ["repeat_purchase_timeline"]


def repeat_purchase_timeline(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    observation_end: Any = None,
    time_unit: TimeUnit = "W",
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    """Count repeat purchase occasions per period since the first transaction.

    The actual series behind a cumulative tracking plot: the model's
    counterpart is
    :meth:`~custintel.clv.BetaGeoModel.expected_cumulative_purchases`, fed with
    each customer's first purchase from the ``first_purchase`` column of
    :func:`~custintel.summarize_customers`.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    observation_end : date-like, optional
        Last day, inclusive; defaults to the latest transaction's day.
    time_unit : {"D", "W"}, default="W"
        Period length: a day, or a week of 7 days.
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies of :func:`~custintel.validate_transactions`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` (1, 2, ...: the period ending ``period`` time
        units after the first day of data), with ``repeat_purchases`` in that
        period and their ``cumulative`` sum. Purchase occasions (customer-days)
        count, as in :func:`~custintel.summarize_customers`; each customer's
        first occasion is not a repeat purchase.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-10",
    ...                                  "2024-01-02", "2024-01-16"]),
    ...     "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
    ... })
    >>> repeat_purchase_timeline(tx, time_unit="W")
            repeat_purchases  cumulative
    period
    1                      1           1
    2                      1           2
    3                      1           3
    """
    scale = unit_days(time_unit)
    validated = validated_transactions(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )
    codes, days = validated.customer_codes, validated.days
    purchase = validated.columns["amount"].to_numpy(dtype=np.float64)[validated.order] >= 0
    codes, days = codes[purchase], days[purchase]
    opens = np.ones(len(codes), dtype=bool)
    opens[1:] = (codes[1:] != codes[:-1]) | (days[1:] != days[:-1])
    first = np.ones(len(codes), dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    repeat_days = days[opens & ~first]
    start = int(days.min())
    end = int(validated.end_day.astype(np.int64))
    n_periods = int(np.ceil((end - start + 1) / scale))
    period = np.floor((repeat_days - start) / scale).astype(np.int64)
    counts = np.bincount(period, minlength=n_periods)[:n_periods]
    return pd.DataFrame(
        {"repeat_purchases": counts, "cumulative": np.cumsum(counts)},
        index=pd.RangeIndex(1, n_periods + 1, name="period"),
    )
