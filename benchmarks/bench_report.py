"""Time the main job (``CustomerIntelligence``) on about 1M transactions, step by step.

The data are ``make_transactions`` (items, costs and attributes, four years of
history), cached as Parquet. Each measurement runs in a fresh subprocess so that
its peak memory (VmHWM, reset after loading the data) belongs to it alone:

- ``custintel-fit``: ``CustomerIntelligence().fit(tx)``, with the time of each
  step, then ``score(tx)``;
- ``custintel-score``: ``score_file`` of the Parquet file with a saved bundle,
  in buckets of 250,000 rows (bounded memory);
- ``peer``: the hand-rolled sequence a data scientist writes today on the same
  data: lifetimes' ``summary_data_from_transaction_data``, ``BetaGeoFitter`` and
  ``GammaGammaFitter`` with ``customer_lifetime_value``, then mlxtend's
  ``TransactionEncoder``, ``fpgrowth`` and ``association_rules`` on the orders.
  It covers only CLV and rules; custintel's job also fits Pareto/NBD, selects
  the model on a holdout, trains and backtests the churn classifier, segments,
  and runs the Pareto and whale analysis. The ratio compares the comparable
  steps: custintel's "fit CLV models" + "mine rules and recommend" against the
  peer's total.

Usage::

    python benchmarks/bench_report.py                   # ~1M rows, 1 repeat
    python benchmarks/bench_report.py --customers 5000 --repeats 3
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from _harness import reset_peak_memory, run_fresh, status_mb

DATA_DIR = Path(__file__).parent / "_data"
HORIZON = 365


def make_log(n_customers: int) -> Path:
    """Simulated transactions with items and costs; cached as Parquet between runs."""
    path = DATA_DIR / f"report_tx_{n_customers}.parquet"
    if path.exists():
        return path
    from custintel.datasets import make_transactions

    DATA_DIR.mkdir(exist_ok=True)
    tx = make_transactions(
        n_customers, start="2021-01-01", acquisition_days=365, random_state=0
    ).transactions
    tx.to_parquet(path)
    return path


def _task(which: str, path: str, bundle: str) -> dict[str, Any]:
    frame = pd.read_parquet(path)
    gc.collect()
    loaded_mb = reset_peak_memory()
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    steps: dict[str, float] = {}
    if which == "custintel-fit":
        from custintel import CustomerIntelligence

        ci = CustomerIntelligence(horizon=HORIZON, duplicates="keep").fit(frame)
        steps = dict(ci.timings_)
        started = time.perf_counter()
        ci.score(frame)
        steps["score(tx) again"] = time.perf_counter() - started
        ci.save(bundle)
        rows_out = len(ci.customers_)
    elif which == "custintel-score":
        from custintel.pipeline import score_file

        del frame
        gc.collect()
        loaded_mb = reset_peak_memory()
        with tempfile.TemporaryDirectory() as tmp:
            rows_out = score_file(
                bundle, path, Path(tmp) / "scores.parquet", rows_per_bucket=250_000
            )
    elif which == "peer":
        rows_out = _peer(frame, steps)
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
        "rows_out": float(rows_out),
        "steps": steps,
    }


def _peer(frame: pd.DataFrame, steps: dict[str, float]) -> int:
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data
    from mlxtend.frequent_patterns import association_rules, fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    started = time.perf_counter()
    end = frame["timestamp"].max().normalize()
    summary = summary_data_from_transaction_data(
        frame,
        "customer_id",
        "timestamp",
        monetary_value_col="amount",
        observation_period_end=end,
    )
    steps["lifetimes summary"] = time.perf_counter() - started
    started = time.perf_counter()
    bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    ggf.customer_lifetime_value(
        bgf,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
        time=12,
        freq="D",
        discount_rate=1.1 ** (1 / 12) - 1,
    )
    steps["lifetimes BG/NBD + Gamma-Gamma + CLV"] = time.perf_counter() - started
    started = time.perf_counter()
    baskets = frame.groupby("order_id", observed=True)["item_id"].agg(lambda s: list(set(s)))
    encoder = TransactionEncoder()
    onehot = pd.DataFrame(
        encoder.fit(baskets).transform(baskets, sparse=False), columns=encoder.columns_
    )
    n_baskets = len(onehot)
    support = min(0.01, max(0.001, 20.0 / n_baskets))  # the support custintel picks
    itemsets = fpgrowth(onehot, min_support=support, use_colnames=True, max_len=3)
    association_rules(itemsets, metric="confidence", min_threshold=0.1)
    steps["mlxtend fpgrowth + rules"] = time.perf_counter() - started
    return len(summary)


def run(which: str, path: Path, bundle: Path) -> dict[str, Any]:
    """One timed call in a fresh interpreter (so peak memory belongs to that call)."""
    return run_fresh("bench_report", "_task", which, str(path), str(bundle))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=52_000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    path = make_log(args.customers)
    frame = pd.read_parquet(path, columns=["customer_id", "order_id"])
    print(
        f"log: {len(frame):,} rows, {frame['customer_id'].nunique():,} customers, "
        f"{frame['order_id'].nunique():,} orders; median of {args.repeats} run(s), "
        "each in a fresh process"
    )
    del frame
    medians: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "models"
        for which in ("custintel-fit", "custintel-score", "peer"):
            runs = [run(which, path, bundle) for _ in range(args.repeats)]
            m = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "steps"}
            m["steps"] = {
                name: statistics.median(r["steps"][name] for r in runs) for name in runs[0]["steps"]
            }
            medians[which] = m
    print(f"{'task':<16} {'wall s':>8} {'cpu s':>8} {'peak MB':>9} {'extra MB':>9}")
    for which, m in medians.items():
        print(
            f"{which:<16} {m['wall']:>8.1f} {m['cpu']:>8.1f} {m['peak_mb']:>9.0f} "
            f"{m['extra_mb']:>9.0f}"
        )
        for name, seconds in m["steps"].items():
            print(f"    {name:<40} {seconds:>8.1f}")
    fit = medians["custintel-fit"]["steps"]
    comparable = fit["fit CLV models"] + fit["mine rules and recommend"]
    peer = medians["peer"]["wall"]
    print(
        f"comparable steps (CLV + rules): custintel {comparable:.1f} s, peer {peer:.1f} s, "
        f"ratio {peer / comparable:.1f}x (peer/custintel)"
    )


if __name__ == "__main__":
    main()
