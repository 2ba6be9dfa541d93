"""Frequent itemsets of a Spark DataFrame of baskets, mined by Spark MLlib's FPGrowth.

pyspark is imported lazily, inside the functions: ``import custintel`` never
loads it, and a Spark frame is recognised by its type's module name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SparkItemsets", "is_spark_frame", "spark_itemsets"]


def is_spark_frame(data: Any) -> bool:
    """Return whether ``data`` is a pyspark DataFrame (classic or Spark Connect)."""
    module = type(data).__module__ or ""
    return module.startswith("pyspark.") and type(data).__name__ == "DataFrame"


class SparkItemsets:
    """What Spark found: the itemsets (lists of labels), their counts and the basket count."""

    def __init__(self, itemsets: list[list[Any]], counts: np.ndarray, n_baskets: int) -> None:
        self.itemsets = itemsets
        self.counts = counts
        self.n_baskets = n_baskets


def _items_column(df: Any) -> str:
    from pyspark.sql.types import ArrayType

    arrays = [f.name for f in df.schema.fields if isinstance(f.dataType, ArrayType)]
    if len(arrays) == 1:
        return arrays[0]
    if "items" in arrays:
        return "items"
    columns = [f"{f.name} ({f.dataType.simpleString()})" for f in df.schema.fields]
    raise ValueError(
        f"a Spark DataFrame of baskets needs one array column of items per basket; it has "
        f"{len(arrays)} array columns among {columns}; select one, e.g. "
        "df.select('items'), or build it from a transaction log with "
        "df.groupBy('order_id').agg(F.collect_set('item_id').alias('items'))"
    )


def spark_itemsets(
    df: Any, *, min_support: float, min_count: int, max_len: int | None
) -> SparkItemsets:
    """Mine a Spark DataFrame of baskets with ``pyspark.ml.fpm.FPGrowth``.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        One row per basket, with one array column of item labels (repeats
        within a basket are allowed; Spark needs them removed, which is done
        here).
    min_support : float
        Passed to FPGrowth.
    min_count : int
        Itemsets with fewer baskets are dropped after mining, so the
        threshold is exactly the local miner's (FPGrowth rounds
        ``min_support * n`` up, which can differ from a floating-point
        ``count / n >= min_support`` in the last bit).
    max_len : int or None
        Longest itemset kept (FPGrowth itself has no length limit).

    Returns
    -------
    SparkItemsets
    """
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as sf

    column = _items_column(df)
    baskets = df.select(sf.array_distinct(sf.col(column)).alias("items")).where(
        sf.col("items").isNotNull()
    )
    n_baskets = int(df.count())
    if n_baskets == 0:
        raise ValueError("the Spark DataFrame has no rows; pass at least one basket")
    # Slightly below the threshold, so Spark's ceil never drops an itemset the
    # floating-point comparison keeps; the exact filter is applied below.
    spark_support = max(min(min_support, (min_count - 0.5) / n_baskets), 0.0)
    model = FPGrowth(itemsCol="items", minSupport=spark_support).fit(baskets)
    found = model.freqItemsets.where(sf.col("freq") >= min_count)
    if max_len is not None:
        found = found.where(sf.size("items") <= max_len)
    rows = found.collect()
    itemsets = [list(row["items"]) for row in rows]
    counts = np.fromiter((row["freq"] for row in rows), dtype=np.int64, count=len(rows))
    return SparkItemsets(itemsets, counts, n_baskets)
