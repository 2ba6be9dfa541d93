"""Each named step of the main job on its own, and a pipeline assembled with a replaced step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from custintel.clv import BetaGeoModel, CLVModel
from custintel.datasets import make_transactions
from custintel.exceptions import DataQualityWarning, SchemaError
from custintel.pipeline import (
    STEPS,
    ChurnResult,
    CLVResult,
    CustomerIntelligence,
    CustomerSummary,
    ValidatedLog,
    churn_step,
    clv_step,
    cross_sell_step,
    profitability_step,
    require_history,
    segment_step,
    summarise_step,
    validate_step,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def log(pipeline_tx: pd.DataFrame) -> ValidatedLog:
    return validate_step(pipeline_tx, horizon=180)


@pytest.fixture(scope="module")
def customers(log: ValidatedLog) -> CustomerSummary:
    return summarise_step(log)


def test_validate_step(pipeline_tx: pd.DataFrame, log: ValidatedLog) -> None:
    assert log.observation_end == pd.Timestamp("2024-12-30")
    assert log.horizon == 180
    assert log.first_date == pd.Timestamp("2022-01-01")
    assert log.has_items and log.has_costs and log.has_orders
    assert log.schema_mapping["customer_id"] == "customer_id"
    renamed = pipeline_tx.rename(columns={"amount": "revenue"}).drop(columns=["item_id"])
    with pytest.warns(DataQualityWarning, match="fall after observation_end 2024-06-30"):
        other = validate_step(
            renamed, horizon=30, schema={"amount": "revenue"}, observation_end="2024-06-30"
        )
    assert other.observation_end == pd.Timestamp("2024-06-30")
    assert other.schema_mapping["amount"] == "revenue"
    assert not other.has_items
    assert other.frame["timestamp"].max() < pd.Timestamp("2024-07-01")


def test_summarise_step(log: ValidatedLog, customers: CustomerSummary) -> None:
    summary = customers.summary
    assert customers.overview["n_customers"] == len(summary) == 400
    # the margin is the overall margin of the cost column
    expected = summary["total_margin"].sum() / summary["total_amount"].sum()
    assert customers.margin == pytest.approx(expected)
    assert customers.value_column == "total_margin"
    assert summarise_step(log, margin=0.25).margin == 0.25


def test_require_history(pipeline_tx: pd.DataFrame) -> None:
    require_history(validate_step(pipeline_tx, horizon=180))
    with pytest.raises(SchemaError, match="not more than the horizon of 2000 days") as err:
        require_history(validate_step(pipeline_tx, horizon=2000))
    assert err.value.reason == "short_history"


def test_clv_step(log: ValidatedLog, customers: CustomerSummary) -> None:
    result = clv_step(log, customers)
    assert result.selection["chosen"].sum() == 1
    chosen = result.selection.index[result.selection["chosen"]][0]
    names = {"BG/NBD": "BetaGeoModel", "Pareto/NBD": "ParetoNBDModel"}
    assert type(result.model.purchase_model_).__name__ == names[chosen]
    assert list(result.holdout.columns) == ["frequency_holdout", "predicted_holdout"]


def test_churn_step_and_its_backtest_note(log: ValidatedLog, customers: CustomerSummary) -> None:
    with threadpool_limits(limits=1):
        result = churn_step(log, customers)
    assert result.backtest is not None and not result.notes
    assert result.features == list(result.model.feature_names_in_)
    assert result.horizon == log.horizon and result.validated
    short = validate_step(log.frame, horizon=600)  # 3 years: no room for 2 x 600 days
    with threadpool_limits(limits=1):
        shortened = churn_step(short, summarise_step(short))
    # 1094 - 2 x 437 = 220 days of history before the backtest's training cut-off.
    assert shortened.horizon == 437 and shortened.validated
    assert shortened.notes[0].startswith("churn horizon shortened from 600 to 437 days")
    # 68 days: no window of 28 days or more leaves 28 days before a backtest's training cut.
    weeks = make_transactions(
        1500, start="2024-01-01", end="2024-03-09", acquisition_days=20, random_state=1
    ).transactions
    tiny = validate_step(weeks, horizon=30)
    with threadpool_limits(limits=1):
        skipped = churn_step(tiny, summarise_step(tiny))
    assert skipped.backtest is None and not skipped.validated and skipped.horizon == 30
    assert skipped.notes[0].startswith("churn backtest skipped: it needs 60 days")


def test_segment_step(log: ValidatedLog, customers: CustomerSummary) -> None:
    result = segment_step(log, customers)
    assert result.migration is not None and not result.notes
    assert result.value_tiers.value == "total_margin"
    late = validate_step(log.frame.loc[log.frame["timestamp"] > "2024-09-01"], horizon=150)
    skipped = segment_step(late, summarise_step(late))
    assert skipped.migration is None
    assert "segment migration skipped" in skipped.notes[0]


def test_profitability_step(log: ValidatedLog, customers: CustomerSummary) -> None:
    result = profitability_step(log, customers)
    assert result.whale is not None
    a, b = result.abc_thresholds
    assert a >= b > 0
    no_costs = validate_step(log.frame.drop(columns=["cost"]), horizon=180)
    assert profitability_step(no_costs, summarise_step(no_costs)).whale is None


def test_cross_sell_step(log: ValidatedLog) -> None:
    result = cross_sell_step(log)
    assert result.recommender is not None and result.rules is not None and len(result.rules)
    assert 0.001 <= result.min_support <= 0.01
    fixed = cross_sell_step(log, min_support=0.05)
    assert fixed.min_support == 0.05
    no_orders = validate_step(log.frame.drop(columns=["order_id"]), horizon=180)
    skipped = cross_sell_step(no_orders)
    assert skipped.recommender is None and skipped.rules is None
    assert "order_id is not" in skipped.notes[0]
    assert (
        cross_sell_step(validate_step(log.frame.drop(columns=["item_id"]), horizon=180)).notes == []
    )


def test_a_replaced_step_changes_only_its_own_scores(
    log: ValidatedLog,
    customers: CustomerSummary,
    fitted: CustomerIntelligence,
    pipeline_tx: pd.DataFrame,
) -> None:
    # My own CLV model: BG/NBD whatever the holdout prefers; the other steps as usual.
    own = CLVResult(
        model=CLVModel(purchase_model=BetaGeoModel()).fit(customers.summary),
        selection=fitted.clv_selection_,
        holdout=fitted.clv_holdout_,
    )
    churn = ChurnResult(
        model=fitted.churn_model_,
        backtest=fitted.churn_backtest_,
        features=fitted.churn_features_,
    )
    ci = CustomerIntelligence.from_steps(
        log,
        customers,
        own,
        churn,
        segment_step(log, customers),
        profitability_step(log, customers),
        cross_sell_step(log),
    )
    assert ci.result_.clv is own
    assert ci.clv_model_ is own.model
    scores = ci.score(pipeline_tx)
    pd.testing.assert_frame_equal(scores, ci.customers_)
    clv_columns = ["p_alive", "expected_purchases", "expected_clv", "value_at_risk"]
    pd.testing.assert_frame_equal(
        scores.drop(columns=clv_columns), fitted.customers_.drop(columns=clv_columns)
    )
    assert not scores["expected_clv"].equals(fitted.customers_["expected_clv"])


def test_fit_records_every_step(fitted: CustomerIntelligence) -> None:
    assert list(fitted.timings_) == list(STEPS)
    result = fitted.result_
    assert result.scores is fitted.customers_
    assert result.data_quality is fitted.data_quality_
    assert result.clv.model is fitted.clv_model_ and result.churn.model is fitted.churn_model_
    assert result.log.observation_end == fitted.observation_end_


def test_churn_step_failure_is_a_schema_error(pipeline_tx: pd.DataFrame) -> None:
    # observation_end after the last transaction: the label window runs past the data
    log = validate_step(
        pipeline_tx.loc[pipeline_tx["timestamp"] < "2024-06-30"],
        horizon=180,
        observation_end="2024-06-30",
    )
    with pytest.raises(SchemaError, match="cannot be trained at 2024-01-02") as err:
        churn_step(log, summarise_step(log))
    assert err.value.reason == "churn_training_failed"


def test_validate_then_fit_is_fit(pipeline_tx: pd.DataFrame, fitted: CustomerIntelligence) -> None:
    ci = CustomerIntelligence(horizon=180)
    log = ci.validate(pipeline_tx)
    assert log.seconds is not None and log.seconds >= 0
    with threadpool_limits(limits=1):
        ci.fit(log)
    pd.testing.assert_frame_equal(ci.customers_, fitted.customers_)
    assert list(ci.timings_) == list(STEPS)
    assert ci.data_quality_ == fitted.data_quality_
    assert ci.result_.log is log


def test_fit_refuses_a_log_validated_otherwise(pipeline_tx: pd.DataFrame) -> None:
    log = CustomerIntelligence(horizon=180, refunds="net").validate(pipeline_tx)
    with pytest.raises(ValueError, match=r"refunds='net', but this pipeline has refunds='auto'"):
        CustomerIntelligence(horizon=180).fit(log)
    with pytest.raises(ValueError, match="horizon=180, but this pipeline has horizon=90"):
        CustomerIntelligence(horizon=90, refunds="net").fit(log)
    with pytest.raises(ValueError, match="observation_end=None, but this pipeline has"):
        CustomerIntelligence(horizon=180, refunds="net", observation_end="2024-06-30").fit(log)
    with pytest.raises(ValueError, match="another column mapping"):
        CustomerIntelligence({"amount": "revenue"}, horizon=180, refunds="net").fit(log)
    by_hand = ValidatedLog(
        frame=log.frame,
        schema=log.schema,
        schema_mapping=log.schema_mapping,
        observation_end=log.observation_end,
        horizon=180,
    )
    with pytest.raises(ValueError, match="built by hand"):
        CustomerIntelligence(horizon=180).fit(by_hand)
    # the same date written another way is the same setting
    with pytest.warns(DataQualityWarning, match="fall after observation_end"):
        dated = CustomerIntelligence(horizon=180, observation_end="2024-06-30").validate(
            pipeline_tx
        )
    CustomerIntelligence(horizon=180, observation_end=pd.Timestamp("2024-06-30"))._check_log(
        dated, 180
    )


def test_a_mining_failure_skips_cross_sell_with_the_reason(log: ValidatedLog) -> None:
    # Thirty bulk orders of the same 200 items: every set of up to three of them is
    # frequent (1.3 million itemsets, past max_itemsets), so the miner's guard refuses;
    # the step says why and goes on.
    frame = log.frame
    first = frame.drop_duplicates("customer_id").head(30)
    bulk = first.loc[first.index.repeat(200)].copy()
    bulk["order_id"] = np.repeat([f"BULK{i}" for i in range(30)], 200)
    bulk["item_id"] = np.tile([f"SKU{j}" for j in range(200)], 30)
    wide = validate_step(pd.concat([frame, bulk], ignore_index=True), horizon=180)
    result = cross_sell_step(wide, min_support=0.001)
    assert result.recommender is None and result.rules is None
    assert result.skipped is not None and result.skipped.startswith("cross-sell skipped")
    assert "min_support" in result.skipped
    assert result.notes == [result.skipped]


def test_running_out_of_memory_while_mining_is_a_skip_not_a_crash(
    log: ValidatedLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custintel.basket import CrossSellRecommender

    def no_memory(self: object, *args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(CrossSellRecommender, "fit", no_memory)
    result = cross_sell_step(log, min_support=0.05)
    assert result.skipped is not None and "out of memory" in result.skipped
    assert "--min-support" in result.skipped


def test_bulk_orders_are_left_out_of_mining_with_a_note(log: ValidatedLog) -> None:
    frame = log.frame
    first = frame.drop_duplicates("customer_id").head(3)
    bulk = first.loc[first.index.repeat(600)].copy()
    bulk["order_id"] = np.repeat([f"BULK{i}" for i in range(3)], 600)
    bulk["item_id"] = np.tile([f"SKU{j}" for j in range(600)], 3)
    wide = validate_step(pd.concat([frame, bulk], ignore_index=True), horizon=180)
    result = cross_sell_step(wide)
    assert result.skipped is None and result.rules is not None and len(result.rules)
    assert not any("SKU" in str(items) for items in result.rules["antecedents"])
    assert any("3 orders with more than 500 items" in n for n in result.notes)
    # Without the limit the same orders make every set of their items frequent: refused.
    kept = cross_sell_step(wide, min_support=0.001, max_basket_size=None)
    assert kept.skipped is not None and "max_basket_size" in kept.skipped


def test_deal_segments_come_with_a_promotion_column_and_only_then(log: ValidatedLog) -> None:
    from custintel.datasets import make_campaign
    from custintel.pipeline import deal_segments

    assert deal_segments(log) is None
    sim = make_campaign(300, random_state=1)
    with_deals = validate_step(sim.transactions, horizon=180)
    deals = deal_segments(with_deals)
    assert deals is not None
    assert set(deals["deal_segment"].astype(str)) <= {
        "full-price",
        "deal-responsive",
        "deal-driven",
    }
    assert deals.index.equals(summarise_step(with_deals).summary.index)
    result = segment_step(with_deals, summarise_step(with_deals))
    pd.testing.assert_frame_equal(result.deals, deals)
