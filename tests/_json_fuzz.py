"""What the fuzz tests of every model export share: JSON values and the paths into an export."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: Any JSON scalar, infinities and NaN included (Python's json reads them).
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)


def json_values(scalars: st.SearchStrategy[Any] = JSON_SCALARS) -> st.SearchStrategy[Any]:
    """Return JSON values nested up to a few levels, with leaves drawn from ``scalars``."""
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=6,
    )


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return every position in a JSON value below the root: object keys and array indices."""
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        children: Any = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return out
    for key, child in children:
        out.append((*prefix, key))
        out.extend(json_paths(child, (*prefix, key)))
    return out
