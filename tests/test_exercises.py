"""brbook.exercises: every chapter notebook yields a student version and a key that agree.

Issue 16: the questions test reading the sources (attribution, dating, evidence, comparability,
perspective, forecast, contradiction), each justified by ids in ``data/``; none counts our own rows.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from brbook import grading
from brbook.checkers import normalise_text
from brbook.exercises import QUESTION_KINDS, code_cells, load, row_counting, strip_solutions, validate, validate_answers

from .conftest import DATA, HTML, ROOT, exercise_source

BUILT = ROOT / "_build" / "exercises"
SOURCES = sorted((ROOT / "exercises").glob("*.md"))
NAMES = [p.stem for p in SOURCES]


def test_strip_solutions_follows_otter_conventions():
    source = "x = 1 + 2  # SOLUTION\nif True:\n    y = 3 # SOLUTION\n# BEGIN SOLUTION\nz = 4\n# END SOLUTION\nprint(x)"
    assert strip_solutions(source) == "x = ...\nif True:\n    y = ...\n...\nprint(x)"


INSTRUCTOR_FIELDS = ("kind", "evidence", "rubric", "full_answer")


def data_ids() -> set[str]:
    """Excerpt, fact and event ids read straight from the CSVs (not through the package under test)."""
    ids = set()
    for table, column in (("excerpts", "excerpt_id"), ("facts", "fact_id"), ("events", "event_id")):
        with (DATA / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
            ids |= {row[column] for row in csv.DictReader(handle)}
    return ids


@pytest.mark.parametrize("path", SOURCES, ids=NAMES)
def test_each_exercise_has_enough_questions(path):
    exercise = exercise_source(path)
    assert len(exercise.questions) >= 10, "at least 10 auto-graded questions"
    assert len(exercise.manual) >= 2, "at least two written answers graded by hand"
    assert "choice" in {q.checker.kind for q in exercise.questions}


def test_most_auto_graded_questions_are_interpretive():
    questions = [q for p in SOURCES for q in exercise_source(p).questions]
    assert len(questions) >= 50
    interpretive = [q for q in questions if q.kind != "data"]
    assert len(interpretive) / len(questions) >= 0.6, f"{len(interpretive)} of {len(questions)} interpretive"
    assert {q.kind for q in questions} <= set(QUESTION_KINDS)


@pytest.mark.parametrize("path", SOURCES, ids=NAMES)
def test_every_question_is_justified_by_ids_in_data(path):
    exercise = exercise_source(path)
    ids = data_ids()
    for q in [*exercise.questions, *exercise.manual]:
        assert q.evidence, f"{q.qid} names no justifying id"
        assert set(q.evidence) <= ids, (q.qid, sorted(set(q.evidence) - ids))
    for q in exercise.questions:
        assert q.kind in QUESTION_KINDS, q.qid
    for m in exercise.manual:
        assert m.rubric and sum(r["points"] for r in m.rubric) == m.points, m.qid
        assert set(re.findall(r"\b[a-z]+\d{4}(?:_\d\d)?-[xfe]\d+\b", m.full_answer)) & set(m.evidence), m.qid


@pytest.mark.parametrize("path", SOURCES, ids=NAMES)
def test_every_exercise_passes_the_build_validation(path):
    assert validate(exercise_source(path)) == []


@pytest.mark.parametrize("path", SOURCES, ids=NAMES)
def test_no_solution_counts_rows_or_tags_of_our_tables(path):
    assert row_counting(code_cells(exercise_source(path).notebook)) == []


def test_row_counting_is_caught_however_it_is_written():
    """The old questions that counted our own rows are flagged; arithmetic on fact values is not."""
    setup = "from brbook import data\nevents = data.events(dimension='military')\nexcerpts = data.excerpts()\n" \
            "values = data.facts().set_index('fact_id')['value']"
    counting = [
        "events_2017 = int((events['year'] == 2017).sum())  # SOLUTION",
        "most = excerpts['source_id'].value_counts().idxmax()  # SOLUTION",
        "per_source = events.groupby('source_id').size().sort_index()  # SOLUTION",
        "share = excerpts['topics'].str.contains('airbase').mean()  # SOLUTION",
        "n = len(data.excerpts(topic='airbase'))  # SOLUTION",
        "# BEGIN SOLUTION\nsub = excerpts[excerpts['source_id'] == 'brief2022']\nn = sub.shape[0]\n# END SOLUTION",
        "n = len(values)  # SOLUTION",
    ]
    for cell in counting:
        assert row_counting([setup, cell]), cell
    fine = ["drop = values['paper2016-f901'] - values['paper2016-f902']  # SOLUTION",
            "total = values[['paper2016-f903', 'paper2016-f904']].sum()  # SOLUTION",
            "who = 'b'  # SOLUTION"]
    for cell in fine:
        assert row_counting([setup, cell]) == [], cell


def test_validation_reports_each_broken_rule(tmp_path):
    source = (ROOT / "tests" / "fixtures" / "exercises" / "sample.md").read_text(encoding="utf-8")
    breaks = {
        "kind: data\nevidence: [paper2016-f901, paper2016-f902]": "kind: trivia\nevidence: [paper2016-f999]",
        'reason for the disagreement", points: 1}': 'reason for the disagreement", points: 2}',
        'checker: {kind: choice, wrong: {brief2022: "The brief is dated 2022, the latest of the five."}}':
            "checker: {kind: choice}",
    }
    broken = source
    for old, new in breaks.items():
        assert old in broken, old
        broken = broken.replace(old, new)
    path = tmp_path / "broken.md"
    path.write_text(broken, encoding="utf-8")
    problems = "\n".join(validate(load(path)))
    assert "q1: `kind` is 'trivia'" in problems
    assert "'paper2016-f999' is not in data/" in problems
    assert "rubric points add up to 4" in problems
    assert "q2: a choice question gives a `wrong:` reason" in problems


def _options_shown(option: str, prompt: str) -> bool:
    """A letter option shows as "(a)", "a)", "a." or "**a.**" at a list item, or as `a`; others as text."""
    if len(option) == 1:
        letter = re.escape(option)
        marker = rf"\(\s*{letter}\s*\)|`{letter}`|^\s*(?:[-*]\s*)?(?:\*\*)?\(?{letter}[.)]"
        return bool(re.search(marker, prompt, re.IGNORECASE | re.MULTILINE))
    return normalise_text(option) in normalise_text(prompt)


@pytest.mark.parametrize("path", SOURCES, ids=NAMES)
def test_choice_questions_show_every_option_and_explain_every_wrong_one(path):
    exercise = exercise_source(path)
    key = json.loads((BUILT / "key" / f"{exercise.name}.json").read_text(encoding="utf-8"))
    for q in exercise.questions:
        if q.checker.kind != "choice":
            continue
        right = [key["expected"][name] for name in q.answers]
        options = [*right, *q.checker.wrong]
        assert len(options) >= 2 and not set(map(normalise_text, right)) & set(map(normalise_text, q.checker.wrong))
        for option in options:
            assert _options_shown(str(option), q.prompt), (q.qid, option)
        for message in [*q.checker.wrong.values(), q.checker.hint]:
            for value in right:
                assert len(str(value)) < 4 or normalise_text(value) not in normalise_text(message), (q.qid, message)


@pytest.mark.parametrize("name", NAMES)
def test_key_records_kind_evidence_and_rubrics(name):
    key = json.loads((BUILT / "key" / f"{name}.json").read_text(encoding="utf-8"))
    for q in key["questions"]:
        assert q["kind"] in QUESTION_KINDS and q["evidence"], q["id"]
    for m in key["manual"]:
        assert m["evidence"] and m["rubric"] and m["full_answer"], m["id"]


def _embedded_checks(notebook: nbformat.NotebookNode) -> dict:
    cell = next(c for c in notebook.cells if "checks" in c.metadata.get("tags", []))
    call = next(n for n in ast.walk(ast.parse(cell.source))
                if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "from_json")
    return json.loads(ast.literal_eval(call.args[0]))


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_has_no_rubric_full_answer_or_evidence(name):
    student = nbformat.read(BUILT / "student" / f"{name}.ipynb", as_version=4)
    key = json.loads((BUILT / "key" / f"{name}.json").read_text(encoding="utf-8"))
    for cell in student.cells:
        assert not set(cell.metadata) & set(INSTRUCTOR_FIELDS), cell.metadata
    spec = _embedded_checks(student)
    assert set(spec["questions"]) == {q["id"] for q in key["questions"]}
    assert not _keys(spec) & {"evidence", "rubric", "full_answer"}
    assert all("kind" not in q for q in spec["questions"].values())
    text = "\n".join(c.source for c in student.cells)
    for m in key["manual"]:
        assert m["full_answer"][:60] not in text
        for r in m["rubric"]:
            assert r["criterion"] not in text


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
    offered = HTML / "notebooks" / f"exercise-{name}.ipynb"
    assert offered.read_bytes() == (BUILT / "student" / f"{name}.ipynb").read_bytes()
    for path in HTML.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".ipynb", ".json", ".js", ".txt"}:
            text = path.read_text(encoding="utf-8", errors="ignore")
            assert "BEGIN SOLUTION" not in text and not re.search(r"#\s*SOLUTION\b", text), path
    assert not list(HTML.rglob(f"{name}.json"))


def test_key_is_not_readable_by_others():
    assert (BUILT / "key").stat().st_mode & 0o077 == 0
    assert Path(BUILT / "key").is_dir()


@pytest.mark.parametrize("name", NAMES)
def test_solutions_page_shows_kind_evidence_rubric_and_full_answer(name):
    from bs4 import BeautifulSoup

    from brbook import instructor

    key = json.loads((BUILT / "key" / f"{name}.json").read_text(encoding="utf-8"))
    page = BeautifulSoup(instructor.solutions(name).data, "html.parser")
    for q in key["questions"]:
        box = page.select_one(f'div.solution-answer[data-question="{q["id"]}"]')
        assert box.select_one("span.question-kind")["data-kind"] == q["kind"], q["id"]
        shown = {li.get("data-excerpt") or li.get("data-fact") or li.get("data-event")
                 for li in box.select("div.solution-evidence li")}
        assert shown == set(q["evidence"]), q["id"]
        assert all(li.select_one("q") for li in box.select("div.solution-evidence li")), "each id is quoted"
    for m in key["manual"]:
        box = page.select_one(f'div.solution-manual[data-question="{m["id"]}"]')
        assert len(box.select("table.rubric tbody tr")) == len(m["rubric"]), m["id"]
        assert " ".join(m["full_answer"].split()) in " ".join(box.get_text(" ").split()), m["id"]
        assert len(box.select("div.solution-evidence li")) == len(m["evidence"]), m["id"]


@pytest.mark.parametrize("path", SOURCES, ids=NAMES)
def test_no_exercise_gives_the_cadets_a_definite_academic_year(path):
    """Issue 15: the paper's 'last academic year' and 'this year' cannot be dated with certainty."""
    text = path.read_text(encoding="utf-8")
    academic = re.compile(r"\b(?:19|20)\d\d/\d{2,4}\b|academic years? (?:of |in )?(?:19|20)\d\d", re.IGNORECASE)
    assert not academic.search(text), academic.search(text)


def _listed_options(prompt: str) -> list[tuple[str, str]]:
    """The options a prompt lists, as (option, text): "- (a) text", "- **a.** text" or "- `id`: text"."""
    letters = re.findall(r"^\s*[-*]\s*(?:\*\*)?\(?([a-e])[.)](?:\*\*)?\s*(.+)$", prompt, re.MULTILINE)
    return letters or re.findall(r"^\s*[-*]\s*`([^`]+)`:?\s*(.+)$", prompt, re.MULTILINE)


def test_right_options_are_not_given_away_by_length_or_place():
    """Across the five notebooks the right option is the longest, or in any one place, in at most a third."""
    longest, places, total = 0, {}, 0
    for path in SOURCES:
        exercise = exercise_source(path)
        key = json.loads((BUILT / "key" / f"{exercise.name}.json").read_text(encoding="utf-8"))
        for q in exercise.questions:
            options = dict(_listed_options(q.prompt)) if q.checker.kind == "choice" else {}
            right = str(key["expected"][q.answers[0]])
            if len(options) < 3 or right not in options:
                continue
            total += 1
            longest += len(options[right]) >= max(len(t) for t in options.values())
            place = list(options).index(right)
            places[place] = places.get(place, 0) + 1
    assert total >= 30
    assert longest <= total / 3, f"the right option is the longest in {longest} of {total}"
    assert max(places.values()) <= total / 3, f"places of the right option: {places} of {total}"


def test_feedback_that_states_the_answer_is_refused(tmp_path):
    source = (ROOT / "tests" / "fixtures" / "exercises" / "sample.md").read_text(encoding="utf-8")
    leaking = (source.replace('"You added the two numbers; the question asks for the fall."',
                              '"You added the two numbers; the fall is 73."')
               .replace('"The brief is dated 2022, the latest of the five."', '"No: article2014 is older."'))
    path = tmp_path / "leaking.md"
    path.write_text(leaking, encoding="utf-8")
    expected = {"drop": 73, "oldest": "article2014", "s": None, "years": [2014, 2016, 2017]}
    problems = "\n".join(validate_answers(load(path), expected))
    assert "q1: feedback states the answer 73" in problems
    assert "q2: feedback states the answer 'article2014'" in problems
    sample = load(ROOT / "tests" / "fixtures" / "exercises" / "sample.md")
    assert validate_answers(sample, expected) == []
