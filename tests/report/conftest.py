"""Fitted stand-ins for CustomerIntelligence and the reports written from them."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from custintel.cli import main
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
    from custintel.datasets import make_campaign
    from custintel.pipeline import CustomerIntelligence

    # Simulated customers with promotions and discounts, so the report has every section.
    tx = make_campaign(300, random_state=3).transactions
    ci = CustomerIntelligence(horizon=120).fit(tx)
    return write_report(ci, tmp_path_factory.mktemp("pipeline"))


# --- the real UCI Online Retail export (issue 16) -----------------------------------

ONLINE_RETAIL = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "online_retail.csv.gz"
)
ONLINE_RETAIL_ROLES = {
    "customer_id": "CustomerID",
    "timestamp": "InvoiceDate",
    "quantity": "Quantity",
    "unit_price": "UnitPrice",
    "order_id": "InvoiceNo",
    "item_id": "StockCode",
    "item_name": "Description",
    "region": "Country",
}
ONLINE_RETAIL_COMMAND = [
    "report",
    str(ONLINE_RETAIL),
    "--customer-id",
    "CustomerID",
    "--timestamp",
    "InvoiceDate",
    "--quantity",
    "Quantity",
    "--unit-price",
    "UnitPrice",
    "--order-id",
    "InvoiceNo",
    "--item",
    "StockCode",
    "--item-name",
    "Description",
    "--region",
    "Country",
    "--missing-ids",
    "drop",
    "--quiet",
]


def require_online_retail() -> None:
    if not ONLINE_RETAIL.exists():
        if os.environ.get("CI") == "true":
            raise FileNotFoundError(f"{ONLINE_RETAIL} is missing, but CI must have the shared data")
        pytest.skip(f"shared data absent ({ONLINE_RETAIL}); it is present in CI")


@pytest.fixture(scope="session")
def online_retail_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The issue's command, with default settings otherwise: (output folder, stdout).

    Session-scoped: the browser test opens the same report.
    """
    require_online_retail()
    out = tmp_path_factory.mktemp("online-retail") / "report"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        code = main([*ONLINE_RETAIL_COMMAND, "--out", str(out)])
    assert code == 0, printed.getvalue()
    return out, printed.getvalue()
