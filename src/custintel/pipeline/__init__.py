"""The main job: every analysis on one transaction log, a model bundle and batch scoring.

:class:`CustomerIntelligence` runs what ``custintel report`` runs and scores
customers row by row; :func:`load_bundle` reads a saved bundle and
:func:`score_file` scores a large file in bounded memory. The job's named
steps (:func:`validate_step` ... :func:`cross_sell_step`) and their result
objects are public, so one step can be run, tested or replaced on its own and
the rest assembled with :meth:`CustomerIntelligence.from_steps`.
"""

from custintel.pipeline._bundle import BundleVersionWarning, is_bundle
from custintel.pipeline._early_life import FEATURE_PREFIX as EARLY_LIFE_FEATURE_PREFIX
from custintel.pipeline._early_life import early_life_feature_names, early_life_step
from custintel.pipeline._intelligence import CUSTOMER_COLUMNS, CustomerIntelligence, load_bundle
from custintel.pipeline._results import (
    ChurnResult,
    CLVResult,
    CrossSellResult,
    CustomerSummary,
    EarlyLifeResult,
    IntelligenceResult,
    ProfitabilityResult,
    SegmentsResult,
    ValidatedLog,
)
from custintel.pipeline._scoring import id_columns, output_frame, read_transactions, score_file
from custintel.pipeline._steps import (
    MIN_REGULARITY,
    STEPS,
    churn_step,
    clv_step,
    cross_sell_step,
    deal_segments,
    item_names,
    profitability_step,
    require_history,
    segment_step,
    summarise_step,
    validate_step,
)

__all__ = [
    "CUSTOMER_COLUMNS",
    "EARLY_LIFE_FEATURE_PREFIX",
    "MIN_REGULARITY",
    "STEPS",
    "BundleVersionWarning",
    "CLVResult",
    "ChurnResult",
    "CrossSellResult",
    "CustomerIntelligence",
    "CustomerSummary",
    "EarlyLifeResult",
    "IntelligenceResult",
    "ProfitabilityResult",
    "SegmentsResult",
    "ValidatedLog",
    "churn_step",
    "clv_step",
    "cross_sell_step",
    "deal_segments",
    "early_life_feature_names",
    "early_life_step",
    "id_columns",
    "is_bundle",
    "item_names",
    "load_bundle",
    "output_frame",
    "profitability_step",
    "read_transactions",
    "require_history",
    "score_file",
    "segment_step",
    "summarise_step",
    "validate_step",
]
