"""The real Online Retail export from raw CSV to answers: custintel against the usual recipe.

Both sides start from ``../shared/data/online_retail.csv.gz`` (541,909 invoice
lines) and each run is a fresh interpreter, timed from reading the file to
the last output written, with its peak resident memory:

- ``custintel``: the command of issue 16, which cleans the lines (cancellations
  matched to the purchases they reverse, guest lines dropped and counted,
  non-positive prices kept out), fits CLV, churn, segments, 80/20 and
  cross-sell rules, and writes the HTML report, CSVs, action lists and the
  model bundle::

      custintel report online_retail.csv.gz --customer-id CustomerID \\
          --timestamp InvoiceDate --quantity Quantity --unit-price UnitPrice \\
          --order-id InvoiceNo --item StockCode --item-name Description \\
          --region Country --missing-ids drop --out DIR

- ``recipe``: what the lifetimes and mlxtend tutorials do with this file by
  hand: drop lines without a customer, drop cancellation invoices and
  non-positive quantities and prices, amount = quantity × price,
  ``summary_data_from_transaction_data``, ``BetaGeoFitter`` +
  ``GammaGammaFitter`` + ``customer_lifetime_value`` over 12 months, and
  mlxtend ``fpgrowth`` + ``association_rules`` on the invoices at support 0.02
  (mlxtend's dense one-hot frame does not fit lower supports in reasonable
  memory). It has no churn model, segments, 80/20, report or bundle, so it
  does less than custintel; the ratio is what a user pays for a whole answer.

Usage::

    python benchmarks/bench_online_retail.py              # 3 repeats each
    python benchmarks/bench_online_retail.py --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import reset_peak_memory, run_fresh, status_mb

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.csv.gz"

COMMAND = [
    "report",
    str(DATA),
    "--customer-id",
    "CustomerID",
    "--timestamp",
    "InvoiceDate",
    "--quantity",
    "Quantity",
    "--unit-price",
    "UnitPrice",
    "--order-id",
    "InvoiceNo",
    "--item",
    "StockCode",
    "--item-name",
    "Description",
    "--region",
    "Country",
    "--missing-ids",
    "drop",
    "--quiet",
]


def run_custintel(out: str) -> dict[str, Any]:
    """Run the issue-16 command into ``out``; return wall seconds and peak MB."""
    import contextlib
    import io

    from custintel.cli import main

    before = reset_peak_memory()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        code = main([*COMMAND, "--out", out, "--force"])
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"custintel report exited with {code}:\n{printed.getvalue()}")
    return {"seconds": seconds, "peak_mb": status_mb("VmHWM"), "base_mb": before}


def run_recipe() -> dict[str, Any]:
    """The lifetimes + mlxtend recipe on the same file; wall seconds and peak MB."""
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    before = reset_peak_memory()
    started = time.perf_counter()
    lines = pd.read_csv(DATA, dtype={"CustomerID": str, "InvoiceNo": str, "StockCode": str})
    lines = lines.dropna(subset=["CustomerID"])
    lines = lines[~lines["InvoiceNo"].str.startswith("C")]
    lines = lines[(lines["Quantity"] > 0) & (lines["UnitPrice"] > 0)].copy()
    lines["InvoiceDate"] = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M")
    lines["amount"] = lines["Quantity"] * lines["UnitPrice"]
    summary = summary_data_from_transaction_data(
        lines, "CustomerID", "InvoiceDate", monetary_value_col="amount"
    )
    bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    clv = ggf.customer_lifetime_value(
        bgf,
        repeat["frequency"],
        repeat["recency"],
        repeat["T"],
        repeat["monetary_value"],
        time=12,
        discount_rate=0.01,
    )
    baskets = pd.crosstab(lines["InvoiceNo"], lines["StockCode"]).gt(0)
    itemsets = fpgrowth(baskets, min_support=0.02, use_colnames=True)
    rules = association_rules(itemsets, metric="lift", min_threshold=1.0)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": status_mb("VmHWM"),
        "base_mb": before,
        "customers": len(summary),
        "clv_total": float(clv.sum()),
        "rules": len(rules),
    }


def main() -> None:
    """Time both sides in fresh interpreters and print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not DATA.is_file():
        sys.exit(f"{DATA} is missing: this benchmark needs ../shared/data beside the project")
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            ours.append(run_fresh("bench_online_retail", "run_custintel", f"{folder}/report"))
            theirs.append(run_fresh("bench_online_retail", "run_recipe"))
            print(
                f"repeat {repeat + 1}: custintel {ours[-1]['seconds']:.1f} s "
                f"{ours[-1]['peak_mb']:.0f} MB; recipe {theirs[-1]['seconds']:.1f} s "
                f"{theirs[-1]['peak_mb']:.0f} MB",
                flush=True,
            )
    ci_s = statistics.median(r["seconds"] for r in ours)
    ci_mb = statistics.median(r["peak_mb"] for r in ours)
    rc_s = statistics.median(r["seconds"] for r in theirs)
    rc_mb = statistics.median(r["peak_mb"] for r in theirs)
    print(f"\nmedian of {args.repeats}:")
    print("| side | wall (s) | peak RSS (MB) |\n|---|---|---|")
    print(f"| custintel report (whole job) | {ci_s:.1f} | {ci_mb:.0f} |")
    print(f"| lifetimes + mlxtend recipe | {rc_s:.1f} | {rc_mb:.0f} |")
    print(f"| ratio custintel / recipe | {ci_s / rc_s:.2f}× | {ci_mb / rc_mb:.2f}× |")
    print(f"recipe: {theirs[-1]['customers']:,} customers, {theirs[-1]['rules']:,} rules")


if __name__ == "__main__":
    main()
