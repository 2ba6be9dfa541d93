"""The Pareto/NBD model of repeat purchasing and dropout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from custintel.clv import _pareto_nbd_math as math
from custintel.clv._base import PurchaseMaths
from custintel.clv._boundary import DropoutModel
from custintel.clv._counts import CountMaths, PurchaseCountMixin
from custintel.clv._fit import LogLikelihood, MLEResult
from custintel.clv._pareto_nbd_predictive import PARETO_NBD_COUNTS

__all__ = ["ParetoNBDModel"]


@dataclass(kw_only=True, repr=False, eq=False)
class ParetoNBDModel(PurchaseCountMixin, DropoutModel):
    r"""Pareto/NBD model of how often customers buy and when they stop.

    While alive, a customer makes repeat purchases as a Poisson process of
    rate :math:`\lambda`, and stays alive for an exponential time of rate
    :math:`\mu`. Across customers :math:`\lambda \sim` Gamma(:math:`r`,
    :math:`\alpha`) and, independently, :math:`\mu \sim` Gamma(:math:`s`,
    :math:`\beta`), with :math:`\alpha` and :math:`\beta` rates (in the
    time unit of the table). Dropout can happen at any time, not only just
    after a purchase as in BG/NBD.

    Fitted with the options every model of :mod:`custintel.clv` takes, it
    estimates ``params_`` ``r``, ``alpha``, ``s`` and ``beta``, with standard
    errors ``bse_`` and the other attributes described in the lifetime value
    guide (*Fitting options and fitted attributes*). Every fit is also tested
    against the nested NBD model (``dropout_test_``, ``nested_model_``); a
    fit at :math:`s \to 0` or :math:`\beta \to \infty` is a boundary
    solution (``boundary_``) that predicts as :class:`NBDModel`, instead of
    a ``ConvergenceError``: see *When the data show no dropout* in the guide.

    Parameters
    ----------
    purchase_covariates : list of str or None, default=None
        Columns of the customer table (numeric, one value per customer) that
        shift the purchase rate: :math:`\alpha_i = \alpha e^{-\gamma_P' z_i}`
        (a positive coefficient multiplies the expected purchase rate by
        :math:`e^{\gamma_P}` per unit).
    dropout_covariates : list of str or None, default=None
        Columns that shift the dropout rate: :math:`\beta_i = \beta
        e^{-\gamma_D' z_i}` (a positive coefficient multiplies the expected
        dropout rate by :math:`e^{\gamma_D}`). This is CLVTools' ``pnbd`` with
        static covariates (``src/pnbd.cpp``, ``pnbd_staticcov_alpha_i`` and
        ``pnbd_staticcov_beta_i``; Fader and Hardie 2007). Coefficients,
        standard errors and Wald tests are in ``params_``, ``bse_`` and
        ``summary()``; predictions read each customer's columns. The
        likelihood's integral takes one :math:`(\alpha, \beta)` at a time, so
        it runs once per distinct covariate pattern: quick for dummies, slow
        for a continuous covariate with a value per customer.

    Notes
    -----
    With :math:`x` repeat purchases, the last at :math:`t_x`, in
    :math:`(0, T]`, the likelihood (Fader and Hardie 2005, eq. 18) is

    .. math::

        L = \frac{\Gamma(r+x)\,\alpha^r \beta^s}{\Gamma(r)}
            \left[\frac{1}{(\alpha+T)^{r+x} (\beta+T)^s}
            + \frac{s}{r+s+x} A_0\right],

    where, with :math:`m = \max(\alpha, \beta)`,
    :math:`F(y) = {}_2F_1(r+s+x, c; r+s+x+1; |\alpha-\beta| / (m+y))
    / (m+y)^{r+s+x}` and :math:`c = s+1` if :math:`\alpha \ge \beta`, else
    :math:`c = r+x`, :math:`A_0 = F(t_x) - F(T)`. The hypergeometric terms are
    computed in log space, from an (Euler-transformed) series whose terms are
    all positive, and by quadrature where the argument is close to 1 (see
    :mod:`custintel.clv._pareto_nbd_math`), so the likelihood and its analytic
    gradient stay accurate and finite for hundreds of purchases, :math:`T`
    from :math:`10^{-6}` to :math:`10^5`, and :math:`\alpha` equal to, or
    many orders of magnitude away from, :math:`\beta`.

    Predictions (Fader and Hardie 2005, eqs. 17, 19, 22):

    .. math::

        P(\text{alive}) &= \frac{(\alpha+T)^{-(r+x)} (\beta+T)^{-s}}
            {(\alpha+T)^{-(r+x)} (\beta+T)^{-s} + \frac{s}{r+s+x} A_0}, \\
        E[Y(t) \mid x, t_x, T] &= P(\text{alive}) \frac{(r+x)(\beta+T)}
            {(\alpha+T)(s-1)} \left[1 - \left(\frac{\beta+T}{\beta+T+t}
            \right)^{s-1}\right], \\
        E[X(t)] &= \frac{r\beta}{\alpha(s-1)}\left[1 -
            \left(\frac{\beta}{\beta+t}\right)^{s-1}\right],

    with the :math:`\log` limits at :math:`s = 1`. The probability of no
    purchase in :math:`(T, T+t]` averages, over the posterior of an alive
    customer (:math:`\lambda \sim \Gamma(r+x, \alpha+T)`,
    :math:`\mu \sim \Gamma(s, \beta+T)`), the chance
    :math:`\frac{\mu}{\lambda+\mu} + \frac{\lambda}{\lambda+\mu}
    e^{-(\lambda+\mu)t}` of dying or staying silent; see
    :func:`custintel.clv._pareto_nbd_math.proba_no_purchase`.

    References
    ----------
    .. [1] Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987),
       "Counting Your Customers: Who Are They and What Will They Do Next?",
       Management Science, 33 (1), 1-24.
    .. [2] Fader, P. S. and Hardie, B. G. S. (2005), "A Note on Deriving the
       Pareto/NBD Model and Related Expressions",
       http://brucehardie.com/notes/009/.
    .. [3] Fader, P. S. and Hardie, B. G. S., "Deriving the
       Conditional PMF of the Pareto/NBD Model",
       http://brucehardie.com/notes/028/.
    .. [4] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting
       Your Customers' the Easy Way: An Alternative to the Pareto/NBD Model",
       Marketing Science, 24 (2), 275-284 (the CDNOW estimates).
    .. [5] Fader, P. S. and Hardie, B. G. S. (2007), "Incorporating
       Time-Invariant Covariates into the Pareto/NBD and BG/NBD Models",
       http://brucehardie.com/notes/019/.

    Examples
    --------
    >>> from custintel.clv import ParetoNBDModel
    >>> from custintel.datasets import load_cdnow_summary
    >>> X = load_cdnow_summary()
    >>> model = ParetoNBDModel().fit(X)
    >>> round(model.log_likelihood_, 1)
    -9595.0
    >>> model.params_.round(3).to_dict()
    {'r': 0.553, 'alpha': 10.58, 's': 0.606, 'beta': 11.67}
    >>> model.predict_purchases(X, t=39).iloc[:2].round(3)
    customer_id
    4     1.455
    18    0.109
    Name: expected_purchases, dtype: float64
    """

    purchase_covariates: Sequence[str] | None = None
    dropout_covariates: Sequence[str] | None = None

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    # CLVTools' pnbd with static covariates (src/pnbd.cpp, pnbd_staticcov_alpha_i and
    # _beta_i): alpha_i = alpha exp(-gamma_p' z), beta_i = beta exp(-gamma_d' z).
    covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {
        "purchase": (("alpha", -1),),
        "dropout": (("beta", -1),),
    }
    # The integral I(y) takes one (alpha, beta): a covariate model runs it once per
    # distinct covariate pattern.
    broadcasts: ClassVar[bool] = False
    dropout_params: ClassVar[tuple[str, ...]] = ("s", "beta")
    edge: ClassVar[str] = "s -> 0 or beta -> infinity: no customer drops out"
    maths: ClassVar[PurchaseMaths] = PurchaseMaths.of(math, loglik="pareto_nbd_loglik")
    count_maths: ClassVar[CountMaths] = PARETO_NBD_COUNTS

    def _after_fit(
        self, result: MLEResult, arrays: dict[str, np.ndarray], weights: np.ndarray
    ) -> MLEResult:
        if self._coef_names():
            # The NBD comparison has no covariates: it is not run for a covariate fit.
            self.boundary_, self.nested_model_, self.dropout_test_ = False, None, None
            return result
        return super()._after_fit(result, arrays, weights)

    def _fit_terms(
        self, arrays: dict[str, np.ndarray], weights: np.ndarray
    ) -> tuple[LogLikelihood, np.ndarray]:
        if self._coef_names():
            return super()._fit_terms(arrays, weights)
        # Index the distinct (x, t_x) and (x, T) pairs once per fit; identical
        # customers are those with the same two pairs, merged by hashing two codes.
        layout = math.make_layout(arrays["frequency"], arrays["recency"], arrays["T"])
        layout, merged = math.compress_layout(layout, weights)
        return (lambda params: math.layout_loglik(params, layout)), merged

    def _initial_params(self, data: dict[str, np.ndarray]) -> np.ndarray:
        # rates of the right order: purchases per unit time of the active, and a
        # dropout time scale of the observation length
        x, T = data["frequency"], data["T"]
        mean_T = max(float(np.mean(T)), 1e-6)
        rate = max(float(np.mean(x)), 0.05) / mean_T
        return np.array([1.0, 1.0 / rate, 1.0, mean_T])
