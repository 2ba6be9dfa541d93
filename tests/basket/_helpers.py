"""Shared test helpers: the Groceries file, brute-force counts and hypothesis strategies."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import strategies as st

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GROCERIES = DATA / "groceries.csv"


def load_groceries() -> list[list[str]]:
    """The Groceries baskets; skip outside CI when the shared data folder is absent."""
    if not GROCERIES.exists():
        if os.environ.get("CI") == "true":
            raise FileNotFoundError(f"{GROCERIES} is missing, but CI must have the shared data")
        pytest.skip(f"shared data absent ({GROCERIES}); it is present in CI")
    with GROCERIES.open(newline="") as handle:
        return [row for row in csv.reader(handle)]


def brute_force_counts(baskets: Sequence[Sequence[object]]) -> dict[frozenset[object], int]:
    """Count every non-empty subset of every basket (fine for tiny baskets)."""
    counts: dict[frozenset[object], int] = {}
    for basket in baskets:
        items = sorted(set(basket), key=repr)
        for size in range(1, len(items) + 1):
            for combo in combinations(items, size):
                key = frozenset(combo)
                counts[key] = counts.get(key, 0) + 1
    return counts


ITEMS = st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])
BASKETS = st.lists(st.lists(ITEMS, max_size=6), min_size=1, max_size=25)
SUPPORTS = st.sampled_from([0.04, 0.1, 0.2, 1 / 3, 0.5, 1.0])
