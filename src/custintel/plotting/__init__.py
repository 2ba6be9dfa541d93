"""Plots for custintel results (matplotlib, installed with the ``plot`` extra).

matplotlib is imported only when a plot is drawn, so ``import custintel`` never
needs it. Every function draws on the ``ax`` it is given (or a new one) and
returns that ``matplotlib.axes.Axes``.
"""

from custintel.plotting._churn import (
    plot_calibration_curve,
    plot_cohort_heatmap,
    plot_customer_survival,
    plot_gains,
    plot_survival_curve,
)
from custintel.plotting._clv import (
    plot_alive_path,
    plot_calibration_vs_holdout,
    plot_clv_distribution,
    plot_cumulative_purchases,
    plot_frequency_recency_matrix,
    plot_model_comparison,
    plot_period_transactions,
)
from custintel.plotting._profitability import plot_abc, plot_pareto, plot_whale_curve
from custintel.plotting._promotions import plot_campaign_lift, plot_qini_curve
from custintel.plotting._segmentation import plot_migration, plot_rfm_heatmap, plot_segment_bars
from custintel.plotting._trends import money_axis_label, plot_breakdown, plot_monthly_activity

__all__ = [
    "money_axis_label",
    "plot_abc",
    "plot_alive_path",
    "plot_breakdown",
    "plot_calibration_curve",
    "plot_calibration_vs_holdout",
    "plot_campaign_lift",
    "plot_clv_distribution",
    "plot_cohort_heatmap",
    "plot_cumulative_purchases",
    "plot_customer_survival",
    "plot_frequency_recency_matrix",
    "plot_gains",
    "plot_migration",
    "plot_model_comparison",
    "plot_monthly_activity",
    "plot_pareto",
    "plot_period_transactions",
    "plot_qini_curve",
    "plot_rfm_heatmap",
    "plot_segment_bars",
    "plot_survival_curve",
    "plot_whale_curve",
]
