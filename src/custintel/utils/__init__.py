"""Tools for people who extend custintel: the common estimator checks."""

from custintel.utils.estimator_checks import (
    CHECKS,
    CheckResult,
    EstimatorCheck,
    check_estimator,
    iter_checks,
)

__all__ = ["CHECKS", "CheckResult", "EstimatorCheck", "check_estimator", "iter_checks"]
