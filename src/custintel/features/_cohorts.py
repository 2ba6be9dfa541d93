"""Transaction-level building blocks of the retention metrics: active periods and lapses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel._validation import to_day
from custintel.schema import TransactionSchema, validated_transactions

__all__ = ["active_periods", "lapse_durations"]


def _purchases(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None,
    refunds: Literal["auto", "match", "net", "drop", "raise"],
    duplicates: Literal["warn", "keep", "drop", "raise"],
    observation_end: Any = None,
) -> tuple[pd.DataFrame, np.datetime64]:
    validated = validated_transactions(
        tx, schema, refunds=refunds, duplicates=duplicates, observation_end=observation_end
    )
    purchase = validated.values("amount", float) >= 0
    customer = validated.values("customer_id")[purchase]
    day = validated.days[purchase].astype(np.int64)
    codes = pd.factorize(customer)[0]
    # Validated lines come sorted by customer, then time: a repeated (customer, day)
    # is next to its first line, so one comparison with the previous line finds it.
    step = np.diff(codes) != 0
    if len(codes) < 2 or ((np.diff(codes) >= 0).all() and ((np.diff(day) >= 0) | step).all()):
        first = np.ones(len(codes), dtype=bool)
        first[1:] = step | (np.diff(day) != 0)
        frame = pd.DataFrame({"customer_id": customer[first], "day": day[first]})
    else:  # not in that order (cannot happen today): the general way
        frame = pd.DataFrame({"customer_id": customer, "day": day}).drop_duplicates()
    return frame.reset_index(drop=True), validated.end_day


def active_periods(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    period: str = "M",
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> tuple[pd.DataFrame, pd.Period]:
    """List the periods in which each customer made a purchase.

    Parameters
    ----------
    tx, schema, refunds, duplicates
        The transactions, their column mapping and policies, as in
        :func:`~custintel.features.summarize_customers`.
    period : str, default="M"
        A pandas period alias such as ``"M"``, ``"Q"`` or ``"W"``.

    Returns
    -------
    frame : pandas.DataFrame
        One row per (customer, period) with a purchase occasion: columns
        ``customer_id``, ``period``, ``cohort`` (first purchase period) and
        ``age`` (periods since the cohort).
    last : pandas.Period
        The last observed period.
    """
    frame, end_day = _purchases(tx, schema, refunds, duplicates)
    try:
        periods = pd.PeriodIndex(
            pd.to_datetime(frame["day"].to_numpy().astype("datetime64[D]")), freq=period
        )
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"period must be a pandas period alias such as 'M', 'Q' or 'W', got {period!r}"
        ) from exc
    codes = periods.asi8
    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(), "code": codes})
    out = out.drop_duplicates().sort_values(["customer_id", "code"], kind="stable")
    first = out.groupby("customer_id", sort=False)["code"].transform("min")
    freq = periods.freq
    result = pd.DataFrame(
        {
            "customer_id": out["customer_id"].to_numpy(),
            "period": pd.PeriodIndex.from_ordinals(out["code"].to_numpy(), freq=freq),
            "cohort": pd.PeriodIndex.from_ordinals(first.to_numpy(), freq=freq),
            "age": (out["code"] - first).to_numpy(),
        }
    )
    last = pd.Period(pd.Timestamp(end_day), freq=freq)
    return result.reset_index(drop=True), last


def lapse_durations(
    tx: Any,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    lapse_days: int,
    observation_end: Any = None,
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    """Time from each customer's first purchase to their lapse, or to the end of observation.

    A customer *lapses* the first time ``lapse_days`` pass without a purchase:
    at ``d_k + lapse_days`` for the first occasion ``d_k`` followed by a gap
    longer than ``lapse_days`` (or by the end of observation, when that is
    more than ``lapse_days`` away).

    Parameters
    ----------
    tx, schema, observation_end, refunds, duplicates
        The transactions, their column mapping, last observed day and
        policies, as in :func:`~custintel.features.summarize_customers`.
    lapse_days : int
        Days without a purchase after which a customer has lapsed, > 0.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``: ``duration_days`` (first purchase to lapse,
        or to ``observation_end`` when censored) and ``lapsed`` (bool).
    """
    if (
        isinstance(lapse_days, bool)
        or not isinstance(lapse_days, (int, np.integer))
        or lapse_days <= 0
    ):
        raise ValueError(f"lapse_days must be a whole number of days > 0, got {lapse_days!r}")
    frame, end_day = _purchases(tx, schema, refunds, duplicates, observation_end)
    if observation_end is not None:
        end_day = to_day(observation_end, "observation_end")
    end = int(end_day.astype(np.int64))
    frame = frame.sort_values(["customer_id", "day"], kind="stable")
    customer = frame["customer_id"].to_numpy()
    day = frame["day"].to_numpy()
    starts = np.r_[True, customer[1:] != customer[:-1]]
    group = np.cumsum(starts) - 1
    next_day = np.r_[day[1:], end]
    next_day[np.r_[starts[1:], True]] = end  # the last occasion of a customer looks at the end
    lapses = (next_day - day) > lapse_days
    first_day = day[starts]
    # first occasion followed by a lapse, per customer
    lapse_at = np.full(first_day.size, -1, dtype=np.int64)
    idx = np.flatnonzero(lapses)[::-1]
    lapse_at[group[idx]] = day[idx]  # reversed, so the earliest lapse wins
    lapsed = lapse_at >= 0
    duration = np.where(lapsed, lapse_at + lapse_days - first_day, end - first_day)
    return pd.DataFrame(
        {"duration_days": duration, "lapsed": lapsed},
        index=pd.Index(customer[starts], name="customer_id"),
    )
