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
from custintel.basket._spark import is_spark_frame, spark_itemsets
from custintel.typing import BasketsLike

__all__ = ["ITEMSET_COLUMNS", "MiningBudgetError", "frequent_itemsets"]

#: Columns of :func:`frequent_itemsets`, in this order.
ITEMSET_COLUMNS: tuple[str, ...] = ("itemset", "support", "count", "length")

Kind = Literal["all", "closed", "maximal"]


class MiningBudgetError(ValueError):
    """The search would find more itemsets than ``max_itemsets``: it refused or stopped.

    Raised before the output outgrows memory, with the numbers and the fixes
    in the message. A ``ValueError``, so code catching that keeps working.

    Attributes
    ----------
    reason : str
        ``"too_many_itemsets"``: the search passed ``max_itemsets`` (or a
        basket alone guarantees more itemsets than that).
    max_itemsets : int
        The limit.
    length : int
        Length of the itemsets being found when the search stopped.
    min_support : float
        The minimum support asked for.
    n_baskets : int
        Number of baskets mined.
    largest_basket : int
        Most frequent items in one basket.
    """

    def __init__(
        self,
        message: str,
        *,
        max_itemsets: int,
        length: int,
        min_support: float,
        n_baskets: int,
        largest_basket: int,
    ) -> None:
        super().__init__(message)
        self.reason = "too_many_itemsets"
        self.max_itemsets = max_itemsets
        self.length = length
        self.min_support = min_support
        self.n_baskets = n_baskets
        self.largest_basket = largest_basket


def frequent_itemsets(
    baskets: BasketsLike,
    *,
    min_support: float,
    max_len: int | None = None,
    kind: Kind = "all",
    max_itemsets: int = 5_000_000,
    items: Any = None,
    weights: Any = None,
    max_basket_size: int | None = None,
    progress: bool | None = None,
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
        - a one-hot DataFrame (``True``/``False`` or 0/1 columns named by
          item; pandas as mlxtend makes it, polars or pyarrow);
        - a Spark DataFrame with one array column of items per basket: then
          Spark MLlib's ``FPGrowth`` mines it on the cluster (see Notes).
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
        Stop with a :class:`MiningBudgetError` (a ``ValueError``) once the
        search has found more itemsets than this, or before it starts when
        one basket alone guarantees more, instead of running out of memory.
    items : sequence, optional
        Column labels of a bare sparse matrix.
    weights : array-like of float, optional
        A non-negative weight per basket (row), in basket order: its
        revenue, its quantity, a recency decay (see
        :func:`basket_weights`). ``support`` is then the weighted share
        :math:`\sum_{b \ni X} w_b / \sum_b w_b` and an itemset is frequent
        when that share reaches ``min_support``; ``count`` stays the number
        of baskets.
    max_basket_size : int, optional
        Leave out baskets holding more items than this (bulk orders, data
        errors): one basket of 3,000 items holds 4.5 million pairs. They are
        not mined and not counted in ``n_baskets``; ``attrs`` records how
        many were left out. ``None`` keeps every basket.
    progress : bool or None, default=None
        Show a progress bar on standard error while mining, advancing as the
        search finishes the itemsets that grow from each frequent item, when
        standard error is a terminal. ``None`` (automatic) shows it only for
        searches that run longer than half a second, and not inside a quiet
        :class:`~custintel.pipeline.CustomerIntelligence` job (``verbose=False``);
        ``False`` never shows one. A Spark input shows none (Spark has its own).

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
        ``n_baskets``, ``min_support``, ``max_len`` and ``kind``; with
        ``weights``, ``weighted=True`` and ``total_weight``; with
        ``max_basket_size``, that limit and ``n_baskets_dropped``, the
        baskets left out; with a Spark input, ``engine="spark"``.

    Raises
    ------
    MiningBudgetError
        When the search passes ``max_itemsets``, or a basket alone
        guarantees more itemsets than that.
    ValueError
        For ``min_support`` outside (0, 1], a bad ``max_len``, ``kind``,
        ``max_itemsets``, ``max_basket_size`` or ``weights``.
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

    The search is Eclat [1]_, [2]_ in the occurrence-delivery form of LCM
    [3]_, compiled with numba: items are ranked from the rarest up, each
    itemset grows from its rarest item, and one scan of a node's baskets
    counts all its extensions at once, so no table of all item pairs is
    ever built. Memory grows with the frequent items' occurrences and the
    output (kept as a prefix tree, about 24 bytes per itemset, until the
    table is built), not with the square of the catalogue.

    With ``weights``, support is weighted by basket [4]_; support stays
    anti-monotone, so the same search applies. A Spark DataFrame is mined
    by Spark MLlib's parallel FP-growth [5]_ on the cluster, and the
    itemsets come back as the same table (``count`` from Spark's ``freq``);
    ``weights``, ``max_basket_size`` and ``kind`` other than ``"all"`` are
    not available there.

    With ``max_len``, "closed" and "maximal" are judged among the itemsets
    of at most ``max_len`` items.

    References
    ----------
    .. [1] Zaki, M. J. (2000), "Scalable Algorithms for Association Mining",
       IEEE Transactions on Knowledge and Data Engineering, 12 (3), 372-390.
    .. [2] Agrawal, R. and Srikant, R. (1994), "Fast Algorithms for Mining
       Association Rules", Proceedings of the 20th VLDB Conference, 487-499.
    .. [3] Uno, T., Kiyomi, M. and Arimura, H. (2004), "LCM ver. 2: Efficient
       Mining Algorithms for Frequent/Closed/Maximal Itemsets", FIMI '04.
    .. [4] Tao, F., Murtagh, F. and Farid, M. (2003), "Weighted Association
       Rule Mining using Weighted Support and Significance Framework",
       Proceedings of ACM SIGKDD '03, 661-666.
    .. [5] Li, H., Wang, Y., Zhang, D., Zhang, M. and Chang, E. Y. (2008),
       "PFP: Parallel FP-Growth for Query Recommendation", Proceedings of
       ACM RecSys '08, 107-114.

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
    max_len = check_optional_positive_int(max_len, "max_len")
    if kind not in ("all", "closed", "maximal"):
        raise ValueError(
            f"kind must be 'all', 'closed' or 'maximal', got {kind!r}; 'closed' keeps itemsets "
            "with no superset of the same support, 'maximal' those with no frequent superset"
        )
    max_itemsets = _check_positive_int(max_itemsets, "max_itemsets")
    max_basket_size = check_optional_positive_int(max_basket_size, "max_basket_size")
    if is_spark_frame(baskets):
        if weights is not None or max_basket_size is not None or kind != "all" or items is not None:
            raise ValueError(
                "a Spark DataFrame is mined by Spark MLlib's FPGrowth, which has no weights, "
                "max_basket_size, items or kind other than 'all'; filter the baskets in Spark "
                "first, or collect them (e.g. df.toPandas()) and mine locally"
            )
        return _spark_frequent_itemsets(baskets, min_support=min_support, max_len=max_len)
    encoded = encode_baskets(baskets, items=items)
    basket_weights = None if weights is None else check_weights(weights, encoded.n_baskets)
    encoded, basket_weights, n_dropped = drop_bulk_baskets(encoded, basket_weights, max_basket_size)
    mined = mine_encoded(
        encoded,
        min_support=min_support,
        max_len=max_len,
        max_itemsets=max_itemsets,
        weights=basket_weights,
        progress=progress,
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
    if basket_weights is not None:
        total = float(basket_weights.sum())
        weight_sums = np.concatenate(mined.weights) if mined.weights else np.zeros(0)
        frame["support"] = weight_sums / total
        frame.attrs.update({"weighted": True, "total_weight": total})
    if max_basket_size is not None:
        frame.attrs.update({"max_basket_size": max_basket_size, "n_baskets_dropped": n_dropped})
    return frame


def _spark_frequent_itemsets(df: Any, *, min_support: float, max_len: int | None) -> pd.DataFrame:
    """Mine a Spark DataFrame with MLlib's FPGrowth; return the local miner's table."""
    n_baskets = int(df.count())
    found = spark_itemsets(
        df,
        min_support=min_support,
        min_count=min_count_for(min_support, max(n_baskets, 1)),
        max_len=max_len,
    )
    mined = MinedItemsets()
    labels = np.zeros(0, dtype=object)
    if found.itemsets:
        # Each itemset as a "basket": the encoder puts the labels in canonical order.
        encoded = encode_baskets(found.itemsets)
        labels = encoded.labels
        matrix = encoded.matrix
        lengths = np.diff(matrix.indptr)
        for size in range(1, int(lengths.max()) + 1):
            rows = np.flatnonzero(lengths == size)
            starts = matrix.indptr[rows]
            codes = matrix.indices[starts[:, None] + np.arange(size)].astype(np.int32)
            order = np.lexsort(codes.T[::-1])
            mined.codes.append(codes[order])
            mined.counts.append(found.counts[rows][order])
    frame = itemsets_frame(mined, labels, found.n_baskets)
    frame.attrs.update(
        {
            "n_baskets": found.n_baskets,
            "min_support": min_support,
            "max_len": max_len,
            "kind": "all",
            "engine": "spark",
        }
    )
    return frame


def drop_bulk_baskets(
    encoded: EncodedBaskets, weights: np.ndarray | None, max_basket_size: int | None
) -> tuple[EncodedBaskets, np.ndarray | None, int]:
    """Leave out the baskets with more than ``max_basket_size`` items, and their weights.

    Returns the kept baskets, their weights and how many baskets were left out;
    raises a ``ValueError`` when none is left.
    """
    if max_basket_size is None:
        return encoded, weights, 0
    sizes = np.diff(encoded.matrix.indptr)
    kept = sizes <= max_basket_size
    n_dropped = int((~kept).sum())
    if not n_dropped:
        return encoded, weights, 0
    if not kept.any():
        raise ValueError(
            f"all {n_dropped:,} baskets hold more than max_basket_size="
            f"{max_basket_size:,} items (the smallest holds {int(sizes.min()):,}); "
            "raise max_basket_size"
        )
    encoded = EncodedBaskets(encoded.matrix[kept], encoded.labels)
    return encoded, None if weights is None else weights[kept], n_dropped


def check_weights(weights: Any, n_baskets: int) -> np.ndarray:
    """Return basket weights as a float array, or raise a ``ValueError`` saying what is wrong."""
    values = weights.to_numpy() if isinstance(weights, (pd.Series, pd.Index)) else weights
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"weights must be numbers, one per basket ({exc})") from None
    if array.ndim != 1 or len(array) != n_baskets:
        raise ValueError(
            f"weights must hold one number per basket: got shape {array.shape} for "
            f"{n_baskets:,} baskets; for a transaction log, basket_weights(tx) gives them in "
            "the order of basket_matrix(tx)"
        )
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        raise ValueError(
            f"weights must be finite and >= 0, but {int(bad.sum()):,} are not, e.g. at "
            f"baskets {np.flatnonzero(bad)[:5].tolist()}: {array[bad][:5].tolist()}; refund "
            "baskets should be left out (basket_matrix keeps purchase lines only)"
        )
    if not array.sum() > 0:
        raise ValueError("weights sum to 0: at least one basket needs a positive weight")
    return array


def mine_encoded(
    encoded: EncodedBaskets,
    *,
    min_support: float,
    max_len: int | None,
    max_itemsets: int,
    weights: np.ndarray | None = None,
    progress: bool | None = False,
) -> MinedItemsets:
    """Mine encoded baskets, turning the internal blow-up signal into a clear error."""
    n_baskets = encoded.n_baskets
    matrix = encoded.matrix
    if weights is None:
        min_count, min_weight = min_count_for(min_support, n_baskets), 0.0
    else:
        # Support is weighted; a basket of weight 0 still counts once, so count >= 1.
        min_count, min_weight = 1, min_support * float(weights.sum())
    item_counts = np.bincount(matrix.indices, minlength=matrix.shape[1])
    # Frequent items per basket: a running total of frequent entries, read at row ends.
    running = np.concatenate([[0], np.cumsum(item_counts[matrix.indices] >= min_count)])
    frequent_per_basket = running[matrix.indptr[1:]] - running[matrix.indptr[:-1]]
    del running
    largest = int(frequent_per_basket.max()) if n_baskets else 0
    threshold = f"min_support={min_support} (a count of {min_count:,} of {n_baskets:,} baskets)"
    if weights is not None:
        threshold = f"min_support={min_support} (weighted)"
    fix = (
        f"Raise min_support, set max_len (e.g. max_len=3), or leave out huge baskets with "
        f"max_basket_size=... ({_size_hint(np.diff(matrix.indptr))}; the largest holds "
        f"{largest:,} frequent items); raise max_itemsets only if you need them all"
    )
    # One basket alone makes all its subsets frequent when it meets the count.
    if min_count == 1 and weights is None and largest:
        lower = _n_subsets(largest, max_len)
        if lower > max_itemsets:
            raise MiningBudgetError(
                f"refusing to mine: at {threshold} every subset of the largest basket is "
                f"frequent, at least {_format_count(lower)} itemsets, more than "
                f"max_itemsets={max_itemsets:,}. {fix}",
                max_itemsets=max_itemsets,
                length=largest if max_len is None else min(max_len, largest),
                min_support=min_support,
                n_baskets=n_baskets,
                largest_basket=largest,
            )
    try:
        return mine(
            matrix,
            min_count,
            max_len=max_len,
            max_itemsets=max_itemsets,
            weights=weights,
            min_weight=min_weight,
            progress=progress,
        )
    except TooManyItemsetsError as exc:
        length = int(exc.args[0])
        raise MiningBudgetError(
            f"more than max_itemsets={max_itemsets:,} frequent itemsets at {threshold}; the "
            f"search stopped while finding itemsets of {length} items, before running out of "
            f"memory. {fix}",
            max_itemsets=max_itemsets,
            length=length,
            min_support=min_support,
            n_baskets=n_baskets,
            largest_basket=largest,
        ) from None


def _n_subsets(n: int, max_len: int | None) -> int:
    """Count the non-empty subsets of ``n`` items with at most ``max_len`` items."""
    if max_len is None or max_len >= n:
        return int(2**n - 1) if n < 4096 else 2**4096
    return sum(math.comb(n, k) for k in range(1, max_len + 1))


def _format_count(value: int) -> str:
    return f"{value:,}" if value < 10**15 else f"about 10^{len(str(value)) - 1}"


def _size_hint(basket_sizes: np.ndarray) -> str:
    top = np.sort(basket_sizes)[::-1][:3].tolist()
    p999 = int(np.quantile(basket_sizes, 0.999)) if len(basket_sizes) else 0
    return f"the largest baskets hold {top} items, 99.9 % hold at most {p999:,}"


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


def check_optional_positive_int(value: Any, name: str) -> int | None:
    return None if value is None else _check_positive_int(value, name)


def _filter_kind(mined: MinedItemsets, kind: str, n_items: int) -> MinedItemsets:
    """Keep closed or maximal itemsets: judged against the supersets one item longer."""
    kept = MinedItemsets(weights=None if mined.weights is None else [])
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
        if kept.weights is not None and mined.weights is not None:
            kept.weights.append(mined.weights[level][keep])
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
