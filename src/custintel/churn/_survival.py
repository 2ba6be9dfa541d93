r"""A horizon-free churn view: P(still active after t days) per customer, from a BTYD model.

A BTYD purchase model gives, for each customer, the probability of being
alive at the end of observation and the posterior of the latent dropout
process given that they are. Together they give the survival curve

.. math::

    S_i(t) = P(\text{alive at } T_i + t \mid x_i, t_{x,i}, T_i)
           = P(\text{alive at } T_i) \;
             P(\text{no dropout in } (T_i, T_i + t] \mid \text{alive at } T_i, \ldots)

in closed form, for every :math:`t` at once; see :func:`btyd_survival`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from custintel._validation import as_customer_table
from custintel.backends import btyd_table

__all__ = ["DEFAULT_DAYS", "btyd_survival"]

#: Default grid of :func:`btyd_survival`, in days.
DEFAULT_DAYS: tuple[int, ...] = (0, 30, 60, 90, 180, 365, 730)

_NAMES = ("bgnbd", "mbgnbd", "pareto_nbd")
_UNIT_DAYS = {"D": 1.0, "W": 7.0}


def _resolve(model: Any, X: pd.DataFrame, unit: str | None) -> tuple[Any, str]:
    """Return the fitted purchase model and the time unit it works in."""
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from custintel import clv

    names = {
        "bgnbd": clv.BetaGeoModel,
        "mbgnbd": clv.ModifiedBetaGeoModel,
        "pareto_nbd": clv.ParetoNBDModel,
    }
    if unit is not None and unit not in _UNIT_DAYS:
        raise ValueError(f"time_unit must be 'D', 'W' or None, got {unit!r}")
    if isinstance(model, str):
        if model not in names:
            raise ValueError(f"model must be one of {list(_NAMES)} or an estimator, got {model!r}")
        return names[model]().fit(btyd_table(X)), "W"
    if isinstance(model, clv.CLVModel):
        check_is_fitted(model, "purchase_model_")
        recorded = getattr(model, "time_unit_", None)
        if unit is None and recorded not in _UNIT_DAYS:
            raise ValueError(
                "the CLVModel does not record the time unit it was fitted in (time_unit_ is "
                f"{recorded!r}); pass time_unit='D' or 'W'"
            )
        return model.purchase_model_, unit or str(recorded)
    kinds = (clv.BetaGeoModel, clv.ModifiedBetaGeoModel, clv.ParetoNBDModel, clv.NBDModel)
    if not isinstance(model, kinds):
        raise ValueError(
            "model must be 'bgnbd', 'mbgnbd', 'pareto_nbd', a custintel BTYD purchase model "
            f"(BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, NBDModel) or a CLVModel, "
            f"got {type(model).__name__}"
        )
    try:
        check_is_fitted(model, "params_")
    except NotFittedError:
        if unit == "D":
            return clone(model).fit(X[["frequency", "recency", "T"]]), "D"
        return clone(model).fit(btyd_table(X)), "W"
    return model, unit or "W"


def _conditional(model: Any, table: pd.DataFrame, tau: np.ndarray) -> np.ndarray:
    """P(no dropout in (T, T + tau] | alive at T, data), customers × tau, in the model's unit."""
    from scipy.special import hyp2f1

    from custintel import clv

    x = table["frequency"].to_numpy(dtype=np.float64)[:, None]
    T = table["T"].to_numpy(dtype=np.float64)[:, None]
    tau = tau[None, :]
    if isinstance(model, clv.NBDModel) or getattr(model, "boundary_", False):
        # No dropout (or a fit at the no-dropout boundary, which predicts as NBD).
        return np.ones((len(table), tau.shape[1]))
    params = model.params_
    if isinstance(model, clv.ParetoNBDModel):
        s, beta = float(params["s"]), float(params["beta"])
        # Given alive at T, mu ~ Gamma(s, beta + T): E[exp(-mu tau)].
        return np.asarray(np.exp(s * (np.log(beta + T) - np.log(beta + T + tau))))
    r, alpha, a, b = (float(params[k]) for k in ("r", "alpha", "a", "b"))
    # Given alive at T: lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x) (b + x + 1 for
    # MBG/NBD, which survived the first purchase's dropout chance too). Dropouts come at
    # rate lambda p, so E[exp(-lambda p tau)] = E_p[(1 + p tau / (alpha + T))^-(r + x)]
    #   = 2F1(r + x, a; c; -tau / (alpha + T)), c = a + b + x (+ 1),
    # taken through Pfaff's transformation to an argument w in [0, 1):
    #   = (1 - w)^a 2F1(c - r - x, a; c; w), w = tau / (alpha + T + tau).
    c = a + b + x + (1.0 if isinstance(model, clv.ModifiedBetaGeoModel) else 0.0)
    w = tau / (alpha + T + tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.exp(a * np.log1p(-w)) * hyp2f1(c - r - x, a, c, w)
    return np.asarray(np.clip(out, 0.0, 1.0))


def btyd_survival(
    model: Any,
    X: pd.DataFrame,
    *,
    t: Sequence[float] | np.ndarray = DEFAULT_DAYS,
    time_unit: Literal["D", "W"] | None = None,
) -> pd.DataFrame:
    r"""Predict each customer's probability of still being active ``t`` days from now, any ``t``.

    Parameters
    ----------
    model : {"bgnbd", "mbgnbd", "pareto_nbd"}, estimator or CLVModel
        A custintel BTYD purchase model (:class:`~custintel.clv.BetaGeoModel`,
        :class:`~custintel.clv.ModifiedBetaGeoModel`,
        :class:`~custintel.clv.ParetoNBDModel`, or
        :class:`~custintel.clv.NBDModel`, which has no dropout), fitted or
        not, or a fitted :class:`~custintel.clv.CLVModel` (its purchase
        model is used). A name or an unfitted model is fitted on ``X``.
    X : pandas.DataFrame
        Customer table with ``frequency``, and ``recency`` and ``T`` in days
        (:func:`~custintel.features.make_churn_dataset` or
        :func:`~custintel.features.summarize_customers`), indexed by
        ``customer_id``.
    t : sequence of float, default=(0, 30, 60, 90, 180, 365, 730)
        Days after the end of observation, >= 0.
    time_unit : {"D", "W"} or None, default=None
        The time unit the fitted model works in: ``"W"`` (weeks) for names,
        unfitted models and fitted ones by default (as
        :func:`btyd_churn_score`), ``"D"`` for a model fitted on days (such as
        ``CustomerIntelligence``'s); a CLVModel's recorded ``time_unit_`` is
        used when this is None.

    Returns
    -------
    pandas.DataFrame
        Customers (indexed like ``X``) × ``t`` (columns named ``days``):
        P(still active after ``t`` days). Each row starts at P(alive) at
        ``t = 0`` and never increases.

    Raises
    ------
    ValueError
        For an unknown model, a ``t`` that is negative or not finite, or a
        model whose time unit is unknown.

    See Also
    --------
    btyd_churn_score : P(no purchase within one horizon), the churn score to rank by.
    lapse_survival : Kaplan-Meier curve of observed time to lapse, for a whole base.

    Notes
    -----
    "Active" is the model's latent state (not yet dropped out), not "has
    bought": an active customer may go months without a purchase. With
    :math:`\tau` = ``t`` in the model's unit and :math:`x, T` the customer's
    repeat purchases and age:

    - **BG/NBD** (Fader, Hardie and Lee 2005): given alive at :math:`T`,
      :math:`\lambda \sim \mathrm{Gamma}(r + x, \alpha + T)` and
      :math:`p \sim \mathrm{Beta}(a, b + x)` independently, and dropouts come
      only at purchases, so at rate :math:`\lambda p`. Integrating
      :math:`e^{-\lambda p \tau}` over both,

      .. math::

          S(t) = P(\text{alive}) \; {}_2F_1\!\left(r + x, a; a + b + x;
              -\frac{\tau}{\alpha + T}\right).

      MBG/NBD is the same with :math:`b + x + 1` (the first purchase was a
      dropout chance too).
    - **Pareto/NBD** (Fader and Hardie 2005): given alive, :math:`\mu \sim
      \mathrm{Gamma}(s, \beta + T)`, so :math:`S(t) = P(\text{alive})
      \left(\frac{\beta + T}{\beta + T + \tau}\right)^{s}`.
    - **NBD**, and a fit at the no-dropout boundary (``boundary_``): no one
      drops out, :math:`S(t) = 1`.

    ``1 - S(t)`` is the probability of having churned by then; unlike
    P(no purchase in a horizon) it does not depend on a horizon's length.
    ``tests/churn/test_survival.py`` checks it against the simulator's
    known dropout dates.

    Examples
    --------
    >>> from custintel.datasets import make_transactions
    >>> from custintel.features import make_churn_dataset
    >>> tx = make_transactions(500, random_state=0).transactions
    >>> X, _ = make_churn_dataset(tx, cutoff="2023-06-30", horizon=90)
    >>> curves = btyd_survival("bgnbd", X, t=[0, 90, 365])
    >>> list(curves.columns), curves.index.name
    ([0, 90, 365], 'customer_id')
    >>> bool((curves.diff(axis=1).iloc[:, 1:] <= 0).all().all())
    True
    """
    X = as_customer_table(X, owner="btyd_survival")
    if not isinstance(X, pd.DataFrame):
        raise ValueError(f"X must be a DataFrame of customers, got {type(X).__name__}")
    missing = [c for c in ("frequency", "recency", "T") if c not in X.columns]
    if missing:
        raise ValueError(
            f"X lacks columns {missing}; build it with custintel.features.make_churn_dataset "
            "or summarize_customers"
        )
    days = np.asarray(t, dtype=np.float64).ravel()
    if days.size == 0 or not np.all(np.isfinite(days)) or np.any(days < 0):
        raise ValueError(f"t must be one or more finite numbers of days >= 0, got {t!r}")
    fitted, unit = _resolve(model, X, time_unit)
    table = btyd_table(X) if unit == "W" else X[["frequency", "recency", "T"]]
    alive = fitted.predict_proba_alive(table).to_numpy(dtype=np.float64)
    values = alive[:, None] * _conditional(fitted, table, days / _UNIT_DAYS[unit])
    labels = [int(d) if float(d).is_integer() else float(d) for d in days]
    return pd.DataFrame(values, index=X.index.copy(), columns=pd.Index(labels, name="days"))
