"""Lifetime value: BTYD purchase models, the Gamma-Gamma spend model, and CLV."""

from custintel.clv._gamma_gamma import GammaGammaModel

__all__ = ["GammaGammaModel"]
