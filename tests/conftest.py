"""Shared fixtures: the repository's paths, the built book, a local web server and Chromium.

The suite builds nothing itself: `make test` builds the book, the instructor edition, the bundle and the
exercises once, and every test reads those. Browser tests share one Chromium and visit each page once (its
dark-mode run turns the same visit dark): the tests of a page run one after another on it (see
`BROWSER_ORDER`). Under
pytest-xdist (`make test` runs `-n auto --dist loadgroup`) the browser tests stay together on one worker
and the grading tests on one worker, so each shared fixture is built once while the kernel tests and the
rest run beside them on the other core.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .bench import CHROMIUM, LOCAL_ONLY, QuietServer, launch_chromium

ROOT = Path(__file__).resolve().parents[1]
os.environ["BRBOOK_BUILD_SERVER"] = "0"  # the builds tests run are their own: none starts or asks a build server
DATA = ROOT / "data"
HTML = ROOT / "_build" / "html"
SEEDS = ROOT.parent / "shared" / "seeds"
FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"
FIXTURE_EXERCISES = Path(__file__).parent / "fixtures" / "exercises"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core from npm (package.json's devDependencies), installed by `make vendor`: 4.14 runs its colour
contrast check about five times faster than the 4.12 that axe-playwright-python bundles (2.4 s against
11.7 s on the instructor's solutions page), and checks more (label-content-name-mismatch)."""


@functools.cache
def _axe_script() -> str:
    assert AXE.exists(), f"no {AXE.relative_to(ROOT)}: run `make vendor`"
    return AXE.read_text(encoding="utf-8")


def axe_violations(page, context: str | None = None) -> list[dict]:
    """axe-core's violations on a page, or on the part the selector ``context`` names. Its script goes into a
    page once: the page's dark-mode run finds it there (sending its 650 KB again costs 0.1-0.4 s a run)."""
    if not page.evaluate("() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        page.evaluate(_axe_script())
    return page.evaluate("context => axe.run(context ?? document, {resultTypes: ['violations']})"
                         ".then(results => results.violations)", context)


def vega_lite_specs(page: str, html: Path = HTML) -> list[dict]:
    """A built page's charts as the Vega-Lite specs the book wrote, in page order.

    Where the build compiled them to Vega (``brbook_vega_at_build``), the originals are kept beside the
    site (:func:`brbook.sphinx_ext.vega_lite_specs_path`); otherwise they are the page's own specs.
    """
    import json

    from bs4 import BeautifulSoup

    from brbook.sphinx_ext import vega_lite_specs_path

    kept = vega_lite_specs_path(html, page.removesuffix(".html"))
    soup = BeautifulSoup((html / page).read_text(encoding="utf-8"), "html.parser")
    scripts = soup.select("figure.brbook-chart script.vega-spec")
    if any(s.get("data-grammar") == "vega" for s in scripts):
        specs = json.loads(kept.read_text(encoding="utf-8"))
        assert len(specs) == len(scripts), f"{kept} is stale: {len(specs)} specs for {len(scripts)} charts"
        return specs
    return [json.loads(s.string) for s in scripts]


@functools.cache
def exercise_source(path: Path):
    """An exercise source (``exercises/NAME.md``) as :func:`brbook.exercises.load` reads it, read once in a test
    process: the tests only read it, some 35 times a run at about 0.07 s a load (a quarter of it on collection)."""
    from brbook.exercises import load

    return load(path)


@pytest.fixture(scope="session")
def built_html() -> Path:
    """The student book built by `make book` (make test builds it before pytest runs)."""
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: run `make book` (make test does it first)")
    return HTML


@pytest.fixture(scope="session")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present")
    return SEEDS


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the repository's data/ to break on purpose."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output readable
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """A folder served on a free localhost port; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def site_url(built_html: Path) -> Iterator[str]:
    """The built book served on a free localhost port for the browser tests."""
    with serve(built_html) as url:
        yield url


BROWSER_ORDER = [
    # tests that share one visit of a page, in order: those that only read the page first, then those that
    # click (a test that clicks leaves the page changed for the next one)
    "test_page_weight_within_budget",
    "test_page_is_private_error_free_and_drawn",
    "test_no_serious_accessibility_violations",
    "test_every_self_check_answers",
    "test_timeline_dimension_filter_changes_the_marks_drawn",
    "test_charts_stay_labelled_images_when_the_page_narrows",
    "test_every_chart_fits_its_column_in_chromium",  # so also once the page is wide again
    "test_bound_controls_change_the_chart",
    "test_save_image_downloads_the_drawn_chart_as_svg_and_png",
    "test_self_checks_give_matching_feedback_wrong_then_right",
    "test_no_page_scrolls_sideways_on_a_phone",
    "test_every_icon_the_theme_shows_is_drawn",  # round the theme switch's three modes, back to the first
    # the explorers (tests/test_explorer.py), which nothing above reads: the first reads one as loaded, the
    # next start from its "Clear the filters"; the compare view has no such button, so its check by axe-core
    # comes before the tests that choose other topics and sources
    "test_each_chapter_explorer_starts_with_all_its_excerpts",
    "test_explorers_are_axe_clean",
    "test_show_more_pages_through_the_matches",
    "test_explorer_is_keyboard_operable_and_announces_its_count",
    "test_filters_by_source_year_word_and_speaker",
    "test_compare_view_shows_the_chosen_sources_side_by_side",
    "test_compare_columns_fit_the_page_with_no_sideways_scroll",
    "test_chapter_explorer_fits_a_phone_in_dark_mode",
    "test_one_search_box_per_page",  # last: its search leaves the page for the search page
]
BUILT_FIXTURES = {"built_html", "site_url", "site_page", "phone_page", "instructor_html", "instructor_url", "unzipped",
                  "edition"}
"""Fixtures that read what `make book`, `make instructor` and `make bundle` build: their tests are marked `built`."""
GROUPS = {"test_browser.py": "browser", "test_explorer.py": "browser", "test_page_weight.py": "browser",
          "test_search.py": "browser",
          "test_instructor_pages_are_private_and_accessible": "browser",
          "test_every_chart_fits_its_column_in_chromium": "browser", "test_lab.py": "lab",
          "test_grading.py": "grading", "test_reference_solution_scores_100_and_blank_scores_0": "grading"}
"""Tests one xdist worker runs one after another (by module or by test function). Browser: one Chromium, and
the tests of a page share its visit (spread over two workers by page, they took 6% more of the processors'
time: two Chromiums, each cache half as warm). Lab: one JupyterLab server. Grading: the module shares one
graded class (a sandboxed run of about 10 s done once); concurrent `brbook grade` runs themselves are safe,
each leasing its own block of sandbox uids (``brbook.grading.sandbox.uid_block``)."""


def group_of(nodeid: str) -> str | None:
    """The group of a test id (``tests/test_grading.py::test_x[a]`` -> ``grading``), if any."""
    module = nodeid.split("::")[0].rsplit("/", 1)[-1]
    function = nodeid.split("::")[-1].split("[")[0]
    return GROUPS.get(module) or GROUPS.get(function)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup` with the groups of :data:`GROUPS` (pytest 9.2 ignores the nodeid suffix that
    xdist's own ``xdist_group`` marker relies on, so the groups are told to the scheduler here)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or nodeid

    return GroupScheduling(config, log)


def _visit_key(item: pytest.Item) -> tuple:
    """A page's tests in :data:`BROWSER_ORDER`, a test's dark run right after its light one."""
    params = getattr(item, "callspec", None).params if hasattr(item, "callspec") else {}
    name = item.originalname if hasattr(item, "originalname") else item.name
    order = BROWSER_ORDER.index(name) if name in BROWSER_ORDER else len(BROWSER_ORDER)
    path = params.get("path", "")  # pytest's NOTSET where a list of pages is empty (no book built yet)
    return (path if isinstance(path, str) else "", order, bool(params.get("dark", False)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that read built outputs or drive Chromium, and run the tests of each page's visit one
    after another."""
    for item in items:
        if BUILT_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.built)
        if "browser" in item.fixturenames:  # every test that drives Chromium, wherever it lives (make check skips them)
            item.add_marker(pytest.mark.browser)
    visits = [item for item in items if _shares_a_visit(item)]
    if visits:
        start = items.index(visits[0])
        rest = [item for item in items if not _shares_a_visit(item)]
        rest[start:start] = sorted(visits, key=_visit_key)  # sorted() is stable: file order within a key
        items[:] = rest


def _shares_a_visit(item: pytest.Item) -> bool:
    return bool({"site_page", "phone_page"} & set(getattr(item, "fixturenames", ())))


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (installed by `make test`)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p, LOCAL_ONLY)
        yield browser
        browser.close()


LAPTOP = {"viewport": {"width": 1366, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
"""The two screens every page is visited on: a laptop's, and a phone's (its width, touch, the page's own
viewport meta honoured)."""


@pytest.fixture(scope="session")
def site_page(browser, site_url):
    """``with site_page(path, dark) as (page, log)``: the page of the built book on a laptop, opened on first use.

    The page stays open for the next test of the same page (one visit each, in a browser context of its own,
    so an empty cache), and is closed when another page is asked for. A test that fails closes it, so the next
    test starts from a fresh visit. ``log["loaded"]`` lists all that the page requested until it was drawn
    (its weight, tests/test_page_weight.py); each test's other logs hold what happened during its own turn:
    the first test of a visit sees the page load (every page's first test checks it), the next ones what their
    own clicks caused, and none what the one before did (axe-core, for instance, fetches stylesheets again
    from the page's folder and logs a 404).

    ``dark=True`` turns the visit dark in place, as a visit in a dark context was set: the browser's colour
    scheme and the theme's own setting both; the next light test turns it back (the dark test comes right
    after the light one, before any test that clicks, see :func:`_visit_key`). Loading each page a second
    time in a dark context cost ~40 s a run; axe-core finds the same on all 21 pages either way (compared).
    """
    with _visits(browser, site_url, LAPTOP, every_request=True) as visit:
        yield visit


@pytest.fixture(scope="session")
def phone_page(browser, site_url):
    """``with phone_page(path) as (page, log)``: the page on a phone (:data:`PHONE`), shared by the tests of
    its layout as :func:`site_page` shares a laptop's visit. Only its layout is read, so a visit waits for the
    page to be drawn and its fonts, not for its network to be quiet."""
    context = browser.new_context(color_scheme="light", **PHONE)
    try:
        with _visits(browser, site_url, PHONE, every_request=False, context=context) as visit:
            yield visit
    finally:
        context.close()


@pytest.fixture(scope="session")
def warm_context(browser):
    """One laptop browser context for the visits that weigh nothing and are not a page's shared visit (the
    searches): its cache stays warm from page to page, which cuts Chromium's time for a page load by about a
    quarter (21 phone visits, which keep one context of their own alike: 34 against 25 s of the processor's
    time). The visits of :func:`site_page` each have a context of their own, as their weight is that of a
    first visit."""
    context = browser.new_context(color_scheme="light", **LAPTOP)
    yield context
    context.close()


@contextmanager
def _visits(browser, site_url: str, screen: dict, every_request: bool, context=None):
    """The visit keeper behind :func:`site_page` and :func:`phone_page`: one page open at a time, each in a
    context of its own unless one ``context`` is given for all."""
    from .test_browser import open_tab

    current: dict = {}

    def close() -> None:
        if current:
            current.pop("page").close()
            if current.pop("own"):
                current.pop("context").close()
            current.clear()

    @contextmanager
    def visit(path: str, dark: bool = False):
        if current.get("path") != path:
            close()
            own = context is None
            page, log = open_tab(browser.new_context(color_scheme="light", **screen) if own else context,
                                 f"{site_url}/{path}", every_request=every_request)
            log["loaded"] = sorted(set(log["requested"]))
            current.update(path=path, page=page, log=log, context=page.context, own=own, dark=False)
        else:
            for key, entries in current["log"].items():
                if key != "loaded":
                    entries.clear()
        try:
            if current["dark"] != dark:
                _switch_colour_mode(current, dark)
            yield current["page"], current["log"]
        except BaseException:
            close()
            raise

    try:
        yield visit
    finally:
        close()


def _switch_colour_mode(visit: dict, dark: bool) -> None:
    """Turn an open page dark (the browser's ``prefers-color-scheme`` and the theme's ``data-theme`` and
    ``data-mode``), or back to what it was before, and wait until the theme, which follows a changed scheme
    from an event listener of its own, has settled there and its colours have finished changing."""
    page = visit["page"]
    if dark:
        visit["light"] = page.evaluate("() => [document.documentElement.dataset.theme ?? null, "
                                       "document.documentElement.dataset.mode ?? null]")
    wanted = ["dark", "dark"] if dark else visit["light"]
    page.emulate_media(color_scheme="dark" if dark else "light")
    page.evaluate("([theme, mode]) => { const d = document.documentElement.dataset;"
                  " if (theme === null) { delete d.theme; } else { d.theme = theme; }"
                  " if (mode === null) { delete d.mode; } else { d.mode = mode; } }", wanted)
    page.wait_for_function("([theme, mode]) => { const d = document.documentElement.dataset;"
                           " return (d.theme ?? null) === theme && (d.mode ?? null) === mode"
                           " && matchMedia('(prefers-color-scheme: dark)').matches === (theme === 'dark'); }",
                           arg=wanted, polling=50, timeout=10_000)
    # and until the theme's colour transitions have run (axe-core would read a colour half-way through)
    page.evaluate("() => Promise.race([new Promise(done => setTimeout(done, 5000)), Promise.all("
                  "document.getAnimations().filter(a => a instanceof CSSTransition)"
                  ".map(a => a.finished.catch(() => null)))]).then(() => null)")
    visit["dark"] = dark
