"""The one-file HTML report of a fitted :class:`custintel.CustomerIntelligence`.

:func:`write_report` writes a self-contained page (inline style, embedded PNG
plots, nothing fetched from the network) with six sections, each opening
with what a manager should do with it.
"""

from custintel.report._write import SECTIONS, render_report, write_report

__all__ = ["SECTIONS", "render_report", "write_report"]
