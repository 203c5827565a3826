"""Written answers: taken from each notebook, graded by hand, kept in ``RESULTS/manual.csv``.

A written question's answer cell (``question: qN`` in its metadata) is followed by the Markdown
cell the student writes in. What the student wrote is what their cells hold beyond the blank
student notebook's (its prompts and "Your answer:" line), found line by line with ``difflib``,
so a student may write anywhere in the cell, or in a new cell of their own, before the next code
cell. ``manual.csv`` holds one row per (student, question), rewritten whole and atomically on
every save, so a killed server or a closed tab never loses a saved score.
"""

from __future__ import annotations

import ast
import builtins
import csv
import difflib
import hashlib
import io
import json
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from brbook.grading.core import atomic_write

MANUAL_FIELDS = ["student", "question", "points", "rubric", "comment", "graded_at"]
_lock = threading.Lock()


def _source(cell: Mapping) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _answer_cells(notebook: Any, manual_ids: set[str]) -> dict[str, list[str]]:
    """Per written question: the sources of the cells after its answer cell, up to the next code cell."""
    found: dict[str, list[str]] = {}
    current = None
    for cell in getattr(notebook, "cells", None) or []:
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), Mapping) else {}
        qid = str(meta.get("question", "")) if meta.get("question") is not None else ""
        if cell.get("cell_type") == "code":
            current = qid if qid in manual_ids else None
            if current:
                found.setdefault(current, []).append(_source(cell))
            continue
        if current:
            found[current].append(_source(cell))
    return found


def template_answers(template: Path | None, key: Mapping) -> dict[str, list[str]]:
    """The blank student notebook's cells around each written question (what is not the answer)."""
    if template is None or not template.exists():
        return {}
    import nbformat

    try:
        notebook = nbformat.read(template, as_version=4)
    except Exception:  # an unreadable template only costs the finer extraction
        return {}
    return _answer_cells(notebook, {m["id"] for m in key.get("manual", [])})


_PLACEHOLDER = re.compile(r"^\s*(your answer:?|#\s*write your answer.*)\s*$", re.IGNORECASE)


def written_answers(notebook: Any, key: Mapping, blank: Mapping[str, list[str]]) -> dict[str, str]:
    """Question id -> what the student wrote for it ("" when nothing)."""
    manual_ids = {m["id"] for m in key.get("manual", [])}
    cells = _answer_cells(notebook, manual_ids)
    answers = {}
    for qid in sorted(manual_ids):
        mine = "\n".join(cells.get(qid, [])).splitlines()
        if qid in blank:
            theirs = "\n".join(blank[qid]).splitlines()
            added = [line[2:] for line in difflib.ndiff(theirs, mine) if line.startswith("+ ")]
        else:  # no blank notebook: what precedes the next question's heading, placeholders dropped
            added = []
            for line in mine[1:]:
                if re.match(r"^#{2,6}\s", line):
                    break
                added.append(line)
        answers[qid] = "\n".join(line for line in added if not _PLACEHOLDER.match(line)).strip()
    return answers


class _Renamer(ast.NodeTransformer):
    """Variable, argument and function names replaced by v0, v1, … in order of first appearance."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _new(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if hasattr(builtins, node.id):
            return node
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._new(node.arg)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._new(node.name)
        self.generic_visit(node)
        return node


def fingerprint(notebook: Any) -> str:
    """A digest of the notebook after normalising whitespace, comments and variable names.

    Names are renamed consistently across all code cells (a cell that does not parse keeps its
    names, with comments and whitespace folded). Markdown (the written answers) counts with its
    whitespace folded, so two notebooks match only if their prose matches too.
    """
    renamer = _Renamer()
    parts = []
    for cell in getattr(notebook, "cells", None) or []:
        source = _source(cell)
        if cell.get("cell_type") == "code":
            try:
                parts.append(ast.unparse(renamer.visit(ast.parse(source))))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                parts.append(" ".join(re.sub(r"#.*", "", source).split()))
        elif cell.get("cell_type") == "markdown":
            parts.append(" ".join(source.split()).lower())
    return hashlib.sha256("\n".join(parts).encode("utf-8", "replace")).hexdigest()[:20]


# ---- manual.csv ------------------------------------------------------------------------------

def read_manual(out: Path) -> dict[tuple[str, str], dict]:
    """(student, question) -> {points, rubric (list of criterion indices met), comment, graded_at}."""
    path = out / "manual.csv"
    if not path.exists():
        return {}
    rows = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                points = float(row["points"]) if row.get("points") not in (None, "") else None
                rubric = json.loads(row.get("rubric") or "[]")
            except (ValueError, TypeError):
                continue
            rows[(row["student"], row["question"])] = {"points": points, "rubric": rubric,
                                                       "comment": row.get("comment", ""),
                                                       "graded_at": row.get("graded_at", "")}
    return rows


def save_manual(out: Path, student: str, question: str, points: float | None, rubric: list[int],
                comment: str) -> dict:
    """Record one hand grade (replacing any earlier one for that answer), atomically."""
    with _lock:
        rows = read_manual(out)
        entry = {"points": points, "rubric": sorted(set(int(i) for i in rubric)), "comment": comment,
                 "graded_at": datetime.now(UTC).isoformat(timespec="seconds")}
        rows[(student, question)] = entry
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(MANUAL_FIELDS)
        for (s, q), row in sorted(rows.items()):
            writer.writerow([s, q, "" if row["points"] is None else f"{row['points']:g}",
                             json.dumps(row["rubric"]), row["comment"], row["graded_at"]])
        atomic_write(out / "manual.csv", buffer.getvalue())
        return entry
