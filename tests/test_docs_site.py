"""The docs site builds with ``mkdocs build --strict`` and its formulas render.

``pymdownx.arithmatex`` only wraps formulas in markup; without a maths engine the reader
sees raw TeX. The site loads MathJax (``extra_javascript`` in mkdocs.yml), so a built page
must carry both the arithmatex markup of a formula and the script references.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs", reason="mkdocs (the dev extra) is not installed")
    pytest.importorskip("material", reason="mkdocs-material (the dev extra) is not installed")
    pytest.importorskip("mkdocs_jupyter", reason="mkdocs-jupyter is not installed")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-4000:]}"
    yield out
    shutil.rmtree(out, ignore_errors=True)


def test_formula_markup_and_mathjax(site: Path) -> None:
    html = (site / "profitability" / "index.html").read_text(encoding="utf-8")
    # the Lorenz ordinate of docs/profitability.md, inline, wrapped for MathJax
    formula = r"\(C_k = \sum_{j \le k} x_{[j]} / \sum_j x_j\)"
    assert f'<span class="arithmatex">{formula}</span>' in html
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "../javascripts/mathjax.js" in scripts
    assert any(re.search(r"mathjax@3/es5/tex-mml-chtml\.js$", s) for s in scripts), scripts
    # the configuration comes before the engine, and typesets arithmatex elements only
    config = next(i for i, s in enumerate(scripts) if s.endswith("javascripts/mathjax.js"))
    engine = next(i for i, s in enumerate(scripts) if "tex-mml-chtml" in s)
    assert config < engine
    js = (site / "javascripts" / "mathjax.js").read_text(encoding="utf-8")
    assert 'processHtmlClass: "arithmatex"' in js
    # a display formula too
    segmentation = (site / "segmentation" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<div class="arithmatex">\\\[ s = \\min', segmentation)


def test_changelog_page(site: Path) -> None:
    html = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "Keep a Changelog" in html
    assert 'id="unreleased"' in html
    first = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# Changelog"


def test_notebooks_are_pages_with_their_outputs(site: Path) -> None:
    for name in ("cdnow-clv", "online-retail", "scoring-in-production"):
        html = (site / "notebooks" / name / "index.html").read_text(encoding="utf-8")
        assert "jp-Notebook" in html  # rendered by mkdocs-jupyter
        assert (site / "notebooks" / name / f"{name}.ipynb").exists()  # download link
    cdnow = (site / "notebooks" / "cdnow-clv" / "index.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in cdnow  # the stored figures are shown
    assert not (site / "conftest").exists()  # only notebooks are converted, not .py files
