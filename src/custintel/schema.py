"""The transaction schema: one table shape for every custintel estimator.

A transaction log is a long table with one row per purchase (or purchase line).
:class:`TransactionSchema` says which column plays which *role*;
:func:`validate_transactions` checks a frame against it and returns a
normalised copy with canonical column names.

The checks themselves live in the private ``custintel._validation`` module,
which this module builds on (never the other way round).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from custintel._validation import ValidatedTransactions, check_policies, run_validation
from custintel.typing import TransactionsLike

__all__ = [
    "OPTIONAL_ROLES",
    "REQUIRED_ROLES",
    "TransactionSchema",
    "suggest_column",
    "validate_transactions",
    "validated_transactions",
]

REQUIRED_ROLES: tuple[str, ...] = ("customer_id", "timestamp", "amount")
OPTIONAL_ROLES: tuple[str, ...] = (
    "order_id",
    "item_id",
    "quantity",
    "cost",
    "margin",
    "channel",
    "region",
    "customer_type",
)

# Column names commonly found in the wild for each role, used only to suggest a
# mapping when a required column is missing.
_ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer",
        "cust",
        "cust_id",
        "customerid",
        "customer_no",
        "client",
        "client_id",
        "user",
        "user_id",
        "userid",
        "member_id",
        "account_id",
        "id",
    ),
    "timestamp": (
        "date",
        "datetime",
        "time",
        "ts",
        "order_date",
        "invoice_date",
        "invoicedate",
        "purchase_date",
        "transaction_date",
        "created_at",
        "event_time",
    ),
    "amount": (
        "revenue",
        "value",
        "sales",
        "total",
        "price",
        "spend",
        "dollar_value",
        "monetary_value",
        "order_value",
        "net_amount",
        "gross_amount",
    ),
}


@dataclass(frozen=True)
class TransactionSchema:
    """Map the roles custintel needs to the column names of your data.

    Every field names the column that plays that role. Required roles default
    to the role's own name. Optional roles default to ``None``, which means
    "use the column of that name if the frame has one"; naming a column
    explicitly makes it required.

    Parameters
    ----------
    customer_id : str, default="customer_id"
        Customer identifier. Integers, strings and categoricals are accepted.
    timestamp : str, default="timestamp"
        When the transaction happened: datetimes or parseable strings.
    amount : str, default="amount"
        Revenue of the row, in currency. Negative values are refunds and are
        handled by the ``refunds`` policy of :func:`validate_transactions`.
    order_id : str or None, default=None
        Order (basket) identifier, for basket analysis and order counts.
    item_id : str or None, default=None
        Product identifier, for basket analysis.
    quantity : str or None, default=None
        Units on the row.
    cost : str or None, default=None
        Cost of the row, in currency; margin is ``amount - cost``.
    margin : str or None, default=None
        Margin of the row, in currency; an alternative to ``cost``.
    channel : str or None, default=None
        Sales or acquisition channel.
    region : str or None, default=None
        Region of the customer or store.
    customer_type : str or None, default=None
        Customer type, e.g. consumer or business account.

    Examples
    --------
    >>> import pandas as pd
    >>> from custintel import TransactionSchema, validate_transactions
    >>> raw = pd.DataFrame(
    ...     {"cust": ["a", "a", "b"], "date": ["2024-01-02", "2024-01-09", "2024-01-03"],
    ...      "revenue": [10.0, 5.0, 7.5]}
    ... )
    >>> schema = TransactionSchema(customer_id="cust", timestamp="date", amount="revenue")
    >>> validate_transactions(raw, schema)
      customer_id  timestamp  amount
    0           a 2024-01-02    10.0
    1           a 2024-01-09     5.0
    2           b 2024-01-03     7.5
    """

    customer_id: str = "customer_id"
    timestamp: str = "timestamp"
    amount: str = "amount"
    order_id: str | None = None
    item_id: str | None = None
    quantity: str | None = None
    cost: str | None = None
    margin: str | None = None
    channel: str | None = None
    region: str | None = None
    customer_type: str | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and field.name not in REQUIRED_ROLES:
                continue
            if not isinstance(value, str) or not value:
                raise TypeError(
                    f"TransactionSchema.{field.name} must be a non-empty column name (str), "
                    f"got {value!r}"
                )

    @classmethod
    def coerce(cls, schema: TransactionSchema | Mapping[str, str] | None) -> TransactionSchema:
        """Return a schema from ``None``, a schema, or a role-to-column mapping.

        Parameters
        ----------
        schema : TransactionSchema, dict or None
            ``None`` gives the default schema.

        Returns
        -------
        TransactionSchema
        """
        if schema is None:
            return cls()
        if isinstance(schema, cls):
            return schema
        if isinstance(schema, Mapping):
            unknown = sorted(set(schema) - set(REQUIRED_ROLES) - set(OPTIONAL_ROLES))
            if unknown:
                raise TypeError(
                    f"unknown schema roles {unknown}; valid roles are "
                    f"{list(REQUIRED_ROLES + OPTIONAL_ROLES)}"
                )
            return cls(**dict(schema))
        raise TypeError(
            f"schema must be a TransactionSchema, a dict of role -> column, or None; "
            f"got {type(schema).__name__}"
        )

    def resolve(self, columns: pd.Index) -> dict[str, str]:
        """Map each role to the column it uses in a frame with ``columns``.

        Required roles always appear. Optional roles appear when mapped
        explicitly, or when a column with the role's own name exists.
        This does not check that required columns exist; see
        :func:`validate_transactions`.

        Parameters
        ----------
        columns : pandas.Index
            Column labels of the frame.

        Returns
        -------
        dict
            Role name to column name.
        """
        mapping = {role: getattr(self, role) for role in REQUIRED_ROLES}
        present = set(columns)
        for role in OPTIONAL_ROLES:
            column = getattr(self, role)
            if column is not None:
                mapping[role] = column
            elif role in present:
                mapping[role] = role
        return mapping


def suggest_column(role: str, columns: list[str]) -> str | None:
    """Guess which of ``columns`` plays ``role``, for error messages.

    Parameters
    ----------
    role : str
        A required role.
    columns : list of str
        Columns present in the frame.

    Returns
    -------
    str or None
        The best guess, or ``None`` when nothing looks plausible.
    """
    lowered = {str(c).strip().lower(): c for c in columns}
    for candidate in (role, *_ROLE_SYNONYMS.get(role, ())):
        if candidate in lowered:
            return str(lowered[candidate])
    close = difflib.get_close_matches(role, list(lowered), n=1, cutoff=0.6)
    return str(lowered[close[0]]) if close else None


def validate_transactions(
    df: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    refunds: Literal["net", "drop", "raise"] = "net",
    observation_end: Any = None,
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    """Check a transaction log and return a normalised copy.

    The input is never modified. The copy has canonical column names (the
    role names), a ``datetime64`` timestamp, numeric amounts, and rows in a
    stable order: by customer, then timestamp, ties in input order.
    Unmapped columns are not carried over.

    Every problem found is reported at once, in a single
    :class:`~custintel.exceptions.SchemaError` whose message names the
    column, the number of rows affected, up to five examples, and the fix.

    Parameters
    ----------
    df : pandas.DataFrame or polars.DataFrame
        The transaction log, one row per transaction or transaction line.
        Polars frames (eager or lazy) are converted to pandas.
    schema : TransactionSchema, dict or None, default=None
        Column mapping; ``None`` expects the role names as columns.
    refunds : {"net", "drop", "raise"}, default="net"
        What to do with rows whose amount is negative:

        - ``"net"`` keeps them; they reduce revenue but are never counted as
          purchases (see the feature definitions).
        - ``"drop"`` removes them.
        - ``"raise"`` raises ``SchemaError``.
    observation_end : date-like, optional
        Last day of the observation period, inclusive: every transaction on
        or before that calendar day is kept. Later rows are dropped with a
        :class:`~custintel.exceptions.DataQualityWarning`. Without it,
        rows dated after today trigger the same warning but are kept.
    duplicates : {"warn", "keep", "drop", "raise"}, default="warn"
        What to do with rows identical to an earlier row in every mapped
        column. ``"warn"`` keeps them and warns, ``"keep"`` keeps them
        silently (for data where repeated identical purchases are genuine),
        ``"drop"`` removes the repeats, and ``"raise"`` raises.

    Returns
    -------
    pandas.DataFrame
        Canonical columns ``customer_id``, ``timestamp``, ``amount`` and any
        mapped optional roles (``margin`` is converted to ``cost``), with a
        fresh ``RangeIndex``.

    Raises
    ------
    SchemaError
        With ``.reason`` and ``.failure_cases`` describing every problem.

    Notes
    -----
    Policies applied silently, by design:

    - Timezone-aware timestamps are converted to naive local wall-clock time
      of their own zone, so that calendar days are the days the business saw.
    - Categorical customer ids are replaced by their category values.
    - Numeric strings in ``amount``, ``quantity`` and ``cost`` are parsed.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame(
    ...     {"customer_id": [2, 1, 1], "timestamp": ["2024-03-01", "2024-02-01", "2024-01-05"],
    ...      "amount": [3.0, -1.0, 4.0]}
    ... )
    >>> validate_transactions(raw, refunds="drop")
       customer_id  timestamp  amount
    0            1 2024-01-05     4.0
    1            2 2024-03-01     3.0
    """
    return validated_transactions(
        df, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    ).frame


def validated_transactions(
    df: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    refunds: str = "net",
    observation_end: Any = None,
    duplicates: str = "warn",
) -> ValidatedTransactions:
    """Validate like :func:`validate_transactions`, keeping sorted arrays and customer codes.

    The feature layer's entry point: it reads the sorted arrays without
    building the canonical frame unless it needs it.

    Parameters
    ----------
    df : pandas.DataFrame or polars.DataFrame
        The transaction log.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    refunds : {"net", "drop", "raise"}, default="net"
        Policy for negative amounts.
    observation_end : date-like, optional
        Last day kept, inclusive.
    duplicates : {"warn", "keep", "drop", "raise"}, default="warn"
        Policy for exact duplicate rows.

    Returns
    -------
    ValidatedTransactions
        Its ``frame`` is what :func:`validate_transactions` returns.
    """
    resolved = TransactionSchema.coerce(schema)
    check_policies(refunds, duplicates)
    return run_validation(
        df,
        resolved,
        suggest=suggest_column,
        refunds=refunds,
        observation_end=observation_end,
        duplicates=duplicates,
    )
