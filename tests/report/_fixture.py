"""A stand-in for a fitted ``CustomerIntelligence``: its result object, built by hand.

Every part is fitted with the library's own estimators on ``make_transactions``
data (items and costs present), the way the pipeline fits them.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from custintel import DataQualityWarning, TransactionSchema, summarize_customers
from custintel.basket import CrossSellRecommender
from custintel.churn import ChurnClassifier, backtest
from custintel.clv import BetaGeoModel, CLVModel, ParetoNBDModel
from custintel.datasets import make_transactions
from custintel.features import calibration_holdout_split, make_churn_dataset
from custintel.pipeline import (
    ChurnResult,
    CLVResult,
    CrossSellResult,
    CustomerSummary,
    IntelligenceResult,
    ProfitabilityResult,
    SegmentsResult,
    ValidatedLog,
)
from custintel.pipeline._steps import abc_thresholds
from custintel.profitability import ParetoAnalysis, WhaleCurve
from custintel.schema import DataQuality
from custintel.segmentation import (
    LifecycleSegmenter,
    RFMSegmenter,
    ValueTierSegmenter,
    segment_migration,
)

HORIZON = 180

# What cleaning did in the ledger of the fixture, on top of the lines kept (see ledger()).
GUEST_LINES, GUEST_AMOUNT = 120, 1_500.0
EXCLUDED_LINES, EXCLUDED_AMOUNT, EXCLUDED_CODES = 7, 85.5, ("POST", "M")
NONPOSITIVE_LINES = 3
MATCHED_LINES, MATCHED_AMOUNT, CANCELLED, REDUCED = 25, 410.0, 18, 7
UNMATCHED_LINES, UNMATCHED_AMOUNT = 4, 60.0


def ledger(tx: pd.DataFrame) -> DataQuality:
    """A cleaning ledger for ``tx`` as kept: hand-picked drops on top of its lines.

    Lines read = kept + guests + excluded items + non-positive prices + matched returns
    + the purchases they cancelled in full (unmatched returns are netted, so kept).
    """
    kept = len(tx)
    return DataQuality(
        lines_read=kept
        + GUEST_LINES
        + EXCLUDED_LINES
        + NONPOSITIVE_LINES
        + MATCHED_LINES
        + CANCELLED,
        lines_kept=kept,
        revenue_kept=float(tx["amount"].sum()),
        first_date=pd.Timestamp(tx["timestamp"].min()),
        last_date=pd.Timestamp(tx["timestamp"].max()),
        missing_id_lines=GUEST_LINES,
        missing_id_amount=GUEST_AMOUNT,
        excluded_item_lines=EXCLUDED_LINES,
        excluded_item_amount=EXCLUDED_AMOUNT,
        excluded_item_codes=EXCLUDED_CODES,
        nonpositive_price_lines=NONPOSITIVE_LINES,
        returns_matched_lines=MATCHED_LINES,
        returns_matched_amount=MATCHED_AMOUNT,
        purchases_cancelled_lines=CANCELLED,
        purchases_reduced_lines=REDUCED,
        returns_unmatched_lines=UNMATCHED_LINES,
        returns_unmatched_amount=UNMATCHED_AMOUNT,
        unmatched_policy="net",
        refunds_policy="match",
        missing_ids_policy="drop",
        duplicate_lines=2,
        duplicates_policy="warn",
        late_lines=0,
    )


def fitted_result(
    n_customers: int = 400, *, random_state: int = 7, currency: str | None = None
) -> IntelligenceResult:
    """Fit every part of the report on simulated data with items, costs and regions."""
    tx = make_transactions(n_customers, random_state=random_state).transactions
    # Two exact duplicate lines so that validation has something to warn about.
    tx = pd.concat([tx, tx.iloc[:2]], ignore_index=True)
    end = tx["timestamp"].max().normalize()
    before = end - pd.Timedelta(days=HORIZON)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        summary = summarize_customers(tx, observation_end=end, duplicates="warn")
    quality = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    ok = {"duplicates": "keep"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # later rows are dropped on purpose
        summary_before = summarize_customers(tx, observation_end=before, **ok)

    rfm = RFMSegmenter().fit(summary)
    rfm_now = rfm.transform(summary)
    migration = segment_migration(
        rfm.transform(summary_before), rfm_now, revenue=summary["total_amount"]
    )
    tiers = ValueTierSegmenter(value="total_margin").fit(summary)
    lifecycle = LifecycleSegmenter().fit(summary)
    pareto = ParetoAnalysis(value="margin", negative="clip").fit(summary)
    whale = WhaleCurve(column="total_margin").fit(summary)

    X_train, y_train = make_churn_dataset(tx, cutoff=before, horizon=HORIZON, **ok)
    # small leaves: 400 customers cannot fill the default 200-customer leaves (a constant model)
    churn = ChurnClassifier(model="hgb", calibration="isotonic", min_samples_leaf=20).fit(
        X_train, y_train
    )
    bt = backtest(
        tx,
        train_cutoff=before - pd.Timedelta(days=HORIZON),
        test_cutoff=before,
        horizon=HORIZON,
        **ok,
    )

    split = calibration_holdout_split(tx, calibration_end=before, observation_end=end, **ok)
    selection = {}
    holdout = {}
    for name, model in {"BG/NBD": BetaGeoModel(), "Pareto/NBD": ParetoNBDModel()}.items():
        fitted = model.fit(split)
        predicted = fitted.predict_purchases(split, t=float(split["duration_holdout"].iloc[0]))
        holdout[name] = predicted
        selection[name] = {
            "holdout_mae": float(np.mean(np.abs(predicted - split["frequency_holdout"]))),
            "log_likelihood": float(fitted.log_likelihood_),
        }
    clv_selection = pd.DataFrame(selection).T
    chosen = str(clv_selection["holdout_mae"].idxmin())
    clv_selection["chosen"] = clv_selection.index == chosen
    clv_holdout = pd.DataFrame(
        {
            "frequency": split["frequency"],
            "frequency_holdout": split["frequency_holdout"],
            "predicted_holdout": holdout[chosen],
            "duration_holdout": split["duration_holdout"],
        }
    )
    purchase = BetaGeoModel() if chosen == "BG/NBD" else ParetoNBDModel()
    clv = CLVModel(purchase_model=purchase).fit(summary)

    recommender = CrossSellRecommender(min_support=0.02, min_confidence=0.2).fit(tx)
    recs = recommender.recommend(tx, n=3)

    customers = summary[["frequency", "recency", "T", "monetary_value", "total_amount"]].copy()
    customers["rfm_score"] = rfm_now["rfm_sum"]
    customers["rfm_segment"] = rfm_now["segment"]
    customers["value_tier"] = tiers.transform(summary)["tier"]
    customers["lifecycle_stage"] = lifecycle.transform(summary)["stage"]
    p_alive = clv.purchase_model_.predict_proba_alive(summary)
    customers["churn_probability"] = 1.0 - p_alive
    customers["p_alive"] = p_alive
    customers["expected_purchases"] = clv.predict_purchases(summary, t=HORIZON)
    customers["expected_clv"] = clv.predict_clv(summary, horizon=6, discount_rate=0.01)
    customers["value_at_risk"] = customers["churn_probability"] * customers["expected_clv"]
    # reasons from the classifier, for the customers at risk, as the pipeline gives them
    why = churn.explain(X_train, top=1)["reason_1"].reindex(customers.index)
    customers["churn_reason"] = why.where(customers["churn_probability"] >= 0.5).astype(object)
    customers["abc_class"] = pareto.abc_classes().reindex(customers.index)
    for k in (1, 2, 3):
        first = recs.loc[recs["rank"] == k, "item_id"]
        customers[f"recommendation_{k}"] = first.reindex(customers.index)

    overview = {
        "n_rows": len(tx),
        "n_customers": int(tx["customer_id"].nunique()),
        "n_orders": int(tx["order_id"].nunique()),
        "first_date": tx["timestamp"].min(),
        "last_date": tx["timestamp"].max(),
        "total_revenue": float(tx["amount"].sum()),
        "has_items": True,
        "has_costs": True,
        "time_unit": "D",
    }
    return IntelligenceResult(
        log=ValidatedLog(
            frame=tx,
            schema=TransactionSchema(),
            schema_mapping={c: c for c in tx.columns},
            observation_end=end,
            horizon=HORIZON,
        ),
        customers=CustomerSummary(
            summary=summary, overview=overview, margin=1.0, value_column="total_margin"
        ),
        clv=CLVResult(model=clv, selection=clv_selection, holdout=clv_holdout),
        churn=ChurnResult(
            model=churn, backtest=bt, features=[str(c) for c in churn.feature_names_in_]
        ),
        segments=SegmentsResult(rfm, tiers, lifecycle, migration),
        profitability=ProfitabilityResult(pareto, whale, abc_thresholds(pareto)),
        cross_sell=CrossSellResult(recommender, 0.02),
        scores=customers,
        data_quality=quality,
        timings={},
        quality=ledger(tx),
        currency=currency,
    )


def without_optional_parts(result: IntelligenceResult) -> IntelligenceResult:
    """Return a copy as fitted on data without items, costs, regions, a ledger or enough history."""
    customers = result.scores.copy()
    for k in (1, 2, 3):
        customers[f"recommendation_{k}"] = None
    return replace(
        result,
        customers=replace(
            result.customers,
            overview={**result.customers.overview, "has_items": False, "has_costs": False},
        ),
        data_quality=[
            *result.data_quality,
            "the history is too short for an out-of-time churn backtest",
        ],
        profitability=replace(result.profitability, whale=None),
        churn=replace(result.churn, backtest=None),
        segments=replace(result.segments, migration=None),
        cross_sell=CrossSellResult(recommender=None, min_support=None),
        log=replace(result.log, frame=result.log.frame.drop(columns=["region"])),
        quality=None,
        clv=replace(
            result.clv, holdout=result.clv.holdout[["frequency_holdout", "predicted_holdout"]]
        ),
        scores=customers,
    )
