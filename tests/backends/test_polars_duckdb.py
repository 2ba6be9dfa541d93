"""The feature layer on Polars (eager and lazy) and DuckDB equals the pandas path."""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from custintel import SchemaError, summarize_customers
from custintel._validation import CleaningPolicies
from custintel.backends import (
    CUSTOMER_AGGREGATES,
    LOW,
    aggregates_for,
    engine_of,
    from_fixed,
    money,
    to_fixed,
)
from custintel.features import calibration_holdout_split, early_life_features, make_churn_dataset


def _require(name: str) -> Any:
    """Import an optional engine; in CI (CI=true) a missing one is an error, not a skip."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name, reason=f"{name} is not installed (extras polars/duckdb/spark)")


pl = _require("polars")
duckdb = _require("duckdb")
nw = _require("narwhals.stable.v2")
pa = _require("pyarrow")

_CON = duckdb.connect()


def _duckdb(df: pd.DataFrame) -> Any:
    return _CON.from_arrow(pa.Table.from_pandas(df, preserve_index=False))


CONVERTERS: dict[str, Callable[[pd.DataFrame], Any]] = {
    "polars": pl.from_pandas,
    "polars_lazy": lambda df: pl.from_pandas(df).lazy(),
    "duckdb": _duckdb,
}


@pytest.fixture(params=list(CONVERTERS))
def convert(request: pytest.FixtureRequest) -> Callable[[pd.DataFrame], Any]:
    return CONVERTERS[request.param]


def test_engine_of() -> None:
    frame = pd.DataFrame({"a": [1]})
    assert engine_of(frame) is None
    assert engine_of(pl.from_pandas(frame)) == "polars"
    assert engine_of(pl.from_pandas(frame).lazy()) == "polars"
    assert engine_of(_duckdb(frame)) == "duckdb"


@pytest.mark.slow
def test_cdnow_equals_pandas(
    convert: Any, cdnow: pd.DataFrame, check: Any, cdnow_calls: Any
) -> None:
    check(convert, cdnow, cdnow_calls)


def test_simulated_log_equals_pandas(
    convert: Any, sim_tx: pd.DataFrame, check: Any, sim_calls: Any
) -> None:
    check(convert, sim_tx, sim_calls)


def test_hand_computed_string_ids(convert: Any) -> None:
    # Customer "a": occasions on Jan 1 (10 + 5, same day), Jan 11 (20) and Jan 31 (30), and a
    # refund on Feb 2 that is no occasion: frequency 2, recency 30 days, T = Feb 3 - Jan 1 = 33,
    # monetary (20 + 30) / 2 = 25, total 65 - 4 = 61, gaps 10 and 20: mean 15,
    # std sqrt((5^2 + 5^2) / 1) = 7.0711. Customer "b": one purchase on Feb 3.
    tx = pd.DataFrame(
        {
            "cust": ["a", "a", "a", "a", "a", "b"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:00",
                    "2024-01-11 12:00",
                    "2024-01-31 08:30",
                    "2024-02-02 10:00",
                    "2024-02-03 10:00",
                ]
            ).astype("datetime64[us]"),
            "amount": [10.0, 5.0, 20.0, 30.0, -4.0, 7.0],
        }
    )
    s = summarize_customers(convert(tx), {"customer_id": "cust"})
    assert s.index.tolist() == ["a", "b"]
    assert s["frequency"].tolist() == [2, 0]
    assert s["recency"].tolist() == [30.0, 0.0]
    assert s["T"].tolist() == [33.0, 0.0]
    assert s["monetary_value"].tolist() == [25.0, 0.0]
    assert s["total_amount"].tolist() == [61.0, 7.0]
    assert s["gap_mean_days"].iloc[0] == 15.0
    assert s["gap_std_days"].iloc[0] == pytest.approx(np.sqrt(50.0))
    pd.testing.assert_frame_equal(s, summarize_customers(tx, {"customer_id": "cust"}))


def test_string_and_zoned_timestamps(convert: Any) -> None:
    # Strings are parsed in-engine; zoned times count on their own zone's calendar: 23:30 in
    # New York on Jan 1 is Jan 2 in UTC but a Jan 1 purchase for the business.
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": ["2024-01-01 23:30", "2024-01-05 00:00", "2024-01-03 08:00"],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    expected = summarize_customers(tx)
    pd.testing.assert_frame_equal(summarize_customers(convert(tx)), expected)
    zoned = tx.assign(timestamp=pd.to_datetime(tx["timestamp"]).dt.tz_localize("America/New_York"))
    if convert is CONVERTERS["duckdb"]:
        _CON.execute("SET TimeZone = 'America/New_York'")  # DuckDB: the session's zone
    try:
        pd.testing.assert_frame_equal(summarize_customers(convert(zoned)), expected)
    finally:
        _CON.execute("SET TimeZone = 'UTC'")


def _tx(**columns: Any) -> pd.DataFrame:
    base: dict[str, Any] = {
        "customer_id": [1, 1, 2, 3],
        "order_id": [1, 2, 3, 4],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-03", "2024-01-04"]),
        "amount": [1.0, 2.0, 3.0, 4.0],
    }
    base.update(columns)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("frame", "kwargs", "reason", "text"),
    [
        (_tx().rename(columns={"amount": "revenue"}), {}, "missing_column", "amount='revenue'"),
        (_tx(customer_id=[1.0, None, 2.0, 3.0]), {}, "null_customer_id", "1 of 4 rows"),
        (_tx(customer_id=[1.5, 1.0, 2.0, 3.0]), {}, "bad_customer_id", "non-integer"),
        (_tx(customer_id=["a", " ", "b", "c"]), {}, "blank_customer_id", "blank"),
        (
            _tx(timestamp=pd.to_datetime(["2024-01-01", None, "2024-01-03", "2024-01-04"])),
            {},
            "null_timestamp",
            "have no timestamp",
        ),
        (
            _tx(timestamp=["2024-01-01", "soon", "2024-01-03", "2024-01-04"]),
            {},
            "unparseable_timestamp",
            "'soon'",
        ),
        (_tx(timestamp=[20240101, 20240105, 20240103, 20240104]), {}, "numeric_timestamp", ""),
        (_tx(amount=[1.0, np.nan, 3.0, np.inf]), {}, "non_finite_amount", "2 of 4 rows"),
        (_tx(amount=[1.0, -2.0, 3.0, 4.0]), {"refunds": "raise"}, "negative_amount", "[-2.0]"),
        (_tx(order_id=[1, 2, 3, 3]), {}, "order_with_several_customers", "e.g. 3"),
        (_tx(order_id=[1, None, 3, 4]), {}, "null_order_id", "have no order_id"),
        (
            pd.concat([_tx(), _tx().iloc[[0]]], ignore_index=True),
            {"duplicates": "raise"},
            "duplicate_rows",
            "1 rows are exact duplicates",
        ),
    ],
)
def test_schema_errors_match_pandas(
    convert: Any, frame: pd.DataFrame, kwargs: dict[str, Any], reason: str, text: str
) -> None:
    with pytest.raises(SchemaError) as expected:
        summarize_customers(frame, **kwargs)
    with pytest.raises(SchemaError, match=None) as got:
        summarize_customers(convert(frame), **kwargs)
    assert got.value.reason == expected.value.reason == reason
    assert text in str(got.value)


def test_argument_errors(convert: Any) -> None:
    native = convert(_tx())
    with pytest.raises(SchemaError) as err:
        calibration_holdout_split(native, calibration_end="2023-01-01")
    assert err.value.reason == "bad_calibration_end"
    with pytest.raises(ValueError, match="runs past the last transaction"):
        make_churn_dataset(native, cutoff="2024-01-02", horizon=30)
    with pytest.raises(ValueError, match="time_unit"):
        summarize_customers(native, time_unit="Q")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="refunds"):
        summarize_customers(native, refunds="keep")  # type: ignore[arg-type]


def test_policies_warn_like_pandas(convert: Any) -> None:
    tx = _tx(amount=[1.0, 2.0, 3.0, -4.0])  # customer 3 has only a refund
    with pytest.warns(UserWarning, match="only refund rows"):
        s = summarize_customers(convert(tx), observation_end="2024-01-04")
    assert s.index.tolist() == [1, 2]
    with pytest.warns(UserWarning, match="2 of 4 transactions fall after observation_end"):
        summarize_customers(convert(tx), observation_end="2024-01-03")


def test_numeric_strings_are_parsed_only_for_pandas(convert: Any) -> None:
    tx = _tx(amount=["1", "2", "3", "4"])
    assert summarize_customers(tx)["total_amount"].tolist() == [3.0, 3.0, 4.0]
    with pytest.raises(SchemaError, match="cast it to a number in the engine") as err:
        summarize_customers(convert(tx))
    assert err.value.reason == "non_numeric_amount"


def test_not_a_frame_is_still_a_schema_error() -> None:
    with pytest.raises(SchemaError) as err:
        summarize_customers({"customer_id": [1]})
    assert err.value.reason == "not_a_dataframe"


def test_lazy_frames_stay_lazy_until_the_customer_table() -> None:
    # A LazyFrame over a Parquet file is scanned by Polars itself; nothing collects it first.
    lazy = pl.from_pandas(_tx()).lazy().with_columns(pl.col("amount") * 2)
    s = summarize_customers(lazy)
    assert s["total_amount"].tolist() == [6.0, 6.0, 8.0]


def test_import_custintel_imports_no_engine() -> None:
    # scikit-learn >= 1.8 imports narwhals itself; custintel must add nothing to that.
    code = (
        "import sys, sklearn.base, sklearn.utils.validation\n"
        "before = {m for m in ('narwhals',) if m in sys.modules}\n"
        "import custintel, custintel.features, custintel.backends\n"
        "engines = ('polars', 'duckdb', 'pyspark', 'narwhals')\n"
        "bad = [m for m in engines if m in sys.modules and m not in before]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_duckdb_nanosecond_zoned_timestamps() -> None:
    # pandas 2 hands DuckDB datetime64[ns, tz] columns as TIMESTAMPTZ_NS, a type narwhals
    # cannot describe; they are cast in-engine and count on the session's calendar.
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": ["2024-01-01 23:30", "2024-01-05 00:00", "2024-01-03 08:00"],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    expected = summarize_customers(tx)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'")
    rel = con.from_arrow(pa.Table.from_pandas(tx, preserve_index=False)).project(
        'customer_id, CAST(CAST("timestamp" AS TIMESTAMP) AS TIMESTAMPTZ)::TIMESTAMPTZ_NS '
        'AS "timestamp", amount'
    )
    assert [str(t) for t in rel.types][1] == "TIMESTAMPTZ_NS"
    pd.testing.assert_frame_equal(summarize_customers(rel), expected)


def test_matching_refunds_is_pandas_only(convert: Callable[[pd.DataFrame], Any]) -> None:
    # A purchase and its cancellation, with item ids: pandas matches them; an engine refuses
    # with the fix, and "auto" (which would mean "match" here) is refused the same way.
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
            "amount": [10.0, -10.0, 5.0],
            "item_id": ["mug", "mug", "tea"],
        }
    )
    assert summarize_customers(tx, refunds="match")["total_amount"].tolist() == [5.0]
    for policy in ("match", "auto"):
        with pytest.raises(SchemaError, match="runs on pandas only") as err:
            summarize_customers(convert(tx), refunds=policy)
        assert err.value.reason == "unsupported_policy"
        assert "refunds='net'" in str(err.value)
    # without item or order ids, "auto" is "net" everywhere
    plain = tx.drop(columns="item_id")
    expected = summarize_customers(plain, refunds="net")
    got = summarize_customers(convert(plain), refunds="auto")
    assert got["total_amount"].tolist() == expected["total_amount"].tolist() == [5.0]


# Every plan an engine can pick, each checked on every column against the pandas path:
# Polars sorts once by a packed (customer, refund?, day) key when ids are integers and falls
# back to the group-by/window plan otherwise; DuckDB runs one window over the rows.


def test_string_ids_equal_pandas(
    convert: Any, sim_tx: pd.DataFrame, check: Any, sim_calls: Any
) -> None:
    # text ids: Polars' generic plan (no packed key); "007"-style labels sort as text
    tx = sim_tx.assign(customer_id="c" + sim_tx["customer_id"].astype(str).str.zfill(5))
    check(convert, tx, sim_calls)


def test_ids_too_far_apart_to_pack_equal_pandas(
    convert: Any, sim_tx: pd.DataFrame, check: Any, sim_calls: Any
) -> None:
    # a span of ids beyond the packed key's 2**40: Polars must fall back, with the same result
    tx = sim_tx.copy()
    tx.loc[tx["customer_id"] == tx["customer_id"].max(), "customer_id"] = 1 << 60
    check(convert, tx, sim_calls)


def test_polars_plans_agree_on_every_aggregate(sim_tx: pd.DataFrame) -> None:
    # The packed-key plan and the generic plan on the same Polars rows, column by column,
    # before any pandas arithmetic (last_gap_days, trends and attributes included).
    from custintel._validation import CleaningPolicies
    from custintel.backends import churn_table, prepare

    native = pl.from_pandas(sim_tx).lazy()
    prepared = prepare(native, None, CleaningPolicies(refunds="net", duplicates="keep"))
    assert prepared.id_range == (int(sim_tx["customer_id"].min()), int(sim_tx["customer_id"].max()))
    cut = prepared.last_day - 150
    rows = prepared.rows.filter(nw.col("day") <= cut)
    tables = []
    for plan in (prepared, None):
        lazy = churn_table(rows, prepared.roles, cut_day=cut, window=30, prepared=plan)
        frame = lazy.to_native().collect().to_pandas()
        tables.append(frame.sort_values("customer_id", ignore_index=True))
    sorted_plan, generic = tables
    assert set(sorted_plan.columns) == set(generic.columns)
    for column in generic.columns:
        if column.startswith("attr_"):
            assert sorted_plan[column].tolist() == generic[column].tolist(), column
            continue
        left = sorted_plan[column].to_numpy(dtype=float, na_value=np.nan)
        right = generic[column].to_numpy(dtype=float, na_value=np.nan)
        # counts, days, gaps and money limbs (integers): exactly; quantity sums floats
        np.testing.assert_array_equal(left, right, err_msg=column)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_zoned_continuous_timestamps_equal_pandas(
    convert: Any, sim_tx: pd.DataFrame, check: Any, sim_calls: Any, zone: str
) -> None:
    # Sub-second instants in a zone with daylight saving (New York) and one with a half-hour
    # offset (Kolkata): every engine counts days on the zone's wall clock, as pandas does.
    stamps = sim_tx["timestamp"] + pd.to_timedelta(
        np.random.default_rng(0).integers(0, 10**6, len(sim_tx)), unit="us"
    )
    zoned = sim_tx.assign(timestamp=stamps.dt.tz_localize("UTC").dt.tz_convert(zone))
    assert (zoned["timestamp"].dt.microsecond > 0).any()
    if convert is CONVERTERS["duckdb"]:
        _CON.execute(f"SET TimeZone = '{zone}'")  # DuckDB: zoned times read in the session zone
    try:
        check(convert, zoned, sim_calls)
    finally:
        _CON.execute("SET TimeZone = 'UTC'")


# --- one table of per-customer aggregates, two evaluators, exact money sums ------------
# Every aggregate of CUSTOMER_AGGREGATES is evaluated by the numpy kernels (pandas) and by
# the generated engine expressions (Polars' sorted plan, DuckDB's row window, the
# (customer, day) plan Spark runs): both produce exactly the table's names and agree value
# for value, and every feature column of every builder is the same to the last bit in
# every engine, whatever the row order.


def _output_names(roles: tuple[str, ...], churn: bool) -> set[str]:
    names = set()
    for agg in aggregates_for(roles, churn=churn):
        names.add(agg.name)
        if agg.money:
            names.add(agg.name + LOW)
    return names


def test_the_table_names_each_aggregate_once_and_filters_roles() -> None:
    names = [a.name for a in CUSTOMER_AGGREGATES]
    assert len(names) == len(set(names))
    plain = {a.name for a in aggregates_for(("customer_id", "timestamp", "amount"))}
    assert plain == {"n_occ", "first_day", "last_day", "total_spend", "first_spend"} | {
        "gap_sum_sq",
        "net_amount",
        "n_rows",
    }
    churn = {a.name for a in aggregates_for(("amount", "cost"), churn=True)}
    assert {"net_margin", "last_gap_days", "spend_earlier"} <= churn
    assert "n_distinct_orders" not in churn


def _engine_tables(tx: pd.DataFrame, cut: int) -> dict[str, pd.DataFrame]:
    """The collected aggregate table of every engine plan, before any pandas arithmetic."""
    from custintel.backends import churn_table, prepare

    tables = {}
    for plan, native in (
        ("polars-sorted", pl.from_pandas(tx).lazy()),
        ("polars-daily", pl.from_pandas(tx).lazy()),
        ("duckdb-rows", _duckdb(tx)),
    ):
        prepared = prepare(native, None, CleaningPolicies(refunds="net", duplicates="keep"))
        rows = prepared.rows.filter(nw.col("day") <= cut)
        lazy = churn_table(
            rows,
            prepared.roles,
            cut_day=cut,
            window=30,
            prepared=prepared if plan == "polars-sorted" else None,
        )
        frame = nw.to_native(lazy)
        frame = frame.collect().to_pandas() if plan.startswith("polars") else frame.df()
        tables[plan] = frame.sort_values("customer_id", ignore_index=True)
    return tables


def test_numpy_kernels_and_engine_plans_evaluate_the_same_table(sim_tx: pd.DataFrame) -> None:
    from custintel.features._occasions import customer_totals
    from custintel.schema import validated_transactions

    validated = validated_transactions(sim_tx, refunds="net", duplicates="keep")
    cut = int(validated.days.max()) - 150
    roles = tuple(validated.columns)
    before = validated.days <= cut
    totals = customer_totals(
        validated, before, aggregates=aggregates_for(roles, churn=True), cut_day=cut, window=30
    )
    expected_names = _output_names(roles, churn=True)
    assert set(totals.values) == expected_names
    buyers = totals["n_occ"] > 0  # refund-only customers: null days in engines, 0 in numpy
    present = validated.customers[buyers]
    for plan, table in _engine_tables(sim_tx, cut).items():
        attributes = {c for c in table.columns if c.startswith("attr_")}
        assert set(table.columns) - attributes == expected_names | {"customer_id"}, plan
        table = table.set_index("customer_id").loc[present]
        for name in sorted(expected_names):
            got = table[name].to_numpy(dtype=float, na_value=np.nan)
            want = totals[name][buyers].astype(float)
            np.testing.assert_array_equal(got, want, err_msg=f"{plan}: {name}")


def test_money_limbs_sum_exactly_in_any_order() -> None:
    rng = np.random.default_rng(5)
    amounts = np.concatenate(
        [rng.gamma(2.0, 30.0, 5000), rng.uniform(0, 1e-3, 200), -rng.gamma(1.0, 5.0, 300)]
    )
    high, low = to_fixed(amounts)
    total = from_fixed(high.sum(keepdims=True), low.sum(keepdims=True))[0]
    assert math.isclose(total, math.fsum(amounts), rel_tol=1e-15)
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(len(amounts))
        h, lo = to_fixed(amounts[order])
        assert from_fixed(h.sum(keepdims=True), lo.sum(keepdims=True))[0] == total
    # every bit of an amount of 1 or more survives the split
    big = amounts[np.abs(amounts) >= 1]
    h, lo = to_fixed(big)
    np.testing.assert_array_equal(from_fixed(h, lo), big)
    # differences of two sums are taken on the limbs, before the one rounding
    limbs = {"a": high.sum(keepdims=True), "a_lo": low.sum(keepdims=True)}
    limbs |= {"b": high[:10].sum(keepdims=True), "b_lo": low[:10].sum(keepdims=True)}
    assert money(limbs, "a", minus="b")[0] == pytest.approx(math.fsum(amounts[10:]), rel=1e-15)


def test_money_sums_are_as_close_as_an_exact_sum_rounded_once() -> None:
    # 0.1 + 0.2 + 0.1 in float arithmetic depends on the order; the limbs do not
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02"] * 2),
            "amount": [0.1, 0.2, 0.1, 0.1, 0.1, 0.2],
        }
    )
    s = summarize_customers(tx)
    assert s.loc[1, "total_amount"] == s.loc[2, "total_amount"]
    assert abs(s.loc[1, "total_amount"] - math.fsum([0.1, 0.2, 0.1])) <= 4e-16
    assert abs(s.loc[1, "monetary_value"] - math.fsum([0.2, 0.1])) <= 4e-16


def _continuous(sim_tx: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Sub-second timestamps and shuffled rows: no two engines add in the same order."""
    rng = np.random.default_rng(seed)
    stamps = sim_tx["timestamp"] + pd.to_timedelta(
        rng.integers(0, 86_399_999_999, len(sim_tx)), "us"
    )
    tx = sim_tx.assign(timestamp=stamps.dt.floor("us"), amount=sim_tx["amount"] * 1.0000001)
    return tx.iloc[rng.permutation(len(tx))].reset_index(drop=True)


SHUFFLED_CALLS = [
    (summarize_customers, {"duplicates": "keep"}),
    (
        summarize_customers,
        {"duplicates": "keep", "time_unit": "W", "observation_end": "2024-12-31"},
    ),
    (
        calibration_holdout_split,
        {"calibration_end": "2024-05-31", "observation_end": "2024-12-31", "duplicates": "keep"},
    ),
    (make_churn_dataset, {"cutoff": "2024-07-31", "horizon": 90, "duplicates": "keep"}),
]


def test_every_feature_column_is_bit_identical_on_shuffled_continuous_logs(
    sim_tx: pd.DataFrame, convert: Any, check: Any
) -> None:
    tx = _continuous(sim_tx, seed=11)
    assert (tx["timestamp"].dt.microsecond > 0).mean() > 0.9
    check(convert, tx, SHUFFLED_CALLS)
    # the pandas result does not depend on the row order either
    again = tx.iloc[::-1].reset_index(drop=True)
    for function, kwargs in SHUFFLED_CALLS:
        left, right = function(tx, **kwargs), function(again, **kwargs)
        if isinstance(left, tuple):
            left, right = left[0], right[0]
        pd.testing.assert_frame_equal(left, right, check_exact=True)


@pytest.mark.slow
def test_one_bundle_scores_alike_from_every_engine(tmp_path: Any) -> None:
    # Issue 19: pandas, Polars (eager, lazy) and DuckDB scoring of one bundle agree (Spark:
    # tests/backends/test_spark.py), on simulated lines with continuous timestamps.
    import warnings

    from custintel.datasets import make_transactions
    from custintel.pipeline import CustomerIntelligence, load_bundle

    tx = make_transactions(600, random_state=0).transactions
    assert (tx["timestamp"].dt.microsecond > 0).any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = CustomerIntelligence(duplicates="keep", refunds="net").fit(tx)
    bundle = load_bundle(fitted.save(tmp_path / "models"))
    expected = bundle.score(tx)
    pd.testing.assert_frame_equal(expected, fitted.customers_)
    for name, convert in CONVERTERS.items():
        got = bundle.score(convert(tx))
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, obj=name)
    # fitting from DuckDB is fitting the same rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = CustomerIntelligence(duplicates="keep", refunds="net").fit(_duckdb(tx))
    pd.testing.assert_frame_equal(again.customers_, fitted.customers_)


def _early_life_in_engine(native: Any, end: str, max_age_days: int) -> pd.DataFrame:
    from custintel.backends import early_life_rows, early_life_table, prepare

    policies = CleaningPolicies(refunds="net", observation_end=end, duplicates="keep")
    prepared = prepare(native, None, policies)
    table = early_life_table(
        prepared.rows, prepared.roles, end_day=prepared.end_day, max_age_days=max_age_days
    )
    collected = nw.from_native(table).collect().to_pandas()
    collected = collected.sort_values("customer_id", ignore_index=True)
    rows = early_life_rows(collected, prepared.end_day)
    rows.index = pd.Index(collected["customer_id"].tolist(), name="customer_id")
    return rows


def test_early_life_features_equal_pandas_to_the_last_bit(
    convert: Any, sim_tx: pd.DataFrame
) -> None:
    # The early-life features Spark scoring builds (issue 19's one definition per feature):
    # the same aggregates in the engine, money in exact limbs, finished by the same code.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = early_life_features(
            sim_tx, max_age_days=90, observation_end="2023-06-30", duplicates="keep"
        )
        got = _early_life_in_engine(convert(sim_tx), "2023-06-30", 90)
    assert len(expected) > 300
    got.index = got.index.astype(expected.index.dtype)
    for role in ("customer_type", "region", "channel"):  # engines know no category order
        got[role] = got[role].cat.set_categories(expected[role].cat.categories)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_early_life_attributes_are_the_first_days_most_frequent_value(convert: Any) -> None:
    # Customer 1's first day has regions b, a, a: "a". Customer 2's has b and a once each:
    # the tie goes to the value that sorts first, whatever the file order. Customer 3's first
    # day has no region at all: missing, though a later day has one. Customer 4 is too old.
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 3, 3, 4],
            "timestamp": pd.to_datetime(
                [
                    "2024-03-01 09:00",
                    "2024-03-01 10:00",
                    "2024-03-01 11:00",
                    "2024-03-04 00:00",
                    "2024-03-02 09:00",
                    "2024-03-02 10:00",
                    "2024-03-03 00:00",
                    "2024-03-05 00:00",
                    "2023-01-01 00:00",
                ]
            ),
            "amount": [10.0, 5.0, -2.0, 7.0, 3.0, 4.0, 1.0, 2.0, 9.0],
            "region": ["b", "a", "a", "c", "b", "a", None, "c", "d"],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = early_life_features(tx, max_age_days=30, observation_end="2024-03-10")
        got = _early_life_in_engine(convert(tx), "2024-03-10", 30)
    assert expected["region"].astype(object).tolist()[:2] == ["a", "a"]
    assert pd.isna(expected.loc[3, "region"])
    assert expected.index.tolist() == [1, 2, 3]
    # Refund lines count on their day: customer 1's first day is 10 + 5 - 2 over 3 lines.
    assert expected.loc[
        1, ["first_amount", "first_lines", "early_orders", "early_amount"]
    ].tolist() == [
        13.0,
        3.0,
        1.0,
        7.0,
    ]
    assert expected["days_since_last"].tolist() == [6.0, 8.0, 5.0]
    got.index = got.index.astype(expected.index.dtype)
    got["region"] = got["region"].cat.set_categories(expected["region"].cat.categories)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
