"""Graded exercise notebooks: one source yields the student notebook and the answer key.

An exercise source is a MyST notebook in ``exercises/``. A question's answer cell
carries its spec in the cell's YAML header (``question``, ``points``, ``answers``,
``checker``); its reference solution is marked as in otter-grader: a line ending
in ``# SOLUTION`` keeps only its assignment target (``x = ...``), and a block
between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes ``...``. Cells tagged
``instructor`` (rubrics, notes) never reach students.

The student notebook embeds, instead of the answers, salted hashes of their
canonical forms, so ``check("q1")`` answers instantly in the notebook without
revealing anything; the key keeps the real expected values for class grading.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jupytext
import nbformat

from brbook import layout
from brbook.checkers import Checker, parse_wrong, to_plain
from brbook.selfcheck import mask, unmask

REPO = layout.ROOT
SOURCES = REPO / "exercises"
INSTRUCTOR_TAGS = {"instructor", "rubric", "key"}
_SOLUTION_LINE = re.compile(r"^(?P<indent>\s*)(?P<body>.*?)\s*#\s*SOLUTION\s*$")
KEY_PRELUDE = "def check(*args, **kwargs):\n    return None\n\n\nscore = check"
"""Run before the reference solution, where ``check()`` cells have nothing to check."""
_ASSIGNMENT = re.compile(r"^(?P<target>[A-Za-z_][\w\s,\[\]'\".]*?)\s*=(?!=)")


@dataclass
class Question:
    """One auto-graded question of an exercise notebook."""

    qid: str
    points: float
    answers: list[str]
    checker: Checker
    prompt: str = ""

    def to_dict(self) -> dict:
        return {"id": self.qid, "points": self.points, "answers": self.answers,
                "checker": self.checker.to_dict(), "prompt": self.prompt}


@dataclass
class ManualQuestion:
    """A written answer graded by hand with the rubric in the instructor material."""

    qid: str
    points: float
    prompt: str = ""


@dataclass
class Exercise:
    """A parsed exercise source."""

    name: str
    title: str
    notebook: nbformat.NotebookNode
    questions: list[Question] = field(default_factory=list)
    manual: list[ManualQuestion] = field(default_factory=list)

    @property
    def answer_names(self) -> list[str]:
        return [name for q in self.questions for name in q.answers]


def strip_solutions(source: str) -> str:
    """Replace reference solutions with ``...`` (otter-grader's marking convention)."""
    out: list[str] = []
    skipping = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("# BEGIN SOLUTION"):
            skipping = True
            out.append(line[: len(line) - len(line.lstrip())] + "...")
            continue
        if stripped.startswith("# END SOLUTION"):
            skipping = False
            continue
        if skipping:
            continue
        match = _SOLUTION_LINE.match(line)
        if match:
            assign = _ASSIGNMENT.match(match["body"])
            out.append(match["indent"] + (f"{assign['target'].strip()} = ..." if assign else "..."))
            continue
        out.append(line)
    return "\n".join(out)


def _prompt_before(cells: list, index: int) -> str:
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            return cell.source.strip()
    return ""


def load(path: Path) -> Exercise:
    """Read an exercise source and collect its questions from the answer cells' metadata."""
    notebook = jupytext.read(path)
    meta = notebook.metadata.get("brbook", {})
    exercise = Exercise(name=path.stem, title=meta.get("title", path.stem), notebook=notebook)
    seen: set[str] = set()
    for i, cell in enumerate(notebook.cells):
        spec = cell.metadata
        if "question" not in spec:
            continue
        qid = str(spec["question"])
        if qid in seen:
            raise ValueError(f"{path.name}: question {qid} is defined twice")
        seen.add(qid)
        prompt = _prompt_before(notebook.cells, i)
        if spec.get("manual"):
            exercise.manual.append(ManualQuestion(qid, float(spec.get("points", 1)), prompt))
            continue
        answers = spec.get("answers") or []
        answers = [answers] if isinstance(answers, str) else list(answers)
        if not answers:
            raise ValueError(f"{path.name}: question {qid} names no answer variable")
        checker = Checker.from_dict(spec.get("checker") or {"kind": "number"})
        exercise.questions.append(Question(qid, float(spec.get("points", 1)), answers, checker, prompt))
    return exercise


def code_cells(notebook: nbformat.NotebookNode) -> list[str]:
    """The sources of a notebook's code cells, in order."""
    return [c.source for c in notebook.cells if c.cell_type == "code"]


def _salt(exercise: Exercise) -> str:
    return hashlib.sha256(f"brbook-exercise|{exercise.name}".encode()).hexdigest()[:16]


def _digest(salt: str, qid: str, name: str, canonical: str) -> str:
    return hashlib.sha256(f"{salt}|{qid}|{name}|{canonical}".encode()).hexdigest()


def student_checks(exercise: Exercise, expected: Mapping[str, Any]) -> dict:
    """What the student notebook embeds: hashes of canonical answers, masked feedback."""
    salt = _salt(exercise)
    questions = {}
    for q in exercise.questions:
        wrong = {}
        for wrong_value, message in q.checker.wrong.items():
            parsed = parse_wrong(wrong_value, q.checker.kind)
            key = q.checker.expected_key(parsed)
            wrong[_digest(salt, q.qid, "wrong", key)] = mask(salt, f"{q.qid}|wrong", message)
        questions[q.qid] = {
            "points": q.points,
            "answers": q.answers,
            "checker": {"kind": q.checker.kind, "tolerance": q.checker.tolerance,
                        "decimals": q.checker.decimals},
            "expected": {name: _digest(salt, q.qid, name, q.checker.expected_key(expected[name]))
                         for name in q.answers},
            "wrong": wrong,
            "hint": mask(salt, f"{q.qid}|hint", q.checker.hint),
        }
    return {"exercise": exercise.name, "salt": salt, "questions": questions,
            "manual": {m.qid: m.points for m in exercise.manual}}


def student_notebook(exercise: Exercise, checks: dict) -> nbformat.NotebookNode:
    """The notebook students get: no solutions, no instructor cells, checks as hashes."""
    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "brbook": {"exercise": exercise.name, "title": exercise.title}})
    loader = (f"from brbook.exercises import StudentChecks\n"
              f"check = StudentChecks.from_json({json.dumps(json.dumps(checks))})\n"
              "score = check.score")
    inserted = False
    for cell in exercise.notebook.cells:
        tags = set(cell.metadata.get("tags", []))
        if tags & INSTRUCTOR_TAGS:
            continue
        if cell.cell_type == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell.source))
            continue
        source = strip_solutions(cell.source)
        meta = {k: v for k, v in cell.metadata.items() if k in ("question", "tags")}
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata=meta))
        if "setup" in tags and not inserted:
            nb.cells.append(nbformat.v4.new_code_cell(loader, metadata={"tags": ["checks"], "editable": False}))
            inserted = True
    if not inserted:
        nb.cells.insert(0, nbformat.v4.new_code_cell(loader, metadata={"tags": ["checks"]}))
    nb.cells.append(nbformat.v4.new_markdown_cell("## Your score so far"))
    nb.cells.append(nbformat.v4.new_code_cell("score()"))
    return nb


def key_notebook(exercise: Exercise) -> nbformat.NotebookNode:
    """The solved notebook for instructors (every cell, solutions intact)."""
    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "brbook": {"exercise": exercise.name, "title": exercise.title, "answer_key": True}})
    for cell in exercise.notebook.cells:
        if cell.cell_type == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell.source))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata)))
    return nb


def key_record(exercise: Exercise, expected: Mapping[str, Any]) -> dict:
    """The answer key used by class grading: specs and real expected values (plain data)."""
    return {"exercise": exercise.name, "title": exercise.title,
            "questions": [q.to_dict() for q in exercise.questions],
            "manual": [{"id": m.qid, "points": m.points, "prompt": m.prompt} for m in exercise.manual],
            "expected": {name: to_plain(expected[name]) for name in exercise.answer_names}}


def build(out: Path, sources: Path = SOURCES, runner=None) -> list[str]:
    """Build ``out/student/*.ipynb`` and ``out/key/`` from every exercise source.

    The expected values come from running the reference solution through the same
    sandboxed runner that grades students (``runner``), so key and grading agree.
    """
    from brbook.grading import run_trusted

    runner = runner or run_trusted
    student_dir, key_dir = out / "student", out / "key"
    student_dir.mkdir(parents=True, exist_ok=True)
    key_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)  # the key is for the grader and instructors, never for student code
    built = []
    for path in sorted(sources.glob("*.md")):
        exercise = load(path)
        run = runner([KEY_PRELUDE, *code_cells(exercise.notebook)], exercise.answer_names)
        missing = [n for n in exercise.answer_names if run.answers.get(n) is None or run.answers[n] is Ellipsis]
        if missing or run.errors:
            raise RuntimeError(f"{path.name}: the reference solution failed: missing {missing}, "
                               f"errors {run.errors}")
        checks = student_checks(exercise, run.answers)
        nbformat.write(student_notebook(exercise, checks), student_dir / f"{exercise.name}.ipynb")
        nbformat.write(key_notebook(exercise), key_dir / f"{exercise.name}.ipynb")
        (key_dir / f"{exercise.name}.json").write_text(json.dumps(key_record(exercise, run.answers), indent=1),
                                                      encoding="utf-8")
        built.append(exercise.name)
    return built


class StudentChecks:
    """``check("q1")`` inside a student notebook: instant feedback from hashes, never the answer."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.salt = spec["salt"]
        self.results: dict[str, bool] = {}

    @classmethod
    def from_json(cls, text: str) -> StudentChecks:
        return cls(json.loads(text))

    def _namespace(self) -> Mapping[str, Any]:
        try:
            from IPython import get_ipython

            shell = get_ipython()
            if shell is not None:
                return shell.user_ns
        except ImportError:
            pass
        import __main__

        return vars(__main__)

    def verdict(self, qid: str, namespace: Mapping[str, Any] | None = None) -> tuple[bool, str]:
        """Whether question ``qid`` is right, and the feedback (a hint, never the answer)."""
        if qid not in self.spec["questions"]:
            known = ", ".join(self.spec["questions"])
            return False, f"There is no auto-checked question {qid!r} here (questions: {known})."
        q = self.spec["questions"][qid]
        checker = Checker.from_dict(q["checker"])
        namespace = self._namespace() if namespace is None else namespace
        for name in q["answers"]:
            value = namespace.get(name, None)
            if value is None or value is Ellipsis:
                return False, f"`{name}` has no answer yet: replace the `...` and run the cell."
            canonical = checker.canonical(value)
            if q["expected"][name] not in {_digest(self.salt, qid, name, c) for c in canonical}:
                wrong = {_digest(self.salt, qid, "wrong", c) for c in canonical}
                for digest, masked in q["wrong"].items():
                    if digest in wrong:
                        return False, unmask(self.salt, f"{qid}|wrong", masked)
                return False, unmask(self.salt, f"{qid}|hint", q["hint"])
        return True, "Correct."

    def __call__(self, qid: str):
        from IPython.display import HTML

        right, message = self.verdict(qid)
        self.results[qid] = right
        points = self.spec["questions"].get(qid, {}).get("points", 0)
        mark = "✔" if right else "✘"
        state = f"{points:g}/{points:g} points" if right else "not yet"
        return HTML(f'<div class="brbook-check" data-question="{html.escape(qid)}" data-correct="{right}">'
                    f"<strong>{mark} {html.escape(qid)}</strong> ({state}): {html.escape(message)}</div>")

    def score(self):
        """Check every auto-graded question now and show the total so far."""
        from IPython.display import HTML

        rows, total, possible = [], 0.0, 0.0
        for qid, q in self.spec["questions"].items():
            right, _ = self.verdict(qid)
            total += q["points"] if right else 0
            possible += q["points"]
            rows.append(f"<tr><td>{qid}</td><td>{q['points'] if right else 0:g} / {q['points']:g}</td></tr>")
        manual = sum(self.spec.get("manual", {}).values())
        note = f" Written answers ({manual:g} points) are graded by your instructor." if manual else ""
        return HTML(f"<table class='brbook-score'><tr><th>Question</th><th>Points</th></tr>{''.join(rows)}"
                    f"</table><p><strong>Auto-checked score: {total:g} / {possible:g}</strong>.{note}</p>")
