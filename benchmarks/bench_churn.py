"""The churn quality goal (issue 17): the default model against its baselines, out of time.

On each dataset the churn tables are built at two cut-offs with
``make_churn_dataset``; every trained model learns at the earlier cut-off
(whose label window ends on the later one) and every model is scored at the
later cut-off (``custintel.churn.backtest_tables``). The models:

- ``ChurnClassifier``: ``ChurnClassifier()`` with its defaults
  (``model="btyd_logistic", calibration=None``: logistic regression on the
  logit of a BG/NBD P(no purchase) fitted at the training cut-off and five
  robust features);
- ``logistic RFM``: logistic regression on signed-log recency, frequency and
  monetary value (``rfm_baseline("logistic")``);
- ``HGB RFM``: HistGradientBoosting on the same three features;
- ``BG/NBD``: the BG/NBD probability of no purchase within the horizon, fitted
  on the test cut-off's history (no labels).

Two other models of the classifier are shown beside the default (not
baselines, not the goal):

- ``HGB``: ``ChurnClassifier(model="hgb", calibration="isotonic")``, the
  default before the BTYD stack (HistGradientBoosting on every churn
  feature, isotonic calibration on 5 folds below 50,000 customers);
- ``logistic``: ``ChurnClassifier(model="logistic", calibration="isotonic")``.

``--select`` adds the selection a backtest could make: every candidate of
``SELECT_CANDIDATES`` is trained at ``SELECT_CUTOFFS[name]`` (one horizon
before the goal's training cut-off, or as near as the log allows) and
scored at the goal's training cut-off, whose labels end on the goal's test
cut-off, so nothing after the goal's test cut-off is seen. The candidates
whose AUC there is within 0.003 of the best are kept, and of those the one
with the lowest ECE is chosen; the goal is then read off the chosen
candidate's row of the goal pair.

The goal: the default model's ROC AUC >= the best baseline's - 0.003, its
top-decile lift >= the best baseline's - 0.05, and its expected calibration
error (10 bins) <= 0.03 (``BacktestResult.against_baselines``). The datasets:

``cdnow``
    The bundled CDNOW log, trained at 1997-06-30, scored at 1997-12-31, 181 days.
``online_retail``
    ``../shared/data/online_retail.csv.gz``, read with ``read_transactions`` and
    cleaned by ``validate_step`` with the main job's defaults (refunds="auto",
    missing ids dropped as ``custintel report --missing-ids drop`` does) and
    the main job's own churn cut-offs for a 90-day horizon: trained at
    ``end - 180`` days (2011-06-12), scored at ``end - 90`` (2011-09-10).
``online_retail_spring``
    The same log one season earlier, trained at 2011-03-01 and scored at
    2011-06-01: not a goal dataset, shown to separate the seasonal shift of
    the autumn pair from the model.
``simulated``
    ``make_transactions(5000, random_state=0)``, trained at 2023-12-31,
    scored at 2024-06-30, 180 days.

Usage::

    nice -n 10 python benchmarks/bench_churn.py                  # every dataset
    nice -n 10 python benchmarks/bench_churn.py cdnow simulated  # some of them
    nice -n 10 python benchmarks/bench_churn.py --select         # and the selection

It prints one table per dataset (the metrics of every model), then the goal
table, and the CPU seconds of each dataset.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from custintel.churn import BacktestResult, ChurnClassifier, backtest_tables
from custintel.features import make_churn_dataset

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.csv.gz"
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
MODELS = {"logistic RFM": "logistic_rfm", "HGB RFM": "hgb_rfm", "BG/NBD": "bgnbd"}
#: name: (train cut-off, test cut-off, horizon in days)
CUTOFFS = {
    "cdnow": ("1997-06-30", "1997-12-31", 181),
    "online_retail": ("2011-06-12", "2011-09-10", 90),
    "online_retail_spring": ("2011-03-01", "2011-06-01", 90),
    "simulated": ("2023-12-31", "2024-06-30", 180),
}
GOAL_DATASETS = ("cdnow", "online_retail", "simulated")
#: name: (training cut-off of the selection pair, its test cut-off = the goal's training one).
#: CDNOW starts on 1997-01-01, so its pair is three months, not a horizon, earlier; the
#: labels of 1997-03-31 end on 1997-09-28, before the goal's test cut-off. Online Retail starts on
#: 2010-12-01, so the spring pair starts a month after it.
SELECT_CUTOFFS = {
    "cdnow": "1997-03-31",
    "online_retail": "2011-03-14",
    "online_retail_spring": "2010-12-31",
    "simulated": "2023-06-30",
}
#: The candidates of the selection: model rows of ``run``.
SELECT_CANDIDATES = ("ChurnClassifier", "HGB", "logistic", "BG/NBD")


def online_retail_log() -> pd.DataFrame:
    """Online Retail read and cleaned as ``custintel report ... --missing-ids drop`` does."""
    from custintel.pipeline import read_transactions, validate_step
    from custintel.schema import TransactionSchema

    raw = read_transactions(DATA, text_columns=["CustomerID", "InvoiceNo", "StockCode"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the export's exact duplicate lines, counted
        log = validate_step(raw, horizon=90, schema=TransactionSchema(**ROLES), missing_ids="drop")
    return log.frame


def transactions(name: str) -> pd.DataFrame:
    """The transaction log of one dataset, in custintel's schema."""
    if name == "cdnow":
        from custintel.datasets import load_cdnow

        return load_cdnow()
    if name.startswith("online_retail"):
        return online_retail_log()
    if name == "simulated":
        from custintel.datasets import make_transactions

        return make_transactions(5000, random_state=0).transactions
    raise ValueError(f"unknown dataset {name!r}; use one of {list(CUTOFFS)}")


def candidates() -> dict[str, Any]:
    """The default classifier, the two other models and the three baselines, by row name."""
    return {
        "ChurnClassifier": ChurnClassifier(),
        "HGB": ChurnClassifier(model="hgb", calibration="isotonic"),
        "logistic": ChurnClassifier(model="logistic", calibration="isotonic"),
        **MODELS,
    }


def run(
    name: str, tx: pd.DataFrame | None = None, *, select: bool = False
) -> tuple[BacktestResult, BacktestResult | None]:
    """Backtest every model on the goal pair (and, with ``select``, the selection pair)."""
    tx = transactions(name) if tx is None else tx
    train_cutoff, test_cutoff, horizon = CUTOFFS[name]
    # duplicates="keep": CDNOW's same-day orders are real; the main job keeps them too
    options: dict[str, Any] = {"horizon": horizon, "duplicates": "keep"}
    train = make_churn_dataset(tx, cutoff=train_cutoff, **options)
    test = make_churn_dataset(tx, cutoff=test_cutoff, **options)
    goal = backtest_tables(train, test, horizon=horizon, models=candidates())
    if not select:
        return goal, None
    earlier = make_churn_dataset(tx, cutoff=SELECT_CUTOFFS[name], **options)
    selection = backtest_tables(earlier, train, horizon=horizon, models=candidates())
    return goal, selection


def choose(selection: BacktestResult, *, auc_margin: float = 0.003) -> str:
    """The candidate a backtest would pick: lowest ECE among those within the margin of best AUC."""
    table = selection.metrics.loc[list(SELECT_CANDIDATES)]
    close = table[table["roc_auc"] >= table["roc_auc"].max() - auc_margin]
    return str(close["ece"].idxmin())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", help=f"some of {list(CUTOFFS)}; default: all")
    parser.add_argument("--select", action="store_true", help="add the backtest selection")
    args = parser.parse_args()
    unknown = [d for d in args.datasets if d not in CUTOFFS]
    if unknown:
        parser.error(f"unknown datasets {unknown}; use some of {list(CUTOFFS)}")
    args.datasets = args.datasets or list(CUTOFFS)
    goals: dict[tuple[str, str], pd.Series] = {}
    columns = ["roc_auc", "top_decile_lift", "ece", "brier", "base_rate"]
    with threadpool_limits(limits=1):
        for name in args.datasets:
            if name.startswith("online_retail") and not DATA.exists():
                print(f"{name}: skipped, {DATA} is absent")
                continue
            start = time.process_time()
            result, selection = run(name, select=args.select)
            cpu = time.process_time() - start
            train_cutoff, test_cutoff, horizon = CUTOFFS[name]
            print(f"\n## {name}: train {train_cutoff}, test {test_cutoff}, {horizon} days")
            print(f"{len(result.y_test)} test customers; {cpu:.1f} CPU s")
            print(result.metrics[columns].round(4).to_string())
            for model in ("ChurnClassifier", "HGB"):
                goals[name, model] = result.against_baselines(model, baselines=list(MODELS))
            if selection is not None:
                chosen = choose(selection)
                print(f"\nselection pair: train {SELECT_CUTOFFS[name]}, test {train_cutoff}")
                print(selection.metrics[columns].round(4).to_string())
                print(f"chosen: {chosen}")
                goal = result.against_baselines(chosen, baselines=list(MODELS))
                goals[name, f"selected ({chosen})"] = goal
    table = pd.DataFrame(goals).T
    print("\n## goal: AUC >= best - 0.003, lift >= best - 0.05, ECE <= 0.03\n")
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(table.to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
