"""The worked notebooks in notebooks/ run from top to bottom (nbmake), and what the docs
site shows of them is their real output.

nbmake's runner executes each notebook in a fresh kernel with the notebook's folder as
the working directory; its stored outputs are cleared first, so nothing is taken on
trust. The Online Retail notebook reads ``../shared/data`` and is skipped outside CI
when the file is absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
# A guard against a hung kernel, not a speed test: each notebook runs in well under a minute.
TIMEOUT = 600


def _marks(path: Path) -> list[pytest.MarkDecorator]:
    marks = [pytest.mark.slow]
    text = path.read_text(encoding="utf-8")
    absent = "shared/data" in text and not ONLINE_RETAIL.exists()
    if absent and os.environ.get("CI") != "true":
        marks.append(pytest.mark.skip(reason=f"shared data absent ({ONLINE_RETAIL})"))
    return marks


NOTEBOOK_PARAMS = [
    pytest.param(path, id=path.name, marks=_marks(path))
    for path in sorted(NOTEBOOKS.glob("*.ipynb"))
]


def test_there_are_worked_notebooks() -> None:
    names = {p.id for p in NOTEBOOK_PARAMS}
    assert {"cdnow-clv.ipynb", "online-retail.ipynb", "scoring-in-production.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_notebook_runs(path: Path) -> None:
    pytest.importorskip("nbmake", reason="nbmake (the notebook runner) is not installed")
    pytest.importorskip("ipykernel", reason="ipykernel (the notebook kernel) is not installed")
    pytest.importorskip("matplotlib")
    if "shared/data" in path.read_text(encoding="utf-8") and not ONLINE_RETAIL.exists():
        raise FileNotFoundError(f"{ONLINE_RETAIL} is missing, but CI must have the shared data")
    from nbmake.nb_run import NotebookRun

    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    result = NotebookRun(path, TIMEOUT).execute()
    assert result.error is None, (
        f"{path.name}, cell {result.error.failing_cell_index}:\n" + (result.error.trace[-4000:])
    )
    # examples write into temporary folders, never beside the notebooks
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_stored_outputs_are_a_full_run(path: Path) -> None:
    """The site renders stored outputs: they must come from one run of every cell, in order."""
    book = json.loads(path.read_text(encoding="utf-8"))
    code = [cell for cell in book["cells"] if cell["cell_type"] == "code"]
    assert [cell["execution_count"] for cell in code] == list(range(1, len(code) + 1))
    errors = [o for cell in code for o in cell["outputs"] if o["output_type"] == "error"]
    assert not errors
    figures = [o for cell in code for o in cell["outputs"] if "image/png" in o.get("data", {})]
    if "custintel.plotting" in path.read_text(encoding="utf-8"):
        assert figures, f"{path.name} draws plots, but no figure was stored"
