"""The miner's budget: refusing before memory runs out, huge baskets, and both engines agreeing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings

from custintel.basket import MiningBudgetError, frequent_itemsets
from custintel.basket import _mining as mining
from custintel.basket._encode import encode_baskets

from ._helpers import BASKETS, SUPPORTS, brute_force_counts, load_groceries


def test_one_huge_basket_is_refused_before_mining() -> None:
    # One basket of 60 items at count >= 1: every one of its 2**60 - 1 subsets is frequent.
    basket = [f"i{k}" for k in range(60)]
    with pytest.raises(MiningBudgetError, match="refusing to mine") as caught:
        frequent_itemsets([basket], min_support=0.5, max_itemsets=1000)
    err = caught.value
    assert isinstance(err, ValueError)
    assert err.reason == "too_many_itemsets"
    assert (err.max_itemsets, err.n_baskets, err.largest_basket) == (1000, 1, 60)
    assert "max_basket_size" in str(err) and "max_len" in str(err)
    # With max_len=2: 60 + 60 * 59 / 2 = 1,830 itemsets, still over 1,000.
    with pytest.raises(MiningBudgetError, match="1,830 itemsets"):
        frequent_itemsets([basket], min_support=0.5, max_itemsets=1000, max_len=2)
    found = frequent_itemsets([basket], min_support=0.5, max_itemsets=2000, max_len=2)
    assert len(found) == 1830


def test_search_stops_at_max_itemsets_with_the_numbers() -> None:
    # Two copies of a 30-item basket (count >= 2 of 3): 2**30 - 1 itemsets, found depth first.
    basket = [f"i{k:02d}" for k in range(30)]
    with pytest.raises(MiningBudgetError, match="more than max_itemsets=10,000") as caught:
        frequent_itemsets([basket, basket, ["x"]], min_support=0.5, max_itemsets=10_000)
    assert caught.value.largest_basket == 30
    assert caught.value.n_baskets == 3
    assert caught.value.length >= 2


def test_max_basket_size_leaves_out_big_baskets_and_counts_them() -> None:
    big = [f"sku{k}" for k in range(40)]
    baskets = [["a", "b"], ["a", "b"], ["a"], big, big]
    with pytest.raises(MiningBudgetError):
        frequent_itemsets(baskets, min_support=0.4, max_itemsets=10_000)
    found = frequent_itemsets(baskets, min_support=0.4, max_basket_size=10)
    # Left: ab, ab, a -> a 3/3, b 2/3, ab 2/3 (denominator: the 3 baskets kept).
    assert found["itemset"].tolist() == [("a",), ("b",), ("a", "b")]
    assert found["count"].tolist() == [3, 2, 2]
    np.testing.assert_allclose(found["support"], [1.0, 2 / 3, 2 / 3])
    assert found.attrs["n_baskets"] == 3
    assert found.attrs["n_baskets_dropped"] == 2
    assert found.attrs["max_basket_size"] == 10
    # The limit is inclusive, and nothing dropped is recorded as 0.
    kept = frequent_itemsets(baskets, min_support=0.4, max_basket_size=40, max_len=1)
    assert kept.attrs["n_baskets_dropped"] == 0 and kept.attrs["n_baskets"] == 5
    with pytest.raises(ValueError, match="all 2 baskets hold more than max_basket_size=5"):
        frequent_itemsets([big, big], min_support=0.5, max_basket_size=5)
    with pytest.raises(ValueError, match="max_basket_size must be an integer"):
        frequent_itemsets(baskets, min_support=0.4, max_basket_size=0)


@pytest.mark.parametrize("min_support", [0.01, 0.005, 0.001])
def test_compiled_and_numpy_engines_agree_on_groceries(min_support: float) -> None:
    encoded = encode_baskets(load_groceries())
    count = mining.min_count_for(min_support, encoded.n_baskets)
    a = mining.mine(encoded.matrix, count, max_len=None, max_itemsets=10**6, engine="numba")
    b = mining.mine(encoded.matrix, count, max_len=None, max_itemsets=10**6, engine="numpy")
    assert a.total == b.total == {0.01: 333, 0.005: 1001, 0.001: 13492}[min_support]
    for x, y in zip(a.codes + a.counts, b.codes + b.counts, strict=True):
        np.testing.assert_array_equal(x, y)


@given(BASKETS, SUPPORTS)
@settings(max_examples=60, deadline=None)
def test_compiled_engine_equals_brute_force(baskets: list[list[str]], min_support: float) -> None:
    n = len(baskets)
    expected = {k: v for k, v in brute_force_counts(baskets).items() if v / n >= min_support}
    found = frequent_itemsets(baskets, min_support=min_support)
    assert {frozenset(s): c for s, c in zip(found["itemset"], found["count"], strict=True)} == (
        expected
    )


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_huge_basket_under_an_address_space_limit() -> None:
    # The bulk order of issue 21: 20,000 items in one basket, mined under 3 GB of address
    # space. Before, the pair step raised MemoryError; now it refuses with the numbers.
    code = textwrap.dedent(
        """
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
        from custintel.basket import MiningBudgetError, frequent_itemsets
        basket = [f"SKU{k:05d}" for k in range(20_000)]
        try:
            frequent_itemsets([basket, basket, basket[:5]], min_support=0.5)
        except MiningBudgetError as err:
            print("refused", err.largest_basket)
        print(len(frequent_itemsets([basket], min_support=0.5, max_len=1)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["refused", "20000", "20000"]
