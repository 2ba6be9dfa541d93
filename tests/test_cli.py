"""The `custintel` command line: demo run, column mapping and clear errors."""

from __future__ import annotations

import argparse
import errno
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import custintel.pipeline
from custintel import cli
from custintel.cli import main
from custintel.exceptions import InvalidModelError, SchemaError
from custintel.pipeline._scoring import _csv_dtypes, id_columns, read_transactions


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
    (tmp_path / "tx.json").write_text("x")
    assert main(["summarize", str(tmp_path / "tx.json"), "--out", str(tmp_path)]) == 2
    assert "use a .csv (or .csv.gz), .parquet or .xlsx file" in capsys.readouterr().err


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
    assert "[1/9] validate:" in run.stderr and "[9/9] score customers:" in run.stderr
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
        "value_at_risk",
        "churn_reason",
        "abc_class",
        "recommendation_1",
        "recommendation_2",
        "recommendation_3",
        "early_life_value",
    ]
    csv = pd.read_csv(out / "customers.csv", index_col="customer_id")
    assert csv["value_at_risk"].to_numpy() == pytest.approx(
        (customers["churn_probability"] * customers["expected_clv"]).to_numpy()
    )
    at_risk = customers["churn_probability"] >= 0.5
    assert csv.loc[at_risk.to_numpy(), "churn_reason"].notna().all()
    assert csv.loc[~at_risk.to_numpy(), "churn_reason"].isna().all()
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
    not_a_bundle = tmp_path / "models"
    not_a_bundle.mkdir()
    # depends on score_file(..., as_of=, trusted=): a refused bundle is exit code 3
    run = _run(
        "score", "--models", not_a_bundle, "--input", header_only, "--out", tmp_path / "o.csv"
    )
    assert run.returncode == 3 and "Traceback" not in run.stderr
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
    bad.write_text('{"customer_id": "cust", "attributes": "tier"}')
    assert main(["report", str(source), "--out", str(tmp_path), "--schema", str(bad)]) == 2
    assert 'attributes = ["loyalty_tier"]' in capsys.readouterr().err


def test_schema_file_and_options_name_attribute_columns(tmp_path: Path) -> None:
    schema = tmp_path / "schema.toml"
    schema.write_text('customer_id = "cust"\nattributes = ["tier"]\n')
    parser = cli._build_parser()
    args = parser.parse_args(
        ["report", "x.csv", "--out", "o", "--schema", str(schema), "--attribute", "segment"]
    )
    assert cli._mapping(args) == {"customer_id": "cust", "attributes": ["tier", "segment"]}


# --- exit codes ----------------------------------------------------------------------------


def test_exit_codes_are_documented(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    epilog = capsys.readouterr().out.split("exit codes:")[1]
    for line in ("0  success", "2  bad input data", "3  model bundle refused", "4  output cannot"):
        assert line in epilog
    assert "Exit codes" in (cli.__doc__ or "")
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    # --trust-bundle says what it risks; --observation-end is a hidden alias of --as-of
    assert "pickled (joblib) files" in help_text and "bundles you wrote yourself" in help_text
    assert "--as-of DATE" in help_text and "--observation-end" not in help_text


def test_hints_name_options_not_keywords() -> None:
    score = cli._build_parser().parse_args(
        ["score", "--models", "m", "--input", "i.csv", "--out", "o.csv"]
    )
    report = cli._build_parser().parse_args(["report", "--demo", "--out", "o"])
    assert cli._as_options("load it with trusted=True (--trust-bundle)", score) == (
        "load it with --trust-bundle"
    )
    assert cli._as_options("pass overwrite=True", report) == "pass --force"
    assert cli._as_options("pass overwrite=True", score) == "pass overwrite=True"
    assert cli._as_options("pass observation_end='2024-01-01'", score) == "pass --as-of 2024-01-01"
    assert cli._as_options("pass observation_end='2024-01-01'", report) == (
        "pass --observation-end 2024-01-01"
    )


# --- output safety: checked before any work -------------------------------------------------


def _ids_csv(path: Path) -> Path:
    """Two customers whose ids differ only as text: '007' (two orders) and '7' (one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "customer_id,timestamp,amount\n007,2024-01-01,1.5\n7,2024-01-02,2\n007,2024-02-01,3\n"
    )
    return path


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("custintel: error: ")
    return lines[0]


def _cases_out_is_an_input(tmp: Path) -> list[tuple[list[str], str]]:
    tx = _ids_csv(tmp / "tx.csv")
    models = tmp / "models"
    models.mkdir()
    schema = tmp / "schema.toml"
    schema.write_text('customer_id = "customer_id"\n')
    data = _ids_csv(tmp / "data" / "customers.csv")  # an input named like an output
    (tmp / "tx-link.csv").symlink_to(tx)
    (tmp / "data-link").symlink_to(tmp / "data")
    score = ["score", "--models", str(models), "--input", str(tx)]
    return [
        (["summarize", str(tx), "--out", str(tx)], "is the input file"),
        (["summarize", str(tx), "--out", str(tx / "sub")], "is inside the input file"),
        (["summarize", str(data), "--out", str(data.parent)], "would replace the input file"),
        (["summarize", str(data), "--out", str(tmp / "data-link")], "would replace the input"),
        (["report", str(tx), "--out", str(schema), "--schema", str(schema)], "is the --schema"),
        ([*score, "--out", str(tx)], "is the --input file"),
        ([*score, "--out", str(tmp / "tx-link.csv")], "is the --input file"),
        ([*score, "--out", str(models / "scores.csv")], "is inside the --models bundle"),
        ([*score, "--out", str(models)], "is the --models bundle"),
    ]


def test_out_is_never_an_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = _cases_out_is_an_input(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.csv") if p.is_file()}
    for argv, message in cases:
        assert main(argv) == 4, argv
        assert message in _one_error_line(capsys.readouterr().err), argv
    # nothing was read, written or created
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.csv") if p.is_file()} == before
    assert not (tmp_path / "tx.csv").is_dir() and not list(tmp_path.rglob(".custintel-*"))


def test_output_of_the_wrong_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tx = _ids_csv(tmp_path / "tx.csv")
    note = tmp_path / "note.txt"
    note.write_text("mine")
    folder = tmp_path / "folder"
    folder.mkdir()
    score = ["score", "--models", str(tmp_path / "models"), "--input", str(tx)]
    for argv, code, message in [
        (["summarize", str(tx), "--out", str(note)], 4, "is a file, but custintel summarize"),
        (["report", str(tx), "--out", str(note)], 4, "is a file, but custintel report"),
        (["summarize", str(tx), "--out", str(note / "sub")], 4, "is a file, not a folder"),
        ([*score, "--out", str(folder)], 4, "is a folder; name the output file"),
        ([*score, "--out", str(tmp_path / "scores.txt")], 2, "must end in .csv or .parquet"),
    ]:
        assert main(argv) == code, argv
        assert message in _one_error_line(capsys.readouterr().err), argv
    assert note.read_text() == "mine"
    out = tmp_path / "out"
    (out / "customers.csv").mkdir(parents=True)
    assert main(["report", str(tx), "--out", str(out)]) == 4
    assert "customers.csv' is a folder" in _one_error_line(capsys.readouterr().err)
    (out / "customers.csv").rmdir()
    (out / "models").write_text("not a folder")
    assert main(["report", str(tx), "--out", str(out), "--force"]) == 4
    assert "models' is a file" in _one_error_line(capsys.readouterr().err)


def test_unwritable_output_is_refused_before_the_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(tmp_path / "never-read.csv")  # exit 2 if the input were read first
    out = tmp_path / "out"
    real_access = os.access
    monkeypatch.setattr(cli.os, "access", lambda path, mode: False)
    assert main(["summarize", missing, "--out", str(out / "new")]) == 4
    line = _one_error_line(capsys.readouterr().err)
    assert f"no permission to create files in {str(tmp_path)!r}; choose another --out" in line

    # an existing output that is read-only
    out.mkdir()
    (out / "customers.csv").write_text("old")
    monkeypatch.setattr(cli.os, "access", lambda path, mode: Path(path).name != "customers.csv")
    assert main(["summarize", missing, "--out", str(out)]) == 4
    assert "customers.csv': it is read-only" in _one_error_line(capsys.readouterr().err)
    monkeypatch.setattr(cli.os, "access", real_access)

    # a read-only mount passes os.access; the probe file finds it
    def read_only(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(cli.tempfile, "mkstemp", read_only)
    assert main(["report", missing, "--out", str(out), "--force"]) == 4
    assert _one_error_line(capsys.readouterr().err) == (
        f"custintel: error: cannot write {str(out)!r}: {os.strerror(errno.EROFS)}; "
        "choose an --out on a writable file system"
    )


def test_the_probe_file_is_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _ids_csv(tmp_path / "tx.csv")
    out = tmp_path / "out"
    out.mkdir()
    assert main(["summarize", str(source), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["customers.csv", "customers.parquet"] or names == ["customers.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tx.csv"]


def _partial_then(error: OSError) -> Callable[..., None]:
    """A writer that leaves half a file behind, then fails like a full disk."""

    def write(self: Any, path: Any = None, *args: Any, **kwargs: Any) -> None:
        Path(path).write_text("half a file")
        raise error

    return write


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        (errno.ENOSPC, "free space or choose another --out"),
        (errno.EACCES, "make it writable or choose another --out"),
        (errno.EROFS, "choose an --out on a writable file system"),
    ],
)
def test_write_errors_are_one_line_with_exit_code_4(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    fix: str,
) -> None:
    source = _ids_csv(tmp_path / "tx.csv")
    out = tmp_path / "out"
    argv = ["summarize", str(source), "--out", str(out)]
    assert main(argv) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    monkeypatch.setattr(pd.DataFrame, "to_csv", _partial_then(OSError(code, os.strerror(code))))
    assert main(argv) == 4
    assert _one_error_line(capsys.readouterr().err) == (
        f"custintel: error: cannot write {str(out / 'customers.csv')!r}: {os.strerror(code)}; {fix}"
    )
    # the earlier outputs are as they were, and no half-written file is left
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_pyarrow_write_error_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow")
    source = _ids_csv(tmp_path / "tx.csv")
    out = tmp_path / "out"
    # pyarrow's OSError has no errno attribute, only the text
    full = OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _partial_then(full))
    assert main(["summarize", str(source), "--out", str(out)]) == 4
    assert _one_error_line(capsys.readouterr().err) == (
        f"custintel: error: cannot write {str(out / 'customers.parquet')!r}: "
        "No space left on device; free space or choose another --out"
    )
    assert sorted(p.name for p in out.iterdir()) == ["customers.csv"]


def _bundle_manifest(folder: Path) -> Path:
    from custintel.pipeline._bundle import BUNDLE_FORMAT

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"format": BUNDLE_FORMAT}))
    return folder


def test_report_writes_only_into_its_own_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "never-read.csv")  # exit 2 once the output checks pass
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["report", missing, "--out", str(out)]) == 4
    line = _one_error_line(capsys.readouterr().err)
    assert "holds files that custintel report did not write (notes.txt)" in line
    assert "add --force" in line
    assert main(["report", missing, "--out", str(out), "--force"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"

    # a folder with only the names report writes (and leftovers of a killed run) is its own
    ours = tmp_path / "ours"
    for name in ("customers.csv", "customers.parquet", "rules.csv", "report.html"):
        _ids_csv(ours / name)
    _bundle_manifest(ours / "models")
    (ours / ".custintel-probe-1234").write_text("")
    (ours / ".models.custintel-new-abcd").mkdir()
    assert main(["report", missing, "--out", str(ours)]) == 2
    assert "does not exist" in capsys.readouterr().err

    # models/ that is not a bundle is not replaced without --force
    (ours / "models" / "manifest.json").write_text("[1, 2]")
    assert main(["report", missing, "--out", str(ours)]) == 4
    assert "models' is not a custintel model bundle" in _one_error_line(capsys.readouterr().err)
    assert main(["report", missing, "--out", str(ours), "--force"]) == 2


# --- custintel score: options and errors (score_file is replaced by a recorder) -------------


@pytest.fixture
def fake_score_file(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record the calls of score_file; write one row to the out file it is given."""
    calls: list[dict[str, Any]] = []

    def score_file(models: Any, input: Any, out: Any, **kwargs: Any) -> int:
        calls.append({"models": models, "input": input, "out": out, **kwargs})
        pd.DataFrame({"customer_id": ["007"], "p_alive": [0.5]}).to_csv(out, index=False)
        return 1

    monkeypatch.setattr(custintel.pipeline, "score_file", score_file)
    return calls


def test_score_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_score_file: list[dict[str, Any]]
) -> None:
    tx = _ids_csv(tmp_path / "tx.csv")
    out = tmp_path / "scores" / "s.csv"
    base = ["score", "--models", str(tmp_path / "m"), "--input", str(tx), "--out", str(out)]
    assert main(base) == 0
    call = fake_score_file[-1]
    assert {k: call[k] for k in ("as_of", "trusted", "rows_per_bucket")} == {
        "as_of": None,  # the day the models were fitted at
        "trusted": False,
        "rows_per_bucket": 2_000_000,
    }
    # written to a temporary name next to --out, then renamed
    assert call["out"] != out and Path(call["out"]).parent == out.parent
    assert sorted(p.name for p in out.parent.iterdir()) == ["s.csv"]
    assert pd.read_csv(out, dtype=str)["customer_id"].tolist() == ["007"]

    assert main([*base, "--as-of", "2024-06-30", "--trust-bundle", "--rows-per-bucket", "9"]) == 0
    call = fake_score_file[-1]
    assert (call["as_of"], call["trusted"], call["rows_per_bucket"]) == ("2024-06-30", True, 9)
    capsys.readouterr()

    assert main([*base, "--observation-end", "2024-05-31"]) == 0
    assert fake_score_file[-1]["as_of"] == "2024-05-31"
    assert "note: --observation-end is deprecated; use --as-of" in capsys.readouterr().err
    assert main([*base, "--as-of", "2024-06-30", "--observation-end", "2024-05-31"]) == 2
    assert "give only --as-of" in _one_error_line(capsys.readouterr().err)
    for bad in (["--as-of", "yesterday"], ["--rows-per-bucket", "0"]):
        with pytest.raises(SystemExit) as exit_:
            main([*base, *bad])
        assert exit_.value.code == 2
        assert "is not" in capsys.readouterr().err


def _raising(error: Exception, *, after_writing: bool = False) -> Callable[..., int]:
    def score_file(models: Any, input: Any, out: Any, **kwargs: Any) -> int:
        if after_writing:
            Path(out).write_text("half a file")
        raise error

    return score_file


def test_score_errors_map_to_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tx = _ids_csv(tmp_path / "tx.csv")
    models = tmp_path / "models"
    out = tmp_path / "s.csv"
    out.write_text("yesterday's scores")
    argv = ["score", "--models", str(models), "--input", str(tx), "--out", str(out)]
    scratch = Path(tempfile.gettempdir()) / "custintel-score-x" / "bucket-0.parquet"
    cases: list[tuple[Exception, int, str]] = [
        (
            OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
            4,
            f"cannot write {str(out)!r}: {os.strerror(errno.ENOSPC)}; free space or choose "
            "another --out",
        ),
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(scratch)), 4, "set TMPDIR"),
        (
            FileNotFoundError(errno.ENOENT, "No such file", str(models / "clv_model.json")),
            3,
            "the bundle is incomplete, write it again with custintel report",
        ),
        (InvalidModelError("checksum differs", reason="checksum_mismatch"), 3, "checksum"),
        (SchemaError("no manifest.json", reason="not_a_bundle"), 3, "no manifest.json"),
        (SchemaError("format 9", reason="bundle_too_new"), 3, "format 9"),
        (SchemaError("no rows", reason="empty"), 2, "no rows"),
        (
            InvalidModelError("pickled; load it with trusted=True", reason="pickle_not_trusted"),
            3,
            "load it with --trust-bundle",
        ),
    ]
    for error, code, message in cases:
        monkeypatch.setattr(custintel.pipeline, "score_file", _raising(error, after_writing=True))
        assert main(argv) == code, error
        assert message in _one_error_line(capsys.readouterr().err), error
        # a failed run leaves the earlier output as it was, and no scratch file
        assert out.read_text() == "yesterday's scores"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "tx.csv"]


# --- ids keep their text ----------------------------------------------------------------------


def test_read_transactions_keeps_id_text(tmp_path: Path) -> None:
    source = tmp_path / "tx.csv"
    source.write_text(
        "cust,timestamp,amount,sku\n007,2024-01-01,1,01\n7,2024-01-02,2,1\n,2024-01-03,3,\n"
    )
    guessed = read_transactions(source)
    assert guessed["cust"].tolist()[:2] == [7, 7]  # why the ids must be named
    frame = read_transactions(
        source, text_columns=id_columns({"customer_id": "cust", "item_id": "sku"})
    )
    assert frame["cust"].tolist()[:2] == ["007", "7"] and pd.isna(frame["cust"].iloc[2])
    assert frame["sku"].tolist()[:2] == ["01", "1"]
    assert pd.api.types.is_numeric_dtype(frame["amount"])
    assert id_columns(None) == ["customer_id", "order_id", "item_id"]
    # the bucketed CSV scoring fixes its column types from a first batch: ids stay text
    dtypes = _csv_dtypes(guessed, ["cust", "sku", "order_id"])
    assert dtypes["cust"] is str and dtypes["sku"] is str and dtypes["amount"] is not str
    assert "order_id" not in dtypes


def test_summarize_keeps_id_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _ids_csv(tmp_path / "tx.csv")
    out = tmp_path / "out"
    assert main(["summarize", str(source), "--out", str(out)]) == 0
    written = pd.read_csv(out / "customers.csv", dtype={"customer_id": str})
    assert sorted(written["customer_id"]) == ["007", "7"]
    assert written.set_index("customer_id").loc["007", "n_orders"] == 2
    if importlib.util.find_spec("pyarrow") is not None:
        assert sorted(pd.read_parquet(out / "customers.parquet").index) == ["007", "7"]
    # a mapped id column too
    source.write_text(source.read_text().replace("customer_id", "cust", 1))
    assert main(["summarize", str(source), "--out", str(out), "--customer-id", "cust"]) == 0
    assert sorted(pd.read_csv(out / "customers.csv", dtype=str)["customer_id"]) == ["007", "7"]


# --- hostile inputs: one line, never exit code 1 ----------------------------------------------


def test_hostile_inputs_to_summarize(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 20)
    schema_dir = tmp_path / "schema.toml"
    schema_dir.mkdir()
    for argv, message in [
        ([str(empty)], "is empty"),
        ([str(folder)], "is a folder"),
        ([str(binary)], "cannot read"),
        ([str(_ids_csv(tmp_path / "tx.csv")), "--schema", str(schema_dir)], "does not exist"),
    ]:
        assert main(["summarize", *argv, "--out", str(tmp_path / "out")]) == 2, argv
        assert message in _one_error_line(capsys.readouterr().err), argv


def test_hostile_bundles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # depends on score_file(..., as_of=, trusted=) and the bundle checks (InvalidModelError)
    tx = _ids_csv(tmp_path / "tx.csv")
    listed = tmp_path / "listed"
    listed.mkdir()
    (listed / "manifest.json").write_text("[1, 2, 3]")
    binary = tmp_path / "binary"
    binary.mkdir()
    (binary / "manifest.json").write_bytes(bytes(range(256)))
    for models in (tmp_path / "missing", listed, binary, tx):
        argv = ["score", "--models", str(models), "--input", str(tx)]
        assert main([*argv, "--out", str(tmp_path / "s.csv")]) == 3, models
        _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "s.csv").exists()


# --- end to end: a real fit -------------------------------------------------------------------


@pytest.mark.slow
def test_bundle_with_a_missing_file(
    report_run: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path, own_file: Path
) -> None:
    # depends on score_file(..., as_of=, trusted=) and the bundle checks (InvalidModelError)
    _, out = report_run
    models = tmp_path / "models"
    shutil.copytree(out / "models", models)
    victim = next(p for p in sorted(models.iterdir()) if p.name != "manifest.json")
    victim.unlink()
    run = _run("score", "--models", models, "--input", own_file, "--out", tmp_path / "s.csv")
    assert run.returncode == 3, run.stderr
    _one_error_line(run.stderr)


def _padded_ids(tmp: Path) -> Path:
    """A real-sized log whose ids all look numeric; customer 1 is '007', customer 2 is '7'."""
    from custintel.datasets import make_transactions

    tx = make_transactions(150, start="2022-01-01", acquisition_days=365, random_state=3)
    raw = tx.transactions.copy()
    ids = {1: "007", 2: "7"}
    raw["customer_id"] = [ids.get(k, str(1000 + k)) for k in raw["customer_id"]]
    path = tmp / "padded.csv"
    raw.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_report_and_score_keep_id_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _padded_ids(tmp_path)
    out = tmp_path / "out"
    assert main(["report", str(source), "--out", str(out), "--horizon", "180", "--quiet"]) == 0
    customers = pd.read_csv(out / "customers.csv", dtype={"customer_id": str})
    assert len(customers) == 150 and {"007", "7"} <= set(customers["customer_id"])
    if importlib.util.find_spec("pyarrow") is not None:
        assert {"007", "7"} <= set(pd.read_parquet(out / "customers.parquet").index)
    # depends on score_file(..., as_of=, trusted=); bucketed CSV scoring (_csv_dtypes)
    scored = tmp_path / "scored.csv"
    argv = ["score", "--models", str(out / "models"), "--input", str(source), "--out", str(scored)]
    assert main([*argv, "--rows-per-bucket", "1000", "--quiet"]) == 0, capsys.readouterr().err
    ids = pd.read_csv(scored, dtype={"customer_id": str})["customer_id"]
    assert len(ids) == 150 and {"007", "7"} <= set(ids)
    # depends also on score_file reading a one-bucket CSV with read_transactions(text_columns=)
    assert main([*argv, "--quiet"]) == 0, capsys.readouterr().err
    ids = pd.read_csv(scored, dtype={"customer_id": str})["customer_id"]
    assert len(ids) == 150 and {"007", "7"} <= set(ids)


@pytest.mark.slow
def test_report_rerun_disk_full_and_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _padded_ids(tmp_path)
    out = tmp_path / "out"
    argv = ["report", str(source), "--out", str(out), "--horizon", "180", "--quiet"]
    assert main(argv) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()

    # a rerun into report's own folder passes the checks; the disk fills up while writing
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(pd.DataFrame, "to_csv", _partial_then(full))
    assert main(argv) == 4
    assert _one_error_line(capsys.readouterr().err) == (
        f"custintel: error: cannot write {str(out / 'customers.csv')!r}: "
        f"{os.strerror(errno.ENOSPC)}; free space or choose another --out"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    monkeypatch.undo()

    # depends on CustomerIntelligence.save(path, *, overwrite=): --force keeps other files
    (out / "notes.txt").write_text("mine")
    assert main(argv) == 4
    assert "did not write (notes.txt)" in _one_error_line(capsys.readouterr().err)
    assert main([*argv, "--force"]) == 0, capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "models" / "manifest.json").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_rerun_without_items_removes_the_stale_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _padded_ids(tmp_path)
    out = tmp_path / "out"
    argv = ["report", "--out", str(out), "--horizon", "180", "--quiet"]
    assert main(["report", str(source), *argv[1:]]) == 0
    assert (out / "rules.csv").is_file()
    no_items = tmp_path / "no_items.csv"
    pd.read_csv(source, dtype=str).drop(columns=["item_id"]).to_csv(no_items, index=False)
    capsys.readouterr()
    assert main(["report", str(no_items), *argv[1:]]) == 0
    assert not (out / "rules.csv").exists()
    assert "rules.csv of an earlier run was removed" in capsys.readouterr().out


# --- raw exports: reading options, cleaning options, hints in command-line terms --------------


def _export(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


#: A European export: semicolons, decimal commas, day-first dates, a byte-order mark, ids
#: with leading zeros. Customer 007 buys on 3 April (1,50) and 13 April (2 x 1,25 = 2,50);
#: customer 7 on 5 April (4,00).
_EUROPEAN = (
    "\ufeffKunde;Datum;Menge;Preis\n"
    "007;03/04/2011 10:00;1;1,50\n"
    "7;05/04/2011 11:30;2;2,00\n"
    "007;13/04/2011 09:15;2;1,25\n"
)


def test_summarize_a_european_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _export(tmp_path / "export.csv", _EUROPEAN)
    roles = ["--customer-id", "Kunde", "--timestamp", "Datum", "--quantity", "Menge"]
    argv = ["summarize", str(source), "--out", str(tmp_path / "out"), *roles]
    assert main([*argv, "--unit-price", "Preis", "--dayfirst"]) == 0, capsys.readouterr().err
    assert "3 transactions, 2 customers, observed until 2011-04-13" in capsys.readouterr().out
    written = pd.read_csv(
        tmp_path / "out" / "customers.csv", index_col="customer_id", dtype={"customer_id": str}
    )
    assert written.loc["007", "total_amount"] == pytest.approx(1.5 + 2.5)
    assert written.loc["7", "total_amount"] == pytest.approx(4.0)
    assert written.loc["007", "recency"] == 10  # 3 to 13 April: read day first


def test_reading_options_override_the_sniffing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a tab file in latin-1 with point decimals
    text = "cust\tdate\tamount\tnote\nä1\t2024-01-02\t1.5\tcafé\nb\t2024-01-03\t2\tx\n"
    source = _export(tmp_path / "x.tsv", text, "latin-1")
    out = ["--out", str(tmp_path / "out"), "--customer-id", "cust", "--timestamp", "date"]
    assert main(["summarize", str(source), *out]) == 2
    err = _one_error_line(capsys.readouterr().err)
    # the Python hint encoding='latin-1' reads as the option
    assert "byte 0xe4 on line 2 cannot be decoded" in err
    assert "pass --encoding latin-1 (or --encoding cp1252" in err
    assert main(["summarize", str(source), *out, "--encoding", "latin-1", "--sep", "tab"]) == 0
    written = pd.read_csv(tmp_path / "out" / "customers.csv", index_col="customer_id")
    assert written.loc["ä1", "total_amount"] == 1.5


def test_bad_value_is_reported_with_its_file_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _export(
        tmp_path / "x.csv",
        "cust;date;amount\n007;2024-01-02;1,5\n8;2024-01-03;2,0\n9;2024-01-04;abc\n",
    )
    argv = ["summarize", str(source), "--out", str(tmp_path / "out"), "--customer-id", "cust"]
    assert main([*argv, "--timestamp", "date"]) == 2
    err = _one_error_line(capsys.readouterr().err)
    # only the value that is no number: 1,5 and 2,0 are numbers with a decimal comma
    assert "1 of 3 lines are not numbers, e.g. line 4: 'abc'" in err
    # the Python caller's pandas example of the fix reads as a fix to make in the file
    assert "strip currency symbols and thousands separators in the file" in err
    assert "df[" not in err and "e.g. df" not in err


def test_dayfirst_errors_and_hints_read_as_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _export(tmp_path / "x.csv", "cust,date,amount\na,12/13/2010 9:02,1\n")
    argv = ["summarize", str(source), "--out", str(tmp_path / "out"), "--customer-id", "cust"]
    assert main([*argv, "--timestamp", "date", "--dayfirst"]) == 2
    err = _one_error_line(capsys.readouterr().err)
    assert "line 2: '12/13/2010 9:02'" in err and "leave out --dayfirst" in err


def test_excel_input_with_a_sheet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl (the test extra) writes it")
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    sales = book.create_sheet("Sales")
    sales.append(["cust", "date", "amount"])
    sales.append(["007", "03/04/2011", 1.5])
    sales.append(["7", "05/04/2011", 2])
    source = tmp_path / "export.xlsx"
    book.save(source)
    argv = ["summarize", str(source), "--out", str(tmp_path / "out"), "--customer-id", "cust"]
    assert main([*argv, "--timestamp", "date", "--sheet", "Nope"]) == 2
    assert "its sheets are ['Notes', 'Sales']; pass --sheet Notes" in capsys.readouterr().err
    assert main([*argv, "--timestamp", "date", "--sheet", "Sales", "--dayfirst"]) == 0
    written = pd.read_csv(
        tmp_path / "out" / "customers.csv", index_col="customer_id", dtype={"customer_id": str}
    )
    assert sorted(written.index) == ["007", "7"]


def test_gzip_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip

    source = tmp_path / "x.csv.gz"
    with gzip.open(source, "wt", encoding="utf-8") as handle:
        handle.write("customer_id|timestamp|amount\n007|2024-01-01|1\n7|2024-01-02|2\n")
    assert main(["summarize", str(source), "--out", str(tmp_path / "out")]) == 0
    assert "2 transactions, 2 customers" in capsys.readouterr().out


def test_cleaning_options_reach_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _export(
        tmp_path / "x.csv",
        "cust,date,item,amount\na,2024-01-01,A,5\n,2024-01-02,A,7\na,2024-01-03,POST,3\n",
    )
    base = ["summarize", str(source), "--out", str(tmp_path / "out"), "--customer-id", "cust"]
    base += ["--timestamp", "date", "--item", "item"]
    assert main(base) == 2  # a guest line: refused by default
    assert "no customer id" in capsys.readouterr().err
    assert main([*base, "--missing-ids", "drop", "--exclude-items", "POST"]) == 0
    out = capsys.readouterr().out
    written = pd.read_csv(tmp_path / "out" / "customers.csv", index_col="customer_id")
    assert written.loc["a", "total_amount"] == 5  # the guest's 7 and the postage's 3 left out
    assert "note: " in out  # the data-quality ledger says what was left out
    assert main([*base, "--missing-ids", "drop", "--exclude-items", "re:P.*"]) == 0
    assert pd.read_csv(tmp_path / "out" / "customers.csv")["total_amount"].tolist() == [5]
    with pytest.raises(SystemExit):
        main([*base, "--exclude-items", "re:("])  # not a regex: a usage error
    assert "not a valid regular expression" in capsys.readouterr().err


def test_hints_for_the_new_keywords_name_options() -> None:
    report = cli._build_parser().parse_args(["report", "--demo", "--out", "o"])
    summarize = cli._build_parser().parse_args(["summarize", "--demo", "--out", "o"])
    cases = {
        "pass missing_ids='drop' to drop them": "pass --missing-ids drop to drop them",
        "pass refunds='net' or refunds='match'": "pass --refunds net or --refunds match",
        "pass unmatched_refunds='drop'": "pass --unmatched-refunds drop",
        "pass exclude_items=['POST', 'M']": "pass --exclude-items POST,M",
        "pass exclude_items='POST|M'": "pass --exclude-items 're:POST|M'",
        "pass penalizer=0.01": "pass --penalizer 0.01",
        "raise max_rules=20000": "raise --max-rules 20000",
        "pass encoding='latin-1'": "pass --encoding latin-1",
        "pass sep=';' and decimal=','": "pass --sep ';' and --decimal ,",
        "pass sheet='Sales 2011'": "pass --sheet 'Sales 2011'",
        "leave out dayfirst=True": "leave out --dayfirst",
        "If they are day-first, parse them yourself: pd.to_datetime(df['date'], dayfirst=True)": (
            "If they are day-first, pass --dayfirst"
        ),
    }
    for message, expected in cases.items():
        assert cli._as_options(message, report) == expected, message
    # summarize has no --penalizer: the Python spelling stays
    assert cli._as_options("pass penalizer=0.01", summarize) == "pass penalizer=0.01"


def test_every_option_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = cli._build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if action.help == argparse.SUPPRESS:
                continue  # the old name --observation-end of score --as-of
            assert action.help, (name, action.option_strings or action.dest)
        with pytest.raises(SystemExit):
            main([name, "--help"])
        shown = capsys.readouterr().out
        for action in sub._actions:
            if action.help != argparse.SUPPRESS:
                for option in action.option_strings:
                    assert option in shown, (name, option)
    report = commands.choices["report"]
    options = {o for a in report._actions for o in a.option_strings}
    for option in (
        "--sep", "--decimal", "--encoding", "--dayfirst", "--sheet", "--quantity",
        "--unit-price", "--order-id", "--item", "--item-id", "--item-name", "--region",
        "--channel", "--customer-type", "--refunds", "--unmatched-refunds", "--missing-ids",
        "--exclude-items", "--penalizer", "--max-rules", "--currency", "--n-jobs",
    ):  # fmt: skip
        assert option in options, option
    assert report.parse_args(["--demo", "--out", "o"]).refunds == "auto"
    assert report.parse_args(["--demo", "--out", "o", "--item", "sku"]).item_id == "sku"
    assert report.parse_args(["--demo", "--out", "o"]).n_jobs is None
    assert report.parse_args(["--demo", "--out", "o", "--n-jobs", "-1"]).n_jobs == -1
    with pytest.raises(SystemExit):
        report.parse_args(["--demo", "--out", "o", "--n-jobs", "0"])


@pytest.mark.slow
def test_report_writes_the_action_lists(
    report_run: tuple[subprocess.CompletedProcess[str], Path], own_file: Path
) -> None:
    import custintel.report

    if not hasattr(custintel.report, "write_action_lists"):
        pytest.skip("custintel.report has no write_action_lists")
    run, out = report_run
    assert run.returncode == 0, run.stderr
    lists = sorted(
        p.name for p in out.iterdir() if p.is_file() and p.name not in cli.REPORT_OUTPUTS
    )
    # every list the report module writes is one the "only ours" check knows
    assert lists and set(lists) <= set(cli.ACTION_LISTS), lists
    for name in lists:
        assert str(out / name) in run.stdout
        assert "customer_id" in pd.read_csv(out / name).columns
    # so a second run into the same folder needs no --force (the same run: other tests
    # read these outputs)
    schema = own_file.parent / "schema.toml"
    again = _run(
        "report", own_file, "--out", out, "--schema", schema, "--cost", "cogs", "--horizon", "180"
    )
    assert again.returncode == 0, again.stderr


def test_early_life_days_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "tx.csv"
    pd.DataFrame({"cust": [1], "date": ["2024-01-01"], "revenue": [1.0]}).to_csv(
        source, index=False
    )
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(source), "--out", str(tmp_path), "--early-life-days", "-3"])
    assert exit_.value.code == 2
    assert "'-3' is not a whole number of days >= 0" in capsys.readouterr().err


@pytest.mark.slow
def test_report_reads_a_named_attribute_column_as_a_clv_covariate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from custintel.datasets import make_transactions

    tx = make_transactions(
        3000, random_state=3, covariate_effects={"purchase": {"customer_type=B2B": 0.9}}
    ).transactions.rename(columns={"customer_type": "account_kind"})
    source = tmp_path / "tx.parquet"
    tx.to_parquet(source)
    out = tmp_path / "out"
    argv = ["report", str(source), "--out", str(out), "--horizon", "180", "--quiet"]
    assert main([*argv, "--clv-covariates", "account_kind"]) == 2
    err = capsys.readouterr().err  # said in the command line's terms
    assert "--clv-covariates names ['account_kind']" in err
    assert "--attribute loyalty_tier" in err and "TransactionSchema" not in err
    assert main([*argv, "--attribute", "account_kind", "--clv-covariates", "auto"]) == 0
    manifest = json.loads((out / "models" / "manifest.json").read_text())
    assert manifest["schema_given"]["attributes"] == ["account_kind"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "account_kind: B2B" in report  # the note on the covariates compared
