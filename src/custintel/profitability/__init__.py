"""80/20 profitability: Pareto table, Lorenz curve, Gini, ABC classes and the whale curve.

Every analysis here takes a customer table, one row per customer, built by the
feature layer: :func:`custintel.summarize_customers` for revenue and margin,
:func:`custintel.features.customer_profitability` for profit under a cost
model, and :func:`custintel.features.customer_attributes` for breakdowns by
``customer_type``, ``region`` and ``channel``.
"""

from custintel.profitability._breakdown import breakdown
from custintel.profitability._pareto import ParetoAnalysis
from custintel.profitability._whale import WhaleCurve

__all__ = ["ParetoAnalysis", "WhaleCurve", "breakdown"]
