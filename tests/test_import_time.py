"""A light ``import custintel``: heavy libraries load on first use, every public name resolves.

Import *time* is measured in ``benchmarks/bench_import.py``; these tests check what
makes it short, in fresh interpreters: which modules an import leaves out of
``sys.modules``.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

import custintel

HEAVY = ("pandas", "sklearn", "scipy", "matplotlib")


def _loaded_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the heavy top-level modules it loaded."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_custintel_loads_no_heavy_library() -> None:
    assert _loaded_after("import custintel") == []


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["report", "--help"]])
def test_version_and_help_load_no_heavy_library(argv: list[str]) -> None:
    code = (
        "import contextlib, io\n"
        "from custintel.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        f"    main({argv!r})"
    )
    assert _loaded_after(code) == []


def test_the_command_answers_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "custintel", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"custintel {custintel.__version__}"


def test_a_public_name_loads_its_module_on_first_use() -> None:
    assert "pandas" in _loaded_after("from custintel import TransactionSchema")
    assert "sklearn" not in _loaded_after("from custintel import TransactionSchema")
    assert "sklearn" in _loaded_after("from custintel import CustomerIntelligence")


def test_every_public_name_resolves_and_is_listed() -> None:
    for name in custintel.__all__:
        assert getattr(custintel, name) is not None, name
    assert set(custintel.__all__) <= set(dir(custintel))
    namespace: dict[str, object] = {}
    exec("from custintel import *", namespace)
    assert set(custintel.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = custintel.nothing_here  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from custintel import nothing_here", {})


def test_lazy_names_are_the_objects_of_their_modules() -> None:
    from custintel.pipeline import CustomerIntelligence
    from custintel.schema import REQUIRED_ROLES, TransactionSchema

    assert custintel.CustomerIntelligence is CustomerIntelligence
    assert custintel.TransactionSchema is TransactionSchema
    from custintel import _roles

    assert _roles.REQUIRED_ROLES is REQUIRED_ROLES


SUBPACKAGES = sorted(
    info.name for info in pkgutil.iter_modules(custintel.__path__, "custintel.") if info.ispkg
)


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_every_name_of_a_subpackage_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, package
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"
    assert set(module.__all__) <= set(dir(module))
