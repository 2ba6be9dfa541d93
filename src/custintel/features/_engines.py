"""One switch between the pandas path and the engines, for every feature builder."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

import pandas as pd

from custintel.backends import dispatch

P = ParamSpec("P")
R = TypeVar("R")


def in_every_engine(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let a pandas feature builder take Polars, DuckDB and Spark frames as well.

    A pandas frame goes to the decorated builder. Any other input goes, with
    the same arguments, to :func:`custintel.backends.dispatch`, which runs the
    builder called ``name`` inside the frame's engine (and raises the usual
    ``not_a_dataframe`` error for anything that is not a frame).

    Parameters
    ----------
    name : str
        The builder's name in :func:`custintel.backends.dispatch`.

    Returns
    -------
    callable
        The decorator.
    """

    def decorate(builder: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(builder)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            tx = args[0] if args else kwargs.get("tx")
            if isinstance(tx, pd.DataFrame):
                return builder(*args, **kwargs)
            return cast(R, dispatch(name, *args, **kwargs))

        return run

    return decorate
