"""The Gamma-Gamma model of the value of repeat purchases."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from custintel.clv._base import ParametricModel
from custintel.clv._gamma_gamma_math import gamma_gamma_loglik
from custintel.exceptions import DataQualityWarning, warn
from custintel.typing import CustomerTable

__all__ = ["GammaGammaModel"]


class GammaGammaModel(ParametricModel):
    r"""Gamma-Gamma model of average spend per repeat purchase.

    Each customer's purchase values are Gamma(:math:`p`, :math:`\nu`) with
    :math:`\nu \sim` Gamma(:math:`q`, :math:`\gamma`) across customers, and
    spend is independent of purchase frequency.

    The fitting options and fitted attributes (here ``params_`` ``p``, ``q``
    and ``gamma``) are those every model of :mod:`custintel.clv` shares; see
    the lifetime value guide. Besides them:

    Attributes
    ----------
    n_excluded_ : int
        Repeat buyers left out because their mean spend is 0.

    Notes
    -----
    The model is fitted on repeat buyers only (``frequency > 0``): their
    mean repeat spend :math:`\bar m_x` is informative. With
    :math:`x` repeat purchases the expected mean spend is

    .. math::

        E[M \mid x, \bar m_x] = \frac{p(\gamma + x \bar m_x)}{px + q - 1},

    a weighted average of the population mean :math:`p\gamma/(q-1)` and the
    customer's own mean. Customers with a repeat purchase but a mean spend
    of 0 cannot come from a Gamma distribution; they are excluded with a
    :class:`~custintel.exceptions.DataQualityWarning`.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV:
       Using Iso-Value Curves for Customer Base Analysis", Journal of
       Marketing Research, 42 (4), 415-430.
    .. [2] Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
       Monetary Value", http://brucehardie.com/notes/025/.

    Examples
    --------
    >>> from custintel.clv import GammaGammaModel
    >>> from custintel.datasets import load_cdnow_summary
    >>> model = GammaGammaModel().fit(load_cdnow_summary())
    >>> model.params_.round(2).to_dict()
    {'p': 6.25, 'q': 3.74, 'gamma': 15.44}
    >>> round(model.log_likelihood_, 2)
    -4055.92
    """

    param_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")
    columns: ClassVar[tuple[str, ...]] = ("frequency", "monetary_value")
    integer_columns: ClassVar[tuple[str, ...]] = ("frequency",)

    def _prepare(self, X: Any) -> tuple[dict[str, np.ndarray], pd.Index]:
        arrays, index, _, _ = self._repeat_buyers(X)
        return arrays, index

    def _repeat_buyers(self, X: Any) -> tuple[dict[str, np.ndarray], pd.Index, np.ndarray, int]:
        """Check ``X``; return the usable repeat buyers, their mask and the count left out.

        Sets no attribute: ``score`` goes through here too, and must not change
        the fitted ``n_excluded_``.
        """
        arrays, index = self._checked_table(X)
        repeat = arrays["frequency"] > 0
        zero_spend = repeat & (arrays["monetary_value"] <= 0)
        n_excluded = int(zero_spend.sum())
        if n_excluded:
            warn(
                f"{n_excluded:,} repeat buyers have a mean repeat spend of 0; the "
                "Gamma-Gamma model cannot use them and leaves them out of the fit.",
                DataQualityWarning,
            )
        keep = repeat & ~zero_spend
        if not keep.any():
            raise ValueError(
                "GammaGammaModel needs repeat buyers (frequency > 0) with a positive "
                "monetary_value; the table has none"
            )
        return (
            {name: values[keep] for name, values in arrays.items()},
            index[keep],
            keep,
            n_excluded,
        )

    def fit(self, X: CustomerTable, y: Any = None, *, sample_weight: Any = None) -> GammaGammaModel:
        """Estimate ``p``, ``q`` and ``gamma`` from repeat buyers' mean spend.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency`` and ``monetary_value``.
        y : None
            Ignored.
        sample_weight : array-like, optional
            Number of customers each row stands for.

        Returns
        -------
        self
        """
        # Validate X first, so a missing column is a SchemaError even with sample_weight.
        arrays, index, keep, excluded = self._repeat_buyers(X)
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != keep.shape:
                raise ValueError(
                    f"sample_weight must be {len(keep)} numbers, one per row of X; "
                    f"got shape {weights.shape}"
                )
            sample_weight = weights[keep]
        kept = pd.DataFrame(arrays, index=index)
        super().fit(kept, sample_weight=sample_weight)
        self.n_excluded_ = excluded
        q = float(self.params_["q"])
        if q <= 1:
            warn(
                f"GammaGammaModel: q = {q:.4g} <= 1, so the population mean spend "
                "p * gamma / (q - 1) does not exist; predict_spend is infinite for customers "
                "with p * frequency + q <= 1 (all one-time buyers). The spend data are very "
                "heavy-tailed: check for outliers, or use a penalizer.",
                DataQualityWarning,
            )
        return self

    def _loglik(
        self, params: np.ndarray, data: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        return gamma_gamma_loglik(params, data["frequency"], data["monetary_value"])

    def predict_spend(self, X: CustomerTable) -> pd.Series:
        r"""Return the expected mean value of each customer's future purchases.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with ``frequency`` and ``monetary_value``.

        Returns
        -------
        pandas.Series
            Indexed like ``X``; one-time buyers get the population mean
            :math:`p\gamma/(q-1)`. Infinite where :math:`px + q \le 1` (for
            one-time buyers: ``q <= 1``), where the mean does not exist.
        """
        p, q, g = self._params
        arrays, index = self._checked_table(X)
        x, m = arrays["frequency"], arrays["monetary_value"]
        # The posterior mean of 1/nu exists only when p x + q > 1; otherwise E[M] is infinite
        # (the formula would turn negative there).
        denominator = p * x + q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            spend = np.where(denominator > 0, p * (g + x * m) / denominator, np.inf)
        return pd.Series(spend, index=index, name="expected_spend")
