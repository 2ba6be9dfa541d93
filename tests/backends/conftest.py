"""Fixtures for the backend tests: the same logs as pandas and a checker for every engine.

Every test runs a feature builder on a pandas frame (today's fast path) and on
the same rows converted to another engine, and asserts the results are the
same frame, every column, index, dtype and attr exactly (money is summed in
integer limbs on every engine, so summation order does not matter).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from custintel.datasets import make_transactions
from custintel.features import (
    calibration_holdout_split,
    make_churn_dataset,
    summarize_customers,
)

# (builder, keyword arguments) run on CDNOW; duplicates="keep": its 255 repeats are genuine.
CDNOW_CALLS: list[tuple[Callable[..., Any], dict[str, Any]]] = [
    (summarize_customers, {"observation_end": "1998-06-30", "duplicates": "keep"}),
    (summarize_customers, {"time_unit": "W", "duplicates": "keep"}),
    (
        calibration_holdout_split,
        {
            "calibration_end": "1997-09-30",
            "observation_end": "1998-06-30",
            "time_unit": "W",
            "duplicates": "keep",
        },
    ),
    (
        make_churn_dataset,
        {"cutoff": "1997-12-31", "horizon": 180, "min_history": 30, "duplicates": "keep"},
    ),
]

# make_transactions adds order ids, quantities, costs and attributes; the log below also
# has refunds, a refund-only customer and exact duplicates.
SIM_CALLS: list[tuple[Callable[..., Any], dict[str, Any]]] = [
    (summarize_customers, {"duplicates": "drop"}),
    (summarize_customers, {"refunds": "drop", "duplicates": "keep", "time_unit": "W"}),
    (
        calibration_holdout_split,
        {"calibration_end": "2024-03-31", "observation_end": "2024-11-30", "duplicates": "keep"},
    ),
    (
        make_churn_dataset,
        {"cutoff": "2024-06-30", "horizon": 120, "window": 45, "duplicates": "warn"},
    ),
]


def simulated_log(n_customers: int, random_state: int) -> pd.DataFrame:
    """Return a make_transactions log with refunds, a refund-only customer and duplicates.

    Attributes and items are plain strings and times microseconds: other engines have
    neither pandas' category order nor nanoseconds.
    """
    tx = make_transactions(n_customers, random_state=random_state).transactions
    for column in ("item_id", "customer_type", "region", "channel"):
        tx[column] = tx[column].astype(str)
    tx["timestamp"] = tx["timestamp"].dt.floor("us").astype("datetime64[us]")
    rng = np.random.default_rng(random_state)
    refunds = tx.sample(40, random_state=random_state).copy()
    refunds["amount"] = -refunds["amount"] * rng.uniform(0.2, 1.0, len(refunds))
    refunds["timestamp"] = refunds["timestamp"] + pd.Timedelta(days=3)
    refunds["order_id"] = refunds["order_id"] + 10_000_000
    refund_only = tx.iloc[[0]].copy()
    refund_only["customer_id"] = tx["customer_id"].max() + 1
    refund_only["order_id"] = 99_999_999
    refund_only["amount"] = -5.0
    duplicates = tx.sample(15, random_state=random_state + 1)
    out = pd.concat([tx, refunds, refund_only, duplicates], ignore_index=True)
    return out.loc[out["timestamp"] <= "2024-12-31"].reset_index(drop=True)


@pytest.fixture(scope="session")
def simulate() -> Callable[..., pd.DataFrame]:
    return simulated_log


@pytest.fixture(scope="session")
def sim_tx() -> pd.DataFrame:
    return simulated_log(2000, random_state=3)


def _run(function: Callable[..., Any], tx: Any, kwargs: dict[str, Any]) -> tuple[Any, set[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(tx, **kwargs)
    kinds = {w.category.__name__ for w in caught if w.category.__module__.startswith("custintel")}
    return result, kinds


def assert_same_frame(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Assert two customer tables are the same, every column to the last bit.

    Money is summed exactly (two integer limbs) on every engine, so no column
    depends on the order an engine adds rows in.
    """
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.attrs == expected.attrs


def check_same(
    convert: Callable[[pd.DataFrame], Any],
    tx: pd.DataFrame,
    calls: list[tuple[Callable[..., Any], dict[str, Any]]],
) -> None:
    """Run every call on pandas and on ``convert(tx)`` and compare the results."""
    native = convert(tx)
    for function, kwargs in calls:
        expected, expected_warnings = _run(function, tx, kwargs)
        got, got_warnings = _run(function, native, kwargs)
        assert got_warnings == expected_warnings, (function.__name__, kwargs)
        if isinstance(expected, tuple):  # make_churn_dataset: (X, y)
            assert_same_frame(got[0], expected[0])
            pd.testing.assert_series_equal(got[1], expected[1], check_exact=True)
        else:
            assert_same_frame(got, expected)


@pytest.fixture(scope="session")
def check() -> Callable[..., None]:
    return check_same


@pytest.fixture(scope="session")
def cdnow_calls() -> list[tuple[Callable[..., Any], dict[str, Any]]]:
    return CDNOW_CALLS


@pytest.fixture(scope="session")
def sim_calls() -> list[tuple[Callable[..., Any], dict[str, Any]]]:
    return SIM_CALLS
