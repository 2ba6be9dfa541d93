r"""Array maths of the MBG/CNBD-k model (Platzer and Reutterer 2016; BTYDplus).

A customer's purchases form an Erlang-:math:`k` renewal process: the times
between purchases are :math:`\mathrm{Gamma}(k, \lambda)`, i.e. every
:math:`k`-th event of a Poisson process with rate :math:`\lambda`. Across
customers :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; after every purchase
(MBG: the first one included) a customer drops out for good with probability
:math:`p \sim \mathrm{Beta}(a, b)`. ``k = 1`` is the MBG/NBD model.

Every function takes the parameters first, as the array
``(k, r, alpha, a, b)`` in the order of BTYDplus. The likelihood and P(alive)
are BTYDplus' ``xbgcnbd.LL`` and ``xbgcnbd.PAlive`` written in log space with
an analytic gradient; the new-customer distribution is its
``xbgcnbd_pmf_cpp``. The conditional expectation is computed exactly (see
:func:`expected_purchases`), where BTYDplus uses a BG/NBD-based approximation
rescaled over the whole cohort (:func:`expected_purchases_btydplus`, kept for
comparison): an exact per-customer value does not depend on which other
customers are scored with it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import (
    betainc,
    digamma,
    expit,
    gammaln,
    hyp2f1,
    logsumexp,
    roots_genlaguerre,
    roots_hermitenorm,
)

from custintel.clv import _beta_geo_math as bgm
from custintel.exceptions import plain

__all__ = [
    "cnbd_loglik",
    "dert",
    "expected_purchases",
    "expected_purchases_btydplus",
    "expected_purchases_new_customer",
    "pmf_new_customer",
    "proba_alive",
    "proba_no_purchase",
    "sample_customers",
]

_CHUNK = 32  # future purchases summed per vectorised step
_TAIL = 1e-13  # a customer's series stops when P(N >= m k - j) falls below this
_MAX_PURCHASES = 200_000  # hard stop of the series (never reached on real horizons)


def _split(params: np.ndarray) -> tuple[int, float, float, float, float]:
    k = round(float(params[0]))
    if k < 1 or k != float(params[0]):
        raise ValueError(f"k must be a whole number >= 1, got {plain(params[0])!r}")
    return k, float(params[1]), float(params[2]), float(params[3]), float(params[4])


def _phase_terms(
    k: int, r: float, alpha: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    r"""Return :math:`\log c_j`, ``(n, k)``: the weights of the phases of an alive customer.

    :math:`c_j = \frac{(r + kx)_j}{j!} \left(\frac{T - t_x}{\alpha + T}\right)^j`
    (:math:`c_0 = 1`), the terms of BTYDplus' ``S2``: given alive, the posterior
    of the rate and of the number ``j`` of Poisson events since the last
    purchase is :math:`\propto c_j \, \mathrm{Gamma}(r + kx + j, \alpha + T)`.
    """
    n = len(x)
    out = np.zeros((n, k))
    if k == 1:
        return out
    gap = np.maximum(T - t_x, 0.0)
    with np.errstate(divide="ignore"):
        log_ratio = np.log(gap) - np.log(alpha + T)
    shape = r + k * x
    rising = np.zeros(n)
    for j in range(1, k):
        rising = rising + np.log(shape + j - 1)
        out[:, j] = np.where(gap > 0, rising + j * log_ratio - math.lgamma(j + 1), -np.inf)
    return out


def _log_dropout_odds(
    k: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    modified: bool,
) -> np.ndarray:
    """Return ``log S1``, the weight of "dropped out after the last purchase" (or ``-inf``)."""
    s = 1.0 if modified else 0.0
    possible = (x > 0) | modified
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (
            math.log(a)
            - np.log(b + x - 1.0 + s)
            + (r + k * x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(possible, value, -np.inf)


def cnbd_loglik(
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    litt: np.ndarray,
    *,
    modified: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Return the per-customer log-likelihood and its gradient in ``(r, alpha, a, b)``.

    BTYDplus' ``xbgcnbd.LL`` (``dropout_at_zero = modified``):

    .. math::

        \log L = (k - 1)\,\mathrm{litt} - x \log (k - 1)!
            + \log\frac{B(a, b + x + s)}{B(a, b)}
            + \log\frac{\Gamma(r + kx)\,\alpha^r}{\Gamma(r)(\alpha + T)^{r + kx}}
            + \log\Big(S_1 + \sum_{j=0}^{k-1} c_j\Big),

    with :math:`s = 1` for MBG (0 for BG),
    :math:`S_1 = \frac{a}{b + x - 1 + s}
    \left(\frac{\alpha + T}{\alpha + t_x}\right)^{r + kx}` (0 for BG and
    :math:`x = 0`) and :math:`c_j` as in BTYDplus' ``S2``. ``k`` is fixed:
    the gradient has four columns.

    Parameters
    ----------
    params : numpy.ndarray
        ``(k, r, alpha, a, b)``.
    x, t_x, T : numpy.ndarray
        Frequency, recency and age.
    litt : numpy.ndarray
        Sum of the logs of the times between consecutive purchases.
    modified : bool, default=True
        MBG/CNBD-k (dropout possible right after the first purchase) or BG/CNBD-k.

    Returns
    -------
    ll : numpy.ndarray
        ``(n,)``.
    grad : numpy.ndarray
        ``(n, 4)``, derivatives in ``r``, ``alpha``, ``a`` and ``b``.
    """
    k, r, alpha, a, b = _split(params)
    s = 1.0 if modified else 0.0
    shape = r + k * x
    log_s1 = _log_dropout_odds(k, r, alpha, a, b, x, t_x, T, modified)
    log_c = _phase_terms(k, r, alpha, x, t_x, T)
    stacked = np.column_stack([log_s1, log_c])
    lse = logsumexp(stacked, axis=1)
    weights = np.exp(stacked - lse[:, None])  # shares of S1 and of each c_j
    w1, wc = weights[:, 0], weights[:, 1:]

    ll = (
        (k - 1) * litt
        - x * math.lgamma(k)
        + gammaln(a) + gammaln(b + x + s) - gammaln(a + b + x + s)
        - (gammaln(a) + gammaln(b) - gammaln(a + b))
        + gammaln(shape) - math.lgamma(r) + r * math.log(alpha)
        - shape * np.log(alpha + T)
        + lse
    )  # fmt: skip

    # d log c_j / d r = sum_{i<j} 1 / (r + kx + i); d log c_j / d alpha = -j / (alpha + T)
    dc_dr = np.zeros_like(wc)
    for j in range(1, k):
        dc_dr[:, j] = dc_dr[:, j - 1] + 1.0 / (shape + j - 1)
    phases = np.arange(k, dtype=np.float64)
    log_ratio = np.log(alpha + T) - np.log(alpha + t_x)
    s1_grad_alpha = shape * (1.0 / (alpha + T) - 1.0 / (alpha + t_x))
    grad = np.empty((len(x), 4))
    grad[:, 0] = (
        digamma(shape) - digamma(r) + math.log(alpha) - np.log(alpha + T)
        + w1 * log_ratio
        + np.einsum("ij,ij->i", wc, dc_dr)
    )  # fmt: skip
    grad[:, 1] = (
        r / alpha - shape / (alpha + T)
        + w1 * s1_grad_alpha
        - (wc @ phases) / (alpha + T)
    )  # fmt: skip
    grad[:, 2] = digamma(a + b) - digamma(a + b + x + s) + w1 / a
    with np.errstate(divide="ignore", invalid="ignore"):
        s1_grad_b = np.where(w1 > 0, -w1 / (b + x - 1.0 + s), 0.0)
    grad[:, 3] = (
        digamma(b + x + s) - digamma(a + b + x + s) - digamma(b) + digamma(a + b) + s1_grad_b
    )
    return ll, grad


def _alive_state(
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    modified: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Return P(alive) ``(n,)`` and the normalised phase weights ``(n, k)`` given alive."""
    k, r, alpha, a, b = _split(params)
    log_s1 = _log_dropout_odds(k, r, alpha, a, b, x, t_x, T, modified)
    log_c = _phase_terms(k, r, alpha, x, t_x, T)
    log_s2 = logsumexp(log_c, axis=1)
    alive = expit(log_s2 - log_s1)
    return np.asarray(alive), np.exp(log_c - log_s2[:, None])


def proba_alive(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, modified: bool = True
) -> np.ndarray:
    r"""Return P(alive at T | x, t_x, T): BTYDplus' ``xbgcnbd.PAlive``.

    .. math::

        P(\text{alive}) = \left[1 + S_1 \Big/ \sum_{j=0}^{k-1} c_j\right]^{-1}.

    Returns
    -------
    numpy.ndarray
        Probabilities in ``[0, 1]``.
    """
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    shape = x.shape
    alive, _ = _alive_state(params, x.ravel(), t_x.ravel(), T.ravel(), modified)
    return alive.reshape(shape)


def _future_purchases(
    rho: np.ndarray,
    z: np.ndarray,
    phase: np.ndarray,
    k: int,
    a: float,
    b_post: np.ndarray,
    log_d0: np.ndarray,
) -> np.ndarray:
    r"""Return :math:`\sum_{m \ge 1} D_{m-1} P(N \ge mk - j)` per row.

    :math:`N \sim \mathrm{NB}(\rho, z)` counts the Poisson events in the
    horizon (:math:`P(N \ge c) = I_z(c, \rho)`), ``j`` is the phase, and
    :math:`D_{m-1} = e^{\log d_0} \, B(a, b' + m - 1) / B(a, b')` the
    probability of surviving the dropout chances before purchase ``m``.
    Summed in chunks of purchases, each row until its tail is negligible.
    """
    n = len(rho)
    out = np.zeros(n)
    todo = np.flatnonzero(z > 0)
    log_d = log_d0.astype(np.float64).copy()  # log D_{m-1} at the chunk's first m
    first = 1
    steps = np.arange(_CHUNK, dtype=np.float64)
    while todo.size and first <= _MAX_PURCHASES:
        m = first + steps  # (C,)
        c = m[None, :] * k - phase[todo, None]  # >= 1 since 0 <= phase < k
        tail = betainc(c, rho[todo, None], z[todo, None])
        bp = b_post[todo, None]
        # log D_{m-1} within the chunk: cumulative log((b' + i) / (a + b' + i))
        step_log = np.log(bp + m[None, :] - 1.0) - np.log(a + bp + m[None, :] - 1.0)
        log_dm = log_d[todo, None] + np.concatenate(
            [np.zeros((len(todo), 1)), np.cumsum(step_log[:, :-1], axis=1)], axis=1
        )
        out[todo] += np.einsum("ij,ij->i", np.exp(log_dm), tail)
        log_d[todo] = log_dm[:, -1] + step_log[:, -1]
        first += _CHUNK
        todo = todo[tail[:, -1] > _TAIL]
    return out


def _compressed(*arrays: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Return the unique rows of ``arrays`` and the codes that expand them back."""
    codes, uniques = pd.factorize(pd.MultiIndex.from_arrays(list(arrays)))
    return [uniques.get_level_values(i).to_numpy(np.float64) for i in range(len(arrays))], codes


def expected_purchases(
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    t: float,
    *,
    modified: bool = True,
) -> np.ndarray:
    r"""Return E[purchases in (T, T + t] | x, t_x, T], exactly.

    Given alive, the rate and the phase ``j`` (Poisson events since the last
    purchase, :math:`0 \le j < k`) have the posterior
    :math:`P(j) \propto c_j`, :math:`\lambda \mid j \sim
    \mathrm{Gamma}(r + kx + j, \alpha + T)`, and the dropout probability
    :math:`p \sim \mathrm{Beta}(a, b + x + s)`. Purchase :math:`m` of the
    horizon happens when :math:`N(t) + j \ge mk` and the customer survived
    the :math:`m - 1` dropout chances before it, so

    .. math::

        E = P(\text{alive}) \sum_j P(j) \sum_{m \ge 1}
            \frac{B(a, b + x + s + m - 1)}{B(a, b + x + s)}
            P(N_j(t) \ge mk - j),

    with :math:`N_j(t)` negative binomial (shape :math:`r + kx + j`,
    :math:`z = t / (\alpha + T + t)`). For ``k = 1`` this is the MBG/NBD
    expectation.

    Returns
    -------
    numpy.ndarray
        Expected purchases per customer.
    """
    k, r, alpha, a, b = _split(params)
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    shape = x.shape
    if t <= 0 or x.size == 0:
        return np.zeros(shape)
    (ux, utx, uT), codes = _compressed(x.ravel(), t_x.ravel(), T.ravel())
    alive, phase_w = _alive_state(params, ux, utx, uT, modified)
    s = 1.0 if modified else 0.0
    # Given the phase, the series depends on (x, T) only, not on t_x.
    (vx, vT), pair = _compressed(ux, uT)
    z = t / (alpha + vT + t)
    total = np.zeros(len(ux))
    for j in range(k):
        rho = r + k * vx + j
        series = _future_purchases(
            rho, z, np.full(len(vx), float(j)), k, a, b + vx + s, np.zeros(len(vx))
        )
        total += phase_w[:, j] * series[pair]
    return (alive * total)[codes].reshape(shape)


def _gamma_nodes(rho: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (summing to 1) of a Gauss rule for E[f(U)], U ~ Gamma(rho, 1).

    Generalised Gauss-Laguerre up to rho = 30; beyond, where its weights
    overflow, Gauss-Hermite in log U about the mode log(rho) with scale
    rho^(-1/2), reweighted by the exact density of log U.
    """
    if rho <= 30.0:
        u, w = roots_genlaguerre(n, rho - 1.0)
        return u, w / w.sum()
    z, wh = roots_hermitenorm(n)
    scale = 1.0 / math.sqrt(rho)
    y = math.log(rho) + z * scale
    log_w = np.log(wh) + rho * y - np.exp(y) - math.lgamma(rho) + z**2 / 2 + math.log(scale)
    w = np.exp(log_w - log_w.max())
    return np.exp(y), w / w.sum()


def dert(
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    discount_rate: float,
    *,
    modified: bool = True,
    n_nodes: int = 48,
) -> np.ndarray:
    r"""Return the discounted expected residual purchases (DERT) of each customer.

    :math:`\mathrm{DERT} = E[\sum_m e^{-\delta \tau_m}]` over the future purchase
    times :math:`\tau_m`. Given the phase ``j``, the rate and the dropout
    probability, purchase ``m`` comes after :math:`mk - j` Poisson events, so
    :math:`E[e^{-\delta\tau_m}] = q^{mk - j}` with :math:`q = \lambda / (\lambda +
    \delta)`, and it happens if the :math:`m - 1` dropout chances before it
    were survived. Summing over :math:`m` and :math:`p \sim \mathrm{Beta}(a, b')`,

    .. math::

        \mathrm{DERT} = P(\text{alive}) \sum_j P(j)\,
            E_\lambda\left[q^{k - j}\,{}_2F_1(1, b'; a + b'; q^k)\right],
        \qquad \lambda \sim \mathrm{Gamma}(r + kx + j, \alpha + T),

    with :math:`b' = b + x + s`; the expectation over :math:`\lambda` by Gauss
    quadrature (:func:`_gamma_nodes`). This avoids the conditional
    expectation at horizons of thousands of periods, which an integral over
    time would need.

    Returns
    -------
    numpy.ndarray
    """
    k, r, alpha, a, b = _split(params)
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    shape = x.shape
    (ux, utx, uT), codes = _compressed(x.ravel(), t_x.ravel(), T.ravel())
    alive, phase_w = _alive_state(params, ux, utx, uT, modified)
    s = 1.0 if modified else 0.0
    # The expectation over the rate depends on (x, T) only, not on t_x.
    (vx, vT), pair = _compressed(ux, uT)
    b_post = b + vx + s
    total = np.zeros(len(ux))
    for j in range(k):
        rho = r + k * vx + j
        inner = np.empty(len(vx))
        for value in np.unique(rho):
            rows = np.flatnonzero(rho == value)
            u, w = _gamma_nodes(float(value), n_nodes)
            lam = u[None, :] / (alpha + vT[rows, None])
            q = lam / (lam + discount_rate)
            bp = b_post[rows, None]
            inner[rows] = (q ** (k - j) * hyp2f1(1.0, bp, a + bp, q**k)) @ w
        total += phase_w[:, j] * inner[pair]
    return (alive * total)[codes].reshape(shape)


def proba_no_purchase(
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    t: float,
    *,
    modified: bool = True,
) -> np.ndarray:
    r"""Return P(no purchase in (T, T + t] | x, t_x, T).

    A customer alive at :math:`T` cannot drop out before their next purchase,
    which comes when :math:`N_j(t) \ge k - j`:

    .. math::

        P_0(t) = 1 - P(\text{alive}) \sum_j P(j)\, I_z(k - j, r + kx + j).

    Returns
    -------
    numpy.ndarray
        Probabilities in ``[0, 1]``.
    """
    k, r, alpha, _, _ = _split(params)
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    shape = x.shape
    x, t_x, T = x.ravel(), t_x.ravel(), T.ravel()
    alive, phase_w = _alive_state(params, x, t_x, T, modified)
    z = t / (alpha + T + t)
    buy = np.zeros(len(x))
    for j in range(k):
        buy += phase_w[:, j] * betainc(float(k - j), r + k * x + j, z)
    return np.clip(1.0 - alive * buy, 0.0, 1.0).reshape(shape)


def expected_purchases_new_customer(
    params: np.ndarray, t: np.ndarray | float, *, modified: bool = True
) -> np.ndarray:
    r"""Return E[X(t)] of a new customer (BTYDplus' ``xbgcnbd.Expectation``).

    At the first purchase the phase is 0 and, for MBG, the first dropout
    chance has just passed:

    .. math::

        E[X(t)] = \sum_{m \ge 1} \frac{B(a, b + m - 1 + s)}{B(a, b)}
            I_{t / (\alpha + t)}(mk, r).

    Parameters
    ----------
    t : float or numpy.ndarray
        Ages (>= 0).

    Returns
    -------
    numpy.ndarray
        Same shape as ``t``.
    """
    k, r, alpha, a, b = _split(params)
    ages = np.asarray(t, dtype=np.float64)
    flat = ages.ravel()
    s = 1.0 if modified else 0.0
    log_d0 = np.full(len(flat), math.log(b / (a + b)) if modified else 0.0)
    out = _future_purchases(
        np.full(len(flat), r),
        flat / (alpha + flat),
        np.zeros(len(flat)),
        k,
        a,
        np.full(len(flat), b + s),
        log_d0,
    )
    return out.reshape(ages.shape)


def pmf_new_customer(
    params: np.ndarray, t: float, x: np.ndarray | int, *, modified: bool = True
) -> np.ndarray:
    r"""Return P(X(t) = x) for a new customer: BTYDplus' ``xbgcnbd_pmf_cpp``.

    .. math::

        P(X(t) = x) = \frac{B(a, b + x + s)}{B(a, b)} \Big[
            \sum_{i = kx}^{kx + k - 1} \mathrm{NB}(i)
            + \frac{a}{b + x - 1 + s} \Big(1 - \sum_{i < kx} \mathrm{NB}(i)\Big)\Big],

    the second term left out for BG and :math:`x = 0`, with
    :math:`\mathrm{NB}(i)` the probability of ``i`` Poisson events by ``t``.

    Returns
    -------
    numpy.ndarray
        Probabilities, shaped like ``x``.
    """
    k, r, alpha, a, b = _split(params)
    counts = np.asarray(x, dtype=np.int64)
    flat = counts.ravel()
    s = 1 if modified else 0
    survivals = flat - 1 + s
    log_p1 = (
        gammaln(b + survivals + 1) + gammaln(a + b) - gammaln(b) - gammaln(a + b + survivals + 1)
    )
    q = alpha / (alpha + t)

    def nb_cdf_below(n: np.ndarray) -> np.ndarray:
        # P(N < n) = 1 - I_{1-q}(n, r) for n >= 1, 0 for n <= 0
        return np.where(n > 0, 1.0 - betainc(np.maximum(n, 1), r, 1.0 - q), 0.0)

    in_window = nb_cdf_below(k * flat + k) - nb_cdf_below(k * flat)
    with np.errstate(divide="ignore"):
        dropped = np.where(
            (flat == 0) & (not modified),
            0.0,
            a / (b + survivals) * (1.0 - nb_cdf_below(k * flat)),
        )
    return np.asarray(np.exp(log_p1) * (in_window + dropped)).reshape(counts.shape)


def expected_purchases_btydplus(
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    t: float,
    *,
    modified: bool = True,
    bias_correction: bool = True,
) -> np.ndarray:
    r"""BTYDplus' ``xbgcnbd.ConditionalExpectedTransactions``, for comparison.

    The BG/NBD expectation with the rate scale :math:`k\alpha`,
    :math:`P(\text{alive}) \, G(r + x, k\alpha + T, a, b + x + s; t)`, then
    (for ``k > 1`` and at least 100 customers) every value multiplied by
    :math:`\sum_i (E[X(T_i + t)] - E[X(T_i)]) / \sum_i E_i`, the cohort's
    unconditional total over its conditional total. The result for one
    customer depends on the others passed with it; :func:`expected_purchases`
    does not.

    Returns
    -------
    numpy.ndarray
    """
    k, r, alpha, a, b = _split(params)
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    s = 1.0 if modified else 0.0
    if round(a, 2) == 1:
        a = a + 0.01  # as BTYDplus: its formula is undefined at a = 1
    alive = proba_alive(np.array([k, r, alpha, a, b]), x, t_x, T, modified=modified)
    value = alive * bgm.alive_expected_purchases(r + x, k * alpha + T, a, b + x + s, t)
    if bias_correction and k > 1 and x.size >= 100:
        p = np.array([k, r, alpha, a, b], dtype=np.float64)
        uT, codes = np.unique(T.ravel(), return_inverse=True)
        before = expected_purchases_new_customer(p, uT, modified=modified)[codes].sum()
        after = expected_purchases_new_customer(p, uT + t, modified=modified)[codes].sum()
        value = value * (after - before) / value.sum()
    return np.asarray(value)


def sample_customers(
    params: np.ndarray,
    T: np.ndarray,
    rng: np.random.Generator,
    *,
    modified: bool = True,
    holdout: float = 0.0,
) -> dict[str, np.ndarray]:
    r"""Simulate customers from the generative process (BTYDplus' ``xbgcnbd.GenerateData``).

    Each customer draws :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`,
    :math:`p \sim \mathrm{Beta}(a, b)` (floored at 1e-5, as BTYDplus) and the
    number of purchases made before dropping out from a geometric law
    (MBG: a dropout chance right after the first purchase too); the times
    between purchases are :math:`\mathrm{Gamma}(k, \lambda)`.

    Parameters
    ----------
    params : numpy.ndarray
        ``(k, r, alpha, a, b)``.
    T : numpy.ndarray
        Observation length of each customer after the first purchase.
    rng : numpy.random.Generator
        Random source.
    modified : bool, default=True
        MBG (True) or BG dropout.
    holdout : float, default=0.0
        Length of a holdout period after each customer's ``T``; its purchases
        are counted in ``frequency_holdout``.

    Returns
    -------
    dict of str to numpy.ndarray
        ``frequency``, ``recency``, ``T``, ``litt`` and, when ``holdout > 0``,
        ``frequency_holdout``.
    """
    k, r, alpha, a, b = _split(params)
    T = np.asarray(T, dtype=np.float64)
    n = len(T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = np.maximum(rng.beta(a, b, n), 1e-5)
    allowed = np.minimum(rng.geometric(p) - 1, 100_000).astype(np.float64)  # failures before 1st
    if not modified:
        allowed = allowed + 1.0
    end = T + holdout
    clock = np.zeros(n)
    made = np.zeros(n)
    frequency = np.zeros(n, dtype=np.int64)
    recency = np.zeros(n)
    litt = np.zeros(n)
    later = np.zeros(n, dtype=np.int64)
    todo = np.flatnonzero(allowed > 0)
    while todo.size:
        gap = rng.gamma(k, 1.0 / lam[todo])
        clock[todo] += gap
        inside = clock[todo] <= end[todo]
        todo, gap = todo[inside], gap[inside]
        calibration = clock[todo] <= T[todo]
        cal = todo[calibration]
        frequency[cal] += 1
        recency[cal] = clock[cal]
        litt[cal] += np.log(gap[calibration])
        later[todo[~calibration]] += 1
        made[todo] += 1
        todo = todo[made[todo] < allowed[todo]]
    out = {"frequency": frequency, "recency": recency, "T": T, "litt": litt}
    if holdout > 0:
        out["frequency_holdout"] = later
    return out
