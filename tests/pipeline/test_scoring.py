"""Chunked scoring of Parquet files equals in-memory scoring."""

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
