"""Gamma-Gamma spend model: log-likelihood and gradient (pure maths).

Fader, Hardie and Lee (2005), "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis"; Fader and Hardie (2013), "The Gamma-Gamma Model of
Monetary Value".
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln


def gamma_gamma_loglik(
    params: np.ndarray, x: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""Return the per-customer log-likelihood of mean spend ``m`` over ``x`` repeat purchases.

    .. math::

        \ell = \ln\Gamma(px + q) - \ln\Gamma(px) - \ln\Gamma(q) + q\ln\gamma
               + (px - 1)\ln m + px\ln x - (px + q)\ln(xm + \gamma)

    Parameters
    ----------
    params : numpy.ndarray
        ``(p, q, gamma)``.
    x, m : numpy.ndarray
        Repeat purchases (> 0) and their mean value (> 0).

    Returns
    -------
    ll : numpy.ndarray
        Shape ``(n,)``.
    grad : numpy.ndarray
        Shape ``(n, 3)``: derivatives with respect to ``p``, ``q`` and ``gamma``.
    """
    p, q, g = params
    px = p * x
    log_xm_g = np.log(x * m + g)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_xm_g
    )
    psi_sum = digamma(px + q)
    grad = np.empty((len(x), 3))
    grad[:, 0] = x * (psi_sum - digamma(px) + np.log(m) + np.log(x) - log_xm_g)
    grad[:, 1] = psi_sum - digamma(q) + np.log(g) - log_xm_g
    grad[:, 2] = q / g - (px + q) / (x * m + g)
    return ll, grad
