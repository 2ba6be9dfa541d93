"""Customer attributes as covariates of the main job's CLV models.

A customer's ``customer_type``, ``region`` or ``channel`` (or another
attribute column named in ``TransactionSchema(attributes=[...])``) is the
value on most of their transaction lines
(:func:`custintel.features.customer_attributes`).
The purchase models read covariates as numbers, so each attribute becomes
0/1 columns, one per frequent value except the most frequent, which is the
baseline; rarer values (and a missing attribute) also read as the baseline.
The columns are named ``"<role>=<value>"``, e.g. ``"region=France"``.

The encoding is fixed when the job is fitted and saved in the bundle, so
scoring a customer reads only that customer's own attribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from custintel._roles import REQUIRED_ROLES
from custintel._validation import ATTRIBUTE_ROLES
from custintel.exceptions import SchemaError, quiet
from custintel.schema import TransactionSchema

__all__ = [
    "MAX_LEVELS",
    "MIN_LEVEL_CUSTOMERS",
    "MIN_LEVEL_SHARE",
    "add_dummies",
    "check_encoding",
    "covariate_roles",
    "customer_attribute_table",
    "dummy_columns",
    "fit_encoding",
]

#: Most 0/1 columns per attribute (the most frequent values after the baseline).
MAX_LEVELS = 5
#: A value gets its own column only when at least this share of customers ...
MIN_LEVEL_SHARE = 0.01
#: ... and at least this many customers hold it; rarer values read as the baseline.
MIN_LEVEL_CUSTOMERS = 30

#: What ``CustomerIntelligence(clv_covariates=...)`` accepts besides a list of roles.
AUTO = "auto"


def covariate_roles(spec: Any, mapped: Sequence[str], extras: Sequence[str] = ()) -> list[str]:
    """Resolve ``clv_covariates`` against the attributes the data have.

    Parameters
    ----------
    spec : None, "auto" or sequence of str
        ``None``: no covariates; ``"auto"``: every mapped attribute role and
        every other attribute column of the schema; a list: these names,
        each of which must be one of those.
    mapped : sequence of str
        The columns of the canonical transaction log.
    extras : sequence of str, default=()
        The schema's other attribute columns (``TransactionSchema.attributes``).

    Returns
    -------
    list of str
        The roles in :data:`~custintel._validation.ATTRIBUTE_ROLES` order,
        then the other attributes in the schema's order.

    Raises
    ------
    SchemaError
        When a listed name is neither (``reason="missing_column"``).
    """
    available = [r for r in (*ATTRIBUTE_ROLES, *extras) if r in mapped]
    if spec is None:
        return []
    if spec == AUTO:
        return available
    missing = [r for r in spec if r not in available]
    if missing:
        raise SchemaError(
            f"clv_covariates names {missing}, but the transactions have no such attribute; map "
            "a role (e.g. TransactionSchema(region='country')), or name another per-customer "
            "column: TransactionSchema(attributes=['loyalty_tier']); or leave it out",
            reason="missing_column",
        )
    return [r for r in available if r in spec]


def check_covariate_spec(spec: Any) -> None:
    """Refuse a ``clv_covariates`` value that is not None, "auto" or a list of names."""
    if spec is None or spec == AUTO:
        return
    if (
        isinstance(spec, (str, bytes))
        or not isinstance(spec, Sequence)
        or not spec
        or not all(isinstance(r, str) and r for r in spec)
        or len(set(spec)) != len(spec)
    ):
        raise ValueError(
            f"clv_covariates must be None, 'auto' or a list of distinct attribute names (the "
            f"roles {list(ATTRIBUTE_ROLES)} or columns named in "
            f"TransactionSchema(attributes=[...])), got {spec!r}; e.g. clv_covariates=['region']"
        )


def customer_attribute_table(
    frame: pd.DataFrame, names: Sequence[str], *, observation_end: Any = None
) -> pd.DataFrame:
    """Each customer's most frequent value of each attribute in ``names``, from canonical rows.

    ``names`` may hold roles and the schema's other attribute columns; the
    rows are already validated, so nothing is reported again.
    """
    from custintel.features import customer_attributes

    extras = [n for n in names if n not in ATTRIBUTE_ROLES]
    with quiet():
        return customer_attributes(
            frame[[*REQUIRED_ROLES, *names]],  # customer, time and amount, and the names
            TransactionSchema(attributes=extras),
            roles=list(names),
            observation_end=observation_end,
            duplicates="keep",
        )


def fit_encoding(attributes: pd.DataFrame, roles: Sequence[str]) -> dict[str, list[str]]:
    """Choose the values of each attribute that get a 0/1 column.

    Parameters
    ----------
    attributes : pandas.DataFrame
        One row per customer, a column per role (``customer_attributes``).
    roles : sequence of str
        The roles to encode.

    Returns
    -------
    dict of str to list of str
        Per role, its values with a column, most frequent first (the most
        frequent value of all is the baseline and has none). Roles with no
        such value are left out.

    Examples
    --------
    >>> attributes = pd.DataFrame({"region": ["UK"] * 60 + ["FR"] * 35 + ["DE"] * 5})
    >>> fit_encoding(attributes, ["region"])
    {'region': ['FR']}
    """
    n = len(attributes)
    least = max(MIN_LEVEL_CUSTOMERS, int(np.ceil(MIN_LEVEL_SHARE * n)))
    encoding: dict[str, list[str]] = {}
    for role in roles:
        counts = attributes[role].astype(object).dropna().map(str).value_counts(sort=False)
        # most frequent first; ties by value, so the encoding does not depend on row order
        order = sorted(counts.items(), key=lambda kv: (-int(kv[1]), kv[0]))
        levels = [value for value, count in order[1:] if count >= least][:MAX_LEVELS]
        if levels:
            encoding[role] = levels
    return encoding


def dummy_columns(encoding: Mapping[str, Sequence[str]]) -> list[str]:
    """Names of the 0/1 columns of an encoding: ``"<role>=<value>"``."""
    return [f"{role}={value}" for role, values in encoding.items() for value in values]


def add_dummies(
    table: pd.DataFrame, attributes: pd.DataFrame, encoding: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """Return a copy of ``table`` with the encoding's 0/1 columns, from each row's attributes.

    Parameters
    ----------
    table : pandas.DataFrame
        Customer rows (e.g. a customer summary).
    attributes : pandas.DataFrame
        The attribute of each customer, a column per role; rows are aligned
        on ``table``'s index (a customer without a row reads as the baseline).
    encoding : mapping of str to list of str
        :func:`fit_encoding`'s result.

    Returns
    -------
    pandas.DataFrame
        ``table`` and one float column per value of the encoding.
    """
    columns: dict[str, np.ndarray] = {}
    for role, values in encoding.items():
        held = attributes[role].reindex(table.index).astype(object)
        text = held.where(held.isna(), held.map(str)).to_numpy(dtype=object)
        for value in values:
            columns[f"{role}={value}"] = (text == value).astype(np.float64)
    return table.assign(**columns) if columns else table.copy()


def check_encoding(
    value: Any, covariates: Sequence[str], extras: Sequence[str] = ()
) -> dict[str, list[str]]:
    """Check a bundle's saved encoding against the covariates its CLV model reads.

    Parameters
    ----------
    value : object
        The manifest's ``clv_covariates`` (absent in older bundles: ``None``).
    covariates : sequence of str
        The covariate columns of the bundle's purchase model.

    Returns
    -------
    dict of str to list of str

    Raises
    ------
    ValueError
        When the encoding is malformed or does not produce exactly those columns.
    """
    if value is None:
        value = {}
    names = (*ATTRIBUTE_ROLES, *extras)
    if not isinstance(value, Mapping) or not all(
        role in names
        and isinstance(levels, list)
        and 0 < len(levels) <= MAX_LEVELS
        and all(isinstance(v, str) for v in levels)
        for role, levels in value.items()
    ):
        raise ValueError(
            f"clv_covariates must map attributes among {list(names)} (the roles and the "
            f"schema's other attributes) to lists of 1 to {MAX_LEVELS} texts"
        )
    encoding = {str(role): list(levels) for role, levels in value.items()}
    if dummy_columns(encoding) != list(covariates):
        raise ValueError(
            f"clv_covariates gives the columns {dummy_columns(encoding)}, but the CLV model "
            f"reads {list(covariates)}"
        )
    return encoding
