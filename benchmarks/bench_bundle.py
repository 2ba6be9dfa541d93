"""Save, load and score with the safe JSON bundle against the joblib pickle, on ~1M rows.

One ``CustomerIntelligence`` is fitted on the main job's 1M-row benchmark log
(``bench_report.make_log``, 52,000 customers) and saved twice into one folder:
the default JSON bundle and, with ``pickle=True``, the same fitted state as one
joblib file (what bundles held before the safe format). Each measurement then
runs in a fresh interpreter with custintel, scikit-learn and joblib already
imported, so the numbers are the load itself, not imports:

- ``save``: ``ci.save(folder)`` (JSON) against ``joblib.dump`` of the same
  fitted estimators;
- ``load``: ``load_bundle(folder)`` (checksums, path checks, validating
  ``from_dict`` of every model) against ``load_bundle(folder, trusted=True)``
  (checksums, then ``joblib.load``);
- ``score``: ``score(tx)`` of the whole log with each loaded pipeline.

Usage::

    python benchmarks/bench_bundle.py                  # 52,000 customers, 5 repeats
    python benchmarks/bench_bundle.py --customers 5000 --repeats 3
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from _harness import run_fresh
from bench_report import HORIZON, make_log


def _fit_and_save(path: str, folder: str) -> dict[str, Any]:
    import joblib

    from custintel import CustomerIntelligence

    frame = pd.read_parquet(path)
    ci = CustomerIntelligence(horizon=HORIZON, duplicates="keep").fit(frame)
    saves, dumps = [], []
    for _ in range(3):
        started = time.perf_counter()
        ci.save(folder)
        saves.append(time.perf_counter() - started)
        buffer = io.BytesIO()
        started = time.perf_counter()
        joblib.dump(
            {
                a: getattr(ci, a)
                for a in (
                    "clv_model_",
                    "churn_model_",
                    "rfm_",
                    "value_tiers_",
                    "lifecycle_",
                    "recommender_",
                )
            },
            buffer,
        )
        dumps.append(time.perf_counter() - started)
    ci.save(folder, pickle=True)
    sizes = {p.name: p.stat().st_size for p in Path(folder).iterdir()}
    return {
        "save_json": statistics.median(saves),
        "save_joblib": statistics.median(dumps),
        "sizes": sizes,
    }


def _load_and_score(path: str, folder: str, trusted: bool) -> dict[str, Any]:
    import joblib  # noqa: F401 - imported before timing, like custintel below

    import custintel.basket
    import custintel.churn
    import custintel.clv
    import custintel.segmentation  # noqa: F401
    from custintel.pipeline import load_bundle

    frame = pd.read_parquet(path)
    started = time.perf_counter()
    ci = load_bundle(folder, trusted=trusted)
    load = time.perf_counter() - started
    started = time.perf_counter()
    scores = ci.score(frame)
    score = time.perf_counter() - started
    return {
        "load": load,
        "score": score,
        "checksum": float(scores["expected_clv"].sum()),
        "churn": float(scores["churn_probability"].sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=52_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    path = make_log(args.customers)
    rows = len(pd.read_parquet(path, columns=["customer_id"]))
    print(
        f"log: {rows:,} rows, {args.customers:,} customers; median of {args.repeats} fresh "
        "processes per load/score measurement"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = str(Path(tmp) / "models")
        saved = run_fresh("bench_bundle", "_fit_and_save", str(path), folder)
        runs: dict[str, list[dict[str, Any]]] = {"json": [], "joblib": []}
        for _ in range(args.repeats):  # interleaved, so machine noise hits both alike
            runs["json"].append(
                run_fresh("bench_bundle", "_load_and_score", str(path), folder, False)
            )
            runs["joblib"].append(
                run_fresh("bench_bundle", "_load_and_score", str(path), folder, True)
            )
    median = {
        k: {m: statistics.median(r[m] for r in v) for m in ("load", "score")}
        for k, v in runs.items()
    }
    same = {(r["checksum"], r["churn"]) for v in runs.values() for r in v}
    print("files: " + ", ".join(f"{n} {s / 1e6:.2f} MB" for n, s in sorted(saved["sizes"].items())))
    print(f"{'step':<8} {'JSON s':>8} {'joblib s':>9} {'ratio':>7}")
    print(
        f"{'save':<8} {saved['save_json']:>8.3f} {saved['save_joblib']:>9.3f} "
        f"{saved['save_json'] / saved['save_joblib']:>6.2f}x"
    )
    for step in ("load", "score"):
        j, p = median["json"][step], median["joblib"][step]
        print(f"{step:<8} {j:>8.3f} {p:>9.3f} {j / p:>6.2f}x")
    print(f"scores identical across both bundles and all runs: {len(same) == 1}")


if __name__ == "__main__":
    main()
