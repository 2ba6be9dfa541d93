"""Shared fixtures: tiny hand-computed frames and the bundled CDNOW log."""

from __future__ import annotations

import pandas as pd
import pytest

from custintel import calibration_holdout_split
from custintel.datasets import load_cdnow


@pytest.fixture
def tiny_tx() -> pd.DataFrame:
    """Three customers; the expected summary is worked out in tests/features/test_summary.py."""
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c", "c"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:30",  # same day as the first: one occasion
                    "2024-01-11 00:00",
                    "2024-01-31 00:00",
                    "2024-01-20 00:00",
                    "2024-01-05 00:00",
                    "2024-01-25 00:00",  # a refund: never an occasion
                ]
            ),
            "amount": [10.0, 5.0, 20.0, 30.0, 7.0, 12.0, -4.0],
        }
    )


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="session")
def cdnow_sample() -> pd.DataFrame:
    return load_cdnow(sample=True)


def _weekly_split(tx: pd.DataFrame) -> pd.DataFrame:
    # The Fader-Hardie setup: calibrate on 1997-01-01..1997-09-30, hold out to 1998-06-30, weeks.
    return calibration_holdout_split(
        tx,
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit="W",
        duplicates="keep",
    )


@pytest.fixture(scope="session")
def cdnow_weeks(cdnow_sample: pd.DataFrame) -> pd.DataFrame:
    """The CDNOW 1/10 sample's calibration/holdout table in weeks (2,357 customers)."""
    return _weekly_split(cdnow_sample)


@pytest.fixture(scope="session")
def cdnow_full_weeks(cdnow: pd.DataFrame) -> pd.DataFrame:
    """The full CDNOW log's calibration/holdout table in weeks (23,570 customers)."""
    return _weekly_split(cdnow)
