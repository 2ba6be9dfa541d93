"""Time the purchase-count distributions, P(X(t) = n), against lifetimes on CDNOW.

Both tools use the same fitted parameters (custintel's fit on the CDNOW weekly
table, copied into lifetimes' fitter), so only the prediction is timed. The
cases are lifetimes' two functions: the new-customer distribution
(``probability_of_n_purchases_up_to_time``, BG/NBD) and a known customer's
(``conditional_probability_of_n_purchases_up_to_time``, Pareto/NBD). Each prints
the median CPU time of both, the ratio (lifetimes / custintel: > 1 means
custintel is faster) and the largest absolute difference of the probabilities.

Usage::

    python benchmarks/bench_clv_counts.py               # 5 repeats
    python benchmarks/bench_clv_counts.py --repeats 9
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

from custintel.clv import BetaGeoModel, ParetoNBDModel
from custintel.datasets import load_cdnow_summary

T_WEEKS = 39.0
COUNTS = list(range(6))


def cpu(work: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median CPU seconds of ``work`` and its last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.process_time()
        result = work()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, ParetoNBDFitter

    X = load_cdnow_summary()
    print(f"CDNOW: {len(X):,} customers; t = {T_WEEKS:g} weeks; n = {COUNTS}")
    print("| case | custintel ms | lifetimes ms | ratio | max abs diff |")
    print("|---|---:|---:|---:|---:|")

    bg = BetaGeoModel().fit(X)
    peer_bg = BetaGeoFitter()
    peer_bg.params_ = pd.Series(dict(bg.params_))
    ours_s, ours = cpu(lambda: bg.predict_proba_purchases_new(T_WEEKS, COUNTS), args.repeats)
    theirs_s, theirs = cpu(
        lambda: np.array(
            [peer_bg.probability_of_n_purchases_up_to_time(T_WEEKS, n) for n in COUNTS]
        ),
        args.repeats,
    )
    diff = float(np.max(np.abs(np.ravel(ours) - np.ravel(theirs))))
    print(
        f"| BG/NBD new customer | {ours_s * 1e3:.2f} | {theirs_s * 1e3:.2f} | "
        f"{theirs_s / ours_s:.1f}x | {diff:.1e} |"
    )

    pareto = ParetoNBDModel().fit(X)
    peer_p = ParetoNBDFitter()
    peer_p.params_ = pd.Series(dict(pareto.params_))
    ours_s, ours = cpu(lambda: pareto.predict_proba_purchases(X, t=T_WEEKS, n=COUNTS), args.repeats)
    f, r, T = X["frequency"], X["recency"], X["T"]
    theirs_s, theirs = cpu(
        lambda: np.column_stack(
            [
                np.asarray(
                    peer_p.conditional_probability_of_n_purchases_up_to_time(n, T_WEEKS, f, r, T)
                )
                for n in COUNTS
            ]
        ),
        args.repeats,
    )
    diff = float(np.max(np.abs(np.asarray(ours, dtype=float) - theirs)))
    print(
        f"| Pareto/NBD known customers | {ours_s * 1e3:.2f} | {theirs_s * 1e3:.2f} | "
        f"{theirs_s / ours_s:.1f}x | {diff:.1e} |"
    )


if __name__ == "__main__":
    main()
