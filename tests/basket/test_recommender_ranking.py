"""The vectorised ranking of ``CrossSellRecommender`` against a plain-Python reference.

The reference walks the definition: for each basket, the rules in order (best
first), keeping each consequent the basket does not hold (with
``exclude_purchased``) and has not been given yet, until ``n``; then the most
popular items, skipping those held or given. ``recommend`` and
``recommend_items`` must give exactly these items, ranks and rules, whatever the
chunk sizes, on random baskets and on a hand-made case.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel.basket import CrossSellRecommender
from custintel.basket import _recommender as rec


def _reference(
    model: CrossSellRecommender, baskets: list[list[str]], n: int, exclude: bool
) -> list[list[tuple[str, int]]]:
    """Per basket, the (item, rule position or -1) recommended, best first."""
    rules = model.rules_
    antecedents = [set(a) for a in rules["antecedents"]]
    consequents = [c[0] for c in rules["consequents"]]
    popular = list(model.item_support_.index)
    known = set(popular)
    result = []
    for basket in baskets:
        held = {item for item in basket if item in known}
        picked: list[tuple[str, int]] = []
        given: set[str] = set()
        for at, (left, right) in enumerate(zip(antecedents, consequents, strict=True)):
            if len(picked) == n:
                break
            if left <= held and right not in given and not (exclude and right in held):
                picked.append((right, at))
                given.add(right)
        for item in popular:
            if len(picked) == n:
                break
            if item not in given and not (exclude and item in held):
                picked.append((item, -1))
                given.add(item)
        result.append(picked)
    return result


def _random_baskets(seed: int, n_baskets: int, n_items: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    # Skewed item popularity, so that rules of one and two antecedents are mined.
    weights = 1.0 / np.arange(1, n_items + 1)
    weights /= weights.sum()
    items = [f"i{k:02d}" for k in range(n_items)]
    baskets = []
    for _ in range(n_baskets):
        size = int(rng.integers(1, 7))
        chosen = rng.choice(n_items, size=size, replace=False, p=weights)
        baskets.append([items[k] for k in chosen])
    return baskets


@pytest.fixture(scope="module")
def model() -> CrossSellRecommender:
    return CrossSellRecommender(min_support=0.02, min_confidence=0.05).fit(
        _random_baskets(0, 600, 25)
    )


@pytest.mark.parametrize("n", [1, 3, 9, 30])
@pytest.mark.parametrize("exclude", [True, False])
def test_recommend_matches_the_reference(
    model: CrossSellRecommender, n: int, exclude: bool
) -> None:
    queries = _random_baskets(1, 300, 28)  # three items unknown to the model
    queries[5] = []  # holds nothing: popularity only
    expected = _reference(model, queries, n, exclude)
    got = model.recommend(queries, n=n, exclude_purchased=exclude)
    assert len(model.rules_) > 20
    for basket, wanted in enumerate(expected):
        rows = got.loc[[basket]] if basket in got.index else got.iloc[:0]
        assert rows["item_id"].tolist() == [item for item, _ in wanted]
        assert rows["rank"].tolist() == list(range(1, len(wanted) + 1))
        sources = ["rule" if at >= 0 else "popularity" for _, at in wanted]
        assert rows["source"].tolist() == sources
        for (_, at), (_, row) in zip(wanted, rows.iterrows(), strict=True):
            if at >= 0:
                rule = model.rules_.iloc[at]
                assert row["antecedents"] == rule["antecedents"]
                assert row["score"] == rule["confidence"]
                assert row["lift"] == rule["lift"]
            else:
                assert row["antecedents"] == ()
                assert row["score"] == model.item_support_[row["item_id"]]
                assert np.isnan(row["confidence"])


@pytest.mark.parametrize("n", [2, 12])
def test_small_chunks_give_the_same_recommendations(
    model: CrossSellRecommender, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = _random_baskets(2, 200, 25)
    whole = model.recommend(queries, n=n)
    monkeypatch.setattr(rec, "_CELLS_PER_CHUNK", 50)  # two rows of 25 candidates
    pd.testing.assert_frame_equal(model.recommend(queries, n=n), whole)
    monkeypatch.setattr(rec, "_FIRINGS_PER_CHUNK", 7)  # one row per chunk
    pd.testing.assert_frame_equal(model.recommend(queries, n=n), whole)


def test_recommend_items_is_recommend_by_rank(model: CrossSellRecommender) -> None:
    queries = pd.Series(
        _random_baskets(3, 150, 25), index=pd.Index([f"c{k}" for k in range(150)], name="cust")
    )
    queries.iloc[7] = list(model.item_support_.index)  # holds every item: nothing to offer
    for n in (1, 4):
        table = model.recommend_items(queries, n=n)
        long = model.recommend(queries, n=n)
        assert list(table.columns) == [f"item_{k}" for k in range(1, n + 1)]
        assert table.index.equals(queries.index)
        assert all(dtype == np.dtype(object) for dtype in table.dtypes)
        for k in range(1, n + 1):
            at_rank = long.loc[long["rank"] == k, "item_id"]
            expected = at_rank.reindex(queries.index).astype(object)
            expected = expected.where(expected.notna(), None)
            assert table[f"item_{k}"].tolist() == expected.tolist()
        assert table.loc["c7"].isna().all()


def test_recommend_items_checks_n(model: CrossSellRecommender) -> None:
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        model.recommend_items([["i01"]], n=0)


def test_sentences_and_antecedents_of_a_hand_made_case() -> None:
    # bread is in 4 of 6 baskets, milk in 4, butter in 3, jam in 1. Rules at confidence >= 0.5:
    # bread -> milk (3/4 = 0.75), milk -> bread (0.75), butter -> bread (2/3), ...
    baskets = [
        ["milk", "bread"],
        ["milk", "bread", "butter"],
        ["milk", "butter"],
        ["bread", "butter"],
        ["milk", "bread"],
        ["jam"],
    ]
    model = CrossSellRecommender(min_support=0.3, min_confidence=0.5).fit(baskets)
    got = model.recommend([["bread"], ["jam", "milk", "bread", "butter"]], n=3)
    first = got.loc[[0]]
    assert first["item_id"].tolist() == ["milk", "butter", "jam"]
    assert first["rule"].tolist() == [
        "bread -> milk",
        "bread -> butter",
        "popular: in 16.7% of baskets",  # jam: 1 of 6 baskets
    ]
    assert first["antecedents"].tolist() == [("bread",), ("bread",), ()]
    assert first["source"].tolist() == ["rule", "rule", "popularity"]
    assert 1 not in got.index  # holds every item


def test_item_lists_are_encoded_as_the_basket_encoder_does(model: CrossSellRecommender) -> None:
    # Lists and tuples of labels take a direct path; repeated and unknown items, empty
    # baskets and tuples give what the basket encoder gives.
    queries = [["i01", "i01", "nope"], ("i02", "i03"), [], ["i00"]]
    as_sets = [sorted(set(q) - {"nope"}) for q in queries]
    pd.testing.assert_frame_equal(
        model.recommend(queries, n=4).reset_index(drop=True),
        model.recommend([list(q) for q in as_sets], n=4).reset_index(drop=True),
    )
    expected = _reference(model, [list(q) for q in queries], 4, True)
    table = model.recommend_items(queries, n=4)
    for basket, wanted in enumerate(expected):
        got = [item for item in table.iloc[basket] if item is not None]
        assert got == [item for item, _ in wanted]


@pytest.mark.parametrize(
    ("queries", "match"),
    [
        ([["i01", None]], "missing"),
        ([["i01", float("nan")]], "missing"),
        ([["i01", ["i02"]]], "not hashable"),
        (["i01"], "is a string"),
        ([], "empty"),
    ],
)
def test_bad_item_lists_are_refused_as_before(
    model: CrossSellRecommender, queries: list, match: str
) -> None:
    from custintel.exceptions import SchemaError

    with pytest.raises(SchemaError, match=match):
        model.recommend(queries, n=2)
    with pytest.raises(SchemaError, match=match):
        model.recommend_items(queries, n=2)
