"""Every public estimator of custintel with a small input, for the common checks."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import custintel as ci
from custintel import acquisition, basket, churn, clv, profitability, promotions, segmentation
from custintel.datasets import make_campaign, make_transactions
from custintel.features import (
    add_litt,
    campaign_outcomes,
    customer_profitability,
    deal_sensitivity,
    make_churn_dataset,
    make_early_life_dataset,
)


@dataclass(frozen=True)
class Case:
    """An estimator, its input and how to read its output."""

    make: Callable[[], Any]
    data: Callable[[], dict[str, Any]]
    output: Callable[[Any, Any], Any] | None = None
    columns: tuple[str, ...] | None = None


@cache
def transactions() -> pd.DataFrame:
    """300 simulated customers, 4,411 order lines (two years, 200 items)."""
    return make_transactions(300, random_state=0).transactions


@cache
def summary_days() -> pd.DataFrame:
    return ci.summarize_customers(transactions())


@cache
def summary_weeks() -> pd.DataFrame:
    return ci.summarize_customers(transactions(), time_unit="W")


@cache
def summary_weeks_litt() -> pd.DataFrame:
    return add_litt(summary_weeks(), transactions())


@cache
def churn_data() -> tuple[pd.DataFrame, pd.Series]:
    return make_churn_dataset(transactions(), cutoff="2024-06-30", horizon=90)


@cache
def profit_table() -> pd.DataFrame:
    return customer_profitability(transactions())


@cache
def campaign() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deal measures before a simulated campaign (400 customers), and each contact's features."""
    sim = make_campaign(400, random_state=0)
    before = sim.transactions.loc[sim.transactions["timestamp"] < sim.contact_date]
    deals = deal_sensitivity(before, duplicates="keep")
    outcomes = campaign_outcomes(sim.transactions, sim.contacts, window_days=60)
    X = deals.reindex(outcomes["customer_id"]).fillna(0.0).astype(np.float64)
    X.index = outcomes.index
    return deals, X.assign(group=outcomes["group"], responded=outcomes["responded"])


@cache
def early_life() -> tuple[pd.DataFrame, pd.Series]:
    return make_early_life_dataset(transactions(), horizon_days=180, ages=(0, 30))


def _uplift_data() -> dict[str, Any]:
    _, contacts = campaign()
    X = contacts.drop(columns=["group", "responded"])
    treated = (contacts["group"] == "treatment").to_numpy()
    return {"X": X, "y": treated, "fit_params": {"y": contacts["responded"].to_numpy()}}


def _frame(table: Callable[[], pd.DataFrame]) -> Callable[[], dict[str, Any]]:
    return lambda: {"X": table().copy()}


# Donors of the 1995 cohort (Fader, Hardie and Shang 2010), one row per pattern.
_DONATIONS = pd.DataFrame(
    {
        "frequency": [0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6],
        "recency": [0, 1, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 3, 4, 5, 6, 4, 5, 6, 5, 6, 6],
        "T": 6,
    }
)
_DONORS = np.array(
    [3464, 1091, 277, 129, 78, 119, 129, 613, 255, 155, 173,
     234, 322, 181, 225, 357, 240, 284, 512, 335, 728, 1203],
    dtype=float,
)  # fmt: skip


def _btyd_output(model: Any, X: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "purchases": model.predict_purchases(X, t=10.0),
            "alive": model.predict_proba_alive(X),
            "no_purchase": model.predict_proba_no_purchase(X, t=10.0),
        }
    )


_BTYD_COLUMNS = ("frequency", "recency", "T", "monetary_value")

CASES: dict[str, Case] = {
    "BetaGeoModel": Case(
        clv.BetaGeoModel, _frame(summary_weeks), _btyd_output, columns=_BTYD_COLUMNS
    ),
    "ModifiedBetaGeoModel": Case(
        clv.ModifiedBetaGeoModel, _frame(summary_weeks), _btyd_output, columns=_BTYD_COLUMNS
    ),
    "ParetoNBDModel": Case(
        clv.ParetoNBDModel, _frame(summary_weeks), _btyd_output, columns=_BTYD_COLUMNS
    ),
    "NBDModel": Case(clv.NBDModel, _frame(summary_weeks), _btyd_output, columns=_BTYD_COLUMNS),
    "BetaGeoBetaBinomModel": Case(
        clv.BetaGeoBetaBinomModel,
        lambda: {"X": _DONATIONS.copy(), "fit_params": {"sample_weight": _DONORS.copy()}},
        _btyd_output,
    ),
    "MBGCNBDModel": Case(
        lambda: clv.MBGCNBDModel(k_max=3),
        _frame(summary_weeks_litt),
        _btyd_output,
        columns=(*_BTYD_COLUMNS, "litt"),
    ),
    "GammaGammaModel": Case(
        clv.GammaGammaModel,
        _frame(summary_weeks),
        lambda model, X: model.predict_spend(X),
        columns=_BTYD_COLUMNS,
    ),
    "ShiftedBetaGeoModel": Case(
        clv.ShiftedBetaGeoModel,
        lambda: {"X": pd.DataFrame({"survivors": [1000, 631, 468, 382, 326, 289, 262, 241]})},
        lambda model, X: model.survival_function([1, 2, 5, 10]),
    ),
    "CLVModel": Case(
        clv.CLVModel,
        _frame(summary_weeks),
        lambda model, X: model.predict_clv(X, horizon=6, discount_rate=0.01, margin=0.3),
        columns=_BTYD_COLUMNS,
    ),
    "RFMSegmenter": Case(segmentation.RFMSegmenter, _frame(summary_days)),
    "ValueTierSegmenter": Case(segmentation.ValueTierSegmenter, _frame(summary_days)),
    "CustomerSegmenter": Case(
        lambda: segmentation.CustomerSegmenter(n_clusters=3),
        _frame(summary_days),
        columns=("days_since_last", "n_orders", "total_amount", "frequency"),
    ),
    "LifecycleSegmenter": Case(segmentation.LifecycleSegmenter, _frame(summary_days)),
    "DealSegmenter": Case(
        segmentation.DealSegmenter,
        lambda: {"X": campaign()[0].copy()},
        columns=("deal_order_share",),
    ),
    "UpliftModel": Case(
        lambda: promotions.UpliftModel(),
        _uplift_data,
        lambda model, X: model.predict(X),
        columns=("deal_order_share",),
    ),
    "LookalikeModel": Case(
        lambda: acquisition.LookalikeModel(),
        lambda: {
            "X": summary_days()[["n_orders", "tenure_days"]].copy(),
            "y": summary_days()["total_amount"].to_numpy(),
        },
        lambda model, X: model.predict_proba(X),
        columns=("n_orders",),
    ),
    "EarlyLifeValueModel": Case(
        lambda: acquisition.EarlyLifeValueModel(min_samples_leaf=10),
        lambda: {"X": early_life()[0].copy(), "y": early_life()[1].copy()},
        lambda model, X: model.predict(X),
        columns=("first_amount",),
    ),
    "ChurnClassifier": Case(
        lambda: churn.ChurnClassifier(max_iter=10, min_samples_leaf=20, cv=2),
        lambda: {"X": churn_data()[0].copy(), "y": churn_data()[1].copy()},
        lambda model, X: model.predict_churn(X),
        columns=("frequency", "recency_share", "customer_type"),
    ),
    "CrossSellRecommender": Case(
        lambda: basket.CrossSellRecommender(min_support=0.02, min_confidence=0.1),
        lambda: {"X": transactions().copy()},
        lambda model, X: model.recommend(X, n=3),
        columns=("customer_id", "order_id", "item_id", "timestamp", "amount"),
    ),
    "SequentialRecommender": Case(
        lambda: basket.SequentialRecommender(min_support=0.02),
        lambda: {"X": transactions().copy()},
        lambda model, X: model.recommend(X, n=3),
        columns=("customer_id", "item_id", "timestamp", "amount"),
    ),
    "ParetoAnalysis": Case(profitability.ParetoAnalysis, _frame(summary_days)),
    "WhaleCurve": Case(profitability.WhaleCurve, _frame(profit_table)),
}


@cache
def pipeline_transactions() -> pd.DataFrame:
    """150 customers over three years: enough history for a 180-day churn backtest."""
    return make_transactions(
        150, random_state=1, start="2022-01-01", acquisition_days=365
    ).transactions


def _pipeline_case() -> Case | None:
    try:
        from custintel.pipeline import CustomerIntelligence
    except ImportError:  # the pipeline is optional in older trees
        return None
    return Case(
        lambda: CustomerIntelligence(horizon=180),
        lambda: {"X": pipeline_transactions().copy()},
        lambda model, X: model.score(X),
        columns=("customer_id", "timestamp", "amount"),
    )


_pipeline = _pipeline_case()
if _pipeline is not None:
    CASES["CustomerIntelligence"] = _pipeline
#: Cases whose fit takes seconds: their checks are marked slow.
SLOW = {"CustomerIntelligence"}


@cache
def checks(name: str) -> dict[str, Any]:
    """The bound checks of one case, built once so that they share one fitted model."""
    from custintel.utils.estimator_checks import iter_checks

    case = CASES[name]
    data = case.data()
    bound = iter_checks(
        case.make(),
        data["X"],
        y=data.get("y"),
        output=case.output,
        fit_params=data.get("fit_params"),
        columns=case.columns,
    )
    return {check.name: check for check in bound}


def run(name: str, check: str) -> Any:
    """Run one check of one case; returns the CheckResult."""
    # One thread: OpenMP workers (HistGradientBoosting) spin badly on a busy machine.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        return checks(name)[check]()
