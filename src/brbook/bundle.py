"""The student bundle: one zip a class downloads or uploads to a JupyterHub.

It holds the chapters and the student exercise notebooks side by side at its top level, with
``data/`` and the ``brbook`` package beside them, so ``import brbook`` works from any notebook
without installing anything but the libraries named in ``requirements.txt``. No solution or
answer key goes in: the exercise notebooks are the student ones that ``make exercises`` writes.
"""

from __future__ import annotations

import zipfile
from datetime import date
from importlib import metadata
from pathlib import Path

import yaml

from brbook.edition import VERSION_FILE, version
from brbook.layout import BUNDLE_MARKER

FOLDER = "belarus-russia-notebooks"
RUNTIME = ["pandas", "pandera", "altair", "ipywidgets", "ipykernel", "jupytext", "nbformat"]
"""What the package needs to run in a notebook; pinned to the versions the book is built with."""
SKIPPED = ("book/exercises", "book/reference/", "book/about/")
"""Table-of-contents pages left out: the exercise list (the notebooks are in the bundle), reference and about pages."""

README = """# Belarus and Russia: reading the sources (student notebooks)

Notebooks of the teaching book, to run in JupyterLab or on a JupyterHub.

- `NN-<chapter>.ipynb`: the chapters, in reading order. Run them top to bottom; the explorers
  (ipywidgets) are live here.
- `exercise-<chapter>.ipynb`: the graded exercises. Replace each `...` with your answer, run the
  cell, then `check("q1")` and so on: it says at once whether you are right, never the answer.
  Save the notebook and hand it in as your instructor asks.
- `data/`: the tables every figure and quotation comes from (five sources, verbatim quotes).
- `brbook/`: the small Python package the notebooks call. Leave it next to the notebooks.

## Setting up

JupyterLab with Python 3.11 and the libraries in `requirements.txt`:

    python -m pip install -r requirements.txt

On a class JupyterHub, upload and unzip the whole folder; keep the files together.

Version {version} of the book, built on {built} from its repository. The code is under the MIT
licence; the chapters, exercises and data under CC BY 4.0 (see LICENSE-CONTENT.md). The quoted
excerpts remain their authors' and publishers' work and are not covered by that licence.
"""


def requirements() -> str:
    """``requirements.txt`` pinned to the versions installed here (those of the locked environment)."""
    return "".join(f"{name}=={metadata.version(name)}\n" for name in RUNTIME)


def chapter_sources(root: Path) -> list[Path]:
    """The executable chapters of the table of contents, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    chosen = []
    for name in files:
        path = root / f"{name}.md"
        if name.startswith(SKIPPED) or not path.exists():
            continue
        if "kernelspec:" in path.read_text(encoding="utf-8")[:400]:
            chosen.append(path)
    return chosen


def notebook_name(number: int, source: Path) -> str:
    """``02-military.ipynb``: the chapter's place in reading order and its name (here rather than in
    ``brbook.notebooks``, so that a page's set-up names its class notebook without importing nbformat)."""
    from brbook.assets import chapter_name

    return f"{number:02d}-{chapter_name(source)}.ipynb"


def build(root: Path, student_notebooks: Path, out: Path, class_notebooks: Path | None = None) -> list[str]:
    """Write the bundle zip to ``out``; return the names of the files in it.

    The chapters are the class notebooks the book build writes (``brbook.notebooks``), the same
    ones the book offers for download: executed, and readable as prose.
    """
    package = root / "src" / "brbook"
    exercises = sorted(student_notebooks.glob("*.ipynb"))
    if not exercises:
        raise FileNotFoundError(f"no student notebooks in {student_notebooks}: run `make exercises` first")
    class_notebooks = class_notebooks or root / "_build" / "html" / "notebooks"
    chapters = sorted(class_notebooks.glob("[0-9][0-9]-*.ipynb"))
    if not chapters:
        raise FileNotFoundError(f"no class notebooks in {class_notebooks}: run `make book` first")
    entries: dict[str, bytes | str] = {
        BUNDLE_MARKER: f"brbook student bundle, version {version()}, built {date.today().isoformat()}\n",
        VERSION_FILE: f"{version()}\n",
        "README.md": README.format(built=date.today().isoformat(), version=version()),
        "LICENSE": (root / "LICENSE").read_bytes(),
        "LICENSE-CONTENT.md": (root / "LICENSE-CONTENT.md").read_bytes(),
        "requirements.txt": requirements(),
    }
    for path in chapters:
        entries[path.name] = path.read_bytes()
    for path in exercises:
        entries[f"exercise-{path.name}"] = path.read_bytes()
    for path in sorted(package.glob("*.py")):
        entries[f"brbook/{path.name}"] = path.read_bytes()
    for path in sorted((root / "data").glob("*")):
        if path.is_file() and path.suffix in (".csv", ".bib"):
            entries[f"data/{path.name}"] = path.read_bytes()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(f"{FOLDER}/{name}", content)
    return sorted(entries)
