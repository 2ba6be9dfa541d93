"""Properties of frequent itemsets, association rules and recommendations on random baskets."""

from __future__ import annotations

import itertools
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custintel.basket import CrossSellRecommender, association_rules, frequent_itemsets
from custintel.exceptions import SchemaError

# 40 under the default profiles; see tests/properties/conftest.py.
EXAMPLES = max(1, settings.default.max_examples * 2 // 5)

ITEMS = st.sampled_from(["milk", "bread", "butter", "jam", "eggs", "tea", "10", "a b"])
BASKETS = st.lists(st.lists(ITEMS, min_size=1, max_size=5), min_size=1, max_size=30)
SUPPORT = st.sampled_from([0.05, 0.1, 0.2, 0.34, 0.5, 1.0])


def _shuffled(baskets: list[list[str]], seed: int) -> list[list[str]]:
    """Baskets in another order, items in another order, some items repeated."""
    rng = random.Random(seed)
    out = [rng.sample(b, len(b)) + rng.sample(b, rng.randint(0, len(b))) for b in baskets]
    rng.shuffle(out)
    return out


@settings(max_examples=EXAMPLES, deadline=2000)
@given(baskets=BASKETS, min_support=SUPPORT)
def test_itemset_supports_are_brute_force_counts(
    baskets: list[list[str]], min_support: float
) -> None:
    itemsets = frequent_itemsets(baskets, min_support=min_support, max_len=3)
    sets = [set(b) for b in baskets]
    n = len(sets)
    found = {
        tuple(sorted(i)): c for i, c in zip(itemsets["itemset"], itemsets["count"], strict=True)
    }
    universe = sorted(set().union(*sets))
    for size in (1, 2, 3):
        for candidate in itertools.combinations(universe, size):
            count = sum(set(candidate) <= s for s in sets)
            if count / n >= min_support * (1 - 1e-12):
                assert found.get(candidate) == count, candidate
            else:
                assert candidate not in found, candidate
    assert ((itemsets["support"] > 0) & (itemsets["support"] <= 1)).all()
    np.testing.assert_allclose(itemsets["support"], itemsets["count"] / n)


@settings(max_examples=EXAMPLES, deadline=2000)
@given(baskets=BASKETS, min_support=SUPPORT, seed=st.integers(0, 10**6))
def test_rule_metrics_hold_their_ranges_and_ignore_basket_order(
    baskets: list[list[str]], min_support: float, seed: int
) -> None:
    itemsets = frequent_itemsets(baskets, min_support=min_support, max_len=3)
    if itemsets.empty:  # nothing frequent: a clear error, never an empty table (issue 21)
        with pytest.raises(SchemaError, match="the itemsets table is empty"):
            association_rules(itemsets, min_threshold=0.0)
        return
    rules = association_rules(itemsets, min_threshold=0.0)
    s_a, s_c, s_ac = rules["antecedent_support"], rules["consequent_support"], rules["support"]
    eps = 1e-12
    assert ((s_ac > 0) & (s_ac <= np.minimum(s_a, s_c) + eps)).all()
    assert ((rules["confidence"] >= 0) & (rules["confidence"] <= 1 + eps)).all()
    assert (rules["lift"] >= 0).all() and np.isfinite(rules["lift"]).all()
    assert ((rules["leverage"] >= -0.25 - eps) & (rules["leverage"] <= 0.25 + eps)).all()
    assert (rules["conviction"] >= 0).all() and not rules["conviction"].isna().any()
    assert ((rules["zhangs_metric"] >= -1 - eps) & (rules["zhangs_metric"] <= 1 + eps)).all()
    assert ((rules["jaccard"] >= 0) & (rules["jaccard"] <= 1 + eps)).all()
    assert ((rules["kulczynski"] >= 0) & (rules["kulczynski"] <= 1 + eps)).all()
    assert (rules["certainty"] <= 1 + eps).all() and not rules["certainty"].isna().any()
    sets = [set(b) for b in baskets]
    for a, c, support in zip(rules["antecedents"], rules["consequents"], s_ac, strict=True):
        assert not set(a) & set(c)
        assert support == sum(set(a) | set(c) <= s for s in sets) / len(sets)

    other = association_rules(
        frequent_itemsets(_shuffled(baskets, seed), min_support=min_support, max_len=3),
        min_threshold=0.0,
    )
    pd.testing.assert_frame_equal(other, rules, check_exact=True)


@settings(max_examples=EXAMPLES, deadline=3000)
@given(baskets=BASKETS, held=st.lists(st.lists(ITEMS, max_size=3), min_size=1, max_size=4),
       seed=st.integers(0, 10**6))  # fmt: skip
def test_recommendations_ignore_basket_order(
    baskets: list[list[str]], held: list[list[str]], seed: int
) -> None:
    model = CrossSellRecommender(min_support=0.1, min_confidence=0.2).fit(baskets)
    other = CrossSellRecommender(min_support=0.1, min_confidence=0.2).fit(_shuffled(baskets, seed))
    pd.testing.assert_frame_equal(other.rules_, model.rules_, check_exact=True)
    pd.testing.assert_series_equal(other.item_support_, model.item_support_, check_exact=True)
    recommended = model.recommend(held, n=3)
    pd.testing.assert_frame_equal(other.recommend(held, n=3), recommended, check_exact=True)
    for basket_no, group in recommended.groupby(level=0):
        assert not set(group["item_id"]) & set(held[basket_no])  # never what is held
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
    assert recommended["score"].between(0, np.inf).all()


def test_shuffling_helper_really_reorders() -> None:
    baskets: Any = [["a", "b"], ["c"], ["d", "e", "f"]]
    assert _shuffled(baskets, 1) != baskets
