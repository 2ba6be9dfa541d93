"""Chunked scoring of Parquet and CSV files equals in-memory scoring."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custintel.exceptions import SchemaError
from custintel.pipeline import CustomerIntelligence, score_file

pytestmark = pytest.mark.slow


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, index_col="customer_id")
    return pd.read_parquet(path)


def _expected(fitted: CustomerIntelligence) -> pd.DataFrame:
    expected = fitted.customers_.copy()
    for column in expected.columns:
        if isinstance(expected[column].dtype, pd.CategoricalDtype):
            expected[column] = expected[column].astype(object)
    return expected


def test_chunked_parquet_scoring_equals_in_memory(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "tx.parquet"
    pipeline_tx.to_parquet(source)
    out = tmp_path / "scored.parquet"
    # 7,594 rows in buckets of about 2,000 rows, read 700 rows at a time: 4 buckets.
    n = score_file(fitted, source, out, rows_per_bucket=2000, batch_size=700)
    assert n == 400
    scored = _read(out)
    assert not scored.index.is_monotonic_increasing  # grouped by bucket, not sorted
    pd.testing.assert_frame_equal(
        scored.sort_index(), _expected(fitted), check_dtype=False, check_index_type=False
    )


def test_single_bucket_and_csv(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "tx.csv"
    pipeline_tx.to_csv(source, index=False)
    out = tmp_path / "scored.csv"
    assert score_file(fitted, source, out) == 400
    # ids are read from CSV as text, so the file is in text order ("1", "10", "100", ...)
    scored = _read(out).sort_index()
    expected = _expected(fitted)
    pd.testing.assert_frame_equal(
        scored[["frequency", "churn_probability", "expected_clv"]],
        expected[["frequency", "churn_probability", "expected_clv"]],
        check_dtype=False,
    )
    assert (scored["rfm_segment"] == expected["rfm_segment"]).all()


def test_bad_files(fitted: CustomerIntelligence, tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="does not exist"):
        score_file(fitted, tmp_path / "nope.csv", tmp_path / "out.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(SchemaError, match="is empty"):
        score_file(fitted, tmp_path / "empty.csv", tmp_path / "out.csv")
    with pytest.raises(SchemaError, match=r"use a \.csv or \.parquet output file"):
        score_file(fitted, tmp_path / "empty.csv", tmp_path / "out.xlsx")


def test_chunked_csv_scoring_equals_in_memory(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "tx.csv"
    pipeline_tx.to_csv(source, index=False)
    in_memory = tmp_path / "whole.parquet"
    assert score_file(fitted, source, in_memory) == 400  # one bucket: read at once
    out = tmp_path / "scored.parquet"
    # 7,594 rows in buckets of about 2,000 rows, read 700 rows at a time: 4 buckets.
    assert score_file(fitted, source, out, rows_per_bucket=2000, batch_size=700) == 400
    scored = _read(out)
    assert not scored.index.is_monotonic_increasing  # grouped by bucket, not sorted
    pd.testing.assert_frame_equal(scored.sort_index(), _read(in_memory).sort_index())
    _assert_same_rows(scored, fitted.customers_)


def test_chunked_csv_with_text_ids_and_changing_types(
    fitted: CustomerIntelligence,
    pipeline_tx: pd.DataFrame,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tx = pipeline_tx.sort_values("timestamp", kind="stable")
    text_ids = tx.assign(customer_id="C" + tx["customer_id"].astype(str).str.zfill(4))
    source = tmp_path / "text_ids.csv.gz"
    text_ids.to_csv(source, index=False)
    whole, out = tmp_path / "whole.parquet", tmp_path / "scored.parquet"
    score_file(fitted, source, whole)
    assert score_file(fitted, source, out, rows_per_bucket=2500, batch_size=1000) == 400
    scored = _read(out)
    assert scored.index[0].startswith("C") and not scored.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(scored.sort_index(), _read(whole).sort_index())

    # Whole quantities in the first 1,000 rows, fractions later: the batches cannot share
    # the types of the first one, so the file is read at once. (Id columns are always
    # read as text, so they never change type.)
    mixed = tx.astype({"quantity": object})
    later = mixed.index[1000:]
    mixed.loc[later, "quantity"] = tx.loc[later, "quantity"] + 0.5
    source = tmp_path / "mixed.csv"
    mixed.to_csv(source, index=False)
    score_file(fitted, source, whole)
    with caplog.at_level("WARNING", logger="custintel"):
        score_file(fitted, source, out, rows_per_bucket=2500, batch_size=1000)
    assert "reading the CSV file at once" in caplog.text
    pd.testing.assert_frame_equal(_read(out), _read(whole))


def test_chunked_csv_without_pyarrow_reads_at_once(
    fitted: CustomerIntelligence,
    pipeline_tx: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = tmp_path / "tx.csv"
    pipeline_tx.to_csv(source, index=False)
    whole, out = tmp_path / "whole.csv", tmp_path / "scored.csv"
    score_file(fitted, source, whole)
    # pandas itself may need pyarrow, so only custintel's check is made to fail.
    monkeypatch.setattr("custintel.pipeline._scoring._has_pyarrow", lambda: False)
    with caplog.at_level("WARNING", logger="custintel"):
        score_file(fitted, source, out, rows_per_bucket=2000, batch_size=700)
    assert "needs pyarrow" in caplog.text
    pd.testing.assert_frame_equal(_read(out), _read(whole))


def test_chunked_nightly_file_scores_as_of_the_fitted_day(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, tmp_path: Path
) -> None:
    # A file of some customers whose latest purchase is well before the fitted day: every
    # bucket is scored as of that day, not as of the file's (or the bucket's) last date.
    recent = pipeline_tx.groupby("customer_id")["timestamp"].transform("max")
    nightly = pipeline_tx.loc[recent < fitted.observation_end_ - pd.Timedelta(days=200)]
    assert nightly["customer_id"].nunique() > 100
    assert nightly["timestamp"].max() < fitted.observation_end_ - pd.Timedelta(days=200)
    in_memory = fitted.score(nightly)
    pd.testing.assert_frame_equal(
        in_memory.drop(columns=["p_alive", "expected_purchases", "expected_clv"]),
        fitted.customers_.loc[in_memory.index].drop(
            columns=["p_alive", "expected_purchases", "expected_clv"]
        ),
        check_exact=True,
    )
    for name in ("nightly.parquet", "nightly.csv"):
        source = tmp_path / name
        if name.endswith(".csv"):
            nightly.to_csv(source, index=False)
        else:
            nightly.to_parquet(source)
        out = tmp_path / f"scored-{name}.parquet"
        n = score_file(fitted, source, out, rows_per_bucket=1000, batch_size=400)
        assert n == len(in_memory)
        scored = _read(out)
        assert not scored.index.is_monotonic_increasing  # several buckets
        _assert_same_rows(scored, in_memory)


def test_score_file_passes_as_of_to_every_bucket(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, tmp_path: Path
) -> None:
    later = fitted.observation_end_ + pd.Timedelta(days=45)
    source = tmp_path / "tx.parquet"
    pipeline_tx.to_parquet(source)
    out = tmp_path / "scored.parquet"
    assert score_file(fitted, source, out, as_of=later, rows_per_bucket=2000) == 400
    expected = fitted.score(pipeline_tx, as_of=later)
    _assert_same_rows(_read(out), expected)
    assert (expected["T"] == fitted.customers_["T"] + 45).all()


def test_score_file_loads_a_bundle_with_trusted(
    fitted: CustomerIntelligence,
    pipeline_tx: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[object, bool]] = []

    def load_bundle(path: object, *, trusted: bool = False) -> CustomerIntelligence:
        calls.append((path, trusted))
        return fitted

    monkeypatch.setattr("custintel.pipeline.load_bundle", load_bundle)
    source = tmp_path / "tx.parquet"
    pipeline_tx.loc[pipeline_tx["customer_id"] <= 20].to_parquet(source)
    assert score_file(tmp_path / "models", source, tmp_path / "a.csv") == 20
    assert score_file(tmp_path / "models", source, tmp_path / "b.csv", trusted=True) == 20
    assert calls == [(tmp_path / "models", False), (tmp_path / "models", True)]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_file_without_a_training_column_is_refused_before_bucketing(
    fitted: CustomerIntelligence,
    pipeline_tx: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
) -> None:
    source = tmp_path / f"tx{suffix}"
    tx = pipeline_tx.drop(columns="quantity")
    tx.to_csv(source, index=False) if suffix == ".csv" else tx.to_parquet(source)

    def no_buckets(*args: object, **kwargs: object) -> int:
        raise AssertionError("the file was bucketed")

    monkeypatch.setattr("custintel.pipeline._scoring._score_buckets", no_buckets)
    with pytest.raises(SchemaError, match="lack the column 'quantity'") as err:
        score_file(fitted, source, tmp_path / "out.parquet", rows_per_bucket=2000)
    assert err.value.reason == "missing_column"
    assert not (tmp_path / "out.parquet").exists()


def _assert_same_rows(written: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Compare a written score file with in-memory scores, whatever the id and text types."""
    got = written.set_axis(written.index.astype(str)).sort_index()
    want = _expected_of(expected)
    want = want.set_axis(want.index.astype(str)).sort_index()
    pd.testing.assert_frame_equal(
        got, want, check_dtype=False, check_exact=True, check_index_type=False
    )


def _expected_of(scored: pd.DataFrame) -> pd.DataFrame:
    out = scored.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(object)
    return out


# --- the customer rows that scoring builds -----------------------------------------------


def test_customer_items_in_order_of_first_purchase() -> None:
    from custintel.pipeline._rows import customer_items

    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
            "item_id": ["tea", "mug", "tea", "pot", "mug", "cup", "tea"],
            # b's cup is a refund: not bought; c only has a refund
            "amount": [3.0, 5.0, 3.0, 9.0, 5.0, -2.0, -3.0],
        }
    )
    customers = pd.Index(["a", "b", "c", "d"], name="customer_id")
    items = customer_items(tx, customers)
    # a: tea (row 0), mug (row 1), pot (row 3); the second tea is not repeated.
    assert items.tolist() == [["tea", "mug", "pot"], ["mug"], [], []]
    assert items.index.equals(customers) and items.name == "items"
    # Any row order gives each customer the items of its rows, in row order.
    shuffled = tx.iloc[[6, 4, 3, 0, 5, 1, 2]]
    assert customer_items(shuffled, customers).tolist() == [["pot", "tea", "mug"], ["mug"], [], []]
    # Customers of tx that are not asked for are left out.
    assert customer_items(tx, pd.Index(["b"])).tolist() == [["mug"]]


def test_customer_items_of_the_fitted_log(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    from custintel.pipeline._rows import customer_items

    frame = fitted.result_.log.frame
    customers = fitted.customers_.index
    items = customer_items(frame, customers)
    bought = frame.loc[frame["amount"] >= 0, ["customer_id", "item_id"]].drop_duplicates()
    expected = bought.groupby("customer_id", sort=False)["item_id"].agg(list)
    assert items.tolist() == expected.reindex(customers).tolist()


def test_validating_a_validated_frame_gives_it_back_without_sharing_writes(
    pipeline_tx: pd.DataFrame,
) -> None:
    # Scoring validates rows that are already canonical; the result must be the same
    # frame, and writing to it must leave the caller's frame alone (and the reverse).
    from custintel import validate_transactions

    canonical = validate_transactions(pipeline_tx, duplicates="keep")
    kept = canonical.copy(deep=True)
    again = validate_transactions(canonical, duplicates="keep")
    pd.testing.assert_frame_equal(again, canonical)
    again.loc[0, "amount"] = -1.0
    canonical.loc[1, "amount"] = -2.0
    assert again.loc[1, "amount"] == kept.loc[1, "amount"]
    assert canonical.loc[0, "amount"] == kept.loc[0, "amount"]
    # A frame in another order is still sorted by customer, then time.
    shuffled = kept.sample(frac=1.0, random_state=0)
    resorted = validate_transactions(shuffled, duplicates="keep")
    keys = resorted[["customer_id", "timestamp"]]
    assert keys.equals(keys.sort_values(["customer_id", "timestamp"], kind="stable"))


def test_churn_features_from_the_validation_and_the_summary_equal_the_frame_path(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    # Scoring may hand churn_features its validation and its summary instead of the
    # frame (validated again inside, summarised again): the table must be the same.
    from custintel.exceptions import quiet
    from custintel.features import summarize_customers
    from custintel.pipeline._rows import churn_features
    from custintel.schema import validated_transactions

    end = fitted.observation_end_
    with quiet():
        validated = validated_transactions(
            pipeline_tx, fitted.schema_, observation_end=end, duplicates="keep"
        )
        summary = summarize_customers(
            validated.frame, observation_end=str(end.date()), duplicates="keep"
        )
    horizon = fitted.churn_horizon_
    expected = churn_features(validated.frame, cutoff=end, horizon=horizon)
    for got in (
        churn_features(validated, cutoff=end, horizon=horizon),
        churn_features(validated.frame, cutoff=end, horizon=horizon, summary=summary),
        churn_features(validated, cutoff=end, horizon=horizon, summary=summary),
    ):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert set(fitted.churn_features_) <= set(expected.columns) | set(summary.columns)


def test_recommend_items_gives_the_fitted_recommendations(fitted: CustomerIntelligence) -> None:
    # The lean entry point gives, rank by rank, the items the pipeline scored with
    # recommend (the fitted customers_ table).
    from custintel.pipeline._rows import customer_items

    scored = fitted.customers_
    items = customer_items(fitted.result_.log.frame, scored.index)
    table = fitted.recommender_.recommend_items(items.reset_index(drop=True), n=3)
    for k in (1, 2, 3):
        expected = scored[f"recommendation_{k}"].astype(object)
        assert table[f"item_{k}"].tolist() == expected.where(expected.notna(), None).tolist()
    assert scored["recommendation_1"].notna().all()


def test_customer_items_of_lists_of_one_length() -> None:
    # Lists of equal length stay one list per customer (not a 2-D table), and no
    # customers give an empty Series.
    from custintel.pipeline._rows import customer_items

    tx = pd.DataFrame(
        {"customer_id": ["a", "b", "b"], "item_id": ["x", "y", "y"], "amount": [1.0, 2.0, 3.0]}
    )
    items = customer_items(tx, pd.Index(["a", "b"], name="customer_id"))
    assert items.tolist() == [["x"], ["y"]]
    assert all(type(v) is list for v in items) and items.dtype == object
    assert customer_items(tx, pd.Index([], dtype=object)).tolist() == []
