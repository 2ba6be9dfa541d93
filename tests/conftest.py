"""Shared fixtures: tiny hand-computed frames and the bundled CDNOW log."""

from __future__ import annotations

import pandas as pd
import pytest

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
