"""The result object of each step of the main job, and of the whole job.

Every step of :class:`~custintel.pipeline.CustomerIntelligence` is a function
in ``custintel.pipeline`` that takes explicit inputs and returns one of these
frozen objects, so a step can be run, tested or replaced on its own:
:meth:`CustomerIntelligence.from_steps` assembles a scoring pipeline from step
results, whichever code produced them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from custintel.schema import TransactionSchema

if TYPE_CHECKING:
    from custintel.schema import DataQuality

__all__ = [
    "CLVResult",
    "ChurnResult",
    "CrossSellResult",
    "CustomerSummary",
    "EarlyLifeResult",
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
    quality : DataQuality or None, default=None
        What cleaning did to the raw lines (read, kept, dropped, matched
        refunds, ...); ``None`` when the step was built by hand.
    policies : dict or None, default=None
        The cleaning keywords the log was validated with (``refunds``,
        ``unmatched_refunds``, ``missing_ids``, ``exclude_items``,
        ``duplicates``) and the ``observation_end`` asked for, so that
        :meth:`CustomerIntelligence.fit` can refuse a log validated
        differently from its own settings; ``None`` when built by hand.
    seconds : float or None, default=None
        How long validation took, when it was timed (not compared).
    """

    frame: pd.DataFrame
    schema: TransactionSchema
    schema_mapping: dict[str, str]
    observation_end: pd.Timestamp
    horizon: int
    quality: DataQuality | None = None
    policies: dict[str, Any] | None = None
    seconds: float | None = field(default=None, compare=False)

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
    notes : list of str, default=[]
        One sentence per candidate that did not fit (for example a Pareto/NBD
        fit that did not converge), with the reason.
    penalizer : float, default=0.0
        L2 penalty of the fits.
    holdout_days : int or None, default=None
        Length of the holdout period of the model choice.
    covariates : dict of str to list of str, default={}
        The attribute encoding the chosen model reads (``"<role>=<value>"``
        0/1 columns); empty when it reads none.
    """

    model: Any
    selection: pd.DataFrame
    holdout: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    penalizer: float = 0.0
    holdout_days: int | None = None
    covariates: dict[str, list[str]] = field(default_factory=dict)


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
        Why the backtest was skipped, or the horizon shortened, when it was.
    horizon : int or None, default=None
        Days of the churn window the model predicts (and the backtest
        tested): the pipeline's horizon, or a shorter one that the history
        can test (see ``notes``); ``None`` means ``log.horizon``.
    """

    model: Any
    backtest: Any
    features: list[str]
    notes: list[str] = field(default_factory=list)
    horizon: int | None = None

    @property
    def validated(self) -> bool:
        """Whether the model was backtested out of time (a churn headline may be given)."""
        return self.backtest is not None


@dataclass(frozen=True)
class SegmentsResult:
    """Result of the segment step.

    Attributes
    ----------
    rfm, value_tiers, lifecycle : fitted segmenters
        ``RFMSegmenter``, ``ValueTierSegmenter`` and ``LifecycleSegmenter``.
    migration : SegmentMigration or None
        RFM segments ``migration_days`` days before the observation end
        against those at the end.
    notes : list of str
        Why the migration was skipped or its period shortened, when it was.
    migration_days : int or None, default=None
        Days between the two segmentations: the horizon, or half the history
        when the horizon leaves too short a baseline; ``None`` when there is
        no migration (or, for a hand-built result, means the horizon).
    deals : pandas.DataFrame or None, default=None
        With a ``promotion``, ``discount`` or ``list_amount`` column: each
        customer's :func:`~custintel.features.deal_sensitivity` and
        ``deal_segment`` (:class:`~custintel.segmentation.DealSegmenter`);
        ``None`` without such columns.
    """

    rfm: Any
    value_tiers: Any
    lifecycle: Any
    migration: Any
    notes: list[str] = field(default_factory=list)
    migration_days: int | None = None
    deals: pd.DataFrame | None = None


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
        Why there are no rules, or why some were left out.
    item_names : pandas.Series or None, default=None
        Item id to name (the name most lines of the item carry), when
        ``item_name`` is mapped.
    skipped : str or None, default=None
        Why mining failed (too many itemsets, out of memory), when it did;
        the rest of the job runs without cross-sell rules.
    """

    recommender: Any
    min_support: float | None
    notes: list[str] = field(default_factory=list)
    item_names: pd.Series | None = None
    skipped: str | None = None

    @property
    def rules(self) -> pd.DataFrame | None:
        """The association rules, or ``None``.

        With ``item_names``, the columns ``antecedent_names`` and
        ``consequent_names`` (tuples of names, the id where an item has no
        name) follow ``antecedents`` and ``consequents``.
        """
        if self.recommender is None:
            return None
        rules: pd.DataFrame = self.recommender.rules_
        if self.item_names is None:
            return rules
        rules = rules.copy()
        at = rules.columns.get_loc("consequents") + 1
        rules.insert(at, "consequent_names", self._names(rules["consequents"]))
        rules.insert(at, "antecedent_names", self._names(rules["antecedents"]))
        return rules

    def name_of(self, items: Any) -> list[Any]:
        """Name each item id (the id itself when it has no name)."""
        names = {} if self.item_names is None else self.item_names.to_dict()
        return [None if i is None else names.get(str(i), i) for i in items]

    def _names(self, column: pd.Series) -> pd.Series:
        names = self.item_names.to_dict() if self.item_names is not None else {}
        out = np.empty(len(column), dtype=object)  # a list of tuples would become 2-D
        out[:] = [tuple(names.get(str(i), i) for i in items) for items in column]
        return pd.Series(out, index=column.index)


@dataclass(frozen=True)
class EarlyLifeResult:
    """Result of the early-life step: the value model of new customers, or why there is none.

    Attributes
    ----------
    model : EarlyLifeValueModel or None
        Trained out of time on earlier cohorts (their first ``max_age_days``
        days, and the ``horizon_days`` after each age as the label); ``None``
        when turned off (``early_life_days=None`` or 0) or skipped (see ``notes``).
    max_age_days : int or None
        Customers at most this many days past their first purchase on the
        scoring day get an ``early_life_value``; ``None`` when off.
    horizon_days : int or None
        Days of value the model predicts after the scoring day: the job's
        horizon, or shorter when the history holds too few customers with a
        full label window (see ``notes``).
    n_training_customers : int, default=0
        Customers of the earlier cohorts the model was trained on.
    notes : list of str
        Which customers get the value and why, a shortened horizon, or why
        the step was skipped.
    """

    model: Any
    max_age_days: int | None
    horizon_days: int | None
    n_training_customers: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Whether scores carry an ``early_life_value``."""
        return self.model is not None


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
    quality : DataQuality or None, default=None
        The cleaning ledger of the validate step (``log.quality``): lines
        read, kept, dropped and changed, with amounts.
    currency : str or None, default=None
        Currency of the amounts (for example ``"GBP"``), as the user gave it;
        ``None`` when unknown.
    discount_rate : float or None, default=None
        Annual discount rate of the CLV.
    early_life : EarlyLifeResult or None, default=None
        The early-life value model of new customers; ``None`` for results
        assembled without one.
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
    quality: DataQuality | None = None
    currency: str | None = None
    discount_rate: float | None = None
    early_life: EarlyLifeResult | None = None
