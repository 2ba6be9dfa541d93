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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from custintel._roles import OPTIONAL_ROLES, REQUIRED_ROLES
from custintel._validation import (
    CleaningPolicies,
    DataQuality,
    ValidatedTransactions,
    run_validation,
)
from custintel.typing import TransactionsLike

__all__ = [
    "OPTIONAL_ROLES",
    "REQUIRED_ROLES",
    "DataQuality",
    "RefundsPolicy",
    "TransactionSchema",
    "ValidatedTransactions",
    "suggest_column",
    "validate_transactions",
    "validated_transactions",
]

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
        When the frame has no such column but ``quantity`` and ``unit_price``
        are mapped, the amount of each line is ``quantity * unit_price``.
    order_id : str or None, default=None
        Order (basket) identifier, for basket analysis and order counts.
    item_id : str or None, default=None
        Product identifier, for basket analysis, for pairing returns with
        purchases and for ``exclude_items``.
    item_name : str or None, default=None
        Product name or description, a label carried through (e.g. for
        readable cross-sell rules). Missing names are allowed.
    quantity : str or None, default=None
        Units on the row; negative on return lines.
    unit_price : str or None, default=None
        Price of one unit. Lines with a unit price of zero or less (samples,
        adjustments) are left out and counted in
        :class:`~custintel.schema.DataQuality`.
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
    discount : str or None, default=None
        Amount taken off the line's list price, in currency (0 when the
        line was sold at full price); for deal sensitivity
        (:func:`~custintel.features.deal_sensitivity`).
    list_amount : str or None, default=None
        The line's amount before any discount (list price times quantity);
        an alternative to ``discount``, which is then ``list_amount - amount``.
    promotion : str or None, default=None
        Whether the line was sold on a promotion: a flag (``True``/``1``/
        ``"yes"``) or a campaign code. Missing values, ``False``, ``0``,
        ``""``, ``"0"``, ``"no"``, ``"false"`` and ``"none"`` mean no promotion.
    attributes : tuple of str, default=()
        Other per-customer attribute columns beyond ``customer_type``,
        ``region`` and ``channel`` (e.g. a loyalty tier or an acquisition
        campaign), carried through validation under their own names, so that
        :class:`~custintel.pipeline.CustomerIntelligence` can read them as CLV
        covariates (``clv_covariates``). Each must exist in the data and may
        not be named like a role.

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
    item_name: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    cost: str | None = None
    margin: str | None = None
    channel: str | None = None
    region: str | None = None
    customer_type: str | None = None
    discount: str | None = None
    list_amount: str | None = None
    promotion: str | None = None
    attributes: Sequence[str] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", _checked_attributes(self.attributes))
        for field in dataclasses.fields(self):
            if field.name == "attributes":
                continue
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
            known = {*REQUIRED_ROLES, *OPTIONAL_ROLES, "attributes"}
            unknown = sorted(set(schema) - known)
            if unknown:
                raise TypeError(
                    f"unknown schema roles {unknown}; valid roles are "
                    f"{list(REQUIRED_ROLES + OPTIONAL_ROLES)}, and 'attributes' lists other "
                    "per-customer attribute columns"
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
        for name in self.attributes:  # other attributes keep their own names
            mapping[name] = name
        return mapping


def _checked_attributes(value: Any) -> tuple[str, ...]:
    """Check ``TransactionSchema.attributes``: distinct column names, none named like a role."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise TypeError(
            f"TransactionSchema.attributes must be a list of column names, got {value!r}; e.g. "
            "TransactionSchema(attributes=['loyalty_tier'])"
        )
    names = tuple(value)
    bad = [v for v in names if not isinstance(v, str) or not v]
    if bad:
        raise TypeError(f"TransactionSchema.attributes must be non-empty column names, got {bad!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"TransactionSchema.attributes names a column twice: {list(names)}")
    roles = [v for v in names if v in (*REQUIRED_ROLES, *OPTIONAL_ROLES, "day")]
    if roles:
        raise ValueError(
            f"TransactionSchema.attributes {roles} are named like roles; map a role with its "
            f"own field (e.g. TransactionSchema({roles[0]}='{roles[0]}')), or rename the column"
        )
    return names


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


RefundsPolicy = Literal["auto", "match", "net", "drop", "raise"]


def validate_transactions(
    df: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    refunds: RefundsPolicy = "auto",
    unmatched_refunds: Literal["net", "drop", "raise"] = "net",
    missing_ids: Literal["raise", "drop"] = "raise",
    exclude_items: str | Sequence[Any] | None = None,
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
    When the frame's index is named ``"line"`` (file line numbers, as the
    ``custintel`` command reads files), examples say ``line 623`` instead of
    ``row 623``.

    Line-level exports are cleaned by explicit policies, applied in this
    order; each line is counted once, under the first that takes it, in the
    :class:`DataQuality` ledger of :func:`validated_transactions`:
    missing customer ids (``missing_ids``), excluded items
    (``exclude_items``), unit prices of zero or less (always left out when
    ``unit_price`` is mapped), lines after ``observation_end``, returns
    (``refunds``), then exact duplicates (``duplicates``).

    Parameters
    ----------
    df : pandas.DataFrame or polars.DataFrame
        The transaction log, one row per transaction or transaction line.
        Polars frames (eager or lazy) are converted to pandas.
    schema : TransactionSchema, dict or None, default=None
        Column mapping; ``None`` expects the role names as columns. Without
        an amount column, mapping ``quantity`` and ``unit_price`` gives
        amount = quantity x unit price.
    refunds : {"auto", "match", "net", "drop", "raise"}, default="auto"
        What to do with return lines (a negative quantity, or a negative
        amount):

        - ``"match"`` pairs each return with the purchase it reverses: the
          earliest purchase of the same customer and item (``item_id``; with
          no item column, the same ``order_id``) at or before the return's
          time with at least the returned quantity left. A purchase returned
          in full is removed (no occasion, no value, no basket); one returned
          in part keeps the rest, its amount lowered by the return's amount
          (never below 0). The matched return is removed. Returns that match
          nothing follow ``unmatched_refunds``.
        - ``"net"`` keeps return lines; they reduce revenue but are never
          counted as purchases (see the feature definitions).
        - ``"drop"`` removes them.
        - ``"raise"`` raises ``SchemaError``.
        - ``"auto"`` is ``"match"`` when ``item_id`` or ``order_id`` is
          mapped, else ``"net"``.

        Without a quantity column, the amount plays the quantity.
    unmatched_refunds : {"net", "drop", "raise"}, default="net"
        Under ``refunds="match"``: what to do with returns that match no
        purchase (bought before the data starts, or more than was bought).
    missing_ids : {"raise", "drop"}, default="raise"
        Lines without a customer id (missing or blank), e.g. guest
        checkouts: ``"raise"`` raises ``SchemaError``; ``"drop"`` leaves them
        out, counted with their amount.
    exclude_items : str, sequence or None, default=None
        Item ids to leave out of purchases and baskets (postage, fees,
        manual adjustments): a sequence of ids, compared as text, or a
        regular expression that must match the whole id, e.g.
        ``"POST|DOT|M|D|C2|BANK CHARGES|AMAZONFEE"``. Needs ``item_id``.
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
    ValueError
        When a policy argument is not one of its values.

    Notes
    -----
    Policies applied silently, by design:

    - Timezone-aware timestamps are converted to naive local wall-clock time
      of their own zone, so that calendar days are the days the business saw.
    - Categorical customer ids are replaced by their category values.
    - Numeric strings in ``amount``, ``quantity``, ``unit_price`` and
      ``cost`` are parsed.

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

    A cancellation line removes the purchase it reverses:

    >>> lines = pd.DataFrame(
    ...     {"customer_id": ["c1", "c1", "c1"],
    ...      "timestamp": ["2024-01-05", "2024-01-05", "2024-01-09"],
    ...      "item_id": ["mug", "tea", "mug"], "quantity": [2, 1, -2],
    ...      "unit_price": [4.5, 3.0, 4.5]}
    ... )
    >>> validate_transactions(lines)
      customer_id  timestamp  amount item_id  quantity  unit_price
    0          c1 2024-01-05     3.0     tea         1         3.0
    """
    return validated_transactions(
        df,
        schema,
        refunds=refunds,
        unmatched_refunds=unmatched_refunds,
        missing_ids=missing_ids,
        exclude_items=exclude_items,
        observation_end=observation_end,
        duplicates=duplicates,
    ).frame


def validated_transactions(
    df: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    refunds: str = "auto",
    unmatched_refunds: str = "net",
    missing_ids: str = "raise",
    exclude_items: str | Sequence[Any] | None = None,
    observation_end: Any = None,
    duplicates: str = "warn",
) -> ValidatedTransactions:
    """Validate like :func:`validate_transactions`, keeping sorted arrays and the ledger.

    The feature layer's entry point: it reads the sorted arrays without
    building the canonical frame unless it needs it. Its ``quality``
    attribute is the :class:`DataQuality` ledger of what cleaning did.

    Parameters
    ----------
    df : pandas.DataFrame or polars.DataFrame
        The transaction log.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    refunds : {"auto", "match", "net", "drop", "raise"}, default="auto"
        Policy for return lines.
    unmatched_refunds : {"net", "drop", "raise"}, default="net"
        Policy for returns that match no purchase under ``refunds="match"``.
    missing_ids : {"raise", "drop"}, default="raise"
        Policy for lines without a customer id.
    exclude_items : str, sequence or None, default=None
        Item ids (or a full-match regular expression) to leave out.
    observation_end : date-like, optional
        Last day kept, inclusive.
    duplicates : {"warn", "keep", "drop", "raise"}, default="warn"
        Policy for exact duplicate rows.

    Returns
    -------
    ValidatedTransactions
        Its ``frame`` is what :func:`validate_transactions` returns; its
        ``quality`` is a :class:`DataQuality`.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame(
    ...     {"customer_id": ["c1", "c1", None, "c2"],
    ...      "timestamp": ["2024-01-05", "2024-01-09", "2024-01-09", "2024-01-10"],
    ...      "item_id": ["mug", "mug", "mug", "tea"], "quantity": [3, -1, 1, 2],
    ...      "unit_price": [4.5, 4.5, 4.5, 3.0]}
    ... )
    >>> quality = validated_transactions(lines, missing_ids="drop").quality
    >>> quality.lines_kept, quality.missing_id_lines, quality.purchases_reduced_lines
    (2, 1, 1)
    >>> quality.revenue_kept  # 3 x 4.5 - 1 x 4.5 + 2 x 3.0
    15.0
    """
    resolved = TransactionSchema.coerce(schema)
    policies = CleaningPolicies(
        refunds=refunds,
        unmatched_refunds=unmatched_refunds,
        missing_ids=missing_ids,
        exclude_items=exclude_items,
        observation_end=observation_end,
        duplicates=duplicates,
    )
    return run_validation(df, resolved, suggest=suggest_column, policies=policies)
