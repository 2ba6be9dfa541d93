"""A stand-in for a fitted ``CustomerIntelligence``: exactly the contract's attributes.

Every part is fitted with the library's own estimators on ``make_transactions``
data (items and costs present), the way the pipeline fits them.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd

from custintel import DataQualityWarning, TransactionSchema, summarize_customers
from custintel.basket import CrossSellRecommender
from custintel.churn import ChurnClassifier, backtest
from custintel.clv import BetaGeoModel, CLVModel, ParetoNBDModel
from custintel.datasets import make_transactions
from custintel.features import calibration_holdout_split, make_churn_dataset
from custintel.profitability import ParetoAnalysis, WhaleCurve
from custintel.segmentation import (
    LifecycleSegmenter,
    RFMSegmenter,
    ValueTierSegmenter,
    segment_migration,
)

HORIZON = 180


def fitted_namespace(n_customers: int = 400, *, random_state: int = 7) -> SimpleNamespace:
    """Fit every part of the report on simulated data with items and costs."""
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
    churn = ChurnClassifier().fit(X_train, y_train)
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
    return SimpleNamespace(
        schema_=TransactionSchema(),
        observation_end_=end,
        overview_=overview,
        data_quality_=quality,
        summary_=summary,
        customers_=customers,
        pareto_=pareto,
        whale_=whale,
        rfm_=rfm,
        value_tiers_=tiers,
        lifecycle_=lifecycle,
        migration_=migration,
        churn_model_=churn,
        churn_backtest_=bt,
        clv_model_=clv,
        clv_selection_=clv_selection,
        clv_holdout_=clv_holdout,
        rules_=recommender.rules_,
        recommender_=recommender,
        horizon=HORIZON,
    )


def without_optional_parts(ci: SimpleNamespace) -> SimpleNamespace:
    """Return a copy as fitted on data without items, costs or enough history."""
    out = SimpleNamespace(**vars(ci))
    out.overview_ = {**ci.overview_, "has_items": False, "has_costs": False}
    out.data_quality_ = [
        *ci.data_quality_,
        "the history is too short for an out-of-time churn backtest",
    ]
    out.whale_ = None
    out.churn_backtest_ = None
    out.migration_ = None
    out.rules_ = None
    out.recommender_ = None
    out.clv_holdout_ = ci.clv_holdout_[["frequency_holdout", "predicted_holdout"]]
    customers = ci.customers_.copy()
    for k in (1, 2, 3):
        customers[f"recommendation_{k}"] = None
    out.customers_ = customers
    return out
