"""``frequent_itemsets``: all, closed or maximal frequent itemsets of a basket set."""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel.basket._encode import EncodedBaskets, encode_baskets
from custintel.basket._lookup import ItemsetIndex, tuples
from custintel.basket._mining import MinedItemsets, TooManyItemsetsError, min_count_for, mine
from custintel.typing import BasketsLike

__all__ = ["ITEMSET_COLUMNS", "frequent_itemsets"]

#: Columns of :func:`frequent_itemsets`, in this order.
ITEMSET_COLUMNS: tuple[str, ...] = ("itemset", "support", "count", "length")

Kind = Literal["all", "closed", "maximal"]


def frequent_itemsets(
    baskets: BasketsLike,
    *,
    min_support: float,
    max_len: int | None = None,
    kind: Kind = "all",
    max_itemsets: int = 5_000_000,
    items: Any = None,
) -> pd.DataFrame:
    r"""Find the itemsets bought together in at least a share ``min_support`` of baskets.

    Parameters
    ----------
    baskets : tuple, sparse matrix, DataFrame or iterable of iterables
        The baskets, as any of:

        - the ``(matrix, item_index)`` pair returned by
          :func:`custintel.features.basket_matrix`;
        - a scipy sparse matrix of baskets by items (non-zero means bought),
          with column labels in ``items`` (default ``0, 1, ...``);
        - a list of baskets, each a list, tuple or set of item labels;
        - mlxtend's one-hot DataFrame (``True``/``False`` or 0/1 columns named
          by item).
    min_support : float
        Minimum support, in (0, 1]: the share of baskets holding the itemset.
    max_len : int, optional
        Longest itemset to find. ``None`` finds them all.
    kind : {"all", "closed", "maximal"}, default="all"
        ``"all"`` returns every frequent itemset. ``"closed"`` keeps those
        with no superset of the same support, ``"maximal"`` those with no
        frequent superset; both are lossless summaries, closed of the
        supports too.
    max_itemsets : int, default=5_000_000
        Stop with a ``ValueError`` once the search has found more itemsets
        than this, instead of running out of memory at a very low support.
    items : sequence, optional
        Column labels of a bare sparse matrix.

    Returns
    -------
    pandas.DataFrame
        One row per itemset, with columns

        - ``itemset``: tuple of item labels, in canonical item order (sorted
          labels);
        - ``support``: ``count / n_baskets``;
        - ``count``: number of baskets holding every item of the itemset;
        - ``length``: number of items.

        Rows are ordered by length, then by itemset. ``attrs`` records
        ``n_baskets``, ``min_support``, ``max_len`` and ``kind``.

    Raises
    ------
    ValueError
        For ``min_support`` outside (0, 1], a bad ``max_len``, ``kind`` or
        ``max_itemsets``, or when the search passes ``max_itemsets``.
    SchemaError
        For an empty list of baskets, missing (NaN or ``None``) items,
        unhashable items, or a DataFrame that is not one-hot.

    See Also
    --------
    association_rules : Rules from the itemsets found here.
    custintel.features.basket_matrix : Baskets from a transaction log.

    Notes
    -----
    The support of itemset :math:`X` is :math:`s(X) = |\{b : X \subseteq
    b\}| / N` over the :math:`N` baskets, empty baskets included. An itemset
    is frequent when :math:`s(X) \ge` ``min_support``, compared in floating
    point exactly as mlxtend does, so the same itemsets are found. An item
    listed twice in one basket counts once.

    The search uses pair counts from one sparse product, then Eclat with
    packed bitsets: each itemset grows from its rarest item :math:`i`, with
    tidsets as bit rows over the baskets holding :math:`i`, and the support
    of every candidate extension of a level is one vectorised AND plus
    popcount [1]_, [2]_.

    With ``max_len``, "closed" and "maximal" are judged among the itemsets
    of at most ``max_len`` items.

    References
    ----------
    .. [1] Zaki, M. J. (2000), "Scalable Algorithms for Association Mining",
       IEEE Transactions on Knowledge and Data Engineering, 12 (3), 372-390.
    .. [2] Agrawal, R. and Srikant, R. (1994), "Fast Algorithms for Mining
       Association Rules", Proceedings of the 20th VLDB Conference, 487-499.

    Examples
    --------
    Four baskets; milk is in 3, bread in 3, both in 2 (support 2 / 4):

    >>> baskets = [["milk", "bread"], ["milk", "bread", "eggs"], ["milk"], ["bread"]]
    >>> frequent_itemsets(baskets, min_support=0.5)
               itemset  support  count  length
    0         (bread,)     0.75      3       1
    1          (milk,)     0.75      3       1
    2    (bread, milk)     0.50      2       2
    >>> frequent_itemsets(baskets, min_support=0.5, kind="maximal")
             itemset  support  count  length
    0  (bread, milk)      0.5      2       2
    """
    min_support = check_min_support(min_support)
    max_len = _check_optional_positive_int(max_len, "max_len")
    if kind not in ("all", "closed", "maximal"):
        raise ValueError(
            f"kind must be 'all', 'closed' or 'maximal', got {kind!r}; 'closed' keeps itemsets "
            "with no superset of the same support, 'maximal' those with no frequent superset"
        )
    max_itemsets = _check_positive_int(max_itemsets, "max_itemsets")
    encoded = encode_baskets(baskets, items=items)
    mined = mine_encoded(
        encoded, min_support=min_support, max_len=max_len, max_itemsets=max_itemsets
    )
    if kind != "all":
        mined = _filter_kind(mined, kind, encoded.matrix.shape[1])
    frame = itemsets_frame(mined, encoded.labels, encoded.n_baskets)
    frame.attrs.update(
        {
            "n_baskets": encoded.n_baskets,
            "min_support": min_support,
            "max_len": max_len,
            "kind": kind,
        }
    )
    return frame


def mine_encoded(
    encoded: EncodedBaskets, *, min_support: float, max_len: int | None, max_itemsets: int
) -> MinedItemsets:
    """Mine encoded baskets, turning the internal blow-up signal into a clear error."""
    n_baskets = encoded.n_baskets
    min_count = min_count_for(min_support, n_baskets)
    try:
        return mine(encoded.matrix, min_count, max_len=max_len, max_itemsets=max_itemsets)
    except TooManyItemsetsError as exc:
        length = int(exc.args[0])
        shorter = f"set max_len={length - 1}, " if length > 2 else ""
        raise ValueError(
            f"more than max_itemsets={max_itemsets:,} frequent itemsets at "
            f"min_support={min_support} (a count of {min_count:,} of {n_baskets:,} baskets); "
            f"the search stopped while finding itemsets of {length} items, before running out "
            f"of memory. Raise min_support, {shorter}or raise max_itemsets if you need them all"
        ) from None


def check_min_support(min_support: Any) -> float:
    """Return ``min_support`` as a float in (0, 1], or raise a ``ValueError``."""
    if (
        isinstance(min_support, bool)
        or not isinstance(min_support, numbers.Real)
        or not math.isfinite(float(min_support))
        or not 0.0 < float(min_support) <= 1.0
    ):
        raise ValueError(
            f"min_support must be a share of baskets in (0, 1], got {min_support!r}; for a "
            "minimum count c of n baskets pass min_support=c / n"
        )
    return float(min_support)


def _check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _check_optional_positive_int(value: Any, name: str) -> int | None:
    return None if value is None else _check_positive_int(value, name)


def _filter_kind(mined: MinedItemsets, kind: str, n_items: int) -> MinedItemsets:
    """Keep closed or maximal itemsets: judged against the supersets one item longer."""
    kept = MinedItemsets()
    for level, (codes, counts) in enumerate(zip(mined.codes, mined.counts, strict=True)):
        keep = np.ones(len(counts), dtype=bool)
        if level + 1 < len(mined.codes):
            # If any superset has the same count, a superset one item longer does too.
            index = ItemsetIndex(codes, n_items)
            longer, longer_counts = mined.codes[level + 1], mined.counts[level + 1]
            for drop in range(longer.shape[1]):
                subset = index.find(np.delete(longer, drop, axis=1))
                if kind == "maximal":
                    keep[subset] = False
                else:
                    keep[subset[longer_counts == counts[subset]]] = False
        kept.codes.append(codes[keep])
        kept.counts.append(counts[keep])
    return kept


def itemsets_frame(mined: MinedItemsets, labels: np.ndarray, n_baskets: int) -> pd.DataFrame:
    """Build the public itemsets table from mined codes."""
    parts = [tuples(labels[codes]) for codes in mined.codes]
    column = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
    lengths = [np.full(len(codes), codes.shape[1], dtype=np.int64) for codes in mined.codes]
    counts = (
        np.concatenate(mined.counts).astype(np.int64) if mined.counts else np.zeros(0, np.int64)
    )
    return pd.DataFrame(
        {
            "itemset": column,
            "support": counts / float(n_baskets),
            "count": counts,
            "length": np.concatenate(lengths) if lengths else np.zeros(0, np.int64),
        }
    )
