"""The warm interpreter that student processes fork from: imported once by the fork server.

Importing this module loads pandas, Altair and ``brbook.data`` (with its tables
cached) and creates one IPython shell with history off, so each forked student
process starts with everything a notebook needs already in memory.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import altair  # noqa: F401  (imported for its warm-up cost only)
import pandas  # noqa: F401
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from brbook import data

_config = Config()
_config.HistoryManager.enabled = False
_config.InteractiveShell.colors = "NoColor"
_config.InteractiveShell.xmode = "Plain"
shell = InteractiveShell.instance(config=_config)

# Student processes may run under a uid that cannot read the interpreter's own folder (a Python
# installed under /root, say), so the standard library is imported here, while still root.
_SKIP = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "lib2to3", "ensurepip", "venv",
         "pydoc_data", "test", "__main__", "xxlimited", "xxlimited_35", "xxsubtype", "_xxsubinterpreters",
         "_xxtestfuzz", "_testcapi", "_testinternalcapi", "_testbuffer", "_testimportmultiple",
         "_testmultiphase", "_ctypes_test", "msilib", "winreg", "winsound", "_winapi", "nt", "msvcrt",
         "_msi", "_overlapped", "asyncio.windows_events", "_tkinter", "curses", "_curses", "_curses_panel",
         "readline", "crypt", "nis", "spwd", "ossaudiodev", "_scproxy", "_osx_support", "_aix_support",
         "_bootsubprocess", "_pyrepl", "_android_support", "_ios_support", "dbm", "_dbm", "_gdbm", "tty",
         "pty"}
_PACKAGES = ("collections", "concurrent", "email", "encodings", "html", "http", "importlib", "json",
             "logging", "urllib", "xml", "unittest", "sqlite3", "zoneinfo", "multiprocessing", "wsgiref",
             "asyncio", "ctypes")


def _warm_stdlib() -> None:
    for name in sorted(sys.stdlib_module_names - _SKIP):
        try:
            importlib.import_module(name)
        except Exception:  # missing optional modules are simply not there
            continue
    for package in _PACKAGES:
        module = sys.modules.get(package)
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=package + "."):
            if info.name in _SKIP or "__main__" in info.name or ".test" in info.name or "windows" in info.name:
                continue
            try:
                importlib.import_module(info.name)
            except Exception:
                continue


_warm_stdlib()

for _loader in (data.sources, data.facts, data.excerpts, data.events, data.glossary):
    _loader()
