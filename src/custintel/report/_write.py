"""``write_report``: the one-file HTML report of a fitted CustomerIntelligence."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import custintel
from custintel.report import _format as fmt
from custintel.report._churn import churn_section
from custintel.report._clv import clv_section
from custintel.report._crosssell import crosssell_section
from custintel.report._document import Section, guarded, page
from custintel.report._overview import overview_section
from custintel.report._profitability import pareto_section
from custintel.report._segments import segments_section

__all__ = ["SECTIONS", "render_report", "write_report"]

SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Data overview"),
    ("pareto", "80/20 and the whale curve"),
    ("segments", "Segments"),
    ("churn", "Churn risk"),
    ("clv", "Customer lifetime value"),
    ("crosssell", "Cross-sell"),
)
"""Sections of the report in page order: (HTML id, heading)."""

#: Fitted attributes without which there is no report.
REQUIRED = ("overview_", "data_quality_", "customers_", "pareto_")


def _horizon(ci: Any) -> int | None:
    # The fitted horizon when there is one, else the constructor argument.
    horizon = getattr(ci, "horizon_", None)
    if horizon is None:
        horizon = getattr(ci, "horizon", None)
    return int(horizon) if isinstance(horizon, (int, float)) and horizon > 0 else None


def render_report(ci: Any) -> str:
    """Render the HTML report of a fitted ``CustomerIntelligence`` as a string.

    Parameters
    ----------
    ci : CustomerIntelligence
        A fitted ``custintel.CustomerIntelligence`` (or any object with its
        fitted attributes).

    Returns
    -------
    str
        The whole self-contained HTML page.

    Raises
    ------
    ValueError
        When ``ci`` is not fitted.
    ImportError
        When matplotlib (the ``plot`` extra) is not installed.
    """
    missing = [name for name in REQUIRED if getattr(ci, name, None) is None]
    if missing:
        raise ValueError(
            f"write_report needs a fitted CustomerIntelligence; {type(ci).__name__} lacks "
            f"{missing}: call .fit(tx) first"
        )
    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError(
            "the HTML report draws its plots with matplotlib: pip install 'custintel[plot]'"
        )
    horizon = _horizon(ci)
    builders: dict[str, Callable[[], Section]] = {
        "overview": lambda: overview_section(ci),
        "pareto": lambda: pareto_section(ci),
        "segments": lambda: segments_section(ci, horizon),
        "churn": lambda: churn_section(ci, horizon),
        "clv": lambda: clv_section(ci, horizon),
        "crosssell": lambda: crosssell_section(ci),
    }
    sections = [_section(key, title, builders[key]) for key, title in SECTIONS]
    ov = ci.overview_
    subtitle = (
        f"{fmt.count(ov.get('n_customers'))} customers, {fmt.date(ov.get('first_date'))} to "
        f"{fmt.date(getattr(ci, 'observation_end_', None) or ov.get('last_date'))}"
        + (f"; churn window and CLV horizon {horizon} days" if horizon else "")
    )
    return page(
        "Customer intelligence report",
        subtitle,
        sections,
        f"custintel {custintel.__version__}. Self-contained: no part of this page is fetched "
        "from the network.",
    )


def _section(key: str, title: str, build: Callable[[], Section]) -> Section:
    # A section that cannot be computed becomes a note, so the rest of the report survives.
    holder: list[Section] = []

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
    Sections: data overview and data-quality warnings; 80/20 and the whale
    curve; segments (sizes, revenue, migration); churn (backtest AUC and
    lift, gains chart, risk deciles); CLV (distribution, tracking plot,
    holdout error); cross-sell (top rules, example recommendations). Each
    opens with one line saying what a manager should do with it, computed
    from the data. Optional parts that were not fitted (no costs, no items,
    too short a history) are shown as a short "not available because ..."
    note.

    Parameters
    ----------
    ci : CustomerIntelligence
        A fitted ``custintel.CustomerIntelligence`` (or any object with its
        fitted attributes).
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
    ValueError: write_report needs a fitted CustomerIntelligence; ...: call .fit(tx) first
    """
    target = Path(path)
    if target.is_dir():
        target = target / "report.html"
    text = render_report(ci)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
