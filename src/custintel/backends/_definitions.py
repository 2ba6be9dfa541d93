"""Customer feature definitions shared by every engine: pandas, Polars, DuckDB and Spark.

Each engine evaluates the per-customer aggregates declared once in
``custintel.backends._aggregates`` in its own way: the pandas path
(:mod:`custintel.features`) with sort-based numpy kernels, the other engines
inside the engine (this package). What turns those aggregates into the
documented columns is written once, here: the summary, holdout and churn
arithmetic, the churn feature set, and the argument checks of the feature
builders. Both paths import these definitions, so a feature cannot drift
between engines.

Nothing here imports an engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel.backends._aggregates import LOW, from_fixed
from custintel.exceptions import DataQualityWarning, SchemaError, warn

__all__ = [
    "CHURN_ATTRIBUTES",
    "CHURN_DROPPED_COLUMNS",
    "EARLY_LIFE_ATTRIBUTES",
    "EARLY_LIFE_COLUMNS",
    "TimeUnit",
    "add_holdout_columns",
    "btyd_no_purchase",
    "btyd_table",
    "check_calibration_end",
    "check_cutoff",
    "check_min_history",
    "churn_columns",
    "churn_days",
    "collected_attribute",
    "early_life_columns",
    "money",
    "positive_days",
    "summary_columns",
    "unit_days",
    "warn_refund_only",
]

#: Units of ``recency`` and ``T``: days, or weeks of 7 days.
TimeUnit = Literal["h", "D", "W", "M"]
_UNIT_DAYS: dict[str, float] = {"h": 1.0 / 24.0, "D": 1.0, "W": 7.0, "M": 365.25 / 12.0}

#: Attribute roles the churn features carry, in column order, when they are mapped.
CHURN_ATTRIBUTES: tuple[str, ...] = ("customer_type", "region", "channel")
#: Summary columns the churn features leave out (dates, not numbers a model reads).
CHURN_DROPPED_COLUMNS: tuple[str, ...] = ("first_purchase", "last_purchase")

#: Numeric columns of ``custintel.features.early_life_features``, always present, in this order.
EARLY_LIFE_COLUMNS: tuple[str, ...] = (
    "age_days",
    "first_amount",
    "first_lines",
    "first_items",
    "first_quantity",
    "acquisition_month",
    "acquisition_weekday",
    "early_orders",
    "early_amount",
    "days_since_last",
)
#: Attribute roles the early-life features take from the first day's lines, when mapped:
#: the most frequent non-missing value that day, ties to the value that sorts first.
EARLY_LIFE_ATTRIBUTES: tuple[str, ...] = ("customer_type", "region", "channel")

_RATIO_COLUMNS = ("recency_to_gap_mean", "recency_to_gap_max", "recency_gap_z")


def unit_days(time_unit: str) -> float:
    """Length of ``time_unit`` in days.

    Parameters
    ----------
    time_unit : {"D", "W"}
        Days, or weeks of 7 days (fractional, as in Fader and Hardie's papers).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For any other unit.

    Examples
    --------
    >>> unit_days("W")
    7.0
    """
    try:
        return _UNIT_DAYS[time_unit]
    except KeyError:
        raise ValueError(
            "time_unit must be 'h' (hours), 'D' (days), 'W' (weeks of 7 days) or 'M' "
            f"(months of 365.25 / 12 days), got {time_unit!r}"
        ) from None


def positive_days(value: Any, name: str) -> int:
    """Check a length in days (``horizon``, ``window``) and return it as an ``int``.

    Parameters
    ----------
    value : int, float or pandas.Timedelta
        A whole number of days > 0.
    name : str
        The argument's name, for the message.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        When ``value`` is not a whole, finite number of days > 0.

    Examples
    --------
    >>> positive_days(pd.Timedelta(weeks=2), "horizon")
    14
    """
    if isinstance(value, pd.Timedelta):
        value = value / pd.Timedelta(days=1)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a whole number of days > 0, got {value!r}")
    if not np.isfinite(value) or value <= 0 or float(value) != int(value):
        raise ValueError(
            f"{name} must be a whole number of days > 0, got {value!r}; "
            f"e.g. {name}=90 for three months"
        )
    return int(value)


def check_min_history(min_history: Any) -> None:
    """Check ``min_history``: a whole number of days >= 0.

    Parameters
    ----------
    min_history : int
        Minimum tenure in days.

    Raises
    ------
    ValueError
        When it is not a whole number of days >= 0.
    """
    if isinstance(min_history, bool) or not isinstance(min_history, (int, np.integer)):
        raise ValueError(f"min_history must be a whole number of days >= 0, got {min_history!r}")
    if min_history < 0:
        raise ValueError(f"min_history must be >= 0 days, got {min_history}")


def churn_days(horizon: Any, window: Any, min_history: Any) -> tuple[int, int]:
    """Check the day arguments of ``make_churn_dataset``; return the horizon and trend window.

    Parameters
    ----------
    horizon : int
        Label window in days, > 0.
    window : int or None
        Trend window in days, > 0; ``None`` means half the horizon, at least one day.
    min_history : int
        Minimum tenure in days, >= 0.

    Returns
    -------
    horizon_days, window_days : int

    Raises
    ------
    ValueError
        When ``horizon`` or ``window`` is not a whole number of days > 0, or
        ``min_history`` is not one >= 0.

    Examples
    --------
    >>> churn_days(90, None, 0)
    (90, 45)
    """
    horizon_days = positive_days(horizon, "horizon")
    window_days = max(horizon_days // 2, 1) if window is None else positive_days(window, "window")
    check_min_history(min_history)
    return horizon_days, window_days


def check_cutoff(
    cut: np.datetime64, cut_day: int, first_day: int, last_day: int, horizon: int
) -> None:
    """Check that a churn cutoff lies inside the data and its label window is observed.

    Parameters
    ----------
    cut : numpy.datetime64
        The cutoff day, for the message.
    cut_day : int
        The cutoff as a day number (days since 1970-01-01).
    first_day, last_day : int
        Day numbers of the first and last transaction.
    horizon : int
        Label window in days.

    Raises
    ------
    ValueError
        When the cutoff is outside ``[first_day, last_day)`` or the label
        window runs past the last transaction; the message gives the latest
        cutoff (or longest horizon) that works.
    """
    first, last = np.datetime64(first_day, "D"), np.datetime64(last_day, "D")
    if cut_day < first_day or cut_day >= last_day:
        raise ValueError(
            f"cutoff {cut} is outside the data, which runs from {first} to {last}; "
            "pick a cutoff on or after the first transaction and before the last one"
        )
    if cut_day + horizon > last_day:
        latest = np.datetime64(last_day - horizon, "D")
        raise ValueError(
            f"the label window (cutoff {cut} + horizon {horizon} days = "
            f"{np.datetime64(cut_day + horizon, 'D')}) runs past the last transaction on "
            f"{last}, so churn cannot be observed; use a cutoff on or before {latest} "
            f"or a horizon of at most {last_day - cut_day} days"
        )


def check_calibration_end(calibration_day: np.datetime64, first_day: int, end_day: int) -> None:
    """Check that ``calibration_end`` splits the data into a calibration and a holdout period.

    Parameters
    ----------
    calibration_day : numpy.datetime64
        The calibration end (a calendar day).
    first_day, end_day : int
        Day numbers of the first transaction and of the observation end.

    Raises
    ------
    SchemaError
        ``reason="bad_calibration_end"`` unless
        ``first_day <= calibration_day < end_day``.
    """
    calibration = int(calibration_day.astype(np.int64))
    if not first_day <= calibration < end_day:
        raise SchemaError(
            f"calibration_end {calibration_day} must fall on or after the first transaction "
            f"({np.datetime64(first_day, 'D')}) and before observation_end "
            f"({np.datetime64(end_day, 'D')}); pick a date inside the data",
            reason="bad_calibration_end",
        )


def summary_columns(
    aggregates: Mapping[str, np.ndarray], *, end: int, scale: float
) -> dict[str, np.ndarray]:
    r"""Turn per-customer aggregates into the columns of ``summarize_customers``.

    Parameters
    ----------
    aggregates : mapping of str to numpy.ndarray
        The aggregates of :data:`~custintel.backends.CUSTOMER_AGGREGATES` by
        name (``n_occ``, ``first_day``, ``last_day``, ``first_spend``,
        ``total_spend``, ``gap_sum_sq``, ``net_amount``, ``n_rows``, and when
        mapped ``n_distinct_orders``, ``net_quantity``, ``net_margin``), one
        entry per customer with at least one purchase occasion; money as the
        two limbs :func:`money` reads.
    end : int
        Observation end as a day number.
    scale : float
        Days per time unit (:func:`unit_days`).

    Returns
    -------
    dict of str to numpy.ndarray
        The summary columns, in their documented order.

    Notes
    -----
    With :math:`x` = ``frequency`` = occasions - 1, ``monetary_value`` is the
    mean spend of the repeat occasions, :math:`(S - s_1) / x` (0 when
    :math:`x = 0`), the gap mean is ``recency_days`` / :math:`x` and the gap
    standard deviation uses :math:`x - 1` degrees of freedom:
    :math:`\sqrt{(\sum g^2 - x \bar g^2) / (x - 1)}` for :math:`x \ge 2`.
    ``n_orders`` counts distinct orders when order ids are mapped, else purchase rows.
    """
    first_day = _ints(aggregates["first_day"])
    last_day = _ints(aggregates["last_day"])
    frequency = _ints(aggregates["n_occ"]) - 1
    n = len(frequency)
    repeat_spend = money(aggregates, "total_spend", minus="first_spend")
    monetary = np.divide(repeat_spend, frequency, out=np.zeros(n), where=frequency > 0)
    recency_days = (last_day - first_day).astype(np.float64)
    gap_mean = np.divide(recency_days, frequency, out=np.full(n, np.nan), where=frequency > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = (
            _ints(aggregates["gap_sum_sq"]).astype(np.float64) - frequency * gap_mean**2
        ) / (frequency - 1)
    gap_std = np.where(frequency >= 2, np.sqrt(np.clip(variance, 0.0, None)), np.nan)
    orders = aggregates.get("n_distinct_orders")
    columns: dict[str, np.ndarray] = {
        "frequency": frequency,
        "recency": recency_days / scale,
        "T": (end - first_day).astype(np.float64) / scale,
        "monetary_value": monetary,
        "n_orders": _ints(aggregates["n_rows"] if orders is None else orders),
        "total_amount": money(aggregates, "net_amount"),
        "days_since_last": end - last_day,
        "tenure_days": end - first_day,
        "gap_mean_days": gap_mean,
        "gap_std_days": gap_std,
        "first_purchase": first_day.astype("datetime64[D]").astype("datetime64[ns]"),
        "last_purchase": last_day.astype("datetime64[D]").astype("datetime64[ns]"),
    }
    if "net_quantity" in aggregates:
        columns["total_quantity"] = _floats(aggregates["net_quantity"])
    if "net_margin" in aggregates:
        columns["total_margin"] = money(aggregates, "net_margin")
    return columns


def collected_attribute(values: Any) -> pd.Categorical:
    """Turn an attribute column collected from an engine into a categorical of sorted labels.

    Engines know no category order; the pandas path's categories of a text
    attribute are its values in sorted order, so the two read alike.

    Examples
    --------
    >>> collected_attribute(pd.Series(["web", None, "store"])).categories.tolist()
    ['store', 'web']
    """
    labels = np.asarray(values, dtype=object)
    known = sorted({v for v in labels if not pd.isna(v)})
    return pd.Categorical(labels, categories=pd.Index(known))


def early_life_columns(aggregates: Mapping[str, Any], age: np.ndarray) -> dict[str, np.ndarray]:
    """Turn per-customer early-life aggregates into the numeric early-life features.

    Every engine computes the same aggregates over a customer's lines up to
    ``age`` days after their first purchase day (refund lines included):

    - ``first_day`` (day number of the first line), and over that day's lines
      ``first_net`` (money limbs of the amount), ``first_lines`` (their number),
      ``first_items`` (distinct items; absent without ``item_id``) and
      ``first_quantity`` (absent without ``quantity``);
    - over the later lines, ``early_net`` (money limbs) and ``early_orders``
      (distinct days with a purchase line);
    - ``last_offset``: days from the first day to the last purchase line (0
      when the first day is the only one).

    Parameters
    ----------
    aggregates : mapping of str to array-like
        The aggregates, one value per customer.
    age : numpy.ndarray
        Days since each customer's first purchase day at which they are described.

    Returns
    -------
    dict of str to numpy.ndarray
        The columns of :data:`EARLY_LIFE_COLUMNS`, as float64.

    Examples
    --------
    >>> from custintel.backends import to_fixed
    >>> high, low = to_fixed(np.array([30.0]))
    >>> zero = np.zeros(1)  # day 19783 is Friday 2024-03-01
    >>> columns = early_life_columns(
    ...     {"first_day": [19783], "first_net": high, "first_net_lo": low, "first_lines": [2],
    ...      "early_net": zero, "early_net_lo": zero, "early_orders": [0], "last_offset": [0]},
    ...     np.array([6]))
    >>> {name: float(v[0]) for name, v in columns.items() if name != "first_items"}
    ... # doctest: +NORMALIZE_WHITESPACE
    {'age_days': 6.0, 'first_amount': 30.0, 'first_lines': 2.0, 'first_quantity': nan,
     'acquisition_month': 3.0, 'acquisition_weekday': 4.0, 'early_orders': 0.0,
     'early_amount': 0.0, 'days_since_last': 6.0}
    """
    first_day = _ints(aggregates["first_day"])
    acquired = pd.DatetimeIndex(first_day.astype("datetime64[D]"))
    age = np.asarray(age, dtype=np.int64)
    missing = np.full(len(first_day), np.nan)
    return {
        "age_days": age.astype(np.float64),
        "first_amount": money(aggregates, "first_net"),
        "first_lines": _ints(aggregates["first_lines"]).astype(np.float64),
        "first_items": (
            _ints(aggregates["first_items"]).astype(np.float64)
            if "first_items" in aggregates
            else missing
        ),
        "first_quantity": (
            _sums(aggregates["first_quantity"]) if "first_quantity" in aggregates else missing
        ),
        "acquisition_month": acquired.month.to_numpy(dtype=np.float64),
        "acquisition_weekday": acquired.day_of_week.to_numpy(dtype=np.float64),
        "early_orders": _ints(aggregates["early_orders"]).astype(np.float64),
        "early_amount": money(aggregates, "early_net"),
        "days_since_last": (age - _ints(aggregates["last_offset"])).astype(np.float64),
    }


def money(aggregates: Mapping[str, Any], name: str, *, minus: str | None = None) -> np.ndarray:
    """Read a money aggregate (its two limbs, ``name`` and ``name + "_lo"``) as floats.

    Parameters
    ----------
    aggregates : mapping of str to array-like
        Per-customer aggregates.
    name : str
        The money aggregate.
    minus : str, optional
        Another money aggregate to subtract first (exactly).

    Returns
    -------
    numpy.ndarray of float64

    Examples
    --------
    >>> from custintel.backends import to_fixed
    >>> high, low = to_fixed(np.array([0.1, 0.2]))
    >>> money({"s": high.cumsum(), "s_lo": low.cumsum()}, "s").tolist()
    [0.1, 0.3]
    """
    high, low = _sums(aggregates[name]), _sums(aggregates[name + LOW])
    if minus is not None:
        high, low = high - _sums(aggregates[minus]), low - _sums(aggregates[minus + LOW])
    return from_fixed(high, low)


def _sums(values: Any) -> np.ndarray:
    """Read a sum as float64, 0 where an engine has none (no row to sum)."""
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=np.float64, na_value=0.0)
    return np.asarray(values, dtype=np.float64)


def _ints(values: Any) -> np.ndarray:
    """Read an aggregate as int64 (engines may hand back nullable or 128-bit integers)."""
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=np.int64, na_value=0)
    return np.asarray(values, dtype=np.int64)


def _floats(values: Any) -> np.ndarray:
    """Read an aggregate as float64, NaN for a missing value."""
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def warn_refund_only(count: int) -> None:
    """Warn that ``count`` customers with only refund rows are left out of the summary.

    Parameters
    ----------
    count : int
        Customers with rows but no purchase occasion; nothing happens for 0.
    """
    if count:
        warn(
            f"{count:,} customers have only refund rows and no purchase; "
            "they are left out of the customer summary.",
            DataQualityWarning,
        )


def add_holdout_columns(
    summary: pd.DataFrame,
    count: np.ndarray,
    spend: np.ndarray,
    *,
    calibration_end: int,
    observation_end: int,
    time_unit: str,
) -> None:
    """Add the holdout columns and attributes of ``calibration_holdout_split`` to a summary.

    Parameters
    ----------
    summary : pandas.DataFrame
        The calibration-period summary; changed in place.
    count : numpy.ndarray
        Purchase occasions in the holdout, per row of ``summary``.
    spend : numpy.ndarray
        Spend of those occasions (money, see :func:`money`).
    calibration_end, observation_end : int
        Day numbers of the last calibration day and the last holdout day.
    time_unit : {"D", "W"}
        Unit of ``duration_holdout``.

    Notes
    -----
    Adds ``frequency_holdout``, ``monetary_value_holdout`` (mean spend per
    holdout occasion, 0 without one) and ``duration_holdout``, and sets
    ``attrs`` to the calibration end, the observation end and the time unit.
    """
    count = _ints(count)
    summary["frequency_holdout"] = count
    summary["monetary_value_holdout"] = np.divide(
        spend, count, out=np.zeros(len(count)), where=count > 0
    )
    summary["duration_holdout"] = float((observation_end - calibration_end) / unit_days(time_unit))
    summary.attrs.update(
        {
            "calibration_end": str(np.datetime64(calibration_end, "D")),
            "observation_end": str(np.datetime64(observation_end, "D")),
            "time_unit": time_unit,
        }
    )


def churn_columns(X: pd.DataFrame, aggregates: Mapping[str, Any]) -> pd.DataFrame:
    """Derive the churn gap, ratio and trend columns from per-customer aggregates.

    Parameters
    ----------
    X : pandas.DataFrame
        Summary rows at the cutoff, in days (``frequency``,
        ``days_since_last``, ``tenure_days``, ``gap_mean_days``,
        ``gap_std_days``).
    aggregates : mapping of str to array-like
        In the row order of ``X``, the churn aggregates of
        :data:`~custintel.backends.CUSTOMER_AGGREGATES` (``last_gap_days``,
        ``gap_max_days``, ``occasions_recent``, ``occasions_earlier``,
        ``spend_recent``, ``spend_earlier``) and ``total_spend``, the total
        spend of the customer's occasions up to the cutoff; money as the two
        limbs :func:`money` reads.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``X``: ``last_gap_days``, ``gap_max_days``,
        ``occasions_recent``, ``occasions_earlier``, ``spend_recent`` and
        ``spend_earlier`` (see ``make_churn_dataset``), followed by
        ``recency_to_gap_mean``, ``recency_to_gap_max``, ``recency_gap_z``,
        ``recency_share``, ``frequency_trend``, ``spend_trend``,
        ``purchase_rate`` and ``mean_spend``. Ratios with a zero or missing
        denominator are NaN.
    """
    out = pd.DataFrame(
        {
            "last_gap_days": _floats(aggregates["last_gap_days"]),
            "gap_max_days": _floats(aggregates["gap_max_days"]),
            "occasions_recent": _ints(aggregates["occasions_recent"]).astype(np.float64),
            "occasions_earlier": _ints(aggregates["occasions_earlier"]).astype(np.float64),
            "spend_recent": money(aggregates, "spend_recent"),
            "spend_earlier": money(aggregates, "spend_earlier"),
        },
        index=X.index,
    )
    spend = money(aggregates, "total_spend")
    since = X["days_since_last"].to_numpy(dtype=float)
    gap_mean = X["gap_mean_days"].to_numpy(dtype=float)
    tenure = X["tenure_days"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["recency_to_gap_mean"] = since / gap_mean
        out["recency_to_gap_max"] = since / out["gap_max_days"].to_numpy(dtype=float)
        out["recency_gap_z"] = (since - gap_mean) / X["gap_std_days"].to_numpy(dtype=float)
    for column in _RATIO_COLUMNS:
        out[column] = out[column].replace([np.inf, -np.inf], np.nan)
    out["recency_share"] = since / (tenure + 1)
    out["frequency_trend"] = out["occasions_recent"] - out["occasions_earlier"]
    out["spend_trend"] = out["spend_recent"] - out["spend_earlier"]
    n_occasions = X["frequency"].to_numpy(dtype=float) + 1
    out["purchase_rate"] = 30.0 * n_occasions / (tenure + 1)
    out["mean_spend"] = spend / n_occasions
    return out


def btyd_table(X: pd.DataFrame) -> pd.DataFrame:
    """Return ``frequency``, ``recency`` and ``T`` in weeks from a table in days.

    Parameters
    ----------
    X : pandas.DataFrame
        Customer rows with ``frequency`` and ``recency`` and ``T`` in days
        (the churn features, or a summary with ``time_unit="D"``).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``X``, the input of the BTYD purchase models.

    Examples
    --------
    >>> X = pd.DataFrame({"frequency": [2], "recency": [14.0], "T": [28.0]})
    >>> btyd_table(X)
       frequency  recency    T
    0          2      2.0  4.0
    """
    return pd.DataFrame(
        {
            "frequency": X["frequency"].to_numpy(),
            "recency": X["recency"].to_numpy(dtype=float) / 7,
            "T": X["T"].to_numpy(dtype=float) / 7,
        },
        index=X.index,
    )


def btyd_no_purchase(btyd: Any, X: pd.DataFrame, horizon: int) -> pd.Series:
    """Fit a BTYD purchase model on churn feature rows and score P(no purchase in the horizon).

    This is the ``p_no_purchase`` column of ``make_churn_dataset(btyd=...)``
    in every engine.

    Parameters
    ----------
    btyd : {"bgnbd", "mbgnbd", "pareto_nbd"} or estimator
        A model name, or an estimator with ``fit`` and
        ``predict_proba_no_purchase(X, *, t)``, which is cloned.
    X : pandas.DataFrame
        Churn feature rows (``frequency``, ``recency``, ``T`` in days).
    horizon : int
        Horizon in days.

    Returns
    -------
    pandas.Series
        ``p_no_purchase`` per customer, indexed like ``X``.

    Raises
    ------
    ValueError
        For an unknown name or an object that is not such an estimator.
    """
    from sklearn.base import clone

    from custintel.clv import BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel

    models = {"bgnbd": BetaGeoModel, "mbgnbd": ModifiedBetaGeoModel, "pareto_nbd": ParetoNBDModel}
    if isinstance(btyd, str):
        if btyd not in models:
            raise ValueError(f"btyd must be one of {sorted(models)} or an estimator, got {btyd!r}")
        model = models[btyd]()
    elif hasattr(btyd, "fit") and hasattr(btyd, "predict_proba_no_purchase"):
        model = clone(btyd)
    else:
        raise ValueError(
            "btyd must be 'bgnbd', 'mbgnbd', 'pareto_nbd' or an estimator with fit and "
            f"predict_proba_no_purchase, got {type(btyd).__name__}"
        )
    weeks = btyd_table(X)
    model.fit(weeks)
    return model.predict_proba_no_purchase(weeks, t=horizon / 7).rename("p_no_purchase")
