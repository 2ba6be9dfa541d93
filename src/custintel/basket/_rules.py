"""``association_rules``: every rule A -> C from a table of frequent itemsets."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from custintel.basket._constraints import (
    ItemConstraints,
    ItemGroups,
    ItemNames,
    resolve_constraints,
)
from custintel.basket._lookup import ItemsetIndex, tuples
from custintel.basket._measures import (
    CORRECTIONS,
    EXTRA_MEASURES,
    NEEDS_N,
    Correction,
    check_measures,
    extra_measure,
    rule_measures,
)
from custintel.exceptions import SchemaError
from custintel.features import canonical_order

__all__ = ["RULE_COLUMNS", "RULE_METRICS", "association_rules"]

#: Metrics of :func:`association_rules`, any of which can filter the rules.
RULE_METRICS: tuple[str, ...] = (
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "zhangs_metric",
    "jaccard",
    "certainty",
    "kulczynski",
)

#: Columns of :func:`association_rules`, in this order.
RULE_COLUMNS: tuple[str, ...] = ("antecedents", "consequents", *RULE_METRICS)

# Enumerating more candidate rules than this needs too much memory; ask for max_len.
_MAX_CANDIDATE_RULES = 50_000_000
_N_EXAMPLES = 5

Array = np.ndarray


def _conviction(s_ac: Array, s_a: Array, s_c: Array, conf: Array, conf_rev: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(conf < 1.0, (1.0 - s_c) / (1.0 - conf), np.inf)


def _zhang(s_ac: Array, s_a: Array, s_c: Array, conf: Array, conf_rev: Array) -> Array:
    denominator = np.maximum(s_ac * (1.0 - s_a), s_a * (s_c - s_ac))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator == 0, 0.0, (s_ac - s_a * s_c) / denominator)


def _certainty(s_ac: Array, s_a: Array, s_c: Array, conf: Array, conf_rev: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s_c == 1.0, 0.0, (conf - s_c) / (1.0 - s_c))


_METRIC_FUNCTIONS: dict[str, Callable[[Array, Array, Array, Array, Array], Array]] = {
    "antecedent_support": lambda s_ac, s_a, s_c, conf, conf_rev: s_a,
    "consequent_support": lambda s_ac, s_a, s_c, conf, conf_rev: s_c,
    "support": lambda s_ac, s_a, s_c, conf, conf_rev: s_ac,
    "confidence": lambda s_ac, s_a, s_c, conf, conf_rev: conf,
    "lift": lambda s_ac, s_a, s_c, conf, conf_rev: conf / s_c,
    "leverage": lambda s_ac, s_a, s_c, conf, conf_rev: s_ac - s_a * s_c,
    "conviction": _conviction,
    "zhangs_metric": _zhang,
    "jaccard": lambda s_ac, s_a, s_c, conf, conf_rev: s_ac / (s_a + s_c - s_ac),
    "certainty": _certainty,
    "kulczynski": lambda s_ac, s_a, s_c, conf, conf_rev: (conf + conf_rev) / 2.0,
}


@dataclass(frozen=True)
class _Level:
    """The itemsets of one length: codes (rows sorted), supports and optional counts."""

    codes: np.ndarray
    support: np.ndarray
    count: np.ndarray | None
    index: ItemsetIndex


@dataclass(frozen=True)
class _ItemsetTable:
    labels: np.ndarray
    levels: dict[int, _Level]
    n_baskets: int | None


def association_rules(
    itemsets: pd.DataFrame,
    *,
    metric: str = "confidence",
    min_threshold: float = 0.8,
    max_len: int | tuple[int | None, int | None] | None = None,
    prune_redundant: bool = False,
    antecedents_include: ItemNames = None,
    consequents_include: ItemNames = None,
    antecedents_within: ItemNames = None,
    consequents_within: ItemNames = None,
    exclude: ItemNames = None,
    item_groups: ItemGroups = None,
    measures: str | Sequence[str] | None = None,
    max_p_value: float | None = None,
    correction: Correction = "holm",
) -> pd.DataFrame:
    r"""Generate the association rules A -> C of a table of frequent itemsets.

    Every frequent itemset :math:`S` of two or more items gives one rule per
    split into a non-empty antecedent :math:`A` and consequent
    :math:`C = S \setminus A`.

    Parameters
    ----------
    itemsets : pandas.DataFrame
        Output of :func:`frequent_itemsets` with ``kind="all"`` (every subset
        of an itemset must be present). mlxtend's table (``itemsets`` of
        frozensets, ``support``) is accepted too.
    metric : str, default="confidence"
        Metric to filter on: any of :data:`RULE_METRICS` or of
        :data:`EXTRA_MEASURES` (``"cosine"``, ``"odds_ratio"``, ...).
    min_threshold : float, default=0.8
        Keep rules whose ``metric`` is at least this.
    max_len : int or tuple of (int or None, int or None), optional
        Longest antecedent and consequent. An int caps both; a pair caps
        ``(antecedent, consequent)``, e.g. ``(None, 1)`` for rules with one
        item on the right-hand side.
    prune_redundant : bool, default=False
        Drop every rule :math:`A \to C` for which a more general rule
        :math:`A' \to C` with :math:`A' \subsetneq A` has the same or a higher
        confidence: the extra items of :math:`A` add nothing. The more general
        rule need not meet the item constraints below.
    antecedents_include, consequents_include : item or group name, or list, optional
        Keep the rules whose antecedent (consequent) holds at least one of
        these items, or an item of one of these groups (see ``item_groups``).
        Each constraint takes one label or a list (or tuple, or set) of
        labels; name an item labelled by a tuple inside a list.
    antecedents_within, consequents_within : item or group name, or list, optional
        Keep the rules whose antecedent (consequent) holds only these items,
        or items of these groups: ``consequents_within="dairy"`` recommends
        dairy products only.
    exclude : item or group name, or list, optional
        Drop every rule with one of these items (or an item of these groups)
        on either side.
    item_groups : mapping or pandas.Series, optional
        Group of each item (item -> group, e.g. its category), so that the
        constraints can name groups as well as items. An item without a group
        matches by its own label only.
    measures : str or list of str, optional
        More columns: names among :data:`EXTRA_MEASURES` and ``"p_value"``,
        ``"p_adjusted"`` (Fisher's exact test), or ``"all"``; see
        :func:`rule_measures`.
    max_p_value : float, optional
        Keep the rules whose corrected p-value (``p_adjusted``) is at most
        this, e.g. 0.05; adds the columns ``p_value`` and ``p_adjusted``.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiple-testing correction of ``p_adjusted``. The family is every
        candidate rule that meets the item constraints and ``max_len``, not
        only the rules above ``min_threshold``; see Notes.

    Returns
    -------
    pandas.DataFrame
        One row per rule with columns ``antecedents`` and ``consequents``
        (tuples of item labels in canonical order) and the metrics
        ``antecedent_support``, ``consequent_support``, ``support``,
        ``confidence``, ``lift``, ``leverage``, ``conviction``,
        ``zhangs_metric``, ``jaccard``, ``certainty`` and ``kulczynski``.
        Then the columns asked for with ``measures`` (and ``p_value``,
        ``p_adjusted`` with ``max_p_value``). Rows are ordered by itemset
        length, itemset, then antecedent. ``attrs`` records ``metric``,
        ``min_threshold``, ``n_baskets`` and ``n_candidates``, the number of
        candidate rules that met the constraints (the family of the p-value
        correction).

    Raises
    ------
    ValueError
        For an unknown ``metric`` or measure, a non-finite ``min_threshold``,
        a bad ``max_len`` or ``max_p_value``, a constraint that names no item
        or group of the table, or when a measure needs the number of baskets
        and the table does not record it.
    SchemaError
        When ``itemsets`` is empty, is not an itemsets table, holds closed or
        maximal itemsets only, or misses a subset of one of its itemsets.

    See Also
    --------
    frequent_itemsets : The itemsets this function reads.
    constrained_itemsets : Mine only the itemsets that constrained rules use.
    rule_measures : Add measures and p-values to an existing rules table.

    Notes
    -----
    With :math:`s(\cdot)` the support, :math:`s_A = s(A)`,
    :math:`s_C = s(C)` and :math:`s_{AC} = s(A \cup C)`:

    - ``support`` :math:`= s_{AC}`, in [0, 1];
    - ``confidence`` :math:`c = s_{AC} / s_A`, the chance of C given A, in [0, 1];
    - ``lift`` :math:`= c / s_C`, 1 when A and C are independent, in [0, inf);
    - ``leverage`` :math:`= s_{AC} - s_A s_C`, in [-0.25, 0.25];
    - ``conviction`` :math:`= (1 - s_C) / (1 - c)`, infinite when :math:`c = 1`,
      in [0, inf];
    - ``zhangs_metric`` :math:`= (s_{AC} - s_A s_C) / \max(s_{AC}(1 - s_A),
      s_A (s_C - s_{AC}))`, 0 when the denominator is 0, in [-1, 1];
    - ``jaccard`` :math:`= s_{AC} / (s_A + s_C - s_{AC})`, in [0, 1];
    - ``certainty`` :math:`= (c - s_C) / (1 - s_C)`, 0 when :math:`s_C = 1`,
      in (-inf, 1];
    - ``kulczynski`` :math:`= (s_{AC} / s_A + s_{AC} / s_C) / 2`, in [0, 1].

    The definitions, including the conventions at the edges (conviction
    infinite, Zhang's metric and certainty 0), are mlxtend's, and so are the
    numbers: a test compares every metric on the Groceries data. Confidence
    is computed from counts when the table has them. ``certainty`` is
    mlxtend's form of the certainty factor, which is negative without bound
    when A makes C rarer and :math:`s_C` is close to 1. The measures of
    ``measures=`` are defined in :func:`rule_measures`.

    Item constraints are checked while the rules are enumerated, before any
    metric is computed for the output. To also save mining work, mine with
    :func:`constrained_itemsets` (``exclude`` and required items).

    The p-values test each rule against independence of A and C (Fisher's
    exact test, one-sided). Testing thousands of rules finds many with
    p < 0.05 by chance, so ``p_adjusted`` corrects for the number of tests:
    Holm's method bounds the chance of keeping any rule that is chance alone,
    Benjamini-Hochberg's the expected share of such rules among those kept.
    The family is every candidate rule (``attrs["n_candidates"]``), so that
    filtering by ``min_threshold`` first does not hide tests: the rules left
    out are treated as having larger p-values than those kept, which keeps
    the correction valid (conservative). Rules of infrequent itemsets are
    not in the family; for strict inference, find the rules on one half of
    the baskets and test them on the other [1]_.

    References
    ----------
    .. [1] Webb, G. I. (2007), "Discovering significant patterns", Machine
       Learning, 68 (1), 1-33.

    Examples
    --------
    Four baskets; milk is in 3, bread in 3, both in 2:

    >>> from custintel.basket import frequent_itemsets
    >>> baskets = [["milk", "bread"], ["milk", "bread", "eggs"], ["milk"], ["bread"]]
    >>> itemsets = frequent_itemsets(baskets, min_support=0.5)
    >>> rules = association_rules(itemsets, min_threshold=0.5)
    >>> rules[["antecedents", "consequents", "support", "confidence", "lift"]]
      antecedents consequents  support  confidence      lift
    0    (bread,)     (milk,)      0.5    0.666667  0.888889
    1     (milk,)    (bread,)      0.5    0.666667  0.888889

    Confidence is 2 / 3 (2 of the 3 bread baskets hold milk), lift
    (2/3) / (3/4) = 8/9: buying bread makes milk slightly less likely here.

    Only the rules that recommend milk, with Fisher's exact test (four baskets
    prove nothing: p = 1):

    >>> rules = association_rules(
    ...     itemsets, min_threshold=0.5, consequents_include="milk", measures=["p_value"]
    ... )
    >>> rules[["antecedents", "consequents", "confidence", "p_value"]]
      antecedents consequents  confidence  p_value
    0    (bread,)     (milk,)    0.666667      1.0
    """
    if metric not in _METRIC_FUNCTIONS and metric not in EXTRA_MEASURES:
        hint = (
            "; p-values filter with max_p_value=, e.g. 0.05"
            if metric in ("p_value", "p_adjusted")
            else ""
        )
        raise ValueError(
            f"metric must be one of {[*RULE_METRICS, *EXTRA_MEASURES]}, got {metric!r}{hint}"
        )
    names = list(check_measures(measures))
    if metric in EXTRA_MEASURES:  # show the column the rules were filtered on
        names = list(check_measures([*names, metric]))
    if max_p_value is not None:
        if (
            isinstance(max_p_value, bool)
            or not isinstance(max_p_value, numbers.Real)
            or not 0.0 < float(max_p_value) <= 1.0
        ):
            raise ValueError(
                f"max_p_value must be a level in (0, 1], e.g. 0.05; got {max_p_value!r}"
            )
        names = list(check_measures([*names, "p_adjusted"]))
    if correction not in CORRECTIONS:
        raise ValueError(
            f"correction must be one of {list(CORRECTIONS)}, got {correction!r}: 'holm' "
            "controls the chance of any false rule, 'bh' the expected share of false rules"
        )
    if (
        isinstance(min_threshold, bool)
        or not isinstance(min_threshold, numbers.Real)
        or math.isnan(float(min_threshold))
    ):
        raise ValueError(f"min_threshold must be a number, got {min_threshold!r}")
    max_antecedent, max_consequent = _check_max_len(max_len)
    table = _parse_itemsets(itemsets)
    needs_n = NEEDS_N.intersection([*names, metric])
    if needs_n and table.n_baskets is None:
        raise ValueError(
            f"{sorted(needs_n)} need the number of baskets, which this itemsets table does not "
            "record; pass the output of custintel's frequent_itemsets, or set "
            "itemsets.attrs['n_baskets'] = len(baskets) on mlxtend's table"
        )
    constraints = resolve_constraints(
        table.labels,
        antecedents_include=antecedents_include,
        consequents_include=consequents_include,
        antecedents_within=antecedents_within,
        consequents_within=consequents_within,
        exclude=exclude,
        item_groups=item_groups,
    )
    rules = _rules(
        table,
        metric=metric,
        min_threshold=float(min_threshold),
        max_antecedent=max_antecedent,
        max_consequent=max_consequent,
        prune_redundant=bool(prune_redundant),
        constraints=constraints,
    )
    if names:
        rules = rule_measures(
            rules,
            names,
            correction=correction,
            n_tests=max(rules.attrs["n_candidates"], len(rules)),
        )
    if max_p_value is not None:
        rules = rules.loc[rules["p_adjusted"].to_numpy() <= float(max_p_value)]
        rules = rules.reset_index(drop=True)
    return rules


def rules_or_empty(itemsets: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """Return :func:`association_rules`, or an empty rules table for an empty itemsets table.

    For code inside the package that mines many basket sets and treats "no
    frequent item" as "no rule" (the recommender falls back on popularity,
    the support search steps down); users get the clear error instead.
    """
    if isinstance(itemsets, pd.DataFrame) and len(itemsets) == 0:
        frame = pd.DataFrame(
            {
                "antecedents": np.zeros(0, dtype=object),
                "consequents": np.zeros(0, dtype=object),
                **{name: np.zeros(0, dtype=np.float64) for name in RULE_METRICS},
            }
        )
        frame.attrs.update(
            {
                "metric": options.get("metric", "confidence"),
                "min_threshold": float(options.get("min_threshold", 0.8)),
                "n_baskets": itemsets.attrs.get("n_baskets"),
                "n_candidates": 0,
            }
        )
        return frame
    return association_rules(itemsets, **options)


def _check_max_len(max_len: Any) -> tuple[int | None, int | None]:
    def one(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(
                f"max_len must be None, an integer >= 1, or a pair (antecedent, consequent) of "
                f"those; got {max_len!r}"
            )
        return int(value)

    if isinstance(max_len, tuple):
        if len(max_len) != 2:
            raise ValueError(
                f"max_len as a tuple must be (max antecedent length, max consequent length), "
                f"got {max_len!r}"
            )
        return one(max_len[0]), one(max_len[1])
    cap = one(max_len)
    return cap, cap


def _parse_itemsets(itemsets: Any) -> _ItemsetTable:
    if not isinstance(itemsets, pd.DataFrame):
        raise SchemaError(
            f"association_rules expects the itemsets table of frequent_itemsets (a DataFrame), "
            f"got {type(itemsets).__name__}",
            reason="not_a_dataframe",
        )
    kind = itemsets.attrs.get("kind", "all")
    if kind != "all":
        raise SchemaError(
            f"association_rules needs every frequent itemset, but this table holds {kind} "
            "itemsets only, which lack the supports of their subsets; pass "
            "frequent_itemsets(..., kind='all')",
            reason="incomplete_itemsets",
        )
    column = "itemset" if "itemset" in itemsets.columns else "itemsets"
    if column not in itemsets.columns or "support" not in itemsets.columns:
        raise SchemaError(
            f"an itemsets table needs columns 'itemset' and 'support' (from frequent_itemsets) "
            f"or mlxtend's 'itemsets' and 'support'; columns present: "
            f"{[str(c) for c in itemsets.columns]}",
            reason="missing_column",
        )
    if len(itemsets) == 0:
        at = itemsets.attrs.get("min_support")
        where = "" if at is None else f" at min_support={at}"
        of = itemsets.attrs.get("n_baskets")
        baskets = "" if of is None else f" of {of:,} baskets"
        raise SchemaError(
            f"the itemsets table is empty: no item is frequent{where}{baskets}, so there are no "
            "rules to find. Lower min_support (below the support of the most common item), "
            "or check the baskets: are they empty, or did an item filter remove everything?",
            reason="empty_itemsets",
        )
    sets = [tuple(s) for s in itemsets[column].tolist()]
    support = itemsets["support"].to_numpy(dtype=np.float64)
    # A weighted table's supports are weighted, its counts are not: confidence and lift
    # must come from the supports then.
    weighted = bool(itemsets.attrs.get("weighted", False))
    has_count = "count" in itemsets.columns and not weighted
    count = itemsets["count"].to_numpy(dtype=np.int64) if has_count else None
    n_baskets = itemsets.attrs.get("n_baskets")
    if n_baskets is None and count is not None and len(count) and support[0] > 0:
        n_baskets = round(count[0] / support[0])

    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    singles = [s[0] for s, n in zip(sets, lengths, strict=True) if n == 1]
    labels = np.empty(len(singles), dtype=object)
    labels[:] = [v.item() if isinstance(v, np.generic) else v for v in singles]
    labels = labels[canonical_order(labels)]
    label_index = pd.Index(labels, dtype=object)  # no string inference: labels stay as given
    if label_index.has_duplicates:
        raise SchemaError(
            "the itemsets table lists some single items twice; pass the output of "
            "frequent_itemsets unchanged",
            reason="duplicate_itemsets",
        )
    flat = np.empty(int(lengths.sum()), dtype=object)
    flat[:] = list(chain.from_iterable(sets))
    flat_codes = (
        label_index.get_indexer(pd.Index(flat, dtype=object))
        if len(flat)
        else np.zeros(0, dtype=np.int64)
    )
    starts = np.cumsum(lengths) - lengths
    missing_rows: list[int] = []
    if (flat_codes < 0).any():
        owner = np.repeat(np.arange(len(sets)), lengths)
        missing_rows = np.unique(owner[flat_codes < 0]).tolist()
    levels: dict[int, _Level] = {}
    for length in np.unique(lengths[lengths > 0]).tolist() if not missing_rows else []:
        rows = np.flatnonzero(lengths == length)
        codes = np.sort(flat_codes[starts[rows][:, None] + np.arange(length)], axis=1)
        order = np.lexsort(codes.T[::-1])
        codes, rows = codes[order], rows[order]
        if length > 1 and (np.diff(codes, axis=1) == 0).any():
            raise SchemaError(
                "some itemsets list an item twice; pass the output of frequent_itemsets",
                reason="duplicate_itemsets",
            )
        index = ItemsetIndex(codes, len(labels))
        levels[length] = _Level(
            codes=codes,
            support=support[rows],
            count=None if count is None else count[rows],
            index=index,
        )
    if missing_rows:
        _raise_incomplete([sets[r] for r in missing_rows[:_N_EXAMPLES]])
    return _ItemsetTable(labels=labels, levels=levels, n_baskets=n_baskets)


def _raise_incomplete(examples: list[tuple[Any, ...]]) -> None:
    raise SchemaError(
        f"the itemsets table lacks subsets of some itemsets (e.g. of {examples}), so their "
        "rules' antecedent and consequent supports are unknown; pass the complete output of "
        "frequent_itemsets(..., kind='all') without filtering rows",
        reason="incomplete_itemsets",
    )


def _bits(mask: int, length: int) -> list[int]:
    return [p for p in range(length) if mask >> p & 1]


def _rules(
    table: _ItemsetTable,
    *,
    metric: str,
    min_threshold: float,
    max_antecedent: int | None,
    max_consequent: int | None,
    prune_redundant: bool,
    constraints: ItemConstraints | None = None,
) -> pd.DataFrame:
    lengths = sorted(k for k in table.levels if k >= 2)
    candidates = sum(len(table.levels[k].support) * (2**k - 2) for k in lengths)
    if candidates > _MAX_CANDIDATE_RULES:
        raise ValueError(
            f"these itemsets give {candidates:,} candidate rules, too many to enumerate; pass "
            "max_len, or mine the itemsets with a higher min_support or a smaller max_len"
        )
    parts: list[dict[str, np.ndarray]] = []
    n_candidates = 0  # rules that meet max_len and the item constraints, before the metric
    previous: tuple[np.ndarray, np.ndarray] | None = None  # (confidence, best general) tables
    for length in lengths:
        level = table.levels[length]
        n = len(level.support)
        width = 2**length
        masks = [
            m
            for m in range(1, width - 1)
            if (max_antecedent is None or bin(m).count("1") <= max_antecedent)
            and (max_consequent is None or length - bin(m).count("1") <= max_consequent)
        ]
        s_a = np.full((n, width), np.nan)
        s_c = np.full((n, width), np.nan)
        conf = np.full((n, width), np.nan)
        conf_rev = np.full((n, width), np.nan)
        for m in masks:
            a_cols = _bits(m, length)
            c_cols = [p for p in range(length) if p not in a_cols]
            a_level = table.levels.get(len(a_cols))
            c_level = table.levels.get(len(c_cols))
            if a_level is None or c_level is None:
                _raise_incomplete([tuple(table.labels[level.codes[0]].tolist())])
                raise AssertionError  # unreachable: for mypy
            a_at = a_level.index.find(level.codes[:, a_cols])
            c_at = c_level.index.find(level.codes[:, c_cols])
            if (a_at < 0).any() or (c_at < 0).any():
                bad = np.flatnonzero((a_at < 0) | (c_at < 0))[:_N_EXAMPLES]
                _raise_incomplete([tuple(table.labels[level.codes[r]].tolist()) for r in bad])
            s_a[:, m] = a_level.support[a_at]
            s_c[:, m] = c_level.support[c_at]
            if level.count is not None and a_level.count is not None and c_level.count is not None:
                conf[:, m] = level.count / a_level.count[a_at]
                conf_rev[:, m] = level.count / c_level.count[c_at]
            else:
                conf[:, m] = level.support / s_a[:, m]
                conf_rev[:, m] = level.support / s_c[:, m]
        s_ac = np.broadcast_to(level.support[:, None], (n, width))
        with np.errstate(divide="ignore", invalid="ignore"):
            if metric in _METRIC_FUNCTIONS:
                score = _METRIC_FUNCTIONS[metric](s_ac, s_a, s_c, conf, conf_rev)
            else:
                score = extra_measure(metric, s_ac, s_a, s_c, table.n_baskets)
        keep = np.zeros((n, width), dtype=bool)
        keep[:, masks] = score[:, masks] >= min_threshold
        if constraints is not None and constraints.active:
            for m in masks:
                a_cols = _bits(m, length)
                c_cols = [p for p in range(length) if p not in a_cols]
                allowed = constraints.allowed(level.codes[:, a_cols], level.codes[:, c_cols])
                keep[:, m] &= allowed
                n_candidates += int(allowed.sum())
        else:
            n_candidates += n * len(masks)
        best = np.full((n, width), -np.inf)
        if prune_redundant:
            best = _best_general(table, length, masks, previous)
            keep &= ~(best >= conf)
            previous = (conf, best)
        rows, mask_of = np.nonzero(keep)
        if len(rows) == 0:
            continue
        part = {
            "s_ac": level.support[rows],
            "s_a": s_a[rows, mask_of],
            "s_c": s_c[rows, mask_of],
            "conf": conf[rows, mask_of],
            "conf_rev": conf_rev[rows, mask_of],
        }
        antecedents = np.empty(len(rows), dtype=object)
        consequents = np.empty(len(rows), dtype=object)
        for m in np.unique(mask_of).tolist():
            at = np.flatnonzero(mask_of == m)
            a_cols = _bits(m, length)
            c_cols = [p for p in range(length) if p not in a_cols]
            selected = level.codes[rows[at]]
            antecedents[at] = tuples(table.labels[selected[:, a_cols]])
            consequents[at] = tuples(table.labels[selected[:, c_cols]])
        part["antecedents"] = antecedents
        part["consequents"] = consequents
        parts.append(part)

    def joined(key: str, dtype: Any) -> np.ndarray:
        return np.concatenate([p[key] for p in parts]) if parts else np.zeros(0, dtype=dtype)

    s_ac_all, s_a_all, s_c_all = (joined(k, np.float64) for k in ("s_ac", "s_a", "s_c"))
    conf_all, rev_all = joined("conf", np.float64), joined("conf_rev", np.float64)
    columns: dict[str, Any] = {
        "antecedents": joined("antecedents", object),
        "consequents": joined("consequents", object),
    }
    for name in RULE_METRICS:
        with np.errstate(divide="ignore", invalid="ignore"):
            columns[name] = np.asarray(
                _METRIC_FUNCTIONS[name](s_ac_all, s_a_all, s_c_all, conf_all, rev_all),
                dtype=np.float64,
            )
    frame = pd.DataFrame(columns)
    frame.attrs.update(
        {
            "metric": metric,
            "min_threshold": min_threshold,
            "n_baskets": table.n_baskets,
            "n_candidates": n_candidates,
        }
    )
    return frame


def _best_general(
    table: _ItemsetTable,
    length: int,
    masks: list[int],
    previous: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """Find the best confidence of a rule with a smaller antecedent, same consequent."""
    level = table.levels[length]
    n = len(level.support)
    best = np.full((n, 2**length), -np.inf)
    if previous is None or length - 1 not in table.levels:
        return best
    prev_conf, prev_best = previous
    shorter = table.levels[length - 1]
    # Position of each itemset with the item in column p dropped.
    dropped = [shorter.index.find(np.delete(level.codes, p, axis=1)) for p in range(length)]
    for at in dropped:
        if (at < 0).any():
            bad = np.flatnonzero(at < 0)[:_N_EXAMPLES]
            _raise_incomplete([tuple(table.labels[level.codes[r]].tolist()) for r in bad])
    for m in masks:
        a_cols = _bits(m, length)
        if len(a_cols) < 2:
            continue
        for p in a_cols:
            low = m & ((1 << p) - 1)
            general = low | ((m >> (p + 1)) << p)
            at = dropped[p]
            candidate = np.fmax(prev_conf[at, general], prev_best[at, general])
            best[:, m] = np.fmax(best[:, m], candidate)
    return best
