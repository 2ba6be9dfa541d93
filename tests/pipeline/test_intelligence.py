"""CustomerIntelligence: the steps call the existing estimators, and scoring is row-wise."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from custintel import CustomerIntelligence as TopLevel
from custintel.churn import ChurnClassifier
from custintel.clv import BetaGeoModel, ParetoNBDModel
from custintel.exceptions import DataQualityWarning, SchemaError
from custintel.features import make_churn_dataset, summarize_customers
from custintel.pipeline import CUSTOMER_COLUMNS, CustomerIntelligence
from custintel.schema import TransactionSchema

pytestmark = pytest.mark.slow


def test_reexported_at_top_level() -> None:
    assert TopLevel is CustomerIntelligence


def test_score_of_training_data_equals_customers(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    scored = fitted.score(pipeline_tx)
    pd.testing.assert_frame_equal(scored, fitted.customers_)
    assert tuple(scored.columns) == CUSTOMER_COLUMNS
    assert scored.index.name == "customer_id"
    assert scored.index.is_monotonic_increasing
    assert len(scored) == len(fitted.summary_) == fitted.overview_["n_customers"] == 400


def test_customer_columns_are_the_estimators_outputs(fitted: CustomerIntelligence) -> None:
    c, s = fitted.customers_, fitted.summary_
    for column in ("frequency", "recency", "T", "monetary_value", "total_amount"):
        pd.testing.assert_series_equal(c[column], s[column], check_names=False)
    rfm = fitted.rfm_.transform(s)
    assert (c["rfm_segment"].astype(str) == rfm["segment"].astype(str)).all()
    # rfm_score concatenates the three scores: R=5, F=4, M=3 -> "543".
    expected = rfm["r_score"].astype(str) + rfm["f_score"].astype(str) + rfm["m_score"].astype(str)
    assert (c["rfm_score"] == expected).all()
    assert (
        c["value_tier"].astype(str) == fitted.value_tiers_.transform(s)["tier"].astype(str)
    ).all()
    assert (
        c["lifecycle_stage"].astype(str) == fitted.lifecycle_.transform(s)["stage"].astype(str)
    ).all()
    model = fitted.clv_model_.purchase_model_
    np.testing.assert_allclose(c["p_alive"], model.predict_proba_alive(s))
    np.testing.assert_allclose(c["expected_purchases"], model.predict_purchases(s, t=180.0))
    # 180 days is round(180 / 30.4375) = 6 months; 10 % a year is 1.1 ** (1/12) - 1 a month.
    clv = fitted.clv_model_.predict_clv(
        s,
        horizon=6,
        discount_rate=1.1 ** (1 / 12) - 1,
        margin=fitted.margin_,
        period_length=30.4375,
    )
    np.testing.assert_allclose(c["expected_clv"], clv)
    for column in ("churn_probability", "p_alive"):
        assert c[column].between(0, 1).all()


def test_margin_comes_from_the_cost_column(fitted: CustomerIntelligence) -> None:
    s = fitted.summary_
    assert fitted.margin_ == pytest.approx(s["total_margin"].sum() / s["total_amount"].sum())
    assert 0 < fitted.margin_ < 1


def test_clv_model_is_chosen_by_holdout_mae_and_refitted(fitted: CustomerIntelligence) -> None:
    selection = fitted.clv_selection_
    assert list(selection.index) == ["BG/NBD", "Pareto/NBD"]
    assert list(selection.columns) == [
        "holdout_mae",
        "log_likelihood",
        "boundary",
        "lr_statistic",
        "lr_p_value",
        "chosen",
    ]
    chosen = selection.index[selection["chosen"]]
    assert len(chosen) == 1 and chosen[0] == selection["holdout_mae"].idxmin()
    holdout = fitted.clv_holdout_
    mae = (holdout["predicted_holdout"] - holdout["frequency_holdout"]).abs().mean()
    assert selection.loc[chosen[0], "holdout_mae"] == pytest.approx(mae)
    # The chosen model is refitted on the full period: same parameters as a direct fit.
    cls = {"BG/NBD": BetaGeoModel, "Pareto/NBD": ParetoNBDModel}[chosen[0]]
    direct = cls().fit(fitted.summary_)
    np.testing.assert_allclose(fitted.clv_model_.purchase_model_.params_, direct.params_)


def test_churn_model_is_trained_one_horizon_before_the_end(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    end = fitted.observation_end_
    assert end == pd.Timestamp("2024-12-30")  # the day of the last transaction
    X, y = make_churn_dataset(
        pipeline_tx, cutoff=str((end - pd.Timedelta(days=180)).date()), horizon=180
    )
    with threadpool_limits(limits=1):
        # 400 customers: leaf size 400 // 20 = 20.
        direct = ChurnClassifier(min_samples_leaf=20).fit(X, y)
        np.testing.assert_allclose(
            fitted.churn_model_.predict_proba(X), direct.predict_proba(X), rtol=1e-10
        )
    backtest = fitted.churn_backtest_
    assert backtest is not None
    assert set(backtest.metrics.index) == {"ChurnClassifier", "recency", "BG/NBD"}


def test_other_fitted_parts(fitted: CustomerIntelligence) -> None:
    assert fitted.whale_ is not None and fitted.rules_ is not None
    assert fitted.recommender_ is not None and fitted.migration_ is not None
    assert fitted.pareto_.column_ == "total_margin"
    # Every customer with a recommendation has its items ranked by the recommender.
    assert fitted.customers_["recommendation_1"].notna().all()
    overview = fitted.overview_
    assert overview["has_items"] and overview["has_costs"]
    assert overview["n_rows"] == 7594 and overview["time_unit"] == "D"
    assert set(fitted.timings_) >= {"validate", "fit CLV models", "train churn classifier"}


def test_abc_class_follows_the_fitted_thresholds(fitted: CustomerIntelligence) -> None:
    c = fitted.customers_
    value = fitted.summary_["total_margin"].clip(lower=0)
    a, b = fitted.abc_thresholds_
    expected = np.where(value >= a, "A", np.where(value >= b, "B", "C"))
    assert (c["abc_class"].astype(str).to_numpy() == expected).all()
    # Without ties at the cuts, the thresholds reproduce ParetoAnalysis.abc_classes.
    counts = c["abc_class"].value_counts()
    pareto = fitted.pareto_.abc_classes().value_counts()
    assert (counts - pareto).abs().max() <= 1


def test_scoring_is_row_wise(fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame) -> None:
    features = fitted.customer_features(pipeline_tx)
    rng = np.random.default_rng(0)
    for _ in range(3):
        rows = np.sort(rng.choice(len(features), size=37, replace=False))
        part = fitted.score_customers(features.iloc[rows])
        pd.testing.assert_frame_equal(part, fitted.customers_.iloc[rows])
    # Customers scored from their own transactions only, in two halves, give the same rows
    # (as of the fitted day, whatever the last date of each half).
    ids = pipeline_tx["customer_id"]
    halves = [fitted.score(pipeline_tx.loc[ids % 2 == k]) for k in (0, 1)]
    pd.testing.assert_frame_equal(pd.concat(halves).sort_index(), fitted.customers_)


def test_step_log(pipeline_tx: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="custintel"), pytest.raises(SchemaError):
        CustomerIntelligence(horizon=2000).fit(pipeline_tx)
    assert "[1/9] validate" in caplog.text


def test_history_shorter_than_horizon_is_a_clear_error(pipeline_tx: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="pass a shorter horizon") as err:
        CustomerIntelligence(horizon=2000).fit(pipeline_tx)
    assert err.value.reason == "short_history"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"horizon": 0}, "horizon must be"),
        ({"horizon": 1.5}, "horizon must be"),
        ({"discount_rate": -1.0}, "discount_rate"),
        ({"margin": 1.5}, "margin must be"),
        ({"n_recommendations": 0}, "n_recommendations"),
    ],
)
def test_bad_arguments(pipeline_tx: pd.DataFrame, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CustomerIntelligence(**params).fit(pipeline_tx)


def test_schema_error_before_any_step() -> None:
    raw = pd.DataFrame({"cust": [1], "date": ["2024-01-01"], "revenue": [1.0]})
    with pytest.raises(SchemaError, match="column 'customer_id' is missing"):
        CustomerIntelligence().fit(raw)


def test_without_items_costs_or_a_long_history(pipeline_tx: pd.DataFrame) -> None:
    raw = pipeline_tx[["customer_id", "timestamp", "amount"]].rename(
        columns={"customer_id": "cust", "amount": "revenue"}
    )
    original = raw.copy()
    with threadpool_limits(limits=1):
        ci = CustomerIntelligence({"customer_id": "cust", "amount": "revenue"}, horizon=600)
        ci.fit(raw)
    pd.testing.assert_frame_equal(raw, original)  # the caller's frame is untouched
    assert ci.whale_ is None and ci.rules_ is None and ci.recommender_ is None
    # 3 years cannot test 600 days out of time: the churn window is shortened to one that can.
    assert ci.churn_backtest_ is not None and ci.churn_horizon_ == 437 < ci.horizon_ == 600
    assert any("churn horizon shortened from 600 to 437 days" in m for m in ci.data_quality_)
    assert ci.margin_ == 1.0 and ci.pareto_.column_ == "total_amount"
    assert ci.customers_[["recommendation_1", "recommendation_2"]].isna().all().all()
    summary = summarize_customers(raw, {"customer_id": "cust", "amount": "revenue"})
    pd.testing.assert_series_equal(
        ci.customers_["total_amount"], summary["total_amount"], check_names=False
    )
    pd.testing.assert_frame_equal(ci.score(raw), ci.customers_)
    # Columns it was not trained with are ignored, even named like a role and full of
    # values that would not pass validation.
    noisy = raw.assign(quantity="n/a", cost="free", item_id=None, margin=1.0, note="x")
    pd.testing.assert_frame_equal(ci.score(noisy), ci.customers_)


def test_data_quality_warnings_are_captured(pipeline_tx: pd.DataFrame) -> None:
    doubled = pd.concat([pipeline_tx, pipeline_tx.iloc[:3]], ignore_index=True)
    with threadpool_limits(limits=1), pytest.warns(UserWarning, match="exact duplicates"):
        ci = CustomerIntelligence(horizon=600).fit(doubled)
    assert any("exact duplicates" in m for m in ci.data_quality_)


# --- time zones: one rule everywhere --------------------------------------------------


@pytest.fixture(scope="module")
def fitted_mid_2024(pipeline_tx: pd.DataFrame) -> CustomerIntelligence:
    # 1 July 2024: a day with transactions (the churn labels need data up to the end).
    with threadpool_limits(limits=1), pytest.warns(DataQualityWarning, match="fall after"):
        return CustomerIntelligence(horizon=180, observation_end="2024-07-01").fit(pipeline_tx)


def test_time_zone_aware_observation_end_counts_in_its_own_wall_clock(
    pipeline_tx: pd.DataFrame, fitted_mid_2024: CustomerIntelligence
) -> None:
    # Midnight in London in summer is 23:00 UTC the day before: the day is still 1 July,
    # as for tz-aware timestamps in validate_transactions and summarize_customers.
    london = pd.Timestamp("2024-07-01", tz="Europe/London")
    with threadpool_limits(limits=1), pytest.warns(DataQualityWarning, match="fall after"):
        aware = CustomerIntelligence(horizon=180, observation_end=london).fit(pipeline_tx)
    naive = fitted_mid_2024
    assert aware.observation_end_ == naive.observation_end_ == pd.Timestamp("2024-07-01")
    assert aware.observation_end_.tzinfo is None
    pd.testing.assert_frame_equal(aware.customers_, naive.customers_)
    pd.testing.assert_frame_equal(aware.summary_, naive.summary_)
    np.testing.assert_array_equal(
        aware.clv_model_.purchase_model_.params_, naive.clv_model_.purchase_model_.params_
    )
    assert aware.abc_thresholds_ == naive.abc_thresholds_
    with pytest.warns(DataQualityWarning, match="fall after"):
        summary = summarize_customers(pipeline_tx, observation_end=london, duplicates="keep")
    pd.testing.assert_series_equal(naive.summary_["T"], summary["T"])


def test_time_zone_aware_as_of(fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame) -> None:
    naive = fitted.score(pipeline_tx, as_of="2025-01-15")
    # 00:30 in Tokyo on 15 January is 15:30 UTC on the 14th; the day is the 15th.
    tokyo = pd.Timestamp("2025-01-15 00:30", tz="Asia/Tokyo")
    pd.testing.assert_frame_equal(fitted.score(pipeline_tx, as_of=tokyo), naive)
    utc = pd.Timestamp("2025-01-15 23:59", tz="UTC")
    pd.testing.assert_frame_equal(fitted.score(pipeline_tx, as_of=utc), naive)
    assert (naive["T"] == fitted.customers_["T"] + 16).all()


def test_bad_as_of_names_the_argument(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    with pytest.raises(SchemaError, match=r"^as_of=20250115 is a number") as err:
        fitted.score(pipeline_tx, as_of=20250115)
    assert err.value.reason == "bad_as_of"
    with pytest.raises(SchemaError, match="as_of='soon' is not a date"):
        fitted.customer_features(pipeline_tx, as_of="soon")


def test_score_has_no_observation_end_keyword(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    with pytest.raises(TypeError, match="observation_end"):
        fitted.score(pipeline_tx, observation_end="2024-12-30")  # type: ignore[call-arg]


# --- columns used in training must be there when scoring -----------------------------

_ROLE_FEATURE = {
    "order_id": "n_orders",
    "quantity": "total_quantity",
    "cost": "total_margin",
    "channel": "channel",
    "region": "region",
    "customer_type": "customer_type",
    "item_id": None,  # the recommendations
}


@pytest.mark.parametrize("role", list(_ROLE_FEATURE))
def test_a_missing_training_column_is_a_clear_error(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, role: str
) -> None:
    with pytest.raises(SchemaError) as err:
        fitted.score(pipeline_tx.drop(columns=role))
    message = str(err.value)
    assert err.value.reason == "missing_column"
    assert f"lack the column {role!r} (role {role!r}), which the model was trained with" in message
    assert "Add the column to the transactions, or refit the model on data without it" in message
    feature = _ROLE_FEATURE[role]
    assert (f"feature {feature!r}" if feature else "recommendations") in message
    assert err.value.failure_cases[["role", "column"]].values.tolist() == [[role, role]]


def test_missing_columns_are_named_as_the_user_named_them(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    # The same model, as if trained on columns named Quantity and Region (the fitted
    # models see canonical names, so only the mapping differs).
    renamed = copy.copy(fitted)
    renamed.schema_ = TransactionSchema(quantity="Quantity", region="Region")
    renamed.schema_mapping_ = {
        **fitted.schema_mapping_,
        "quantity": "Quantity",
        "region": "Region",
    }
    tx = pipeline_tx.rename(columns={"quantity": "Quantity", "region": "Region"})
    pd.testing.assert_frame_equal(renamed.score(tx), fitted.customers_)
    with pytest.raises(SchemaError, match="refit the model") as err:
        renamed.score(tx.drop(columns=["Quantity", "Region"]))
    message = str(err.value)
    assert "column 'Quantity' (role 'quantity'), which the model was trained with" in message
    assert "column 'Region' (role 'region')" in message and "these columns" in message
    assert err.value.reason == "missing_column"
    # An explicitly mapped column gets the same message, not the schema's "map it" advice.
    with pytest.raises(SchemaError, match="lack the column 'Quantity'"):
        renamed.customer_features(tx.drop(columns="Quantity"))


def test_customer_rows_without_a_fitted_feature(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    features = fitted.customer_features(pipeline_tx)
    with pytest.raises(SchemaError) as err:
        fitted.score_customers(features.drop(columns=["total_quantity", "region"]))
    message = str(err.value)
    assert err.value.reason == "missing_column"
    assert "the customer rows lack 'total_quantity' (made from the transaction column " in message
    assert "'quantity', role 'quantity', which the model was trained with)" in message
    assert "'region' (made from" in message and "customer_features(tx)" in message
    with pytest.raises(SchemaError, match="lack 'items'"):
        fitted.score_customers(features.drop(columns="items"))
    # Extra columns are ignored.
    extra = features.assign(note="x", score_me=1.0)
    pd.testing.assert_frame_equal(fitted.score_customers(extra), fitted.customers_)


@pytest.mark.slow
def test_value_at_risk_pairs_the_churn_window_with_the_clv_over_it(
    pipeline_tx: pd.DataFrame,
) -> None:
    # A horizon the history cannot test: the churn window is shortened, and the value at
    # risk multiplies P(churn within that window) by the CLV over the same window, not
    # over the longer CLV horizon.
    ci = CustomerIntelligence(horizon=540).fit(pipeline_tx)
    assert ci.churn_horizon_ < ci.horizon_
    c = ci.customers_
    features = ci.customer_features(pipeline_tx)
    months = max(1, round(ci.churn_horizon_ / 30.4375))
    in_window = ci.clv_model_.predict_clv(
        features,
        horizon=months,
        discount_rate=(1.0 + ci.discount_rate) ** (1.0 / 12.0) - 1.0,
        margin=ci.margin_,
        period_length=30.4375,
    )
    np.testing.assert_allclose(
        c["value_at_risk"], c["churn_probability"] * in_window.reindex(c.index), rtol=1e-12
    )
    assert (c["value_at_risk"] < c["churn_probability"] * c["expected_clv"] + 1e-9).all()


def test_churn_reason_keeps_its_type_when_no_customer_is_at_risk(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    scores = fitted.customers_
    safe = scores.index[scores["churn_probability"] < 0.3]
    calm = fitted.score(pipeline_tx.loc[pipeline_tx["customer_id"].isin(safe)])
    assert calm["churn_reason"].isna().all()
    assert calm["churn_reason"].dtype == scores["churn_reason"].dtype


def test_a_spark_frame_is_pointed_to_spark_scoring() -> None:
    fake = type("DataFrame", (), {"__module__": "pyspark.sql.dataframe"})()
    with pytest.raises(SchemaError, match=r"custintel\.spark\.score") as err:
        CustomerIntelligence().fit(fake)
    assert err.value.reason == "spark_frame"
