"""Where the book's files are, in the repository and in the student bundle.

In the repository the package sits in ``src/brbook`` beside ``data/`` and ``_build/``;
in the zip that ``make bundle`` writes it sits at the top, beside ``data/`` and the
notebooks. Every path the package reads is decided here, once.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
BUNDLE_MARKER = "BUNDLE.txt"
"""A file at the top of the student bundle: its presence says the package runs from the bundle."""


def in_wheel() -> bool:
    """True when the package is installed from its wheel, which carries the tables in ``brbook/data``."""
    return (PACKAGE / "data" / "excerpts.csv").exists()


def in_bundle() -> bool:
    """True when the package runs from an unzipped student bundle, not the repository."""
    return (PACKAGE.parent / BUNDLE_MARKER).exists()


ROOT = PACKAGE.parent if in_bundle() else PACKAGE.parents[1]
"""The repository (or the unzipped bundle)."""

DATA = PACKAGE / "data" if in_wheel() else ROOT / "data"
STUDENT_NOTEBOOKS = ROOT if in_bundle() else ROOT / "_build" / "exercises" / "student"
"""Where the student exercise notebooks are (``make exercises`` writes them in the repository)."""


def student_notebook(name: str) -> Path:
    """The student exercise notebook of chapter ``name``, where this layout keeps it."""
    return STUDENT_NOTEBOOKS / (f"exercise-{name}.ipynb" if in_bundle() else f"{name}.ipynb")
