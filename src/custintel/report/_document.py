"""The HTML document: sections, escaped tables, embedded PNG figures, one inline style sheet.

Everything a page needs is inside it: figures are PNG data URIs, the style is
an inline ``<style>`` element, and there are no scripts, fonts or links to
other resources, so the report opens offline and fetches nothing.
"""

from __future__ import annotations

import base64
import html
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["DPI", "Section", "figure", "kpis", "note", "page", "paragraph", "table"]

logger = logging.getLogger("custintel")

#: Resolution of the embedded figures; about 40 kB per plot.
DPI = 90


@dataclass
class Section:
    """One section of the report.

    Attributes
    ----------
    key : str
        HTML id of the section (also its anchor in the table of contents).
    title : str
        Heading.
    action : str
        The one line saying what a manager should do with it.
    blocks : list of str
        HTML fragments, already escaped, in display order.
    """

    key: str
    title: str
    action: str
    blocks: list[str] = field(default_factory=list)


def paragraph(text: str) -> str:
    """Return an escaped ``<p>``."""
    return f"<p>{html.escape(text)}</p>"


def heading(text: str) -> str:
    """Return an escaped sub-heading."""
    return f"<h3>{html.escape(text)}</h3>"


def note(text: str) -> str:
    """Return an escaped note, used for parts that are not available."""
    return f'<p class="note">{html.escape(text)}</p>'


def bullets(items: Sequence[str], *, css: str = "") -> str:
    """Return an escaped ``<ul>``."""
    cls = f' class="{css}"' if css else ""
    lines = "".join(f"<li>{html.escape(str(i))}</li>" for i in items)
    return f"<ul{cls}>{lines}</ul>"


def kpis(items: Sequence[tuple[str, str]]) -> str:
    """Return a row of key figures, each a label and a formatted value."""
    cells = "".join(
        f'<div class="kpi"><div class="value">{html.escape(value)}</div>'
        f'<div class="label">{html.escape(label)}</div></div>'
        for label, value in items
    )
    return f'<div class="kpis">{cells}</div>'


def table(frame: pd.DataFrame, *, caption: str | None = None, index: bool = True) -> str:
    """Return ``frame`` as an escaped HTML table (format the numbers first)."""
    shown = frame.rename(columns=_label).rename_axis(index=_label)
    body = shown.to_html(escape=True, border=0, classes="data", index=index, na_rep="–")
    cap = f'<p class="caption">{html.escape(caption)}</p>' if caption else ""
    return f'<div class="table">{cap}{body}</div>'


def _label(name: Any) -> Any:
    return name.replace("_", " ") if isinstance(name, str) else name


def figure(
    draw: Callable[[Any], Any],
    *,
    alt: str,
    caption: str | None = None,
    size: tuple[float, float] = (6.4, 3.8),
) -> str:
    """Draw on a fresh Agg figure and return it as an ``<img>`` with a PNG data URI.

    The figure is a bare :class:`matplotlib.figure.Figure` rendered by the
    Agg canvas: pyplot's global figure list and backend are never touched,
    and the figure is cleared once saved.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    try:
        draw(fig.add_subplot())
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        fig.clear()
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (
        f'<figure><img alt="{html.escape(alt, quote=True)}" '
        f'src="data:image/png;base64,{data}">{cap}</figure>'
    )


def guarded(what: str, build: Callable[[], str]) -> str:
    """Return ``build()``, or a note saying why ``what`` could not be shown.

    One part that cannot be drawn (an unexpected shape of a fitted result)
    must not take the whole report down; the failure is logged.
    """
    try:
        return build()
    except Exception as exc:
        logger.warning("report: %s could not be shown: %s", what, exc, exc_info=True)
        return note(f"{what} is not available because it could not be computed: {exc}")


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 margin:0;color:#1f2933;background:#f5f7fa;line-height:1.45}
header{background:#243b53;color:#fff;padding:1.2rem 2rem}
header h1{margin:0 0 .3rem 0;font-size:1.6rem}
header p{margin:0;color:#d9e2ec}
nav{padding:.6rem 2rem;background:#e4e7eb;font-size:.9rem}
nav a{margin-right:1.2rem;color:#243b53;text-decoration:none}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}
section{background:#fff;border-radius:6px;padding:1rem 1.5rem;margin:1.2rem 0;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
section h2{margin:.2rem 0 .4rem 0;font-size:1.3rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem 0}
.action{background:#fff8e1;border-left:4px solid #f0b429;padding:.5rem .8rem;
 font-weight:600;margin:.4rem 0 1rem 0}
.note{color:#616e7c;font-style:italic}
.kpis{display:flex;flex-wrap:wrap;gap:.8rem;margin:.5rem 0}
.kpi{background:#f0f4f8;border-radius:4px;padding:.5rem .9rem;min-width:8rem}
.kpi .value{font-size:1.25rem;font-weight:700}
.kpi .label{font-size:.8rem;color:#52606d}
.grid{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:.5rem 0}
figure img{max-width:100%;height:auto;border:1px solid #e4e7eb}
figcaption,.caption{font-size:.85rem;color:#52606d}
.table{overflow-x:auto;margin:.5rem 0}
table.data{border-collapse:collapse;font-size:.85rem}
table.data th,table.data td{padding:.25rem .6rem;border-bottom:1px solid #e4e7eb;text-align:right}
table.data th{background:#f0f4f8}
ul.warnings li{color:#8d2b0b}
footer{font-size:.8rem;color:#7b8794;text-align:center;padding:1rem}
"""


def page(title: str, subtitle: str, sections: Sequence[Section], footer: str) -> str:
    """Assemble the whole self-contained HTML page."""
    nav = "".join(
        f'<a href="#{html.escape(s.key, quote=True)}">{html.escape(s.title)}</a>' for s in sections
    )
    body = "".join(
        f'<section id="{html.escape(s.key, quote=True)}"><h2>{html.escape(s.title)}</h2>'
        f'<p class="action">{html.escape(s.action)}</p>{"".join(s.blocks)}</section>'
        for s in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main>"
        f"<footer>{html.escape(footer)}</footer></body></html>\n"
    )
