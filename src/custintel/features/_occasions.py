"""Sort-based numpy kernels shared by the customer feature builders.

All functions take arrays sorted by customer code and then by time, as held by
the validated transactions, and never loop over customers in Python. They
work in row space and allocate as few row-sized arrays as possible: on large
logs, fresh memory costs as much as the arithmetic.
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


def run_starts(key: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal values in a sorted array.

    Parameters
    ----------
    key : numpy.ndarray
        Sorted (or at least grouped) values.

    Returns
    -------
    numpy.ndarray
        Start index of each run; ``[0, ...]`` when ``key`` is not empty.
    """
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.empty(len(key), dtype=bool)
    change[0] = True
    np.not_equal(key[1:], key[:-1], out=change[1:])
    return np.flatnonzero(change)


@dataclass(frozen=True)
class OccasionStats:
    """Per-customer statistics of purchase occasions, for customers with one or more.

    A purchase occasion is a customer-day with at least one non-negative amount;
    its spend is the sum of those amounts.

    Attributes
    ----------
    code : numpy.ndarray
        Customer codes, increasing.
    n_occasions, first_day, last_day : numpy.ndarray
        Occasion count and first and last occasion day (days since epoch).
    first_spend, total_spend : numpy.ndarray
        Spend on the first occasion and on all occasions.
    gap_std : numpy.ndarray
        Sample standard deviation (ddof=1) of the days between consecutive
        occasions; NaN for fewer than two gaps.
    """

    code: np.ndarray
    n_occasions: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    first_spend: np.ndarray
    total_spend: np.ndarray
    gap_std: np.ndarray


def occasion_stats(codes: np.ndarray, days: np.ndarray, amounts: np.ndarray) -> OccasionStats:
    """Collapse rows into purchase occasions and aggregate them per customer.

    Rows with a negative amount are refunds: they never create an occasion
    and are not part of any occasion's spend.

    Parameters
    ----------
    codes, days, amounts : numpy.ndarray
        Per-row customer code, day number and amount, sorted by code then day.

    Returns
    -------
    OccasionStats
    """
    purchase = amounts >= 0
    if not purchase.all():
        codes, days, amounts = codes[purchase], days[purchase], amounts[purchase]
    n = len(codes)
    starts = run_starts(codes)
    ends = np.append(starts[1:], n).astype(np.int64)
    if n == 0:
        empty = np.zeros(0)
        none = np.zeros(0, dtype=np.int64)
        return OccasionStats(none, none, none, none, empty, empty, empty)

    # A row opens an occasion when its day differs from the previous row's, or
    # when it is the customer's first row.
    opens = np.empty(n, dtype=bool)
    opens[0] = True
    np.not_equal(days[1:], days[:-1], out=opens[1:])
    opens[starts] = True
    n_occasions = np.add.reduceat(opens, starts, dtype=np.int64)
    total_spend = np.add.reduceat(amounts, starts)

    first_day = days[starts]
    last_day = days[ends - 1]

    # Spend of the first occasion: the customer's leading rows on their first
    # day (all rows when there is only one occasion).
    first_spend = total_spend.copy()
    repeaters = np.flatnonzero(n_occasions > 1)
    if len(repeaters):
        on_first_day = days == np.repeat(first_day, ends - starts)
        first_rows = np.add.reduceat(on_first_day, starts, dtype=np.int64)[repeaters]
        del on_first_day
        bounds = np.empty(2 * len(repeaters), dtype=np.int64)
        bounds[0::2] = starts[repeaters]
        bounds[1::2] = starts[repeaters] + first_rows
        first_spend[repeaters] = np.add.reduceat(amounts, bounds)[0::2]

    # Squared gaps between consecutive rows of a customer; rows of one day add 0.
    # int32 squares are exact for gaps under 46,340 days (127 years).
    wide = int(last_day.max() - first_day.min()) >= 46_340
    gaps = np.empty(n, dtype=np.int64 if wide else np.int32)
    np.subtract(days[1:], days[:-1], out=gaps[:-1])
    gaps[ends - 1] = 0  # no gap across customers (nor after the last row)
    np.multiply(gaps, gaps, out=gaps)
    sum_sq = np.add.reduceat(gaps, starts, dtype=np.int64).astype(np.float64)
    del gaps
    n_gaps = n_occasions - 1
    span = (last_day - first_day).astype(np.float64)
    mean = np.divide(span, n_gaps, out=np.zeros(len(starts)), where=n_gaps > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = (sum_sq - n_gaps * mean * mean) / (n_gaps - 1)
    gap_std = np.where(n_gaps >= 2, np.sqrt(np.clip(variance, 0.0, None)), np.nan)
    return OccasionStats(
        code=codes[starts],
        n_occasions=n_occasions,
        first_day=first_day.astype(np.int64),
        last_day=last_day.astype(np.int64),
        first_spend=first_spend,
        total_spend=total_spend,
        gap_std=gap_std,
    )
