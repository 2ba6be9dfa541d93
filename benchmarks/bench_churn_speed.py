"""The churn step of the main job: time, peak memory and AUC, previous against current.

Two experiments on the simulated logs of ``stress_report.py``
(``make_transactions(n, start="2021-01-01", acquisition_days=365,
random_state=0)``, cached as Parquet under ``benchmarks/_data/``):

``step`` (default)
    The whole "train churn classifier" step (``custintel.pipeline.churn_step``:
    the churn tables, the out-of-time backtest and the final fit), each run in
    a fresh interpreter after ``validate_step`` and ``summarise_step``. It
    records the wall and CPU seconds of the step, its peak memory above the
    loaded log (VmHWM, reset before the step) and the backtest AUC of the
    classifier. Configurations:

    - ``previous``: the step of an earlier source tree, given with
      ``--previous-src`` (e.g. ``git archive 3c868f2 src | tar -x -C /tmp/prev``,
      then ``--previous-src /tmp/prev/src``); run on one OpenMP thread, as the
      stress report measured it (its own default used two above 100,000
      customers, which was slower on this machine);
    - ``cv5``: today's tables with the previous classifier settings
      (``cv=5, max_samples=None``): what the table building alone changed;
    - ``current``: today's step with its defaults.

``options``
    The classifier alone on fixed tables (trained at ``end - 2 * 365`` days,
    scored at ``end - 365``): fit and scoring CPU seconds, AUC and Brier of
    each option the issue asks to measure (folds, held-out calibration,
    sample caps, fewer iterations, fewer bins, a logistic model).

``threads``
    The default classifier's fit and scoring on those tables with
    ``n_jobs=1`` and ``n_jobs=2``, interleaved: wall and CPU seconds.

Usage::

    nice -n 10 python bench_churn_speed.py --previous-src /tmp/prev/src   # 1M and 3M rows
    nice -n 10 python bench_churn_speed.py --customers 520000 --repeats 1 --previous-src ...
    nice -n 10 python bench_churn_speed.py options                        # 1M and 3M rows
    nice -n 10 python bench_churn_speed.py threads --customers 156000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _harness import reset_peak_memory, status_mb

HERE = Path(__file__).parent
#: 52,000 customers give about 1M rows, 156,000 about 3M (as in stress_report.py).
DEFAULT_CUSTOMERS = (52_000, 156_000)
HORIZON = 365


def _log_path(n_customers: int) -> str:
    sys.path.insert(0, str(HERE))
    from stress_report import make_log

    return str(make_log(n_customers))


def run_step(path: str, config: str) -> dict[str, Any]:
    """Run the churn step once in this process; called in a fresh interpreter."""
    import pandas as pd
    from threadpoolctl import threadpool_limits

    import custintel
    from custintel import pipeline

    tx = pd.read_parquet(path)
    log = pipeline.validate_step(tx, horizon=HORIZON, duplicates="keep")
    del tx
    customers = pipeline.summarise_step(log)
    if config == "cv5":
        from dataclasses import dataclass

        from custintel import churn

        @dataclass(kw_only=True, repr=False, eq=False)
        class Previous(churn.ChurnClassifier):
            cv: int | str = 5
            max_samples: int | None = None

        churn.ChurnClassifier = Previous  # type: ignore[misc]
    base = reset_peak_memory()
    wall, cpu = time.perf_counter(), time.process_time()
    if config == "previous":
        with threadpool_limits(limits=1):
            result = pipeline.churn_step(log, customers)
    else:
        result = pipeline.churn_step(log, customers)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    metrics = result.backtest.metrics if result.backtest is not None else None
    return {
        "config": config,
        "source": str(Path(custintel.__file__).parent),
        "customers": len(customers.summary),
        "rows": len(log.frame),
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_above_mb": status_mb("VmHWM") - base,
        "auc": None if metrics is None else float(metrics.loc["ChurnClassifier", "roc_auc"]),
        "brier": None if metrics is None else float(metrics.loc["ChurnClassifier", "brier"]),
    }


def _fresh(path: str, config: str, source: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = os.pathsep.join([source, env.get("PYTHONPATH", "")])
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import bench_churn_speed as m; "
        f"print(json.dumps(m.run_step({path!r}, {config!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{config} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def step(sizes: list[int], repeats: int, previous: str | None) -> None:
    configs = (["previous"] if previous else []) + ["cv5", "current"]
    for n in sizes:
        path = _log_path(n)
        runs: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
        for _ in range(repeats):
            for config in configs:  # interleaved, so load changes hit every config
                source = previous if config == "previous" else None
                runs[config].append(_fresh(path, config, source))
        first = runs[configs[0]][0]
        print(f"\n{first['rows']:,} rows, {first['customers']:,} customers, median of {repeats}")
        print(
            f"{'config':10s} {'wall s':>8s} {'cpu s':>8s} {'peak MB':>8s} {'AUC':>7s} {'Brier':>7s}"
        )
        medians: dict[str, dict[str, float]] = {}
        for config in configs:
            r = runs[config]
            medians[config] = {
                k: statistics.median(x[k] for x in r) for k in ("wall_s", "cpu_s", "peak_above_mb")
            }
            auc, brier = r[0]["auc"], r[0]["brier"]
            m = medians[config]
            print(
                f"{config:10s} {m['wall_s']:8.1f} {m['cpu_s']:8.1f} {m['peak_above_mb']:8.0f} "
                f"{auc:7.4f} {brier:7.4f}"
            )
        ref = configs[0]
        for config in configs[1:]:
            a, b = medians[ref], medians[config]
            print(
                f"{ref} / {config}: wall {a['wall_s'] / b['wall_s']:.2f}x, "
                f"cpu {a['cpu_s'] / b['cpu_s']:.2f}x, "
                f"peak {a['peak_above_mb'] / b['peak_above_mb']:.2f}x"
                f", AUC {runs[config][0]['auc'] - runs[ref][0]['auc']:+.4f}"
            )


# --- the classifier options ----------------------------------------------------------------


def _options() -> dict[str, dict[str, Any]]:
    return {
        "5 folds, all customers (previous default)": {"cv": 5, "max_samples": None},
        "3 folds, all customers": {"cv": 3, "max_samples": None},
        "holdout, all customers": {"cv": "holdout", "max_samples": None},
        "holdout, 50,000 sample": {"cv": "holdout", "max_samples": 50_000},
        "holdout, 100,000 sample (default)": {},
        "default, learning_rate 0.1, max_iter 100": {"learning_rate": 0.1, "max_iter": 100},
        "default, max_iter 100": {"max_iter": 100},
        "default, max_bins 63": {"max_bins": 63},
        "logistic, holdout, 100,000 sample": {"model": "logistic"},
        "default, n_jobs=2": {"n_jobs": 2},
    }


def options(sizes: list[int]) -> None:
    import numpy as np
    from sklearn.metrics import brier_score_loss, roc_auc_score

    from custintel.churn import ChurnClassifier

    class FewerBins(ChurnClassifier):
        max_bins = 255

        def _pipeline(self, categorical: list[str], numeric: list[str]) -> Any:
            built = super()._pipeline(categorical, numeric)
            built.steps[-1][1].set_params(max_bins=self.max_bins)
            return built

    for n in sizes:
        X, y, X2, y2 = _tables(n)
        leaf = int(np.clip(len(X) // 20, 10, 200))
        print(f"\n{n:,} customers: train {len(X):,}, test {len(X2):,}")
        print(f"{'option':44s} {'fit cpu':>8s} {'score cpu':>9s} {'AUC':>7s} {'Brier':>7s}")
        reference = None
        for name, params in _options().items():
            params = dict(params)
            bins = params.pop("max_bins", None)
            model = (FewerBins if bins else ChurnClassifier)(min_samples_leaf=leaf, **params)
            if bins:
                model.max_bins = bins
            wall = time.process_time()
            model.fit(X, y)
            fit = time.process_time() - wall
            wall = time.process_time()
            p = model.predict_proba(X2)[:, 1]
            score = time.process_time() - wall
            auc, brier = roc_auc_score(y2, p), brier_score_loss(y2, p)
            reference = reference or (fit, score, auc)
            print(
                f"{name:44s} {fit:8.2f} {score:9.2f} {auc:7.4f} {brier:7.4f}   "
                f"fit {reference[0] / fit:4.1f}x, score {reference[1] / score:4.1f}x faster, "
                f"AUC {auc - reference[2]:+.4f}"
            )


def _tables(n: int) -> tuple[Any, Any, Any, Any]:
    """The churn tables at ``end - 2 * 365`` (training) and ``end - 365`` (test) days."""
    import pandas as pd

    from custintel import pipeline
    from custintel.exceptions import quiet
    from custintel.features import make_churn_dataset

    tx = pd.read_parquet(_log_path(n))
    log = pipeline.validate_step(tx, horizon=HORIZON, duplicates="keep")
    del tx
    end = log.observation_end
    with quiet():
        (X, y), (X2, y2) = (
            make_churn_dataset(
                log.frame,
                cutoff=str((end - pd.Timedelta(days=k * HORIZON)).date()),
                horizon=HORIZON,
                duplicates="keep",
            )
            for k in (2, 1)
        )
    return X, y, X2, y2


def threads(sizes: list[int], repeats: int) -> None:
    """Fit and score the default classifier on one and on two threads, interleaved."""
    import numpy as np

    from custintel.churn import ChurnClassifier

    for n in sizes:
        X, y, X2, _ = _tables(n)
        leaf = int(np.clip(len(X) // 20, 10, 200))
        times: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
        for _ in range(repeats):
            for n_jobs in (1, 2):
                wall, cpu = time.perf_counter(), time.process_time()
                ChurnClassifier(min_samples_leaf=leaf, n_jobs=n_jobs).fit(X, y).predict_proba(X2)
                times[n_jobs].append((time.perf_counter() - wall, time.process_time() - cpu))
        print(f"\n{len(X):,} customers, fit + score, median of {repeats}")
        med = {k: [statistics.median(t[i] for t in v) for i in (0, 1)] for k, v in times.items()}
        for k, (wall, cpu) in med.items():
            print(f"n_jobs={k}: wall {wall:6.2f} s, cpu {cpu:6.2f} s")
        wall_ratio, cpu_ratio = med[2][0] / med[1][0], med[2][1] / med[1][1]
        print(f"two threads / one: wall {wall_ratio:.2f}x, cpu {cpu_ratio:.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "experiment", nargs="?", choices=("step", "options", "threads"), default="step"
    )
    parser.add_argument("--customers", type=int, nargs="+", default=list(DEFAULT_CUSTOMERS))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--previous-src", help="src folder of an earlier custintel to compare")
    args = parser.parse_args(argv)
    if args.experiment == "options":
        options(args.customers)
    elif args.experiment == "threads":
        threads(args.customers, max(args.repeats, 3))
    else:
        step(args.customers, args.repeats, args.previous_src)


if __name__ == "__main__":
    main()
