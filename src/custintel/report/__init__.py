"""The one-file HTML report of a fitted :class:`custintel.CustomerIntelligence`, and action lists.

:func:`write_report` writes a self-contained page (inline style, embedded PNG
plots, nothing fetched from the network) whose sections each open with what
a manager should do with it; :func:`write_action_lists` writes, per
actionable segment, a CSV file of whom to contact, why, and the value at stake.
"""

from custintel.report._actions import (
    ACTION_COLUMNS,
    ActionList,
    action_lists,
    building_action_lists_once,
    write_action_lists,
)
from custintel.report._write import SECTIONS, render_report, write_report

__all__ = [
    "ACTION_COLUMNS",
    "SECTIONS",
    "ActionList",
    "action_lists",
    "building_action_lists_once",
    "render_report",
    "write_action_lists",
    "write_report",
]
