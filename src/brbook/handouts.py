"""Printable handouts for the instructor edition, generated so they stay in step with their sources.

Two kinds, both rendered as HTML blocks that print one handout per sheet (see the ``@media print``
rules in ``book/_static/brbook.css``):

- the *graded-question handout* of an exercise notebook, for the no-code route: every question's
  prompt as ``exercises/NAME.md`` holds it, answered on paper, followed by an *answer key* for the
  instructor (accepted answers from the built key ``_build/exercises/key/NAME.json``, rubrics and
  full answers of the written questions);
- the *lesson handout* of a chapter: the debate roles with their evidence and the discussion prompts,
  read from the guide's own page ``book/instructor/CHAPTER.md``, so that editing the guide edits the
  handout.

``sources_named`` says which of the five sources a piece of prose names; the instructor-guide test
uses it to hold every rubric to the sources its question asks about.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from IPython.display import HTML

from brbook import layout
from brbook.exercises import INSTRUCTOR_TAGS, SOURCES, load

KEY_DIR = layout.ROOT / "_build" / "exercises" / "key"
GUIDE_DIR = layout.ROOT / "book" / "instructor"

SOURCE_PATTERNS = {
    "article2014": r"article2014|2014 article|article of 2014|\bthe article\b|\bthe 2014 (?:judgement|claim|text)",
    "paper2016": r"paper2016|2016 paper|\bthe paper\b",
    "news2016_18": r"news2016_18|news analys[ie]s|news series|news articles|\bthe digest\b",
    "study2019": r"study2019|2019 study|\bthe study\b",
    "brief2022": r"brief2022|2022 brief|\bthe brief\b",
}
"""How the book names each source in prose: its id, its short name, or (inside one question) its kind."""

OPEN_PROMPT = re.compile(r"\b(the sources|the five sources|two sources|one disagreement|"
                         r"later passage|every source)\b", re.I)
"""Wording by which a question leaves the choice of sources to the student."""


def sources_named(text: str) -> set[str]:
    """The source ids a piece of prose names (by id, short name, or the kind of text)."""
    flat = " ".join(text.split())
    return {source for source, pattern in SOURCE_PATTERNS.items() if re.search(pattern, flat, re.I)}


def _markdown(text: str) -> str:
    """Markdown to HTML with headings kept small (a handout has its own title)."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    body = re.sub(r"<h[1-3]>(.*?)</h[1-3]>", r"<h4>\1</h4>", body)
    return body


def _prompt(text: str) -> str:
    """A notebook prompt for paper: drop the instruction to store or write in a notebook cell."""
    text = re.sub(r"\s*Write your answer in the Markdown cell below( this one)?\.", "", text)
    text = re.sub(r"Store (it|the letter|them|the list|your answer)[^.]*in `[^`]+`\.?",
                  "Write your answer below.", text)
    return _markdown(text)


def _load_key(name: str) -> dict:
    key_file = KEY_DIR / f"{name}.json"
    if not key_file.exists():
        raise FileNotFoundError(f"no answer key {key_file}: run `make exercises` first")
    return json.loads(key_file.read_text(encoding="utf-8"))


def graded_handout(name: str) -> HTML:
    """The graded questions of one exercise on paper, then the instructor's answer key.

    Question prompts come from ``exercises/NAME.md`` and accepted answers from the built key, so the
    handout and the gradebook cannot disagree.
    """
    exercise = load(SOURCES / f"{name}.md")
    key = _load_key(name)
    expected = key["expected"]
    points = {q.qid: (q.points, "") for q in exercise.questions}
    points.update({m.qid: (m.points, ", written") for m in exercise.manual})
    blocks = []
    for cell in exercise.notebook.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown" and not tags & INSTRUCTOR_TAGS:
            blocks.append(f'<div class="handout-text">{_prompt(cell.source)}</div>')
        qid = cell.metadata.get("question")
        if cell.cell_type == "code" and qid in points:
            value, written = points[qid]
            long = " handout-answer-long" if written else ""
            blocks.append(f'<div class="handout-question" data-question="{qid}"><p class="handout-points">Answer to '
                          f"{qid} ({value:g} point{'s' if value != 1 else ''}{written})</p>"
                          f'<div class="handout-answer-space{long}"></div></div>')
    sheet = (f'<section class="handout handout-graded" data-exercise="{name}"><h3>{html.escape(exercise.title)}: '
             f"graded questions on paper</h3><p class=\"handout-instructions\">Answer on this sheet, in the box after "
             f"each question. Where a question asks for a letter, write the letter; where it names a variable, "
             f"write the value. The excerpt ids point to the passages in the chapter and on the topic comparison "
             f"page.</p>{''.join(blocks)}</section>")
    rows = []
    for q in exercise.questions:
        answer = "; ".join(f"{html.escape(v)} = {html.escape(json.dumps(expected.get(v), ensure_ascii=False))}"
                           for v in q.answers)
        tol = q.checker.to_dict().get("tolerance") or 0
        tol_text = f" (± {tol:g})" if tol else ""
        evidence = ", ".join(q.evidence)
        rows.append(f"<tr><td>{q.qid}</td><td>{q.points:g}</td><td>{html.escape(q.kind)}</td>"
                    f"<td><code>{answer}</code>{tol_text}</td><td>{html.escape(evidence)}</td></tr>")
    manual = []
    for m in exercise.manual:
        crit = "".join(f"<tr><td>{html.escape(r['criterion'])}</td><td>{r['points']:g}</td></tr>"
                       for r in m.rubric)
        manual.append(f'<div class="handout-rubric" data-question="{m.qid}">'
                      f"<h4>{m.qid}: rubric ({m.points:g} points)</h4>"
                      '<table class="rubric"><thead><tr><th>Criterion</th><th>Points</th></tr></thead>'
                      f"<tbody>{crit}</tbody></table>"
                      f"<p><strong>A full answer</strong>: {html.escape(m.full_answer)}</p></div>")
    answer_key = (f'<section class="handout handout-key" data-exercise="{name}"><h3>{html.escape(exercise.title)}: '
                  f"answer key (instructor only)</h3><table class=\"handout-key-table\"><thead><tr><th>question</th>"
                  "<th>points</th><th>kind</th><th>accepted answer</th><th>evidence</th></tr></thead>"
                  f"<tbody>{''.join(rows)}</tbody></table>{''.join(manual)}</section>")
    return HTML(sheet + answer_key)


def _section(text: str, heading_start: str) -> str:
    """The body of the first ``## `` section whose heading starts with ``heading_start``."""
    match = re.search(rf"^## {re.escape(heading_start)}[^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match[1].strip() if match else ""


def lesson_handout(chapter: str) -> HTML:
    """A chapter's class handout: the debate, its roles and evidence, and the discussion prompts.

    Read from the guide's page for the chapter, so the handout says what the guide says.
    """
    text = (GUIDE_DIR / f"{chapter}.md").read_text(encoding="utf-8")
    title = re.search(r"^# Teaching the (.*)$", text, re.M)
    title = title[1] if title else chapter
    prompts = re.sub(r"\s*\(Guidance:[^)]*\)", "", _section(text, "Discussion prompts"))  # notes for the instructor
    prompts = re.sub(r"\{ref\}`([^`]+)`", lambda m: m[1].replace("-", " "), prompts)
    parts = [f'<section class="handout handout-lesson" data-chapter="{chapter}"><h3>Class handout: the '
             f"{html.escape(title)}</h3>"]
    for match in re.finditer(r"^## (Source-criticism debate[^\n]*)\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        # The jury's notes are for the instructor: the handout stops before them.
        body = re.split(r"\n\*\*What the jury should notice", match[2].strip())[0]
        body = re.sub(r"\{ref\}`([^`]+)`", lambda m: m[1].replace("-", " "), body)
        head = re.sub(r"^Source-criticism debate( \d+)?", lambda m: "Debate" + (m[1] or ""), match[1])
        parts.append(f'<div class="handout-debate"><h4>{html.escape(head)}</h4>{_markdown(body)}</div>')
    if prompts:
        parts.append(f'<div class="handout-prompts"><h4>Questions for discussion</h4>{_markdown(prompts)}</div>')
    parts.append('<p class="handout-instructions">For every excerpt ask: who is speaking? when? for whom, '
                 "and why? about what exactly? on what evidence?</p></section>")
    return HTML("".join(parts))


CHAPTERS = ("military", "economy", "foreign-policy", "media", "timeline", "synthesis")
EXERCISES = ("military", "economy", "foreign-policy", "media", "synthesis")


def all_lesson_handouts() -> HTML:
    return HTML("".join(lesson_handout(c).data for c in CHAPTERS))


def all_graded_handouts() -> HTML:
    return HTML("".join(graded_handout(e).data for e in EXERCISES if (SOURCES / f"{e}.md").exists()))


def guide_path(chapter: str) -> Path:
    return GUIDE_DIR / f"{chapter}.md"
