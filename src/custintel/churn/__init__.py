"""Churn risk: a time-split classifier, BTYD churn scores, backtests and retention metrics."""

from custintel.churn._backtest import BacktestResult, backtest, backtest_tables, rfm_baseline
from custintel.churn._classifier import ChurnClassifier
from custintel.churn._explain import churn_contributions, explain_churn
from custintel.churn._metrics import (
    churn_metrics,
    expected_calibration_error,
    gains_table,
    top_decile_lift,
)
from custintel.churn._retention import (
    PeriodOptions,
    ValidationPolicies,
    churn_rate,
    cohort_retention,
    lapse_survival,
    repeat_purchase_rate,
    retention_economics,
    retention_rate,
    retention_table,
)
from custintel.churn._scores import btyd_churn_score
from custintel.churn._survival import btyd_survival
from custintel.churn._value import RetentionPlan, retention_budget, value_at_risk

__all__ = [
    "BacktestResult",
    "ChurnClassifier",
    "PeriodOptions",
    "RetentionPlan",
    "ValidationPolicies",
    "backtest",
    "backtest_tables",
    "btyd_churn_score",
    "btyd_survival",
    "churn_contributions",
    "churn_metrics",
    "churn_rate",
    "cohort_retention",
    "expected_calibration_error",
    "explain_churn",
    "gains_table",
    "lapse_survival",
    "repeat_purchase_rate",
    "retention_budget",
    "retention_economics",
    "retention_rate",
    "retention_table",
    "rfm_baseline",
    "top_decile_lift",
    "value_at_risk",
]
