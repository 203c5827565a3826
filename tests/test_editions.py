"""The instructor edition and the student bundle, as `make instructor` and `make bundle` leave them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbclient import NotebookClient

from brbook import bundle, exercises

from .conftest import ROOT, serve

INSTRUCTOR = ROOT / "_build" / "instructor" / "html"
BUNDLE = ROOT / "_build" / "student-bundle.zip"
KEY = ROOT / "_build" / "exercises" / "key"


@pytest.fixture(scope="module")
def instructor_html() -> Path:
    if not (INSTRUCTOR / "index.html").exists():
        pytest.fail("_build/instructor/html is missing: run `make instructor` (make test does it first)")
    return INSTRUCTOR


def page(path: str) -> BeautifulSoup:
    return BeautifulSoup((INSTRUCTOR / path).read_text(encoding="utf-8"), "html.parser")


def test_instructor_edition_has_the_guide_for_every_chapter(instructor_html):
    guide = page("book/instructor/index.html")
    assert "Instructor guide" in guide.h1.get_text()
    for chapter in ("military", "economy", "foreign-policy", "media", "timeline", "synthesis"):
        text = page(f"book/instructor/{chapter}.html").get_text(" ")
        assert "50" in text and "90" in text and "misconception" in text.lower(), chapter
    nav = guide.select_one("nav.bd-links").get_text(" ")
    assert "Instructor guide" in nav and "Running the book for a class" in nav


def test_instructor_edition_shows_every_solution_and_accepted_value(instructor_html):
    solutions = page("book/instructor/solutions.html")
    for key_file in sorted(KEY.glob("*.json")):
        key = json.loads(key_file.read_text(encoding="utf-8"))
        section = solutions.select_one(f'section.exercise-solutions[data-exercise="{key["exercise"]}"]')
        assert section, key["exercise"]
        boxes = {b["data-question"]: b.get_text(" ") for b in section.select("div.solution-answer")}
        assert set(boxes) == {q["id"] for q in key["questions"]}
        for q in key["questions"]:
            for name in q["answers"]:
                assert json.dumps(key["expected"][name], ensure_ascii=False) in boxes[q["id"]], (q["id"], name)
        code = section.get_text(" ")
        assert "# SOLUTION" in code or "BEGIN SOLUTION" in code
        assert section.select(".solution-rubric"), "the written question's rubric is shown"


def test_instructor_edition_still_has_the_student_chapters(instructor_html):
    assert (INSTRUCTOR / "book" / "military" / "index.html").exists()
    from brbook.instructor import ANNOUNCEMENT

    banner = BeautifulSoup(ANNOUNCEMENT, "html.parser").get_text()
    assert banner in page("book/intro.html").get_text()


@pytest.fixture(scope="module")
def unzipped(tmp_path_factory) -> Path:
    if not BUNDLE.exists():
        pytest.fail("_build/student-bundle.zip is missing: run `make bundle` (make test does it first)")
    target = tmp_path_factory.mktemp("bundle")
    with zipfile.ZipFile(BUNDLE) as archive:
        archive.extractall(target)
    return target / bundle.FOLDER


def test_bundle_holds_chapters_exercises_data_and_a_readme(unzipped):
    names = {p.name for p in unzipped.iterdir()}
    assert {"README.md", "requirements.txt", "brbook", "data"} <= names
    chapters = sorted(p.name for p in unzipped.glob("[0-9][0-9]-*.ipynb"))
    assert chapters[0] == "01-sources.ipynb" and "02-military.ipynb" in chapters and len(chapters) >= 8
    for name in chapters:  # the class notebooks, the same ones the book offers for download
        assert (unzipped / name).read_bytes() == (ROOT / "_build" / "html" / "notebooks" / name).read_bytes(), name
    assert {f"exercise-{p.stem}.ipynb" for p in exercises.SOURCES.glob("*.md")} <= names
    assert (unzipped / "data" / "excerpts.csv").read_bytes() == (ROOT / "data" / "excerpts.csv").read_bytes()
    assert "pandas==" in (unzipped / "requirements.txt").read_text()


def test_bundle_has_no_solutions_or_key(unzipped):
    solved = json.loads((KEY / "military.json").read_text(encoding="utf-8"))["expected"]
    for path in unzipped.glob("exercise-*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert "# SOLUTION" not in text and "BEGIN SOLUTION" not in text and "answer_key" not in text, path.name
    student = nbformat.read(unzipped / "exercise-military.ipynb", as_version=4)
    assignments = " ".join(c.source for c in student.cells if c.cell_type == "code")
    assert "cadet_drop = ..." in assignments and "paper2016-f901\"] - " not in assignments
    assert solved and not list(unzipped.rglob("*key*")) and not (unzipped / "exercises").exists()


def test_bundle_notebooks_execute_in_a_real_kernel_with_the_shipped_data(unzipped):
    from brbook.forked_kernels import ForkedKernelManager

    for manager in ({}, {"kernel_manager_class": ForkedKernelManager}):  # a fresh kernel, and one forked warm
        probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            "import brbook, brbook.data\nprint(brbook.__file__)\nprint(brbook.data.data_dir())")])
        NotebookClient(probe, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(unzipped)}},
                       **manager).execute()
        package, data_dir = probe.cells[0].outputs[0]["text"].split()
        assert Path(package).parent == unzipped / "brbook" and Path(data_dir) == unzipped / "data"
    notebooks = sorted(unzipped.glob("*.ipynb"))
    assert len(notebooks) >= 12
    for path in notebooks:  # in kernels forked warm, as the book's pages are executed (outputs as a fresh kernel's)
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=180, kernel_name="python3", allow_errors=False, record_timing=False,
                       kernel_manager_class=ForkedKernelManager,
                       resources={"metadata": {"path": str(unzipped)}}).execute()
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert outputs, f"{path.name} produced no output"
        assert not [o for o in outputs if o.get("output_type") == "error"], path.name


@pytest.fixture(scope="module")
def instructor_url(instructor_html: Path):
    with serve(instructor_html) as url:
        yield url


@pytest.mark.browser
@pytest.mark.parametrize("path", ["book/instructor/index.html", "book/instructor/foreign-policy.html",
                                  "book/instructor/solutions.html", "book/instructor/running-a-class.html"])
def test_instructor_pages_are_private_and_accessible(browser, instructor_url, path):
    from .conftest import axe_violations
    from .test_browser import BLOCKING_IMPACTS, opened

    with opened(browser, f"{instructor_url}/{path}") as (page, log):
        assert log["outside"] == [] and log["failed"] == [] and log["errors"] == []
        blocking = [(v["id"], [n["target"] for n in v["nodes"][:3]]) for v in axe_violations(page)
                    if v.get("impact") in BLOCKING_IMPACTS]
        assert not blocking, f"{path}: {blocking}"
