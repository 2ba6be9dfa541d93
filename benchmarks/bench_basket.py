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
  ``benchmarks/_data``;
- ``wide``: a wide catalogue like the Belgian "retail" data of FIMI: 88,000
  baskets over 16,000 items, Zipf popularity (1 + Poisson(9) draws per
  basket) plus, in 30 % of baskets, one of 2,000 planted bundles of 2-5
  items (Zipf popularity too), so there are long itemsets; cached;
- ``retail``: the Online Retail invoices (``../shared/data/online_retail.csv.gz``)
  cleaned as the main job does with ``--missing-ids drop``: cancellation
  invoices, non-positive quantities and prices and guest lines dropped;
  one basket per invoice, items by ``StockCode``;
- ``huge``: one basket of 20,000 items (and the same basket twice plus a
  small one), at min_support 0.5, each run under a 3 GB address-space limit
  (``resource.setrlimit(RLIMIT_AS)``): custintel must finish or refuse
  clearly, never die of ``MemoryError``.

``custintel`` runs the compiled (numba) miner, ``custintel-numpy`` the
vectorised numpy one (numba switched off in that process), to measure what
the compiled kernels buy. Every custintel run first mines a tiny basket list
before the clock starts, so numba's import and the loading of its cached
machine code (a one-off per process, printed as "setup") are not counted as
mining, just as the peers' imports are not.

Usage::

    python benchmarks/bench_basket.py                       # everything
    python benchmarks/bench_basket.py --data groceries --repeats 5
    python benchmarks/bench_basket.py --data zipf --tools custintel pyfim-fpgrowth
    python benchmarks/bench_basket.py --data wide retail zipf huge \
        --tools custintel custintel-numpy pyfim-eclat pyfim-fpgrowth   # issue 21 goals
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
SHARED = HERE.parent.parent / "shared" / "data"
GROCERIES = SHARED / "groceries.csv"
ONLINE_RETAIL = SHARED / "online_retail.csv.gz"
SUPPORTS = {
    "groceries": (0.01, 0.005, 0.001),
    "zipf": (0.01, 0.001, 0.0005),
    "wide": (0.0005,),
    "retail": (0.0005,),
    "huge": (0.5,),
}
TOOLS = (
    "custintel",
    "custintel-numpy",
    "mlxtend-fpgrowth",
    "mlxtend-apriori",
    "pyfim-fpgrowth",
    "pyfim-eclat",
)
# Longest itemset per data set (None: all). On Online Retail at 0.0005 every length is
# out of reach for any miner: near-identical invoices repeat 10+ times, so there are more
# than 20 million itemsets, some of 53 items; the recommender mines max_len=3.
MAX_LENS: dict[str, tuple[int | None, ...]] = {"retail": (3, 4)}
# Goals of issue 21 per data set: (time ratio to the faster pyfim, extra MB).
GOALS = {"wide": (1.5, 100.0), "retail": (1.5, 100.0), "zipf": (1.5, 1024.0)}
HUGE_AS_GB = 3.0


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


def wide_path(
    n_baskets: int = 88_000, n_items: int = 16_000, n_bundles: int = 2_000, seed: int = 0
) -> Path:
    """A wide catalogue: Zipf popularity plus planted bundles; cached as Parquet."""
    path = DATA_DIR / f"basket_wide_{n_baskets}_{n_items}.parquet"
    if path.exists():
        return path
    DATA_DIR.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1)
    popularity /= popularity.sum()
    draws = 1 + rng.poisson(9.0, n_baskets)
    item = rng.choice(n_items, size=int(draws.sum()), p=popularity)
    order = np.repeat(np.arange(n_baskets), draws)
    # Bundles: 2-5 items each, drawn by popularity; 30 % of baskets hold one.
    sizes = rng.integers(2, 6, n_bundles)
    members = rng.choice(n_items, size=int(sizes.sum()), p=popularity)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    bundle_pop = 1.0 / np.arange(1, n_bundles + 1) ** 0.8
    has = np.flatnonzero(rng.random(n_baskets) < 0.3)
    chosen = rng.choice(n_bundles, size=len(has), p=bundle_pop / bundle_pop.sum())
    extra_order = np.repeat(has, sizes[chosen])
    offsets = np.arange(len(extra_order)) - np.repeat(
        np.cumsum(sizes[chosen]) - sizes[chosen], sizes[chosen]
    )
    extra_item = members[np.repeat(starts[chosen], sizes[chosen]) + offsets]
    lines = pd.DataFrame(
        {"order": np.r_[order, extra_order], "item": np.r_[item, extra_item]}
    ).drop_duplicates(ignore_index=True)
    labels = np.array([f"W{k:05d}" for k in range(1, n_items + 1)], dtype=object)
    o = lines["order"].to_numpy()
    frame = pd.DataFrame(
        {
            "customer_id": o // 4 + 1,
            "order_id": o + 1,
            "timestamp": pd.Timestamp("2024-01-01"),
            "item_id": labels[lines["item"].to_numpy()],
            "amount": 1.0,
        }
    )
    frame.to_parquet(path)
    return path


def retail_frame() -> pd.DataFrame:
    """Online Retail purchase lines as the main job keeps them (``--missing-ids drop``)."""
    raw = pd.read_csv(ONLINE_RETAIL, dtype={"CustomerID": str, "InvoiceNo": str, "StockCode": str})
    keep = (
        ~raw["InvoiceNo"].str.startswith("C")
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
        & raw["CustomerID"].notna()
    )
    raw = raw[keep]
    return pd.DataFrame(
        {
            "customer_id": raw["CustomerID"].to_numpy(),
            "order_id": raw["InvoiceNo"].to_numpy(),
            "timestamp": pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M").to_numpy(),
            "item_id": raw["StockCode"].to_numpy(),
            "amount": (raw["Quantity"] * raw["UnitPrice"]).to_numpy(),
        }
    )


def load(data: str) -> pd.DataFrame:
    if data == "groceries":
        return groceries_frame()
    if data == "retail":
        return retail_frame()
    return pd.read_parquet(wide_path() if data == "wide" else zipf_path())


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


def _task(tool: str, data: str, min_support: float, max_len: int | None = None) -> dict[str, float]:
    # Imports happen before the clock starts: mlxtend's alone takes about a second.
    import fim
    from mlxtend.frequent_patterns import apriori, fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    from custintel.basket import frequent_itemsets
    from custintel.features import basket_matrix

    setup = 0.0
    if tool.startswith("custintel"):
        if tool == "custintel-numpy":
            from custintel.basket import _mining

            _mining._compiled = lambda: None  # the numpy miner, as without numba
        tick = time.perf_counter()
        frequent_itemsets([["a", "b"], ["a"]], min_support=0.5)  # numba's cached code
        setup = time.perf_counter() - tick
    frame = load(data)
    gc.collect()
    loaded_mb = reset_peak_memory()
    start = time.perf_counter()
    cpu = time.process_time()
    if tool.startswith("custintel"):
        prepared: Any = basket_matrix(frame)
        mid = time.perf_counter()
        # The peers have no itemset budget: raise custintel's (5M by default) to compare.
        out = frequent_itemsets(
            prepared, min_support=min_support, max_len=max_len, max_itemsets=50_000_000
        )
    elif tool.startswith("mlxtend"):
        lists = to_lists(frame)
        encoder = TransactionEncoder()
        prepared = pd.DataFrame(encoder.fit(lists).transform(lists), columns=encoder.columns_)
        del lists
        mid = time.perf_counter()
        miner = fpgrowth if tool == "mlxtend-fpgrowth" else apriori
        out = miner(prepared, min_support=min_support, use_colnames=True, max_len=max_len)
    elif tool.startswith("pyfim"):
        prepared = to_lists(frame)
        mid = time.perf_counter()
        algo = fim.fpgrowth if tool == "pyfim-fpgrowth" else fim.eclat
        limit = {} if max_len is None else {"zmax": max_len}
        found = algo(
            prepared, target="s", supp=-min_count(min_support, len(prepared)), report="a", **limit
        )
        out = pd.DataFrame(found, columns=["itemset", "count"])
    else:
        raise ValueError(tool)
    end = time.perf_counter()
    cpu = time.process_time() - cpu
    peak_mb = status_mb("VmHWM")
    return {
        "setup": setup,
        "cpu": cpu,
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


def run(
    tool: str,
    data: str,
    min_support: float,
    timeout: float,
    mem_gb: float,
    max_len: int | None = None,
) -> dict[str, Any]:
    """One timed run in a fresh interpreter; a failure is reported, not raised."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import bench_basket as b; "
        f"print(json.dumps(b._task({tool!r}, {data!r}, {min_support!r}, {max_len!r})))"
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


def huge_baskets(variant: str) -> list[list[str]]:
    """One basket of 20,000 items ("one"), or that basket twice plus a small one ("two")."""
    basket = [f"SKU{k:05d}" for k in range(20_000)]
    return [basket] if variant == "one" else [basket, basket, basket[:10]]


def _huge_task(tool: str, variant: str) -> dict[str, Any]:
    import fim

    from custintel.basket import frequent_itemsets

    tick = time.perf_counter()
    frequent_itemsets([["a", "b"], ["a"]], min_support=0.5)  # numba's cached code
    setup = time.perf_counter() - tick
    baskets = huge_baskets(variant)
    gc.collect()
    loaded_mb = reset_peak_memory()
    start, cpu = time.perf_counter(), time.process_time()
    outcome = ""
    try:
        if tool == "custintel":
            outcome = f"finished: {len(frequent_itemsets(baskets, min_support=0.5))} itemsets"
        else:
            found = fim.eclat(baskets, target="s", supp=-min_count(0.5, len(baskets)), report="a")
            outcome = f"finished: {len(found)} itemsets"
    except ValueError as exc:
        outcome = f"refused ({type(exc).__name__}): {str(exc)[:160]}..."
    peak_mb = status_mb("VmHWM")
    return {
        "setup": setup,
        "wall": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "peak_mb": peak_mb,
        "extra_mb": peak_mb - loaded_mb,
        "outcome": outcome,
    }


def run_huge(tool: str, variant: str, timeout: float) -> dict[str, Any]:
    """The 20,000-item basket in a fresh interpreter under a 3 GB address-space limit."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import bench_basket as b; "
        f"print(json.dumps(b._huge_task({tool!r}, {variant!r})))"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=lambda: _limit_memory(HUGE_AS_GB),
        )
    except subprocess.TimeoutExpired:
        return {"error": f"still running after {timeout:.0f} s (killed)"}
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.returncode}"]
        return {"error": f"crashed under {HUGE_AS_GB:.0f} GB: {tail[0][:120]}"}
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def report_huge(tools: list[str], timeout: float) -> None:
    for variant in ("one", "two"):
        for tool in tools:
            if tool not in ("custintel", "pyfim-eclat"):
                continue
            r = run_huge(tool, variant, timeout)
            label = f"huge-{variant}"
            if "error" in r:
                print(f"{label:<10} {0.5:>8} {tool:<17} {r['error']}", flush=True)
                continue
            print(
                f"{label:<10} {0.5:>8} {tool:<17} {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU, "
                f"peak {r['peak_mb']:.0f} MB, extra {r['extra_mb']:.0f} MB: {r['outcome']}",
                flush=True,
            )


def cells(data: str) -> list[tuple[float, int | None]]:
    """The (min_support, max_len) pairs benchmarked on a data set."""
    return [(ms, ml) for ms in SUPPORTS[data] for ml in MAX_LENS.get(data, (None,))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", choices=list(SUPPORTS), default=list(SUPPORTS))
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell (median)")
    parser.add_argument(
        "--slow-repeats", type=int, default=1, help="runs per cell for mlxtend on zipf"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--huge-timeout", type=float, default=120.0, help="seconds per huge run")
    parser.add_argument("--mem-gb", type=float, default=16.0, help="address-space cap per run")
    args = parser.parse_args()
    if "groceries" in args.data and not GROCERIES.exists():
        sys.exit(f"{GROCERIES} is absent; pass --data zipf")
    if "retail" in args.data and not ONLINE_RETAIL.exists():
        sys.exit(f"{ONLINE_RETAIL} is absent; leave out --data retail")

    print(
        f"{'data':<10} {'support':>8} {'tool':<17} {'itemsets':>9} {'setup s':>8} "
        f"{'prepare s':>10} {'mine s':>8} {'total s':>8} {'CPU s':>7} {'peak MB':>8} "
        f"{'extra MB':>9} {'ratio':>7}"
    )
    for data in args.data:
        if data == "huge":
            report_huge(args.tools, args.huge_timeout)
            continue
        for min_support, max_len in cells(data):
            where = f"{min_support}" + (f"/{max_len}" if max_len else "")
            medians: dict[str, dict[str, float]] = {}
            for tool in args.tools:
                if tool.startswith("mlxtend") and data in ("wide", "retail"):
                    # A dense one-hot frame of 88k x 16k is 1.4 GB; mlxtend is not the peer here.
                    continue
                repeats = args.repeats
                if data == "zipf" and tool.startswith("mlxtend"):
                    repeats = args.slow_repeats
                runs = [run(tool, data, min_support, args.timeout, args.mem_gb, max_len)]
                if "error" not in runs[0]:
                    runs += [
                        run(tool, data, min_support, args.timeout, args.mem_gb, max_len)
                        for _ in range(repeats - 1)
                    ]
                if any("error" in r for r in runs):
                    error = next(r["error"] for r in runs if "error" in r)
                    print(f"{data:<10} {where:>8} {tool:<17} did not finish: {error}", flush=True)
                    continue
                m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                medians[tool] = m
                ratio = ""
                if tool != "custintel" and "custintel" in medians:
                    ratio = f"{m['wall'] / medians['custintel']['wall']:.2f}x"
                print(
                    f"{data:<10} {where:>8} {tool:<17} {m['n_itemsets']:>9.0f} "
                    f"{m['setup']:>8.2f} {m['prepare']:>10.3f} {m['mine']:>8.3f} "
                    f"{m['wall']:>8.3f} {m['cpu']:>7.3f} {m['peak_mb']:>8.0f} "
                    f"{m['extra_mb']:>9.0f} {ratio:>7}",
                    flush=True,
                )
            counts = {tool: m["n_itemsets"] for tool, m in medians.items()}
            assert len(set(counts.values())) <= 1, f"tools disagree on the itemsets: {counts}"
            report_goal(data, min_support, medians)
    print("ratio: the tool's total time / custintel's total time (higher = custintel faster)")


def report_goal(data: str, min_support: float, medians: dict[str, dict[str, float]]) -> None:
    """Print custintel against the faster pyfim, and the goal of issue 21 where there is one."""
    peers = [m for tool, m in medians.items() if tool.startswith("pyfim")]
    if "custintel" not in medians or not peers:
        return
    ours = medians["custintel"]
    best = min(peers, key=lambda m: m["wall"])
    ratio, cpu_ratio = ours["wall"] / best["wall"], ours["cpu"] / max(best["cpu"], 1e-9)
    line = (
        f"  -> custintel / fastest pyfim: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU; extra "
        f"memory {ours['extra_mb']:.0f} MB (pyfim {best['extra_mb']:.0f} MB)"
    )
    goal = GOALS.get(data)
    if goal is not None and min_support == 0.0005:
        met = ratio <= goal[0] and ours["extra_mb"] <= goal[1]
        line += f"; goal <= {goal[0]}x and <= {goal[1]:.0f} MB: {'met' if met else 'NOT met'}"
    print(line, flush=True)


if __name__ == "__main__":
    main()
