"""The warm interpreter that student processes fork from: imported once by the fork server.

Importing this module loads pandas, Altair and ``brbook.data`` (with its tables
cached) and creates one IPython shell with history off, so each forked student
process starts with everything a notebook needs already in memory.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
import sys

import altair  # noqa: F401  (imported for its warm-up cost only)
import pandas  # noqa: F401
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from brbook import (
    data,
    excerpts,  # noqa: F401  (exercise notebooks show excerpts)
    exercises,  # noqa: F401  (every student notebook's first cell imports it)
)

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

# The same holds for the IPython modules the shell imports lazily while running a cell (its logger,
# display and magics), when the environment lives in a folder that a sandbox uid cannot enter.
for _package in ("IPython.core", "IPython.utils", "IPython.lib", "IPython.display", "pandas.io.formats"):
    _module = importlib.import_module(_package)
    for _info in pkgutil.walk_packages(getattr(_module, "__path__", []), prefix=_package + "."):
        if ".tests" in _info.name:
            continue
        try:
            importlib.import_module(_info.name)
        except Exception:  # optional back-ends (Qt, pygments styles, …) that are not installed
            continue

# Reporting an error imports more (pygments formatters, stack_data): fail once here, while still root.
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    for _cell in ("1 / 0", "def broken(:", "import no_such_module_here"):
        shell.run_cell(_cell, silent=True)

# Every table is read (and cached) here, while still root: a sandbox uid may not be able to enter data/.
for _path in sorted(data.data_dir().glob("*.csv")):
    data._load(_path.stem)
