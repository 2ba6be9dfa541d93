"""Weighted and time-decayed support: hand-computed cases, brute force, and bad weights."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custintel import SchemaError
from custintel.basket import basket_weights, frequent_itemsets
from custintel.features import basket_matrix

from ._helpers import BASKETS

# Four baskets with weights 1, 2, 3, 4 (total 10):
#   a: baskets 0, 1, 2 -> 6/10;  b: 0, 1, 3 -> 7/10;  c: 2, 3 -> 7/10
#   ab: 0, 1 -> 3/10;  ac: 2 -> 3/10;  bc: 3 -> 4/10;  abc: none
SMALL = [["a", "b"], ["a", "b"], ["a", "c"], ["b", "c"]]
WEIGHTS = [1.0, 2.0, 3.0, 4.0]


def test_hand_computed_weighted_support() -> None:
    found = frequent_itemsets(SMALL, min_support=0.4, weights=WEIGHTS)
    assert found["itemset"].tolist() == [("a",), ("b",), ("c",), ("b", "c")]
    np.testing.assert_allclose(found["support"], [0.6, 0.7, 0.7, 0.4])
    # count stays the number of baskets
    assert found["count"].tolist() == [3, 3, 2, 1]
    assert found.attrs["weighted"] is True
    assert found.attrs["total_weight"] == 10.0
    # Unweighted, bc (1 of 4) is out and ab (2 of 4) in: the weights change the answer.
    plain = frequent_itemsets(SMALL, min_support=0.4)
    assert ("a", "b") in plain["itemset"].tolist()
    assert ("b", "c") not in plain["itemset"].tolist()
    assert "weighted" not in plain.attrs


def test_equal_weights_give_the_unweighted_itemsets() -> None:
    plain = frequent_itemsets(SMALL, min_support=0.5)
    weighted = frequent_itemsets(SMALL, min_support=0.5, weights=pd.Series([3.0] * 4))
    pd.testing.assert_frame_equal(weighted, plain)


def test_zero_weight_baskets_count_but_weigh_nothing() -> None:
    # Weights 0, 0, 1, 1: a 1/2, b 1/2, c 2/2, ac 1/2, bc 1/2.
    found = frequent_itemsets(SMALL, min_support=0.5, weights=[0, 0, 1, 1])
    got = dict(zip(found["itemset"], found["support"], strict=True))
    assert got == {("a",): 0.5, ("b",): 0.5, ("c",): 1.0, ("a", "c"): 0.5, ("b", "c"): 0.5}


@given(
    BASKETS,
    st.sampled_from([0.05, 0.2, 0.5]),
    st.data(),
)
@settings(max_examples=50, deadline=None)
def test_weighted_support_equals_brute_force(
    baskets: list[list[str]], min_support: float, data: st.DataObject
) -> None:
    weights = data.draw(
        st.lists(st.floats(0.0, 10.0), min_size=len(baskets), max_size=len(baskets))
    )
    total = sum(weights)
    if total <= 0:
        return
    expected: dict[frozenset[str], float] = {}
    for basket, w in zip(baskets, weights, strict=True):
        items = sorted(set(basket))
        for size in range(1, len(items) + 1):
            for combo in combinations(items, size):
                expected[frozenset(combo)] = expected.get(frozenset(combo), 0.0) + w
    # Leave out itemsets within rounding of the threshold: summation order may differ.
    threshold = min_support * total
    clear = {k: v / total for k, v in expected.items() if abs(v - threshold) > 1e-9}
    found = frequent_itemsets(baskets, min_support=min_support, weights=weights)
    got = {frozenset(s): v for s, v in zip(found["itemset"], found["support"], strict=True)}
    for itemset, support in clear.items():
        if support >= min_support:
            assert got[itemset] == pytest.approx(support)
        else:
            assert itemset not in got


def test_bad_weights_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="one number per basket: got shape \\(3,\\) for 4"):
        frequent_itemsets(SMALL, min_support=0.5, weights=[1, 2, 3])
    with pytest.raises(ValueError, match="finite and >= 0, but 1 are not"):
        frequent_itemsets(SMALL, min_support=0.5, weights=[1, -2, 3, 4])
    with pytest.raises(ValueError, match="finite"):
        frequent_itemsets(SMALL, min_support=0.5, weights=[1, np.nan, 3, 4])
    with pytest.raises(ValueError, match="sum to 0"):
        frequent_itemsets(SMALL, min_support=0.5, weights=[0, 0, 0, 0])


def _log() -> pd.DataFrame:
    # Order 1 (2024-01-01): milk x2 @ 1.5, bread x1 @ 2   -> revenue 5, units 3
    # Order 2 (2024-01-31): milk x1 @ 1.5, eggs x4 @ 0.5  -> revenue 3.5, units 5
    # Order 3 (2024-03-01): bread x1 @ 2, eggs x2 @ 0.5, and a refund of milk -> revenue 3, units 3
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "a", "a", "a"],
            "order_id": ["1", "1", "2", "2", "3", "3", "3"],
            "timestamp": pd.to_datetime(
                ["2024-01-01"] * 2 + ["2024-01-31"] * 2 + ["2024-03-01"] * 3
            ),
            "item_id": ["milk", "bread", "milk", "eggs", "bread", "eggs", "milk"],
            "quantity": [2, 1, 1, 4, 1, 2, -1],
            "amount": [3.0, 2.0, 1.5, 2.0, 2.0, 1.0, -1.5],
        }
    )


def test_basket_weights_by_revenue_quantity_and_recency_by_hand() -> None:
    tx = _log()
    matrix, items = basket_matrix(tx)
    revenue = basket_weights(tx, by="revenue")
    assert revenue.index.tolist() == ["1", "2", "3"] and revenue.name == "weight"
    np.testing.assert_allclose(revenue, [5.0, 3.5, 3.0])  # the refund line is not a purchase
    np.testing.assert_allclose(basket_weights(tx, by="quantity"), [3.0, 5.0, 3.0])
    # Ages from 2024-03-01: 60, 30 and 0 days; half-life 30 days -> 1/4, 1/2, 1.
    np.testing.assert_allclose(basket_weights(tx, half_life=30), [0.25, 0.5, 1.0])
    np.testing.assert_allclose(basket_weights(tx, half_life="30D"), [0.25, 0.5, 1.0])
    both = basket_weights(tx, by="revenue", half_life=pd.Timedelta(days=30))
    np.testing.assert_allclose(both, [1.25, 1.75, 3.0])
    # as_of 30 days later: every weight halves again.
    later = basket_weights(tx, half_life=30, as_of="2024-03-31")
    np.testing.assert_allclose(later, [0.125, 0.25, 0.5])
    # Revenue and recency, mined: total 6. milk 1.25 + 1.75 = 3.0 -> 0.5; bread 1.25 + 3 = 4.25;
    # eggs 1.75 + 3 = 4.75; bread+eggs 3 -> 0.5; milk+eggs 1.75; milk+bread 1.25.
    found = frequent_itemsets((matrix, items), min_support=0.5, weights=both)
    got = dict(zip(found["itemset"], found["support"], strict=True))
    assert got == pytest.approx(
        {("bread",): 4.25 / 6, ("eggs",): 4.75 / 6, ("milk",): 0.5, ("bread", "eggs"): 0.5}
    )


def test_basket_weights_bad_arguments() -> None:
    tx = _log()
    with pytest.raises(ValueError, match="by must be 'revenue', 'quantity' or None"):
        basket_weights(tx, by="margin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="half_life must be positive"):
        basket_weights(tx, half_life=0)
    with pytest.raises(ValueError, match="number of days or a timedelta"):
        basket_weights(tx, half_life=[30])
    with pytest.raises(SchemaError, match="quantity"):
        basket_weights(tx.drop(columns="quantity"), by="quantity")


def test_weighted_closed_and_maximal_keep_the_weighted_supports() -> None:
    # Weights 1, 2, 3, 4 at 0.3: a .6, b .7, c .7, ab .3, ac .3, bc .4 (no triple).
    # Closed: every one (no superset has the same baskets); maximal: ab, ac, bc.
    closed = frequent_itemsets(SMALL, min_support=0.3, weights=WEIGHTS, kind="closed")
    assert len(closed) == 6
    maximal = frequent_itemsets(SMALL, min_support=0.3, weights=WEIGHTS, kind="maximal")
    got = dict(zip(maximal["itemset"], maximal["support"], strict=True))
    assert got == pytest.approx({("a", "b"): 0.3, ("a", "c"): 0.3, ("b", "c"): 0.4})


def test_weights_follow_the_baskets_kept_by_max_basket_size() -> None:
    # The third basket (4 items) is left out with its weight 100: a 1+2 of 1+2+4, ...
    baskets = [["a", "b"], ["a", "b"], ["a", "b", "c", "d"], ["b", "c"]]
    found = frequent_itemsets(baskets, min_support=0.5, weights=[1, 2, 100, 4], max_basket_size=3)
    got = dict(zip(found["itemset"], found["support"], strict=True))
    assert got == pytest.approx({("b",): 1.0, ("c",): 4 / 7, ("b", "c"): 4 / 7})
    assert found.attrs["n_baskets_dropped"] == 1 and found.attrs["total_weight"] == 7.0


def test_rules_of_a_weighted_table_take_confidence_from_the_weighted_supports() -> None:
    from custintel.basket import association_rules

    baskets = [["a", "b"], ["a"], ["b", "c"], ["a", "b", "c"]]
    itemsets = frequent_itemsets(baskets, min_support=0.2, weights=[1, 2, 3, 4])
    rules = association_rules(itemsets, min_threshold=0.0)
    # One row per rule, looked up by its (antecedents, consequents) tuples; a MultiIndex of
    # tuples is read differently by pandas 2 and 3.
    pairs = list(zip(rules["antecedents"], rules["consequents"], strict=True))
    a_to_b = rules.iloc[[pairs.index((("a",), ("b",)))]]
    # Weighted: a in baskets 1, 2, 4 (weight 7 of 10), a and b in 1 and 4 (weight 5).
    assert a_to_b["confidence"].item() == pytest.approx(5 / 7)
    assert a_to_b["lift"].item() == pytest.approx((5 / 10) / (0.7 * 0.8))
