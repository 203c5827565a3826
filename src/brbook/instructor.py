"""The instructor edition: the worked solutions page and the edition's own configuration.

The student book (``make book``) is built from ``_toc.yml``; with ``only_build_toc_files`` Sphinx
never reads a page that is not listed there, so the guide in ``book/instructor/`` and the solutions
cannot reach students. ``make instructor`` builds the same book from a table of contents with one
more part, the instructor guide, into ``_build/instructor/html``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import yaml
from IPython.display import HTML

from brbook import layout
from brbook.exercises import INSTRUCTOR_TAGS, SOURCES, load

KEY_DIR = layout.ROOT / "_build" / "exercises" / "key"
GUIDE_PART = {
    "caption": "Instructor guide",
    "chapters": [{"file": f"book/instructor/{page}"} for page in (
        "index", "routes", "difficult-topics", "source-background", "military", "economy", "foreign-policy",
        "media", "timeline", "synthesis", "assessment", "model-answers", "online", "handouts", "solutions",
        "running-a-class")],
}
EDITION_TITLE_SUFFIX = " (instructor edition)"
ANNOUNCEMENT = ("Instructor edition: it contains the guide and every solution. Publish the student edition "
                "(built by make book) to students, never this one.")


def _markdown(text: str) -> str:
    """Markdown to HTML, headings one level down (the page gives each notebook an ``h2``; its own
    title, an ``h1``, is dropped)."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    body = re.sub(r"<h1>.*?</h1>\n?", "", body)
    return re.sub(r"<(/?)h([2-5])>", lambda m: f"<{m[1]}h{int(m[2]) + 1}>", body)


def _value(value) -> str:
    return html.escape(json.dumps(value, ensure_ascii=False))


KIND_LABELS = {
    "attribution": "attribution: who said it, in what role",
    "dating": "dating and sequence, from the text itself",
    "evidence": "claim and evidence: which excerpt supports or undercuts a claim",
    "comparability": "comparability: can these figures be compared, and why not",
    "perspective": "perspective: which source's position explains a framing",
    "forecast": "forecast against outcome",
    "contradiction": "internal contradiction",
    "data": "data literacy",
}


def _evidence_item(evidence_id: str) -> str:
    """One justifying id with what it says: the excerpt's quotation, the fact's sentence or the event."""
    from brbook import data
    from brbook.excerpts import BIBLIOGRAPHY_PAGE, excerpt_item, link_to

    code = f"<code>{html.escape(evidence_id)}</code>"
    excerpts = data.excerpts().set_index("excerpt_id", drop=False)
    if evidence_id in excerpts.index:
        return excerpt_item(excerpts.loc[evidence_id])
    facts = data.facts().set_index("fact_id", drop=False)
    events = data.events().set_index("event_id", drop=False)
    if evidence_id in facts.index:
        row, kind = facts.loc[evidence_id], "fact"
        what = f"{row['subject']}: {row['value']:g} {row['unit']} ({row['period']})"
    elif evidence_id in events.index:
        row, kind = events.loc[evidence_id], "event"
        what = f"{data.date_label(row['date'].strftime('%Y-%m-%d'))}: {row['title']}"
    else:
        return f'<li class="evidence-missing">{code}: not in data/</li>'
    href = html.escape(link_to(BIBLIOGRAPHY_PAGE, f"source-{row['source_id']}"))
    return (f'<li class="evidence-{kind}" data-{kind}="{html.escape(evidence_id)}">{code} ({kind}) '
            f"{html.escape(what)}: <q>{html.escape(' '.join(str(row['quote']).split()))}</q> &middot; "
            f'<a href="{href}">{html.escape(data.cite(row["source_id"]))}</a></li>')


def _justification(question: dict) -> str:
    kind = question.get("kind")
    label = (f"<p><strong>Kind</strong>: <span class=\"question-kind\" data-kind=\"{html.escape(kind)}\">"
             f"{html.escape(KIND_LABELS.get(kind, kind))}</span></p>") if kind else ""
    items = "".join(_evidence_item(e) for e in question.get("evidence") or [])
    evidence = (f'<div class="solution-evidence"><p><strong>Justified by</strong> (in <code>data/</code>):</p>'
                f"<ul>{items}</ul></div>") if items else ""
    return label + evidence


def _answer_box(question: dict, expected: dict) -> str:
    checker = question["checker"]
    rows = "".join(f"<li><code>{html.escape(name)}</code> = <code>{_value(expected[name])}</code></li>"
                   for name in question["answers"])
    tolerance = f" (tolerance ± {checker['tolerance']:g})" if checker.get("tolerance") else ""
    wrong = "".join(f"<li><code>{html.escape(str(v))}</code>: {html.escape(m)}</li>"
                    for v, m in (checker.get("wrong") or {}).items())
    wrong = f"<p>Known wrong answers and their feedback:</p><ul>{wrong}</ul>" if wrong else ""
    return (f'<div class="solution-answer" data-question="{question["id"]}"><p><strong>Accepted answer'
            f"{tolerance}</strong>, checked as <em>{html.escape(checker['kind'])}</em>:</p><ul>{rows}</ul>"
            f"{wrong}{_justification(question)}</div>")


def _rubric_box(question: dict) -> str:
    """A written question's rubric (criteria with points), what a full answer contains, its evidence."""
    rubric = question.get("rubric") or []
    rows = "".join(f"<tr><td>{html.escape(r['criterion'])}</td><td>{r['points']:g}</td></tr>" for r in rubric)
    table = (f"<table class=\"rubric\"><thead><tr><th>Criterion</th><th>Points</th></tr></thead>"
             f"<tbody>{rows}</tbody></table>") if rows else ""
    full = (f'<p><strong>A full answer</strong>: {html.escape(question["full_answer"])}</p>'
            if question.get("full_answer") else "")
    return (f'<div class="solution-rubric solution-manual" data-question="{html.escape(question["id"])}">'
            f"<p><strong>Rubric</strong> ({question['points']:g} points, graded by hand):</p>{table}{full}"
            f"{_justification(question)}</div>")


def solutions(name: str) -> HTML:
    """One exercise notebook with its reference solutions, accepted answers and rubrics, for instructors.

    Each question shows its kind and the excerpts, facts or events that justify its answer, quoted;
    each written question its rubric and what a full answer contains.

    The accepted values are those of the answer key that grades the class (``make exercises``), so
    this page and the gradebook cannot disagree.
    """
    key_file = KEY_DIR / f"{name}.json"
    if not key_file.exists():
        raise FileNotFoundError(f"no answer key {key_file}: run `make exercises` first")
    key = json.loads(key_file.read_text(encoding="utf-8"))
    questions = {q["id"]: q for q in key["questions"]}
    manual = {m["id"]: m for m in key.get("manual", [])}
    exercise = load(SOURCES / f"{name}.md")
    parts = []
    for cell in exercise.notebook.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown":
            body = _markdown(cell.source)
            parts.append(f'<div class="solution-rubric">{body}</div>' if tags & INSTRUCTOR_TAGS else body)
            continue
        css = "solution-rubric" if tags & INSTRUCTOR_TAGS else "solution-code"
        parts.append(f'<pre class="{css}"><code>{html.escape(cell.source)}</code></pre>')
        qid = cell.metadata.get("question")
        if qid in questions:
            parts.append(_answer_box(questions[qid], key["expected"]))
        elif qid in manual:
            parts.append(_rubric_box(manual[qid]))
    return HTML(f'<section class="exercise-solutions" data-exercise="{name}">'
                f"<h2>{html.escape(exercise.title)}</h2>{''.join(parts)}</section>")


def all_solutions() -> HTML:
    """Every exercise notebook's solutions, in the order of ``exercises/``."""
    return HTML("".join(solutions(p.stem).data for p in sorted(SOURCES.glob("*.md"))))


def write_edition(root: Path, out: Path) -> tuple[Path, Path]:
    """Write the instructor edition's ``_toc.yml`` and ``_config.yml`` into ``out``; return their paths.

    Both derive from the student edition's files, so a chapter added there appears here too.
    """
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    toc["parts"] = [p for p in toc["parts"] if p.get("caption") != GUIDE_PART["caption"]] + [GUIDE_PART]
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config["title"] += EDITION_TITLE_SUFFIX
    options = config["sphinx"]["config"].setdefault("html_theme_options", {})
    options["announcement"] = ANNOUNCEMENT
    out.mkdir(parents=True, exist_ok=True)
    toc_path, config_path = out / "_toc.yml", out / "_config.yml"
    toc_path.write_text("# generated by `brbook instructor-edition` from _toc.yml\n"
                        + yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    config_path.write_text("# generated by `brbook instructor-edition` from _config.yml\n"
                           + yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return toc_path, config_path
