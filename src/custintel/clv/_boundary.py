r"""Purchase models with dropout, and what they do when the data show none.

BG/NBD, MBG/NBD and Pareto/NBD nest the NBD model: as the dropout
parameters go to the edge of their space (:math:`a \to 0`; :math:`s \to 0`
or :math:`\beta \to \infty`) nobody drops out and the likelihood becomes the
NBD likelihood. When a window shows no dropout, the maximum of the
likelihood lies on that edge: the optimiser drifts there and either stops in
the flat region or at the bound of its search. Every fit of these models is
therefore compared with the nested NBD fit by a likelihood-ratio test, and a
fit that is no better than the NBD is reported as a boundary solution
(``boundary_``), predicts with the NBD fit and says so once, in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from custintel.clv._base import PurchaseMaths, PurchaseModel
from custintel.clv._fit import MLEResult
from custintel.clv._nbd import NBDModel
from custintel.exceptions import ConvergenceError, DataQualityWarning, quiet, warn
from custintel.export import NONNEGATIVE, UNIT_INTERVAL, ExportReader

__all__ = ["NO_DROPOUT", "DropoutModel", "LikelihoodRatioTest"]

#: The plain-words outcome of a boundary solution (warnings, pipeline notes, the report).
NO_DROPOUT = (
    "no evidence of dropout in this window: P(alive) is 1 for everyone; forecasts equal "
    "the NBD model's"
)
#: A fit whose likelihood-ratio statistic against the NBD is below this is the NBD: the
#: optimiser's own tolerance, far below any test level (p = 0.46 at 0.01).
BOUNDARY_LR = 0.01
#: The null distribution used for the p-value.
MIXTURE = "50:50 mixture of chi2(0) and chi2(1)"


@dataclass(frozen=True)
class LikelihoodRatioTest:
    r"""Likelihood-ratio test of a purchase model with dropout against the nested NBD model.

    Attributes
    ----------
    statistic : float
        :math:`LR = 2(\ell_1 - \ell_0) \ge 0`, with :math:`\ell_1` the
        model's and :math:`\ell_0` the NBD's log-likelihood (0 when the
        optimiser ends slightly below the NBD).
    p_value : float
        :math:`\tfrac12 P(\chi^2_1 > LR)` (1 when :math:`LR = 0`).
    log_likelihood, nested_log_likelihood : float
        :math:`\ell_1` and :math:`\ell_0`.
    boundary : bool
        Whether the fit is a boundary solution: its statistic is below
        :data:`BOUNDARY_LR` (no parameter other than the dropout parameters
        at a bound), so the model is the NBD model.
    distribution : str
        The null distribution of the p-value: the 50:50 mixture of
        :math:`\chi^2_0` and :math:`\chi^2_1`.

    Notes
    -----
    Under the null the dropout parameter lies on the boundary of its space
    (:math:`a = 0`; :math:`s = 0`), so the statistic is not :math:`\chi^2_1`
    but, by Self and Liang (1987), a 50:50 mixture of a point mass at 0 and
    :math:`\chi^2_1`: the p-value is half the :math:`\chi^2_1` one. Under
    the null the second dropout parameter (:math:`b`; :math:`\beta`) is not
    identified, so the mixture is an approximation.

    References
    ----------
    .. [1] Self, S. G. and Liang, K.-Y. (1987), "Asymptotic Properties of
       Maximum Likelihood Estimators and Likelihood Ratio Tests under
       Nonstandard Conditions", Journal of the American Statistical
       Association, 82 (398), 605-610.
    """

    statistic: float
    p_value: float
    log_likelihood: float
    nested_log_likelihood: float
    boundary: bool
    distribution: str = MIXTURE

    @classmethod
    def compute(
        cls, log_likelihood: float, nested_log_likelihood: float, *, boundary: bool
    ) -> LikelihoodRatioTest:
        """Build the test from the two maximised log-likelihoods."""
        statistic = max(0.0, 2.0 * (log_likelihood - nested_log_likelihood))
        p_value = 1.0 if statistic <= 0 else 0.5 * float(stats.chi2.sf(statistic, 1))
        return cls(statistic, p_value, log_likelihood, nested_log_likelihood, boundary)

    def describe(self) -> str:
        """One phrase: ``likelihood-ratio test against the NBD: LR = ..., p = ...``."""
        return (
            f"likelihood-ratio test against the NBD model: LR = {self.statistic:.2f}, "
            f"p = {self.p_value:.2f} ({self.distribution})"
        )


class DropoutModel(PurchaseModel):
    """Base of the purchase models that nest the NBD model (BG/NBD, MBG/NBD, Pareto/NBD).

    After the maximum-likelihood fit, the nested :class:`NBDModel` is fitted
    on the same table and the two are compared by a likelihood-ratio test.

    Attributes
    ----------
    dropout_test_ : LikelihoodRatioTest or None
        The test against the NBD model; ``None`` when the NBD could not be
        fitted.
    nested_model_ : NBDModel or None
        The NBD fit on the same table.
    boundary_ : bool
        Whether the fit is a boundary solution (see
        :class:`LikelihoodRatioTest`): no evidence of dropout in the
        window. Then P(alive) is 1 for everyone and every prediction is the
        NBD model's, the fit counts as converged even if the dropout
        parameters reached the bound of the search, and a
        ``DataQualityWarning`` says so once.
    """

    #: Parameters that vanish (or diverge) at the NBD limit.
    dropout_params: ClassVar[tuple[str, ...]] = ()
    #: How the parameters reach the NBD limit, for messages.
    edge: ClassVar[str] = ""

    def _after_fit(
        self, result: MLEResult, arrays: dict[str, np.ndarray], weights: np.ndarray
    ) -> MLEResult:
        self.boundary_ = False
        self.nested_model_: NBDModel | None = None
        self.dropout_test_: LikelihoodRatioTest | None = None
        table = pd.DataFrame({"frequency": arrays["frequency"], "T": arrays["T"]})
        nested = NBDModel(penalizer=self.penalizer, max_iter=self.max_iter)
        try:
            with quiet():
                nested.fit(table, sample_weight=weights)
        except (ConvergenceError, ValueError):
            return result
        dropout = np.isin(np.array(self.param_names), self.dropout_params)
        others_at_bound = (
            bool(np.any(result.at_bound & ~dropout)) if result.at_bound.size else False
        )
        statistic = 2.0 * (result.log_likelihood - float(nested.log_likelihood_))
        boundary = statistic < BOUNDARY_LR and not others_at_bound
        self.nested_model_ = nested
        self.dropout_test_ = LikelihoodRatioTest.compute(
            result.log_likelihood, float(nested.log_likelihood_), boundary=boundary
        )
        if not boundary:
            return result
        self.boundary_ = True
        r, alpha = nested.params_.to_numpy()
        warn(
            f"{type(self).__name__}: {NO_DROPOUT}. The fit ends on the edge of the parameter "
            f"space ({self.edge}), where the model is the NBD model (r = {r:.4g}, "
            f"alpha = {alpha:.4g}); {self.dropout_test_.describe()}. It predicts with that "
            "fit (nested_model_); fit NBDModel directly, or use a window long enough to see "
            "customers leave.",
            DataQualityWarning,
        )
        # The maximum is the NBD's, which converged; the bound was the edge, not a failure.
        return replace(
            result,
            converged=True,
            message=f"boundary solution ({self.edge}): the NBD model; {result.message}",
        )

    def _scoring(self) -> tuple[PurchaseMaths, np.ndarray]:
        nested = getattr(self, "nested_model_", None)
        if getattr(self, "boundary_", False) and nested is not None:
            return nested.maths, nested._params
        return super()._scoring()

    # --- export ----------------------------------------------------------------------

    _EXPORT_OPTIONAL: ClassVar[tuple[str, ...]] = (
        *PurchaseModel._EXPORT_OPTIONAL,
        "dropout_test",
    )

    def to_dict(self) -> dict[str, Any]:
        """Export as :meth:`ParametricModel.to_dict`, with the test against the NBD model.

        Returns
        -------
        dict
            The fields of every model, plus ``dropout_test`` (``statistic``,
            ``p_value``, ``boundary`` and the NBD fit's own export
            ``nested_model``) when the test was computed.
        """
        export = super().to_dict()
        test, nested = getattr(self, "dropout_test_", None), getattr(self, "nested_model_", None)
        if test is not None and nested is not None:
            export["dropout_test"] = {
                "statistic": float(test.statistic),
                "p_value": float(test.p_value),
                "boundary": bool(test.boundary),
                "nested_model": nested.to_dict(),
            }
        return export

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> DropoutModel:
        """Rebuild a fitted model from :meth:`to_dict` output (or its JSON text).

        Checked as :meth:`ParametricModel.from_dict` checks every export; an
        optional ``dropout_test`` needs ``statistic`` (``>= 0``),
        ``p_value`` (in [0, 1]), ``boundary`` (a bool) and ``nested_model``
        (an :class:`NBDModel` export, checked by its own ``from_dict``).

        Returns
        -------
        DropoutModel
        """
        model = super().from_dict(data)
        assert isinstance(model, DropoutModel)
        reader = ExportReader(f"{cls.__name__} export")
        export = reader.load(data)
        model.boundary_ = False
        model.nested_model_ = None
        model.dropout_test_ = None
        if "dropout_test" not in export:
            return model
        raw = reader.keys(
            export["dropout_test"],
            "dropout_test",
            required=("statistic", "p_value", "boundary", "nested_model"),
        )
        statistic = reader.number(raw["statistic"], "dropout_test.statistic", NONNEGATIVE)
        p_value = reader.number(raw["p_value"], "dropout_test.p_value", UNIT_INTERVAL)
        boundary = reader.boolean(raw["boundary"], "dropout_test.boundary")
        nested = NBDModel.from_dict(
            reader.mapping(raw["nested_model"], "dropout_test.nested_model")
        )
        assert isinstance(nested, NBDModel)
        log_likelihood = float(model.log_likelihood_)
        model.nested_model_ = nested
        model.boundary_ = boundary
        model.dropout_test_ = LikelihoodRatioTest(
            float(statistic),
            float(p_value),
            log_likelihood,
            float(nested.log_likelihood_),
            boundary,
        )
        return model
