"""frequent_itemsets: hand-computed cases, brute force, mlxtend on Groceries, bad input."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from scipy import sparse

from custintel import SchemaError
from custintel.basket import ITEMSET_COLUMNS, frequent_itemsets
from custintel.basket import _mining as mining
from custintel.basket._lookup import ItemsetIndex
from custintel.datasets import make_transactions
from custintel.features import basket_matrix

from ._helpers import BASKETS, SUPPORTS, brute_force_counts, load_groceries

mlxtend_fp = pytest.importorskip("mlxtend.frequent_patterns")
mlxtend_pre = pytest.importorskip("mlxtend.preprocessing")

# Five baskets. Counts: a 4, b 3, c 3, d 1; ab 2, ac 3, bc 2, ad 1, bd 1, cd 0; abc 2, abd 1.
SMALL = [["a", "b", "c"], ["a", "c"], ["a", "b", "c"], ["b", "a", "d"], ["c"]]


def as_dict(frame: pd.DataFrame) -> dict[tuple[Any, ...], int]:
    return dict(zip(frame["itemset"], frame["count"], strict=True))


def test_hand_computed() -> None:
    found = frequent_itemsets(SMALL, min_support=0.4)  # count >= 2 of 5
    assert list(found.columns) == list(ITEMSET_COLUMNS)
    assert as_dict(found) == {
        ("a",): 4,
        ("b",): 3,
        ("c",): 4,
        ("a", "b"): 3,
        ("a", "c"): 3,
        ("b", "c"): 2,
        ("a", "b", "c"): 2,
    }
    # support = count / 5; rows by length, then itemset
    np.testing.assert_array_equal(found["support"], [0.8, 0.6, 0.8, 0.6, 0.6, 0.4, 0.4])
    assert found["length"].tolist() == [1, 1, 1, 2, 2, 2, 3]
    assert found.attrs == {"n_baskets": 5, "min_support": 0.4, "max_len": None, "kind": "all"}


def test_hand_computed_closed_and_maximal() -> None:
    # closed: no superset with the same count. a(4) vs ab(3), ac(3): closed; b(3) = ab(3): not;
    # c(4): closed; ab(3) vs abc(2): closed; ac(3): closed; bc(2) = abc(2): not; abc: closed.
    closed = frequent_itemsets(SMALL, min_support=0.4, kind="closed")
    assert as_dict(closed) == {
        ("a",): 4,
        ("c",): 4,
        ("a", "b"): 3,
        ("a", "c"): 3,
        ("a", "b", "c"): 2,
    }
    maximal = frequent_itemsets(SMALL, min_support=0.4, kind="maximal")
    assert as_dict(maximal) == {("a", "b", "c"): 2}
    assert maximal.attrs["kind"] == "maximal"


def test_support_threshold_is_inclusive_and_max_len() -> None:
    # count 2 of 5 is support 0.4 exactly: included at 0.4, excluded just above
    assert ("a", "b", "c") in as_dict(frequent_itemsets(SMALL, min_support=0.4))
    assert ("a", "b", "c") not in as_dict(frequent_itemsets(SMALL, min_support=0.4000001))
    short = frequent_itemsets(SMALL, min_support=0.4, max_len=2)
    assert short["length"].max() == 2 and len(short) == 6
    singles = frequent_itemsets(SMALL, min_support=0.4, max_len=1)
    assert singles["itemset"].tolist() == [("a",), ("b",), ("c",)]
    everything = frequent_itemsets(SMALL, min_support=1.0)
    assert len(everything) == 0 and list(everything.columns) == list(ITEMSET_COLUMNS)


def test_duplicate_items_in_a_basket_count_once() -> None:
    twice = frequent_itemsets([["a", "a", "b"], ["a"]], min_support=0.5)
    assert as_dict(twice) == {("a",): 2, ("b",): 1, ("a", "b"): 1}


def test_empty_baskets_count_in_the_denominator() -> None:
    found = frequent_itemsets([["a"], [], ["a", "b"], []], min_support=0.5)
    assert as_dict(found) == {("a",): 2}
    assert found["support"].tolist() == [0.5]


@pytest.mark.parametrize(
    "kind_of_input", ["lists", "pair", "bare_matrix", "one_hot", "bool_array", "series"]
)
def test_every_input_shape_gives_the_same_itemsets(kind_of_input: str) -> None:
    baskets = SMALL
    labels = ["a", "b", "c", "d"]
    rows = [[labels.index(i) for i in b] for b in baskets]
    dense = np.zeros((len(baskets), len(labels)), dtype=bool)
    for r, cols in enumerate(rows):
        dense[r, cols] = True
    data: Any
    items = None
    if kind_of_input == "lists":
        data = baskets
    elif kind_of_input == "pair":
        data = (sparse.csr_matrix(dense), pd.Index(labels))
    elif kind_of_input == "bare_matrix":
        data, items = sparse.csc_matrix(dense.astype(np.int64)), labels
    elif kind_of_input == "one_hot":
        data = pd.DataFrame(dense, columns=labels)
    elif kind_of_input == "bool_array":
        data, items = dense, labels
    else:
        data = pd.Series(baskets)
    expected = frequent_itemsets(SMALL, min_support=0.2)
    found = frequent_itemsets(data, min_support=0.2, items=items)
    pd.testing.assert_frame_equal(found, expected)


def test_bare_matrix_labels_are_column_numbers() -> None:
    matrix = sparse.csr_matrix(np.array([[1, 1, 0], [1, 0, 1]]))
    found = frequent_itemsets(matrix, min_support=0.5)
    assert as_dict(found) == {(0,): 2, (1,): 1, (2,): 1, (0, 1): 1, (0, 2): 1}
    assert all(type(i) is int for s in found["itemset"] for i in s)


def test_one_hot_frame_from_mlxtend_and_0_1_columns() -> None:
    encoder = mlxtend_pre.TransactionEncoder()
    one_hot = pd.DataFrame(encoder.fit(SMALL).transform(SMALL), columns=encoder.columns_)
    expected = frequent_itemsets(SMALL, min_support=0.2)
    pd.testing.assert_frame_equal(frequent_itemsets(one_hot, min_support=0.2), expected)
    pd.testing.assert_frame_equal(
        frequent_itemsets(one_hot.astype(np.int8), min_support=0.2), expected
    )
    sparse_frame = pd.DataFrame.sparse.from_spmatrix(
        sparse.csr_matrix(one_hot.to_numpy()), columns=one_hot.columns
    )
    pd.testing.assert_frame_equal(frequent_itemsets(sparse_frame, min_support=0.2), expected)


def test_basket_matrix_output_is_accepted() -> None:
    tx = make_transactions(200, random_state=1).transactions
    found = frequent_itemsets(basket_matrix(tx), min_support=0.02)
    baskets = tx.groupby("order_id", observed=True)["item_id"].apply(list).tolist()
    expected = frequent_itemsets([[str(i) for i in b] for b in baskets], min_support=0.02)
    pd.testing.assert_frame_equal(found, expected)


def test_mixed_label_types_get_a_stable_order() -> None:
    baskets = [[1, "x"], ["x", 1], [2.5, "x"]]
    found = frequent_itemsets(baskets, min_support=0.5)
    shuffled = frequent_itemsets([list(reversed(b)) for b in reversed(baskets)], min_support=0.5)
    pd.testing.assert_frame_equal(found, shuffled)
    assert as_dict(found) == {(1,): 2, ("x",): 3, (1, "x"): 2}


@settings(max_examples=60, deadline=None)
@given(baskets=BASKETS, min_support=SUPPORTS)
def test_equals_brute_force(baskets: list[list[str]], min_support: float) -> None:
    truth = {
        tuple(sorted(k)): v
        for k, v in brute_force_counts(baskets).items()
        if v / len(baskets) >= min_support
    }
    assert as_dict(frequent_itemsets(baskets, min_support=min_support)) == truth


@settings(max_examples=60, deadline=None)
@given(baskets=BASKETS, min_support=SUPPORTS)
def test_superset_support_never_exceeds_subset_support(
    baskets: list[list[str]], min_support: float
) -> None:
    found = as_dict(frequent_itemsets(baskets, min_support=min_support))
    for itemset, count in found.items():
        for drop in range(len(itemset)):
            subset = itemset[:drop] + itemset[drop + 1 :]
            if subset:
                # every subset of a frequent itemset is frequent, with at least its count
                assert found[subset] >= count


@settings(max_examples=40, deadline=None)
@given(baskets=BASKETS, min_support=SUPPORTS, seed=SUPPORTS)
def test_independent_of_basket_and_item_order(
    baskets: list[list[str]], min_support: float, seed: float
) -> None:
    rng = random.Random(seed)
    shuffled = [rng.sample(b, len(b)) for b in baskets]
    rng.shuffle(shuffled)
    for kind in ("all", "closed", "maximal"):
        pd.testing.assert_frame_equal(
            frequent_itemsets(shuffled, min_support=min_support, kind=kind),  # type: ignore[arg-type]
            frequent_itemsets(baskets, min_support=min_support, kind=kind),  # type: ignore[arg-type]
        )


@settings(max_examples=40, deadline=None)
@given(baskets=BASKETS, min_support=SUPPORTS)
def test_closed_and_maximal_match_their_definitions(
    baskets: list[list[str]], min_support: float
) -> None:
    every = as_dict(frequent_itemsets(baskets, min_support=min_support))
    closed = {
        s for s, c in every.items() if not any(set(s) < set(t) and every[t] == c for t in every)
    }
    maximal = {s for s in every if not any(set(s) < set(t) for t in every)}
    assert (
        set(as_dict(frequent_itemsets(baskets, min_support=min_support, kind="closed"))) == closed
    )
    assert (
        set(as_dict(frequent_itemsets(baskets, min_support=min_support, kind="maximal"))) == maximal
    )


def test_small_memory_budgets_and_fallbacks_give_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Force every chunked and fallback path: tiny chunks and batches, a sparse pair table,
    # the lookup-table popcount, and a per-item bit matrix built in pieces.
    tx = make_transactions(400, random_state=5, n_items=40).transactions
    pair = basket_matrix(tx)
    expected = frequent_itemsets(pair, min_support=0.004)
    assert expected["length"].max() >= 4
    monkeypatch.setattr(mining, "_CHUNK_BYTES", 64)
    monkeypatch.setattr(mining, "_BATCH_BYTES", 64)
    monkeypatch.setattr(mining, "_CANDIDATE_SLICE", 3)
    monkeypatch.setattr(mining, "_DENSE_COUNT_BYTES", 1)
    monkeypatch.setattr(mining, "_DENSE_PAIR_ITEMS", 0)
    monkeypatch.setattr(mining, "_bitwise_count", None)
    pd.testing.assert_frame_equal(frequent_itemsets(pair, min_support=0.004), expected)


def test_itemset_index_multiindex_fallback() -> None:
    codes = np.array([[0, 5, 9], [1, 2, 3], [4, 7, 8]])
    fast = ItemsetIndex(codes, 10)
    slow = ItemsetIndex(codes, 3_000_000)  # 3e6 ** 3 > 2 ** 63: no int64 key
    query = np.array([[4, 7, 8], [0, 1, 2], [0, 5, 9]])
    np.testing.assert_array_equal(fast.find(query), [2, -1, 0])
    np.testing.assert_array_equal(slow.find(query), [2, -1, 0])
    assert ItemsetIndex(codes[:0], 10).find(query).tolist() == [-1, -1, -1]


# --- the golden numbers: Groceries against mlxtend -------------------------------------


@pytest.fixture(scope="module")
def groceries() -> list[list[str]]:
    return load_groceries()


@pytest.fixture(scope="module")
def groceries_one_hot(groceries: list[list[str]]) -> pd.DataFrame:
    encoder = mlxtend_pre.TransactionEncoder()
    return pd.DataFrame(encoder.fit(groceries).transform(groceries), columns=encoder.columns_)


@pytest.mark.parametrize(
    ("min_support", "n_itemsets"),
    [(0.01, 333), (0.005, 1001), pytest.param(0.001, 13492, marks=pytest.mark.slow)],
)
def test_groceries_equals_mlxtend(
    groceries: list[list[str]],
    groceries_one_hot: pd.DataFrame,
    min_support: float,
    n_itemsets: int,
) -> None:
    assert len(groceries) == 9835
    ours = frequent_itemsets(groceries, min_support=min_support)
    assert len(ours) == n_itemsets
    reference = mlxtend_fp.fpgrowth(groceries_one_hot, min_support=min_support, use_colnames=True)
    assert len(reference) == n_itemsets
    expected = dict(zip(reference["itemsets"], reference["support"], strict=True))
    found = dict(zip(map(frozenset, ours["itemset"]), ours["support"], strict=True))
    assert found == expected  # same itemsets, supports equal to the last bit
    # labels are kept exactly as in the file, trailing space included
    assert ("cream cheese ",) in set(ours["itemset"])
    assert all(list(s) == sorted(s) for s in ours["itemset"])


@pytest.mark.slow
def test_groceries_closed_and_maximal(groceries: list[list[str]]) -> None:
    every = frequent_itemsets(groceries, min_support=0.005)
    maximal = frequent_itemsets(groceries, min_support=0.005, kind="maximal")
    closed = frequent_itemsets(groceries, min_support=0.005, kind="closed")
    # every frequent itemset is a subset of a maximal one, with a count at most its own
    maximal_sets = [set(s) for s in maximal["itemset"]]
    assert all(any(set(s) <= m for m in maximal_sets) for s in every["itemset"])
    # closed itemsets recover every support: the count of s is the max count of its closed
    # supersets
    closed_pairs = [(set(s), c) for s, c in zip(closed["itemset"], closed["count"], strict=True)]
    for itemset, count in zip(every["itemset"], every["count"], strict=True):
        assert count == max(c for s, c in closed_pairs if set(itemset) <= s)
    reference = mlxtend_fp.fpmax(
        pd.DataFrame(
            mlxtend_pre.TransactionEncoder().fit(groceries).transform(groceries),
            columns=sorted({i for b in groceries for i in b}),
        ),
        min_support=0.005,
        use_colnames=True,
    )
    assert set(reference["itemsets"]) == set(map(frozenset, maximal["itemset"]))


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, float("nan"), float("inf"), True, "0.1", None])
def test_min_support_outside_0_1(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"min_support must be a share of baskets in \(0, 1\]"):
        frequent_itemsets(SMALL, min_support=bad)


def test_empty_basket_list() -> None:
    with pytest.raises(SchemaError, match="list of baskets is empty") as info:
        frequent_itemsets([], min_support=0.1)
    assert info.value.reason == "empty"
    with pytest.raises(SchemaError, match="no rows"):
        frequent_itemsets(pd.DataFrame({"a": pd.Series([], dtype=bool)}), min_support=0.1)


@pytest.mark.parametrize("missing", [float("nan"), None, pd.NA, np.nan])
def test_nan_items(missing: Any) -> None:
    with pytest.raises(SchemaError, match=r"1 items in 1 baskets are missing.*baskets \[1\]"):
        frequent_itemsets([["a"], ["b", missing], ["a"]], min_support=0.1)


def test_unhashable_items() -> None:
    with pytest.raises(SchemaError, match=r"not hashable \(list\).*basket 1: \['b', 'c'\]") as info:
        frequent_itemsets([["a"], ["a", ["b", "c"]]], min_support=0.1)
    assert info.value.reason == "unhashable_item"


def test_a_string_is_not_a_basket() -> None:
    with pytest.raises(SchemaError, match=r"basket 1 is a string \('milk'\)"):
        frequent_itemsets([["a"], "milk"], min_support=0.1)
    with pytest.raises(SchemaError, match="list of item lists"):
        frequent_itemsets("milk", min_support=0.1)
    with pytest.raises(SchemaError, match="basket 0 is a int"):
        frequent_itemsets([3, 4], min_support=0.1)


def test_one_hot_frame_problems() -> None:
    with pytest.raises(SchemaError, match=r"fillna\(False\)"):
        frequent_itemsets(pd.DataFrame({"a": [1.0, np.nan], "b": [0.0, 1.0]}), min_support=0.1)
    with pytest.raises(SchemaError, match="basket_matrix"):
        frequent_itemsets(
            pd.DataFrame({"order_id": [1, 2], "item_id": ["x", "y"]}), min_support=0.1
        )
    with pytest.raises(SchemaError, match="repeat an earlier one"):
        frequent_itemsets(pd.DataFrame([[1, 0]], columns=["a", "a"]), min_support=0.1)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="kind must be"):
        frequent_itemsets(SMALL, min_support=0.1, kind="frequent")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_len must be an integer"):
        frequent_itemsets(SMALL, min_support=0.1, max_len=0)
    with pytest.raises(ValueError, match="max_itemsets must be"):
        frequent_itemsets(SMALL, min_support=0.1, max_itemsets=0)
    with pytest.raises(ValueError, match="items was given twice"):
        frequent_itemsets((sparse.csr_matrix(np.eye(2)), ["a", "b"]), min_support=0.1, items=[1, 2])
    with pytest.raises(ValueError, match="3 item labels for a matrix with 2"):
        frequent_itemsets(sparse.csr_matrix(np.eye(2)), min_support=0.1, items=[1, 2, 3])
    with pytest.raises(SchemaError, match="NaN or infinite"):
        frequent_itemsets(sparse.csr_matrix(np.array([[np.nan, 1.0]])), min_support=0.1)


def test_max_itemsets_stops_a_blow_up() -> None:
    # 12 items always bought together: 4,095 frequent itemsets at any support
    baskets = [list(range(12))] * 20
    assert len(frequent_itemsets(baskets, min_support=0.5)) == 2**12 - 1
    with pytest.raises(ValueError, match=r"more than max_itemsets=1,000 .*Raise min_support"):
        frequent_itemsets(baskets, min_support=0.5, max_itemsets=1000)
