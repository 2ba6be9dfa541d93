"""`custintel report` shows progress bars in a terminal and none in a log (issue 18).

The command runs as a user runs it, in a subprocess: once with standard error
on a pseudo-terminal (as in an interactive shell), once with it piped (as in CI
logs and cron mails).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pty = pytest.importorskip("pty", reason="pseudo-terminals are POSIX only")

from custintel.pipeline import STEPS  # noqa: E402

#: How many steps the main job has (nine since the early-life value step).
N_STEPS = len(STEPS)

#: tqdm's counter of the job's steps, e.g. "3/9 [00:02<00:04".
STEP_BAR = re.compile(rf"\d/{N_STEPS} \[\d\d:\d\d")


@pytest.fixture(scope="module")
def small_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few thousand order lines with items and costs, three years of history."""
    from custintel.datasets import make_transactions

    tx = make_transactions(300, start="2022-01-01", acquisition_days=365, random_state=1)
    path = tmp_path_factory.mktemp("cli_progress") / "tx.parquet"
    tx.transactions.to_parquet(path)
    return path


def _command(source: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "custintel", "report", str(source), "--out", str(out)]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "120"}


def _run_in_terminal(command: list[str], timeout: float = 300.0) -> tuple[int, str]:
    """Run ``command`` with standard output and error on a new pseudo-terminal."""
    import fcntl
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    # 40 rows of 120 columns: tqdm sizes its bar to the terminal.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=_env()
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:  # EIO: the command has closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                break
        else:
            process.kill()
            pytest.fail(f"custintel report did not end within {timeout} s")
        code = process.wait(timeout=60)
    finally:
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_report_shows_bars_in_a_terminal(small_log: Path, tmp_path: Path) -> None:
    code, shown = _run_in_terminal(_command(small_log, tmp_path / "out"))
    assert code == 0, shown
    # tqdm redraws its bar in place with carriage returns; the last frame has every step.
    assert "\r" in shown
    assert STEP_BAR.search(shown), shown
    assert f"{N_STEPS}/{N_STEPS} [" in shown
    assert "score customers" in shown
    assert "open the report" in shown


@pytest.mark.slow
def test_report_shows_no_bars_in_a_log(small_log: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        _command(small_log, tmp_path / "out"),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    # The step log is there, one plain line per step, with no bar characters.
    assert f"custintel: [{N_STEPS}/{N_STEPS}] score customers:" in run.stderr
    for text in (run.stderr, run.stdout):
        assert "\r" not in text
        assert not STEP_BAR.search(text)
        assert "step/s" not in text and "s/step" not in text and "item/s" not in text
