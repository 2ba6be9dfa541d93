"""``churn_features`` and ``make_churn_dataset``: leak-free churn features and labels.

The per-customer aggregates (``custintel.backends.CUSTOMER_AGGREGATES``, the
summary's and the churn ones, evaluated in one pass of the numpy kernels) and
the column definitions shared with the engine builders (the gap, ratio and
trend arithmetic, the attribute set, ``p_no_purchase`` and the argument
checks) are imported from :mod:`custintel.backends`, so every engine runs one
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
    aggregates_for,
    btyd_no_purchase,
    check_cutoff,
    check_min_history,
    churn_columns,
    churn_days,
    positive_days,
)
from custintel.exceptions import SchemaError
from custintel.features._engines import in_every_engine
from custintel.features._occasions import customer_totals
from custintel.features._profitability import mode_dense, mode_sorted
from custintel.features._summary import summary_from_validated
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
    validated, cut, cut_day = _at_cutoff(tx, schema, cutoff, refunds, duplicates)
    days = validated.days
    check_cutoff(cut, cut_day, int(days.min()), int(days.max()), horizon_days)
    X, codes = _features(validated, cut, horizon_days, window_days, min_history, btyd)
    # Sorted rows in the label window; only their amounts are read (no copy of the log).
    window_rows = np.flatnonzero((days > cut_day) & (days <= cut_day + horizon_days))
    amounts = validated.columns["amount"].to_numpy(dtype=float)[validated.order[window_rows]]
    buyers = np.unique(validated.customer_codes[window_rows[amounts >= 0]])
    y = pd.Series(
        (~np.isin(codes, buyers, assume_unique=True)).astype(np.int64),
        index=X.index.copy(),
        name="churn",
    )
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
    summary: pd.DataFrame | None = None,
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
    tx : pandas.DataFrame or ValidatedTransactions
        Transactions; validated with :func:`~custintel.validate_transactions`.
        Other engines (Polars, DuckDB, Spark) are supported by
        :func:`make_churn_dataset` only; convert with ``to_pandas()`` first.
        The result of :func:`~custintel.schema.validated_transactions` is
        used as it is, not validated again (``schema``, ``refunds`` and
        ``duplicates`` then have no effect): a caller that validated the log
        already saves a second validation.
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
    summary : pandas.DataFrame, optional
        The customer summary of the same transactions at the cutoff,
        ``summarize_customers(tx, observation_end=cutoff)`` (days), to reuse
        instead of computing it again; the result is the same. Its
        ``attrs`` must name the cutoff as ``observation_end`` and ``"D"`` as
        ``time_unit``, as :func:`~custintel.features.summarize_customers`
        writes them. It is not modified.

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
        When ``tx`` is not a pandas DataFrame (or validated transactions), or
        ``summary`` is not a DataFrame.
    ValueError
        When ``horizon``, ``window`` or ``min_history`` is not a valid number
        of days, ``btyd`` is given without ``horizon``, the cutoff is before
        the first transaction, no customer is left, or ``summary`` is not a
        summary of these transactions at the cutoff.

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

    A caller that holds the summary at the cutoff passes it, and gets the same table:

    >>> from custintel.features import summarize_customers
    >>> summary = summarize_customers(tx, observation_end="2024-02-10")
    >>> churn_features(tx, cutoff="2024-02-10", horizon=16, summary=summary).equals(X)
    True
    """
    if not isinstance(tx, (pd.DataFrame, ValidatedTransactions)):
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
    if isinstance(tx, ValidatedTransactions):
        validated, cut = tx, to_day(cutoff, "cutoff")
        cut_day = int(cut.astype(np.int64))
    else:
        validated, cut, cut_day = _at_cutoff(tx, schema, cutoff, refunds, duplicates)
    first_day = int(validated.days.min())
    if cut_day < first_day:
        raise ValueError(
            f"cutoff {cut} is before the first transaction on {np.datetime64(first_day, 'D')}, "
            "so no customer has a purchase by then; pick a later cutoff"
        )
    X, _ = _features(validated, cut, horizon_days, window_days, min_history, btyd, summary=summary)
    return X


def _at_cutoff(
    tx: pd.DataFrame, schema: Any, cutoff: Any, refunds: str, duplicates: str
) -> tuple[ValidatedTransactions, np.datetime64, int]:
    """Validate ``tx`` and parse the cutoff: validated rows, the cutoff, its day number."""
    validated = validated_transactions(tx, schema, refunds=refunds, duplicates=duplicates)
    cut = to_day(cutoff, "cutoff")
    return validated, cut, int(cut.astype(np.int64))


def _features(
    validated: ValidatedTransactions,
    cut: np.datetime64,
    horizon_days: int | None,
    window_days: int,
    min_history: int,
    btyd: Any,
    *,
    summary: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the churn feature table at ``cut`` and the customer code of each of its rows.

    Everything is read from the validated, sorted arrays through the rows on
    or before the cutoff: the log is never copied (the frame of
    ``validated`` is not built), and the rows before the cutoff are not
    validated a second time. When every row is on or before the cutoff (as
    when scoring at the observation end), the arrays are read whole.
    ``summary``, when given, is the summary at ``cut`` (checked, not copied).
    """
    cut_day = int(cut.astype(np.int64))
    before = validated.days <= cut_day
    rows = None if bool(before.all()) else np.flatnonzero(before)
    roles = tuple(validated.columns)
    # One pass of the numpy kernels evaluates the summary's and the churn aggregates.
    wanted = (
        aggregates_for(roles, churn=True)
        if summary is None
        else tuple(
            a for a in aggregates_for(roles, churn=True) if a.churn or a.name == "total_spend"
        )
    )
    totals = customer_totals(
        validated,
        None if rows is None else before,
        aggregates=wanted,
        cut_day=cut_day,
        window=window_days,
    )
    if summary is None:
        X = summary_from_validated(validated, cut, 1.0, totals=totals)
    else:
        X = _given_summary(summary, validated, cut)
    X.attrs.update({"observation_end": str(cut), "time_unit": "D"})
    X = X.drop(columns=list(CHURN_DROPPED_COLUMNS))
    X = X.loc[X["tenure_days"] >= min_history]
    if X.empty:
        raise ValueError(
            f"no customer has a purchase at least min_history={min_history} days before the "
            f"cutoff {cut}; pass a later cutoff or a smaller min_history"
        )
    codes = validated.customers.get_indexer(X.index)
    X = X.join(churn_columns(X, {name: v[codes] for name, v in totals.values.items()}))
    attributes = [role for role in CHURN_ATTRIBUTES if validated.has(role)]
    if attributes:
        for role in attributes:
            values = pd.Series(attribute_mode(validated, role, rows).take(codes))
            # Categories seen only after the cutoff must not show in the dtype.
            X[role] = values.set_axis(X.index).cat.remove_unused_categories()
    if btyd is not None and horizon_days is not None:  # churn_features checks the pair
        X["p_no_purchase"] = btyd_no_purchase(btyd, X, horizon_days)
    X.attrs["cutoff"] = str(cut)
    if horizon_days is not None:
        X.attrs["horizon"] = horizon_days
    X.attrs["window"] = window_days
    return X, codes


def attribute_mode(
    validated: ValidatedTransactions, role: str, rows: np.ndarray | None
) -> pd.Categorical:
    """Most frequent value of ``role`` per customer code over the sorted ``rows`` (None: all).

    The definition of :func:`~custintel.features.customer_attributes` (all
    rows, refunds included; missing values ignored; ties to the value that
    sorts first), restricted to the rows up to a cutoff without copying them.
    """
    values = validated.columns[role]
    if isinstance(values.dtype, pd.CategoricalDtype):
        value_codes = np.asarray(values.cat.codes, dtype=np.int64)
        categories, ordered = values.cat.categories, bool(values.cat.ordered)
    else:
        try:
            value_codes, categories = pd.factorize(values, sort=True)
        except TypeError:
            raise SchemaError(
                f"column {role!r} mixes value types that cannot be compared; convert it to "
                f"one type, e.g. df[{values.name!r}].astype(str)",
                reason=f"mixed_{role}",
            ) from None
        ordered = False
    value_codes = value_codes[_sorted_rows(validated, rows)]
    known = value_codes >= 0
    n_codes, n_values = len(validated.customers), len(categories)
    customer_codes = validated.customer_codes if rows is None else validated.customer_codes[rows]
    keys = customer_codes[known].astype(np.int64) * max(n_values, 1)
    keys += value_codes[known]
    if n_codes * n_values <= max(4 * len(keys), 1 << 24):
        best = mode_dense(keys, n_codes, n_values)
    else:
        best = mode_sorted(keys, n_codes, n_values)
    return pd.Categorical.from_codes(best, categories=pd.Index(categories), ordered=ordered)


def _sorted_rows(validated: ValidatedTransactions, rows: np.ndarray | None) -> np.ndarray:
    """Positions into ``validated.columns`` of the sorted ``rows`` (None: every row)."""
    return validated.order if rows is None else validated.order[rows]


def _given_summary(
    summary: Any, validated: ValidatedTransactions, cut: np.datetime64
) -> pd.DataFrame:
    """Check a caller's customer summary at ``cut`` and return a new frame of it."""
    if not isinstance(summary, pd.DataFrame):
        raise TypeError(
            f"summary must be a pandas DataFrame (summarize_customers' result), got "
            f"{type(summary).__name__}"
        )
    end, unit = summary.attrs.get("observation_end"), summary.attrs.get("time_unit")
    if end != str(cut) or unit != "D":
        raise ValueError(
            f"summary is a summary at observation_end={end!r} in time_unit={unit!r}, but the "
            f"churn features need one at the cutoff {str(cut)!r} in days; pass "
            f"summarize_customers(tx, observation_end={str(cut)!r}) or leave summary out"
        )
    missing = [c for c in CHURN_DROPPED_COLUMNS if c not in summary.columns]
    unknown = validated.customers.get_indexer(summary.index) < 0
    if missing or unknown.any():
        what = (
            f"lacks the columns {missing}"
            if missing
            else f"has {int(unknown.sum())} customers that are not in the transactions, e.g. "
            f"{summary.index[unknown][:5].tolist()}"
        )
        raise ValueError(
            f"summary {what}; pass summarize_customers(tx, observation_end={str(cut)!r}) of "
            "the same transactions, or leave summary out"
        )
    X = summary.copy(deep=False)
    X.attrs = {}
    return X
