"""Promotions: deal-driven customers, campaign response and uplift.

The per-customer deal measures and each contact's outcome come from the
feature layer (:func:`~custintel.features.deal_sensitivity`,
:func:`~custintel.features.campaign_outcomes`); this package measures a
campaign against its control group and models who responds *because* of a
contact.
"""

from custintel.promotions._response import RESPONSE_COLUMNS, campaign_response, newcombe_interval
from custintel.promotions._uplift import UpliftModel, qini_coefficient, qini_curve

__all__ = [
    "RESPONSE_COLUMNS",
    "UpliftModel",
    "campaign_response",
    "newcombe_interval",
    "qini_coefficient",
    "qini_curve",
]
