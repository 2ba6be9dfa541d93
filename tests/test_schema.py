"""The bad-input table of the foundation issue, one test (or more) per case."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custintel import DataQualityWarning, SchemaError, TransactionSchema, validate_transactions


def frame(**overrides: object) -> pd.DataFrame:
    data: dict[str, object] = {
        "customer_id": [1, 2, 1, 3],
        "timestamp": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-01", "2024-01-02"]),
        "amount": [5.0, 7.0, 3.0, 1.0],
    }
    data.update(overrides)
    return pd.DataFrame(data)


# --- the schema itself -------------------------------------------------------------


def test_schema_is_frozen_and_defaults_to_role_names() -> None:
    schema = TransactionSchema(amount="revenue")
    assert (schema.customer_id, schema.timestamp, schema.amount) == (
        "customer_id",
        "timestamp",
        "revenue",
    )
    with pytest.raises(AttributeError):
        schema.amount = "x"  # type: ignore[misc]


def test_schema_rejects_non_string_column() -> None:
    with pytest.raises(TypeError, match=r"TransactionSchema\.amount"):
        TransactionSchema(amount=3)  # type: ignore[arg-type]


def test_schema_from_dict_and_unknown_role() -> None:
    df = frame().rename(columns={"amount": "revenue"})
    out = validate_transactions(df, {"amount": "revenue"})
    assert list(out.columns) == ["customer_id", "timestamp", "amount"]
    with pytest.raises(TypeError, match="unknown schema roles"):
        validate_transactions(df, {"revenu": "revenue"})


def test_optional_roles_are_picked_up_by_name_and_extra_columns_dropped() -> None:
    df = frame(item_id=["x", "y", "z", "x"], note=["", "", "", ""])
    out = validate_transactions(df)
    assert list(out.columns) == ["customer_id", "timestamp", "amount", "item_id"]


def test_other_attribute_columns_are_kept_under_their_own_names() -> None:
    df = frame(tier=["gold", None, "gold", "silver"], note=["", "", "", ""])
    schema = TransactionSchema(attributes=["tier"])
    assert schema.attributes == ("tier",)  # a list is kept as a tuple: the schema is hashable
    assert hash(schema) == hash(TransactionSchema(attributes=("tier",)))
    out = validate_transactions(df, schema)
    assert list(out.columns) == ["customer_id", "timestamp", "amount", "tier"]
    assert sorted(out["tier"].dropna()) == ["gold", "gold", "silver"]  # missing values kept
    assert TransactionSchema.coerce({"attributes": ["tier"]}) == schema
    with pytest.raises(SchemaError, match=r"attribute column\(s\) \['tier'\].*are missing") as err:
        validate_transactions(frame(), schema)
    assert err.value.reason == "missing_column"


@pytest.mark.parametrize(
    ("attributes", "error", "match"),
    [
        ("tier", TypeError, "must be a list of column names"),
        ([""], TypeError, "non-empty column names"),
        (["tier", "tier"], ValueError, "names a column twice"),
        (["region"], ValueError, r"named like roles; map a role with its own field"),
        (["day"], ValueError, "named like roles"),
    ],
)
def test_bad_attributes_are_refused(attributes: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        TransactionSchema(attributes=attributes)  # type: ignore[arg-type]


# --- normalised copy ------------------------------------------------------------------


def test_returns_sorted_canonical_copy_and_never_mutates_input() -> None:
    df = frame().rename(columns={"customer_id": "cust"})
    before = df.copy(deep=True)
    out = validate_transactions(df, TransactionSchema(customer_id="cust"))
    pd.testing.assert_frame_equal(df, before)
    assert out["customer_id"].tolist() == [1, 1, 2, 3]
    assert out["timestamp"].is_monotonic_increasing is False  # sorted by customer first
    assert out["amount"].tolist() == [3.0, 5.0, 7.0, 1.0]
    assert isinstance(out.index, pd.RangeIndex)
    out.loc[0, "amount"] = 99.0
    assert df["amount"].tolist() == before["amount"].tolist()


def test_sort_is_stable_for_ties() -> None:
    df = frame(
        customer_id=[1, 1, 1, 1],
        timestamp=pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-02", "2024-01-01"]),
        amount=[1.0, 2.0, 3.0, 4.0],
    )
    out = validate_transactions(df)
    assert out["amount"].tolist() == [2.0, 4.0, 1.0, 3.0]


# --- the bad-input table ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, [1, 2], {"customer_id": [1]}, np.zeros((2, 3))])
def test_not_a_dataframe(bad: object) -> None:
    with pytest.raises(SchemaError, match="must be a pandas DataFrame") as err:
        validate_transactions(bad)
    assert err.value.reason == "not_a_dataframe"


@pytest.mark.parametrize("empty", [pd.DataFrame(), frame().iloc[:0], pd.DataFrame(index=[0, 1])])
def test_empty_frame(empty: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="empty") as err:
        validate_transactions(empty)
    assert err.value.reason == "empty"


def test_missing_column_suggests_the_mapping() -> None:
    df = pd.DataFrame({"cust": [1], "date": ["2024-01-01"], "revenue": [1.0]})
    with pytest.raises(SchemaError) as err:
        validate_transactions(df)
    message = str(err.value)
    assert "column 'customer_id' is missing" in message
    assert "columns present: ['cust', 'date', 'revenue']" in message
    assert "TransactionSchema(customer_id='cust', timestamp='date', amount='revenue')" in message
    assert err.value.reason == "missing_column"
    assert err.value.failure_cases["suggestion"].tolist() == ["cust", "date", "revenue"]


def test_missing_column_message_from_the_design_note() -> None:
    df = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"], "revenue": [1.0]})
    with pytest.raises(SchemaError) as err:
        validate_transactions(df)
    assert str(err.value) == (
        "column 'amount' is missing; columns present: ['customer_id', 'timestamp', 'revenue']; "
        "map it with TransactionSchema(amount='revenue')"
    )


def test_misnamed_column_with_no_plausible_candidate() -> None:
    df = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"], "zzz": [1.0]})
    with pytest.raises(SchemaError, match=r"TransactionSchema\(amount='<your column>'\)"):
        validate_transactions(df)


def test_explicitly_mapped_optional_column_must_exist() -> None:
    with pytest.raises(SchemaError, match="column 'sku' is missing \\(role 'item_id'\\)"):
        validate_transactions(frame(), TransactionSchema(item_id="sku"))


def test_typo_is_suggested() -> None:
    df = frame().rename(columns={"amount": "ammount"})
    with pytest.raises(SchemaError, match="TransactionSchema\\(amount='ammount'\\)"):
        validate_transactions(df)


def test_duplicate_column_names() -> None:
    df = pd.concat([frame(), frame()[["amount"]]], axis=1)
    with pytest.raises(SchemaError, match="appear more than once"):
        validate_transactions(df)


@pytest.mark.parametrize("null", [None, np.nan, pd.NA])
def test_null_customer_ids(null: object) -> None:
    df = frame(customer_id=pd.Series(["a", null, "b", null], dtype=object))
    with pytest.raises(SchemaError) as err:
        validate_transactions(df)
    assert err.value.reason == "null_customer_id"
    assert "2 of 4 rows have no customer id" in str(err.value)
    assert err.value.failure_cases["row"].tolist() == [1, 3]


def test_blank_customer_ids() -> None:
    df = frame(customer_id=["a", " ", "b", ""])
    with pytest.raises(SchemaError, match="2 of 4 rows have a blank customer id") as err:
        validate_transactions(df)
    assert err.value.reason == "blank_customer_id"


def test_mixed_type_customer_ids() -> None:
    df = frame(customer_id=pd.Series([1, "1", 2, 3], dtype=object))
    with pytest.raises(SchemaError, match="astype\\(str\\)") as err:
        validate_transactions(df)
    assert err.value.reason == "mixed_customer_id"


@pytest.mark.parametrize(
    "ids",
    [
        pd.Series([10, 20, 10, 30], dtype="int64"),
        pd.Series([10, 20, 10, 30], dtype="Int64"),
        pd.Series(["x", "y", "x", "z"], dtype=object),
        pd.Series(["x", "y", "x", "z"], dtype="string"),
        pd.Series(["x", "y", "x", "z"], dtype="category"),
        pd.Series([10.0, 20.0, 10.0, 30.0]),
    ],
    ids=["int64", "Int64", "object", "string", "category", "whole floats"],
)
def test_customer_id_dtypes_accepted(ids: pd.Series) -> None:
    out = validate_transactions(frame(customer_id=ids))
    assert out["customer_id"].nunique() == 3
    assert out["amount"].tolist() == [3.0, 5.0, 7.0, 1.0]
    assert not isinstance(out["customer_id"].dtype, pd.CategoricalDtype)


def test_pandas3_str_dtype_customer_ids() -> None:
    ids = pd.Series(["x", "y", "x", "z"], dtype=pd.StringDtype(na_value=np.nan))
    out = validate_transactions(frame(customer_id=ids))
    assert out["customer_id"].tolist() == ["x", "x", "y", "z"]


def test_unparseable_timestamps() -> None:
    df = frame(timestamp=["2024-01-03", "not a date", "2024-01-01", "2024-13-45"])
    with pytest.raises(SchemaError, match="2 of 4 rows could not be parsed") as err:
        validate_transactions(df)
    assert err.value.reason == "unparseable_timestamp"
    assert "'not a date'" in str(err.value)


def test_mixed_timestamp_formats_are_an_error_not_a_guess() -> None:
    df = frame(timestamp=["2024-01-03", "02/01/2024", "2024-01-01", "2024-01-02"])
    with pytest.raises(SchemaError, match="format='mixed'"):
        validate_transactions(df)


def test_null_timestamps() -> None:
    df = frame(timestamp=pd.to_datetime(["2024-01-03", None, "2024-01-01", "2024-01-02"]))
    with pytest.raises(SchemaError, match="1 of 4 rows have no timestamp"):
        validate_transactions(df)


def test_string_timestamps_are_parsed() -> None:
    out = validate_transactions(
        frame(timestamp=["2024-01-03", "2024-01-01", "2024-01-01", "2024-01-02"])
    )
    assert pd.api.types.is_datetime64_dtype(out["timestamp"])


def test_numeric_timestamps_are_refused_with_a_recipe() -> None:
    df = frame(timestamp=[19970101, 19970102, 19970103, 19970104])
    with pytest.raises(SchemaError, match="format='%Y%m%d'") as err:
        validate_transactions(df)
    assert err.value.reason == "numeric_timestamp"


def test_timezone_aware_timestamps_become_local_wall_time() -> None:
    stamps = pd.to_datetime(
        ["2024-01-03 23:30", "2024-01-01 00:30", "2024-01-01 12:00", "2024-01-02 08:00"]
    ).tz_localize("America/New_York")
    out = validate_transactions(frame(timestamp=stamps))
    assert out["timestamp"].dt.tz is None
    # 23:30 in New York stays on the 3rd (in UTC it would be the 4th)
    assert out["timestamp"].iloc[1] == pd.Timestamp("2024-01-03 23:30")


def test_mixed_utc_offsets_are_an_error() -> None:
    df = frame(
        timestamp=[
            "2024-01-03T10:00:00+01:00",
            "2024-01-01T10:00:00-05:00",
            "2024-01-01T10:00:00+01:00",
            "2024-01-02T10:00:00+01:00",
        ]
    )
    with pytest.raises(SchemaError, match="utc=True") as err:
        validate_transactions(df)
    assert err.value.reason == "mixed_timezones"


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_amounts(bad: float) -> None:
    with pytest.raises(SchemaError, match="1 of 4 rows are missing \\(NaN\\) or infinite") as err:
        validate_transactions(frame(amount=[5.0, bad, 3.0, 1.0]))
    assert err.value.reason == "non_finite_amount"


def test_non_numeric_amounts() -> None:
    with pytest.raises(SchemaError, match="are not numbers") as err:
        validate_transactions(frame(amount=["5.0", "$7", "3", "1,000"]))
    assert err.value.reason == "non_numeric_amount"
    assert "'$7'" in str(err.value)


def test_numeric_strings_are_parsed() -> None:
    out = validate_transactions(frame(amount=["5.0", "7", "3", "1"]))
    assert out["amount"].dtype == np.float64


def test_all_problems_are_reported_together() -> None:
    df = frame(customer_id=[1, None, 1, 3], amount=[5.0, np.nan, 3.0, 1.0])
    with pytest.raises(SchemaError) as err:
        validate_transactions(df)
    assert err.value.reasons == ("null_customer_id", "non_finite_amount")
    assert str(err.value).startswith("2 problems found in the transactions:")
    assert set(err.value.failure_cases["reason"]) == {"null_customer_id", "non_finite_amount"}


def test_examples_are_capped_at_five() -> None:
    df = pd.DataFrame(
        {"customer_id": range(20), "timestamp": ["2024-01-01"] * 20, "amount": [np.nan] * 20}
    )
    with pytest.raises(SchemaError) as err:
        validate_transactions(df)
    assert "20 of 20 rows" in str(err.value)
    assert str(err.value).count("row ") == 5
    assert len(err.value.failure_cases) == 5


class TestRefunds:
    df = frame(amount=[5.0, -7.0, 3.0, 1.0])

    def test_net_keeps_them(self) -> None:
        assert len(validate_transactions(self.df, refunds="net")) == 4

    def test_drop_removes_them(self) -> None:
        out = validate_transactions(self.df, refunds="drop")
        assert (out["amount"] >= 0).all()
        assert len(out) == 3

    def test_raise(self) -> None:
        with pytest.raises(SchemaError, match="1 of 4 rows have a negative amount") as err:
            validate_transactions(self.df, refunds="raise")
        assert err.value.reason == "negative_amount"

    def test_bad_policy(self) -> None:
        with pytest.raises(ValueError, match="refunds must be"):
            validate_transactions(self.df, refunds="ignore")  # type: ignore[arg-type]

    def test_only_refunds_dropped_leaves_nothing(self) -> None:
        with pytest.raises(SchemaError, match="no transactions are left"):
            validate_transactions(frame(amount=[-1.0] * 4), refunds="drop")


class TestDuplicates:
    df = frame(
        customer_id=[1, 1, 2, 1],
        timestamp=pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01"]),
        amount=[5.0, 6.0, 5.0, 5.0],
    )

    def test_warn_keeps_and_warns(self) -> None:
        with pytest.warns(DataQualityWarning, match="1 of 4 rows are exact duplicates"):
            out = validate_transactions(self.df)
        assert len(out) == 4

    def test_keep_is_silent(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(validate_transactions(self.df, duplicates="keep")) == 4

    def test_drop(self) -> None:
        out = validate_transactions(self.df, duplicates="drop")
        assert out["amount"].tolist() == [5.0, 6.0, 5.0]

    def test_raise_names_the_input_row(self) -> None:
        with pytest.raises(SchemaError, match="input rows 3") as err:
            validate_transactions(self.df, duplicates="raise")
        assert err.value.reason == "duplicate_rows"

    def test_same_time_different_amount_is_not_a_duplicate(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            validate_transactions(self.df.iloc[:3])


def test_iso_strings_with_and_without_time_are_parsed() -> None:
    out = validate_transactions(
        frame(timestamp=["2024-01-03 18:00", "2024-01-01", "2024-01-05", "2024-01-02T10:00"])
    )
    assert out["timestamp"].min() == pd.Timestamp("2024-01-01")
    assert out["timestamp"].iloc[0] == pd.Timestamp("2024-01-03 18:00")


def test_transactions_after_observation_end_are_dropped_with_a_warning() -> None:
    df = frame(timestamp=["2024-01-03 18:00", "2024-01-01", "2024-01-05", "2024-01-02"])
    with pytest.warns(DataQualityWarning, match="1 of 4 transactions fall after observation_end"):
        out = validate_transactions(df, observation_end="2024-01-03")
    assert len(out) == 3  # the whole of the 3rd is kept, the 5th is dropped


def test_observation_end_before_all_data() -> None:
    with pytest.warns(DataQualityWarning), pytest.raises(SchemaError, match="no transactions"):
        validate_transactions(frame(), observation_end="2023-01-01")


def test_bad_observation_end() -> None:
    with pytest.raises(SchemaError, match="observation_end='soon' is not a date"):
        validate_transactions(frame(), observation_end="soon")


def test_future_dates_warn() -> None:
    future = pd.Timestamp.now().normalize() + pd.Timedelta(days=30)
    df = frame(timestamp=[future, pd.Timestamp("2024-01-01"), future, future])
    with pytest.warns(DataQualityWarning, match="3 transactions are dated after today"):
        out = validate_transactions(df)
    assert len(out) == 4


def test_orders_must_belong_to_one_customer() -> None:
    df = frame(order_id=[100, 100, 101, 102])
    with pytest.raises(SchemaError, match="1 orders belong to more than one customer") as err:
        validate_transactions(df)
    assert err.value.reason == "order_with_several_customers"


def test_margin_becomes_cost_and_both_is_an_error() -> None:
    out = validate_transactions(frame(margin=[1.0, 2.0, 1.0, 0.5]))
    assert out["cost"].tolist() == [2.0, 4.0, 5.0, 0.5]
    with pytest.raises(SchemaError, match="map only one"):
        validate_transactions(frame(margin=[1.0] * 4, cost=[1.0] * 4))


def test_nan_quantity_and_cost() -> None:
    with pytest.raises(SchemaError) as err:
        validate_transactions(frame(quantity=[1, np.nan, 2, 1], cost=[1.0, 1.0, np.inf, 1.0]))
    assert err.value.reasons == ("non_finite_quantity", "non_finite_cost")


def test_null_item_ids() -> None:
    with pytest.raises(SchemaError, match="have no item_id"):
        validate_transactions(frame(item_id=["a", None, "b", "c"]))


def test_polars_frame_is_converted() -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame(
        {"customer_id": [2, 1], "timestamp": ["2024-01-02", "2024-01-01"], "amount": [1.0, 2.0]}
    )
    out = validate_transactions(df)
    assert out["customer_id"].tolist() == [1, 2]
    lazy = validate_transactions(df.lazy())
    pd.testing.assert_frame_equal(out, lazy)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 4), st.sampled_from([0, 0, 6, 12, 23])),
        min_size=1,
        max_size=40,
    ),
    day_zero=st.sampled_from(["1969-12-30", "2024-02-27"]),
)
def test_sort_equals_a_stable_pandas_sort(rows: list[tuple[int, int, int]], day_zero: str) -> None:
    # customers, days and hours with many ties, in any input order (crossing 1970 too)
    customer, day, hour = zip(*rows, strict=True)
    stamps = pd.Timestamp(day_zero) + pd.to_timedelta(np.array(day) * 24 + np.array(hour), "h")
    df = pd.DataFrame(
        {"customer_id": customer, "timestamp": stamps, "amount": np.arange(len(rows), dtype=float)}
    )
    expected = df.sort_values(["customer_id", "timestamp"], kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(validate_transactions(df, duplicates="keep"), expected)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 1), st.sampled_from([1.0, 2.0, 2.5])),
        min_size=1,
        max_size=60,
    )
)
def test_duplicate_drop_equals_pandas_drop_duplicates(rows: list[tuple[int, int, float]]) -> None:
    # few distinct values, so runs of one customer and time are often longer than the
    # 8-row window of the fast path and the hash-table path is exercised too
    customer, hour, amount = zip(*rows, strict=True)
    df = pd.DataFrame(
        {
            "customer_id": customer,
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(hour, "h"),
            "amount": amount,
        }
    )
    expected = df.drop_duplicates().sort_values(
        ["customer_id", "timestamp"], kind="stable", ignore_index=True
    )
    pd.testing.assert_frame_equal(validate_transactions(df, duplicates="drop"), expected)


def test_duplicates_in_a_long_run_are_found() -> None:
    # 12 lines of one order at one moment; lines 3 and 11 are identical
    amounts = [float(i) for i in range(12)]
    amounts[11] = 3.0
    df = pd.DataFrame(
        {"customer_id": 1, "timestamp": pd.Timestamp("2024-01-01 10:00"), "amount": amounts}
    )
    with pytest.raises(SchemaError, match=r"1 rows are exact duplicates.*input rows 11"):
        validate_transactions(df, duplicates="raise")


def test_day_month_ambiguous_text_dates_warn() -> None:
    # 03/04/2024 is 4 March (month-first, pandas' reading) or 3 April; no part above 12
    # anywhere, so the data cannot tell: the reading must not be silent.
    df = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": ["03/04/2024", "05/06/2024", "01/02/2024"],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    with pytest.warns(DataQualityWarning, match=r"day and month cannot be told apart.*dayfirst"):
        out = validate_transactions(df)
    assert out["timestamp"].iloc[0] == pd.Timestamp("2024-03-04")


@pytest.mark.parametrize(
    "dates",
    [
        ["13/04/2024", "05/06/2024", "01/02/2024"],  # 13 fixes day-first for the column
        ["2024-03-04", "2024-05-06", "2024-01-02"],  # ISO is unambiguous
        ["01/01/2024", "02/02/2024", "03/03/2024"],  # day == month: both readings agree
    ],
)
def test_unambiguous_text_dates_do_not_warn(dates: list[str]) -> None:
    df = pd.DataFrame({"customer_id": [1, 1, 2], "timestamp": dates, "amount": [1.0, 2.0, 3.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        validate_transactions(df)


def test_line_level_roles_in_their_documented_order() -> None:
    from custintel.schema import OPTIONAL_ROLES

    assert OPTIONAL_ROLES == (
        "order_id",
        "item_id",
        "item_name",
        "quantity",
        "unit_price",
        "cost",
        "margin",
        "channel",
        "region",
        "customer_type",
        "discount",
        "list_amount",
        "promotion",
    )
    schema = TransactionSchema.coerce({"unit_price": "UnitPrice", "item_name": "Description"})
    assert schema.resolve(pd.Index(["customer_id", "timestamp", "amount"])) == {
        "customer_id": "customer_id",
        "timestamp": "timestamp",
        "amount": "amount",
        "item_name": "Description",
        "unit_price": "UnitPrice",
    }


def test_unit_price_must_be_numeric() -> None:
    df = frame(amount=[1.0, 2.0, 3.0, 4.0])
    df["unit_price"] = ["1.5", "2", "n/a", "4"]
    with pytest.raises(SchemaError, match=r"'unit_price'.*are not numbers") as err:
        validate_transactions(df)
    assert err.value.reason == "non_numeric_unit_price"


def test_a_timestamp_column_with_no_value_is_a_schema_error() -> None:
    # every timestamp missing (object column of None): one clear error, not an IndexError
    from custintel.schema import validated_transactions

    tx = pd.DataFrame({"customer_id": ["a", "b"], "timestamp": [None, None], "amount": [1.0, 2.0]})
    with pytest.raises(SchemaError, match="timestamp"):
        validated_transactions(tx)
