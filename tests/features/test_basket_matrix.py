"""basket_matrix: hand-computed baskets, levels, refunds, schema mapping and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from custintel import SchemaError, TransactionSchema
from custintel.datasets import make_transactions
from custintel.features import basket_matrix


@pytest.fixture
def lines() -> pd.DataFrame:
    # order 1 (a): milk, bread; order 2 (a): milk; order 3 (b): bread, butter, bread again;
    # order 4 (b): only a refund of jam, so it is no basket.
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "b", "b"],
            "order_id": [1, 1, 2, 3, 3, 3, 4],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-05",
                    "2024-01-02",
                    "2024-01-02",
                    "2024-01-02",
                    "2024-01-09",
                ]
            ),
            "item_id": ["milk", "bread", "milk", "bread", "butter", "bread", "jam"],
            "amount": [1.0, 2.0, 1.0, 2.0, 3.0, 2.0, -4.0],
        }
    )


def test_order_level_hand_computed(lines: pd.DataFrame) -> None:
    matrix, items = basket_matrix(lines)
    assert isinstance(matrix, sparse.csr_matrix)
    assert matrix.dtype == bool
    # columns sorted: bread, butter, milk; jam was only refunded, so it is no column
    assert items.tolist() == ["bread", "butter", "milk"]
    assert items.name == "item_id"
    # rows in order id order; order 3 lists bread twice: one entry; order 4 has no purchase
    np.testing.assert_array_equal(matrix.toarray().astype(int), [[1, 0, 1], [0, 0, 1], [1, 1, 0]])
    assert matrix.nnz == 5


def test_customer_level_hand_computed(lines: pd.DataFrame) -> None:
    matrix, items = basket_matrix(lines, level="customer")
    # a bought milk and bread (orders 1-2); b bread and butter (jam refunded)
    np.testing.assert_array_equal(matrix.toarray().astype(int), [[1, 0, 1], [1, 1, 0]])
    assert items.tolist() == ["bread", "butter", "milk"]


def test_input_is_not_mutated(lines: pd.DataFrame) -> None:
    before = lines.copy()
    basket_matrix(lines)
    pd.testing.assert_frame_equal(lines, before)


def test_schema_mapping(lines: pd.DataFrame) -> None:
    renamed = lines.rename(columns={"item_id": "product", "order_id": "invoice"})
    schema = TransactionSchema(item_id="product", order_id="invoice")
    matrix, items = basket_matrix(renamed, schema)
    expected, expected_items = basket_matrix(lines)
    assert (matrix != expected).nnz == 0
    assert items.tolist() == expected_items.tolist()


def test_categorical_items_in_canonical_order(lines: pd.DataFrame) -> None:
    # categories unsorted and with an unused one: columns are the sorted items bought
    cats = pd.CategoricalDtype(["milk", "zucchini", "jam", "butter", "bread"])
    categorical = lines.assign(item_id=lines["item_id"].astype(cats))
    matrix, items = basket_matrix(categorical)
    expected, expected_items = basket_matrix(lines)
    assert items.tolist() == expected_items.tolist()
    assert (matrix != expected).nnz == 0


def test_missing_item_role(lines: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match=r"item_id.*TransactionSchema\(item_id="):
        basket_matrix(lines.drop(columns="item_id"))


def test_order_level_needs_order_id(lines: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="level='customer'"):
        basket_matrix(lines.drop(columns="order_id"))
    matrix, _ = basket_matrix(lines.drop(columns="order_id"), level="customer")
    assert matrix.shape == (2, 3)


def test_bad_level(lines: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="level must be 'order'"):
        basket_matrix(lines, level="basket")  # type: ignore[arg-type]


def test_null_items_are_reported(lines: pd.DataFrame) -> None:
    broken = lines.astype({"item_id": object})
    broken.loc[2, "item_id"] = None
    with pytest.raises(SchemaError, match="item_id"):
        basket_matrix(broken)


def test_all_refunds(lines: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="refund"):
        basket_matrix(lines.assign(amount=-1.0))


def test_matches_a_groupby_on_simulated_data() -> None:
    tx = make_transactions(300, random_state=3).transactions
    matrix, items = basket_matrix(tx)
    pairs = tx[["order_id", "item_id"]].drop_duplicates()
    assert matrix.nnz == len(pairs)
    assert matrix.shape == (tx["order_id"].nunique(), tx["item_id"].nunique())
    sizes = pairs.groupby("order_id").size().sort_index().to_numpy()
    np.testing.assert_array_equal(np.asarray(matrix.sum(axis=1)).ravel(), sizes)
    counts = pairs["item_id"].astype(str).value_counts()
    np.testing.assert_array_equal(
        np.asarray(matrix.sum(axis=0)).ravel(), counts[items.astype(str)].to_numpy()
    )
    customers, _ = basket_matrix(tx, level="customer")
    assert customers.shape[0] == tx["customer_id"].nunique()
    assert customers.nnz == len(tx[["customer_id", "item_id"]].drop_duplicates())
