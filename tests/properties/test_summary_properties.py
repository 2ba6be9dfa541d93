"""Properties of the feature layer: invariants, row order and id encoding do not matter.

The reference is a direct pandas implementation of the definitions in
docs/schema.md ("Purchase occasions", "The customer summary").
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from custintel import calibration_holdout_split, summarize_customers
from custintel.exceptions import DataQualityWarning, SchemaError

_START = pd.Timestamp("2024-01-01")
# Amounts that are exact in binary, so sums do not depend on the order of addition.
_AMOUNTS = st.sampled_from([0.0, 0.5, 3.5, 10.0, 20.25, 100.0, -2.5, -10.0])

# 40 under the default profiles; see tests/properties/conftest.py.
EXAMPLES = max(1, settings.default.max_examples * 2 // 5)


@st.composite
def logs(draw: Any, *, min_rows: int = 1, max_rows: int = 25) -> pd.DataFrame:
    n = draw(st.integers(min_rows, max_rows))
    row = st.tuples(
        st.integers(0, 6),  # customer
        st.integers(0, 60),  # day
        st.integers(0, 23 * 60),  # minute of the day
        _AMOUNTS,
        st.integers(0, 8),  # order, made unique per customer below
        st.sampled_from([0.0, 1.25, 4.0]),  # cost
    )
    rows = draw(st.lists(row, min_size=n, max_size=n))
    customer, day, minute, amount, order, cost = map(list, zip(*rows, strict=True))
    return pd.DataFrame(
        {
            "customer_id": np.asarray(customer, dtype=np.int64) * 7 + 3,
            "timestamp": _START
            + pd.to_timedelta(day, unit="D")
            + pd.to_timedelta(minute, unit="min"),
            "amount": amount,
            "order_id": [f"{c}-{o}" for c, o in zip(customer, order, strict=True)],
            "cost": cost,
        }
    )


def _summarize(tx: pd.DataFrame, **kwargs: Any) -> pd.DataFrame | None:
    """The summary, or None when no customer has a purchase occasion."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            return summarize_customers(tx, duplicates="keep", **kwargs)
        except SchemaError as err:
            assert not (tx["amount"] >= 0).any() or "observation_end" in kwargs, err
            return None


def _reference(tx: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The documented definitions, computed row by row with pandas."""
    tx = tx.assign(day=tx["timestamp"].dt.floor("D"))
    purchases = tx[tx["amount"] >= 0]
    occasions = purchases.groupby(["customer_id", "day"])["amount"].sum().reset_index()
    rows = {}
    for customer, occ in occasions.groupby("customer_id"):
        days = occ["day"].sort_values()
        spend = occ.sort_values("day")["amount"].to_numpy()
        gaps = np.diff(days.to_numpy()).astype("timedelta64[D]").astype(float)
        mine = tx[tx["customer_id"] == customer]
        rows[customer] = {
            "frequency": len(occ) - 1,
            "recency": float((days.iloc[-1] - days.iloc[0]).days),
            "T": float((end - days.iloc[0]).days),
            "monetary_value": float(spend[1:].mean()) if len(occ) > 1 else 0.0,
            "n_orders": purchases.loc[purchases["customer_id"] == customer, "order_id"].nunique(),
            "total_amount": float(mine["amount"].sum()),
            "days_since_last": (end - days.iloc[-1]).days,
            "tenure_days": (end - days.iloc[0]).days,
            "gap_mean_days": gaps.mean() if len(gaps) else np.nan,
            "gap_std_days": gaps.std(ddof=1) if len(gaps) > 1 else np.nan,
            "total_margin": float((mine["amount"] - mine["cost"]).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


@settings(max_examples=3 * EXAMPLES // 2, deadline=2000)
@given(tx=logs())
def test_summary_matches_the_definitions_and_invariants(tx: pd.DataFrame) -> None:
    summary = _summarize(tx)
    if summary is None:
        return
    end = tx["timestamp"].max().floor("D")
    expected = _reference(tx, end)
    assert summary.index.tolist() == sorted(expected.index.tolist())
    assert summary.index.is_unique and summary.index.name == "customer_id"
    for column in expected.columns:
        np.testing.assert_allclose(
            summary[column].to_numpy(dtype=float),
            expected.loc[summary.index, column].to_numpy(dtype=float),
            rtol=1e-12,
            err_msg=column,
        )
    frequency, recency, T = summary["frequency"], summary["recency"], summary["T"]
    assert (frequency >= 0).all() and (T >= 0).all()
    assert ((recency >= 0) & (recency <= T)).all()
    assert (recency[frequency == 0] == 0).all()
    assert (summary.loc[frequency == 0, "monetary_value"] == 0).all()
    assert (summary["monetary_value"] >= 0).all()
    assert (summary["days_since_last"] <= summary["tenure_days"]).all()
    assert (summary["first_purchase"] <= summary["last_purchase"]).all()


@settings(max_examples=EXAMPLES, deadline=2000)
@given(tx=logs(), seed=st.integers(0, 2**32 - 1), unit=st.sampled_from(["D", "W"]))
def test_summary_does_not_depend_on_row_order(tx: pd.DataFrame, seed: int, unit: str) -> None:
    expected = _summarize(tx, time_unit=unit)
    shuffled = tx.sample(frac=1.0, random_state=seed)
    if expected is None:
        assert _summarize(shuffled, time_unit=unit) is None
        return
    pd.testing.assert_frame_equal(_summarize(shuffled, time_unit=unit), expected, check_exact=True)
    # ... nor on the index labels of the input rows
    relabelled = shuffled.set_axis([f"row{i}" for i in range(len(tx))])
    pd.testing.assert_frame_equal(
        _summarize(relabelled, time_unit=unit), expected, check_exact=True
    )


_ENCODINGS = {
    "str": lambda ids: ids.map(lambda v: f"cust{v:04d}"),
    "category": lambda ids: ids.map(lambda v: f"cust{v:04d}").astype("category"),
    "string": lambda ids: ids.map(lambda v: f"cust{v:04d}").astype("string"),
    "float": lambda ids: ids.astype(np.float64),
    "int32": lambda ids: ids.astype(np.int32),
    "Int64": lambda ids: ids.astype("Int64"),
    "large": lambda ids: ids + 2**40,
    "negative": lambda ids: ids - 1000,
}


@settings(max_examples=EXAMPLES, deadline=2000)
@given(tx=logs(), encoding=st.sampled_from(sorted(_ENCODINGS)))
def test_summary_does_not_depend_on_id_encoding(tx: pd.DataFrame, encoding: str) -> None:
    expected = _summarize(tx)
    encode = _ENCODINGS[encoding]
    encoded = tx.assign(customer_id=encode(tx["customer_id"]))
    result = _summarize(encoded)
    if expected is None:
        assert result is None
        return
    assert result is not None
    # Every encoding above preserves the order of the ids, so rows line up.
    assert result.index.tolist() == [
        v.item() if isinstance(v, np.generic) else v
        for v in encode(pd.Series(expected.index)).tolist()
    ]
    pd.testing.assert_frame_equal(
        result.reset_index(drop=True), expected.reset_index(drop=True), check_exact=True
    )


@settings(max_examples=EXAMPLES, deadline=2000)
@given(tx=logs(min_rows=2), cut=st.integers(0, 60))
def test_weeks_are_days_over_seven_and_the_split_is_consistent(tx: pd.DataFrame, cut: int) -> None:
    days = _summarize(tx)
    weeks = _summarize(tx, time_unit="W")
    if days is None:
        return
    for column in ("recency", "T"):
        np.testing.assert_allclose(weeks[column], days[column] / 7, rtol=1e-15)
    calibration_end = _START + pd.Timedelta(days=cut)
    end = tx["timestamp"].max().floor("D")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            split = calibration_holdout_split(
                tx, calibration_end=calibration_end, observation_end=end, duplicates="keep"
            )
        except SchemaError:
            # no customer purchased on or before calibration_end, or it is not before the end
            before = tx[(tx["timestamp"] < calibration_end + pd.Timedelta(days=1))]
            assert calibration_end >= end or not (before["amount"] >= 0).any()
            return
    calibration = _summarize(
        tx[tx["timestamp"] < calibration_end + pd.Timedelta(days=1)],
        observation_end=calibration_end,
    )
    assert calibration is not None
    pd.testing.assert_frame_equal(split[calibration.columns], calibration, check_exact=True)
    assert (split["frequency_holdout"] >= 0).all()
    assert (split["duration_holdout"] == (end - calibration_end).days).all()
    assert (split.loc[split["frequency_holdout"] == 0, "monetary_value_holdout"] == 0).all()


@settings(max_examples=EXAMPLES, deadline=2000)
@given(tx=logs(), cut=st.integers(0, 60))
def test_policies_equal_filtering_first(tx: pd.DataFrame, cut: int) -> None:
    """refunds="drop", duplicates="drop" and observation_end act like filtering the rows."""
    end = _START + pd.Timedelta(days=cut)
    cases = [
        ({"refunds": "drop"}, tx[tx["amount"] >= 0]),
        ({"observation_end": end}, tx[tx["timestamp"] < end + pd.Timedelta(days=1)]),
    ]
    doubled = pd.concat([tx, tx.iloc[: len(tx) // 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        for kwargs, filtered in cases:
            try:
                result = summarize_customers(tx, duplicates="keep", **kwargs)
            except SchemaError:
                assert _summarize(filtered) is None if len(filtered) else True
                continue
            expected = summarize_customers(filtered, duplicates="keep", **kwargs)
            pd.testing.assert_frame_equal(result, expected, check_exact=True)
        try:
            dropped = summarize_customers(doubled, duplicates="drop")
        except SchemaError:
            return
        pd.testing.assert_frame_equal(
            dropped, summarize_customers(doubled.drop_duplicates(), duplicates="drop"),
            check_exact=True,
        )  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=2000)
@given(tx=logs(min_rows=2), cut=st.integers(0, 59))
def test_holdout_columns_match_the_definitions(tx: pd.DataFrame, cut: int) -> None:
    calibration_end = _START + pd.Timedelta(days=cut)
    end = tx["timestamp"].max().floor("D")
    if calibration_end >= end:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            split = calibration_holdout_split(
                tx, calibration_end=calibration_end, observation_end=end, duplicates="keep"
            )
        except SchemaError:
            return
    day = tx["timestamp"].dt.floor("D")
    holdout = tx[(day > calibration_end) & (day <= end) & (tx["amount"] >= 0)]
    occasions = holdout.groupby(["customer_id", holdout["timestamp"].dt.floor("D")])["amount"]
    spend = occasions.sum().groupby(level=0)
    frequency = spend.size().reindex(split.index, fill_value=0)
    monetary = spend.mean().reindex(split.index, fill_value=0.0)
    np.testing.assert_array_equal(split["frequency_holdout"], frequency)
    np.testing.assert_allclose(split["monetary_value_holdout"], monetary, rtol=1e-12)
