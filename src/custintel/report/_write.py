"""``write_report``: the one-file HTML report of a fitted CustomerIntelligence."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import custintel
from custintel.report import _format as fmt
from custintel.report._actions import actions_section
from custintel.report._churn import churn_section
from custintel.report._clv import clv_section
from custintel.report._crosssell import crosssell_section
from custintel.report._document import Section, guarded, page
from custintel.report._overview import overview_section
from custintel.report._profitability import pareto_section
from custintel.report._promotions import promotions_section
from custintel.report._quality import quality_section
from custintel.report._result import result_of
from custintel.report._segments import segments_section
from custintel.report._trends import regions_section, trends_section

__all__ = ["SECTIONS", "render_report", "result_of", "write_report"]

SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Data overview"),
    ("quality", "Data quality"),
    ("trends", "Revenue and customers over time"),
    ("regions", "Regions"),
    ("pareto", "80/20 and the whale curve"),
    ("segments", "Segments"),
    ("churn", "Churn risk"),
    ("clv", "Customer lifetime value"),
    ("crosssell", "Cross-sell"),
    ("promotions", "Promotions"),
    ("actions", "Action lists"),
)
"""Sections of the report in page order: (HTML id, heading)."""


def _windows(horizon: int | None, churn_days: int | None) -> str:
    """Name the CLV horizon and the churn window, which differ when churn was shortened."""
    if not horizon:
        return ""
    if churn_days and churn_days != horizon:
        return f"; CLV horizon {horizon} days; churn window {churn_days} days"
    return f"; churn window and CLV horizon {horizon} days"


def render_report(model: Any) -> str:
    """Render the HTML report of a fitted ``CustomerIntelligence`` as a string.

    Parameters
    ----------
    model : CustomerIntelligence or IntelligenceResult
        A fitted ``custintel.CustomerIntelligence``; the report reads its
        documented result object, :attr:`result_`.

    Returns
    -------
    str
        The whole self-contained HTML page.

    Raises
    ------
    ValueError
        When ``model`` is not fitted.
    ImportError
        When matplotlib (the ``plot`` extra) is not installed.
    """
    result = result_of(model)
    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError(
            "the HTML report draws its plots with matplotlib: pip install 'custintel[plot]'"
        )
    horizon = result.log.horizon
    builders: dict[str, Callable[[], Section | None]] = {
        "overview": lambda: overview_section(result),
        "quality": lambda: quality_section(result),
        "trends": lambda: trends_section(result),
        "regions": lambda: regions_section(result),
        "pareto": lambda: pareto_section(result),
        "segments": lambda: segments_section(result, horizon),
        "churn": lambda: churn_section(result, horizon),
        "clv": lambda: clv_section(result, horizon),
        "crosssell": lambda: crosssell_section(result),
        "promotions": lambda: promotions_section(result),
        "actions": lambda: actions_section(result),
    }
    currency = getattr(result, "currency", None)
    # Every amount of every section carries the currency of the data.
    with fmt.currency(currency):
        built = [_section(key, title, builders[key]) for key, title in SECTIONS]
    sections = [section for section in built if section is not None]
    ov = result.customers.overview
    subtitle = (
        f"{fmt.count(ov.get('n_customers'))} customers, {fmt.date(ov.get('first_date'))} to "
        f"{fmt.date(result.log.observation_end)}"
        + (f"; amounts in {currency}" if currency else "")
        + _windows(horizon, result.churn.horizon)
    )
    return page(
        "Customer intelligence report",
        subtitle,
        sections,
        f"custintel {custintel.__version__}. Self-contained: no part of this page is fetched "
        "from the network.",
    )


def _section(key: str, title: str, build: Callable[[], Section | None]) -> Section | None:
    # A section that cannot be computed becomes a note, so the rest of the report survives.
    # A builder returns None for a section the data do not call for (no promotions).
    holder: list[Section | None] = []

    def run() -> str:
        holder.append(build())
        return ""

    message = guarded(f"The section {title!r}", run)
    if holder:
        return holder[0]
    return Section(key, title, f"{title} could not be computed; see the note below.", [message])


def write_report(ci: Any, path: str | os.PathLike[str]) -> Path:
    """Write the one-file HTML report of a fitted ``CustomerIntelligence``.

    The file is self-contained: the style sheet is inline and every plot is
    an embedded PNG (``data:`` URI), with no scripts, fonts or other
    resources to fetch, so it opens offline and can be mailed as it is.
    Sections: data overview; data quality (the cleaning ledger: lines read,
    kept and dropped, and every warning); revenue and customers per month
    with cohort retention; revenue, customers and CLV by region; 80/20 and
    the whale curve; segments (sizes, revenue, migration); churn (backtest
    AUC and lift, gains chart, risk deciles); CLV (distribution, tracking
    plot, holdout error); cross-sell (top rules, example recommendations);
    action lists (who to call, why, value at stake). Amounts carry the
    result's ``currency``. Each
    opens with one line saying what a manager should do with it, computed
    from the data. Optional parts that were not fitted (no costs, no items,
    too short a history) are shown as a short "not available because ..."
    note.

    Parameters
    ----------
    ci : CustomerIntelligence or IntelligenceResult
        A fitted ``custintel.CustomerIntelligence``; the report reads its
        result object, :attr:`result_`.
    path : str or os.PathLike
        File to write; an existing directory gets ``report.html`` inside.
        Missing parent directories are created.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        When ``ci`` is not fitted.

    Notes
    -----
    Plots are drawn with matplotlib's Agg renderer on standalone figures
    (pyplot's state and backend are left alone) at 90 dpi; a report is
    typically about 0.5 MB. The user guide page "The HTML report" builds one
    from a fitted ``CustomerIntelligence``.

    Examples
    --------
    Only a fitted object has a report:

    >>> from types import SimpleNamespace
    >>> write_report(SimpleNamespace(), "report.html")
    Traceback (most recent call last):
    ...
    ValueError: write_report needs a fitted CustomerIntelligence ...: call .fit(tx) first
    """
    target = Path(path)
    if target.is_dir():
        target = target / "report.html"
    text = render_report(ci)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
