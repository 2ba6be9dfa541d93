"""Value at risk (churn probability × CLV) and the retention budget it ranks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RetentionPlan", "retention_budget", "value_at_risk"]


def _examples(index: pd.Index, mask: np.ndarray) -> str:
    shown = index[mask][:5].tolist()
    return f"{int(mask.sum())} customers, e.g. {shown}"


def _as_series(values: Any, name: str) -> pd.Series:
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise ValueError(
                f"{name} must be a Series (or a one-column DataFrame) indexed by customer_id, "
                f"got a DataFrame with columns {list(values.columns)[:5]}"
            )
        values = values.iloc[:, 0]
    if not isinstance(values, pd.Series):
        raise ValueError(
            f"{name} must be a pandas Series indexed by customer_id, got {type(values).__name__}; "
            "index it by customer so the two inputs can be aligned"
        )
    if not values.index.is_unique:
        dup = values.index[values.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{name} has repeated customer ids, e.g. {dup}; keep one row per customer")
    try:
        numbers = values.astype("float64")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must hold numbers, got dtype {values.dtype}") from error
    bad = ~np.isfinite(numbers.to_numpy())
    if bad.any():
        raise ValueError(
            f"{name} is missing or infinite for {_examples(values.index, bad)}; "
            "score every customer, or drop those rows from both inputs"
        )
    return numbers


def value_at_risk(churn_probability: pd.Series, clv: pd.Series) -> pd.Series:
    r"""Compute each customer's expected loss: churn probability × CLV over the same horizon.

    Parameters
    ----------
    churn_probability : pandas.Series
        P(churn within the horizon) per customer, indexed by ``customer_id``
        (e.g. :meth:`ChurnClassifier.predict_churn`).
    clv : pandas.Series
        Value of each customer over the same horizon, indexed by
        ``customer_id``, >= 0 (e.g. :meth:`custintel.clv.CLVModel.predict_clv`
        with ``horizon`` the churn horizon in months; see Notes).

    Returns
    -------
    pandas.Series
        ``value_at_risk`` per customer, in the order of ``churn_probability``.

    Raises
    ------
    ValueError
        When an input is not a Series, has repeated, missing or infinite
        values, the two indexes hold different customers (up to five of each
        side are named), a probability is outside [0, 1], or a CLV is negative.

    Notes
    -----
    .. math::

        \mathrm{VaR}_i = P(\text{churn}_i \text{ within } H) \times
            \mathrm{CLV}_i(H)

    ranks customers by what the business stands to lose over the horizon
    :math:`H`: a likely churner worth little ranks below a less likely one
    worth much. Use the CLV over the churn horizon, not a lifetime: with a
    181-day churn label, ``CLVModel.predict_clv(X, horizon=6)`` (six months).
    ``predict_clv`` is already an expectation under the purchase model's own
    dropout, so value at risk is a ranking of what is at stake, not a second
    forecast of revenue.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.Series([0.9, 0.2, 0.5], index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> clv = pd.Series([10.0, 100.0, 0.0], index=["c", "b", "a"])
    >>> value_at_risk(p, clv)
    customer_id
    a     0.0
    b    20.0
    c     5.0
    Name: value_at_risk, dtype: float64
    """
    p = _as_series(churn_probability, "churn_probability")
    value = _as_series(clv, "clv")
    outside = ((p < 0) | (p > 1)).to_numpy()
    if outside.any():
        raise ValueError(
            f"churn_probability is outside [0, 1] for {_examples(p.index, outside)}; "
            "pass probabilities (predict_churn), not scores or percentages"
        )
    negative = (value < 0).to_numpy()
    if negative.any():
        raise ValueError(
            f"clv is negative for {_examples(value.index, negative)}; a loss-making customer has "
            "no value at risk: pass clv.clip(lower=0) if that is what you mean"
        )
    if not p.index.equals(value.index):
        only_p = p.index.difference(value.index)
        only_v = value.index.difference(p.index)
        if len(only_p) or len(only_v):
            raise ValueError(
                "churn_probability and clv must cover the same customers: "
                f"{len(only_p)} only in churn_probability (e.g. {only_p[:5].tolist()}), "
                f"{len(only_v)} only in clv (e.g. {only_v[:5].tolist()}); score both on the "
                "same customer table"
            )
        value = value.reindex(p.index)
    out = pd.Series(p.to_numpy() * value.to_numpy(), index=p.index.copy(), name="value_at_risk")
    return out


@dataclass
class RetentionPlan:
    """Whom to contact and what the contacts are expected to keep (see :func:`retention_budget`).

    Attributes
    ----------
    customers : pandas.DataFrame
        The customers to contact, highest value at risk first, indexed by
        ``customer_id``: ``rank`` (1 = first), ``value_at_risk``,
        ``expected_value_kept`` (response rate × value at risk),
        ``expected_net_value`` (kept minus the contact cost),
        ``cumulative_value_kept`` and ``cumulative_net_value``; then any
        other column of the input (a reason, the probability, the CLV).
    summary : pandas.Series
        ``customers`` (scored), ``contacted``, ``response_rate``,
        ``contact_cost``, ``value_at_risk_total`` (all customers),
        ``value_at_risk_covered`` (of those contacted), ``share_covered``,
        ``expected_value_kept``, ``cost_total``, ``expected_net_value`` and
        ``contacts_that_pay``: how many customers, taken in this order, have
        an expected value kept above the contact cost (where contacting stops
        paying).
    """

    customers: pd.DataFrame
    summary: pd.Series


def retention_budget(
    value_at_risk: pd.Series | pd.DataFrame,
    *,
    n_contacts: int | None = None,
    response_rate: float,
    contact_cost: float = 0.0,
) -> RetentionPlan:
    r"""Choose whom to contact with a retention budget, and the value expected to be kept.

    Parameters
    ----------
    value_at_risk : pandas.Series or pandas.DataFrame
        Value at risk per customer, indexed by ``customer_id`` (the output of
        :func:`value_at_risk`), or a DataFrame with a ``value_at_risk``
        column whose other columns are carried into the plan.
    n_contacts : int or None, default=None
        How many customers can be contacted. ``None``: every customer whose
        contact pays (expected value kept above ``contact_cost``).
    response_rate : float
        Share of contacted customers who would have churned and stay because
        of the contact, in (0, 1]: your own estimate (from a past campaign or
        a test group), not something the data here can tell.
    contact_cost : float, default=0.0
        Cost of one contact, in the currency of the CLV, >= 0.

    Returns
    -------
    RetentionPlan
        ``customers`` (the chosen ones, ranked) and ``summary``.

    Raises
    ------
    ValueError
        When ``n_contacts`` is not a whole number >= 0, ``response_rate`` is
        not in (0, 1], ``contact_cost`` is negative or not finite, or
        ``value_at_risk`` has missing, repeated or negative values.

    Notes
    -----
    Contacting customer :math:`i` is expected to keep :math:`\rho \,
    \mathrm{VaR}_i` (response rate :math:`\rho`) at a cost :math:`c`, so the
    best :math:`N` contacts are the :math:`N` largest values at risk, and a
    contact pays while :math:`\rho \, \mathrm{VaR}_i > c`:
    ``summary["contacts_that_pay"]`` says where that stops. Ties keep the
    input order.

    Examples
    --------
    >>> import pandas as pd
    >>> var = pd.Series([50.0, 5.0, 200.0, 20.0], index=pd.Index([1, 2, 3, 4], name="customer_id"))
    >>> plan = retention_budget(var, n_contacts=2, response_rate=0.2, contact_cost=3.0)
    >>> plan.customers[["rank", "value_at_risk", "expected_net_value"]]
                 rank  value_at_risk  expected_net_value
    customer_id
    3               1          200.0                37.0
    1               2           50.0                 7.0
    >>> plan.summary[["contacted", "expected_value_kept", "share_covered", "contacts_that_pay"]]
    contacted               2.0
    expected_value_kept    50.0
    share_covered           0.909091
    contacts_that_pay       3.0
    Name: summary, dtype: float64
    """
    if isinstance(value_at_risk, pd.DataFrame):
        if "value_at_risk" not in value_at_risk.columns:
            raise ValueError(
                "value_at_risk must be a Series or a DataFrame with a 'value_at_risk' column; "
                f"columns present: {list(value_at_risk.columns)[:10]}"
            )
        extra = value_at_risk.drop(columns="value_at_risk")
        var = _as_series(value_at_risk["value_at_risk"], "value_at_risk")
    else:
        extra = None
        var = _as_series(value_at_risk, "value_at_risk")
    negative = (var < 0).to_numpy()
    if negative.any():
        raise ValueError(
            f"value_at_risk is negative for {_examples(var.index, negative)}; "
            "compute it with value_at_risk(), from a CLV >= 0"
        )
    rate = float(response_rate)
    if not (np.isfinite(rate) and 0 < rate <= 1):
        raise ValueError(
            f"response_rate must be a share in (0, 1], got {response_rate!r}; "
            "e.g. 0.1 if one contacted churner in ten is kept"
        )
    cost = float(contact_cost)
    if not (np.isfinite(cost) and cost >= 0):
        raise ValueError(f"contact_cost must be a finite number >= 0, got {contact_cost!r}")
    if n_contacts is not None and (
        isinstance(n_contacts, bool)
        or not isinstance(n_contacts, (int, np.integer))
        or n_contacts < 0
    ):
        raise ValueError(
            f"n_contacts must be None or a whole number >= 0, got {n_contacts!r}; "
            "None contacts every customer whose contact pays"
        )
    order = np.argsort(-var.to_numpy(), kind="stable")
    ranked = var.iloc[order]
    kept = rate * ranked.to_numpy()
    net = kept - cost
    pays = int(np.count_nonzero(net > 0))
    chosen = pays if n_contacts is None else min(int(n_contacts), len(ranked))
    table = pd.DataFrame(
        {
            "rank": np.arange(1, chosen + 1, dtype=np.int64),
            "value_at_risk": ranked.to_numpy()[:chosen],
            "expected_value_kept": kept[:chosen],
            "expected_net_value": net[:chosen],
            "cumulative_value_kept": np.cumsum(kept[:chosen]),
            "cumulative_net_value": np.cumsum(net[:chosen]),
        },
        index=ranked.index[:chosen].copy(),
    )
    if table.index.name is None:
        table.index.name = "customer_id"
    if extra is not None and extra.shape[1]:
        table = table.join(extra.loc[table.index])
    total = float(var.sum())
    covered = float(ranked.to_numpy()[:chosen].sum())
    summary = pd.Series(
        {
            "customers": float(len(var)),
            "contacted": float(chosen),
            "response_rate": rate,
            "contact_cost": cost,
            "value_at_risk_total": total,
            "value_at_risk_covered": covered,
            "share_covered": covered / total if total > 0 else float("nan"),
            "expected_value_kept": float(kept[:chosen].sum()),
            "cost_total": cost * chosen,
            "expected_net_value": float(net[:chosen].sum()),
            "contacts_that_pay": float(pays),
        },
        name="summary",
    )
    return RetentionPlan(customers=table, summary=summary)
