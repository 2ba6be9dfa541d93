"""Time frequent-itemset mining: custintel against mlxtend and pyfim on the same baskets.

Each tool runs end to end, from the long-format transaction table (one row per
order line) to a table of frequent itemsets, in a fresh subprocess, so that
peak memory (VmHWM, reset after loading the data) belongs to that run. The
time is split into "prepare" (long table to the tool's input) and "mine"
(input to the itemsets table):

- custintel: ``basket_matrix(frame)`` (validation included), then
  ``frequent_itemsets``;
- mlxtend (fpgrowth, apriori): lists of items per order, ``TransactionEncoder``
  and its dense one-hot DataFrame, as in mlxtend's user guide; then the miner
  with ``use_colnames=True``;
- pyfim (fpgrowth, eclat; a benchmark-only peer, ``pip install pyfim``):
  lists of items per order, then ``fim.<algo>(..., target="s", report="a")``
  with the absolute minimum count, and a DataFrame of its output.

The lists for the peers are built with one sort and list slicing, not
``groupby(...).apply(list)``, which is ten times slower and would flatter
custintel. Every tool must find the same number of itemsets.

Data:

- ``groceries``: the Groceries baskets (9,835 baskets, 169 items) from
  ``../shared/data/groceries.csv``, read into a long table;
- ``zipf``: 1M synthetic baskets over 5,000 items with Zipf popularity
  (1 + Poisson(3) draws per basket, repeats dropped: 3.9M lines), cached in
  ``benchmarks/_data``.

Usage::

    python benchmarks/bench_basket.py                       # everything
    python benchmarks/bench_basket.py --data groceries --repeats 5
    python benchmarks/bench_basket.py --data zipf --tools custintel pyfim-fpgrowth
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _harness import reset_peak_memory, status_mb

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "_data"
GROCERIES = HERE.parent.parent / "shared" / "data" / "groceries.csv"
SUPPORTS = {"groceries": (0.01, 0.005, 0.001), "zipf": (0.01, 0.001)}
TOOLS = ("custintel", "mlxtend-fpgrowth", "mlxtend-apriori", "pyfim-fpgrowth", "pyfim-eclat")


def groceries_frame() -> pd.DataFrame:
    """The Groceries baskets as a long transaction table (one row per item)."""
    with GROCERIES.open(newline="") as handle:
        baskets = list(csv.reader(handle))
    sizes = np.fromiter(map(len, baskets), dtype=np.int64, count=len(baskets))
    order = np.repeat(np.arange(1, len(baskets) + 1), sizes)
    return pd.DataFrame(
        {
            "customer_id": order,
            "order_id": order,
            "timestamp": pd.Timestamp("2024-01-01"),
            "item_id": [item for basket in baskets for item in basket],
            "amount": 1.0,
        }
    )


def zipf_path(n_baskets: int = 1_000_000, n_items: int = 5_000, seed: int = 0) -> Path:
    """Synthetic baskets with Zipf item popularity; cached as Parquet between runs."""
    path = DATA_DIR / f"basket_zipf_{n_baskets}_{n_items}.parquet"
    if path.exists():
        return path
    DATA_DIR.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    draws = 1 + rng.poisson(3.0, n_baskets)
    popularity = 1.0 / np.arange(1, n_items + 1)
    item = rng.choice(n_items, size=int(draws.sum()), p=popularity / popularity.sum())
    order = np.repeat(np.arange(n_baskets), draws)
    lines = pd.DataFrame({"order": order, "item": item}).drop_duplicates(ignore_index=True)
    customer = rng.integers(0, n_baskets // 5, n_baskets)
    day = rng.integers(0, 365, n_baskets).astype("timedelta64[D]")
    order = lines["order"].to_numpy()
    labels = np.array([f"I{k:04d}" for k in range(1, n_items + 1)], dtype=object)
    frame = pd.DataFrame(
        {
            "customer_id": customer[order] + 1,
            "order_id": order + 1,
            "timestamp": (np.datetime64("2024-01-01", "D") + day[order]).astype("datetime64[ns]"),
            "item_id": labels[lines["item"].to_numpy()],
            "amount": 1.0,
        }
    )
    frame.to_parquet(path)
    return path


def load(data: str) -> pd.DataFrame:
    return groceries_frame() if data == "groceries" else pd.read_parquet(zipf_path())


def to_lists(frame: pd.DataFrame) -> list[list[Any]]:
    """Items of each order, by one stable sort and list slicing."""
    orders = frame["order_id"].to_numpy()
    order = np.argsort(orders, kind="stable")
    orders = orders[order]
    items = frame["item_id"].to_numpy(dtype=object)[order].tolist()
    starts = np.flatnonzero(np.r_[True, orders[1:] != orders[:-1]]).tolist()
    ends = [*starts[1:], len(items)]
    return [items[a:b] for a, b in zip(starts, ends, strict=True)]


def min_count(min_support: float, n_baskets: int) -> int:
    """Smallest count with count / n >= min_support, compared in floating point."""
    count = max(1, math.ceil(min_support * n_baskets))
    while count > 1 and (count - 1) / n_baskets >= min_support:
        count -= 1
    while count / n_baskets < min_support:
        count += 1
    return count


def _task(tool: str, data: str, min_support: float) -> dict[str, float]:
    # Imports happen before the clock starts: mlxtend's alone takes about a second.
    import fim
    from mlxtend.frequent_patterns import apriori, fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    from custintel.basket import frequent_itemsets
    from custintel.features import basket_matrix

    frame = load(data)
    gc.collect()
    loaded_mb = reset_peak_memory()
    start = time.perf_counter()
    if tool == "custintel":
        prepared: Any = basket_matrix(frame)
        mid = time.perf_counter()
        out = frequent_itemsets(prepared, min_support=min_support)
    elif tool.startswith("mlxtend"):
        lists = to_lists(frame)
        encoder = TransactionEncoder()
        prepared = pd.DataFrame(encoder.fit(lists).transform(lists), columns=encoder.columns_)
        del lists
        mid = time.perf_counter()
        miner = fpgrowth if tool == "mlxtend-fpgrowth" else apriori
        out = miner(prepared, min_support=min_support, use_colnames=True)
    elif tool.startswith("pyfim"):
        prepared = to_lists(frame)
        mid = time.perf_counter()
        algo = fim.fpgrowth if tool == "pyfim-fpgrowth" else fim.eclat
        found = algo(prepared, target="s", supp=-min_count(min_support, len(prepared)), report="a")
        out = pd.DataFrame(found, columns=["itemset", "count"])
    else:
        raise ValueError(tool)
    end = time.perf_counter()
    peak_mb = status_mb("VmHWM")
    return {
        "prepare": mid - start,
        "mine": end - mid,
        "wall": end - start,
        "peak_mb": peak_mb,
        "extra_mb": peak_mb - loaded_mb,
        "n_itemsets": float(len(out)),
    }


def _limit_memory(limit_gb: float) -> None:
    limit = int(limit_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run(tool: str, data: str, min_support: float, timeout: float, mem_gb: float) -> dict[str, Any]:
    """One timed run in a fresh interpreter; a failure is reported, not raised."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import bench_basket as b; "
        f"print(json.dumps(b._task({tool!r}, {data!r}, {min_support!r})))"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=lambda: _limit_memory(mem_gb),
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout > {timeout:.0f} s"}
    if result.returncode != 0:
        if "MemoryError" in result.stderr or "Unable to allocate" in result.stderr:
            return {"error": f"out of memory (> {mem_gb:.0f} GB)"}
        return {"error": result.stderr.strip().splitlines()[-1][:120]}
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", choices=list(SUPPORTS), default=list(SUPPORTS))
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell (median)")
    parser.add_argument(
        "--slow-repeats", type=int, default=1, help="runs per cell for mlxtend on zipf"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--mem-gb", type=float, default=16.0, help="address-space cap per run")
    args = parser.parse_args()
    if "groceries" in args.data and not GROCERIES.exists():
        sys.exit(f"{GROCERIES} is absent; pass --data zipf")

    print(
        f"{'data':<10} {'support':>8} {'tool':<17} {'itemsets':>9} {'prepare s':>10} "
        f"{'mine s':>8} {'total s':>8} {'peak MB':>8} {'extra MB':>9} {'ratio':>7}"
    )
    for data in args.data:
        for min_support in SUPPORTS[data]:
            medians: dict[str, dict[str, float]] = {}
            for tool in args.tools:
                repeats = args.repeats
                if data == "zipf" and tool.startswith("mlxtend"):
                    repeats = args.slow_repeats
                runs = [run(tool, data, min_support, args.timeout, args.mem_gb)]
                if "error" not in runs[0]:
                    runs += [
                        run(tool, data, min_support, args.timeout, args.mem_gb)
                        for _ in range(repeats - 1)
                    ]
                if any("error" in r for r in runs):
                    error = next(r["error"] for r in runs if "error" in r)
                    print(f"{data:<10} {min_support:>8} {tool:<17} did not finish: {error}")
                    continue
                m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                medians[tool] = m
                ratio = ""
                if tool != "custintel" and "custintel" in medians:
                    ratio = f"{m['wall'] / medians['custintel']['wall']:.1f}x"
                print(
                    f"{data:<10} {min_support:>8} {tool:<17} {m['n_itemsets']:>9.0f} "
                    f"{m['prepare']:>10.3f} {m['mine']:>8.3f} {m['wall']:>8.3f} "
                    f"{m['peak_mb']:>8.0f} {m['extra_mb']:>9.0f} {ratio:>7}",
                    flush=True,
                )
            counts = {tool: m["n_itemsets"] for tool, m in medians.items()}
            assert len(set(counts.values())) <= 1, f"tools disagree on the itemsets: {counts}"
    print("ratio: the tool's total time / custintel's total time (higher = custintel faster)")


if __name__ == "__main__":
    main()
