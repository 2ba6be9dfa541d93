import numpy as np
import pandas as pd
import pytest

from custintel.report import _format as fmt
from custintel.report._churn import risk_deciles
from custintel.report._crosssell import top_rules


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1234567.0, "1.2M"), (45321.4, "45,321"), (100.0, "100"), (12.5, "12.50"), (None, "–")],
)
def test_money(value, expected):
    assert fmt.money(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.6812, "68%"), (0.05, "5%"), (0.0512, "5.1%"), (1.0, "100%"), (0.0, "0%"), (np.nan, "–")],
)
def test_percent(value, expected):
    assert fmt.percent(value) == expected


def test_count_ratio_date_items():
    assert fmt.count(12345.0) == "12,345"
    assert fmt.ratio(2.345) == "2.3×"
    assert fmt.date(pd.Timestamp("2024-12-31 17:00")) == "2024-12-31"
    assert fmt.item_set(frozenset({"P2", "P1"})) == "P1 + P2"
    assert fmt.item_set(("P9",)) == "P9"


def test_format_frame_does_not_touch_the_input():
    frame = pd.DataFrame({"share": [0.5, 0.25], "n": [1, 2]})
    out = fmt.format_frame(frame, {"share": fmt.percent, "missing": fmt.count})
    assert out["share"].tolist() == ["50%", "25%"]
    assert frame["share"].tolist() == [0.5, 0.25]


def test_risk_deciles_hand_computed():
    # 20 customers with churn probabilities 0.05, 0.10, ..., 1.00: decile 1 holds the two
    # riskiest (1.00 and 0.95, mean 0.975), decile 10 the two safest (0.05 and 0.10, mean 0.075).
    p = np.arange(1, 21) / 20
    customers = pd.DataFrame(
        {"churn_probability": p, "total_amount": np.arange(20.0), "expected_clv": 1.0},
        index=pd.Index(range(20), name="customer_id"),
    )
    table = risk_deciles(customers)
    assert table["customers"].tolist() == [2] * 10
    assert table.loc[1, "mean_churn_probability"] == pytest.approx(0.975)
    assert table.loc[10, "mean_churn_probability"] == pytest.approx(0.075)
    assert table.loc[1, "total_amount"] == 19.0 + 18.0
    assert table["expected_clv"].sum() == 20.0


def test_top_rules_ranks_by_support_times_lift():
    rules = pd.DataFrame(
        {
            "antecedents": [frozenset({"a"}), frozenset({"b", "c"}), frozenset({"d"})],
            "consequents": [frozenset({"x"}), frozenset({"y"}), frozenset({"z"})],
            "support": [0.1, 0.05, 0.2],
            "confidence": [0.5, 0.9, 0.6],
            "lift": [2.0, 3.0, 2.0],
        }
    )
    # support x lift: a 0.2, b + c 0.15, d 0.4.
    top = top_rules(rules, 2)
    assert top["customers who buy"].tolist() == ["d", "a"]
    assert top.index.tolist() == [1, 2]
