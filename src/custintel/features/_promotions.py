"""Promotions: each customer's deal sensitivity, and each contact's campaign outcome.

Both turn transactions into rows (customers, contacts), so they live in the
feature layer; the analyses in :mod:`custintel.promotions` and the
``DealSegmenter`` read these tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel._validation import ValidatedTransactions, to_day
from custintel.exceptions import SchemaError
from custintel.schema import TransactionSchema, validated_transactions
from custintel.typing import TransactionsLike

__all__ = [
    "CAMPAIGN_COLUMNS",
    "DEAL_COLUMNS",
    "campaign_outcomes",
    "deal_sensitivity",
    "on_promotion",
]

#: Columns of :func:`deal_sensitivity`, in this order.
DEAL_COLUMNS: tuple[str, ...] = (
    "n_orders",
    "deal_orders",
    "deal_order_share",
    "deal_spend_share",
    "discount_depth",
    "buys_off_deal",
)
#: Columns of :func:`campaign_outcomes` besides the contact's own columns.
CAMPAIGN_COLUMNS: tuple[str, ...] = ("responded", "revenue", "n_orders")

#: Spacing of customer codes in the (customer, day) key: more days than any calendar holds.
_DAY_SPAN = 1 << 32
#: Promotion values that mean "not on promotion" (compared as lower-case text).
_NO_PROMOTION = frozenset({"", "0", "0.0", "false", "no", "n", "none", "nan", "<na>"})


def on_promotion(values: Any) -> np.ndarray:
    """Read a promotion column as one flag per line.

    Parameters
    ----------
    values : array-like
        Booleans, numbers (non-zero: on promotion) or text (a campaign code,
        or yes/no words).

    Returns
    -------
    numpy.ndarray of bool
        ``True`` where the line was sold on a promotion. Missing values,
        ``False``, ``0`` and the texts ``""``, ``"0"``, ``"false"``, ``"no"``,
        ``"n"`` and ``"none"`` (any case, surrounding spaces ignored) are not.

    Examples
    --------
    >>> on_promotion(["XMAS24", None, "no", "", 1, 0, True, "  Yes "]).tolist()
    [True, False, False, False, True, False, True, True]
    """
    series = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.nan_to_num(numbers, nan=0.0) != 0
    missing = series.isna().to_numpy()
    text = series.astype(str).str.strip().str.lower().to_numpy(dtype=object)
    flags = np.array([t not in _NO_PROMOTION for t in text], dtype=bool)
    return flags & ~missing


def _deal_lines(validated: ValidatedTransactions) -> tuple[np.ndarray, np.ndarray | None]:
    """Return each sorted line's deal flag, and its discount (``None`` when unmapped)."""
    if not (validated.has("promotion") or validated.has("discount")):
        raise SchemaError(
            "deal sensitivity needs a promotion flag or a discount on the lines, and the "
            "schema maps neither; map one with TransactionSchema(promotion='<flag or campaign "
            "column>') or TransactionSchema(discount='<amount off>') (or list_amount=...)",
            reason="missing_column",
        )
    n = len(validated.order)
    deal = np.zeros(n, dtype=bool)
    discount = None
    if validated.has("promotion"):
        deal |= on_promotion(
            validated.columns["promotion"].iloc[validated.order].reset_index(drop=True)
        )
    if validated.has("discount"):
        discount = validated.values("discount", np.float64)
        deal |= discount > 0
    return deal, discount


def _order_codes(validated: ValidatedTransactions) -> np.ndarray:
    """Return each sorted line's order code: its order id when mapped, else its day."""
    if validated.has("order_id"):
        keys = pd.MultiIndex.from_arrays([validated.customer_codes, validated.values("order_id")])
    else:
        keys = pd.MultiIndex.from_arrays([validated.customer_codes, validated.days])
    codes, _ = pd.factorize(keys)
    return codes


def deal_sensitivity(
    tx: TransactionsLike,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    *,
    observation_end: Any = None,
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    r"""Measure how much of each customer's buying happens on deals.

    A *deal line* is a purchase line sold on a promotion (the ``promotion``
    role) or at a discount (``discount > 0``, or ``list_amount > amount``);
    a *deal order* holds at least one deal line.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions with a ``promotion`` flag or campaign code, a
        ``discount`` (amount off) or a ``list_amount`` (amount before
        discount) column; validated with :func:`~custintel.validate_transactions`.
    schema : TransactionSchema, dict or None, default=None
        Column mapping.
    observation_end : date-like, optional
        Last day, inclusive; later transactions are dropped with a warning.
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies of :func:`~custintel.validate_transactions`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (ascending), the customers with at least
        one purchase line, with the columns in :data:`DEAL_COLUMNS`:

        - ``n_orders``: orders with a purchase (order ids when mapped, else
          purchase days);
        - ``deal_orders`` and ``deal_order_share``: deal orders, and their
          share of ``n_orders``;
        - ``deal_spend_share``: amount on deal lines over all purchase amounts;
        - ``discount_depth``: :math:`\sum d / \sum (a + d)` over the
          discounted lines (amount ``a``, discount ``d``), the average share
          of the list price given away when the customer does buy at a
          discount; NaN without discounted lines or without a discount column;
        - ``buys_off_deal``: whether at least one order has no deal line.

    Raises
    ------
    SchemaError
        For invalid transactions, or when neither a promotion nor a discount
        column is mapped.

    Examples
    --------
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "order_id": ["1", "2", "3", "4"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-01-05"]),
    ...     "amount": [80.0, 100.0, 50.0, 30.0],
    ...     "discount": [20.0, 0.0, 50.0, 0.0]})
    >>> table = deal_sensitivity(tx)
    >>> table[["n_orders", "deal_orders", "deal_spend_share", "discount_depth"]].round(3)
                 n_orders  deal_orders  deal_spend_share  discount_depth
    customer_id
    a                   3            2             0.565            0.35
    b                   1            0             0.000             NaN

    Customer ``a`` bought 80 + 50 of 230 on deals, and gave away 70 of a
    list value of 200 on the two discounted lines.
    """
    validated = validated_transactions(
        tx, schema, refunds=refunds, observation_end=observation_end, duplicates=duplicates
    )
    deal, discount = _deal_lines(validated)
    amount = validated.values("amount", np.float64)
    purchase = amount > 0
    customers = validated.customer_codes
    n_customers = len(validated.customers)
    orders = _order_codes(validated)

    # One entry per order: its customer, whether it has a purchase, whether a deal line.
    n_order_codes = int(orders.max()) + 1 if len(orders) else 0
    order_customer = np.zeros(n_order_codes, dtype=np.int64)
    order_customer[orders] = customers
    order_purchase = np.bincount(orders, weights=purchase, minlength=n_order_codes) > 0
    order_deal = np.bincount(orders, weights=purchase & deal, minlength=n_order_codes) > 0
    n_orders = np.bincount(order_customer[order_purchase], minlength=n_customers)
    deal_orders = np.bincount(order_customer[order_deal], minlength=n_customers)

    spend = np.bincount(customers, weights=np.where(purchase, amount, 0.0), minlength=n_customers)
    deal_spend = np.bincount(
        customers, weights=np.where(purchase & deal, amount, 0.0), minlength=n_customers
    )
    depth = np.full(n_customers, np.nan)
    if discount is not None:
        discounted = purchase & (discount > 0)
        given = np.bincount(
            customers, weights=np.where(discounted, discount, 0.0), minlength=n_customers
        )
        listed = np.bincount(
            customers, weights=np.where(discounted, amount + discount, 0.0), minlength=n_customers
        )
        np.divide(given, listed, out=depth, where=listed > 0)

    buyers = n_orders > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "n_orders": n_orders,
                "deal_orders": deal_orders,
                "deal_order_share": deal_orders / np.maximum(n_orders, 1),
                "deal_spend_share": np.divide(
                    deal_spend, spend, out=np.zeros(n_customers), where=spend > 0
                ),
                "discount_depth": depth,
                "buys_off_deal": deal_orders < n_orders,
            },
            index=validated.customers,
        )
    return table.loc[buyers]


def _check_contacts(contacts: Any, group_column: str, date_column: str) -> pd.DataFrame:
    if not isinstance(contacts, pd.DataFrame):
        raise SchemaError(
            f"contacts must be a pandas DataFrame with columns customer_id, {date_column} and "
            f"{group_column}, got {type(contacts).__name__}",
            reason="not_a_dataframe",
        )
    missing = [c for c in ("customer_id", date_column, group_column) if c not in contacts.columns]
    if missing:
        raise SchemaError(
            f"contacts lacks columns {missing}; columns present: "
            f"{[str(c) for c in contacts.columns]}. It needs one row per contact: customer_id, "
            f"the day of the contact ({date_column}=...) and the group "
            f"({group_column}=..., 'treatment' or 'control')",
            reason="missing_column",
        )
    if contacts.empty:
        raise SchemaError("contacts is empty: there is no contact to measure", reason="empty")
    groups = contacts[group_column].astype(str).str.strip().str.lower()
    unknown = sorted(set(groups) - {"treatment", "control"})
    if unknown:
        raise SchemaError(
            f"contacts[{group_column!r}] holds {unknown[:5]}; every contact must be in the "
            "'treatment' group (contacted) or the 'control' group (held out); rename the "
            f"values, e.g. contacts[{group_column!r}].map({{'A': 'treatment', 'B': 'control'}})",
            reason="bad_group",
        )
    if contacts["customer_id"].isna().any():
        raise SchemaError(
            f"contacts has {int(contacts['customer_id'].isna().sum()):,} rows without a "
            "customer_id; drop them",
            reason="missing_customer_id",
        )
    return contacts.assign(**{group_column: groups})


def campaign_outcomes(
    tx: TransactionsLike,
    contacts: pd.DataFrame,
    *,
    window_days: int = 30,
    schema: TransactionSchema | Mapping[str, str] | None = None,
    date_column: str = "contact_date",
    group_column: str = "group",
    refunds: Literal["auto", "match", "net", "drop", "raise"] = "net",
    duplicates: Literal["warn", "keep", "drop", "raise"] = "warn",
) -> pd.DataFrame:
    """Find what each contacted (or held-out) customer bought in the window after the contact.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions (see :func:`~custintel.validate_transactions`).
    contacts : pandas.DataFrame
        One row per contact: ``customer_id``, the contact day
        (``date_column``) and the group (``group_column``: ``"treatment"``
        for contacted customers, ``"control"`` for the held-out ones). Other
        columns (a segment, a campaign name) are carried through.
    window_days : int, default=30
        Length of the response window: purchases on the contact day and the
        ``window_days - 1`` days after it count.
    schema : TransactionSchema, dict or None, default=None
        Column mapping of ``tx``.
    date_column, group_column : str, default="contact_date" and "group"
        Names of those columns in ``contacts``.
    refunds, duplicates : str, default="net" and "warn"
        Cleaning policies of :func:`~custintel.validate_transactions`.

    Returns
    -------
    pandas.DataFrame
        ``contacts`` (its index and columns, the group in lower case) with
        :data:`CAMPAIGN_COLUMNS`: ``responded`` (a purchase in the window),
        ``revenue`` (net amount in the window) and ``n_orders`` (purchase
        days, or order ids when mapped, in the window). A customer without
        transactions did not respond.

    Raises
    ------
    SchemaError
        For invalid transactions, or contacts without the needed columns,
        with groups other than treatment and control, or contact days after
        the last transaction day (their window is not observed yet).
    ValueError
        For ``window_days`` below 1.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-03", "2024-01-02", "2024-03-01"]),
    ...                    "amount": [20.0, 15.0, 99.0]})
    >>> contacts = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...                          "contact_date": ["2024-01-01"] * 3,
    ...                          "group": ["treatment", "treatment", "control"]})
    >>> campaign_outcomes(tx, contacts, window_days=7)
      customer_id contact_date      group  responded  revenue  n_orders
    0           a   2024-01-01  treatment       True     20.0         1
    1           b   2024-01-01  treatment       True     15.0         1
    2           c   2024-01-01    control      False      0.0         0
    """
    if (
        isinstance(window_days, bool)
        or not isinstance(window_days, (int, np.integer))
        or window_days < 1
    ):
        raise ValueError(f"window_days must be a whole number of days >= 1, got {window_days!r}")
    checked = _check_contacts(contacts, group_column, date_column)
    validated = validated_transactions(tx, schema, refunds=refunds, duplicates=duplicates)
    contact_days = np.array(
        [to_day(value, date_column) for value in checked[date_column]], dtype="datetime64[D]"
    )
    last = validated.end_day
    late = contact_days > last
    if late.any():
        raise SchemaError(
            f"{int(late.sum()):,} contacts are dated after the last transaction day ({last}), "
            f"e.g. {checked.loc[late, date_column].astype(str).head(3).tolist()}: their response "
            "window is not observed; measure them once the transactions cover it",
            reason="contact_after_data",
        )
    partial = contact_days + np.timedelta64(window_days - 1, "D") > last
    start = contact_days.astype(np.int64)
    end = start + window_days  # exclusive

    # Lines are sorted by customer code, then day: one key orders them all, so each
    # contact's window is one slice [lo, hi) found by two binary searches.
    ids = pd.Index(validated.customers)
    code = ids.get_indexer(pd.Index(checked["customer_id"]).astype(ids.dtype, copy=False))
    keys = validated.customer_codes.astype(np.int64) * _DAY_SPAN + validated.days.astype(np.int64)
    known = code >= 0
    lo = np.searchsorted(keys, code * _DAY_SPAN + start, side="left")
    hi = np.searchsorted(keys, code * _DAY_SPAN + end, side="left")
    lengths = np.where(known, hi - lo, 0)
    contact = np.repeat(np.arange(len(checked)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    line = np.repeat(lo, lengths) + offsets
    amount = validated.values("amount", np.float64)[line]
    bought = amount > 0
    revenue = np.bincount(contact, weights=amount, minlength=len(checked))
    responded = np.bincount(contact, weights=bought, minlength=len(checked)) > 0
    orders = _order_codes(validated)[line][bought]
    pairs = np.unique(contact[bought].astype(np.int64) * (int(orders.max(initial=0)) + 1) + orders)
    n_orders = np.bincount(pairs // (int(orders.max(initial=0)) + 1), minlength=len(checked))
    out = checked.copy()
    out["responded"] = responded
    out["revenue"] = revenue
    out["n_orders"] = n_orders
    if partial.any():
        out.attrs["partial_windows"] = int(partial.sum())
    out.attrs["window_days"] = int(window_days)
    return out
