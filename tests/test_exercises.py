"""brbook.exercises: every chapter notebook yields a student version and a key that agree."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from brbook import grading
from brbook.exercises import load, strip_solutions

from .conftest import HTML, ROOT

BUILT = ROOT / "_build" / "exercises"
SOURCES = sorted((ROOT / "exercises").glob("*.md"))
NAMES = [p.stem for p in SOURCES]


def test_strip_solutions_follows_otter_conventions():
    source = "x = 1 + 2  # SOLUTION\nif True:\n    y = 3 # SOLUTION\n# BEGIN SOLUTION\nz = 4\n# END SOLUTION\nprint(x)"
    assert strip_solutions(source) == "x = ...\nif True:\n    y = ...\n...\nprint(x)"


@pytest.mark.parametrize("path", SOURCES, ids=NAMES)
def test_each_exercise_has_enough_questions(path):
    exercise = load(path)
    assert len(exercise.questions) >= 8
    assert exercise.manual, "at least one written answer graded by hand"
    assert {q.checker.kind for q in exercise.questions} >= {"number", "choice"}


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_has_no_solutions_or_answers(name):
    text = (BUILT / "student" / f"{name}.ipynb").read_text(encoding="utf-8")
    key = json.loads((BUILT / "key" / f"{name}.json").read_text(encoding="utf-8"))
    for marker in ("# SOLUTION", "BEGIN SOLUTION", "END SOLUTION", "Rubric", "\"instructor\""):
        assert marker not in text
    student = nbformat.reads(text, as_version=4)
    code = "\n".join(c.source for c in student.cells
                     if c.cell_type == "code" and "checks" not in c.metadata.get("tags", []))
    for value in key["expected"].values():
        if isinstance(value, float) and not value.is_integer():
            assert f"{value}" not in code
        if isinstance(value, list) and value:
            assert json.dumps(value) not in text


def solved(name: str) -> nbformat.NotebookNode:
    key = nbformat.read(BUILT / "key" / f"{name}.ipynb", as_version=4)
    solutions = {c.metadata["question"]: c.source for c in key.cells if "question" in c.metadata}
    nb = nbformat.read(BUILT / "student" / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("question") in solutions:
            cell.source = solutions[cell.metadata["question"]]
    return nb


@pytest.mark.parametrize("name", NAMES)
def test_reference_solution_scores_100_and_blank_scores_0(name, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(solved(name), subs / "solved.ipynb")
    shutil.copy(BUILT / "student" / f"{name}.ipynb", subs / "blank.ipynb")
    key = grading.load_key(BUILT / "key" / f"{name}.json")
    results = {r.student: r for r in grading.grade(subs, tmp_path / "out", key, jobs=2, progress=False)}
    assert results["solved"].percentage == 100.0 and results["solved"].status == "ok", results["solved"]
    assert results["blank"].total == 0 and results["blank"].status == "ok", results["blank"]


@pytest.mark.parametrize("name", NAMES)
def test_site_offers_the_student_notebook_and_never_the_key(name, built_html):
    offered = HTML / "notebooks" / f"{name}.ipynb"
    assert offered.read_bytes() == (BUILT / "student" / f"{name}.ipynb").read_bytes()
    for path in HTML.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".ipynb", ".json", ".js", ".txt"}:
            text = path.read_text(encoding="utf-8", errors="ignore")
            assert "BEGIN SOLUTION" not in text and not re.search(r"#\s*SOLUTION\b", text), path
    assert not list(HTML.rglob(f"{name}.json"))


def test_key_is_not_readable_by_others():
    assert (BUILT / "key").stat().st_mode & 0o077 == 0
    assert Path(BUILT / "key").is_dir()
