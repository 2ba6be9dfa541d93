"""MBG/CNBD-k: fit and prediction cost against MBG/NBD, and holdout tracking on regular data.

Data: BTYDplus' own recovery setup (k = 3, r = 0.85, alpha = 1.45, a = 0.79,
b = 2.42; T = 36..96 weeks in steps of 12; holdout 36 weeks), simulated with
``custintel.clv._cnbd_math.sample_customers``. Prints CPU seconds (median of
``--repeat`` runs) and each model's aggregate holdout error.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_clv_cnbd.py --n 8000 --repeat 3``
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from custintel.clv import (
    BetaGeoModel,
    MBGCNBDModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    dert,
)
from custintel.clv import _cnbd_math as cnbd

TRUTH = np.array([3.0, 0.85, 1.45, 0.79, 2.42])


def cpu(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median CPU seconds of ``function`` over ``repeat`` runs, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = function()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=8000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    T = np.round(rng.uniform(36, 96, args.n) / 12) * 12
    X = pd.DataFrame(cnbd.sample_customers(TRUTH, T, rng, holdout=36.0))
    actual = float(X["frequency_holdout"].sum())
    print(f"n = {args.n:,} customers, holdout purchases = {actual:,.0f}")
    print(f"{'model':<22}{'fit CPU s':>10}{'predict CPU s':>15}{'agg. error':>12}{'MAE':>8}")
    fitted = {}
    for name, make in (
        ("MBG/CNBD-k (k search)", MBGCNBDModel),
        ("MBG/CNBD-k (k = 3)", lambda: MBGCNBDModel(k=3)),
        ("MBG/NBD", ModifiedBetaGeoModel),
        ("BG/NBD", BetaGeoModel),
        ("Pareto/NBD", ParetoNBDModel),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_s, model = cpu(lambda make=make: make().fit(X), args.repeat)
        predict_s, predicted = cpu(lambda m=model: m.predict_purchases(X, t=36), args.repeat)
        error = predicted.sum() / actual - 1
        mae = float(np.mean(np.abs(predicted - X["frequency_holdout"])))
        fitted[name] = model
        print(f"{name:<22}{fit_s:>10.2f}{predict_s:>15.3f}{error:>+12.1%}{mae:>8.3f}")
    model = fitted["MBG/CNBD-k (k search)"]
    params = model.params_.to_numpy()
    columns = [X[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    approx_s, approx = cpu(
        lambda: cnbd.expected_purchases_btydplus(params, *columns, 36.0), args.repeat
    )
    print(
        f"BTYDplus' approximation (cohort-rescaled): predict {approx_s:.3f} CPU s, "
        f"aggregate error {approx.sum() / actual - 1:+.1%}"
    )
    dert_s, _ = cpu(lambda: dert(model, X, discount_rate=0.0027), args.repeat)
    print(f"DERT (delta = 0.0027 per week) of MBG/CNBD-k: {dert_s:.3f} CPU s")
    print(f"chosen k = {int(model.params_['k'])}; log-likelihood by k:")
    print(model.k_log_likelihoods_.round(1).to_string())


if __name__ == "__main__":
    main()
