"""``breakdown``: revenue, cost and profit by segment or customer attribute."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from custintel._validation import as_customer_table
from custintel.exceptions import SchemaError
from custintel.profitability._values import finite_values, one_row_per_customer

__all__ = ["breakdown"]

#: Default measures, by the kind of customer table; the first set found is used.
_DEFAULT_MEASURES: tuple[tuple[str, ...], ...] = (
    ("revenue", "cost", "profit"),
    ("total_amount", "total_margin"),
)


def _default_measures(X: pd.DataFrame) -> list[str]:
    for candidates in _DEFAULT_MEASURES:
        found = [c for c in candidates if c in X.columns]
        if found:
            return found + (["clv"] if "clv" in X.columns else [])
    if "clv" in X.columns:
        return ["clv"]
    raise SchemaError(
        "breakdown found no value column to sum (revenue/cost/profit, total_amount/"
        f"total_margin or clv) among {[str(c) for c in X.columns]}; pass measures=[...]",
        reason="missing_column",
    )


def _group_keys(X: pd.DataFrame, by: Any) -> list[pd.Series]:
    if isinstance(by, str):
        by = [by]
    if isinstance(by, Mapping) and not isinstance(by, pd.Series):
        by = pd.Series(dict(by))
    if isinstance(by, pd.Series):
        name = by.name if by.name is not None else "group"
        if by.index.has_duplicates:
            raise SchemaError(
                f"breakdown: the labels in by ({name!r}) have duplicated customer ids, e.g. "
                f"{by.index[by.index.duplicated()].unique()[:5].tolist()}; give one label per "
                "customer",
                reason="duplicate_customer_id",
            )
        missing = ~X.index.isin(by.index)
        if missing.any():
            raise SchemaError(
                f"breakdown: {int(missing.sum()):,} of {len(X):,} customers have no label in by "
                f"({name!r}), e.g. {X.index[missing][:5].tolist()}; check that both are indexed "
                "by the same customer ids (and id type), or fill the labels first",
                reason="missing_label",
            )
        return [by.reindex(X.index).rename(name)]
    if isinstance(by, Sequence) and all(isinstance(c, str) for c in by) and len(by) > 0:
        absent = [c for c in by if c not in X.columns]
        if absent:
            raise SchemaError(
                f"breakdown: column(s) {absent} are not in the customer table; columns present: "
                f"{[str(c) for c in X.columns]}. Customer attributes come from "
                "custintel.features.customer_attributes (or customer_profitability); "
                "segments can be passed as a Series indexed by customer id",
                reason="missing_column",
            )
        return [X[c] for c in by]
    raise ValueError(
        "by must be a column name, a list of column names, or a Series of labels indexed by "
        f"customer id; got {type(by).__name__}"
    )


def breakdown(
    X: pd.DataFrame,
    by: str | Sequence[str] | pd.Series | Mapping[Any, Any],
    *,
    measures: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Break customer value down by segment, class or attribute.

    Parameters
    ----------
    X : pandas.DataFrame
        Customer table, one row per customer: from
        :func:`~custintel.features.customer_profitability` or
        :func:`~custintel.summarize_customers` (joined with
        :func:`~custintel.features.customer_attributes` for attributes).
    by : str, list of str, or pandas.Series
        What to group by: column(s) of ``X`` (e.g. ``"region"``, or
        ``["customer_type", "channel"]``), or labels indexed by customer id,
        e.g. segments from a segmenter or
        :meth:`ParetoAnalysis.abc_classes`. Every customer of ``X`` needs a
        label; missing values (NaN) form a group of their own.
    measures : sequence of str, optional
        Numeric columns to sum. Default: ``revenue``, ``cost`` and ``profit``
        for a profitability table, else ``total_amount`` (and
        ``total_margin``) for a summary, plus ``clv`` when present.

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted; categorical groups in category order,
        empty categories left out), with ``n_customers``, ``customer_share``,
        and per measure ``m``: its sum ``m``, ``m_share`` (of the total over
        all customers; NaN when that total is not positive, e.g. overall
        losses) and ``m_per_customer`` (mean). With a boolean ``profitable``
        column in ``X``, also ``profitable_share``, the share of the group's
        customers who are profitable.

    Raises
    ------
    SchemaError
        For missing columns or labels, duplicated ids, or non-numeric, NaN
        or infinite measures.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame(
    ...     {"revenue": [100.0, 50.0, 30.0, 20.0], "profit": [40.0, 10.0, -5.0, 5.0],
    ...      "region": ["N", "S", "N", "S"]},
    ...     index=pd.Index([1, 2, 3, 4], name="customer_id"),
    ... )
    >>> breakdown(table, "region")[["n_customers", "revenue", "revenue_share", "profit_share"]]
            n_customers  revenue  revenue_share  profit_share
    region
    N                 2    130.0           0.65           0.7
    S                 2     70.0           0.35           0.3
    """
    X = as_customer_table(X, owner="breakdown")
    if not isinstance(X, pd.DataFrame):
        raise SchemaError(
            f"breakdown expects a customer table (pandas, polars or pyarrow frame), got "
            f"{type(X).__name__}",
            reason="not_a_dataframe",
        )
    if len(X) == 0:
        raise SchemaError("breakdown got an empty customer table", reason="empty")
    one_row_per_customer(X.index, "breakdown")
    names = list(measures) if measures is not None else _default_measures(X)
    absent = [m for m in names if m not in X.columns]
    if absent:
        raise SchemaError(
            f"breakdown: measure column(s) {absent} are not in the customer table; columns "
            f"present: {[str(c) for c in X.columns]}",
            reason="missing_column",
        )
    keys = _group_keys(X, by)
    data: dict[str, np.ndarray] = {}
    for name in names:
        data[name] = finite_values(X[name], owner="breakdown", label=name)
    frame = pd.DataFrame(data, index=X.index)
    frame["_count"] = 1
    has_flag = "profitable" in X.columns and pd.api.types.is_bool_dtype(X["profitable"].dtype)
    if has_flag:
        frame["_profitable"] = X["profitable"].to_numpy(dtype=np.float64)
    grouped = frame.groupby(keys, sort=True, observed=True, dropna=False)
    sums = grouped.sum()
    counts = sums["_count"].astype(np.int64)
    out = pd.DataFrame({"n_customers": counts, "customer_share": counts / len(X)})
    for name in names:
        total = float(data[name].sum())
        out[name] = sums[name]
        out[f"{name}_share"] = sums[name] / total if total > 0 else np.nan
        out[f"{name}_per_customer"] = sums[name] / counts
    if has_flag:
        out["profitable_share"] = sums["_profitable"] / counts
    return out
