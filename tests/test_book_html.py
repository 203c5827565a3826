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
            "media": "book/media/index.html"}


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
        row = excerpts.loc[block["id"]]
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
