"""association_rules: hand-computed metrics, mlxtend on Groceries, ranges, pruning, bad input."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings

from custintel import SchemaError
from custintel.basket import RULE_COLUMNS, RULE_METRICS, association_rules, frequent_itemsets

from ._helpers import BASKETS, SUPPORTS, load_groceries

mlxtend_fp = pytest.importorskip("mlxtend.frequent_patterns")
mlxtend_pre = pytest.importorskip("mlxtend.preprocessing")

# Five baskets: a 4, b 3, c 4; ab 3, ac 3, bc 2; abc 2 (of 5).
SMALL = [["a", "b", "c"], ["a", "c"], ["a", "b", "c"], ["b", "a", "d"], ["c"]]


@pytest.fixture
def small_rules() -> pd.DataFrame:
    return association_rules(frequent_itemsets(SMALL, min_support=0.4), min_threshold=0.0)


def rule(frame: pd.DataFrame, antecedents: tuple[str, ...], consequents: tuple[str, ...]) -> Any:
    hit = frame[(frame["antecedents"] == antecedents) & (frame["consequents"] == consequents)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_columns_and_order(small_rules: pd.DataFrame) -> None:
    assert list(small_rules.columns) == list(RULE_COLUMNS)
    # pairs ab, ac, bc (each both ways), then abc's six splits in antecedent-bitmask order
    assert list(zip(small_rules["antecedents"], small_rules["consequents"], strict=True)) == [
        (("a",), ("b",)),
        (("b",), ("a",)),
        (("a",), ("c",)),
        (("c",), ("a",)),
        (("b",), ("c",)),
        (("c",), ("b",)),
        (("a",), ("b", "c")),
        (("b",), ("a", "c")),
        (("a", "b"), ("c",)),
        (("c",), ("a", "b")),
        (("a", "c"), ("b",)),
        (("b", "c"), ("a",)),
    ]
    assert small_rules.attrs["n_baskets"] == 5


def test_hand_computed_metrics(small_rules: pd.DataFrame) -> None:
    # a -> b: s_AC = 3/5, s_A = 4/5, s_C = 3/5; confidence 3/4; lift 0.75 / 0.6 = 1.25;
    # leverage 0.6 - 0.8 * 0.6 = 0.12; conviction (1 - 0.6) / (1 - 0.75) = 1.6;
    # Zhang 0.12 / max(0.6 * 0.2, 0.8 * 0) = 1; Jaccard 0.6 / (0.8 + 0.6 - 0.6) = 0.75;
    # certainty (0.75 - 0.6) / 0.4 = 0.375; Kulczynski (3/4 + 3/3) / 2 = 0.875.
    r = rule(small_rules, ("a",), ("b",))
    expected = [0.8, 0.6, 0.6, 0.75, 1.25, 0.12, 1.6, 1.0, 0.75, 0.375, 0.875]
    np.testing.assert_allclose(r[list(RULE_METRICS)].to_numpy(float), expected, rtol=1e-12)
    # b -> a: confidence 3/3 = 1, so conviction is infinite; Zhang 0.12 / max(0.6 * 0.4,
    # 0.6 * (0.8 - 0.6)) = 0.5; certainty (1 - 0.8) / 0.2 = 1.
    r = rule(small_rules, ("b",), ("a",))
    assert r["confidence"] == 1.0 and r["conviction"] == np.inf
    np.testing.assert_allclose([r["zhangs_metric"], r["certainty"]], [0.5, 1.0], rtol=1e-12)
    # a -> c: s_AC 0.6, s_A 0.8, s_C 0.8: confidence 0.75, lift 0.9375, leverage -0.04,
    # conviction 0.2 / 0.25 = 0.8, Zhang -0.04 / max(0.12, 0.16) = -0.25, Jaccard 0.6,
    # certainty (0.75 - 0.8) / 0.2 = -0.25, Kulczynski 0.75.
    r = rule(small_rules, ("a",), ("c",))
    expected = [0.8, 0.8, 0.6, 0.75, 0.9375, -0.04, 0.8, -0.25, 0.6, -0.25, 0.75]
    np.testing.assert_allclose(r[list(RULE_METRICS)].to_numpy(float), expected, rtol=1e-12)
    # ab -> c: s_AC 0.4, s_A 0.6, s_C 0.8: confidence 2/3, lift (2/3) / 0.8 = 5/6
    r = rule(small_rules, ("a", "b"), ("c",))
    np.testing.assert_allclose([r["confidence"], r["lift"]], [2 / 3, 5 / 6], rtol=1e-12)


def test_filter_by_any_metric(small_rules: pd.DataFrame) -> None:
    itemsets = frequent_itemsets(SMALL, min_support=0.4)
    for metric in RULE_METRICS:
        threshold = float(small_rules[metric].median())
        filtered = association_rules(itemsets, metric=metric, min_threshold=threshold)
        expected = small_rules[small_rules[metric] >= threshold].reset_index(drop=True)
        pd.testing.assert_frame_equal(filtered, expected, check_like=False)
        assert filtered.attrs["metric"] == metric


def test_max_len(small_rules: pd.DataFrame) -> None:
    itemsets = frequent_itemsets(SMALL, min_support=0.4)
    one = association_rules(itemsets, min_threshold=0.0, max_len=1)
    assert len(one) == 6 and set(one["antecedents"].map(len)) == {1}
    right_one = association_rules(itemsets, min_threshold=0.0, max_len=(None, 1))
    # the six pair rules plus ab -> c, ac -> b, bc -> a
    assert len(right_one) == 9 and set(right_one["consequents"].map(len)) == {1}
    left_one = association_rules(itemsets, min_threshold=0.0, max_len=(1, None))
    assert len(left_one) == 9 and set(left_one["antecedents"].map(len)) == {1}
    expected = small_rules[small_rules["consequents"].map(len) == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(right_one, expected)


def test_prune_redundant_hand_computed() -> None:
    # ab -> c (2/3) is no better than a -> c (3/4) or b -> c (2/3): pruned; likewise
    # ac -> b (2/3) against a -> b (3/4) and bc -> a (1) against b -> a (1). The pair
    # rules and the one-item antecedents of abc have no more general version: kept.
    itemsets = frequent_itemsets(SMALL, min_support=0.4)
    pruned = association_rules(itemsets, min_threshold=0.0, prune_redundant=True)
    assert len(pruned) == 9
    assert set(pruned["antecedents"].map(len)) == {1}


def test_accepts_mlxtend_itemsets() -> None:
    encoder = mlxtend_pre.TransactionEncoder()
    one_hot = pd.DataFrame(encoder.fit(SMALL).transform(SMALL), columns=encoder.columns_)
    reference = mlxtend_fp.fpgrowth(one_hot, min_support=0.4, use_colnames=True)
    ours = association_rules(reference, min_threshold=0.0)
    expected = association_rules(frequent_itemsets(SMALL, min_support=0.4), min_threshold=0.0)
    pd.testing.assert_frame_equal(ours, expected, check_exact=False, rtol=1e-14)


def test_row_order_of_itemsets_does_not_matter() -> None:
    itemsets = frequent_itemsets(SMALL, min_support=0.2)
    shuffled = itemsets.sample(frac=1.0, random_state=0)
    shuffled["itemset"] = [tuple(reversed(s)) for s in shuffled["itemset"]]
    pd.testing.assert_frame_equal(
        association_rules(shuffled, min_threshold=0.0),
        association_rules(itemsets, min_threshold=0.0),
    )


def test_empty_itemsets_table_raises() -> None:
    # No item reaches the support: mlxtend raises too, and so must we, with the fix.
    empty = frequent_itemsets([["a"], ["b"], []], min_support=0.5)
    assert len(empty) == 0
    with pytest.raises(
        SchemaError, match=r"empty.*min_support=0\.5 of 3 baskets.*Lower min_support"
    ):
        association_rules(empty)
    with pytest.raises(SchemaError, match="itemsets table is empty") as info:
        association_rules(pd.DataFrame({"itemsets": [], "support": []}))
    assert info.value.reason == "empty_itemsets"


def test_no_rules_gives_an_empty_table() -> None:
    empty = association_rules(frequent_itemsets(SMALL, min_support=0.4), min_threshold=2.0)
    assert len(empty) == 0 and list(empty.columns) == list(RULE_COLUMNS)
    singles = association_rules(frequent_itemsets(SMALL, min_support=0.4, max_len=1))
    assert len(singles) == 0


def test_serialises_to_csv_parquet_and_json(small_rules: pd.DataFrame, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    small_rules.to_parquet(tmp_path / "rules.parquet")
    back = pd.read_parquet(tmp_path / "rules.parquet")
    assert [tuple(a) for a in back["antecedents"]] == small_rules["antecedents"].tolist()
    pd.testing.assert_frame_equal(back[list(RULE_METRICS)], small_rules[list(RULE_METRICS)])
    records = json.loads(small_rules.to_json(orient="records"))
    assert records[0]["antecedents"] == ["a"] and records[0]["consequents"] == ["b"]
    small_rules.to_csv(tmp_path / "rules.csv", index=False)
    assert pd.read_csv(tmp_path / "rules.csv")["antecedents"][0] == "('a',)"


@settings(max_examples=60, deadline=None)
@given(baskets=BASKETS, min_support=SUPPORTS)
def test_metrics_stay_within_their_ranges(baskets: list[list[str]], min_support: float) -> None:
    itemsets = frequent_itemsets(baskets, min_support=min_support)
    assume(len(itemsets) > 0)  # an empty table raises (test_empty_itemsets_table_raises)
    rules = association_rules(itemsets, min_threshold=0)
    eps = 1e-12
    for name in ("support", "confidence", "jaccard", "kulczynski", "antecedent_support"):
        assert rules[name].between(-eps, 1 + eps).all(), name
    assert (rules["lift"] >= 0).all()
    assert rules["leverage"].between(-0.25 - eps, 0.25 + eps).all()
    assert (rules["conviction"] >= 0).all()
    assert rules["zhangs_metric"].between(-1 - eps, 1 + eps).all()
    assert (rules["certainty"] <= 1 + eps).all()
    # the sign of every dependence measure agrees with lift - 1
    for name in ("leverage", "zhangs_metric", "certainty"):
        dependent = (rules["lift"] - 1).abs() > 1e-9
        assert (np.sign(rules[name][dependent]) == np.sign(rules["lift"][dependent] - 1)).all()
    # support of the union never exceeds the support of either side
    assert (
        rules["support"] <= rules[["antecedent_support", "consequent_support"]].min(axis=1) + eps
    ).all()


@settings(max_examples=40, deadline=None)
@given(baskets=BASKETS, min_support=SUPPORTS)
def test_pruned_rules_have_a_general_version_at_least_as_confident(
    baskets: list[list[str]], min_support: float
) -> None:
    itemsets = frequent_itemsets(baskets, min_support=min_support)
    assume(len(itemsets) > 0)  # an empty table raises (test_empty_itemsets_table_raises)
    every = association_rules(itemsets, min_threshold=0.0)
    kept = association_rules(itemsets, min_threshold=0.0, prune_redundant=True)
    confidence = {
        (frozenset(a), c): f
        for a, c, f in zip(
            every["antecedents"], every["consequents"], every["confidence"], strict=True
        )
    }
    kept_keys = set(zip(kept["antecedents"], kept["consequents"], strict=True))
    for (antecedent, consequent), conf in confidence.items():
        general = [f for (a, c), f in confidence.items() if c == consequent and a < antecedent]
        redundant = any(f >= conf for f in general)
        assert (tuple(sorted(antecedent)), consequent) in kept_keys or redundant
        if redundant:
            assert (tuple(sorted(antecedent)), consequent) not in kept_keys


@settings(max_examples=30, deadline=None)
@given(baskets=BASKETS, min_support=SUPPORTS, seed=SUPPORTS)
def test_rules_independent_of_basket_and_item_order(
    baskets: list[list[str]], min_support: float, seed: float
) -> None:
    assume(len(frequent_itemsets(baskets, min_support=min_support)) > 0)  # empty raises
    rng = random.Random(seed)
    shuffled = [rng.sample(b, len(b)) for b in baskets]
    rng.shuffle(shuffled)
    pd.testing.assert_frame_equal(
        association_rules(frequent_itemsets(shuffled, min_support=min_support), min_threshold=0),
        association_rules(frequent_itemsets(baskets, min_support=min_support), min_threshold=0),
    )


# --- the golden numbers: Groceries against mlxtend -------------------------------------


@pytest.mark.parametrize("min_support", [0.01, 0.005, pytest.param(0.001, marks=pytest.mark.slow)])
def test_groceries_metrics_equal_mlxtend(min_support: float) -> None:
    groceries = load_groceries()
    encoder = mlxtend_pre.TransactionEncoder()
    one_hot = pd.DataFrame(encoder.fit(groceries).transform(groceries), columns=encoder.columns_)
    reference_sets = mlxtend_fp.fpgrowth(one_hot, min_support=min_support, use_colnames=True)
    reference = mlxtend_fp.association_rules(
        reference_sets, num_itemsets=len(one_hot), metric="confidence", min_threshold=0.0
    )
    ours = association_rules(frequent_itemsets(groceries, min_support=min_support), min_threshold=0)
    assert len(ours) == len(reference)
    position = {
        (frozenset(a), frozenset(c)): i
        for i, (a, c) in enumerate(zip(ours["antecedents"], ours["consequents"], strict=True))
    }
    at = [
        position[(a, c)]
        for a, c in zip(reference["antecedents"], reference["consequents"], strict=True)
    ]
    for name in RULE_METRICS:
        expected = reference[name.replace("_support", " support")].to_numpy(dtype=float)
        found = ours[name].to_numpy()[at]
        # supports agree to the last bit; ratios differ at most by rounding (mlxtend
        # computes confidence as (s_AC * n) / (s_A * n), custintel as count_AC / count_A),
        # which differences near 0 (certainty, leverage) turn into ~1e-17 absolute
        np.testing.assert_allclose(found, expected, rtol=1e-12, atol=1e-15, err_msg=name)
        assert (np.isinf(found) == np.isinf(expected)).all()


# --- bad input -------------------------------------------------------------------------


def test_bad_arguments() -> None:
    itemsets = frequent_itemsets(SMALL, min_support=0.4)
    with pytest.raises(ValueError, match="metric must be one of"):
        association_rules(itemsets, metric="lif")
    with pytest.raises(ValueError, match="min_threshold must be a number"):
        association_rules(itemsets, min_threshold=float("nan"))
    with pytest.raises(ValueError, match="max_len must be None"):
        association_rules(itemsets, max_len=0)
    with pytest.raises(ValueError, match="max_len as a tuple"):
        association_rules(itemsets, max_len=(1, 1, 1))  # type: ignore[arg-type]


def test_bad_itemset_tables() -> None:
    with pytest.raises(SchemaError, match="expects the itemsets table"):
        association_rules([("a",)])  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="kind='all'"):
        association_rules(frequent_itemsets(SMALL, min_support=0.4, kind="closed"))
    itemsets = frequent_itemsets(SMALL, min_support=0.4)
    with pytest.raises(
        SchemaError, match=r"lacks subsets of some itemsets \(e.g. of \[\('a', 'b', 'c'\)\]"
    ):
        association_rules(itemsets[itemsets["itemset"] != ("b", "c")])
    with pytest.raises(SchemaError, match="lacks subsets"):
        association_rules(itemsets[itemsets["itemset"] != ("b",)])
    with pytest.raises(SchemaError, match="columns 'itemset' and 'support'"):
        association_rules(itemsets.drop(columns="support"))
