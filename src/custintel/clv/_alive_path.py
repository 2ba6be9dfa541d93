"""P(alive) along one customer's history: how a purchase model's belief evolves day by day."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custintel.clv._time_units import UNIT_DAYS

__all__ = ["alive_path"]


def _purchase_days(purchases: Any) -> tuple[np.ndarray, bool]:
    """Return the distinct purchase occasions sorted, and whether they are calendar days."""
    if isinstance(purchases, pd.DataFrame):
        if "timestamp" not in purchases.columns:
            raise ValueError(
                "alive_path needs the customer's purchase times: a DataFrame with a "
                f"'timestamp' column, or a Series or list of times; got columns "
                f"{[str(c) for c in purchases.columns]}"
            )
        purchases = purchases["timestamp"]
    values = pd.Series(np.asarray(purchases).ravel() if np.ndim(purchases) else [purchases])
    if values.empty:
        raise ValueError("alive_path needs at least one purchase of the customer, got none")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(numbers)):
            raise ValueError("purchase times must be finite numbers or dates; found NaN or inf")
        return np.unique(numbers), False
    try:
        stamps = pd.to_datetime(values)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"purchase times must be dates (datetime-like) or numbers in the model's time "
            f"unit; could not read them as dates: {err}"
        ) from None
    if stamps.isna().any():
        raise ValueError(f"{int(stamps.isna().sum())} purchase times are missing (NaT)")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    days = stamps.dt.normalize().astype("datetime64[ns]").to_numpy()
    return np.unique(days), True


def alive_path(
    model: Any,
    purchases: Any,
    *,
    observation_end: Any = None,
    time_unit: str = "D",
) -> pd.DataFrame:
    """Return P(alive) over one customer's history, at each day from their first purchase.

    At each day the customer's summary so far (``frequency``, ``recency``
    and ``T`` as :func:`custintel.summarize_customers` computes them, with
    that day as the end of observation) is scored by the model: P(alive)
    jumps up at each purchase and decays in between, faster for a customer
    who used to buy often. The path of lifetimes' ``calculate_alive_path``
    and ``plot_history_alive``, computed in one vectorised call.

    Parameters
    ----------
    model : PurchaseModel
        A fitted purchase model (``BetaGeoModel``, ``ModifiedBetaGeoModel``,
        ``ParetoNBDModel``, ``NBDModel``...) with ``predict_proba_alive``.
    purchases : array-like or pandas.DataFrame
        The customer's purchase times: dates (a Series, a list, or a
        DataFrame with a ``timestamp`` column, e.g. ``tx[tx.customer_id ==
        c]``), one occasion per calendar day as in
        :func:`custintel.summarize_customers`; or numbers already in the
        model's time unit (then the path has one point per whole unit, e.g.
        the opportunities of the BG/BB model).
    observation_end : date-like or float, optional
        Last day of the path; the last purchase by default. Must not be
        before the last purchase.
    time_unit : {"D", "W"}, default="D"
        The time unit the model was fitted in (days, or weeks of 7 days);
        ignored for numeric purchase times.

    Returns
    -------
    pandas.DataFrame
        One row per day (or unit), indexed by ``date`` (or ``t``), with
        ``frequency``, ``recency``, ``T``, ``proba_alive`` and ``purchase``
        (whether an occasion falls on that day).

    Examples
    --------
    >>> from custintel.clv import BetaGeoModel, alive_path
    >>> model = BetaGeoModel.from_dict({
    ...     "model": "BetaGeoModel", "format_version": 1,
    ...     "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    ...     "log_likelihood": -9582.4, "converged": True})
    >>> path = alive_path(model, ["2024-01-01", "2024-01-15", "2024-02-01"],
    ...                   observation_end="2024-06-30", time_unit="W")
    >>> day = path.loc["2024-02-01"]
    >>> int(day["frequency"]), round(float(day["proba_alive"]), 3)
    (2, 0.812)
    >>> round(float(path["proba_alive"].iloc[-1]), 3)
    0.215
    """
    if time_unit not in UNIT_DAYS:
        raise ValueError(
            f"time_unit must be 'h', 'D', 'W' or 'M' (hours, days, weeks, months of "
            f"365.25/12 days), got {time_unit!r}"
        )
    occasions, dated = _purchase_days(purchases)
    first, last = occasions[0], occasions[-1]
    if dated:
        end = last if observation_end is None else pd.Timestamp(observation_end).normalize()
        end = np.datetime64(pd.Timestamp(end).tz_localize(None), "ns")
        if end < last:
            raise ValueError(
                f"observation_end {pd.Timestamp(end).date()} is before the last purchase "
                f"{pd.Timestamp(last).date()}; pass a later day or leave it out"
            )
        grid = np.arange(first, end + np.timedelta64(1, "D"), np.timedelta64(1, "D"))
        scale = UNIT_DAYS[time_unit] * 86_400e9

        def elapsed(times: np.ndarray) -> np.ndarray:
            return (times - first).astype("timedelta64[ns]").astype(np.float64) / scale

        index = pd.DatetimeIndex(grid, name="date")
    else:
        end_value = last if observation_end is None else float(observation_end)
        if not np.isfinite(end_value) or end_value < last:
            raise ValueError(
                f"observation_end {observation_end!r} must be a number >= the last "
                f"purchase time {last!r}"
            )
        grid = np.union1d(first + np.arange(np.floor(end_value - first) + 1.0), occasions)

        def elapsed(times: np.ndarray) -> np.ndarray:
            return np.asarray(times - first, dtype=np.float64)

        index = pd.Index(grid, name="t")
    # Occasions up to each grid point (the first one included), and the latest of them.
    seen = np.searchsorted(occasions, grid, side="right")
    table = pd.DataFrame(
        {
            "frequency": (seen - 1).astype(np.float64),
            "recency": elapsed(occasions[seen - 1]),
            "T": elapsed(grid),
        },
        index=index,
    )
    table["proba_alive"] = model.predict_proba_alive(table).to_numpy()
    table["purchase"] = np.isin(grid, occasions)
    return table
