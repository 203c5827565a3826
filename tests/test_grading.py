"""brbook.grading: a class graded in one run, whatever the students submit."""

from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from brbook import exercises, grading

from .conftest import DATA, FIXTURE_EXERCISES, ROOT

SITE_PACKAGES = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exercises")
    sources = tmp_path_factory.mktemp("sources")
    shutil.copy(FIXTURE_EXERCISES / "sample.md", sources / "sample.md")
    exercises.build(out, sources=sources)
    (out / "sources").symlink_to(sources)
    return out


def student(built: Path) -> nbformat.NotebookNode:
    return nbformat.read(built / "student" / "sample.ipynb", as_version=4)


def solved(built: Path) -> nbformat.NotebookNode:
    """A student notebook with every question cell replaced by the reference solution."""
    key = nbformat.read(built / "key" / "sample.ipynb", as_version=4)
    solutions = {c.metadata["question"]: c.source for c in key.cells if "question" in c.metadata}
    nb = student(built)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("question") in solutions:
            cell.source = solutions[cell.metadata["question"]]
    return nb


def with_cell(nb: nbformat.NotebookNode, source: str, at: int | None = None) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(source)
    nb.cells.insert(len(nb.cells) if at is None else at, cell)
    return nb


def answer_cell(nb: nbformat.NotebookNode, qid: str, source: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.metadata.get("question") == qid:
            cell.source = source
    return nb


WRONG = {"q1": "drop = 1", "q2": "oldest = 'brief2022'", "q3": "s = pd.Series([9, 9, 9], index=list('abc'))",
         "q4": "years = [2017, 2016, 2014]"}


def all_wrong(built: Path) -> nbformat.NotebookNode:
    nb = student(built)
    for qid, source in WRONG.items():
        nb = answer_cell(nb, qid, source)
    return nb


@pytest.fixture(scope="module")
def graded_class(built, tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    key_path = built / "key" / "sample.json"
    good = solved(built)
    wrong = all_wrong(built)
    notebooks = {
        "a_correct": good,
        "b_blank": student(built),
        "c_syntax": answer_cell(good, "q2", "oldest = 'article2014"),
        "d_loop": with_cell(good, "while True:\n    pass"),
        "e_sysexit": with_cell(good, "import sys\nsys.exit()"),
        "f_osexit": with_cell(answer_cell(good, "q4", "import os\nos._exit(1)"), "years = [2014, 2016, 2017]"),
        "g_killself": with_cell(good, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", at=3),
        "h_memory": with_cell(good, "hog = bytearray(6 * 1024 ** 3)"),
        "i_flood": with_cell(good, "while True:\n    print('x' * 10000)"),
        "j_fake_check": with_cell(wrong, "check = lambda *a, **k: 'Correct.'\nscore = check"),
        "k_patch_libs": with_cell(wrong, "import numpy, pandas.testing\nnumpy.allclose = lambda *a, **k: True\n"
                                         "pandas.testing.assert_series_equal = lambda *a, **k: None\n"
                                         "pandas.testing.assert_frame_equal = lambda *a, **k: None"),
        "l_read_key": answer_cell(wrong, "q1", f"import json\ndrop = json.load(open({str(key_path)!r}))"
                                              "['expected']['drop']"),
        "m_read_source": answer_cell(wrong, "q2", f"oldest = open({str(built / 'sources' / 'sample.md')!r})"
                                                  ".read().split('oldest = \"')[1].split('\"')[0]"),
        "n_delete_data": with_cell(wrong, f"import os\nos.remove({str(DATA / 'facts.csv')!r})"),
        "o_pth": with_cell(wrong, f"open({str(SITE_PACKAGES / 'zz_brbook_evil.pth')!r}, 'w')"
                                  ".write('import os; os.system(\"true\")')"),
        "p_kill_others": with_cell(good, "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\n"
                                         "except Exception:\n    pass"),
        "z_correct_again": good,
    }
    for name, nb in notebooks.items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    (subs / "q_not_json.ipynb").write_text("this is not json {", encoding="utf-8")
    (subs / "r_not_notebook.ipynb").write_text(json.dumps([1, 2, 3]), encoding="utf-8")
    (subs / "s_empty.ipynb").write_text("", encoding="utf-8")
    shutil.copy(subs / "a_correct.ipynb", subs / "t_duplicate.ipynb")
    out = tmp_path_factory.mktemp("results")
    key = grading.load_key(key_path)
    # 5 s: ten times what a right answer takes on a loaded machine, and what the looping submission burns of
    # a core before it is stopped
    grading.grade(subs, out, key, jobs=2, limits=grading.Limits(timeout=5, memory_mb=1500),
                  progress=False, secret_paths=[built / "key", built / "sources"])
    grading.write_outputs(grading.all_graded(out), key, out)
    return {r.student: r for r in grading.all_graded(out)}, out, subs, key


def test_reference_solution_scores_full_marks(graded_class):
    results, *_ = graded_class
    assert results["a_correct"].percentage == 100.0
    assert results["a_correct"].status == "ok"
    assert results["z_correct_again"].percentage == 100.0


def test_blank_student_notebook_scores_zero(graded_class):
    results, *_ = graded_class
    assert results["b_blank"].total == 0 and results["b_blank"].status == "ok"


def test_syntax_error_costs_only_its_question(graded_class):
    r = graded_class[0]["c_syntax"]
    assert r.status == "error" and "SyntaxError" in r.reason
    assert r.scores["q2"] == 0 and r.scores["q1"] == 2 and r.scores["q3"] == 1


@pytest.mark.parametrize("name, status", [
    ("d_loop", "timeout"), ("e_sysexit", "error"), ("f_osexit", "error"), ("g_killself", "error"),
    ("h_memory", "memory"), ("i_flood", "error"), ("q_not_json", "unreadable"),
    ("r_not_notebook", "unreadable"), ("s_empty", "unreadable"), ("t_duplicate", "duplicate"),
])
def test_bad_submissions_get_a_clear_status(graded_class, name, status):
    r = graded_class[0][name]
    assert r.status == status, (r.status, r.reason)
    assert r.reason


def test_answers_before_a_crash_still_count(graded_class):
    results = graded_class[0]
    assert results["d_loop"].percentage == 100.0  # the loop comes after every answer
    assert results["f_osexit"].scores["q1"] == 2 and results["f_osexit"].scores["q4"] == 0


@pytest.mark.parametrize("name", ["j_fake_check", "k_patch_libs", "l_read_key", "m_read_source",
                                  "n_delete_data", "o_pth"])
def test_tampering_never_raises_a_score(graded_class, name):
    assert graded_class[0][name].total == 0, graded_class[0][name]


def test_tampering_left_no_trace(graded_class):
    assert (DATA / "facts.csv").exists()
    assert not (SITE_PACKAGES / "zz_brbook_evil.pth").exists()


def test_a_submission_that_kills_every_process_harms_nobody(graded_class):
    results = graded_class[0]
    assert results["p_kill_others"].percentage == 100.0
    assert all(results[n].status != "error" or n not in ("a_correct", "z_correct_again") for n in results)


def test_gradebook_has_a_row_per_submission_and_the_right_columns(graded_class):
    _, out, subs, key = graded_class
    with (out / "gradebook.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(list(subs.glob("*.ipynb")))
    assert {"student", "q1", "q2", "q3", "q4", "q5 (manual)", "total", "percentage", "status", "reason"} <= set(rows[0])
    by_student = {r["student"]: r for r in rows}
    assert by_student["a_correct"]["total"] == "5" and by_student["a_correct"]["possible"] == "8"
    assert by_student["a_correct"]["percentage"] == "62.5"  # the written q5 (3 points) is not graded yet


def test_feedback_files_give_hints_not_answers(graded_class):
    _, out, *_ = graded_class
    text = (out / "feedback" / "j_fake_check.md").read_text(encoding="utf-8")
    assert "| q1 | 0 / 2 |" in text
    assert "73" not in text and "article2014" not in text
    wrong_sum = (out / "feedback" / "b_blank.md").read_text(encoding="utf-8")
    assert "No answer yet" in wrong_sum


def test_report_is_self_contained(graded_class):
    _, out, *_ = graded_class
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in report and "share correct" in report.lower()
    assert "src=\"http" not in report and "href=\"http" not in report


def test_targeted_feedback_for_a_common_mistake(built):
    key = grading.load_key(built / "key" / "sample.json")
    *_, = grading.score_answers(key, {"drop": 821})
    scores, feedback, *_ = grading.score_answers(key, {"drop": 821})
    assert scores["q1"] == 0 and "added the two numbers" in feedback["q1"]


def test_student_notebook_has_no_solution_or_answer(built):
    text = (built / "student" / "sample.ipynb").read_text(encoding="utf-8")
    for secret in ("447 - 374", "\"article2014\"", "'article2014'", "BEGIN SOLUTION", "Rubric", "[2014, 2016, 2017]"):
        assert secret not in text


def test_instant_check_in_the_student_notebook(built):
    nb = student(built)
    loader = next(c.source for c in nb.cells if "checks" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(loader, namespace)  # noqa: S102 - our own generated cell
    check = namespace["check"]
    assert check.verdict("q1", {"drop": 73}) == (True, "Correct.")
    right, message = check.verdict("q1", {"drop": 821})
    assert not right and "added the two numbers" in message
    assert check.verdict("q2", {"oldest": "Article2014 "})[0]
    assert not check.verdict("q4", {"years": [2017, 2016, 2014]})[0]
    assert "no answer yet" in check.verdict("q3", {"s": ...})[1]


def test_killed_and_resumed_run_matches_an_uninterrupted_one(built, graded_class, tmp_path):
    _, whole, subs, _ = graded_class
    names = ("a_correct", "b_blank", "c_syntax", "e_sysexit", "j_fake_check", "z_correct_again")
    small = tmp_path / "subs"
    small.mkdir()
    for name in names:
        shutil.copy(subs / f"{name}.ipynb", small / f"{name}.ipynb")
    key = str(built / "key" / "sample.json")
    command = [sys.executable, "-m", "brbook.cli", "grade", str(small), "--key", key, "--jobs", "1"]
    resumed = tmp_path / "resumed"
    process = subprocess.Popen([*command, "--out", str(resumed)], cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((resumed / "graded").glob("*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = list((resumed / "graded").glob("*.json"))
    assert 1 <= len(finished) < 6, "the run should have been killed part-way"
    for record in finished:
        json.loads(record.read_text())  # every saved record is complete JSON
    subprocess.run([*command, "--out", str(resumed)], check=True, cwd=ROOT, capture_output=True)
    # row for row what the uninterrupted run of the whole class gave these students
    header, *rows = (whole / "gradebook.csv").read_text().splitlines()
    straight = [header, *(row for row in rows if row.split(",")[0] in names)]
    assert len(straight) == 1 + len(names)
    assert (resumed / "gradebook.csv").read_text().splitlines() == straight


def test_shards_merge_into_the_whole(built, graded_class, tmp_path):
    _, whole, subs, key = graded_class
    files = sorted(p for p in subs.glob("*.ipynb"))
    halves = [grading.shard_of(files, (k, 2)) for k in (1, 2)]
    assert sorted(halves[0] + halves[1]) == files and not set(halves[0]) & set(halves[1])
    with pytest.raises(ValueError):
        grading.parse_shard("3/2")
    small = tmp_path / "subs"
    small.mkdir()
    for name in ("a_correct", "b_blank", "c_syntax", "j_fake_check", "q_not_json"):
        shutil.copy(next(subs.glob(f"{name}.ipynb")), small / f"{name}.ipynb")
    outs = []
    for k in (1, 2):
        out = tmp_path / f"shard{k}"
        grading.grade(small, out, key, jobs=1, shard=(k, 2), progress=False)
        outs.append(out)
    merged = grading.merge(outs, tmp_path / "merged")
    grading.write_outputs(merged, key, tmp_path / "merged")
    rows = (tmp_path / "merged" / "gradebook.csv").read_text().splitlines()
    assert len(rows) == 6
    expected = {line.split(",")[0]: line for line in (whole / "gradebook.csv").read_text().splitlines()}
    for line in rows[1:]:
        assert line == expected[line.split(",")[0]]
