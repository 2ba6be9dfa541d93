"""A simulated promotion history and campaign with planted effects, for the promotions tools."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custintel.datasets._simulate import make_transactions

__all__ = ["DEAL_TYPES", "SimulatedCampaign", "make_campaign"]

#: Planted deal types and the share of each type's orders sold on a promotion.
DEAL_TYPES: dict[str, float] = {"full-price": 0.05, "deal-responsive": 0.45, "deal-driven": 0.95}
#: Share of customers of each deal type.
_TYPE_SHARES = (0.5, 0.3, 0.2)
#: Default campaign effect: added probability of buying in the window when contacted.
_EFFECTS: dict[str, float] = {"full-price": 0.0, "deal-responsive": 0.10, "deal-driven": 0.30}


@dataclass(frozen=True)
class SimulatedCampaign:
    """A transaction log with promotions, one campaign's contacts, and the truth.

    Attributes
    ----------
    transactions : pandas.DataFrame
        :func:`make_transactions` lines with two more columns: ``promotion``
        (a campaign code, or ``""`` at full price) and ``discount`` (amount
        off the list price). Lines of the campaign's own orders carry the
        code ``"CAMPAIGN"``.
    contacts : pandas.DataFrame
        One row per customer active before the campaign: ``customer_id``,
        ``contact_date`` and ``group`` (``"treatment"`` or ``"control"``).
    customers : pandas.DataFrame
        The truth per customer: ``deal_type`` and ``true_uplift`` (the
        planted added probability of buying in the window when contacted).
    contact_date : pandas.Timestamp
        Day of the campaign.
    window_days : int
        Length of the response window the effect was planted in.
    """

    transactions: pd.DataFrame
    contacts: pd.DataFrame
    customers: pd.DataFrame
    contact_date: pd.Timestamp
    window_days: int


def make_campaign(
    n_customers: int = 3000,
    *,
    effects: Mapping[str, float] | None = None,
    treatment_share: float = 0.5,
    window_days: int = 30,
    random_state: int | None = 0,
) -> SimulatedCampaign:
    """Simulate customers of three deal types, their promotions, and one campaign.

    Customers are simulated with :func:`make_transactions` (two years,
    ending 2024-12-31) and given a deal type: half are full-price buyers (5 %
    of their orders on a promotion), 30 % deal-responsive (45 %), 20 %
    deal-driven (95 %). A promoted order has a discount of 15-40 % of its
    list price on every line. On ``2024-11-01`` a campaign contacts a random
    ``treatment_share`` of the customers who bought before it; a contacted
    customer of deal type ``t`` makes one more order in the ``window_days``
    after the contact with probability ``effects[t]`` (the planted uplift),
    on top of what they buy anyway.

    Parameters
    ----------
    n_customers : int, default=3000
        Customers simulated.
    effects : mapping of str to float, optional
        Planted uplift of each deal type (keys of :data:`DEAL_TYPES`);
        default full-price 0, deal-responsive 0.10, deal-driven 0.30.
    treatment_share : float, default=0.5
        Share of the eligible customers contacted; the rest are control.
    window_days : int, default=30
        Response window of the planted effect.
    random_state : int or None, default=0
        Seed.

    Returns
    -------
    SimulatedCampaign

    Raises
    ------
    ValueError
        For an unknown deal type in ``effects``, or a probability or share
        outside [0, 1].

    Examples
    --------
    >>> sim = make_campaign(400, random_state=1)
    >>> sorted(sim.contacts["group"].unique())
    ['control', 'treatment']
    >>> sorted(sim.customers["deal_type"].unique())
    ['deal-driven', 'deal-responsive', 'full-price']
    """
    planted = dict(_EFFECTS)
    for key, value in (effects or {}).items():
        if key not in DEAL_TYPES:
            raise ValueError(f"effects keys must be deal types {list(DEAL_TYPES)}, got {key!r}")
        if not 0 <= float(value) <= 1:
            raise ValueError(f"effects[{key!r}] must be a probability in [0, 1], got {value!r}")
        planted[key] = float(value)
    if not 0 < treatment_share < 1:
        raise ValueError(f"treatment_share must be in (0, 1), got {treatment_share!r}")
    rng = np.random.default_rng(random_state)
    sim = make_transactions(
        n_customers, start="2023-01-01", end="2024-12-31", acquisition_days=365, random_state=rng
    )
    tx = sim.transactions.copy()
    ids = sim.customers.index
    types = np.array(list(DEAL_TYPES))[rng.choice(3, size=len(ids), p=_TYPE_SHARES)]
    deal_type = pd.Series(types, index=ids, name="deal_type")

    # Promotions per order, by the customer's deal type; one discount depth per order.
    orders = tx.drop_duplicates("order_id")[["order_id", "customer_id"]]
    promo_rate = deal_type.map(DEAL_TYPES).reindex(orders["customer_id"]).to_numpy()
    promoted = rng.random(len(orders)) < promo_rate
    depth = np.where(promoted, rng.uniform(0.15, 0.40, len(orders)), 0.0)
    per_order = pd.DataFrame(
        {"promoted": promoted, "depth": depth}, index=orders["order_id"].to_numpy()
    )
    line = per_order.reindex(tx["order_id"].to_numpy())
    tx["promotion"] = np.where(line["promoted"].to_numpy(), "PROMO", "")
    tx["discount"] = (
        tx["amount"].to_numpy() * line["depth"].to_numpy() / (1 - line["depth"].to_numpy())
    )

    contact_date = pd.Timestamp("2024-11-01")
    eligible = ids[sim.customers["first_purchase"].to_numpy() < contact_date]
    treated = rng.random(len(eligible)) < treatment_share
    contacts = pd.DataFrame(
        {
            "customer_id": eligible,
            "contact_date": contact_date,
            "group": np.where(treated, "treatment", "control"),
        }
    )
    uplift = deal_type.map(planted)
    responds = treated & (rng.random(len(eligible)) < uplift.reindex(eligible).to_numpy())
    extra_ids = eligible[responds]
    if len(extra_ids):
        days = rng.integers(0, window_days, len(extra_ids))
        mean_spend = sim.customers["mean_spend"].reindex(extra_ids).to_numpy()
        amount = np.round(rng.gamma(4.0, mean_spend / 4.0), 2)
        first_order = int(pd.to_numeric(tx["order_id"], errors="coerce").max()) + 1
        extra = tx.iloc[:0].copy()
        rows = {
            "customer_id": extra_ids,
            "order_id": np.arange(first_order, first_order + len(extra_ids)),
            "timestamp": contact_date + pd.to_timedelta(days, unit="D") + pd.Timedelta(hours=12),
            "amount": amount,
            "promotion": "CAMPAIGN",
            "discount": np.round(amount * 0.25, 2),
        }
        extra = pd.DataFrame(rows)
        for column in tx.columns:
            if column not in extra.columns:
                source = tx.drop_duplicates("customer_id").set_index("customer_id")[column]
                extra[column] = source.reindex(extra_ids).to_numpy()
        extra["quantity"] = 1
        extra["cost"] = np.round(amount * 0.6, 2)
        extra = extra[tx.columns].astype(tx.dtypes.to_dict())
        tx = pd.concat([tx, extra], ignore_index=True)
        tx = tx.sort_values(["timestamp", "order_id"], kind="stable", ignore_index=True)
    customers = pd.DataFrame({"deal_type": deal_type, "true_uplift": uplift})
    return SimulatedCampaign(
        transactions=tx,
        contacts=contacts,
        customers=customers,
        contact_date=contact_date,
        window_days=window_days,
    )
