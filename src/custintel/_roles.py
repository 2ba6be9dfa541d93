"""The roles a transaction column can play, in a module that imports nothing.

:class:`custintel.schema.TransactionSchema` maps these roles to column names
and re-exports the two tuples; they live here so that the command line can
build its ``--customer-id`` ... ``--customer-type`` options (and answer
``--help``) without importing pandas.
"""

__all__ = ["OPTIONAL_ROLES", "REQUIRED_ROLES"]

#: Roles every transaction table must map.
REQUIRED_ROLES: tuple[str, ...] = ("customer_id", "timestamp", "amount")
#: Roles a transaction table may map; each one unlocks features that need it.
OPTIONAL_ROLES: tuple[str, ...] = (
    "order_id",
    "item_id",
    "item_name",
    "quantity",
    "unit_price",
    "cost",
    "margin",
    "channel",
    "region",
    "customer_type",
    "discount",
    "list_amount",
    "promotion",
)
