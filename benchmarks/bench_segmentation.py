"""Time RFMSegmenter against the usual pandas RFM script on the same customer table.

The peer is the recipe found in PyPI RFM packages and tutorials: ``pd.qcut`` on recency
and monetary value, ``pd.qcut`` on ``rank(method="first")`` for frequency (so identical
customers are split by row order) and a regex R x F name map. Both run on one synthetic
customer table (default 1M customers), each call in a fresh subprocess; medians are printed.

Usage::

    python benchmarks/bench_segmentation.py                    # 1M customers, 3 repeats
    python benchmarks/bench_segmentation.py --customers 100000 --repeats 5
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

SEG_MAP = {
    r"[1-2][1-2]": "Hibernating",
    r"[1-2][3-4]": "At Risk",
    r"[1-2]5": "Can't Lose",
    r"3[1-2]": "About to Sleep",
    r"33": "Need Attention",
    r"[3-4][4-5]": "Loyal",
    r"41": "Promising",
    r"51": "New",
    r"[4-5][2-3]": "Potential Loyalist",
    r"5[4-5]": "Champions",
}


def make_table(n: int, seed: int = 0) -> Path:
    """A customer table with CDNOW-like ties (55 % one-time buyers); cached as Parquet."""
    path = DATA_DIR / f"customers_{n}.parquet"
    if path.exists():
        return path
    DATA_DIR.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    orders = np.where(rng.random(n) < 0.55, 1, 2 + rng.geometric(0.3, n))
    frame = pd.DataFrame(
        {
            "days_since_last": rng.integers(0, 540, n).astype(float),
            "n_orders": orders,
            "total_amount": np.round(orders * rng.gamma(2.0, 20.0, n), 2),
        },
        index=pd.Index(np.arange(n), name="customer_id"),
    )
    frame.to_parquet(path)
    return path


def _task(which: str, path: str) -> dict[str, float]:
    frame = pd.read_parquet(path)
    from custintel.segmentation import RFMSegmenter  # imported outside the timer

    gc.collect()
    loaded_mb = reset_peak_memory()
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    if which == "custintel":
        out = RFMSegmenter().fit_transform(frame)
    elif which == "pandas-script":
        out = pd.DataFrame(index=frame.index)
        out["R"] = pd.qcut(frame["days_since_last"], 5, labels=[5, 4, 3, 2, 1])
        out["F"] = pd.qcut(frame["n_orders"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
        out["M"] = pd.qcut(frame["total_amount"], 5, labels=[1, 2, 3, 4, 5])
        out["segment"] = (out["R"].astype(str) + out["F"].astype(str)).replace(SEG_MAP, regex=True)
    else:
        raise ValueError(which)
    wall = time.perf_counter() - start_wall
    cpu = time.process_time() - start_cpu
    peak_mb = status_mb("VmHWM")
    return {"wall": wall, "cpu": cpu, "extra_mb": peak_mb - loaded_mb, "rows_out": float(len(out))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = make_table(args.customers)
    results: dict[str, dict[str, float]] = {}
    for which in ("custintel", "pandas-script"):
        runs = [
            run_fresh("bench_segmentation", "_task", which, str(path)) for _ in range(args.repeats)
        ]
        results[which] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    c, p = results["custintel"], results["pandas-script"]
    print(f"{args.customers:,} customers, median of {args.repeats} fresh runs")
    print("| tool | wall s | cpu s | extra MB |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['extra_mb']:.0f} |")
    print(f"speed-up (wall): {p['wall'] / c['wall']:.1f}x")


if __name__ == "__main__":
    main()
