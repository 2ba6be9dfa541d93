"""Sort-based numpy kernels shared by the customer feature builders.

All functions take arrays that are sorted by customer code and then by time,
as produced by :func:`custintel.schema.validate_transactions`, and never loop
over customers in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

TimeUnit = Literal["D", "W"]
_UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0}


def unit_days(time_unit: str) -> float:
    """Length of ``time_unit`` in days.

    Parameters
    ----------
    time_unit : {"D", "W"}
        Days, or weeks of 7 days (fractional, as in Fader and Hardie's papers).

    Returns
    -------
    float
    """
    try:
        return _UNIT_DAYS[time_unit]
    except KeyError:
        raise ValueError(
            f"time_unit must be 'D' (days) or 'W' (weeks of 7 days), got {time_unit!r}"
        ) from None


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """Positions where any of the sorted ``keys`` changes value (runs of equal keys).

    Parameters
    ----------
    *keys : numpy.ndarray
        Arrays of equal length; the rows are sorted so that equal key tuples
        are adjacent.

    Returns
    -------
    numpy.ndarray
        Start index of each run; the first element is 0 when the arrays are
        not empty.
    """
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


@dataclass(frozen=True)
class Occasions:
    """Purchase occasions: one per customer and calendar day with a purchase.

    Attributes
    ----------
    code : numpy.ndarray
        Customer code of each occasion, non-decreasing.
    day : numpy.ndarray
        Day number (days since 1970-01-01) of each occasion, increasing
        within a customer.
    spend : numpy.ndarray
        Sum of the purchase amounts on that day.
    """

    code: np.ndarray
    day: np.ndarray
    spend: np.ndarray


def purchase_occasions(codes: np.ndarray, days: np.ndarray, amounts: np.ndarray) -> Occasions:
    """Collapse purchase rows into one occasion per customer-day.

    Rows with a negative amount are refunds: they never create an occasion
    and are not part of the occasion's spend.

    Parameters
    ----------
    codes, days, amounts : numpy.ndarray
        Per-row customer code, day number and amount, sorted by code then day.

    Returns
    -------
    Occasions
    """
    purchase = amounts >= 0
    if not purchase.all():
        codes, days, amounts = codes[purchase], days[purchase], amounts[purchase]
    starts = run_starts(codes, days)
    spend = np.add.reduceat(amounts, starts) if len(starts) else amounts[:0]
    return Occasions(code=codes[starts], day=days[starts], spend=spend)


@dataclass(frozen=True)
class CustomerOccasionStats:
    """Per-customer statistics of purchase occasions, for customers with one or more.

    Attributes
    ----------
    code : numpy.ndarray
        Customer codes, increasing.
    n_occasions, first_day, last_day : numpy.ndarray
        Occasion count and first and last occasion day.
    first_spend, total_spend : numpy.ndarray
        Spend on the first occasion and on all occasions.
    gap_std : numpy.ndarray
        Sample standard deviation (ddof=1) of the gaps between consecutive
        occasions, in days; NaN for fewer than two gaps.
    """

    code: np.ndarray
    n_occasions: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    first_spend: np.ndarray
    total_spend: np.ndarray
    gap_std: np.ndarray


def occasion_stats(occasions: Occasions) -> CustomerOccasionStats:
    """Aggregate occasions per customer with sort-based reductions.

    Parameters
    ----------
    occasions : Occasions

    Returns
    -------
    CustomerOccasionStats
    """
    starts = run_starts(occasions.code)
    ends = np.append(starts[1:], len(occasions.code))
    count = ends - starts
    first_day = occasions.day[starts]
    last_day = occasions.day[ends - 1]

    # Gaps between consecutive occasions of the same customer; the first
    # occasion of each customer has no gap and contributes zeros.
    gaps = np.zeros(len(occasions.day), dtype=np.float64)
    gaps[1:] = occasions.day[1:] - occasions.day[:-1]
    gaps[starts] = 0.0
    n_gaps = count - 1
    sum_sq = np.add.reduceat(gaps * gaps, starts) if len(starts) else gaps[:0]
    mean = np.divide(last_day - first_day, n_gaps, out=np.zeros(len(starts)), where=n_gaps > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = (sum_sq - n_gaps * mean * mean) / (n_gaps - 1)
    gap_std = np.where(n_gaps >= 2, np.sqrt(np.clip(variance, 0.0, None)), np.nan)

    total_spend = np.add.reduceat(occasions.spend, starts) if len(starts) else occasions.spend[:0]
    return CustomerOccasionStats(
        code=occasions.code[starts],
        n_occasions=count,
        first_day=first_day,
        last_day=last_day,
        first_spend=occasions.spend[starts],
        total_spend=total_spend,
        gap_std=gap_std,
    )
