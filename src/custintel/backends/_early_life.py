"""The early-life features of new customers inside Polars, DuckDB and Spark.

The aggregates are those of :func:`~custintel.backends.early_life_columns`, the
definition the pandas path (:func:`custintel.features.early_life_features`)
evaluates with numpy; here they are narwhals expressions, run lazily in the
engine, and only one row per new customer is collected. Money is summed as
exact limbs, so the features agree with the pandas path to the last bit.
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from custintel.backends._aggregates import LOW
from custintel.backends._definitions import (
    EARLY_LIFE_ATTRIBUTES,
    EARLY_LIFE_COLUMNS,
    collected_attribute,
    early_life_columns,
)
from custintel.backends._features import _ID, _limbs, attribute_table

__all__ = ["EARLY_LIFE_PREFIX", "early_life_rows", "early_life_table"]

#: Prefix of the early-life aggregates in an engine's customer table.
EARLY_LIFE_PREFIX = "el_"


def early_life_table(rows: Any, roles: tuple[str, ...], *, end_day: int, max_age_days: int) -> Any:
    """Build the lazy early-life aggregates of the customers new on ``end_day``.

    Parameters
    ----------
    rows : narwhals.LazyFrame
        Canonical rows (``custintel.backends.Prepared.rows``); those after
        ``end_day`` are left out.
    roles : tuple of str
        Roles present.
    end_day : int
        Today, as a day number.
    max_age_days : int
        Customers whose first purchase day is at most this many days before
        ``end_day`` are new; the others get no row.

    Returns
    -------
    narwhals.LazyFrame
        ``customer_id`` and the aggregates of
        :func:`~custintel.backends.early_life_columns`, plus ``attr_<role>``
        (the first day's most frequent value) for each mapped role of
        :data:`~custintel.backends.EARLY_LIFE_ATTRIBUTES`, every name but the
        id prefixed with :data:`EARLY_LIFE_PREFIX`.
    """
    rows = rows.filter(nw.col("day") <= end_day)
    firsts = (
        rows.group_by(_ID)
        .agg(nw.col("day").min().alias("first_day"))
        .filter(nw.col("first_day") >= end_day - max_age_days)
    )
    young = rows.join(firsts, on=_ID, how="inner")
    offset = nw.col("day") - nw.col("first_day")
    first, later, bought = offset == 0, offset > 0, nw.col("amount") > 0
    high, low = _limbs(nw.col("amount"))
    columns = [
        nw.when(first).then(high).otherwise(0.0).alias("first_net"),
        nw.when(first).then(low).otherwise(0.0).alias("first_net" + LOW),
        first.cast(nw.Int64).alias("first_lines"),
        nw.when(later).then(high).otherwise(0.0).alias("early_net"),
        nw.when(later).then(low).otherwise(0.0).alias("early_net" + LOW),
        nw.when(bought).then(offset).otherwise(0).alias("last_offset"),
    ]
    sums = ["first_net", "first_net" + LOW, "first_lines", "early_net", "early_net" + LOW]
    if "quantity" in roles:
        quantity = nw.col("quantity").cast(nw.Float64)
        columns.append(nw.when(first).then(quantity).otherwise(0.0).alias("first_quantity"))
        sums.append("first_quantity")
    table = (
        young.with_columns(*columns)
        .group_by(_ID)
        .agg(
            nw.col("first_day").min(),
            *(nw.col(name).sum() for name in sums),
            nw.col("last_offset").max(),
        )
    )
    later_days = (
        young.filter(later & bought)
        .select(_ID, "day")
        .unique()
        .group_by(_ID)
        .agg(nw.len().alias("early_orders"))
    )
    table = table.join(later_days, on=_ID, how="left")
    first_lines = young.filter(first)
    if "item_id" in roles:
        items = (
            first_lines.select(_ID, "item_id")
            .unique()
            .group_by(_ID)
            .agg(nw.len().alias("first_items"))
        )
        table = table.join(items, on=_ID, how="left")
    for role in EARLY_LIFE_ATTRIBUTES:
        if role in roles:
            table = table.join(attribute_table(first_lines, role), on=_ID, how="left")
    names = table.collect_schema().names()
    return table.rename({name: EARLY_LIFE_PREFIX + name for name in names if name != _ID})


def early_life_rows(table: pd.DataFrame, end_day: int) -> pd.DataFrame:
    """Finish collected early-life aggregates into the features of ``early_life_features``.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with the columns of :func:`early_life_table` (other columns are
        ignored); a row whose ``el_first_day`` is missing is not a new customer.
    end_day : int
        Today, as a day number.

    Returns
    -------
    pandas.DataFrame
        Same rows and index as ``table``: the columns of
        :data:`~custintel.backends.EARLY_LIFE_COLUMNS` and the attributes
        (categorical) of the mapped roles, missing where a row is not a new
        customer.
    """
    n = len(table)
    first_day = table[EARLY_LIFE_PREFIX + "first_day"]
    new = first_day.notna().to_numpy()
    aggregates = {
        name[len(EARLY_LIFE_PREFIX) :]: table[name][new]
        for name in table.columns
        if isinstance(name, str) and name.startswith(EARLY_LIFE_PREFIX)
    }
    age = end_day - aggregates["first_day"].to_numpy(dtype=np.int64)
    out = pd.DataFrame(index=table.index)
    for name, values in early_life_columns(aggregates, age).items():
        column = np.full(n, np.nan)
        column[new] = values
        out[name] = column
    for role in EARLY_LIFE_ATTRIBUTES:
        name = f"{EARLY_LIFE_PREFIX}attr_{role}"
        if name in table.columns:
            out[role] = collected_attribute(table[name])
    return out[[*EARLY_LIFE_COLUMNS, *(c for c in out.columns if c not in EARLY_LIFE_COLUMNS)]]
