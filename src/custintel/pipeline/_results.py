"""The result object of each step of the main job, and of the whole job.

Every step of :class:`~custintel.pipeline.CustomerIntelligence` is a function
in ``custintel.pipeline`` that takes explicit inputs and returns one of these
frozen objects, so a step can be run, tested or replaced on its own:
:meth:`CustomerIntelligence.from_steps` assembles a scoring pipeline from step
results, whichever code produced them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from custintel.schema import TransactionSchema

__all__ = [
    "CLVResult",
    "ChurnResult",
    "CrossSellResult",
    "CustomerSummary",
    "IntelligenceResult",
    "ProfitabilityResult",
    "SegmentsResult",
    "ValidatedLog",
]


@dataclass(frozen=True)
class ValidatedLog:
    """Result of the validate step: clean transactions and the window they cover.

    Attributes
    ----------
    frame : pandas.DataFrame
        Canonical transactions (:func:`~custintel.validate_transactions`),
        none after ``observation_end``.
    schema : TransactionSchema
        The resolved mapping.
    schema_mapping : dict
        Role to the user's column name.
    observation_end : pandas.Timestamp
        Last observed day.
    horizon : int
        Days of the churn window and the CLV horizon.
    """

    frame: pd.DataFrame
    schema: TransactionSchema
    schema_mapping: dict[str, str]
    observation_end: pd.Timestamp
    horizon: int

    @property
    def has_items(self) -> bool:
        """Whether items are mapped."""
        return "item_id" in self.frame.columns

    @property
    def has_costs(self) -> bool:
        """Whether costs (or margins) are mapped."""
        return "cost" in self.frame.columns

    @property
    def has_orders(self) -> bool:
        """Whether order ids are mapped."""
        return "order_id" in self.frame.columns

    @property
    def first_date(self) -> pd.Timestamp:
        """Day of the first transaction."""
        return pd.Timestamp(self.frame["timestamp"].min()).floor("D")

    @property
    def span_days(self) -> int:
        """Days from the first transaction to the observation end."""
        return int((self.observation_end - self.first_date).days)


@dataclass(frozen=True)
class CustomerSummary:
    """Result of the summarise step.

    Attributes
    ----------
    summary : pandas.DataFrame
        :func:`~custintel.summarize_customers` at the observation end.
    overview : dict
        ``n_rows``, ``n_customers``, ``n_orders``, ``first_date``,
        ``last_date``, ``total_revenue``, ``has_items``, ``has_costs``,
        ``time_unit``.
    margin : float
        Share of revenue that is profit, applied to the CLV.
    value_column : str
        ``total_margin`` when costs are mapped, else ``total_amount``: the
        value of tiers and ABC classes.
    """

    summary: pd.DataFrame
    overview: dict[str, Any]
    margin: float
    value_column: str


@dataclass(frozen=True)
class CLVResult:
    """Result of the CLV step.

    Attributes
    ----------
    model : CLVModel
        The chosen purchase model with Gamma-Gamma, fitted on the full period.
    selection : pandas.DataFrame
        ``holdout_mae``, ``log_likelihood`` and ``chosen`` per candidate.
    holdout : pandas.DataFrame
        ``frequency_holdout`` and ``predicted_holdout`` per calibration customer.
    """

    model: Any
    selection: pd.DataFrame
    holdout: pd.DataFrame


@dataclass(frozen=True)
class ChurnResult:
    """Result of the churn step.

    Attributes
    ----------
    model : ChurnClassifier
        Trained at ``observation_end - horizon``.
    backtest : BacktestResult or None
        Out of time; ``None`` when the history is too short (see ``notes``).
    features : list of str
        Customer features the model reads.
    notes : list of str
        Why the backtest was skipped, when it was.
    """

    model: Any
    backtest: Any
    features: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SegmentsResult:
    """Result of the segment step.

    Attributes
    ----------
    rfm, value_tiers, lifecycle : fitted segmenters
        ``RFMSegmenter``, ``ValueTierSegmenter`` and ``LifecycleSegmenter``.
    migration : SegmentMigration or None
        RFM segments ``horizon`` days before the observation end against those
        at the end.
    notes : list of str
        Why the migration was skipped, when it was.
    """

    rfm: Any
    value_tiers: Any
    lifecycle: Any
    migration: Any
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProfitabilityResult:
    """Result of the profitability step.

    Attributes
    ----------
    pareto : ParetoAnalysis
        On customer revenue, or margin when costs exist.
    whale : WhaleCurve or None
        On customer profit; ``None`` without costs.
    abc_thresholds : list of float
        Least value that earns class A and class B.
    """

    pareto: Any
    whale: Any
    abc_thresholds: list[float]


@dataclass(frozen=True)
class CrossSellResult:
    """Result of the cross-sell step.

    Attributes
    ----------
    recommender : CrossSellRecommender or None
        ``None`` without items and orders (see ``notes``).
    min_support : float or None
        Support the rules were mined at.
    notes : list of str
        Why there are no rules, when there are none.
    """

    recommender: Any
    min_support: float | None
    notes: list[str] = field(default_factory=list)

    @property
    def rules(self) -> pd.DataFrame | None:
        """The association rules, or ``None``."""
        return None if self.recommender is None else self.recommender.rules_


@dataclass(frozen=True)
class IntelligenceResult:
    """Everything one run of the main job found: the object the report reads.

    Attributes
    ----------
    log : ValidatedLog
    customers : CustomerSummary
    clv : CLVResult
    churn : ChurnResult
    segments : SegmentsResult
    profitability : ProfitabilityResult
    cross_sell : CrossSellResult
    scores : pandas.DataFrame
        :data:`~custintel.pipeline.CUSTOMER_COLUMNS` of every customer.
    data_quality : list of str
        Every data-quality message of the run, validation's first.
    timings : dict of str to float
        Seconds per step.
    """

    log: ValidatedLog
    customers: CustomerSummary
    clv: CLVResult
    churn: ChurnResult
    segments: SegmentsResult
    profitability: ProfitabilityResult
    cross_sell: CrossSellResult
    scores: pd.DataFrame
    data_quality: list[str]
    timings: dict[str, float]
