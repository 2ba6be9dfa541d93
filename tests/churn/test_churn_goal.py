"""Issue 17's churn quality goal on CDNOW, Online Retail and the simulator, out of time.

The same runs as ``benchmarks/bench_churn.py`` (its docstring gives the
cut-offs). The goal: the default ``ChurnClassifier``'s ROC AUC at least the
best of {logistic RFM, HGB RFM, BG/NBD P(no purchase)} minus 0.003, its
top-decile lift at least the best baseline's minus 0.05, and its expected
calibration error (10 bins) at most 0.03. Criteria not met are strict
xfails carrying the measured numbers: they fail as soon as they pass, so the
marker must then be removed.

The default is ``model="btyd_logistic", calibration=None`` (logistic
regression stacked on a BG/NBD P(no purchase)): it meets eight of the nine
criteria, all but Online Retail's ECE, which is a shift of the base rate no
data at the test cut-off predicts (see the xfail). The previous default
(``model="hgb", calibration="isotonic"``) met six: its AUC and ECE on the
simulator failed too."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from custintel.churn import ChurnClassifier, backtest_tables
from custintel.features import make_churn_dataset

pytestmark = pytest.mark.slow

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
ONLINE_RETAIL = SHARED / "data" / "online_retail.csv.gz"
ROLES = {
    "customer_id": "CustomerID",
    "timestamp": "InvoiceDate",
    "quantity": "Quantity",
    "unit_price": "UnitPrice",
    "order_id": "InvoiceNo",
    "item_id": "StockCode",
    "item_name": "Description",
    "region": "Country",
}
BASELINES = {"logistic RFM": "logistic_rfm", "HGB RFM": "hgb_rfm", "BG/NBD": "bgnbd"}
#: dataset: (train cut-off, test cut-off, horizon), as in benchmarks/bench_churn.py
CUTOFFS = {
    "cdnow": ("1997-06-30", "1997-12-31", 181),
    "online_retail": ("2011-06-12", "2011-09-10", 90),
    "simulated": ("2023-12-31", "2024-06-30", 180),
}


def _log(name: str, cdnow: pd.DataFrame) -> pd.DataFrame:
    if name == "cdnow":
        return cdnow
    if name == "simulated":
        from custintel.datasets import make_transactions

        return make_transactions(5000, random_state=0).transactions
    if not ONLINE_RETAIL.exists():
        if os.environ.get("CI") == "true":
            raise FileNotFoundError(f"{ONLINE_RETAIL} is missing, but CI must have the shared data")
        pytest.skip(f"shared data absent ({ONLINE_RETAIL}); it is present in CI")
    from custintel.pipeline import read_transactions, validate_step
    from custintel.schema import TransactionSchema

    raw = read_transactions(ONLINE_RETAIL, text_columns=["CustomerID", "InvoiceNo", "StockCode"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the export's duplicate lines, counted in the report
        log = validate_step(raw, horizon=90, schema=TransactionSchema(**ROLES), missing_ids="drop")
    return log.frame


@pytest.fixture(scope="module")
def goal(cdnow: pd.DataFrame):
    """Measure one dataset's goal once per module: ``goal(name)``."""
    _GOALS: dict[str, pd.Series] = {}

    def measure(name: str) -> pd.Series:
        if name not in _GOALS:
            tx = _log(name, cdnow)
            train_cutoff, test_cutoff, horizon = CUTOFFS[name]
            options = {"horizon": horizon, "duplicates": "keep"}
            with threadpool_limits(limits=1), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # refund-only customers, BG/NBD at a -> 0
                train = make_churn_dataset(tx, cutoff=train_cutoff, **options)
                test = make_churn_dataset(tx, cutoff=test_cutoff, **options)
                models = {"ChurnClassifier": ChurnClassifier(), **BASELINES}
                result = backtest_tables(train, test, horizon=horizon, models=models)
            _GOALS[name] = result.against_baselines("ChurnClassifier", baselines=list(BASELINES))
        return _GOALS[name]

    return measure


def _unmet(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


@pytest.mark.parametrize(
    "name",
    [
        "cdnow",  # measured 0.8048 against logistic RFM's 0.8032
        "online_retail",  # measured 0.7424 against logistic RFM's 0.7370
        "simulated",  # measured 0.8658 against BG/NBD's 0.8655
    ],
)
def test_auc_is_at_least_the_best_baselines(goal, name: str) -> None:
    g = goal(name)
    assert g["roc_auc"] >= g["best_baseline_auc"] - 0.003, g.to_dict()


@pytest.mark.parametrize(
    "name",
    [
        "cdnow",  # measured 3.238 against BG/NBD's 3.214
        "online_retail",  # measured 1.553 against logistic RFM's 1.588
        "simulated",  # measured 3.228 against BG/NBD's 3.236
    ],
)
def test_top_decile_lift_is_at_least_the_best_baselines(goal, name: str) -> None:
    g = goal(name)
    assert g["top_decile_lift"] >= g["best_baseline_lift"] - 0.05, g.to_dict()


@pytest.mark.parametrize(
    "name",
    [
        "cdnow",  # measured 0.023
        pytest.param(
            "online_retail",
            marks=_unmet(
                "measured 0.094: the churn rate falls from 52% (labels Jun-Sep) to 43% "
                "(Sep-Dec, the Christmas season). Mean prediction 0.524 against 0.430 "
                "observed: an oracle shift of the intercept to the observed rate gives 0.017 "
                "(0.026 for the previous hgb default), so it is the base-rate shift, which no "
                "data at the test cut-off predicts (BG/NBD expects 0.543; its prior shift "
                "gives 0.112)"
            ),
        ),
        "simulated",  # measured 0.009 (the previous hgb default: 0.096)
    ],
)
def test_expected_calibration_error_is_at_most_three_points(goal, name: str) -> None:
    g = goal(name)
    assert g["ece"] <= 0.03, g.to_dict()


def test_the_cdnow_figures_do_not_move(goal) -> None:
    # issue 19: the CDNOW churn AUC of the default model stays within 0.002 of 0.8063
    # (the hgb default's; the btyd_logistic default measures 0.8048)
    g = goal("cdnow")
    assert g["roc_auc"] == pytest.approx(0.8063, abs=0.002)
    assert g["met"]
    # measured: top tenth predicted 0.923, observed 0.931
    assert g["top_decile_predicted"] == pytest.approx(g["top_decile_observed"], abs=0.03)


@pytest.mark.parametrize("name", ["cdnow", "simulated"])
def test_the_goal_is_met_in_full(goal, name: str) -> None:
    g = goal(name)
    assert g["auc_met"] and g["lift_met"] and g["ece_met"], g.to_dict()
