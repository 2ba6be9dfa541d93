"""Reports on segmentations: migration between periods and segment profiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custintel._validation import as_customer_table
from custintel.exceptions import SchemaError
from custintel.segmentation._checks import one_row_per_customer

__all__ = ["SegmentMigration", "segment_migration", "segment_profile", "segment_separation"]


def _labels(obj: Any, name: str, column: str) -> pd.Series:
    obj = as_customer_table(obj, owner=name)
    if isinstance(obj, pd.DataFrame):
        if column not in obj.columns:
            raise SchemaError(
                f"segment_migration: {name} has no column {column!r}; columns present: "
                f"{[str(c) for c in obj.columns]}; pass segment=... to name the label column",
                reason="missing_column",
            )
        obj = obj[column]
    if not isinstance(obj, pd.Series):
        raise SchemaError(
            f"{name} must be a pandas Series or DataFrame of segment labels indexed by "
            f"customer_id, got {type(obj).__name__}",
            reason="not_a_dataframe",
        )
    one_row_per_customer(obj.index, name)
    if obj.isna().any():
        raise SchemaError(
            f"{name}: {int(obj.isna().sum()):,} customers have no segment (NaN); drop them first",
            reason="non_finite_value",
        )
    return obj


@dataclass(frozen=True)
class SegmentMigration:
    """Result of :func:`segment_migration`.

    Attributes
    ----------
    counts : pandas.DataFrame
        Customers by segment before (rows) and after (columns); customers
        present in one period only are under ``"(none)"``.
    revenue : pandas.DataFrame or None
        Revenue of the ``after`` period by the same cells (when given).
    moved_down : pandas.DataFrame
        Customers whose segment rank got worse: ``before``, ``after``,
        ``steps`` (how many ranks down) and ``revenue`` when given, worst
        drops first.
    """

    counts: pd.DataFrame
    revenue: pd.DataFrame | None
    moved_down: pd.DataFrame


def segment_migration(
    before: Any,
    after: Any,
    *,
    revenue: pd.Series | None = None,
    order: Any = None,
    segment: str = "segment",
) -> SegmentMigration:
    """Tabulate how customers moved between two periods' segmentations.

    Parameters
    ----------
    before, after : pandas.Series or pandas.DataFrame
        Segment labels indexed by customer id (a DataFrame is read at
        column ``segment``, e.g. the output of a segmenter).
    revenue : pandas.Series, optional
        Revenue per customer in the ``after`` period (missing customers count 0).
    order : sequence, optional
        Segments from best to worst, to tell "down" from "up". Defaults to
        the categories of ``before`` when it is categorical (RFMSegmenter,
        ValueTierSegmenter and LifecycleSegmenter list them best first;
        CustomerSegmenter's clusters have no such order, so pass ``order``),
        else the sorted labels.
    segment : str, default="segment"
        Label column of DataFrame inputs (``"tier"`` for value tiers).

    Returns
    -------
    SegmentMigration
        Transition counts, revenue and the customers who moved down.

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.Series(["Gold", "Gold", "Lead"], index=[1, 2, 3])
    >>> a = pd.Series(["Gold", "Lead", "Gold"], index=[1, 2, 3])
    >>> m = segment_migration(b, a, order=["Gold", "Lead"])
    >>> m.counts
    after   Gold  Lead
    before
    Gold       1     1
    Lead       1     0
    >>> m.moved_down.index.tolist()
    [2]
    """
    b = _labels(before, "before", segment)
    a = _labels(after, "after", segment)
    if order is None:
        if isinstance(b.dtype, pd.CategoricalDtype):
            order = list(b.cat.categories)
        else:
            order = sorted(set(b.astype(str)) | set(a.astype(str)))
    order = [str(o) for o in order]
    unknown = (set(b.astype(str)) | set(a.astype(str))) - set(order)
    if unknown:
        raise ValueError(f"order lacks segments {sorted(unknown)}; list every segment, best first")
    none = "(none)"
    ids = b.index.union(a.index)
    bb = b.astype(str).reindex(ids).fillna(none)
    aa = a.astype(str).reindex(ids).fillna(none)
    cats = [*order, none]
    bcat = pd.Categorical(bb, categories=cats)
    acat = pd.Categorical(aa, categories=cats)
    counts = pd.crosstab(bcat, acat, dropna=False).rename_axis(index="before", columns="after")
    counts = counts.loc[(counts.sum(axis=1) > 0) | (counts.index != none)]
    counts = counts.loc[:, (counts.sum(axis=0) > 0) | (counts.columns != none)]
    rev_table = None
    rev = None
    if revenue is not None:
        rev = pd.Series(revenue, dtype="float64").reindex(ids).fillna(0.0)
        rev_table = (
            pd.crosstab(bcat, acat, values=rev.to_numpy(), aggfunc="sum", dropna=False)
            .fillna(0.0)
            .rename_axis(index="before", columns="after")
            .reindex(index=counts.index, columns=counts.columns)
        )
    rank = pd.Series(np.arange(len(order), dtype="int64"), index=[str(name) for name in order])
    both = b.index.intersection(a.index)
    after_rank = rank.reindex(a.reindex(both).astype(str).to_numpy()).to_numpy()
    before_rank = rank.reindex(b.reindex(both).astype(str).to_numpy()).to_numpy()
    steps = pd.Series(after_rank - before_rank, index=both, dtype="int64")
    down = steps[steps > 0]
    moved = pd.DataFrame(
        {
            "before": b.loc[down.index].astype(str),
            "after": a.loc[down.index].astype(str),
            "steps": down,
        }
    )
    if rev is not None:
        moved["revenue"] = rev.loc[down.index]
    moved.index.name = b.index.name or "customer_id"
    moved = moved.sort_values("steps", ascending=False, kind="stable")
    return SegmentMigration(counts=counts, revenue=rev_table, moved_down=moved)


def segment_profile(
    segments: Any,
    customers: pd.DataFrame,
    *,
    segment: str = "segment",
    revenue: str = "total_amount",
    margin: str | None = "total_margin",
    churned: pd.Series | None = None,
    clv: pd.Series | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """Profile segments: size, revenue and margin share, churn rate and CLV.

    Parameters
    ----------
    segments : pandas.Series or pandas.DataFrame
        Segment labels indexed by customer id (DataFrames are read at ``segment``).
    customers : pandas.DataFrame
        Customer table (e.g. :func:`~custintel.features.summarize_customers`,
        joined with :func:`~custintel.features.customer_attributes` for ``by``).
    segment : str, default="segment"
        Label column of a DataFrame ``segments``.
    revenue : str, default="total_amount"
        Revenue column of ``customers``.
    margin : str or None, default="total_margin"
        Margin column; skipped when absent.
    churned : pandas.Series of bool, optional
        Whether each customer churned in a following window; gives ``churn_rate``.
    clv : pandas.Series, optional
        Predicted CLV per customer; gives ``mean_clv``.
    by : str, optional
        A column of ``customers`` (``customer_type``, ``region``, ``channel``)
        to break every segment down by.

    Returns
    -------
    pandas.DataFrame
        One row per segment (or per segment and ``by`` value): ``customers``,
        ``customer_share``, ``revenue``, ``revenue_share``, and when available
        ``margin_share``, ``churn_rate``, ``mean_clv``. Shares are of the
        whole table.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"total_amount": [30.0, 10.0, 60.0]}, index=[1, 2, 3])
    >>> seg = pd.Series(["A", "A", "B"], index=[1, 2, 3])
    >>> segment_profile(seg, c, churned=pd.Series([False, True, False], index=[1, 2, 3]))
             customers  customer_share  revenue  revenue_share  churn_rate
    segment
    A                2        0.666667     40.0            0.4         0.5
    B                1        0.333333     60.0            0.6         0.0
    """
    labels = _labels(segments, "segments", segment)
    customers = as_customer_table(customers, owner="segment_profile")
    if not isinstance(customers, pd.DataFrame) or revenue not in customers.columns:
        raise SchemaError(
            f"segment_profile: customers must be a DataFrame with a {revenue!r} column",
            reason="missing_column",
        )
    missing = labels.index.difference(customers.index)
    if len(missing):
        raise SchemaError(
            f"segment_profile: {len(missing):,} segmented customers are not in the customer "
            f"table, e.g. {missing[:5].tolist()}",
            reason="unknown_customer",
        )
    frame = pd.DataFrame({"segment": labels})
    frame["revenue"] = customers.loc[labels.index, revenue].astype("float64")
    keys: list[str] = ["segment"]
    if by is not None:
        if by not in customers.columns:
            raise SchemaError(
                f"segment_profile: by={by!r} is not a column of the customer table; add it with "
                "custintel.features.customer_attributes",
                reason="missing_column",
            )
        frame[by] = customers.loc[labels.index, by]
        keys.append(by)
    has_margin = margin is not None and margin in customers.columns
    if has_margin:
        frame["margin"] = customers.loc[labels.index, margin].astype("float64")
    if churned is not None:
        frame["churned"] = pd.Series(churned).reindex(labels.index).astype("float64")
    if clv is not None:
        frame["clv"] = pd.Series(clv).reindex(labels.index).astype("float64")
    grouped = frame.groupby(keys, observed=True, sort=True)
    out = pd.DataFrame({"customers": grouped.size()})
    out["customer_share"] = out["customers"] / len(frame)
    out["revenue"] = grouped["revenue"].sum()
    total = frame["revenue"].sum()
    out["revenue_share"] = out["revenue"] / total if total != 0 else np.nan
    if has_margin:
        mtotal = frame["margin"].sum()
        out["margin_share"] = grouped["margin"].sum() / mtotal if mtotal != 0 else np.nan
    if churned is not None:
        out["churn_rate"] = grouped["churned"].mean()
    if clv is not None:
        out["mean_clv"] = grouped["clv"].mean()
    return out


def segment_separation(
    segments: Any,
    churned: pd.Series,
    *,
    revenue: pd.Series | None = None,
    test_size: float = 0.5,
    random_state: int = 0,
    segment: str = "segment",
) -> dict[str, float]:
    """Measure on held-out customers how well segments separate churn and revenue.

    Customers are split at random; each segment's churn rate (and mean
    revenue) is estimated on the training part and used as the score of the
    held-out customers in that segment (the overall rate for a segment unseen
    in training).

    Parameters
    ----------
    segments : pandas.Series or pandas.DataFrame
        Segment labels indexed by customer id (DataFrames are read at ``segment``).
    churned : pandas.Series of bool
        Whether each customer made no purchase in the following window.
    revenue : pandas.Series, optional
        Revenue of each customer in the following window.
    test_size : float, default=0.5
        Share of customers held out.
    random_state : int, default=0
        Seed of the split (``numpy.random.default_rng(random_state).random(n) >= 1 - test_size``
        marks the held-out customers, in the order of ``segments``).
    segment : str, default="segment"
        Label column of a DataFrame ``segments``.

    Returns
    -------
    dict
        ``churn_auc``: held-out ROC AUC of the segment churn rates; with
        ``revenue``, ``revenue_r2``: held-out R² of the segment mean revenue.

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.Series(["a", "b"] * 50, index=range(100))
    >>> churned = pd.Series([True, False] * 50, index=range(100))
    >>> segment_separation(seg, churned)["churn_auc"]
    1.0
    """
    from sklearn.metrics import r2_score, roc_auc_score

    labels = _labels(segments, "segments", segment).astype(str)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must lie in (0, 1), got {test_size}")
    y = pd.Series(churned).reindex(labels.index)
    if y.isna().any():
        raise SchemaError(
            f"segment_separation: {int(y.isna().sum()):,} segmented customers have no churn label",
            reason="unknown_customer",
        )
    y = y.astype("float64")
    train = np.random.default_rng(random_state).random(len(labels)) < 1 - test_size
    test = ~train
    if y[test].nunique() < 2:
        raise ValueError("the held-out customers all churned or all stayed; AUC is undefined")
    rates = y[train].groupby(labels[train]).mean()
    score = labels[test].map(rates).fillna(y[train].mean())
    out = {"churn_auc": float(roc_auc_score(y[test], score))}
    if revenue is not None:
        r = pd.Series(revenue).reindex(labels.index).fillna(0.0).astype("float64")
        means = r[train].groupby(labels[train]).mean()
        predicted = labels[test].map(means).fillna(r[train].mean())
        out["revenue_r2"] = float(r2_score(r[test], predicted))
    return out
