"""Early-life value against the BTYD forecast for new customers (issue 20), in one run.

For each dataset, "today" is the end of a test cohort's acquisition window.
The new customers are those acquired in that window (ages 0 to ~60 days);
the truth is what each spends in the ``horizon`` days after today.

- **custintel EarlyLifeValueModel** is trained on an *earlier* cohort (its
  customers acquired before the test window; rows at ages 0, 7, 14, 30 and
  60 days with the value in the horizon after each as the label), so no test
  customer's data is read in training. The earlier cohort's labels run over
  calendar time that overlaps the test horizon (CDNOW acquired every customer
  in its first 12 weeks, so no cohort has a finished label before today).
- **BTYD**: BG/NBD and Gamma-Gamma fitted on every customer's summary as of
  today, predicting expected purchases over the horizon times expected spend:
  the forecast a lifetimes user would make. For one-time buyers it depends on
  their age only.

Scores, on the new customers only: Spearman's rank correlation between the
forecast and the realised value, and the top-decile capture (the share of the
cohort's realised value held by the 10 % with the highest forecast; ties are
broken at random, seeded). Datasets: CDNOW (bundled), Online Retail
(``../shared/data``, cleaned as the main job cleans it; horizon 180 days, the
file covers one year) and the simulator (``make_transactions``, 6,000
customers acquired over a year), plain and with first orders that reveal the
customer's purchase rate (``plant_first_basket_effects``, strength 1). New
customers are at most 90 days old; the training rows are at ages 0, 7, 14, 30,
60 and 90 days.

Run::

    python benchmarks/bench_early_life.py
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_churn import DATA, transactions  # the same data and cleaning

#: name: (training cohort from, training cohort until, test cohort from, today, horizon days)
COHORTS = {
    "cdnow": ("1997-01-01", "1997-02-14", "1997-02-15", "1997-03-31", 365),
    "online_retail": ("2010-12-01", "2011-03-31", "2011-04-01", "2011-06-10", 180),
    "simulated": ("2023-01-01", "2023-06-30", "2023-10-02", "2023-12-31", 365),
    "simulated_first_basket": ("2023-01-01", "2023-06-30", "2023-10-02", "2023-12-31", 365),
}
AGES = (0, 7, 14, 30, 60, 90)


def top_decile_capture(forecast: np.ndarray, value: np.ndarray, seed: int = 0) -> float:
    """Share of the total ``value`` held by the 10 % highest ``forecast`` (ties at random)."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(forecast)), -forecast))
    top = order[: max(1, len(order) // 10)]
    total = value.clip(min=0).sum()
    return float(value[top].clip(min=0).sum() / total) if total > 0 else float("nan")


def btyd_forecast(tx: pd.DataFrame, today: str, horizon: int, ids: pd.Index) -> pd.Series:
    """BG/NBD x Gamma-Gamma expected value over the horizon, fitted on the summary as of today."""
    from custintel.clv import BetaGeoModel, GammaGammaModel
    from custintel.features import summarize_customers

    summary = summarize_customers(tx, observation_end=today, duplicates="keep")
    purchases = BetaGeoModel().fit(summary).predict_purchases(summary, t=horizon)
    repeat = summary.loc[summary["frequency"] > 0]
    spend = GammaGammaModel().fit(repeat).predict_spend(summary)
    forecast = (purchases * spend).reindex(ids)
    # Gamma-Gamma has no spend for a repeat buyer whose net spend is not positive (refunds):
    # give those few the median forecast rather than drop them from the comparison.
    return forecast.fillna(forecast.median())


def realised(tx: pd.DataFrame, today: str, horizon: int, ids: pd.Index) -> pd.Series:
    """Net amount each customer spends in the horizon after today."""
    start = pd.Timestamp(today) + pd.Timedelta(days=1)
    end = start + pd.Timedelta(days=horizon)
    window = tx.loc[(tx["timestamp"] >= start) & (tx["timestamp"] < end)]
    return window.groupby("customer_id")["amount"].sum().reindex(ids, fill_value=0.0)


def run(name: str) -> dict[str, float]:
    from custintel.acquisition import EarlyLifeValueModel
    from custintel.features import early_life_features, make_early_life_dataset

    train_from, train_until, test_from, today, horizon = COHORTS[name]
    if name.startswith("simulated"):  # acquisition over a whole year: there are new customers
        from custintel.datasets import make_transactions, plant_first_basket_effects

        sim = make_transactions(6000, acquisition_days=365, random_state=0)
        planted = name == "simulated_first_basket"
        tx = plant_first_basket_effects(sim) if planted else sim.transactions
    else:
        tx = transactions(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.process_time()
        X, y = make_early_life_dataset(
            tx,
            horizon_days=horizon,
            ages=AGES,
            acquired_from=train_from,
            acquired_until=train_until,
            duplicates="keep",
        )
        model = EarlyLifeValueModel().fit(X, y.clip(lower=0))
        age = (pd.Timestamp(today) - pd.Timestamp(test_from)).days
        new = early_life_features(
            tx.loc[tx["timestamp"] < pd.Timestamp(today) + pd.Timedelta(days=1)],
            max_age_days=age,
            observation_end=today,
            duplicates="keep",
        )
        early = model.predict(new)
        seconds = time.process_time() - started
        btyd = btyd_forecast(tx, today, horizon, new.index)
    truth = realised(tx, today, horizon, new.index).to_numpy()
    row = {"new customers": len(new), "training rows": len(X), "fit+predict CPU s": seconds}
    for label, forecast in (("early-life", early.to_numpy()), ("BTYD", btyd.to_numpy())):
        row[f"{label} Spearman"] = float(stats.spearmanr(forecast, truth).statistic)
        row[f"{label} top-10% capture"] = top_decile_capture(forecast, truth)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(COHORTS), choices=list(COHORTS))
    args = parser.parse_args()
    rows = {}
    for name in args.datasets:
        if name == "online_retail" and not DATA.exists():
            print(f"skipping online_retail: {DATA} is absent")
            continue
        rows[name] = run(name)
    table = pd.DataFrame(rows).T
    with pd.option_context("display.float_format", "{:.3f}".format):
        print(table.T.to_string())


if __name__ == "__main__":
    main()
