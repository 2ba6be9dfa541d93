r"""The distribution of the number of future purchases: P(X(t) = n).

The purchase models predict the *mean* number of purchases in a horizon; an
analyst often needs the whole distribution ("how likely is this customer to
buy at least twice next quarter?"). This module holds what every model shares:
the negative binomial (NBD) probabilities that the Poisson-Gamma purchase
process gives, and :class:`PurchaseCountMixin`, which adds
``predict_proba_purchases`` (a known customer, conditional on their history)
and ``predict_proba_purchases_new`` (a customer just acquired) to a purchase
model that declares its formulas in a :class:`CountMaths`.

Every model here shares one structure: a customer who is still alive at the
end of observation has a posterior purchase rate
:math:`\lambda \sim \mathrm{Gamma}(r', \alpha')` and a posterior dropout
process, and (by memorylessness) buys in :math:`(T, T + t]` as a *new*
customer with those posterior parameters would. So

.. math::

    P(X(T, T + t) = n \mid \text{history}) =
        \delta_{n0}\,(1 - P(\text{alive})) + P(\text{alive})\, P_{\text{alive}}(n; t),

and a model only needs the probabilities :math:`P_{\text{alive}}` of a
customer alive now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import betainc, gammaln, xlog1py, xlogy
from sklearn.utils.validation import check_is_fitted

from custintel.typing import CustomerTable

__all__ = [
    "NBD_COUNTS",
    "CountMaths",
    "PurchaseCountMixin",
    "check_counts",
    "nbd_log_pmf",
    "nbd_sf",
]


def nbd_log_pmf(
    r: np.ndarray | float, alpha: np.ndarray | float, t: np.ndarray | float, n: np.ndarray | float
) -> np.ndarray:
    r"""Return :math:`\ln P(N = n)` for the NBD count of a Gamma(r, alpha)-rate Poisson process.

    .. math::

        P(N(t) = n) = \frac{\Gamma(r + n)}{\Gamma(r)\, n!}
            \left(\frac{\alpha}{\alpha + t}\right)^r \left(\frac{t}{\alpha + t}\right)^n

    Parameters
    ----------
    r, alpha : float or numpy.ndarray
        Shape and rate of the Gamma distribution of the purchase rate.
    t : float or numpy.ndarray
        Length of the interval (``>= 0``; ``t = 0`` gives a point mass at 0).
    n : float or numpy.ndarray
        Whole numbers ``>= 0``.

    Returns
    -------
    numpy.ndarray
        Broadcast over the inputs; ``-inf`` where the probability is 0.
    """
    r, alpha, t, n = (np.asarray(v, dtype=np.float64) for v in (r, alpha, t, n))
    # n log(t / (alpha + t)), 0 at n = 0 (also when t = 0); -inf for n > 0 at t = 0
    share = xlogy(n, t) - xlogy(n, alpha + t)
    return np.asarray(
        gammaln(r + n) - gammaln(r) - gammaln(n + 1.0) - xlog1py(r, t / alpha) + share
    )


def nbd_sf(
    r: np.ndarray | float, alpha: np.ndarray | float, t: np.ndarray | float, n: np.ndarray | float
) -> np.ndarray:
    r"""Return :math:`P(N(t) \ge n)` for the NBD count, by the regularised incomplete beta function.

    :math:`P(N \ge n) = I_{t / (\alpha + t)}(n, r)` for :math:`n \ge 1`, and 1
    for :math:`n = 0`; computed directly, never as ``1 - cdf``, so small tail
    probabilities keep their relative accuracy.

    Parameters
    ----------
    r, alpha, t, n
        As for :func:`nbd_log_pmf`.

    Returns
    -------
    numpy.ndarray
        Probabilities, broadcast over the inputs.
    """
    r, alpha, t, n = (np.asarray(v, dtype=np.float64) for v in (r, alpha, t, n))
    share = t / (alpha + t)
    safe_n = np.where(n > 0, n, 1.0)
    return np.asarray(np.where(n > 0, betainc(safe_n, r, share), 1.0))


def check_counts(n: Any) -> tuple[np.ndarray, bool]:
    """Return the purchase counts ``n`` as whole-number floats, and whether ``n`` was a scalar.

    Raises
    ------
    ValueError
        If ``n`` is not one whole number ``>= 0`` or a sequence of them.
    """
    scalar = np.ndim(n) == 0
    try:
        counts = np.atleast_1d(np.asarray(n, dtype=np.float64))
    except (TypeError, ValueError):
        counts = np.array([np.nan])
    if (
        counts.ndim != 1
        or counts.size == 0
        or not np.all(np.isfinite(counts))
        or (counts < 0).any()
        or (counts != np.round(counts)).any()
    ):
        raise ValueError(f"n must be a whole number of purchases >= 0 or a list of them, got {n!r}")
    return counts, scalar


def _nbd_conditional(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float, n: float
) -> np.ndarray:
    r, alpha = params[:2]
    return np.exp(nbd_log_pmf(r + x, alpha + T, t, n))


def _nbd_new(params: np.ndarray, t: np.ndarray, n: np.ndarray) -> np.ndarray:
    r, alpha = params[:2]
    return np.exp(nbd_log_pmf(r, alpha, t, n))


@dataclass(frozen=True)
class CountMaths:
    """A model's formulas for the distribution of the number of purchases.

    Attributes
    ----------
    conditional : callable
        ``(params, x, t_x, T, t, n) -> P(X(T, T + t) = n | x, t_x, T)`` per
        customer, for one whole number ``n``.
    new_customer : callable
        ``(params, t, n) -> P(X(t) = n)`` of a new customer, broadcast over
        ``t`` and ``n``.
    """

    conditional: Callable[..., np.ndarray]
    new_customer: Callable[..., np.ndarray]


#: The NBD model's count distribution: nobody drops out, the posterior rate is
#: Gamma(r + x, alpha + T). Used by a boundary solution of a model with dropout.
NBD_COUNTS = CountMaths(conditional=_nbd_conditional, new_customer=_nbd_new)


class PurchaseCountMixin:
    """Adds the distribution of the number of future purchases to a purchase model.

    The class it is mixed into is a :class:`~custintel.clv._base.PurchaseModel`
    and sets :attr:`count_maths`. A fit that reduced to the nested NBD model
    (``boundary_``) predicts with the NBD's distribution, as its other
    predictions do.
    """

    #: The model's count formulas.
    count_maths: ClassVar[CountMaths]

    def _count_scoring(self) -> tuple[CountMaths, np.ndarray]:
        own_maths = type(self).maths  # type: ignore[attr-defined]
        maths, params = self._scoring()  # type: ignore[attr-defined]
        return (self.count_maths if maths is own_maths else NBD_COUNTS), params

    def predict_proba_purchases(
        self, X: CustomerTable, *, t: float, n: int | Sequence[int]
    ) -> pd.Series | pd.DataFrame:
        r"""Predict the probability of exactly ``n`` purchases by each customer in the next ``t``.

        :math:`P(X(T, T + t) = n \mid x, t_x, T)`, the distribution behind
        :meth:`predict_purchases`: it sums to 1 over ``n``, its mean is
        :meth:`predict_purchases` and ``n = 0`` is
        :meth:`predict_proba_no_purchase`. The formula is in the model's
        Notes and in *Predictions the peers have* in the lifetime value
        guide.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency``, ``recency`` and ``T``.
        t : float
            Horizon, in the time unit of the table.
        n : int or sequence of int
            Number(s) of purchases, whole numbers ``>= 0``.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            For one ``n``: a Series ``proba_purchases`` indexed like ``X``.
            For a sequence: a DataFrame with one column per ``n``.
        """
        horizon = self._horizon(t)  # type: ignore[attr-defined]
        counts, scalar = check_counts(n)
        check_is_fitted(self, "params_")
        self._check_time_unit(X)  # type: ignore[attr-defined]
        arrays, index = self._prepare(X)  # type: ignore[attr-defined]
        maths, params = self._count_scoring()
        columns = {
            int(k): maths.conditional(
                params, arrays["frequency"], arrays["recency"], arrays["T"], horizon, float(k)
            )
            for k in counts
        }
        if scalar:
            return pd.Series(columns[int(counts[0])], index=index, name="proba_purchases")
        frame = pd.DataFrame(columns, index=index)
        frame.columns.name = "n"
        return frame

    def predict_proba_purchases_new(self, t: Any, n: Any) -> np.ndarray:
        r"""Return :math:`P(X(t) = n)` for a new customer: ``n`` repeat purchases by age ``t``.

        The unconditional distribution of the model (no history yet), whose
        mean is :meth:`expected_purchases_new_customer`.

        Parameters
        ----------
        t : float or array-like of float
            Ages since the first purchase, in the time unit of the fit.
        n : int or array-like of int
            Numbers of repeat purchases (whole numbers ``>= 0``); broadcast
            with ``t``.

        Returns
        -------
        numpy.ndarray
            Probabilities, shaped like ``t`` and ``n`` broadcast together.
        """
        check_is_fitted(self, "params_")
        ages = self._ages(t)  # type: ignore[attr-defined]
        counts, _ = check_counts(np.ravel(n))
        counts = counts.reshape(np.shape(n))
        maths, params = self._count_scoring()
        ages_b, counts_b = np.broadcast_arrays(ages, counts)
        return np.asarray(maths.new_customer(params, ages_b, counts_b))
