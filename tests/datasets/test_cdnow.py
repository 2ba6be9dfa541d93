"""The bundled CDNOW log and its Fader-Hardie-Lee customer table."""

from __future__ import annotations

import pandas as pd
import pytest

from custintel.datasets import load_cdnow_summary


def test_summary_is_the_weekly_calibration_holdout_split(cdnow_weeks: pd.DataFrame) -> None:
    # conftest builds the same split by hand: 1997-09-30 / 1998-06-30, weeks, duplicates kept.
    X = load_cdnow_summary()
    pd.testing.assert_frame_equal(X, cdnow_weeks)
    assert len(X) == 2357 and X.index.name == "customer_id"
    assert X.attrs["time_unit"] == "W"


def test_summary_in_days() -> None:
    days, weeks = load_cdnow_summary(time_unit="D"), load_cdnow_summary()
    assert days.attrs["time_unit"] == "D"
    assert days["T"].to_numpy() == pytest.approx(7 * weeks["T"].to_numpy())
