"""brbook.grading for a real course: versions, written answers in the browser, exports, question
analysis, copying signals, shards from a scheduler, and the sandbox's remaining gaps."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

from brbook import grading
from brbook.edition import version
from brbook.grading import analysis, cluster, export, outputs

from .conftest import ROOT
from .test_grading import WRONG, all_wrong, answer_cell, built, solved, student, with_cell  # noqa: F401

BRBOOK = [sys.executable, "-m", "brbook.cli"]


def write(nb, path: Path) -> Path:
    nbformat.write(nb, path)
    return path


def written(nb, text: str):
    """The notebook with ``text`` written under "Your answer" for q5 (a new Markdown cell if none)."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for i, cell in enumerate(nb.cells):
        if cell.metadata.get("question") == "q5":
            nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell(text))
            break
    return nb


def rows_of(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def key(built):  # noqa: F811
    return grading.load_key(built / "key" / "sample.json")


@pytest.fixture(scope="module")
def template(built):  # noqa: F811
    return built / "student" / "sample.ipynb"


# ---- versions (issue 21) ---------------------------------------------------------------------

def test_key_and_student_notebook_record_the_version(built, key):  # noqa: F811
    assert key["version"] == version()
    assert student(built).metadata["brbook"]["version"] == version()


def test_grade_refuses_another_version_and_grades_it_when_allowed(built, tmp_path):  # noqa: F811
    subs = tmp_path / "subs"
    subs.mkdir()
    write(solved(built), subs / "current.ipynb")
    old = solved(built)
    old.metadata["brbook"]["version"] = "0.0.1"
    write(old, subs / "old.ipynb")
    command = [*BRBOOK, "grade", str(subs), "--key", str(built / "key" / "sample.json"), "--jobs", "1"]
    refused = subprocess.run([*command, "--out", str(tmp_path / "refused")], cwd=ROOT, capture_output=True,
                             text=True)
    assert refused.returncode == 2
    assert "old.ipynb (0.0.1)" in refused.stderr and "--allow-version-mismatch" in refused.stderr
    assert not (tmp_path / "refused" / "gradebook.csv").exists()
    subprocess.run([*command, "--out", str(tmp_path / "allowed"), "--allow-version-mismatch"], cwd=ROOT,
                   check=True, capture_output=True)
    rows = {r["student"]: r for r in rows_of(tmp_path / "allowed" / "gradebook.csv")}
    assert rows["old"]["total"] == rows["current"]["total"] == "5"
    assert "built from exercise version 0.0.1" in rows["old"]["reason"] and not rows["current"]["reason"]
    report = (tmp_path / "allowed" / "report.html").read_text(encoding="utf-8")
    assert "id='version-mismatch'" in report and "old (0.0.1)" in report


# ---- written answers, manual.csv and the review page ------------------------------------------

@pytest.fixture(scope="module")
def reviewed(built, key, template, tmp_path_factory):  # noqa: F811
    subs = tmp_path_factory.mktemp("review-subs")
    write(written(solved(built), "The paper and the brief are six years apart."), subs / "ann.ipynb")
    write(written(all_wrong(built), "They just disagree."), subs / "ben.ipynb")
    write(student(built), subs / "cat.ipynb")
    out = tmp_path_factory.mktemp("review-out")
    (out / "roster.csv").write_text("id,name,email,platform_id\nann,Ann Able,ann@example.org,101\n"
                                    "ben,Ben Bell,ben@example.org,102\ncat,Cat Cole,cat@example.org,103\n",
                                    encoding="utf-8")
    grading.grade(subs, out, key, jobs=2, progress=False, template=template)
    outputs.save_key_reference(out, built / "key" / "sample.json")
    grading.write_outputs(grading.all_graded(out), key, out)
    return out


def test_written_answers_are_taken_from_the_notebook(reviewed):
    results = {r.student: r for r in grading.all_graded(reviewed)}
    assert results["ann"].written["q5"] == "The paper and the brief are six years apart."
    assert results["cat"].written["q5"] == ""


def _start_review(out: Path, key_path: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([*BRBOOK, "review", str(out), "--key", str(key_path), "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    line = process.stdout.readline()
    assert "http://127.0.0.1:" in line, (line, process.stderr.read() if process.poll() is not None else "")
    return process, line.split("review written answers at ")[1].split()[0]


def test_review_in_chromium_survives_a_killed_server(browser, reviewed, built):  # noqa: F811
    key_path = built / "key" / "sample.json"
    server, url = _start_review(reviewed, key_path)
    try:
        page = browser.new_page()
        page.goto(url)
        assert "Submission 1 of 3" in page.inner_text("#who")
        content = page.content()
        assert not any(name in content for name in ("Ann Able", "Ben Bell", "Cat Cole", '"ann"', '"ben"', '"cat"'))
        page.keyboard.press("1")  # rubric item 1 (2 points)
        expect(page.locator("#status")).to_have_text(re.compile("^Saved"))
        page.fill("#comment", "Names both sources.")
        page.keyboard.press("Control+Enter")  # save and next
        page.wait_for_url("**/q/q5?i=1")
        page.fill("#points", "1")
        page.locator("#points").dispatch_event("change")
        expect(page.locator("#status")).to_have_text(re.compile("^Saved"))
        page.locator("#points").blur()
        page.keyboard.press("n")
        page.wait_for_url("**names=1")
        assert "Submission 2 of 3: " in page.inner_text("#who")
        second = page.inner_text("#who").split(": ")[1].split(" (")[0]
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    saved = {r["student"]: r for r in rows_of(reviewed / "manual.csv") if r["question"] == "q5"}
    assert len(saved) == 2 and saved[second]["points"] == "1"
    first = next(s for s in saved if s != second)
    assert saved[first]["points"] == "2" and saved[first]["comment"] == "Names both sources."
    assert json.loads(saved[first]["rubric"]) == [0]
    server, url = _start_review(reviewed, key_path)
    try:
        gradebook = {r["student"]: r for r in rows_of(reviewed / "gradebook.csv")}
        assert gradebook[first]["q5 (manual)"] == "2" and gradebook[second]["q5 (manual)"] == "1"
        auto = sum(float(gradebook[first][q]) for q in ("q1", "q2", "q3", "q4"))
        assert float(gradebook[first]["total"]) == auto + 2
        page = browser.new_page()
        page.goto(url)
        assert page.is_checked("input[name=rubric][value='0']")
        assert page.input_value("#comment") == "Names both sources."
        feedback = (reviewed / "feedback" / f"{first}.md").read_text(encoding="utf-8")
        assert "| q5 | 2 / 3 |" in feedback and "Names both sources." in feedback
        import urllib.error
        import urllib.request

        with pytest.raises(urllib.error.HTTPError) as refused:  # no token, no page
            urllib.request.urlopen(url.split("?")[0] + "q/q5")
        assert refused.value.code == 403
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def test_regrading_one_answer_touches_nothing_else(reviewed, key):
    from brbook.grading.written import save_manual

    save_manual(reviewed, "cat", "q5", 0, [], "Nothing written.")
    outputs.rewrite(reviewed, key, report=False)
    before = {r["student"]: r for r in rows_of(reviewed / "gradebook.csv")}
    manual_before = {(r["student"], r["question"]): r for r in rows_of(reviewed / "manual.csv")}
    feedback_before = {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in (reviewed / "feedback").glob("*.md")}
    save_manual(reviewed, "cat", "q5", 1, [1], "Second look: a reason is implied.")
    outputs.rewrite(reviewed, key, report=False, only="cat")
    after = {r["student"]: r for r in rows_of(reviewed / "gradebook.csv")}
    manual_after = {(r["student"], r["question"]): r for r in rows_of(reviewed / "manual.csv")}
    assert {k: v for k, v in after.items() if k != "cat"} == {k: v for k, v in before.items() if k != "cat"}
    changed = {k for k in after["cat"] if after["cat"][k] != before["cat"][k]}
    assert changed == {"q5 (manual)", "total", "percentage"}
    assert {k: v for k, v in manual_after.items() if k[0] != "cat"} == \
           {k: v for k, v in manual_before.items() if k[0] != "cat"}
    assert {n: t for n, t in feedback_before.items() if n != "cat.md"} == \
           {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in (reviewed / "feedback").glob("*.md")
            if p.name != "cat.md"}  # not even rewritten


# ---- roster and exports ------------------------------------------------------------------------

def test_roster_names_missing_students_and_missing_submissions(built, key, template, tmp_path):  # noqa: F811
    subs = tmp_path / "subs"
    subs.mkdir()
    write(solved(built), subs / "s1.ipynb")
    write(solved(built), subs / "stranger.ipynb")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email,platform_id\ns1,Ann Able,Ann.Able@example.org,501\n"
                      "s2,Ben Bell,ben@example.org,502\n", encoding="utf-8")
    out = tmp_path / "out"
    subprocess.run([*BRBOOK, "grade", str(subs), "--key", str(built / "key" / "sample.json"), "--out", str(out),
                    "--roster", str(roster), "--jobs", "1"], cwd=ROOT, check=True, capture_output=True)
    rows = {r["student"]: r for r in rows_of(out / "gradebook.csv")}
    assert rows["s1"]["name"] == "Ann Able" and rows["s1"]["total"] == "5" and rows["s1"]["status"] == "ok"
    assert rows["s2"]["status"] == "missing" and rows["s2"]["total"] == "0"
    assert "no submission" in rows["s2"]["reason"]
    assert rows["stranger"]["status"] == "missing" and rows["stranger"]["total"] == "0"
    assert "no student in the roster" in rows["stranger"]["reason"]

    for platform in ("canvas", "moodle", "csv"):
        subprocess.run([*BRBOOK, "export", str(out), "--to", platform], cwd=ROOT, check=True, capture_output=True)
    canvas = list(csv.reader((out / "export-canvas.csv").open(encoding="utf-8")))
    # Canvas's documented import: Student, ID, SIS User ID, SIS Login ID, Section, then one column per assignment
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", key["title"]]
    by_sis = {row[2]: row for row in canvas[1:]}
    assert by_sis["s1"][:2] == ["Ann Able", "501"] and by_sis["s1"][5] == "5" and by_sis["s2"][5] == "0"
    moodle = list(csv.reader((out / "export-moodle.csv").open(encoding="utf-8")))
    # Moodle maps "Email address" -> useremail or "ID number" -> useridnumber; grade and feedback together
    assert moodle[0][:3] == ["ID number", "Email address", "Full name"] and len(moodle[0]) == 5
    by_id = {row[0]: row for row in moodle[1:]}
    assert by_id["s1"][1] == "Ann.Able@example.org"  # Moodle matches emails case-sensitively: kept as given
    assert by_id["s1"][3] == "5" and by_id["s2"][3] == "0" and "no submission" in by_id["s2"][4]
    plain = rows_of(out / "export-csv.csv")
    assert list(plain[0]) == export.CSV_COLUMNS and len(plain) == 3


# ---- question analysis and copying signals -----------------------------------------------------

@pytest.fixture(scope="module")
def planted(built, key, template, tmp_path_factory):  # noqa: F811
    """A class of 12: q2 everyone right, q1 right only for the strong, a planted pair sharing two rare
    wrong answers, and a planted pair identical once comments and variable names are normalised."""
    subs = tmp_path_factory.mktemp("planted")
    good = solved(built)
    for i in range(4):  # strong students
        write(written(good, f"Strong answer number {i}."), subs / f"strong{i}.ipynb")
    for i in range(4):  # weak: q1 wrong (a common wrong answer), q3 and q4 wrong in common ways
        nb = answer_cell(answer_cell(answer_cell(good, "q1", "drop = 821"), "q3", WRONG["q3"]), "q4", WRONG["q4"])
        write(written(nb, f"Weak answer number {i}."), subs / f"weak{i}.ipynb")
    # the pair sharing rare wrong answers on q1 and q4
    for name in ("pair_a", "pair_b"):
        nb = answer_cell(answer_cell(good, "q1", "drop = 55"), "q4", "years = [2016, 2014, 2017]")
        write(written(nb, f"My own words, {name}."), subs / f"{name}.ipynb")
    # identical after normalising: same code with other names and comments, same text
    twin = answer_cell(good, "q1", "a = 447\nb = 374\ndrop = a - b")
    write(written(twin, "Copied   prose."), subs / "twin_a.ipynb")
    other = answer_cell(good, "q1", "x = 447  # cadets before\n\nyy = 374\ndrop = x - yy  # the fall")
    write(written(other, "Copied prose."), subs / "twin_b.ipynb")
    out = tmp_path_factory.mktemp("planted-out")
    grading.grade(subs, out, key, jobs=2, progress=False, template=template)
    rows = grading.write_outputs(grading.all_graded(out), key, out)
    return out, rows


def test_question_analysis_finds_easy_and_discriminating_questions(planted, key):
    _, rows = planted
    stats = {s.qid: s for s in analysis.question_stats(rows, key)}
    assert stats["q2"].facility == 1.0 and "too easy" in stats["q2"].flags
    assert stats["q1"].facility == pytest.approx(6 / 12)
    assert stats["q1"].upper_lower > 0.5 and stats["q1"].point_biserial > 0.5
    assert "not discriminating" not in stats["q1"].flags
    assert stats["q5"].flags == ["not graded yet"]


def test_copying_signals_find_the_planted_pairs_and_change_no_grade(planted, key):
    out, rows = planted
    signals = analysis.copying_signals(grading.all_graded(out), key)
    pairs = {(s.students, s.kind) for s in signals}
    assert (("pair_a", "pair_b"), "the same rare wrong answers") in pairs
    assert (("twin_a", "twin_b"), "identical notebooks once normalised") in pairs
    flagged = {name for s in signals for name in s.students}
    assert not flagged & {f"weak{i}" for i in range(4)}  # common wrong answers are not a signal
    assert not flagged & {f"strong{i}" for i in range(4)}
    by = {r.student: r for r in rows}
    assert by["pair_a"].status == "ok" and by["twin_a"].status == "ok" and by["twin_a"].total == 5
    report = (out / "report.html").read_text(encoding="utf-8")
    look = report.split("Submissions to look at")[1]
    assert "pair_a, pair_b" in look and "twin_a, twin_b" in look and "q1: &#x27;55&#x27;" in look
    assert "too easy" in report and "Point-biserial" in report and "feedback/strong0.md" in report


def test_report_is_accessible(planted, browser):
    from .conftest import axe_violations

    out, _ = planted
    page = browser.new_page()
    page.goto((out / "report.html").as_uri())
    found = axe_violations(page)
    assert found == [], [(v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in found]
    for figure in page.query_selector_all("figure"):
        assert figure.query_selector("[role=img]").get_attribute("aria-label")


# ---- shards from a scheduler ---------------------------------------------------------------------

def test_shard_auto_reads_kubernetes_and_slurm():
    assert cluster.shard_from_env({"JOB_COMPLETION_INDEX": "0"}, 4) == (1, 4)
    assert cluster.shard_from_env({"JOB_COMPLETION_INDEX": "3", "BRBOOK_SHARD_COUNT": "4"}) == (4, 4)
    assert cluster.shard_from_env({"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1",
                                   "SLURM_ARRAY_TASK_COUNT": "4"}) == (1, 4)
    assert cluster.shard_from_env({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}) == (4, 4)
    for env, count in (({}, 4), ({"JOB_COMPLETION_INDEX": "0"}, None), ({"JOB_COMPLETION_INDEX": "4"}, 4)):
        with pytest.raises(ValueError):
            cluster.shard_from_env(env, count)


def test_four_shards_from_the_environment_merge_into_one_run(built, key, tmp_path):  # noqa: F811
    subs = tmp_path / "subs"
    subs.mkdir()
    variants = [solved(built), all_wrong(built), student(built), answer_cell(solved(built), "q1", "drop = 821"),
                answer_cell(solved(built), "q4", WRONG["q4"])]
    names = []
    for i in range(9):
        names.append(f"s{i}")
        write(written(variants[i % len(variants)], f"Answer {i}."), subs / f"s{i}.ipynb")
    key_path = str(built / "key" / "sample.json")
    base = [*BRBOOK, "grade", str(subs), "--key", key_path, "--jobs", "1"]
    single = tmp_path / "single"  # the whole class in one run, in this process (its fork server is warm)
    grading.write_outputs(grading.grade(subs, single, key, jobs=1, progress=False), key, single)
    parts = [tmp_path / f"part-{index}" for index in range(4)]
    for index in range(4):
        assert cluster.shard_from_env({**os.environ, "JOB_COMPLETION_INDEX": str(index)}, 4) == (index + 1, 4)
    # the first shard as a cluster task runs it (the command reads its index from the environment); the
    # others through the same function in this process, whose fork server is warm (a run costs 3 s to start)
    subprocess.run([*base, "--out", str(parts[0]), "--shard", "auto", "--shard-count", "4"], cwd=ROOT,
                   env={**os.environ, "JOB_COMPLETION_INDEX": "0"}, check=True, capture_output=True)
    for index, part in enumerate(parts[1:], start=2):
        grading.grade(subs, part, key, jobs=1, shard=(index, 4), progress=False)
    graded = [sorted(p.stem for p in (part / "graded").glob("*.json")) for part in parts]
    assert sorted(sum(graded, [])) == names and all(graded)
    merged = tmp_path / "merged"
    command = [*BRBOOK, "grade", "--key", key_path, "--out", str(merged)]
    subprocess.run([*command, *sum((["--merge", str(p)] for p in parts), [])], cwd=ROOT, check=True,
                   capture_output=True)
    assert (merged / "gradebook.csv").read_text() == (single / "gradebook.csv").read_text()
    missing = subprocess.run([*command, *sum((["--merge", str(p)] for p in parts[:3]), [])], cwd=ROOT,
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "shard 4/4 missing" in missing.stderr
    twice = subprocess.run([*command, *sum((["--merge", str(p)] for p in [*parts, parts[1]]), [])], cwd=ROOT,
                           capture_output=True, text=True)
    assert twice.returncode == 2 and "shard 2/4 given twice" in twice.stderr


# ---- the sandbox's remaining gaps ---------------------------------------------------------------

def test_processes_outliving_the_notebook_are_ended():
    marker = f"brbook-orphan-{os.getpid()}"
    cells = [f"import subprocess, sys, os\n"
             f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', '{marker}'], "
             "start_new_session=True)\n"
             "if os.fork() == 0:\n"
             "    if os.fork() == 0:\n"
             f"        os.setsid(); os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', "
             f"'{marker}'])\n"
             "    os._exit(0)\n"
             "x = 1"]
    grading.sandbox.become_subreaper()
    run = grading.run_cells(cells, ["x"], grading.Limits(timeout=10))
    assert run.answers["x"] == 1
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
    assert not left, f"processes outlived the notebook: {left}"


def test_files_that_are_not_what_their_name_claims(built, key, tmp_path):  # noqa: F811
    subs = tmp_path / "subs"
    subs.mkdir()
    write(solved(built), subs / "real.ipynb")
    (subs / "link.ipynb").symlink_to(subs / "real.ipynb")
    os.mkfifo(subs / "pipe.ipynb")
    (subs / "folder.ipynb").mkdir()
    (subs / "deep.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    (subs / "zip.ipynb").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with (subs / "huge.ipynb").open("wb") as fh:
        fh.truncate(30_000_000)
    many = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1") for _ in range(3000)])
    write(many, subs / "many.ipynb")
    out = tmp_path / "out"
    results = {r.student: r for r in grading.grade(subs, out, key, jobs=2, progress=False,
                                                   limits=grading.Limits(timeout=8))}
    assert set(results) == {"real", "link", "pipe", "folder", "deep", "zip", "huge", "many"}
    assert results["real"].total == 5
    for name, words in (("link", "symbolic link"), ("pipe", "special file"), ("folder", "folder"),
                        ("deep", "nested"), ("zip", "not valid JSON"), ("huge", "far larger"), ("many", "cells")):
        assert results[name].status == "unreadable" and words in results[name].reason, results[name]
        assert results[name].total == 0


def test_a_changed_submission_is_graded_again_on_resume(built, key, tmp_path):  # noqa: F811
    subs = tmp_path / "subs"
    subs.mkdir()
    write(all_wrong(built), subs / "s.ipynb")
    out = tmp_path / "out"
    assert grading.grade(subs, out, key, jobs=1, progress=False)[0].total == 0
    write(solved(built), subs / "s.ipynb")
    assert grading.grade(subs, out, key, jobs=1, progress=False)[0].total == 5


@pytest.mark.skipif(os.geteuid() != 0, reason="uid isolation needs root")
def test_a_submission_cannot_read_another_submission_or_touch_the_results(built, key):  # noqa: F811
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="brbook-open-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)  # world-readable, as a shared class folder might be: the grader must close it
        subs, out = base / "subs", base / "out"
        subs.mkdir(mode=0o755)
        out.mkdir(mode=0o755)
        write(solved(built), subs / "a_good.ipynb")
        os.chmod(subs / "a_good.ipynb", 0o644)
        thief = answer_cell(all_wrong(built), "q2", "import json\n"
                            f"nb = json.load(open({str(subs / 'a_good.ipynb')!r}))\n"
                            "oldest = [c for c in nb['cells'] if c['metadata'].get('question') == 'q2'][0]"
                            "['source'].split('\"')[1]")
        forger = with_cell(all_wrong(built), "import pathlib\nfor target in ("
                           f"{str(out / 'graded' / 'zz_forged.json')!r}, {str(subs / 'zz_planted.ipynb')!r}, "
                           "'/tmp/brbook-left-behind'):\n    try:\n        pathlib.Path(target).write_text('{}')\n"
                           "    except OSError:\n        pass")
        write(thief, subs / "b_thief.ipynb")
        write(forger, subs / "c_forger.ipynb")
        for p in subs.iterdir():
            os.chmod(p, 0o644)
        results = {r.student: r for r in grading.grade(subs, out, key, jobs=1, progress=False)}
        assert results["a_good"].total == 5
        assert results["b_thief"].scores["q2"] == 0 and results["b_thief"].total == 0
        assert not (out / "graded" / "zz_forged.json").exists() and not (subs / "zz_planted.ipynb").exists()
        assert not Path("/tmp/brbook-left-behind").exists()
    finally:
        shutil.rmtree(base, ignore_errors=True)
        Path("/tmp/brbook-left-behind").unlink(missing_ok=True)


@pytest.mark.parametrize("doc", ["README.md", "book/instructor/running-a-class.md"])
def test_documented_cluster_recipes_are_well_formed(doc):
    import re

    import yaml

    text = (ROOT / doc).read_text(encoding="utf-8")
    manifest = yaml.safe_load(re.search(r"```yaml\n(apiVersion: batch/v1.*?)```", text, re.S).group(1))
    spec = manifest["spec"]
    assert manifest["kind"] == "Job" and spec["completionMode"] == "Indexed"
    command = spec["template"]["spec"]["containers"][0]["command"][-1]
    assert "--shard auto" in command and f"--shard-count {spec['completions']}" in command
    assert "$JOB_COMPLETION_INDEX" in command
    sbatch = re.search(r"```sh\n(#!/bin/bash\n#SBATCH.*?)```", text, re.S).group(1)
    assert "#SBATCH --array=0-3" in sbatch and "--shard auto" in sbatch and "$SLURM_ARRAY_TASK_ID" in sbatch
    from brbook.grading.cluster import shard_from_env

    assert {shard_from_env({"JOB_COMPLETION_INDEX": str(i)}, spec["completions"]) for i in range(4)} == \
        {(k, 4) for k in range(1, 5)}
    assert {shard_from_env({"SLURM_ARRAY_TASK_ID": str(i), "SLURM_ARRAY_TASK_MIN": "0",
                            "SLURM_ARRAY_TASK_COUNT": "4"}) for i in range(4)} == {(k, 4) for k in range(1, 5)}


def test_concurrent_grading_runs_never_share_sandbox_uids(tmp_path):
    """Two runs at once get disjoint uid blocks, so one run's clean-up cannot end the other's submissions."""
    from brbook.grading.sandbox import UID_BLOCK, uid_block

    with uid_block(tmp_path) as first, uid_block(tmp_path) as second:
        assert abs(first - second) >= UID_BLOCK
    with uid_block(tmp_path) as again:  # released blocks are leased again
        assert again == first
