"""The `custintel` command line: demo run, column mapping and clear errors."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from custintel.cli import main


def test_demo_writes_the_cdnow_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", "--demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "69,659 transactions, 23,570 customers, observed until 1998-06-30" in out
    assert "note: 255 of 69,659 rows are exact duplicates" in out
    # the fix hint names the command's options, not the Python keyword arguments
    assert "Pass --duplicates drop if they were loaded twice, or --duplicates keep to" in out
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


# --- `custintel report` and `custintel score`, run as a user would: in a subprocess -------


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "custintel", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def own_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's CSV with their own column names: cust, date, revenue, basket, sku, cogs."""
    from custintel.datasets import make_transactions

    tx = make_transactions(400, start="2022-01-01", acquisition_days=365, random_state=1)
    raw = tx.transactions.rename(
        columns={
            "customer_id": "cust",
            "timestamp": "date",
            "amount": "revenue",
            "order_id": "basket",
            "item_id": "sku",
            "cost": "cogs",
        }
    )
    path = tmp_path_factory.mktemp("cli") / "sales.csv"
    raw.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def report_run(own_file: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    schema = own_file.parent / "schema.toml"
    schema.write_text(
        '[schema]\ncustomer_id = "cust"\ntimestamp = "date"\namount = "revenue"\n'
        'order_id = "basket"\nitem_id = "sku"\n'
    )
    out = own_file.parent / "report"
    # The cost column comes from an option, which adds to the schema file.
    run = _run(
        "report", own_file, "--out", out, "--schema", schema, "--cost", "cogs", "--horizon", "180"
    )
    return run, out


@pytest.mark.slow
def test_report_normal_run(report_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    run, out = report_run
    assert run.returncode == 0, run.stderr
    assert "7,594 transactions, 400 customers, 2022-01-01 to 2024-12-30" in run.stdout
    assert "churn backtest AUC" in run.stdout
    # The step log is on stderr, one line per step with its time.
    assert "[1/8] validate:" in run.stderr and "[8/8] score customers:" in run.stderr
    customers = pd.read_parquet(out / "customers.parquet")
    assert customers.index.name == "customer_id" and len(customers) == 400
    assert list(customers.columns) == [
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "total_amount",
        "rfm_score",
        "rfm_segment",
        "value_tier",
        "lifecycle_stage",
        "churn_probability",
        "p_alive",
        "expected_purchases",
        "expected_clv",
        "abc_class",
        "recommendation_1",
        "recommendation_2",
        "recommendation_3",
    ]
    csv = pd.read_csv(out / "customers.csv", index_col="customer_id")
    assert csv["expected_clv"].to_numpy() == pytest.approx(customers["expected_clv"].to_numpy())
    rules = pd.read_csv(out / "rules.csv")
    assert {"antecedents", "consequents", "confidence", "lift"} <= set(rules.columns)
    if importlib.util.find_spec("custintel.report") is not None:
        assert (out / "report.html").is_file()
        assert f"open the report: {(out / 'report.html').resolve()}" in run.stdout
    manifest = json.loads((out / "models" / "manifest.json").read_text())
    assert manifest["schema"]["customer_id"] == "cust" and manifest["schema"]["cost"] == "cogs"


@pytest.mark.slow
def test_score_from_the_saved_bundle(
    report_run: tuple[subprocess.CompletedProcess[str], Path], own_file: Path
) -> None:
    _, out = report_run
    scored = own_file.parent / "scored.parquet"
    run = _run("score", "--models", out / "models", "--input", own_file, "--out", scored, "--quiet")
    assert run.returncode == 0, run.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(scored), pd.read_parquet(out / "customers.parquet")
    )


@pytest.mark.slow
def test_report_column_mapping_error(tmp_path: Path) -> None:
    source = tmp_path / "tx.csv"
    pd.DataFrame({"cust": [1], "date": ["2024-01-01"], "revenue": [1.0]}).to_csv(
        source, index=False
    )
    run = _run("report", source, "--out", tmp_path / "out", "--quiet")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "column 'customer_id' is missing" in run.stderr
    assert "on the command line: --customer-id cust --timestamp date --amount revenue" in run.stderr
    assert len(run.stderr.strip().splitlines()) <= 5  # fits on one screen


@pytest.mark.slow
def test_report_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    run = _run("report", empty, "--out", tmp_path / "out")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "is empty" in run.stderr
    header_only = tmp_path / "header.csv"
    header_only.write_text("customer_id,timestamp,amount\n")
    run = _run("score", "--models", tmp_path, "--input", header_only, "--out", tmp_path / "o.csv")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "no manifest.json" in run.stderr


@pytest.mark.slow
def test_report_unparseable_dates(tmp_path: Path) -> None:
    source = tmp_path / "tx.csv"
    pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": ["2024-01-01", "yesterday", "2024-02-30"],
            "amount": [1.0, 2.0, 3.0],
        }
    ).to_csv(source, index=False)
    run = _run("report", source, "--out", tmp_path / "out")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "could not be parsed as dates" in run.stderr
    assert "yesterday" in run.stderr


def test_schema_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "tx.csv"
    pd.DataFrame({"cust": [1], "date": ["2024-01-01"], "revenue": [1.0]}).to_csv(
        source, index=False
    )
    bad = tmp_path / "schema.json"
    bad.write_text('{"customer": "cust"}')
    assert main(["report", str(source), "--out", str(tmp_path), "--schema", str(bad)]) == 2
    assert "unknown roles ['customer']" in capsys.readouterr().err
    bad.write_text("{oops")
    assert main(["report", str(source), "--out", str(tmp_path), "--schema", str(bad)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    missing = tmp_path / "nope.toml"
    assert main(["summarize", str(source), "--out", str(tmp_path), "--schema", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err
