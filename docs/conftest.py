"""Doctests of the docs pages: the real-data walkthrough needs ``../shared/data``.

A page with a plain Python block (no ``>>>``) runs whole, in page order, in
``tests/test_docs.py``; its doctest item here is skipped, so it does not run twice.

The walkthrough of the UCI Online Retail file runs as written in CI, where the
shared data folder sits beside the project. Elsewhere, without the file, it is
skipped with the reason; in CI (``CI=true``) a missing file is an error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ONLINE_RETAIL = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.csv.gz"
NEEDS_SHARED_DATA = {"online-retail.md", "basket.md"}
_PYTHON_FENCE = re.compile(r"^([ \t]*)```python[^\n]*\n(.*?)^\1```", re.MULTILINE | re.DOTALL)


def has_plain_python(page: Path) -> bool:
    """Whether a page has a Python block without ``>>>`` (run by tests/test_docs.py)."""
    text = page.read_text(encoding="utf-8")
    return any(">>>" not in match[2] for match in _PYTHON_FENCE.finditer(text))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the pages that read ../shared/data when it is absent (never in CI).

    Also skip the doctest item of a page that tests/test_docs.py runs whole.
    """
    for item in items:
        page = Path(str(item.fspath))
        if (
            page.suffix == ".md"
            and page.resolve().is_relative_to(Path(__file__).resolve().parent)
            and has_plain_python(page)
        ):
            item.add_marker(
                pytest.mark.skip(
                    reason=f"{page.name} has plain Python blocks: tests/test_docs.py runs it "
                    "whole, doctests included, in page order"
                )
            )
    pages = [item for item in items if Path(str(item.fspath)).name in NEEDS_SHARED_DATA]
    if not pages or ONLINE_RETAIL.exists():
        return
    if os.environ.get("CI") == "true":
        raise FileNotFoundError(f"{ONLINE_RETAIL} is missing, but CI must have the shared data")
    skip = pytest.mark.skip(reason=f"shared data absent ({ONLINE_RETAIL}); it is present in CI")
    for item in pages:
        item.add_marker(skip)
