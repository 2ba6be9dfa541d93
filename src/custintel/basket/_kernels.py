"""Compiled (numba) kernels of the frequent-itemset search: occurrence delivery, depth first.

The search is the occurrence-delivery form of Eclat used by LCM [1]_: a node
is an itemset ``P`` with its occurrence list, the baskets holding ``P``
together with the position of ``P``'s last item in each. One scan of the
items after that position counts every extension of ``P`` (the tid-list
intersection of all siblings at once); a second scan delivers each basket to
the buckets of its frequent extensions, which are the children's occurrence
lists. Items are ranked from the rarest up and every basket is sorted by
rank, so each itemset is reached once, from its rarest item.

Memory is the matrix, one counter per item, the occurrence buckets along the
current path (at most the projected baskets of each ancestor) and the output,
which is stored as a prefix tree (parent, item, count): 16 to 24 bytes per
itemset whatever its length. Nothing grows with the square of the catalogue.

This module imports numba; it is imported lazily, on first use of the
miner, so ``import custintel`` stays light.

References
----------
.. [1] Uno, T., Kiyomi, M. and Arimura, H. (2004), "LCM ver. 2: Efficient
   Mining Algorithms for Frequent/Closed/Maximal Itemsets", FIMI '04.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "STATUS_CANCELLED",
    "STATUS_OK",
    "STATUS_TOO_MANY",
    "depths",
    "gather",
    "restrict",
    "search",
]

STATUS_OK = 0
STATUS_TOO_MANY = 1
STATUS_CANCELLED = 2
#: Entries of the ``progress`` array of :func:`search`: items done (written by the
#: search), and a stop request (written by the caller, e.g. on Ctrl-C).
PROGRESS_DONE, PROGRESS_STOP = 0, 1


@njit(cache=True, nogil=True)
def restrict(
    indptr: np.ndarray, indices: np.ndarray, rank_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Keep the ranked (frequent) items of each basket, renumbered and sorted by rank."""
    n_rows = len(indptr) - 1
    out_ptr = np.empty(n_rows + 1, dtype=np.int64)
    out_ptr[0] = 0
    total = 0
    for k in range(len(indices)):
        if rank_of[indices[k]] >= 0:
            total += 1
    out = np.empty(total, dtype=np.int32)
    at = 0
    for row in range(n_rows):
        start = at
        for k in range(indptr[row], indptr[row + 1]):
            r = rank_of[indices[k]]
            if r >= 0:
                out[at] = r
                at += 1
        if at - start > 1:
            out[start:at] = np.sort(out[start:at])
        out_ptr[row + 1] = at
    return out_ptr, out


@njit(cache=True, nogil=True)
def _grow_int(a: np.ndarray, need: int) -> np.ndarray:  # pragma: no cover - compiled
    size = max(need, 2 * len(a))
    b = np.empty(size, dtype=a.dtype)
    b[: len(a)] = a
    return b


@njit(cache=True, nogil=True)
def search(
    indptr: np.ndarray,
    indices: np.ndarray,
    n_items: int,
    weights: np.ndarray,
    weighted: bool,
    min_count: int,
    min_weight: float,
    max_len: int,
    max_itemsets: int,
    progress: np.ndarray,
) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Find every frequent itemset of ranked, sorted baskets, depth first.

    Parameters are the restricted CSR arrays (items are ranks ``0 .. n_items
    - 1``, ascending within a basket), basket weights (used when
    ``weighted``), the thresholds (an itemset is frequent when its count is
    at least ``min_count`` and, when weighted, its weight sum at least
    ``min_weight``), ``max_len`` (0 for none), ``max_itemsets`` and
    ``progress``, an ``int64`` array of two entries: the search sets the first
    to the number of single items whose subtree it has finished (a progress
    bar reads it from another thread; one store per item, nothing per
    itemset), and stops with ``STATUS_CANCELLED`` soon after another thread
    sets the second to 1 (it reads it once per node it expands).

    Each node's baskets are reduced before they are delivered to its
    children: only the node's frequent extensions are kept (LCM's database
    reduction), so deeper scans read only items that can still extend.

    Returns ``(status, n, parent, item, count, weight)``: the first ``n``
    entries of the arrays are the itemsets in depth-first preorder, each the
    itemset of its ``parent`` (``-1`` for none) plus ``item``. ``status`` is
    ``STATUS_TOO_MANY`` when the search stopped past ``max_itemsets``; ``n``
    is then the length of the itemset being added. ``STATUS_CANCELLED`` when
    it was asked to stop; the arrays then hold what was found so far.
    """
    n_rows = len(indptr) - 1
    count = np.zeros(n_items, dtype=np.int64)
    wsum = np.zeros(n_items, dtype=np.float64)
    slot = np.full(n_items, -1, dtype=np.int64)
    touched = np.empty(n_items, dtype=np.int32)

    # Item arena: the reduced baskets of every node on the current path (the root's are
    # the matrix itself). Occurrence arena: for each child of a node on the path, its
    # baskets as (start, end) in the item arena of the items after it, and the basket.
    icap = max(2 * len(indices), 16)
    items = np.empty(icap, dtype=np.int32)
    items[: len(indices)] = indices
    item_top = len(indices)
    cap = max(len(indices), n_rows, 16)
    occ_s = np.empty(cap, dtype=np.int64)
    occ_e = np.empty(cap, dtype=np.int64)
    occ_b = np.empty(cap, dtype=np.int32)
    # Child records of every node on the path: output node id, start and end of its
    # occurrences.
    ccap = max(n_items, 16)
    child_node = np.empty(ccap, dtype=np.int64)
    child_start = np.empty(ccap, dtype=np.int64)
    child_end = np.empty(ccap, dtype=np.int64)
    # Per level: first and end child record, next child to expand, arena tops before it.
    dcap = 64
    d_first = np.empty(dcap, dtype=np.int64)
    d_end = np.empty(dcap, dtype=np.int64)
    d_next = np.empty(dcap, dtype=np.int64)
    d_occ = np.empty(dcap, dtype=np.int64)
    d_items = np.empty(dcap, dtype=np.int64)

    ocap = max(n_items, 1024)
    out_parent = np.empty(ocap, dtype=np.int64)
    out_item = np.empty(ocap, dtype=np.int32)
    out_count = np.empty(ocap, dtype=np.int64)
    out_weight = np.empty(ocap if weighted else 1, dtype=np.float64)
    n_out = 0

    # The root: every basket, whole.
    for row in range(n_rows):
        occ_s[row] = indptr[row]
        occ_e[row] = indptr[row + 1]
        occ_b[row] = row
    occ_top = n_rows
    node_parent = -1
    node_start = 0
    node_end = n_rows
    depth = 0  # length of the node's itemset
    top = 0  # levels of child records on the path
    n_child = 0
    while True:
        # Expand the node: count its extensions, then deliver its reduced baskets to them.
        n_touched = 0
        for t in range(node_start, node_end):
            b = occ_b[t]
            for k in range(occ_s[t], occ_e[t]):
                j = items[k]
                if count[j] == 0:
                    touched[n_touched] = j
                    n_touched += 1
                count[j] += 1
                if weighted:
                    wsum[j] += weights[b]
        n_freq = 0
        need = 0
        for u in range(n_touched):
            j = touched[u]
            if count[j] >= min_count and (not weighted or wsum[j] >= min_weight):
                touched[n_freq] = j
                n_freq += 1
                need += count[j]
            else:
                count[j] = 0
                wsum[j] = 0.0
        if n_freq > 0:
            touched[:n_freq] = np.sort(touched[:n_freq])
            if n_out + n_freq > max_itemsets:
                return STATUS_TOO_MANY, depth + 1, out_parent, out_item, out_count, out_weight
            if n_out + n_freq > len(out_parent):
                out_parent = _grow_int(out_parent, n_out + n_freq)
                out_item = _grow_int(out_item, n_out + n_freq)
                out_count = _grow_int(out_count, n_out + n_freq)
                if weighted:
                    out_weight = _grow_int(out_weight, n_out + n_freq)
            grows = (max_len == 0 or depth + 1 < max_len) and n_freq > 1
            if grows:
                if occ_top + need > len(occ_s):
                    occ_s = _grow_int(occ_s, occ_top + need)
                    occ_e = _grow_int(occ_e, occ_top + need)
                    occ_b = _grow_int(occ_b, occ_top + need)
                if item_top + need > len(items):
                    items = _grow_int(items, item_top + need)
                if n_child + n_freq > len(child_node):
                    child_node = _grow_int(child_node, n_child + n_freq)
                    child_start = _grow_int(child_start, n_child + n_freq)
                    child_end = _grow_int(child_end, n_child + n_freq)
                if top + 1 >= len(d_first):
                    d_first = _grow_int(d_first, top + 2)
                    d_end = _grow_int(d_end, top + 2)
                    d_next = _grow_int(d_next, top + 2)
                    d_occ = _grow_int(d_occ, top + 2)
                    d_items = _grow_int(d_items, top + 2)
            fill = occ_top
            for u in range(n_freq):
                j = touched[u]
                out_parent[n_out] = node_parent
                out_item[n_out] = j
                out_count[n_out] = count[j]
                if weighted:
                    out_weight[n_out] = wsum[j]
                if grows:
                    c = n_child + u
                    child_node[c] = n_out
                    child_start[c] = fill
                    child_end[c] = fill
                    slot[j] = c
                    fill += count[j]
                n_out += 1
                count[j] = 0
                wsum[j] = 0.0
            if grows:
                # Reduce each basket to the frequent extensions, then every child gets
                # the part after its own item.
                w = item_top
                for t in range(node_start, node_end):
                    b = occ_b[t]
                    begin = w
                    for k in range(occ_s[t], occ_e[t]):
                        j = items[k]
                        if slot[j] >= 0:
                            items[w] = j
                            w += 1
                    for q in range(begin, w):
                        c = slot[items[q]]
                        at = child_end[c]
                        occ_s[at] = q + 1
                        occ_e[at] = w
                        occ_b[at] = b
                        child_end[c] = at + 1
                d_first[top] = n_child
                d_end[top] = n_child + n_freq
                d_next[top] = n_child
                d_occ[top] = occ_top
                d_items[top] = item_top
                n_child += n_freq
                occ_top = fill
                item_top = w
                top += 1
                for u in range(n_freq):
                    slot[touched[u]] = -1
        # Move to the next child to expand, popping the levels that are done.
        while top > 0 and d_next[top - 1] >= d_end[top - 1]:
            top -= 1
            n_child = d_first[top]
            occ_top = d_occ[top]
            item_top = d_items[top]
        if top == 0:
            break
        if progress[PROGRESS_STOP] != 0:
            return STATUS_CANCELLED, n_out, out_parent, out_item, out_count, out_weight
        c = d_next[top - 1]
        d_next[top - 1] = c + 1
        if top == 1:
            progress[PROGRESS_DONE] = c  # the single items before this one are done
        depth = top
        node_parent = child_node[c]
        node_start = child_start[c]
        node_end = child_end[c]
    return STATUS_OK, n_out, out_parent, out_item, out_count, out_weight


@njit(cache=True, nogil=True)
def depths(parent: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - compiled
    """Length of each itemset of a preorder prefix tree (a parent precedes its children)."""
    out = np.empty(n, dtype=np.int32)
    for k in range(n):
        p = parent[k]
        out[k] = 1 if p < 0 else out[p] + 1
    return out


@njit(cache=True, nogil=True)
def gather(
    parent: np.ndarray,
    item: np.ndarray,
    length: np.ndarray,
    n: int,
    size: int,
    by_rank: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Column codes and node ids of the itemsets of one length, in the order found.

    With ranks in column order, rows are ascending and in lexicographic order:
    a node's children are found together, in ascending order, and nodes are
    expanded depth first in ascending order.
    """
    m = 0
    for k in range(n):
        if length[k] == size:
            m += 1
    codes = np.empty((m, size), dtype=np.int32)
    nodes = np.empty(m, dtype=np.int64)
    row = 0
    for k in range(n):
        if length[k] != size:
            continue
        nodes[row] = k
        at = k
        for col in range(size - 1, -1, -1):
            codes[row, col] = by_rank[item[at]]
            at = parent[at]
        row += 1
    return codes, nodes
