"""``CustomerIntelligence``: the whole customer-intelligence job in one estimator."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custintel._progress import progress_bar
from custintel._validation import ATTRIBUTE_ROLES, engine_or_pandas
from custintel.exceptions import CustintelWarning, SchemaError, collect_notes, plain, warn
from custintel.pipeline._covariates import (
    add_dummies,
    check_covariate_spec,
    check_encoding,
    customer_attribute_table,
)
from custintel.pipeline._early_life import (
    check_early_life_days,
    early_life_columns,
    early_life_feature_names,
    early_life_roles,
    early_life_step,
    early_life_values,
)
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
from custintel.pipeline._rows import (
    apply_thresholds,
    churn_features,
    customer_items,
    missing_columns_error,
    missing_features_error,
    scoring_roles,
)
from custintel.pipeline._steps import (
    STEPS,
    _summarize,
    churn_step,
    clv_step,
    cross_sell_step,
    profitability_step,
    require_history,
    segment_step,
    step,
    summarise_step,
    validate_step,
)
from custintel.schema import OPTIONAL_ROLES, TransactionSchema, validated_transactions
from custintel.typing import DateLike, TransactionsLike

__all__ = ["CUSTOMER_COLUMNS", "CustomerIntelligence", "load_bundle"]

logger = logging.getLogger("custintel")

#: Columns of :meth:`CustomerIntelligence.score`, in this order (index ``customer_id``).
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "total_amount",
    "rfm_score",
    "rfm_segment",
    "value_tier",
    "lifecycle_stage",
    "churn_probability",
    "p_alive",
    "expected_purchases",
    "expected_clv",
    "value_at_risk",
    "churn_reason",
    "abc_class",
    "recommendation_1",
    "recommendation_2",
    "recommendation_3",
    "early_life_value",
)

_DAYS_PER_MONTH = 30.4375

#: Customers at or above this churn probability get a ``churn_reason`` (the others
#: have no risk worth explaining, and the reasons cost time at scale).
REASON_THRESHOLD = 0.5

#: Parameters added after the first bundles, with the value those bundles ran with.
_LATER_PARAMS: dict[str, Any] = {
    "unmatched_refunds": "net",
    "missing_ids": "raise",
    "exclude_items": None,
    "penalizer": None,
    "clv_covariates": None,
    "max_rules": 5000,
    "max_basket_size": None,
    "currency": None,
    "n_jobs": None,
    "early_life_days": None,  # bundles before the early-life value had none
}

#: Allowed values of the cleaning policies (see :func:`~custintel.validate_transactions`).
REFUNDS = ("auto", "match", "net", "drop", "raise")
UNMATCHED_REFUNDS = ("net", "drop", "raise")
MISSING_IDS = ("raise", "drop")


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _check_exclude_items(value: Any) -> None:
    """Refuse an ``exclude_items`` that is neither None, a pattern nor a list of ids."""
    if value is None:
        return
    if isinstance(value, str):
        try:
            re.compile(value)
        except re.error as err:
            raise ValueError(
                f"exclude_items {value!r} is not a valid regular expression ({err}); pass a "
                "pattern such as 'POST|DOT|M|C2' or a list of item ids"
            ) from err
        return
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValueError(
            "exclude_items must be None, a regular expression (str) or a list of item ids, "
            f"got {type(value).__name__}"
        )
    bad = [v for v in value if not isinstance(v, (str, int, np.integer))]
    if bad:
        raise ValueError(
            f"exclude_items must hold item ids (text or whole numbers), got {plain(bad[0])!r}"
        )


def _same_date(a: Any, b: Any) -> bool:
    """Whether two observation ends asked for are the same (``None`` only equals ``None``)."""
    if a is None or b is None:
        return a is None and b is None
    try:
        return bool(pd.Timestamp(a) == pd.Timestamp(b))
    except (TypeError, ValueError):
        return bool(a == b)


def _exclude_items(value: Any) -> Any:
    """``exclude_items`` as validation takes it: a pattern, a tuple of ids, or None."""
    if value is None or isinstance(value, str):
        return value
    return tuple(str(v) for v in value)


def _text_column(values: np.ndarray) -> Any:
    """Return text with gaps as one dtype whatever the values: ``str`` where pandas infers it.

    An array of only ``None`` would stay ``object`` while one with some text
    becomes ``str`` (pandas 3): the column must not change type with the data.
    """
    series = pd.Series(values, dtype=object)
    infers_text = int(pd.__version__.split(".")[0]) >= 3 or pd.get_option("future.infer_string")
    return series.astype("str").array if infers_text else series.array


def _local_frame(tx: Any) -> Any:
    """Return transactions the main job reads on this machine: pandas, Polars or Arrow.

    A DuckDB relation is read through Arrow (the job validates and sorts on
    this machine anyway), so it fits and scores exactly as the same rows in
    pandas do. A Spark DataFrame is refused with the way to score it in Spark.
    """
    tx = engine_or_pandas(tx)
    module = type(tx).__module__ or ""
    if module.startswith("duckdb"):
        to_arrow = getattr(tx, "to_arrow_table", None) or tx.fetch_arrow_table
        return engine_or_pandas(to_arrow())
    if module.startswith("pyspark"):
        raise SchemaError(
            "CustomerIntelligence reads transactions on this machine; got a Spark DataFrame. "
            "Score it in Spark with custintel.spark.score(df, bundle_folder), or collect it "
            "first (df.toPandas()) when it fits in memory",
            reason="spark_frame",
        )
    return tx


class CustomerIntelligence(BaseEstimator):
    """Run segmentation, churn, CLV, cross-sell and 80/20 on one transaction log.

    ``fit`` runs every step of ``custintel report`` on a transaction log:
    validation, the customer summary, the CLV model (BG/NBD or Pareto/NBD,
    chosen on a calibration/holdout check, plus Gamma-Gamma), the churn
    classifier with an out-of-time backtest, RFM, value tiers and lifecycle
    stages, the Pareto and whale analysis, and association rules with
    per-customer recommendations when items are present. ``score`` turns
    transactions into one row per customer with every result, as of the day
    the model was fitted at (or an explicit ``as_of``), so a customer's row
    never depends on the other customers scored with it.

    Parameters
    ----------
    schema : TransactionSchema, dict or None, default=None
        Column mapping, resolved in ``fit``.
    horizon : int, default=365
        Days: the churn window and the CLV horizon.
    observation_end : date-like, optional
        Last day observed, inclusive; default: the day of the last transaction.
        Later transactions are left out. A time-zone-aware date counts in its
        own zone's wall-clock time, as timestamps do in
        :func:`~custintel.validate_transactions`: ``pd.Timestamp("2024-06-30
        00:30", tz="Asia/Tokyo")`` is 30 June.
    discount_rate : float, default=0.10
        Annual discount rate of the CLV.
    margin : float or None, default=None
        Share of revenue that is profit, for the CLV. ``None``: the overall
        margin of the cost column when costs are mapped, else 1.0 (revenue CLV).
    n_recommendations : int, default=3
        Recommended items per customer (the output has three columns; more
        are kept by the recommender only).
    min_support : float or None, default=None
        Minimum support of the association rules; ``None`` picks it from the
        number of baskets (at least 20 baskets, between 0.1 % and 1 %).
    refunds : {"auto", "match", "net", "drop", "raise"}, default="auto"
        Policy for return lines (negative quantities or amounts), of
        :func:`~custintel.validate_transactions`: ``"match"`` cancels or
        reduces the purchase each return reverses; ``"auto"`` is ``"match"``
        when ``item_id`` or ``order_id`` is mapped, else ``"net"``.
    unmatched_refunds : {"net", "drop", "raise"}, default="net"
        Under ``"match"``, what to do with a return that reverses no purchase
        in the data (for example one bought before the data start).
    missing_ids : {"raise", "drop"}, default="raise"
        Lines without a customer id: refuse them, or drop and count them
        (guest checkouts).
    exclude_items : sequence of str, str or None, default=None
        Item ids kept out of purchases and baskets (postage, fees, manual
        adjustments): a list of exact ids, or a regular expression that the
        whole id matches.
    duplicates : {"warn", "keep", "drop", "raise"}, default="warn"
        Policy for exact duplicate rows.
    penalizer : float or None, default=None
        L2 penalty of the BG/NBD and Pareto/NBD fits (see
        :class:`~custintel.clv.BetaGeoModel`); ``None`` is 0, the plain
        maximum likelihood. A small value (0.001 to 0.01) helps a fit that
        does not converge.
    clv_covariates : None, "auto" or list of str, default=None
        Customer attributes the CLV purchase models may read as covariates:
        ``"auto"`` for every mapped one of ``customer_type``, ``region`` and
        ``channel``, or a list of these roles (map your own column to a role
        in the schema). Each becomes 0/1 columns, one per value held by at
        least 1 % of customers (and 30), at most five besides the most
        frequent value. BG/NBD with these covariates (in its purchase and
        dropout processes) joins the model choice and are chosen only when they forecast the holdout
        better; ``clv_covariates_`` holds the encoding the chosen model reads.
    max_rules : int, default=5000
        Most association rules kept: the automatic minimum support aims at a
        few hundred to a few thousand rules, and when more are found the
        best ``max_rules`` are kept (by confidence, then lift) with a note.
    max_basket_size : int or None, default=500
        Orders with more distinct items than this (bulk orders, data
        errors) are left out of rule mining, with a note saying how many;
        ``None`` mines every order. One order of thousands of items would
        otherwise make every set of its items frequent.
    currency : str or None, default=None
        Currency of the amounts (e.g. ``"GBP"``), for the report; it changes
        no number.
    early_life_days : int or None, default=90
        Customers at most this many days past their first purchase on the
        scoring day get an ``early_life_value``: the net revenue the
        :class:`~custintel.acquisition.EarlyLifeValueModel` expects from them
        over the next ``early_life_horizon_`` days (the ``horizon``, shortened
        when the history is too short for it), from their first order and
        first days. Their BTYD forecast knows almost nothing about them; older
        customers get NaN. The model is trained out of time on earlier
        cohorts of the log, and skipped with a note when too few customers
        have a full label window. ``None`` or 0 turns it off.
    random_state : int or None, default=0
        Seed of the churn classifier (and of the early-life model).
    n_jobs : int or None, default=None
        Threads of the churn classifier's booster when fitting and scoring,
        with scikit-learn's meaning: ``None`` is one thread unless inside a
        :func:`joblib.parallel_config` context, ``-1`` every CPU. One
        thread is the default: on a busy 2-core machine two threads ran the
        churn model 1.6 times slower than one (on an idle one, 1.6 times
        faster). It changes no number.
    verbose : bool, default=False
        Log one line per step, with its time, to stderr.

    Attributes
    ----------
    schema_ : TransactionSchema
        The resolved mapping.
    observation_end_ : pandas.Timestamp
        Last observed day (midnight, no time zone); :meth:`score` scores as
        of this day unless given ``as_of``.
    overview_ : dict
        ``n_rows``, ``n_customers``, ``n_orders``, ``first_date``,
        ``last_date``, ``total_revenue``, ``has_items``, ``has_costs``,
        ``time_unit``.
    data_quality_ : list of str
        Every data-quality message raised while fitting.
    summary_ : pandas.DataFrame
        :func:`~custintel.summarize_customers` at the observation end.
    customers_ : pandas.DataFrame
        ``score`` of the training data: :data:`CUSTOMER_COLUMNS`.
    pareto_ : ParetoAnalysis
        On customer revenue, or margin when costs exist.
    whale_ : WhaleCurve or None
        On customer profit; ``None`` without costs.
    rfm_, value_tiers_, lifecycle_ : fitted segmenters
        ``RFMSegmenter``, ``ValueTierSegmenter`` and ``LifecycleSegmenter``.
    migration_ : SegmentMigration or None
        RFM segments ``horizon`` days before the observation end against
        those at the end (on the same cut points).
    deals_ : pandas.DataFrame or None
        Each customer's deal sensitivity and ``deal_segment`` (full-price,
        deal-responsive, deal-driven), when the data have a ``promotion``,
        ``discount`` or ``list_amount`` column; else ``None``.
    churn_model_ : ChurnClassifier
        Trained at ``observation_end - churn_horizon_``, with a leaf size of
        one twentieth of the customers (between 10 and the default 200).
    churn_horizon_ : int
        Days of the churn window: ``horizon``, or the longest shorter window
        an out-of-time backtest can test on this history (with a note in
        ``data_quality_``); ``churn_probability`` is the chance of no
        purchase within it.
    churn_backtest_ : BacktestResult or None
        Out of time: trained at ``observation_end - 2 * horizon``, tested at
        ``observation_end - horizon``; ``None`` when the history is too short.
    clv_model_ : CLVModel
        The chosen purchase model with Gamma-Gamma, fitted on the full period.
    clv_selection_ : pandas.DataFrame
        ``holdout_mae``, ``log_likelihood`` and ``chosen`` per candidate.
    clv_holdout_ : pandas.DataFrame
        ``frequency_holdout`` and ``predicted_holdout`` per calibration customer.
    clv_covariates_ : dict of str to list of str
        Per attribute role, the values with a 0/1 covariate column that the
        chosen CLV model reads (``"<role>=<value>"``); empty when it reads none.
    rules_ : pandas.DataFrame or None
        The association rules (one-item consequents); ``None`` without items.
    recommender_ : CrossSellRecommender or None
        ``None`` without items.
    margin_ : float
        Margin applied to the CLV.
    abc_thresholds_ : list of float
        Least value (revenue or margin) that earns class A and class B.
    early_life_ : EarlyLifeResult
        The early-life value model of new customers (``model`` is ``None``
        when turned off or skipped, with the reason in ``notes``).
    early_life_horizon_ : int or None
        Days of value that ``early_life_value`` forecasts; ``None`` without a model.
    timings_ : dict
        Seconds per step.
    result_ : IntelligenceResult
        The result object of every step (:func:`validate_step` ...
        :func:`cross_sell_step`) and the scores; the attributes above are the
        same objects, kept by name for convenience.

    Notes
    -----
    Scores do not depend on the batch. Every cut point (RFM bin edges, tier
    and ABC thresholds, the lifecycle's typical gap) is fitted in ``fit``,
    so :meth:`score_customers` is a pure row-wise function, and a fitted
    model scores as of one fixed reference day: ``observation_end_`` by
    default, or the ``as_of`` given to :meth:`score`. A customer scored
    alone, in a nightly file of a few customers or in the whole log gets
    the same row; transactions after the reference day are left out with a
    :class:`~custintel.exceptions.DataQualityWarning`. Hence:

    - for a nightly file of some customers' transactions, keep the default
      (or pass the same day, e.g. today's date, for every file);
    - to rescore the full history at a later day, pass ``as_of``
      explicitly, the same for every chunk: ``T``, ``days_since_last`` and
      the churn features then run to that day.

    Scoring needs every optional column the model was trained with (see
    :meth:`score`); other columns are ignored.

    With fewer than 100,000 customers the churn booster fits and predicts on
    one OpenMP thread, which is much faster than several on a busy machine.

    Examples
    --------
    >>> from custintel.datasets import make_transactions
    >>> tx = make_transactions(200, random_state=1, start="2022-01-01",
    ...                        acquisition_days=365).transactions
    >>> ci = CustomerIntelligence(horizon=180).fit(tx)
    >>> customers = ci.score(tx)
    >>> customers.equals(ci.customers_), list(customers.columns[:4])
    (True, ['frequency', 'recency', 'T', 'monetary_value'])

    A customer who lapsed long ago, scored alone, keeps the row of the whole log:

    >>> lapsed = customers.loc[customers["frequency"] >= 2, "T"].sub(
    ...     customers["recency"]).idxmax()
    >>> alone = ci.score(tx[tx["customer_id"] == lapsed])
    >>> alone.equals(customers.loc[[lapsed]]), bool(alone["p_alive"].iloc[0] < 0.05)
    (True, True)
    """

    def __init__(
        self,
        schema: TransactionSchema | Mapping[str, str] | None = None,
        *,
        horizon: int = 365,
        observation_end: Any = None,
        discount_rate: float = 0.10,
        margin: float | None = None,
        n_recommendations: int = 3,
        min_support: float | None = None,
        refunds: str = "auto",
        unmatched_refunds: str = "net",
        missing_ids: str = "raise",
        exclude_items: Any = None,
        duplicates: str = "warn",
        penalizer: float | None = None,
        clv_covariates: str | Sequence[str] | None = None,
        max_rules: int = 5000,
        max_basket_size: int | None = 500,
        currency: str | None = None,
        early_life_days: int | None = 90,
        random_state: int | None = 0,
        n_jobs: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.schema = schema
        self.horizon = horizon
        self.observation_end = observation_end
        self.discount_rate = discount_rate
        self.margin = margin
        self.n_recommendations = n_recommendations
        self.min_support = min_support
        self.refunds = refunds
        self.unmatched_refunds = unmatched_refunds
        self.missing_ids = missing_ids
        self.exclude_items = exclude_items
        self.duplicates = duplicates
        self.penalizer = penalizer
        self.clv_covariates = clv_covariates
        self.max_rules = max_rules
        self.max_basket_size = max_basket_size
        self.currency = currency
        self.early_life_days = early_life_days
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # --- checks ------------------------------------------------------------------------

    def _check_params(self) -> int:
        horizon = self.horizon
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
            raise ValueError(f"horizon must be a whole number of days >= 1, got {horizon!r}")
        if not np.isfinite(self.discount_rate) or self.discount_rate <= -1:
            raise ValueError(
                f"discount_rate must be a finite annual rate > -1, got {self.discount_rate!r}"
            )
        if self.margin is not None and not (
            np.isfinite(self.margin) and 0 <= float(self.margin) <= 1
        ):
            raise ValueError(f"margin must be a share in [0, 1] or None, got {self.margin!r}")
        n = self.n_recommendations
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n_recommendations must be an integer >= 1, got {n!r}")
        _check_choice("refunds", self.refunds, REFUNDS)
        _check_choice("unmatched_refunds", self.unmatched_refunds, UNMATCHED_REFUNDS)
        _check_choice("missing_ids", self.missing_ids, MISSING_IDS)
        _check_exclude_items(self.exclude_items)
        penalizer = self.penalizer
        if penalizer is not None and (
            isinstance(penalizer, bool)
            or not isinstance(penalizer, (int, float, np.integer, np.floating))
            or not (np.isfinite(penalizer) and penalizer >= 0)
        ):
            raise ValueError(
                f"penalizer must be None or a finite number >= 0 (e.g. 0.001), got {penalizer!r}"
            )
        check_covariate_spec(self.clv_covariates)
        rules = self.max_rules
        if isinstance(rules, bool) or not isinstance(rules, (int, np.integer)) or rules < 1:
            raise ValueError(f"max_rules must be an integer >= 1, got {rules!r}")
        size = self.max_basket_size
        if size is not None and (
            isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1
        ):
            raise ValueError(f"max_basket_size must be None or an integer >= 1, got {size!r}")
        if self.currency is not None and (
            not isinstance(self.currency, str) or not self.currency.strip()
        ):
            raise ValueError(
                f"currency must be None or a non-empty text such as 'GBP', got {self.currency!r}"
            )
        check_early_life_days(self.early_life_days)
        n_jobs = self.n_jobs
        if n_jobs is not None and (
            isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0
        ):
            raise ValueError(
                f"n_jobs must be None or a non-zero whole number (-1 for every CPU), got {n_jobs!r}"
            )
        return int(horizon)

    def _cleaning(self) -> dict[str, Any]:
        """Return the cleaning policies as :func:`~custintel.validate_transactions` keywords."""
        return {
            "refunds": self.refunds,
            "unmatched_refunds": self.unmatched_refunds,
            "missing_ids": self.missing_ids,
            "exclude_items": _exclude_items(self.exclude_items),
            "duplicates": self.duplicates,
        }

    # --- fitting -----------------------------------------------------------------------

    def validate(self, tx: TransactionsLike) -> ValidatedLog:
        """Run only the first step, validation, with this pipeline's settings.

        :meth:`fit` does this itself. Calling it first lets the caller drop the
        raw frame before the other steps run: the validated log is a separate,
        sorted copy, so holding both doubles the memory of the log. The
        ``custintel report`` command reads, validates, lets go of the raw
        frame, then fits.

        Parameters
        ----------
        tx : pandas.DataFrame
            Transactions, as for :meth:`fit`.

        Returns
        -------
        ValidatedLog
            What :meth:`fit` accepts in place of ``tx``.

        Raises
        ------
        SchemaError
            For invalid transactions.

        Examples
        --------
        >>> from custintel.datasets import make_transactions
        >>> tx = make_transactions(200, random_state=1, start="2022-01-01",
        ...                        acquisition_days=365).transactions
        >>> ci = CustomerIntelligence(horizon=180)
        >>> log = ci.validate(tx)
        >>> del tx  # the raw frame can go now
        >>> ci.fit(log).customers_.shape[0] == log.frame["customer_id"].nunique()
        True
        """
        horizon = self._check_params()
        # The bar is cleared when validation ends: fit shows the job's bar from step 2.
        with self._progress(leave=False), collect_notes() as messages:
            log = self._validate(tx, horizon, {})
        self._validation_notes = list(messages)
        return log

    def _validate(
        self, tx: TransactionsLike, horizon: int, timings: dict[str, float]
    ) -> ValidatedLog:
        with step("validate", timings):
            log = validate_step(
                _local_frame(tx),
                horizon=horizon,
                schema=self.schema,
                observation_end=self.observation_end,
                **self._cleaning(),
            )
        return dataclasses.replace(log, seconds=timings["validate"])

    def _check_log(self, log: ValidatedLog, horizon: int) -> None:
        """Refuse a validated log whose settings are not this pipeline's."""
        fix = "validate it with this pipeline's own validate(tx), or fit the raw frame"
        if log.policies is None:
            raise ValueError(
                "fit got a ValidatedLog built by hand, so its cleaning policies are unknown; " + fix
            )
        wanted = {**self._cleaning(), "observation_end": self.observation_end}
        got = {**log.policies, "exclude_items": _exclude_items(log.policies["exclude_items"])}
        for key, value in wanted.items():
            same = (
                _same_date(value, got.get(key))
                if key == "observation_end"
                else value == got.get(key)
            )
            if not same:
                raise ValueError(
                    f"fit got a log validated with {key}={got.get(key)!r}, but this pipeline "
                    f"has {key}={value!r}; {fix}"
                )
        if log.horizon != horizon:
            raise ValueError(
                f"fit got a log validated for horizon={log.horizon}, but this pipeline has "
                f"horizon={horizon}; {fix}"
            )
        if TransactionSchema.coerce(self.schema) != log.schema:
            raise ValueError(
                "fit got a log validated with another column mapping than this pipeline's "
                f"schema; {fix}"
            )

    @contextlib.contextmanager
    def _progress(self, *, done: int = 0, leave: bool = True) -> Iterator[None]:
        """Log each step's time to standard error while ``verbose`` is on.

        In a terminal a progress bar over the job's steps shows as well
        (``done`` steps already run), with the log lines above it; long steps
        nest their own bar below it (itemset mining). ``leave=False`` clears
        the bar when the block ends (validation, whose bar ``fit`` goes on with).
        """
        if not self.verbose:
            # A silent bar marks the job quiet: steps that show their own bar when
            # left to decide (progress=None, e.g. itemset mining) show none either.
            with progress_bar(None, desc="custintel", enabled=False):
                yield
            return
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("custintel: %(message)s"))
        previous_level, previous_disabled = logger.level, logger.disabled
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # logging.config.dictConfig() disables every logger it does not name unless told
        # otherwise (import-linter's command does so); verbose=True asks for these lines.
        logger.disabled = False
        try:
            with progress_bar(len(STEPS), desc="custintel", unit="step", initial=done, leave=leave):
                yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(previous_level)
            logger.disabled = previous_disabled

    def fit(self, tx: TransactionsLike | ValidatedLog, y: object = None) -> CustomerIntelligence:
        """Run every step on a transaction log.

        Parameters
        ----------
        tx : pandas.DataFrame or ValidatedLog
            Transactions, validated with :func:`~custintel.validate_transactions`;
            or the result of this pipeline's :meth:`validate`.
        y : None
            Ignored.

        Returns
        -------
        CustomerIntelligence
            The fitted pipeline.

        Raises
        ------
        SchemaError
            For invalid transactions, or a history too short for the churn
            model (shorter than ``horizon`` plus some data before it).
        ValueError
            For a ValidatedLog validated with other settings than this
            pipeline's (cleaning policies, observation end, horizon, schema).
        """
        horizon = self._check_params()
        earlier: list[str] = []
        if isinstance(tx, ValidatedLog):
            self._check_log(tx, horizon)
            earlier = list(getattr(self, "_validation_notes", []))
        # Warnings reach the caller as usual, pointing at their own line; the
        # data-quality ones are also kept for the report. No filter is touched.
        done = 1 if isinstance(tx, ValidatedLog) else 0
        # The steps read their transformers' pandas output, whatever the caller's
        # sklearn.set_config(transform_output=...) says.
        with (
            self._progress(done=done),
            collect_notes() as messages,
            config_context(transform_output="default"),
        ):
            self._fit(tx, horizon)
        self.data_quality_[:0] = [*earlier, *messages]  # the same list as result_.data_quality
        return self

    data_quality_: list[str]

    def _fit(self, tx: TransactionsLike | ValidatedLog, horizon: int) -> None:
        timings: dict[str, float] = {}
        if isinstance(tx, ValidatedLog):
            log = tx
            if log.seconds is not None:
                timings["validate"] = log.seconds
        else:
            log = self._validate(tx, horizon, timings)
        with step("summarise customers", timings):
            customers = summarise_step(log, margin=self.margin)
        require_history(log)
        with step("fit CLV models", timings):
            clv = clv_step(log, customers, penalizer=self.penalizer, covariates=self.clv_covariates)
        with step("train churn classifier", timings):
            churn = churn_step(log, customers, random_state=self.random_state, n_jobs=self.n_jobs)
        with step("fit early-life value model", timings):
            early_life = early_life_step(
                log,
                max_age_days=self.early_life_days,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
            )
        with step("segment customers", timings):
            segments = segment_step(log, customers)
        with step("Pareto and whale analysis", timings):
            profitability = profitability_step(log, customers)
        with step("mine rules and recommend", timings):
            cross_sell = cross_sell_step(
                log,
                min_support=self.min_support,
                max_rules=self.max_rules,
                max_basket_size=self.max_basket_size,
            )
        self._assemble(
            log, customers, clv, churn, segments, profitability, cross_sell, timings, early_life
        )

    @classmethod
    def from_steps(
        cls,
        log: ValidatedLog,
        customers: CustomerSummary,
        clv: CLVResult,
        churn: ChurnResult,
        segments: SegmentsResult,
        profitability: ProfitabilityResult,
        cross_sell: CrossSellResult,
        *,
        early_life: EarlyLifeResult | None = None,
        **params: Any,
    ) -> CustomerIntelligence:
        """Assemble a fitted pipeline from the results of its steps, whoever produced them.

        ``fit`` is :func:`validate_step`, :func:`summarise_step`,
        :func:`clv_step`, :func:`churn_step`, :func:`segment_step`,
        :func:`profitability_step` and :func:`cross_sell_step`, then this.
        Run the steps yourself to replace one, e.g. a CLV result with your
        own purchase model, and assemble the rest as usual.

        Parameters
        ----------
        log, customers, clv, churn, segments, profitability, cross_sell : step results
            The results of the seven steps.
        early_life : EarlyLifeResult or None, default=None
            The result of :func:`~custintel.pipeline.early_life_step`; ``None``:
            no ``early_life_value``.
        **params
            Parameters of :class:`CustomerIntelligence` that scoring reads
            (``discount_rate``, ``n_recommendations``, ``refunds``,
            ``duplicates``); ``horizon`` comes from ``log``.

        Returns
        -------
        CustomerIntelligence
            Fitted: it scores, saves, and its :attr:`result_` feeds the report.

        Examples
        --------
        >>> from custintel.datasets import make_transactions
        >>> from custintel.pipeline import (CustomerIntelligence, churn_step, clv_step,
        ...     cross_sell_step, profitability_step, segment_step, summarise_step,
        ...     validate_step)
        >>> tx = make_transactions(200, random_state=1, start="2022-01-01",
        ...                        acquisition_days=365).transactions
        >>> log = validate_step(tx, horizon=180)
        >>> customers = summarise_step(log)
        >>> ci = CustomerIntelligence.from_steps(
        ...     log, customers, clv_step(log, customers), churn_step(log, customers),
        ...     segment_step(log, customers), profitability_step(log, customers),
        ...     cross_sell_step(log))
        >>> ci.score(tx).equals(CustomerIntelligence(horizon=180).fit(tx).customers_)
        True
        """
        ci = cls(log.schema, horizon=log.horizon, margin=customers.margin, **params)
        ci._check_params()
        ci._assemble(
            log, customers, clv, churn, segments, profitability, cross_sell, {}, early_life
        )
        return ci

    def _assemble(
        self,
        log: ValidatedLog,
        customers: CustomerSummary,
        clv: CLVResult,
        churn: ChurnResult,
        segments: SegmentsResult,
        profitability: ProfitabilityResult,
        cross_sell: CrossSellResult,
        timings: dict[str, float],
        early_life: EarlyLifeResult | None = None,
    ) -> None:
        """Adopt the step results as fitted attributes, score every customer, keep the result."""
        self.schema_ = log.schema
        self.schema_mapping_ = log.schema_mapping
        self.observation_end_ = log.observation_end
        self.horizon_ = log.horizon
        self.churn_horizon_ = log.horizon if churn.horizon is None else int(churn.horizon)
        self.summary_ = customers.summary
        self.overview_ = customers.overview
        self.margin_ = customers.margin
        self.value_column_ = customers.value_column
        self.clv_model_ = clv.model
        self.clv_selection_ = clv.selection
        self.clv_holdout_ = clv.holdout
        self.clv_covariates_ = dict(clv.covariates)
        self.churn_model_ = churn.model
        self.churn_backtest_ = churn.backtest
        self.churn_features_ = list(churn.features)
        self.rfm_ = segments.rfm
        self.value_tiers_ = segments.value_tiers
        self.lifecycle_ = segments.lifecycle
        self.migration_ = segments.migration
        self.deals_ = segments.deals
        self.pareto_ = profitability.pareto
        self.whale_ = profitability.whale
        self.abc_thresholds_ = list(profitability.abc_thresholds)
        self.recommender_ = cross_sell.recommender
        self.rules_ = cross_sell.rules
        if cross_sell.min_support is not None:
            self.min_support_ = cross_sell.min_support
        if early_life is None:
            early_life = EarlyLifeResult(model=None, max_age_days=None, horizon_days=None)
        self.early_life_ = early_life
        self.early_life_horizon_ = early_life.horizon_days if early_life.active else None
        self.timings_ = timings
        self.data_quality_ = [
            *clv.notes,
            *churn.notes,
            *early_life.notes,
            *segments.notes,
            *cross_sell.notes,
        ]
        with step("score customers", timings):
            features = self._features(log.frame, log.observation_end, summary=customers.summary)
            self.customers_ = self.score_customers(features)
        self.result_ = IntelligenceResult(
            log=log,
            customers=customers,
            clv=clv,
            churn=churn,
            segments=segments,
            profitability=profitability,
            cross_sell=cross_sell,
            scores=self.customers_,
            data_quality=self.data_quality_,
            timings=timings,
            quality=log.quality,
            currency=self.currency,
            discount_rate=float(self.discount_rate),
            early_life=early_life,
        )

    # --- scoring -----------------------------------------------------------------------

    def _features(
        self,
        frame: pd.DataFrame,
        end: pd.Timestamp,
        *,
        summary: pd.DataFrame | None = None,
        validated: Any = None,
    ) -> pd.DataFrame:
        """Build the customer rows of validated transactions, none dated after ``end``.

        ``validated`` (scoring) is the validation of ``frame``, which the churn
        features reuse instead of validating again; the fit passes only the
        summary it already made, not its validation, which would keep a second
        copy of the log alive.
        """
        if summary is None:  # fit passes the summary it already made of the same rows
            summary = _summarize(frame, end)
        churn = churn_features(
            frame if validated is None else validated,
            cutoff=end,
            horizon=self.churn_horizon_,
            summary=summary,
        )
        features = summary.join(churn.drop(columns=summary.columns, errors="ignore"))
        if "cost" in frame.columns and "total_margin" in features.columns:
            # customer_profitability's revenue - cost, from the summary's exact sums (as the
            # Spark path computes it) instead of validating the log once more
            revenue = features["total_amount"].to_numpy()
            goods = revenue - features["total_margin"].to_numpy()
            features["profit"] = revenue - goods
        if "item_id" in frame.columns:
            features["items"] = customer_items(frame, features.index)
        early = early_life_columns(frame, end, getattr(self, "early_life_", None))
        if early is not None:
            features = features.join(early)
        # CLV covariates from the schema's other attribute columns (the roles come with
        # the churn features): each customer's most frequent value
        others = [n for n in getattr(self, "clv_covariates_", {}) if n not in ATTRIBUTE_ROLES]
        if others:
            table = customer_attribute_table(frame, others, observation_end=str(end.date()))
            features = features.join(table.reindex(features.index))
        features.attrs.update({"observation_end": str(end.date()), "time_unit": "D"})
        return features

    def _read_features(self) -> list[str]:
        """Name the customer features that the fitted models read when scoring."""
        names = ["frequency", "recency", "T", "monetary_value", "total_amount"]
        names += [self.value_column_, *self.churn_features_]
        names += list(getattr(self, "clv_covariates_", {}))
        if self.recommender_ is not None:
            names.append("items")
        names += early_life_feature_names(getattr(self, "early_life_", None))
        return list(dict.fromkeys(names))

    def check_transaction_columns(self, columns: Iterable[Any]) -> None:
        """Refuse transaction columns that lack one the fitted models read.

        :meth:`score` and :func:`~custintel.pipeline.score_file` run this
        check; callers that score elsewhere (e.g. :func:`custintel.spark.score`)
        run it first, so the error comes before any work.

        Parameters
        ----------
        columns : iterable
            Column names of the transactions.

        Raises
        ------
        SchemaError
            With ``reason="missing_column"``, naming each missing column, its
            role and the features made from it.
        """
        check_is_fitted(self, "clv_model_")
        read = self._read_features()
        explicit = [role for role in OPTIONAL_ROLES if getattr(self.schema_, role) is not None]
        needed = scoring_roles(self.schema_mapping_, read, explicit=explicit)
        for role in early_life_roles(getattr(self, "early_life_", None)):
            if role in self.schema_mapping_:  # the early-life features read it too
                needed[role] = self.schema_mapping_[role]
        for name in self.schema_.attributes:  # validation needs every one the schema names
            needed[name] = name
        present = {str(c) for c in columns}
        missing = {role: column for role, column in needed.items() if column not in present}
        if missing:
            raise missing_columns_error(missing, read)

    def _scoring_input(self, tx: Any) -> Any:
        """Refuse input without a column the model was trained with; drop unused role columns."""
        tx = _local_frame(tx)
        names = getattr(tx, "collect_schema", None)  # polars: names without a PerformanceWarning
        columns = names().names() if callable(names) else getattr(tx, "columns", None)
        if columns is None:
            return tx  # not a frame: validation says what it is
        self.check_transaction_columns(columns)
        if isinstance(tx, pd.DataFrame):
            # A column named like a role the model was not trained with would be validated
            # and summarised for nothing, and could fail validation; nothing reads it.
            used = set(self.schema_mapping_.values())
            unused = [c for c in tx.columns if c in OPTIONAL_ROLES and c not in used]
            if unused:
                tx = tx.drop(columns=unused)
        return tx

    def _validated(self, tx: Any, as_of: Any) -> Any:
        """Validate transactions to score, cut at ``as_of`` (default: the fitted day)."""
        day = self.observation_end_ if as_of is None else as_of
        try:
            return validated_transactions(tx, self.schema_, observation_end=day, **self._cleaning())
        except SchemaError as err:
            # Validation names its argument observation_end; here the caller passed as_of.
            if err.reason == "bad_observation_end" and as_of is not None:
                raise SchemaError(
                    str(err).replace("observation_end", "as_of"), reason="bad_as_of"
                ) from err
            if err.reason == "empty" and "observation_end" in str(err):
                fitted = ", the day the model was fitted at" if as_of is None else ""
                raise SchemaError(
                    str(err).replace("observation_end", "as_of")
                    + f" (as_of is {pd.Timestamp(day).date()}{fitted})",
                    reason="empty",
                ) from err
            raise

    def customer_features(self, tx: TransactionsLike, *, as_of: DateLike = None) -> pd.DataFrame:
        """Turn transactions into the per-customer features that scoring reads.

        Parameters
        ----------
        tx : pandas.DataFrame or polars.DataFrame
            Transactions in the fitted schema, with every optional column the
            model was trained with (see :meth:`score`); other columns are
            ignored. Every row of a customer up to the scoring day must be in
            ``tx``; different customers may be scored in different calls.
        as_of : date-like, optional
            Day to score as of, inclusive; default: ``observation_end_``, the
            day the model was fitted at. Later transactions are left out with
            a :class:`~custintel.exceptions.DataQualityWarning`. A
            time-zone-aware date counts in its own zone's wall-clock time.

        Returns
        -------
        pandas.DataFrame
            One row per customer: the summary columns, the churn features,
            ``profit`` when costs are mapped, the attributes, ``items``
            (list of item ids bought) when items are mapped, and, when the
            job has an early-life model, the
            :func:`~custintel.features.early_life_features` of customers at
            most ``early_life_days`` old, prefixed ``early_life_`` (NaN for
            older customers).

        Raises
        ------
        SchemaError
            For invalid transactions; ``reason="missing_column"`` when a
            column the model was trained with is missing.
        """
        check_is_fitted(self, "clv_model_")
        validated = self._validated(self._scoring_input(tx), as_of)
        return self._features(validated.frame, pd.Timestamp(validated.end_day), validated=validated)

    def check_customer_features(self, columns: Iterable[Any]) -> None:
        """Refuse customer-row columns that lack a feature the fitted models read.

        :meth:`score_customers` runs this check; callers that score rows
        elsewhere (e.g. :func:`custintel.spark.score`, in Spark tasks) run it
        first, so the error comes before any work.

        Parameters
        ----------
        columns : iterable
            Column names of the customer rows.

        Raises
        ------
        SchemaError
            With ``reason="missing_column"``, naming each missing feature and
            the transaction column it is made from.
        """
        check_is_fitted(self, "clv_model_")
        present = {str(c) for c in columns}
        missing = [c for c in self._read_features() if c not in present]
        if missing:
            raise missing_features_error(missing, self.schema_mapping_)

    def score_customers(self, features: pd.DataFrame) -> pd.DataFrame:
        """Score customer feature rows with the fitted models (row by row).

        Parameters
        ----------
        features : pandas.DataFrame
            Output of :meth:`customer_features`, or any subset of its rows.
            Extra columns are ignored.

        Returns
        -------
        pandas.DataFrame
            :data:`CUSTOMER_COLUMNS`, indexed like ``features``.

        Raises
        ------
        SchemaError
            With ``reason="missing_column"`` when ``features`` lack a column
            the fitted models read, e.g. ``total_quantity`` of a model trained
            with quantities.
        """
        self.check_customer_features(features.columns)
        # The models' transformers hand pandas on, as when they were fitted, whatever
        # the caller's sklearn.set_config(transform_output=...) says.
        with config_context(transform_output="default"):
            return self._score_customers(features)

    def _score_customers(self, features: pd.DataFrame) -> pd.DataFrame:
        f = features
        horizon = self.horizon_
        rfm = self.rfm_.transform(f)
        tiers = self.value_tiers_.transform(f)
        stages = self.lifecycle_.transform(f)
        from joblib import parallel_config

        # A model loaded from a bundle has n_jobs=None: it follows this pipeline's n_jobs.
        with parallel_config(n_jobs=self.n_jobs):
            churn = self.churn_model_.predict_proba(f[self.churn_features_])[:, 1]
        clv = self.clv_model_
        # the covariate columns of a model that reads customer attributes
        encoding = getattr(self, "clv_covariates_", {})  # absent in older pickles: none
        f = add_dummies(f, f, encoding) if encoding else f
        months = max(1, round(horizon / _DAYS_PER_MONTH))
        monthly_rate = (1.0 + self.discount_rate) ** (1.0 / 12.0) - 1.0
        churn_days = int(getattr(self, "churn_horizon_", horizon))
        churn_months = max(1, round(churn_days / _DAYS_PER_MONTH))
        if len(f):
            p_alive = clv.purchase_model_.predict_proba_alive(f).to_numpy()
            purchases = clv.purchase_model_.predict_purchases(f, t=float(horizon)).to_numpy()
            value = clv.predict_clv(
                f,
                horizon=months,
                discount_rate=monthly_rate,
                margin=self.margin_,
                period_length=_DAYS_PER_MONTH,
            ).to_numpy()
            # the value at risk pairs P(churn within the churn window) with the CLV over
            # that same window, which is shorter when the history could not test the horizon
            value_in_window = (
                value
                if churn_months == months
                else clv.predict_clv(
                    f,
                    horizon=churn_months,
                    discount_rate=monthly_rate,
                    margin=self.margin_,
                    period_length=_DAYS_PER_MONTH,
                ).to_numpy()
            )
        else:
            p_alive = purchases = value = value_in_window = np.zeros(0)
        reasons = self._churn_reasons(f, churn)
        rfm_score = (
            rfm["r_score"].astype(str) + rfm["f_score"].astype(str) + rfm["m_score"].astype(str)
        )
        out = pd.DataFrame(
            {
                "frequency": f["frequency"].to_numpy(),
                "recency": f["recency"].to_numpy(),
                "T": f["T"].to_numpy(),
                "monetary_value": f["monetary_value"].to_numpy(),
                "total_amount": f["total_amount"].to_numpy(),
                "rfm_score": rfm_score.to_numpy(dtype=object),
                "rfm_segment": pd.Categorical(
                    rfm["segment"].astype(str), categories=list(self.rfm_.segments_)
                ),
                "value_tier": tiers["tier"].array,
                "lifecycle_stage": stages["stage"].array,
                "churn_probability": churn,
                "p_alive": p_alive,
                "expected_purchases": purchases,
                "expected_clv": value,
                # the expected loss: P(churn) times the CLV over the same (churn) window
                "value_at_risk": churn * value_in_window,
                "churn_reason": _text_column(reasons),
                "abc_class": apply_thresholds(
                    f[self.value_column_].to_numpy(dtype=float), self.abc_thresholds_
                ),
            },
            index=f.index.copy(),
        )
        recommended = self._recommendations(f)
        for k in range(1, 4):
            out[f"recommendation_{k}"] = recommended[k - 1]
        # NaN for customers older than early_life_days, and for bundles without the model
        out["early_life_value"] = early_life_values(getattr(self, "early_life_", None), f)
        out.index.name = "customer_id"
        return out[list(CUSTOMER_COLUMNS)]

    def _churn_reasons(self, f: pd.DataFrame, churn: np.ndarray) -> np.ndarray:
        """Return the strongest reason of each customer at risk (``REASON_THRESHOLD``), else None.

        A churn model put in by hand (:meth:`from_steps`) without an
        ``explain`` method gives no reasons.
        """
        reasons = np.full(len(f), None, dtype=object)
        at_risk = np.flatnonzero(churn >= REASON_THRESHOLD)
        explain = getattr(self.churn_model_, "explain", None)
        if not len(at_risk) or explain is None:
            return reasons
        try:
            why = explain(f[self.churn_features_].iloc[at_risk], top=1)
        except ValueError as err:  # a bundle saved before the export carried node counts
            warn(
                f"churn_reason is empty: {err}. Refit and save the bundle again to get reasons.",
                CustintelWarning,
            )
            return reasons
        reasons[at_risk] = why["reason_1"].to_numpy(dtype=object)
        return reasons

    def _recommendations(self, f: pd.DataFrame) -> list[np.ndarray]:
        empty = [np.full(len(f), None, dtype=object) for _ in range(3)]
        if self.recommender_ is None or "items" not in f.columns or not len(f):
            return empty
        n = min(3, int(self.n_recommendations))
        table = self.recommender_.recommend_items(f["items"].reset_index(drop=True), n=n)
        for k in range(1, n + 1):
            empty[k - 1] = table[f"item_{k}"].to_numpy(dtype=object)
        return empty

    def score(self, tx: TransactionsLike, *, as_of: DateLike = None) -> pd.DataFrame:
        """Score transactions: one row per customer with every result.

        A fitted model scores as of one fixed day, so a customer's row never
        depends on the other customers in ``tx``: alone, in a nightly file
        of a few customers or in the whole log, it is the same. For a
        nightly file keep the default (or pass today's date for every file);
        to rescore the full history at a later day, pass ``as_of``
        explicitly, the same for every chunk.

        Parameters
        ----------
        tx : pandas.DataFrame or polars.DataFrame
            Transactions in the fitted schema: every row of each customer
            scored, up to the scoring day.
        as_of : date-like, optional
            Day to score as of, inclusive; default: ``observation_end_``, the
            day the model was fitted at. Later transactions are left out with
            a :class:`~custintel.exceptions.DataQualityWarning` that counts
            them. A time-zone-aware date counts in its own zone's wall-clock
            time.

        Returns
        -------
        pandas.DataFrame
            :data:`CUSTOMER_COLUMNS`, indexed by ``customer_id`` (ascending).

        Raises
        ------
        SchemaError
            For invalid transactions; ``reason="missing_column"`` when a
            column the model was trained with is missing (see the Notes).

        Notes
        -----
        The optional columns a model was trained with, and what scoring
        reads from each:

        - ``order_id``: ``n_orders`` (a churn feature);
        - ``quantity``: ``total_quantity`` (a churn feature);
        - ``cost`` or ``margin``: ``total_margin`` (a churn feature, and the
          value of the value tier and ABC class);
        - ``channel``, ``region``, ``customer_type``: churn features;
        - ``item_id``: the recommendations (when the model makes them).

        Transactions without one of them are refused with a
        :class:`~custintel.exceptions.SchemaError` naming your column, not
        scored with a fallback: without ``item_id`` no score would change,
        but every recommendation would be blank, which reads as "nothing to
        recommend". Add the column, or refit the model on data without it.
        Columns the model was not trained with are ignored.
        """
        return self.score_customers(self.customer_features(tx, as_of=as_of))

    # --- persistence -------------------------------------------------------------------

    def save(self, path: str | Path, *, overwrite: bool = False, pickle: bool = False) -> Path:
        """Write the model bundle (a manifest and JSON files) to a folder, atomically.

        See :func:`custintel.pipeline._bundle.save_bundle` and the trust model
        on the guarantees page.

        Parameters
        ----------
        path : str or pathlib.Path
            Folder: new, empty, or holding an earlier bundle (any other file in
            it is kept).
        overwrite : bool, default=False
            Also write into a non-empty folder that is not a custintel bundle.
        pickle : bool, default=False
            Also write ``pipeline.joblib`` (opened only with ``trusted=True``).

        Returns
        -------
        pathlib.Path
            The folder; ``FileExistsError`` when it may not be written.
        """
        from custintel.pipeline._bundle import save_bundle

        return save_bundle(self, path, overwrite=overwrite, pickle=pickle)

    @classmethod
    def load(cls, path: str | Path, *, trusted: bool = False) -> CustomerIntelligence:
        """Load a bundle written by :meth:`save`; see :func:`load_bundle`.

        Parameters
        ----------
        path : str or pathlib.Path
            The bundle folder.
        trusted : bool, default=False
            Also open pickled files; only for bundles you wrote yourself.

        Returns
        -------
        CustomerIntelligence
            Ready to ``score``; training tables (``summary_``, ``customers_``
            and the like) are not part of a bundle.
        """
        return load_bundle(path, trusted=trusted)

    @classmethod
    def _from_bundle(cls, manifest: Mapping[str, Any], fitted: Mapping[str, Any]) -> Any:
        """Build a scoring pipeline from a verified bundle's manifest and models."""
        from custintel.exceptions import InvalidModelError

        def refuse(field: str, value: Any, allowed: str) -> InvalidModelError:
            return InvalidModelError(
                f"the bundle manifest's {field} is {value!r}; it must be {allowed}; "
                "save the bundle again with CustomerIntelligence.save",
                reason="bad_parameter",
            )

        params = manifest.get("params")
        expected = set(cls().get_params()) - {"schema"}
        if isinstance(params, Mapping):
            # Bundles written before these parameters existed ran with their defaults.
            params = {**_LATER_PARAMS, **params}
        if not isinstance(params, Mapping) or set(params) != expected:
            raise refuse("params", params, f"an object with the keys {sorted(expected)}")
        schema = manifest.get("schema_given")
        try:
            resolved = TransactionSchema(**schema) if schema else None
            ci = cls(resolved, **params)
            ci._check_params()
            TransactionSchema.coerce(ci.schema)
        except (TypeError, ValueError) as err:
            raise InvalidModelError(
                f"the bundle manifest's params or schema are invalid: {err}",
                reason="bad_parameter",
            ) from err
        window, scoring = manifest["training_window"], manifest["scoring"]
        mapping = manifest.get("schema")
        if not isinstance(mapping, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise refuse("schema", mapping, "an object mapping roles to column names")
        try:
            end = pd.Timestamp(window.get("observation_end"))
        except (TypeError, ValueError) as err:
            raise refuse("observation_end", window.get("observation_end"), "a date") from err
        horizon = window.get("horizon_days")
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise refuse("horizon_days", horizon, "a whole number >= 1")
        margin = scoring.get("margin")
        if (
            isinstance(margin, bool)
            or not isinstance(margin, (int, float))
            or not (0 <= margin <= 1)
        ):
            raise refuse("margin", margin, "a number in [0, 1]")
        if scoring.get("value_column") not in ("total_amount", "total_margin"):
            raise refuse(
                "value_column", scoring.get("value_column"), "total_amount or total_margin"
            )
        thresholds = scoring.get("abc_thresholds")
        if (
            not isinstance(thresholds, list)
            or len(thresholds) != 2
            or not all(
                t is None or (isinstance(t, (int, float)) and not isinstance(t, bool))
                for t in thresholds
            )
        ):
            raise refuse("abc_thresholds", thresholds, "two numbers (or null)")
        churn = fitted["churn_model_"]
        features = scoring.get("churn_features")
        if features != [str(c) for c in churn._names()]:
            raise refuse("churn_features", features, "the churn model's feature names")
        if pd.isna(end):
            raise refuse("observation_end", window.get("observation_end"), "a date")
        for attribute, value in fitted.items():
            setattr(ci, attribute, value)
        ci.schema_ = TransactionSchema.coerce(ci.schema)
        ci.schema_mapping_ = dict(mapping)
        ci.observation_end_ = end.floor("D")
        ci.horizon_ = int(horizon)
        churn_horizon = scoring.get("churn_horizon_days", horizon)  # absent before 0.x bundles
        if (
            isinstance(churn_horizon, bool)
            or not isinstance(churn_horizon, int)
            or not 1 <= churn_horizon <= horizon
        ):
            raise refuse("churn_horizon_days", churn_horizon, f"a whole number in [1, {horizon}]")
        ci.churn_horizon_ = churn_horizon
        purchase = getattr(fitted.get("clv_model_"), "purchase_model_", None)
        try:  # absent before bundles carried covariates: none
            ci.clv_covariates_ = check_encoding(
                scoring.get("clv_covariates"),
                purchase._covariate_columns() if purchase is not None else [],
                TransactionSchema.coerce(ci.schema).attributes,
            )
        except ValueError as err:
            raise refuse("clv_covariates", scoring.get("clv_covariates"), str(err)) from err
        ci.margin_ = float(margin)
        ci.value_column_ = scoring["value_column"]
        ci.abc_thresholds_ = [math.inf if v is None else float(v) for v in thresholds]
        ci.churn_features_ = list(features)
        ci.rules_ = ci.recommender_.rules_ if ci.recommender_ is not None else None
        # bundles saved before the early-life value have none: the column is NaN
        early = getattr(ci, "early_life_", None)
        if early is None:
            early = EarlyLifeResult(model=None, max_age_days=None, horizon_days=None)
        ci.early_life_ = early
        ci.early_life_horizon_ = early.horizon_days if early.active else None
        ci.manifest_ = dict(manifest)
        return ci


def load_bundle(path: str | Path, *, trusted: bool = False) -> CustomerIntelligence:
    """Load a model bundle written by :meth:`CustomerIntelligence.save`.

    The bundle is checked before anything in it is used: the manifest's
    format, every file's size and SHA-256, every path (a plain file name in
    the folder, no links), and every model's parameters (through its
    ``from_dict``). By default only JSON is read, so a hostile bundle cannot
    run code.

    Parameters
    ----------
    path : str or pathlib.Path
        The bundle folder.
    trusted : bool, default=False
        Also open the pickled ``pipeline.joblib`` (written with
        ``save(..., pickle=True)``) or a format-1 bundle's joblib files.
        Unpickling runs whatever code the file names: pass True only for
        bundles you wrote yourself.

    Returns
    -------
    CustomerIntelligence
        Ready to ``score``, as of the day it was fitted at.

    Raises
    ------
    InvalidModelError
        When the bundle is not a complete, unchanged bundle of a format this
        custintel reads, or any stored parameter is invalid.

    Warns
    -----
    BundleVersionWarning
        When the bundle was written by another custintel version.
    """
    from custintel.pipeline._bundle import read_bundle

    fitted = read_bundle(path, trusted=trusted)
    manifest = fitted.pop("manifest")
    loaded: CustomerIntelligence = CustomerIntelligence._from_bundle(manifest, fitted)
    return loaded
