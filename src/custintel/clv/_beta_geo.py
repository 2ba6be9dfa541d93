"""The BG/NBD and MBG/NBD purchase models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import numpy as np

from custintel.clv import _beta_geo_math as bgm
from custintel.clv._base import PurchaseMaths
from custintel.clv._boundary import DropoutModel
from custintel.clv._counts import CountMaths, PurchaseCountMixin
from custintel.clv._fit import LogLikelihood, MLEResult

__all__ = ["BetaGeoModel", "ModifiedBetaGeoModel"]


def _counts(modified: bool) -> CountMaths:
    return CountMaths(
        conditional=partial(bgm.proba_purchases, modified=modified),
        new_customer=partial(bgm.proba_purchases_new_customer, modified=modified),
    )


@dataclass(kw_only=True, repr=False, eq=False)
class _BetaGeoBase(PurchaseCountMixin, DropoutModel):
    """Shared implementation; ``_modified`` selects the model."""

    purchase_covariates: Sequence[str] | None = None
    dropout_covariates: Sequence[str] | None = None

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    # CLVTools' bgnbd with static covariates (src/bgnbd.cpp, bgnbd_staticcov_alpha_i,
    # _a_i, _b_i): alpha_i = alpha exp(-gamma_p' z), a_i = a exp(gamma_d' z),
    # b_i = b exp(gamma_d' z), one dropout coefficient vector for a and b.
    covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {
        "purchase": (("alpha", -1),),
        "dropout": (("a", 1), ("b", 1)),
    }
    dropout_params: ClassVar[tuple[str, ...]] = ("a", "b")
    edge: ClassVar[str] = "a -> 0: no customer drops out"
    _modified: ClassVar[bool] = False
    maths: ClassVar[PurchaseMaths] = PurchaseMaths.of(
        bgm, loglik="beta_geo_loglik", sample="sample_beta_geo", modified=False
    )
    count_maths: ClassVar[CountMaths] = _counts(False)

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
        # The likelihood is summed from sufficient statistics (totals per distinct
        # count and age; see beta_geo_stats) instead of per customer: one term of
        # weight n reaches fit_mle, so its mean, total and Hessian are those of
        # the full table.
        stats = bgm.beta_geo_stats(
            arrays["frequency"], arrays["recency"], arrays["T"], weights, modified=self._modified
        )

        def mean_loglik(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            total, grad = bgm.beta_geo_total_loglik(params, stats, modified=self._modified)
            return np.array([total / stats.n]), grad[None, :] / stats.n

        return mean_loglik, np.array([stats.n])

    def _initial_params(self, data: dict[str, np.ndarray]) -> np.ndarray:
        # Purchase rate ~ Gamma(1, alpha) with the mean rate of the repeat
        # purchases seen; dropout ~ Beta(1, 3). The optimiser works on the log
        # scale, so only the order of magnitude of alpha matters.
        mean_T = float(np.mean(data["T"]))
        mean_x = float(np.mean(data["frequency"]))
        alpha = mean_T / max(mean_x, 1e-2) if mean_T > 0 else 1.0
        return np.array([1.0, float(np.clip(alpha, 1e-4, 1e5)), 1.0, 3.0])


class BetaGeoModel(_BetaGeoBase):
    r"""BG/NBD model of repeat purchases and dropout ("beta-geometric/NBD").

    While alive, a customer makes repeat purchases as a Poisson process with
    rate :math:`\lambda`; after each repeat purchase they drop out for good
    with probability :math:`p`. Across customers
    :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` (``alpha`` a rate, in the
    time unit of the table) and :math:`p \sim \mathrm{Beta}(a, b)`,
    independently.

    It takes the fitting options every model of :mod:`custintel.clv` shares
    (``penalizer``, ``initial_params``, ``max_iter``, ``on_failure``) and has
    their fitted attributes (``params_``: ``r``, ``alpha``, ``a`` and ``b``;
    ``bse_``, ``log_likelihood_``...): see *Fitting options and fitted
    attributes* in the lifetime value guide. Every fit is also tested
    against the nested NBD model (``dropout_test_``, ``nested_model_``); a
    fit at :math:`a \to 0` is a boundary solution (``boundary_``) that
    predicts as :class:`NBDModel`: see *When the data show no dropout* there.

    Parameters
    ----------
    purchase_covariates : list of str or None, default=None
        Columns of the customer table (numeric, one value per customer, such
        as 0/1 dummies of ``customer_type``) that shift the purchase rate:
        :math:`\alpha_i = \alpha e^{-\gamma_P' z_i}`, so a positive
        coefficient multiplies the customer's expected purchase rate by
        :math:`e^{\gamma_P}` per unit of the covariate.
    dropout_covariates : list of str or None, default=None
        Columns that shift the dropout process: :math:`a_i = a e^{\gamma_D'
        z_i}` and :math:`b_i = b e^{\gamma_D' z_i}`, one coefficient for both,
        as in CLVTools' ``bgnbd`` with static covariates (``src/bgnbd.cpp``,
        ``bgnbd_staticcov_alpha_i``, ``_a_i`` and ``_b_i``; Fader and Hardie
        2007). The coefficients are fitted with the other parameters and
        appear in ``params_`` as ``"purchase:<column>"`` and
        ``"dropout:<column>"``, with standard errors and Wald tests in
        ``summary()``; predictions read each customer's columns. Predictions
        that need one parameter set for everyone (``predict_proba_purchases``,
        new customers, ``sample``) refuse a model with covariates, and the
        test against the nested NBD model is not run for it.

    See Also
    --------
    ModifiedBetaGeoModel : Lets customers drop out right after the first purchase too.

    Notes
    -----
    For a customer with :math:`x` repeat purchases, the last at :math:`t_x`,
    observed for :math:`T` since the first purchase, the likelihood is
    (FHL 2005, eq. 6)

    .. math::

        L = \frac{B(a, b + x)}{B(a, b)}
            \frac{\Gamma(r + x)\alpha^r}{\Gamma(r)(\alpha + T)^{r + x}}
          + \delta_{x > 0} \frac{B(a + 1, b + x - 1)}{B(a, b)}
            \frac{\Gamma(r + x)\alpha^r}{\Gamma(r)(\alpha + t_x)^{r + x}},

    evaluated in log space with an analytic gradient. The probability of
    being alive (Fader, Hardie and Lee 2008) is

    .. math::

        P(\text{alive}) = \left[1 + \delta_{x > 0} \frac{a}{b + x - 1}
            \left(\frac{\alpha + T}{\alpha + t_x}\right)^{r + x}\right]^{-1},

    which is 1 for every customer without a repeat purchase. Given alive,
    the posterior is :math:`\lambda \sim \mathrm{Gamma}(r + x, \alpha + T)`,
    :math:`p \sim \mathrm{Beta}(a, b + x)`, and a customer who is alive
    cannot drop out before their next purchase. Hence the probability of no
    purchase in :math:`(T, T + t]` is

    .. math::

        P_0(t) = 1 - P(\text{alive})\left[1 -
            \left(\frac{\alpha + T}{\alpha + T + t}\right)^{r + x}\right],

    a better churn score than :math:`1 - P(\text{alive})`. The conditional
    expectation (FHL 2005, eq. 10) is

    .. math::

        E[Y(t) \mid x, t_x, T] = P(\text{alive}) \frac{a + b + x - 1}{a - 1}
            \left[1 - \left(\frac{\alpha + T}{\alpha + T + t}\right)^{r + x}
            {}_2F_1\!\left(r + x, b + x; a + b + x - 1;
            \frac{t}{\alpha + T + t}\right)\right],

    and a new customer's :math:`E[X(t)]` (eq. 9) is the same with
    :math:`x = T = 0`. The distribution of the number of purchases
    (``predict_proba_purchases``; eq. 8 for a new customer,
    ``predict_proba_purchases_new``) is

    .. math::

        P(X(t) = n) = \frac{B(a, b + n)}{B(a, b)} \mathrm{NB}(n; r, \alpha, t)
          + \delta_{n > 0} \frac{B(a + 1, b + n - 1)}{B(a, b)}
            P(\mathrm{NB}(r, \alpha, t) \ge n),

    with :math:`\mathrm{NB}` the negative binomial count of the Gamma-Poisson
    process; given a history it is :math:`\delta_{n0}(1 - P(\text{alive}))`
    plus :math:`P(\text{alive})` times the same at the posterior
    :math:`(r + x, \alpha + T, a, b + x)`. The Gauss hypergeometric function is evaluated in an
    Euler-transformed form (a power series for short horizons, adaptive
    quadrature where scipy's ``hyp2f1`` fails), so predictions stay finite for
    frequencies in the hundreds and extreme ages.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting
       Your Customers' the Easy Way: An Alternative to the Pareto/NBD
       Model", Marketing Science, 24 (2), 275-284.
    .. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2008), "Computing
       P(alive) Using the BG/NBD Model", http://brucehardie.com/notes/021/.
    .. [3] Fader, P. S. and Hardie, B. G. S. (2007), "Incorporating
       Time-Invariant Covariates into the Pareto/NBD and BG/NBD Models",
       http://brucehardie.com/notes/019/.
    .. [4] Bachmann, P., Meierer, M. and Naef, J. (2021), "The Role of
       Time-Varying Contextual Factors in Latent Attrition Models for
       Customer Base Analysis", Marketing Science, 40 (4), 783-809 (CLVTools).

    Examples
    --------
    The CDNOW sample of Fader, Hardie and Lee (2005), in weeks:

    >>> from custintel.clv import BetaGeoModel
    >>> from custintel.datasets import load_cdnow_summary
    >>> X = load_cdnow_summary()
    >>> model = BetaGeoModel().fit(X)
    >>> model.params_.round(3).to_dict()
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> round(model.log_likelihood_, 1)
    -9582.4
    >>> model.predict_purchases(X, t=39).head(3).round(3)
    customer_id
    4     1.226
    18    0.197
    21    0.203
    Name: expected_purchases, dtype: float64
    >>> model.predict_proba_no_purchase(X, t=39).head(3).round(3).tolist()
    [0.445, 0.855, 0.883]
    >>> model.predict_proba_purchases(X, t=39, n=[0, 1, 2]).head(2).round(3)
    n                0      1      2
    customer_id
    4            0.445  0.239  0.144
    18           0.855  0.110  0.024
    """


class ModifiedBetaGeoModel(_BetaGeoBase):
    r"""MBG/NBD model: BG/NBD where customers may also drop out right after their first purchase.

    While alive, a customer makes repeat purchases as a Poisson process with
    rate :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; right after every
    purchase, the first one included, they drop out for good with
    probability :math:`p \sim \mathrm{Beta}(a, b)`. So a customer without a
    repeat purchase may already be gone, which BG/NBD rules out.

    Its options (``purchase_covariates`` and ``dropout_covariates`` too, in
    BG/NBD's parametrisation: CLVTools has no MBG/NBD), fitted attributes
    (including the test against the nested NBD model and ``boundary_``) and
    parameters are those of :class:`BetaGeoModel`.

    See Also
    --------
    BetaGeoModel : The original BG/NBD model.

    Notes
    -----
    The likelihood (Batislam, Denizel and Filiztekin 2007; Wagner and Hoppe
    2008) is

    .. math::

        L = \frac{B(a, b + x + 1)}{B(a, b)}
            \frac{\Gamma(r + x)\alpha^r}{\Gamma(r)(\alpha + T)^{r + x}}
          + \frac{B(a + 1, b + x)}{B(a, b)}
            \frac{\Gamma(r + x)\alpha^r}{\Gamma(r)(\alpha + t_x)^{r + x}},

    where the second term, for :math:`x = 0`, is the probability
    :math:`a / (a + b)` of dropping out at the first purchase. Then

    .. math::

        P(\text{alive}) = \left[1 + \frac{a}{b + x}
            \left(\frac{\alpha + T}{\alpha + t_x}\right)^{r + x}\right]^{-1}.

    Given alive, :math:`\lambda \sim \mathrm{Gamma}(r + x, \alpha + T)` and
    :math:`p \sim \mathrm{Beta}(a, b + x + 1)` (the customer survived
    :math:`x + 1` dropout chances), and the next dropout chance only comes
    with the next purchase. So, as for BG/NBD, the probability of no purchase
    in :math:`(T, T + t]` is

    .. math::

        P_0(t) = 1 - P(\text{alive})\left[1 -
            \left(\frac{\alpha + T}{\alpha + T + t}\right)^{r + x}\right],

    with this model's :math:`P(\text{alive})`. The conditional expectation is

    .. math::

        E[Y(t) \mid x, t_x, T] = P(\text{alive}) \frac{a + b + x}{a - 1}
            \left[1 - \left(\frac{\alpha + T}{\alpha + T + t}\right)^{r + x}
            {}_2F_1\!\left(r + x, b + x + 1; a + b + x;
            \frac{t}{\alpha + T + t}\right)\right],

    The distribution of the number of purchases is BG/NBD's with
    :math:`b + x + 1` for :math:`b + x` given a history; a new customer makes
    none with probability :math:`a / (a + b)` more, and otherwise counts as a
    BG/NBD customer with :math:`b + 1`. For a new customer, alive after the
    first purchase with probability :math:`1 - p`,

    .. math::

        E[X(t)] = \frac{b}{a - 1}\left[1 - \left(\frac{\alpha}{\alpha + t}\right)^r
            {}_2F_1\!\left(r, b + 1; a + b; \frac{t}{\alpha + t}\right)\right].

    References
    ----------
    .. [1] Batislam, E. P., Denizel, M. and Filiztekin, A. (2007), "Empirical
       Validation and Comparison of Models for Customer Base Analysis",
       International Journal of Research in Marketing, 24 (3), 201-209.
    .. [2] Wagner, U. and Hoppe, D. (2008), "Erratum on the MBG/NBD Model",
       International Journal of Research in Marketing, 25 (3), 225-226.

    Examples
    --------
    On the CDNOW sample, one-time buyers are no longer certainly alive:

    >>> from custintel.clv import ModifiedBetaGeoModel
    >>> from custintel.datasets import load_cdnow_summary
    >>> X = load_cdnow_summary()
    >>> model = ModifiedBetaGeoModel().fit(X)
    >>> model.predict_proba_alive(X).head(3).round(3)
    customer_id
    4     0.706
    18    0.391
    21    0.171
    Name: proba_alive, dtype: float64
    >>> model.params_.round(3).to_dict()
    {'r': 0.525, 'alpha': 6.183, 'a': 0.891, 'b': 1.614}
    """

    _modified: ClassVar[bool] = True
    maths: ClassVar[PurchaseMaths] = PurchaseMaths.of(
        bgm, loglik="beta_geo_loglik", sample="sample_beta_geo", modified=True
    )
    count_maths: ClassVar[CountMaths] = _counts(True)
