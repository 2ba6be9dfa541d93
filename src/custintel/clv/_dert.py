r"""Continuously discounted expected purchases: DERT and its finite-horizon form.

DERT ("discounted expected residual transactions", Fader, Hardie and Lee
2005) is a customer's expected purchases over the whole future, each
discounted continuously to the end of observation:

.. math::

    \mathrm{DERT}(\delta) = \int_0^\infty e^{-\delta t} \, dE[Y(t)]
        = \delta \int_0^\infty e^{-\delta t} E[Y(t)] \, dt,

with :math:`E[Y(t)]` the model's conditional expected purchases in the next
:math:`t` (the second form by parts). CLVTools' ``predict(...,
continuous.discount.factor = delta)`` reports it for Pareto/NBD, in closed
form; here Pareto/NBD uses that closed form and every other purchase model the
integral by Gauss quadrature.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import hyperu, roots_laguerre, roots_legendre
from sklearn.utils.validation import check_is_fitted

from custintel.clv import _cnbd_math as cnbd_math
from custintel.clv import _pareto_nbd_math as pareto_nbd_math
from custintel.clv._cnbd import MBGCNBDModel
from custintel.clv._pareto_nbd import ParetoNBDModel
from custintel.clv._time_units import UNIT_DAYS, check_time_unit

__all__ = ["continuous_discount_rate", "dert", "pareto_nbd_dert"]

_DAYS_PER_YEAR = 365.25


def continuous_discount_rate(annual_rate: float, *, time_unit: str) -> float:
    r"""Convert an annual discount rate into a continuous rate per time unit.

    CLVTools' convention: an annual rate :math:`d` is the continuous rate
    :math:`\delta = \ln(1 + d)` per year, divided by the number of time
    units in a year (365.25 days, 365.25 / 7 weeks, 12 months, 8,766 hours).

    Parameters
    ----------
    annual_rate : float
        E.g. 0.1 for 10 % a year (> -1).
    time_unit : {"h", "D", "W", "M"}
        The time unit of the customer table.

    Returns
    -------
    float
        :math:`\delta` per time unit.

    Examples
    --------
    >>> round(continuous_discount_rate(0.1, time_unit="W"), 6)  # ln(1.1) / 52.18
    0.001827
    """
    if time_unit not in UNIT_DAYS:
        raise ValueError(f"time_unit must be one of {sorted(UNIT_DAYS)}, got {time_unit!r}")
    if not (math.isfinite(annual_rate) and annual_rate > -1):
        raise ValueError(f"annual_rate must be a finite number > -1, got {annual_rate!r}")
    return math.log1p(annual_rate) / (_DAYS_PER_YEAR / UNIT_DAYS[time_unit])


def pareto_nbd_dert(params: Any, x: Any, t_x: Any, T: Any, *, discount_rate: float) -> np.ndarray:
    r"""Return Pareto/NBD's DERT in closed form (Fader, Hardie and Lee 2005, eq. 2).

    Given alive, :math:`\lambda \sim \mathrm{Gamma}(r + x, \alpha + T)` and
    :math:`\mu \sim \mathrm{Gamma}(s, \beta + T)`, so

    .. math::

        \mathrm{DERT} = P(\text{alive}) \frac{r + x}{\alpha + T}
            \int_0^\infty e^{-\delta t} \left(\frac{\beta + T}{\beta + T + t}\right)^s dt
          = P(\text{alive}) \frac{r + x}{\alpha + T} (\beta + T)\,
            U(1, 2 - s, \delta(\beta + T)),

    which by Kummer's transformation :math:`U(1, 2 - s, z) = z^{s - 1}U(s, s, z)`
    is CLVTools' ``pnbd_DERT``:
    :math:`\frac{\alpha^r \beta^s \delta^{s-1} \Gamma(r + x + 1)
    U(s, s; \delta(\beta + T))}{\Gamma(r)(\alpha + T)^{r + x + 1} L}`.

    Parameters
    ----------
    params : array-like
        ``(r, alpha, s, beta)``.
    x, t_x, T : array-like
        Frequency, recency and age.
    discount_rate : float
        Continuous rate :math:`\delta > 0` per time unit.

    Returns
    -------
    numpy.ndarray
    """
    r, alpha, s, beta = (float(v) for v in params)
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    shape = x.shape
    x, t_x, T = x.ravel(), t_x.ravel(), T.ravel()
    p = np.array([r, alpha, s, beta])
    alive = pareto_nbd_math.proba_alive(p, x, t_x, T)
    z = discount_rate * (beta + T)
    integral = (beta + T) * hyperu(1.0, 2.0 - s, z)
    bad = ~np.isfinite(integral)
    if bad.any():  # hyperu fails for extreme arguments: integrate in u = delta t instead
        nodes, weights = roots_laguerre(80)
        kernel = np.exp(-s * np.log1p(nodes[None, :] / z[bad, None]))
        integral[bad] = (kernel @ weights) / discount_rate
    return np.asarray(alive * (r + x) / (alpha + T) * integral).reshape(shape)


def _check_rate(discount_rate: Any, horizon: Any) -> tuple[float, float | None]:
    try:
        rate = float(discount_rate)
    except (TypeError, ValueError):
        rate = math.nan
    length = None if horizon is None else float(horizon)
    if not math.isfinite(rate) or rate < 0 or (length is None and rate == 0):
        raise ValueError(
            "discount_rate must be a finite continuous rate per time unit, > 0 without a "
            f"horizon (>= 0 with one), got {discount_rate!r}; convert an annual rate with "
            "continuous_discount_rate(0.1, time_unit=...)"
        )
    if length is not None and not (math.isfinite(length) and length >= 0):
        raise ValueError(
            f"horizon must be None (the whole future) or a finite number >= 0, got {horizon!r}"
        )
    return rate, length


def dert(
    model: Any,
    X: pd.DataFrame,
    *,
    discount_rate: float,
    horizon: float | None = None,
    n_nodes: int = 64,
) -> pd.Series:
    r"""Return each customer's expected purchases, discounted continuously to the end of data.

    With ``horizon=None`` this is DERT, the discounted expected residual
    transactions of Fader, Hardie and Lee (2005) and CLVTools: every future
    purchase weighted by :math:`e^{-\delta t}`, ``t`` after the end of
    observation. Times a margin and the expected spend per purchase it is
    the customer's residual lifetime value.

    Parameters
    ----------
    model : fitted purchase model
        BG/NBD, MBG/NBD, MBG/CNBD-k, Pareto/NBD or NBD (anything with
        ``predict_purchases``).
    X : pandas.DataFrame
        Customer table, in the model's time unit.
    discount_rate : float
        Continuous rate :math:`\delta` per time unit of the table (see
        :func:`continuous_discount_rate`); > 0 without a horizon.
    horizon : float or None, default=None
        Length of the future counted, in the table's time unit; ``None`` is
        the whole future.
    n_nodes : int, default=64
        Quadrature nodes (models without a closed form).

    Returns
    -------
    pandas.Series
        ``dert`` per customer, indexed like ``X``.

    Notes
    -----
    Over a horizon :math:`H`, by parts,

    .. math::

        \int_0^H e^{-\delta t} \, dE[Y(t)] = e^{-\delta H} E[Y(H)]
            + \delta \int_0^H e^{-\delta t} E[Y(t)] \, dt,

    computed with Gauss-Legendre nodes on :math:`[0, H]`; for the whole future,
    :math:`\int_0^\infty e^{-u} E[Y(u / \delta)] \, du` with Gauss-Laguerre
    nodes. For the whole future, a Pareto/NBD model (not reduced to NBD by a
    boundary fit) uses the closed form of :func:`pareto_nbd_dert`, and
    MBG/CNBD-k an expectation over the purchase rate (no horizon of
    thousands of periods to evaluate). With
    ``discount_rate=0`` and a horizon the result is ``predict_purchases(X,
    t=horizon)``.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV:
       Using Iso-Value Curves for Customer Base Analysis", Journal of
       Marketing Research, 42 (4), 415-430.

    Examples
    --------
    >>> from custintel.clv import ParetoNBDModel, dert
    >>> from custintel.datasets import load_cdnow_summary
    >>> X = load_cdnow_summary()
    >>> model = ParetoNBDModel().fit(X)
    >>> dert(model, X, discount_rate=0.0027).head(3).round(2).tolist()  # 15 % a year, weekly
    [6.48, 0.48, 0.76]
    """
    check_is_fitted(model, "params_")
    check_time_unit(getattr(model, "time_unit_", None), X, model_name=type(model).__name__)
    rate, length = _check_rate(discount_rate, horizon)
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, (int, np.integer)) or n_nodes < 2:
        raise ValueError(f"n_nodes must be a whole number >= 2, got {n_nodes!r}")
    if length is None and isinstance(model, ParetoNBDModel):
        maths, params = model._scoring()
        if maths is ParetoNBDModel.maths:
            arrays, index = model._prepare(X)
            values = pareto_nbd_dert(
                params, arrays["frequency"], arrays["recency"], arrays["T"], discount_rate=rate
            )
            return pd.Series(values, index=index, name="dert")

    if length is None and isinstance(model, MBGCNBDModel):
        arrays, index = model._prepare(X)
        values = cnbd_math.dert(
            model._params, arrays["frequency"], arrays["recency"], arrays["T"], rate
        )
        return pd.Series(values, index=index, name="dert")

    def expected(t: float) -> np.ndarray:
        return np.asarray(model.predict_purchases(X, t=float(t)).to_numpy(), dtype=np.float64)

    total = np.zeros(len(X))
    if length is None:
        nodes, weights = roots_laguerre(int(n_nodes))
        for u, w in zip(nodes, weights, strict=True):
            total += w * expected(u / rate)
    elif length > 0:
        nodes, weights = roots_legendre(int(n_nodes))
        if rate > 0:
            times = (nodes + 1.0) * (length / 2.0)
            for t, w in zip(times, weights, strict=True):
                total += w * (length / 2.0) * rate * math.exp(-rate * t) * expected(t)
        total += math.exp(-rate * length) * expected(length)
    return pd.Series(total, index=X.index, name="dert")
