"""Stress the whole job (``custintel report``) up to 10M transactions: time, memory, scaling.

The data are ``make_transactions`` logs (items, costs, attributes, four years of
history, about 19 order lines per customer), generated once per size and cached
as Parquet under ``benchmarks/_data/``. Each run is the real command line,
``custintel report LOG.parquet --out DIR``, called through
``custintel.cli.main`` in a fresh interpreter, so that its peak memory (VmHWM)
belongs to it alone. The run records:

- the wall time of reading the file, of every step of ``fit``
  (``CustomerIntelligence.timings_``), of ``save`` (the model bundle), of
  ``write_report`` (report.html) and of the other outputs (customers.csv,
  customers.parquet, rules.csv);
- the peak resident memory of the process (VmHWM, reset after the imports),
  the resident memory right after reading the file, and the peak at the end of
  every step, which shows which step sets the peak.

From the runs at several sizes it prints, for every step, the time per million
rows and per thousand customers at each size and the log-log slope of time
against rows (least squares over the sizes, and between the two largest). A
slope near 1 is linear; a step with a slope above 1.2 that takes at least a
second at the largest size is flagged.

A second experiment scales the catalogue (distinct items) at a fixed number of
rows and times the rules step alone: ``CrossSellRecommender.fit`` on the
validated log, then the per-customer item lists and ``recommend`` that the
"score customers" step runs.

The job runs with default settings: since issue 19 the churn model uses one
thread unless told otherwise (``n_jobs``), so no thread pinning is needed;
``--omp-threads N`` still sets ``OMP_NUM_THREADS`` for experiments.

Usage::

    nice -n 10 python stress_report.py                      # 1M, 3M, 10M rows + items
    python stress_report.py --customers 5000 20000 --items 100 1000
    python stress_report.py --show                          # re-print the saved results

Results go to ``_data/stress_results.json`` (``--results`` to change it).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from _harness import reset_peak_memory, run_fresh, status_mb

DATA_DIR = Path(__file__).parent / "_data"
RESULTS = DATA_DIR / "stress_results.json"
#: 52,000 customers give about 1M order lines (as in bench_report.py).
DEFAULT_CUSTOMERS = (52_000, 156_000, 520_000)
DEFAULT_ITEMS = (100, 1_000, 10_000)
FLAG_SLOPE = 1.2
#: Steps shorter than this at the largest size are not flagged (timer noise).
FLAG_SECONDS = 1.0


def make_log(n_customers: int, n_items: int = 200) -> Path:
    """Simulate a log with items and costs; cached as Parquet between runs."""
    path = DATA_DIR / f"stress_tx_{n_customers}_{n_items}.parquet"
    if path.exists():
        return path
    from custintel.datasets import make_transactions

    DATA_DIR.mkdir(exist_ok=True)
    tx = make_transactions(
        n_customers,
        start="2021-01-01",
        acquisition_days=365,
        n_items=n_items,
        random_state=0,
    ).transactions
    tx.to_parquet(path)
    return path


# --- tasks run in a fresh interpreter ----------------------------------------------------


def _job(path: str) -> dict[str, Any]:
    """Run ``custintel report PATH --out TMP`` and time each step."""
    import logging

    import custintel.pipeline as pipeline
    import custintel.report as report
    from custintel import cli
    from custintel.pipeline import CustomerIntelligence

    steps: dict[str, float] = {}
    cpu_steps: dict[str, float] = {}
    peaks: dict[str, float] = {}
    fitted: list[Any] = []
    last_cpu = [0.0]
    memory: dict[str, float] = {}

    read, fit, save, write = (
        pipeline.read_transactions,
        CustomerIntelligence.fit,
        CustomerIntelligence.save,
        report.write_report,
    )

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.process_time()
            result = function(*args, **kwargs)
            steps[name] = time.perf_counter() - started
            cpu_steps[name] = time.process_time() - cpu
            peaks[name] = status_mb("VmHWM")
            last_cpu[0] = time.process_time()
            return result

        return wrapper

    def read_and_measure(*args: Any, **kwargs: Any) -> Any:
        frame = timed("read file", read)(*args, **kwargs)
        gc.collect()
        memory["loaded_mb"] = status_mb("VmRSS")
        return frame

    def fit_and_keep(self: Any, *args: Any, **kwargs: Any) -> Any:
        fitted.append(self)
        return fit(self, *args, **kwargs)

    class PeakAtStepEnd(logging.Handler):
        """The pipeline logs one line at the end of each step: note peak and CPU there."""

        def emit(self, record: logging.LogRecord) -> None:
            args = record.args
            if isinstance(args, tuple) and len(args) == 4:
                name = str(args[2])
                peaks[name] = status_mb("VmHWM")
                now = time.process_time()
                cpu_steps[name] = now - last_cpu[0]
                last_cpu[0] = now

    # the command imports it from custintel.pipeline when it runs
    pipeline.read_transactions = read_and_measure
    CustomerIntelligence.fit = fit_and_keep  # type: ignore[method-assign]
    CustomerIntelligence.save = timed("save bundle", save)  # type: ignore[method-assign]
    report.write_report = timed("write report.html", write)
    logger = logging.getLogger("custintel")
    logger.addHandler(PeakAtStepEnd(logging.INFO))
    logger.setLevel(logging.INFO)
    logger.propagate = False

    gc.collect()
    base_mb = reset_peak_memory()
    with tempfile.TemporaryDirectory(dir=DATA_DIR) as out:
        started = time.perf_counter()
        cpu = time.process_time()
        last_cpu[0] = cpu
        code = cli.main([
            "report", path, "--out", out, "--duplicates", "keep", "--quiet"
        ])  # fmt: skip
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
    if code != 0:
        raise RuntimeError(f"custintel report exited with {code}")
    ci = fitted[0]
    fit_steps = dict(ci.timings_)
    outputs = wall - steps["read file"] - sum(fit_steps.values())
    other = outputs - steps["save bundle"] - steps["write report.html"]
    result_steps = {"read file": steps["read file"], **fit_steps}
    result_steps["save bundle"] = steps["save bundle"]
    result_steps["write report.html"] = steps["write report.html"]
    result_steps["customers.csv/.parquet, rules.csv"] = other
    cpu_steps["customers.csv/.parquet, rules.csv"] = cpu - sum(
        v for k, v in cpu_steps.items() if k in result_steps
    )
    peak = status_mb("VmHWM")
    return {
        "rows": ci.overview_["n_rows"],
        "customers": ci.overview_["n_customers"],
        "orders": ci.overview_["n_orders"],
        "rules": 0 if ci.rules_ is None else len(ci.rules_),
        "wall": wall,
        "cpu": cpu,
        "base_mb": base_mb,
        "loaded_mb": memory["loaded_mb"],
        "peak_mb": peak,
        "steps": result_steps,
        "cpu_steps": {k: cpu_steps.get(k, math.nan) for k in result_steps},
        "peak_after": peaks,
        "omp_threads": os.environ.get("OMP_NUM_THREADS", "default"),
    }


def _rules(path: str) -> dict[str, Any]:
    """Time the rules step alone: fit the recommender, then recommend to every customer."""
    import pandas as pd

    from custintel.basket import CrossSellRecommender
    from custintel.pipeline._rows import customer_items
    from custintel.pipeline._steps import auto_min_support
    from custintel.schema import validate_transactions

    frame = validate_transactions(pd.read_parquet(path), duplicates="keep")
    gc.collect()
    loaded = reset_peak_memory()
    steps: dict[str, float] = {}
    started = time.perf_counter()
    n_baskets = int(frame.loc[frame["amount"] >= 0, "order_id"].nunique())
    recommender = CrossSellRecommender(min_support=auto_min_support(n_baskets)).fit(frame)
    steps["fit recommender"] = time.perf_counter() - started
    started = time.perf_counter()
    customers = pd.Index(np.unique(frame["customer_id"].to_numpy()), name="customer_id")
    items = customer_items(frame, customers)
    steps["customer item lists"] = time.perf_counter() - started
    started = time.perf_counter()
    recs = recommender.recommend(items.reset_index(drop=True), n=3)
    steps["recommend"] = time.perf_counter() - started
    return {
        "rows": len(frame),
        "items": int(frame["item_id"].nunique()),
        "customers": len(customers),
        "rules": len(recommender.rules_),
        "recommendations": len(recs),
        "steps": steps,
        "extra_mb": status_mb("VmHWM") - loaded,
    }


# --- reporting --------------------------------------------------------------------------


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(runs[0])
    for key in ("wall", "cpu", "base_mb", "loaded_mb", "peak_mb", "extra_mb"):
        if key in out:
            out[key] = statistics.median(r[key] for r in runs)
    for key in ("steps", "cpu_steps"):
        if key in out:
            out[key] = {k: statistics.median(r[key][k] for r in runs) for k in runs[0][key]}
    out["repeats"] = len(runs)
    return out


def slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log(y) against log(x)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.maximum(np.asarray(y, float), 1e-3))
    return float(np.polyfit(lx, ly, 1)[0]) if len(lx) > 1 else math.nan


def _step_table(jobs: list[dict[str, Any]], rows: list[int], key: str, what: str) -> None:
    print(f"\n{what} seconds per step; per 1M rows; per 1k customers; log-log slope vs rows")
    sizes = " ".join(f"{n / 1e6:>6.1f}M" for n in rows)
    per = " ".join(f"{'/1M r':>7}" for _ in rows)
    perc = " ".join(f"{'/1k c':>6}" for _ in rows)
    print(f"{'step':<36} {sizes} | {per} | {perc} | {'slope':>5} {'last':>5}")
    total = f"total ({what})"
    for name in [*jobs[-1][key], total]:
        t = [r[what] if name == total else r[key].get(name, 0.0) for r in jobs]
        s_all = slope(rows, t)
        s_last = slope(rows[-2:], t[-2:])
        big = t[-1] >= FLAG_SECONDS
        flag = " <-- slope > 1.2" if big and max(s_all, s_last) > FLAG_SLOPE else ""
        print(
            f"{name[:36]:<36} "
            + " ".join(f"{v:>7.2f}" for v in t)
            + " | "
            + " ".join(f"{v / n * 1e6:>7.2f}" for v, n in zip(t, rows, strict=True))
            + " | "
            + " ".join(f"{v / r['customers'] * 1e3:>6.3f}" for v, r in zip(t, jobs, strict=True))
            + f" | {s_all:>5.2f} {s_last:>5.2f}{flag}"
        )


def show(results: dict[str, Any]) -> None:
    """Print the tables of the job runs and the items runs."""
    jobs = sorted(results.get("jobs", []), key=lambda r: r["rows"])
    if jobs:
        print("custintel report LOG.parquet (fresh process per run; medians of 'n' runs)")
        head = f"{'rows':>11} {'customers':>10} {'orders':>10} {'n':>2} {'wall s':>7} "
        print(head + f"{'cpu s':>7} {'loaded MB':>9} {'peak MB':>8} {'extra MB':>8}")
        for r in jobs:
            print(
                f"{r['rows']:>11,} {r['customers']:>10,} {r['orders']:>10,} {r['repeats']:>2} "
                f"{r['wall']:>7.1f} {r['cpu']:>7.1f} {r['loaded_mb']:>9.0f} "
                f"{r['peak_mb']:>8.0f} {r['peak_mb'] - r['loaded_mb']:>8.0f}"
            )
        rows = [r["rows"] for r in jobs]
        for key, what in (("steps", "wall"), ("cpu_steps", "cpu")):
            if all(key in r for r in jobs):
                _step_table(jobs, rows, key, what)
        print(f"\nslope of peak memory vs rows: {slope(rows, [r['peak_mb'] for r in jobs]):.2f}")
        print("peak RSS (MB) at the end of each step:")
        for r in jobs:
            marks = ", ".join(f"{k} {v:.0f}" for k, v in r["peak_after"].items())
            print(f"  {r['rows']:>11,}: {marks}")
    items = sorted(results.get("items", []), key=lambda r: r["items"])
    if items:
        print("\nrules step vs distinct items (fixed rows; fresh process each)")
        names = list(items[0]["steps"])
        header = " ".join(f"{n[:20]:>20}" for n in names)
        print(f"{'items':>7} {'rows':>11} {'rules':>7} {header} {'extra MB':>8}")
        for r in items:
            print(
                f"{r['items']:>7,} {r['rows']:>11,} {r['rules']:>7,} "
                + " ".join(f"{r['steps'][n]:>20.2f}" for n in names)
                + f" {r['extra_mb']:>8.0f}"
            )
        n_items = [r["items"] for r in items]
        for name in names:
            s = slope(n_items, [r["steps"][name] for r in items])
            flag = " <-- slope > 1.2" if s > FLAG_SLOPE else ""
            print(f"  slope of {name} vs items: {s:.2f}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, nargs="*", default=list(DEFAULT_CUSTOMERS))
    parser.add_argument("--repeats", type=int, default=2, help="runs per size (not the largest)")
    parser.add_argument("--repeats-largest", type=int, default=1)
    parser.add_argument("--items", type=int, nargs="*", default=list(DEFAULT_ITEMS))
    parser.add_argument("--items-customers", type=int, default=DEFAULT_CUSTOMERS[0])
    parser.add_argument(
        "--omp-threads",
        type=int,
        help="set OMP_NUM_THREADS in the runs (default: the pipeline's own choice)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON file of results")
    parser.add_argument("--show", action="store_true", help="print the saved results and exit")
    args = parser.parse_args()
    if args.show:
        show(json.loads(args.results.read_text()))
        return
    if args.omp_threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(args.omp_threads)  # inherited by the runs
    results: dict[str, Any] = {"jobs": [], "items": []}
    largest = max(args.customers, default=0)
    for n in sorted(args.customers):
        path = make_log(n)
        repeats = args.repeats_largest if n == largest else args.repeats
        runs = [run_fresh("stress_report", "_job", str(path)) for _ in range(repeats)]
        results["jobs"].append(_median_run(runs))
        args.results.write_text(json.dumps(results, indent=1))
    for n_items in args.items:
        path = make_log(args.items_customers, n_items)
        results["items"].append(run_fresh("stress_report", "_rules", str(path)))
        args.results.write_text(json.dumps(results, indent=1))
    show(results)


if __name__ == "__main__":
    main()
