"""WhaleCurve: hand-computed curves (zero and negative profit), a pandas reference on
simulated costs, estimator contract and bad input."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from custintel import DataQualityWarning, SchemaError
from custintel.datasets import make_transactions
from custintel.features import customer_profitability
from custintel.profitability import WhaleCurve


def test_zero_and_negative_profit_take_the_curve_above_100_percent() -> None:
    # ranked: 10, 5, 0, -3 -> cumulative 10, 15, 15, 12; total 12
    # peak 15 = 125% of total after 2 of 4 customers; 1 of 4 destroys value; losses 3
    profit = pd.Series([0.0, 10.0, -3.0, 5.0], index=[1, 2, 3, 4], name="profit")
    whale = WhaleCurve().fit(profit)
    assert whale.curve_.index.tolist() == [2, 4, 1, 3]
    assert whale.curve_["cumulative_profit"].tolist() == [10.0, 15.0, 15.0, 12.0]
    np.testing.assert_allclose(whale.curve_["cumulative_profit_share"], [10 / 12, 1.25, 1.25, 1.0])
    assert whale.curve_["customer_share"].tolist() == [0.25, 0.5, 0.75, 1.0]
    assert whale.total_profit_ == 12.0
    assert whale.peak_profit_ == 15.0
    assert whale.peak_share_ == 1.25
    assert whale.peak_customer_share_ == 0.5
    assert whale.value_destroying_share_ == 0.25
    assert whale.losses_ == 3.0
    assert whale.summary()["peak_share"] == 1.25


def test_without_losses_the_peak_is_total_profit() -> None:
    # 6, 3, 1: no customer destroys value; peak = total at the last customer
    whale = WhaleCurve().fit(pd.Series([1.0, 6.0, 3.0], index=["a", "b", "c"]))
    assert whale.peak_share_ == 1.0
    assert whale.peak_customer_share_ == 1.0
    assert whale.value_destroying_share_ == 0.0
    assert whale.losses_ == 0.0
    assert str(whale.losses_) == "0.0"  # not -0.0


def test_zero_profit_customers_are_neither_profitable_nor_destroyers() -> None:
    # 5, 0: peak 5 after 1 of 2 customers; nobody destroys value
    whale = WhaleCurve().fit(pd.Series([0.0, 5.0], index=["z", "p"]))
    assert whale.peak_customer_share_ == 0.5
    assert whale.value_destroying_share_ == 0.0
    assert whale.peak_share_ == 1.0


def test_single_customer() -> None:
    whale = WhaleCurve().fit(pd.Series([4.0], index=["only"]))
    assert whale.curve_["cumulative_profit_share"].tolist() == [1.0]
    assert whale.peak_share_ == 1.0


def test_ties_are_broken_by_customer_id_in_any_row_order() -> None:
    profit = pd.Series([2.0, 2.0, -1.0, 2.0], index=["d", "b", "a", "c"])
    whale = WhaleCurve().fit(profit)
    assert whale.curve_.index.tolist() == ["b", "c", "d", "a"]
    again = WhaleCurve().fit(profit.iloc[[2, 0, 3, 1]])
    pd.testing.assert_frame_equal(again.curve_, whale.curve_)


def test_total_loss_warns_and_leaves_shares_undefined() -> None:
    # 4 and -10: total -6; the peak (4 after 1 customer) is still reported in currency
    with pytest.warns(DataQualityWarning, match="total profit is -6.00"):
        whale = WhaleCurve().fit(pd.Series([4.0, -10.0], index=[1, 2]))
    assert np.isnan(whale.peak_share_)
    assert whale.curve_["cumulative_profit_share"].isna().all()
    assert whale.curve_["cumulative_profit"].tolist() == [4.0, -6.0]
    assert whale.peak_profit_ == 4.0
    assert whale.peak_customer_share_ == 0.5
    # all customers losing money: the peak is the origin
    with pytest.warns(DataQualityWarning):
        losing = WhaleCurve().fit(pd.Series([-1.0, -2.0], index=[1, 2]))
    assert losing.peak_profit_ == 0.0
    assert losing.peak_customer_share_ == 0.0
    assert losing.value_destroying_share_ == 1.0


def test_matches_a_pandas_reference_on_simulated_costs() -> None:
    tx = make_transactions(1500, random_state=11).transactions
    table = customer_profitability(tx, cost_per_order=4.0)
    whale = WhaleCurve().fit(table)
    profit = table["profit"].sort_values(ascending=False)
    cumulative = profit.cumsum()
    assert whale.total_profit_ == pytest.approx(profit.sum())
    assert whale.peak_profit_ == pytest.approx(cumulative.max())
    assert whale.peak_share_ == pytest.approx(cumulative.max() / profit.sum())
    assert whale.peak_share_ > 1.0  # real costs: some customers destroy value
    assert whale.value_destroying_share_ == pytest.approx((table["profit"] < 0).mean())
    assert whale.peak_customer_share_ == pytest.approx(table["profitable"].mean())
    assert whale.losses_ == pytest.approx(-table["profit"].clip(upper=0).sum())
    np.testing.assert_allclose(whale.curve_["cumulative_profit"], cumulative.to_numpy())
    assert whale.peak_share_ == pytest.approx(1 + whale.losses_ / whale.total_profit_)


def test_bad_input() -> None:
    with pytest.raises(SchemaError, match="every 'profit' value is zero") as err:
        WhaleCurve().fit(pd.Series([0.0, 0.0], name="profit"))
    assert err.value.reason == "zero_total"
    with pytest.raises(SchemaError, match="no customers"):
        WhaleCurve().fit(pd.DataFrame({"profit": []}, dtype=float))
    with pytest.raises(SchemaError, match=r"lacks.*customer_profitability"):
        WhaleCurve().fit(pd.DataFrame({"total_amount": [1.0]}))
    with pytest.raises(SchemaError, match="NaN or infinite"):
        WhaleCurve().fit(pd.Series([1.0, np.inf]))


def test_estimator_contract(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFittedError):
        WhaleCurve().summary()
    assert clone(WhaleCurve(column="p")).get_params() == {"column": "p"}
    table = pd.DataFrame({"p": [3.0, -1.0]}, index=pd.Index(["a", "b"], name="customer_id"))
    before = table.copy()
    whale = WhaleCurve(column="p").fit(table)
    pd.testing.assert_frame_equal(table, before)
    joblib.dump(whale, tmp_path / "w.joblib")
    loaded = joblib.load(tmp_path / "w.joblib")
    pd.testing.assert_frame_equal(loaded.curve_, whale.curve_)
    assert loaded.peak_share_ == whale.peak_share_ == 1.5
