"""The named steps of :class:`~custintel.pipeline.CustomerIntelligence`.

validate -> summarise -> CLV -> churn -> segment -> profitability -> cross-sell;
then the pipeline scores every customer. Each step is a function with explicit
inputs that returns one result object (``custintel.pipeline._results``). The
steps call the existing estimators and feature builders; none of them
recomputes a feature or a model of its own.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from custintel._progress import current_bar
from custintel.basket import MiningBudgetError
from custintel.exceptions import ConvergenceError, SchemaError, quiet
from custintel.pipeline._results import (
    ChurnResult,
    CLVResult,
    CrossSellResult,
    CustomerSummary,
    ProfitabilityResult,
    SegmentsResult,
    ValidatedLog,
)
from custintel.typing import DateLike, TransactionsLike

if TYPE_CHECKING:
    from custintel.clv import CLVModel
    from custintel.profitability import ParetoAnalysis

__all__ = [
    "CANDIDATES",
    "COVARIATE_CANDIDATES",
    "COVARIATE_SUFFIX",
    "MIN_BASELINE_DAYS",
    "MIN_CHURN_CUSTOMERS",
    "MIN_CHURN_HISTORY",
    "MIN_CHURN_HORIZON",
    "MIN_REGULARITY",
    "NESTED_CLV_MODEL",
    "REGULAR_CLV_MODEL",
    "STEPS",
    "abc_thresholds",
    "auto_min_support",
    "churn_horizon",
    "churn_step",
    "clv_step",
    "cross_sell_step",
    "deal_segments",
    "fit_clv",
    "item_names",
    "profitability_step",
    "require_history",
    "segment_step",
    "select_clv_model",
    "step",
    "summarise_step",
    "validate_step",
]

logger = logging.getLogger("custintel")

#: Candidate purchase models of the CLV step: display name -> class name in custintel.clv.
CANDIDATES: dict[str, str] = {"BG/NBD": "BetaGeoModel", "Pareto/NBD": "ParetoNBDModel"}
#: The model both candidates reduce to when the data show no dropout (a boundary solution).
NESTED_CLV_MODEL = "NBD"
#: The timing-regularity candidate, tried when purchase timing looks regular.
REGULAR_CLV_MODEL = "MBG/CNBD-k"
#: Wheat and Morrison's regularity estimate from which MBG/CNBD-k is tried (1 is Poisson
#: timing, the assumption of BG/NBD and Pareto/NBD).
MIN_REGULARITY = 1.5
#: Suffix of a candidate that reads customer attributes as covariates.
COVARIATE_SUFFIX = " + covariates"
#: The candidates that are also tried with covariates. Pareto/NBD is not: its covariate
#: likelihood integrates once per distinct covariate pattern, 24 s of CPU for 3,000
#: customers with six 0/1 columns against 0.4 s for BG/NBD's vectorised one.
COVARIATE_CANDIDATES: tuple[str, ...] = ("BG/NBD",)

_CLASSES = {**CANDIDATES, NESTED_CLV_MODEL: "NBDModel", REGULAR_CLV_MODEL: "MBGCNBDModel"}


def _candidate(
    name: str,
    *,
    penalizer: float | None = None,
    covariates: Sequence[str] = (),
    k: int | None = None,
) -> Any:
    """Return an unfitted purchase model of the candidate ``name``.

    ``"<model> + covariates"`` reads ``covariates`` in its purchase and its
    dropout process; ``k`` fixes MBG/CNBD-k's regularity (``None``: chosen
    by likelihood).
    """
    from custintel import clv

    base = name.removesuffix(COVARIATE_SUFFIX)
    kwargs: dict[str, Any] = {"penalizer": float(penalizer or 0.0)}
    if name.endswith(COVARIATE_SUFFIX):
        kwargs["purchase_covariates"] = list(covariates)
        kwargs["dropout_covariates"] = list(covariates)
    if base == REGULAR_CLV_MODEL:
        kwargs["k"] = k
    return getattr(clv, _CLASSES[base])(**kwargs)


#: Steps of ``fit``, in order, for the step log.
STEPS = (
    "validate",
    "summarise customers",
    "fit CLV models",
    "train churn classifier",
    "fit early-life value model",
    "segment customers",
    "Pareto and whale analysis",
    "mine rules and recommend",
    "score customers",
)


@contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    """Time one pipeline step and log one line with its time when it ends.

    The job's progress bar (when one is shown) names the step while it runs
    and advances by one when it ends.
    """
    bar = current_bar()
    if bar is not None:
        bar.set_description_str(name)
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    if bar is not None:
        bar.update()
    timings[name] = elapsed
    number = STEPS.index(name) + 1 if name in STEPS else 0
    logger.info("[%d/%d] %s: %.1f s", number, len(STEPS), name, elapsed)


def select_clv_model(
    tx: pd.DataFrame,
    *,
    end: pd.Timestamp,
    holdout_days: int,
    penalizer: float | None = None,
    covariates: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Fit the candidate purchase models on a calibration period and compare them on the holdout.

    The candidates are BG/NBD and Pareto/NBD; MBG/CNBD-k (regular purchase
    timing, Erlang-k gaps) when Wheat and Morrison's regularity estimate on
    the calibration period is at least :data:`MIN_REGULARITY`; and, when
    ``covariates`` are given, BG/NBD reading the customers' attributes in its
    purchase and dropout processes (``"BG/NBD + covariates"``; see
    :data:`COVARIATE_CANDIDATES`). The model with the lowest
    holdout MAE is chosen, so a richer model is chosen only where it
    forecasts the holdout better.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical transactions up to ``end``.
    end : pandas.Timestamp
        Observation end.
    holdout_days : int
        Length of the holdout period.
    penalizer : float or None, default=None
        L2 penalty of the fits (``None``: 0).
    covariates : mapping of str to list of str, optional
        Attribute encoding (see ``custintel.pipeline._covariates.fit_encoding``):
        per attribute role of ``tx``, the values that get a 0/1 column.

    Returns
    -------
    selection : pandas.DataFrame
        Indexed by candidate name: ``holdout_mae``, ``log_likelihood``,
        ``boundary`` (the fit ended on the edge of the parameter space: no
        dropout in the window), ``lr_statistic`` and ``lr_p_value`` (the
        likelihood-ratio test against the nested NBD model, p from the 50:50
        mixture of chi2(0) and chi2(1)), ``chosen``. When a candidate is at
        the boundary, a row ``"NBD"`` holds the nested model it reduces to,
        and the boundary candidate is compared as that model: it cannot be
        chosen itself.
    holdout : pandas.DataFrame
        ``frequency_holdout`` and ``predicted_holdout`` (chosen model) per
        calibration customer.
    chosen : str
        Name of the model with the lower holdout MAE (``"NBD"`` for the
        nested model).
    """
    choice = _select_clv_model(
        tx, end=end, holdout_days=holdout_days, penalizer=penalizer, covariates=covariates
    )
    return choice.selection, choice.holdout, choice.chosen


@dataclasses.dataclass
class _CLVChoice:
    """What the model choice found: the table, the chosen model and what it needs to refit."""

    selection: pd.DataFrame
    holdout: pd.DataFrame
    chosen: str
    notes: list[str]
    #: MBG/CNBD-k's k on the calibration period, when it was a candidate
    k: int | None = None


#: Columns of the log the purchase models' statistics come from.
TIMING_COLUMNS = ("customer_id", "timestamp", "amount")
#: Rows of the log the regularity check reads at most: beyond, a fixed share of the
#: customers (chosen by a hash of their id, so the same ones every run) with all their rows.
REGULARITY_ROWS = 1_000_000


def _regularity(tx: pd.DataFrame, calibration_end: pd.Timestamp) -> float | None:
    """Wheat and Morrison's regularity estimate on the calibration period (None: too few gaps).

    On a log of more than :data:`REGULARITY_ROWS` rows the estimate reads a
    sample of the customers: it is a variance over customers, and a
    million rows hold tens of thousands of them, while validating a 10M-row
    log again would cost seconds and half a gigabyte.
    """
    from custintel.features import estimate_regularity

    rows = tx[list(TIMING_COLUMNS)]
    if len(rows) > REGULARITY_ROWS:
        ids = rows["customer_id"].to_numpy()
        buckets = pd.util.hash_array(ids) % np.uint64(10_000)
        rows = rows[buckets < np.uint64(10_000 * REGULARITY_ROWS // len(rows))]
    try:
        with quiet():
            return float(
                estimate_regularity(
                    rows, observation_end=str(calibration_end.date()), duplicates="keep"
                )
            )
    except ValueError:
        return None


def _with_attributes(
    split: pd.DataFrame, tx: pd.DataFrame, covariates: Mapping[str, Sequence[str]], last: str
) -> pd.DataFrame:
    """``split`` with the 0/1 attribute columns of its customers, from their rows up to ``last``."""
    from custintel.pipeline._covariates import add_dummies, customer_attribute_table

    attributes = customer_attribute_table(tx, list(covariates), observation_end=last)
    return add_dummies(split, attributes, covariates)


def _select_clv_model(
    tx: pd.DataFrame,
    *,
    end: pd.Timestamp,
    holdout_days: int,
    penalizer: float | None,
    covariates: Mapping[str, Sequence[str]] | None = None,
) -> _CLVChoice:
    """:func:`select_clv_model`, plus one note per candidate that could not be fitted."""
    from custintel.features import add_litt, calibration_holdout_split
    from custintel.pipeline._covariates import dummy_columns

    calibration_end = end - pd.Timedelta(days=holdout_days)
    timing = tx[list(TIMING_COLUMNS)]  # what the purchase models read: no copy of the rest
    with quiet():
        split = calibration_holdout_split(
            timing,
            calibration_end=str(calibration_end.date()),
            observation_end=str(end.date()),
            duplicates="keep",
        )
    names = list(CANDIDATES)
    notes: list[str] = []
    regularity = _regularity(timing, calibration_end)
    if regularity is not None and regularity >= MIN_REGULARITY:
        with quiet():
            split = add_litt(split, timing, duplicates="keep")
        names.append(REGULAR_CLV_MODEL)
    columns = dummy_columns(covariates or {})
    if columns:
        split = _with_attributes(split, tx, covariates or {}, str(calibration_end.date()))
        names += [f"{name}{COVARIATE_SUFFIX}" for name in COVARIATE_CANDIDATES]
    duration = float(split["duration_holdout"].iloc[0])
    actual = split["frequency_holdout"].astype(float)
    rows: dict[str, dict[str, float]] = {}
    predictions: dict[str, pd.Series] = {}
    at_boundary: dict[str, Any] = {}
    k: int | None = None
    for name in names:
        try:
            with quiet():  # a boundary solution is said once, in the notes
                model = _candidate(name, penalizer=penalizer, covariates=columns).fit(split)
        except (ConvergenceError, ValueError) as err:
            logger.info("CLV candidate %s failed on the calibration period: %s", name, err)
            notes.append(_clv_failure(name, err, penalizer))
            rows[name] = {"holdout_mae": np.nan, "log_likelihood": np.nan, "boundary": False}
            continue
        if name == REGULAR_CLV_MODEL:
            k = int(model.params_["k"])
        predicted = model.predict_purchases(split, t=duration)
        predictions[name] = predicted
        rows[name] = {
            "holdout_mae": float(np.mean(np.abs(predicted.to_numpy() - actual.to_numpy()))),
            "log_likelihood": float(model.log_likelihood_),
            **_dropout_columns(model),
        }
        if rows[name]["boundary"]:
            at_boundary[name] = model
    if at_boundary:
        # Boundary candidates predict as the NBD fit they reduce to: compare that model.
        nested = next(iter(at_boundary.values())).nested_model_
        predicted = nested.predict_purchases(split, t=duration)
        predictions[NESTED_CLV_MODEL] = predicted
        rows[NESTED_CLV_MODEL] = {
            "holdout_mae": float(np.mean(np.abs(predicted.to_numpy() - actual.to_numpy()))),
            "log_likelihood": float(nested.log_likelihood_),
            "boundary": False,
        }
        notes.append(
            _no_dropout_note(
                at_boundary, f"the calibration period (up to {calibration_end.date()})"
            )
        )
    selection = pd.DataFrame.from_dict(rows, orient="index")
    if not predictions:
        raise SchemaError(
            "neither BG/NBD nor Pareto/NBD could be fitted on the calibration period "
            f"(up to {calibration_end.date()}): {'; '.join(notes)}. The data may hold too few "
            "repeat purchases; a penalizer (CustomerIntelligence(penalizer=0.01), --penalizer "
            "0.01) often helps",
            reason="clv_fit_failed",
        )
    selection["boundary"] = selection["boundary"].fillna(False).astype(bool)
    chosen = str(selection.loc[~selection["boundary"], "holdout_mae"].idxmin())
    selection["chosen"] = selection.index == chosen
    selection.index.name = "model"
    holdout = pd.DataFrame(
        {"frequency_holdout": actual, "predicted_holdout": predictions[chosen]},
        index=split.index,
    )
    if REGULAR_CLV_MODEL in rows:
        notes.append(_regularity_note(regularity, k, selection, chosen))
    if columns:
        notes.append(_covariates_note(covariates or {}, selection, chosen))
    return _CLVChoice(selection, holdout, chosen, notes, k)


def _outcome(selection: pd.DataFrame, chosen: str, names: Sequence[str]) -> str:
    """Say whether one of ``names`` was chosen, with the holdout MAEs that decided it."""
    mae = selection["holdout_mae"]
    tried = [n for n in names if n in mae.index and np.isfinite(mae[n])]
    if not tried:
        return "it could not be fitted"
    if chosen in names:
        others = mae[~mae.index.isin(names)].dropna()
        versus = f", best other model {float(others.min()):.3f}" if len(others) else ""
        return f"{chosen} was chosen (holdout MAE {float(mae[chosen]):.3f}{versus})"
    best = min(tried, key=lambda n: float(mae[n]))
    return (
        f"{best} was not chosen (holdout MAE {float(mae[best]):.3f} against "
        f"{float(mae[chosen]):.3f} for {chosen})"
    )


def _regularity_note(
    regularity: float | None, k: int | None, selection: pd.DataFrame, chosen: str
) -> str:
    """One sentence: timing looked regular, so MBG/CNBD-k was compared, and what came of it."""
    found = f", fitted k = {k}" if k is not None else ""
    return (
        f"CLV: purchase timing looks regular (Wheat and Morrison's estimate k = "
        f"{regularity:.2f} on the calibration period; 1 is the memoryless timing BG/NBD and "
        f"Pareto/NBD assume), so MBG/CNBD-k was compared too{found}; "
        + _outcome(selection, chosen, [REGULAR_CLV_MODEL])
        + "."
    )


def _covariates_note(
    covariates: Mapping[str, Sequence[str]], selection: pd.DataFrame, chosen: str
) -> str:
    """One sentence: which attributes were compared as covariates, and what came of it."""
    described = "; ".join(
        f"{role}: {', '.join(map(str, values))}" for role, values in covariates.items()
    )
    names = [f"{name}{COVARIATE_SUFFIX}" for name in COVARIATE_CANDIDATES]
    return (
        f"CLV: customer attributes were compared as covariates (0/1 columns for {described}; "
        "other values count as each attribute's most frequent one); "
        + _outcome(selection, chosen, names)
        + "."
    )


def _dropout_columns(model: Any) -> dict[str, Any]:
    """Return the boundary flag and the likelihood-ratio test against the NBD of a candidate."""
    test = getattr(model, "dropout_test_", None)
    if test is None:
        return {"boundary": False}
    return {
        "boundary": bool(model.boundary_),
        "lr_statistic": float(test.statistic),
        "lr_p_value": float(test.p_value),
    }


def _no_dropout_note(models: dict[str, Any], where: str) -> str:
    """One paragraph: which candidates reduced to the NBD model, the test, and what is used."""
    names = " and ".join(models)
    test = next(iter(models.values())).dropout_test_
    verb = "ends" if len(models) == 1 else "end"
    return (
        "CLV: no evidence of dropout in this window: P(alive) is 1 for everyone; forecasts "
        f"equal the NBD model's. On {where}, {names} {verb} on the edge of the parameter "
        "space, where the model reduces to the NBD model (Poisson purchases with "
        f"gamma-distributed rates, no dropout; {test.describe()}), so the NBD model "
        "takes its place in the model choice."
    )


def _clv_failure(name: str, err: Exception, penalizer: float | None) -> str:
    """One sentence: which CLV candidate failed, why, and what to try."""
    # The first sentence, without the estimates and the estimator's own advice.
    reason = str(err).split("\n")[0].split(". Try ")[0].rstrip(".")
    reason = re.sub(r";? ?parameters \[[^\]]*\]", "", reason)
    hint = (
        "a larger penalizer may help"
        if penalizer
        else "pass a penalizer (e.g. penalizer=0.001) to try it"
    )
    return f"CLV: {name} did not fit on the calibration period and was left out ({reason}); {hint}"


def fit_clv(
    summary: pd.DataFrame,
    chosen: str,
    *,
    penalizer: float | None = None,
    covariates: Sequence[str] = (),
    k: int | None = None,
) -> CLVModel:
    """Refit the chosen purchase model with Gamma-Gamma on the full period.

    Parameters
    ----------
    summary : pandas.DataFrame
        Customer summary at the observation end; for a covariate model with
        the ``covariates`` columns, for MBG/CNBD-k with ``litt``
        (:func:`custintel.features.add_litt`).
    chosen : str
        A key of :data:`CANDIDATES`, ``"NBD"`` (:data:`NESTED_CLV_MODEL`),
        ``"MBG/CNBD-k"`` (:data:`REGULAR_CLV_MODEL`), or one of these with
        :data:`COVARIATE_SUFFIX`.
    penalizer : float or None, default=None
        L2 penalty of the purchase model's fit (``None``: 0); Gamma-Gamma is
        fitted without one.
    covariates : sequence of str, default=()
        Covariate columns of a ``"... + covariates"`` model.
    k : int or None, default=None
        MBG/CNBD-k's regularity (``None``: chosen by likelihood again).

    Returns
    -------
    CLVModel
    """
    from custintel.clv import CLVModel

    purchase = _candidate(chosen, penalizer=penalizer, covariates=covariates, k=k)
    # The purchase model only: pulling Gamma-Gamma's parameters towards zero pushes q
    # below 1, where the mean spend does not exist.
    with quiet():  # clv_step notes a boundary solution
        return CLVModel(purchase_model=purchase).fit(summary)


def auto_min_support(n_baskets: int) -> float:
    """Pick a minimum support from the number of baskets.

    At least 20 baskets must hold an itemset, and the support is kept
    between 0.1 % and 1 %: low enough to find cross-sell pairs in a large
    catalogue, high enough that the rules rest on repeated evidence.
    """
    return float(min(0.01, max(0.001, 20.0 / max(n_baskets, 1))))


def abc_thresholds(pareto: ParetoAnalysis) -> list[float]:
    """Return the least value that earns class A and B in the fitted Pareto analysis.

    Scoring compares a customer's value with these thresholds, so it never
    depends on the other customers being scored. Customers tied on the value
    at a cut all get the higher class (``abc_classes`` splits such ties by id).
    """
    classes = pareto.abc_classes()
    values = pareto.table_["value"].reindex(classes.index)
    thresholds = []
    for label in ("A", "B"):
        upto = classes.isin(["A", "B"][: ["A", "B"].index(label) + 1])
        thresholds.append(float(values[upto].min()) if upto.any() else float("inf"))
    return thresholds


# --- the steps ---------------------------------------------------------------------------
#
# Each step takes explicit inputs and returns one result object (custintel.pipeline._results);
# CustomerIntelligence.fit runs them in this order, and from_steps assembles any results.

#: Fewest customers the churn classifier trains on.
MIN_CHURN_CUSTOMERS = 50


def _summarize(frame: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Summarise validated rows at ``end``; validation already reported what it found."""
    from custintel.features import summarize_customers

    with quiet():
        return summarize_customers(frame, observation_end=str(end.date()), duplicates="keep")


def validate_step(
    tx: TransactionsLike,
    *,
    horizon: int,
    schema: Any = None,
    refunds: str = "auto",
    unmatched_refunds: str = "net",
    missing_ids: str = "raise",
    exclude_items: Any = None,
    duplicates: str = "warn",
    observation_end: DateLike = None,
) -> ValidatedLog:
    """Validate a transaction log and fix the window it covers.

    Parameters
    ----------
    tx : pandas.DataFrame or polars.DataFrame
        Transactions.
    horizon : int
        Days of the churn window and the CLV horizon.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    refunds, unmatched_refunds, missing_ids, exclude_items, duplicates
        Cleaning policies of :func:`~custintel.validate_transactions`; what
        they did is counted in ``quality``.
    observation_end : date-like, optional
        Last observed day; default: the day of the last transaction. A
        time-zone-aware date counts in its own zone's wall-clock time.

    Returns
    -------
    ValidatedLog
    """
    from custintel.schema import TransactionSchema, validated_transactions

    resolved = TransactionSchema.coerce(schema)
    validated = validated_transactions(
        tx,
        resolved,
        refunds=refunds,
        unmatched_refunds=unmatched_refunds,
        missing_ids=missing_ids,
        exclude_items=exclude_items,
        observation_end=observation_end,
        duplicates=duplicates,
    )
    columns = getattr(tx, "columns", pd.Index([]))
    return ValidatedLog(
        frame=validated.frame,
        schema=resolved,
        schema_mapping=resolved.resolve(pd.Index(columns)),
        # the day validation cut at, parsed as it parses every date, or the latest day
        observation_end=pd.Timestamp(validated.end_day),
        horizon=int(horizon),
        quality=validated.quality,
        policies={
            "refunds": refunds,
            "unmatched_refunds": unmatched_refunds,
            "missing_ids": missing_ids,
            "exclude_items": exclude_items,
            "duplicates": duplicates,
            "observation_end": observation_end,
        },
    )


def summarise_step(log: ValidatedLog, *, margin: float | None = None) -> CustomerSummary:
    """Summarise customers at the observation end and fix the CLV margin.

    Parameters
    ----------
    log : ValidatedLog
        Result of :func:`validate_step`.
    margin : float or None, default=None
        Share of revenue that is profit; ``None``: the overall margin of the
        cost column when costs are mapped, else 1.0.

    Returns
    -------
    CustomerSummary
    """
    frame, end = log.frame, log.observation_end
    summary = _summarize(frame, end)
    overview = {
        "n_rows": len(frame),
        "n_customers": len(summary),
        "n_orders": int(frame["order_id"].nunique()) if log.has_orders else len(frame),
        "first_date": log.first_date,
        "last_date": pd.Timestamp(frame["timestamp"].max()).floor("D"),
        "total_revenue": float(frame["amount"].sum()),
        "has_items": log.has_items,
        "has_costs": log.has_costs,
        "time_unit": "D",
    }
    if margin is not None:
        share = float(margin)
    elif log.has_costs:
        revenue = float(summary["total_amount"].sum())
        share = float(summary["total_margin"].sum()) / revenue if revenue > 0 else 1.0
        share = float(np.clip(share, 0.0, 1.0))
    else:
        share = 1.0
    value_column = "total_margin" if log.has_costs else "total_amount"
    return CustomerSummary(
        summary=summary, overview=overview, margin=share, value_column=value_column
    )


def require_history(log: ValidatedLog) -> None:
    """Refuse a log no longer than the horizon: churn within it cannot be learned.

    Parameters
    ----------
    log : ValidatedLog
        Result of :func:`validate_step`.

    Raises
    ------
    SchemaError
        With ``reason="short_history"``.
    """
    span, horizon = log.span_days, log.horizon
    if span <= horizon:
        raise SchemaError(
            f"the data cover {span} days (from {log.first_date.date()} to "
            f"{log.observation_end.date()}), not more than the horizon of {horizon} days, so "
            "churn within the horizon cannot be learned; pass a shorter horizon (e.g. --horizon "
            f"{max(span // 3, 1)}) or more history",
            reason="short_history",
        )


def clv_step(
    log: ValidatedLog,
    customers: CustomerSummary,
    *,
    penalizer: float | None = None,
    covariates: Any = None,
) -> CLVResult:
    """Choose the purchase model on a holdout, then fit it with Gamma-Gamma on everything.

    Parameters
    ----------
    log, customers : ValidatedLog, CustomerSummary
        What :func:`validate_step` and :func:`summarise_step` returned.
    penalizer : float or None, default=None
        L2 penalty of the purchase-model fits (``None``: 0, plain maximum likelihood).
    covariates : None, "auto" or list of str, default=None
        Attribute roles (``customer_type``, ``region``, ``channel``) the
        models may read as covariates (``"auto"``: every mapped one); the
        covariate models are candidates beside the plain ones and are chosen
        only when they forecast the holdout better (see :func:`select_clv_model`).

    Returns
    -------
    CLVResult
        Its ``notes`` name each candidate that did not fit, and why, and say
        what the regularity check and the covariates came to.
    """
    from custintel.features import add_litt
    from custintel.pipeline._covariates import (
        covariate_roles,
        customer_attribute_table,
        dummy_columns,
        fit_encoding,
    )

    holdout_days = max(1, min(log.horizon, log.span_days // 2))
    roles = covariate_roles(
        covariates,
        [r for r in log.frame.columns if isinstance(r, str)],
        log.schema.attributes,
    )
    encoding: dict[str, list[str]] = {}
    notes: list[str] = []
    if roles:
        encoding = fit_encoding(customer_attribute_table(log.frame, roles), roles)
        if not encoding:
            notes.append(
                f"CLV: the attributes {roles} were not used as covariates: no value other "
                "than the most frequent one is held by enough customers "
                "(at least 1 % and 30 customers)."
            )
    choice = _select_clv_model(
        log.frame,
        end=log.observation_end,
        holdout_days=holdout_days,
        penalizer=penalizer,
        covariates=encoding,
    )
    notes = [*notes, *choice.notes]
    chosen, summary = choice.chosen, customers.summary
    used = encoding if chosen.endswith(COVARIATE_SUFFIX) else {}
    if used:
        summary = _with_attributes(summary, log.frame, used, str(log.observation_end.date()))
    if chosen == REGULAR_CLV_MODEL:
        with quiet():
            summary = add_litt(summary, log.frame[list(TIMING_COLUMNS)], duplicates="keep")
    model = fit_clv(
        summary, chosen, penalizer=penalizer, covariates=dummy_columns(used), k=choice.k
    )
    if getattr(model.purchase_model_, "boundary_", False):
        # Chosen on the calibration period, at the boundary on the whole history.
        where = f"the whole history (up to {log.observation_end.date()})"
        notes.append(_no_dropout_note({chosen: model.purchase_model_}, where))
    return CLVResult(
        model=model,
        selection=choice.selection,
        holdout=choice.holdout,
        notes=notes,
        penalizer=float(penalizer or 0.0),
        holdout_days=holdout_days,
        covariates=used,
    )


#: Shortest churn window the pipeline shortens the horizon to, in days.
MIN_CHURN_HORIZON = 28
#: Fewest days of history before the backtest's training cut-off (also at least half the window).
MIN_CHURN_HISTORY = 28


def _testable(span_days: int, horizon: int) -> bool:
    """Whether a backtest at ``horizon`` has enough history before its training cut-off."""
    return span_days - 2 * horizon >= max(MIN_CHURN_HISTORY, -(-horizon // 2))


def churn_horizon(span_days: int, horizon: int) -> int | None:
    """Return the longest churn window, up to ``horizon``, that an out-of-time backtest can test.

    The backtest trains at ``end - 2 * h`` and tests at ``end - h``, and the
    features before its training cut-off need some history: at least
    ``MIN_CHURN_HISTORY`` days and half the window.

    Parameters
    ----------
    span_days : int
        Days from the first transaction to the observation end.
    horizon : int
        The churn window asked for, in days.

    Returns
    -------
    int or None
        ``horizon`` when it can be tested; else the longest shorter window of
        at least ``MIN_CHURN_HORIZON`` days that can; ``None`` when none can.

    Examples
    --------
    >>> churn_horizon(1095, 180), churn_horizon(373, 365), churn_horizon(60, 30)
    (180, 149, None)
    """
    if _testable(span_days, horizon):
        return int(horizon)
    for h in range(min(int(horizon), span_days // 2), MIN_CHURN_HORIZON - 1, -1):
        if _testable(span_days, h):
            return h
    return None


def churn_step(
    log: ValidatedLog,
    customers: CustomerSummary,
    *,
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> ChurnResult:
    """Backtest the churn classifier out of time, then train it at ``end - window``.

    The window is the horizon when the history allows an out-of-time test of
    it: the backtest trains at ``end - 2 * window`` and tests at
    ``end - window``, with some history before its training cut-off (see
    :func:`churn_horizon`). When it does not, the window is shortened to the
    longest one that can be tested, with a note; when no window of at least
    four weeks can be tested, the model is trained at ``end - horizon``
    without a backtest, and the note says so (the report then gives no churn
    headline).

    The backtest's test table is the final model's training table: it is
    built once. Each table is built from masks on the validated log, not
    from copies of it.

    Parameters
    ----------
    log, customers : ValidatedLog, CustomerSummary
        What :func:`validate_step` and :func:`summarise_step` returned.
    random_state : int or None, default=0
        Seed of the classifier.
    n_jobs : int or None, default=None
        Threads of the churn booster (see
        :class:`~custintel.churn.ChurnClassifier`); ``None`` is one thread
        unless inside a :func:`joblib.parallel_config` context.

    Returns
    -------
    ChurnResult

    Raises
    ------
    SchemaError
        With ``reason="churn_training_failed"`` when the classifier cannot be
        trained at ``end - horizon``.
    """
    from sklearn.base import clone

    from custintel.churn import ChurnClassifier, backtest_tables
    from custintel.features import make_churn_dataset

    frame, end, requested = log.frame, log.observation_end, log.horizon
    notes: list[str] = []
    testable = churn_horizon(log.span_days, requested)
    horizon = requested if testable is None else testable
    if testable is not None and testable < requested:
        notes.append(
            f"churn horizon shortened from {requested} to {testable} days so it can be tested: "
            f"the data cover {log.span_days} days, and an out-of-time backtest at {requested} "
            f"days needs {2 * requested} days plus history before them; churn_probability is "
            f"the chance of no purchase in the next {testable} days"
        )
    train_cutoff = end - pd.Timedelta(days=horizon)
    options: dict[str, Any] = {"duplicates": "keep", "horizon": horizon}
    # The booster's default leaf size (200) leaves a few hundred customers without a
    # single split; scale it with the data, up to that default.
    leaf = int(np.clip(len(customers.summary) // 20, 10, 200))
    classifier = ChurnClassifier(
        horizon=horizon,  # the tables carry it too; the model must never guess it
        random_state=random_state,
        min_samples_leaf=leaf,
        min_customers=MIN_CHURN_CUSTOMERS,
        n_jobs=n_jobs,
    )
    result = None
    backtest_cutoff = end - pd.Timedelta(days=2 * horizon)
    try:
        with quiet():
            X, y = make_churn_dataset(frame, cutoff=str(train_cutoff.date()), **options)
    except ValueError as err:
        raise _training_failed(train_cutoff, err) from err
    if testable is not None:
        try:
            with quiet():
                train = make_churn_dataset(frame, cutoff=str(backtest_cutoff.date()), **options)
                result = backtest_tables(
                    train,
                    (X, y),
                    horizon=horizon,
                    models={
                        "ChurnClassifier": classifier,
                        "recency": "recency",
                        "BG/NBD": "bgnbd",
                    },
                )
            del train
        except ValueError as err:
            notes.append(f"churn backtest skipped: {err}")
    else:
        notes.append(
            f"churn backtest skipped: it needs {2 * horizon} days of history (train at "
            f"{backtest_cutoff.date()}, test at {train_cutoff.date()}) plus at least "
            f"{MIN_CHURN_HISTORY} days before them, and the data start on "
            f"{log.first_date.date()}; no churn window of {MIN_CHURN_HORIZON} days or more "
            "can be tested either, so the churn model is trained but not validated out of "
            "time and gets no headline"
        )
    try:
        with quiet():
            model = clone(classifier).fit(X, y)
    except ValueError as err:
        raise _training_failed(train_cutoff, err) from err
    return ChurnResult(
        model=model,
        backtest=result,
        features=[str(c) for c in model.feature_names_in_],
        notes=notes,
        horizon=int(horizon),
    )


def _training_failed(cutoff: pd.Timestamp, err: Exception) -> SchemaError:
    return SchemaError(
        f"the churn classifier cannot be trained at {cutoff.date()} "
        f"(observation end - horizon): {err}",
        reason="churn_training_failed",
    )


#: Fewest days of history before the migration's baseline day.
MIN_BASELINE_DAYS = 90


def segment_step(log: ValidatedLog, customers: CustomerSummary) -> SegmentsResult:
    """Fit RFM, value tiers and lifecycle stages, the migration, and deal segments.

    Deal segments (:class:`~custintel.segmentation.DealSegmenter` on
    :func:`~custintel.features.deal_sensitivity`) are found when the log has
    a ``promotion`` or ``discount`` column. The migration compares the RFM
    segments at the observation end with those one horizon earlier, when at
    least ``MIN_BASELINE_DAYS`` of
    history precede that day; otherwise with those half the history earlier
    (with a note), and it is skipped, with a note, when even that leaves
    less than ``MIN_BASELINE_DAYS`` on either side.

    Parameters
    ----------
    log, customers : ValidatedLog, CustomerSummary
        What :func:`validate_step` and :func:`summarise_step` returned.

    Returns
    -------
    SegmentsResult
    """
    result = _behaviour_segments(log, customers)
    deals = deal_segments(log)
    return result if deals is None else dataclasses.replace(result, deals=deals)


def deal_segments(log: ValidatedLog) -> pd.DataFrame | None:
    """Return each customer's deal sensitivity and deal segment, or ``None`` without deal columns.

    Parameters
    ----------
    log : ValidatedLog
        What :func:`validate_step` returned.

    Returns
    -------
    pandas.DataFrame or None
        :func:`~custintel.features.deal_sensitivity` columns and
        ``deal_segment``, indexed by ``customer_id``.
    """
    from custintel.features import deal_sensitivity
    from custintel.segmentation import DealSegmenter

    if not {"promotion", "discount"} & set(log.frame.columns):
        return None
    with quiet():  # the log was validated and its problems reported already
        table = deal_sensitivity(
            log.frame, observation_end=str(log.observation_end.date()), duplicates="keep"
        )
    table["deal_segment"] = DealSegmenter().fit_transform(table)["deal_segment"]
    return table


def _behaviour_segments(log: ValidatedLog, customers: CustomerSummary) -> SegmentsResult:
    from custintel.segmentation import (
        LifecycleSegmenter,
        RFMSegmenter,
        ValueTierSegmenter,
        segment_migration,
    )

    summary = customers.summary
    rfm = RFMSegmenter().fit(summary)
    tiers = ValueTierSegmenter(value=customers.value_column).fit(summary)
    lifecycle = LifecycleSegmenter().fit(summary)
    span, horizon = log.span_days, log.horizon
    days = horizon if span - horizon >= MIN_BASELINE_DAYS else min(horizon, span // 2)
    notes: list[str] = []
    if days < MIN_BASELINE_DAYS:
        note = (
            f"segment migration skipped: the data cover {span} days, too few to compare the "
            f"segments now with those of a baseline of at least {MIN_BASELINE_DAYS} days of "
            f"history {MIN_BASELINE_DAYS} or more days earlier"
        )
        return SegmentsResult(rfm, tiers, lifecycle, migration=None, notes=[note])
    if days < horizon:
        notes.append(
            f"segment migration compares now with {days} days ago, not one horizon "
            f"({horizon} days) ago: the data before then cover only {max(span - horizon, 0)} "
            "days, too few for a baseline"
        )
    before_end = log.observation_end - pd.Timedelta(days=days)
    earlier = log.frame.loc[log.frame["timestamp"] < before_end + pd.Timedelta(days=1)]
    if earlier.empty:
        note = f"no transaction on or before {before_end.date()}: segment migration skipped"
        return SegmentsResult(rfm, tiers, lifecycle, migration=None, notes=[note])
    before = _summarize(earlier, before_end)
    revenue = summary["total_amount"].sub(before["total_amount"], fill_value=0.0)
    migration = segment_migration(rfm.transform(before), rfm.transform(summary), revenue=revenue)
    return SegmentsResult(
        rfm, tiers, lifecycle, migration=migration, notes=notes, migration_days=days
    )


def profitability_step(log: ValidatedLog, customers: CustomerSummary) -> ProfitabilityResult:
    """Run the Pareto analysis (and the whale curve when costs exist); fix the ABC cuts.

    Parameters
    ----------
    log, customers : ValidatedLog, CustomerSummary
        What :func:`validate_step` and :func:`summarise_step` returned.

    Returns
    -------
    ProfitabilityResult
    """
    from custintel.features import customer_profitability
    from custintel.profitability import ParetoAnalysis, WhaleCurve

    pareto = ParetoAnalysis(column=customers.value_column, negative="clip").fit(customers.summary)
    whale = None
    if log.has_costs:
        with quiet():
            profit = customer_profitability(
                log.frame, observation_end=str(log.observation_end.date()), duplicates="keep"
            )
        whale = WhaleCurve().fit(profit)
    return ProfitabilityResult(pareto=pareto, whale=whale, abc_thresholds=abc_thresholds(pareto))


def cross_sell_step(
    log: ValidatedLog,
    *,
    min_support: float | None = None,
    max_rules: int | None = 5000,
    max_basket_size: int | None = 500,
) -> CrossSellResult:
    """Mine association rules and fit the recommender, when items and orders are mapped.

    Parameters
    ----------
    log : ValidatedLog
        Result of :func:`validate_step`.
    min_support : float or None, default=None
        Minimum support; ``None`` picks the highest support that finds a few
        hundred to a few thousand rules
        (:func:`~custintel.basket.choose_min_support`).
    max_rules : int or None, default=5000
        Most rules kept (the best by confidence, then lift); a note says how
        many were found when more were. ``None`` keeps them all.
    max_basket_size : int or None, default=500
        Orders with more items are left out of mining (and of the automatic
        support), with a note; ``None`` mines every order.

    Returns
    -------
    CrossSellResult
        With ``item_names`` when ``item_name`` is mapped.
    """
    from custintel.basket import CrossSellRecommender, choose_min_support
    from custintel.features import transaction_baskets

    frame = log.frame
    if log.has_items and log.has_orders:
        notes: list[str] = []
        support = None if min_support is None else float(min_support)
        try:
            if support is None:
                baskets = transaction_baskets(frame, level="order", context=False)
                labels = np.empty(len(baskets.items), dtype=object)
                labels[:] = baskets.items.tolist()
                matrix = baskets.matrix
                if max_basket_size is not None:
                    matrix = matrix[np.diff(matrix.indptr) <= max_basket_size]
                support = choose_min_support((matrix, labels)).min_support
            recommender = CrossSellRecommender(
                min_support=support, max_rules=max_rules, max_basket_size=max_basket_size
            ).fit(frame)
        except MINING_FAILURES as exc:
            reason = f"cross-sell skipped: mining the baskets failed ({_failure_text(exc)})"
            return CrossSellResult(None, support, [reason], skipped=reason)
        dropped = int(recommender.n_baskets_dropped_)
        if dropped:
            notes.append(
                f"cross-sell: {dropped:,} orders with more than {max_basket_size:,} items (bulk "
                "orders) were left out of rule mining; raise max_basket_size "
                "(--max-basket-size) to mine them"
            )
        found, kept = int(recommender.n_rules_found_), len(recommender.rules_)
        if found > kept:
            notes.append(
                f"cross-sell: {found:,} rules found at a minimum support of {support:.2%}; only "
                f"the best {kept:,} by confidence are kept (max_rules); raise max_rules "
                "(--max-rules) to keep more, or min_support to find fewer"
            )
        names = item_names(frame) if "item_name" in frame.columns else None
        return CrossSellResult(recommender, support, notes, item_names=names)
    notes = []
    if log.has_items:
        notes.append(
            "item_id is mapped but order_id is not, so there are no baskets to mine; "
            "map order_id for cross-sell rules"
        )
    return CrossSellResult(recommender=None, min_support=None, notes=notes)


#: What a failed mining run raises: the miner's budget (``MiningBudgetError``, with the
#: numbers and the fix) and an allocation the machine could not give.
MINING_FAILURES: tuple[type[BaseException], ...] = (MemoryError, MiningBudgetError)


def _failure_text(exc: BaseException) -> str:
    """Return the message of a mining failure, naming the out-of-memory case."""
    if isinstance(exc, MemoryError):
        return (
            "out of memory; raise min_support (--min-support on the command line) or "
            "leave huge baskets out"
        )
    return str(exc).rstrip(".")


def item_names(frame: pd.DataFrame) -> pd.Series:
    """Name each item by the name most of its lines carry.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical transactions with ``item_id`` and ``item_name``, such as
        the ``frame`` of :func:`~custintel.schema.validated_transactions`.

    Returns
    -------
    pandas.Series
        Indexed by ``item_id`` (text), named ``item_name``; an item whose
        lines carry no name is left out. Ties go to the name seen first.
        ``frame["item_id"].map(item_names(frame))`` names every line, e.g.
        to mine rules on names rather than stock codes.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"item_id": ["A", "A", "A", "B"],
    ...                       "item_name": ["mug", "Mug", "mug", None]})
    >>> item_names(frame).to_dict()
    {'A': 'mug'}
    """
    named = frame.loc[frame["item_name"].notna(), ["item_id", "item_name"]]
    counts = named.groupby(["item_id", "item_name"], sort=False, observed=True).size()
    if counts.empty:
        return pd.Series(
            [], index=pd.Index([], name="item_id", dtype=object), name="item_name", dtype=object
        )
    best = counts.reset_index(name="n").sort_values("n", ascending=False, kind="stable")
    best = best.drop_duplicates("item_id")
    out = pd.Series(
        best["item_name"].astype(str).to_numpy(dtype=object),
        index=pd.Index(best["item_id"].astype(str).to_numpy(dtype=object), name="item_id"),
        name="item_name",
    )
    return out.sort_index()
