"""The built student book: pages, excerpts, charts and self-checks as a reader receives them."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup

from brbook import data
from brbook.provenance import normalise

from .conftest import HTML

CHAPTERS = {"military": "book/military/index.html", "economy": "book/economy/index.html",
            "foreign-policy": "book/foreign-policy/index.html", "media": "book/media/index.html"}


def soup(path: str) -> BeautifulSoup:
    return BeautifulSoup((HTML / path).read_text(encoding="utf-8"), "html.parser")


def specs(page: BeautifulSoup) -> list[dict]:
    return [json.loads(s.string) for s in page.select("figure.brbook-chart script.vega-spec")]


def bound_params(spec: dict) -> list[dict]:
    found = list(spec.get("params") or [])
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for sub in spec.get(key) or []:
            found += sub.get("params") or []
    return [p for p in found if p.get("bind")]


def test_landing_page_says_who_the_book_is_for(built_html):
    page = soup("book/intro.html")
    assert page.h1 and "Belarus and Russia" in page.h1.get_text()
    text = " ".join(page.get_text(" ").split())
    assert "Students" in text and "Instructors" in text and "make lab" in text


def test_sources_chapter_names_all_five_sources(built_html):
    page = soup("book/sources.html")
    text = normalise(page.get_text(" "))
    for title in data.sources()["title"]:
        assert normalise(title) in text
    cards = page.select("dl.source-card")
    assert {c["data-source"] for c in cards} == set(data.sources()["source_id"])


def test_sources_chapter_lists_the_recorded_slips(built_html):
    text = normalise(soup("book/sources.html").get_text(" "))
    notes = data.source_notes()
    assert len(notes) > 10
    for note in notes["note"].head(5):
        assert normalise(note)[:40] in text


def test_bibliography_page_anchors_every_source(built_html):
    page = soup("book/reference/bibliography.html")
    for source_id in data.sources()["source_id"]:
        assert page.find(id=f"source-{source_id}"), source_id
    assert page.select(".bibliography, div.citation, dl.citation, [role='list']")


def test_data_dictionary_lists_every_column(built_html):
    text = soup("book/reference/data-dictionary.html").get_text(" ")
    for column in ("fact_id", "excerpt_id", "date_basis", "first_source_id", "conversion", "variants"):
        assert column in text


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_excerpts_are_known_and_verbatim(built_html, chapter):
    page = soup(CHAPTERS[chapter])
    blocks = page.select("blockquote.excerpt")
    assert len(blocks) >= 8
    excerpts = data.excerpts().set_index("excerpt_id")
    known = set(data.sources()["source_id"])
    for block in blocks:
        assert block["data-source"] in known
        row = excerpts.loc[block["data-excerpt"]]
        assert row["source_id"] == block["data-source"]
        shown = normalise(" ".join(p.get_text(" ") for p in block.find_all("p", recursive=False)))
        assert shown == normalise(row["text"])
        assert block.select_one("a.excerpt-cite")["href"].startswith("../reference/bibliography.html#source-")
    assert len({b["data-source"] for b in blocks}) >= 3


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_two_charts_bound_to_controls(built_html, chapter):
    page = soup(CHAPTERS[chapter])
    charts = [s for s in specs(page) if bound_params(s)]
    assert len(charts) >= 2
    for spec in charts:
        assert spec.get("title") and spec.get("description")
    for figure in page.select("figure.brbook-chart"):
        assert figure.select_one(".chart-source").get_text().startswith("Source:")
        assert figure.select_one(".chart-description").get_text().strip()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_self_checks_hide_their_answers(built_html, chapter):
    page = soup(CHAPTERS[chapter])
    boxes = page.select("div.self-check")
    assert len(boxes) >= 6
    for box in boxes:
        assert re.fullmatch(r"[0-9a-f]{64}", box["data-answer"])
        assert "data-correct" not in str(box)
        assert box.get("aria-labelledby") and box.select_one("button.self-check-submit")
        for option in box.select("input[type=radio]"):
            assert page.find("label", attrs={"for": option["id"]})
            assert not re.search(r"\b(Yes|No)\b", option.get("data-feedback", ""))
        explanation = box.select_one(".self-check-explanation")
        if explanation is not None:
            assert explanation.get_text() == "" and explanation.has_attr("data-masked")


def test_number_self_check_answer_is_not_in_its_box(built_html):
    page = soup(CHAPTERS["military"])
    answer = str(int(data.fact_value("paper2016-f901") - data.fact_value("paper2016-f902")))
    numeric = [b for b in page.select("div.self-check") if b["data-kind"] == "number"]
    assert numeric
    for box in numeric:
        assert answer not in box.get_text(" ") and f'"{answer}"' not in str(box)


def test_widget_explorer_shows_a_labelled_snapshot(built_html):
    page = soup(CHAPTERS["military"])
    snapshot = page.select_one("section.widget-snapshot")
    assert snapshot and "JupyterLab" in snapshot.get_text()
    assert not page.select('script[type="application/vnd.jupyter.widget-view+json"]')


@pytest.mark.parametrize("chapter, fact_ids", [
    ("military", ("paper2016-f901", "paper2016-f902", "paper2016-f903")),
    ("economy", ("paper2016-f801", "paper2016-f849", "paper2016-f845", "study2019-f801")),
    ("media", ("paper2016-f811", "paper2016-f856", "paper2016-f857", "paper2016-f860")),
    ("foreign-policy", ("news2016_18-f133", "news2016_18-f052", "paper2016-f901", "paper2016-f902")),
])
def test_numbers_in_prose_come_from_the_data(built_html, chapter, fact_ids):
    text = soup(CHAPTERS[chapter]).get_text(" ")
    for fact_id in fact_ids:
        assert f"{data.fact_value(fact_id):,}" in text


def test_no_page_loads_from_another_host(built_html):
    pattern = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=["'](https?:)?//""", re.I)
    offenders = {str(p.relative_to(HTML)): pattern.findall(p.read_text(encoding="utf-8"))
                 for p in HTML.rglob("*.html")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_vendored_libraries_are_served_by_the_site(built_html):
    for path in ("vendor/vega/vega.min.js", "vendor/vega-lite/vega-lite.min.js",
                 "vendor/vega-embed/vega-embed.min.js", "vendor/js-sha256/sha256.min.js"):
        assert (HTML / path).stat().st_size > 1000
    assert not list((HTML / "_static").rglob("vega*.js")), "vendored files must stay out of _static"


def test_foreign_policy_chapter_has_an_actors_view_of_quoted_speakers(built_html):
    page = soup(CHAPTERS["foreign-policy"])
    actors = [s for s in specs(page) if "Who the sources quote" in str(s.get("title"))]
    assert len(actors) == 1 and bound_params(actors[0])
    rows = next(iter(actors[0]["datasets"].values()))
    named = {r["actor"] for r in rows}
    assert "Alyaksandr Lukashenka" in named and "Iryna Herashchenko" in named
    assert not any(a.startswith(("authors of", "author of")) for a in named)


def test_timeline_spec_holds_every_event_with_bound_filters(built_html):
    page = soup("book/timeline/index.html")
    timeline = next(s for s in specs(page) if "vconcat" in s)
    rows = next(iter(timeline["datasets"].values()))
    assert sorted(r["event_id"] for r in rows) == sorted(data.events()["event_id"])
    names = {p["name"] for p in bound_params(timeline)}
    assert {"dimension_choice", "source_choice"} <= names
    every_param = timeline.get("params", []) + [p for sub in timeline["vconcat"] for p in sub.get("params", [])]
    assert any(isinstance(p.get("select"), dict) and p["select"].get("type") == "interval" for p in every_param)
    partial = [r for r in rows if r["dating"] == "Day and month stated, year inferred"]
    assert partial and all(r["when"] for r in partial)
    year_only = next(r for r in rows if r["date_precision"] == "year")
    assert re.fullmatch(r"\d{4}", year_only["when"]), "a year-only date must not be shown as a day"


def test_comparison_page_lists_three_or_more_sources_for_a_topic(built_html):
    page = soup("book/compare/index.html")
    view = page.select_one("div.topic-comparison")
    panel = view.select_one('section.compare-panel[data-topic="neutrality"]')
    speaking = [c["data-source"] for c in panel.select("div.compare-column") if c.select("li.excerpt-item")]
    assert len(speaking) >= 3
    order = list(data.sources()["source_id"])
    assert speaking == sorted(speaking, key=order.index)
    excerpts = data.excerpts().set_index("excerpt_id")
    for item in panel.select("li.excerpt-item"):
        assert "neutrality" in excerpts.loc[item["data-excerpt"], "topics"].split("|")
        assert normalise(item.q.get_text()) == normalise(excerpts.loc[item["data-excerpt"], "text"])


def test_glossary_page_has_every_term_and_variant(built_html):
    text = soup("book/reference/glossary.html").get_text(" ")
    for row in data.glossary().itertuples():
        assert row.term in text, row.term
        for variant in row.variant_list:
            assert variant in text, (row.term, variant)


def test_search_for_a_variant_finds_the_glossary(built_html):
    index = (HTML / "searchindex.js").read_text(encoding="utf-8")
    found = json.loads(index[index.index("(") + 1: index.rindex(")")])
    glossary = found["docnames"].index("book/reference/glossary")
    hits = found["terms"]["lukashenko"]
    assert glossary == hits or (isinstance(hits, list) and glossary in hits)


def test_name_index_lists_the_excerpts_naming_each_person(built_html):
    from brbook import reference

    page = soup("book/reference/names.html")
    expected = reference.mentions()
    for term in ("Alyaksandr Lukashenka", "Uladzimir Makei"):
        entry = page.find(id="name-" + re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-"))
        shown = [li["data-excerpt"] for li in entry.select("li.excerpt-item")]
        assert shown == expected[term][1] and len(shown) > 5


def test_synthesis_chapter_teaches_six_disagreements_from_two_sources_each(built_html):
    page = soup("book/synthesis/index.html")
    sections = page.select("section.disagreement")
    assert len(sections) >= 6
    excerpts = data.excerpts().set_index("excerpt_id")
    for section in sections:
        blocks = section.select("blockquote.excerpt")
        assert len({b["data-source"] for b in blocks}) >= 2, section["data-disagreement"]
        for block in blocks:
            shown = normalise(" ".join(p.get_text(" ") for p in block.find_all("p", recursive=False)))
            assert shown == normalise(excerpts.loc[block["data-excerpt"], "text"])
        assert section.select_one("div.self-check")
    ids = [b["id"] for b in page.select("[id]")]
    assert len(ids) == len(set(ids)), "an excerpt shown twice must not repeat an HTML id"


INSTRUCTOR_ONLY = ("Lesson plan", "lesson plan", "Instructor guide", "# SOLUTION", "Accepted answer",
                   "solution-answer", "instructor-guide", "Instructor edition: it contains")


def test_student_edition_holds_no_instructor_material(built_html):
    assert not (HTML / "book" / "instructor").exists()
    assert not list(HTML.rglob("*instructor*"))
    for path in HTML.rglob("*"):
        if path.suffix in (".html", ".js", ".ipynb", ".json", ".txt") and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            leaked = [marker for marker in INSTRUCTOR_ONLY if marker in text]
            assert not leaked, f"{path.relative_to(HTML)} contains {leaked}"
