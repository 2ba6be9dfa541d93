"""The feature layer: the only code that turns transactions into customer rows.

Every estimator in custintel takes the tables built here rather than
recomputing features from transactions.
"""

from custintel.features._basket import basket_matrix
from custintel.features._calibration import calibration_holdout_split
from custintel.features._churn import churn_features, make_churn_dataset
from custintel.features._profitability import (
    PROFITABILITY_COLUMNS,
    customer_attributes,
    customer_profitability,
)
from custintel.features._summary import SUMMARY_COLUMNS, summarize_customers
from custintel.features._timeline import repeat_purchase_timeline

__all__ = [
    "PROFITABILITY_COLUMNS",
    "SUMMARY_COLUMNS",
    "basket_matrix",
    "calibration_holdout_split",
    "churn_features",
    "customer_attributes",
    "customer_profitability",
    "make_churn_dataset",
    "repeat_purchase_timeline",
    "summarize_customers",
]
