"""``calibration_holdout_split``: customer rows for a calibration/holdout check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel._validation import to_day
from custintel.backends import (
    HOLDOUT_AGGREGATES,
    TimeUnit,
    add_holdout_columns,
    check_calibration_end,
    money,
    unit_days,
)
from custintel.features._engines import in_every_engine
from custintel.features._occasions import customer_totals
from custintel.features._summary import summary_from_validated
from custintel.schema import TransactionSchema, validated_transactions
from custintel.typing import TransactionsLike

__all__ = ["calibration_holdout_split"]


@in_every_engine("calibration_holdout_split")
def calibration_holdout_split(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    time_unit: TimeUnit = "D",
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    """Summarise a calibration period and count what happened in the holdout.

    Parameters
    ----------
    tx, schema
        Transactions (pandas, Polars, DuckDB or Spark) and their column mapping, as in
        :func:`~custintel.features.summarize_customers`.
    calibration_end : date-like
        Last day of the calibration period, inclusive.
    observation_end : date-like, optional
        Last day of the holdout period, inclusive. Defaults to the day of the
        latest transaction.
    time_unit : {"D", "W"}, default="D"
        Unit of ``recency``, ``T`` and ``duration_holdout``.
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies of :func:`~custintel.validate_transactions`.

    Returns
    -------
    pandas.DataFrame
        One row per customer with a purchase in the calibration period,
        indexed by ``customer_id``: every column of
        :func:`~custintel.features.summarize_customers` computed on the
        calibration period (with ``observation_end=calibration_end``), plus

        - ``frequency_holdout``: purchase occasions (days) in the holdout;
        - ``monetary_value_holdout``: mean spend per holdout occasion, 0 if
          there is none;
        - ``duration_holdout``: length of the holdout in ``time_unit``.

    Notes
    -----
    Matches lifetimes' ``calibration_and_holdout_data`` on the calibration
    columns and ``frequency_holdout``. lifetimes averages
    ``monetary_value_holdout`` over raw rows, while custintel averages over
    purchase occasions (same-day rows summed), the same definition as
    ``monetary_value``; the two agree whenever each customer has at most one
    row per day.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-02-03", "2024-02-01"]),
    ...     "amount": [10.0, 4.0, 6.0, 3.0],
    ... })
    >>> split = calibration_holdout_split(
    ...     tx, calibration_end="2024-01-31", observation_end="2024-02-29")
    >>> split[["frequency", "recency", "T", "frequency_holdout", "duration_holdout"]]
                 frequency  recency     T  frequency_holdout  duration_holdout
    customer_id
    1                    1      4.0  30.0                  1              29.0
    """
    scale = unit_days(time_unit)
    validated = validated_transactions(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )
    calibration_day = to_day(calibration_end, "calibration_end")
    days = validated.days
    end = int(validated.end_day.astype(np.int64))
    check_calibration_end(calibration_day, int(days.min()), end)
    calibration = int(calibration_day.astype(np.int64))
    in_calibration = days <= calibration
    summary = summary_from_validated(validated, calibration_day, scale, rows=in_calibration)

    holdout = customer_totals(validated, ~in_calibration, aggregates=HOLDOUT_AGGREGATES)
    codes = validated.customers.get_indexer(summary.index)
    count, spend = holdout["n_occ"][codes], money(holdout.values, "total_spend")[codes]
    add_holdout_columns(
        summary, count, spend, calibration_end=calibration, observation_end=end, time_unit=time_unit
    )
    return summary
