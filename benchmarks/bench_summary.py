"""Time custintel's feature layer against lifetimes on the same synthetic log.

Runs ``summarize_customers`` vs lifetimes' ``summary_data_from_transaction_data``
and ``calibration_holdout_split`` vs ``calibration_and_holdout_data`` on one
log (default: 10M rows, 1M customers), each in a fresh subprocess so that peak
memory (VmHWM, reset after loading the data) is measured per call: "peak MB"
includes the loaded log, "extra MB" is the peak above it, and prints medians and ratios.

Usage::

    python benchmarks/bench_summary.py                 # 10M rows, 3 repeats
    python benchmarks/bench_summary.py --rows 1000000 --repeats 5
    python benchmarks/bench_summary.py --order shuffled  # rows not in time order
    python benchmarks/bench_summary.py --tools custintel  # custintel alone, no ratio
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _harness import reset_peak_memory, run_fresh, status_mb

DATA_DIR = Path(__file__).parent / "_data"
CALIBRATION_END = "2021-06-30"
OBSERVATION_END = "2021-12-31"


def make_log(n_rows: int, n_customers: int, order: str, seed: int = 0) -> Path:
    """A log with BTYD-like heterogeneity; cached as Parquet between runs."""
    path = DATA_DIR / f"log_v2_{n_rows}_{n_customers}_{order}.parquet"
    if path.exists():
        return path
    DATA_DIR.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    # every customer buys at least once; the other rows follow a heavy-tailed propensity
    weights = rng.gamma(0.6, 1.0, n_customers)
    extra = rng.choice(n_customers, size=n_rows - n_customers, p=weights / weights.sum())
    customers = np.concatenate([np.arange(n_customers), extra]) + 1
    start = np.datetime64("2021-01-01T00:00:00", "s")
    offsets = rng.integers(0, 365 * 86_400, n_rows).astype("timedelta64[s]")
    frame = pd.DataFrame(
        {
            "customer_id": customers.astype(np.int64),
            "timestamp": (start + offsets).astype("datetime64[ns]"),
            "amount": np.round(rng.gamma(2.0, 20.0, n_rows), 2),
        }
    )
    if order == "time":
        frame = frame.sort_values("timestamp", kind="stable", ignore_index=True)
    frame.to_parquet(path)
    return path


def _task(which: str, path: str) -> dict[str, float]:
    frame = pd.read_parquet(path)
    gc.collect()
    loaded_mb = reset_peak_memory()
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    if which == "custintel-summary":
        from custintel import summarize_customers

        out = summarize_customers(frame, observation_end=OBSERVATION_END, duplicates="keep")
    elif which == "lifetimes-summary":
        from lifetimes.utils import summary_data_from_transaction_data

        out = summary_data_from_transaction_data(
            frame,
            "customer_id",
            "timestamp",
            monetary_value_col="amount",
            observation_period_end=OBSERVATION_END,
        )
    elif which == "custintel-calibration":
        from custintel import calibration_holdout_split

        out = calibration_holdout_split(
            frame,
            calibration_end=CALIBRATION_END,
            observation_end=OBSERVATION_END,
            duplicates="keep",
        )
    elif which == "lifetimes-calibration":
        from lifetimes.utils import calibration_and_holdout_data

        out = calibration_and_holdout_data(
            # lifetimes compares raw timestamps with calibration_period_end, so a bare date
            # would leave that day's later transactions out; custintel includes the whole day.
            frame,
            "customer_id",
            "timestamp",
            calibration_period_end=CALIBRATION_END + " 23:59:59",
            observation_period_end=OBSERVATION_END,
            monetary_value_col="amount",
        )
    else:
        raise ValueError(which)
    wall = time.perf_counter() - start_wall
    cpu = time.process_time() - start_cpu
    peak_mb = status_mb("VmHWM")
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": peak_mb,
        "extra_mb": peak_mb - loaded_mb,
        "rows_out": float(len(out)),
    }


def run(which: str, path: Path) -> dict[str, float]:
    """One timed call in a fresh interpreter (so peak memory belongs to that call)."""
    return run_fresh("bench_summary", "_task", which, str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--order", choices=["time", "shuffled"], default="time")
    parser.add_argument(
        "--tasks", nargs="+", choices=["summary", "calibration"], default=["summary", "calibration"]
    )
    parser.add_argument(
        "--tools",
        nargs="+",
        choices=["custintel", "lifetimes"],
        default=["custintel", "lifetimes"],
        help="leave lifetimes out to time custintel alone (no ratio is printed then)",
    )
    args = parser.parse_args()

    path = make_log(args.rows, args.customers, args.order)
    frame = pd.read_parquet(path, columns=["customer_id"])
    print(
        f"log: {args.rows:,} rows, {frame['customer_id'].nunique():,} customers, "
        f"rows in {args.order} order; median of {args.repeats} runs, each in a fresh process"
    )
    print(f"{'task':<13} {'tool':<10} {'wall s':>8} {'cpu s':>8} {'peak MB':>9} {'extra MB':>9}")
    for task in args.tasks:
        medians = {}
        for tool in args.tools:
            runs = [run(f"{tool}-{task}", path) for _ in range(args.repeats)]
            medians[tool] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            m = medians[tool]
            print(
                f"{task:<13} {tool:<10} {m['wall']:>8.2f} {m['cpu']:>8.2f} "
                f"{m['peak_mb']:>9.0f} {m['extra_mb']:>9.0f}"
            )
        if len(medians) < 2:
            continue
        c, lt = medians["custintel"], medians["lifetimes"]
        assert c["rows_out"] == lt["rows_out"], "custintel and lifetimes disagree on customers"
        print(
            f"{task:<13} {'ratio':<10} {lt['wall'] / c['wall']:>7.1f}x "
            f"{lt['cpu'] / c['cpu']:>7.1f}x "
            f"{c['peak_mb'] / lt['peak_mb']:>9.2f} {c['extra_mb'] / lt['extra_mb']:>9.2f}"
            "  (time: lifetimes/custintel; memory: custintel/lifetimes)"
        )


if __name__ == "__main__":
    main()
