"""breakdown: hand-computed shares, labels from a Series, attributes, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel import SchemaError, summarize_customers
from custintel.datasets import make_transactions
from custintel.features import customer_attributes, customer_profitability
from custintel.profitability import ParetoAnalysis, breakdown


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "revenue": [100.0, 50.0, 30.0, 20.0],
            "cost": [60.0, 40.0, 35.0, 15.0],
            "profit": [40.0, 10.0, -5.0, 5.0],
            "profitable": [True, True, False, True],
            "region": ["N", "S", "N", "S"],
        },
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )


def test_hand_computed_by_column(table: pd.DataFrame) -> None:
    # N: customers 1, 3: revenue 130 (65% of 200), cost 95 (of 150), profit 35 (of 50 = 70%)
    # S: customers 2, 4: revenue 70 (35%), cost 55, profit 15 (30%)
    out = breakdown(table, "region")
    assert out.index.tolist() == ["N", "S"]
    assert out["n_customers"].tolist() == [2, 2]
    assert out["customer_share"].tolist() == [0.5, 0.5]
    assert out["revenue"].tolist() == [130.0, 70.0]
    assert out["revenue_share"].tolist() == [0.65, 0.35]
    assert out["cost_share"].tolist() == pytest.approx([95 / 150, 55 / 150])
    assert out["profit_share"].tolist() == pytest.approx([0.7, 0.3])
    assert out["profit_per_customer"].tolist() == [17.5, 7.5]
    assert out["profitable_share"].tolist() == [0.5, 1.0]


def test_labels_from_a_series_such_as_abc_classes(table: pd.DataFrame) -> None:
    # revenue 100, 50, 30, 20 of 200: C = 0.5, 0.75, 0.9, 1.0, so C_{k-1} = 0, 0.5, 0.75, 0.9:
    # A (C_{k-1} < 0.8): customers 1, 2, 3; B (0.8 <= C_{k-1} < 0.95): customer 4; C: nobody
    classes = ParetoAnalysis().fit(table).abc_classes()
    assert classes.tolist() == ["A", "A", "A", "B"]
    out = breakdown(table, classes)
    assert out.index.name == "abc_class"
    assert out.index.tolist() == ["A", "B"]  # the empty class C is left out
    assert out["revenue_share"].tolist() == [0.9, 0.1]
    assert out["profit"].tolist() == [45.0, 5.0]


def test_missing_labels_form_their_own_group(table: pd.DataFrame) -> None:
    labels = pd.Series(["x", None, "x", "y"], index=table.index, name="segment")
    out = breakdown(table, labels, measures=["revenue"])
    assert out["n_customers"].tolist() == [2, 1, 1]
    assert out.index[:2].tolist() == ["x", "y"] and pd.isna(out.index[2])


def test_several_columns_and_summary_defaults() -> None:
    tx = make_transactions(400, random_state=5).transactions
    summary = summarize_customers(tx).join(customer_attributes(tx))
    out = breakdown(summary, ["customer_type", "channel"])
    assert out.index.names == ["customer_type", "channel"]
    assert {"total_amount", "total_amount_share", "total_margin_share"} <= set(out.columns)
    reference = summary.groupby(["customer_type", "channel"], observed=True)["total_amount"].sum()
    np.testing.assert_allclose(out["total_amount"], reference.reindex(out.index))
    assert out["n_customers"].sum() == len(summary)
    assert out["total_amount_share"].sum() == pytest.approx(1.0)


def test_profitability_table_by_region_matches_pandas() -> None:
    tx = make_transactions(400, random_state=5).transactions
    table = customer_profitability(tx, cost_per_order=3.0)
    out = breakdown(table, "region")
    reference = table.groupby("region", observed=True)[["revenue", "cost", "profit"]].sum()
    np.testing.assert_allclose(out[["revenue", "cost", "profit"]], reference)
    np.testing.assert_allclose(
        out["profitable_share"], table.groupby("region", observed=True)["profitable"].mean()
    )


def test_shares_of_a_loss_are_undefined(table: pd.DataFrame) -> None:
    losing = table.assign(profit=[-40.0, 10.0, -5.0, 5.0])
    out = breakdown(losing, "region")
    assert out["profit_share"].isna().all()
    assert out["profit"].tolist() == [-45.0, 15.0]


def test_bad_input(table: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match=r"column\(s\) \['channel'\] are not in"):
        breakdown(table, "channel")
    with pytest.raises(SchemaError, match="1 of 4 customers have no label"):
        breakdown(table, pd.Series(["x", "y", "z"], index=[1, 2, 3]))
    with pytest.raises(SchemaError, match="duplicated customer ids"):
        breakdown(table, pd.Series(["x", "y"], index=[1, 1]))
    with pytest.raises(SchemaError, match=r"measure column\(s\) \['margin'\]"):
        breakdown(table, "region", measures=["margin"])
    with pytest.raises(SchemaError, match="must be numeric"):
        breakdown(table, "region", measures=["region"])
    with pytest.raises(SchemaError, match="NaN or infinite"):
        breakdown(table.assign(revenue=[1.0, np.nan, 2.0, 3.0]), "region")
    with pytest.raises(SchemaError, match="found no value column"):
        breakdown(table[["region"]], "region")
    with pytest.raises(SchemaError, match="empty"):
        breakdown(table.iloc[:0], "region")
    with pytest.raises(SchemaError, match="expects a customer table"):
        breakdown(table["revenue"], "region")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="by must be"):
        breakdown(table, 3)  # type: ignore[arg-type]
