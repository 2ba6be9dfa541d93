"""Fitted stand-ins for CustomerIntelligence and the reports written from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from custintel.pipeline import IntelligenceResult
from custintel.report import write_report

from ._fixture import fitted_result, without_optional_parts


@pytest.fixture(scope="session")
def ci_full() -> IntelligenceResult:
    """Every part fitted on simulated data with items and costs."""
    return fitted_result()


@pytest.fixture(scope="session")
def ci_minimal(ci_full: IntelligenceResult) -> IntelligenceResult:
    """No items, no costs, no backtest, no migration."""
    return without_optional_parts(ci_full)


@pytest.fixture(scope="session")
def full_report(ci_full: IntelligenceResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A folder that does not exist yet: write_report creates it.
    path = write_report(ci_full, tmp_path_factory.mktemp("full") / "new" / "report.html")
    assert path.parent.name == "new"
    return path


@pytest.fixture(scope="session")
def minimal_report(
    ci_minimal: IntelligenceResult, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return write_report(ci_minimal, tmp_path_factory.mktemp("minimal") / "report.html")


@pytest.fixture(scope="session")
def pipeline_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a real CustomerIntelligence fitted on simulated data."""
    from custintel.datasets import make_transactions
    from custintel.pipeline import CustomerIntelligence

    tx = make_transactions(200, random_state=3).transactions
    ci = CustomerIntelligence(horizon=120).fit(tx)
    return write_report(ci, tmp_path_factory.mktemp("pipeline"))
