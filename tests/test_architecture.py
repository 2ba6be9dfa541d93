"""The architecture of docs/architecture.md: layers, private names, import circles, the picture.

``lint-imports`` (run by ``make lint``) checks the contracts in pyproject.toml.
These tests run the same contracts from pytest, show that they catch a wrong
import, and check what import-linter cannot express: that no module imports
another package's underscore *names* (``from custintel._validation import
_Problems``), and that the picture in docs/architecture.md is the contract.
"""

from __future__ import annotations

import ast
import copy
import itertools
import logging
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter.application.use_cases import UserOptions, read_user_options
from importlinter.cli import lint_imports
from importlinter.configuration import configure
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "custintel"
PYPROJECT = ROOT / "pyproject.toml"
ARCHITECTURE_PAGE = ROOT / "docs" / "architecture.md"


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def _user_options() -> UserOptions:
    configure()  # what the lint-imports command does first
    return read_user_options(str(PYPROJECT))


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # Lazy imports inside functions and TYPE_CHECKING imports count, as for lint-imports.
    return grimp.build_graph(PACKAGE, include_external_packages=False, cache_dir=None)


# --- the import-linter contracts ----------------------------------------------------------


def test_the_import_linter_contracts_are_kept() -> None:
    # What `make lint` runs; on failure, the captured output names the imports.
    assert len(_contracts()) == 5
    # Its command configures logging with dictConfig(), which disables every logger it
    # does not name (custintel's among them) for the rest of this process: put them back.
    disabled = {
        name: logger.disabled
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        assert lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0
    finally:
        for name, was in disabled.items():
            logging.getLogger(name).disabled = was


def _layers_contract() -> LayersContract:
    user_options = _user_options()
    (options,) = [c for c in user_options.contracts_options if c["id"] == "layers"]
    return LayersContract(
        name=options["name"],
        session_options=user_options.session_options,
        contract_options=options,
    )


def test_the_layers_contract_catches_an_upward_import(graph: grimp.ImportGraph) -> None:
    assert _layers_contract().check(copy.deepcopy(graph), verbose=False).kept
    for importer, imported in [
        ("custintel.features._summary", "custintel.pipeline._steps"),  # direct
        ("custintel.schema", "custintel.features"),  # a lower layer reaching up
        ("custintel.clv._fit", "custintel"),  # through the package, which imports pipeline
    ]:
        bad = copy.deepcopy(graph)
        bad.add_import(importer=importer, imported=imported)
        assert not _layers_contract().check(bad, verbose=False).kept, (importer, imported)


def test_the_estimator_packages_are_independent(graph: grimp.ImportGraph) -> None:
    bad = copy.deepcopy(graph)
    bad.add_import(importer="custintel.churn._metrics", imported="custintel.segmentation")
    assert not _layers_contract().check(bad, verbose=False).kept


# --- the three circles of issue 15 ------------------------------------------------------------


def _one_way(graph: grimp.ImportGraph, upper: str, lower: str, *, packages: bool) -> None:
    assert graph.chain_exists(importer=upper, imported=lower, as_packages=packages)
    back = graph.find_shortest_chains(importer=lower, imported=upper, as_packages=packages)
    assert not back, f"{lower} imports {upper} again: {sorted(back)}"


def test_schema_depends_on_validation_and_not_the_reverse(graph: grimp.ImportGraph) -> None:
    _one_way(graph, "custintel.schema", "custintel._validation", packages=False)


def test_features_depend_on_backends_and_not_the_reverse(graph: grimp.ImportGraph) -> None:
    _one_way(graph, "custintel.features", "custintel.backends", packages=True)
    # The churn definitions both paths share have one home, imported by both.
    home = "custintel.backends._definitions"
    for user in ("custintel.features._churn", "custintel.backends._features", "custintel.spark"):
        assert graph.chain_exists(importer=user, imported=home), user
    assert not graph.find_upstream_modules(home) & graph.find_descendants("custintel.features")


def test_the_bundle_format_and_the_estimator_do_not_import_each_other(
    graph: grimp.ImportGraph,
) -> None:
    _one_way(
        graph, "custintel.pipeline._intelligence", "custintel.pipeline._bundle", packages=False
    )


def test_only_layers_above_the_main_job_import_the_top_level_package(
    graph: grimp.ImportGraph,
) -> None:
    # custintel/__init__ imports pipeline: importing it from pipeline or below closes a circle.
    layers = _contracts()["layers"]["layers"]
    above = layers[: layers.index("pipeline")]
    allowed = {f"{PACKAGE}.{name.strip()}" for layer in above for name in layer.split("|")}
    importers = graph.find_modules_that_directly_import(PACKAGE)
    assert importers, "cli imports the package's __version__"
    assert {owner(module) for module in importers} <= allowed


# --- no module imports another package's private names ------------------------------------


@dataclass(frozen=True)
class Import:
    """One ``import`` or ``from ... import`` of a custintel module, as written in the source."""

    importer: str
    line: int
    module: str
    names: tuple[str, ...]
    nested: bool  # inside a function, class or ``if`` block


def module_name(path: Path) -> str:
    """``src/custintel/a/_b.py`` -> ``custintel.a._b``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def iter_modules() -> Iterator[tuple[str, Path]]:
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        yield module_name(path), path


def find_imports(importer: str, source: str, *, is_package: bool = False) -> list[Import]:
    """Every custintel import in ``source``, at any depth; relative imports resolved."""
    tree = ast.parse(source)
    top_level = set(map(id, tree.body))
    package = importer if is_package else importer.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(
                    Import(importer, node.lineno, alias.name, (), id(node) not in top_level)
                )
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names = tuple(alias.name for alias in node.names)
            found.append(Import(importer, node.lineno, module, names, id(node) not in top_level))
    return [i for i in found if i.module == PACKAGE or i.module.startswith(PACKAGE + ".")]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def owner(module: str) -> str:
    """The package a module belongs to: its top-level subpackage, or itself at the top level."""
    return ".".join(module.split(".")[:2])


def _is_module(module: str) -> bool:
    path = SRC.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _private_module_owner(module: str) -> str | None:
    """For ``custintel.<pkg>._mod[...]``, the package ``custintel.<pkg>``; else ``None``.

    A private module at the top (``custintel._validation``) is the library's shared
    core, like DESIGN's ``_base.py``: any custintel module may import it, but not
    its underscore names.
    """
    parts = module.split(".")
    for depth, part in enumerate(parts[2:], start=2):
        if _is_private(part):
            return owner(".".join(parts[:depth]))
    return None


def targets(imp: Import) -> list[str]:
    """The modules an import loads: the module, and submodules named in ``from ... import``."""
    return [imp.module] + [
        f"{imp.module}.{name}" for name in imp.names if _is_module(f"{imp.module}.{name}")
    ]


def private_imports(imports: list[Import]) -> list[str]:
    """Describe each import of another package's private module or underscore name."""
    problems = []
    for imp in imports:
        where = f"{imp.importer}:{imp.line}"
        home = owner(imp.importer)
        for name in imp.names:
            is_name = not _is_module(f"{imp.module}.{name}")
            if is_name and _is_private(name) and owner(imp.module) != home:
                problems.append(f"{where} imports the private name {name} of {imp.module}")
        for target in targets(imp):
            package = _private_module_owner(target)
            if package is not None and package != home:
                problems.append(f"{where} imports {target}, a private module of {package}")
    return problems


def test_the_scan_reads_every_module_and_every_import(graph: grimp.ImportGraph) -> None:
    scanned: dict[str, list[Import]] = {}
    for name, path in iter_modules():
        scanned[name] = find_imports(
            name, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py"
        )
    assert set(scanned) == set(graph.modules)
    imports = [imp for found in scanned.values() for imp in found]
    # Every import grimp (and so lint-imports) sees, the scan sees too ...
    seen = {(imp.importer, target) for imp in imports for target in targets(imp)}
    edges = {
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
    }
    assert edges and not edges - seen
    # ... including imports inside functions (spark.py imports its engine helpers lazily).
    assert any(imp.nested for imp in scanned["custintel.spark"])
    assert len(imports) > 200


def test_no_module_imports_another_packages_private_names() -> None:
    problems = []
    for name, path in iter_modules():
        source = path.read_text(encoding="utf-8")
        problems += private_imports(
            find_imports(name, source, is_package=path.name == "__init__.py")
        )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("importer", "source", "private"),
    [
        ("custintel.spark", "from custintel.backends._features import churn_table", True),
        ("custintel.spark", "def f():\n    import custintel.features._churn\n", True),
        ("custintel.backends._prepare", "from custintel._validation import _Problems", True),
        ("custintel.cli", "from custintel.pipeline import _scoring", True),
        ("custintel.basket._rules", "from ..features._basket import canonical_order", True),
        ("custintel.churn._scores", "if True:\n    from custintel.clv._fit import _x\n", True),
        ("custintel.backends._features", "from custintel.backends._prepare import prepare", False),
        ("custintel.features._churn", "from custintel._validation import to_day", False),
        ("custintel.features._churn", "from custintel.backends import positive_days", False),
        ("custintel.features._summary", "from ._occasions import _add_block", False),
        ("custintel.cli", "from custintel import __version__", False),
        ("custintel.cli", "import numpy._core", False),
    ],
)
def test_the_private_import_check_itself(importer: str, source: str, private: bool) -> None:
    imports = find_imports(importer, source)
    assert imports or source.startswith("import numpy")
    assert bool(private_imports(imports)) is private


# --- the picture in docs/architecture.md is the contract ------------------------------------


def picture_layers(markdown: str) -> list[str]:
    """The layer boxes of the mermaid picture, top to bottom, checking they form one chain."""
    blocks = re.findall(r"```mermaid\n(.*?)```", markdown, flags=re.DOTALL)
    assert len(blocks) == 1, "the page has one mermaid picture"
    boxes = re.findall(r'^\s*(L\d+)\["([^"]+)"\]', blocks[0], flags=re.MULTILINE)
    ids = [box for box, _ in boxes]
    arrows = re.findall(r"(L\d+)\s*-->\s*(?=(L\d+))", blocks[0])
    assert arrows == list(itertools.pairwise(ids)), "arrows run down the boxes in order"
    return [label for _, label in boxes]


def test_the_picture_matches_the_layers_contract() -> None:
    layers = _contracts()["layers"]["layers"]
    assert picture_layers(ARCHITECTURE_PAGE.read_text(encoding="utf-8")) == layers


def test_the_picture_check_notices_a_change() -> None:
    page = ARCHITECTURE_PAGE.read_text(encoding="utf-8")
    layers = _contracts()["layers"]["layers"]
    upper, lower = f'["{layers[5]}"]', f'["{layers[6]}"]'
    swapped = page.replace(upper, "@").replace(lower, upper).replace("@", lower)
    assert swapped != page
    assert picture_layers(swapped) != layers
    with pytest.raises(AssertionError, match="arrows"):
        picture_layers(page.replace("L2 --> L3", "L3 --> L2"))
