"""The instructor guide (issue 22): rubrics held to their questions, and the second edition's pages.

The rubric tests read the written questions from ``exercises/*.md`` and the guide's own rubric
summaries from ``book/instructor/*.md``; the page tests read the built instructor edition
(``make instructor`` writes ``_build/instructor/html``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from brbook import data
from brbook.exercises import SOURCES
from brbook.handouts import OPEN_PROMPT, sources_named

from .conftest import ROOT, exercise_source

GUIDE = ROOT / "book" / "instructor"
INSTRUCTOR = ROOT / "_build" / "instructor" / "html"
KEY = ROOT / "_build" / "exercises" / "key"
SEEDS = Path("/work/shared/seeds")
CHAPTERS = ("military", "economy", "foreign-policy", "media", "timeline", "synthesis")
EXERCISES = sorted(p.stem for p in SOURCES.glob("*.md"))


def written_questions():
    for name in EXERCISES:
        for question in exercise_source(SOURCES / f"{name}.md").manual:
            yield name, question


def asked(prompt: str) -> set[str] | None:
    """The sources a prompt asks about, or None when it leaves the choice to the student."""
    return None if OPEN_PROMPT.search(" ".join(prompt.split())) else sources_named(prompt)


# -- rubrics ---------------------------------------------------------------------------------------


def test_sources_named_recognises_the_books_names():
    assert sources_named("the 2016 paper and the\n2022 brief") == {"paper2016", "brief2022"}
    assert sources_named("news2016_18-x605 and the study") == {"news2016_18", "study2019"}
    assert sources_named("the acknowledgement of Crimea") == set()


KNOWN: dict[tuple[str, str], str] = {}
"""Rubrics known to name a source their question does not ask about (none today)."""


def _written_params():
    for name, question in written_questions():
        reason = KNOWN.get((name, question.qid))
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        yield pytest.param(name, question, marks=marks, id=f"{name}-{question.qid}")


@pytest.mark.parametrize("name,question", list(_written_params()))
def test_every_exercise_rubric_names_only_the_sources_its_question_asks_about(name, question):
    rubric = " ".join(r["criterion"] for r in question.rubric)
    named = sources_named(rubric)
    wanted = asked(question.prompt)
    assert named, f"{name} {question.qid}: the rubric names no source"
    if wanted is None:
        return
    assert named <= wanted, f"{name} {question.qid}: rubric credits {sorted(named - wanted)}, not asked about"
    assert wanted <= named, f"{name} {question.qid}: the question asks about {sorted(wanted - named)}, no credit"


def guide_rubrics() -> list[tuple[str, str, str]]:
    """(chapter, question number, text) for each question in the guide's **Rubrics** paragraphs."""
    out = []
    for chapter in CHAPTERS:
        text = (GUIDE / f"{chapter}.md").read_text(encoding="utf-8")
        for paragraph in re.findall(r"^\*\*Rubrics?\b.*?(?=\n\n|\Z)", text, re.M | re.S):
            parts = re.split(r"\bQuestion\s+(\d+):", paragraph)
            for number, body in zip(parts[1::2], parts[2::2], strict=False):
                # a trailing remark about another question ("Question 3 rests on…") is not its rubric
                body = re.split(r"\.\s+(?:The data questions|Question \d+ |The second half|After grading|Answers that)",
                                body)[0]
                out.append((chapter, number, body))
    return out


def test_the_guide_summarises_a_rubric_for_every_written_question():
    summarised = {(c, n) for c, n, _ in guide_rubrics()}
    for name, question in written_questions():
        assert (name, question.qid[1:]) in summarised, f"guide page {name}.md has no rubric for {question.qid}"


@pytest.mark.parametrize("chapter,number,text", guide_rubrics(), ids=lambda v: str(v)[:20])
def test_every_guide_rubric_names_only_the_sources_its_question_asks_about(chapter, number, text):
    questions = {q.qid: q for q in exercise_source(SOURCES / f"{chapter}.md").manual}
    question = questions.get(f"q{number}")
    assert question, f"the guide's {chapter} page gives a rubric for question {number}, which is not written"
    wanted = asked(question.prompt)
    named = sources_named(text)
    if wanted is not None:
        assert named <= wanted, f"{chapter} q{number}: guide rubric credits {sorted(named - wanted)}"
        assert wanted <= named, f"{chapter} q{number}: guide rubric gives no credit for {sorted(wanted - named)}"


def test_the_foreign_policy_rubric_dates_the_crimea_acknowledgement_as_the_book_does():
    text = (GUIDE / "foreign-policy.md").read_text(encoding="utf-8")
    assert "2022 acknowledgement" not in text
    event = data.events().set_index("event_id").loc["brief2022-e005"]
    assert event["date"].year == 2021
    assert "dates it to 2021" in " ".join(text.split())


def test_no_guide_page_calls_the_rough_thirds_a_slip():
    for chapter in CHAPTERS:
        text = " ".join((GUIDE / f"{chapter}.md").read_text(encoding="utf-8").split())
        assert "do not add up" not in text, chapter
        assert "2014/15 and 2015/16)" not in text, chapter


# -- what the guide quotes -------------------------------------------------------------------------

NEW_PAGES = ("difficult-topics", "source-background", "routes", "assessment", "online", "handouts", "model-answers")


def _norm(text: str) -> str:
    text = re.sub(r"^\s*>\s?", "", text, flags=re.M)  # block quotes (the sample answers)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"\\(.)", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # the seeds' markdown links
    text = re.sub(r"<sup>[^<]*</sup>|\*\*", "", text)  # footnote marks and bold
    return " ".join(text.split())


def test_every_quotation_on_the_new_pages_is_in_a_source():
    seeds = _norm(" ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))))
    for name in NEW_PAGES:
        text = _norm((GUIDE / f"{name}.md").read_text(encoding="utf-8"))
        for quote in re.findall(r'"([^"]*)"', text):
            if len(quote) < 12 or len(quote.split()) < 3 or quote.startswith(("Was Belarus", "What these")):
                continue
            assert quote.replace("…", "").strip(" .") in seeds or all(
                part.strip(" .") in seeds for part in quote.split("…") if part.strip(" .")), (name, quote)


def test_every_excerpt_id_on_the_new_pages_exists():
    ids = set(data.excerpts()["excerpt_id"]) | set(data.facts()["fact_id"]) | set(data.events()["event_id"])
    for name in NEW_PAGES:
        text = (GUIDE / f"{name}.md").read_text(encoding="utf-8")
        for found in re.findall(r"\b(?:article2014|paper2016|news2016_18|study2019|brief2022)-[xfe]\d+\b", text):
            assert found in ids, (name, found)


# -- the built instructor edition ------------------------------------------------------------------


@pytest.fixture(scope="module")
def edition() -> Path:
    if not (INSTRUCTOR / "book" / "instructor" / "index.html").exists():
        pytest.fail("_build/instructor/html is missing: run `make instructor`")
    return INSTRUCTOR


def page(name: str) -> BeautifulSoup:
    return BeautifulSoup((INSTRUCTOR / "book" / "instructor" / f"{name}.html").read_text(encoding="utf-8"),
                         "html.parser")


def text_of(name: str) -> str:
    return " ".join(page(name).select_one("main").get_text(" ").split())


def test_the_new_pages_are_built_and_in_the_guides_navigation(edition):
    nav = page("index").select_one("nav.bd-links").get_text(" ")
    for name, title in (("difficult-topics", "Teaching difficult topics"),
                        ("source-background", "The five sources: background for the instructor"),
                        ("routes", "Three routes through the book"), ("assessment", "Essays and a final project"),
                        ("online", "Teaching online"), ("handouts", "Printable handouts"),
                        ("model-answers", "Model answers to the discussion prompts")):
        assert (edition / "book" / "instructor" / f"{name}.html").exists(), name
        assert title in page(name).h1.get_text(), name
        assert title in nav, name


def test_difficult_topics_page(edition):
    text = text_of("difficult-topics")
    for phrase in ("10 February 2022", "personal stake", "No public positions", "recording", "propaganda",
                   "Who is speaking?", "do not cover", "your own reading"):
        assert phrase in text, phrase


def test_every_chapter_page_has_a_box_of_what_the_sources_cannot_tell(edition):
    for chapter in CHAPTERS:
        box = page(chapter).select_one("div.sources-cannot-tell")
        assert box, chapter
        text = box.get_text(" ")
        assert "What these sources cannot tell you" in text and "?" in text, chapter
        assert "10 February 2022" in text or "February 2022" in text, chapter


def test_source_background_covers_each_source(edition):
    text = text_of("source-background")
    for phrase in ("Ryhor Astapenia", "Ostrogorski Centre", "Belarus Digest", "Mott Foundation", "GCRF COMPASS",
                   "Office of Sviatlana Tsikhanouskaya", "names none of them", "Yauheni Preiherman", "Arkady Moshes",
                   "official Belarusian or Russian", "10 February 2022"):
        assert phrase in text, phrase


def test_routes_and_levels(edition):
    text = text_of("routes")
    for phrase in ("No code", "Data", "Seminar", "make lab", "student bundle", "pandas", "first-year",
                   "upper-level", "graduate"):
        assert phrase.lower() in text.lower(), phrase
    levels = page("routes").select_one("#level-variants table") or page("routes").select("table")[-1]
    assert len(levels.select("tbody tr")) == 6
    week = text_of("index")
    assert "no-code route" in week and "data route" in week and "seminar route" in week


def test_assessment_has_essays_levels_samples_and_a_final_project(edition):
    text = text_of("assessment")
    assert "Was Belarus neutral, 2014–2022?" in text
    for chapter in ("military", "economy", "foreign-policy", "media"):
        assert page("assessment").select_one(f'[id^="essay-{chapter}"]'), chapter
    for phrase in ("Excellent", "Good", "Adequate", "Weak", "sample strong answer", "sample weak answer",
                   "final project", "sixth source"):
        assert phrase.lower() in text.lower(), phrase


def test_online_versions_of_every_debate(edition):
    text = text_of("online")
    for chapter in CHAPTERS:
        assert page("online").select_one(f'[id^="online-{chapter}"]'), chapter
    assert "forum" in text and "day" in text.lower()


def test_handouts_hold_every_graded_question_and_its_accepted_answer(edition):
    handouts = page("handouts")
    for name in EXERCISES:
        key = json.loads((KEY / f"{name}.json").read_text(encoding="utf-8"))
        sheet = handouts.select_one(f'section.handout-graded[data-exercise="{name}"]')
        answers = handouts.select_one(f'section.handout-key[data-exercise="{name}"]')
        assert sheet and answers, name
        exercise = exercise_source(SOURCES / f"{name}.md")
        shown = {div["data-question"] for div in sheet.select("div.handout-question")}
        assert shown == {q.qid for q in exercise.questions} | {m.qid for m in exercise.manual}, name
        key_text = answers.get_text(" ")
        assert "SOLUTION" not in sheet.get_text(" ")
        for q in key["questions"]:
            for variable in q["answers"]:
                assert json.dumps(key["expected"][variable], ensure_ascii=False) in key_text, (name, q["id"])
        assert len(answers.select("div.handout-rubric")) == len(exercise.manual)
    for chapter in CHAPTERS:
        lesson = handouts.select_one(f'section.handout-lesson[data-chapter="{chapter}"]')
        assert lesson and lesson.select_one(".handout-debate") and lesson.select_one(".handout-prompts"), chapter
        assert "What the jury should notice" not in lesson.get_text(" "), chapter
        assert "Guidance" not in lesson.get_text(" "), chapter


def test_handouts_print_one_per_sheet():
    css = (ROOT / "book" / "_static" / "brbook.css").read_text(encoding="utf-8")
    media = css[css.index("@media print"):]
    assert ".handout" in media and "break-before" in media and "break-inside: avoid" in media
    assert ".bd-sidebar-primary" in media
