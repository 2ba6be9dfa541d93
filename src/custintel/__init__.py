"""custintel: customer intelligence on one transaction schema.

Segmentation, churn, lifetime value, cross-selling and 80/20 profitability,
all computed from a single customer-transaction table.

``import custintel`` is light: it loads neither pandas nor scikit-learn. The
names below are loaded on first use (:pep:`562`), so
``from custintel import CustomerIntelligence`` imports the main job and what
it needs at that moment, and ``custintel --version`` answers at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from custintel._version import __version__

if TYPE_CHECKING:
    from custintel.exceptions import (
        ConvergenceError,
        ConvergenceWarning,
        DataQualityWarning,
        InvalidModelError,
        SchemaError,
    )
    from custintel.features import calibration_holdout_split, summarize_customers
    from custintel.pipeline import CustomerIntelligence
    from custintel.schema import DataQuality, TransactionSchema, validate_transactions

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "CustomerIntelligence",
    "DataQuality",
    "DataQualityWarning",
    "InvalidModelError",
    "SchemaError",
    "TransactionSchema",
    "__version__",
    "calibration_holdout_split",
    "summarize_customers",
    "validate_transactions",
]

#: The module each lazily loaded public name comes from (the imports above, for type checkers).
_LAZY: dict[str, str] = {
    "ConvergenceError": "custintel.exceptions",
    "ConvergenceWarning": "custintel.exceptions",
    "DataQualityWarning": "custintel.exceptions",
    "InvalidModelError": "custintel.exceptions",
    "SchemaError": "custintel.exceptions",
    "calibration_holdout_split": "custintel.features",
    "summarize_customers": "custintel.features",
    "CustomerIntelligence": "custintel.pipeline",
    "DataQuality": "custintel.schema",
    "TransactionSchema": "custintel.schema",
    "validate_transactions": "custintel.schema",
}


#: Subpackages reachable as attributes (``import custintel as ci; ci.features``), as
#: they were when this module imported them eagerly; each loads on first use.
_SUBPACKAGES = frozenset(
    {
        "backends", "basket", "churn", "clv", "datasets", "exceptions", "features",
        "pipeline", "plotting", "profitability", "report", "schema", "segmentation",
        "spark", "typing", "utils",
    }
)  # fmt: skip


def __getattr__(name: str) -> Any:
    """Import a public name's module (or a subpackage) on first use and keep it (:pep:`562`)."""
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")  # binds itself as an attribute
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    """List the public names, loaded or not, with the module's other attributes."""
    return sorted(set(globals()) | set(__all__))
