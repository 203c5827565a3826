"""`make bench`: print the performance figures the README reports (not a test: no pass or fail).

Book: cold build, warm rebuild after touching one chapter, transfer size of every page with all
it loads, time until every chart of the heaviest page is drawn. Grading: submissions per second
for `brbook grade --jobs 2` against one fresh Jupyter kernel per submission (nbclient), on
generated submissions of the military exercise.
"""

from __future__ import annotations

import argparse
import copy
import functools
import gzip
import http.server
import random
import shutil
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
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def _run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def book_builds() -> dict[str, float]:
    """Cold build (no _build/html, no execution cache) and warm rebuild after touching one chapter."""
    shutil.rmtree(ROOT / "_build" / "html", ignore_errors=True)
    shutil.rmtree(ROOT / "_build" / ".jupyter_cache", ignore_errors=True)
    shutil.rmtree(ROOT / "_build" / ".doctrees", ignore_errors=True)
    cold = _run(["make", "book"])
    (ROOT / "book" / "military" / "index.md").touch()
    warm = _run(["make", "book"])
    return {"cold": cold, "warm": warm}


def _serve() -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


COMPRESSIBLE = {".html", ".js", ".css", ".json", ".svg", ".txt", ".map", ".ipynb"}


def _wire_size(path: Path) -> int:
    """Bytes on the wire from a static host that gzips text, as hosts and web servers do by default."""
    data = path.read_bytes()
    return len(gzip.compress(data, 6)) if path.suffix in COMPRESSIBLE else len(data)


def page_weights() -> tuple[dict[str, tuple[int, int]], tuple[str, float]]:
    """Bytes transferred by each page with everything it loads; chart drawing time of the heaviest."""
    from playwright.sync_api import sync_playwright

    server, url = _serve()
    sizes: dict[str, tuple[int, int]] = {}
    pages = sorted(str(p.relative_to(HTML)) for p in HTML.rglob("*.html") if "_static" not in p.parts)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        for path in pages:
            context = browser.new_context()
            page = context.new_page()
            requested: set[str] = set()
            page.on("request", lambda r, seen=requested: seen.add(r.url))
            page.goto(f"{url}/{path}", wait_until="networkidle")
            if page.locator(".vega-chart").count():
                page.wait_for_function("document.documentElement.dataset.chartsRendered === 'true'")
            files = {HTML / unquote(urlparse(u).path).lstrip("/") for u in requested if u.startswith(url)}
            files = [f for f in files if f.is_file()]
            sizes[path] = (sum(f.stat().st_size for f in files), sum(_wire_size(f) for f in files))
            context.close()
        heaviest = max((p for p in pages if "vega-chart" in (HTML / p).read_text(encoding="utf-8")),
                       key=lambda p: (HTML / p).read_text(encoding="utf-8").count("vega-chart"), default=None)
        drawn = float("nan")
        if heaviest:
            context = browser.new_context()
            page = context.new_page()
            started = time.perf_counter()
            page.goto(f"{url}/{heaviest}", wait_until="domcontentloaded")
            page.wait_for_function("document.documentElement.dataset.chartsRendered === 'true'", timeout=30000)
            drawn = time.perf_counter() - started
            context.close()
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
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=12, help="notebooks run by the nbclient baseline")
    parser.add_argument("--exercise", default="military")
    args = parser.parse_args()
    if not args.skip_build:
        builds = book_builds()
        print(f"cold build: {builds['cold']:.1f} s (target <= 90 s)")
        print(f"warm rebuild after touching one chapter: {builds['warm']:.1f} s "
              f"= {100 * builds['warm'] / builds['cold']:.0f}% of cold (target <= 15%)")
    sizes, (heaviest, drawn) = page_weights()
    for path, (raw, wire) in sorted(sizes.items(), key=lambda kv: -kv[1][1]):
        print(f"page {path}: {wire / 1e6:.2f} MB transferred gzip-compressed, {raw / 1e6:.2f} MB uncompressed, "
              "with everything it loads (target <= 1.5 MB)")
    print(f"charts drawn on the heaviest chart page ({heaviest}): {drawn:.2f} s (target <= 1 s)")
    rates = grading_rates(args.submissions, args.baseline, args.exercise)
    print(f"grading: brbook grade --jobs 2: {rates['brbook']:.1f} submissions/s on {args.submissions}; "
          f"nbclient, one fresh kernel each: {rates['nbclient']:.2f} submissions/s on {args.baseline}; "
          f"speed-up {rates['brbook'] / rates['nbclient']:.0f}x (target >= 5x)")


if __name__ == "__main__":
    main()
