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
    scored = _read(out)
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
    pd.testing.assert_frame_equal(
        scored.sort_index(), _expected(fitted), check_dtype=False, check_index_type=False
    )


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

    # Numeric ids in the first 1,000 rows, text ids later: the batches cannot share the
    # types of the first one, so the file is read at once (ids all read as text then).
    early = set(tx["customer_id"].iloc[:1000])
    late = ~tx["customer_id"].isin(early)
    assert late.any()
    mixed = tx.astype({"customer_id": object})
    mixed.loc[late, "customer_id"] = "X" + tx.loc[late, "customer_id"].astype(str)
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
