"""Choosing the minimum support: aim at a useful number of rules, not at a fixed share."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from custintel._progress import progress_bar
from custintel.basket._encode import encode_baskets
from custintel.basket._itemsets import frequent_itemsets
from custintel.basket._rules import rules_or_empty

__all__ = ["SupportChoice", "choose_min_support"]

logger = logging.getLogger("custintel")


@dataclass(frozen=True)
class SupportChoice:
    """The minimum support :func:`choose_min_support` picked, and what it tried.

    Attributes
    ----------
    min_support : float
        The support picked.
    n_rules : int
        Rules (one-item consequents) at that support.
    tried : tuple of (float, int)
        Every support tried, highest first, with its number of rules.
    """

    min_support: float
    n_rules: int
    tried: tuple[tuple[float, int], ...]


def choose_min_support(
    baskets: Any,
    *,
    target: tuple[int, int] = (200, 3000),
    min_confidence: float = 0.1,
    max_len: int | None = 3,
    floor: float | None = None,
    ceiling: float = 0.05,
    step: float = 0.8,
    max_baskets: int | None = 100_000,
    random_state: int | None = 0,
    progress: bool | None = None,
) -> SupportChoice:
    """Pick the highest minimum support that yields a useful number of rules.

    A fixed share of baskets fits one catalogue and not the next: 1 % of the
    baskets of a shop with 4,000 products finds a few hundred rules, 0.1 %
    finds 200,000, most of them near-copies of each other, too many to read,
    store or score. This walks down from ``ceiling`` in steps of ``step``
    (each support is ``step`` times the last) and stops at the first support
    whose rules reach the middle of ``target`` (the geometric mean of its
    bounds); when that step overshoots the upper bound and the previous
    support was within the band, the previous one is kept. Mining at high
    supports is cheap, so the walk costs little more than the final mining.

    Parameters
    ----------
    baskets : basket input
        Anything :func:`~custintel.basket.frequent_itemsets` reads: a sparse
        basket matrix with labels, a list of item lists, a one-hot frame.
    target : tuple of int, default=(200, 3000)
        The band of rule counts aimed at (low, high).
    min_confidence : float, default=0.1
        Minimum confidence of a rule (as the recommender mines them).
    max_len : int or None, default=3
        Longest itemset mined.
    floor : float or None, default=None
        Lowest support tried; ``None``: 20 baskets, and at least 0.1 %.
    ceiling : float, default=0.05
        Highest support tried.
    step : float, default=0.8
        Ratio of one support tried to the previous one, in (0, 1).
    max_baskets : int or None, default=100_000
        Above this many baskets the walk runs on a random sample of this
        size: supports are shares of baskets, so a sample estimates them
        well, and each step no longer scans every basket (on 3.8 million
        orders the walk took 19 s, most of it re-reading the same baskets).
        ``n_rules`` and ``tried`` then count the sample's rules. ``None``:
        always use every basket.
    random_state : int or None, default=0
        Seed of the sample.
    progress : bool or None, default=None
        Show a progress bar on standard error over the supports tried, when
        standard error is a terminal; ``None`` (automatic) as for
        :func:`~custintel.basket.frequent_itemsets`. The minings of the walk
        show no bars of their own.

    Returns
    -------
    SupportChoice
        The support, its number of rules, and every support tried.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> baskets = [list(rng.choice(40, size=4, replace=False)) for _ in range(2000)]
    >>> choice = choose_min_support(baskets, target=(20, 200))
    >>> 20 <= choice.n_rules <= 200, choice.min_support < 0.05
    (True, True)
    """
    low, high = (int(v) for v in target)
    if not 0 <= low <= high:
        raise ValueError(
            f"target must be two rule counts (low, high) with low <= high, got {target}"
        )
    if not 0.0 < step < 1.0:
        raise ValueError(f"step must be in (0, 1), got {step!r}")
    if max_baskets is not None and max_baskets < 1:
        raise ValueError(f"max_baskets must be None or a whole number >= 1, got {max_baskets!r}")
    encoded = encode_baskets(baskets)
    matrix, labels = encoded.matrix, encoded.labels
    n_baskets = max(int(matrix.shape[0]), 1)
    # The floor counts baskets of the whole data, whatever the walk reads.
    lowest = float(max(0.001, 20.0 / n_baskets)) if floor is None else float(floor)
    if max_baskets is not None and matrix.shape[0] > max_baskets:
        rows = np.random.default_rng(random_state).choice(
            matrix.shape[0], size=max_baskets, replace=False
        )
        matrix = matrix[np.sort(rows)]
    lowest = min(lowest, ceiling)
    aim = float(np.sqrt(max(low, 1) * max(high, 1)))
    tried: list[tuple[float, int]] = []
    support = float(ceiling)
    with progress_bar(None, desc="choose min support", unit="support", enabled=progress) as bar:
        while True:
            try:
                itemsets = frequent_itemsets(
                    (matrix, labels), min_support=support, max_len=max_len, progress=False
                )
            except (MemoryError, ValueError) as err:  # the itemset guard: too low a support
                logger.info("min support %.4g mined too many itemsets: %s", support, err)
                break
            n_rules = len(
                rules_or_empty(itemsets, min_threshold=float(min_confidence), max_len=(None, 1))
            )
            tried.append((support, n_rules))
            bar.update()
            if n_rules >= aim or support <= lowest:
                break
            support = max(float(f"{support * step:.2g}"), lowest)  # 0.0084, not 0.008388...
    if not tried:
        raise ValueError(
            f"no minimum support from {ceiling} down could be mined; pass min_support yourself"
        )
    chosen = tried[-1]
    if len(tried) > 1 and chosen[1] > high and tried[-2][1] >= low:
        chosen = tried[-2]
    return SupportChoice(min_support=chosen[0], n_rules=chosen[1], tried=tuple(tried))
