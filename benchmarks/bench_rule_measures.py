"""Time the rule-side features of issue 21: extra measures, Fisher p-values, constraints.

Three measurements, each the median CPU time (``time.process_time``) of
``--repeats`` runs in this one process:

1. ``association_rules`` on Groceries with the default columns, with
   ``measures="all"`` (six more measures, Fisher's exact test and Holm), and
   mlxtend's ``association_rules`` on the same itemsets for reference;
2. ``fisher_p_values`` alone on every rule of Groceries at a lower support
   (100k+ rules);
3. constrained rules on the wide synthetic catalogue of ``bench_basket.py``
   (88,000 baskets, 16,000 items; run ``bench_basket.py --data wide`` once to
   cache it): mining everything then constraining the rules, against
   ``constrained_itemsets(require=...)`` then the same constraint. Both must
   give the same rules.

Usage::

    nice -n 10 python benchmarks/bench_rule_measures.py --repeats 3
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custintel.basket import (
    association_rules,
    constrained_itemsets,
    fisher_p_values,
    frequent_itemsets,
)
from custintel.features import basket_matrix

HERE = Path(__file__).resolve().parent
GROCERIES = HERE.parents[1] / "shared" / "data" / "groceries.csv"
WIDE = HERE / "_data" / "basket_wide_88000_16000.parquet"


def cpu(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median CPU seconds of ``repeats`` calls, and the last result."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.process_time()
        result = run()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def groceries(repeats: int) -> None:
    with GROCERIES.open(newline="") as handle:
        baskets = list(csv.reader(handle))
    itemsets = frequent_itemsets(baskets, min_support=0.001)
    plain_t, plain = cpu(lambda: association_rules(itemsets, min_threshold=0.0), repeats)
    all_t, every = cpu(
        lambda: association_rules(itemsets, min_threshold=0.0, measures="all"), repeats
    )
    print(f"groceries 0.001: {len(itemsets):,} itemsets, {len(plain):,} rules")
    print(f"  association_rules default columns   {plain_t:8.3f} s CPU")
    print(f"  association_rules measures='all'     {all_t:8.3f} s CPU ({all_t / plain_t:.2f}x)")
    try:
        from mlxtend.frequent_patterns import association_rules as mlxtend_rules
    except ImportError:
        print("  mlxtend not installed: no reference")
    else:
        theirs_in = pd.DataFrame(
            {
                "itemsets": [frozenset(s) for s in itemsets["itemset"]],
                "support": itemsets["support"],
            }
        )
        theirs_t, theirs = cpu(
            lambda: mlxtend_rules(theirs_in, len(baskets), min_threshold=0.0), repeats
        )
        assert len(theirs) == len(every)
        print(
            f"  mlxtend association_rules (its 12)   {theirs_t:8.3f} s CPU "
            f"(mlxtend / custintel default: {theirs_t / plain_t:.1f}x; "
            f"/ custintel with every measure: {theirs_t / all_t:.2f}x)"
        )

    low = frequent_itemsets(baskets, min_support=0.0005)
    rules = association_rules(low, min_threshold=0.0)
    s_ac, s_a, s_c = (
        rules[c].to_numpy() for c in ("support", "antecedent_support", "consequent_support")
    )
    fisher_t, _ = cpu(lambda: fisher_p_values(s_ac, s_a, s_c, len(baskets)), repeats)
    print(
        f"groceries 0.0005: fisher_p_values on {len(rules):,} rules {fisher_t:8.3f} s CPU "
        f"({fisher_t / len(rules) * 1e6:.1f} us per rule)"
    )


def wide(repeats: int, supports: list[float]) -> None:
    if not WIDE.exists():
        print(f"wide: {WIDE} absent; run `python benchmarks/bench_basket.py --data wide` once")
        return
    matrix, labels = basket_matrix(pd.read_parquet(WIDE))
    baskets = (matrix, np.asarray(labels, dtype=object))
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    by_popularity = np.argsort(-counts, kind="stable")
    print(f"wide: {matrix.shape[0]:,} baskets, {matrix.shape[1]:,} items, (matrix, labels) input")
    for min_support in supports:
        for rank in (0, 50, 500):
            target = baskets[1][by_popularity[rank]]

            def full(target: Any = target, min_support: float = min_support) -> pd.DataFrame:
                itemsets = frequent_itemsets(baskets, min_support=min_support)
                return association_rules(itemsets, min_threshold=0.0, consequents_include=target)

            def constrained(target: Any = target, min_support: float = min_support) -> pd.DataFrame:
                itemsets = constrained_itemsets(baskets, min_support=min_support, require=target)
                return association_rules(itemsets, min_threshold=0.0, consequents_include=target)

            full_t, expected = cpu(full, repeats)
            constrained_t, got = cpu(constrained, repeats)
            pd.testing.assert_frame_equal(got, expected)
            print(
                f"  min_support {min_support}, rules -> {target} (popularity rank {rank}, "
                f"{counts[by_popularity[rank]]:,} baskets): {len(got):,} rules; mine all + "
                f"constrain {full_t:.3f} s CPU, constrained_itemsets + constrain "
                f"{constrained_t:.3f} s CPU ({full_t / constrained_t:.1f}x)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min-support", type=float, nargs="+", default=[0.0005, 0.0002])
    args = parser.parse_args()
    if GROCERIES.exists():
        groceries(args.repeats)
    else:
        print(f"groceries: {GROCERIES} absent")
    wide(args.repeats, args.min_support)


if __name__ == "__main__":
    main()
