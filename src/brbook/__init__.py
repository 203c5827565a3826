"""brbook: the package behind the Belarus–Russia teaching book.

Modules, one concern each: ``data`` (typed access to data/), ``schema`` (validation and the data
dictionary), ``provenance`` (quotes checked against the sources), ``excerpts`` (cited block quotes),
``charts`` (interactive Altair figures), ``selfcheck`` (in-page questions), ``widgets`` (live
explorers), ``reference`` (generated reference pages), ``book`` (chapter set-up and glued numbers),
``assets`` (vendored browser libraries), ``execute`` (pages executed on every core before the build)
and ``cli`` (the ``brbook`` command).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"


class LazyModule:
    """A module imported on first use: ``alt = LazyModule("altair")`` costs nothing until ``alt.Chart``.

    Every page starts a fresh kernel, so an import a page does not use (Altair on a page without a chart,
    pandera on a page that only reads tables) is paid once per page and build for nothing.
    """

    def __init__(self, name: str):
        self.__name = name
        self.__module: ModuleType | None = None

    def __getattr__(self, attribute: str):
        if self.__module is None:
            self.__module = importlib.import_module(self.__name)
        return getattr(self.__module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self.__name!r}{' (imported)' if self.__module else ''}>"
