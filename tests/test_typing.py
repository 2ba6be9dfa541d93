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


def test_every_public_estimator_names_what_it_reads() -> None:
    # X is a named alias of custintel.typing, never Any (issue 15)
    import custintel.basket
    import custintel.churn
    import custintel.clv
    import custintel.profitability
    import custintel.segmentation

    aliases = {
        "CustomerTable",
        "CustomerFeatures",
        "CustomerValues",
        "BasketsLike",
        "TransactionsLike",
    }
    seen = []
    for package in (
        custintel.segmentation,
        custintel.churn,
        custintel.clv,
        custintel.basket,
        custintel.profitability,
    ):
        for name in package.__all__:
            cls = getattr(package, name)
            if not isinstance(cls, type) or not hasattr(cls, "fit"):
                continue
            seen.append(name)
            for method in ("fit", "predict", "transform", "predict_proba", "predict_spend"):
                function = getattr(cls, method, None)
                annotation = getattr(function, "__annotations__", {}).get("X")
                if function is not None and annotation is not None:
                    assert annotation in aliases, (name, method, annotation)
    assert len(seen) >= 12, seen
