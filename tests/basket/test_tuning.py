"""The automatic minimum support: a useful number of rules, and the max_rules cap."""

from __future__ import annotations

import numpy as np
import pytest

from custintel.basket import CrossSellRecommender, choose_min_support


def _catalogue(seed: int = 0, n_items: int = 600, n_baskets: int = 6000) -> list[list[str]]:
    """Baskets from a long-tailed catalogue with 60 bundles of items often bought together."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.9
    popularity /= popularity.sum()
    bundles = [rng.choice(n_items, size=rng.integers(2, 5), replace=False) for _ in range(60)]
    baskets = []
    for _ in range(n_baskets):
        items = set(rng.choice(n_items, size=rng.integers(2, 12), p=popularity).tolist())
        if rng.random() < 0.5:
            bundle = bundles[rng.integers(len(bundles))]
            items |= {int(i) for i in bundle if rng.random() < 0.8}
        baskets.append([f"P{i:04d}" for i in sorted(items)])
    return baskets


def test_the_automatic_support_lands_in_the_target_band() -> None:
    baskets = _catalogue()
    choice = choose_min_support(baskets)
    assert 200 <= choice.n_rules <= 3000
    # Each support tried is lower than the last, and the walk stopped at the first that
    # reached the middle of the band (or kept the one before when that overshot it).
    supports = [s for s, _ in choice.tried]
    assert supports == sorted(supports, reverse=True) and supports[0] == 0.05
    assert choice.min_support in supports
    assert all(n < np.sqrt(200 * 3000) for _, n in choice.tried[:-1])
    # The count is that of the recommender mined at that support.
    model = CrossSellRecommender(min_support=choice.min_support).fit(baskets)
    assert len(model.rules_) == choice.n_rules
    # A fixed low support (the old automatic floor) finds many times more rules.
    assert len(CrossSellRecommender(min_support=0.001).fit(baskets).rules_) > 5 * choice.n_rules


def test_a_narrow_band_moves_the_support() -> None:
    baskets = _catalogue(seed=1)
    few = choose_min_support(baskets, target=(5, 40))
    many = choose_min_support(baskets, target=(500, 5000))
    assert few.min_support > many.min_support
    assert few.n_rules < many.n_rules


def test_supports_are_round_numbers() -> None:
    choice = choose_min_support(_catalogue(seed=2))
    for support, _ in choice.tried:
        assert float(f"{support:.2g}") == support


def test_bad_arguments_are_clear() -> None:
    with pytest.raises(ValueError, match="target must be two rule counts"):
        choose_min_support([["a", "b"]], target=(10, 5))
    with pytest.raises(ValueError, match=r"step must be in \(0, 1\)"):
        choose_min_support([["a", "b"]], step=1.5)


def test_max_rules_keeps_the_best_and_counts_what_was_found() -> None:
    baskets = _catalogue(seed=3)
    full = CrossSellRecommender(min_support=0.005).fit(baskets)
    capped = CrossSellRecommender(min_support=0.005, max_rules=50).fit(baskets)
    assert len(full.rules_) > 50
    assert len(capped.rules_) == 50 and capped.n_rules_found_ == len(full.rules_)
    assert full.n_rules_found_ == len(full.rules_)
    # The kept rules are the best ones, in the same order.
    kept = capped.rules_[["antecedents", "consequents"]]
    assert kept.equals(full.rules_[["antecedents", "consequents"]].head(50))
    # The cap survives the JSON export; older exports without it still load.
    again = CrossSellRecommender.from_dict(capped.to_dict())
    assert again.max_rules == 50 and len(again.rules_) == 50
    export = full.to_dict()
    del export["params"]["max_rules"]
    assert CrossSellRecommender.from_dict(export).max_rules is None
    with pytest.raises(ValueError, match="max_rules must be None or an integer >= 1"):
        CrossSellRecommender(max_rules=0).fit(baskets)


def test_a_sample_of_the_baskets_picks_about_the_same_support() -> None:
    # Supports are shares of baskets: the walk on a random 2,000 of 6,000 baskets picks a
    # support within one step of the walk on all of them, and mining every basket at it
    # lands in (or near) the band. The floor still counts the whole data's baskets.
    baskets = _catalogue()
    full = choose_min_support(baskets, max_baskets=None)
    sampled = choose_min_support(baskets, max_baskets=2000, random_state=1)
    assert sampled.min_support in {s for s, _ in full.tried} | {full.min_support}
    assert abs(np.log(sampled.min_support / full.min_support)) <= abs(np.log(0.8)) + 1e-9
    rules = len(CrossSellRecommender(min_support=sampled.min_support).fit(baskets).rules_)
    assert 100 <= rules <= 6000
    # the same seed gives the same choice; the default reads all of a small log
    again = choose_min_support(baskets, max_baskets=2000, random_state=1)
    assert again == sampled
    assert choose_min_support(baskets) == full
    with pytest.raises(ValueError, match="max_baskets must be None or a whole number"):
        choose_min_support(baskets, max_baskets=0)
