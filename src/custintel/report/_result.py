"""The one object a report reads: ``ci.result_``, or an ``IntelligenceResult`` itself."""

from __future__ import annotations

from typing import Any

from custintel.pipeline import IntelligenceResult

__all__ = ["result_of"]


def result_of(model: Any) -> IntelligenceResult:
    """Return the result object a report reads: ``model.result_``, or ``model`` itself.

    Parameters
    ----------
    model : CustomerIntelligence or IntelligenceResult
        A fitted pipeline (its :attr:`result_`), or the result object of a run.

    Returns
    -------
    IntelligenceResult

    Raises
    ------
    ValueError
        When ``model`` is neither (e.g. not fitted).
    """
    result = getattr(model, "result_", model)
    if not isinstance(result, IntelligenceResult):
        raise ValueError(
            f"write_report needs a fitted CustomerIntelligence (or its result_, an "
            f"IntelligenceResult); {type(model).__name__} has no result_: call .fit(tx) first"
        )
    return result
