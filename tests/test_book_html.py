"""The built student book: pages, excerpts, charts and self-checks as a reader receives them."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup

from brbook import data
from brbook.provenance import normalise

from .conftest import HTML, vega_lite_specs

CHAPTERS = {"military": "book/military/index.html", "economy": "book/economy/index.html",
            "foreign-policy": "book/foreign-policy/index.html", "media": "book/media/index.html"}


def soup(path: str) -> BeautifulSoup:
    page = BeautifulSoup((HTML / path).read_text(encoding="utf-8"), "html.parser")
    page.brbook_path = path  # for specs()
    return page


def specs(page: BeautifulSoup) -> list[dict]:
    """The page's charts as the Vega-Lite specs the book wrote (compiled to Vega in the page)."""
    return vega_lite_specs(page.brbook_path)


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


def test_each_chapter_carries_an_in_page_explorer_of_its_own_rows(built_html):
    for chapter, path in CHAPTERS.items():
        dimension = chapter.replace("-", "_")
        page = soup(path)
        explorer = page.select_one('section.brbook-explorer[data-explorer="excerpts"]')
        assert explorer and "JupyterLab" not in explorer.get_text() and "make lab" not in explorer.get_text()
        rows = json.loads(explorer.select_one("script.explorer-data").string)["rows"]
        assert [r["i"] for r in rows] == list(data.excerpts(dimension=dimension)["excerpt_id"])
        assert page.select_one('script[src$="_static/explorer.js"]')
        assert not page.select('script[type="application/vnd.jupyter.widget-view+json"]')
    assert not soup("book/timeline/index.html").select('script[src$="_static/explorer.js"]'), (
        "a page without an explorer loads no explorer script")


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
    assert "Alyaksandr Lukashenka" in named and "Vladimir Lepekhin" in named
    assert not any(a.startswith(("authors of", "author of")) for a in named)
    # an undated statement of the series sits at its own article's date, not at the series' first year
    published = data.excerpts().set_index("excerpt_id")["published"]
    undated = [r for r in rows if not r["dated"] and r["excerpt_id"].startswith("news2016_18")]
    assert undated and all(r["when"] == f"not dated (text of {published[r['excerpt_id']]})" for r in undated)
    assert {published[r["excerpt_id"]][:4] for r in undated} - {"2016"}


def test_timeline_spec_holds_every_event_with_bound_filters(built_html):
    page = soup("book/timeline/index.html")
    timeline = next(s for s in specs(page) if "dimension_choice" in json.dumps(s))
    rows = next(iter(timeline["datasets"].values()))
    assert sorted(r["event_id"] for r in rows) == sorted(data.events()["event_id"])
    names = {p["name"] for p in bound_params(timeline)}
    # dropdowns, and two sliders for the period shown (a brush cannot be dragged by touch)
    assert {"dimension_choice", "source_choice", "from_year", "to_year"} <= names
    partial = [r for r in rows if r["dating"] == "Day and month stated, year inferred"]
    assert partial and all(r["when"] for r in partial)
    year_only = next(r for r in rows if r["date_precision"] == "year")
    assert re.fullmatch(r"\d{4}", year_only["when"]), "a year-only date must not be shown as a day"


def test_comparison_page_lists_three_or_more_sources_for_a_topic(built_html):
    page = soup("book/compare/index.html")
    panel = page.select_one('section.brbook-compare[data-topic="neutrality"]')
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


SOURCE_QUESTIONS = ("Who wrote it", "For whom", "When", "Who paid", "What they want", "What they could not know")


def test_every_source_card_answers_the_same_six_questions(built_html):
    page = soup("book/sources.html")
    for card in page.select("dl.source-card"):
        section = card.find_parent("section")
        asked = [dt.get_text(" ", strip=True) for dl in section.find_all("dl") for dt in dl.find_all("dt")]
        missing = [q for q in SOURCE_QUESTIONS if q not in asked]
        assert not missing, (card["data-source"], missing)


def test_who_wrote_chart_names_every_source_and_the_links_between_them(built_html):
    page = soup("book/sources.html")
    chart = next(s for s in specs(page) if "Who wrote" in str(s.get("title")))
    assert {p["name"] for p in bound_params(chart)} == {"role_choice", "shared_only"}
    rows = next(iter(chart["datasets"].values()))
    assert {r["source_id"] for r in rows} == set(data.sources()["source_id"])
    by_name: dict[str, set[str]] = {}
    for row in rows:
        by_name.setdefault(row["name"], set()).add(row["source_id"])
    astapenia = next(v for k, v in by_name.items() if "Astapenia" in k)
    assert {"article2014", "paper2016"} <= astapenia, "the shared author of two sources"
    assert any(len(v) >= 2 and "Astapenia" not in k for k, v in by_name.items()), "an informant or analyst in two"
    assert all(r["n_sources"] == len(by_name[r["name"]]) for r in rows)


@pytest.mark.parametrize("path, words", [
    ("book/sources.html", ("exiled", "full-scale invasion", "weeks before")),
    ("book/economy/index.html", ("in debt to Russia", "debt to Russia", "came into force in 2015")),
    # no definite academic year for the cadets (only the source notes may weigh the possible years)
    ("book/military/index.html", ("2013/14", "2014/15", "2015/16", "2013/2014", "2014/2015", "2015/2016")),
])
def test_pages_carry_no_word_the_sources_do_not_give(built_html, path, words):
    # the raw page, so that chart specs, data tables and tooltips are checked with the prose
    text = " ".join((HTML / path).read_text(encoding="utf-8").split())
    assert not [w for w in words if w in text]


@pytest.mark.parametrize("path", ["book/sources.html", CHAPTERS["military"], CHAPTERS["economy"],
                                  CHAPTERS["foreign-policy"], CHAPTERS["media"], "book/timeline/index.html"])
def test_pages_say_what_the_sources_cannot_tell(built_html, path):
    page = soup(path)
    boxes = [a for a in page.select("div.admonition") if "What these sources cannot tell you" in a.get_text()]
    assert len(boxes) == 1
    assert "10 February 2022" in boxes[0].get_text(" ") and len(boxes[0].select("li")) >= 3
    assert all(" ".join(li.get_text(" ").split()).endswith("?") for li in boxes[0].select("li")), "questions only"


def prose(path: str) -> str:
    """A page's running text, without its excerpts, charts and self-checks (what the book itself says)."""
    page = soup(path)
    for node in page.select("blockquote.excerpt, figure.brbook-chart, div.self-check, div.cell_output table"):
        node.decompose()
    return " ".join(page.get_text(" ").split())


@pytest.mark.parametrize("path", [CHAPTERS["foreign-policy"], CHAPTERS["media"], "book/timeline/index.html"])
def test_what_the_sources_cannot_tell_is_asked_not_answered(built_html, path):
    box = next(a for a in soup(path).select("div.admonition.sources-limits"))
    questions = [" ".join(li.get_text(" ").split()) for li in box.select("li")]
    assert questions and all(q.endswith("?") for q in questions)


def test_foreign_policy_crimea_section_shows_the_illegal_aggression_remark(built_html):
    page = soup(CHAPTERS["foreign-policy"])
    heading = next(h for h in page.select("h2") if "Crimea" in h.get_text())
    section = heading.find_parent("section")
    shown = [b["data-excerpt"] for b in section.select("blockquote.excerpt")]
    assert "paper2016-x054" in shown and shown.index("paper2016-x054") < shown.index("brief2022-x810")
    text = " ".join(section.get_text(" ").split())
    assert "an illegal aggression" in text and "gives no date and no footnote" in text


def test_foreign_policy_prose_keeps_authors_and_speakers_apart(built_html):
    text = prose(CHAPTERS["foreign-policy"])
    # the December 2016 digest's author claims to know what diplomats think; no diplomat is quoted
    assert "diplomats' view" not in text and "the digest quotes no diplomat" in text
    # "gambles ... only when he perceived weakness" is the 2019 study's sentence about Putin
    assert "President Putin has made a number of foreign policy gambles" in text
    assert not re.search(r"Lukashenka[^.]{0,40}gambles", text)
    assert "a diplomatic hub" not in text.replace("would-be diplomatic hub", "").replace(
        "Minsk as a diplomatic hub", "")


def test_stockholm_embassy_is_re_opened_not_opened(built_html):
    for path in ("book/timeline/index.html", CHAPTERS["foreign-policy"]):
        text = prose(path)
        assert "re-opened its embassy" in text or "re-opening of the embassy in Stockholm" in text
        assert not re.search(r"opened embassies in Stockholm", text)


def test_media_chapter_does_not_date_russian_media_attacks_from_2018(built_html):
    page = soup(CHAPTERS["media"])
    assert "paper2016-x502" in [b["data-excerpt"] for b in page.select("blockquote.excerpt")]
    text = prose(CHAPTERS["media"])
    assert not re.search(r"(information war|attacks?)[^.]{0,30}from 2018", text)
    assert "REN TV and Lenta.ru" in text and "6 August 2016" in text


def test_media_polls_are_dated_by_the_papers_footnotes(built_html):
    text = prose(CHAPTERS["media"])
    assert "March 2015" in text and "December 2014" in text
    assert "In 2016 the paper reported that the share" not in text


def test_timeline_and_comparison_do_not_put_the_series_before_the_paper(built_html):
    timeline = prose("book/timeline/index.html")
    assert "later than the August 2016 paper" in timeline or "later than that" in timeline
    compare = prose("book/compare/index.html")
    assert "oldest source on the left" not in compare and "not strictly oldest to newest" in compare



def test_compare_page_dates_the_series_by_its_span_not_its_first_year(built_html):
    metas = {p.get_text() for p in soup("book/compare/index.html").select(".compare-meta")}
    assert any(m.startswith("series of news analyses, 2016–2018:") for m in metas), metas
    assert not any(m.startswith("series of news analyses, 2016-02") for m in metas)


def test_the_data_page_serves_every_table_as_the_very_csv_the_book_was_built_from(built_html):
    page = soup("book/reference/data.html")
    links = {a["href"].rsplit("/", 1)[-1]: a["href"] for a in page.select("a.download[href$='.csv']")}
    tables = sorted(p.name for p in data.data_dir().glob("*.csv"))
    assert sorted(links) == tables
    for name, href in links.items():
        served = (HTML / "book/reference" / href).resolve()
        assert served.read_bytes() == (data.data_dir() / name).read_bytes(), name
    text = page.get_text(" ")
    rows = len(data.excerpts())
    assert f"{rows:,}" in text, "the table of downloads gives each table's row count"
    for source_id in data.sources()["source_id"]:
        assert data.cite(source_id) in text, f"the data page cites {source_id}"
    assert "@misc{" in text, "the data page gives the BibTeX entry for citing the dataset"
