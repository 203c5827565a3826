"""Search that knows the names (issue 19), in Chromium against the built book.

A name the sources spell several ways finds the same pages in any spelling the glossary lists
(``data/glossary.csv``, variants column), and each result shows the sentence that matches, not the page's
table of contents. Every page has one search box. See ``brbook.sphinx_ext``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from brbook.sphinx_ext import lighten, name_groups

from .conftest import DATA, HTML

pytestmark = pytest.mark.browser
GROUPS = name_groups(DATA / "glossary.csv")
# (a spelling the book does not use outside quotations, the book's own spelling)
VARIANTS = [("Lukashenko", "Lukashenka"), ("Makey", "Makei"), ("Zapad", "West-2017")]


def group_of(name: str) -> list[str]:
    return next((g for g in GROUPS if any(n.lower() == name.lower() for n in g)), [])


def search(context, site_url: str, query: str) -> list[dict]:
    """The results of the book's search page for a query, in a tab of ``context``: each page's link and the
    summary shown under it."""
    errors: list[str] = []
    page = context.new_page()
    try:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{site_url}/search.html?q={quote(query)}", wait_until="load")
        page.wait_for_function("document.querySelector('#search-results h2') && "
                               "!/Searching/.test(document.querySelector('#search-results h2').textContent)",
                               timeout=30000)
        count = page.locator("#search-results ul.search > li").count()
        page.wait_for_function(f"document.querySelectorAll('#search-results ul.search > li p.context').length "
                               f">= {count}", timeout=30000)
        results = page.evaluate("""() => Array.from(document.querySelectorAll('#search-results ul.search > li'))
            .map(li => ({href: li.querySelector('a').getAttribute('href').split('#')[0],
                         summary: (li.querySelector('p.context') || {}).textContent || ''}))""")
    finally:
        page.close()
    assert errors == [], f"search for {query!r} logs errors: {errors}"
    return results


@pytest.mark.parametrize("variant,spelling", VARIANTS)
def test_a_variant_spelling_finds_what_the_books_spelling_finds(warm_context, site_url, variant, spelling):
    group = group_of(spelling)
    if not any(n.lower() == variant.lower() for n in group):
        pytest.xfail(f"the glossary does not list {variant!r} as a spelling of {spelling!r} yet "
                     "(request to S2 in /work/notes/requests-W2.md)")
    found = search(warm_context, site_url, variant)
    assert found, f"{variant!r} finds nothing"
    if re.fullmatch(r"\w+", spelling):  # a one-word spelling: the same pages (a hyphenated one is two words)
        assert {r["href"] for r in found} == {r["href"] for r in search(warm_context, site_url, spelling)}
    names = [n.lower() for n in group]
    for result in found:
        text = (HTML / result["href"]).read_text(encoding="utf-8").lower()
        assert any(n in text for n in names), f"{result['href']} names no spelling of {spelling}"
        summary = result["summary"].lower()
        assert any(n.split()[-1] in summary for n in names), (
            f"{variant!r}: the summary under {result['href']} shows no spelling of {spelling}: {result['summary']!r}")
        assert "contents" not in summary[:40] and len(summary) < 600, f"not a sentence: {result['summary']!r}"


def test_summary_is_the_matching_sentence(warm_context, site_url):
    found = search(warm_context, site_url, "airbase")
    assert found
    for result in found:
        summary = result["summary"]
        assert "airbase" in summary.lower(), f"{result['href']}: {summary!r}"
        assert not summary.startswith(("Contents", ".md", "..")), summary


@pytest.mark.parametrize("screen", ["laptop", "phone"])
@pytest.mark.parametrize("path", ["book/intro.html", "book/military/index.html"])
def test_one_search_box_per_page(site_page, phone_page, path, screen):
    """On the page's laptop and phone visits, last of their tests (conftest.BROWSER_ORDER): a search leaves it."""
    with (site_page if screen == "laptop" else phone_page)(path) as (page, _):
        width = page.viewport_size["width"]
        visible = page.evaluate("""() => Array.from(document.querySelectorAll(
              '.search-button__button, .search-button-field, form.bd-search'))
            .filter(el => !el.closest('dialog') && el.getClientRects().length
                          && getComputedStyle(el).visibility !== 'hidden').map(el => el.className)""")
        assert len(visible) == 1, f"{path} at {width}px shows {len(visible)} search boxes: {visible}"
        page.locator(".search-button__button:visible").click()
        page.keyboard.type("Zapad")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"search\.html\?q=Zapad"))


def test_search_code_is_dropped_from_every_page_but_the_search_page():
    page = ('<script defer src="../_static/scripts/fontawesome.js?digest=1"></script>\n'
            '<script src="../_static/searchtools.js"></script>\n<script src="../searchindex.js"></script>\n'
            '<script src="../_static/brbook.js?v=1"></script>')
    assert lighten(page, "book/intro") == '<script src="../_static/brbook.js?v=1"></script>'
    assert "searchindex.js" in lighten(page, "search") and "fontawesome" not in lighten(page, "search")


def test_every_glossary_spelling_is_grouped():
    lukashenka = group_of("Lukashenka")
    assert lukashenka[0] == "Alyaksandr Lukashenka" and "Lukashenko" in lukashenka
    assert all(len(g) == len(set(g)) > 1 for g in GROUPS)


def test_names_in_an_explorers_data_do_not_index_a_page():
    from docutils import nodes

    from brbook.sphinx_ext import visible_text

    section = nodes.section()
    section += nodes.paragraph("", "Makei said")
    section += nodes.raw("", '<div>Lukashenka</div><script class="explorer-data">{"w": "Zapad"}</script>',
                         format="html")
    text = visible_text(section)
    assert "Makei" in text and "Lukashenka" in text and "Zapad" not in text
