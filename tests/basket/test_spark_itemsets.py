"""A Spark DataFrame of baskets is mined by Spark MLlib's FPGrowth into the local table."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from custintel.basket import frequent_itemsets

from ._helpers import load_groceries


def _require(name: str) -> Any:
    """Import an optional engine; in CI (CI=true) a missing one is an error, not a skip."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name, reason=f"{name} is not installed (extra spark)")


_require("pyspark")

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("custintel-basket-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if previous is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = previous


@pytest.mark.parametrize("min_support", [0.01, 0.005])
def test_spark_fpgrowth_equals_the_local_miner_on_groceries(spark: Any, min_support: float) -> None:
    baskets = load_groceries()
    frame = spark.createDataFrame([(k, b) for k, b in enumerate(baskets)], ["basket", "items"])
    found = frequent_itemsets(frame, min_support=min_support)
    expected = frequent_itemsets(baskets, min_support=min_support)
    assert len(found) == {0.01: 333, 0.005: 1001}[min_support]
    pd.testing.assert_frame_equal(found, expected)
    assert found.attrs["engine"] == "spark"
    assert found.attrs["n_baskets"] == expected.attrs["n_baskets"] == 9835


def test_spark_max_len_repeats_and_bad_input(spark: Any) -> None:
    # Repeated items count once; empty baskets count in the denominator.
    rows = [(["a", "b", "a"],), (["a", "b"],), (["a"],), ([],)]
    frame = spark.createDataFrame(rows, "items array<string>")
    found = frequent_itemsets(frame, min_support=0.5, max_len=1)
    assert found["itemset"].tolist() == [("a",), ("b",)]
    assert found["count"].tolist() == [3, 2]
    assert found["support"].tolist() == [0.75, 0.5]
    pairs = frequent_itemsets(frame, min_support=0.5)
    assert pairs["itemset"].tolist() == [("a",), ("b",), ("a", "b")]
    with pytest.raises(ValueError, match="no weights, max_basket_size"):
        frequent_itemsets(frame, min_support=0.5, weights=[1, 1, 1, 1])
    two = spark.createDataFrame([(["a"], ["b"])], "x array<string>, y array<string>")
    with pytest.raises(ValueError, match="one array column of items"):
        frequent_itemsets(two, min_support=0.5)
