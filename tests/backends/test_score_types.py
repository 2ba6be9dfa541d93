"""``custintel.spark.score`` declares a Spark type for every column the pipeline scores."""

from __future__ import annotations

from custintel.pipeline import CUSTOMER_COLUMNS
from custintel.spark import NOT_SCORED, SCORE_TYPES


def test_every_scored_column_has_a_spark_type() -> None:
    # mapInPandas needs the output schema up front: a column added to the scores without a
    # type here would make Spark's result narrower than pandas' (or fail at run time).
    # Spark scores every column the pipeline does (early_life_value included), in its order.
    assert tuple(SCORE_TYPES) == CUSTOMER_COLUMNS
    assert NOT_SCORED == {}
    assert set(SCORE_TYPES.values()) <= {"bigint", "double", "string"}
