r"""The NBD purchase model: likelihood, gradient and predictions (pure maths).

Every customer makes repeat purchases as a Poisson process of rate
:math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` (``alpha`` a rate) and never
drops out (Ehrenberg 1959; Morrison and Schmittlein 1988). It is the limit of
BG/NBD and MBG/NBD as :math:`a \to 0` and of Pareto/NBD as :math:`s \to 0`
or :math:`\beta \to \infty`: the model those fits reduce to when the data
show no dropout.

The functions take the arguments of the other purchase models so that
:class:`~custintel.clv._base.PurchaseMaths` can hold them: ``params`` is
``(r, alpha)``; ``x``, ``t_x``, ``T`` each customer's repeat purchases,
recency and age (the recency is not used: without dropout, when the last
purchase happened says nothing about the future); ``t`` a horizon.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

__all__ = [
    "expected_purchases",
    "expected_purchases_new_customer",
    "nbd_loglik",
    "proba_alive",
    "proba_no_purchase",
    "sample_nbd",
]


def nbd_loglik(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-customer log-likelihood of the purchase times and its gradient in ``(r, alpha)``.

    .. math::

        \log L = \log\Gamma(r + x) - \log\Gamma(r) + r \log\alpha
                 - (r + x)\log(\alpha + T)

    This is the density of the :math:`x` purchase times in :math:`(0, T]`,
    the likelihood BG/NBD and Pareto/NBD use, so log-likelihoods compare
    across the models. It differs from the NBD count probability
    :math:`P(X(T) = x)` by the factor :math:`T^x / x!`, which does not depend
    on the parameters.

    Returns
    -------
    ll : numpy.ndarray
        Shape ``(n,)``.
    grad : numpy.ndarray
        Shape ``(n, 2)``: derivatives with respect to ``r`` and ``alpha``.
    """
    r, alpha = params
    log_ratio = np.log(alpha) - np.log(alpha + T)
    ll = gammaln(r + x) - gammaln(r) + r * log_ratio - x * np.log(alpha + T)
    grad = np.empty((len(x), 2))
    grad[:, 0] = digamma(r + x) - digamma(r) + log_ratio
    grad[:, 1] = r / alpha - (r + x) / (alpha + T)
    return ll, grad


def proba_alive(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Return 1 for every customer: in the NBD model nobody drops out."""
    return np.ones(np.shape(x), dtype=np.float64)


def expected_purchases(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
) -> np.ndarray:
    r"""Return :math:`E[Y(t) \mid x, T] = t\,(r + x) / (\alpha + T)`.

    The posterior of the rate is :math:`\mathrm{Gamma}(r + x, \alpha + T)`.
    """
    r, alpha = params
    return t * (r + x) / (alpha + T)


def proba_no_purchase(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float
) -> np.ndarray:
    r"""Return :math:`P(Y(t) = 0 \mid x, T) = ((\alpha + T) / (\alpha + T + t))^{r + x}`."""
    r, alpha = params
    return np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))


def expected_purchases_new_customer(params: np.ndarray, t: np.ndarray) -> np.ndarray:
    r"""Return :math:`E[X(t)] = r t / \alpha` of a new customer."""
    r, alpha = params
    return r * np.asarray(t, dtype=np.float64) / alpha


def sample_nbd(
    params: np.ndarray, T: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    r"""Simulate ``frequency``, ``recency`` and ``T``.

    Each customer draws :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and
    :math:`x \sim \mathrm{Poisson}(\lambda T)`; the purchase times are then
    uniform on :math:`(0, T)`, so the last one is :math:`T U^{1/x}`.
    """
    r, alpha = params
    T = np.asarray(T, dtype=np.float64)
    lam = rng.gamma(r, 1.0 / alpha, len(T))
    frequency = rng.poisson(lam * T).astype(np.int64)
    recency = np.zeros(len(T))
    buyers = frequency > 0
    recency[buyers] = T[buyers] * rng.random(int(buyers.sum())) ** (1.0 / frequency[buyers])
    return {"frequency": frequency, "recency": recency, "T": T}
