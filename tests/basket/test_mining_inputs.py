"""Every accepted basket input gives the same itemsets, on Groceries and on a tiny case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from custintel.basket import frequent_itemsets
from custintel.features import basket_matrix

from ._helpers import load_groceries

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")


def _one_hot(baskets: list[list[str]]) -> pd.DataFrame:
    items = sorted({i for b in baskets for i in b})
    column = {item: k for k, item in enumerate(items)}
    dense = np.zeros((len(baskets), len(items)), dtype=bool)
    for row, basket in enumerate(baskets):
        dense[row, [column[i] for i in basket]] = True
    return pd.DataFrame(dense, columns=items)


def _log(baskets: list[list[str]]) -> pd.DataFrame:
    sizes = [len(b) for b in baskets]
    order = np.repeat(np.arange(len(baskets)), sizes)
    return pd.DataFrame(
        {
            "customer_id": order % 97,
            "order_id": order,
            "timestamp": pd.Timestamp("2024-01-01"),
            "item_id": [i for b in baskets for i in b],
            "amount": 1.0,
        }
    )


# Each builder turns lists of baskets into one accepted input type.
INPUTS: dict[str, Callable[[list[list[str]]], Any]] = {
    "lists": lambda b: b,
    "tuples of sets": lambda b: tuple(set(x) for x in b),
    "pandas one-hot": _one_hot,
    "pandas 0/1 one-hot": lambda b: _one_hot(b).astype(np.int8),
    "polars one-hot": lambda b: pl.from_pandas(_one_hot(b)),
    "polars lazy one-hot": lambda b: pl.from_pandas(_one_hot(b)).lazy(),
    "pyarrow one-hot": lambda b: pa.Table.from_pandas(_one_hot(b)),
    "sparse csr + items": lambda b: (
        sparse.csr_matrix(_one_hot(b).to_numpy()),
        list(_one_hot(b).columns),
    ),
    "sparse csc + items": lambda b: (
        sparse.csc_matrix(_one_hot(b).to_numpy()),
        list(_one_hot(b).columns),
    ),
    "transaction log": lambda b: basket_matrix(_log(b)),
}


@pytest.mark.parametrize("kind", list(INPUTS))
def test_every_input_type_gives_the_same_itemsets_on_groceries(kind: str) -> None:
    baskets = load_groceries()
    expected = frequent_itemsets(baskets, min_support=0.01)
    assert len(expected) == 333  # the reference count of the shared data README
    found = frequent_itemsets(INPUTS[kind](baskets), min_support=0.01)
    pd.testing.assert_frame_equal(found, expected)
    assert found.attrs == expected.attrs


@pytest.mark.parametrize("kind", list(INPUTS))
def test_every_input_type_gives_the_same_itemsets_by_hand(kind: str) -> None:
    # Counts: a 3, b 2, c 2; ab 2, ac 1, bc 1 -> at count >= 2 of 4: a, b, c, ab.
    baskets = [["a", "b"], ["a", "b", "c"], ["a"], ["c"]]
    found = frequent_itemsets(INPUTS[kind](baskets), min_support=0.5)
    assert found["itemset"].tolist() == [("a",), ("b",), ("c",), ("a", "b")]
    assert found["count"].tolist() == [3, 2, 2, 2]


def test_polars_frame_that_is_not_one_hot_is_refused() -> None:
    from custintel import SchemaError

    frame = pl.DataFrame({"order": [1, 1, 2], "item": ["a", "b", "a"]})
    with pytest.raises(SchemaError, match="one-hot"):
        frequent_itemsets(frame, min_support=0.5)
