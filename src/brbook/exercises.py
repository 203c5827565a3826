"""Graded exercise notebooks: one source yields the student notebook and the answer key.

An exercise source is a MyST notebook in ``exercises/``. A question's answer cell
carries its spec in the cell's YAML header (``question``, ``points``, ``answers``,
``checker``, and for the instructor ``kind``, ``evidence``, and for a written
question ``rubric`` and ``full_answer``); its reference solution is marked as in
otter-grader: a line ending in ``# SOLUTION`` keeps only its assignment target
(``x = ...``), and a block between ``# BEGIN SOLUTION`` and ``# END SOLUTION``
becomes ``...``. Cells tagged ``instructor`` (notes) never reach students, and no
instructor field of a spec is copied into the student notebook.

:func:`validate` holds every exercise to issue 16 at build time: each question says
what kind of reading it tests and which excerpts, facts or events justify its answer;
every option of a choice question has its own feedback, which never states the answer;
rubrics add up; and no solution counts rows or tags of the book's own tables.

The student notebook embeds, instead of the answers, salted hashes of their
canonical forms, so ``check("q1")`` answers instantly in the notebook without
revealing anything; the key keeps the real expected values for class grading.
"""

from __future__ import annotations

import ast
import hashlib
import html
import json
import os
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from brbook import layout
from brbook.checkers import Checker, normalise_text, parse_wrong, to_plain
from brbook.edition import stamp, version
from brbook.selfcheck import mask, unmask

REPO = layout.ROOT
SOURCES = REPO / "exercises"
INSTRUCTOR_TAGS = {"instructor", "rubric", "key"}
_SOLUTION_LINE = re.compile(r"^(?P<indent>\s*)(?P<body>.*?)\s*#\s*SOLUTION\s*$")
KEY_PRELUDE = "def check(*args, **kwargs):\n    return None\n\n\nscore = check"
"""Run before the reference solution, where ``check()`` cells have nothing to check."""
_ASSIGNMENT = re.compile(r"^(?P<target>[A-Za-z_][\w\s,\[\]'\".]*?)\s*=(?!=)")
QUESTION_KINDS = ("attribution", "dating", "evidence", "comparability", "perspective", "forecast",
                  "contradiction", "data")
"""What a question asks the student to do with the sources; ``data`` is the only non-interpretive kind."""
EVIDENCE_ID = re.compile(r"\b(?:article2014|paper2016|news2016_18|study2019|brief2022)-[xfe]\d+\b")


@dataclass
class Question:
    """One auto-graded question of an exercise notebook."""

    qid: str
    points: float
    answers: list[str]
    checker: Checker
    prompt: str = ""
    kind: str = ""
    evidence: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"id": self.qid, "points": self.points, "answers": self.answers,
                "checker": self.checker.to_dict(), "prompt": self.prompt, "kind": self.kind,
                "evidence": self.evidence}


@dataclass
class ManualQuestion:
    """A written answer graded by hand with its rubric (criteria with points) and a full answer."""

    qid: str
    points: float
    prompt: str = ""
    kind: str = ""
    evidence: list[str] = field(default_factory=list)
    rubric: list[dict] = field(default_factory=list)
    full_answer: str = ""

    def to_dict(self) -> dict:
        return {"id": self.qid, "points": self.points, "prompt": self.prompt, "kind": self.kind,
                "evidence": self.evidence, "rubric": self.rubric, "full_answer": self.full_answer}


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
    import jupytext  # here, not above: a student's exercise notebook imports this module for its checks only

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
        kind = str(spec.get("kind", ""))
        evidence = _id_list(spec.get("evidence"))
        if spec.get("manual"):
            rubric = [{"criterion": str(r.get("criterion", "")), "points": float(r.get("points", 0))}
                      for r in (spec.get("rubric") or []) if isinstance(r, dict)]
            exercise.manual.append(ManualQuestion(qid, float(spec.get("points", 1)), prompt, kind, evidence,
                                                  rubric, str(spec.get("full_answer", "")).strip()))
            continue
        answers = spec.get("answers") or []
        answers = [answers] if isinstance(answers, str) else list(answers)
        if not answers:
            raise ValueError(f"{path.name}: question {qid} names no answer variable")
        checker_spec = dict(spec.get("checker") or {"kind": "number"})
        options = [str(o) for o in checker_spec.pop("options", None) or []]
        checker = Checker.from_dict(checker_spec)
        exercise.questions.append(Question(qid, float(spec.get("points", 1)), answers, checker, prompt,
                                           kind, evidence, options))
    return exercise


def _id_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,\s]+", value) if v.strip()]
    return [str(v).strip() for v in value]


def known_ids() -> set[str]:
    """Every id a question may cite as evidence: excerpts, facts and events in ``data/``."""
    from brbook import data

    return (set(data.excerpts()["excerpt_id"]) | set(data.facts()["fact_id"])
            | set(data.events()["event_id"]))


# ---- no counting of our own rows: the answer must be about Belarus and Russia, not our data entry ----
ROW_TABLES = {"excerpts", "events", "source_notes", "glossary", "disagreements", "sources", "forecasts",
              "authorship"}
"""Tables whose rows are our selection of the sources: their sizes and tag shares measure data entry."""
ROW_COUNTS = {"len", "value_counts", "shape", "size", "count", "nunique", "groupby_size"}
AGGREGATES = {"sum", "mean"}


def solution_sources(source: str) -> list[str]:
    """The reference-solution code of a cell: each ``# SOLUTION`` line and each marked block."""
    out, block, inside = [], [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("# BEGIN SOLUTION"):
            inside, block = True, []
            continue
        if stripped.startswith("# END SOLUTION"):
            inside = False
            out.append(textwrap.dedent("\n".join(block)))
            continue
        if inside:
            block.append(line)
        elif _SOLUTION_LINE.match(line):
            out.append(_SOLUTION_LINE.match(line)["body"])
    return out


def _table_call(node: ast.AST) -> str | None:
    """``data.<table>(...)`` → the table's name."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id == "data":
            return node.func.attr
    return None


def _tables_in(node: ast.AST, taint: Mapping[str, set[str]]) -> set[str]:
    found: set[str] = set()
    for sub in ast.walk(node):
        table = _table_call(sub)
        if table:
            found.add(table)
        if isinstance(sub, ast.Name) and sub.id in taint:
            found |= taint[sub.id]
    return found


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


def row_counting(cells: list[str]) -> list[str]:
    """Solution lines that count or aggregate rows of the book's own tables (issue 16 forbids them).

    A name is traced to the tables it was computed from (``events = data.events(...)``, then
    ``sub = events[...]``); a solution that applies ``len``, ``.value_counts``, ``.shape``, ``.size``,
    ``.count``, ``.nunique`` to anything traced to a table, or ``sum``/``.sum``/``.mean`` to a table of
    rows (not to fact values), is reported.
    """
    taint: dict[str, set[str]] = {}
    for _ in range(3):  # names assigned from names: a few passes reach a fixed point
        for code in cells:
            tree = _parse(code)
            if tree is None:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value is not None:
                    tables = _tables_in(node.value, taint)
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        for name in ast.walk(target):
                            if isinstance(name, ast.Name) and tables:
                                taint.setdefault(name.id, set()).update(tables)
    problems = []
    for code in cells:
        for snippet in solution_sources(code):
            tree = _parse(snippet)
            if tree is None:
                continue
            called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
            for node in ast.walk(tree):
                op, subject = None, None
                if id(node) in called:
                    continue  # ``x.size()`` is reported once, as the call
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
                    op, subject = node.func.id, node.args[0]
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    op, subject = node.func.attr, node.func.value
                elif isinstance(node, ast.Attribute) and node.attr in ("shape", "size"):
                    op, subject = node.attr, node.value
                if op is None or (op not in ROW_COUNTS and op not in AGGREGATES):
                    continue
                tables = _tables_in(subject, taint)
                counted = tables if op in ROW_COUNTS else tables & ROW_TABLES
                if counted:
                    problems.append(f"`{ast.unparse(node)}` counts rows of {', '.join(sorted(counted))}")
    return problems


def validate(exercise: Exercise, ids: set[str] | None = None) -> list[str]:
    """Everything wrong with an exercise against the format of issue 16, one message per problem."""
    ids = known_ids() if ids is None else ids
    problems: list[str] = []

    def cited(qid: str, evidence: list[str]) -> None:
        if not evidence:
            problems.append(f"{qid}: `evidence` names no excerpt, fact or event id")
        for missing in [e for e in evidence if e not in ids]:
            problems.append(f"{qid}: evidence id {missing!r} is not in data/ (excerpts, facts or events)")

    for q in exercise.questions:
        if q.kind not in QUESTION_KINDS:
            problems.append(f"{q.qid}: `kind` is {q.kind!r}; use one of {', '.join(QUESTION_KINDS)}")
        cited(q.qid, q.evidence)
        if q.checker.kind == "choice" and not q.checker.wrong:
            problems.append(f"{q.qid}: a choice question gives a `wrong:` reason for every other option")
    for m in exercise.manual:
        if m.kind and m.kind not in QUESTION_KINDS:
            problems.append(f"{m.qid}: `kind` is {m.kind!r}; use one of {', '.join(QUESTION_KINDS)}")
        cited(m.qid, m.evidence)
        if not m.rubric:
            problems.append(f"{m.qid}: a written question needs a `rubric` (criteria with points)")
        elif any(not r["criterion"] for r in m.rubric):
            problems.append(f"{m.qid}: every rubric entry needs a `criterion`")
        elif abs(sum(r["points"] for r in m.rubric) - m.points) > 1e-9:
            problems.append(f"{m.qid}: rubric points add up to {sum(r['points'] for r in m.rubric):g}, "
                            f"not the question's {m.points:g}")
        if not m.full_answer:
            problems.append(f"{m.qid}: a written question needs a `full_answer`")
        else:
            named = set(EVIDENCE_ID.findall(m.full_answer))
            if not named & set(m.evidence):
                problems.append(f"{m.qid}: `full_answer` cites none of its evidence ids")
            for missing in sorted(named - ids):
                problems.append(f"{m.qid}: `full_answer` cites {missing!r}, which is not in data/")
    problems += row_counting(code_cells(exercise.notebook))
    return [f"{exercise.name}: {p}" for p in problems]


def validate_answers(exercise: Exercise, expected: Mapping[str, Any]) -> list[str]:
    """Checks that need the reference answers: choice options and feedback that keeps the answer hidden."""
    problems = []
    for q in exercise.questions:
        messages = [*q.checker.wrong.values(), q.checker.hint]
        for name in q.answers:
            value = expected.get(name)
            if q.checker.kind == "choice":
                right = normalise_text(value)
                wrong = {normalise_text(w) for w in q.checker.wrong}
                if right in wrong:
                    problems.append(f"{q.qid}: the right answer {value!r} is also listed under `wrong:`")
                if q.options and {normalise_text(o) for o in q.options} != wrong | {right}:
                    problems.append(f"{q.qid}: `options` must be the answer and the `wrong:` keys, no more, no less")
            if isinstance(value, str) and len(normalise_text(value)) >= 4:
                leaks = [m for m in messages if normalise_text(value) in normalise_text(m)]
            elif isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 10:
                shown = {f"{value:g}", f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"}
                leaks = [m for m in messages if any(re.search(rf"(?<![\d.]){re.escape(v)}(?![\d]|\.\d)", m)
                                                    for v in shown)]
            else:
                leaks = []
            if leaks:
                problems.append(f"{q.qid}: feedback states the answer {value!r}: {leaks[0][:60]!r}")
    return [f"{exercise.name}: {p}" for p in problems]


def check_sources(sources: Path = SOURCES) -> list[str]:
    """Validate every exercise source without running it (no kernel); print and return the problems."""
    ids = known_ids()
    problems = [p for path in sorted(sources.glob("*.md")) for p in validate(load(path), ids)]
    print("\n".join(problems) or "no problems")
    return problems


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
        "brbook": {"exercise": exercise.name, "title": exercise.title, **stamp()}})
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
        "brbook": {"exercise": exercise.name, "title": exercise.title, "answer_key": True, "version": version()}})
    for cell in exercise.notebook.cells:
        if cell.cell_type == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell.source))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata)))
    return nb


def key_record(exercise: Exercise, expected: Mapping[str, Any]) -> dict:
    """The answer key used by class grading: specs and real expected values (plain data)."""
    return {"exercise": exercise.name, "title": exercise.title, "version": version(),
            "questions": [q.to_dict() for q in exercise.questions],
            "manual": [m.to_dict() for m in exercise.manual],
            "expected": {name: to_plain(expected[name]) for name in exercise.answer_names}}


def build(out: Path, sources: Path = SOURCES, runner=None) -> list[str]:
    """Build ``out/student/*.ipynb`` and ``out/key/`` from every exercise source.

    The expected values come from running the reference solution through the same
    sandboxed runner that grades students (``runner``), so key and grading agree.
    """
    from brbook.grading.sandbox import run_trusted

    runner = runner or run_trusted
    student_dir, key_dir = out / "student", out / "key"
    student_dir.mkdir(parents=True, exist_ok=True)
    key_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)  # the key is for the grader and instructors, never for student code
    built = []
    ids = known_ids()
    for path in sorted(sources.glob("*.md")):
        exercise = load(path)
        problems = validate(exercise, ids)
        if problems:
            raise ValueError("exercise sources break the format (docs: brbook.exercises.validate):\n  "
                             + "\n  ".join(problems))
        run = runner([KEY_PRELUDE, *code_cells(exercise.notebook)], exercise.answer_names)
        missing = [n for n in exercise.answer_names if run.answers.get(n) is None or run.answers[n] is Ellipsis]
        if missing or run.errors:
            raise RuntimeError(f"{path.name}: the reference solution failed: missing {missing}, "
                               f"errors {run.errors}")
        problems = validate_answers(exercise, run.answers)
        if problems:
            raise ValueError("exercise answers break the format:\n  " + "\n  ".join(problems))
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
