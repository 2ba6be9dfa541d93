"""One switch between the pandas path and the engines, for every feature builder."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

import pandas as pd

from custintel._validation import CleaningPolicies, as_pandas
from custintel.backends import dispatch, engine_of

#: The builders' keywords that are cleaning policies of ``validate_transactions``.
_POLICIES = ("refunds", "observation_end", "duplicates")

P = ParamSpec("P")
R = TypeVar("R")


def _with_tx(
    tx: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Return ``args`` and ``kwargs`` with the transactions replaced by ``tx``."""
    if args:
        return (tx, *args[1:]), kwargs
    return args, {**kwargs, "tx": tx}


def in_every_engine(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let a pandas feature builder take Polars, DuckDB and Spark frames as well.

    A pandas frame goes to the decorated builder. Any other input goes to
    :func:`custintel.backends.dispatch`, which runs the builder called ``name``
    inside the frame's engine (and raises the usual ``not_a_dataframe`` error
    for anything that is not a frame), with every argument spelt out (defaults
    included) and the cleaning policies (``refunds``, ``duplicates`` and, where
    the builder has it, ``observation_end``) checked once into one
    :class:`~custintel._validation.CleaningPolicies`, ``policies``.

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
        signature = inspect.signature(builder)

        @functools.wraps(builder)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            tx = args[0] if args else kwargs.get("tx")
            if (type(tx).__module__ or "").startswith("narwhals"):
                native_args, native_kwargs = _with_tx(cast(Any, tx).to_native(), args, kwargs)
                return run(*native_args, **native_kwargs)  # the frame narwhals wraps
            if isinstance(tx, pd.DataFrame):
                return builder(*args, **kwargs)
            if engine_of(tx) is None:
                # pyarrow tables: the pandas path (as_pandas converts them, and raises the
                # usual not_a_dataframe error for anything that is not a frame)
                frame_args, frame_kwargs = _with_tx(as_pandas(tx), args, kwargs)
                return builder(*frame_args, **frame_kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            cleaning = {key: arguments.pop(key) for key in _POLICIES if key in arguments}
            policies = CleaningPolicies(**cleaning)
            return cast(R, dispatch(name, arguments.pop("tx"), policies=policies, **arguments))

        return run

    return decorate
