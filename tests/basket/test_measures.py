"""More rule measures, Fisher's exact test and the multiple-testing corrections."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from custintel.basket import (
    EXTRA_MEASURES,
    RULE_COLUMNS,
    adjust_p_values,
    association_rules,
    fisher_p_values,
    frequent_itemsets,
    rule_measures,
)

from ._helpers import BASKETS, SUPPORTS, load_groceries

# Ten baskets. a in 6, b in 5, both in 4; c in every basket.
#   2 x 2 table of a -> b:  n_ab = 4, n_a-only = 2, n_b-only = 1, neither = 3.
TINY = [
    ["a", "b", "c"],
    ["a", "b", "c"],
    ["a", "b", "c"],
    ["a", "b", "c"],
    ["a", "c"],
    ["a", "c"],
    ["b", "c"],
    ["c"],
    ["c"],
    ["c"],
]


@pytest.fixture(scope="module")
def tiny_rules() -> pd.DataFrame:
    itemsets = frequent_itemsets(TINY, min_support=0.1)
    return association_rules(itemsets, min_threshold=0.0, measures="all")


def _row(
    rules: pd.DataFrame, antecedent: tuple[str, ...], consequent: tuple[str, ...]
) -> pd.Series:
    at = [
        a == antecedent and c == consequent
        for a, c in zip(rules["antecedents"], rules["consequents"], strict=True)
    ]
    assert sum(at) == 1
    return rules.loc[at].iloc[0]


def test_measures_equal_a_hand_computation(tiny_rules: pd.DataFrame) -> None:
    rule = _row(tiny_rules, ("a",), ("b",))
    # s_a = 0.6, s_b = 0.5, s_ab = 0.4; confidence 4/6.
    assert rule["added_value"] == pytest.approx(4 / 6 - 0.5)
    assert rule["cosine"] == pytest.approx(0.4 / math.sqrt(0.6 * 0.5))
    assert rule["imbalance_ratio"] == pytest.approx(0.1 / (0.6 + 0.5 - 0.4))
    assert rule["odds_ratio"] == pytest.approx(4 * 3 / (2 * 1))
    # chi2 = N (n11 n00 - n10 n01)^2 / (n1. n0. n.1 n.0) = 10 (12 - 2)^2 / (6 4 5 5)
    assert rule["chi_squared"] == pytest.approx(10 * 10**2 / (6 * 4 * 5 * 5))
    # P(X >= 4), X ~ hypergeometric: 6 a-baskets drawn from 10, 5 of them with b.
    # P(4) = C(5,4) C(5,2) / C(10,6) = 50/210, P(5) = C(5,5) C(5,1) / 210 = 5/210.
    assert rule["p_value"] == pytest.approx(55 / 210)
    assert rule["representativity"] == 1.0


def test_edge_conventions_without_warnings() -> None:
    # c is in every basket: the table has an empty row, chi2 is 0 and the odds ratio 1.
    # a -> c has confidence 1: conviction and odds ratio are infinite only where defined so.
    itemsets = frequent_itemsets(TINY, min_support=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rules = association_rules(itemsets, min_threshold=0.0, measures="all")
    a_c = _row(rules, ("a",), ("c",))
    assert a_c["chi_squared"] == 0.0 and a_c["odds_ratio"] == 1.0
    assert a_c["p_value"] == 1.0  # c in every basket: no evidence at all
    assert a_c["conviction"] == np.inf and a_c["added_value"] == 0.0
    assert not rules[list(EXTRA_MEASURES)].isna().any().any()
    # a in every basket with b -> odds ratio infinite: baskets with b but not a are none.
    perfect = frequent_itemsets([["a", "b"], ["a", "b"], ["a"], []], min_support=0.25)
    b_a = association_rules(perfect, min_threshold=0.0, measures=["odds_ratio"])
    assert b_a["odds_ratio"].tolist() == [np.inf, np.inf]


def test_default_columns_are_unchanged_and_measures_are_opt_in(tiny_rules: pd.DataFrame) -> None:
    itemsets = frequent_itemsets(TINY, min_support=0.1)
    assert list(association_rules(itemsets).columns) == list(RULE_COLUMNS)
    assert list(tiny_rules.columns) == [*RULE_COLUMNS, *EXTRA_MEASURES, "p_value", "p_adjusted"]
    cosine = association_rules(itemsets, metric="cosine", min_threshold=0.7)
    assert list(cosine.columns) == [*RULE_COLUMNS, "cosine"]
    assert (cosine["cosine"] >= 0.7).all() and len(cosine) > 0


def test_unknown_measures_and_p_value_metric_say_what_to_do() -> None:
    itemsets = frequent_itemsets(TINY, min_support=0.1)
    with pytest.raises(ValueError, match="unknown measures \\['lif'\\]"):
        association_rules(itemsets, measures=["lif"])
    with pytest.raises(ValueError, match="max_p_value="):
        association_rules(itemsets, metric="p_value", min_threshold=0.05)
    with pytest.raises(ValueError, match="max_p_value must be a level"):
        association_rules(itemsets, max_p_value=0)
    with pytest.raises(ValueError, match="correction must be one of"):
        association_rules(itemsets, max_p_value=0.05, correction="fdr")  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # mlxtend's own
def test_rule_measures_on_mlxtend_rules_needs_n_baskets() -> None:
    pytest.importorskip("mlxtend")
    from mlxtend.frequent_patterns import apriori
    from mlxtend.frequent_patterns import association_rules as mlxtend_rules
    from mlxtend.preprocessing import TransactionEncoder

    encoder = TransactionEncoder()
    one_hot = pd.DataFrame(encoder.fit(TINY).transform(TINY), columns=encoder.columns_)
    theirs = mlxtend_rules(
        apriori(one_hot, min_support=0.1, use_colnames=True), 10, min_threshold=0
    )
    with pytest.raises(ValueError, match="n_baskets="):
        rule_measures(theirs, ["p_value"])
    ours = rule_measures(theirs, n_baskets=len(TINY))
    row = ours[
        (ours["antecedents"] == frozenset({"a"})) & (ours["consequents"] == frozenset({"b"}))
    ]
    assert row["p_value"].item() == pytest.approx(55 / 210)
    assert (ours["representativity"] == theirs["representativity"]).all()
    assert theirs is not ours and "cosine" not in theirs.columns  # input not mutated


@pytest.mark.slow
def test_groceries_measures_against_mlxtend_and_scipy() -> None:
    pytest.importorskip("mlxtend")
    from mlxtend.frequent_patterns import apriori
    from mlxtend.frequent_patterns import association_rules as mlxtend_rules
    from mlxtend.preprocessing import TransactionEncoder

    baskets = load_groceries()
    itemsets = frequent_itemsets(baskets, min_support=0.005)
    ours = association_rules(itemsets, min_threshold=0.0, measures="all")
    encoder = TransactionEncoder()
    one_hot = pd.DataFrame(encoder.fit(baskets).transform(baskets), columns=encoder.columns_)
    theirs = mlxtend_rules(
        apriori(one_hot, min_support=0.005, use_colnames=True), len(baskets), min_threshold=0.0
    )
    key = ["antecedents", "consequents"]
    theirs = theirs.assign(
        antecedents=[tuple(sorted(a)) for a in theirs["antecedents"]],
        consequents=[tuple(sorted(c)) for c in theirs["consequents"]],
    )
    merged = ours.merge(theirs, on=key, how="outer", indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == len(ours)
    np.testing.assert_array_equal(merged["representativity_x"], merged["representativity_y"])

    # Every rule's 2 x 2 table from the baskets themselves, then scipy on a sample.
    sets = [frozenset(b) for b in baskets]
    rng = np.random.default_rng(0)
    n = len(baskets)
    for at in rng.choice(len(ours), size=40, replace=False):
        a, c = set(ours["antecedents"][at]), set(ours["consequents"][at])
        has_a = np.array([a <= s for s in sets])
        has_c = np.array([c <= s for s in sets])
        table = np.array(
            [
                [np.sum(has_a & has_c), np.sum(has_a & ~has_c)],
                [np.sum(~has_a & has_c), np.sum(~has_a & ~has_c)],
            ]
        )
        assert table.sum() == n
        expected_p = stats.fisher_exact(table, alternative="greater").pvalue
        assert ours["p_value"][at] == pytest.approx(expected_p, rel=1e-9, abs=1e-300)
        chi2 = stats.chi2_contingency(table, correction=False).statistic
        assert ours["chi_squared"][at] == pytest.approx(chi2, rel=1e-9)
        odds = stats.contingency.odds_ratio(table, kind="sample").statistic
        assert ours["odds_ratio"][at] == pytest.approx(odds, rel=1e-9)
        assert ours["cosine"][at] == pytest.approx(
            table[0, 0] / math.sqrt(has_a.sum() * has_c.sum())
        )
    # Holm over the candidate rules: every rule here is a candidate (threshold 0).
    assert ours.attrs["n_candidates"] == len(ours)
    np.testing.assert_allclose(ours["p_adjusted"], adjust_p_values(ours["p_value"]))


def test_adjust_p_values_match_scipy_and_hand() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    np.testing.assert_allclose(
        adjust_p_values(p, method="bh"), stats.false_discovery_control(p, method="bh")
    )
    # Holm by hand: sorted 0.005, 0.01, 0.03, 0.04, 0.5 times 5, 4, 3, 2, 1
    #   = 0.025, 0.04, 0.09, 0.08 -> 0.09 (monotone), 0.5
    np.testing.assert_allclose(adjust_p_values(p, method="holm"), [0.04, 0.09, 0.09, 0.025, 0.5])
    np.testing.assert_allclose(adjust_p_values(p, method="bonferroni"), [0.05, 0.2, 0.15, 0.025, 1])
    assert adjust_p_values([], method="holm").tolist() == []
    with pytest.raises(ValueError, match="at least the 5 p-values"):
        adjust_p_values(p, n_tests=3)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        adjust_p_values([0.1, np.nan])


@settings(max_examples=50, deadline=None)
@given(
    p=st.lists(st.floats(0, 1), min_size=1, max_size=30),
    extra=st.integers(0, 20),
    method=st.sampled_from(["holm", "bh", "bonferroni"]),
)
def test_a_larger_family_is_conservative(p: list[float], extra: int, method: str) -> None:
    # Tests left out count as larger p-values: the adjusted values of the kept tests are
    # at least what they would be with the left-out p-values set to 1.
    given_only = adjust_p_values(p, method=method, n_tests=len(p) + extra)  # type: ignore[arg-type]
    padded = adjust_p_values([*p, *[1.0] * extra], method=method)  # type: ignore[arg-type]
    np.testing.assert_allclose(given_only, padded[: len(p)], atol=1e-12)
    assert (given_only >= np.asarray(p) - 1e-15).all() and (given_only <= 1).all()


def test_fisher_is_vectorised_symmetric_and_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    n = 500
    n_a = rng.integers(1, n, 200)
    n_c = rng.integers(1, n, 200)
    low = np.maximum(0, n_a + n_c - n)
    n_ac = rng.integers(low, np.minimum(n_a, n_c) + 1)
    ours = fisher_p_values(n_ac / n, n_a / n, n_c / n, n)
    np.testing.assert_array_equal(ours, fisher_p_values(n_ac / n, n_c / n, n_a / n, n))
    for k in range(0, 200, 17):
        table = [[n_ac[k], n_a[k] - n_ac[k]], [n_c[k] - n_ac[k], n - n_a[k] - n_c[k] + n_ac[k]]]
        assert ours[k] == pytest.approx(stats.fisher_exact(table, alternative="greater").pvalue)
    assert fisher_p_values([], [], [], 10).shape == (0,)
    # Millions of baskets: the tables no longer fit one integer key; same answers.
    big = 3_000_000
    n_ac, n_a, n_c = np.array([150, 150, 90]), np.array([2000, 2000, 9000]), np.array([90000] * 3)
    expected = stats.hypergeom.sf(n_ac - 1, big, n_a, n_c)
    np.testing.assert_allclose(fisher_p_values(n_ac / big, n_a / big, n_c / big, big), expected)


def test_max_p_value_keeps_significant_rules_with_the_candidate_family() -> None:
    # b always with a in 30 of 40 baskets; d and e independent noise.
    baskets = [["a", "b"]] * 30 + [["d"], ["e"], ["d", "e"], ["a"]] * 2 + [["c"]] * 2
    itemsets = frequent_itemsets(baskets, min_support=0.02)
    every = association_rules(itemsets, min_threshold=0.0, measures=["p_value", "p_adjusted"])
    kept = association_rules(itemsets, min_threshold=0.0, max_p_value=0.05)
    assert set(kept["antecedents"] + kept["consequents"]) == {("a", "b"), ("b", "a")}
    assert (kept["p_adjusted"] <= 0.05).all()
    assert kept.attrs["n_candidates"] == len(every)
    # Filtering on confidence first keeps the family: the same adjusted p-values.
    confident = association_rules(itemsets, min_threshold=0.9, measures=["p_adjusted"])
    assert confident.attrs["n_candidates"] == len(every)
    merged = confident.merge(every, on=["antecedents", "consequents"])
    assert (merged["p_adjusted_x"] >= merged["p_adjusted_y"] - 1e-15).all()


@settings(max_examples=60, deadline=None)
@given(baskets=BASKETS, min_support=SUPPORTS)
def test_measures_stay_within_their_ranges(baskets: list[list[str]], min_support: float) -> None:
    itemsets = frequent_itemsets(baskets, min_support=min_support)
    assume(len(itemsets) > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rules = association_rules(itemsets, min_threshold=0, measures="all")
    eps = 1e-12
    assert not rules[[*EXTRA_MEASURES, "p_value", "p_adjusted"]].isna().any().any()
    for name in ("cosine", "imbalance_ratio", "p_value", "p_adjusted"):
        assert rules[name].between(-eps, 1 + eps).all(), name
    assert rules["added_value"].between(-1 - eps, 1 + eps).all()
    assert (rules["odds_ratio"] >= 0).all() and (rules["chi_squared"] >= 0).all()
    assert (rules["p_adjusted"] >= rules["p_value"] - eps).all()
    # odds ratio > 1 exactly where leverage > 0 (both say A makes C more likely)
    clear = rules["leverage"].abs() > 1e-9
    assert ((rules["odds_ratio"][clear] > 1) == (rules["leverage"][clear] > 0)).all()
