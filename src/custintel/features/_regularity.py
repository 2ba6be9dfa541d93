"""Timing regularity: the ``litt`` statistic of MBG/CNBD-k and Wheat and Morrison's estimator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel._validation import ValidatedTransactions, to_day
from custintel.backends import TimeUnit, unit_days
from custintel.exceptions import SchemaError
from custintel.schema import TransactionSchema, validated_transactions
from custintel.typing import TransactionsLike

__all__ = ["add_litt", "estimate_regularity", "inter_purchase_log_sum"]


def _occasion_gaps(
    validated: ValidatedTransactions, last_day: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return, per purchase occasion after a customer's first, its customer code and gap in days.

    Occasions are those of :func:`~custintel.features.summarize_customers`: a
    customer-day with at least one row of non-negative amount. Also returns the
    number of occasions of each customer code.
    """
    codes = validated.customer_codes
    days = validated.days.astype(np.int64)
    keep = validated.values("amount", np.float64) >= 0
    if last_day is not None:
        keep &= days <= last_day
    codes, days = codes[keep], days[keep]
    # Rows are sorted by customer, then time: an occasion opens where the pair changes.
    opens = np.ones(len(codes), dtype=bool)
    if len(codes) > 1:
        opens[1:] = (codes[1:] != codes[:-1]) | (days[1:] != days[:-1])
    codes, days = codes[opens], days[opens]
    repeat = np.zeros(len(codes), dtype=bool)
    if len(codes) > 1:
        repeat[1:] = codes[1:] == codes[:-1]
    gaps = np.zeros(len(codes), dtype=np.int64)
    if len(codes) > 1:
        gaps[1:] = days[1:] - days[:-1]
    n_occasions = np.bincount(codes, minlength=len(validated.customers))
    return codes[repeat], gaps[repeat], n_occasions


def inter_purchase_log_sum(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    observation_end: Any = None,
    time_unit: TimeUnit = "D",
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.Series:
    r"""Sum, per customer, the logs of the times between consecutive purchase occasions.

    This is ``litt``, the statistic the MBG/CNBD-k model needs besides
    ``frequency``, ``recency`` and ``T`` (BTYDplus' ``elog2cbs``), on the
    occasions of :func:`summarize_customers` (one per customer and day) and
    in the same time unit.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions; validated with :func:`~custintel.validate_transactions`.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    observation_end : date-like, optional
        Last day counted, inclusive (later purchases are dropped with a
        warning, as in :func:`summarize_customers`).
    time_unit : {"D", "W"}, default="D"
        Unit of the gaps.
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies, as for :func:`summarize_customers`.

    Returns
    -------
    pandas.Series
        ``litt`` indexed by ``customer_id`` like :func:`summarize_customers`
        (0 for one-time buyers).

    Notes
    -----
    :math:`\mathrm{litt} = \sum_{i=1}^{x} \log(t_i - t_{i-1})`, the times in
    ``time_unit``. Occasions are calendar days, so every gap is at least a
    day; by the inequality of arithmetic and geometric means
    :math:`\mathrm{litt} \le x \log(t_x / x)`.

    Examples
    --------
    Customer ``a`` buys on days 0, 2 and 8 (gaps 2 and 6), ``b`` once:

    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-09", "2024-01-05"]),
    ...     "amount": [10.0, 5.0, 20.0, 7.0],
    ... })
    >>> inter_purchase_log_sum(tx).round(4).to_dict()  # log 2 + log 6
    {'a': 2.4849, 'b': 0.0}
    """
    scale = unit_days(time_unit)
    validated = validated_transactions(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )
    return _litt(validated, None, scale)


def _litt(validated: ValidatedTransactions, last_day: int | None, scale: float) -> pd.Series:
    codes, gaps, n_occasions = _occasion_gaps(validated, last_day)
    sums = np.bincount(codes, weights=np.log(gaps / scale), minlength=len(validated.customers))
    present = n_occasions > 0
    return pd.Series(sums[present], index=validated.customers[present], name="litt")


def add_litt(
    table: pd.DataFrame,
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    """Return a copy of a customer table with the ``litt`` column of MBG/CNBD-k added.

    The table is the output of :func:`summarize_customers` or
    :func:`calibration_holdout_split` on the same transactions: its
    ``attrs`` give the last day counted (``calibration_end`` for a split,
    else ``observation_end``) and the time unit, so ``litt`` covers exactly
    the purchases behind ``frequency`` and ``recency``.

    Parameters
    ----------
    table : pandas.DataFrame
        Customer rows with ``frequency`` and ``attrs`` ``observation_end`` and
        ``time_unit``.
    tx : pandas.DataFrame
        The transactions the table was built from.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    refunds, duplicates : str, default="net" and "warn"
        The cleaning policies the table was built with.

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``litt`` (replaced if present); the caller's frame is
        not changed.

    Raises
    ------
    SchemaError
        When ``table`` does not record its observation end and time unit, or
        its customers or purchase counts do not match ``tx`` (another
        transaction log, or other cleaning policies).

    Examples
    --------
    >>> import pandas as pd
    >>> from custintel.features import summarize_customers
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-22", "2024-01-05"]),
    ...     "amount": [10.0, 5.0, 20.0, 7.0],
    ... })
    >>> X = add_litt(summarize_customers(tx, time_unit="W"), tx)
    >>> X[["frequency", "recency", "litt"]].round(4)  # gaps of 1 and 2 weeks: log 1 + log 2
                 frequency  recency    litt
    customer_id
    a                    2      3.0  0.6931
    b                    0      0.0  0.0000
    """
    if not isinstance(table, pd.DataFrame) or "frequency" not in table.columns:
        raise SchemaError(
            "table must be a customer table from summarize_customers or "
            "calibration_holdout_split (with a 'frequency' column)",
            reason="not_a_summary",
        )
    attrs = table.attrs
    end = attrs.get("calibration_end") or attrs.get("observation_end")
    unit = attrs.get("time_unit")
    if end is None or unit is None:
        raise SchemaError(
            "table.attrs does not record its observation end and time unit "
            f"(attrs: {dict(attrs)}); build it with summarize_customers or "
            "calibration_holdout_split, or compute litt with "
            "inter_purchase_log_sum(tx, observation_end=..., time_unit=...)",
            reason="missing_attrs",
        )
    scale = unit_days(unit)
    validated = validated_transactions(tx, schema, refunds=refunds, duplicates=duplicates)
    last_day = int(to_day(end, "observation_end").astype(np.int64))
    codes, gaps, n_occasions = _occasion_gaps(validated, last_day)
    sums = np.bincount(codes, weights=np.log(gaps / scale), minlength=len(validated.customers))
    position = validated.customers.get_indexer(table.index)
    unknown = position < 0
    if unknown.any():
        examples = table.index[unknown][:5].tolist()
        raise SchemaError(
            f"{int(unknown.sum()):,} customers of the table have no transaction in tx "
            f"(e.g. {examples}): pass the transactions the table was built from",
            reason="customer_mismatch",
        )
    expected = table["frequency"].to_numpy(dtype=np.float64) + 1
    found = n_occasions[position]
    differ = found != expected
    if differ.any():
        examples = table.index[differ][:5].tolist()
        raise SchemaError(
            f"{int(differ.sum()):,} customers have another number of purchase occasions in tx "
            f"up to {end} than frequency + 1 in the table (e.g. {examples}): pass the "
            "transactions and the refunds/duplicates policies the table was built with",
            reason="customer_mismatch",
        )
    out = table.copy()
    out["litt"] = sums[position]
    return out


def estimate_regularity(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    observation_end: Any = None,
    min_purchases: int = 3,
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> float:
    r"""Estimate the regularity ``k`` of purchase timing (Wheat and Morrison 1990).

    A quick check, before fitting MBG/CNBD-k, of whether purchase timing is
    more regular than the memoryless timing BG/NBD and Pareto/NBD assume:
    about 1 for Poisson timing, larger for regular rhythms (2 or more is
    where Platzer and Reutterer found MBG/CNBD-k worth it). BTYDplus'
    ``estimateRegularity(method = "wheat")``.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    observation_end : date-like, optional
        Last day counted.
    min_purchases : int, default=3
        Customers with fewer purchase occasions are left out (at least 3 for
        two gaps).
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies, as for :func:`summarize_customers`.

    Returns
    -------
    float
        The estimate of ``k``.

    Raises
    ------
    ValueError
        When fewer than two customers have ``min_purchases`` occasions.

    Notes
    -----
    With a customer's last two gaps :math:`g_1, g_2` and
    :math:`M = g_1 / (g_1 + g_2)`, Erlang-:math:`k` gaps give
    :math:`M \sim \mathrm{Beta}(k, k)` whatever the customer's rate, so
    :math:`\mathrm{Var}(M) = 1 / (4(2k + 1))` and
    :math:`\hat k = (1 - 4 \widehat{\mathrm{Var}}(M)) / (8 \widehat{\mathrm{Var}}(M))`.
    BTYDplus picks one of the two gaps at random for the numerator; here
    both :math:`M` and :math:`1 - M` enter, which estimates the same variance
    without randomness.

    References
    ----------
    .. [1] Wheat, R. D. and Morrison, D. G. (1990), "Estimating Purchase
       Regularity with Two Interpurchase Times", Journal of Marketing
       Research, 27 (1), 87-93.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15",
    ...                                  "2024-01-01", "2024-01-03", "2024-01-10",
    ...                                  "2024-01-01", "2024-01-07", "2024-01-14"]),
    ...     "amount": 1.0,
    ... })
    >>> round(estimate_regularity(tx), 2)
    3.47
    """
    if (
        isinstance(min_purchases, bool)
        or not isinstance(min_purchases, (int, np.integer))
        or min_purchases < 3
    ):
        raise ValueError(f"min_purchases must be a whole number >= 3, got {min_purchases!r}")
    validated = validated_transactions(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )
    codes, gaps, n_occasions = _occasion_gaps(validated, None)
    eligible = n_occasions[codes] >= min_purchases
    codes, gaps = codes[eligible], gaps[eligible].astype(np.float64)
    if len(codes) == 0:
        last = np.zeros(0, dtype=np.int64)
    else:
        # The last gap of each customer ends a run of equal codes.
        last = np.flatnonzero(np.r_[codes[1:] != codes[:-1], True])
    if len(last) < 2:
        raise ValueError(
            f"estimate_regularity needs at least 2 customers with {min_purchases} or more "
            f"purchase occasions (days with a purchase); found {len(last)}"
        )
    share = gaps[last - 1] / (gaps[last - 1] + gaps[last])
    both = np.concatenate([share, 1.0 - share])
    variance = float(np.mean((both - 0.5) ** 2)) * len(both) / (len(both) - 1)
    if variance <= 0:
        return float("inf")
    return (1.0 - 4.0 * variance) / (8.0 * variance)
