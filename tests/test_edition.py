"""The edition: one version everywhere it appears, the licences stated, the citation file valid."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

import brbook
from brbook import bundle, edition

from .conftest import ROOT

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
UV = ROOT / ".tools" / "bin" / "uv"
CFFCONVERT = ["tool", "run", "--from", "cffconvert==2.0.0", "cffconvert", "--validate", "-i"]


def test_package_and_citation_carry_the_pyproject_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert brbook.__version__ == edition.version() == VERSION
    assert cff["version"] == VERSION and cff["references"][0]["version"] == VERSION
    assert f"## {VERSION} " in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_every_page_footer_names_version_date_and_licences(built_html: Path):
    pages = sorted(built_html.rglob("*.html"))
    assert len(pages) > 10
    for path in pages:
        if path.name in ("search.html", "genindex.html") or {"_static", "_sources"} & set(path.parts):
            continue
        text = path.read_text(encoding="utf-8")
        if 'http-equiv="Refresh"' in text:  # the site's index.html only redirects to the first page
            continue
        footer = BeautifulSoup(text, "html.parser").select_one(".brbook-edition")
        assert footer is not None, path
        text = footer.get_text(" ", strip=True)
        assert text.startswith(f"Version {VERSION}, built 20"), (path, text)
        assert "MIT" in text and "CC BY 4.0" in text and "not covered by the book's licence" in text


def test_every_downloadable_notebook_records_the_version_and_the_licence(built_html: Path):
    notebooks = sorted((built_html / "notebooks").glob("*.ipynb"))
    chapters = [p for p in notebooks if p.name[:2].isdigit()]
    assert len(chapters) >= 8 and len(notebooks) - len(chapters) >= 5  # the chapters and the exercises
    for path in notebooks:
        stamp = json.loads(path.read_text(encoding="utf-8"))["metadata"]["brbook"]
        assert stamp["version"] == VERSION and "CC BY 4.0" in stamp["licence"], path
    for path in chapters:
        last = json.loads(path.read_text(encoding="utf-8"))["cells"][-1]
        assert f"version {VERSION}" in "".join(last["source"]) and "not covered" in "".join(last["source"]), path


def test_how_to_cite_page_gives_both_citations_and_links_the_sources(built_html: Path):
    soup = BeautifulSoup((built_html / "book" / "about" / "how-to-cite.html").read_text(encoding="utf-8"),
                         "html.parser")
    bibtex = [pre.get_text() for pre in soup.select("pre.brbook-bibtex")]
    assert len(bibtex) == 2 and all(f"version = {{{VERSION}}}" in b for b in bibtex)
    assert "@misc{brbook-book-" in bibtex[0] and "@misc{brbook-dataset-" in bibtex[1]
    assert any(a.get("href", "").endswith("bibliography.html") for a in soup.select("a"))
    assert "not covered by the book's licence" in soup.select_one(".brbook-licence").get_text()
    changes = (built_html / "book" / "about" / "changelog.html").read_text(encoding="utf-8")
    assert f"{VERSION} (" in changes


@pytest.mark.built  # reads `make bundle`'s zip
def test_bundle_records_the_version_and_the_licences(tmp_path: Path):
    zipped = ROOT / "_build" / "student-bundle.zip"
    if not zipped.exists():
        pytest.fail("_build/student-bundle.zip is missing: run `make bundle` (make test does it first)")
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(tmp_path)
    top = tmp_path / bundle.FOLDER
    assert (top / edition.VERSION_FILE).read_text().strip() == VERSION
    assert "MIT License" in (top / "LICENSE").read_text() and "CC BY 4.0" in (top / "LICENSE-CONTENT.md").read_text()
    for path in top.glob("[0-9][0-9]-*.ipynb"):
        assert json.loads(path.read_text(encoding="utf-8"))["metadata"]["brbook"]["version"] == VERSION, path
    probe = subprocess.run([sys.executable, "-c", "import brbook; print(brbook.__version__, brbook.__file__)"],
                           cwd=top, capture_output=True, text=True, check=True)
    reported, location = probe.stdout.split()
    assert reported == VERSION and Path(location).is_relative_to(top)


def test_wheel_carries_the_version(tmp_path: Path):
    subprocess.run([str(UV), "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    assert [p.name for p in tmp_path.glob("*.whl")] == [f"brbook-{VERSION}-py3-none-any.whl"]


def cffconvert(path: Path) -> subprocess.CompletedProcess:
    """cffconvert's check of a citation file, from uv's cache where it is (asking the index costs 2.6 s, 1.8 s of
    it the processor's), else fetched from the index once."""
    cached = subprocess.run([str(UV), "--offline", *CFFCONVERT, str(path)], capture_output=True, text=True)
    if cached.returncode == 0 or "network was disabled" not in cached.stderr:
        return cached
    return subprocess.run([str(UV), *CFFCONVERT, str(path)], capture_output=True, text=True)


def test_citation_file_is_valid_and_the_check_can_fail(tmp_path: Path):
    good = cffconvert(ROOT / "CITATION.cff")
    assert good.returncode == 0 and "valid" in good.stdout, good.stdout + good.stderr
    broken = tmp_path / "CITATION.cff"
    shutil.copy(ROOT / "CITATION.cff", broken)
    broken.write_text(broken.read_text().replace("authors:\n  - name: The brbook contributors\nversion",
                                                 "version", 1))
    bad = cffconvert(broken)
    assert bad.returncode != 0 and "network was disabled" not in bad.stderr, bad.stderr


def test_every_download_link_resolves_and_chapter_and_exercise_names_differ(built_html: Path):
    targets = {}
    for page in built_html.rglob("*.html"):
        for link in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select("a[download]"):
            if link["href"].startswith("data:"):  # a chart's rows, carried in the link (tests/test_charts.py)
                continue
            target = (page.parent / link["href"].split("#")[0]).resolve()
            assert target.is_file(), f"{page.relative_to(built_html)} links a missing download {link['href']}"
            targets[target.name] = target
    exercises = {n for n in targets if n.startswith("exercise-") and n.endswith(".ipynb")}
    chapters = {n for n in targets if n[:2].isdigit() and n.endswith(".ipynb")}
    assert len(exercises) >= 5 and len(chapters) >= 5
    # a chapter (02-military.ipynb) and its exercise (exercise-military.ipynb) never share a name
    assert {n.removeprefix("exercise-") for n in exercises} == {n[3:] for n in chapters if n[3:] in
                                                                  {e.removeprefix("exercise-") for e in exercises}}
    assert not any(n.endswith(".ipynb") and not (n.startswith("exercise-") or n[:2].isdigit()) for n in targets)
