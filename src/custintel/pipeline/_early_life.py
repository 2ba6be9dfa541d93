"""The early-life value of new customers in the main job: the step, the features, the scores.

A BTYD model sees a customer a few weeks old as one or two purchases in a
short ``T``: every new customer of a cohort gets almost the same
``expected_clv``. The early-life step trains
:class:`~custintel.acquisition.EarlyLifeValueModel` out of time on earlier
cohorts of the fitted log (what each knew in its first days, and the value of
the ``horizon_days`` after as the label), and scoring gives each customer at
most ``max_age_days`` past their first purchase an ``early_life_value``: the
net revenue the model expects over the next ``horizon_days`` days,
undiscounted. Older customers get NaN: their BTYD forecast has their history.

Scores do not depend on the batch: a customer's early-life features are built
from their own transactions up to the scoring day, and the model predicts row
by row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from custintel.exceptions import SchemaError, quiet
from custintel.export import NONNEGATIVE, Domain, ExportReader
from custintel.pipeline._results import EarlyLifeResult, ValidatedLog

__all__ = [
    "EARLY_LIFE_AGES",
    "EARLY_LIFE_FILE_KEYS",
    "FEATURE_PREFIX",
    "MAX_EARLY_LIFE_CUSTOMERS",
    "MIN_EARLY_LIFE_CUSTOMERS",
    "MIN_EARLY_LIFE_HORIZON",
    "check_early_life_days",
    "early_life_columns",
    "early_life_feature_names",
    "early_life_roles",
    "early_life_step",
    "early_life_values",
    "export_early_life",
    "import_early_life",
]

#: Ages (days since the first purchase) the training rows are taken at, up to the threshold.
EARLY_LIFE_AGES = (0, 7, 14, 30, 60, 90)
#: Fewest customers with a full label window at the oldest age; fewer: the step is skipped.
MIN_EARLY_LIFE_CUSTOMERS = 500
#: Shortest label window the horizon is shortened to, in days; shorter: the step is skipped.
MIN_EARLY_LIFE_HORIZON = 28
#: Most training customers (a seeded sample beyond), so the step stays fast on big logs.
MAX_EARLY_LIFE_CUSTOMERS = 10_000
#: Prefix of the early-life feature columns in :meth:`CustomerIntelligence.customer_features`.
FEATURE_PREFIX = "early_life_"
#: Optional transaction roles and the early-life feature each feeds.
_ROLE_OF_FEATURE = {
    "first_items": "item_id",
    "first_quantity": "quantity",
    "customer_type": "customer_type",
    "region": "region",
    "channel": "channel",
}
EARLY_LIFE_FILE_KEYS = ("max_age_days", "horizon_days", "n_training_customers", "notes", "model")
_READER = ExportReader(
    "early_life.json of the bundle", fix="refit the job and save the bundle again"
)


def check_early_life_days(value: Any) -> int | None:
    """Return the threshold in days, ``None`` when off (``None`` or 0); refuse anything else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(
            f"early_life_days must be None, 0 (both turn it off) or a whole number of days "
            f">= 1, got {value!r}"
        )
    return int(value) or None


def _first_days(frame: pd.DataFrame, *, buyers_only: bool = False) -> pd.Series:
    """Each customer's first day (midnight), from canonical transactions.

    With ``buyers_only``, customers with only refund rows are left out, as the
    customer summary leaves them out: they are nobody's new customer, and
    counting them would make the step's note disagree with the scored table.
    (Scoring needs no such filter: its rows are joined to the summary's.)
    """
    grouped = frame.groupby("customer_id", sort=True, observed=True)
    if not buyers_only:
        return pd.to_datetime(grouped["timestamp"].min()).dt.floor("D")
    table = grouped.agg(first=("timestamp", "min"), top=("amount", "max"))
    first = pd.to_datetime(table["first"]).dt.floor("D")
    return first.loc[(table["top"] >= 0).to_numpy()]  # a purchase row (amount >= 0)


def early_life_step(
    log: ValidatedLog,
    *,
    max_age_days: int | None,
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> EarlyLifeResult:
    """Train the early-life value model out of time on the earlier cohorts of the log.

    The label window is the job's horizon, shortened when fewer than
    :data:`MIN_EARLY_LIFE_CUSTOMERS` customers were acquired early enough for
    a full window after the oldest age (``max_age_days``); when even
    :data:`MIN_EARLY_LIFE_HORIZON` days leave too few, the step is skipped with
    a note and the job runs on without it. Training rows are taken at the ages
    of :data:`EARLY_LIFE_AGES` up to ``max_age_days`` (and at ``max_age_days``),
    for at most :data:`MAX_EARLY_LIFE_CUSTOMERS` customers (a seeded sample).

    Parameters
    ----------
    log : ValidatedLog
        Result of :func:`validate_step`.
    max_age_days : int or None
        Customers at most this many days past their first purchase get the
        value; ``None`` (or 0) turns the step off.
    random_state : int or None, default=0
        Seed of the sample and of the model's validation split.
    n_jobs : int or None, default=None
        Threads of the booster.

    Returns
    -------
    EarlyLifeResult
        Its ``notes`` say which customers get the value and why, or why the
        step was skipped.
    """
    from custintel.acquisition import EarlyLifeValueModel
    from custintel.features import make_early_life_dataset

    days = check_early_life_days(max_age_days)
    if days is None:
        return EarlyLifeResult(model=None, max_age_days=None, horizon_days=None)
    frame, end = log.frame, log.observation_end
    first = _first_days(frame, buyers_only=True)
    age = (end - first).dt.days.to_numpy()
    n_new = int((age <= days).sum())
    requested = int(log.horizon)
    skipped = "early-life value skipped: "
    if len(first) < MIN_EARLY_LIFE_CUSTOMERS:
        return _skipped(
            days,
            f"{skipped}it trains on at least {MIN_EARLY_LIFE_CUSTOMERS:,} earlier customers, "
            f"and the data hold {len(first):,}; early_life_value is empty (NaN)",
        )
    # The k-th earliest customer sets the longest label window that k customers fill
    # after the oldest age.
    kth = int(np.sort(age)[::-1][MIN_EARLY_LIFE_CUSTOMERS - 1])
    horizon = min(requested, kth - days)
    if horizon < MIN_EARLY_LIFE_HORIZON:
        return _skipped(
            days,
            f"{skipped}it learns from customers acquired at least {days} days plus a label "
            f"window of {MIN_EARLY_LIFE_HORIZON} days or more before {end.date()}, and fewer "
            f"than {MIN_EARLY_LIFE_CUSTOMERS:,} were (the data start on "
            f"{log.first_date.date()}); early_life_value is empty (NaN)",
        )
    eligible = first.index[age >= horizon]  # a full window at age 0 at least
    if len(eligible) > MAX_EARLY_LIFE_CUSTOMERS:
        rng = np.random.default_rng(random_state)
        eligible = eligible[
            np.sort(rng.choice(len(eligible), MAX_EARLY_LIFE_CUSTOMERS, replace=False))
        ]
    rows = frame.loc[frame["customer_id"].isin(eligible)]
    ages = sorted({a for a in EARLY_LIFE_AGES if a <= days} | {days})
    try:
        with quiet():
            X, y = make_early_life_dataset(
                rows,
                horizon_days=horizon,
                ages=ages,
                observation_end=str(end.date()),
                refunds="net",
                duplicates="keep",
            )
            model = EarlyLifeValueModel(random_state=random_state, n_jobs=n_jobs)
            model.fit(X, y.clip(lower=0))
    except (SchemaError, ValueError) as err:
        return _skipped(days, f"{skipped}{err}; early_life_value is empty (NaN)")
    trained = int(X.index.nunique())
    notes = []
    if horizon < requested:
        notes.append(
            f"early-life horizon shortened from {requested} to {horizon} days: only customers "
            f"acquired {days} days plus the horizon before {end.date()} have a full label "
            f"window, and {requested} days leave fewer than {MIN_EARLY_LIFE_CUSTOMERS:,}"
        )
    notes.append(
        f"early_life_value: customers at most {days} days past their first purchase "
        f"({n_new:,} on {end.date()}) get a forecast of their net revenue over the next "
        f"{horizon} days (undiscounted) from their first order and first days; their BTYD "
        "forecast (expected_clv) knows almost nothing about them (a purchase or two in a "
        f"short T). The model was trained out of time on {trained:,} earlier customers "
        f"(what they did in their first {days} days, and their value in the {horizon} days "
        "after). expected_clv is kept beside it, not replaced; older customers' "
        "early_life_value is empty"
    )
    return EarlyLifeResult(
        model=model,
        max_age_days=days,
        horizon_days=int(horizon),
        n_training_customers=trained,
        notes=notes,
    )


def _skipped(days: int, note: str) -> EarlyLifeResult:
    return EarlyLifeResult(model=None, max_age_days=days, horizon_days=None, notes=[note])


def early_life_feature_names(result: EarlyLifeResult | None) -> list[str]:
    """Name the customer-feature columns the early-life model reads (empty when inactive)."""
    if result is None or result.model is None:
        return []
    return [FEATURE_PREFIX + str(c) for c in result.model.feature_names_in_]


def early_life_roles(result: EarlyLifeResult | None) -> list[str]:
    """Name the optional transaction roles the early-life model reads features of."""
    if result is None or result.model is None:
        return []
    used = set(result.model.columns_used_)
    return [role for feature, role in _ROLE_OF_FEATURE.items() if feature in used]


def early_life_columns(
    frame: pd.DataFrame, end: pd.Timestamp, result: EarlyLifeResult | None
) -> pd.DataFrame | None:
    """Build the prefixed early-life features of the new customers of canonical transactions.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical transactions, none after ``end``.
    end : pandas.Timestamp
        The scoring day.
    result : EarlyLifeResult or None
        The fitted step; ``None`` or inactive: no columns.

    Returns
    -------
    pandas.DataFrame or None
        Indexed by ``customer_id``, one row per customer at most
        ``max_age_days`` past their first purchase, the columns of
        :func:`early_life_feature_names`; ``None`` when inactive.
    """
    from custintel.features import early_life_features

    names = early_life_feature_names(result)
    if not names:
        return None
    assert result is not None and result.max_age_days is not None
    days = result.max_age_days
    first = _first_days(frame)
    young = first.index[(end.floor("D") - first).dt.days.to_numpy() <= days]
    if len(young):
        with quiet():  # rows validated already: what validation found was reported then
            table = early_life_features(
                frame.loc[frame["customer_id"].isin(young)],
                max_age_days=days,
                observation_end=str(end.date()),
                refunds="net",
                duplicates="keep",
            )
        table = table.add_prefix(FEATURE_PREFIX)
    else:
        table = pd.DataFrame(index=pd.Index([], name="customer_id"))
    return table.reindex(columns=names)


def early_life_values(result: EarlyLifeResult | None, features: pd.DataFrame) -> np.ndarray:
    """Return ``early_life_value`` per customer row: NaN for older customers, or when inactive.

    Parameters
    ----------
    result : EarlyLifeResult or None
        The fitted step.
    features : pandas.DataFrame
        Customer features with the columns of :func:`early_life_feature_names`.

    Returns
    -------
    numpy.ndarray
        One float per row.
    """
    out = np.full(len(features), np.nan)
    names = early_life_feature_names(result)
    if not names or not len(features):
        return out
    assert result is not None and result.model is not None
    model = result.model
    young = features[FEATURE_PREFIX + "age_days"].to_numpy(dtype=np.float64, na_value=np.nan)
    rows = np.flatnonzero(young <= float(result.max_age_days or 0))
    if not len(rows):
        return out
    X = features.iloc[rows][names]
    X.columns = [str(c) for c in model.feature_names_in_]
    X = X.copy()
    for column in X.columns:
        if column in model.categories_:
            X[column] = X[column].astype(object).astype("category")
        else:
            X[column] = X[column].astype(np.float64)
    out[rows] = model.predict(X).to_numpy()
    return out


# --- the bundle --------------------------------------------------------------------------


def export_early_life(result: EarlyLifeResult | None) -> dict[str, Any] | None:
    """Return the ``early_life.json`` file of a bundle, or ``None`` without a model."""
    if result is None or result.model is None:
        return None
    return {
        "max_age_days": result.max_age_days,
        "horizon_days": result.horizon_days,
        "n_training_customers": result.n_training_customers,
        "notes": list(result.notes),
        "model": result.model.to_dict(),
    }


def import_early_life(data: Any) -> EarlyLifeResult:
    """Rebuild the early-life step from a bundle's ``early_life.json``, checking every field.

    Raises
    ------
    InvalidModelError
        When a field is missing, unknown or invalid, or the model export is.
    """
    from custintel.acquisition import EarlyLifeValueModel

    export: Mapping[str, Any] = _READER.keys(
        _READER.mapping(data, ""), required=EARLY_LIFE_FILE_KEYS
    )
    at_least_one = Domain(1.0)
    days = _READER.integer(export["max_age_days"], "max_age_days", at_least_one)
    horizon = _READER.integer(export["horizon_days"], "horizon_days", at_least_one)
    trained = _READER.integer(export["n_training_customers"], "n_training_customers", NONNEGATIVE)
    notes = _READER.strings(export["notes"], "notes")
    model = EarlyLifeValueModel.from_dict(export["model"])
    if "age_days" not in model.columns_used_:
        _READER.reject("model.columns_used", model.columns_used_, "a list with 'age_days'")
    return EarlyLifeResult(
        model=model,
        max_age_days=days,
        horizon_days=horizon,
        n_training_customers=trained,
        notes=notes,
    )
