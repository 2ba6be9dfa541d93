"""Notebook display of fitted models: scikit-learn's parameter widget, then the estimates.

scikit-learn shows an estimator's *parameters* in a notebook. A fitted
custintel model also has *estimates* (a BTYD model's r, alpha, a, b with
standard errors; a churn model's coefficients) which are what an analyst
wants to see. :class:`EstimatesReprMixin` appends them as a table below the
widget. Unfitted models display exactly as scikit-learn displays them.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

__all__ = ["EstimatesReprMixin", "estimates_html"]


def estimates_html(title: str, tables: dict[str, pd.DataFrame]) -> str:
    """Render named tables of estimates as one collapsible HTML block.

    Parameters
    ----------
    title : str
        Heading of the block (e.g. ``"BetaGeoModel estimates"``).
    tables : dict of str to pandas.DataFrame
        Caption to table; numbers are shown with 4 significant digits.

    Returns
    -------
    str
        An HTML ``<details>`` element, open by default.

    Examples
    --------
    >>> table = pd.DataFrame({"estimate": [0.2426]}, index=["r"])
    >>> "0.2426" in estimates_html("BG/NBD", {"parameters": table})
    True
    """
    parts = [
        '<details open class="custintel-estimates" style="margin-top:0.5em">',
        f"<summary><b>{html.escape(title)}</b></summary>",
    ]
    for caption, table in tables.items():
        body = table.to_html(
            float_format=lambda v: f"{v:.4g}", border=0, na_rep="", escape=True, justify="left"
        )
        parts.append(f"<p style='margin:0.4em 0 0.1em'>{html.escape(caption)}</p>{body}")
    parts.append("</details>")
    return "".join(parts)


class EstimatesReprMixin:
    """Show a fitted model's estimates under scikit-learn's HTML parameter widget.

    A class mixes this in *before* ``BaseEstimator`` and implements
    :meth:`_estimates_tables`, which returns ``{}`` until the model is fitted.
    """

    def _estimates_tables(self) -> dict[str, pd.DataFrame]:
        """Return caption → table of the fitted estimates; ``{}`` when unfitted."""
        return {}

    def _estimates_block(self) -> str:
        try:
            tables = self._estimates_tables()
        except Exception:  # a display must never raise
            return ""
        if not tables:
            return ""
        return estimates_html(f"{type(self).__name__}: fitted estimates", tables)

    def _repr_html_inner(self) -> str:
        """Return the parameter widget followed by the estimates (notebook display)."""
        widget: str = super()._repr_html_inner()  # type: ignore[misc]
        return widget + self._estimates_block()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """Return the MIME bundle Jupyter shows, with the estimates in its HTML."""
        output: dict[str, Any] = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        if "text/html" in output:
            output["text/html"] = output["text/html"] + self._estimates_block()
        return output
