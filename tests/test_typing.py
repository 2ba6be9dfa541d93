"""The named input types: real unions for type checkers, and no engine imported at run time."""

from __future__ import annotations

import subprocess
import sys
import typing

import pandas as pd

from custintel import summarize_customers, validate_transactions
from custintel.pipeline import CustomerIntelligence
from custintel.typing import CustomerTable, DateLike, TransactionsLike


def test_aliases_name_the_engines() -> None:
    members = {str(m) for m in typing.get_args(TransactionsLike)}
    assert any("pandas" in m and "DataFrame" in m for m in members)
    for engine in ("polars.DataFrame", "polars.LazyFrame", "pyarrow.Table", "duckdb", "pyspark"):
        assert any(engine in m for m in members), engine
    assert CustomerTable is pd.DataFrame
    assert type(None) in typing.get_args(DateLike)


def test_public_entry_points_use_them() -> None:
    # annotations stay text (from __future__ import annotations): the engines need not exist
    for function in (summarize_customers, validate_transactions, CustomerIntelligence.score):
        first = next(iter(function.__annotations__.values()))
        assert first == "TransactionsLike", function


def test_importing_the_types_imports_no_engine() -> None:
    code = (
        "import sys, custintel.typing; "
        "print(sorted(m for m in ('polars', 'duckdb', 'pyspark') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
