r"""Pareto/NBD model: log-likelihood, gradient, predictions and simulation (pure maths).

Schmittlein, Morrison and Colombo (1987), "Counting Your Customers: Who Are
They and What Will They Do Next?"; Fader and Hardie (2005), "A Note on
Deriving the Pareto/NBD Model and Related Expressions".

Every quantity of the model reduces to one integral,

.. math::

    I(y; P, Q) = \int_y^\infty (\alpha + \tau)^{-P} (\beta + \tau)^{-Q} \, d\tau
               = \frac{(m + y)^{-a}}{a} \,
                 {}_2F_1\!\left(a, B; a + 1; z\right), \qquad
    z = \frac{|\alpha - \beta|}{m + y},

with :math:`m = \max(\alpha, \beta)`, :math:`a = P + Q - 1` and :math:`B` the
exponent of the factor with the smaller of :math:`\alpha, \beta` (Fader and
Hardie's choice of the argument that keeps :math:`0 \le z < 1`). The
likelihood's :math:`A_0` term is :math:`(r + s + x)\,[I(t_x) - I(T)]`.

How :math:`I` is computed, in log space:

* For :math:`z \le 3/4`, the hypergeometric series. When :math:`B > 1` it is
  first put through Euler's transformation,
  :math:`{}_2F_1(a, B; a+1; z) = (1-z)^{1-B}\,{}_2F_1(1, a+1-B; a+1; z)`, whose
  terms :math:`(a+1-B)_n / (a+1)_n \, z^n` are positive and fall by a factor
  below :math:`z` at every step, whatever the size of :math:`x`. (Without it,
  :math:`B = r + x` makes the terms grow for hundreds of steps and the sum
  overflow.) When :math:`B \le 1` the plain series already has that property.
  The number of terms is chosen so the tail is below :math:`2^{-56}` of the
  sum, and the sum is taken relative to its first term, so nothing under- or
  overflows for any :math:`x` or :math:`T`.
* For :math:`z > 3/4` (one of :math:`\alpha, \beta` many times the other and
  :math:`y` small) the series converges too slowly. :math:`I(y)` is split at
  the point :math:`y^*` where :math:`z = 3/4`: the series gives
  :math:`I(y^*)` (once per distinct exponent pair), and :math:`\int_y^{y^*}`
  is computed by composite 16-node Gauss-Legendre quadrature in
  :math:`v = \log((\min(\alpha, \beta) + \tau) / |\alpha - \beta|)`, where the
  log-integrand is concave. The range is first narrowed to where the
  integrand is within :math:`e^{-60}` of its maximum, then cut into equal
  panels across each of which the log-integrand falls by at most 8. On a grid
  of 1,624 extreme cases (exponents from 0.3 to 300, :math:`\alpha` and
  :math:`\beta` from :math:`10^{-3}` to :math:`10^{5}`, :math:`z` up to
  :math:`1 - 5 \cdot 10^{-5}`) the log-integral agrees with brute-force
  summation of the series (up to millions of terms) to :math:`10^{-12}`.

Gradients are analytic: the series is differentiated term by term (the
derivatives of the Pochhammer ratios are cumulative sums of reciprocals, i.e.
digamma differences; the resulting series have positive terms and are summed
relative to the first term, like the value), the
quadrature by differentiating under the integral sign at the same nodes, and
the split point :math:`y^*` drops out because the two pieces' derivatives
with respect to it cancel.

:math:`I(t_x) - I(T)` is formed as
:math:`I(t_x)\,(1 - e^{\log I(T) - \log I(t_x)})` with ``log1mexp``. When
:math:`T - t_x` is tiny the difference loses relative precision, but then the
:math:`A_0` term is negligible next to the other term of the likelihood
(their ratio is about :math:`s (T - t_x) / (\beta + T)`), so the
log-likelihood keeps full precision; at :math:`t_x = T` the term is exactly
zero.

Unless its docstring says otherwise, a function of the model takes the natural
parameters ``params = (r, alpha, s, beta)``, each customer's repeat purchases,
recency and age as arrays ``x``, ``t_x`` and ``T``, and a horizon ``t``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.polynomial.legendre import leggauss
from scipy.special import digamma, expit, gammaln

__all__ = [
    "Layout",
    "compress_layout",
    "expected_purchases",
    "expected_purchases_by",
    "expected_purchases_new_customer",
    "layout_loglik",
    "log_tail_integral",
    "make_layout",
    "pareto_nbd_loglik",
    "proba_alive",
    "proba_no_purchase",
    "sample_customers",
]

_Z_SPLIT = 0.75  # series where z <= this, quadrature (plus series at z = _Z_SPLIT) above
_LOG_EPS = np.log(2.0**-56)  # relative truncation error of the series
_PANEL_DROP = 8.0  # most the log-integrand may fall across one quadrature panel
_GL_X, _GL_W = leggauss(16)
_GL_T = (_GL_X + 1.0) / 2.0  # nodes on (0, 1)
_GL_LOGW = np.log(_GL_W / 2.0)
_CHUNK = 1 << 19  # elements per 2-D block (bounds memory for millions of rows)


# --- the integral I(y) ---------------------------------------------------------------


def log_tail_integral(
    P: np.ndarray,
    Q: np.ndarray | float,
    alpha: float,
    beta: float,
    y: np.ndarray,
    *,
    grad: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Return :math:`\log \int_y^\infty (\alpha+\tau)^{-P} (\beta+\tau)^{-Q} d\tau`, with gradient.

    Parameters
    ----------
    P, Q : numpy.ndarray or float
        Positive exponents with :math:`P + Q > 1`; broadcast against ``y``.
    alpha, beta : float
        Positive shifts.
    y : numpy.ndarray
        Lower limits, ``>= 0``.
    grad : bool, default=False
        Also return the gradient.

    Returns
    -------
    log_integral : numpy.ndarray
        Shape ``(n,)``.
    gradient : numpy.ndarray or None
        Shape ``(n, 4)``: derivatives of the log-integral with respect to
        ``P``, ``Q``, ``alpha`` and ``beta``; ``None`` unless ``grad``.
    """
    P_, Q_, y_ = (np.ravel(v).astype(np.float64) for v in np.broadcast_arrays(P, Q, y))
    swap = alpha < beta
    m, mu = (beta, alpha) if swap else (alpha, beta)
    E, B = (Q_, P_) if swap else (P_, Q_)  # exponents of the (m + tau) and (mu + tau) factors
    D = m - mu
    scale = _Scale(m, mu, D)
    y_split = D / _Z_SPLIT - m  # where z = _Z_SPLIT
    hard = y_ < y_split
    easy = ~hard
    out = np.empty(len(y_))
    parts = np.empty((len(y_), 5)) if grad else None
    if easy.any():
        out[easy], part = _series(E[easy], B[easy], scale, y_[easy], grad)
        if parts is not None:
            parts[easy] = part
    if hard.any():
        # I(y) = int_y^{y_split} + I(y_split); the latter depends on the exponents only
        e_h, b_h = E[hard], B[hard]
        codes, first = _first_of_each(e_h, b_h)
        log_s, parts_s = _series(e_h[first], b_h[first], scale, np.full(len(first), y_split), grad)
        log_q, parts_q = _quadrature(e_h, b_h, mu, D, y_[hard], y_split, grad)
        total = np.logaddexp(log_q, log_s[codes])
        out[hard] = total
        if parts is not None and parts_q is not None and parts_s is not None:
            share = np.exp(log_q - total)[:, None]
            parts[hard] = share * parts_q + (1.0 - share) * parts_s[codes]
    if parts is None:
        return out, None
    d_E, d_B, d_m, d_mu, d_D = parts.T  # m, mu and D = m - mu as separate arguments
    gradient = np.empty((len(out), 4))
    if swap:
        gradient[:, 0], gradient[:, 1] = d_B, d_E
        gradient[:, 2], gradient[:, 3] = d_mu - d_D, d_m + d_D
    else:
        gradient[:, 0], gradient[:, 1] = d_E, d_B
        gradient[:, 2], gradient[:, 3] = d_m + d_D, d_mu - d_D
    return out, gradient


class _Scale(NamedTuple):
    """The integral's constants: the larger shift ``m``, the smaller ``mu``, and ``D = m - mu``."""

    m: float
    mu: float
    D: float


def _series(
    E: np.ndarray, B: np.ndarray, scale: _Scale, y: np.ndarray, grad: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Series for log I(y) on rows with z <= _Z_SPLIT; partials wrt (E, B, m, mu, D)."""
    m, _, D = scale
    n = len(y)
    out = np.empty(n)
    parts = np.empty((n, 5)) if grad else None
    z = D / (m + y)
    plain = B <= 1.0
    size = _n_terms(E, B, z, plain)
    # group rows by (form, number of terms); each group is summed as one 2-D block
    key = 2 * size + plain
    order = np.argsort(key, kind="stable")
    starts = np.flatnonzero(np.diff(key[order], prepend=-1))
    for first, last in zip(starts, [*starts[1:], n], strict=True):
        k, use_plain = divmod(int(key[order[first]]), 2)
        chunk = _chunk_plain if use_plain else _chunk_euler
        step = max(1, _CHUNK // k)
        for begin in range(first, last, step):
            r = order[begin : min(begin + step, last)]
            out[r], part = chunk(E[r], B[r], scale, y[r], z[r], k, grad)
            if parts is not None:
                parts[r] = part
    return out, parts


def _n_terms(E: np.ndarray, B: np.ndarray, z: np.ndarray, plain: np.ndarray) -> np.ndarray:
    """Count the series terms, a multiple of 8, for a tail below 2**-56 of the sum.

    The term ratios rise with n towards z, so with rho(K) the ratio at K the
    K-th term is below rho(K)**K and the tail after it below that over 1 - z.
    Starting from rho = z, K = log(eps (1 - z)) / log(rho(K)) only shrinks and
    stays valid.
    """
    z = np.minimum(z, _Z_SPLIT)
    target = _LOG_EPS + np.log1p(-z)
    positive = z > 0
    log_z = np.log(np.where(positive, z, 0.5))
    k = target / log_z
    a = E + B - 1.0
    for _ in range(3):
        rho = np.where(
            plain,
            z * (B + k) / (k + 1.0) * (a + k) / (a + k + 1.0),
            z * (E + k) / (a + 1.0 + k),
        )
        k = np.minimum(k, target / np.log(np.where(positive, rho, 0.5)))
    k = np.where(positive, k, 1.0)
    return (8 * np.ceil((k + 1.0) / 8.0)).astype(np.int64)


def _sum_terms(terms: np.ndarray) -> np.ndarray:
    """Sum series terms (rows) per customer (columns), in term order.

    ``terms.sum(axis=0)`` adds pairwise or term by term depending on how many
    customers share the block, so a customer's sum, and its score, would
    change in the last bits with the batch it is scored in.
    """
    total = terms[0].copy()
    for row in terms[1:]:
        total += row
    return total


def _chunk_euler(
    E: np.ndarray, B: np.ndarray, scale: _Scale, y: np.ndarray, z: np.ndarray, size: int, grad: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Euler-transformed series, B > 1.

    :math:`I = \frac{1}{a} (m+y)^{-E} (\mu+y)^{1-B} \sum_n t_n`,
    :math:`t_n = (E)_n / (a+1)_n \, z^n`.
    """
    m, mu, D = scale
    a = E + B - 1.0
    terms = _terms(z, E, a + 1.0, None, size)
    total = _sum_terms(terms)
    log_my, log_muy = np.log(m + y), np.log(mu + y)
    log_i = np.log(total) - np.log(a) - E * log_my - (B - 1.0) * log_muy
    if not grad:
        return log_i, None
    n_bar, w_e, w_a = _tail_sums(terms, E, a + 1.0)
    parts = np.empty((len(y), 5))
    parts[:, 0] = (w_e - w_a) / total - 1.0 / a - log_my
    parts[:, 1] = -w_a / total - 1.0 / a - log_muy
    n_bar /= total
    parts[:, 2] = -(E + n_bar) / (m + y)
    parts[:, 3] = -(B - 1.0) / (mu + y)
    # d/dD of z**n is n z**n / D; at D = 0 only the n = 1 term survives
    parts[:, 4] = n_bar / D if D > 0 else E / ((a + 1.0) * (m + y))
    return log_i, parts


def _chunk_plain(
    E: np.ndarray, B: np.ndarray, scale: _Scale, y: np.ndarray, z: np.ndarray, size: int, grad: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Plain series, B <= 1.

    :math:`I = (m+y)^{-a} \sum_n t_n`, :math:`t_n = (B)_n / n! \, z^n / (a + n)`.
    """
    m, _, D = scale
    a = E + B - 1.0
    terms = _terms(z, B, 1.0, a, size)
    total = _sum_terms(terms)
    log_my = np.log(m + y)
    log_i = np.log(total) - np.log(a) - a * log_my
    if not grad:
        return log_i, None
    n_bar, w_b, _ = _tail_sums(terms, B, None)
    w_inv = np.zeros_like(total)
    for k in range(size):
        w_inv += terms[k] / (a + k)
    parts = np.empty((len(y), 5))
    parts[:, 0] = -log_my - w_inv / total
    parts[:, 1] = (w_b - w_inv) / total - log_my
    n_bar /= total
    parts[:, 2] = -(a + n_bar) / (m + y)
    parts[:, 3] = 0.0
    parts[:, 4] = n_bar / D if D > 0 else B * a / ((a + 1.0) * (m + y))
    return log_i, parts


def _terms(
    z: np.ndarray, up: np.ndarray, down: np.ndarray | float, shift: np.ndarray | None, size: int
) -> np.ndarray:
    """Return ``t[n] = prod_{j<n} z (up + j) / (down + j)`` as a ``(size, rows)`` block.

    With ``shift``, every term is multiplied by ``shift / (shift + n)``. The
    products run as a loop over ``n`` with each step vectorised over the rows,
    many times faster than ``numpy.cumprod`` along an axis.
    """
    terms = np.empty((size, len(z)))
    terms[0] = 1.0
    for k in range(1, size):
        np.multiply(terms[k - 1], z * (up + (k - 1)) / (down + (k - 1)), out=terms[k])
    if shift is not None:
        for k in range(1, size):
            terms[k] *= shift / (shift + k)
    return terms


def _tail_sums(
    terms: np.ndarray, first: np.ndarray, second: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Return :math:`\sum_n n t_n` and :math:`\sum_n t_n \sum_{j<n} 1/(c + j)` for two ``c``.

    Uses :math:`\sum_n t_n \sum_{j<n} f_j = \sum_j f_j \sum_{n>j} t_n`.
    """
    tail = np.zeros(terms.shape[1])
    n_sum = np.zeros_like(tail)
    first_sum = np.zeros_like(tail)
    second_sum = np.zeros_like(tail)
    for k in range(terms.shape[0] - 2, -1, -1):
        tail += terms[k + 1]
        n_sum += tail
        first_sum += tail / (first + k)
        if second is not None:
            second_sum += tail / (second + k)
    return n_sum, first_sum, second_sum


def _quadrature(
    E: np.ndarray, B: np.ndarray, mu: float, D: float, y: np.ndarray, y_split: float, grad: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Log of :math:`\int_y^{y^*} (m+\tau)^{-E} (\mu+\tau)^{-B} d\tau` by quadrature.

    With :math:`v = \log((\mu + \tau) / D)` the integral is
    :math:`D^{-a} \int e^{\psi(v)} dv`, :math:`a = E + B - 1`,
    :math:`\psi(v) = -E \log(1 + e^v) - (B - 1) v`, concave, with slope
    between :math:`-(B - 1)` and :math:`-(B - 1) - E/4` on the range.
    """
    log_d = np.log(D)
    lower = np.log(mu + y) - log_d
    upper = np.full_like(lower, np.log(mu + y_split) - log_d)
    # narrow the range to where the integrand is within e^-60 of its maximum
    grid = np.linspace(0.0, 1.0, 17)
    rows = np.arange(len(y))
    for _ in range(2):
        v = lower[:, None] + (upper - lower)[:, None] * grid
        psi = -E[:, None] * np.log1p(np.exp(v)) - (B[:, None] - 1.0) * v
        keep = psi >= psi.max(axis=1, keepdims=True) - 60.0
        first = np.maximum(keep.argmax(axis=1) - 1, 0)
        last = np.minimum(len(grid) - keep[:, ::-1].argmax(axis=1), len(grid) - 1)
        lower, upper = v[rows, first], v[rows, last]
    # equal panels, enough that the integrand changes by at most e^8 across each
    # (16-node Gauss-Legendre is then exact to rounding)
    steepest = np.maximum(np.abs(E * expit(lower) + B - 1.0), np.abs(E * expit(upper) + B - 1.0))
    needed = (upper - lower) * steepest / _PANEL_DROP
    panels = 2 ** np.clip(np.ceil(np.log2(np.maximum(needed, 1.0))), 0, 7).astype(np.int64)
    out = np.empty(len(y))
    parts = np.empty((len(y), 5)) if grad else None
    for count in np.unique(panels):
        group = np.flatnonzero(panels == count)
        step = max(1, _CHUNK // (int(count) * len(_GL_T)))
        for begin in range(0, len(group), step):
            r = group[begin : begin + step]
            out[r], part = _panels(E[r], B[r], lower[r], upper[r], int(count), grad)
            if parts is not None and part is not None:
                parts[r] = part
    out -= (E + B - 1.0) * log_d
    if parts is not None:
        parts[:, 0] -= log_d
        parts[:, 1] -= log_d
        parts[:, 2] /= D
        parts[:, 3] /= D
    return out, parts


def _panels(
    E: np.ndarray, B: np.ndarray, lower: np.ndarray, upper: np.ndarray, count: int, grad: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Composite Gauss-Legendre for the log of the integral of exp(psi) over [lower, upper]."""
    width = (upper - lower) / count
    offsets = (np.arange(count)[:, None] + _GL_T).ravel()  # node positions in panel widths
    v = lower[:, None] + width[:, None] * offsets
    log1p_ev = np.log1p(np.exp(v))
    log_c = -E[:, None] * log1p_ev - (B[:, None] - 1.0) * v + np.tile(_GL_LOGW, count)
    peak = log_c.max(axis=1)
    weight = np.exp(log_c - peak[:, None])
    total = weight.sum(axis=1)
    log_q = peak + np.log(total * width)
    if not grad:
        return log_q, None
    weight /= total[:, None]
    # derivatives of log f(tau) at the nodes, before the constants the caller adds:
    # -log(m + tau), -log(mu + tau), -E / (m + tau) and -B / (mu + tau), times D
    parts = np.empty((len(E), 5))
    parts[:, 0] = -np.einsum("ij,ij->i", weight, log1p_ev)
    parts[:, 1] = -np.einsum("ij,ij->i", weight, v)
    parts[:, 2] = -E * np.einsum("ij,ij->i", weight, np.exp(-log1p_ev))
    parts[:, 3] = -B * np.einsum("ij,ij->i", weight, np.exp(-v))
    parts[:, 4] = 0.0  # in tau the integrand depends on m and mu only
    return log_q, parts


# --- de-duplication --------------------------------------------------------------------


class Layout(NamedTuple):
    """Where each customer's values sit in a table of distinct ``(x, y)`` pairs.

    The integrals depend on a customer only through ``(x, t_x)`` and
    ``(x, T)``, and summary tables repeat these pairs many times (every
    one-time buyer has ``t_x = 0``; ``T`` takes one value per acquisition
    day), so they are computed once per distinct pair.

    Attributes
    ----------
    pair_x, pair_y : numpy.ndarray
        Distinct ``(x, y)`` pairs over ``y`` in ``t_x`` and ``T``.
    recency_pair, age_pair : numpy.ndarray
        Index of each customer's ``(x, t_x)`` and ``(x, T)`` pair.
    """

    pair_x: np.ndarray
    pair_y: np.ndarray
    recency_pair: np.ndarray
    age_pair: np.ndarray


def make_layout(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> Layout:
    """Index the distinct ``(x, t_x)`` and ``(x, T)`` pairs of a customer table.

    Parameters
    ----------
    x, t_x, T : numpy.ndarray
        Frequency, recency and age of each customer.

    Returns
    -------
    Layout
    """
    n = len(x)
    x_codes, x_values = _factorize(np.asarray(x, dtype=np.float64))
    y_codes, y_values = _factorize(np.concatenate([t_x, T]).astype(np.float64))
    n_y = np.int64(len(y_values))
    pair_codes, keys = _factorize(np.concatenate([x_codes, x_codes]) * n_y + y_codes)
    return Layout(
        pair_x=x_values[keys // n_y],
        pair_y=y_values[keys % n_y],
        recency_pair=pair_codes[:n],
        age_pair=pair_codes[n:],
    )


def compress_layout(layout: Layout, weights: np.ndarray) -> tuple[Layout, np.ndarray]:
    """Merge identical customers (same pairs) into one row with a summed weight.

    Parameters
    ----------
    layout : Layout
        From :func:`make_layout`.
    weights : numpy.ndarray
        Weight of each customer.

    Returns
    -------
    layout : Layout
        One row per distinct customer (unchanged when there are few repeats).
    weights : numpy.ndarray
        Summed weights.
    """
    n_pairs = np.int64(len(layout.pair_x))
    codes, keys = _factorize(layout.recency_pair * n_pairs + layout.age_pair)
    if len(keys) > 0.7 * len(codes):
        return layout, weights
    merged = np.bincount(codes, weights=weights, minlength=len(keys))
    return layout._replace(recency_pair=keys // n_pairs, age_pair=keys % n_pairs), merged


def _first_of_each(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the code of each distinct ``(a, b)`` pair and the first position of each."""
    a_codes, _ = _factorize(a)
    b_codes, b_values = _factorize(b)
    codes, _ = _factorize(a_codes * np.int64(len(b_values)) + b_codes)
    first = np.full(codes.max() + 1, len(codes))
    np.minimum.at(first, codes, np.arange(len(codes)))
    return codes, first


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64, copy=False), np.asarray(uniques)


# --- the model -------------------------------------------------------------------------


def _bracket(params: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log of the likelihood bracket's two terms per customer, and log I(y) per pair."""
    r, alpha, s, beta = params
    pair_x, pair_y = layout.pair_x, layout.pair_y
    log_i, _ = log_tail_integral(r + pair_x, s + 1.0, alpha, beta, pair_y)
    log_e1 = -(r + pair_x) * np.log(alpha + pair_y) - s * np.log(beta + pair_y)
    log_i0 = log_i[layout.recency_pair]
    gap = np.minimum(log_i[layout.age_pair] - log_i0, 0.0)
    with np.errstate(divide="ignore"):
        log_e2 = np.log(s) + log_i0 + np.log(-np.expm1(gap))
    return log_e1[layout.age_pair], log_e2, log_i


def pareto_nbd_loglik(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""Return the per-customer Pareto/NBD log-likelihood and its gradient.

    .. math::

        L = \frac{\Gamma(r+x)\,\alpha^r \beta^s}{\Gamma(r)}
            \left[\frac{1}{(\alpha+T)^{r+x} (\beta+T)^s}
            + s \int_{t_x}^{T} \frac{d\tau}{(\alpha+\tau)^{r+x} (\beta+\tau)^{s+1}}\right]

    (Fader and Hardie 2005, eq. 18, where the integral is
    :math:`A_0 / (r + s + x)`).

    Parameters
    ----------
    x, t_x, T : numpy.ndarray
        Repeat purchases, recency and age of each customer.

    Returns
    -------
    ll : numpy.ndarray
        Shape ``(n,)``.
    grad : numpy.ndarray
        Shape ``(n, 4)``: derivatives with respect to ``r``, ``alpha``, ``s``
        and ``beta``.
    """
    return layout_loglik(params, make_layout(x, t_x, T))


def layout_loglik(params: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Return :func:`pareto_nbd_loglik` for the customers indexed by ``layout``.

    Parameters
    ----------
    layout : Layout
        From :func:`make_layout` (possibly compressed), built once per fit.

    Returns
    -------
    ll, grad : numpy.ndarray
        Shapes ``(n,)`` and ``(n, 4)``.
    """
    r, alpha, s, beta = params
    pair_x, pair_y = layout.pair_x, layout.pair_y
    log_i, g_i = log_tail_integral(r + pair_x, s + 1.0, alpha, beta, pair_y, grad=True)
    assert g_i is not None
    # Per distinct pair, one row per quantity (gathering from the rows of a C-ordered
    # table is several times faster than gathering its rows' columns): log I and its
    # gradient in (r, alpha, s, beta) order; for y = T, log E1 = -(r+x) log(alpha+T)
    # - s log(beta+T) and its gradient; the x-only terms of the likelihood.
    table = np.empty((12, len(pair_x)))
    table[0] = log_i
    table[1:5] = g_i.T[[0, 2, 1, 3]]
    log_a, log_b = np.log(alpha + pair_y), np.log(beta + pair_y)
    table[5] = -(r + pair_x) * log_a - s * log_b
    table[6] = -log_a
    table[7] = -(r + pair_x) / (alpha + pair_y)
    table[8] = -log_b
    table[9] = -s / (beta + pair_y)
    table[10] = gammaln(r + pair_x) - gammaln(r)
    table[11] = digamma(r + pair_x) - digamma(r)
    at_t = np.take(table, layout.age_pair, axis=1)
    at_tx = np.take(table[:5], layout.recency_pair, axis=1)
    log_i0, log_i1, log_e1 = at_tx[0], at_t[0], at_t[5]
    gap = np.minimum(log_i1 - log_i0, 0.0)  # log I(T) - log I(t_x) <= 0
    log_s = np.log(s)
    with np.errstate(divide="ignore"):
        log_e2 = log_s + log_i0 + np.log(-np.expm1(gap))
    bracket = _logaddexp(log_e1, log_e2)
    ll = at_t[10] + (r * np.log(alpha) + s * np.log(beta)) + bracket
    w1 = np.exp(log_e1 - bracket)
    # the A0 term's gradient without dividing by I(t_x) - I(T): s (I0 g0 - I1 g1) / L
    c0 = np.exp(log_s + log_i0 - bracket)
    c1 = c0 * np.exp(gap)
    grad = w1 * at_t[6:10]
    grad += c0 * at_tx[1:5]
    grad -= c1 * at_t[1:5]
    grad[0] += at_t[11] + np.log(alpha)
    grad[1] += r / alpha
    grad[2] += (1.0 - w1) / s + np.log(beta)
    grad[3] += s / beta
    return ll, grad.T


def _logaddexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return log(exp(a) + exp(b)) for finite ``a`` (faster than numpy's)."""
    return np.maximum(a, b) + np.log1p(np.exp(-np.abs(a - b)))


def proba_alive(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r"""Return P(alive at T | x, t_x, T) (Fader and Hardie 2005, eq. 19).

    Returns
    -------
    numpy.ndarray
        The first term of the likelihood bracket over the bracket.
    """
    _, log_alive, _, _ = _posterior(params, x, t_x, T)
    return np.exp(log_alive)


def _posterior(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[Layout, np.ndarray, np.ndarray, np.ndarray]:
    """Return the customers' layout, log P(alive) and log P(dead) per customer, and log I(y)."""
    layout = make_layout(x, t_x, T)
    log_e1, log_e2, log_i = _bracket(params, layout)
    bracket = np.logaddexp(log_e1, log_e2)
    return layout, log_e1 - bracket, log_e2 - bracket, log_i


def expected_purchases(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
) -> np.ndarray:
    r"""Return E[purchases in (T, T + t] | x, t_x, T] (Fader and Hardie 2005, eq. 22).

    .. math::

        P(\text{alive}) \, \frac{r + x}{\alpha + T} \, \frac{\beta + T}{s - 1}
        \left[1 - \left(\frac{\beta + T}{\beta + T + t}\right)^{s-1}\right]

    with the limit :math:`(\beta + T) \log(1 + t / (\beta + T))` at
    :math:`s = 1`.

    Returns
    -------
    numpy.ndarray
        Expected purchases per customer.
    """
    return expected_purchases_by(params, x, t_x, T, [t])[0]


def expected_purchases_by(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, times: Sequence[float]
) -> list[np.ndarray]:
    """Return :func:`expected_purchases` at each horizon of ``times``, one array per horizon.

    The posterior (the series behind P(alive)) is evaluated once for all
    horizons; each result equals ``expected_purchases(params, x, t_x, T, t)``
    to the last bit.

    Returns
    -------
    list of numpy.ndarray
        Expected purchases per customer, for each horizon in ``times``.
    """
    r, alpha, s, beta = params
    layout, log_alive, _, _ = _posterior(params, x, t_x, T)
    pair_x, pair_y = layout.pair_x, layout.pair_y
    alive = np.exp(log_alive)
    results = []
    for t in times:
        horizon = np.log1p(t / (beta + pair_y))
        if_alive = (
            (r + pair_x)
            / (alpha + pair_y)
            * (beta + pair_y)
            * horizon
            * _expm1_ratio((s - 1.0) * horizon)
        )
        results.append(alive * if_alive[layout.age_pair])
    return results


def expected_purchases_new_customer(params: np.ndarray, t: np.ndarray) -> np.ndarray:
    r"""Return E[X(t)] for a new customer (Fader and Hardie 2005, eq. 17).

    .. math::

        \frac{r \beta}{\alpha (s - 1)}
        \left[1 - \left(\frac{\beta}{\beta + t}\right)^{s-1}\right],
        \quad \frac{r \beta}{\alpha} \log(1 + t/\beta) \text{ at } s = 1.

    Parameters
    ----------
    t : numpy.ndarray
        Times since the first purchase.

    Returns
    -------
    numpy.ndarray
    """
    r, alpha, s, beta = params
    horizon = np.log1p(np.asarray(t, dtype=np.float64) / beta)
    return r / alpha * beta * horizon * _expm1_ratio((s - 1.0) * horizon)


def _expm1_ratio(v: np.ndarray | float) -> np.ndarray:
    """Return (1 - exp(-v)) / v, 1 at v = 0."""
    v = np.asarray(v, dtype=np.float64)
    safe = np.where(v == 0, 1.0, v)
    return np.where(v == 0, 1.0, -np.expm1(-safe) / safe)


def proba_no_purchase(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
) -> np.ndarray:
    r"""Return P(no purchase in (T, T + t] | x, t_x, T).

    A customer who is dead at :math:`T` makes none. One who is alive has the
    posterior :math:`\lambda \sim \Gamma(r + x, \alpha + T)` and, independent,
    :math:`\mu \sim \Gamma(s, \beta + T)`; given both, no purchase happens
    with probability :math:`\frac{\mu}{\lambda+\mu} +
    \frac{\lambda}{\lambda+\mu} e^{-(\lambda+\mu) t}`. Writing each fraction
    as an integral over time and integrating over the posterior,

    .. math::

        P_0 = 1 - P(\text{alive}) + P(\text{alive})\, A^{k} B^{s}
        \left[ s\, I(T; k, s + 1) + k\, I(T + t; k + 1, s) \right]

    with :math:`k = r + x`, :math:`A = \alpha + T`, :math:`B = \beta + T`
    and :math:`I(y; P, Q) = \int_y^\infty (\alpha+\tau)^{-P}
    (\beta+\tau)^{-Q} d\tau`. Both terms are positive, so the result is
    accurate even when it is tiny.

    Returns
    -------
    numpy.ndarray
        Probabilities in ``[0, 1]``, per customer.
    """
    r, alpha, s, beta = params
    layout, log_alive, log_dead, log_i_dead = _posterior(params, x, t_x, T)
    pair_x, pair_y = layout.pair_x, layout.pair_y
    k = r + pair_x
    log_prior = k * np.log(alpha + pair_y) + s * np.log(beta + pair_y)
    log_i_quiet, _ = log_tail_integral(k + 1.0, s, alpha, beta, pair_y + t)
    # E[mu / (lambda + mu)] + E[lambda / (lambda + mu) exp(-(lambda + mu) t)]
    if_alive = np.exp(log_prior + np.log(s) + log_i_dead) + np.exp(
        log_prior + np.log(k) + log_i_quiet
    )
    value = np.exp(log_dead) + np.exp(log_alive) * np.minimum(if_alive[layout.age_pair], 1.0)
    return np.clip(value, 0.0, 1.0)


def sample_customers(
    params: np.ndarray, T: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    r"""Simulate ``frequency``, ``recency`` and ``T`` from the Pareto/NBD model.

    :math:`\lambda \sim \Gamma(r, \alpha)`, :math:`\mu \sim \Gamma(s, \beta)`,
    lifetime :math:`\omega \sim \text{Exp}(\mu)`; the number of repeat
    purchases in :math:`(0, \min(\omega, T)]` is Poisson with mean
    :math:`\lambda \min(\omega, T)`, and given :math:`x > 0` the last one is
    the largest of :math:`x` uniform times, :math:`\min(\omega, T)\,U^{1/x}`.

    Parameters
    ----------
    T : numpy.ndarray
        Observation length of each customer.
    rng : numpy.random.Generator
        Random numbers.

    Returns
    -------
    dict of str to numpy.ndarray
        ``frequency``, ``recency`` and ``T``.
    """
    r, alpha, s, beta = params
    n = len(T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    with np.errstate(divide="ignore"):
        lifetime = rng.exponential(1.0, n) / mu
    window = np.minimum(lifetime, T)
    frequency = rng.poisson(lam * window).astype(np.float64)
    u = rng.random(n)
    with np.errstate(divide="ignore"):
        recency = np.where(frequency > 0, window * u ** (1.0 / np.maximum(frequency, 1.0)), 0.0)
    return {"frequency": frequency, "recency": recency, "T": np.asarray(T, dtype=np.float64)}
