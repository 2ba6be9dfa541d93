"""The feature layer: the only code that turns transactions into customer rows.

Every estimator in custintel takes the tables built here rather than
recomputing features from transactions. Besides the documented builders,
``__all__`` holds the helpers the estimator packages share
(``canonical_order``, ``transaction_baskets``, ``active_periods``,
``lapse_durations``): they import them from here, never from a private module.
"""

from custintel.features._basket import (
    TransactionBaskets,
    basket_matrix,
    canonical_order,
    transaction_baskets,
)
from custintel.features._calibration import calibration_holdout_split
from custintel.features._churn import churn_features, make_churn_dataset
from custintel.features._cohorts import active_periods, lapse_durations
from custintel.features._early_life import (
    EARLY_LIFE_COLUMNS,
    early_life_features,
    make_early_life_dataset,
)
from custintel.features._profitability import (
    PROFITABILITY_COLUMNS,
    customer_attributes,
    customer_profitability,
)
from custintel.features._promotions import (
    CAMPAIGN_COLUMNS,
    DEAL_COLUMNS,
    campaign_outcomes,
    deal_sensitivity,
    on_promotion,
)
from custintel.features._regularity import add_litt, estimate_regularity, inter_purchase_log_sum
from custintel.features._summary import SUMMARY_COLUMNS, summarize_customers
from custintel.features._timeline import repeat_purchase_timeline

__all__ = [
    "CAMPAIGN_COLUMNS",
    "DEAL_COLUMNS",
    "EARLY_LIFE_COLUMNS",
    "PROFITABILITY_COLUMNS",
    "SUMMARY_COLUMNS",
    "TransactionBaskets",
    "active_periods",
    "add_litt",
    "basket_matrix",
    "calibration_holdout_split",
    "campaign_outcomes",
    "canonical_order",
    "churn_features",
    "customer_attributes",
    "customer_profitability",
    "deal_sensitivity",
    "early_life_features",
    "estimate_regularity",
    "inter_purchase_log_sum",
    "lapse_durations",
    "make_churn_dataset",
    "make_early_life_dataset",
    "on_promotion",
    "repeat_purchase_timeline",
    "summarize_customers",
    "transaction_baskets",
]
