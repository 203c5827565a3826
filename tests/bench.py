"""`make bench`: print the performance figures the README reports (not a test: no pass or fail).

Book: the cold build with pages executed and Sphinx run on every core (`make book`) against Jupyter Book
on its own, executing them one after another with Sphinx in one process (`make book EXECUTE_JOBS=0
SPHINX_JOBS=1`), with a byte-for-byte comparison of the two sites; the warm rebuild after editing one
chapter; each page's execution time, alone and beside another kernel; the wall time and the processors'
time of `make check` and of the suite (`make test` from an empty `_build`, with `--suite`), and the
processor time of a few imports to compare machines by. Site: bytes of every page with all it loads,
gzip-compressed and not; time until every chart of the heaviest chart page is drawn over Chromium's
"Fast 3G" emulation.
Grading: submissions per second for `brbook grade --jobs 2` against one fresh Jupyter kernel per
submission (nbclient), on generated submissions of the military exercise.
"""

from __future__ import annotations

import argparse
import copy
import functools
import gzip
import http.server
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
"""The flags Debian's chromium runs with here, in the tests and the figures alike."""
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
"""The hosts the tests serve the book from; a request to any other is a request to an outside host."""
LOCAL_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, " + ", ".join(f"EXCLUDE {host}" for host in sorted(LOCAL_HOSTS))
"""Chromium resolves no host but this machine's, so a page's request to any other fails in the browser, without
the tests intercepting every request (Playwright's ``page.route`` sends each one through the test process to
be let through: about a seventh of a page load's processor time). The request is still seen and recorded
(:func:`tests.test_browser.open_tab`), which is what the privacy tests assert on."""
BROWSER_UI_OFF = ["WebUIOmniboxPopup", "WebUIOmniboxAimPopup"]
"""Features of the browser's own interface turned off, besides those Playwright turns off. Headless Chromium
156 builds each window's address-bar suggestions as a web page (chrome://omnibox-popup.top-chrome), in a
renderer of its own, for every browser context the tests open, though nothing ever shows it: a laptop visit to
a chapter took 4.6 s of the processors' time with it and 2.4 s without. No page of the book is drawn by it."""


def launch_chromium(playwright, *flags: str):
    """Debian's chromium with :data:`CHROMIUM_FLAGS` and ``flags``, and :data:`BROWSER_UI_OFF` turned off.

    Chromium reads only the last ``--disable-features`` switch, and Playwright passes a list of its own: so a
    first launch reads that list from the browser's command line, and the browser used is launched with the
    two lists in one switch (the first launch costs about 0.6 s of the processors' time). Only the processes
    that launch started are read, so a browser this process already runs is never taken for it."""
    running = set(descendants(os.getpid()))
    probe = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, *flags])
    try:
        commands = [command_words(pid) for pid in descendants(os.getpid()) if pid not in running]
        own = [a for c in commands if "--remote-debugging-pipe" in c for a in c if a.startswith("--disable-features=")]
    finally:
        probe.close()
    features = own[-1].split("=", 1)[1].split(",") if own else []
    switch = "--disable-features=" + ",".join([*features, *BROWSER_UI_OFF])
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, *flags, switch])


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid`` and by those, from ``/proc`` (Linux only)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, level = [], {pid}
    while level:
        level = {child for child, parent in parents.items() if parent in level}
        found += level
    return found


def command_words(pid: int) -> list[str]:
    """A process's command line, split into words (Chromium's helper processes write theirs as one string)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").replace("\0", " ").split()
    except OSError:
        return []


def _run(command: list[str], **env: str) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **env})
    return time.perf_counter() - started


def _clear_book() -> None:
    """What a fresh clone's first `make book` lacks: the site, the execution cache, the doctrees (and what is
    kept beside them) and the class notebooks' digests and chart pictures."""
    for name in ("html", ".jupyter_cache", ".doctrees", ".notebook-inputs"):
        shutil.rmtree(ROOT / "_build" / name, ignore_errors=True)


def _page_seconds() -> dict[str, float]:
    from brbook.execute import recorded_seconds

    return recorded_seconds(ROOT / "_toc.yml", ROOT / "_config.yml")


_UUID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
_WIDGET_STATE = re.compile(r'(<script type="application/vnd.jupyter.widget-state\+json">)(.*?)(?=</script>)', re.S)


def _without_random_ids(path: Path) -> str:
    """A file's text with the ids that differ between any two builds, serial or not, numbered in order:
    ipywidgets model ids (uuid4, in a page's widget state) and the cell ids jupytext gives chapters/*.ipynb."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        notebook = json.loads(text)
        for cell in notebook.get("cells", []):
            cell.pop("id", None)
        return json.dumps(notebook, sort_keys=True)
    def widget_state(match: re.Match) -> str:  # models keyed by random ids, in the order of those ids
        models = json.loads(match.group(2))["state"].values()
        return match.group(1) + json.dumps(sorted(_UUID.sub("ID", json.dumps(m, sort_keys=True)) for m in models))

    text = _WIDGET_STATE.sub(widget_state, text)
    return _UUID.sub("ID", text)


def differences(one: Path, other: Path) -> tuple[list[str], list[str]]:
    """Files of two built sites that differ byte for byte: (those that differ only in random ids, the rest)."""
    files = {p.relative_to(one) for p in one.rglob("*") if p.is_file()}
    others = {p.relative_to(other) for p in other.rglob("*") if p.is_file()}
    rest = [f"only in one build: {p}" for p in sorted(files ^ others)]
    ids = []
    for p in sorted(files & others):
        if (one / p).read_bytes() != (other / p).read_bytes():
            same = p.suffix in {".html", ".ipynb"} and _without_random_ids(one / p) == _without_random_ids(other / p)
            (ids if same else rest).append(str(p))
    return ids, rest


def book_builds() -> dict:
    """Cold builds (no _build/html, no execution cache, no doctrees, no build server), serial then parallel,
    compared byte for byte; then rebuilds after editing one chapter's prose, through the build server the
    cold build started and without it."""
    from brbook import buildserver

    buildserver.stop(ROOT)
    _clear_book()
    serial = _run(["make", "book", "EXECUTE_JOBS=0", "SPHINX_JOBS=1"], BRBOOK_BUILD_SERVER="0")  # Jupyter Book alone
    alone = _page_seconds()
    kept = Path(tempfile.mkdtemp(prefix="brbook-serial-")) / "html"
    shutil.copytree(HTML, kept)
    buildserver.stop(ROOT)
    _clear_book()
    cold = _run(["make", "book"])
    beside = _page_seconds()
    diff = differences(kept, HTML)
    shutil.rmtree(kept.parent, ignore_errors=True)
    served = buildserver.ready(ROOT)
    warm = [_edit_and_build() for _ in range(5)]
    local = [_edit_and_build(BRBOOK_BUILD_SERVER="0") for _ in range(3)]
    return {"serial": serial, "cold": cold, "warm": warm, "served": served, "local": local, "alone": alone,
            "beside": beside, "diff": diff}


def _edit_and_build(**env: str) -> float:
    """`make book` after an edit of one chapter's prose (the page is read and written again), undone after."""
    chapter = ROOT / "book" / "military" / "index.md"
    original = chapter.read_bytes()
    try:
        chapter.write_bytes(original + b"\n")
        return _run(["make", "book"], **env)
    finally:
        chapter.write_bytes(original)
        _run(["make", "book"], **env)


def _processor_ticks() -> tuple[int, int] | None:
    """(busy, stolen) clock ticks of all processors since boot, from /proc/stat (Linux only): busy is user, nice,
    system, irq and softirq time; stolen is the time a virtual machine's host ran something else instead."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[0] + fields[1] + fields[2] + fields[5] + fields[6], fields[7]


def _timed(command: list[str]) -> str:
    """Run a make target; its wall time, and the processors' time it kept busy. The second says whether a slower
    run did more work or ran on a slower or busier machine: identical runs here have varied by a fifth."""
    before = _processor_ticks()
    wall = _run(command)
    after = _processor_ticks()
    if before is None or after is None:
        return f"{wall:.0f} s"
    hz = os.sysconf("SC_CLK_TCK")
    busy, stolen = ((a - b) / hz for a, b in zip(after, before, strict=True))
    cores = os.cpu_count() or 1
    return (f"{wall:.0f} s ({busy:.0f} s of the processors' time: {100 * busy / (wall * cores):.0f}% of {cores} "
            f"cores busy; {stolen:.0f} s stolen by the host)")


def yardstick() -> float:
    """Processor seconds a fresh Python takes to import pandas, Altair and Sphinx (best of 3), as every kernel
    and build here does: a figure to compare machines by (a tight pure-Python loop leaves out the memory-bound
    work, loading modules and pages, that the builds and the suite are made of)."""
    import resource

    def once() -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", "import pandas, altair, sphinx.application"], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    return min(once() for _ in range(3))


def check() -> str:
    """`make check`, the inner loop (lint, data/, the tests that need neither a browser nor a built book)."""
    return _timed(["make", "check"])


def suite() -> str:
    """`make test` from an empty _build (the environment and node_modules exist)."""
    shutil.rmtree(ROOT / "_build", ignore_errors=True)
    return _timed(["make", "test"])


# ---------- page weight (issue 19): what Chromium requests for each page, as a static host sends it ----------

COMPRESSIBLE = {".html", ".js", ".css", ".json", ".svg", ".txt", ".map", ".ipynb", ".csv"}
CHART_BUDGET, TEXT_BUDGET, RAW_BUDGET = 500_000, 250_000, 2_000_000
"""Bytes, gzip-compressed for a page with charts and for a text page, and uncompressed for any page."""
FAST_3G = {"offline": False, "latency": 562.5, "downloadThroughput": 1_600_000 / 8 * 0.9,
           "uploadThroughput": 750_000 / 8 * 0.9}
"""Chromium DevTools' "Fast 3G" preset (latency in ms, throughput in bytes per second)."""
FAST_3G_SECONDS = 6.0


def _wire_size(path: Path) -> int:
    """Bytes on the wire from a static host that gzips text, as hosts and web servers do by default."""
    data = path.read_bytes()
    return len(gzip.compress(data, 6)) if path.suffix in COMPRESSIBLE else len(data)


class QuietServer(http.server.ThreadingHTTPServer):
    """A local web server that prints no traceback when a browser closes a connection early (no error)."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve_gzip(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A folder served on a free localhost port, text gzip-compressed when the browser accepts it, as a
    static host does (so that a throttled connection carries the bytes a student's would)."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_head(self):
            path = Path(self.translate_path(self.path))
            if (path.is_file() and path.suffix in COMPRESSIBLE
                    and "gzip" in self.headers.get("Accept-Encoding", "")):
                body = gzip.compress(path.read_bytes(), 6)
                self.send_response(200)
                self.send_header("Content-Type", self.guess_type(str(path)))
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return io.BytesIO(body)
            return super().send_head()

    server = QuietServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def site_pages(html: Path = HTML) -> list[str]:
    """Every page of a built site (theme fragments that Sphinx copies into _static are not pages)."""
    return sorted(str(p.relative_to(html)) for p in html.rglob("*.html") if "_static" not in p.relative_to(html).parts)


def has_charts(html: Path, page: str) -> bool:
    return 'class="vega-chart' in (html / page).read_text(encoding="utf-8")


def requested_files(browser, url: str, page: str, html: Path = HTML) -> list[Path]:
    """The site's files Chromium requests to show a page, its charts and self-checks drawn and the network idle,
    in a fresh context (an empty cache)."""
    context = browser.new_context()
    tab = context.new_page()
    requested: set[str] = set()
    tab.on("request", lambda r: requested.add(r.url))
    tab.goto(f"{url}/{page}", wait_until="load")
    if tab.locator(".vega-chart").count():
        tab.wait_for_function("document.documentElement.dataset.chartsRendered === 'true'", timeout=30000)
    if tab.locator(".self-check").count():
        tab.wait_for_function("document.documentElement.dataset.selfChecksReady === 'true'", timeout=30000)
    tab.wait_for_load_state("networkidle")
    context.close()
    return site_files(requested, url, html)


def site_files(requested, url: str, html: Path = HTML) -> list[Path]:
    """The files of a built site that requested URLs name (requests to `url`, the site's address)."""
    files = {html / unquote(urlparse(u).path).lstrip("/") for u in requested if u.startswith(url)}
    return sorted(f for f in files if f.is_file())


def weight(files: list[Path]) -> tuple[int, int]:
    """(uncompressed, gzip-compressed) bytes of a page's files."""
    return sum(f.stat().st_size for f in files), sum(_wire_size(f) for f in files)


def fast_3g_seconds(browser, url: str, page: str) -> float:
    """Seconds from navigation until every chart of a page is drawn, over Chromium's "Fast 3G" emulation
    (an empty cache, text gzip-compressed by the server)."""
    context = browser.new_context()
    tab = context.new_page()
    cdp = context.new_cdp_session(tab)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", FAST_3G)
    started = time.perf_counter()
    tab.goto(f"{url}/{page}", wait_until="commit", timeout=120000)
    tab.wait_for_function("document.documentElement.dataset.chartsRendered === 'true'", timeout=120000)
    seconds = time.perf_counter() - started
    context.close()
    return seconds


def page_weights() -> tuple[dict[str, tuple[int, int]], tuple[str, float]]:
    """Bytes each page loads with everything it requests; Fast-3G chart drawing time of the heaviest chart page."""
    from playwright.sync_api import sync_playwright

    server, url = serve_gzip(HTML)
    pages = site_pages()
    with sync_playwright() as p:
        browser = launch_chromium(p, LOCAL_ONLY)
        sizes = {page: weight(requested_files(browser, url, page)) for page in pages}
        charted = [page for page in pages if has_charts(HTML, page)]
        heaviest = max(charted, key=lambda page: sizes[page][1], default=None)
        drawn = fast_3g_seconds(browser, url, heaviest) if heaviest else float("nan")
        browser.close()
    server.shutdown()
    return sizes, (heaviest or "-", drawn)


def _submissions(count: int, folder: Path, exercise: str) -> None:
    """Generated submissions: each question right or wrong at random, some with a runtime error."""
    student = nbformat.read(ROOT / "_build/exercises/student" / f"{exercise}.ipynb", as_version=4)
    key = nbformat.read(ROOT / "_build/exercises/key" / f"{exercise}.ipynb", as_version=4)
    solutions = {c.metadata["question"]: c.source for c in key.cells if "question" in c.metadata}
    rng = random.Random(7)
    for n in range(count):
        nb = copy.deepcopy(student)
        for cell in nb.cells:
            qid = cell.metadata.get("question")
            if cell.cell_type == "code" and qid in solutions and rng.random() < 0.7:
                cell.source = solutions[qid]
        if rng.random() < 0.1:
            nb.cells.append(nbformat.v4.new_code_cell("1 / 0"))
        nbformat.write(nb, folder / f"student{n:03d}.ipynb")


def grading_rates(count: int, baseline_count: int, exercise: str) -> dict[str, float]:
    """Submissions per second: brbook grade --jobs 2 against nbclient with a fresh kernel each."""
    from nbclient import NotebookClient

    work = Path(tempfile.mkdtemp(prefix="brbook-bench-"))
    subs = work / "subs"
    subs.mkdir()
    _submissions(count, subs, exercise)
    started = time.perf_counter()
    subprocess.run([str(BIN / "brbook"), "grade", str(subs), "--out", str(work / "out"), "--jobs", "2",
                    "--exercise", exercise], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    ours = count / (time.perf_counter() - started)
    sample = sorted(subs.glob("*.ipynb"))[:baseline_count]
    started = time.perf_counter()
    for path in sample:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(work)}}).execute()
    baseline = len(sample) / (time.perf_counter() - started)
    shutil.rmtree(work, ignore_errors=True)
    return {"brbook": ours, "nbclient": baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-build", action="store_true", help="use the existing _build/html")
    parser.add_argument("--suite", action="store_true", help="also time `make test` from an empty _build")
    parser.add_argument("--skip-site", action="store_true", help="skip page weights and chart drawing")
    parser.add_argument("--skip-grading", action="store_true", help="skip the grading rates")
    parser.add_argument("--skip-check", action="store_true", help="skip timing `make check`")
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=12, help="notebooks run by the nbclient baseline")
    parser.add_argument("--exercise", default="military")
    args = parser.parse_args()
    print(f"this machine: {os.cpu_count()} cores; importing pandas, Altair and Sphinx takes {yardstick():.2f} s "
          "of the processor (compare figures between machines by it)")
    same = True
    if not args.skip_build:
        b = book_builds()
        print(f"cold build, pages executed on every core (make book): {b['cold']:.1f} s")
        print(f"cold build, Jupyter Book on its own: pages executed one after another, Sphinx in one process "
              f"(make book EXECUTE_JOBS=0 SPHINX_JOBS=1): {b['serial']:.1f} s")
        print(f"parallel / serial: {100 * b['cold'] / b['serial']:.0f}% (target <= 50%)")
        ids, rest = b["diff"]
        same = not rest
        print(f"the two sites are byte for byte the same, but for {len(ids)} file(s) that differ only in random ids "
              "(widget model ids, chapter notebooks' cell ids), as any two builds do" if same else
              f"THE TWO BUILDS DIFFER in {len(rest)} file(s): " + ", ".join(rest[:20]))
        warm, local = statistics.median(b["warm"]), statistics.median(b["local"])
        print(f"warm rebuild after editing one chapter, through the build server"
              f"{'' if b['served'] else ' (NONE WAS READY: built by make alone)'}: median {warm:.2f} s of "
              f"{len(b['warm'])} ({min(b['warm']):.2f}-{max(b['warm']):.2f} s) = {100 * warm / b['cold']:.0f}% of cold "
              f"(target <= 10%)")
        print(f"the same without the build server (BRBOOK_BUILD_SERVER=0): median {local:.2f} s of {len(b['local'])} "
              f"({min(b['local']):.2f}-{max(b['local']):.2f} s) = {100 * local / b['cold']:.0f}% of cold")
        print(f"execution time of each page (s): alone (serial build) / beside another kernel (parallel build); "
              f"sum {sum(b['alone'].values()):.1f} / {sum(b['beside'].values()):.1f}")
        for page in b["alone"]:
            print(f"  {page}: {b['alone'][page]:.2f} / {b['beside'].get(page, float('nan')):.2f}")
    if not args.skip_site:
        sizes, (heaviest, drawn) = page_weights()
        for path, (raw, wire) in sorted(sizes.items(), key=lambda kv: -kv[1][1]):
            charts = has_charts(HTML, path)
            print(f"page {path} ({'charts' if charts else 'text'}): {wire / 1e3:.0f} KB gzip-compressed "
                  f"(target <= {(CHART_BUDGET if charts else TEXT_BUDGET) / 1e3:.0f} KB), {raw / 1e3:.0f} KB "
                  f"uncompressed (target <= {RAW_BUDGET / 1e3:.0f} KB), with everything it loads")
        print(f"charts drawn on the heaviest chart page ({heaviest}) over Chromium's Fast 3G: {drawn:.1f} s "
              f"(target <= {FAST_3G_SECONDS:.0f} s)")
    if not args.skip_grading:
        rates = grading_rates(args.submissions, args.baseline, args.exercise)
        print(f"grading: brbook grade --jobs 2: {rates['brbook']:.1f} submissions/s on {args.submissions}; "
              f"nbclient, one fresh kernel each: {rates['nbclient']:.2f} submissions/s on {args.baseline}; "
              f"speed-up {rates['brbook'] / rates['nbclient']:.0f}x (target >= 5x)")
    if not args.skip_check:
        print(f"make check (lint, data/, the tests that need no browser or built book): {check()} "
              "(target <= 60 s)")
    if args.suite:
        print(f"make test from an empty _build (book, instructor edition, bundle, every test): {suite()} "
              "(target <= 300 s)")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
