"""Lifetime value: BTYD purchase models, the Gamma-Gamma spend model, and CLV."""

from custintel.clv._alive_path import alive_path
from custintel.clv._beta_geo import BetaGeoModel, ModifiedBetaGeoModel
from custintel.clv._bgbb import BetaGeoBetaBinomModel
from custintel.clv._boundary import LikelihoodRatioTest
from custintel.clv._clv import CLVModel
from custintel.clv._cnbd import MBGCNBDModel
from custintel.clv._compare import ModelComparison, compare_models, period_transactions
from custintel.clv._dert import continuous_discount_rate, dert, pareto_nbd_dert
from custintel.clv._gamma_gamma import GammaGammaModel
from custintel.clv._nbd import NBDModel
from custintel.clv._pareto_nbd import ParetoNBDModel
from custintel.clv._shifted_beta_geo import ShiftedBetaGeoModel
from custintel.clv._time_units import check_time_unit

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "CLVModel",
    "GammaGammaModel",
    "LikelihoodRatioTest",
    "MBGCNBDModel",
    "ModelComparison",
    "ModifiedBetaGeoModel",
    "NBDModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "alive_path",
    "check_time_unit",
    "compare_models",
    "continuous_discount_rate",
    "dert",
    "pareto_nbd_dert",
    "period_transactions",
]
