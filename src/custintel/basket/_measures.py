"""More interest measures of association rules, Fisher's exact test and p-value corrections.

Every measure here is a vectorised function of the supports :math:`s_{AC}`,
:math:`s_A`, :math:`s_C` and the number of baskets :math:`N`, so it applies to
a rules table of any size, and to rules made by mlxtend too.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "EXTRA_MEASURES",
    "SIGNIFICANCE_COLUMNS",
    "adjust_p_values",
    "extra_measure",
    "fisher_p_values",
    "rule_measures",
]

#: Measures that :func:`rule_measures` (or ``association_rules(..., measures=...)``) adds.
EXTRA_MEASURES: tuple[str, ...] = (
    "representativity",
    "added_value",
    "cosine",
    "imbalance_ratio",
    "odds_ratio",
    "chi_squared",
)

#: Columns of the significance test: the raw and the corrected p-value.
SIGNIFICANCE_COLUMNS: tuple[str, ...] = ("p_value", "p_adjusted")

Correction = Literal["holm", "bh", "bonferroni"]
CORRECTIONS = ("holm", "bh", "bonferroni")

Array = np.ndarray


def _counts(s_ac: Array, s_a: Array, s_c: Array, n: int) -> tuple[Array, Array, Array, Array]:
    """Return the 2 x 2 table of a rule: baskets with A and C, A only, C only, neither."""
    n_ac = np.rint(s_ac * n)
    n_a = np.rint(s_a * n)
    n_c = np.rint(s_c * n)
    return n_ac, n_a - n_ac, n_c - n_ac, n - n_a - n_c + n_ac


def _representativity(s_ac: Array, s_a: Array, s_c: Array, n: int | None) -> Array:
    # mlxtend: share of baskets where every item of the rule is recorded (not missing).
    # Baskets have no missing entries, so it is 1 for every rule.
    return np.ones(np.broadcast(s_ac, s_a, s_c).shape)


def _added_value(s_ac: Array, s_a: Array, s_c: Array, n: int | None) -> Array:
    return s_ac / s_a - s_c


def _cosine(s_ac: Array, s_a: Array, s_c: Array, n: int | None) -> Array:
    return s_ac / np.sqrt(s_a * s_c)


def _imbalance_ratio(s_ac: Array, s_a: Array, s_c: Array, n: int | None) -> Array:
    # s_A + s_C - s_AC >= max(s_A, s_C) > 0 for a rule of frequent itemsets.
    return np.abs(s_a - s_c) / (s_a + s_c - s_ac)


def _odds_ratio(s_ac: Array, s_a: Array, s_c: Array, n: int | None) -> Array:
    if n is None:
        # Supports give the same ratio as counts: the factors N cancel.
        # Shares, not counts: round away float noise so that an empty cell is exactly 0.
        n_ac, n_a_only, n_c_only, n_neither = (
            np.where(np.abs(x) < 1e-12, 0.0, x)
            for x in (s_ac, s_a - s_ac, s_c - s_ac, 1.0 - s_a - s_c + s_ac)
        )
    else:
        n_ac, n_a_only, n_c_only, n_neither = _counts(s_ac, s_a, s_c, n)
    top = n_ac * n_neither
    bottom = n_a_only * n_c_only
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = top / bottom
    # Only one margin can be zero here (n_AC > 0): A or C never misses the other, so the
    # ratio is infinite, unless n_neither is 0 too (A or C in every basket): no evidence
    # either way, odds ratio 1.
    return np.where(bottom > 0, ratio, np.where(top > 0, np.inf, 1.0))


def _chi_squared(s_ac: Array, s_a: Array, s_c: Array, n: int | None) -> Array:
    if n is None:
        raise ValueError("chi_squared needs the number of baskets")
    denominator = s_a * (1.0 - s_a) * s_c * (1.0 - s_c)
    leverage = s_ac - s_a * s_c
    with np.errstate(divide="ignore", invalid="ignore"):
        value = n * leverage**2 / denominator
    # A or C in every basket: the table has an empty margin and no association; 0.
    return np.where(denominator > 0, value, 0.0)


_EXTRA_FUNCTIONS: dict[str, Callable[[Array, Array, Array, int | None], Array]] = {
    "representativity": _representativity,
    "added_value": _added_value,
    "cosine": _cosine,
    "imbalance_ratio": _imbalance_ratio,
    "odds_ratio": _odds_ratio,
    "chi_squared": _chi_squared,
}

#: Measures that need the number of baskets (counts, not only supports).
NEEDS_N: frozenset[str] = frozenset({"chi_squared", "p_value", "p_adjusted"})


def extra_measure(name: str, s_ac: Array, s_a: Array, s_c: Array, n: int | None) -> Array:
    """Compute one of :data:`EXTRA_MEASURES` from supports (arrays broadcast together)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(_EXTRA_FUNCTIONS[name](s_ac, s_a, s_c, n), dtype=np.float64)


def fisher_p_values(s_ac: Any, s_a: Any, s_c: Any, n_baskets: int) -> np.ndarray:
    r"""One-sided Fisher's exact test of positive association, for many rules at once.

    Parameters
    ----------
    s_ac, s_a, s_c : array-like
        Supports of :math:`A \cup C`, :math:`A` and :math:`C`, one per rule.
    n_baskets : int
        Number of baskets :math:`N` the supports are shares of.

    Returns
    -------
    numpy.ndarray
        :math:`P(X \ge N s_{AC})` for :math:`X` hypergeometric: the chance,
        were A and C independent with their margins fixed, of at least as many
        baskets holding both.

    Notes
    -----
    The p-value of Fisher's test on the 2 x 2 table of a rule, alternative
    "greater", is the hypergeometric survival function
    :math:`P(X \ge n_{AC})` with :math:`X` the number of the :math:`n_A`
    baskets with A that hold C, drawn from :math:`N` baskets of which
    :math:`n_C` hold C [1]_. It is symmetric in A and C, so a rule and its
    reverse are computed once.

    References
    ----------
    .. [1] Hahsler, M. and Hornik, K. (2007), "New probabilistic interest
       measures for association rules", Intelligent Data Analysis, 11 (5),
       437-455.

    Examples
    --------
    Of 4 baskets, 2 hold A, 2 hold C, 2 hold both: the chance of that under
    independence is 1 / 6, the number of ways to place two C baskets among 4.

    >>> from custintel.basket import fisher_p_values
    >>> fisher_p_values([0.5], [0.5], [0.5], 4).round(4).tolist()
    [0.1667]
    """
    from scipy import stats

    n = int(n_baskets)
    n_ac, n_a_only, n_c_only, _ = _counts(
        np.asarray(s_ac, dtype=np.float64),
        np.asarray(s_a, dtype=np.float64),
        np.asarray(s_c, dtype=np.float64),
        n,
    )
    n_a = n_ac + n_a_only
    n_c = n_ac + n_c_only
    # Fisher's test is symmetric in A and C: one computation per distinct table.
    key = np.stack([n_ac, np.minimum(n_a, n_c), np.maximum(n_a, n_c)]).reshape(3, -1)
    if key.shape[1] == 0:
        return np.zeros(np.shape(n_ac))
    if (n + 1) ** 3 < 2**62:  # one integer per table: a much faster unique than axis=1
        base = np.int64(n + 1)
        codes = key.astype(np.int64)
        _, first, inverse = np.unique(
            (codes[0] * base + codes[1]) * base + codes[2], return_index=True, return_inverse=True
        )
        unique = key[:, first]
    else:
        unique, inverse = np.unique(key, axis=1, return_inverse=True)
    p = stats.hypergeom.sf(unique[0] - 1, n, unique[1], unique[2])
    return np.clip(p[inverse.ravel()], 0.0, 1.0).reshape(np.shape(n_ac))


def adjust_p_values(
    p_values: Any, *, method: Correction = "holm", n_tests: int | None = None
) -> np.ndarray:
    r"""Correct p-values for multiple testing (Holm, Benjamini-Hochberg or Bonferroni).

    Parameters
    ----------
    p_values : array-like
        Raw p-values, one per test.
    method : {"holm", "bh", "bonferroni"}, default="holm"
        ``"holm"`` controls the family-wise error rate (the chance of any false
        discovery), ``"bh"`` the false discovery rate (the expected share of
        false discoveries among those kept), ``"bonferroni"`` the family-wise
        error rate more crudely.
    n_tests : int, optional
        Size of the family of tests, at least ``len(p_values)``. Give it when
        the p-values are those of the tests that passed a filter (rules above
        a confidence threshold, say): the tests left out are counted as if
        their p-values were larger than every one given, which keeps the
        correction valid and conservative. Default: ``len(p_values)``.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, in [0, 1]: reject where they are at most the
        chosen level.

    Notes
    -----
    With the :math:`m` p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`,
    and :math:`M` tests in the family, Holm's adjusted p-value is
    :math:`\max_{j \le i} \min(1, (M - j + 1) p_{(j)})` [1]_ and
    Benjamini-Hochberg's is :math:`\min_{j \ge i} \min(1, M p_{(j)} / j)` [2]_.
    With :math:`M = m`, BH equals :func:`scipy.stats.false_discovery_control`.

    References
    ----------
    .. [1] Holm, S. (1979), "A simple sequentially rejective multiple test
       procedure", Scandinavian Journal of Statistics, 6 (2), 65-70.
    .. [2] Benjamini, Y. and Hochberg, Y. (1995), "Controlling the false
       discovery rate", Journal of the Royal Statistical Society B, 57 (1),
       289-300.

    Examples
    --------
    >>> from custintel.basket import adjust_p_values
    >>> adjust_p_values([0.01, 0.04, 0.03], method="holm").round(2).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p_values([0.01, 0.04, 0.03], method="bh").round(2).tolist()
    [0.03, 0.04, 0.04]
    """
    if method not in CORRECTIONS:
        raise ValueError(
            f"correction must be one of {list(CORRECTIONS)}, got {method!r}: 'holm' controls "
            "the chance of any false rule, 'bh' the expected share of false rules"
        )
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p_values must be one-dimensional, got shape {p.shape}")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p_values must lie in [0, 1], without NaN")
    m = len(p)
    if n_tests is None:
        total = m
    elif isinstance(n_tests, bool) or not isinstance(n_tests, numbers.Integral) or n_tests < m:
        raise ValueError(
            f"n_tests is the size of the family of tests, at least the {m:,} p-values given; "
            f"got {n_tests!r}"
        )
    else:
        total = int(n_tests)
    if m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * total, 1.0)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    rank = np.arange(1, m + 1, dtype=np.float64)
    if method == "holm":
        adjusted = np.maximum.accumulate(np.minimum((total - rank + 1) * ranked, 1.0))
    else:
        adjusted = np.minimum.accumulate(np.minimum(total * ranked / rank, 1.0)[::-1])[::-1]
    result = np.empty(m)
    result[order] = adjusted
    return result


def check_measures(measures: Any) -> tuple[str, ...]:
    """Return the requested measure names, in canonical order, or raise a clear error."""
    known = (*EXTRA_MEASURES, *SIGNIFICANCE_COLUMNS)
    if measures is None:
        return ()
    if isinstance(measures, str):
        if measures == "all":
            return known
        measures = [measures]
    if not isinstance(measures, Iterable):
        raise ValueError(f"measures must be 'all' or a list of names, got {measures!r}")
    names = list(measures)
    unknown = [m for m in names if m not in known]
    if unknown:
        raise ValueError(
            f"unknown measures {unknown}; choose from {list(known)} or pass measures='all'"
        )
    if "p_adjusted" in names and "p_value" not in names:
        names.append("p_value")
    return tuple(m for m in known if m in names)


def rule_measures(
    rules: pd.DataFrame,
    measures: str | Iterable[str] = "all",
    *,
    n_baskets: int | None = None,
    correction: Correction = "holm",
    n_tests: int | None = None,
) -> pd.DataFrame:
    r"""Add interest measures and Fisher's exact test to a table of rules.

    Parameters
    ----------
    rules : pandas.DataFrame
        Output of :func:`association_rules`, or of mlxtend's (columns
        ``antecedent support``, ``consequent support`` and ``support``).
    measures : str or list of str, default="all"
        Names among :data:`EXTRA_MEASURES` and ``"p_value"`` and
        ``"p_adjusted"``, or ``"all"``.
    n_baskets : int, optional
        Number of baskets, needed by ``chi_squared`` and the p-values.
        Default: ``rules.attrs["n_baskets"]``, which :func:`association_rules`
        records.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiple-testing correction of ``p_adjusted``; see
        :func:`adjust_p_values`.
    n_tests : int, optional
        Size of the family of tests for the correction. Default: the number of
        rules in ``rules``. :func:`association_rules` passes the number of
        candidate rules it examined, so that filtering on a metric first does
        not make the correction too lenient.

    Returns
    -------
    pandas.DataFrame
        A copy of ``rules`` with one column per measure, in the order of
        :data:`EXTRA_MEASURES` then ``p_value``, ``p_adjusted``.
        ``attrs["correction"]`` and ``attrs["n_tests"]`` record the
        correction when p-values are added.

    Raises
    ------
    ValueError
        For an unknown measure or correction, or when a measure needs the
        number of baskets and neither ``n_baskets`` nor the table gives it.

    Notes
    -----
    With :math:`N` baskets, :math:`s_A`, :math:`s_C`, :math:`s_{AC}` the
    supports and :math:`c = s_{AC} / s_A` the confidence, as in R arules [1]_:

    - ``representativity``: mlxtend's share of baskets in which every item of
      the rule is recorded rather than missing; baskets have no missing
      entries, so it is 1 (kept so that mlxtend's columns are all here);
    - ``added_value`` :math:`= c - s_C`, in [-1, 1];
    - ``cosine`` :math:`= s_{AC} / \sqrt{s_A s_C}`, in [0, 1];
    - ``imbalance_ratio`` :math:`= |s_A - s_C| / (s_A + s_C - s_{AC})`, in
      [0, 1]: 0 when A and C are equally common;
    - ``odds_ratio`` :math:`= n_{AC} n_{\bar A \bar C} / (n_{A \bar C}
      n_{\bar A C})` from the 2 x 2 table of counts, in [0, inf]: infinite
      when A never comes without C or C never without A, and 1 when the table
      has an empty row or column (A or C in every basket);
    - ``chi_squared`` :math:`= N (s_{AC} - s_A s_C)^2 / (s_A (1 - s_A) s_C
      (1 - s_C))`, the :math:`\chi^2` statistic of the 2 x 2 table without
      continuity correction (1 degree of freedom), 0 when A or C is in every
      basket;
    - ``p_value``: one-sided Fisher's exact test of positive association, see
      :func:`fisher_p_values`; ``p_adjusted``: the same corrected by
      :func:`adjust_p_values`.

    No value is NaN and no division warning is raised.

    References
    ----------
    .. [1] Hahsler, M. (2015), "A probabilistic comparison of commonly used
       interest measures for association rules",
       https://mhahsler.github.io/arules/docs/measures

    Examples
    --------
    >>> from custintel.basket import association_rules, frequent_itemsets, rule_measures
    >>> baskets = [["milk", "bread"], ["milk", "bread"], ["milk"], ["eggs"]]
    >>> rules = association_rules(frequent_itemsets(baskets, min_support=0.5))
    >>> rule_measures(rules, ["cosine", "odds_ratio", "p_value"])[
    ...     ["antecedents", "consequents", "confidence", "cosine", "odds_ratio", "p_value"]]
      antecedents consequents  confidence    cosine  odds_ratio  p_value
    0    (bread,)     (milk,)         1.0  0.816497         inf      0.5

    Bread never comes without milk (odds ratio infinite), yet with 4 baskets
    that happens half the time by chance: 3 of the 6 ways to pick the two
    bread baskets among the 4 pick two milk baskets.
    """
    if not isinstance(rules, pd.DataFrame):
        raise ValueError(f"rules must be a DataFrame of rules, got {type(rules).__name__}")
    names = check_measures(measures)
    columns = _support_columns(rules)
    n = _resolve_n(rules, n_baskets, names)
    s_ac, s_a, s_c = (rules[c].to_numpy(dtype=np.float64) for c in columns)
    result = rules.copy()
    for name in names:
        if name in _EXTRA_FUNCTIONS:
            result[name] = extra_measure(name, s_ac, s_a, s_c, n)
    if "p_value" in names:
        assert n is not None  # _resolve_n checked it
        p = fisher_p_values(s_ac, s_a, s_c, n)
        result["p_value"] = p
        if "p_adjusted" in names:
            result["p_adjusted"] = adjust_p_values(p, method=correction, n_tests=n_tests)
            result.attrs["correction"] = correction
            result.attrs["n_tests"] = len(p) if n_tests is None else int(n_tests)
    return result


def _support_columns(rules: pd.DataFrame) -> tuple[str, str, str]:
    for names in (
        ("support", "antecedent_support", "consequent_support"),
        ("support", "antecedent support", "consequent support"),
    ):
        if all(c in rules.columns for c in names):
            return names
    raise ValueError(
        "rules need columns 'support', 'antecedent_support' and 'consequent_support' (from "
        "association_rules) or mlxtend's 'antecedent support' and 'consequent support'; "
        f"columns present: {[str(c) for c in rules.columns]}"
    )


def _resolve_n(rules: pd.DataFrame, n_baskets: Any, names: tuple[str, ...]) -> int | None:
    n = rules.attrs.get("n_baskets") if n_baskets is None else n_baskets
    if n is None:
        if NEEDS_N.intersection(names):
            raise ValueError(
                f"{sorted(NEEDS_N.intersection(names))} need the number of baskets; pass "
                "n_baskets= (rules from mlxtend do not record it), e.g. n_baskets=len(baskets)"
            )
        return None
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n_baskets must be an integer >= 1, got {n!r}")
    return int(n)
