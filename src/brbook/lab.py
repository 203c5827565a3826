"""Prepare JupyterLab for ``make lab``: chapters open as notebooks, exercises ready to run.

The chapters are MyST Markdown files; jupytext's JupyterLab extension opens them as notebooks,
but JupyterLab's default viewer for ``.md`` is the text editor. A settings override in the
environment (not in the user's home) makes "Jupytext Notebook" the default for Markdown and MyST.
The student exercise notebooks are copied to ``_build/lab/`` once, so rebuilding them never
overwrites work done there.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

VIEWERS = {"@jupyterlab/docmanager-extension:plugin": {
    "defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}}


def write_overrides(prefix: Path = Path(sys.prefix)) -> Path:
    """Merge the default-viewer setting into the environment's ``overrides.json``."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    settings.update(VIEWERS)
    path.write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return path


def copy_exercises(root: Path) -> list[Path]:
    """Copy each student notebook to ``_build/lab/`` unless a copy (perhaps worked on) is there."""
    target = root / "_build" / "lab"
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for notebook in sorted((root / "_build" / "exercises" / "student").glob("*.ipynb")):
        dest = target / f"exercise-{notebook.name}"
        if not dest.exists():
            shutil.copyfile(notebook, dest)
            copied.append(dest)
    return copied


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    print(f"JupyterLab opens .md files as notebooks: {write_overrides()}")
    copied = copy_exercises(root)
    print(f"exercise notebooks to work in: {root / '_build' / 'lab'} ({len(copied)} new)")
