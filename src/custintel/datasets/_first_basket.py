"""First baskets that say something about the customer: a planted early-life signal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custintel.datasets._simulate import SimulatedTransactions

__all__ = ["STARTER_ITEM", "plant_first_basket_effects"]

#: Item id of the planted "starter kit" line.
STARTER_ITEM = "STARTER"


def plant_first_basket_effects(
    sim: SimulatedTransactions, *, strength: float = 1.0, random_state: int | None = 0
) -> pd.DataFrame:
    r"""Make each customer's first order reveal their latent purchase rate and dropout.

    In :func:`make_transactions` a first order is drawn like any other, so
    it says nothing about how often the customer will come back. Real first
    orders do (a trial pack against a full kit, a sample against a
    subscription). This plants that: with :math:`z_i` the standardised
    :math:`\log(\lambda_i (1 - p_i))` of customer :math:`i` (purchase rate
    times the chance of staying after a purchase),

    - the first order's lines are scaled by :math:`e^{0.5\,s\,z_i}`;
    - a ``STARTER`` line (one unit, half the first order's value) is added
      to it with probability :math:`\operatorname{logistic}(s\,z_i - 1)`.

    Later orders are unchanged, so every BTYD quantity (frequency, recency,
    T, and the repeat orders' spend) keeps its distribution; only the first
    order now carries information a BTYD model cannot read.

    Parameters
    ----------
    sim : SimulatedTransactions
        Output of :func:`make_transactions`.
    strength : float, default=1.0
        :math:`s`; 0 plants nothing (the lines are returned unchanged).
    random_state : int or None, default=0
        Seed of the starter-kit draws.

    Returns
    -------
    pandas.DataFrame
        The transactions with the planted first orders, in the same order
        and columns (``STARTER`` lines follow their order's lines).

    Examples
    --------
    >>> from custintel.datasets import make_transactions
    >>> sim = make_transactions(300, random_state=0)
    >>> tx = plant_first_basket_effects(sim, strength=1.5)
    >>> int((tx["item_id"] == STARTER_ITEM).sum()) > 0
    True
    """
    if not np.isfinite(strength) or strength < 0:
        raise ValueError(f"strength must be a finite number >= 0, got {strength!r}")
    tx = sim.transactions.copy()
    if strength == 0:
        return tx
    truth = sim.customers
    signal = np.log(truth["lambda_"].to_numpy() * (1 - truth["p_dropout"].to_numpy()))
    z = pd.Series((signal - signal.mean()) / signal.std(), index=truth.index)
    first_order = tx.groupby("customer_id", sort=False)["order_id"].transform("first")
    in_first = (tx["order_id"] == first_order).to_numpy()
    z_line = z.reindex(tx["customer_id"]).to_numpy()
    factor = np.where(in_first, np.exp(0.5 * strength * z_line), 1.0)
    for column in ("amount", "cost"):
        if column in tx.columns:
            tx[column] = tx[column].to_numpy() * factor
    rng = np.random.default_rng(random_state)
    firsts = tx.loc[in_first].drop_duplicates("order_id", keep="last")
    z_first = z.reindex(firsts["customer_id"]).to_numpy()
    takes = rng.random(len(firsts)) < 1 / (1 + np.exp(-(strength * z_first - 1.0)))
    starter = firsts.loc[takes].copy()
    if len(starter):
        value = tx.loc[in_first].groupby("order_id")["amount"].sum()
        starter["amount"] = 0.5 * value.reindex(starter["order_id"]).to_numpy()
        if "cost" in starter.columns:
            starter["cost"] = 0.6 * starter["amount"]
        if "quantity" in starter.columns:
            starter["quantity"] = 1
        if isinstance(tx["item_id"].dtype, pd.CategoricalDtype):
            tx["item_id"] = tx["item_id"].cat.add_categories([STARTER_ITEM])
            starter["item_id"] = pd.Categorical(
                [STARTER_ITEM] * len(starter), categories=tx["item_id"].cat.categories
            )
        else:
            starter["item_id"] = STARTER_ITEM
        tx = pd.concat([tx, starter], ignore_index=True)
        tx = tx.sort_values(["timestamp", "order_id"], kind="stable", ignore_index=True)
    return tx
