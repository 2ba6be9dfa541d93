r"""Reasons per customer: which features push a customer's churn risk up, in plain words.

Contributions are exact additive decompositions of the model's log-odds
(before calibration):

- **Boosted trees** (``model="hgb"``): per-feature contributions by tree path
  (Saabas 2014; the ``treeinterpreter`` method, and XGBoost's
  ``approx_contribs``). Each node's value is the training-count-weighted mean
  of the leaves below it; walking a customer from the root to its leaf, the
  change of value at each split is credited to the split's feature. Summed
  over the trees, the contributions plus a bias (the baseline plus each
  root's value) equal the booster's log-odds exactly.
- **Logistic regression** (``model="logistic"``): coefficient times the
  standardised (signed-log, imputed) value, which has training mean 0, so
  each contribution is measured against the average customer; a missing
  value's indicator is credited to its feature, and a category's
  contribution is its coefficient against the mean over the categories.

- **Logistic regression on a BG/NBD score** (``model="btyd_logistic"``, the
  default): ``coef_j * (z_j - mean_j) / scale_j`` for each input ``z_j`` of
  the regression (see :mod:`custintel.churn._stack`), measured against the
  average training customer, with the intercept as the bias. The BG/NBD
  input carries ``frequency``, ``recency`` and ``T`` together; it is reported
  as its own column, ``p_no_purchase``, worded with the customer's own
  history and the model's P(no purchase in the horizon).

With cross-validated calibration the contributions are averaged over the
fold models, like their probabilities. Calibration is increasing, so a
positive contribution raises P(churn).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from custintel._boosting import BITSET_WORDS as _BITSET_WORDS
from custintel._boosting import NODE_FIELDS
from custintel._boosting import tree_runtime as _tree_runtime
from custintel._validation import as_customer_table
from custintel.churn._export import _export_booster
from custintel.churn._stack import NO_PURCHASE, BTYDStack, LinearStack

__all__ = ["churn_contributions", "explain_churn"]


def _unwrap(estimator: Any) -> Any:
    """Return the fitted Pipeline inside calibration wrappers (e.g. FrozenEstimator)."""
    from sklearn.pipeline import Pipeline

    seen = 0
    while not isinstance(estimator, Pipeline) and hasattr(estimator, "estimator") and seen < 5:
        estimator = estimator.estimator
        seen += 1
    if not isinstance(estimator, Pipeline):
        raise TypeError(f"expected a fitted scikit-learn Pipeline, got {type(estimator).__name__}")
    return estimator


def _fitted_members(classifier: Any) -> list[Any]:
    """Return the uncalibrated models whose probabilities the classifier averages.

    Each is a fitted scikit-learn Pipeline, or, for a classifier rebuilt with
    ``from_dict``, an exported booster (a dict) whose nodes carry ``count``.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(classifier, "estimator_")
    members = classifier._raw_pipelines()
    if all(isinstance(m, LinearStack) for m in members):  # btyd_logistic, rebuilt
        return members
    if all(isinstance(m, dict) for m in members):  # rebuilt with from_dict
        if not all("count" in b["nodes"] for b in members):
            raise ValueError(
                "this ChurnClassifier was rebuilt with from_dict from an export written before "
                "explanations existed: it has no training counts per tree node, which the "
                "contributions need; re-export it with to_dict() from the fitted classifier"
            )
        return members
    pipelines = [_unwrap(m) for m in members]
    return [LinearStack.of(p) if isinstance(p.steps[0][1], BTYDStack) else p for p in pipelines]


# --- boosted trees ------------------------------------------------------------------------


def _matrix(booster: dict[str, Any], X: pd.DataFrame) -> np.ndarray:
    """Encode ``X`` in the booster's column order, as the export's scoring formula does."""
    out = np.empty((len(X), len(booster["features"])), dtype=np.float64)
    for j, column in enumerate(booster["features"]):
        if column in booster["codes"]:
            index = pd.Index(booster["categories"][column], dtype=object)
            codes = np.array(
                [np.nan if c is None else c for c in booster["codes"][column]], dtype=np.float64
            )
            position = index.get_indexer(pd.Index(X[column].astype(object)))
            out[:, j] = np.where(position >= 0, codes[np.maximum(position, 0)], np.nan)
        else:
            out[:, j] = X[column].to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _in_bitset(bitsets: np.ndarray, rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Whether each whole ``code`` (< 256) is set in the bitset of its row."""
    c = codes.astype(np.int64)
    words = bitsets[rows, c >> 5].astype(np.int64)
    return ((words >> (c & 31)) & 1).astype(bool)


def _leaf_of_rows(
    nodes: Mapping[str, np.ndarray], lo: int, hi: int, left_bitsets: np.ndarray
) -> Callable[..., np.ndarray]:
    """Return a compiled predictor of tree ``[lo, hi)`` that gives each row's leaf (node number)."""
    tree_predictor, record_dtype, _ = _tree_runtime()
    record = np.zeros(hi - lo, dtype=record_dtype)
    for field in NODE_FIELDS:
        column = np.asarray(nodes[field][lo:hi])
        record[field] = (
            np.nan_to_num(column.astype(np.float64)) if field == "num_threshold" else column
        )
    leaf = record["is_leaf"].astype(bool)
    record["value"] = np.arange(hi - lo, dtype=np.float64)
    record["left"][leaf] = 0
    record["right"][leaf] = 0
    raw = np.ascontiguousarray(left_bitsets.astype(np.uint32)).reshape(-1, _BITSET_WORDS)
    predictor = tree_predictor(record, raw.copy(), raw)
    return predictor.predict


def _tree_contributions(
    booster: dict[str, Any], counts: list[np.ndarray], data: np.ndarray, n_threads: int
) -> tuple[np.ndarray, float]:
    """Path contributions (rows × booster features) and the bias of one booster."""
    nodes = {k: np.asarray(v) for k, v in booster["nodes"].items()}
    value = np.asarray(booster["nodes"]["value"], dtype=np.float64)
    left_bits = np.asarray(booster["left_bitsets"], dtype=np.int64).reshape(-1, _BITSET_WORDS)
    known = np.asarray(booster["known_bitsets"], dtype=np.int64).reshape(-1, _BITSET_WORDS)
    known_of = np.asarray(booster["known_bitset_of_feature"], dtype=np.int64)
    offsets, bit_offsets = booster["tree_offsets"], booster["bitset_offsets"]
    n, n_features = data.shape
    by_feature = np.zeros((n_features, n))  # one contiguous row per feature: cheap adds
    bias = float(booster["baseline"])
    known_u32 = np.ascontiguousarray(known.astype(np.uint32))
    if not len(known_u32):
        known_u32 = np.zeros((1, _BITSET_WORDS), dtype=np.uint32)
    known_of_u32 = np.ascontiguousarray(known_of.astype(np.uint32))
    for k in range(len(offsets) - 1):
        lo, hi = offsets[k], offsets[k + 1]
        count = counts[k].astype(np.float64)
        leaf = nodes["is_leaf"][lo:hi].astype(bool)
        left, right = nodes["left"][lo:hi], nodes["right"][lo:hi]
        feature = nodes["feature_idx"][lo:hi]
        # Expected value at each node: count-weighted mean of its leaves (children
        # follow their parent in the node arrays, so one backward pass suffices).
        mean = value[lo:hi].copy()
        for i in range(hi - lo - 1, -1, -1):
            if not leaf[i]:
                cl, cr = count[left[i]], count[right[i]]
                mean[i] = (cl * mean[left[i]] + cr * mean[right[i]]) / max(cl + cr, 1.0)
        # The path contributions of each leaf, as a (nodes × features) table.
        table = np.zeros((hi - lo, n_features))
        for i in range(hi - lo):
            if not leaf[i]:
                for child in (left[i], right[i]):
                    table[child] = table[i]
                    table[child, feature[i]] += mean[child] - mean[i]
        bias += mean[0]
        # Route every row to its leaf with scikit-learn's compiled traversal: a copy
        # of the tree whose leaves hold their own node number predicts the leaf.
        node = _leaf_of_rows(nodes, lo, hi, left_bits[bit_offsets[k] : bit_offsets[k + 1]])(
            data, known_u32, known_of_u32, n_threads
        ).astype(np.int64)
        for f in np.flatnonzero(table.any(axis=0)):
            by_feature[f] += table[:, f][node]
    return by_feature.T, bias


def _hgb_contributions(
    model: Any, X: pd.DataFrame, n_threads: int
) -> tuple[pd.DataFrame, np.ndarray]:
    if isinstance(model, dict):  # an exported booster whose nodes carry their counts
        booster = model
        offsets = booster["tree_offsets"]
        every = np.asarray(booster["nodes"]["count"], dtype=np.float64)
        counts = [every[offsets[k] : offsets[k + 1]] for k in range(len(offsets) - 1)]
    else:
        booster = _export_booster(model)
        boost = model.steps[-1][1]
        counts = [np.asarray(predictor.nodes["count"]) for (predictor,) in boost._predictors]
    data = _matrix(booster, X)
    values, bias = _tree_contributions(booster, counts, data, n_threads)
    frame = pd.DataFrame(values, columns=list(booster["features"]), index=X.index)
    return frame, np.full(len(X), bias)


# --- logistic regression ------------------------------------------------------------------


def _logistic_contributions(pipeline: Any, X: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    encode, model = pipeline.steps[0][1], pipeline.steps[-1][1]
    design = encode.transform(X)
    design = design.toarray() if hasattr(design, "toarray") else np.asarray(design, dtype=float)
    coef = np.asarray(model.coef_, dtype=np.float64).ravel()
    bias = np.full(len(X), float(np.asarray(model.intercept_).ravel()[0]))
    out: dict[str, np.ndarray] = {}
    for name, _transformer, columns in encode.transformers_:
        if name == "remainder" or not len(columns):
            continue
        block = encode.output_indices_[name]
        part = design[:, block] * coef[block]
        fitted = encode.named_transformers_[name]
        if name == "cat":
            start = 0
            for column, categories in zip(columns, fitted.categories_, strict=True):
                width = len(categories)
                weights = coef[block][start : start + width]
                reference = float(weights.mean())
                out[str(column)] = part[:, start : start + width].sum(axis=1) - reference
                bias += reference
                start += width
        else:
            k = len(columns)
            for i, column in enumerate(columns):
                out[str(column)] = part[:, i].copy()
            imputer = fitted.steps[1][1]
            indicator = getattr(imputer, "indicator_", None)
            flagged = [] if indicator is None else list(indicator.features_)
            for j, i in enumerate(flagged):
                out[str(columns[i])] += part[:, k + j]
    return pd.DataFrame(out, index=X.index), bias


def _contributions(classifier: Any, X: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Contributions and bias (see :func:`churn_contributions`), and what the reasons read.

    The second item holds, for ``model="btyd_logistic"``, ``p_no_purchase``
    (the BG/NBD P(no purchase in the horizon), averaged over the members) and
    ``horizon_days``; it is empty for the other models.
    """
    X = as_customer_table(X, owner="churn_contributions")
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"X must be a DataFrame of churn features, got {type(X).__name__}; build it "
            "with custintel.features.make_churn_dataset"
        )
    members = _fitted_members(classifier)
    names = [str(c) for c in getattr(classifier, "feature_names_in_", X.columns)]
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise ValueError(f"X lacks columns {missing} seen in fit; score with the same features")
    data = X[names]
    if any(isinstance(m, LinearStack) for m in members) and NO_PURCHASE not in names:
        names = [*names, NO_PURCHASE]
    # the classifier's own thread setting (one thread by default, see ChurnClassifier)
    from joblib import effective_n_jobs

    threads = max(1, int(effective_n_jobs(getattr(classifier, "n_jobs", None))))
    total = np.zeros((len(names), len(X)))  # one contiguous row per feature
    position = {name: j for j, name in enumerate(names)}
    bias = np.zeros(len(X))
    extra: dict[str, np.ndarray] = {}
    for member in members:
        if isinstance(member, LinearStack):
            from scipy.special import expit

            values, z = member.contributions(data)
            for j, column in enumerate(LinearStack.columns):
                total[position[column]] += values[:, j]
            bias += member.intercept
            no_purchase = expit(z[:, 0])
            extra[NO_PURCHASE] = extra.get(NO_PURCHASE, 0.0) + no_purchase / len(members)
            extra["horizon_days"] = np.full(len(X), member.horizon)
            continue
        kind = "dict" if isinstance(member, dict) else type(member.steps[-1][1]).__name__
        if kind in ("HistGradientBoostingClassifier", "dict"):
            part, b = _hgb_contributions(member, data, threads)
        elif kind == "LogisticRegression":
            part, b = _logistic_contributions(member, data)
        else:
            raise ValueError(
                f"cannot explain a {kind}; only 'hgb', 'logistic' and 'btyd_logistic' models"
            )
        for column in part.columns:
            total[position[str(column)]] += part[column].to_numpy()
        bias += b
    total /= len(members)
    out = pd.DataFrame(total.T, index=X.index, columns=names)
    out["bias"] = bias / len(members)
    return out, extra


def churn_contributions(classifier: Any, X: pd.DataFrame) -> pd.DataFrame:
    r"""Split each customer's churn log-odds into one additive contribution per feature.

    Parameters
    ----------
    classifier : ChurnClassifier
        Fitted on a DataFrame of churn features (any ``model``), or rebuilt
        with ``from_dict``.
    X : pandas.DataFrame
        Churn features with the columns seen in ``fit``, indexed by
        ``customer_id``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``X``: one column per feature (in the fitted order), in
        log-odds (> 0 raises the churn risk), then, for
        ``model="btyd_logistic"``, ``p_no_purchase`` (the BG/NBD input,
        which carries ``frequency``, ``recency`` and ``T``; features the
        model does not use are 0), then ``bias``; each row sums to the
        model's log-odds before calibration (averaged over calibration
        folds).

    Raises
    ------
    ValueError
        When ``X`` is not a DataFrame or lacks a fitted column, or the
        classifier was rebuilt with ``from_dict`` from a booster export
        written without training counts per node.

    Examples
    --------
    >>> from custintel.churn import ChurnClassifier
    >>> from custintel.datasets import make_transactions
    >>> from custintel.features import make_churn_dataset
    >>> tx = make_transactions(500, random_state=0).transactions
    >>> X, y = make_churn_dataset(tx, cutoff="2023-06-30", horizon=90)
    >>> clf = ChurnClassifier(cv=2).fit(X, y)
    >>> parts = churn_contributions(clf, X)
    >>> parts.columns[-1], parts.shape[0] == len(X)
    ('bias', True)
    """
    return _contributions(classifier, X)[0]


# --- plain words --------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def _whole(k: int) -> str:
    """Write a whole number with thousands separators (cached: reasons repeat a few)."""
    return f"{k:,}"


@functools.lru_cache(maxsize=8192)
def _whole_days(k: int) -> str:
    return "1 day" if k == 1 else f"{k:,} days"


def _num(value: Any, digits: int = 0) -> str:
    v = float(value)
    if digits == 0 or abs(v - round(v)) < 10 ** (-digits) / 2:
        return _whole(round(v))
    return f"{v:,.{digits}f}"


def _days(value: Any) -> str:
    """Write a number of days in words: "1 day", "212 days"."""
    return _whole_days(round(float(value)))


def _times(n: float) -> str:
    k = round(n)
    return "once" if k == 1 else f"{k} times"


def _get(row: Mapping[str, Any], name: str) -> float:
    value = row.get(name, math.nan)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _recency(row: Mapping[str, Any]) -> str:
    days = _get(row, "days_since_last")
    if math.isnan(days):
        T, recency = _get(row, "T"), _get(row, "recency")
        days = T - recency
    return _recency_words(days, _get(row, "gap_mean_days"), _get(row, "frequency"))


def _recency_words(days: float, gap: float, frequency: float) -> str:
    """Word the time since the last purchase against the customer's usual gap."""
    if math.isnan(days):
        return "long time since the last purchase"
    text = f"no purchase for {_days(days)}"
    if math.isnan(gap) or gap <= 0:
        return text + " (never bought twice)" if frequency == 0 else text
    ratio = days / gap
    if ratio >= 1.05:
        return f"{text}, {_num(ratio, 1)}× their usual gap of {_days(gap)}"
    return f"{text}, within their usual gap of {_days(gap)}"


def _spend(row: Mapping[str, Any]) -> str:
    recent, earlier = _get(row, "spend_recent"), _get(row, "spend_earlier")
    if math.isnan(recent) or math.isnan(earlier):
        trend = _get(row, "spend_trend")
        return f"recent spend changed by {_num(trend, 2)} against the window before"
    if earlier > 0:
        change = (recent - earlier) / earlier
        word = "fell" if change < 0 else "rose"
        return (
            f"spend {word} {_num(abs(change) * 100)} % against their own history "
            f"({_num(recent, 2)} recently, {_num(earlier, 2)} in the window before)"
        )
    if recent > 0:
        return f"spend {_num(recent, 2)} recently, none in the window before"
    # Nothing bought in either window: the cause is how long ago the last purchase was.
    return _recency(row)


def _occasions(row: Mapping[str, Any]) -> str:
    recent, earlier = _get(row, "occasions_recent"), _get(row, "occasions_earlier")
    if math.isnan(recent) or math.isnan(earlier):
        return f"purchase trend {_num(_get(row, 'frequency_trend'))} against the window before"
    if recent < earlier:
        return f"bought {_times(recent)} recently against {_times(earlier)} in the window before"
    if recent == earlier == 0:
        return _recency(row)
    return f"bought {_times(recent)} recently, {_times(earlier)} in the window before"


def _total(row: Mapping[str, Any]) -> str:
    frequency = _get(row, "frequency")
    if not math.isnan(frequency):
        return f"bought {_times(frequency + 1)} in total"
    return f"{_num(_get(row, 'n_orders'))} orders in total"


def _purchase_model(row: Mapping[str, Any]) -> str:
    """Word the BG/NBD score: the customer's own history, then the model's P(no purchase)."""
    days = _get(row, "days_since_last")
    if math.isnan(days):
        days = _get(row, "T") - _get(row, "recency")
    return _history_words(
        days,
        _get(row, "gap_mean_days"),
        _get(row, "frequency"),
        _get(row, NO_PURCHASE),
        _get(row, "horizon_days"),
    )


def _history_words(days: float, gap: float, frequency: float, p: float, horizon: float) -> str:
    """:func:`_purchase_model` on plain numbers."""
    text = _recency_words(days, gap, frequency)
    if math.isnan(p):
        return text
    window = "in the horizon" if math.isnan(horizon) else f"in the next {_days(horizon)}"
    return f"{text}; purchase model: {_num(p * 100)} % chance of no purchase {window}"


def _history_texts(table: Mapping[str, Any], rows: np.ndarray) -> list[str]:
    """:func:`_purchase_model` for many customers at once (the rows of ``table``).

    The same words, read from whole columns instead of one row at a time:
    for the stacked default model every customer at risk gets this reason,
    and reading row by row cost most of the main job's scoring time.
    """

    def column(name: str) -> np.ndarray:
        values = table.get(name)
        if values is None:
            return np.full(len(rows), math.nan)
        picked = np.asarray(values)[rows]
        return np.asarray(pd.to_numeric(pd.Series(picked), errors="coerce"), dtype=np.float64)

    days = column("days_since_last")
    days = np.where(np.isnan(days), column("T") - column("recency"), days)
    return [
        _history_words(*values)
        for values in zip(
            days.tolist(),
            column("gap_mean_days").tolist(),
            column("frequency").tolist(),
            column(NO_PURCHASE).tolist(),
            column("horizon_days").tolist(),
            strict=True,
        )
    ]


def _gap(
    column: str, template: str, missing: str = "never bought twice"
) -> Callable[[Mapping[str, Any]], str]:
    """Word a gap column: ``template`` with its days, or ``missing`` without a gap."""

    def words(row: Mapping[str, Any]) -> str:
        days = _get(row, column)
        return missing if math.isnan(days) else template.format(_days(days))

    return words


_REASONS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "days_since_last": _recency,
    "recency": _recency,
    "recency_to_gap_mean": _recency,
    "recency_to_gap_max": _recency,
    "recency_gap_z": _recency,
    "recency_share": _recency,
    "last_gap_days": _gap("last_gap_days", "last gap between purchases was {}"),
    "gap_mean_days": _gap("gap_mean_days", "usually buys every {}"),
    "gap_max_days": _gap("gap_max_days", "longest gap between purchases {}"),
    "gap_std_days": _gap(
        "gap_std_days",
        "irregular rhythm: gaps vary by ±{}",
        "too few purchases to know their rhythm",
    ),
    "frequency": _total,
    "n_orders": _total,
    "purchase_rate": lambda r: f"buys {_num(_get(r, 'purchase_rate'), 1)} times a month",
    "tenure_days": lambda r: f"customer for {_days(_get(r, 'tenure_days'))}",
    "T": lambda r: f"customer for {_days(_get(r, 'T'))}",
    "spend_trend": _spend,
    "spend_recent": _spend,
    "spend_earlier": _spend,
    "frequency_trend": _occasions,
    "occasions_recent": _occasions,
    "occasions_earlier": _occasions,
    "monetary_value": lambda r: (
        f"spends {_num(_get(r, 'monetary_value'), 2)} per repeat purchase on average"
    ),
    "mean_spend": lambda r: f"spends {_num(_get(r, 'mean_spend'), 2)} per purchase on average",
    # named only when it raises the risk, i.e. when the customer spent little
    "total_amount": lambda r: f"spent only {_num(_get(r, 'total_amount'), 2)} in total",
    "total_quantity": lambda r: f"bought {_num(_get(r, 'total_quantity'))} items in total",
    "total_margin": lambda r: f"margin of {_num(_get(r, 'total_margin'), 2)} in total",
    NO_PURCHASE: _purchase_model,
}


class _Row(Mapping[str, Any]):
    """One customer's features, read from column arrays only when a reason asks for them."""

    __slots__ = ("_columns", "_i")

    def __init__(self, columns: dict[str, np.ndarray], i: int) -> None:
        self._columns, self._i = columns, i

    def __getitem__(self, name: str) -> Any:
        return self._columns[name][self._i]

    def get(self, name: str, default: Any = None) -> Any:
        """Return the feature ``name``, or ``default`` without that column (one lookup)."""
        column = self._columns.get(name)
        return default if column is None else column[self._i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def _reason(feature: str, row: Mapping[str, Any]) -> str:
    words = _REASONS.get(feature)
    if words is not None:
        return words(row)
    value = row.get(feature)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{feature} is missing"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{feature} = {_num(value, 2)}"
    return f"{feature} is {value}"


#: The timing features that ``model="btyd_logistic"`` words as one reason with its BG/NBD score.
_HISTORY = frozenset(
    {NO_PURCHASE, "days_since_last", "recency_to_gap_mean", "n_orders", "tenure_days"}
)


def explain_churn(classifier: Any, X: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
    """Name, for each customer, the features that push their churn risk up most, in plain words.

    Parameters
    ----------
    classifier : ChurnClassifier
        Fitted on a DataFrame of churn features.
    X : pandas.DataFrame
        Churn features (:func:`~custintel.features.make_churn_dataset`)
        indexed by ``customer_id``.
    top : int, default=3
        Most reasons per customer.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``X``, for ``k`` = 1 .. ``top``: ``feature_k`` (the
        column), ``reason_k`` (plain words, e.g. "no purchase for 212 days,
        3× their usual gap of 70 days") and ``contribution_k`` (its push on
        the log-odds of churn, > 0), strongest first. Only features that
        raise the risk are listed; the remaining slots are empty (None and
        NaN). Features that say the same thing in other words (the recency
        ratios and ``days_since_last``; the spend windows and
        ``spend_trend``) are merged into one reason, their contributions
        added, under the strongest of them. For ``model="btyd_logistic"``
        the BG/NBD score, ``days_since_last``, ``recency_to_gap_mean``,
        ``n_orders`` and ``tenure_days`` are one reason, the purchase
        history, under ``p_no_purchase`` and worded as in "no purchase for
        212 days, 5.3× their usual gap of 40 days; purchase model: 97 %
        chance of no purchase in the next 90 days"; ``total_amount`` is the
        other. Its contribution includes the regression's intercept, so it
        is measured against even odds, not against the average customer:
        every customer at 50 % risk or more then has at least one reason.

    Raises
    ------
    ValueError
        For ``top`` < 1, and as :func:`churn_contributions`.

    See Also
    --------
    churn_contributions : The contribution of every feature, and the bias.

    Examples
    --------
    >>> from custintel.churn import ChurnClassifier
    >>> from custintel.datasets import make_transactions
    >>> from custintel.features import make_churn_dataset
    >>> tx = make_transactions(500, random_state=0).transactions
    >>> X, y = make_churn_dataset(tx, cutoff="2023-06-30", horizon=90)
    >>> clf = ChurnClassifier(cv=2).fit(X, y)
    >>> why = explain_churn(clf, X, top=2)
    >>> list(why.columns)
    ['feature_1', 'reason_1', 'contribution_1', 'feature_2', 'reason_2', 'contribution_2']
    >>> bool((why["contribution_1"].dropna() > 0).all())
    True
    """
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top must be a whole number >= 1, got {top!r}")
    parts, extra = _contributions(classifier, X)
    bias = parts.pop("bias")
    # Group features that a reason would word the same way. For model="btyd_logistic"
    # the BG/NBD score and the timing features beside it (recency, orders, tenure,
    # recency over the usual gap) are one reason, the purchase history, worded by the
    # BG/NBD score: apart, "bought 5 times in total" would be named as a cause where
    # the regression only corrects the BG/NBD for it.
    stacked = NO_PURCHASE in extra
    groups: dict[Callable[[Mapping[str, Any]], str] | str, list[str]] = {}
    if stacked:
        groups[_purchase_model] = [NO_PURCHASE]
    for column in parts.columns:
        if stacked and column in _HISTORY:
            key: Callable[[Mapping[str, Any]], str] | str = _purchase_model
        else:
            key = _REASONS.get(column, column)
        if column not in groups.get(key, []):
            groups.setdefault(key, []).append(column)
    merged = pd.DataFrame(
        {cols[0]: parts[cols].sum(axis=1) for cols in groups.values()}, index=parts.index
    )
    if stacked:
        # Measured against even odds rather than the average customer: the intercept (the
        # churn rate of the training customers) goes to the purchase history, which the
        # BG/NBD turns into a probability. A customer at 50 % risk or more then always has
        # a reason that pushes them there, even where the churn rate is high.
        merged[NO_PURCHASE] += bias
    lead = {
        cols[0]: (parts[cols].to_numpy(), np.asarray(cols, dtype=object))
        for cols in groups.values()
    }
    values = merged.to_numpy()
    names = np.asarray(merged.columns, dtype=object)
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    table = {str(c): X[c].to_numpy() for c in X.columns}
    table.update(extra)
    n = len(values)
    columns: dict[str, Any] = {}
    for k in range(top):
        feature = np.full(n, None, dtype=object)
        reason = np.full(n, None, dtype=object)
        contribution = np.full(n, math.nan)
        if k < order.shape[1]:
            j = order[:, k]
            pushed = values[np.arange(n), j]
            active = ~(pushed <= 0)  # the features that raise the risk (NaN kept, as before)
            contribution[active] = pushed[active]
            lead_of = names[j]
            for name in dict.fromkeys(lead_of[active].tolist()):
                rows = np.flatnonzero(active & (lead_of == name))
                if name == NO_PURCHASE:
                    feature[rows] = NO_PURCHASE
                    continue
                block, cols = lead[name]  # the group's strongest member names the reason
                feature[rows] = cols[np.argmax(block[rows], axis=1)]
            history = np.flatnonzero(active & (feature == NO_PURCHASE))
            reason[history] = _history_texts(table, history)
            for i in np.flatnonzero(active & (feature != NO_PURCHASE)).tolist():
                reason[i] = _reason(str(feature[i]), _Row(table, i))
        columns[f"feature_{k + 1}"] = feature
        columns[f"reason_{k + 1}"] = reason
        columns[f"contribution_{k + 1}"] = contribution
    out = pd.DataFrame(columns, index=X.index.copy())
    for k in range(1, top + 1):
        out[f"feature_{k}"] = out[f"feature_{k}"].astype(object)
        out[f"reason_{k}"] = out[f"reason_{k}"].astype(object)
        out[f"contribution_{k}"] = out[f"contribution_{k}"].astype(np.float64)
    return out
