"""Acquisition: the early-life value of new customers, and lookalike prospects.

A one-time buyer is (frequency 0, recency 0, T) to every BTYD model, so every
new customer of a cohort gets the same forecast. These estimators read what
the first order and the first weeks say instead (built by
:func:`~custintel.features.early_life_features`).
"""

from custintel.acquisition._early_value import EarlyLifeValueModel
from custintel.acquisition._lookalike import LookalikeModel

__all__ = ["EarlyLifeValueModel", "LookalikeModel"]
