"""Vectorised lookup of itemsets (rows of item codes) among the itemsets of one length."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd

__all__ = ["ItemsetIndex", "tuples"]

_MAX_KEY = np.iinfo(np.int64).max


class ItemsetIndex:
    """Find the position of itemsets of one length among a table of them.

    Rows are encoded as one ``int64`` key in base ``n_items`` when that fits
    (``n_items ** length < 2**63``) and matched with a binary search;
    otherwise pandas' MultiIndex does the matching.

    Parameters
    ----------
    codes : numpy.ndarray
        ``(n, length)`` item codes, one itemset per row, ascending within a row.
    n_items : int
        One more than the largest possible code.
    """

    def __init__(self, codes: np.ndarray, n_items: int) -> None:
        self.length = codes.shape[1]
        self.n_items = max(int(n_items), 1)
        self._fits = self.n_items**self.length <= _MAX_KEY
        if self.length == 1:
            self._table = np.full(self.n_items, -1, dtype=np.int64)
            self._table[codes[:, 0]] = np.arange(len(codes))
        elif self._fits:
            keys = self._keys(codes)
            self._order = np.argsort(keys, kind="stable")
            self._sorted = keys[self._order]
        else:
            self._multi = pd.MultiIndex.from_arrays([codes[:, p] for p in range(self.length)])

    def _keys(self, codes: np.ndarray) -> np.ndarray:
        keys = codes[:, 0].astype(np.int64)
        for p in range(1, self.length):
            keys *= self.n_items
            keys += codes[:, p]
        return keys

    def find(self, rows: np.ndarray) -> np.ndarray:
        """Find the positions of ``rows`` in the table, ``-1`` where a row is absent.

        Parameters
        ----------
        rows : numpy.ndarray
            ``(m, length)`` item codes, ascending within a row.

        Returns
        -------
        numpy.ndarray
            ``int64`` positions.
        """
        if len(rows) == 0:
            return np.zeros(0, dtype=np.int64)
        if self.length == 1:
            result: np.ndarray = self._table[rows[:, 0]]
            return result
        if self._fits:
            if len(self._sorted) == 0:
                return np.full(len(rows), -1, dtype=np.int64)
            keys = self._keys(rows)
            at = np.searchsorted(self._sorted, keys)
            at_clipped = np.minimum(at, len(self._sorted) - 1)
            found = (at < len(self._sorted)) & (self._sorted[at_clipped] == keys)
            return np.where(found, self._order[at_clipped], -1).astype(np.int64)
        query = pd.MultiIndex.from_arrays([rows[:, p] for p in range(self.length)])
        return np.asarray(self._multi.get_indexer(query), dtype=np.int64)


def tuples(labels: np.ndarray) -> np.ndarray:
    """Turn each row of a 2-D label array into a tuple, in a 1-D object array.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(n, k)`` object array of item labels.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` object array of ``k``-tuples.
    """
    columns = [labels[:, p] for p in range(labels.shape[1])]
    # Millions of new tuples would trigger many full garbage collections, each walking
    # every live object: pause the collector (tuples of labels form no cycles).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return np.fromiter(zip(*columns, strict=True), dtype=object, count=len(labels))
    finally:
        if enabled:
            gc.enable()
