"""custintel: customer intelligence on one transaction schema.

Segmentation, churn, lifetime value, cross-selling and 80/20 profitability,
all computed from a single customer-transaction table.
"""

from custintel._version import __version__
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
