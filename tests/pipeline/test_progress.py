"""Progress bars: on standard error in a terminal when verbose, never in logs or pipes."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from custintel import _progress
from custintel.pipeline import CustomerIntelligence

from .._terminal import Terminal


def isatty(self) -> bool:
    return True


def _run_job(
    monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, tx: pd.DataFrame, verbose: bool
) -> str:
    monkeypatch.setattr("sys.stderr", stream)
    ci = CustomerIntelligence(horizon=180, verbose=verbose)
    ci.fit(ci.validate(tx))
    return stream.getvalue()


@pytest.mark.slow
def test_a_terminal_run_shows_a_bar_over_the_steps(
    monkeypatch: pytest.MonkeyPatch, pipeline_tx: pd.DataFrame
) -> None:
    shown = _run_job(monkeypatch, Terminal(), pipeline_tx, verbose=True)
    # tqdm redraws with carriage returns; the last frame has every step done.
    assert "\r" in shown
    assert "9/9 [" in shown
    assert "score customers" in shown
    # The log lines are still there, above the bar.
    assert "custintel: [2/9] summarise customers:" in shown


@pytest.mark.slow
def test_no_bar_in_a_log_file_or_when_quiet(
    monkeypatch: pytest.MonkeyPatch, pipeline_tx: pd.DataFrame
) -> None:
    logged = _run_job(monkeypatch, io.StringIO(), pipeline_tx, verbose=True)
    assert "\r" not in logged and "9/9 [" not in logged
    assert "custintel: [2/9] summarise customers:" in logged
    assert _run_job(monkeypatch, Terminal(), pipeline_tx, verbose=False) == ""


def test_a_bar_inside_a_bar_is_cleared_and_the_outer_one_stays_current(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    with _progress.progress_bar(2, desc="outer", unit="step") as outer:
        assert _progress.current_bar() is outer
        assert list(_progress.iterate(range(3), total=3, desc="inner")) == [0, 1, 2]
        assert _progress.current_bar() is outer
        logging.getLogger("custintel").warning("a log line above the bar")
        outer.update(2)
    assert _progress.current_bar() is None
    text = stream.getvalue()
    assert "inner" in text and "outer" in text and "2/2" in text
    assert "a log line above the bar" in text


def test_streams_without_isatty_are_not_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", object())
    assert not _progress.stderr_is_terminal()


@pytest.mark.slow
def test_bucketed_scoring_shows_a_bar_over_the_buckets(
    monkeypatch: pytest.MonkeyPatch,
    fitted: CustomerIntelligence,
    pipeline_tx: pd.DataFrame,
    tmp_path: Path,
) -> None:
    from custintel.pipeline import score_file

    source = tmp_path / "tx.parquet"
    pipeline_tx.to_parquet(source)
    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    n = score_file(fitted, source, tmp_path / "a.parquet", rows_per_bucket=2000, progress=True)
    assert n == 400
    shown = stream.getvalue()
    assert "score" in shown and "bucket" in shown
    buckets = re.findall(r"(\d+)/(\d+) \[", shown)
    assert buckets and buckets[-1][0] == buckets[-1][1] != "0"
    # Off when asked to be.
    quiet = Terminal()
    monkeypatch.setattr("sys.stderr", quiet)
    score_file(fitted, source, tmp_path / "b.parquet", rows_per_bucket=2000, progress=False)
    assert quiet.getvalue() == ""
    # Automatic by default: quick scoring leaves no trace; slow scoring (here: any, with
    # no delay) shows the bar, as itemset mining does.
    monkeypatch.setattr(_progress, "AUTO_DELAY", 60.0)
    score_file(fitted, source, tmp_path / "c.parquet", rows_per_bucket=2000)
    assert quiet.getvalue() == ""
    monkeypatch.setattr(_progress, "AUTO_DELAY", 0.0)
    score_file(fitted, source, tmp_path / "d.parquet", rows_per_bucket=2000)
    assert "bucket" in quiet.getvalue()


@pytest.mark.slow
def test_mining_nests_its_bar_below_the_job_s_and_is_quiet_in_a_quiet_job(
    monkeypatch: pytest.MonkeyPatch, pipeline_tx: pd.DataFrame
) -> None:
    # Automatic bars show at once here (they wait half a second by default).
    monkeypatch.setattr(_progress, "AUTO_DELAY", 0.0)
    shown = _run_job(monkeypatch, Terminal(), pipeline_tx, verbose=True)
    assert "choose min support" in shown and "frequent itemsets" in shown
    # Nested bars are drawn one line below the job's (tqdm moves the cursor up with ESC[A)
    # and cleared when done, so the job's bar is the last one drawn.
    assert "\x1b[A" in shown
    assert shown.rstrip("\n").split("\n")[-1].split("\r")[-1].startswith("score customers")
    assert _run_job(monkeypatch, Terminal(), pipeline_tx, verbose=False) == ""
