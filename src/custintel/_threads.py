"""Threads with scikit-learn's meaning of ``n_jobs``, shared by every estimator that runs them.

``n_jobs=None`` means one thread unless a :func:`joblib.parallel_config`
block says otherwise, ``-1`` every CPU. One thread is the default because on
a busy two-core machine two threads of OpenMP work ran 1.9x slower than one
(issue 19, ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["limited_threads", "n_threads"]


def n_threads(n_jobs: int | None) -> int:
    """Resolve ``n_jobs`` to a number of threads, with scikit-learn's meaning.

    Parameters
    ----------
    n_jobs : int or None
        ``None`` means 1 unless inside a :func:`joblib.parallel_config`
        context that sets ``n_jobs``; ``-1`` means every CPU, ``-2`` all but
        one, and so on.

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    ValueError
        For ``n_jobs=0`` or a value that is not a whole number.

    Examples
    --------
    >>> n_threads(None), n_threads(1), n_threads(3)
    (1, 1, 3)
    """
    from joblib import effective_n_jobs

    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0
    ):
        raise ValueError(
            f"n_jobs must be None or a non-zero whole number (-1 for every CPU), got {n_jobs!r}"
        )
    return max(int(effective_n_jobs(n_jobs)), 1)


@contextmanager
def limited_threads(n_jobs: int | None) -> Iterator[None]:
    """Limit the OpenMP and BLAS thread pools to ``n_jobs`` threads, for this block only.

    Parameters
    ----------
    n_jobs : int or None
        As for :func:`n_threads`.

    Yields
    ------
    None

    Examples
    --------
    >>> with limited_threads(1):
    ...     pass
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads(n_jobs)):
        yield
