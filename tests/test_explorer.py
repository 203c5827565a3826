"""The in-page explorers of the built book (brbook.explorer + _static/explorer.js) in Chromium.

Each filter is applied as a reader would, and what the page shows (the count and every excerpt, after
"Show more") is compared with the rows of ``data/excerpts.csv`` selected here with pandas.

The tests share each page's laptop and phone visits with the other browser tests (conftest.site_page and
phone_page): the first reads the explorer as the page loaded it, and each later one starts from "Clear the
filters", as a reader starting over would (16 page loads fewer, about 40 s of the processors' time).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pandas as pd
import pytest
from playwright.sync_api import expect

from .conftest import DATA, axe_violations

pytestmark = pytest.mark.browser

CHAPTERS = {"military": "book/military/index.html", "economy": "book/economy/index.html",
            "foreign_policy": "book/foreign-policy/index.html", "media": "book/media/index.html"}
COMPARE = "book/compare/index.html"
PAGE = 10


def excerpts(dimension: str | None = None) -> pd.DataFrame:
    """``data/excerpts.csv`` as the explorer reads it: each row's year is when it was said, else published."""
    table = pd.read_csv(DATA / "excerpts.csv", dtype=str, keep_default_na=False)
    if dimension:
        table = table[table["dimension"] == dimension]
    when = table["said_on"].where(table["said_on"] != "", table["published"])
    return table.assign(year=when.str[:4].astype(int))


def source_order() -> list[str]:
    """The sources in the order the book gives them (by the date of their latest item)."""
    from brbook import data

    return list(data.sources()["source_id"])


def assert_clean(log: dict) -> None:
    assert log["outside"] == [] and log["failed"] == [] and log["errors"] == [], log


@contextmanager
def visit(visits, path, dark=False):
    """The page's shared visit (``site_page`` or ``phone_page``); by the end of the test's turn it must have
    made no outside or failed request and logged no console error."""
    with visits(path, dark) as (page, log):
        yield page, log
        assert_clean(log)


def ready(page, selector: str, fresh: bool = False):
    """The explorer (or compare view) once its script has set it up; ``fresh``: as a reader starting over
    finds it, its filters cleared and its list back to the first page of matches."""
    root = page.locator(selector).first
    page.wait_for_function(f"document.querySelector('{selector}').dataset.ready === 'true'", timeout=10000)
    if fresh and selector == ".brbook-explorer":
        root.get_by_role("button", name="Clear the filters").click()
        page.wait_for_function("el => { const rows = JSON.parse(el.querySelector('script.explorer-data').textContent);"
                               " return el.dataset.matches === String(rows.rows.length)"
                               " && el.dataset.shown === String(Math.min(rows.page, rows.rows.length)); }",
                               arg=root.element_handle(), timeout=10000)
    return root


def shown_ids(root) -> list[str]:
    """Every excerpt the explorer lists, after pressing "Show more" until it is gone."""
    more = root.locator(".explorer-more")
    for _ in range(100):
        if not more.is_visible():
            break
        more.click()
    return root.locator(".explorer-list li.excerpt-item").evaluate_all(
        "items => items.map(li => li.dataset.excerpt)")


def count_text(root) -> str:
    return root.locator(".explorer-count").inner_text().strip()


def check(root, expected: pd.DataFrame, total: int) -> None:
    """The count says how many match out of the chapter's, and the list holds exactly those, in file order."""
    n = len(expected)
    # the count is the live region: wait for it to follow (a reset and typing update it a moment later)
    expect(root.locator(".explorer-count")).to_have_text(re.compile(rf"^{n} of {total} excerpts?[.;:]"))
    first = root.locator(".explorer-list li.excerpt-item").count()
    assert first == min(n, PAGE)
    assert shown_ids(root) == list(expected["excerpt_id"])


@pytest.mark.parametrize("dimension, path", list(CHAPTERS.items()))
def test_each_chapter_explorer_starts_with_all_its_excerpts(site_page, dimension, path):
    table = excerpts(dimension)
    with visit(site_page, path) as (page, _):  # before any other test of the page's explorer
        root = ready(page, ".brbook-explorer")
        assert root.locator("form.explorer-controls").is_visible()
        assert not root.locator(".explorer-note").is_visible()
        assert count_text(root) == f"{len(table)} of {len(table)} excerpts; showing the first {PAGE}."
        assert root.locator(".explorer-more").inner_text() == f"Show {PAGE} more"
        # every excerpt is cited: quote, speaker, date, citation linking to the bibliography, section, id
        item = root.locator("li.excerpt-item").first
        row = table.iloc[0]
        assert item.get_attribute("data-excerpt") == row["excerpt_id"]
        assert item.locator("q").inner_text() == " ".join(row["text"].split())
        meta = item.locator(".excerpt-item-meta").inner_text()
        assert meta.startswith(row["speaker"]) and f"“{row['section']}”" in meta and row["excerpt_id"] in meta
        assert "bibliography.html#source-" + row["source_id"] in item.locator("a").get_attribute("href")
        # the rows embedded are the chapter's own, no more
        assert shown_ids(root) == list(table["excerpt_id"])


@pytest.mark.parametrize("path", [CHAPTERS["military"]])
def test_filters_by_source_year_word_and_speaker(site_page, path):
    table = excerpts("military")
    total = len(table)
    with visit(site_page, path) as (page, _):
        root = ready(page, ".brbook-explorer", fresh=True)
        form = root.locator("form.explorer-controls")

        form.get_by_label("Source", exact=True).select_option("paper2016")
        check(root, table[table["source_id"] == "paper2016"], total)

        form.get_by_role("button", name="Clear the filters").click()
        check(root, table, total)

        form.get_by_label("From year", exact=True).select_option("2017")
        form.get_by_label("To year", exact=True).select_option("2018")
        check(root, table[table["year"].between(2017, 2018)], total)

        form.get_by_role("button", name="Clear the filters").click()
        form.get_by_label("Words", exact=True).fill("West-2017")
        page.wait_for_timeout(400)
        hits = table[table["text"].str.contains("West-2017", case=False, regex=False)]
        assert len(hits) >= 1
        check(root, hits, total)

        form.get_by_label("Words", exact=True).fill("")
        form.get_by_label("Speaker", exact=True).select_option("Alyaksandr Lukashenka")
        page.wait_for_timeout(400)
        said = table[table["speaker"] == "Alyaksandr Lukashenka"]
        assert len(said) >= 1
        check(root, said, total)

        # filters combine, and a filter that leaves nothing says so
        form.get_by_label("Speaker", exact=True).select_option("")
        form.get_by_label("Source", exact=True).select_option("news2016_18")
        form.get_by_label("Topic", exact=True).select_option("exercises")
        both = table[(table["source_id"] == "news2016_18")
                     & table["topics"].str.split("|").apply(lambda tags: "exercises" in tags)]
        check(root, both, total)
        form.get_by_label("Words", exact=True).fill("no such phrase in any excerpt")
        page.wait_for_timeout(400)
        assert count_text(root).startswith(f"0 of {total} excerpts: none matches")
        assert not root.locator(".explorer-more").is_visible()


@pytest.mark.parametrize("path", [CHAPTERS["foreign_policy"]])
def test_show_more_pages_through_the_matches(site_page, path):
    table = excerpts("foreign_policy")
    with visit(site_page, path) as (page, _):
        root = ready(page, ".brbook-explorer", fresh=True)
        items = root.locator(".explorer-list li.excerpt-item")
        assert items.count() == PAGE
        root.locator(".explorer-more").click()
        assert items.count() == 2 * PAGE
        assert count_text(root) == f"{len(table)} of {len(table)} excerpts; showing the first {2 * PAGE}."
        box = root.locator(".explorer-results")
        assert box.evaluate("el => getComputedStyle(el).overflowY") == "auto"
        assert box.evaluate("el => el.scrollHeight > el.clientHeight"), "a long list scrolls inside its box"


@pytest.mark.parametrize("path", [CHAPTERS["economy"]])
def test_explorer_is_keyboard_operable_and_announces_its_count(site_page, path):
    table = excerpts("economy")
    with visit(site_page, path) as (page, _):
        root = ready(page, ".brbook-explorer", fresh=True)
        count = root.locator(".explorer-count")
        assert count.get_attribute("role") == "status" and count.get_attribute("aria-live") == "polite"
        for name in ("Source", "Topic", "Speaker", "From year", "To year", "Words"):
            assert root.get_by_label(name, exact=True).count() == 1, f"no control labelled {name!r}"
        root.get_by_label("Source", exact=True).focus()
        page.keyboard.press("Tab")  # to Topic
        page.keyboard.press("Tab")  # to Speaker
        page.keyboard.press("Tab")  # to From year
        page.keyboard.press("Tab")  # to To year
        page.keyboard.press("Tab")  # to Words
        page.keyboard.type("gas")
        page.wait_for_timeout(400)
        hits = table[table["text"].str.contains("gas", case=False, regex=False)]
        assert 0 < len(hits) < len(table)
        assert count_text(root).startswith(f"{len(hits)} of {len(table)} excerpts")


@pytest.mark.parametrize("path", [CHAPTERS["media"]])
def test_chapter_explorer_fits_a_phone_in_dark_mode(phone_page, path):
    table = excerpts("media")
    with visit(phone_page, path, dark=True) as (page, _):
        root = ready(page, ".brbook-explorer", fresh=True)
        box = root.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, "the explorer fits the phone's width"
        assert root.evaluate("el => [el, ...el.querySelectorAll('*')].every(n => n.scrollWidth <= n.clientWidth + 1 "
                             "|| getComputedStyle(n).display === 'inline')"), "nothing in it scrolls sideways"
        for control in root.locator("select, input, button:visible").all():
            edge = control.bounding_box()
            assert box["x"] <= edge["x"] and edge["x"] + edge["width"] <= box["x"] + box["width"] + 1
        root.get_by_label("Topic", exact=True).select_option("internet")
        tagged = table[table["topics"].str.split("|").apply(lambda tags: "internet" in tags)]
        check(root, tagged, len(table))
        colour = root.locator("q").first.evaluate("el => getComputedStyle(el).color")
        assert all(int(c) > 150 for c in re.findall(r"\d+", colour)[:3]), f"dark text {colour} on a dark page"


def test_without_scripts_the_explorer_shows_its_first_view_and_says_why(browser, site_url):
    table = excerpts("media")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{site_url}/{CHAPTERS['media']}")
        root = page.locator(".brbook-explorer")
        assert root.locator(".explorer-note").is_visible()
        assert not root.locator("form.explorer-controls").is_visible()
        ids = root.locator("li.excerpt-item").evaluate_all("items => items.map(li => li.dataset.excerpt)")
        assert ids == list(table["excerpt_id"])[:PAGE]
    finally:
        context.close()


# ---------- the compare view ----------

def compare_expected(topic: str, chosen: list[str]) -> dict[str, list[str]]:
    table = excerpts()
    tagged = table[table["topics"].str.split("|").apply(lambda tags: topic in tags)]
    return {s: list(tagged[tagged["source_id"] == s]["excerpt_id"]) for s in source_order() if s in chosen}


def pick(root, topic: str, chosen: list[str]) -> None:
    root.get_by_label("Topic", exact=True).select_option(topic)
    for box in root.locator("input[name=source]").all():
        box.set_checked(box.get_attribute("value") in chosen)


def columns(root) -> dict[str, list[str]]:
    shown = {}
    for col in root.locator(".compare-grid .compare-column").all():
        shown[col.get_attribute("data-source")] = col.locator("li.excerpt-item").evaluate_all(
            "items => items.map(li => li.dataset.excerpt)")
    return shown


@pytest.mark.parametrize("chosen", [["paper2016", "brief2022"], ["article2014", "news2016_18", "study2019"]],
                         ids=["two", "three"])
@pytest.mark.parametrize("path", [COMPARE])
def test_compare_view_shows_the_chosen_sources_side_by_side(site_page, path, chosen):
    with visit(site_page, path) as (page, _):
        root = ready(page, ".brbook-compare")
        for topic in ("crimea", "neutrality"):
            pick(root, topic, chosen)
            expected = compare_expected(topic, chosen)
            assert columns(root) == expected
            assert list(columns(root)) == [s for s in source_order() if s in chosen], "oldest source first"
            speaking = sum(bool(ids) for ids in expected.values())
            label = root.get_by_label("Topic", exact=True).locator("option:checked").inner_text().split(" (")[0]
            assert count_text(root) == f"{speaking} of {len(chosen)} chosen sources speak on “{label}”."
            assert root.get_attribute("data-topic") == topic
        # side by side on a laptop: the columns share one row
        tops = {round(c.bounding_box()["y"]) for c in root.locator(".compare-column").all()}
        assert len(tops) == 1
        # one source alone is not a comparison: the view says so
        pick(root, "crimea", chosen[:1])
        assert count_text(root).startswith("Tick two or more sources")


@pytest.mark.parametrize("screen", ["phone", "laptop"])
@pytest.mark.parametrize("path", [COMPARE])
def test_compare_columns_fit_the_page_with_no_sideways_scroll(site_page, phone_page, path, screen):
    with visit(site_page if screen == "laptop" else phone_page, path) as (page, _):
        width = page.viewport_size["width"]
        root = ready(page, ".brbook-compare")
        pick(root, "crimea", source_order())
        grid = root.locator(".compare-grid").bounding_box()
        boxes = [c.bounding_box() for c in root.locator(".compare-column").all()]
        assert len(boxes) == 5
        for box in boxes:  # every source is in view: none is cut off or pushed sideways
            assert box["x"] >= grid["x"] - 1 and box["x"] + box["width"] <= grid["x"] + grid["width"] + 1
        assert root.locator(".compare-grid").evaluate("el => el.scrollWidth <= el.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        if width == 390:  # stacked: one column per row, each the grid's width
            assert len({round(b["x"]) for b in boxes}) == 1
            assert all(b["width"] > 0.9 * grid["width"] for b in boxes)
            ys = [b["y"] for b in boxes]
            assert ys == sorted(ys)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("path, selector", [(CHAPTERS["military"], ".brbook-explorer"),
                                            (COMPARE, ".brbook-compare")])
def test_explorers_are_axe_clean(site_page, path, selector, dark):
    with visit(site_page, path, dark) as (page, log):  # dark: the browser's scheme and the theme's mode
        root = ready(page, selector, fresh=True)
        if selector == ".brbook-explorer":
            root.locator(".explorer-more").click()
        assert_clean(log)
        found = axe_violations(page, selector)
        log["errors"].clear()  # axe-core fetches the stylesheets again from the page's folder (a 404)
        violations = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}" for v in found]
        assert not violations, violations
        colour = root.locator(".explorer-count").evaluate("el => getComputedStyle(el).color")
        light_text = all(int(c) > 150 for c in re.findall(r"\d+", colour)[:3])
        assert light_text == dark, f"the count's text colour {colour} does not follow the page's theme"
