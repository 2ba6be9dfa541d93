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
"""

from __future__ import annotations

from typing import Any

from custintel._validation import as_pandas
from custintel.backends._engines import ENGINES, engine_of

__all__ = ["ENGINES", "dispatch", "engine_of"]

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
