"""Modules imported on first use.

Every page of the book runs in a fresh kernel, so an import the page does not use (Altair on a page
without a chart, pandera on a page that only reads tables) is paid again for every page, in every build.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """``alt = LazyModule("altair")`` costs nothing until the first ``alt.Chart``, which imports Altair."""

    def __init__(self, name: str):
        self.__name = name
        self.__module: ModuleType | None = None

    def __getattr__(self, attribute: str):
        if self.__module is None:
            self.__module = importlib.import_module(self.__name)
        return getattr(self.__module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self.__name!r}{' (imported)' if self.__module else ''}>"
