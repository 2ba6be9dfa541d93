"""Retention metrics: per-period retention, cohorts, repeat rate, lapse survival, economics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict, Unpack

import numpy as np
import pandas as pd

from custintel.features import active_periods, lapse_durations
from custintel.schema import TransactionSchema

__all__ = [
    "PeriodOptions",
    "ValidationPolicies",
    "churn_rate",
    "cohort_retention",
    "lapse_survival",
    "repeat_purchase_rate",
    "retention_economics",
    "retention_rate",
    "retention_table",
]

_Refunds = Literal["net", "drop", "raise"]
_Duplicates = Literal["warn", "keep", "drop", "raise"]


class ValidationPolicies(TypedDict, total=False):
    """How the transactions are validated, as :func:`~custintel.validate_transactions` does.

    Attributes
    ----------
    refunds : {"net", "drop", "raise"}
        Policy for negative amounts; ``"net"`` when left out.
    duplicates : {"warn", "keep", "drop", "raise"}
        Policy for exact duplicate rows; ``"warn"`` when left out.
    """

    refunds: _Refunds
    duplicates: _Duplicates


class PeriodOptions(ValidationPolicies, total=False):
    """The keyword arguments of :func:`retention_table`, which its summaries pass on.

    Attributes
    ----------
    period : str
        pandas period alias; ``"M"`` when left out.
    """

    period: str


def retention_table(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    period: str = "M",
    **policies: Unpack[ValidationPolicies],
) -> pd.DataFrame:
    """Count active, new and retained customers per period.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions, as :func:`~custintel.validate_transactions` takes them.
    schema : TransactionSchema, dict or None, default=None
        The roles of the columns of ``tx`` (default: the role names).
    period : str, default="M"
        pandas period alias: ``"M"`` months, ``"Q"`` quarters, ``"W"`` weeks...
    **policies
        ``refunds`` and ``duplicates``: the :class:`ValidationPolicies` of
        :func:`~custintel.validate_transactions`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period``: ``active`` (customers with a purchase),
        ``new`` (first purchase in the period), ``retained`` (active in the
        previous period and in this one), ``retention_rate`` = retained /
        active in the previous period and ``churn_rate`` = 1 -
        ``retention_rate`` (NaN for the first period). Periods without any
        purchase are listed with zeros.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 1, 3, 3],
    ...                    "timestamp": pd.to_datetime(["2024-01-05", "2024-01-09", "2024-02-01",
    ...                                                 "2024-02-10", "2024-03-03"]),
    ...                    "amount": 1.0})
    >>> retention_table(tx)
             active  new  retained  retention_rate  churn_rate
    period
    2024-01       2    2         0             NaN         NaN
    2024-02       2    1         1             0.5         0.5
    2024-03       1    0         1             0.5         0.5
    """
    frame, last = active_periods(tx, schema, period=period, **policies)
    first = frame["period"].min()
    index = pd.period_range(first, last, freq=frame["period"].dt.freq, name="period")
    codes = frame["period"].array.asi8 - first.ordinal
    n = len(index)
    active = np.bincount(codes, minlength=n)
    new = np.bincount(codes[frame["age"].to_numpy() == 0], minlength=n)
    # a row is "retained" when the same customer's previous active period is the one before
    # (rows are sorted by customer, then period)
    customer = frame["customer_id"].to_numpy()
    same = np.r_[False, customer[1:] == customer[:-1]]
    consecutive = same & (np.diff(codes, prepend=codes[0]) == 1)
    retained = np.bincount(codes[consecutive], minlength=n)
    before = np.r_[np.nan, active[:-1].astype(float)]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(before > 0, retained / before, np.nan)
    return pd.DataFrame(
        {
            "active": active,
            "new": new,
            "retained": retained,
            "retention_rate": rate,
            "churn_rate": 1 - rate,
        },
        index=index,
    )


def retention_rate(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    **options: Unpack[PeriodOptions],
) -> pd.Series:
    """Share of each period's active customers who buy again in the next period.

    Parameters
    ----------
    tx, schema, **options
        As for :func:`retention_table` (``period``, ``refunds``, ``duplicates``).

    Returns
    -------
    pandas.Series
        ``retention_rate`` indexed by the later period (see :func:`retention_table`).
    """
    return retention_table(tx, schema, **options)["retention_rate"].iloc[1:]


def churn_rate(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    **options: Unpack[PeriodOptions],
) -> pd.Series:
    """Return the churn rate: the share of active customers who do not buy in the next period.

    It is ``1 -`` :func:`retention_rate`, from the same :func:`retention_table`
    (``tx``, ``schema`` and ``**options`` as there).

    Returns
    -------
    pandas.Series
        ``churn_rate``, indexed by the later period.
    """
    return retention_table(tx, schema, **options)["churn_rate"].iloc[1:]


def cohort_retention(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    period: str = "M",
    normalize: bool = False,
    **policies: Unpack[ValidationPolicies],
) -> pd.DataFrame:
    """Tabulate acquisition cohorts against periods since acquisition.

    Parameters
    ----------
    tx, schema, **policies
        As for :func:`retention_table`.
    period : str, default="M"
        pandas period alias of cohorts and ages.
    normalize : bool, default=False
        False: counts of customers of the cohort active ``k`` periods after
        their first; True: those counts divided by the cohort size (column 0).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``cohort`` (first purchase period), one column per
        ``periods_since`` 0, 1, ...; NaN where the period lies after the data.

    Examples
    --------
    >>> import pandas as pd
    >>> days = ["2024-01-05", "2024-01-09", "2024-02-01", "2024-02-10", "2024-03-03"]
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 1, 3, 3], "amount": 1.0,
    ...                    "timestamp": pd.to_datetime(days)})
    >>> cohort_retention(tx)
    periods_since    0    1    2
    cohort
    2024-01        2.0  1.0  0.0
    2024-02        1.0  1.0  NaN
    >>> cohort_retention(tx, normalize=True)
    periods_since    0    1    2
    cohort
    2024-01        1.0  0.5  0.0
    2024-02        1.0  1.0  NaN
    """
    frame, last = active_periods(tx, schema, period=period, **policies)
    counts = pd.crosstab(frame["cohort"], frame["age"]).astype(float)
    cohorts = pd.period_range(frame["cohort"].min(), last, freq=last.freq)
    ages = np.arange(len(cohorts))
    counts = counts.reindex(index=cohorts, columns=ages, fill_value=0.0)
    observable = (last.ordinal - cohorts.asi8)[:, None] >= ages[None, :]
    counts = counts.where(observable)
    counts = counts.loc[counts[0] > 0]
    counts.index.name = "cohort"
    counts.columns.name = "periods_since"
    if normalize:
        counts = counts.div(counts[0], axis=0)
    return counts


def repeat_purchase_rate(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    **policies: Unpack[ValidationPolicies],
) -> float:
    """Share of customers with at least two purchase occasions (days).

    Parameters
    ----------
    tx, schema, **policies
        As for :func:`retention_table`.

    Returns
    -------
    float
        Customers with ``frequency >= 1`` over all customers.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [(1, "2024-01-01"), (1, "2024-01-02"), (2, "2024-01-01"), (3, "2024-01-01"),
    ...         (3, "2024-01-01")]
    >>> tx = pd.DataFrame(rows, columns=["customer_id", "timestamp"]).assign(amount=1.0)
    >>> repeat_purchase_rate(tx, duplicates="keep")  # 3 bought twice on one day: one occasion
    0.3333333333333333
    """
    from custintel.features import summarize_customers

    summary = summarize_customers(tx, schema, **policies)
    return float((summary["frequency"] >= 1).mean())


def lapse_survival(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    lapse_days: int,
    observation_end: Any = None,
    **policies: Unpack[ValidationPolicies],
) -> pd.DataFrame:
    r"""Estimate the survival curve of time to lapse (Kaplan-Meier).

    Parameters
    ----------
    tx, schema, **policies
        As for :func:`retention_table`.
    lapse_days : int
        A customer lapses once this many days pass without a purchase.
    observation_end : date-like, optional
        End of observation; defaults to the last transaction's day.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``days`` since the first purchase (0 and each lapse time):
        ``at_risk``, ``lapsed``, ``censored`` and ``survival``, the share of
        customers not yet lapsed.

    Notes
    -----
    Customers who have not lapsed by the end of observation are censored
    there. :math:`S(t) = \prod_{t_i \le t} (1 - d_i / n_i)` with :math:`d_i`
    lapses among the :math:`n_i` customers at risk at :math:`t_i`.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-01",
    ...                                                 "2024-01-28"]),
    ...                    "amount": 1.0})
    >>> lapse_survival(tx, lapse_days=10)  # 1 lapses at day 14, 2 at day 10, 3 is censored at 0
          at_risk  lapsed  censored  survival
    days
    0           3       0         1       1.0
    10          2       1         0       0.5
    14          1       1         0       0.0
    """
    durations = lapse_durations(
        tx, schema, lapse_days=lapse_days, observation_end=observation_end, **policies
    )
    time = durations["duration_days"].to_numpy()
    event = durations["lapsed"].to_numpy()
    times = np.union1d([0], time)
    lapsed = np.bincount(np.searchsorted(times, time[event]), minlength=times.size)
    total = np.bincount(np.searchsorted(times, time), minlength=times.size)
    censored = total - lapsed
    at_risk = len(time) - np.r_[0, np.cumsum(total)[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1 - lapsed / at_risk, 1.0)
    table = pd.DataFrame(
        {
            "at_risk": at_risk,
            "lapsed": lapsed.astype(np.int64),
            "censored": censored.astype(np.int64),
            "survival": np.cumprod(factor),
        },
        index=pd.Index(times, name="days"),
    )
    return table.loc[(table["lapsed"] > 0) | (table.index == 0)]


def retention_economics(
    *,
    customers: float,
    churn_rate: float,
    churn_reduction: float,
    clv: float,
    margin: float = 1.0,
    acquisition_cost: float,
    cost_ratio: float = 5.0,
) -> pd.Series:
    """Estimate what a reduction in churn is worth, under assumptions you set.

    Parameters
    ----------
    customers : float
        Customers at the start of the period.
    churn_rate : float
        Share of them expected to churn in the period, in [0, 1].
    churn_reduction : float
        Relative cut in churn the programme achieves, in [0, 1] (0.1 = churn
        falls by 10%, e.g. from 30% to 27%).
    clv : float
        Lifetime value of a customer kept, in revenue (or margin with
        ``margin=1``), e.g. the mean of :meth:`custintel.clv.CLVModel.predict_clv`.
    margin : float, default=1.0
        Margin on ``clv``, in [0, 1].
    acquisition_cost : float
        Cost of acquiring one new customer.
    cost_ratio : float, default=5.0
        Acquisition cost over retention cost: keeping a customer is assumed to
        cost ``acquisition_cost / cost_ratio``. The often quoted rule of thumb
        is 5 (4 to 8); it is an assumption, not a fact: set your own.

    Returns
    -------
    pandas.Series
        ``customers_kept`` (customers × churn_rate × churn_reduction),
        ``value_kept`` (kept × clv × margin), ``retention_cost`` (kept ×
        acquisition_cost / cost_ratio), ``replacement_cost`` (what acquiring
        as many new customers would cost), ``net_value`` (value_kept -
        retention_cost) and ``roi`` (net_value / retention_cost).

    Notes
    -----
    Two rules of thumb are widely cited: acquiring a customer costs about 5
    (4 to 8) times as much as keeping one, and a 5% gain in loyalty raises
    profit by 25 to 85% (Reichheld and Sasser, 1990). Both come from
    particular industries and years. Treat them as defaults to replace with
    your own costs.

    References
    ----------
    Reichheld, F. F. and Sasser, W. E. (1990). Zero defections: quality comes
    to services. *Harvard Business Review*, 68(5), 105-111.

    Examples
    --------
    >>> retention_economics(customers=10_000, churn_rate=0.3, churn_reduction=0.1,
    ...                     clv=200.0, margin=0.25, acquisition_cost=50.0)
    customers_kept        300.0
    value_kept          15000.0
    retention_cost       3000.0
    replacement_cost    15000.0
    net_value           12000.0
    roi                     4.0
    dtype: float64
    """
    values = {
        "customers": customers,
        "clv": clv,
        "acquisition_cost": acquisition_cost,
        "cost_ratio": cost_ratio,
    }
    for name, value in values.items():
        if not np.isfinite(value) or value < 0 or (name == "cost_ratio" and value == 0):
            raise ValueError(f"{name} must be a finite number >= 0 (cost_ratio > 0), got {value!r}")
    for name, value in {
        "churn_rate": churn_rate,
        "churn_reduction": churn_reduction,
        "margin": margin,
    }.items():
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be a share in [0, 1], got {value!r}; e.g. 0.3 for 30%")
    kept = customers * churn_rate * churn_reduction
    retention_cost = kept * acquisition_cost / cost_ratio
    value_kept = kept * clv * margin
    net = value_kept - retention_cost
    return pd.Series(
        {
            "customers_kept": kept,
            "value_kept": value_kept,
            "retention_cost": retention_cost,
            "replacement_cost": kept * acquisition_cost,
            "net_value": net,
            "roi": net / retention_cost if retention_cost > 0 else np.nan,
        }
    )
