r"""Pareto/NBD: the distribution of the number of future purchases, P(X(t) = n).

While alive, a customer buys as a Poisson process with rate
:math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; their lifetime is exponential
with rate :math:`\mu \sim \mathrm{Gamma}(s, \beta)`. Integrated over
:math:`\mu`, the lifetime :math:`\tau` has the Lomax (Pareto II) survival
:math:`S(\tau) = (\beta / (\beta + \tau))^s` and density
:math:`f(\tau) = \frac{s}{\beta}(1 + \tau/\beta)^{-s-1}`; integrated over
:math:`\lambda`, the purchases in a window of length :math:`u` are NBD. So a
new customer makes :math:`n` purchases by age :math:`t` with probability

.. math::

    P(X(t) = n) = \mathrm{NB}(n; r, \alpha, t)\, S(t)
        + \int_0^t \mathrm{NB}(n; r, \alpha, \tau)\, f(\tau)\, d\tau,

the first term for customers still alive at :math:`t`, the second for those
who left at :math:`\tau`. This is Fader, Hardie and Lee's closed form (the
hypergeometric expression of Fader and Hardie 2006, note 012) written as the
integral it comes from; the integral is smooth and evaluated by composite
Gauss-Legendre quadrature in :math:`\log\tau`, which resolves the scales
:math:`\alpha`, :math:`\beta` and :math:`t` alike and needs no
hypergeometric function (whose series lifetimes sums fails for large
:math:`x`).

Given a history :math:`(x, t_x, T)`, a customer alive at :math:`T` has the
posterior :math:`\lambda \sim \mathrm{Gamma}(r + x, \alpha + T)`,
:math:`\mu \sim \mathrm{Gamma}(s, \beta + T)` and, both processes being
memoryless, buys in :math:`(T, T + t]` as a new customer with those
parameters; one who has left buys nothing (Fader, Hardie and Lee's note 028,
eq. 16, is the same quantity):

.. math::

    P(X(T, T + t) = n \mid x, t_x, T) = \delta_{n0}(1 - P(\text{alive}))
        + P(\text{alive})\, P(X(t) = n;\ r + x, \alpha + T, s, \beta + T).
"""

from __future__ import annotations

import numpy as np

from custintel.clv import _pareto_nbd_math as pnm
from custintel.clv._counts import CountMaths, nbd_log_pmf

__all__ = [
    "PARETO_NBD_COUNTS",
    "alive_proba_purchases",
    "proba_purchases",
    "proba_purchases_new_customer",
]

#: log(tau / t) runs over [-_SPAN, 0]; below, P(N(tau) = n) is delta_{n0} to double precision.
_SPAN = 36.0
_PANELS = 72  # panels of width 0.5 in log(tau)
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)
_LOG_TAU = (
    (np.arange(_PANELS)[:, None] + 0.5 * (_NODES[None, :] + 1.0)) * (_SPAN / _PANELS) - _SPAN
).ravel()
_LOG_WEIGHTS = np.log(np.tile(_WEIGHTS * 0.5 * _SPAN / _PANELS, _PANELS))
_CHUNK = 1 << 20


def alive_proba_purchases(
    r: np.ndarray | float,
    alpha: np.ndarray | float,
    s: float,
    beta: np.ndarray | float,
    t: float,
    n: float,
) -> np.ndarray:
    r"""Return P(n purchases in the next ``t``) of a customer alive now (see the module notes).

    Parameters
    ----------
    r, alpha : float or numpy.ndarray
        Gamma shape and rate of the purchase rate (posterior: ``r + x``, ``alpha + T``).
    s : float
        Gamma shape of the dropout rate.
    beta : float or numpy.ndarray
        Gamma rate of the dropout rate (posterior: ``beta + T``).
    t : float
        Horizon (``>= 0``).
    n : float
        A whole number of purchases (``>= 0``).

    Returns
    -------
    numpy.ndarray
        Probabilities, broadcast over ``r``, ``alpha`` and ``beta``.
    """
    r_b, alpha_b, beta_b = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (r, alpha, beta))
    )
    shape = r_b.shape
    r_, alpha_, beta_ = (v.ravel() for v in (r_b, alpha_b, beta_b))
    if t <= 0:
        return np.full(shape, 1.0 if n == 0 else 0.0)
    log_survive = -s * np.log1p(t / beta_)
    out = np.exp(nbd_log_pmf(r_, alpha_, t, n) + log_survive)
    rows = max(1, _CHUNK // _LOG_TAU.size)
    log_t = np.log(t)
    for start in range(0, len(r_), rows):
        part = slice(start, start + rows)
        tau = np.exp(log_t + _LOG_TAU)[None, :]
        b = beta_[part, None]
        # tau f(tau) d(log tau) with f the Lomax density of the lifetime
        log_density = np.log(s) + np.log(tau) - np.log(b) - (s + 1.0) * np.log1p(tau / b)
        log_terms = (
            nbd_log_pmf(r_[part, None], alpha_[part, None], tau, n)
            + log_density
            + _LOG_WEIGHTS[None, :]
        )
        out[part] += np.exp(log_terms).sum(axis=1)
    if n == 0:
        # lifetimes shorter than t e^-SPAN: no purchase in them
        out += -np.expm1(-s * np.log1p(t * np.exp(-_SPAN) / beta_))
    return np.clip(out, 0.0, 1.0).reshape(shape)


def proba_purchases(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float, n: float
) -> np.ndarray:
    r"""Return P(exactly ``n`` purchases in (T, T + t] | x, t_x, T) under the Pareto/NBD model.

    Parameters
    ----------
    params : numpy.ndarray
        ``(r, alpha, s, beta)``.
    x, t_x, T : numpy.ndarray
        Each customer's repeat purchases, recency and age.
    t : float
        Horizon (``>= 0``).
    n : float
        A whole number of purchases (``>= 0``).

    Returns
    -------
    numpy.ndarray
        Probabilities per customer; over ``n`` they sum to 1, their mean is
        :func:`~custintel.clv._pareto_nbd_math.expected_purchases` and
        ``n = 0`` is :func:`~custintel.clv._pareto_nbd_math.proba_no_purchase`.
    """
    r, alpha, s, beta = (float(v) for v in params)
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    alive = pnm.proba_alive(params, x, t_x, T)
    # The posterior given alive depends on (x, T) only: evaluate once per distinct pair.
    keys, inverse = np.unique(np.column_stack([x, T]), axis=0, return_inverse=True)
    if_alive = alive_proba_purchases(r + keys[:, 0], alpha + keys[:, 1], s, beta + keys[:, 1], t, n)
    value = alive * if_alive[inverse.ravel()]
    if n == 0:
        value = value + (1.0 - alive)
    return np.asarray(np.clip(value, 0.0, 1.0))


def proba_purchases_new_customer(params: np.ndarray, t: np.ndarray, n: np.ndarray) -> np.ndarray:
    r"""Return P(X(t) = n) of a new customer, broadcast over ages ``t`` and counts ``n``.

    Parameters
    ----------
    params : numpy.ndarray
        ``(r, alpha, s, beta)``.
    t, n : numpy.ndarray
        Ages (``>= 0``) and whole numbers of repeat purchases (``>= 0``).

    Returns
    -------
    numpy.ndarray
        Probabilities, shaped like ``t`` and ``n`` broadcast together.
    """
    r, alpha, s, beta = (float(v) for v in params)
    t_b, n_b = np.broadcast_arrays(np.asarray(t, dtype=np.float64), np.asarray(n, dtype=np.float64))
    out = np.empty(t_b.shape)
    for index in np.ndindex(t_b.shape):
        out[index] = alive_proba_purchases(r, alpha, s, beta, float(t_b[index]), float(n_b[index]))
    return out


#: The Pareto/NBD count formulas, for ``ParetoNBDModel.count_maths``.
PARETO_NBD_COUNTS = CountMaths(
    conditional=proba_purchases, new_customer=proba_purchases_new_customer
)
