"""Time custintel's 80/20 profitability against hand-rolled pandas on the same simulated log.

Two tasks, each run in a fresh subprocess (peak memory VmHWM, reset after loading):

- ``table``: transactions -> per-customer revenue, cost, profit (cost column plus a
  service cost per order) and most frequent channel: ``customer_profitability`` vs a
  vectorised pandas groupby. A third row times custintel's validation alone
  (``validated_transactions``, which ``customer_profitability`` runs first), to show
  where custintel's time goes; the pandas groupby validates nothing.
- ``analysis``: on that customer table, the Pareto figures (top-20% share, customers for
  80%, Gini, ABC classes at 80/95) and the whale curve: ``ParetoAnalysis`` +
  ``WhaleCurve`` vs pandas sort/cumsum.

Each task ends with a ``ratio`` row (pandas time / custintel time: above 1 when
custintel is faster) and the run ends with one line per task stating the ratio.

Usage::

    python benchmarks/bench_profitability.py                    # 200,000 customers
    python benchmarks/bench_profitability.py --customers 500000 --repeats 5
    python benchmarks/bench_profitability.py --customers 70000 --tasks table   # ~1M rows
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
COST_PER_ORDER = 3.0


def make_log(n_customers: int) -> tuple[Path, Path]:
    """The simulated log and its customer profit table, cached as Parquet."""
    log = DATA_DIR / f"profit_log_{n_customers}.parquet"
    table = DATA_DIR / f"profit_table_{n_customers}.parquet"
    if not log.exists():
        from custintel.datasets import make_transactions

        DATA_DIR.mkdir(exist_ok=True)
        make_transactions(n_customers, random_state=0).transactions.to_parquet(log)
    if not table.exists():
        from custintel.features import customer_profitability

        frame = pd.read_parquet(log)
        customer_profitability(frame, cost_per_order=COST_PER_ORDER, duplicates="keep")[
            ["revenue", "profit"]
        ].to_parquet(table)
    return log, table


def _pandas_table(frame: pd.DataFrame) -> pd.DataFrame:
    by = frame.groupby("customer_id", sort=True)
    revenue = by["amount"].sum()
    cost = by["cost"].sum() + COST_PER_ORDER * by["order_id"].nunique()
    counts = frame.groupby(["customer_id", "channel"], observed=True).size().reset_index(name="n")
    counts = counts.sort_values(["customer_id", "n", "channel"], ascending=[True, False, True])
    channel = counts.drop_duplicates("customer_id").set_index("customer_id")["channel"]
    out = pd.DataFrame({"revenue": revenue, "cost": cost, "profit": revenue - cost})
    out["channel"] = channel
    return out


def _pandas_analysis(table: pd.DataFrame) -> dict[str, float]:
    ids = table.index.to_series()
    ranked = table.assign(_id=ids).sort_values(["revenue", "_id"], ascending=[False, True])
    n = len(ranked)
    cumulative = ranked["revenue"].cumsum() / ranked["revenue"].sum()
    top20 = cumulative.iloc[int(np.ceil(0.2 * n)) - 1]
    for80 = (int((cumulative < 0.8).sum()) + 1) / n
    before = cumulative.shift(fill_value=0.0)
    abc = pd.cut(before, [-np.inf, 0.8, 0.95, np.inf], right=False, labels=["A", "B", "C"])
    ascending = np.sort(table["revenue"].to_numpy())
    weights = 2 * np.arange(1, n + 1) - n - 1
    gini = float(weights @ ascending / (n * ascending.sum()))
    whale = table.assign(_id=ids).sort_values(["profit", "_id"], ascending=[False, True])
    curve = whale["profit"].cumsum()
    peak_share = float(curve.max() / curve.iloc[-1])
    return {
        "top20": float(top20),
        "for80": for80,
        "gini": gini,
        "n_a": float((abc == "A").sum()),
        "peak_share": peak_share,
    }


def _custintel_analysis(table: pd.DataFrame) -> dict[str, float]:
    from custintel.profitability import ParetoAnalysis, WhaleCurve

    pareto = ParetoAnalysis(value="revenue").fit(table)
    classes = pareto.abc_classes((0.8, 0.95))
    whale = WhaleCurve().fit(table)
    return {
        "top20": pareto.share_of_top(0.2),
        "for80": pareto.customers_for_share(0.8),
        "gini": pareto.gini_,
        "n_a": float((classes == "A").sum()),
        "peak_share": whale.peak_share_,
    }


def _task(which: str, log: str, table: str) -> dict[str, float]:
    task = which.split("-")[0]
    frame = pd.read_parquet(log if task == "table" else table)
    # Imports are not what is measured: load them before the clock starts.
    import custintel.features
    import custintel.profitability  # noqa: F401

    gc.collect()
    loaded_mb = reset_peak_memory()
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    check: dict[str, float]
    if which == "table-custintel":
        from custintel.features import customer_profitability

        out = customer_profitability(frame, cost_per_order=COST_PER_ORDER, duplicates="keep")
        check = {"rows": float(len(out)), "profit": float(out["profit"].sum())}
    elif which == "table-validation":
        from custintel.schema import validated_transactions

        validated = validated_transactions(frame, None, refunds="net", duplicates="keep")
        check = {"rows": float(len(validated.customers))}
    elif which == "table-pandas":
        out = _pandas_table(frame)
        check = {"rows": float(len(out)), "profit": float(out["profit"].sum())}
    elif which == "analysis-custintel":
        check = _custintel_analysis(frame)
    elif which == "analysis-pandas":
        check = _pandas_analysis(frame)
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
        **{f"check_{k}": v for k, v in check.items()},
    }


def run(which: str, log: Path, table: Path) -> dict[str, float]:
    """One timed call in a fresh interpreter (so peak memory belongs to that call)."""
    return run_fresh("bench_profitability", "_task", which, str(log), str(table))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--tasks", nargs="+", choices=["table", "analysis"], default=["table", "analysis"]
    )
    args = parser.parse_args()

    log, table = make_log(args.customers)
    n_rows = len(pd.read_parquet(log, columns=["customer_id"]))
    print(
        f"log: {n_rows:,} rows, {args.customers:,} customers (make_transactions, seed 0); "
        f"median of {args.repeats} interleaved runs, each in a fresh process"
    )
    print(f"{'task':<10} {'tool':<10} {'wall s':>8} {'cpu s':>8} {'peak MB':>9} {'extra MB':>9}")
    verdicts = []
    for task in args.tasks:
        medians = {}
        tools = (
            ("custintel", "validation", "pandas") if task == "table" else ("custintel", "pandas")
        )
        # Interleaved (one run of each tool per round), so a busy spell of the shared
        # machine slows every tool alike rather than the one that happened to run then.
        runs: dict[str, list[dict[str, float]]] = {tool: [] for tool in tools}
        for _ in range(args.repeats):
            for tool in tools:
                runs[tool].append(run(f"{task}-{tool}", log, table))
        for tool in tools:
            medians[tool] = {k: statistics.median(r[k] for r in runs[tool]) for k in runs[tool][0]}
            m = medians[tool]
            print(
                f"{task:<10} {tool:<10} {m['wall']:>8.2f} {m['cpu']:>8.2f} "
                f"{m['peak_mb']:>9.0f} {m['extra_mb']:>9.0f}"
            )
        c, p = medians["custintel"], medians["pandas"]
        for key in c:
            if key.startswith("check_") and key in p:
                assert np.isclose(c[key], p[key], rtol=1e-9), f"results differ on {key}"
        print(
            f"{task:<10} {'ratio':<10} {p['wall'] / c['wall']:>7.1f}x "
            f"{p['cpu'] / c['cpu']:>7.1f}x "
            f"{c['peak_mb'] / p['peak_mb']:>9.2f} {c['extra_mb'] / max(p['extra_mb'], 1):>9.2f}"
            "  (time: pandas/custintel; memory: custintel/pandas)"
        )
        verdicts.append(
            f"{task}: custintel is {p['wall'] / c['wall']:.2f}x (wall) and "
            f"{p['cpu'] / c['cpu']:.2f}x (cpu) the speed of the plain pandas version"
        )
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
