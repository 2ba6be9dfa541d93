"""The `custintel` command line: demo run, column mapping and clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custintel.cli import main


def test_demo_writes_the_cdnow_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", "--demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "69,659 transactions, 23,570 customers, observed until 1998-06-30" in out
    assert "note: 255 of 69,659 rows are exact duplicates" in out
    written = pd.read_csv(tmp_path / "customers.csv", index_col="customer_id")
    assert len(written) == 23_570
    assert written.loc[3, "frequency"] == 5


def test_own_file_with_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "tx.csv"
    pd.DataFrame(
        {
            "cust": ["x", "x", "y"],
            "date": ["2024-01-01", "2024-01-05", "2024-01-02"],
            "rev": [1, 2, 3],
        }
    ).to_csv(source, index=False)
    args = ["summarize", str(source), "--out", str(tmp_path / "out"), "--customer-id", "cust"]
    assert main([*args, "--timestamp", "date", "--amount", "rev", "--time-unit", "W"]) == 0
    written = pd.read_csv(tmp_path / "out" / "customers.csv", index_col="customer_id")
    assert written.loc["x", "recency"] == pytest.approx(4 / 7)


def test_schema_error_is_one_message_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "tx.csv"
    pd.DataFrame({"cust": [1], "date": ["2024-01-01"], "revenue": [1.0]}).to_csv(
        source, index=False
    )
    assert main(["summarize", str(source), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "on the command line: --customer-id cust --timestamp date --amount revenue" in err


def test_missing_file_and_unsupported_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summarize", str(tmp_path / "nope.csv"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "tx.xlsx").write_text("x")
    assert main(["summarize", str(tmp_path / "tx.xlsx"), "--out", str(tmp_path)]) == 2
    assert "use a .csv or .parquet file" in capsys.readouterr().err
