"""Churn risk: a time-split classifier, BTYD churn scores, backtests and retention metrics."""

from custintel.churn._backtest import BacktestResult, backtest, backtest_tables
from custintel.churn._classifier import ChurnClassifier
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

__all__ = [
    "BacktestResult",
    "ChurnClassifier",
    "PeriodOptions",
    "ValidationPolicies",
    "backtest",
    "backtest_tables",
    "btyd_churn_score",
    "churn_metrics",
    "churn_rate",
    "cohort_retention",
    "expected_calibration_error",
    "gains_table",
    "lapse_survival",
    "repeat_purchase_rate",
    "retention_economics",
    "retention_rate",
    "retention_table",
    "top_decile_lift",
]
