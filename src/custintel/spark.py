"""Batch scoring on Spark: a saved model bundle applied with ``mapInPandas``.

The transaction-to-customer step runs in Spark (see :mod:`custintel.backends`);
each partition of customer rows is then scored in pandas by
:meth:`CustomerIntelligence.score_customers`, a row-wise function, so the
result does not depend on how customers are split into partitions. Nothing is
collected to the driver. This module imports pyspark only when called.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel.exceptions import SchemaError, quiet

__all__ = ["NOT_SCORED", "SCORE_TYPES", "score"]

#: Spark SQL type of each scored column (besides ``customer_id``).
SCORE_TYPES: dict[str, str] = {
    "frequency": "bigint",
    "recency": "double",
    "T": "double",
    "monetary_value": "double",
    "total_amount": "double",
    "rfm_score": "string",
    "rfm_segment": "string",
    "value_tier": "string",
    "lifecycle_stage": "string",
    "churn_probability": "double",
    "p_alive": "double",
    "expected_purchases": "double",
    "expected_clv": "double",
    "value_at_risk": "double",
    "churn_reason": "string",
    "abc_class": "string",
    "recommendation_1": "string",
    "recommendation_2": "string",
    "recommendation_3": "string",
    "early_life_value": "double",
}
#: Columns of :data:`custintel.pipeline.CUSTOMER_COLUMNS` that Spark leaves out, and why:
#: none (``early_life_value`` was, until Spark built the early-life features too).
NOT_SCORED: dict[str, str] = {}
_CUSTOMER_MARKERS = ("frequency", "recency", "T", "monetary_value")


def score(
    df: Any,
    models_dir: str | Path,
    *,
    as_of: Any = None,
    kind: Literal["auto", "transactions", "customers"] = "auto",
) -> Any:
    """Score a Spark DataFrame with a saved model bundle, inside Spark.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        Either transactions in the bundle's schema (the columns the fitted
        :class:`~custintel.TransactionSchema` maps), or customer rows as
        :meth:`CustomerIntelligence.customer_features` returns them, with
        ``customer_id`` as a column.
    models_dir : str or pathlib.Path
        A bundle folder written by :meth:`CustomerIntelligence.save`. It is
        read once on the driver; the fitted models travel to the executors
        with the task.
    as_of : date-like, optional
        Day to score at (transactions only); default: the day the models were
        fitted at (the bundle's ``observation_end``), never the latest date in
        ``df``, so a customer's score does not depend on who else is in it.
    kind : {"auto", "transactions", "customers"}, default="auto"
        What ``df`` holds; ``"auto"`` picks transactions when the schema's
        required columns are present, else customer rows when ``frequency``,
        ``recency``, ``T`` and ``monetary_value`` are.

    Returns
    -------
    pyspark.sql.DataFrame
        One row per customer: ``customer_id`` and the columns of
        :data:`custintel.pipeline.CUSTOMER_COLUMNS` (types in
        :data:`SCORE_TYPES`; categories become strings). Lazy: nothing runs
        until it is written or collected.

    Raises
    ------
    SchemaError
        When ``df`` is neither transactions nor customer rows, the
        transactions fail validation, or lack a column the bundle's models
        read, or customer rows lack such a feature
        (``reason="missing_column"``, before Spark runs).

    Notes
    -----
    For transactions, the per-customer features (summary, churn gap and
    trend features at the observation end with the bundle's horizon,
    attributes, profit, the items bought, and the early-life features of new
    customers) are computed by Spark: the transactions are aggregated by
    (customer, day), then by customer, with one window over the purchase
    days. Only then do customer rows enter Python, one Arrow batch at a
    time. The features are those of the pandas path to the last bit (money
    is summed exactly), so both score a customer alike.

    Examples
    --------
    .. code-block:: python

        from custintel.spark import score

        tx = spark.read.parquet("s3://shop/transactions/")
        scored = score(tx, "models/2024-12/")
        scored.write.mode("overwrite").parquet("s3://shop/customer_scores/")
    """
    from custintel.backends import engine_of
    from custintel.pipeline import load_bundle

    if engine_of(df) != "spark":
        raise SchemaError(
            f"score needs a Spark DataFrame, got {type(df).__module__}.{type(df).__name__}; "
            "for pandas use CustomerIntelligence.score or custintel.pipeline.score_file",
            reason="not_a_dataframe",
        )
    if kind not in ("auto", "transactions", "customers"):
        raise ValueError(f"kind must be 'auto', 'transactions' or 'customers', got {kind!r}")
    ci = load_bundle(models_dir)
    if as_of is None:
        as_of = str(ci.observation_end_.date())
    columns = list(df.columns)
    if kind == "auto":
        mapping = ci.schema_.resolve(pd.Index(columns))
        required = (mapping["customer_id"], mapping["timestamp"], mapping["amount"])
        if all(c in columns for c in required):
            kind = "transactions"
        elif all(c in columns for c in _CUSTOMER_MARKERS):
            kind = "customers"
        else:
            kind = "transactions"  # let validation say what is missing
    if kind == "customers":
        if "customer_id" not in columns:
            raise SchemaError(
                f"customer rows need a 'customer_id' column; columns present: {columns}",
                reason="missing_column",
            )
        ci.check_customer_features(columns)
        features, build = df, _customer_rows
        id_type = dict(df.dtypes)["customer_id"]
    else:
        ci.check_transaction_columns(columns)
        features, build, id_type = _transaction_features(df, ci, as_of)
    output = (
        "customer_id "
        + id_type
        + ", "
        + ", ".join(f"`{name}` {sql}" for name, sql in SCORE_TYPES.items())
    )

    def score_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            with quiet():
                rows = build(batch)
                if len(rows) == 0:
                    continue
                yield _plain(ci.score_customers(rows))

    return features.mapInPandas(score_partition, output)


def _customer_rows(batch: pd.DataFrame) -> pd.DataFrame:
    return batch.set_index("customer_id")


def _transaction_features(df: Any, ci: Any, as_of: Any) -> tuple[Any, Any, str]:
    """Build the lazy Spark table of customer aggregates and the per-batch finishing step."""
    import narwhals.stable.v2 as nw
    from pyspark.sql import functions as sf

    from custintel._validation import CleaningPolicies
    from custintel.backends import (
        CHURN_ATTRIBUTES,
        attribute_table,
        churn_table,
        early_life_table,
        prepare,
    )
    from custintel.pipeline import early_life_feature_names

    policies = CleaningPolicies(refunds=ci.refunds, observation_end=as_of, duplicates=ci.duplicates)
    prepared = prepare(df, ci.schema_, policies)
    roles, end = prepared.roles, prepared.end_day
    window = max(int(getattr(ci, "churn_horizon_", ci.horizon_)) // 2, 1)
    rows = prepared.rows
    native = nw.to_native(churn_table(rows, roles, cut_day=end, window=window))
    if "item_id" in roles:
        bought = (
            nw.to_native(rows)
            .where(sf.col("amount") >= 0)
            .groupBy("customer_id")
            .agg(sf.array_sort(sf.collect_set(sf.col("item_id").cast("string"))).alias("items"))
        )
        native = native.join(bought, on="customer_id", how="left")
    # CLV covariates from the schema's other attribute columns (the roles come with the
    # churn table): each customer's most frequent value, as the pandas path takes it
    others = [n for n in getattr(ci, "clv_covariates_", {}) if n not in CHURN_ATTRIBUTES]
    for name in others:
        native = native.join(
            nw.to_native(attribute_table(rows, name)), on="customer_id", how="left"
        )
    early_life = getattr(ci, "early_life_", None)
    early_names = early_life_feature_names(early_life)
    if early_names and early_life is not None:
        days = int(early_life.max_age_days)
        new = early_life_table(rows, roles, end_day=end, max_age_days=days)
        native = native.join(nw.to_native(new), on="customer_id", how="left")
    id_type = dict(native.dtypes)["customer_id"]

    def build(batch: pd.DataFrame) -> pd.DataFrame:
        return _features_from_aggregates(batch, roles, end, early_names, others)

    return native, build, id_type


def _features_from_aggregates(
    batch: pd.DataFrame,
    roles: tuple[str, ...],
    end: int,
    early_names: list[str],
    others: list[str],
) -> pd.DataFrame:
    """Finish one batch of customer aggregates into the rows ``score_customers`` reads."""
    from custintel.backends import churn_rows, collected_attribute, early_life_rows
    from custintel.pipeline import EARLY_LIFE_FEATURE_PREFIX

    batch = batch.sort_values("customer_id", kind="stable", ignore_index=True)
    features, present = churn_rows(batch, roles, end)
    if "cost" in roles:
        revenue = features["total_amount"].to_numpy()
        goods = revenue - features["total_margin"].to_numpy()
        features["profit"] = revenue - goods
    if "item_id" in roles:
        features["items"] = [
            [] if items is None else list(items) for items in present["items"].tolist()
        ]
    for name in others:  # the schema's other attributes read as CLV covariates
        features[name] = collected_attribute(present[f"attr_{name}"])
    if early_names:  # NaN for customers who are not new, as the pandas path leaves them
        early = early_life_rows(present, end).add_prefix(EARLY_LIFE_FEATURE_PREFIX)
        early.index = features.index
        features = features.join(early.reindex(columns=early_names))
    features.attrs.update({"observation_end": str(np.datetime64(end, "D")), "time_unit": "D"})
    return features


def _plain(scored: pd.DataFrame) -> pd.DataFrame:
    """Turn a scored frame into Arrow-friendly columns matching :data:`SCORE_TYPES`."""
    out = scored.reset_index()
    for name, sql in SCORE_TYPES.items():
        values = out[name]
        if sql == "string":
            strings = values.astype(object)
            out[name] = strings.where(pd.notna(strings), None).map(
                lambda v: v if v is None else str(v)
            )
        elif sql == "bigint":
            out[name] = values.to_numpy(dtype=np.int64)
        else:
            out[name] = values.to_numpy(dtype=np.float64)
    return out[["customer_id", *SCORE_TYPES]]
