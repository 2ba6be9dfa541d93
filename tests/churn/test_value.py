"""Value at risk and the retention budget: hand-computed cases and the errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel.churn import RetentionPlan, retention_budget, value_at_risk


def _ids(*ids: object) -> pd.Index:
    return pd.Index(list(ids), name="customer_id")


def test_value_at_risk_aligns_on_customers() -> None:
    p = pd.Series([0.5, 0.1, 1.0], index=_ids("007", "7", "x"))
    clv = pd.Series([30.0, 200.0, 8.0], index=_ids("x", "007", "7"))
    # 007: 0.5 * 200 = 100; 7: 0.1 * 8 = 0.8; x: 1.0 * 30 = 30 (ids are text: 007 != 7)
    out = value_at_risk(p, clv)
    assert out.name == "value_at_risk"
    assert out.index.tolist() == ["007", "7", "x"]
    assert out.tolist() == pytest.approx([100.0, 0.8, 30.0])
    assert clv.index.tolist() == ["x", "007", "7"]  # the inputs are not reordered


def test_value_at_risk_errors() -> None:
    p = pd.Series([0.5, 0.2], index=_ids(1, 2))
    with pytest.raises(
        ValueError, match=r"1 only in churn_probability \(e.g. \[2\]\).*1 only in clv"
    ):
        value_at_risk(p, pd.Series([1.0, 2.0], index=_ids(1, 3)))
    with pytest.raises(ValueError, match=r"clv is negative for 1 customers, e.g. \[2\]"):
        value_at_risk(p, pd.Series([1.0, -2.0], index=_ids(1, 2)))
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        value_at_risk(p * 100, pd.Series([1.0, 2.0], index=_ids(1, 2)))
    with pytest.raises(ValueError, match="missing or infinite"):
        value_at_risk(
            pd.Series([np.nan, 0.2], index=_ids(1, 2)), pd.Series([1.0, 2.0], index=_ids(1, 2))
        )
    with pytest.raises(ValueError, match="repeated customer ids"):
        value_at_risk(
            pd.Series([0.1, 0.2], index=_ids(1, 1)), pd.Series([1.0, 2.0], index=_ids(1, 2))
        )
    with pytest.raises(ValueError, match="must be a pandas Series"):
        value_at_risk(np.array([0.1, 0.2]), pd.Series([1.0, 2.0], index=_ids(1, 2)))  # type: ignore[arg-type]


def test_retention_budget_hand_computed() -> None:
    var = pd.Series([50.0, 5.0, 200.0, 20.0, 50.0], index=_ids(1, 2, 3, 4, 5))
    plan = retention_budget(var, n_contacts=3, response_rate=0.25, contact_cost=4.0)
    assert isinstance(plan, RetentionPlan)
    # ranked: 3 (200), 1 (50), 5 (50, ties keep input order), 4 (20), 2 (5)
    # kept = 0.25 * VaR: 50, 12.5, 12.5, 5, 1.25; net = kept - 4: 46, 8.5, 8.5, 1, -2.75
    assert plan.customers.index.tolist() == [3, 1, 5]
    assert plan.customers["rank"].tolist() == [1, 2, 3]
    assert plan.customers["expected_net_value"].tolist() == pytest.approx([46.0, 8.5, 8.5])
    assert plan.customers["cumulative_value_kept"].tolist() == pytest.approx([50.0, 62.5, 75.0])
    s = plan.summary
    assert s["contacted"] == 3 and s["customers"] == 5
    assert s["value_at_risk_total"] == pytest.approx(325.0)
    assert s["value_at_risk_covered"] == pytest.approx(300.0)
    assert s["share_covered"] == pytest.approx(300 / 325)
    assert s["expected_value_kept"] == pytest.approx(75.0)
    assert s["cost_total"] == pytest.approx(12.0)
    assert s["expected_net_value"] == pytest.approx(63.0)
    assert s["contacts_that_pay"] == 4  # customer 4 still pays (net 1), customer 2 does not
    # None: contact every customer whose contact pays
    assert retention_budget(var, response_rate=0.25, contact_cost=4.0).customers.index.tolist() == [
        3,
        1,
        5,
        4,
    ]
    # more contacts than customers: everyone, nothing invented
    assert len(retention_budget(var, n_contacts=99, response_rate=0.1).customers) == 5


def test_retention_budget_carries_frame_columns() -> None:
    frame = pd.DataFrame(
        {"value_at_risk": [1.0, 9.0], "reason_1": ["a", "b"]}, index=_ids("u", "v")
    )
    plan = retention_budget(frame, n_contacts=1, response_rate=0.5)
    assert plan.customers.index.tolist() == ["v"]
    assert plan.customers["reason_1"].tolist() == ["b"]
    assert frame.columns.tolist() == ["value_at_risk", "reason_1"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"response_rate": 0.0}, "response_rate must be a share in \\(0, 1\\]"),
        ({"response_rate": 1.5}, "response_rate"),
        ({"response_rate": 0.1, "contact_cost": -1.0}, "contact_cost"),
        ({"response_rate": 0.1, "n_contacts": -1}, "n_contacts"),
        ({"response_rate": 0.1, "n_contacts": 2.5}, "n_contacts"),
    ],
)
def test_retention_budget_errors(kwargs: dict, match: str) -> None:
    var = pd.Series([1.0, 2.0], index=_ids(1, 2))
    with pytest.raises(ValueError, match=match):
        retention_budget(var, **kwargs)


def test_retention_budget_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="'value_at_risk' column"):
        retention_budget(pd.DataFrame({"x": [1.0]}), response_rate=0.1)
    with pytest.raises(ValueError, match="negative"):
        retention_budget(pd.Series([-1.0], index=_ids(1)), response_rate=0.1)
