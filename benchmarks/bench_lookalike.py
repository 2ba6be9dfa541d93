"""Lookalike prospects (issue 20): how much a customer's attributes say about becoming high-value.

One run, two datasets, a random half of the customers held out:

- **simulator with planted effects**: 8,000 customers whose value scales with
  the channel (web x3) and the company size, not with the region; the model
  must find channel and size and leave region near zero.
- **Online Retail** (``../shared/data``, cleaned as the main job cleans it):
  the only attribute a prospect list would have is the country; the value is
  each customer's total net spend over the year.

Printed per dataset: held-out AUC of "top 20 % by value", top-decile lift,
expected calibration error, and the strongest drivers.

Run::

    python benchmarks/bench_lookalike.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_churn import DATA, transactions  # the same data and cleaning


def planted(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "channel": rng.choice(["web", "store", "partner"], n, p=[0.4, 0.4, 0.2]),
            "region": rng.choice(["north", "south"], n),
            "employees": rng.lognormal(3.0, 1.0, n),
        }
    )
    scale = np.where(X["channel"] == "web", 3.0, 1.0) * (X["employees"] / 20.0) ** 0.5
    return X, rng.gamma(2.0, 50.0 * scale)


def online_retail() -> tuple[pd.DataFrame, np.ndarray]:
    tx = transactions("online_retail")
    country = tx.groupby("customer_id")["region"].agg(lambda s: s.mode().iloc[0])
    value = tx.groupby("customer_id")["amount"].sum()
    return pd.DataFrame({"country": country.astype(str)}), value.reindex(country.index).to_numpy()


def evaluate(X: pd.DataFrame, value: np.ndarray) -> dict[str, object]:
    from custintel._metrics import expected_calibration_error
    from custintel.acquisition import LookalikeModel

    rng = np.random.default_rng(0)
    train = rng.random(len(X)) < 0.5
    model = LookalikeModel().fit(X[train], value[train])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # countries seen only in the held-out half
        proba = model.predict_proba(X[~train]).to_numpy()
        lift = model.lift_table(X[~train], value[~train])
    high = (value[~train] >= model.threshold_).astype(int)
    drivers = model.drivers_.head(4)
    return {
        "customers": len(X),
        "held-out AUC": round(float(roc_auc_score(high, proba)), 3),
        "top-decile lift": round(float(lift["lift"].iloc[0]), 2),
        "ECE": round(float(expected_calibration_error(high, proba)), 3),
        "strongest drivers": "; ".join(
            f"{a}={v} (odds x{o:.2f})"
            for a, v, o in zip(
                drivers["attribute"], drivers["value"], drivers["odds_ratio"], strict=True
            )
        ),
    }


def main() -> None:
    rows = {"simulator (planted)": evaluate(*planted(8000, seed=0))}
    if DATA.exists():
        rows["Online Retail (country only)"] = evaluate(*online_retail())
    else:
        print(f"skipping Online Retail: {DATA} is absent")
    with pd.option_context("display.max_colwidth", 200, "display.width", 250):
        print(pd.DataFrame(rows).T.to_string())


if __name__ == "__main__":
    main()
