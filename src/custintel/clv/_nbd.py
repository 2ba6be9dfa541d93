"""The NBD purchase model: Poisson purchases with gamma-distributed rates, no dropout."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from custintel.clv import _nbd_math as nbd
from custintel.clv._base import PurchaseMaths, PurchaseModel

__all__ = ["NBDModel"]


class NBDModel(PurchaseModel):
    r"""NBD model of repeat purchases: Poisson purchases, gamma-distributed rates, no dropout.

    Every customer makes repeat purchases as a Poisson process of rate
    :math:`\lambda`, with :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`
    across customers (``alpha`` a rate, in the time unit of the table), and
    never drops out. It is what BG/NBD and MBG/NBD become as :math:`a \to 0`
    and Pareto/NBD as :math:`s \to 0` or :math:`\beta \to \infty`: when a
    window shows no dropout, their maximum-likelihood fits end there, and
    they report it (``boundary_``) and predict with this model. See *When
    the data show no dropout* in the lifetime value guide.

    It reads ``frequency`` and ``T`` (``recency`` is not needed: without
    dropout, the time of the last purchase says nothing about the future),
    takes the fitting options every model of :mod:`custintel.clv` shares and
    estimates ``params_`` ``r`` and ``alpha``.

    Notes
    -----
    With :math:`x` repeat purchases in :math:`(0, T]`, the log-likelihood of
    the purchase times is

    .. math::

        \log L = \log\Gamma(r + x) - \log\Gamma(r) + r\log\alpha
                 - (r + x)\log(\alpha + T),

    the limit of the BG/NBD and Pareto/NBD likelihoods, so log-likelihoods
    compare across the models. (It is the NBD count probability
    :math:`P(X(T) = x)` without the factor :math:`T^x / x!`, which does not
    depend on the parameters.) Given the history, the rate is
    :math:`\mathrm{Gamma}(r + x, \alpha + T)`, so

    .. math::

        E[Y(t) \mid x, T] = \frac{r + x}{\alpha + T}\, t, \qquad
        P(Y(t) = 0 \mid x, T) = \left(\frac{\alpha + T}{\alpha + T + t}\right)^{r + x},

    :math:`P(\text{alive}) = 1` and a new customer's
    :math:`E[X(t)] = r t / \alpha`.

    References
    ----------
    .. [1] Ehrenberg, A. S. C. (1959), "The Pattern of Consumer Purchases",
       Journal of the Royal Statistical Society C, 8 (1), 26-41.
    .. [2] Morrison, D. G. and Schmittlein, D. C. (1988), "Generalizing the
       NBD Model for Customer Purchases: What Are the Implications and Is It
       Worth the Effort?", Journal of Business & Economic Statistics, 6 (2),
       145-159.

    Examples
    --------
    >>> import pandas as pd
    >>> from custintel.clv import NBDModel
    >>> X = pd.DataFrame({"frequency": [0, 0, 1, 3, 12], "T": [60.0] * 5},
    ...                  index=pd.Index(list("abcde"), name="customer_id"))
    >>> model = NBDModel().fit(X)
    >>> model.params_.round(3).to_dict()
    {'r': 0.421, 'alpha': 7.898}
    >>> model.predict_purchases(X, t=30).round(3).tolist()
    [0.186, 0.186, 0.628, 1.512, 5.488]
    >>> model.predict_proba_alive(X).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha")
    columns: ClassVar[tuple[str, ...]] = ("frequency", "T")
    maths: ClassVar[PurchaseMaths] = PurchaseMaths.of(nbd, loglik="nbd_loglik", sample="sample_nbd")

    def _loglik(
        self, params: np.ndarray, data: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        return nbd.nbd_loglik(params, data["frequency"], data["frequency"], data["T"])

    def _check_data(self, arrays: dict[str, np.ndarray], index: pd.Index) -> None:
        """No recency to check."""

    def _initial_params(self, data: dict[str, np.ndarray]) -> np.ndarray:
        # A rate of the mean repeat purchases per unit time; only the order of magnitude
        # of alpha matters on the log scale the optimiser works in.
        mean_T = float(np.mean(data["T"]))
        mean_x = float(np.mean(data["frequency"]))
        alpha = mean_T / max(mean_x, 1e-2) if mean_T > 0 else 1.0
        return np.array([1.0, float(np.clip(alpha, 1e-4, 1e5))])
