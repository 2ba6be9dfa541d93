"""ParetoAnalysis: CDNOW golden numbers, hand-computed cases (ties, one customer, equal
values), properties, estimator contract and bad input."""

from __future__ import annotations

import itertools
import math

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from custintel import SchemaError, summarize_customers
from custintel.datasets import make_transactions
from custintel.features import customer_profitability
from custintel.profitability import ParetoAnalysis


@pytest.fixture(scope="module")
def cdnow_summary(cdnow: pd.DataFrame) -> pd.DataFrame:
    return summarize_customers(cdnow, duplicates="keep")


def test_cdnow_golden_numbers(cdnow_summary: pd.DataFrame) -> None:
    # The figures for the whole CDNOW log (revenue = total_amount).
    pareto = ParetoAnalysis(value="revenue").fit(cdnow_summary)
    assert pareto.n_customers_ == 23_570
    assert pareto.column_ == "total_amount"
    assert round(pareto.share_of_top(0.2), 3) == 0.678
    assert round(pareto.gini_, 3) == 0.635
    assert round(pareto.customers_for_share(0.8), 3) == 0.326
    assert round(pareto.customers_for_share(0.8) * pareto.n_customers_) == 7_695
    counts = pareto.abc_classes((0.8, 0.95)).value_counts(sort=False)
    assert counts.to_dict() == {"A": 7_695, "B": 8_044, "C": 7_831}
    assert pareto.abc_summary()["n_customers"].tolist() == [7_695, 8_044, 7_831]
    assert pareto.is_top(0.2).sum() == 4_714  # 0.2 * 23,570 exactly


def test_cdnow_matches_a_plain_pandas_reference(cdnow_summary: pd.DataFrame) -> None:
    pareto = ParetoAnalysis().fit(cdnow_summary)
    revenue = cdnow_summary["total_amount"].sort_values(ascending=False)
    cumulative = revenue.cumsum() / revenue.sum()
    assert pareto.share_of_top(0.2) == pytest.approx(cumulative.iloc[4_713], rel=1e-12)
    assert (cumulative < 0.8).sum() + 1 == 7_695
    # Gini as one minus twice the trapezoidal area under the Lorenz curve
    ascending = np.sort(cdnow_summary["total_amount"].to_numpy())
    lorenz = np.concatenate(([0.0], np.cumsum(ascending) / ascending.sum()))
    area = np.sum(lorenz[1:] + lorenz[:-1]) / (2 * len(ascending))  # trapezoids of width 1/n
    assert pareto.gini_ == pytest.approx(1 - 2 * area, rel=1e-10)
    np.testing.assert_allclose(pareto.lorenz_["value_share"], lorenz, atol=1e-12)
    # HHI from the shares
    shares = ascending / ascending.sum()
    assert pareto.hhi_ == pytest.approx(np.sum(shares**2), rel=1e-12)


def test_hand_computed_four_customers() -> None:
    # revenue 50, 30, 15, 5 (total 100): C = 0.5, 0.8, 0.95, 1.0
    revenue = pd.Series([15.0, 50.0, 5.0, 30.0], index=["c", "a", "d", "b"])
    pareto = ParetoAnalysis().fit(revenue)
    assert pareto.table_.index.tolist() == ["a", "b", "c", "d"]
    assert pareto.table_["rank"].tolist() == [1, 2, 3, 4]
    assert pareto.table_["cumulative_value_share"].tolist() == [0.5, 0.8, 0.95, 1.0]
    assert pareto.table_["cumulative_customer_share"].tolist() == [0.25, 0.5, 0.75, 1.0]
    # top 25% = 1 customer: 0.5; top 30% = ceil(1.2) = 2 customers: 0.8
    assert pareto.share_of_top(0.25) == 0.5
    assert pareto.share_of_top(0.3) == 0.8
    assert pareto.share_of_top(0.0) == 0.0
    assert pareto.share_of_top(1.0) == 1.0
    # 80% is reached exactly by 2 customers; 81% needs 3
    assert pareto.customers_for_share(0.8) == 0.5
    assert pareto.customers_for_share(0.81) == 0.75
    assert pareto.customers_for_share(0.0) == 0.0
    # A: C_{k-1} < 0.8 -> ranks 1 (0) and 2 (0.5); B: 0.8 <= C_{k-1} < 0.95 -> rank 3 (0.8);
    # C: rank 4 (0.95)
    assert pareto.abc_classes().to_dict() == {"a": "A", "b": "A", "c": "B", "d": "C"}
    # Gini: ascending 5, 15, 30, 50 with weights 2i - n - 1 = -3, -1, 1, 3:
    # (-15 - 15 + 30 + 150) / (4 * 100) = 0.375
    assert pareto.gini_ == pytest.approx(0.375)
    # pairwise: sum |xi - xj| over ordered pairs = 2 * (10 + 25 + 45 + 15 + 35 + 20) = 300,
    # divided by 2 n^2 mean = 2 * 16 * 25 = 800: 0.375
    assert pareto.hhi_ == pytest.approx(0.25 + 0.09 + 0.0225 + 0.0025)
    # Lorenz: bottom 1 holds 5%, bottom 2 20%, bottom 3 50%
    np.testing.assert_allclose(pareto.lorenz_["value_share"], [0, 0.05, 0.2, 0.5, 1.0])
    assert pareto.is_top(0.5).to_dict() == {"a": True, "b": True, "c": False, "d": False}


def test_ties_at_the_cut_go_to_lower_customer_ids() -> None:
    # d has 40, a, b and c have 20 each (total 100). Ranked: d, then a, b, c (ties by id).
    # C = 0.4, 0.6, 0.8, 1.0. Cut 0.5: A holds ranks with C_{k-1} < 0.5: d (0) and a (0.4).
    values = pd.Series([20.0, 20.0, 20.0, 40.0], index=["c", "b", "a", "d"])
    pareto = ParetoAnalysis().fit(values)
    assert pareto.table_.index.tolist() == ["d", "a", "b", "c"]
    classes = pareto.abc_classes((0.5,))
    assert classes.to_dict() == {"a": "A", "b": "B", "c": "B", "d": "A"}
    assert pareto.customers_for_share(0.5) == 0.5
    # top 50% = 2 customers: d and a; share 0.6 whichever tied customer is chosen
    assert pareto.share_of_top(0.5) == pytest.approx(0.6)
    assert pareto.is_top(0.5).to_dict() == {"a": True, "b": False, "c": False, "d": True}
    # the same customers in any row order
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        again = ParetoAnalysis().fit(values.iloc[order])
        pd.testing.assert_series_equal(again.abc_classes((0.5,)), classes)
        pd.testing.assert_frame_equal(again.table_, pareto.table_)


def test_a_share_exactly_at_the_cut_despite_float_rounding() -> None:
    # 0.7 + 0.2 = 0.8999999999999999 in floating point; the tolerance still counts the
    # second customer as reaching 90% of the total 1.0 (and 0.7 + 0.2 + 0.1 = 1.0)
    pareto = ParetoAnalysis().fit(pd.Series([0.1, 0.7, 0.2], index=[1, 2, 3]))
    assert pareto.customers_for_share(0.9) == pytest.approx(2 / 3)
    assert pareto.abc_classes((0.9,)).to_dict() == {1: "B", 2: "A", 3: "A"}


def test_single_customer() -> None:
    # one customer holds everything: no inequality between customers (Gini 0), HHI 1
    pareto = ParetoAnalysis().fit(pd.Series([42.0], index=["only"]))
    assert pareto.gini_ == 0.0
    assert pareto.hhi_ == 1.0
    assert pareto.share_of_top(0.2) == 1.0  # ceil(0.2) = 1 customer
    assert pareto.customers_for_share(0.8) == 1.0
    assert pareto.abc_classes().tolist() == ["A"]
    assert pareto.abc_summary()["n_customers"].tolist() == [1, 0, 0]
    assert pareto.lorenz_["value_share"].tolist() == [0.0, 1.0]
    assert pareto.is_top().tolist() == [True]


def test_all_equal_values() -> None:
    # ten customers with 7 each: Gini 0, HHI 1/10, top 20% hold 20%;
    # C_k = k/10, so A: C_{k-1} < 0.8 -> k = 1..8; B: 0.8 <= C_{k-1} < 0.95 -> k = 9 (0.8)
    # and k = 10 (0.9); C is empty
    pareto = ParetoAnalysis().fit(pd.Series(7.0, index=range(10)))
    assert pareto.gini_ == pytest.approx(0.0, abs=1e-15)
    assert pareto.hhi_ == pytest.approx(0.1)
    assert pareto.share_of_top(0.2) == pytest.approx(0.2)
    assert pareto.customers_for_share(0.8) == pytest.approx(0.8)
    assert pareto.abc_summary()["n_customers"].tolist() == [8, 2, 0]
    # the lowest ids are in A
    assert pareto.abc_classes().tolist() == ["A"] * 8 + ["B"] * 2


def test_zero_values_are_allowed() -> None:
    # ascending 0, 0, 10: weights -2, 0, 2 -> 20 / (3 * 10) = 2/3 = 1 - 1/n, the maximum
    pareto = ParetoAnalysis().fit(pd.Series([0.0, 10.0, 0.0], index=["x", "y", "z"]))
    assert pareto.gini_ == pytest.approx(2 / 3)
    assert pareto.abc_classes().to_dict() == {"x": "C", "y": "A", "z": "C"}


def test_custom_cuts_and_labels() -> None:
    pareto = ParetoAnalysis().fit(pd.Series([50.0, 30.0, 15.0, 5.0], index=list("abcd")))
    classes = pareto.abc_classes((0.5, 0.8, 0.95), labels=["gold", "silver", "bronze", "rest"])
    assert classes.tolist() == ["gold", "silver", "bronze", "rest"]
    assert list(classes.cat.categories) == ["gold", "silver", "bronze", "rest"]
    summary = pareto.abc_summary((0.5,))
    assert summary.loc["A", "value_share"] == 0.5
    assert summary["value"].sum() == 100.0


def test_summary_series() -> None:
    pareto = ParetoAnalysis().fit(pd.Series([50.0, 30.0, 15.0, 5.0], index=list("abcd")))
    s = pareto.summary(top=0.25, share=0.8)
    assert s["n_customers"] == 4
    assert s["total"] == 100.0
    assert s["share_of_top"] == 0.5
    assert s["customers_for_share"] == 0.5
    assert s["gini"] == pytest.approx(0.375)


def test_margin_and_clv_columns_and_profitability_tables() -> None:
    tx = make_transactions(300, random_state=1).transactions
    summary = summarize_customers(tx)
    margin = ParetoAnalysis(value="margin", negative="clip").fit(summary)
    assert margin.column_ == "total_margin"
    clipped = summary["total_margin"].clip(lower=0)
    assert margin.total_ == pytest.approx(clipped.sum())
    table = customer_profitability(tx, cost_per_order=1.0)
    revenue = ParetoAnalysis().fit(table)
    assert revenue.column_ == "revenue"
    assert revenue.total_ == pytest.approx(summary["total_amount"].sum())
    with_clv = summary.assign(clv=summary["total_amount"] * 2)
    clv = ParetoAnalysis(value="clv").fit(with_clv)
    assert clv.gini_ == pytest.approx(ParetoAnalysis().fit(summary).gini_)
    by_column = ParetoAnalysis(column="n_orders").fit(summary)
    assert by_column.column_ == "n_orders"


def test_negative_value_policy() -> None:
    values = pd.Series([10.0, -4.0, 6.0, -1.0], index=["a", "b", "c", "d"], name="total_amount")
    with pytest.raises(SchemaError, match=r"2 of 4 customers have a negative 'total_amount'") as e:
        ParetoAnalysis().fit(values)
    assert e.value.reason == "negative_value"
    assert "negative='clip'" in str(e.value)
    clipped = ParetoAnalysis(negative="clip").fit(values)
    assert clipped.n_customers_ == 4
    assert clipped.total_ == 16.0
    assert clipped.table_.loc["b", "value"] == 0.0
    dropped = ParetoAnalysis(negative="drop").fit(values)
    assert dropped.n_customers_ == 2
    assert dropped.abc_classes().index.tolist() == ["a", "c"]
    with pytest.raises(SchemaError, match="every customer has a negative"):
        ParetoAnalysis(negative="drop").fit(-values.abs())


def test_bad_input() -> None:
    with pytest.raises(SchemaError, match="no customers") as err:
        ParetoAnalysis().fit(pd.Series([], dtype=float))
    assert err.value.reason == "empty"
    with pytest.raises(SchemaError, match=r"every 'v' value is zero \(3 customers\)") as err:
        ParetoAnalysis().fit(pd.Series([0.0, 0.0, 0.0], name="v"))
    assert err.value.reason == "zero_total"
    with pytest.raises(SchemaError, match="1 of 2 values in column 'x' are NaN") as err:
        ParetoAnalysis().fit(pd.Series([1.0, np.nan], index=["a", "b"], name="x"))
    assert "'b'" in str(err.value)
    with pytest.raises(SchemaError, match="appear more than once"):
        ParetoAnalysis().fit(pd.Series([1.0, 2.0], index=["a", "a"]))
    with pytest.raises(SchemaError, match="must be numeric"):
        ParetoAnalysis().fit(pd.Series(["1", "2"]))
    with pytest.raises(SchemaError, match="cannot be ordered"):
        ParetoAnalysis().fit(pd.Series([1.0, 2.0], index=pd.Index([1, "a"], dtype=object)))
    with pytest.raises(SchemaError, match="expects a customer table"):
        ParetoAnalysis().fit([1.0, 2.0])
    frame = pd.DataFrame({"total_amount": [1.0]})
    with pytest.raises(SchemaError, match=r"lacks; columns present.*cost or margin column"):
        ParetoAnalysis(value="margin").fit(frame)
    with pytest.raises(SchemaError, match="predict_clv"):
        ParetoAnalysis(value="clv").fit(frame)
    with pytest.raises(ValueError, match="value must be 'revenue', 'margin' or 'clv'"):
        ParetoAnalysis(value="profit").fit(frame)
    with pytest.raises(ValueError, match="negative must be"):
        ParetoAnalysis(negative="ignore").fit(frame)


def test_bad_arguments_to_queries() -> None:
    pareto = ParetoAnalysis().fit(pd.Series([3.0, 1.0]))
    for bad in (-0.1, 1.5, "0.2", True):
        with pytest.raises(ValueError, match="between 0 and 1"):
            pareto.share_of_top(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="between 0 and 1"):
        pareto.customers_for_share(2.0)
    for cuts in ((0.95, 0.8), (0.0, 0.5), (0.5, 1.2), (), "ab"):
        with pytest.raises(ValueError, match="cuts must be"):
            pareto.abc_classes(cuts)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="labels must be 3 distinct names"):
        pareto.abc_classes(labels=["A", "B"])


def test_estimator_contract(tmp_path) -> None:  # type: ignore[no-untyped-def]
    values = pd.Series([5.0, 1.0, 3.0], index=[10, 20, 30])
    with pytest.raises(NotFittedError):
        ParetoAnalysis().share_of_top(0.2)
    estimator = ParetoAnalysis(value="clv", column="x", negative="clip")
    assert clone(estimator).get_params() == {"value": "clv", "column": "x", "negative": "clip"}
    before = values.copy()
    pareto = ParetoAnalysis().fit(values)
    pd.testing.assert_series_equal(values, before)
    path = tmp_path / "pareto.joblib"
    joblib.dump(pareto, path)
    loaded = joblib.load(path)
    pd.testing.assert_frame_equal(loaded.table_, pareto.table_)
    assert loaded.share_of_top(0.5) == pareto.share_of_top(0.5)
    pd.testing.assert_series_equal(loaded.abc_classes(), pareto.abc_classes())


values_strategy = st.lists(
    st.one_of(st.integers(0, 1000).map(float), st.floats(0, 1e6, allow_nan=False)),
    min_size=1,
    max_size=40,
).filter(lambda xs: sum(xs) > 0)


@settings(max_examples=60, deadline=None)
@given(values=values_strategy, seed=st.integers(0, 2**32 - 1))
def test_properties(values: list[float], seed: int) -> None:
    series = pd.Series(values, index=[f"c{i:02d}" for i in range(len(values))])
    pareto = ParetoAnalysis().fit(series)
    n = len(values)
    x = np.asarray(values)
    # Gini equals the mean-absolute-difference formula and lies in [0, 1 - 1/n]
    pairwise = np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * x.mean())
    assert pareto.gini_ == pytest.approx(pairwise, abs=1e-9)
    assert -1e-12 <= pareto.gini_ <= 1 - 1 / n + 1e-12
    assert 1 / n - 1e-12 <= pareto.hhi_ <= 1 + 1e-12
    # the top p of customers hold at least p of the value, more for larger p
    shares = [pareto.share_of_top(p) for p in (0.1, 0.2, 0.5, 0.8)]
    assert all(b >= a for a, b in itertools.pairwise(shares))
    for p, share in zip((0.1, 0.2, 0.5, 0.8), shares, strict=True):
        # the top k = ceil(pn) customers average at least the overall mean
        assert share >= math.ceil(round(p * n, 9)) / n - 1e-9
    # customers_for_share is the inverse: those customers reach the share, one fewer do not
    for s in (0.5, 0.8, 0.95):
        k = round(pareto.customers_for_share(s) * n)
        cumulative = np.sort(x)[::-1].cumsum() / x.sum()
        assert cumulative[k - 1] >= s - 1e-9
        assert k == 1 or cumulative[k - 2] < s
        # class A is exactly those customers
        assert (pareto.abc_classes((s,)) == "A").sum() == k
    # row order does not matter
    shuffled = series.sample(frac=1.0, random_state=seed % 2**32)
    again = ParetoAnalysis().fit(shuffled)
    pd.testing.assert_frame_equal(again.table_, pareto.table_)
    pd.testing.assert_series_equal(again.abc_classes(), pareto.abc_classes())
    pd.testing.assert_series_equal(again.is_top(0.3), pareto.is_top(0.3))
