"""The schema of every table in ``data/``, and the validation that guards the build.

One pandera schema per CSV file documents each column (type, unit, meaning) and
checks it. The same definitions produce the book's data dictionary, so the
documentation cannot drift from what is enforced. Files are read as text first
so that a bad value is reported where it stands, not lost in a type conversion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from brbook.lazy import LazyModule

if TYPE_CHECKING:
    from pandera.errors import SchemaErrors

pa = LazyModule("pandera.pandas")  # imported when a schema is built, not by every page that reads a table

DIMENSIONS = ("military", "economy", "foreign_policy", "media", "politics", "society")
"""Every row of facts, excerpts and events belongs to one of these."""

MAIN_DIMENSIONS = ("military", "economy", "foreign_policy", "media")
"""The four dimensions that have a chapter each."""

GLOSSARY_KINDS = ("person", "organisation", "place", "concept", "programme")
DATE_PRECISIONS = ("day", "month", "year")
NOTE_ISSUES = ("typo", "date", "contradiction", "figure", "garbled", "other")

ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
ISO_DATE_OR_PARTIAL = r"^\d{4}(-\d{2}(-\d{2})?)?$"
ID_PATTERN = r"^[a-z0-9_]+-[a-z]\d{3}$"


def _is_number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").notna()


def _real_date(series: pd.Series) -> pd.Series:
    """Reject dates that match the pattern but do not exist (2015-02-30)."""
    padded = series.where(series.str.len() != 4, series + "-01-01")
    padded = padded.where(padded.str.len() != 7, padded + "-01")
    return pd.to_datetime(padded, format="%Y-%m-%d", errors="coerce").notna()


def _text(description: str, *checks: pa.Check, required: bool = True, unique: bool = False) -> pa.Column:
    all_checks = list(checks)
    if required:
        all_checks.insert(0, pa.Check.str_length(min_value=1, error="must not be empty"))
    return pa.Column(str, checks=all_checks, description=description, unique=unique, nullable=False,
                     metadata={"required": required})


def _one_of(values: Iterable[str], description: str) -> pa.Column:
    values = tuple(values)
    return _text(description, pa.Check.isin(values, error=f"must be one of {', '.join(values)}"))


def _iso_date(description: str, partial: bool = False, required: bool = True) -> pa.Column:
    pattern = ISO_DATE_OR_PARTIAL if partial else ISO_DATE
    checks = [
        pa.Check(lambda s: s.eq("") | s.str.match(pattern), element_wise=False,
                 error="must be an ISO date (YYYY-MM-DD)" + (", YYYY-MM or YYYY" if partial else "")),
        pa.Check(lambda s: s.eq("") | ~s.str.match(pattern) | _real_date(s), error="is not a real calendar date"),
    ]
    return _text(description, *checks, required=required)


def _identifier(description: str) -> pa.Column:
    return _text(description, pa.Check.str_matches(ID_PATTERN, error="must look like source-x001"), unique=True)


def _source_ref(known: Iterable[str], description: str = "The source this row comes from (sources.csv).") -> pa.Column:
    known = tuple(sorted(known))
    return _text(description, pa.Check.isin(known, error="unknown source_id (not in sources.csv)"))


def _number(description: str) -> pa.Column:
    return _text(description, pa.Check(_is_number, error="must be a number"))


def schemas(known_sources: Iterable[str] = ()) -> dict[str, pa.DataFrameSchema]:
    """The schema of each file in ``data/``, keyed by file name.

    Args:
        known_sources: the ``source_id`` values a row may refer to.
    """
    known = tuple(known_sources)

    def frame(name: str, description: str, columns: dict[str, pa.Column]) -> pa.DataFrameSchema:
        return pa.DataFrameSchema(columns, name=name, description=description, strict=True, ordered=False)

    return {
        "sources.csv": frame("sources.csv", "The five source documents, one row each.", {
            "source_id": _text("Short slug used everywhere else.",
                               pa.Check.str_matches(r"^[a-z0-9_]+$", error="must be a lowercase slug"),
                               unique=True),
            "title": _text("Title as printed in the document."),
            "author": _text('Authors joined with "; ", or "not stated" where the text names none.'),
            "publisher": _text("Organisation that published it."),
            "date": _iso_date("Publication date, as precise as the document allows.", partial=True),
            "date_note": _text("How the date is known (stated on the page, or inferred and why)."),
            "kind": _text("What kind of text it is (analytical paper, policy brief, ...)."),
            "perspective": _text("One neutral sentence on who wrote it, for whom, and its point of view."),
            "seed_file": _text("File name of the source text in the shared seeds folder."),
        }),
        "facts.csv": frame("facts.csv", "Every figure the book uses, with the sentence that states it.", {
            "fact_id": _identifier("Unique id, <source>-f###."),
            "source_id": _source_ref(known),
            "dimension": _one_of(DIMENSIONS, "Which dimension of the relationship it belongs to."),
            "subject": _text("What is measured."),
            "value": _number("The number (unit in `unit`)."),
            "unit": _text("The unit in the source's own wording."),
            "period": _text("The year, date or period the figure refers to."),
            "section": _text("Section heading of the source where it stands."),
            "quote": _text("The sentence or table line that states it, verbatim."),
            "conversion": _text("Empty, or how a verbal quantity became the number.", required=False),
            "series": _text("Groups comparable figures for one chart (e.g. pilot_flying_hours); often empty.",
                            required=False),
            "label": _text("Short label of the figure within its series (e.g. 2016); often empty.",
                           required=False),
        }),
        "excerpts.csv": frame("excerpts.csv", "Verbatim passages quoted in the chapters.", {
            "excerpt_id": _identifier("Unique id, <source>-x###."),
            "source_id": _source_ref(known),
            "dimension": _one_of(DIMENSIONS, "Which dimension of the relationship it belongs to."),
            "section": _text("Section heading of the source where it stands."),
            "speaker": _text("Who says it: the authors, or the person they quote."),
            "said_on": _iso_date("When the speaker said it, where the source gives it.", partial=True,
                                 required=False),
            "text": _text("The passage, verbatim; an omission is written […]."),
            "context": _text("One neutral sentence on what the passage is about."),
            "topics": _text("Topic tags, |-separated (airbase, crimea, subsidies, ...)."),
        }),
        "events.csv": frame("events.csv", "Dated events 2013–2022, each with the sentence that reports it.", {
            "event_id": _identifier("Unique id, <source>-e###."),
            "date": _iso_date("ISO date; month or year precision is padded with -01."),
            "date_precision": _one_of(DATE_PRECISIONS, "How precise the date is."),
            "date_basis": _text('"stated", or "inferred: why" where the source omits the year.',
                                pa.Check(lambda s: s.eq("stated") | s.str.startswith("inferred: "),
                                         error='must be "stated" or start with "inferred: "')),
            "dimension": _one_of(DIMENSIONS, "Which dimension of the relationship it belongs to."),
            "title": _text("Short neutral title."),
            "description": _text("One neutral sentence."),
            "source_id": _source_ref(known),
            "quote": _text("The sentence that reports it, verbatim."),
        }),
        "glossary.csv": frame("glossary.csv", "People, organisations, places, concepts and programmes.", {
            "term": _text("The book's spelling (Lukashenka, Makei).", unique=True),
            "kind": _one_of(GLOSSARY_KINDS, "What the term names."),
            "variants": _text("Other spellings in the sources, |-separated.", required=False),
            "definition": _text("One neutral sentence."),
            "first_source_id": _source_ref(known, "The earliest source in this book that names it."),
        }),
        "disagreements.csv": frame("disagreements.csv", "Where the sources disagree: the excerpts that show it "
                                   "and a question to weigh them.", {
            "disagreement_id": _text("Short slug (crimea, subsidy).", pa.Check.str_matches(r"^[a-z0-9_]+$",
                                     error="lower-case letters, digits and _ only"), unique=True),
            "topic": _text("The excerpts' topic tag it belongs to."),
            "title": _text("Short heading, no claim beyond the excerpts."),
            "summary": _text("What each source says, attributed; quoted words verbatim from the cited excerpts."),
            "excerpt_ids": _text("Excerpts that show it, |-separated, oldest source first, from 2 or more sources."),
            "question": _text("A question that makes the reader weigh the evidence."),
            "options": _text("Answer options, |-separated."),
            "answer": _text("The best-supported option, exactly as written in options."),
            "explanation": _text("Why, shown after a right answer."),
        }),
        "source_notes.csv": frame("source_notes.csv", "The sources' own slips, kept verbatim in quotes.", {
            "source_id": _source_ref(known),
            "location": _text("Where in the source (section and a short quote)."),
            "issue": _one_of(NOTE_ISSUES, "Kind of problem."),
            "note": _text("What is wrong, neutrally stated."),
        }),
    }


@dataclass(frozen=True)
class Problem:
    """One validation failure, located as ``file:row:column``."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.message}"


def read_raw(path: Path) -> pd.DataFrame:
    """Read a CSV as text, keeping empty cells as empty strings."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _problems_from(name: str, errors: SchemaErrors) -> list[Problem]:
    found = []
    for case in errors.failure_cases.itertuples(index=False):
        column = case.column if isinstance(case.column, str) else "-"
        check = str(case.check)
        if case.schema_context == "DataFrameSchema":
            # whole-table failures: a missing or unexpected column
            if check == "column_in_dataframe":
                found.append(Problem(name, 1, str(case.failure_case), "required column is missing"))
            elif check == "column_in_schema":
                found.append(Problem(name, 1, str(case.failure_case), "unexpected column"))
            else:
                found.append(Problem(name, 1, column, f"{check}: {case.failure_case}"))
            continue
        row = int(case.index) + 2 if pd.notna(case.index) else 1
        if check.startswith("field_uniqueness") or check == "unique":
            message = f"duplicate value {case.failure_case!r}"
        else:
            message = f"{check} (got {case.failure_case!r})"
        found.append(Problem(name, row, column, message))
    return sorted(set(found), key=lambda p: (p.file, p.row, p.column, p.message))


def validate_dir(data_dir: Path) -> list[Problem]:
    """Validate every table in ``data_dir``; return every problem found (empty when clean)."""
    from pandera.errors import SchemaErrors

    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    for name in schemas():
        path = data_dir / name
        if not path.exists():
            problems.append(Problem(name, 0, "-", "file is missing"))
            continue
        try:
            frames[name] = read_raw(path)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, 0, "-", f"cannot be read as CSV: {exc}"))
    known = frames["sources.csv"]["source_id"].tolist() if "source_id" in frames.get("sources.csv", {}) else []
    for name, schema in schemas(known).items():
        if name not in frames:
            continue
        try:
            schema.validate(frames[name], lazy=True)
        except SchemaErrors as errors:
            problems.extend(_problems_from(name, errors))
    if "disagreements.csv" in frames and "excerpts.csv" in frames:
        problems.extend(_disagreement_problems(frames["disagreements.csv"], frames["excerpts.csv"]))
    return problems


def _disagreement_problems(disagreements: pd.DataFrame, excerpts: pd.DataFrame) -> list[Problem]:
    """Rules across tables: cited excerpts exist and span two sources; the answer is one of the options."""
    name = "disagreements.csv"
    sources = dict(zip(excerpts.get("excerpt_id", []), excerpts.get("source_id", []), strict=True))
    found = []
    for n, row in enumerate(disagreements.to_dict("records"), start=2):
        ids = [i for i in str(row.get("excerpt_ids", "")).split("|") if i]
        unknown = [i for i in ids if i not in sources]
        if unknown:
            found.append(Problem(name, n, "excerpt_ids", f"unknown excerpt id(s): {', '.join(unknown)}"))
        elif len({sources[i] for i in ids}) < 2:
            found.append(Problem(name, n, "excerpt_ids", "must cite excerpts from at least 2 sources"))
        if row.get("answer") not in str(row.get("options", "")).split("|"):
            found.append(Problem(name, n, "answer", "must be one of the options, exactly as written"))
    return found


def dictionary() -> pd.DataFrame:
    """One row per column of every table: the data dictionary shown in the book."""
    rows = []
    for name, schema in schemas().items():
        for column_name, column in schema.columns.items():
            rules = [c.error for c in column.checks if c.error and c.error != "must not be empty"]
            rows.append({
                "file": name,
                "column": column_name,
                "required": "yes" if (column.metadata or {}).get("required", True) else "no",
                "unique": "yes" if column.unique else "",
                "meaning": column.description,
                "rules": "; ".join(rules),
            })
    return pd.DataFrame(rows)
