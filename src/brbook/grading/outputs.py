"""The gradebook, the feedback files and the report, rebuilt from the saved records.

Everything here is a pure function of ``RESULTS/graded/*.json``, ``RESULTS/manual.csv`` (the
hand-graded written answers) and ``RESULTS/roster.csv`` (if a roster was given), so it can be
rewritten at any time, by ``brbook grade``, by ``brbook review`` after each saved score, or by a
merge, and give the same files.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from brbook.grading.core import Graded, all_graded, atomic_write
from brbook.grading.written import read_manual

ROSTER_FIELDS = ("id", "name", "email", "platform_id")


@dataclass
class Row:
    """One line of the gradebook: a submission, a student, or both."""

    student: str
    file: str
    name: str = ""
    email: str = ""
    platform_id: str = ""
    auto: dict[str, float] = field(default_factory=dict)
    manual: dict[str, float | None] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    total: float = 0.0
    possible: float = 0.0
    status: str = ""
    reason: str = ""
    result: Graded | None = None

    @property
    def percentage(self) -> float:
        return round(100.0 * self.total / self.possible, 1) if self.possible else 0.0


def read_roster(path: Path) -> list[dict[str, str]]:
    """The class list: ``id,name,email,platform_id`` (the id is the submission's file name)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [f for f in ("id", "name") if f not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: the roster needs the columns {', '.join(ROSTER_FIELDS)} "
                             f"(missing {', '.join(missing)})")
        rows = [{f: (row.get(f) or "").strip() for f in ROSTER_FIELDS} for row in reader]
    ids = [r["id"] for r in rows]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"{path}: student id(s) listed twice: {', '.join(twice)}")
    return [r for r in rows if r["id"]]


def possible_points(key: Mapping) -> float:
    return sum(q["points"] for q in key["questions"]) + sum(m["points"] for m in key.get("manual", []))


def gradebook_rows(results: Sequence[Graded], key: Mapping, manual: Mapping | None = None,
                   roster: Sequence[Mapping[str, str]] | None = None) -> list[Row]:
    """Every row of the gradebook: auto and hand-graded points, joined to the roster when there is one."""
    manual = manual or {}
    manual_q = key.get("manual", [])
    possible = possible_points(key)
    want = str(key.get("version", ""))
    rows = []
    for r in results:
        row = Row(r.student, r.file, auto=dict(r.scores), status=r.status, reason=r.reason, possible=possible,
                  result=r)
        for m in manual_q:
            entry = manual.get((r.student, m["id"]))
            row.manual[m["id"]] = None if not entry else entry["points"]
            row.comments[m["id"]] = "" if not entry else entry["comment"]
        row.total = r.total + sum(p for p in row.manual.values() if p is not None)
        if r.status != "unreadable" and want and r.version != want:
            row.reason = "; ".join(x for x in (row.reason, f"built from exercise version "
                                               f"{r.version or '(none recorded)'}, key is {want}") if x)
        rows.append(row)
    if roster is not None:
        by_id = {s["id"].lower(): s for s in roster}
        seen = set()
        for row in rows:
            student = by_id.get(row.student.lower())
            if student is None:
                row.reason = (f"no student in the roster has the id {row.student!r} "
                              f"(this file would have scored {row.total:g}); rename the file or add the student")
                row.status, row.total = "missing", 0.0
                continue
            seen.add(student["id"].lower())
            row.student = student["id"]
            row.name, row.email, row.platform_id = student["name"], student["email"], student["platform_id"]
        for student in roster:
            if student["id"].lower() not in seen:
                rows.append(Row(student["id"], "", student["name"], student["email"], student["platform_id"],
                                possible=possible, status="missing",
                                reason="no submission from this student", total=0.0))
    return sorted(rows, key=lambda r: (r.student, r.file))


def gradebook_csv(rows: Sequence[Row], key: Mapping, with_roster: bool) -> str:
    qids = [q["id"] for q in key["questions"]]
    manual = [m["id"] for m in key.get("manual", [])]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = ["name", "email", "platform_id"] if with_roster else []
    writer.writerow(["student", *names, "file", *qids, *[f"{m} (manual)" for m in manual], "total", "possible",
                     "percentage", "status", "reason"])
    for r in rows:
        extra = [r.name, r.email, r.platform_id] if with_roster else []
        auto = [f"{r.auto.get(q, 0.0):g}" if r.status != "missing" or r.result else "0" for q in qids]
        hand = ["" if r.manual.get(m) is None else f"{r.manual[m]:g}" for m in manual]
        writer.writerow([r.student, *extra, r.file, *auto, *hand, f"{r.total:g}", f"{r.possible:g}",
                         f"{r.percentage:g}", r.status, r.reason])
    return buffer.getvalue()


def write_outputs(results: Sequence[Graded], key: Mapping, out: Path, *, report: bool = True,
                  only: str | None = None) -> list[Row]:
    """Write ``gradebook.csv``, ``feedback/<student>.md`` and ``report.html``, each atomically.

    ``only`` rewrites one student's feedback (after a hand grade), leaving every other file alone.
    """
    roster_path = out / "roster.csv"
    roster = read_roster(roster_path) if roster_path.exists() else None
    manual = read_manual(out)
    rows = gradebook_rows(results, key, manual, roster)
    atomic_write(out / "gradebook.csv", gradebook_csv(rows, key, roster is not None))
    for row in rows:
        if row.result is not None and only in (None, row.result.student):
            atomic_write(out / "feedback" / f"{row.result.student}.md", feedback_markdown(row, key, manual))
    if report:
        write_report(results, key, out, rows, manual)
    return rows


def write_report(results: Sequence[Graded], key: Mapping, out: Path, rows: Sequence[Row] | None = None,
                 manual: Mapping | None = None) -> None:
    from brbook.grading.report import report_html

    if manual is None:
        manual = read_manual(out)
    if rows is None:
        roster_path = out / "roster.csv"
        rows = gradebook_rows(results, key, manual, read_roster(roster_path) if roster_path.exists() else None)
    atomic_write(out / "report.html", report_html(results, key, rows, manual))


def feedback_markdown(row: Row, key: Mapping, manual: Mapping | None = None) -> str:
    """One student's feedback: each question's points and a hint, never the expected answer."""
    result = row.result
    manual = manual or {}
    lines = [f"# Feedback for {result.student}: {key.get('title', key['exercise'])}", "",
             f"**Score:** {row.total:g} / {row.possible:g} ({row.percentage:g}%)", "",
             f"**Status:** {row.status}" + (f": {row.reason}" if row.reason else ""), ""]
    if result.status == "unreadable":
        lines.append("Your file could not be graded. Submit the .ipynb notebook you worked in.")
        return "\n".join(lines) + "\n"
    lines += ["| Question | Points | Your answer | Feedback |", "|---|---|---|---|"]
    for q in key["questions"]:
        qid = q["id"]
        answer = result.answers_shown.get(qid, "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {qid} | {result.scores.get(qid, 0):g} / {q['points']:g} | {answer} | "
                     f"{result.feedback.get(qid, '').replace('|', '/')} |")
    for m in key.get("manual", []):
        entry = manual.get((result.student, m["id"]))
        if not entry or entry["points"] is None:
            lines.append(f"| {m['id']} | not graded yet / {m['points']:g} | (written) | "
                         "graded by hand: see your instructor's comments when it is |")
            continue
        met = [m["rubric"][i]["criterion"] for i in entry["rubric"] if 0 <= i < len(m.get("rubric", []))]
        note = "; ".join(x for x in ([entry["comment"]] if entry["comment"] else [])
                         + ([f"rubric met: {', '.join(met)}"] if met else []))
        lines.append(f"| {m['id']} | {entry['points']:g} / {m['points']:g} | (written) | "
                     f"{note.replace('|', '/').replace(chr(10), ' ') or 'graded by hand'} |")
    return "\n".join(lines) + "\n"


def rewrite(out: Path, key: Mapping, *, report: bool = True, only: str | None = None) -> list[Row]:
    """Rebuild the outputs from what is saved in ``out`` (after a hand grade, a merge, a regrade)."""
    return write_outputs(all_graded(out), key, out, report=report, only=only)


def save_roster(roster: Path, out: Path) -> None:
    """Check the roster and keep a copy with the results (review and export read it there)."""
    read_roster(roster)
    out.mkdir(parents=True, exist_ok=True)
    if roster.resolve() != (out / "roster.csv").resolve():
        shutil.copyfile(roster, out / "roster.csv")


def save_key_reference(out: Path, key_path: Path) -> None:
    """Remember which key graded these results, so review, export and merge find it again."""
    atomic_write(out / "key-path.json", json.dumps({"key": str(key_path.resolve())}))


def key_for(out: Path) -> Path | None:
    try:
        return Path(json.loads((out / "key-path.json").read_text(encoding="utf-8"))["key"])
    except (OSError, ValueError, KeyError):
        return None
