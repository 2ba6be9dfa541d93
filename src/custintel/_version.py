"""The installed custintel version, in a module that imports nothing.

Code inside the package that records the version (a model bundle's manifest,
the HTML report) imports it from here rather than from :mod:`custintel`
itself, whose ``__init__`` re-exports the main job: a subpackage importing
the top-level package would close an import circle through it (the
re-exports load on first use, but the import graph that import-linter checks
counts them all the same). ``custintel.__version__`` itself is this string,
imported eagerly, so ``custintel --version`` loads nothing else.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
