"""Scoring with a fitted pipeline: the full log, and a small delta file from a bundle.

The logs are the stress benchmark's (``stress_report.make_log``: ``make_transactions(n,
start="2021-01-01", acquisition_days=365, random_state=0)``, items, costs and
attributes, about 19 order lines per customer, cached as Parquet under ``_data/``).
One ``CustomerIntelligence(duplicates="keep")`` is fitted on each log and saved as a
bundle (kept under ``_data/`` between runs; ``--refit`` fits again). Every
measurement then runs in a fresh interpreter, so no run warms another's caches:

(a) **Full log.** ``load_bundle(folder).score(tx)`` on the whole log, against the
    fit's own summary step on the same rows, ``summarize_customers(tx,
    duplicates="keep")``, as the reference in the same process (interleaved,
    median of ``--repeats``). The ratio ``score / summary`` says how many
    summaries one scoring costs; it does not depend on how busy the machine is
    as much as the seconds do. The scoring time is also split into
    ``customer_features`` (validation and the feature rows) and
    ``score_customers`` (the models).

(b) **Delta file.** The transactions of 10,000 customers (every k-th customer
    id of the log) written as CSV and Parquet; scored with the bundle of the
    model fitted on the whole log, split into reading (``load_bundle`` and
    ``read_transactions``) and scoring (``score``); and the command
    ``custintel score --models FOLDER --input delta.csv --out scores.csv`` run
    through ``custintel.cli.main`` in the same fresh interpreter (imports
    excluded), so its wall time holds reading, scoring and writing.

CPU seconds (``time.process_time``) are printed next to wall seconds: on a shared
machine they are the steadier measure of work.

Usage::

    nice -n 10 python bench_scoring.py                       # 52,000 customers (~1M rows)
    nice -n 10 python bench_scoring.py --customers 156000    # ~3M rows
    nice -n 10 python bench_scoring.py --customers 520000 --repeats 1 --omp-threads 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import run_fresh
from stress_report import DATA_DIR, make_log

DELTA_CUSTOMERS = 10_000


def _bundle_folder(n_customers: int) -> Path:
    return DATA_DIR / f"bench_scoring_bundle_{n_customers}"


def _fit(path: str, folder: str) -> dict[str, Any]:
    """Fit the main job on the log and save its bundle."""
    import pandas as pd

    from custintel import CustomerIntelligence

    tx = pd.read_parquet(path)
    # The CPU seconds of the "score customers" step: the step timer is wall time.
    import custintel.pipeline._intelligence as intelligence

    step_cpu: list[float] = []
    score_customers = intelligence.CustomerIntelligence.score_customers
    features = intelligence.CustomerIntelligence._features

    def timed_features(self: Any, *args: Any, **kwargs: Any) -> Any:
        step_cpu.append(-time.process_time())
        return features(self, *args, **kwargs)

    def timed_scores(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = score_customers(self, *args, **kwargs)
        if step_cpu:
            step_cpu[-1] += time.process_time()
        return out

    intelligence.CustomerIntelligence._features = timed_features  # type: ignore[method-assign]
    intelligence.CustomerIntelligence.score_customers = timed_scores  # type: ignore[method-assign]
    started = time.perf_counter()
    ci = CustomerIntelligence(duplicates="keep").fit(tx)
    fit = time.perf_counter() - started
    ci.save(folder, overwrite=True)
    return {
        "fit": fit,
        "score_step": ci.timings_["score customers"],
        "score_step_cpu": step_cpu[-1] if step_cpu else float("nan"),
        "customers": ci.overview_["n_customers"],
        "rows": ci.overview_["n_rows"],
    }


def _full(path: str, folder: str, repeats: int) -> dict[str, Any]:
    """(a) Score the whole log from the bundle, against summarize_customers on it."""
    import pandas as pd

    from custintel.features import summarize_customers
    from custintel.pipeline import load_bundle

    tx = pd.read_parquet(path)
    ci = load_bundle(folder)
    times: dict[str, list[float]] = {
        k: []
        for k in (
            "summary", "summary_cpu", "score", "score_cpu",
            "features", "features_cpu", "models", "models_cpu",
        )
    }  # fmt: skip
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        summarize_customers(tx, duplicates="keep")
        times["summary"].append(time.perf_counter() - started)
        times["summary_cpu"].append(time.process_time() - cpu)
        started, cpu = time.perf_counter(), time.process_time()
        features = ci.customer_features(tx)
        middle, middle_cpu = time.perf_counter(), time.process_time()
        scored = ci.score_customers(features)
        ended, ended_cpu = time.perf_counter(), time.process_time()
        times["score"].append(ended - started)
        times["score_cpu"].append(ended_cpu - cpu)
        times["features"].append(middle - started)
        times["features_cpu"].append(middle_cpu - cpu)
        times["models"].append(ended - middle)
        times["models_cpu"].append(ended_cpu - middle_cpu)
        del features, scored
    return {k: statistics.median(v) for k, v in times.items()}


def _delta(folder: str, csv: str, parquet: str, repeats: int) -> dict[str, Any]:
    """(b) Read and score the delta file with the bundle; then the CLI on the CSV."""
    import pandas as pd

    from custintel import cli
    from custintel.pipeline import id_columns, load_bundle, read_transactions

    times: dict[str, list[float]] = {
        k: [] for k in ("load", "read_csv", "score", "score_cpu", "cli", "cli_cpu")
    }
    for _ in range(repeats):
        started = time.perf_counter()
        ci = load_bundle(folder)
        times["load"].append(time.perf_counter() - started)
        started = time.perf_counter()
        tx = read_transactions(  # as `custintel score` reads it
            csv,
            text_columns=id_columns(ci.schema_mapping_),
            date_columns=[ci.schema_mapping_.get("timestamp", "timestamp")],
        )
        times["read_csv"].append(time.perf_counter() - started)
        started, cpu = time.perf_counter(), time.process_time()
        scored = ci.score(tx)
        times["score"].append(time.perf_counter() - started)
        times["score_cpu"].append(time.process_time() - cpu)
        with tempfile.TemporaryDirectory() as out:
            started, cpu = time.perf_counter(), time.process_time()
            code = cli.main([
                "score", "--models", folder, "--input", csv,
                "--out", str(Path(out) / "scores.csv"), "--quiet",
            ])  # fmt: skip
            times["cli"].append(time.perf_counter() - started)
            times["cli_cpu"].append(time.process_time() - cpu)
        if code != 0:
            raise RuntimeError(f"custintel score exited with {code}")
    started = time.perf_counter()
    tx = pd.read_parquet(parquet)
    read_parquet = time.perf_counter() - started
    result = {k: statistics.median(v) for k, v in times.items()}
    result.update({"rows": len(tx), "customers": len(scored), "read_parquet": read_parquet})
    return result


def _write_delta(path: Path, n_customers: int, folder: Path) -> tuple[str, str]:
    """Write the transactions of DELTA_CUSTOMERS evenly spread customers as CSV and Parquet."""
    import numpy as np
    import pandas as pd

    csv, parquet = folder / "delta.csv", folder / "delta.parquet"
    tx = pd.read_parquet(path)
    ids = np.unique(tx["customer_id"].to_numpy())
    chosen = ids[:: max(1, len(ids) // DELTA_CUSTOMERS)][:DELTA_CUSTOMERS]
    delta = tx.loc[tx["customer_id"].isin(chosen)].reset_index(drop=True)
    delta.to_csv(csv, index=False)
    delta.to_parquet(parquet)
    return str(csv), str(parquet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=52_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--refit", action="store_true", help="fit and save the bundle again")
    parser.add_argument(
        "--bundle", type=Path, default=None, help="bundle folder (default: under _data/)"
    )
    parser.add_argument(
        "--omp-threads", type=int, default=None, help="set OMP_NUM_THREADS for every run"
    )
    args = parser.parse_args()
    if args.omp_threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(args.omp_threads)
    path = make_log(args.customers)
    folder = args.bundle or _bundle_folder(args.customers)
    if args.refit or not (folder / "manifest.json").exists():
        fitted = run_fresh("bench_scoring", "_fit", str(path), str(folder))
        print(
            f"fitted {fitted['customers']:,} customers, {fitted['rows']:,} rows in "
            f"{fitted['fit']:.1f} s; its 'score customers' step took {fitted['score_step']:.2f} s "
            f"(wall; cpu {fitted['score_step_cpu']:.2f} s)"
        )
    full = run_fresh("bench_scoring", "_full", str(path), str(folder), args.repeats)
    print(f"\n(a) full log, {args.customers:,} customers; median of {args.repeats}")
    print(f"{'':34}{'wall s':>9}{'cpu s':>9}")
    print(f"{'summarize_customers (reference)':34}{full['summary']:9.2f}{full['summary_cpu']:9.2f}")
    print(f"{'CustomerIntelligence.score':34}{full['score']:9.2f}{full['score_cpu']:9.2f}")
    print(f"{'  customer_features':34}{full['features']:9.2f}{full['features_cpu']:9.2f}")
    print(f"{'  score_customers':34}{full['models']:9.2f}{full['models_cpu']:9.2f}")
    print(
        f"score / summary: {full['score'] / full['summary']:.1f}x wall, "
        f"{full['score_cpu'] / full['summary_cpu']:.1f}x cpu"
    )
    with tempfile.TemporaryDirectory(dir=DATA_DIR) as tmp:
        csv, parquet = _write_delta(path, args.customers, Path(tmp))
        delta = run_fresh("bench_scoring", "_delta", str(folder), csv, parquet, args.repeats)
    print(
        f"\n(b) delta file: {delta['customers']:,} customers, {delta['rows']:,} rows, scored "
        f"with the bundle of the {args.customers:,}-customer model; median of {args.repeats}"
    )
    print(f"{'':34}{'wall s':>9}")
    print(f"{'load_bundle':34}{delta['load']:9.3f}")
    print(f"{'read_transactions(delta.csv)':34}{delta['read_csv']:9.3f}")
    print(f"{'pd.read_parquet(delta.parquet)':34}{delta['read_parquet']:9.3f}")
    label = f"score (cpu {delta['score_cpu']:.3f} s)"
    print(f"{label:34}{delta['score']:9.3f}")
    print(
        f"{'custintel score --input delta.csv':34}{delta['cli']:9.3f}  "
        "(reads, scores and writes; imports excluded)"
    )
    reading = delta["load"] + delta["read_csv"]
    print(
        f"reading {reading:.3f} s + scoring {delta['score']:.3f} s; the CLI beyond reading: "
        f"{delta['cli'] - reading:.3f} s"
    )


if __name__ == "__main__":
    main()
