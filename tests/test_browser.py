"""Every page of the built book in Debian's Chromium: private, error-free, drawn and accessible."""

from __future__ import annotations

import base64
import os
import re
import socket
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from .bench import LOCAL_HOSTS
from .conftest import HTML, PHONE, axe_violations, serve

pytestmark = pytest.mark.browser
# every page of the book; theme template fragments that Sphinx copies into _static are not pages
PAGES = sorted(str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
               if "_static" not in p.relative_to(HTML).parts) if HTML.exists() else []
BLOCKING_IMPACTS = {"serious", "critical"}
REFRESH = re.compile(r'<meta http-equiv="refresh" content="0; url=([^"]+)"', re.I)


def redirect_of(url: str) -> str | None:
    """Where a page that only sends the reader on leads (Jupyter Book writes the site's index.html so), read
    before the browser opens it: once the browser has followed it, the first page's text is gone."""
    with urllib.request.urlopen(url, timeout=30) as response:
        found = REFRESH.search(response.read(1024).decode("utf-8", errors="replace"))
    return urljoin(url, found.group(1)) if found else None


@contextmanager
def opened(browser, url: str, dark: bool = False):
    """A page of the book in its own browser context, closed afterwards: yields (page, log)."""
    context, page, log = open_page(browser, url, dark)
    try:
        yield page, log
    finally:
        context.close()


def open_page(browser, url: str, dark: bool = False):
    """Open a page, recording every request, failed request and console error."""
    context = browser.new_context(color_scheme="dark" if dark else "light")
    page, log = open_tab(context, url)
    return context, page, log


def open_tab(context, url: str, every_request: bool = True, dark: bool = False, viewport: dict | None = None):
    """Open a page in a browser context, recording as :func:`open_page` does; returns (page, log).

    The page is drawn (charts and self-checks ready) and, with ``every_request``, its network has been quiet
    for half a second, so that the log holds all it requested; without, its fonts are ready, which is all a
    test of its layout needs. ``dark`` and ``viewport`` set the tab's colour scheme and size before it loads,
    where they are not the context's. A request to any host but this machine is recorded in ``log["outside"]``
    and fails in the browser, which resolves no other host (:data:`tests.bench.LOCAL_ONLY`).
    """
    page = context.new_page()
    if viewport:
        page.set_viewport_size(viewport)
    if dark:
        page.emulate_media(color_scheme="dark")
    log = {"outside": [], "failed": [], "errors": [], "requested": []}

    def on_request(request):
        log["requested"].append(request.url)
        host = urlparse(request.url).hostname
        if request.url.startswith(("http://", "https://")) and host not in LOCAL_HOSTS:
            log["outside"].append(request.url)

    page.on("request", on_request)
    page.on("requestfailed", lambda r: log["failed"].append(f"{r.url} ({r.failure})"))
    page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    onward = redirect_of(url)
    page.goto(url, wait_until="load")
    if onward:  # until the browser has followed it, so that nothing below reads a page it is leaving
        page.wait_for_url(onward, wait_until="load")
    if page.locator(".vega-chart").count():
        page.wait_for_function("document.documentElement.dataset.chartsRendered === 'true'", timeout=15000)
    if page.locator(".self-check").count():
        page.wait_for_function("document.documentElement.dataset.selfChecksReady === 'true'", timeout=15000)
    if every_request:
        page.wait_for_load_state("networkidle")
    else:
        page.evaluate("() => document.fonts.ready.then(() => true)")
    return page, log


@pytest.mark.parametrize("path", PAGES)
def test_page_is_private_error_free_and_drawn(site_page, path):
    with site_page(path) as (page, log):
        assert log["outside"] == [], f"{path} requests outside hosts: {log['outside']}"
        assert log["failed"] == [], f"{path} has failed requests: {log['failed']}"
        assert log["errors"] == [], f"{path} logs console errors: {log['errors']}"
        for n in range(page.locator(".vega-chart").count()):
            chart = page.locator(".vega-chart").nth(n)
            marks = chart.locator("svg .mark-symbol path, svg .mark-rect path, svg .mark-tick line, "
                                  "svg .mark-line path, svg .mark-text text, svg .mark-rule line").count()
            assert marks > 0, f"{path}: chart {n + 1} drew no marks"
            figure = page.locator("figure.brbook-chart").nth(n)
            assert figure.locator("figcaption .chart-description").inner_text().strip(), (
                f"{path}: chart {n + 1} has no text alternative")


@pytest.mark.parametrize("path", [p for p in PAGES if "self-check" in (HTML / p).read_text(encoding="utf-8")])
def test_every_self_check_answers(site_page, path):
    with site_page(path) as (page, _):
        boxes = page.locator(".self-check")
        for n in range(boxes.count()):
            box = boxes.nth(n)
            if box.get_attribute("data-kind") == "number":
                box.locator("input").fill("-123456789")
            else:
                box.locator("input[type=radio]").first.check()
            box.locator(".self-check-submit").click()
            feedback = box.locator(".self-check-feedback").inner_text().strip()
            assert feedback, f"{path}: self-check {n + 1} gave no feedback"
            assert feedback.startswith(("Correct", "Not yet")), feedback


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violations(site_page, path, dark):
    with site_page(path, dark) as (page, _):  # dark: the browser's scheme and the theme's mode
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert (sum(map(int, re.findall(r"\d+", background)[:3])) < 3 * 128) == dark, background
        blocking = [v for v in axe_violations(page) if v.get("impact") in BLOCKING_IMPACTS]
        detail = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}" for v in blocking]
        assert not blocking, f"{path} ({'dark' if dark else 'light'}): {detail}"


def test_pages_were_found():
    assert len(PAGES) >= 5, "the built book has too few pages"
    assert any(Path(p).name == "index.html" for p in PAGES)


CHAPTER_PAGES = ["book/military/index.html", "book/economy/index.html", "book/foreign-policy/index.html",
                 "book/media/index.html"]


LABELLED = """el => { const svg = el.querySelector('svg');
  return !!svg && svg.getAttribute('role') === 'img' && svg.getAttribute('aria-label') === el.dataset.label
    && svg.querySelectorAll('[role]').length === 0; }"""
"""A drawn chart is one image named by its description, with no unnamed graphics inside (axe: svg-img-alt)."""


@pytest.mark.parametrize("path", [*CHAPTER_PAGES, "book/timeline/index.html"])
def test_charts_stay_labelled_images_when_the_page_narrows(site_page, path):
    """Vega draws a chart again when its column narrows (a phone turned, a window resized)."""
    with site_page(path) as (page, log):
        size = page.viewport_size
        widths = "() => Array.from(document.querySelectorAll('.vega-chart svg')).map(s => s.getAttribute('width'))"
        columns = "() => Array.from(document.querySelectorAll('figure.brbook-chart')).map(f => f.clientWidth)"
        before, figures = page.evaluate(widths), page.evaluate(columns)
        try:
            page.set_viewport_size(PHONE["viewport"])
            page.wait_for_function(f"old => ({widths})().every((w, i) => w !== old[i])", arg=before, timeout=15000)
            charts = page.locator(".vega-chart")
            unlabelled = [n + 1 for n in range(charts.count()) if not charts.nth(n).evaluate(LABELLED)]
            assert unlabelled == [], f"{path}: charts {unlabelled} drawn again without their label"
        finally:
            page.set_viewport_size(size)
            # until the page is laid out as before (its sidebars slide back in over ~0.2 s) and the charts with it
            page.wait_for_function(f"([old, figures]) => ({widths})().every((w, i) => w === old[i])"
                                   f" && ({columns})().every((w, i) => w === figures[i])", arg=[before, figures],
                                   timeout=15000)
        assert log["errors"] == []


@pytest.mark.parametrize("path", [*CHAPTER_PAGES, "book/timeline/index.html"])
def test_bound_controls_change_the_chart(site_page, path):
    with site_page(path) as (page, log):
        charts = page.locator(".vega-chart")
        assert charts.count() >= 2
        changed = 0
        for n in range(charts.count()):
            chart = charts.nth(n)
            before = chart.locator("svg").inner_html()
            select = chart.locator(".vega-bindings select")
            if select.count():
                options = select.first.locator("option").all_inner_texts()
                select.first.select_option(label=options[-1])
            else:
                chart.locator(".vega-bindings input[type=range]").first.fill("2017")
                chart.locator(".vega-bindings input[type=range]").first.dispatch_event("input")
            page.wait_for_timeout(300)
            after = chart.locator("svg").inner_html()
            assert after != before, f"{path}: chart {n + 1} did not change when its control changed"
            assert chart.evaluate(LABELLED), f"{path}: chart {n + 1} lost its label when drawn again"
            changed += 1
        assert changed >= 2 and log["errors"] == []


EVERY_OPTION = """() => Array.from(document.querySelectorAll('.self-check[data-kind=choice]'), box => {
  // what a reader's click would reach: the control itself or its label, not something drawn over it
  const reached = el => { el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return r.width > 0 && r.height > 0 && !!hit && (el.contains(hit)
      || Array.from(el.labels || [], label => label.contains(hit)).some(Boolean)); };
  const submit = box.querySelector('.self-check-submit'), feedback = [], unreachable = [];
  box.querySelectorAll('input[type=radio]').forEach((option, k) => {
    if (!reached(option) || !reached(submit)) { unreachable.push(k); }
    option.click();
    if (!option.checked) { unreachable.push(k); }
    submit.click();
    feedback.push(box.querySelector('.self-check-feedback').innerText);
  });
  const explanation = box.querySelector('.self-check-explanation');
  return {feedback, unreachable, state: box.dataset.state, explanation: explanation && {
    shown: explanation.checkVisibility(), text: explanation.innerText.trim()}};
})"""
"""Every option of every multiple-choice self-check on a page, chosen in turn and checked: the feedback after
each, and the options a reader could not click (off the page, covered, or not chosen by a click). Run in the
page at once: through Playwright, one click at a time, the synthesis page's 81 options cost 14 s of the
processors' time against 1.3 s (every box's first option and its Check button are also clicked as a
reader would, through Playwright's mouse, by :func:`test_every_self_check_answers`)."""


@pytest.mark.parametrize("path", [*CHAPTER_PAGES, "book/synthesis/index.html"])
def test_self_checks_give_matching_feedback_wrong_then_right(site_page, path):
    with site_page(path) as (page, log):
        boxes = page.evaluate(EVERY_OPTION)
        assert len(boxes) >= 4
        for n, box in enumerate(boxes, start=1):
            feedback = dict(enumerate(box["feedback"]))
            assert box["unreachable"] == [], f"{path}: self-check {n}: options {box['unreachable']} cannot be clicked"
            right = [k for k, text in feedback.items() if text.startswith("Correct")]
            wrong = [k for k, text in feedback.items() if text.startswith("Not yet")]
            assert len(right) == 1 and len(wrong) == len(feedback) - 1, feedback
            assert len(set(feedback.values())) == len(feedback), "each option has its own feedback"
            assert box["state"] == ("correct" if right[0] == len(feedback) - 1 else "incorrect")
            if box["explanation"]:
                assert box["explanation"]["shown"] and box["explanation"]["text"]
        numbers = page.locator(".self-check[data-kind=number]")
        if numbers.count():
            numbers.first.locator("input").fill("-1")
            numbers.first.locator(".self-check-submit").click()
            assert numbers.first.locator(".self-check-feedback").inner_text().startswith("Not yet")
        assert log["errors"] == []


def test_number_self_check_shows_its_working_only_once_right(browser, site_url):
    from brbook import data

    fall = int(data.fact_value("paper2016-f901") - data.fact_value("paper2016-f902"))
    with opened(browser, f"{site_url}/book/military/index.html") as (page, log):
        box = page.locator(".self-check[data-kind=number]").filter(has_text="cadets").first
        working = box.locator(".self-check-worked")
        box.locator("input").fill(str(fall + 20))
        box.locator(".self-check-submit").click()
        assert box.locator(".self-check-feedback").inner_text().startswith("Not yet")
        assert not working.is_visible()
        box.locator("input").fill(str(fall))
        box.locator(".self-check-submit").click()
        assert box.locator(".self-check-feedback").inner_text().startswith("Correct")
        assert working.is_visible() and f"= {fall} cadets" in working.inner_text()
        assert log["errors"] == []


def symbols(chart) -> int:
    return chart.locator("svg g.mark-symbol.role-mark path").count()  # data marks, not legend symbols


@pytest.mark.parametrize("path", ["book/timeline/index.html"])
def test_timeline_dimension_filter_changes_the_marks_drawn(site_page, path):
    from brbook import data

    with site_page(path) as (page, log):
        chart = page.locator(".vega-chart").first
        every = symbols(chart)
        assert every == len(data.events())
        chart.locator(".vega-bindings select").first.select_option(label="Military")
        page.wait_for_timeout(300)
        assert symbols(chart) == len(data.events(dimension="military")) < every
        chart.locator(".vega-bindings select").nth(1).select_option(index=2)
        page.wait_for_timeout(300)
        assert symbols(chart) < len(data.events(dimension="military"))
        assert log["errors"] == []
        for n in range(2):  # back to the first view, for the next test of this visit
            chart.locator(".vega-bindings select").nth(n).select_option(index=0)


@pytest.mark.parametrize("path", ["book/military/index.html"])
def test_save_image_downloads_the_drawn_chart_as_svg_and_png(site_page, path):
    with site_page(path) as (page, log):
        figure = page.locator("figure.brbook-chart").first
        stem = figure.locator("a.chart-csv").get_attribute("download").removesuffix(".csv")
        for fmt, magic in (("svg", b"<svg"), ("png", b"\x89PNG")):
            with page.expect_download() as info:
                figure.locator(f"button.chart-save[data-format={fmt}]").click()
            download = info.value
            assert download.suggested_filename == f"{stem}.{fmt}"
            body = Path(download.path()).read_bytes()
            assert body.startswith(magic), f"{fmt}: {body[:20]!r}"
            if fmt == "svg":  # the drawing itself, with its title, on a white background
                text = body.decode("utf-8")
                assert "<text" in text and 'fill="white"' in text.replace("#ffffff", "white").lower()
        assert log["errors"] == [] and log["outside"] == []


@pytest.mark.parametrize("path", PAGES)
def test_no_page_scrolls_sideways_on_a_phone(phone_page, path):
    """At 390 px every page fits its width: nothing in the article reaches past the screen's edge."""
    with phone_page(path) as (page, _):
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate("() => [...document.querySelectorAll('article *')].filter(e => e.getBoundingClientRect()"
                             ".right > 391).slice(0, 3).map(e => e.tagName + '.' + e.className)")
    assert width <= 390, (width, wide)


def test_a_request_to_another_host_is_recorded_and_fails_in_the_browser(browser, tmp_path):
    """What every page's privacy check rests on: requests to other hosts (a CDN's script, an image elsewhere) are
    recorded as outside, and none is answered. Chromium resolves no host but this machine's: even this machine's
    own name, which the system resolves to the test server's address here, does not reach it."""
    (tmp_path / "pixel.png").write_bytes(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="))
    with serve(tmp_path) as url:
        port = url.rsplit(":", 1)[1]
        own = socket.gethostname()
        reachable = own not in LOCAL_HOSTS and _resolves_to_loopback(own)
        others = ["https://cdn.jsdelivr.net/npm/vega@6", "https://example.org/pixel.png",
                  *([f"http://{own}:{port}/pixel.png"] if reachable else [])]
        (tmp_path / "index.html").write_text(
            f'<!doctype html><html lang="en"><title>t</title><script src="{others[0]}"></script>'
            + "".join(f'<img src="{src}" alt="a pixel">' for src in [f"{url}/pixel.png", *others[1:]])
            + "</html>", encoding="utf-8")
        with opened(browser, f"{url}/index.html") as (page, log):
            drawn = page.evaluate("() => [typeof window.vega, ...Array.from(document.images, i => i.naturalWidth)]")
    assert sorted(log["outside"]) == sorted(others)
    assert drawn == ["undefined", 1, *[0] * (len(others) - 1)], "a request to another host was answered"
    assert len(log["failed"]) == len(others) and all("ERR_NAME_NOT_RESOLVED" in f for f in log["failed"]), log


def test_chromium_keeps_playwrights_switches_and_builds_no_hidden_address_bar(browser, tmp_path):
    """The tests' Chromium turns off Playwright's features and the browser interface's own as well
    (:data:`tests.bench.BROWSER_UI_OFF`: Chromium honours one ``--disable-features`` switch only), so a new
    browser context opens no renderer for the window's address-bar suggestions."""
    from .bench import BROWSER_UI_OFF, command_words, descendants

    (tmp_path / "index.html").write_text('<!doctype html><html lang="en"><title>t</title><p>A page.</html>')
    with serve(tmp_path) as url, opened(browser, f"{url}/index.html"):
        commands = [command_words(pid) for pid in descendants(os.getpid())]
    ours = [c for c in commands if "--remote-debugging-pipe" in c and "--host-resolver-rules" in " ".join(c)]
    assert len(ours) == 1, "the session's Chromium was not found"
    switches = [a for a in ours[0] if a.startswith("--disable-features=")]
    last = set(switches[-1].split("=", 1)[1].split(","))  # the one Chromium reads
    assert set(BROWSER_UI_OFF) <= last and last >= {f for s in switches for f in s.split("=", 1)[1].split(",")}
    assert {"Translate", "PaintHolding"} & last, f"Playwright's own list is lost: {last}"
    assert not [c for c in commands if "--top-chrome-webui" in c], "a renderer draws the browser's own interface"


def _resolves_to_loopback(host: str) -> bool:
    try:
        return socket.gethostbyname(host) == "127.0.0.1"
    except OSError:
        return False
