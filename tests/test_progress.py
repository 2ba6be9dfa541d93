"""The progress-bar helpers: automatic bars, quiet blocks, and bars over threaded kernels."""

from __future__ import annotations

import threading

import pytest

from custintel import _progress

from ._terminal import fake_terminal


def test_an_automatic_bar_shows_in_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = fake_terminal(monkeypatch, delay=0.0)
    assert list(_progress.iterate(range(3), total=3, desc="auto", enabled=None)) == [0, 1, 2]
    assert "auto" in stream.getvalue() and "3/3" in stream.getvalue()


def test_an_automatic_bar_waits_before_it_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = fake_terminal(monkeypatch, delay=0.0)
    # Quick work under an automatic bar leaves nothing in the terminal.
    monkeypatch.setattr(_progress, "AUTO_DELAY", 60.0)
    assert list(_progress.iterate(range(3), total=3, desc="quick", enabled=None)) == [0, 1, 2]
    assert stream.getvalue() == ""


def test_an_automatic_bar_inside_a_quiet_block_is_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = fake_terminal(monkeypatch, delay=0.0)
    with _progress.progress_bar(2, desc="job", enabled=False):
        with _progress.progress_bar(3, desc="inner", enabled=None) as inner:
            assert not _progress.is_shown(inner)
        # Asked for explicitly, it shows all the same.
        with _progress.progress_bar(3, desc="forced", enabled=True) as forced:
            assert _progress.is_shown(forced)
            forced.update(3)
    text = stream.getvalue()
    assert "inner" not in text and "forced" in text


def test_an_automatic_bar_inside_a_shown_bar_is_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = fake_terminal(monkeypatch, delay=0.0)
    with _progress.progress_bar(1, desc="outer", enabled=True) as outer:
        with _progress.progress_bar(3, desc="inner", enabled=None) as inner:
            assert _progress.is_shown(inner)
            inner.update(3)
        outer.update()
    text = stream.getvalue()
    assert "inner" in text
    # The outer bar stays on the last line; the inner one was cleared (leave=False).
    assert text.rstrip("\n").split("\n")[-1].split("\r")[-1].startswith("outer")


def test_no_bar_when_standard_error_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with _progress.progress_bar(3, desc="asked", enabled=True) as bar:
        assert not _progress.is_shown(bar)
        bar.update(3)
    assert capsys.readouterr().err == ""


def test_follow_runs_the_work_in_a_thread_and_moves_the_bar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = fake_terminal(monkeypatch, delay=0.0)
    counter = [0]
    threads = []

    def work() -> str:
        threads.append(threading.current_thread())
        counter[0] = 5
        return "done"

    with _progress.progress_bar(5, desc="kernel", unit="item") as bar:
        assert _progress.follow(work, bar, lambda: counter[0], every=0.01) == "done"
    assert threads[0] is not threading.current_thread()
    assert "5/5" in stream.getvalue()


def test_follow_raises_the_work_s_error_here(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_terminal(monkeypatch, delay=0.0)

    def work() -> None:
        raise MemoryError("too big")

    with (
        _progress.progress_bar(1, desc="kernel") as bar,
        pytest.raises(MemoryError, match="too big"),
    ):
        _progress.follow(work, bar, lambda: 0, every=0.01)


def test_follow_without_a_bar_runs_in_this_thread() -> None:
    with _progress.progress_bar(1, desc="quiet", enabled=False) as bar:
        assert _progress.follow(threading.current_thread, bar, lambda: 1) is (
            threading.current_thread()
        )


def test_an_interrupted_follow_stops_the_work_before_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ctrl-C while a kernel runs in the worker thread: the caller asks the work to stop
    # and waits for it, so no kernel keeps a core busy after the KeyboardInterrupt.
    fake_terminal(monkeypatch, delay=0.0)
    asked, ended = threading.Event(), threading.Event()

    def work() -> None:
        asked.wait(timeout=60)  # a long kernel that checks its stop flag
        ended.set()

    polls = [0]

    def done() -> int:
        polls[0] += 1
        if polls[0] == 2:
            raise KeyboardInterrupt
        return 0

    with _progress.progress_bar(1, desc="kernel") as bar, pytest.raises(KeyboardInterrupt):
        _progress.follow(work, bar, done, every=0.01, stop=asked.set)
    assert asked.is_set() and ended.is_set()
    assert not [t for t in threading.enumerate() if t.name == "custintel-progress"]


def test_a_bar_asked_not_to_stay_is_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = fake_terminal(monkeypatch, delay=0.0)
    with _progress.progress_bar(9, desc="validate", unit="step", leave=False) as bar:
        bar.update()
    text = stream.getvalue()
    assert "validate:" in text
    # Nothing of the bar is left on its line once it ends.
    assert text.split("\r")[-1].strip() == ""


def test_the_main_job_s_validation_leaves_no_stale_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    # custintel report validates, then fits: the fit's bar goes on from step 2, so the
    # validation bar must not stay on screen as a frozen "1/9" line above it.
    from custintel.datasets import make_transactions
    from custintel.pipeline import CustomerIntelligence

    tx = make_transactions(50, random_state=0).transactions
    stream = fake_terminal(monkeypatch, delay=0.0)
    CustomerIntelligence(verbose=True).validate(tx)
    text = stream.getvalue()
    assert "[1/9] validate" in text
    assert text.split("\r")[-1].strip() == ""


def test_verbose_lines_show_after_an_app_s_dict_config(monkeypatch: pytest.MonkeyPatch) -> None:
    # logging.config.dictConfig() disables every existing logger it does not name (its
    # default); an app that configures logging so still gets the lines it asked for with
    # verbose=True, and the logger's state is put back afterwards.
    import logging
    import logging.config

    from custintel.datasets import make_transactions
    from custintel.pipeline import CustomerIntelligence

    logger = logging.getLogger("custintel")
    monkeypatch.setattr(logger, "disabled", logger.disabled)  # restored after the test
    logging.config.dictConfig({"version": 1, "loggers": {"someone.else": {}}})
    assert logger.disabled
    tx = make_transactions(50, random_state=0).transactions
    stream = fake_terminal(monkeypatch, delay=0.0)
    CustomerIntelligence(verbose=True).validate(tx)
    assert "[1/9] validate" in stream.getvalue()
    assert logger.disabled
