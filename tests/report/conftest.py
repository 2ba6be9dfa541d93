"""Fitted stand-ins for CustomerIntelligence and the reports written from them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from custintel.report import write_report

from ._fixture import fitted_namespace, without_optional_parts


@pytest.fixture(scope="session")
def ci_full() -> SimpleNamespace:
    """Every part fitted on simulated data with items and costs."""
    return fitted_namespace()


@pytest.fixture(scope="session")
def ci_minimal(ci_full: SimpleNamespace) -> SimpleNamespace:
    """No items, no costs, no backtest, no migration."""
    return without_optional_parts(ci_full)


@pytest.fixture(scope="session")
def full_report(ci_full: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A folder that does not exist yet: write_report creates it.
    path = write_report(ci_full, tmp_path_factory.mktemp("full") / "new" / "report.html")
    assert path.parent.name == "new"
    return path


@pytest.fixture(scope="session")
def minimal_report(ci_minimal: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(ci_minimal, tmp_path_factory.mktemp("minimal") / "report.html")


@pytest.fixture(scope="session")
def pipeline_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a real CustomerIntelligence fitted on simulated data."""
    from custintel.datasets import make_transactions
    from custintel.pipeline import CustomerIntelligence

    tx = make_transactions(200, random_state=3).transactions
    ci = CustomerIntelligence(horizon=120).fit(tx)
    return write_report(ci, tmp_path_factory.mktemp("pipeline"))
