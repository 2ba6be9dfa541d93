"""The feature layer and batch scoring on a local Spark session equal the pandas path.

One local session (2 cores, 2 shuffle partitions, no UI) serves the whole module.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from custintel import SchemaError, summarize_customers
from custintel.backends import engine_of


def _require(name: str) -> Any:
    """Import an optional engine; in CI (CI=true) a missing one is an error, not a skip."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name, reason=f"{name} is not installed (extras polars/duckdb/spark)")


pyspark = _require("pyspark")
_require("narwhals")
_require("pyarrow")

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    # Python workers (mapInPandas) must run this interpreter, which has custintel.
    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("custintel-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
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


def _to_spark(spark: Any, folder: Path) -> Any:
    """Hand frames to Spark as Parquet files, as real data arrives.

    ``spark.createDataFrame(pandas_frame)`` would embed the rows in every task of the
    plan (a LocalRelation), which is slow and runs the driver out of heap.
    """
    counter = iter(range(1_000_000))

    def convert(df: pd.DataFrame) -> Any:
        path = folder / f"tx_{next(counter)}.parquet"
        stamps = [c for c in df.columns if df[c].dtype.kind == "M"]
        # Spark reads microseconds, not the nanoseconds pandas writes by default
        df.astype(dict.fromkeys(stamps, "datetime64[us]")).to_parquet(path, index=False)
        return spark.read.parquet(str(path))

    return convert


@pytest.fixture(scope="module")
def to_spark(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _to_spark(spark, tmp_path_factory.mktemp("spark_parquet"))


def test_engine_of(spark: Any) -> None:
    assert engine_of(spark.range(1)) == "spark"


def test_cdnow_equals_pandas(
    to_spark: Any, cdnow: pd.DataFrame, check: Any, cdnow_calls: Any
) -> None:
    # every builder once (the weekly summary variant is covered on Polars and DuckDB)
    check(to_spark, cdnow, [cdnow_calls[0], cdnow_calls[2], cdnow_calls[3]])


def test_simulated_log_equals_pandas(
    to_spark: Any, sim_tx: pd.DataFrame, check: Any, sim_calls: Any
) -> None:
    # the churn builder (duplicates="warn": the in-engine DISTINCT; attributes; labels);
    # the summary of such logs is also checked by the scoring test below
    check(to_spark, sim_tx, [sim_calls[3]])


def test_day_numbers_follow_the_session_calendar(to_spark: Any) -> None:
    # 23:30 on Jan 1 is a Jan 1 purchase: days come from Spark's dates, not from durations.
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(
                ["2024-01-01 23:30", "2024-01-05 00:00", "2024-01-03 00:00"]
            ),
            "amount": [1.0, 2.0, 3.0],
        }
    )
    got = summarize_customers(to_spark(tx))
    pd.testing.assert_frame_equal(got, summarize_customers(tx))
    assert got["recency"].tolist() == [4.0, 0.0]


def test_schema_errors(to_spark: Any) -> None:
    tx = pd.DataFrame(
        {
            "cust": [1, 2, 3],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-03"]),
            "amount": [1.0, -2.0, 3.0],
        }
    )
    native = to_spark(tx)
    with pytest.raises(SchemaError, match=r"customer_id='cust'") as err:
        summarize_customers(native)
    assert err.value.reason == "missing_column"
    with pytest.raises(SchemaError, match="1 of 3 rows have a negative amount") as err:
        summarize_customers(native, {"customer_id": "cust"}, refunds="raise")
    assert err.value.reason == "negative_amount"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, sim_tx: pd.DataFrame) -> Path:
    from custintel.pipeline import CustomerIntelligence

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Spark nets refunds in-engine; matching returns to purchases is pandas-only.
        ci = CustomerIntelligence(duplicates="keep", refunds="net").fit(sim_tx)
    return ci.save(tmp_path_factory.mktemp("bundle") / "models")


def test_matching_refunds_is_refused_in_spark_with_the_fix(
    to_spark: Any, tmp_path: Path, sim_tx: pd.DataFrame
) -> None:
    # The default refunds="auto" matches returns when item ids are mapped: pandas only.
    from custintel.pipeline import CustomerIntelligence
    from custintel.spark import score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ci = CustomerIntelligence(duplicates="keep", horizon=180).fit(sim_tx)
    folder = ci.save(tmp_path / "models")
    with pytest.raises(SchemaError, match="runs on pandas only") as err:
        score(to_spark(sim_tx), folder)
    assert err.value.reason == "unsupported_policy"
    assert "refunds='net'" in str(err.value)


def _as_plain(scored: pd.DataFrame) -> pd.DataFrame:
    out = scored.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype) or out[column].dtype.kind in "OT":
            values = out[column].astype(object)
            out[column] = values.where(values.notna(), None).map(lambda v: v and str(v))
    return out


def test_score_transactions_and_customer_rows(to_spark: Any, bundle: Path, simulate: Any) -> None:
    # A few hundred thousand rows: 20,000 simulated customers, scored by a bundle fitted
    # on another log. Spark computes the features in-engine and scores with mapInPandas.
    from custintel.pipeline import load_bundle
    from custintel.spark import score

    tx = simulate(20_000, random_state=5)
    assert len(tx) > 250_000
    ci = load_bundle(bundle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _as_plain(ci.score(tx))
    assert ci.early_life_.active  # the bundle has an early-life model: Spark builds its features
    scored = score(to_spark(tx), bundle)
    assert engine_of(scored) == "spark"
    got = scored.toPandas().set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(
        _as_plain(got), expected, check_exact=False, rtol=1e-9, check_index_type=False
    )
    assert (got["frequency"].to_numpy() == expected["frequency"].to_numpy()).all()

    # Customer rows (e.g. precomputed features) score to the same result.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # scored as of the bundle's own date, like the whole log above
        features = ci.customer_features(tx.loc[tx["customer_id"] <= 500])
    rows = features.reset_index()
    for column in rows.columns:
        if isinstance(rows[column].dtype, pd.CategoricalDtype):
            rows[column] = rows[column].astype(object)
    rows["items"] = rows["items"].map(list)
    again = score(to_spark(rows), bundle, kind="customers").toPandas()
    again = again.set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(
        _as_plain(again),
        expected.loc[again.index],
        check_exact=False,
        rtol=1e-9,
        check_index_type=False,
    )
    assert np.isfinite(again["expected_clv"]).all()


def test_early_life_value_of_new_customers_as_pandas_does(
    to_spark: Any, bundle: Path, simulate: Any
) -> None:
    # Scored in the middle of the acquisition period (January to June 2023), about a third
    # of the customers are at most 90 days past their first purchase: Spark builds their
    # early-life features (first day's order, items, quantity and attributes; later days)
    # and the bundle's early-life model scores them as pandas does; older customers get NaN.
    from custintel.pipeline import load_bundle
    from custintel.spark import score

    tx = simulate(3000, random_state=7)
    ci = load_bundle(bundle)
    assert ci.early_life_.active and ci.early_life_.max_age_days == 90
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _as_plain(ci.score(tx, as_of="2023-06-30"))
        got = score(to_spark(tx), bundle, as_of="2023-06-30").toPandas()
    got = _as_plain(got.set_index("customer_id").sort_index())
    new = expected["early_life_value"].notna()
    assert 500 < new.sum() < 0.6 * len(expected)
    assert got.index.tolist() == expected.index.tolist()
    assert got["early_life_value"].notna().tolist() == new.tolist()
    # The features are bit-identical (money summed exactly), so the trees take the same
    # branches and the values agree to rounding.
    np.testing.assert_allclose(
        got["early_life_value"], expected["early_life_value"], rtol=1e-12, equal_nan=True
    )
    assert expected.loc[new, "early_life_value"].std() > 0  # not one value for everyone


def test_customer_rows_without_the_early_life_features_are_refused_before_spark_runs(
    to_spark: Any, bundle: Path, sim_tx: pd.DataFrame
) -> None:
    from custintel.pipeline import load_bundle
    from custintel.spark import score

    ci = load_bundle(bundle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = ci.customer_features(sim_tx.loc[sim_tx["customer_id"] <= 50]).reset_index()
    rows = rows.drop(columns=[c for c in rows.columns if c.startswith("early_life_")])
    rows = rows.drop(columns=["items"])
    for column in rows.columns:
        if isinstance(rows[column].dtype, pd.CategoricalDtype):
            rows[column] = rows[column].astype(object)
    with pytest.raises(SchemaError, match="early_life_age_days") as err:
        score(to_spark(rows), bundle, kind="customers")
    assert err.value.reason == "missing_column"
    # Transactions without a column the models read (quantity feeds total_quantity and the
    # early-life first_quantity) are refused too, on the driver, as pandas scoring refuses them.
    lean = sim_tx.drop(columns=["quantity"])
    with pytest.raises(SchemaError, match="quantity") as err:
        score(to_spark(lean), bundle)
    assert err.value.reason == "missing_column"


def test_score_continuous_timestamps_as_pandas_does(to_spark: Any, tmp_path: Path) -> None:
    # The case: a bundle fitted on 600 simulated customers (sub-second, nanosecond
    # timestamps) scored by Spark from Parquet (microseconds) and by pandas, same rows.
    # Days, counts and gaps must be identical; money up to summation order (1e-12).
    from custintel.datasets import make_transactions
    from custintel.pipeline import CustomerIntelligence
    from custintel.spark import score

    tx = make_transactions(600, random_state=0).transactions
    assert (tx["timestamp"].dt.microsecond > 0).any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ci = CustomerIntelligence(duplicates="keep", refunds="net").fit(tx)
        expected = _as_plain(ci.score(tx))
    folder = ci.save(tmp_path / "models")
    got = score(to_spark(tx), folder).toPandas().set_index("customer_id").sort_index()
    got = _as_plain(got)
    assert got.index.tolist() == expected.index.tolist()
    for column in ("frequency", "recency", "T", "rfm_score", "rfm_segment"):
        assert got[column].tolist() == expected[column].tolist(), column
    for column in ("monetary_value", "total_amount"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-12, err_msg=column)
    # Every score column of one bundle agrees to 1e-9. (With model="hgb" two of these 600
    # customers could differ: a split can sit exactly on a training value, and a money sum
    # added in another order moves it by one bit. The default churn model is smooth.)
    for column in expected.columns:
        if pd.api.types.is_numeric_dtype(expected[column]):
            np.testing.assert_allclose(
                got[column].astype(float),
                expected[column].astype(float),
                rtol=1e-9,
                atol=1e-12,
                err_msg=column,
            )
        else:
            assert got[column].tolist() == expected[column].tolist(), column


@pytest.mark.parametrize("column", ["customer_type", "account_kind"])
def test_score_a_covariate_clv_model_as_pandas_does(
    to_spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str
) -> None:
    # A bundle whose CLV model reads an attribute as a covariate: the customer_type role,
    # or the same values in a column named in TransactionSchema(attributes=...). Spark
    # takes each customer's most frequent value in-engine and the 0/1 column in
    # score_customers, as pandas does.
    from custintel import TransactionSchema
    from custintel.datasets import make_transactions
    from custintel.pipeline import CustomerIntelligence, _steps
    from custintel.spark import score

    monkeypatch.setattr(_steps, "CANDIDATES", {})  # the covariate model alone in the choice
    tx = make_transactions(
        800, random_state=2, covariate_effects={"purchase": {"customer_type=B2B": 0.9}}
    ).transactions.rename(columns={"customer_type": column})
    tx[column] = tx[column].astype(str)
    named = [column] if column != "customer_type" else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ci = CustomerIntelligence(
            TransactionSchema(attributes=named),
            duplicates="keep",
            refunds="net",
            horizon=180,
            clv_covariates=[column],
        ).fit(tx)
        expected = _as_plain(ci.score(tx))
    assert ci.clv_covariates_ == {column: ["B2B"]}
    folder = ci.save(tmp_path / "models")
    got = _as_plain(score(to_spark(tx), folder).toPandas().set_index("customer_id").sort_index())
    assert got.index.tolist() == expected.index.tolist()
    for name in ("p_alive", "expected_purchases", "expected_clv"):
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-9, err_msg=name)
    with pytest.raises(SchemaError, match=column):
        score(to_spark(tx.drop(columns=column)), folder)
