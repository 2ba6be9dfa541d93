"""Sequential against co-purchase recommendations on a time split, and the miner's speed.

Both recommenders are fitted on the orders up to a cut-off and recommend ``k``
items to every customer seen before it; a customer who buys in the next
``window`` days is evaluated on what it bought there:

- ``hit@k``: share of those customers who bought at least one recommended item;
- ``precision``: recommended items bought / k, averaged over them;
- ``revenue``: amount of their window lines whose item was recommended to them,
  and its share of their window revenue (of the target lines).

Two targets:

``new``
    Cross-sell: items the customer had not bought before the cut-off
    (``exclude_purchased=True``; window lines of items bought before do not
    count, in hits or revenue).
``any``
    Every item bought in the window, re-purchases included
    (``exclude_purchased=False``; the sequential model mines ``X -> X`` rules
    too, ``repeats=True``).

The models:

``co-purchase``
    ``CrossSellRecommender`` as the main job fits it: ``min_support`` from
    ``choose_min_support`` on the training orders, ``max_rules=5000``;
    rules fire on everything the customer ever bought.
``sequential-recent``
    ``SequentialRecommender(max_gap_days=30, lookback_days=30)``: rules "X,
    then Y within 30 days" fire on items bought in the 30 days before the
    cut-off (the follow-ups still due).
``sequential-history``
    ``SequentialRecommender(max_gap_days=60, lookback_days=365)``: rules "X,
    then Y within 60 days" fire on everything bought in the year before.

    Both with ``min_support=0.005``, ``min_confidence=0.05``. The two were
    picked on an earlier split (Online Retail at 2011-07-31, the planted
    simulator at 2024-03-31; gaps 14/30/60, lookbacks 30/90/365, confidence
    0.01/0.05/0.1, support 0.005/0.01): on Online Retail the longest gap and
    lookback won, on the simulator the shortest lookback.
``popularity``
    The items most customers bought, that the customer does not hold (the
    sequential model with its rules removed through ``to_dict``/``from_dict``).

Datasets:

``retail``
    ``../shared/data/online_retail.csv.gz`` cleaned as ``custintel report
    --missing-ids drop`` does (``validate_step``, refunds="auto"); cut-offs
    2011-08-31, 2011-09-30 and 2011-10-31, 30-day windows.
``planted``
    ``make_transactions(20_000, random_state=0)`` with 8 sequences planted by
    ``plant_sequences`` (14 days, probability 0.5, seed 1); cut-off 2024-06-30,
    30-day window.
``simulated``
    The same simulator without planted sequences (the control: only bundles
    bought together).

``--speed N`` also times ``sequential_rules`` on ``make_transactions(N)`` with
planted sequences (CPU seconds, peak RSS), e.g. ``--speed 500000``.

Usage::

    nice -n 10 python benchmarks/bench_sequential.py                 # every dataset
    nice -n 10 python benchmarks/bench_sequential.py planted --k 5 10
    nice -n 10 python benchmarks/bench_sequential.py --speed 500000 --only-speed
    nice -n 10 python benchmarks/bench_sequential.py --numpy-miner   # co-purchase mined
                                                   # without numba (the same rules)
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custintel.basket import (
    CrossSellRecommender,
    SequentialRecommender,
    choose_min_support,
    sequential_rules,
)
from custintel.datasets import make_transactions, plant_sequences
from custintel.features import transaction_baskets

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.csv.gz"
ROLES = {
    "customer_id": "CustomerID",
    "timestamp": "InvoiceDate",
    "quantity": "Quantity",
    "unit_price": "UnitPrice",
    "order_id": "InvoiceNo",
    "item_id": "StockCode",
    "item_name": "Description",
    "region": "Country",
}
#: name: (cut-offs, window days)
SPLITS = {
    "retail": (("2011-08-31", "2011-09-30", "2011-10-31"), 30),
    "planted": (("2024-06-30",), 30),
    "simulated": (("2024-06-30",), 30),
}
N_SIMULATED = 20_000


def online_retail_log() -> pd.DataFrame:
    """Online Retail read and cleaned as ``custintel report ... --missing-ids drop`` does."""
    from custintel.pipeline import read_transactions, validate_step
    from custintel.schema import TransactionSchema

    raw = read_transactions(DATA, text_columns=["CustomerID", "InvoiceNo", "StockCode"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the export's exact duplicate lines, counted
        log = validate_step(raw, horizon=90, schema=TransactionSchema(**ROLES), missing_ids="drop")
    return log.frame[["customer_id", "order_id", "timestamp", "item_id", "amount"]]


def transactions(name: str) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The log of one dataset and its planted sequences (none for real data)."""
    if name == "retail":
        return online_retail_log(), []
    sim = make_transactions(N_SIMULATED, random_state=0).transactions
    if name == "simulated":
        return sim, []
    planted = plant_sequences(sim, 8, max_gap_days=14, probability=0.5, random_state=1)
    return planted.transactions, planted.sequences


def _popularity(model: SequentialRecommender) -> SequentialRecommender:
    export = model.to_dict()
    export["rules"] = {key: [] for key in export["rules"]}
    return SequentialRecommender.from_dict(export)


def _score(
    recommended: pd.DataFrame, window: pd.DataFrame, held: pd.DataFrame, target: str, k: int
) -> dict[str, float]:
    """Hit rate, precision and revenue of one recommendation table on the window's lines."""
    lines = window
    if target == "new":
        seen = lines.merge(held, on=["customer_id", "item_id"], how="left", indicator=True)
        lines = lines[(seen["_merge"] == "left_only").to_numpy()]
    buyers = pd.Index(lines["customer_id"].unique())
    long = recommended.reindex(buyers).stack().rename("item_id").reset_index()
    long = long.rename(columns={long.columns[0]: "customer_id"})[["customer_id", "item_id"]]
    bought = lines.groupby(["customer_id", "item_id"], observed=True, as_index=False)[
        "amount"
    ].sum()
    matched = bought.merge(long, on=["customer_id", "item_id"], how="inner")
    hits = matched.groupby("customer_id").size().reindex(buyers, fill_value=0)
    return {
        "customers": len(buyers),
        "hit": float((hits > 0).mean()),
        "precision": float((hits / k).mean()),
        "revenue": float(matched["amount"].sum()),
        "revenue_share": float(matched["amount"].sum() / lines["amount"].sum()),
    }


#: name: SequentialRecommender parameters (besides repeats).
SEQUENTIAL: dict[str, dict[str, Any]] = {
    "sequential-recent": {"max_gap_days": 30, "lookback_days": 30},
    "sequential-history": {"max_gap_days": 60, "lookback_days": 365},
}
SEQUENTIAL_SUPPORT: dict[str, Any] = {"min_support": 0.005, "min_confidence": 0.05}


def evaluate(
    tx: pd.DataFrame, cutoff: str, window_days: int, ks: tuple[int, ...]
) -> list[dict[str, Any]]:
    """Fit every model at ``cutoff`` and score it on the next ``window_days`` days."""
    day = tx["timestamp"].dt.normalize()
    end = pd.Timestamp(cutoff)
    train = tx[day <= end]
    window = tx[(day > end) & (day <= end + pd.Timedelta(days=window_days))]
    window = window[window["amount"] >= 0]
    window = window[window["customer_id"].isin(train["customer_id"].unique())]
    held = train.loc[train["amount"] >= 0, ["customer_id", "item_id"]].drop_duplicates()

    start = time.process_time()
    baskets = transaction_baskets(train, level="order", context=False)
    labels = np.empty(len(baskets.items), dtype=object)
    labels[:] = baskets.items.tolist()
    support = choose_min_support((baskets.matrix, labels)).min_support
    copurchase = CrossSellRecommender(min_support=support, max_rules=5000).fit(train)
    fit_cpu = {("new", "co-purchase"): time.process_time() - start}
    fit_cpu["any", "co-purchase"] = fit_cpu["new", "co-purchase"]
    models: dict[str, dict[str, Any]] = {}
    for target, repeats in (("new", False), ("any", True)):
        models[target] = {"co-purchase": copurchase}
        for name, params in SEQUENTIAL.items():
            start = time.process_time()
            models[target][name] = SequentialRecommender(
                **params, **SEQUENTIAL_SUPPORT, repeats=repeats
            ).fit(train)
            fit_cpu[target, name] = time.process_time() - start
        models[target]["popularity"] = _popularity(models[target][name])
    rows = []
    n_max = max(ks)
    for target, by_name in models.items():
        exclude = target == "new"
        for name, model in by_name.items():
            start = time.process_time()
            if isinstance(model, SequentialRecommender):
                table = model.recommend_items(train, n=n_max, exclude_purchased=exclude, as_of=end)
            else:
                table = model.recommend_items(train, n=n_max, exclude_purchased=exclude)
            recommend_cpu = time.process_time() - start
            for k in ks:
                rows.append(
                    {
                        "cutoff": cutoff,
                        "target": target,
                        "k": k,
                        "model": name,
                        **_score(table.iloc[:, :k], window, held, target, k),
                        "rules": len(model.rules_),
                        "fit_cpu_s": fit_cpu.get((target, name), np.nan),
                        "recommend_cpu_s": recommend_cpu,
                    }
                )
    rows.append({"cutoff": cutoff, "model": "_meta", "co_purchase_min_support": support})
    return rows


def speed(n_customers: int) -> dict[str, Any]:
    """CPU seconds and peak RSS of sequential_rules on a simulated log of ``n_customers``."""
    import resource

    sim = make_transactions(n_customers, random_state=0).transactions
    planted = plant_sequences(sim, 8, max_gap_days=14, probability=0.5, random_state=1)
    tx = planted.transactions
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.process_time()
    rules = sequential_rules(tx, max_gap_days=30, min_support=0.001)
    cpu = time.process_time() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    top = set(zip(rules["antecedent"], rules["consequent"], strict=True))
    return {
        "customers": n_customers,
        "lines": len(tx),
        "rules": len(rules),
        "cpu_s": round(cpu, 2),
        "peak_rss_mb_before": round(before),
        "peak_rss_mb_after": round(after),
        "planted_found": sum(pair in top for pair in planted.sequences),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", help=f"any of {list(SPLITS)} (default: all)")
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--speed", type=int, default=0, help="also time N simulated customers")
    parser.add_argument("--only-speed", action="store_true")
    parser.add_argument(
        "--numpy-miner",
        action="store_true",
        help="mine the co-purchase rules with the numpy miner (same rules; not numba)",
    )
    args = parser.parse_args()
    unknown = set(args.datasets) - set(SPLITS)
    if unknown:
        parser.error(f"unknown datasets {sorted(unknown)}; use any of {list(SPLITS)}")
    datasets = args.datasets or list(SPLITS)
    if args.numpy_miner:
        from custintel.basket import _mining

        _mining._compiled = lambda: None
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    if not args.only_speed:
        for name in datasets:
            if name == "retail" and not DATA.exists():
                print(f"{name}: skipped, {DATA} is absent")
                continue
            start = time.process_time()
            tx, sequences = transactions(name)
            load_cpu = time.process_time() - start
            cutoffs, window = SPLITS[name]
            rows: list[dict[str, Any]] = []
            for cutoff in cutoffs:
                rows += evaluate(tx, cutoff, window, tuple(args.k))
            meta = {
                r["cutoff"]: r["co_purchase_min_support"] for r in rows if r["model"] == "_meta"
            }
            table = pd.DataFrame([r for r in rows if r["model"] != "_meta"])
            print(f"\n== {name}: {len(tx):,} lines; planted {sequences or 'nothing'}")
            print(
                f"   load + clean {load_cpu:.1f} CPU s; co-purchase min_support by cut-off {meta}"
            )
            print(
                table.to_string(
                    index=False,
                    float_format=lambda v: f"{v:.4f}" if abs(v) < 10 else f"{v:,.0f}",
                )
            )
            summary = table.pivot_table(
                index=["target", "k"], columns="model", values=["hit", "revenue"], aggfunc="mean"
            )
            print(f"\n   {name}: mean over cut-offs")
            print(summary.to_string(float_format=lambda v: f"{v:.4f}" if v < 10 else f"{v:,.0f}"))
    if args.speed:
        print("\n== speed of sequential_rules")
        print(json.dumps(speed(args.speed)))


if __name__ == "__main__":
    main()
