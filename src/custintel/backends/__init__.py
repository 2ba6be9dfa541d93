"""The feature layer inside Polars, DuckDB and Spark, for logs that outgrow pandas.

:func:`custintel.features.summarize_customers`,
:func:`~custintel.features.calibration_holdout_split` and
:func:`~custintel.features.make_churn_dataset` accept a Polars DataFrame or
LazyFrame, a DuckDB relation or a Spark DataFrame as well as a pandas frame.
The transaction-to-customer step then runs inside that engine (lazily where it
is lazy, through `narwhals <https://narwhals-dev.github.io/narwhals/>`_), and
only the customer-level result comes back, as the same pandas frame the pandas
path returns.

Importing this package imports no engine; the engines and narwhals are
optional extras (``custintel[polars]``, ``custintel[duckdb]``,
``custintel[spark]``).

The customer feature *definitions* shared by the pandas path and the engines
(the per-customer aggregates of ``custintel.backends._aggregates``, evaluated
by numpy kernels or generated as engine expressions, and the column arithmetic
of ``custintel.backends._definitions``) are exported here too, so that
:mod:`custintel.features` and the engine builders import one definition. The
engine helpers that need narwhals (``prepare``, ``churn_table``, ``churn_rows``,
``early_life_table``, ``early_life_rows``)
are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from custintel._validation import as_pandas
from custintel.backends._aggregates import (
    CUSTOMER_AGGREGATES,
    HOLDOUT_AGGREGATES,
    LOW,
    Aggregate,
    aggregates_for,
    from_fixed,
    reduce_marked,
    to_fixed,
)
from custintel.backends._definitions import (
    CHURN_ATTRIBUTES,
    CHURN_DROPPED_COLUMNS,
    EARLY_LIFE_ATTRIBUTES,
    EARLY_LIFE_COLUMNS,
    TimeUnit,
    add_holdout_columns,
    btyd_no_purchase,
    btyd_table,
    check_calibration_end,
    check_cutoff,
    check_min_history,
    churn_columns,
    churn_days,
    collected_attribute,
    early_life_columns,
    money,
    positive_days,
    summary_columns,
    unit_days,
    warn_refund_only,
)
from custintel.backends._engines import ENGINES, engine_of
from custintel.backends._output import keep_categories

if TYPE_CHECKING:
    from custintel.backends._early_life import early_life_rows, early_life_table
    from custintel.backends._features import attribute_table, churn_rows, churn_table
    from custintel.backends._prepare import Prepared, prepare

__all__ = [
    "CHURN_ATTRIBUTES",
    "CHURN_DROPPED_COLUMNS",
    "CUSTOMER_AGGREGATES",
    "EARLY_LIFE_ATTRIBUTES",
    "EARLY_LIFE_COLUMNS",
    "ENGINES",
    "HOLDOUT_AGGREGATES",
    "LOW",
    "Aggregate",
    "Prepared",
    "TimeUnit",
    "add_holdout_columns",
    "aggregates_for",
    "attribute_table",
    "btyd_no_purchase",
    "btyd_table",
    "check_calibration_end",
    "check_cutoff",
    "check_min_history",
    "churn_columns",
    "churn_days",
    "churn_rows",
    "churn_table",
    "collected_attribute",
    "dispatch",
    "early_life_columns",
    "early_life_rows",
    "early_life_table",
    "engine_of",
    "from_fixed",
    "keep_categories",
    "money",
    "positive_days",
    "prepare",
    "reduce_marked",
    "summary_columns",
    "to_fixed",
    "unit_days",
    "warn_refund_only",
]

_FUNCTIONS = ("summarize_customers", "calibration_holdout_split", "make_churn_dataset")


def dispatch(function: str, tx: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one feature builder on a non-pandas frame inside its engine.

    Parameters
    ----------
    function : {"summarize_customers", "calibration_holdout_split", "make_churn_dataset"}
        Which builder.
    tx : polars.DataFrame, polars.LazyFrame, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        The transactions.
    *args, **kwargs
        The builder's other arguments.

    Returns
    -------
    Any
        What the pandas builder returns for the same data.

    Raises
    ------
    SchemaError
        When ``tx`` is not a frame of a supported engine (``reason="not_a_dataframe"``).
    ImportError
        When narwhals is not installed.
    """
    if function not in _FUNCTIONS:
        raise ValueError(f"function must be one of {_FUNCTIONS}, got {function!r}")
    if engine_of(tx) is None:
        as_pandas(tx)  # raises the usual not_a_dataframe SchemaError
        raise AssertionError("unreachable")  # pragma: no cover
    try:
        from custintel.backends import _features
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"running custintel inside {engine_of(tx)} needs narwhals ({exc}); install it with "
            "pip install 'custintel[polars]' (or [duckdb], [spark])"
        ) from exc
    return getattr(_features, function)(tx, *args, **kwargs)


def __getattr__(name: str) -> Any:
    """Load the engine helpers, which import narwhals, on first use."""
    if name in ("Prepared", "prepare"):
        from custintel.backends import _prepare

        return getattr(_prepare, name)
    if name in ("early_life_rows", "early_life_table"):
        from custintel.backends import _early_life

        return getattr(_early_life, name)
    if name in ("attribute_table", "churn_rows", "churn_table"):
        from custintel.backends import _features

        return getattr(_features, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """List the public names, loaded or not, with the module's other attributes."""
    return sorted(set(globals()) | set(__all__))
