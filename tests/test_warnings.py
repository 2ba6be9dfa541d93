"""custintel's warnings point at the caller's line and never touch global warning filters."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import pytest

from custintel.exceptions import (
    ConvergenceWarning,
    DataQualityWarning,
    collect_notes,
    quiet,
    warn,
)


def test_warning_points_at_this_line() -> None:
    with pytest.warns(DataQualityWarning) as caught:
        warn("rows dropped")  # the line the warning must name
    (record,) = caught
    assert record.filename == __file__
    assert "warn(" in Path(__file__).read_text().splitlines()[record.lineno - 1]


def test_warning_from_deep_inside_the_library_points_at_the_caller() -> None:
    import pandas as pd

    from custintel import summarize_customers

    tx = pd.DataFrame(
        {"customer_id": ["a", "a"], "timestamp": ["2024-01-01"] * 2, "amount": [1.0, 1.0]}
    )
    with pytest.warns(DataQualityWarning, match="exact duplicates") as caught:
        summarize_customers(tx)
    assert {r.filename for r in caught} == {__file__}


def test_collect_and_quiet_are_context_local_and_leave_filters_alone() -> None:
    before = list(warnings.filters)
    with collect_notes() as notes, pytest.warns((DataQualityWarning, ConvergenceWarning)):
        warn("first")
        warn("first")  # recorded once
        warn("not a data-quality note", ConvergenceWarning)
        with quiet():
            warn("silenced")
    assert notes == ["first"]
    assert warnings.filters == before

    seen: list[list[str]] = []

    def other_thread() -> None:
        with collect_notes() as mine, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warn("from the thread")
        seen.append(mine)

    with collect_notes() as outer:
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert seen == [["from the thread"]] and outer == []


def test_quiet_emits_nothing() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet():
            warn("nothing")
    assert caught == []


def test_a_model_fit_warning_points_at_the_callers_line() -> None:
    import pandas as pd

    from custintel.clv import GammaGammaModel
    from custintel.datasets import load_cdnow_summary

    summary = load_cdnow_summary()
    repeaters = summary.index[summary["frequency"] > 0]
    table = summary.copy()
    table.loc[repeaters[:3], "monetary_value"] = 0.0
    assert isinstance(table, pd.DataFrame)
    with pytest.warns(DataQualityWarning, match="mean repeat spend of 0") as caught:
        GammaGammaModel().fit(table)
    assert {r.filename for r in caught} == {__file__}
