r"""BG/NBD and MBG/NBD purchase models: likelihood, gradient and predictions (pure maths).

Both models share one structure. While alive, a customer's repeat purchases
follow a Poisson process with rate :math:`\lambda \sim \mathrm{Gamma}(r,
\alpha)`; the customer drops out for good with probability :math:`p \sim
\mathrm{Beta}(a, b)` right after each repeat purchase (BG/NBD, Fader, Hardie
and Lee 2005) or right after every purchase including the first one
(MBG/NBD, Batislam, Denizel and Filiztekin 2007). The only difference in the
formulas is a shift ``s`` of the Beta parameter: ``s = 0`` for BG/NBD and
``s = 1`` for MBG/NBD, and BG/NBD customers without a repeat purchase cannot
have dropped out.

Unless its docstring says otherwise, every function takes these arguments:

``params`` : numpy.ndarray
    The natural parameters ``(r, alpha, a, b)``.
``x``, ``t_x``, ``T`` : numpy.ndarray
    Each customer's repeat purchases, recency and age.
``t`` : float
    A horizon (``>= 0``).
``modified`` : bool
    MBG/NBD instead of BG/NBD (BG/NBD where a function lets it default).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import integrate
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from custintel.clv._counts import nbd_log_pmf, nbd_sf

__all__ = [
    "BetaGeoStats",
    "alive_expected_purchases",
    "alive_proba_purchases",
    "beta_geo_loglik",
    "beta_geo_stats",
    "beta_geo_total_loglik",
    "expected_purchases",
    "expected_purchases_new_customer",
    "log_odds_dead",
    "proba_alive",
    "proba_no_purchase",
    "proba_purchases",
    "proba_purchases_new_customer",
    "sample_beta_geo",
]

_MAX_TABLE = 1_000_000  # largest count for which per-count terms are tabulated


def _per_count(x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the values to evaluate count-only terms at, and how to spread them.

    Repeat-purchase counts are small integers shared by many customers, so the
    log-gamma and digamma terms that depend on ``x`` alone are computed once per
    count and gathered, rather than once per customer.
    """
    if x.size == 0:
        return x, None
    top = float(x.max())
    if x.min() >= 0 and top <= _MAX_TABLE and top < 4 * x.size and np.all(x == np.floor(x)):
        return np.arange(int(top) + 1, dtype=np.float64), x.astype(np.intp)
    return x, None


class _CountTerms(NamedTuple):
    """Likelihood terms that depend on the repeat-purchase count ``x`` alone."""

    lg: np.ndarray  # log Gamma(r+x)/Gamma(r) + log B(a, b+x+s)/B(a, b)
    psi_r: np.ndarray  # psi(r+x) - psi(r)
    psi_ab: np.ndarray  # psi(a+b+x+s) - psi(a+b)
    psi_b_ab: np.ndarray  # psi(b+x+s) - psi(b) - psi_ab
    inv_denominator: np.ndarray  # 1 / (b + x + s - 1)
    odds_const: np.ndarray  # log(a / (b + x + s - 1)); -inf for BG/NBD at x = 0


def _count_terms(params: np.ndarray, counts: np.ndarray, *, modified: bool) -> _CountTerms:
    r, _, a, b = params
    s = 1.0 if modified else 0.0
    psi_ab = digamma(a + b + counts + s) - digamma(a + b)
    lg = (
        gammaln(r + counts)
        - gammaln(r)
        + gammaln(b + counts + s)
        - gammaln(b)
        - gammaln(a + b + counts + s)
        + gammaln(a + b)
    )
    denominator = b + (counts + s - 1 if modified else np.maximum(counts, 1.0) - 1)
    odds_const = np.log(a) - np.log(denominator)
    if not modified:  # BG/NBD customers without a repeat purchase cannot have dropped out
        odds_const = np.where(counts > 0, odds_const, -np.inf)
    return _CountTerms(
        lg=lg,
        psi_r=digamma(r + counts) - digamma(r),
        psi_ab=psi_ab,
        psi_b_ab=digamma(b + counts + s) - digamma(b) - psi_ab,
        inv_denominator=1.0 / denominator,
        odds_const=odds_const,
    )


def log_odds_dead(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, modified: bool = False
) -> np.ndarray:
    r"""Return the log-odds that a customer has dropped out, given their history.

    .. math::

        D = \ln\frac{a}{b + x + s - 1} + (r + x)\ln\frac{\alpha + T}{\alpha + t_x}

    so that :math:`P(\text{alive}) = 1 / (1 + e^D)`. For BG/NBD (``s = 0``)
    a customer with ``x = 0`` cannot have dropped out: :math:`D = -\infty`.

    Returns
    -------
    numpy.ndarray
        Log-odds per customer.
    """
    r, alpha, a, b = params
    s = 1.0 if modified else 0.0
    x = np.asarray(x, dtype=np.float64)
    denominator = b + (x + s - 1 if modified else np.maximum(x, 1.0) - 1)
    # log((alpha + T) / (alpha + t_x)) without cancellation when T is large
    log_ratio = np.log1p((T - t_x) / (alpha + t_x))
    odds = np.log(a) - np.log(denominator) + (r + x) * log_ratio
    if not modified:
        odds = np.where(x > 0, odds, -np.inf)
    return np.asarray(odds, dtype=np.float64)


def beta_geo_loglik(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, modified: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    r"""Return the per-customer log-likelihood of ``(x, t_x, T)`` and its gradient.

    With :math:`s = 0` (BG/NBD) or :math:`s = 1` (MBG/NBD), :math:`\delta = 1`
    except for BG/NBD customers with :math:`x = 0`, and :math:`D` from
    :func:`log_odds_dead`,

    .. math::

        \ell = \ln\frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)}
             + \ln\frac{B(a, b + x + s)}{B(a, b)}
             - (r + x)\ln(\alpha + T) + \ln\left(1 + \delta e^{D}\right).

    With :math:`w = \delta/(1 + e^{-D})`, the posterior probability that the
    customer has dropped out, the gradient is

    .. math::

        \partial_r \ell &= \psi(r + x) - \psi(r) + \ln\alpha
            - (1 - w)\ln(\alpha + T) - w\ln(\alpha + t_x) \\
        \partial_\alpha \ell &= \frac{r}{\alpha}
            - (r + x)\left[\frac{1 - w}{\alpha + T} + \frac{w}{\alpha + t_x}\right] \\
        \partial_a \ell &= \psi(a + b) - \psi(a + b + x + s) + \frac{w}{a} \\
        \partial_b \ell &= \psi(a + b) - \psi(a + b + x + s) + \psi(b + x + s)
            - \psi(b) - \frac{w}{b + x + s - 1}.

    Parameters
    ----------
    params : sequence of float or numpy.ndarray
        ``(r, alpha, a, b)``, all positive; each may be an array of one value
        per customer (a model with covariates), broadcast against ``x``.
    x, t_x, T : numpy.ndarray
        Repeat purchases, recency and age (``0 <= t_x <= T``).

    Returns
    -------
    ll : numpy.ndarray
        Shape ``(n,)``.
    grad : numpy.ndarray
        Shape ``(n, 4)``: derivatives with respect to ``r``, ``alpha``, ``a`` and
        ``b`` (each customer's own, for per-customer parameters).
    """
    r, alpha, a, _b = params
    if any(np.ndim(p) > 0 for p in params):
        # per-customer parameters (covariates): the count-only terms are per customer too
        counts, spread = np.asarray(x, dtype=np.float64), None
    else:
        counts, spread = _per_count(np.asarray(x, dtype=np.float64))
    terms = _count_terms(params, counts, modified=modified)
    if spread is not None:
        terms = _CountTerms(*(values[spread] for values in terms))
    lg, psi_r, psi_ab, psi_b_ab, inv_denominator, odds_const = terms

    alpha_T = alpha + T
    alpha_tx = alpha + t_x
    log_alpha_T = np.log(alpha_T)
    log_ratio = log_alpha_T - np.log(alpha_tx)  # ln((alpha + T) / (alpha + t_x)) >= 0
    rx = r + x
    odds = odds_const + rx * log_ratio  # log-odds of having dropped out
    w = expit(odds)  # P(dropped out | history); 0 where odds = -inf
    log_alpha = np.log(alpha)
    ll = lg + r * log_alpha - rx * log_alpha_T + np.logaddexp(0.0, odds)

    inv_T = 1.0 / alpha_T
    grad = np.empty((4, len(ll)))  # filled row by row, returned as (n, 4)
    grad[0] = psi_r + (log_alpha - log_alpha_T) + w * log_ratio
    grad[1] = r / alpha - rx * inv_T + w * rx * (inv_T - 1.0 / alpha_tx)
    grad[2] = w / a - psi_ab
    grad[3] = psi_b_ab - w * inv_denominator
    return ll, grad.T


@dataclass(frozen=True)
class BetaGeoStats:
    """Sufficient statistics of a weighted customer table for the likelihood.

    Most of the log-likelihood sums terms that depend on the count ``x`` or on
    the age ``T`` alone, so it needs only totals per distinct count and per
    distinct age. Only the "has dropped out" term depends on ``(x, t_x, T)``
    jointly, and only for customers who can have dropped out.

    Attributes
    ----------
    n : float
        Total weight.
    counts, count_weight : numpy.ndarray
        Distinct counts and their total weight.
    ages, age_weight, age_purchases : numpy.ndarray
        Distinct ages ``T``, their total weight and weighted repeat purchases.
    recencies : numpy.ndarray
        Distinct recencies of the rows below.
    pair_age, pair_recency : numpy.ndarray
        Distinct ``(T, t_x)`` pairs of the rows below, as positions in ``ages``
        and ``recencies``.
    row_x, row_weight : numpy.ndarray
        Count and weight of each distinct ``(x, t_x, T)`` that can have dropped out.
    row_count, row_pair : numpy.ndarray
        Positions of each row's ``x`` in ``counts`` and ``(T, t_x)`` in the pairs.
    """

    n: float
    counts: np.ndarray
    count_weight: np.ndarray
    ages: np.ndarray
    age_weight: np.ndarray
    age_purchases: np.ndarray
    recencies: np.ndarray
    pair_age: np.ndarray
    pair_recency: np.ndarray
    row_x: np.ndarray
    row_weight: np.ndarray
    row_count: np.ndarray
    row_pair: np.ndarray


def beta_geo_stats(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray, *, modified: bool = False
) -> BetaGeoStats:
    """Summarise a weighted customer table for :func:`beta_geo_total_loglik`.

    Parameters
    ----------
    weights : numpy.ndarray
        Number of customers each row stands for.
    modified : bool, default=False
        MBG/NBD instead of BG/NBD (every customer can have dropped out).

    Returns
    -------
    BetaGeoStats
    """
    count_code, counts = pd.factorize(x, sort=True)
    age_code, ages = pd.factorize(T, sort=True)
    count_weight = np.bincount(count_code, weights=weights, minlength=len(counts))
    age_weight = np.bincount(age_code, weights=weights, minlength=len(ages))
    age_purchases = np.bincount(age_code, weights=weights * x, minlength=len(ages))
    keep = weights > 0 if modified else (weights > 0) & (x > 0)
    recency_code, recencies = pd.factorize(t_x[keep], sort=True)
    # Distinct (T, t_x) pairs, then distinct (x, pair) rows; two steps keep the
    # combined integer keys far from overflow.
    age_kept = age_code[keep].astype(np.int64)
    pair_code, pairs = pd.factorize(age_kept * len(recencies) + recency_code)
    row_code, rows = pd.factorize(pair_code * len(counts) + count_code[keep].astype(np.int64))
    first = np.empty(len(rows), dtype=np.intp)
    first[row_code[::-1]] = np.arange(len(row_code) - 1, -1, -1)  # first member of each row
    return BetaGeoStats(
        n=float(weights.sum()),
        counts=np.asarray(counts, dtype=np.float64),
        count_weight=count_weight,
        ages=np.asarray(ages, dtype=np.float64),
        age_weight=age_weight,
        age_purchases=age_purchases,
        recencies=np.asarray(recencies, dtype=np.float64),
        pair_age=(pairs // max(len(recencies), 1)).astype(np.intp),
        pair_recency=(pairs % max(len(recencies), 1)).astype(np.intp),
        row_x=x[keep][first],
        row_weight=np.bincount(row_code, weights=weights[keep], minlength=len(rows)),
        row_count=(rows % len(counts)).astype(np.intp),
        row_pair=(rows // len(counts)).astype(np.intp),
    )


def beta_geo_total_loglik(
    params: np.ndarray, stats: BetaGeoStats, *, modified: bool = False
) -> tuple[float, np.ndarray]:
    """Return the total log-likelihood and its gradient from sufficient statistics.

    Equal to ``weights @ ll`` and ``weights @ grad`` of :func:`beta_geo_loglik`
    on the table that ``stats`` summarises, at a fraction of the cost.

    Parameters
    ----------
    stats : BetaGeoStats
        From :func:`beta_geo_stats` with the same ``modified``.

    Returns
    -------
    ll : float
        Total log-likelihood.
    grad : numpy.ndarray
        Shape ``(4,)``: its derivatives with respect to ``r``, ``alpha``, ``a``, ``b``.
    """
    r, alpha, a, _ = params
    terms = _count_terms(params, stats.counts, modified=modified)
    log_alpha = np.log(alpha)
    log_alpha_ages = np.log(alpha + stats.ages)
    age_rate_weight = r * stats.age_weight + stats.age_purchases  # sum of w (r + x) per age
    cw = stats.count_weight
    ll = _dot(cw, terms.lg) + stats.n * r * log_alpha - _dot(age_rate_weight, log_alpha_ages)
    grad = np.array(
        [
            _dot(cw, terms.psi_r) + stats.n * log_alpha - _dot(stats.age_weight, log_alpha_ages),
            stats.n * r / alpha - _dot(age_rate_weight, 1.0 / (alpha + stats.ages)),
            -_dot(cw, terms.psi_ab),
            _dot(cw, terms.psi_b_ab),
        ]
    )
    if len(stats.row_x):
        # The "has dropped out" branch, per distinct (x, t_x, T); the terms that
        # depend on (T, t_x) only are computed per distinct pair and spread.
        log_alpha_recencies = np.log(alpha + stats.recencies)
        log_ratio = (log_alpha_ages[stats.pair_age] - log_alpha_recencies[stats.pair_recency])[
            stats.row_pair
        ]
        rx = r + stats.row_x
        odds = terms.odds_const[stats.row_count] + rx * log_ratio
        softplus, p_dead = _softplus_and_expit(odds)
        ll += _dot(stats.row_weight, softplus)
        dead = stats.row_weight * p_dead  # weight times P(dropped out | history)
        inv_gap = (
            1.0 / (alpha + stats.ages[stats.pair_age])
            - 1.0 / (alpha + stats.recencies[stats.pair_recency])
        )[stats.row_pair]
        grad[0] += _dot(dead, log_ratio)
        grad[1] += _dot(dead, rx * inv_gap)
        dead_per_count = np.bincount(stats.row_count, weights=dead, minlength=len(stats.counts))
        grad[2] += dead_per_count.sum() / a
        grad[3] -= _dot(dead_per_count, terms.inv_denominator)
    return ll, grad


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """Inner product of two vectors without BLAS.

    ``u @ v`` and ``np.inner`` call OpenBLAS, whose threads took 12-16 ms per
    call on a busy two-core machine whatever the length; ``einsum``'s own loop
    takes 0.15 ms for half a million entries.
    """
    return float(np.einsum("i,i->", u, v))


def _softplus_and_expit(odds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``log(1 + e^odds)`` and ``e^odds / (1 + e^odds)``.

    Written with numpy's vectorised ``exp`` and ``log``; ``np.logaddexp`` and
    ``scipy.special.expit`` take five times longer, the bulk of a fit. Rounding
    is absolute (about 1e-16), which is what a sum of log-likelihoods needs.
    """
    capped = odds.max(initial=-np.inf) > 700.0
    e = np.exp(np.minimum(odds, 700.0) if capped else odds)  # e^700 is finite
    one_plus_e = 1.0 + e
    softplus = np.log(one_plus_e)
    if capped:  # beyond 700, softplus(odds) = odds to double precision
        softplus += np.maximum(odds - 700.0, 0.0)
    return softplus, e / one_plus_e


def proba_alive(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, modified: bool = False
) -> np.ndarray:
    """Return P(alive at T | x, t_x, T).

    Returns
    -------
    numpy.ndarray
        Probabilities in ``[0, 1]``.
    """
    return np.asarray(expit(-log_odds_dead(params, x, t_x, T, modified=modified)))


def proba_no_purchase(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float, *, modified: bool
) -> np.ndarray:
    r"""Return P(no purchase in (T, T + t] | x, t_x, T).

    A customer who has dropped out never buys again; one who is alive at
    :math:`T` has the posterior rate :math:`\lambda \sim \mathrm{Gamma}(r + x,
    \alpha + T)` and cannot drop out before their next purchase, so

    .. math::

        P_0(t) = 1 - P(\text{alive})
            + P(\text{alive}) \left(\frac{\alpha + T}{\alpha + T + t}\right)^{r + x}.

    Returns
    -------
    numpy.ndarray
        Probabilities in ``[0, 1]``.
    """
    r, alpha, _, _ = params
    odds = log_odds_dead(params, x, t_x, T, modified=modified)
    silent = np.exp(-(r + x) * np.log1p(t / (alpha + T)))
    # P(dead) + P(alive) * silent, each part computed directly (no 1 - p cancellation)
    return np.asarray(np.clip(expit(odds) + expit(-odds) * silent, 0.0, 1.0))


def alive_expected_purchases(
    r: np.ndarray | float,
    alpha: np.ndarray | float,
    a: np.ndarray | float,
    b: np.ndarray | float,
    t: np.ndarray | float,
) -> np.ndarray:
    r"""Return the expected purchases in the next ``t`` of a customer who is alive now.

    The customer's rate is :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and
    their dropout probability :math:`p \sim \mathrm{Beta}(a, b)` (posterior
    values, e.g. :math:`r + x` and :math:`\alpha + T`). Given :math:`\lambda`
    and :math:`p` the expectation is :math:`(1 - e^{-\lambda p t}) / p`, so
    with :math:`y = t / \alpha` and :math:`c = a + b - 1`

    .. math::

        G = E_p\left[\frac{1 - (1 + p y)^{-r}}{p}\right]
          = \frac{c}{a - 1}\left[1 - {}_2F_1(r, a - 1; c; -y)\right]
          = \frac{c}{a - 1}\left[1 - (1 + y)^{1 - a}
            {}_2F_1\!\left(c - r, a - 1; c; \tfrac{y}{1 + y}\right)\right],

    the last form by Euler's transformation; it equals FHL's
    :math:`\frac{c}{a-1}[1 - (\frac{\alpha}{\alpha + t})^r {}_2F_1(r, b; c;
    \frac{t}{\alpha + t})]`. For small ``y`` the power series
    :math:`G = \sum_{n \ge 1} e_n` with :math:`e_1 = r y` and
    :math:`e_{n+1} / e_n = -\frac{(r + n)(a - 1 + n)}{(c + n)(n + 1)} y` is
    used (no cancellation, no singularity at ``a = 1``); otherwise scipy's
    ``hyp2f1``, and where that fails (degenerate parameters, arguments at 1)
    the integral over ``p`` by adaptive quadrature. Results are checked
    against the bounds :math:`1 - (1 + y)^{-r} \le G \le r y`.

    Parameters
    ----------
    r, alpha : float or numpy.ndarray
        Shape and rate of the Gamma distribution of the purchase rate.
    a : float or numpy.ndarray
        First Beta parameter of the dropout probability.
    b : float or numpy.ndarray
        Second Beta parameter of the dropout probability.
    t : float or numpy.ndarray
        Horizon (>= 0).

    Returns
    -------
    numpy.ndarray
        Expected purchases, broadcast over the inputs.
    """
    r_b, alpha_b, a_b, b_b, t_b = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (r, alpha, a, b, t))
    )
    shape = r_b.shape
    r_, alpha_, a_, b_, t_ = (v.ravel() for v in (r_b, alpha_b, a_b, b_b, t_b))
    y = t_ / alpha_
    c = a_ + b_ - 1.0
    out = np.full(r_.shape, np.nan)
    lower = -np.expm1(-r_ * np.log1p(y))
    upper = r_ * y

    series = y * np.maximum(1.0, (r_ + 1.0) / 2.0) <= 0.5
    if series.any():
        out[series] = _series(r_[series], y[series], a_[series], c[series])

    todo = np.flatnonzero(~series)
    if todo.size:
        out[todo] = _hyp2f1_form(r_[todo], y[todo], a_[todo], c[todo])
        todo = todo[~_plausible(out[todo], lower[todo], upper[todo])]
    if todo.size:
        a_t = a_[todo]
        with np.errstate(all="ignore"):
            out[todo] = (
                c[todo] / (a_t - 1.0) * (1.0 - hyp2f1(r_[todo], a_t - 1.0, c[todo], -y[todo]))
            )
        todo = todo[~_plausible(out[todo], lower[todo], upper[todo])]
    for i in todo:
        out[i] = _quadrature(float(r_[i]), float(y[i]), float(a_[i]), float(b_[i]))
    return np.clip(out, lower, upper).reshape(shape)


def _plausible(values: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    slack = 1e-9 * np.abs(upper) + 1e-300
    return np.isfinite(values) & (values >= lower - slack) & (values <= upper + slack)


def _series(r: np.ndarray, y: np.ndarray, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Power series of :func:`alive_expected_purchases` in ``-y`` (|ratios| <= 1/2 here)."""
    term = r * y
    total = term.copy()
    n = 1.0
    active = np.flatnonzero(term != 0)
    while active.size and n < 200:
        term[active] *= (
            -(r[active] + n) * (a[active] - 1.0 + n) * y[active] / ((c[active] + n) * (n + 1))
        )
        total[active] += term[active]
        active = active[np.abs(term[active]) > 1e-17 * np.abs(total[active])]
        n += 1.0
    return total


def _hyp2f1_form(r: np.ndarray, y: np.ndarray, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Euler-transformed closed form, interpolated in ``a`` across its removable point ``a = 1``.

    Near ``a = 1`` the closed form divides a small difference by ``a - 1``; the
    expectation is smooth in ``a``, so it is evaluated at ``1 +- h, 1 +- 2h``
    (rounding error about 1e-12 / h) and interpolated by a cubic (error of
    order h**4).
    """
    h = 1e-3
    near = np.abs(a - 1.0) < h
    if not near.any():
        return _euler(r, y, a, c)
    out = np.empty_like(y)
    far = ~near
    if far.any():
        out[far] = _euler(r[far], y[far], a[far], c[far])
    r, y, a, c = r[near], y[near], a[near], c[near]
    b = c - a + 1.0
    nodes = (-2.0, -1.0, 1.0, 2.0)
    u = (a - 1.0) / h
    total = np.zeros_like(y)
    for j, node in enumerate(nodes):
        weight = np.prod([(u - m) / (node - m) for k, m in enumerate(nodes) if k != j], axis=0)
        a_j = 1.0 + node * h
        total += weight * _euler(r, y, a_j, a_j + b - 1.0)
    out[near] = total
    return out


def _euler(r: np.ndarray, y: np.ndarray, a: np.ndarray | float, c: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        head = np.exp((1.0 - a) * np.log1p(y))
        value = c / (a - 1.0) * (1.0 - head * hyp2f1(c - r, a - 1.0, c, y / (1.0 + y)))
    return np.asarray(value)


def _quadrature(r: float, y: float, a: float, b: float) -> float:
    """E_p[(1 - (1 + p y)^-r) / p] over p ~ Beta(a, b) by adaptive quadrature.

    The interval is cut where the integrand bends (``p ~ 1/y`` and the bulk of
    the Beta density near ``a / b``); the end pieces carry the algebraic
    endpoint singularities as QUADPACK weights.
    """
    log_norm = -float(betaln(a, b))

    def phi(p: float) -> float:
        return float(-np.expm1(-r * np.log1p(p * y)) / p) if p > 0 else r * y

    def log_beta_kernel(p: float, left: bool, right: bool) -> float:
        value = log_norm
        if not left:
            value += (a - 1.0) * np.log(p)
        if not right:
            value += (b - 1.0) * np.log1p(-p)
        return value

    cuts = {min(0.5, 1.0 / y) if y > 0 else 0.5, min(0.5, a / (a + b)), min(0.5, 1.0 / b)}
    edges = [0.0, *sorted(c for c in cuts if 0.0 < c < 1.0), 1.0]
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        left, right = lo == 0.0, hi == 1.0
        wvar = (a - 1.0 if left else 0.0, b - 1.0 if right else 0.0)

        def integrand(p: float, left: bool = left, right: bool = right) -> float:
            return phi(p) * float(np.exp(log_beta_kernel(p, left, right)))

        value, _ = integrate.quad(integrand, lo, hi, weight="alg", wvar=wvar, limit=200)
        total += value
    return total


def expected_purchases(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float, *, modified: bool
) -> np.ndarray:
    r"""Return E[purchases in (T, T + t] | x, t_x, T].

    .. math::

        E = P(\text{alive}) \; G(r + x, \alpha + T, a, b + x + s; t),

    with :math:`G` from :func:`alive_expected_purchases` (FHL 2005 eq. 10;
    Wagner and Hoppe 2008 for MBG/NBD).

    Returns
    -------
    numpy.ndarray
        Expected purchases per customer.
    """
    r, alpha, a, b = params
    s = 1.0 if modified else 0.0
    alive = proba_alive(params, x, t_x, T, modified=modified)
    return np.asarray(alive * alive_expected_purchases(r + x, alpha + T, a, b + x + s, t))


def expected_purchases_new_customer(
    params: np.ndarray, t: np.ndarray | float, *, modified: bool = False
) -> np.ndarray:
    r"""Return E[X(t)], the expected repeat purchases of a new customer by age ``t``.

    BG/NBD (FHL 2005 eq. 9):
    :math:`\frac{a + b - 1}{a - 1}[1 - (\frac{\alpha}{\alpha + t})^r
    {}_2F_1(r, b; a + b - 1; \frac{t}{\alpha + t})]`.
    MBG/NBD (Batislam et al. 2007): a new customer is still alive after the
    first purchase with probability :math:`1 - p`, which turns
    :math:`\mathrm{Beta}(a, b)` into :math:`\frac{b}{a+b}\mathrm{Beta}(a, b + 1)`:
    :math:`\frac{b}{a - 1}[1 - (\frac{\alpha}{\alpha + t})^r
    {}_2F_1(r, b + 1; a + b; \frac{t}{\alpha + t})]`.

    Parameters
    ----------
    t : float or numpy.ndarray
        Ages (>= 0).

    Returns
    -------
    numpy.ndarray
        Same shape as ``t``.
    """
    r, alpha, a, b = params
    if modified:
        return np.asarray(b / (a + b) * alive_expected_purchases(r, alpha, a, b + 1.0, t))
    return alive_expected_purchases(r, alpha, a, b, t)


def alive_proba_purchases(
    r: np.ndarray | float,
    alpha: np.ndarray | float,
    a: float,
    b: np.ndarray | float,
    t: np.ndarray | float,
    n: np.ndarray | float,
) -> np.ndarray:
    r"""Return P(n purchases in the next ``t``) of a customer who is alive now.

    The customer's rate is :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`,
    their dropout probability :math:`p \sim \mathrm{Beta}(a, b)` (posterior
    values, e.g. :math:`r + x`, :math:`\alpha + T`, :math:`b + x + s`), and
    they may drop out after each purchase to come. Exactly ``n`` purchases
    happen if the process makes ``n`` and the customer survives all ``n``
    coin tosses, or if it makes at least ``n`` and the customer drops out at
    the ``n``-th (FHL 2005, eq. 8):

    .. math::

        P(n) = \frac{B(a, b + n)}{B(a, b)}\, \mathrm{NB}(n; r, \alpha, t)
             + \delta_{n > 0} \frac{B(a + 1, b + n - 1)}{B(a, b)}\,
               P(\mathrm{NB}(r, \alpha, t) \ge n),

    with the NBD tail from the regularised incomplete beta function (no
    ``1 - sum`` cancellation).

    Parameters
    ----------
    r, alpha, a, b
        Gamma and Beta parameters, as for :func:`alive_expected_purchases`.
    t : float or numpy.ndarray
        Horizon (>= 0).
    n : float or numpy.ndarray
        Whole numbers of purchases (>= 0).

    Returns
    -------
    numpy.ndarray
        Probabilities, broadcast over the inputs.
    """
    n = np.asarray(n, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    log_beta = betaln(a, b)
    stay = np.exp(betaln(a, b + n) - log_beta + nbd_log_pmf(r, alpha, t, n))
    safe = np.maximum(n, 1.0)
    leave = np.exp(betaln(a + 1.0, b + safe - 1.0) - log_beta) * nbd_sf(r, alpha, t, safe)
    return np.asarray(np.clip(stay + np.where(n > 0, leave, 0.0), 0.0, 1.0))


def proba_purchases(
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    t: float,
    n: float,
    *,
    modified: bool = False,
) -> np.ndarray:
    r"""Return P(exactly ``n`` purchases in (T, T + t] | x, t_x, T).

    A customer who has dropped out makes none; one alive at :math:`T` has
    the posterior :math:`\lambda \sim \mathrm{Gamma}(r + x, \alpha + T)`,
    :math:`p \sim \mathrm{Beta}(a, b + x + s)` and buys from then on as a
    new customer with these parameters would (see
    :func:`alive_proba_purchases`):

    .. math::

        P(n) = \delta_{n0}\,(1 - P(\text{alive}))
             + P(\text{alive})\, P_{\text{alive}}(n; r + x, \alpha + T, a, b + x + s; t).

    Its mean over ``n`` is :func:`expected_purchases`, and ``n = 0`` is
    :func:`proba_no_purchase`.

    Parameters
    ----------
    n : float
        A whole number of purchases (>= 0).

    Returns
    -------
    numpy.ndarray
        Probabilities per customer.
    """
    r, alpha, a, b = params
    s = 1.0 if modified else 0.0
    odds = log_odds_dead(params, x, t_x, T, modified=modified)
    alive = alive_proba_purchases(r + x, alpha + T, a, b + x + s, t, n)
    dead = expit(odds) if n == 0 else 0.0
    return np.asarray(np.clip(dead + expit(-odds) * alive, 0.0, 1.0))


def proba_purchases_new_customer(
    params: np.ndarray, t: np.ndarray, n: np.ndarray, *, modified: bool = False
) -> np.ndarray:
    r"""Return P(X(t) = n): ``n`` repeat purchases of a new customer by age ``t``.

    BG/NBD: FHL 2005, eq. 8, i.e. :func:`alive_proba_purchases` at the
    prior. MBG/NBD (Batislam et al. 2007): the customer drops out right
    after the first purchase with probability :math:`a / (a + b)` and is
    otherwise alive with :math:`p \sim \mathrm{Beta}(a, b + 1)`:

    .. math::

        P(n) = \delta_{n0} \frac{a}{a + b}
             + \frac{b}{a + b}\, P_{\text{alive}}(n; r, \alpha, a, b + 1; t).

    Parameters
    ----------
    t, n : numpy.ndarray
        Ages (>= 0) and whole numbers of purchases (>= 0), broadcast together.

    Returns
    -------
    numpy.ndarray
        Probabilities.
    """
    r, alpha, a, b = params
    if not modified:
        return alive_proba_purchases(r, alpha, a, b, t, n)
    n = np.asarray(n, dtype=np.float64)
    alive = alive_proba_purchases(r, alpha, a, b + 1.0, t, n)
    return np.asarray(np.where(n == 0, a / (a + b), 0.0) + b / (a + b) * alive)


def sample_beta_geo(
    params: np.ndarray, T: np.ndarray, rng: np.random.Generator, *, modified: bool = False
) -> dict[str, np.ndarray]:
    r"""Simulate ``frequency``, ``recency`` and ``T`` from the generative process.

    Each customer draws :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and
    :math:`p \sim \mathrm{Beta}(a, b)`. The number of repeat purchases made
    before dropping out is :math:`K \sim \mathrm{Geometric}(p)` on
    :math:`\{1, 2, \dots\}` (BG/NBD: the coin is tossed after each repeat
    purchase) or on :math:`\{0, 1, \dots\}` (MBG/NBD: also after the first
    purchase). With :math:`N \sim \mathrm{Poisson}(\lambda T)` arrivals of the
    underlying process in :math:`(0, T]`, the frequency is :math:`x = \min(N,
    K)`. Given :math:`N = n`, the arrival times are uniform order statistics
    on :math:`(0, T)`, so the :math:`x`-th one, the recency, is
    :math:`T \cdot \mathrm{Beta}(x, n - x + 1)`.

    Parameters
    ----------
    T : numpy.ndarray
        Ages of the customers.
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    dict of str to numpy.ndarray
        ``frequency`` (int64), ``recency`` and ``T``.
    """
    r, alpha, a, b = params
    n = len(T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Inversion of the geometric law; float so that p -> 0 gives K = inf.
        failures = np.floor(np.log1p(-rng.random(n)) / np.log1p(-p))
    failures = np.where(p >= 1.0, 0.0, np.nan_to_num(failures, nan=np.inf))
    k = failures if modified else failures + 1.0
    arrivals = rng.poisson(lam * T)
    frequency = np.minimum(arrivals, k).astype(np.int64)
    buyers = frequency > 0
    recency = np.zeros(n)
    m = frequency[buyers]
    recency[buyers] = T[buyers] * rng.beta(m, arrivals[buyers] - m + 1)
    return {"frequency": frequency, "recency": recency, "T": np.asarray(T, dtype=np.float64)}
