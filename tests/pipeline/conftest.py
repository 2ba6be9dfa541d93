"""One fitted pipeline per test session, shared by the pipeline tests."""

from __future__ import annotations

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from custintel.datasets import make_transactions
from custintel.pipeline import CustomerIntelligence


@pytest.fixture(scope="session")
def pipeline_tx() -> pd.DataFrame:
    """Three years of 400 simulated customers, with items, costs and attributes."""
    return make_transactions(
        400, start="2022-01-01", acquisition_days=365, random_state=1
    ).transactions


@pytest.fixture(scope="session")
def fitted(pipeline_tx: pd.DataFrame) -> CustomerIntelligence:
    # One OpenMP thread: the churn booster is far faster on tiny data without thread hand-offs.
    with threadpool_limits(limits=1):
        return CustomerIntelligence(horizon=180).fit(pipeline_tx)
