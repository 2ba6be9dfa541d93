r"""BG/BB (beta-geometric/beta-Bernoulli) model: log-likelihood, gradient and predictions.

Fader, Hardie and Shang (2010), "Customer-Base Analysis in a Discrete-Time
Noncontractual Setting", Marketing Science 29 (6), 1086-1108.

A customer's history is ``(x, t_x, n)``: ``x`` transactions in the ``n``
transaction opportunities after the first purchase, the last one at
opportunity ``t_x`` (0 when ``x == 0``). The likelihood (written out in the
Notes of :class:`~custintel.clv.BetaGeoBetaBinomModel`) is the chance of
being alive through all ``n`` opportunities plus a sum over the opportunity
at which the customer died. The terms of the sum decrease in ``i``, so each
customer's partial sums are taken relative to the first term and never
underflow. Customers who share ``(x, t_x)`` share the terms of the sum, so it
is computed once per pair up to the longest ``n - t_x`` among them and read
off at each customer's length.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, digamma, gammaln

__all__ = [
    "bgbb_loglik",
    "expected_purchases",
    "expected_purchases_new_customer",
    "log_sum_beta",
    "loglik_and_gradient",
    "proba_alive",
    "proba_no_purchase",
    "proba_purchases_new_customer",
    "sample_customers",
    "whole_numbers",
]

_CHUNK_ELEMENTS = 1 << 20  # cap on the (pairs x terms) grid built at once
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)


def bgbb_loglik(
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    n: np.ndarray,
    *,
    gradient: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the per-customer BG/BB log-likelihood and its gradient.

    Parameters
    ----------
    params : numpy.ndarray
        ``(alpha, beta, gamma, delta)``, all positive.
    x, t_x, n : numpy.ndarray
        Whole-number frequency, recency and opportunities with
        ``0 <= x <= t_x <= n`` (``t_x == 0`` exactly when ``x == 0``).
    gradient : bool, default=True
        Whether to compute the gradient.

    Returns
    -------
    ll : numpy.ndarray
        Shape ``(m,)``.
    grad : numpy.ndarray or None
        Shape ``(m, 4)``: derivatives with respect to ``alpha``, ``beta``,
        ``gamma`` and ``delta``; ``None`` when ``gradient`` is false.
    """
    alpha, beta, gamma, delta = (float(v) for v in params)
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    const = betaln(alpha, beta) + betaln(gamma, delta)

    # Alive through all n opportunities.
    log_a = betaln(alpha + x, beta + (n - x)) + betaln(gamma, delta + n) - const
    # Died at the start of opportunity t_x + i + 1, i = 0 .. n - t_x - 1: the sum
    # is exp(log_b0) * ratio_sum, with ratio_sum >= 1 whenever there are terms.
    log_b0 = betaln(alpha + x, beta + (t_x - x)) + betaln(gamma + 1, delta + t_x) - const
    sums = _death_sums((alpha, beta, gamma, delta), x, t_x, n, gradient=gradient)
    ratio_sum = sums[0]
    has_terms = ratio_sum > 0
    with np.errstate(divide="ignore"):
        log_b = np.where(has_terms, log_b0 + np.log(np.where(has_terms, ratio_sum, 1.0)), -np.inf)
    ll = np.logaddexp(log_a, log_b)
    if not gradient:
        return ll, None

    w_a = np.exp(log_a - ll)  # posterior probability of "alive at n"
    w_b = np.where(has_terms, np.exp(log_b - ll), 0.0)
    safe_sum = np.where(has_terms, ratio_sum, 1.0)
    # Term-weighted means of the parts of d log(term) that vary with i.
    mean_ab, mean_b, mean_gd, mean_d = (s / safe_sum for s in sums[1:])

    psi_ab = digamma(alpha + beta)
    psi_gd = digamma(gamma + delta)
    grad = np.empty((len(ll), 4))
    # d/d alpha: psi(alpha + x) - psi(alpha + beta + j) - psi(alpha) + psi(alpha + beta)
    grad[:, 0] = (
        digamma(alpha + x)
        - digamma(alpha)
        + psi_ab
        - w_a * digamma(alpha + beta + n)
        - w_b * mean_ab
    )
    # d/d beta: psi(beta + j - x) - psi(alpha + beta + j) - psi(beta) + psi(alpha + beta)
    grad[:, 1] = (
        w_a * (digamma(beta + (n - x)) - digamma(alpha + beta + n))
        + w_b * mean_b
        - digamma(beta)
        + psi_ab
    )
    # d/d gamma: the alive term has psi(gamma), the death terms psi(gamma + 1); the
    # common -psi(gamma) is folded in as 1/gamma so tiny gamma does not cancel badly.
    grad[:, 2] = w_a * (psi_gd - digamma(gamma + delta + n)) + w_b * (
        1.0 / gamma + psi_gd - mean_gd
    )
    # d/d delta: psi(delta + j) - psi(gamma + delta + j [+ 1]) - psi(delta) + psi(gamma + delta)
    grad[:, 3] = (
        w_a * (digamma(delta + n) - digamma(gamma + delta + n))
        + w_b * mean_d
        - digamma(delta)
        + psi_gd
    )
    return ll, grad


def _death_sums(
    params: tuple[float, float, float, float],
    x: np.ndarray,
    t_x: np.ndarray,
    n: np.ndarray,
    *,
    gradient: bool,
) -> list[np.ndarray]:
    """Partial sums over the death terms, relative to the first term.

    Returns ``[S, S_ab, S_b, S_gd, S_d]`` per customer, where ``S`` is
    ``sum_i r_i`` with ``r_i = term_i / term_0`` over ``i < n - t_x`` and the
    others are ``sum_i r_i * v_i`` for the varying parts ``v_i`` of the
    gradient: ``psi(alpha + beta + j)``, ``psi(beta + j - x) - psi(alpha + beta + j)``,
    ``psi(gamma + delta + j + 1)`` and ``psi(delta + j) - psi(gamma + delta + j + 1)``
    with ``j = t_x + i``. Only ``S`` is filled when ``gradient`` is false.
    """
    m = len(x)
    k = (n - t_x).astype(np.int64)  # number of death terms per customer
    out = [np.zeros(m) for _ in range(5 if gradient else 1)]
    if m == 0 or k.max(initial=0) <= 0:
        return out
    pairs, pair_of_row = _unique_pairs(x, t_x)
    longest = np.zeros(len(pairs), dtype=np.int64)
    np.maximum.at(longest, pair_of_row, k)

    # Process pairs from short to long so each chunk's grid is nearly full.
    pair_order = np.argsort(longest, kind="stable")
    rank = np.empty_like(pair_order)
    rank[pair_order] = np.arange(len(pair_order))
    row_order = np.argsort(rank[pair_of_row], kind="stable")
    row_rank = rank[pair_of_row][row_order]
    start = 0
    while start < len(pair_order):
        width = max(int(longest[pair_order[start]]), 1)
        stop = start + 1
        while stop < len(pair_order):
            width_next = max(int(longest[pair_order[stop]]), 1)
            if (stop + 1 - start) * width_next > _CHUNK_ELEMENTS:
                break
            width = width_next
            stop += 1
        chunk = pair_order[start:stop]
        rows = row_order[np.searchsorted(row_rank, start) : np.searchsorted(row_rank, stop)]
        if width > 0 and longest[chunk].max() > 0:
            cumulative = _chunk_prefix_sums(
                params, pairs[chunk, 0], pairs[chunk, 1], width, gradient=gradient
            )
            local = rank[pair_of_row[rows]] - start
            take = k[rows] - 1
            valid = take >= 0
            for target, table in zip(out, cumulative, strict=True):
                target[rows[valid]] = table[local[valid], take[valid]]
        start = stop
    return out


def _unique_pairs(x: np.ndarray, t_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the unique ``(x, t_x)`` rows and each customer's row in them."""
    span = float(x.max()) + 1.0
    if span * (float(t_x.max()) + 1.0) < 2.0**62:
        # one integer key sorts far faster than np.unique(axis=0) on a million rows
        key = t_x.astype(np.int64) * np.int64(span) + x.astype(np.int64)
        unique, inverse = np.unique(key, return_inverse=True)
        pairs = np.column_stack([unique % np.int64(span), unique // np.int64(span)])
        return pairs.astype(np.float64), inverse.ravel()
    pairs, inverse = np.unique(np.column_stack([x, t_x]), axis=0, return_inverse=True)
    return pairs, inverse.ravel()


def _chunk_prefix_sums(
    params: tuple[float, float, float, float],
    x: np.ndarray,
    t_x: np.ndarray,
    width: int,
    *,
    gradient: bool,
) -> list[np.ndarray]:
    """Cumulative sums along ``i`` of the relative death terms for a chunk of ``(x, t_x)`` pairs."""
    alpha, beta, gamma, delta = params
    i = np.arange(width, dtype=np.float64)[None, :]
    j = t_x[:, None] + i
    xx = x[:, None]
    # term_{i+1} / term_i = (beta + j - x) / (alpha + beta + j) * (delta + j) /
    # (gamma + delta + j + 1);
    # betaln differences instead of a cumulative product keep the error from growing with i.
    log_r = (
        betaln(alpha + xx, beta + (j - xx))
        - betaln(alpha + xx, beta + (t_x[:, None] - xx))
        + betaln(gamma + 1, delta + j)
        - betaln(gamma + 1, delta + t_x[:, None])
    )
    r = np.exp(log_r)
    tables = [np.cumsum(r, axis=1)]
    if gradient:
        psi_abj = digamma(alpha + beta + j)
        psi_gdj = digamma(gamma + delta + j + 1)
        tables.append(np.cumsum(r * psi_abj, axis=1))
        tables.append(np.cumsum(r * (digamma(beta + (j - xx)) - psi_abj), axis=1))
        tables.append(np.cumsum(r * psi_gdj, axis=1))
        tables.append(np.cumsum(r * (digamma(delta + j) - psi_gdj), axis=1))
    return tables


def log_sum_beta(gamma: float, delta: float, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    r"""Return :math:`\ln \sum_{s=1}^{m} B(\gamma, \delta + n + s)`, stable for every ``gamma``.

    The sum telescopes to :math:`B(\gamma - 1, b) - B(\gamma - 1, b + m)` with
    :math:`b = \delta + n + 1`, which is 0/0 at :math:`\gamma = 1`. Writing
    :math:`\varepsilon = \gamma - 1`,

    .. math::

        \sum = \Gamma(\gamma) \frac{\Gamma(b)}{\Gamma(b + \varepsilon)}
               \frac{1 - e^{-\varepsilon \bar g}}{\varepsilon},
        \qquad
        \bar g = \frac{1}{\varepsilon} \int_0^\varepsilon
                 \left[\psi(b + m + s) - \psi(b + s)\right] ds,

    with :math:`\bar g` by 16-point Gauss-Legendre quadrature when
    :math:`|\varepsilon|` is small relative to ``max(2, b)`` (no cancellation)
    and from log-gamma differences otherwise.

    Parameters
    ----------
    gamma, delta : float
        Positive parameters.
    n : numpy.ndarray
        Opportunities already observed (``>= 0``).
    m : numpy.ndarray
        Number of further opportunities (whole numbers ``>= 0``); broadcast with ``n``.

    Returns
    -------
    numpy.ndarray
        The log of the sum; ``-inf`` where ``m == 0``.
    """
    n, m = np.broadcast_arrays(np.asarray(n, dtype=np.float64), np.asarray(m, dtype=np.float64))
    b = delta + n + 1.0
    eps = gamma - 1.0
    quadrature = abs(eps) <= np.maximum(0.5, 0.25 * b)
    gbar = np.empty_like(b)
    if quadrature.any():
        bq, mq = b[quadrature][:, None], m[quadrature][:, None]
        s = 0.5 * eps * (_NODES + 1.0)[None, :]
        gbar[quadrature] = 0.5 * ((digamma(bq + mq + s) - digamma(bq + s)) @ _WEIGHTS)
    if (~quadrature).any():
        bd, md = b[~quadrature], m[~quadrature]
        d = gammaln(bd + md) - gammaln(bd + md + eps) - gammaln(bd) + gammaln(bd + eps)
        gbar[~quadrature] = -d / eps
    ratio = gbar if eps == 0.0 else -np.expm1(-eps * gbar) / eps
    with np.errstate(divide="ignore"):
        log_ratio = np.where(m > 0, np.log(np.where(m > 0, ratio, 1.0)), -np.inf)
    return gammaln(gamma) + gammaln(b) - gammaln(b + eps) + log_ratio


# --- predictions (Fader, Hardie and Shang 2010, equations 7, 11 and 13) ---------------------


def whole_numbers(value: Any, name: str) -> np.ndarray:
    """Return ``value`` as a float array of whole numbers ``>= 0`` or raise ``ValueError``."""
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)) or (array < 0).any() or (array != np.round(array)).any():
        raise ValueError(
            f"{name} must be a whole number of transaction opportunities >= 0 "
            f"(the BG/BB model runs in discrete time), got {value!r}"
        )
    return array


def loglik_and_gradient(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return :func:`bgbb_loglik` with its gradient, which is then never ``None``."""
    ll, grad = bgbb_loglik(params, x, t_x, n)
    assert grad is not None
    return ll, grad


def expected_purchases(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, n: np.ndarray, t: float
) -> np.ndarray:
    """Return the expected transactions in the next ``t`` opportunities, given ``(x, t_x, n)``."""
    horizon = float(t)
    alpha, beta, gamma, delta = params
    ll, _ = bgbb_loglik(params, x, t_x, n, gradient=False)
    unique_n, inverse = np.unique(n, return_inverse=True)
    log_sum = log_sum_beta(gamma, delta, unique_n, np.full_like(unique_n, horizon))
    log_e = (
        betaln(alpha + x + 1, beta + (n - x))
        - betaln(alpha, beta)
        - betaln(gamma, delta)
        + log_sum[inverse.ravel()]
        - ll
    )
    return np.minimum(np.exp(log_e), horizon)  # at most one transaction per opportunity


def proba_alive(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, n: np.ndarray, periods_ahead: float = 1
) -> np.ndarray:
    r"""Return P(alive at opportunity ``n + periods_ahead``) per customer.

    Fader, Hardie and Shang (2010), eq. 11 and (A10):

    .. math::

        P(\text{alive at } n + m) = \frac{B(\alpha + x, \beta + n - x)}{B(\alpha, \beta)}
            \frac{B(\gamma, \delta + n + m)}{B(\gamma, \delta)} \Big/ L(x, t_x, n),

    the chance of the history with the customer alive through opportunity
    ``n + m``; ``m = 0`` is P(alive at the last opportunity observed).
    """
    alpha, beta, gamma, delta = params
    ll, _ = bgbb_loglik(params, x, t_x, n, gradient=False)
    log_alive = (
        betaln(alpha + x, beta + (n - x))
        - betaln(alpha, beta)
        + betaln(gamma, delta + n + periods_ahead)
        - betaln(gamma, delta)
        - ll
    )
    return np.minimum(np.exp(log_alive), 1.0)


def proba_no_purchase(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, n: np.ndarray, t: float
) -> np.ndarray:
    """Return P(no transaction in the next ``t`` opportunities), ``L(n + t) / L(n)``."""
    ll_now, _ = bgbb_loglik(params, x, t_x, n, gradient=False)
    ll_later, _ = bgbb_loglik(params, x, t_x, n + float(t), gradient=False)
    return np.clip(np.exp(ll_later - ll_now), 0.0, 1.0)


def expected_purchases_new_customer(params: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Return :math:`E[X(n)]`, a new customer's expected transactions in ``n`` opportunities."""
    alpha, beta, gamma, delta = params
    flat = n.ravel()
    log_sum = log_sum_beta(gamma, delta, np.zeros_like(flat), flat)
    expected = alpha / (alpha + beta) * np.exp(log_sum - betaln(gamma, delta))
    return expected.reshape(n.shape)


def proba_purchases_new_customer(params: np.ndarray, n: np.ndarray, x: np.ndarray) -> np.ndarray:
    r"""Return :math:`P(X(n) = x)`: ``x`` transactions of a new customer in ``n`` opportunities.

    Fader, Hardie and Shang (2010), eq. 8: alive through all ``n``
    opportunities and transacting at ``x`` of them, or alive through
    opportunity ``i`` (``x <= i < n``), dead from ``i + 1`` on and
    transacting at ``x`` of the first ``i``:

    .. math::

        P(X(n) = x) = \binom{n}{x} \frac{B(\alpha + x, \beta + n - x)}{B(\alpha, \beta)}
                \frac{B(\gamma, \delta + n)}{B(\gamma, \delta)}
            + \sum_{i = x}^{n - 1} \binom{i}{x}
                \frac{B(\alpha + x, \beta + i - x)}{B(\alpha, \beta)}
                \frac{B(\gamma + 1, \delta + i)}{B(\gamma, \delta)}.

    Parameters
    ----------
    params : numpy.ndarray
        ``(alpha, beta, gamma, delta)``.
    n, x : numpy.ndarray
        Whole numbers of opportunities and of transactions, broadcast together.

    Returns
    -------
    numpy.ndarray
        Probabilities (0 where ``x > n``).
    """
    alpha, beta, gamma, delta = (float(v) for v in params)
    n_b, x_b = np.broadcast_arrays(np.asarray(n, dtype=np.float64), np.asarray(x, dtype=np.float64))
    const = betaln(alpha, beta) + betaln(gamma, delta)
    possible = x_b <= n_b
    xs = np.where(possible, x_b, 0.0)

    def log_choose(top: np.ndarray, k: np.ndarray) -> np.ndarray:
        return np.asarray(gammaln(top + 1.0) - gammaln(k + 1.0) - gammaln(top - k + 1.0))

    total = np.exp(
        log_choose(n_b, xs)
        + betaln(alpha + xs, beta + (n_b - xs))
        + betaln(gamma, delta + n_b)
        - const
    )
    for i in range(int(n_b.max(initial=0.0))):
        use = possible & (xs <= i) & (i < n_b)
        if not use.any():
            continue
        ii = np.full_like(xs, float(i))
        term = np.exp(
            log_choose(ii, np.minimum(xs, ii))
            + betaln(alpha + xs, beta + np.maximum(ii - xs, 0.0))
            + betaln(gamma + 1.0, delta + ii)
            - const
        )
        total = total + np.where(use, term, 0.0)
    return np.where(possible, np.clip(total, 0.0, 1.0), 0.0)


def sample_customers(
    params: np.ndarray, T: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Simulate ``(frequency, recency, T)`` of customers observed for ``T`` opportunities."""
    n = whole_numbers(T, "T")
    alpha, beta, gamma, delta = params
    size = len(n)
    p = rng.beta(alpha, beta, size)
    theta = rng.beta(gamma, delta, size)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Opportunities survived: P(alive at opportunity k) = (1 - theta)^k.
        survived = np.log(1.0 - rng.random(size)) / np.log1p(-theta)
        survived = np.nan_to_num(survived, nan=np.inf, posinf=np.inf)
        alive = np.minimum(np.floor(survived), n)
        # At least one transaction among the alive opportunities?
        any_prob = -np.expm1(alive * np.log1p(-p))
        buys = rng.random(size) < any_prob
        # Trailing opportunities without a transaction: truncated geometric on 0..alive-1.
        tail = np.ceil(np.log1p(-rng.random(size) * any_prob) / np.log1p(-p)) - 1.0
        tail = np.nan_to_num(tail, nan=0.0, posinf=0.0, neginf=0.0)
    tail = np.clip(tail, 0.0, np.maximum(alive - 1.0, 0.0))
    recency = np.where(buys, alive - tail, 0.0).astype(np.int64)
    before_last = np.maximum(recency - 1, 0)
    frequency = np.where(buys, 1 + rng.binomial(before_last, np.clip(p, 0.0, 1.0)), 0)
    return {
        "frequency": frequency.astype(np.int64),
        "recency": recency,
        "T": n.astype(np.int64),
    }
