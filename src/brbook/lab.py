"""``make lab``: a classroom JupyterLab on the class notebooks, safe to put on a projector.

- The file browser is rooted at a class folder, ``_build/class/``, holding only what a class
  needs: a start page, the chapters as class notebooks (``01-sources.ipynb`` …, the same ones the
  book offers for download, see ``brbook.notebooks``), the student exercise notebooks
  (``exercise-<chapter>.ipynb``) and ``data/``. No answer key, exercise source, test or
  ``node_modules`` is in it. Students and instructors work on these copies, so nothing in ``book/``
  changes; a copy is made once and never overwritten (work done in it is kept).
- Settings (written to the environment's ``overrides.json``, not the user's home): no Jupyter news
  pop-up or update check, and a notebook's kernel shuts down when its tab closes; idle kernels with
  no tab are culled too.
- It starts as an ordinary user and as root (``--allow-root``, as in a container), on
  ``JUPYTER_PORT`` when set, and opens on the start page, whose kernel is chosen by its metadata.
- ``make lab INSTRUCTOR=1`` (``--instructor``) roots it at the repository instead, for editing.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import nbformat

SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"kernelShutdown": True},
}
START = "00-start-here.ipynb"


def write_overrides(prefix: Path = Path(sys.prefix)) -> Path:
    """Merge the classroom settings into the environment's ``overrides.json``, keeping other settings."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    # an earlier make lab made jupytext the viewer of every .md file (README.md too): undone
    settings.pop("@jupyterlab/docmanager-extension:plugin", None)
    for plugin, values in SETTINGS.items():
        settings[plugin] = {**settings.get(plugin, {}), **values}
    path.write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return path


def _copy_once(source: Path, dest: Path, copied: list[Path]) -> None:
    if not dest.exists():
        shutil.copyfile(source, dest)
        copied.append(dest)


def start_page(chapters: list[Path], exercises: list[Path]):
    """The landing notebook: what is in the folder and how to work, with links."""
    def title(path: Path) -> str:
        nb = nbformat.read(path, as_version=4)
        first = next((c.source for c in nb.cells if c.cell_type == "markdown"), path.stem)
        return first.splitlines()[0].lstrip("# ").strip() if first else path.stem

    lines = ["# Belarus and Russia: reading the sources", "",
             "The chapters of the book as live notebooks. Open a chapter, then **Run ▸ Run All Cells**: "
             "its charts respond to their controls, its explorers filter the excerpts, and its self-checks "
             "answer you. Save your work as often as you like; it stays in this folder.", "",
             "## Chapters", ""]
    lines += [f"- [{title(p)}]({p.name})" for p in chapters]
    lines += ["", "## Graded exercises", "",
              "Replace each `...` with your answer, run the cell, then `check(\"q1\")` and so on: it says "
              "whether you are right, never the answer.", ""]
    lines += [f"- [{p.name}]({p.name})" for p in exercises]
    lines += ["", "The tables every figure and quotation comes from are in `data/`."]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("\n".join(lines))])
    notebook.cells[0]["id"] = "start"
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                       "name": "python3"}
    return notebook


def class_folder(root: Path) -> tuple[Path, list[Path]]:
    """Fill ``_build/class/`` from the built book and exercises; return it and the files new in it."""
    target = root / "_build" / "class"
    (target / "data").mkdir(parents=True, exist_ok=True)
    copied: list[Path] = []
    chapters = sorted((root / "_build" / "html" / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    if not chapters:
        raise FileNotFoundError("no class notebooks in _build/html/notebooks: run `make book` first")
    for path in chapters:
        _copy_once(path, target / path.name, copied)
    exercises = sorted((root / "_build" / "exercises" / "student").glob("*.ipynb"))
    for path in exercises:
        _copy_once(path, target / f"exercise-{path.name}", copied)
    for path in sorted((root / "data").glob("*.csv")):
        shutil.copyfile(path, target / "data" / path.name)
    start = target / START
    nbformat.write(start_page(chapters, [target / f"exercise-{p.name}" for p in exercises]), start)
    return target, copied


FORKED_KERNELS = "--AsyncMappingKernelManager.kernel_manager_class=brbook.lab.ForkedServerKernelManager"
"""Jupyter Server starts each notebook's Python kernel forked warm (``brbook.forked_kernels``): a chapter
opened in class has its kernel, with pandas and Altair imported, in a fraction of a second instead of
seconds. The kernel is an ordinary IPython kernel; interrupt, restart and shut-down work as for any."""


def __getattr__(name: str):
    """``ForkedServerKernelManager``, made on first use: only the Jupyter server that runs the kernels needs
    it, and only that process need import Jupyter Server."""
    if name != "ForkedServerKernelManager":
        raise AttributeError(name)
    from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

    from brbook.forked_kernels import ForkedLaunch

    manager = type("ForkedServerKernelManager", (ForkedLaunch, ServerKernelManager),
                   {"__module__": __name__, "__doc__": "Jupyter Server's kernel manager, Python kernels forked warm."})
    globals()[name] = manager
    return manager


def command(root: Path, instructor: bool = False, port: str | None = None, euid: int | None = None) -> list[str]:
    """The ``jupyter lab`` command line for the class folder (or the repository for an instructor)."""
    folder = root if instructor else root / "_build" / "class"
    args = [str(Path(sys.executable).parent / "jupyter"), "lab", f"--ServerApp.root_dir={folder}",
            "--MappingKernelManager.cull_idle_timeout=600", "--MappingKernelManager.cull_interval=60",
            "--MappingKernelManager.cull_connected=False", FORKED_KERNELS]
    if not instructor:
        args += [f"--LabApp.default_url=/lab/tree/{START}", f"--ServerApp.default_url=/lab/tree/{START}"]
    port = port if port is not None else os.environ.get("JUPYTER_PORT")
    if port:
        args.append(f"--ServerApp.port={int(port)}")
    if (os.geteuid() if euid is None else euid) == 0:
        args.append("--allow-root")
    return args


def main(argv: list[str]) -> None:
    instructor = "--instructor" in argv
    paths = [a for a in argv if not a.startswith("--")]
    root = Path(paths[0]).resolve() if paths else Path.cwd()
    print(f"classroom settings (no news pop-up, kernels shut down with their tabs): {write_overrides()}")
    folder, copied = class_folder(root)
    print(f"class folder: {folder} ({len(copied)} new notebook(s); existing copies are kept)")
    if "--serve" in argv:
        args = command(root, instructor)
        print(" ".join(args), flush=True)
        os.execv(args[0], args)


if __name__ == "__main__":
    main(sys.argv[1:])
