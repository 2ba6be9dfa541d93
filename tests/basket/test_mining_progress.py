"""Progress bars while mining: on standard error in a terminal, silent elsewhere, same results."""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest

from custintel import _progress
from custintel.basket import CrossSellRecommender, choose_min_support, frequent_itemsets
from custintel.basket import _mining as mining
from custintel.basket._encode import encode_baskets

from .._terminal import fake_terminal


def _baskets(n: int = 3000, seed: int = 0) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [list(rng.choice(40, size=6, replace=False)) for _ in range(n)]


def _last_count(text: str) -> tuple[str, str]:
    """The last ``done/total`` a tqdm bar printed."""
    counts = re.findall(r"(\d+)/(\d+) \[", text)
    assert counts, text
    return counts[-1]


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_both_miners_show_a_bar_over_the_frequent_items(
    monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    matrix = encode_baskets(_baskets()).matrix
    quiet = mining.mine(matrix, 20, max_len=None, max_itemsets=10**6, engine=engine)  # type: ignore[arg-type]
    stream = fake_terminal(monkeypatch)
    shown = mining.mine(
        matrix,
        20,
        max_len=None,
        max_itemsets=10**6,
        engine=engine,  # type: ignore[arg-type]
        progress=True,
    )
    text = stream.getvalue()
    assert "frequent itemsets" in text and "item" in text
    # All 40 items are frequent; the bar ends full.
    assert _last_count(text) == ("40", "40")
    for a, b in zip(quiet.codes + quiet.counts, shown.codes + shown.counts, strict=True):
        np.testing.assert_array_equal(a, b)


def test_frequent_itemsets_bar_when_asked_and_none_when_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    baskets = _baskets()
    stream = fake_terminal(monkeypatch)
    shown = frequent_itemsets(baskets, min_support=0.01, progress=True)
    assert "frequent itemsets" in stream.getvalue()
    quiet = fake_terminal(monkeypatch)
    pd.testing.assert_frame_equal(
        frequent_itemsets(baskets, min_support=0.01, progress=False), shown
    )
    assert quiet.getvalue() == ""


def test_no_bar_when_standard_error_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    frequent_itemsets(_baskets(), min_support=0.01, progress=True)
    CrossSellRecommender(min_support=0.01).fit(_baskets(), progress=True)
    choose_min_support(_baskets(), target=(5, 50), progress=True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_an_automatic_bar_waits_for_slow_work(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = fake_terminal(monkeypatch)
    monkeypatch.setattr(_progress, "AUTO_DELAY", 60.0)
    frequent_itemsets(_baskets(), min_support=0.01)  # progress=None: quick, so no bar
    assert stream.getvalue() == ""
    monkeypatch.setattr(_progress, "AUTO_DELAY", 0.0)
    frequent_itemsets(_baskets(), min_support=0.01)
    assert "frequent itemsets" in stream.getvalue()


def test_the_recommender_and_the_support_walk_show_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = fake_terminal(monkeypatch)
    CrossSellRecommender(min_support=0.01).fit(_baskets(), progress=True)
    assert "frequent itemsets" in stream.getvalue()
    walk = fake_terminal(monkeypatch)
    choice = choose_min_support(_baskets(), target=(5, 50), progress=True)
    text = walk.getvalue()
    # One bar over the supports tried; the minings inside it show none of their own.
    assert "choose min support" in text and "frequent itemsets" not in text
    assert f"{len(choice.tried)}support" in text.replace(" ", "")


def test_the_search_kernel_stops_when_asked() -> None:
    from custintel.basket import _kernels as kernels

    matrix = encode_baskets(_baskets()).matrix
    by_rank = np.arange(40)
    rank_of = np.arange(40, dtype=np.int32)
    indptr, indices = kernels.restrict(
        matrix.indptr.astype(np.int64, copy=False), matrix.indices, rank_of
    )
    arguments = (indptr, indices, len(by_rank), np.zeros(1), False, 20, 0.0, 0, 10**6)
    progress = np.zeros(2, dtype=np.int64)
    status, n, *_ = kernels.search(*arguments, progress)
    assert status == kernels.STATUS_OK and n > 40 and progress[0] == 39
    progress = np.array([0, 1], dtype=np.int64)  # a stop request before the first node
    status, n, *_ = kernels.search(*arguments, progress)
    # It stops before expanding any node: the 40 single items, no pair.
    assert status == kernels.STATUS_CANCELLED and n == 40


def test_ctrl_c_while_mining_under_a_bar_stops_the_kernel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The interruption reaches the thread that draws the bar; the kernel, in the worker
    # thread, sees the stop request and ends with STATUS_CANCELLED before the error is raised.
    from custintel.basket import _kernels as kernels

    statuses: list[int] = []
    search = kernels.search

    def watched_search(*args: object) -> tuple[object, ...]:
        progress = args[-1]
        while progress[kernels.PROGRESS_STOP] == 0:  # type: ignore[index]
            threading.Event().wait(0.01)  # a long search: runs until Ctrl-C arrives
        found = search(*args)
        statuses.append(int(found[0]))
        return found

    polls = [0]
    real_follow = mining.follow

    def interrupted_follow(work: Any, bar: Any, done: Any, **kwargs: Any) -> Any:
        def interrupting_done() -> float:
            polls[0] += 1
            if polls[0] == 3:
                raise KeyboardInterrupt
            return float(done())

        return real_follow(work, bar, interrupting_done, **kwargs)

    monkeypatch.setattr(kernels, "search", watched_search)
    monkeypatch.setattr(mining, "follow", interrupted_follow)
    fake_terminal(monkeypatch, delay=0.0)
    matrix = encode_baskets(_baskets()).matrix
    with pytest.raises(KeyboardInterrupt):
        mining.mine(matrix, 20, max_len=None, max_itemsets=10**6, engine="numba", progress=True)
    assert statuses == [kernels.STATUS_CANCELLED]
    assert not [t for t in threading.enumerate() if t.name == "custintel-progress"]
