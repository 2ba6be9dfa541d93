"""Issue 17's churn quality goal on CDNOW, Online Retail and the simulator, out of time.

The same runs as ``benchmarks/bench_churn.py`` (its docstring gives the
cut-offs). The goal: the default ``ChurnClassifier``'s ROC AUC at least the
best of {logistic RFM, HGB RFM, BG/NBD P(no purchase)} minus 0.003, its
top-decile lift at least the best baseline's minus 0.05, and its expected
calibration error (10 bins) at most 0.03. Criteria not met yet are strict
xfails carrying the measured numbers: they fail as soon as they pass, so the
marker must then be removed.

The candidate ``ChurnClassifier(model="btyd_logistic", calibration=None)``
(logistic regression stacked on a BG/NBD P(no purchase)) is measured in the
same runs: it meets eight of the nine criteria (all but Online Retail's
ECE), against six for the default, but it has no JSON export yet, so it is
not the default; its tests keep it from slipping.
"""

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


CANDIDATE = "BTYD stack"


def _candidate() -> ChurnClassifier:
    return ChurnClassifier(model="btyd_logistic", calibration=None)


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
    """Measure one dataset's goal once per module: ``goal(name)`` (or of the candidate)."""
    _GOALS: dict[tuple[str, str], pd.Series] = {}

    def measure(name: str, model: str = "ChurnClassifier") -> pd.Series:
        if (name, model) not in _GOALS:
            tx = _log(name, cdnow)
            train_cutoff, test_cutoff, horizon = CUTOFFS[name]
            options = {"horizon": horizon, "duplicates": "keep"}
            with threadpool_limits(limits=1), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # refund-only customers, BG/NBD at a -> 0
                train = make_churn_dataset(tx, cutoff=train_cutoff, **options)
                test = make_churn_dataset(tx, cutoff=test_cutoff, **options)
                models = {"ChurnClassifier": ChurnClassifier(), CANDIDATE: _candidate()}
                models.update(BASELINES)
                result = backtest_tables(train, test, horizon=horizon, models=models)
            for row in ("ChurnClassifier", CANDIDATE):
                _GOALS[name, row] = result.against_baselines(row, baselines=list(BASELINES))
        return _GOALS[name, model]

    return measure


def _unmet(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


@pytest.mark.parametrize(
    "name",
    [
        "cdnow",  # measured 0.8063 against logistic RFM's 0.8032
        "online_retail",  # measured 0.7369 against logistic RFM's 0.7370
        pytest.param(
            "simulated",
            marks=_unmet(
                "measured 0.8498 against BG/NBD's 0.8655: the simulator is a BG/NBD process and "
                "the booster cannot extrapolate T and tenure to customers older than any it "
                "was trained on (the btyd_logistic candidate reaches 0.8658)"
            ),
        ),
    ],
)
def test_auc_is_at_least_the_best_baselines(goal, name: str) -> None:
    g = goal(name)
    assert g["roc_auc"] >= g["best_baseline_auc"] - 0.003, g.to_dict()


@pytest.mark.parametrize(
    "name",
    [
        "cdnow",  # measured 3.253 against BG/NBD's 3.214
        "online_retail",  # measured 1.581 against logistic RFM's 1.588
        "simulated",  # measured 3.251 against BG/NBD's 3.236
    ],
)
def test_top_decile_lift_is_at_least_the_best_baselines(goal, name: str) -> None:
    g = goal(name)
    assert g["top_decile_lift"] >= g["best_baseline_lift"] - 0.05, g.to_dict()


@pytest.mark.parametrize(
    "name",
    [
        "cdnow",  # measured 0.0150
        pytest.param(
            "online_retail",
            marks=_unmet(
                "measured 0.091: the churn rate falls from 52% (labels Jun-Sep) to 43% "
                "(Sep-Dec, the Christmas season); top decile predicted 0.82, observed 0.68. "
                "Mean prediction 0.520 against 0.430 observed: an oracle shift of the intercept "
                "to the observed rate gives 0.026, so most of it is the base-rate shift, which "
                "no data at the test cut-off predicts (BG/NBD expects 0.543)"
            ),
        ),
        pytest.param(
            "simulated",
            marks=_unmet(
                "measured 0.096 (mean prediction 0.722, observed 0.734; the oracle intercept "
                "shift still gives 0.091): not the base rate but the booster's flat "
                "extrapolation to older customers; the btyd_logistic candidate gives 0.009"
            ),
        ),
    ],
)
def test_expected_calibration_error_is_at_most_three_points(goal, name: str) -> None:
    g = goal(name)
    assert g["ece"] <= 0.03, g.to_dict()


def test_the_cdnow_figures_do_not_move(goal) -> None:
    # issue 19: the CDNOW churn AUC of the default model stays within 0.002 of 0.8063
    g = goal("cdnow")
    assert g["roc_auc"] == pytest.approx(0.8063, abs=0.002)
    assert g["met"]
    assert g["top_decile_predicted"] == pytest.approx(g["top_decile_observed"], abs=0.03)


@pytest.mark.parametrize(
    ("name", "criteria"),
    [
        # measured AUC 0.8048 (logistic RFM 0.8032), lift 3.238 (BG/NBD 3.214), ECE 0.023
        ("cdnow", ("auc_met", "lift_met", "ece_met")),
        # measured AUC 0.7424 (logistic RFM 0.7370), lift 1.553 (1.588); ECE 0.094 (not met)
        ("online_retail", ("auc_met", "lift_met")),
        # measured AUC 0.8658 (BG/NBD 0.8655), lift 3.228 (BG/NBD 3.236), ECE 0.009
        ("simulated", ("auc_met", "lift_met", "ece_met")),
    ],
)
def test_the_btyd_logistic_candidate_meets_more_of_the_goal(
    goal, name: str, criteria: tuple[str, ...]
) -> None:
    g = goal(name, CANDIDATE)
    assert all(g[c] for c in criteria), g.to_dict()
