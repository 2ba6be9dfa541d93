"""``summarize_customers``: the one place transactions become customer rows."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel._validation import ValidatedTransactions
from custintel.exceptions import DataQualityWarning
from custintel.features._occasions import TimeUnit, customer_totals, unit_days
from custintel.schema import TransactionSchema, validated_transactions

__all__ = ["SUMMARY_COLUMNS", "summarize_customers"]

#: Columns of :func:`summarize_customers`, always present, in this order.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "n_orders",
    "total_amount",
    "days_since_last",
    "tenure_days",
    "gap_mean_days",
    "gap_std_days",
    "first_purchase",
    "last_purchase",
)


def summarize_customers(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    observation_end: Any = None,
    time_unit: TimeUnit = "D",
    refunds: Literal["net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    r"""Summarise a transaction log into one row per customer.

    Parameters
    ----------
    tx : pandas.DataFrame, polars DataFrame or LazyFrame, DuckDB relation or Spark DataFrame
        Transactions; validated with :func:`~custintel.validate_transactions`. Non-pandas
        input is computed inside its own engine (see "When you outgrow one machine") and
        gives the same pandas result.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    observation_end : date-like, optional
        Last day observed, inclusive. Defaults to the day of the latest
        transaction. Later transactions are dropped with a warning.
    time_unit : {"D", "W"}, default="D"
        Unit of ``recency`` and ``T``: days, or fractional weeks
        (days / 7) as in Fader and Hardie's papers.
    refunds : {"net", "drop", "raise"}, default="net"
        Policy for negative amounts; see :func:`~custintel.validate_transactions`.
    duplicates : {"warn", "keep", "drop", "raise"}, default="warn"
        Policy for exact duplicate rows; see :func:`~custintel.validate_transactions`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (ascending), with the columns in
        :data:`SUMMARY_COLUMNS`, plus ``total_quantity`` when quantity is
        mapped and ``total_margin`` when cost or margin is mapped.
        ``attrs`` records ``observation_end`` (ISO date) and ``time_unit``.

    Notes
    -----
    A *purchase occasion* is a calendar day on which the customer has at least
    one row with a non-negative amount; rows on the same day are one occasion
    whose spend is their sum. Refund rows (negative amounts, kept under
    ``refunds="net"``) never create an occasion.

    BTYD columns follow lifetimes' ``summary_data_from_transaction_data``:

    - ``frequency``: number of repeat occasions, :math:`x = n_{occ} - 1`.
    - ``recency``: time from the first to the last occasion, :math:`t_x`.
    - ``T``: time from the first occasion to ``observation_end``.
    - ``monetary_value``: mean spend of the repeat occasions (the first is
      excluded), 0 when ``frequency`` is 0.

    Profile columns, always in days whatever ``time_unit`` is:

    - ``n_orders``: distinct ``order_id`` values with a purchase, or purchase
      rows when no order id is mapped.
    - ``total_amount``: sum of all amounts, net of refunds.
    - ``days_since_last``: days from the last occasion to ``observation_end``
      (this is RFM recency, not BTYD ``recency``).
    - ``tenure_days``: days from the first occasion to ``observation_end``.
    - ``gap_mean_days`` and ``gap_std_days``: mean and sample standard
      deviation of the days between consecutive occasions; NaN with fewer
      than one (mean) or two (std) gaps.
    - ``first_purchase`` and ``last_purchase``: days of the first and last
      occasion.

    Customers whose every row is a refund have no occasion; they are left out
    with a :class:`~custintel.exceptions.DataQualityWarning`.

    Examples
    --------
    Customer ``a`` buys on days 1, 1 (same day) and 8, customer ``b`` once:

    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-08", "2024-01-05"]),
    ...     "amount": [10.0, 5.0, 20.0, 7.0],
    ... })
    >>> s = summarize_customers(tx, observation_end="2024-01-10")
    >>> s[["frequency", "recency", "T", "monetary_value", "n_orders", "days_since_last"]]
                 frequency  recency    T  monetary_value  n_orders  days_since_last
    customer_id
    a                    1      7.0  9.0            20.0         3                2
    b                    0      0.0  5.0             0.0         1                5
    """
    if not isinstance(tx, pd.DataFrame):  # Polars, DuckDB, Spark: run inside the engine
        from custintel.backends import dispatch

        return dispatch(
            "summarize_customers",
            tx,
            schema,
            observation_end=observation_end,
            time_unit=time_unit,
            refunds=refunds,
            duplicates=duplicates,
        )
    scale = unit_days(time_unit)
    validated = validated_transactions(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )
    summary = summary_from_validated(validated, validated.end_day, scale)
    summary.attrs.update({"observation_end": str(validated.end_day), "time_unit": time_unit})
    return summary


def summary_from_validated(
    validated: ValidatedTransactions,
    end_day: np.datetime64,
    scale: float,
    rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """Build the customer summary from validated transactions.

    Parameters
    ----------
    validated : ValidatedTransactions
        Output of the internal validation.
    end_day : numpy.datetime64
        Observation end (a calendar day).
    scale : float
        Days per time unit.
    rows : numpy.ndarray of bool, optional
        Restrict to these rows (e.g. a calibration period).

    Returns
    -------
    pandas.DataFrame
    """
    totals = customer_totals(validated, rows)
    present = np.flatnonzero(totals.n_occasions > 0)
    end = int(end_day.astype(np.int64))
    n_occasions = totals.n_occasions[present]
    first_day, last_day = totals.first_day[present], totals.last_day[present]

    frequency = n_occasions - 1
    repeat_spend = totals.total_spend[present] - totals.first_spend[present]
    monetary = np.divide(repeat_spend, frequency, out=np.zeros(len(present)), where=frequency > 0)
    recency_days = (last_day - first_day).astype(np.float64)
    gap_mean = np.divide(
        recency_days, frequency, out=np.full(len(present), np.nan), where=frequency > 0
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = (totals.gap_sum_sq[present] - frequency * gap_mean**2) / (frequency - 1)
    gap_std = np.where(frequency >= 2, np.sqrt(np.clip(variance, 0.0, None)), np.nan)

    columns: dict[str, Any] = {
        "frequency": frequency,
        "recency": recency_days / scale,
        "T": (end - first_day).astype(np.float64) / scale,
        "monetary_value": monetary,
        "n_orders": totals.n_orders[present],
        "total_amount": totals.net_amount[present],
        "days_since_last": end - last_day,
        "tenure_days": end - first_day,
        "gap_mean_days": gap_mean,
        "gap_std_days": gap_std,
        "first_purchase": first_day.astype("datetime64[D]").astype("datetime64[ns]"),
        "last_purchase": last_day.astype("datetime64[D]").astype("datetime64[ns]"),
    }
    if totals.net_quantity is not None:
        columns["total_quantity"] = totals.net_quantity[present]
    if totals.net_margin is not None:
        columns["total_margin"] = totals.net_margin[present]

    refund_only = int(totals.has_rows.sum()) - len(present)
    if refund_only:
        warnings.warn(
            f"{refund_only:,} customers have only refund rows and no purchase; "
            "they are left out of the customer summary.",
            DataQualityWarning,
            stacklevel=3,
        )
    return pd.DataFrame(columns, index=validated.customers[present], copy=False)
