"""Frames handed back to the caller in an engine's flavour (scikit-learn's ``set_output``).

Polars is imported only when a Polars frame is already there to be fixed, so
``import custintel`` never pulls it in.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["keep_categories"]


def keep_categories(frame: Any, dtypes: pd.Series) -> Any:
    """Give a Polars copy of a pandas frame back the categories its pandas columns had.

    scikit-learn's ``set_output(transform="polars")`` builds the Polars frame
    with ``polars.DataFrame(pandas_frame)``, which turns a pandas categorical
    into a ``Categorical`` holding only the values present, in order of
    appearance: unused segments vanish and ordered tiers sort by name. Each
    such column becomes a ``polars.Enum`` of the pandas categories, in their
    order, which keeps both.

    Parameters
    ----------
    frame : polars.DataFrame or other
        The frame scikit-learn returned; anything but a Polars DataFrame
        comes back unchanged.
    dtypes : pandas.Series
        The pandas frame's ``dtypes``, by column name.

    Returns
    -------
    polars.DataFrame or other
        ``frame``, with categorical columns of text categories as enums.

    Examples
    --------
    >>> import pandas as pd
    >>> import polars as pl
    >>> tiers = pd.DataFrame({"tier": pd.Categorical(["Gold"], ["Gold", "Silver"], ordered=True)})
    >>> keep_categories(pl.DataFrame(tiers), tiers.dtypes)["tier"].dtype
    Enum(categories=['Gold', 'Silver'])
    """
    if not type(frame).__module__.startswith("polars") or not hasattr(frame, "with_columns"):
        return frame
    import polars as pl

    casts = []
    for name, dtype in dtypes.items():
        if (
            isinstance(dtype, pd.CategoricalDtype)
            and name in frame.columns
            and all(isinstance(c, str) for c in dtype.categories)
        ):
            enum = pl.Enum(list(dtype.categories))
            casts.append(pl.col(str(name)).cast(pl.String).cast(enum))
    return frame.with_columns(casts) if casts else frame
