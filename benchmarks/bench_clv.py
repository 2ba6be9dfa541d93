"""Time custintel's CLV models against lifetimes' fitters on the same data.

Each fit runs in a fresh subprocess (so one tool's memory does not slow the
other) and the median over repeats is reported with the ratio.

Usage::

    python benchmarks/bench_clv.py                    # all cases, 3 repeats
    python benchmarks/bench_clv.py --cases bgnbd-1m --repeats 1
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import pandas as pd

from _harness import run_fresh

DATA_DIR = Path(__file__).parent / "_data"

# case -> (dataset, custintel class, lifetimes class)
CASES = {
    "bgnbd-cdnow": ("cdnow", "BetaGeoModel", "BetaGeoFitter"),
    "bgnbd-1m": ("sim1m", "BetaGeoModel", "BetaGeoFitter"),
    "mbgnbd-cdnow": ("cdnow", "ModifiedBetaGeoModel", "ModifiedBetaGeoFitter"),
    "pareto-cdnow": ("cdnow", "ParetoNBDModel", "ParetoNBDFitter"),
    "pareto-1m": ("sim1m", "ParetoNBDModel", "ParetoNBDFitter"),
}


def dataset(name: str) -> Path:
    """Customer tables in weeks, cached as Parquet."""
    path = DATA_DIR / f"clv_{name}.parquet"
    if path.exists():
        return path
    DATA_DIR.mkdir(exist_ok=True)
    import custintel as ci
    from custintel.datasets import load_cdnow, make_transactions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "cdnow":
            table = ci.calibration_holdout_split(
                load_cdnow(),
                calibration_end="1997-09-30",
                observation_end="1998-06-30",
                time_unit="W",
                duplicates="keep",
            )
        else:
            tx = make_transactions(1_000_000, random_state=0).transactions
            table = ci.summarize_customers(tx, time_unit="W")
    table[["frequency", "recency", "T", "monetary_value"]].to_parquet(path)
    return path


def _task(tool: str, case: str, path: str) -> dict[str, float]:
    table = pd.read_parquet(path)
    _, ours, theirs = CASES[case]
    import lifetimes

    from custintel import clv

    model_class = getattr(clv, ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        if tool == "custintel":
            model = model_class(on_failure="warn").fit(table)
            fit_wall = time.perf_counter() - start_wall
            fit_cpu = time.process_time() - start_cpu
            start = time.perf_counter()
            model.predict_purchases(table, t=52.0)
            model.predict_proba_alive(table)
            predict = time.perf_counter() - start
        else:
            fitter = getattr(lifetimes, theirs)()
            fitter.fit(table["frequency"], table["recency"], table["T"])
            fit_wall = time.perf_counter() - start_wall
            fit_cpu = time.process_time() - start_cpu
            start = time.perf_counter()
            fitter.conditional_expected_number_of_purchases_up_to_time(
                52.0, table["frequency"], table["recency"], table["T"]
            )
            fitter.conditional_probability_alive(table["frequency"], table["recency"], table["T"])
            predict = time.perf_counter() - start
            # lifetimes keeps its log-likelihood on a rescaled time axis: evaluate its
            # estimate with custintel's likelihood so both numbers are comparable
            params = dict(zip(model_class.param_names, fitter.params_.to_numpy(), strict=True))
            model = model_class.from_dict(
                {
                    "model": ours,
                    "format_version": 1,
                    "params": params,
                    "log_likelihood": 0.0,
                    "converged": True,
                }
            )
        loglik = model.score(table) * len(table)
    return {"fit_wall": fit_wall, "fit_cpu": fit_cpu, "predict": predict, "loglik": loglik}


def run(tool: str, case: str, path: Path) -> dict[str, float]:
    """One timed fit in a fresh interpreter."""
    return run_fresh("bench_clv", "_task", tool, case, str(path), check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"median of {args.repeats} runs, each in a fresh process; tables in weeks")
    header = (
        f"{'case':<14} {'tool':<10} {'fit wall s':>10} {'fit cpu s':>10} "
        f"{'predict s':>10} {'log-lik':>14}"
    )
    print(header)
    for case in args.cases:
        path = dataset(CASES[case][0])
        medians = {}
        for tool in ("custintel", "lifetimes"):
            runs = [run(tool, case, path) for _ in range(args.repeats)]
            if any("error" in r for r in runs):
                print(f"{case:<14} {tool:<10} failed: {runs[0].get('error')}")
                continue
            medians[tool] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            m = medians[tool]
            print(
                f"{case:<14} {tool:<10} {m['fit_wall']:>10.2f} {m['fit_cpu']:>10.2f} "
                f"{m['predict']:>10.3f} {m['loglik']:>14.2f}"
            )
        if len(medians) == 2:
            c, lt = medians["custintel"], medians["lifetimes"]
            print(
                f"{case:<14} {'ratio':<10} {lt['fit_wall'] / c['fit_wall']:>9.1f}x "
                f"{lt['fit_cpu'] / c['fit_cpu']:>9.1f}x {lt['predict'] / c['predict']:>9.1f}x "
                f"{c['loglik'] - lt['loglik']:>+14.2f}  (log-lik: custintel - lifetimes)"
            )


if __name__ == "__main__":
    main()
