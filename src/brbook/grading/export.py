"""Gradebook exports in each learning platform's documented import format.

- **Canvas** (Grades → Import): a CSV whose first columns identify the student, ``Student`` (the
  name), ``ID`` (the Canvas user id), ``SIS User ID``, ``SIS Login ID`` and ``Section``, followed by
  one column per assignment named as the assignment (a new name creates a new assignment). Canvas
  needs the name, the Canvas id or the SIS user id to match a student; the roster's ``platform_id``
  fills ``ID`` and its ``id`` fills ``SIS User ID``. Source: Canvas's instructor guide "How do I
  import grades in the Gradebook?" and the guides derived from it (e.g. Ohio State's "Import a CSV
  file into Carmen Grades").
- **Moodle** (Grade administration → Import → CSV file): any columns, mapped on import; the
  student is identified by mapping "Email address" to ``useremail`` or "ID number" to
  ``useridnumber``, each other column is mapped to a grade item, and a feedback column may be
  mapped to the same item's feedback (Moodle docs, "Grade import"; the docs advise importing grade
  and feedback together). Email addresses are matched case-sensitively, so they are written as the
  roster gives them.
- **csv**: the gradebook's totals with the roster's columns, for anything else.

Points are the final ones (auto-graded plus hand-graded); a ``missing`` row exports 0.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from brbook.grading.core import all_graded, atomic_write
from brbook.grading.outputs import gradebook_rows, read_roster
from brbook.grading.written import read_manual

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["ID number", "Email address", "Full name"]
CSV_COLUMNS = ["student", "name", "email", "platform_id", "total", "possible", "percentage", "status", "reason"]
FORMATS = ("canvas", "moodle", "csv")


def export_rows(results_dir: Path, key: Mapping):
    roster_path = results_dir / "roster.csv"
    roster = read_roster(roster_path) if roster_path.exists() else None
    return gradebook_rows(all_graded(results_dir), key, read_manual(results_dir), roster), roster is not None


def export_text(results_dir: Path, key: Mapping, platform: str, assignment: str | None = None) -> str:
    rows, _ = export_rows(results_dir, key)
    name = assignment or key.get("title") or key["exercise"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if platform == "canvas":
        writer.writerow([*CANVAS_COLUMNS, name])
        for r in rows:
            writer.writerow([r.name or r.student, r.platform_id, r.student, r.email, "", f"{r.total:g}"])
    elif platform == "moodle":
        writer.writerow([*MOODLE_COLUMNS, name, f"{name} (feedback)"])
        for r in rows:
            note = "" if r.status == "ok" else f"{r.status}: {r.reason}"
            writer.writerow([r.student, r.email, r.name, f"{r.total:g}", note])
    elif platform == "csv":
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow([r.student, r.name, r.email, r.platform_id, f"{r.total:g}", f"{r.possible:g}",
                             f"{r.percentage:g}", r.status, r.reason])
    else:
        raise ValueError(f"unknown platform {platform!r}: use one of {', '.join(FORMATS)}")
    return buffer.getvalue()


def export(results_dir: Path, key: Mapping, platform: str, out: Path | None = None,
           assignment: str | None = None) -> Path:
    target = out or results_dir / f"export-{platform}.csv"
    atomic_write(target, export_text(results_dir, key, platform, assignment))
    return target
