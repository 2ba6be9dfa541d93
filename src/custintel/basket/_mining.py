"""The frequent-itemset search: a compiled depth-first miner, and a numpy fallback.

:func:`mine` runs the numba kernels of :mod:`custintel.basket._kernels`
(Eclat in LCM's occurrence-delivery form, with database reduction): memory
grows with the frequent items' occurrences and the output, never with the
square of the catalogue, and ``max_itemsets`` is checked as itemsets are
found, so a search that would explode stops early with bounded memory.
numba is a dependency; the numpy miner below is kept for interpreters numba
does not support yet (each new CPython release is supported a few months
after it ships; free-threaded builds and PyPy are not) and as the baseline
the benchmark measures the kernels against. It refuses a basket with more
than ``_MAX_BASKET_PAIRS`` frequent pairs, and weighted support needs numba.

The numpy miner: items are ranked from the rarest up, and every itemset
grows from its rarest item ``i``. Its baskets are a subset of ``T_i``, the
baskets holding ``i``, so ``T_i`` is the bit universe: the tidset of an
itemset is a row of ``ceil(|T_i| / 64)`` ``uint64`` words.

1. Item counts are a ``bincount`` of the column indices.
2. Pair counts come from enumerating the pairs within each basket (restricted
   to frequent items), vectorised over baskets, and a ``bincount`` of the
   pair keys.
3. The same pair occurrences, kept for frequent pairs, give the bit rows of
   the 2-itemsets: row = pair, bit = the basket's position in ``T_i``.
4. Longer itemsets are found level by level: siblings (children of one
   node) are joined pairwise, candidates whose two new items are not a
   frequent pair are dropped, and the support of all remaining candidates
   is one vectorised ``AND`` plus popcount over a 2-D array.

Top items with similar universe sizes are processed together, padded to one
width, so the Python overhead is per batch and per level, not per itemset.
The frontier is joined a slice of parent nodes at a time, bounded in bytes,
and each slice's children are grown to the end before the next slice (depth
first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import sparse

from custintel._progress import Bar, follow, progress_bar

__all__ = ["Engine", "MinedItemsets", "min_count_for", "mine"]

Engine = Literal["auto", "numba", "numpy"]

# Temporaries (candidate AND rows) are processed in chunks of about this size.
_CHUNK_BYTES = 1 << 25
# A frontier batch larger than this is split at sibling-group boundaries.
_BATCH_BYTES = 1 << 27
# Candidate pairs are generated in slices of at most this many.
_CANDIDATE_SLICE = 1 << 22
# The numpy miner refuses a basket with more pairs than this (about 40 bytes each).
_MAX_BASKET_PAIRS = 1 << 25
# Pair counts go to a dense n x n array (a bincount) when it fits in this size.
_DENSE_COUNT_BYTES = 1 << 27
# Frequent pairs are looked up in a dense n x n table (int32) up to this many items.
_DENSE_PAIR_ITEMS = 2048

_bitwise_count = getattr(np, "bitwise_count", None)
_POPCOUNT_TABLE = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _row_popcount(words: np.ndarray) -> np.ndarray:
    """Count the set bits in each row of a 2-D ``uint64`` array."""
    if _bitwise_count is not None:
        counts: np.ndarray = _bitwise_count(words).sum(axis=1, dtype=np.int64)
        return counts
    as_bytes = np.ascontiguousarray(words).view(np.uint8)
    return _POPCOUNT_TABLE[as_bytes].sum(axis=1, dtype=np.int64)


def min_count_for(min_support: float, n_baskets: int) -> int:
    """Return the smallest count whose support ``count / n_baskets`` is at least ``min_support``.

    The comparison is done in floating point exactly as ``support >=
    min_support``, so the itemsets found are the ones mlxtend finds.

    Parameters
    ----------
    min_support : float
        In (0, 1].
    n_baskets : int
        Number of baskets, at least 1.

    Returns
    -------
    int
    """
    count = max(1, math.ceil(min_support * n_baskets))
    while count > 1 and (count - 1) / n_baskets >= min_support:
        count -= 1
    while count / n_baskets < min_support:
        count += 1
    return count


class TooManyItemsetsError(ValueError):
    """Raised internally when the search passes ``max_itemsets``."""


@dataclass
class MinedItemsets:
    """Frequent itemsets by length, as item codes.

    Attributes
    ----------
    codes : list of numpy.ndarray
        ``codes[k]`` is an ``int32`` array of shape ``(n, k + 1)``: the column
        codes of each itemset of length ``k + 1``, ascending within a row,
        rows in lexicographic order.
    counts : list of numpy.ndarray
        ``int64`` basket counts, aligned with ``codes``.
    weights : list of numpy.ndarray or None
        With basket weights, the ``float64`` weight sums, aligned with ``codes``.
    """

    codes: list[np.ndarray] = field(default_factory=list)
    counts: list[np.ndarray] = field(default_factory=list)
    weights: list[np.ndarray] | None = None

    @property
    def total(self) -> int:
        """Number of itemsets of every length."""
        return sum(len(c) for c in self.counts)


class _Collector:
    """Accumulates itemsets per length (as rank codes) and enforces ``max_itemsets``."""

    def __init__(self, max_itemsets: int) -> None:
        self.max_itemsets = max_itemsets
        self.total = 0
        self.codes: dict[int, list[np.ndarray]] = {}
        self.counts: dict[int, list[np.ndarray]] = {}

    def add(self, codes: np.ndarray, counts: np.ndarray) -> None:
        if len(counts) == 0:
            return
        self.total += len(counts)
        if self.total > self.max_itemsets:
            raise TooManyItemsetsError(codes.shape[1])
        self.codes.setdefault(codes.shape[1], []).append(codes)
        self.counts.setdefault(codes.shape[1], []).append(counts)


def mine(
    matrix: sparse.csr_matrix,
    min_count: int,
    *,
    max_len: int | None,
    max_itemsets: int,
    weights: np.ndarray | None = None,
    min_weight: float = 0.0,
    engine: Engine = "auto",
    progress: bool | None = False,
) -> MinedItemsets:
    """Find every itemset held by at least ``min_count`` baskets.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        Boolean baskets-by-items matrix in canonical format.
    min_count : int
        Minimum number of baskets, at least 1.
    max_len : int or None
        Longest itemset to find.
    max_itemsets : int
        Stop with :class:`TooManyItemsetsError` beyond this many itemsets.
    weights : numpy.ndarray, optional
        Non-negative ``float64`` weight of each basket. An itemset is then
        frequent when its baskets' weights sum to at least ``min_weight``
        (and it has ``min_count`` baskets).
    min_weight : float, default=0.0
        Minimum weight sum, with ``weights``.
    engine : {"auto", "numba", "numpy"}, default="auto"
        The compiled search (numba), or the vectorised numpy one; ``"auto"``
        uses numba when it imports.
    progress : bool or None, default=False
        Show a bar over the frequent items whose itemsets have been searched
        (every itemset grows from one item); ``None`` decides as
        :func:`custintel._progress.progress_bar` does.

    Returns
    -------
    MinedItemsets
    """
    kernels = _compiled() if engine in ("auto", "numba") else None
    if engine == "numba" and kernels is None:  # pragma: no cover - numba is a dependency
        raise ImportError("engine='numba' needs numba: pip install numba")
    if kernels is None and weights is not None:
        raise ValueError("weighted support needs the compiled miner: pip install numba")
    n_items = matrix.shape[1]
    item_counts = np.bincount(matrix.indices, minlength=n_items).astype(np.int64)
    frequent_mask = item_counts >= min_count
    if weights is not None:
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        item_weights = np.bincount(matrix.indices, weights=weights[rows], minlength=n_items)
        frequent_mask &= item_weights >= min_weight
    frequent = np.flatnonzero(frequent_mask)
    # Rank codes: items in ascending count (ties by column), so the first item of
    # an itemset in rank order is its rarest.
    by_rank = frequent[np.lexsort((frequent, item_counts[frequent]))].astype(np.int32)
    with progress_bar(len(by_rank), desc="frequent itemsets", unit="item", enabled=progress) as bar:
        if kernels is not None:
            # Column order, not rarest first: the search is a little slower (about 15 % on
            # Online Retail) but its output needs no sorting, which costs more than that.
            return _mine_compiled(
                kernels,
                matrix,
                frequent.astype(np.int32),
                min_count,
                max_len,
                max_itemsets,
                weights,
                min_weight,
                bar,
            )
        collector = _Collector(max_itemsets)
        collector.add(np.arange(len(by_rank), dtype=np.int32)[:, None], item_counts[by_rank])
        done = 0
        if len(by_rank) >= 2 and (max_len is None or max_len >= 2):
            done = _mine_pairs_and_beyond(matrix, by_rank, min_count, max_len, collector, bar)
        bar.update(len(by_rank) - done)
        return _finish(collector, by_rank)


def _compiled() -> Any:
    """Return the numba kernels module, or ``None`` when numba does not import."""
    try:
        from custintel.basket import _kernels
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    return _kernels


def _mine_compiled(
    kernels: Any,
    matrix: sparse.csr_matrix,
    by_rank: np.ndarray,
    min_count: int,
    max_len: int | None,
    max_itemsets: int,
    weights: np.ndarray | None,
    min_weight: float,
    bar: Bar,
) -> MinedItemsets:
    """Depth-first occurrence delivery (see :mod:`custintel.basket._kernels`).

    ``bar`` advances by one item as the search finishes each item's itemsets.
    """
    result = MinedItemsets(weights=[] if weights is not None else None)
    if len(by_rank) == 0:
        return result
    rank_of = np.full(matrix.shape[1], -1, dtype=np.int32)
    rank_of[by_rank] = np.arange(len(by_rank), dtype=np.int32)
    # The restricted baskets, held only by this list: freed as soon as the search ends.
    baskets = list(
        kernels.restrict(matrix.indptr.astype(np.int64, copy=False), matrix.indices, rank_of)
    )
    weighted = weights is not None
    # Items whose itemsets are all found, written by the kernel as it goes; and a stop
    # request, written here when the caller is interrupted (Ctrl-C) while the kernel runs
    # in the progress bar's worker thread.
    progress = np.zeros(2, dtype=np.int64)

    def stop() -> None:
        progress[kernels.PROGRESS_STOP] = 1

    def search() -> tuple[Any, ...]:
        found: tuple[Any, ...] = kernels.search(
            *baskets,
            len(by_rank),
            np.ascontiguousarray(weights, dtype=np.float64) if weighted else np.zeros(1),
            weighted,
            int(min_count),
            float(min_weight),
            0 if max_len is None else int(max_len),
            int(max_itemsets),
            progress,
        )
        baskets.clear()
        if found[0] == kernels.STATUS_OK:
            progress[kernels.PROGRESS_DONE] = len(by_rank)
        return found

    status, n, parent, item, count, weight = follow(
        search, bar, lambda: int(progress[kernels.PROGRESS_DONE]), stop=stop
    )
    if status == kernels.STATUS_TOO_MANY:
        raise TooManyItemsetsError(int(n))
    length = kernels.depths(parent, n)
    # Items are ranked in column order, so each length's itemsets come out sorted.
    for size in range(1, int(length.max()) + 1 if n else 1):
        codes, nodes = kernels.gather(parent, item, length, n, size, by_rank)
        result.codes.append(codes)
        result.counts.append(count[nodes])
        if result.weights is not None:
            result.weights.append(weight[nodes])
    return result


def _restrict(matrix: sparse.csr_matrix, by_rank: np.ndarray) -> sparse.csr_matrix:
    """Keep frequent columns, renumbered by rank, and baskets holding two or more."""
    restricted = sparse.csr_matrix(matrix[:, by_rank])
    restricted.sort_indices()
    useful = np.diff(restricted.indptr) >= 2
    if not useful.all():
        restricted = sparse.csr_matrix(restricted[useful])
    return restricted


def _row_chunks(x: sparse.csr_matrix) -> list[tuple[int, int]]:
    """Split the rows into ranges holding at most ``_CANDIDATE_SLICE`` pairs each."""
    lengths = np.diff(x.indptr)
    ends = np.cumsum(lengths * (lengths - 1) // 2)
    chunks = []
    start = 0
    while start < len(lengths):
        base = ends[start - 1] if start else 0
        stop = int(np.searchsorted(ends, base + _CANDIDATE_SLICE, side="right"))
        stop = max(stop, start + 1)
        chunks.append((start, stop))
        start = stop
    return chunks


def _pair_occurrences(x: sparse.csr_matrix, rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Positions (into ``x.indices``) of both items of every pair in a range of baskets."""
    start, stop = rows
    lo, hi = int(x.indptr[start]), int(x.indptr[stop])
    lengths = np.diff(x.indptr[start : stop + 1])
    position = np.arange(hi - lo) - np.repeat(x.indptr[start:stop] - lo, lengths)
    later = np.repeat(lengths, lengths) - position - 1
    first = np.repeat(np.arange(lo, hi), later)
    offset = np.arange(len(first)) - np.repeat(np.cumsum(later) - later, later)
    return first, first + 1 + offset


class _PairTable:
    """The frequent pairs of rank codes ``i < j``: counts and a vectorised membership test."""

    def __init__(self, x: sparse.csr_matrix, chunks: list[tuple[int, int]], min_count: int):
        n = x.shape[1]
        self.n = n
        dense_counts = n * n * 8 <= _DENSE_COUNT_BYTES
        total: np.ndarray | sparse.csr_matrix = (
            np.zeros(n * n, dtype=np.int64)
            if dense_counts
            else sparse.csr_matrix((n, n), dtype=np.int64)
        )
        for rows in chunks:
            first, second = _pair_occurrences(x, rows)
            i = x.indices[first].astype(np.int64)
            j = x.indices[second].astype(np.int64)
            if isinstance(total, np.ndarray):
                total += np.bincount(i * n + j, minlength=n * n)
            else:
                total = total + sparse.csr_matrix(
                    (np.ones(len(i), dtype=np.int64), (i, j)), shape=(n, n)
                )
        if isinstance(total, np.ndarray):
            keys = np.flatnonzero(total >= min_count)
            counts = total[keys]
        else:
            coo = total.tocoo()
            keys = coo.row.astype(np.int64) * n + coo.col
            keep = coo.data >= min_count
            order = np.argsort(keys[keep])
            keys, counts = keys[keep][order], coo.data[keep][order].astype(np.int64)
        # Keys i * n + j ascending: pairs sorted by first item, then second.
        self.keys = keys
        self.counts = counts
        self.first = (keys // n).astype(np.int32)
        self.second = (keys % n).astype(np.int32)
        self.starts = np.searchsorted(self.first, np.arange(n + 1))
        self.dense: np.ndarray | None = None
        if n <= _DENSE_PAIR_ITEMS:
            self.dense = np.full((n, n), -1, dtype=np.int32)
            self.dense[self.first, self.second] = np.arange(len(keys), dtype=np.int32)

    def find(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return the index of each pair ``(i, j)``, ``-1`` when it is not frequent."""
        if self.dense is not None:
            found: np.ndarray = self.dense[i, j]
            return found
        keys = i.astype(np.int64) * self.n + j
        at = np.searchsorted(self.keys, keys)
        clipped = np.minimum(at, max(len(self.keys) - 1, 0))
        found = (at < len(self.keys)) & (self.keys[clipped] == keys) if len(self.keys) else at < 0
        return np.where(found, at, -1)

    def frequent(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return whether each pair ``(i, j)``, with ``i < j``, is frequent."""
        return self.find(i, j) >= 0


def _mine_pairs_and_beyond(
    matrix: sparse.csr_matrix,
    by_rank: np.ndarray,
    min_count: int,
    max_len: int | None,
    collector: _Collector,
    bar: Bar,
) -> int:
    """Find the itemsets of two items and more; return the items reported to ``bar``.

    ``bar`` advances as each batch of top items (the first, rarest item of
    the itemsets grown) is done.
    """
    x = _restrict(matrix, by_rank)
    largest = int(np.diff(x.indptr).max()) if x.shape[0] else 0
    if largest * (largest - 1) // 2 > _MAX_BASKET_PAIRS:
        # The vectorised pair step holds one basket's pairs at once (about 40 bytes each).
        raise ValueError(
            f"one basket holds {largest:,} frequent items, {largest * (largest - 1) // 2:,} "
            "pairs, too many for the numpy miner's memory; install numba (the compiled "
            "miner has no such limit), raise min_support or pass max_basket_size"
        )
    chunks = _row_chunks(x)
    pairs = _PairTable(x, chunks, min_count)
    collector.add(np.column_stack([pairs.first, pairs.second]), pairs.counts)
    if max_len == 2:
        return 0
    n_extensions = np.diff(pairs.starts)
    tops = np.flatnonzero(n_extensions >= 2)
    if len(tops) == 0:
        return 0
    # Each itemset grows from its rarest item (its first in rank order), whose baskets
    # are the bit universe: the position of each entry of x within its item's baskets.
    n_nnz = len(x.indices)
    by_column = sparse.csr_matrix(
        (np.arange(n_nnz, dtype=np.int64), x.indices, x.indptr), shape=x.shape
    ).tocsc()
    column_sizes = np.diff(by_column.indptr)
    # Positions and pair indices fit in int32 unless there are 2**31 baskets or pairs.
    small = max(n_nnz, len(pairs.keys)) < np.iinfo(np.int32).max
    position = np.empty(n_nnz, dtype=np.int32 if small else np.int64)
    position[by_column.data] = np.arange(n_nnz) - np.repeat(by_column.indptr[:-1], column_sizes)
    del by_column

    # Every occurrence of a frequent pair whose first item is a top item: its pair index
    # (the bit row) and the basket's position in the first item's baskets (the bit).
    grows = np.zeros(x.shape[1] + 1, dtype=bool)
    grows[tops] = True
    pair_parts: list[np.ndarray] = []
    bit_parts: list[np.ndarray] = []
    for rows in chunks:
        first, second = _pair_occurrences(x, rows)
        i = x.indices[first]
        keep = grows[i]
        first, second, i = first[keep], second[keep], i[keep]
        at = pairs.find(i, x.indices[second])
        found = at >= 0
        pair_parts.append(at[found].astype(position.dtype, copy=False))
        bit_parts.append(position[first[found]])
    pair_of = np.concatenate(pair_parts)
    bit_of = np.concatenate(bit_parts)
    del pair_parts, bit_parts

    done = 0
    for lo, hi in _top_batches(tops, column_sizes, n_extensions):
        row_lo, row_hi = int(pairs.starts[lo]), int(pairs.starts[hi])
        n_words = (int(column_sizes[lo:hi].max()) + 63) // 64
        in_batch = (pair_of >= row_lo) & (pair_of < row_hi)
        bits = _pack(pair_of[in_batch] - row_lo, bit_of[in_batch], row_hi - row_lo, n_words)
        first, second = pairs.first[row_lo:row_hi], pairs.second[row_lo:row_hi]
        grows_here = grows[first]
        _grow(
            _Batch(
                bits=bits[grows_here],
                last=second[grows_here],
                items=np.column_stack([first, second])[grows_here],
                group=first[grows_here].astype(np.int64),
            ),
            pairs,
            min_count,
            max_len,
            collector,
        )
        bar.update(hi - done)  # rank codes below hi are done
        done = hi
    return done


def _top_batches(
    tops: np.ndarray, column_sizes: np.ndarray, n_extensions: np.ndarray
) -> list[tuple[int, int]]:
    """Group top items (contiguous in rank) whose universes have similar bit widths.

    A batch shares one bit width, the widest of its top items; items join
    while that wastes at most half the words and the batch's bits stay
    within ``_BATCH_BYTES``.
    """
    words = (column_sizes + 63) // 64
    batches = []
    begin = int(tops[0])
    low = high = int(words[begin])
    rows = int(n_extensions[begin])
    for top in tops[1:].tolist():
        width = int(words[top])
        new_low, new_high = min(low, width), max(high, width)
        new_rows = rows + int(n_extensions[top])
        if new_high > 2 * new_low or new_rows * new_high * 8 > _BATCH_BYTES:
            batches.append((begin, top))
            begin, low, high, rows = top, width, width, int(n_extensions[top])
        else:
            low, high, rows = new_low, new_high, new_rows
    batches.append((begin, int(tops[-1]) + 1))
    return batches


def _pack(rows: np.ndarray, bits: np.ndarray, n_rows: int, n_words: int) -> np.ndarray:
    """Pack ``(row, bit)`` positions into an ``(n_rows, n_words)`` ``uint64`` bit matrix."""
    packed = np.empty((n_rows, n_words), dtype=np.uint64)
    rows_per_chunk = max(1, _CHUNK_BYTES // (n_words * 64))
    if rows_per_chunk < n_rows:
        order = np.argsort(rows, kind="stable")
        rows, bits = rows[order], bits[order]
    bounds = np.searchsorted(rows, np.arange(0, n_rows + rows_per_chunk, rows_per_chunk))
    for k, start in enumerate(range(0, n_rows, rows_per_chunk)):
        stop = min(start + rows_per_chunk, n_rows)
        dense = np.zeros((stop - start, n_words * 64), dtype=bool)
        if rows_per_chunk >= n_rows:
            dense[rows, bits] = True
        else:
            lo, hi = bounds[k], bounds[k + 1]
            dense[rows[lo:hi] - start, bits[lo:hi]] = True
        packed[start:stop] = np.packbits(dense, axis=1, bitorder="little").view(np.uint64)
    return packed


@dataclass
class _Batch:
    """Frontier nodes; nodes with equal ``group`` are siblings.

    ``bits`` are the nodes' tidsets (over the baskets of the itemset's first
    item), ``last`` the rank code of each node's last item, ``items`` its
    full itemset in rank codes; ``group`` is non-decreasing. ``ends`` is the
    running total of candidate joins (each node with its later siblings).
    """

    bits: np.ndarray
    last: np.ndarray
    items: np.ndarray
    group: np.ndarray
    ends: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        later, _ = _sibling_pairs(self.group)
        self.ends = np.cumsum(later)


def _sibling_pairs(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Count each node's later siblings, and the size of each sibling group."""
    n = len(group)
    change = np.flatnonzero(np.diff(group)) + 1
    starts = np.concatenate([[0], change])
    sizes = np.diff(np.concatenate([starts, [n]]))
    position = np.arange(n) - np.repeat(starts, sizes)
    later = np.repeat(sizes, sizes) - position - 1
    return later, sizes


def _grow(
    root: _Batch,
    pairs: _PairTable,
    min_count: int,
    max_len: int | None,
    collector: _Collector,
) -> None:
    """Extend the frontier depth first, a slice of parent nodes at a time.

    The children of different parents never meet (siblings share a parent),
    so each slice's children are grown to the end before the next slice is
    joined: memory is about one slice of children per depth.
    """
    stack = [(root, 0)]
    while stack:
        batch, start = stack.pop()
        depth = batch.items.shape[1]
        if max_len is not None and depth >= max_len:
            continue
        n_words = batch.bits.shape[1]
        # Candidate joins per slice: their AND rows stay within _BATCH_BYTES.
        budget = min(_CANDIDATE_SLICE, max(1, _BATCH_BYTES // (8 * n_words)))
        base = batch.ends[start - 1] if start else 0
        stop = int(np.searchsorted(batch.ends, base + budget, side="right"))
        stop = max(stop, start + 1)
        if stop < len(batch.ends):
            stack.append((batch, stop))
        later = np.diff(np.concatenate([[base], batch.ends[start:stop]]))
        first = np.repeat(np.arange(start, stop), later)
        offset = np.arange(len(first)) - np.repeat(np.cumsum(later) - later, later)
        second = first + 1 + offset
        ok = pairs.frequent(batch.last[first], batch.last[second])
        first, second = first[ok], second[ok]
        child_bits: list[np.ndarray] = []
        child_parent: list[np.ndarray] = []
        child_last: list[np.ndarray] = []
        child_counts: list[np.ndarray] = []
        chunk = max(1, _CHUNK_BYTES // (8 * n_words))
        for lo in range(0, len(first), chunk):
            a, b = first[lo : lo + chunk], second[lo : lo + chunk]
            joined = batch.bits[a]
            joined &= batch.bits[b]
            counts = _row_popcount(joined)
            frequent = counts >= min_count
            if frequent.any():
                child_bits.append(joined[frequent])
                child_parent.append(a[frequent])
                child_last.append(batch.last[b[frequent]])
                child_counts.append(counts[frequent])
        if not child_counts:
            continue
        parent = np.concatenate(child_parent)
        last = np.concatenate(child_last)
        counts = np.concatenate(child_counts)
        items = np.column_stack([batch.items[parent], last]).astype(np.int32)
        collector.add(items, counts)
        if (max_len is not None and depth + 1 >= max_len) or len(counts) < 2:
            continue
        # Only groups of two or more siblings can have children.
        _, sizes = _sibling_pairs(parent)
        keep = np.repeat(sizes >= 2, sizes)
        if keep.any():
            bits = np.concatenate(child_bits)
            stack.append((_Batch(bits[keep], last[keep], items[keep], parent[keep]), 0))


def _finish(collector: _Collector, by_rank: np.ndarray) -> MinedItemsets:
    """Map rank codes back to columns; sort within rows, then rows lexicographically."""
    result = MinedItemsets()
    for length in sorted(collector.codes):
        ranks = np.concatenate(collector.codes[length])
        counts = np.concatenate(collector.counts[length])
        codes = np.sort(by_rank[ranks], axis=1).astype(np.int32)
        order = np.lexsort(codes.T[::-1])
        result.codes.append(codes[order])
        result.counts.append(counts[order])
    return result
