"""``summarize_customers``: the one place transactions become customer rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel._validation import ValidatedTransactions
from custintel.backends import (
    TimeUnit,
    summary_columns,
    unit_days,
    warn_refund_only,
)
from custintel.features._engines import in_every_engine
from custintel.features._occasions import CustomerTotals, customer_totals
from custintel.schema import TransactionSchema, validated_transactions
from custintel.typing import TransactionsLike

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


@in_every_engine("summarize_customers")
def summarize_customers(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    observation_end: Any = None,
    time_unit: TimeUnit = "D",
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
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
    refunds : {"auto", "match", "net", "drop", "raise"}, default="net"
        Policy for return lines (negative quantities or amounts); see
        :func:`~custintel.validate_transactions` ("auto" matches returns to purchases when
        item_id or order_id is mapped, else keeps them as refunds, "net").
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
    *,
    totals: CustomerTotals | None = None,
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
    totals : CustomerTotals, optional
        The aggregates of these rows, when the caller computed them (with more
        aggregates, e.g. the churn ones); else computed here.

    Returns
    -------
    pandas.DataFrame
    """
    if totals is None:
        totals = customer_totals(validated, rows)
    present = np.flatnonzero(totals["n_occ"] > 0)
    every = len(present) == len(totals.has_rows)  # no gather when every customer bought
    columns = summary_columns(
        totals.values if every else {name: v[present] for name, v in totals.values.items()},
        end=int(end_day.astype(np.int64)),
        scale=scale,
    )
    warn_refund_only(int(totals.has_rows.sum()) - len(present))
    return pd.DataFrame(columns, index=validated.customers[present], copy=False)
