"""The cleaning, CLV and cross-sell parameters of CustomerIntelligence, and item names."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.base import clone

from custintel.pipeline import CustomerIntelligence, cross_sell_step, validate_step
from custintel.pipeline._steps import churn_horizon, item_names

NEW = {
    "refunds": "match",
    "unmatched_refunds": "drop",
    "missing_ids": "drop",
    "exclude_items": ("POST", "M"),
    "penalizer": 0.01,
    "max_rules": 100,
    "currency": "GBP",
}


def test_new_params_are_stored_and_cloned() -> None:
    defaults = CustomerIntelligence().get_params()
    assert {k: defaults[k] for k in NEW} == {
        "refunds": "auto",
        "unmatched_refunds": "net",
        "missing_ids": "raise",
        "exclude_items": None,
        "penalizer": None,
        "max_rules": 5000,
        "currency": None,
    }
    ci = CustomerIntelligence(**NEW)
    params = clone(ci).get_params()
    assert {k: params[k] for k in NEW} == NEW


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"refunds": "undo"}, r"refunds must be one of \['auto', 'match'"),
        ({"unmatched_refunds": "match"}, r"unmatched_refunds must be one of \['net'"),
        ({"missing_ids": "keep"}, r"missing_ids must be one of \['raise', 'drop'\]"),
        ({"exclude_items": "POST("}, "not a valid regular expression"),
        ({"exclude_items": 5}, "exclude_items must be None, a regular expression"),
        ({"exclude_items": ["POST", 1.5]}, "must hold item ids"),
        ({"penalizer": -1.0}, "penalizer must be None or a finite number >= 0"),
        ({"penalizer": float("inf")}, "penalizer must be None or a finite number >= 0"),
        ({"max_rules": 0}, "max_rules must be an integer >= 1"),
        ({"max_rules": True}, "max_rules must be an integer >= 1"),
        ({"currency": ""}, "currency must be None or a non-empty text"),
        ({"n_jobs": 0}, "n_jobs must be None or a non-zero whole number"),
        ({"n_jobs": 1.5}, "n_jobs must be None or a non-zero whole number"),
    ],
)
def test_bad_params_are_clear_errors(
    pipeline_tx: pd.DataFrame, params: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        CustomerIntelligence(horizon=180, **params).fit(pipeline_tx)


def test_churn_horizon_is_the_longest_testable_one() -> None:
    assert churn_horizon(1095, 365) == 365  # 365 days of history before the backtest
    # One year of data: 373 - 2 x 149 = 75 days before the backtest's training cut-off,
    # at least half of 149; 150 would leave 73 < 75.
    assert churn_horizon(373, 365) == 149
    assert churn_horizon(373, 100) == 100
    assert churn_horizon(83, 60) is None  # not even 28 days can be tested
    assert churn_horizon(84, 60) == 28


def test_item_names_take_the_most_common_name() -> None:
    frame = pd.DataFrame(
        {
            "item_id": ["A", "A", "A", "B", "B", "C"],
            "item_name": ["Mug", "mug", "mug", "Plate", "Dish", None],
        }
    )
    names = item_names(frame)
    assert names.to_dict() == {"A": "mug", "B": "Plate"}  # a tie goes to the first seen
    assert names.index.name == "item_id"


def test_rules_carry_item_names(pipeline_tx: pd.DataFrame) -> None:
    tx = pipeline_tx.assign(item_name="name of " + pipeline_tx["item_id"].astype(str))
    log = validate_step(tx, horizon=180)
    result = cross_sell_step(log, max_rules=25)
    rules = result.rules
    assert rules is not None and 0 < len(rules) <= 25
    at = list(rules.columns).index("consequents")
    assert list(rules.columns[at + 1 : at + 3]) == ["antecedent_names", "consequent_names"]
    for ids, names in zip(rules["antecedents"], rules["antecedent_names"], strict=True):
        assert names == tuple(f"name of {i}" for i in ids)
    assert result.name_of([rules["consequents"].iloc[0][0], "unknown", None]) == [
        f"name of {rules['consequents'].iloc[0][0]}",
        "unknown",
        None,
    ]
    if result.recommender.n_rules_found_ > 25:
        assert any("only the best 25" in n for n in result.notes)
    # Without item_name, the rules are the recommender's own.
    plain = cross_sell_step(validate_step(pipeline_tx, horizon=180))
    assert plain.item_names is None and "antecedent_names" not in plain.rules.columns


def test_the_result_carries_quality_currency_and_the_basis(
    pipeline_tx: pd.DataFrame,
) -> None:
    ci = CustomerIntelligence(horizon=180, currency="EUR", discount_rate=0.08).fit(pipeline_tx)
    result = ci.result_
    assert result.currency == "EUR" and result.discount_rate == 0.08
    assert result.quality is not None and result.quality is result.log.quality
    assert result.quality.lines_read == len(pipeline_tx)
    assert result.churn.horizon == ci.churn_horizon_ == 180
    assert result.segments.migration_days == 180
    assert result.clv.penalizer == 0.0 and result.clv.holdout_days == 180
