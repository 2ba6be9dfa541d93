"""Every fenced Python block of README.md and docs/*.md runs in CI as written, in page order.

Pages whose Python blocks are all doctests (``>>>``) run through pytest's
``--doctest-glob='*.md'`` over ``docs/``. A page with a plain block (code a reader
copies without prompts) runs here instead, whole: its blocks in page order in one
namespace, doctest blocks checked against their output and plain blocks executed;
``docs/conftest.py`` then skips the page's doctest item, so nothing runs twice.
README.md lies outside ``testpaths`` and always runs here.

Each page runs in an empty temporary working directory, which must still be empty
afterwards: examples write into temporary folders, never where the reader runs them.
Plain blocks must not warn (our own examples on our own data are clean).
"""

from __future__ import annotations

import doctest
import os
import re
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# A fence: indentation, three backticks, an info string; the body ends at the same indent.
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
# Languages a reader would take for Python but that no runner executes.
_UNRUN_PYTHON = {"py", "python3", "pycon", "ipython", "pytb"}


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, code and first line in the page."""

    language: str
    code: str
    line: int

    @property
    def is_doctest(self) -> bool:
        return any(line.lstrip().startswith(">>>") for line in self.code.splitlines())


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a markdown page, in page order."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        language = match["info"].strip().split(" ")[0].lower()
        code = textwrap.dedent(match["body"])
        line = text.count("\n", 0, match.start()) + 2  # first line of code
        found.append(Block(language, code, line))
    return found


def python_blocks(path: Path) -> list[Block]:
    return [b for b in blocks(path) if b.language == "python"]


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def runs_here(path: Path) -> bool:
    """README.md, and every page with a plain (non-doctest) Python block."""
    return (path.name == "README.md" and path.parent == ROOT) or any(
        not b.is_doctest for b in python_blocks(path)
    )


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _marks(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    marks: list[Any] = [pytest.mark.slow]
    if "pyspark" in text:
        marks.append(pytest.mark.spark)
    if "shared/data" in text and not SHARED_DATA.exists() and os.environ.get("CI") != "true":
        marks.append(pytest.mark.skip(reason=f"shared data absent ({SHARED_DATA}); CI has it"))
    return marks


def _doctest_runner() -> doctest.DocTestRunner:
    """A runner with the suite's doctest options, NUMBER included (pytest's checker)."""
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    checker: doctest.OutputChecker | None = None
    try:  # pytest's checker knows NUMBER, as in pyproject's doctest_optionflags
        from _pytest.doctest import _get_checker

        checker = _get_checker()
        flags |= doctest.OPTIONFLAGS_BY_NAME["NUMBER"]
    except (ImportError, KeyError):  # pragma: no cover - older pytest
        checker = None
    return doctest.DocTestRunner(checker=checker, optionflags=flags, verbose=False)


def run_page(path: Path) -> None:
    """Run every Python block of ``path`` in order, in one namespace."""
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    runner = _doctest_runner()
    parser = doctest.DocTestParser()
    for block in python_blocks(path):
        where = f"{_page_id(path)}:{block.line}"
        if block.is_doctest:
            test = parser.get_doctest(block.code, namespace, where, str(path), block.line - 1)
            test.globs = namespace  # DocTest copies its globals: share the page's instead
            report: list[str] = []
            result = runner.run(test, out=report.append, clear_globs=False)
            if result.failed:
                pytest.fail(f"doctest block at {where} failed:\n{''.join(report)}", pytrace=False)
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(block.code, where, "exec"), namespace)
        ours = [w for w in caught if _ours(w)]
        if ours:
            lines = "\n".join(f"  {w.category.__name__}: {w.message}" for w in ours)
            pytest.fail(f"the block at {where} warns:\n{lines}", pytrace=False)


def _ours(warning: warnings.WarningMessage) -> bool:
    """A custintel warning, or any warning raised inside custintel or by the page's code.

    Other libraries' notices about themselves (PySpark on pandas 3) are not the page's.
    """
    from custintel.exceptions import CustintelWarning

    return (
        issubclass(warning.category, CustintelWarning)
        or str(Path(warning.filename).resolve()).startswith(str(ROOT / "src"))
        or not Path(warning.filename).is_absolute()  # compiled from the page (its id)
    )


@pytest.fixture
def page_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An empty working directory, a headless matplotlib and Spark workers on this Python."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    spark_before = _active_spark()
    yield tmp_path
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    session = _active_spark()
    if session is not None and session is not spark_before:
        session.stop()  # a page's own session: leave none behind for other tests


def _active_spark() -> Any:
    if "pyspark.sql" not in sys.modules:
        return None
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=_page_id(p), marks=_marks(p)) for p in pages() if runs_here(p)],
)
def test_page_runs_in_order(path: Path, page_environment: Path) -> None:
    if "custintel.plotting" in path.read_text(encoding="utf-8"):
        pytest.importorskip("matplotlib")
    run_page(path)
    left = sorted(p.name for p in page_environment.iterdir())
    assert not left, f"{_page_id(path)} wrote {left} into the working directory"


def test_every_python_block_is_run() -> None:
    """Each Python block is a doctest of a docs page or runs above; none hides in a ```py fence."""
    unrun = [
        f"{_page_id(p)}:{b.line} (```{b.language})"
        for p in pages()
        for b in blocks(p)
        if b.language in _UNRUN_PYTHON
    ]
    assert not unrun, f"fence these as ```python so they run: {unrun}"
    for path in pages():
        if runs_here(path):
            continue
        # Only doctest blocks remain: --doctest-glob='*.md' runs them over docs/.
        assert path.is_relative_to(ROOT / "docs"), path
        assert all(b.is_doctest for b in python_blocks(path))


def test_the_runner_catches_failures(tmp_path: Path) -> None:
    """A plain block that raises, a doctest whose output differs, and a warning all fail."""
    page = tmp_path / "page.md"
    page.write_text("```python\nx = 1\n```\n\n```python\n>>> x + 1\n2\n\n```\n", encoding="utf-8")
    run_page(page)  # the doctest block sees the plain block's x
    page.write_text("```python\n>>> 1 + 1\n3\n\n```\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match=r"page\.md:2"):
        run_page(page)
    page.write_text("```python\nprint(whale)\n```\n", encoding="utf-8")
    with pytest.raises(NameError, match="whale"):
        run_page(page)
    page.write_text("```python\nimport warnings\nwarnings.warn('loud')\n```\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="UserWarning: loud"):
        run_page(page)
