"""Item constraints on association rules and constrained mining."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from custintel.basket import association_rules, constrained_itemsets, frequent_itemsets
from custintel.exceptions import DataQualityWarning

from ._helpers import BASKETS, SUPPORTS, load_groceries

GROUPS = {"a": "fruit", "b": "fruit", "c": "dairy", "d": "dairy", "e": "bakery"}
NAMES = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "fruit", "dairy", "bakery"])
NAME_SETS = st.none() | st.lists(NAMES, min_size=1, max_size=3)

BASKETS_SMALL = [
    ["a", "b", "c"],
    ["a", "c"],
    ["a", "b", "c", "d"],
    ["b", "d"],
    ["c", "d", "e"],
    ["a", "c", "e"],
]


def _matches(items: tuple[Any, ...], names: list[Any], groups: dict[str, str] | None) -> list[bool]:
    group = groups or {}
    return [item in names or group.get(item) in names for item in items]


def _brute_force(
    rules: pd.DataFrame, groups: dict[str, str] | None, **constraints: Any
) -> pd.DataFrame:
    """Filter the full rules table row by row, as the constraints are documented."""
    keep = []
    for a, c in zip(rules["antecedents"], rules["consequents"], strict=True):
        ok = True
        if constraints.get("exclude") is not None:
            ok &= not any(_matches(a + c, constraints["exclude"], groups))
        if constraints.get("antecedents_include") is not None:
            ok &= any(_matches(a, constraints["antecedents_include"], groups))
        if constraints.get("consequents_include") is not None:
            ok &= any(_matches(c, constraints["consequents_include"], groups))
        if constraints.get("antecedents_within") is not None:
            ok &= all(_matches(a, constraints["antecedents_within"], groups))
        if constraints.get("consequents_within") is not None:
            ok &= all(_matches(c, constraints["consequents_within"], groups))
        keep.append(ok)
    return rules.loc[np.array(keep, dtype=bool)].reset_index(drop=True)


def test_each_constraint_on_a_small_case() -> None:
    itemsets = frequent_itemsets(BASKETS_SMALL, min_support=0.3)
    rules = association_rules(itemsets, min_threshold=0.0)
    pairs = set(zip(rules["antecedents"], rules["consequents"], strict=True))

    def got(**kwargs: Any) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
        out = association_rules(itemsets, min_threshold=0.0, **kwargs)
        return set(zip(out["antecedents"], out["consequents"], strict=True))

    assert got(consequents_include="c") == {(a, c) for a, c in pairs if "c" in c}
    assert got(antecedents_within=["a", "b"]) == {(a, c) for a, c in pairs if set(a) <= {"a", "b"}}
    assert got(exclude="dairy", item_groups=GROUPS) == {
        (a, c) for a, c in pairs if not {"c", "d"} & set(a + c)
    }
    assert got(consequents_within="fruit", item_groups=pd.Series(GROUPS)) == {
        (a, c) for a, c in pairs if set(c) <= {"a", "b"}
    }


@settings(max_examples=80, deadline=None)
@given(
    baskets=BASKETS,
    min_support=SUPPORTS,
    antecedents_include=NAME_SETS,
    consequents_include=NAME_SETS,
    antecedents_within=NAME_SETS,
    consequents_within=NAME_SETS,
    exclude=NAME_SETS,
    use_groups=st.booleans(),
    prune=st.booleans(),
)
def test_constraints_equal_filtering_every_rule(
    baskets: list[list[str]],
    min_support: float,
    use_groups: bool,
    prune: bool,
    **constraints: Any,
) -> None:
    itemsets = frequent_itemsets(baskets, min_support=min_support)
    assume(len(itemsets) > 0)
    groups = GROUPS if use_groups else None
    # Redundancy is judged against every rule, so pruning then filtering is the reference.
    every = association_rules(itemsets, min_threshold=0.0, prune_redundant=prune)
    expected = _brute_force(every, groups, **constraints)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # names absent from the table
        try:
            got = association_rules(
                itemsets,
                min_threshold=0.0,
                item_groups=groups,
                prune_redundant=prune,
                **constraints,
            )
        except ValueError as err:
            # Only when some constraint names nothing in the table at all.
            assert "none of these is" in str(err)
            assert len(expected) == 0
            return
    pd.testing.assert_frame_equal(got, expected, check_like=False)
    assert got.attrs["n_candidates"] >= len(got)


def test_names_that_match_nothing_raise_or_warn() -> None:
    itemsets = frequent_itemsets(BASKETS_SMALL, min_support=0.3)
    with pytest.raises(ValueError, match="consequents_include=\\['milk'\\]: none of these"):
        association_rules(itemsets, consequents_include=["milk"])
    with pytest.warns(DataQualityWarning, match="\\['milk'\\] is not an item"):
        association_rules(itemsets, consequents_include=["milk", "c"], min_threshold=0)
    # An excluded item that is not frequent excludes nothing, quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        association_rules(itemsets, exclude="milk", min_threshold=0)
    with pytest.raises(ValueError, match="item_groups must map"):
        association_rules(itemsets, exclude="x", item_groups=[("a", "fruit")])
    with pytest.raises(ValueError, match="not a mapping"):
        association_rules(itemsets, exclude=GROUPS)


@settings(max_examples=60, deadline=None)
@given(
    baskets=BASKETS,
    min_support=SUPPORTS,
    require=st.none() | st.lists(NAMES, min_size=1, max_size=2),
    exclude=st.none() | st.lists(NAMES, min_size=1, max_size=2),
    side=st.sampled_from(["antecedents_include", "consequents_include"]),
)
def test_constrained_mining_gives_the_same_constrained_rules(
    baskets: list[list[str]],
    min_support: float,
    require: list[str] | None,
    exclude: list[str] | None,
    side: str,
) -> None:
    full = frequent_itemsets(baskets, min_support=min_support)
    assume(len(full) > 0)
    constraints: dict[str, Any] = {"exclude": exclude, side: require, "item_groups": GROUPS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            expected = association_rules(full, min_threshold=0.0, **constraints)
        except ValueError:
            return  # the required names are in no frequent itemset: covered elsewhere
        try:
            mined = constrained_itemsets(
                baskets,
                min_support=min_support,
                require=require,
                exclude=exclude,
                item_groups=GROUPS,
            )
        except ValueError as err:
            assert "also in exclude" in str(err)
            return
        assume(len(mined) > 0)
        got = association_rules(mined, min_threshold=0.0, **constraints)
    # Same rules, same numbers; the candidate counts differ (fewer itemsets were mined).
    pd.testing.assert_frame_equal(got, expected)
    # Supports and counts of the kept itemsets equal the full table's.
    merged = mined.merge(full, on="itemset", suffixes=("", "_full"))
    assert len(merged) == len(mined)
    assert (merged["count"] == merged["count_full"]).all()
    assert mined.attrs["n_baskets"] == len(baskets)


def test_constrained_mining_judges_bulk_baskets_by_their_full_size() -> None:
    # The bulk basket holds milk, bread and 10 SKUs (12 items > 5): frequent_itemsets leaves
    # it out, so milk is in 3 of 4 baskets. Dropping the SKUs first (they are not frequent
    # with milk) used to shrink it to 2 items, keep it, and count milk in 4 of 5.
    bulk = ["milk", "bread", *(f"SKU{k}" for k in range(10))]
    baskets = [["milk", "bread"], ["milk"], ["bread"], ["milk", "bread"], bulk]
    full = frequent_itemsets(baskets, min_support=0.4, max_basket_size=5)
    mined = constrained_itemsets(baskets, min_support=0.4, require="milk", max_basket_size=5)
    pd.testing.assert_frame_equal(mined, full, check_like=True)
    assert full["support"].tolist() == [0.75, 0.75, 0.5]
    assert mined.attrs["n_baskets"] == 4 and mined.attrs["n_baskets_dropped"] == 1
    assert mined.attrs["max_basket_size"] == 5 and mined.attrs["n_items_dropped"] == 10


def test_constrained_mining_screens_by_weighted_support() -> None:
    # {milk, yogurt} is in 1 basket of 4 (0.25 < 0.5) but holds 10 of the 13 units of
    # weight (0.769 >= 0.5): the screen must weigh the baskets as the miner does.
    baskets = [["milk", "yogurt"], ["milk"], ["milk"], ["bread"]]
    weights = [10.0, 1.0, 1.0, 1.0]
    full = frequent_itemsets(baskets, min_support=0.5, weights=weights)
    mined = constrained_itemsets(baskets, min_support=0.5, require="milk", weights=weights)
    pd.testing.assert_frame_equal(mined, full, check_like=True)
    assert mined["itemset"].tolist() == [("milk",), ("yogurt",), ("milk", "yogurt")]
    assert mined.attrs["weighted"] and mined.attrs["total_weight"] == 13.0


@settings(max_examples=60, deadline=None)
@given(
    baskets=BASKETS,
    min_support=SUPPORTS,
    require=st.lists(NAMES, min_size=1, max_size=2),
    seed=st.integers(0, 2**16),
    max_basket_size=st.none() | st.integers(1, 5),
)
def test_weighted_and_size_limited_constrained_mining_keeps_the_full_supports(
    baskets: list[list[str]],
    min_support: float,
    require: list[str],
    seed: int,
    max_basket_size: int | None,
) -> None:
    rng = np.random.default_rng(seed)
    weights = rng.exponential(size=len(baskets)) * rng.integers(0, 2, size=len(baskets))
    assume(weights[[len(set(b)) <= (max_basket_size or 99) for b in baskets]].sum() > 0)
    options: dict[str, Any] = {"weights": weights, "max_basket_size": max_basket_size}
    full = frequent_itemsets(baskets, min_support=min_support, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            mined = constrained_itemsets(
                baskets, min_support=min_support, require=require, item_groups=GROUPS, **options
            )
        except ValueError as err:
            assert "none of these" in str(err)
            return
    # Every kept itemset has the full table's support and count ...
    merged = mined.merge(full, on="itemset", suffixes=("", "_full"))
    assert len(merged) == len(mined)
    assert (merged["count"] == merged["count_full"]).all()
    np.testing.assert_allclose(merged["support"], merged["support_full"])
    # ... and every frequent itemset with a required item is kept.
    wanted = {i for i, g in GROUPS.items() if g in require} | set(require)
    needed = {s for s in full["itemset"] if wanted & set(s)}
    assert needed <= set(mined["itemset"])
    for key in ("n_baskets", "n_baskets_dropped", "total_weight"):
        assert mined.attrs.get(key) == full.attrs.get(key)


def test_constrained_mining_on_groceries_drops_most_items() -> None:
    baskets = load_groceries()
    full = frequent_itemsets(baskets, min_support=0.005)
    mined = constrained_itemsets(baskets, min_support=0.005, require="curd", exclude="soda")
    assert mined.attrs["n_items_dropped"] > 60 and len(mined) < len(full) / 2
    expected = association_rules(
        full, min_threshold=0.2, antecedents_include="curd", exclude="soda"
    )
    got = association_rules(mined, min_threshold=0.2, antecedents_include="curd", exclude="soda")
    pd.testing.assert_frame_equal(got, expected)
    assert len(got) > 5 and all("curd" in a for a in got["antecedents"])


def test_tuple_labels_are_named_inside_a_list_and_inputs_agree() -> None:
    baskets: list[list[Any]] = [[("a", 1), "b"], [("a", 1), "b"], ["b"], ["c", "b"]]
    itemsets = frequent_itemsets(baskets, min_support=0.5)
    rules = association_rules(itemsets, min_threshold=0.0, consequents_include=[("a", 1)])
    assert rules["consequents"].tolist() == [(("a", 1),)]
    assert len(association_rules(itemsets, min_threshold=0.0, exclude=[("a", 1)])) == 0
    # The same constrained itemsets from a list, a one-hot frame and a (matrix, labels) pair.
    lists = [["milk", "bread"], ["milk", "yogurt"], ["milk", "yogurt", "eggs"], ["bread"]]
    one_hot = pd.DataFrame(
        [[item in b for item in ("bread", "eggs", "milk", "yogurt")] for b in lists],
        columns=["bread", "eggs", "milk", "yogurt"],
    )
    from scipy import sparse

    pair = (sparse.csr_matrix(one_hot.to_numpy()), np.array(one_hot.columns, dtype=object))
    tables = [
        constrained_itemsets(data, min_support=0.5, require="yogurt", exclude="bread")
        for data in (lists, one_hot, pair)
    ]
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])
    assert tables[0]["itemset"].tolist() == [("milk",), ("yogurt",), ("milk", "yogurt")]
    assert tables[0].attrs["n_items_dropped"] == 2
