"""The schema of every table in ``data/``, and the validation that guards the build.

One pandera schema per CSV file documents each column (type, unit, meaning) and
checks it. The same definitions produce the book's data dictionary, so the
documentation cannot drift from what is enforced. Files are read as text first
so that a bad value is reported where it stands, not lost in a type conversion.
"""

from __future__ import annotations

import json
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
CLAIMS = ("reported", "statement", "disputed")
DISAGREEMENT_KINDS = ("judgement", "reconcile")
"""``judgement``: the sources' evidence favours one account; ``reconcile``: the accounts can both stand."""
AUTHORSHIP_ROLES = ("author", "contributor", "publisher", "funder", "partner", "affiliation", "moderator",
                    "speaker", "acknowledged", "informant", "cited")
"""What a person or organisation is to a source: see the ``role`` column of authorship.csv."""
ENTITY_KINDS = ("person", "organisation", "not_stated")
VERDICTS = ("held", "did_not_hold", "partly", "not_reported")
"""How a forecast fared by the 2022 brief: see the ``verdict`` column of forecasts.csv."""
"""How an event stands in its source: see the ``claim`` column of events.csv."""

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


def _published():
    """The ``published`` column that excerpts, facts and events share: the item's own date."""
    return _iso_date("When the item was published, as precisely as the text allows: the source's own date "
                     "(sources.csv), or for a source of several articles (articles.csv) the date of the article "
                     "that holds the quote. Order items by this, not by the source's date.", partial=True)


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
            "label": _text("Short label of the figure within its series (e.g. 2016); often empty. Never a "
                           "year the source does not give.", required=False),
            "published": _published(),
        }),
        "excerpts.csv": frame("excerpts.csv", "Verbatim passages quoted in the chapters.", {
            "excerpt_id": _identifier("Unique id, <source>-x###."),
            "source_id": _source_ref(known),
            "dimension": _one_of(DIMENSIONS, "Which dimension of the relationship it belongs to."),
            "section": _text("Section heading of the source where it stands."),
            "speaker": _text("Whose words the whole passage is. The source's authors (or the source's name "
                             "where it names none) when they write it, including when they report or paraphrase "
                             "someone; a quoted person only when every word of the passage is that person's "
                             "quoted words. When the authors' words surround a quotation, the speaker is the "
                             "authors and `context` names the person quoted."),
            "said_on": _iso_date("When the speaker said it, where the source gives it; empty when the speaker is "
                                 "the source's authors (then `published` dates it).", partial=True,
                                 required=False),
            "text": _text("The passage, verbatim; an omission is written […]."),
            "context": _text("One neutral sentence on what the passage is about; names anyone quoted in it."),
            "topics": _text("Topic tags, |-separated (airbase, crimea, subsidies, ...)."),
            "published": _published(),
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
            "section": _text("Section heading of the source where its quote stands."),
            "quote": _text("The sentence that reports it, verbatim."),
            "claim": _one_of(CLAIMS, "How the source stands behind it: `reported` (its authors state it happened), "
                             "`statement` (the event is what someone said, and the title names who said it), "
                             "`disputed` (someone's claim that the source's authors doubt or contradict; the "
                             "title names who claims it). A `reported` event never rests on a disputed claim."),
            "disputed_by": _text("For a `disputed` event: who disputes it and their words, quoted verbatim from "
                                 "the source; empty otherwise.", required=False),
            "published": _published(),
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
            "kind": _one_of(DISAGREEMENT_KINDS, "`judgement` when the evidence in the sources favours one account "
                            "and the answer says which and why (who was placed to know, what each cites, what a "
                            "later source shows); `reconcile` when both accounts can stand (different moments, "
                            "measures or meanings)."),
            "option_feedback": _text("A JSON object mapping every option, exactly as written in `options`, to its "
                                     "own feedback: why that reading is right or wrong, shown when a reader picks "
                                     "it.", pa.Check(lambda s: s.map(_is_feedback_object),
                                                     error="must be a JSON object of non-empty strings")),
        }),
        "authorship.csv": frame("authorship.csv", "Who made each source, as the sources present themselves: "
                                "authors, publishers, funders, and the people they thank, quote and cite. One row "
                                "per source, person or organisation, and role.", {
            "source_id": _source_ref(known),
            "entity": _text("The book's spelling of the person or organisation, the same in every source, so that "
                            "rows link across sources; `not stated` where the source names nobody in that role."),
            "as_printed": _text("The name exactly as this source prints it (another spelling or script is kept)."),
            "kind": _one_of(ENTITY_KINDS, "Whether the entity is a person or an organisation (`not_stated`: the "
                            "source names none)."),
            "role": _one_of(AUTHORSHIP_ROLES, "What the entity is to this source: `author`, `contributor` (an "
                            "organisation named as making it), `publisher`, `funder`, `partner` (helped realise it "
                            "or supplied material), `affiliation` (an author's or speaker's institution), "
                            "`moderator` and `speaker` (of an event the source recaps), `acknowledged` (thanked), "
                            "`informant` (quoted or interviewed), `cited` (wrote or published a work it cites)."),
            "description": _text("What the source says about the entity in this role, attributed; nothing from "
                                 "outside the source."),
            "location": _text("Where in the source (section, footnote or page part)."),
            "evidence": _text("The words of the source that show it, verbatim (checked against the source text)."),
            "note": _text("Empty, or a caution: another spelling, a link the text does not establish.",
                          required=False),
        }),
        "forecasts.csv": frame("forecasts.csv", "Forecasts of the 2014, 2016 and 2019 sources set beside what a "
                               "later source reports, with a verdict drawn only from the texts.", {
            "forecast_id": _identifier("Unique id, <source>-p###, the source being the one that forecasts."),
            "source_id": _source_ref(known, "The source that makes the forecast (sources.csv)."),
            "forecast": _text("What is forecast, attributed, in neutral words; the source's hedges kept."),
            "hedge": _text("The source's own hedging words, verbatim (\"seem unlikely\"); empty when it states the "
                           "forecast flatly.", required=False),
            "forecast_excerpts": _text("Excerpts of the forecasting source that state it, |-separated."),
            "outcome_excerpts": _text("Excerpts of a later source that report what came of it, |-separated."),
            "verdict": _one_of(VERDICTS, "`held`, `did_not_hold`, `partly`, or `not_reported` (the later source "
                               "does not say); judged only from the texts."),
            "reason": _text("Why the verdict, citing what the later source says; no outside knowledge."),
        }),
        "articles.csv": frame("articles.csv", "The articles of a source that collects several (the 2016–2018 "
                              "news series), each dated.", {
            "article_id": _identifier("Unique id, <source>-a###, in the order the articles stand in the source."),
            "source_id": _source_ref(known),
            "title": _text("The article's title exactly as printed; it locates the article in the source text."),
            "published": _iso_date("When the article appeared, as precisely as the text allows. Where it prints "
                                   "no date, the month of the latest event it reports (it appeared then or "
                                   "later).", partial=True),
            "date_basis": _text("How the date is known: stated, or 'not stated;' and the source's words that "
                                "fix it."),
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
    if "forecasts.csv" in frames and "excerpts.csv" in frames:
        problems.extend(_forecast_problems(frames["forecasts.csv"], frames["excerpts.csv"]))
    if "sources.csv" in frames and "articles.csv" in frames:
        for name in ("excerpts.csv", "facts.csv", "events.csv"):
            if name in frames:
                problems.extend(_published_problems(name, frames[name], frames["sources.csv"], frames["articles.csv"]))
    if "events.csv" in frames:
        problems.extend(_claim_problems(frames["events.csv"]))
    return problems


def _published_problems(name: str, table: pd.DataFrame, sources: pd.DataFrame,
                        articles: pd.DataFrame) -> list[Problem]:
    """An item's ``published`` is its source's date, or for a source of articles one of their dates.

    Which article holds which quote needs the source texts; ``brbook data provenance`` and the
    tests check that.
    """
    if "published" not in table or "source_id" not in table:
        return []
    dates = dict(zip(sources.get("source_id", []), sources.get("date", []), strict=True))
    article_dates: dict[str, set[str]] = {}
    for source_id, published in zip(articles.get("source_id", []), articles.get("published", []), strict=True):
        article_dates.setdefault(source_id, set()).add(published)
    found = []
    for n, (source_id, published) in enumerate(zip(table["source_id"], table["published"], strict=True), start=2):
        if not published or source_id not in dates:
            continue  # the column checks report these
        allowed = article_dates.get(source_id, {dates[source_id]})
        if published not in allowed:
            what = "one of its articles' dates (articles.csv)" if source_id in article_dates else \
                f"the source's date {dates[source_id]}"
            found.append(Problem(name, n, "published", f"{published!r} is not {what}"))
    return found


def _claim_problems(events: pd.DataFrame) -> list[Problem]:
    """A disputed event says who disputes it; no other event carries a dispute."""
    if "claim" not in events or "disputed_by" not in events:
        return []
    found = []
    for n, (claim, disputed_by) in enumerate(zip(events["claim"], events["disputed_by"], strict=True), start=2):
        if claim == "disputed" and not disputed_by.strip():
            found.append(Problem("events.csv", n, "disputed_by", "a disputed event must say who disputes it"))
        elif claim != "disputed" and disputed_by.strip():
            found.append(Problem("events.csv", n, "claim", "an event with disputed_by must be claim=disputed"))
    return found


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
        feedback = _is_feedback_object(str(row.get("option_feedback", "")), parsed=True)
        options = set(str(row.get("options", "")).split("|"))
        if isinstance(feedback, dict) and set(feedback) != options:
            missing, extra = sorted(options - set(feedback)), sorted(set(feedback) - options)
            found.append(Problem(name, n, "option_feedback", "must give feedback for exactly the options"
                                 + (f"; missing: {', '.join(missing)}" if missing else "")
                                 + (f"; not an option: {', '.join(extra)}" if extra else "")))
    return found


def _is_feedback_object(text: str, parsed: bool = False) -> bool | dict | None:
    """True (or, with ``parsed``, the dict) when ``text`` is a JSON object of non-empty strings."""
    try:
        value = json.loads(text)
    except ValueError:
        return None if parsed else False
    good = isinstance(value, dict) and all(isinstance(v, str) and v.strip() for v in value.values())
    if parsed:
        return value if good else None
    return good


def _forecast_problems(forecasts: pd.DataFrame, excerpts: pd.DataFrame) -> list[Problem]:
    """Rules across tables: a forecast quotes its own source; its outcome comes from a later source."""
    name = "forecasts.csv"
    known = {r["excerpt_id"]: r for r in excerpts.to_dict("records")} if "excerpt_id" in excerpts else {}
    found = []
    for n, row in enumerate(forecasts.to_dict("records"), start=2):
        said = [i for i in str(row.get("forecast_excerpts", "")).split("|") if i]
        later = [i for i in str(row.get("outcome_excerpts", "")).split("|") if i]
        for column, ids in (("forecast_excerpts", said), ("outcome_excerpts", later)):
            unknown = [i for i in ids if i not in known]
            if unknown:
                found.append(Problem(name, n, column, f"unknown excerpt id(s): {', '.join(unknown)}"))
        if any(i in known and known[i]["source_id"] != row.get("source_id") for i in said):
            found.append(Problem(name, n, "forecast_excerpts", "must all come from the forecasting source"))
        newest = max((str(known[i].get("published", "")) for i in said if i in known), default="")
        if any(i in known and (known[i]["source_id"] == row.get("source_id")
                               or str(known[i].get("published", "")) <= newest) for i in later):
            found.append(Problem(name, n, "outcome_excerpts", "must come from a source published after the forecast"))
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
