"""``churn_features`` and ``make_churn_dataset``: leak-free churn features and labels.

The column definitions shared with the engine builders (the gap, ratio and
trend arithmetic, the attribute set, ``p_no_purchase`` and the argument
checks) are imported from :mod:`custintel.backends`, so both paths run one
definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel._validation import ValidatedTransactions, to_day
from custintel.backends import (
    CHURN_ATTRIBUTES,
    CHURN_DROPPED_COLUMNS,
    btyd_no_purchase,
    check_cutoff,
    check_min_history,
    churn_columns,
    churn_days,
    positive_days,
)
from custintel.features._engines import in_every_engine
from custintel.features._profitability import customer_attributes
from custintel.features._summary import summarize_customers
from custintel.schema import TransactionSchema, validated_transactions
from custintel.typing import TransactionsLike

__all__ = ["churn_features", "make_churn_dataset"]

#: Trend window of :func:`churn_features` when neither ``window`` nor ``horizon`` is given.
_DEFAULT_WINDOW = 45


@in_every_engine("make_churn_dataset")
def make_churn_dataset(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    cutoff: Any,
    horizon: int,
    min_history: int = 0,
    window: int | None = None,
    btyd: Any = None,
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> tuple[pd.DataFrame, pd.Series]:
    r"""Build churn features at a cutoff and the label of the following horizon.

    Features use only transactions on or before ``cutoff``; the label looks
    only at purchases in ``(cutoff, cutoff + horizon]``. Customers first seen
    after the cutoff are left out.

    Parameters
    ----------
    tx, schema
        Transactions (pandas, Polars, DuckDB or Spark) and their column mapping, as in
        :func:`~custintel.features.summarize_customers`.
    cutoff : date-like
        Last day of the feature period, inclusive; the label looks at the days after it.
    horizon : int
        Length of the label window in days, > 0. The data must cover it: the
        latest transaction must fall on or after ``cutoff + horizon``.
    min_history : int, default=0
        Keep only customers whose first purchase is at least this many days
        before the cutoff (``tenure_days >= min_history``).
    window : int, optional
        Length in days of the "recent" and "earlier" windows of the trend
        features; defaults to half the horizon (at least one day).
    btyd : {"bgnbd", "mbgnbd", "pareto_nbd"}, estimator or None, default=None
        When given, add ``p_no_purchase``: the BTYD probability of no purchase
        within the horizon, from a model fitted on the cutoff's customers
        (in weeks). An estimator must have ``fit`` and
        ``predict_proba_no_purchase(X, *, t)``; it is cloned.
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies of :func:`~custintel.validate_transactions`.

    Returns
    -------
    X : pandas.DataFrame
        One row per customer with a purchase on or before the cutoff, indexed
        by ``customer_id`` (ascending). Columns:

        - the summary columns of :func:`~custintel.features.summarize_customers`
          at ``observation_end=cutoff`` (without the two date columns);
        - ``last_gap_days``, ``gap_max_days``: latest and longest gap between
          occasions (NaN for one-time buyers);
        - ``recency_to_gap_mean`` = ``days_since_last / gap_mean_days`` and
          ``recency_to_gap_max`` = ``days_since_last / gap_max_days``:
          recency relative to the customer's own rhythm;
        - ``recency_gap_z`` = (``days_since_last`` - ``gap_mean_days``) /
          ``gap_std_days``;
        - ``recency_share`` = ``days_since_last / (tenure_days + 1)``: the
          share of the customer's life spent since the last purchase;
        - ``occasions_recent``, ``occasions_earlier``, ``spend_recent``,
          ``spend_earlier``: occasions and purchase spend in
          ``(cutoff - window, cutoff]`` and ``(cutoff - 2 window, cutoff - window]``;
          ``frequency_trend`` and ``spend_trend`` are recent minus earlier;
        - ``purchase_rate``: occasions per 30 days of tenure (tenure + 1 day);
        - ``mean_spend``: mean spend per occasion, first included;
        - ``customer_type``, ``region``, ``channel`` (categorical) when mapped;
        - ``p_no_purchase`` when ``btyd`` is given.
    y : pandas.Series
        ``churn``: 1 when the customer made no purchase occasion in
        ``(cutoff, cutoff + horizon]``, else 0; indexed like ``X``.

    Raises
    ------
    ValueError
        When ``horizon`` or ``window`` is not a positive whole number of days,
        the cutoff is not inside the data, the horizon runs past the last
        transaction, or no customer is left.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-02-05",
    ...                                  "2024-01-05", "2024-01-25"]),
    ...     "amount": [10.0, 20.0, 5.0, 8.0, 3.0],
    ... })
    >>> X, y = make_churn_dataset(tx, cutoff="2024-01-20", horizon=16)
    >>> X[["frequency", "days_since_last", "last_gap_days"]]
                 frequency  days_since_last  last_gap_days
    customer_id
    1                    1                9           10.0
    2                    0               15            NaN
    >>> y.tolist()
    [0, 1]
    """
    horizon_days, window_days = churn_days(horizon, window, min_history)
    validated, days, cut, cut_day = _at_cutoff(tx, schema, cutoff, refunds, duplicates)
    check_cutoff(cut, cut_day, int(days.min()), int(days.max()), horizon_days)
    X = _features(validated, cut, horizon_days, window_days, min_history, btyd, refunds)
    frame = validated.frame
    amounts = frame["amount"].to_numpy(dtype=float)
    after = (days > cut_day) & (days <= cut_day + horizon_days) & (amounts >= 0)
    buyers = pd.Index(frame["customer_id"].to_numpy()[after]).unique()
    y = pd.Series((~X.index.isin(buyers)).astype(np.int64), index=X.index.copy(), name="churn")
    return X, y


def churn_features(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    cutoff: Any,
    horizon: int | None = None,
    window: int | None = None,
    min_history: int = 0,
    btyd: Any = None,
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    r"""Build the churn features of :func:`make_churn_dataset` at a cutoff, without labels.

    The feature half of :func:`make_churn_dataset`: it uses only transactions
    on or before ``cutoff`` and needs no data after it, so it scores customers
    at the end of the data (e.g. with a classifier trained on
    ``make_churn_dataset`` at an earlier cutoff). For the same arguments,
    ``churn_features(tx, cutoff=c, horizon=h)`` equals
    ``make_churn_dataset(tx, cutoff=c, horizon=h)[0]``.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions; validated with :func:`~custintel.validate_transactions`.
        Other engines (Polars, DuckDB, Spark) are supported by
        :func:`make_churn_dataset` only; convert with ``to_pandas()`` first.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    cutoff : date-like
        Last day of the feature period, inclusive; on or after the first
        transaction. It may lie after the last transaction.
    horizon : int, optional
        Label window in days of the churn model these features feed. It sets
        the default ``window`` (half of it, at least one day) and the
        horizon of ``p_no_purchase``; required when ``btyd`` is given.
    window : int, optional
        Length in days of the "recent" and "earlier" windows of the trend
        features; defaults to half of ``horizon``, or 45 days without one.
    min_history : int, default=0
        Keep only customers whose first purchase is at least this many days
        before the cutoff (``tenure_days >= min_history``).
    btyd : {"bgnbd", "mbgnbd", "pareto_nbd"}, estimator or None, default=None
        When given, add ``p_no_purchase`` as in :func:`make_churn_dataset`.
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies of :func:`~custintel.validate_transactions`.

    Returns
    -------
    pandas.DataFrame
        One row per customer with a purchase on or before the cutoff, indexed
        by ``customer_id`` (ascending), with the columns ``X`` of
        :func:`make_churn_dataset` describes. ``attrs`` holds ``cutoff`` and
        ``window`` (and ``horizon`` when given).

    Raises
    ------
    TypeError
        When ``tx`` is not a pandas DataFrame.
    ValueError
        When ``horizon``, ``window`` or ``min_history`` is not a valid number
        of days, ``btyd`` is given without ``horizon``, the cutoff is before
        the first transaction, or no customer is left.

    Examples
    --------
    The transactions of :func:`make_churn_dataset`'s example, scored after the data ends
    (timestamps may be ISO text):

    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 3],
    ...     "timestamp": ["2024-01-01", "2024-01-11", "2024-02-05", "2024-01-05", "2024-01-25"],
    ...     "amount": [10.0, 20.0, 5.0, 8.0, 3.0],
    ... })
    >>> X = churn_features(tx, cutoff="2024-02-10", horizon=16)
    >>> X[["frequency", "days_since_last", "last_gap_days", "occasions_recent"]]
                 frequency  days_since_last  last_gap_days  occasions_recent
    customer_id
    1                    2                5           25.0               1.0
    2                    0               36            NaN               0.0
    3                    0               16            NaN               0.0
    """
    if not isinstance(tx, pd.DataFrame):
        raise TypeError(
            f"churn_features takes a pandas DataFrame, got {type(tx).__module__}."
            f"{type(tx).__name__}; convert it with to_pandas() first, or use "
            "make_churn_dataset, which runs inside Polars, DuckDB and Spark"
        )
    horizon_days = None if horizon is None else positive_days(horizon, "horizon")
    if window is not None:
        window_days = positive_days(window, "window")
    elif horizon_days is not None:
        window_days = max(horizon_days // 2, 1)
    else:
        window_days = _DEFAULT_WINDOW
    check_min_history(min_history)
    if btyd is not None and horizon_days is None:
        raise ValueError(
            "btyd needs the horizon of p_no_purchase; pass horizon=<days>, e.g. horizon=90"
        )
    validated, days, cut, cut_day = _at_cutoff(tx, schema, cutoff, refunds, duplicates)
    first_day = int(days.min())
    if cut_day < first_day:
        raise ValueError(
            f"cutoff {cut} is before the first transaction on {np.datetime64(first_day, 'D')}, "
            "so no customer has a purchase by then; pick a later cutoff"
        )
    return _features(validated, cut, horizon_days, window_days, min_history, btyd, refunds)


def _at_cutoff(
    tx: pd.DataFrame, schema: Any, cutoff: Any, refunds: str, duplicates: str
) -> tuple[ValidatedTransactions, np.ndarray, np.datetime64, int]:
    """Validate ``tx`` and parse the cutoff: validated rows, their day numbers, the cutoff day."""
    validated = validated_transactions(tx, schema, refunds=refunds, duplicates=duplicates)
    cut = to_day(cutoff, "cutoff")
    return validated, validated.days.astype(np.int64), cut, int(cut.astype(np.int64))


def _features(
    validated: ValidatedTransactions,
    cut: np.datetime64,
    horizon_days: int | None,
    window_days: int,
    min_history: int,
    btyd: Any,
    refunds: Literal["auto", "match", "net", "drop", "raise"],
) -> pd.DataFrame:
    """Return the churn feature table of validated transactions at ``cut``."""
    frame = validated.frame
    days = validated.days.astype(np.int64)
    cut_day = int(cut.astype(np.int64))
    before = days <= cut_day
    pre = frame.loc[before]
    # Duplicates were already reported (or not) by the validation above: "keep" checks nothing.
    X = summarize_customers(pre, observation_end=str(cut), refunds=refunds, duplicates="keep")
    X = X.drop(columns=list(CHURN_DROPPED_COLUMNS))
    X = X.loc[X["tenure_days"] >= min_history]
    if X.empty:
        raise ValueError(
            f"no customer has a purchase at least min_history={min_history} days before the "
            f"cutoff {cut}; pass a later cutoff or a smaller min_history"
        )

    amounts = frame["amount"].to_numpy(dtype=float)
    occasions = _occasions(pre, days[before], amounts[before])
    X = X.join(_gap_features(occasions, X, cut_day, window_days))
    attributes = [role for role in CHURN_ATTRIBUTES if validated.has(role)]
    if attributes:
        attrs = customer_attributes(
            pre, roles=attributes, observation_end=str(cut), refunds=refunds, duplicates="keep"
        )
        for role in attributes:
            # Categories seen only after the cutoff must not show in the dtype.
            X[role] = attrs[role].reindex(X.index).cat.remove_unused_categories()
    if btyd is not None and horizon_days is not None:  # churn_features checks the pair
        X["p_no_purchase"] = btyd_no_purchase(btyd, X, horizon_days)
    X.attrs["cutoff"] = str(cut)
    if horizon_days is not None:
        X.attrs["horizon"] = horizon_days
    X.attrs["window"] = window_days
    return X


def _occasions(pre: pd.DataFrame, days: np.ndarray, amounts: np.ndarray) -> pd.DataFrame:
    """Return one row per purchase occasion (customer, day) with its spend, sorted."""
    purchase = amounts >= 0
    rows = pd.DataFrame(
        {
            "customer_id": pre["customer_id"].to_numpy()[purchase],
            "day": days[purchase],
            "spend": amounts[purchase],
        }
    )
    return (
        rows.groupby(["customer_id", "day"], sort=True, observed=True)["spend"].sum().reset_index()
    )


def _gap_features(
    occasions: pd.DataFrame, X: pd.DataFrame, cut_day: int, window: int
) -> pd.DataFrame:
    customer = occasions["customer_id"].to_numpy()
    day = occasions["day"].to_numpy()
    spend = occasions["spend"].to_numpy()
    same = np.r_[False, customer[1:] == customer[:-1]]
    gaps = pd.Series(np.where(same, np.diff(day, prepend=day[0]), np.nan))
    by = occasions["customer_id"]
    out = pd.DataFrame(
        {
            "last_gap_days": gaps.groupby(by.to_numpy()).last(),
            "gap_max_days": gaps.groupby(by.to_numpy()).max(),
        }
    )
    recent = day > cut_day - window
    earlier = (day > cut_day - 2 * window) & ~recent
    grouped = (
        pd.DataFrame(
            {
                "occasions_recent": recent.astype(float),
                "occasions_earlier": earlier.astype(float),
                "spend_recent": np.where(recent, spend, 0.0),
                "spend_earlier": np.where(earlier, spend, 0.0),
                "spend": spend,
            }
        )
        .groupby(by.to_numpy())
        .sum()
    )
    aggregates = out.join(grouped).reindex(X.index)
    total_spend = aggregates.pop("spend").to_numpy(dtype=float)
    return churn_columns(X, aggregates, total_spend)
