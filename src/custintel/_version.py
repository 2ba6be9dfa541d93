"""The installed custintel version, in a module that imports nothing.

Code inside the package that records the version (a model bundle's manifest,
the HTML report) imports it from here rather than from :mod:`custintel`
itself, whose ``__init__`` imports the whole library: a subpackage importing
the top-level package would close an import circle through it.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
