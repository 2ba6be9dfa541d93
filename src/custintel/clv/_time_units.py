"""Time units of customer tables, as the CLV models see them.

A fitted purchase model's rates are per time unit of the table it was fitted
on (``alpha`` is a rate per day, or per week...). Scoring a table in another
unit gives numbers that look plausible and are wrong by a constant factor, so
a model remembers the unit of its training table (``X.attrs["time_unit"]``,
written by :func:`custintel.features.summarize_customers`) and refuses a
table in another one. The lengths mirror ``custintel.backends.unit_days``
(the layer contract keeps :mod:`custintel.clv` below ``backends``).
"""

from __future__ import annotations

from typing import Any

from custintel.exceptions import SchemaError

__all__ = ["UNIT_DAYS", "UNIT_NAMES", "check_time_unit", "table_time_unit"]

#: Days per time unit: hours, days, weeks of 7 days, months of 365.25 / 12 days.
UNIT_DAYS: dict[str, float] = {"h": 1.0 / 24.0, "D": 1.0, "W": 7.0, "M": 365.25 / 12.0}
#: The unit in words, for messages.
UNIT_NAMES: dict[str, str] = {"h": "hours", "D": "days", "W": "weeks", "M": "months"}


def table_time_unit(X: Any) -> str | None:
    """Return the time unit a customer table records in ``attrs``, or ``None``.

    Parameters
    ----------
    X : pandas.DataFrame
        A customer table.

    Returns
    -------
    str or None
        ``"h"``, ``"D"``, ``"W"`` or ``"M"``; ``None`` when the table does not
        record a known unit (a hand-made frame).
    """
    unit = getattr(X, "attrs", {}).get("time_unit")
    return unit if isinstance(unit, str) and unit in UNIT_DAYS else None


def check_time_unit(fitted_unit: str | None, X: Any, *, model_name: str) -> None:
    """Refuse to score ``X`` when its time unit differs from the one the model was fitted in.

    Parameters
    ----------
    fitted_unit : str or None
        The unit of the training table (the model's ``time_unit_``);
        ``None`` when it was not recorded.
    X : pandas.DataFrame
        The table to score.
    model_name : str
        Used in the message.

    Raises
    ------
    SchemaError
        ``reason="time_unit_mismatch"`` when both units are known and differ;
        the message names both and how to fix it. Tables or models that do
        not record a unit are not checked.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"frequency": [1]})
    >>> X.attrs["time_unit"] = "D"
    >>> check_time_unit("W", X, model_name="BetaGeoModel")
    Traceback (most recent call last):
    ...
    custintel.exceptions.SchemaError: BetaGeoModel was fitted on a table in weeks ...
    """
    table_unit = table_time_unit(X)
    if fitted_unit is None or table_unit is None or fitted_unit == table_unit:
        return
    ratio = UNIT_DAYS[fitted_unit] / UNIT_DAYS[table_unit]
    raise SchemaError(
        f"{model_name} was fitted on a table in {UNIT_NAMES[fitted_unit]} "
        f"(time_unit={fitted_unit!r}) but this table is in {UNIT_NAMES[table_unit]} "
        f"(X.attrs['time_unit'] = {table_unit!r}): its rates are per "
        f"{UNIT_NAMES[fitted_unit][:-1]}, so its predictions here would be off by a factor "
        f"of about {ratio:.4g}. Build the table with summarize_customers(..., "
        f"time_unit={fitted_unit!r}), or refit the model on this table.",
        reason="time_unit_mismatch",
    )
