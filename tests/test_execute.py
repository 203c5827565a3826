"""brbook.execute and the lighter kernels: pages found in the cache Sphinx reads, and no import a page does not use."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from brbook import execute

from .conftest import ROOT

PAGE = """---
kernelspec:
  name: python3
---
# A page

Some prose.

```{code-cell} ipython3
:tags: [remove-input]
x = 1
```

More prose.
"""


def test_code_digest_follows_code_and_front_matter_not_prose():
    digest = execute.code_digest(PAGE)
    assert execute.code_digest(PAGE.replace("Some prose.", "Other prose.")) == digest
    assert execute.code_digest(PAGE.replace("x = 1", "x = 2")) != digest
    assert execute.code_digest(PAGE.replace("remove-input", "remove-cell")) != digest
    assert execute.code_digest(PAGE.replace("python3", "python2")) != digest
    assert execute.code_digest(PAGE.replace("More prose.", "```{code-cell} ipython3\ny = 2\n```")) != digest


def test_every_notebook_page_is_read_as_myst_nb_reads_it():
    settings = execute.Settings.read(ROOT / "_config.yml")
    pages = execute.pages(ROOT / "_toc.yml")
    notebooks = {p.relative_to(ROOT).as_posix(): execute.read_notebook(p, settings) for p in pages}
    intro = notebooks["book/intro.md"]
    assert intro is None or not any(c.cell_type == "code" for c in intro.cells)
    chapter = notebooks["book/military/index.md"]
    assert chapter.metadata["kernelspec"]["name"] == "python3"
    assert any('book.setup("military")' in c.source for c in chapter.cells if c.cell_type == "code")


def test_the_built_book_read_every_page_from_the_cache_the_executor_fills(built_html):
    """After `make book`, each notebook page is in the cache under the key the executor computes."""
    recorded = execute.recorded_seconds(ROOT / "_toc.yml", ROOT / "_config.yml")
    settings = execute.Settings.read(ROOT / "_config.yml")
    notebooks = {p.relative_to(ROOT).as_posix(): execute.read_notebook(p, settings)
                 for p in execute.pages(ROOT / "_toc.yml")}
    expected = {p for p, nb in notebooks.items() if nb is not None and any(c.cell_type == "code" for c in nb.cells)}
    assert set(recorded) == expected and len(expected) >= 10
    assert all(seconds and seconds > 0 for seconds in recorded.values())


def test_the_built_book_kept_its_compiled_templates_icons_and_formatted_references(built_html):
    """Issue 17: what a rebuild need not redo is kept beside the doctrees by the build that made the site."""
    import pickle

    doctrees = ROOT / "_build" / ".doctrees"
    templates = list((doctrees / "brbook-jinja").glob("__jinja2_*.cache"))
    assert len(templates) >= 10  # the theme's layout, its sections and their parts
    references = pickle.loads((doctrees / "brbook-references.pickle").read_bytes())
    cited = (ROOT / "data" / "references.bib").read_text(encoding="utf-8").count("\n@")
    assert len(references) >= cited and all(f.text.render_as("text") for f in references.values())
    icons = list((doctrees / "brbook-icons").glob("*.css"))  # the icon stylesheet, made once per theme version
    assert [p.read_text(encoding="utf-8") for p in icons] == [(built_html / "_static" / "brbook-icons.css")
                                                              .read_text(encoding="utf-8")]


@pytest.mark.parametrize("chapter, imports, heavy", [
    ("sources", "book, reference", {"altair", "pandera"}),
    ("synthesis", "book, compare, data, reference, selfcheck, widgets", {"altair", "pandera"}),
    ("military", "book, charts, data, excerpts, selfcheck, widgets", {"pandera"}),
])
def test_chapter_set_up_imports_neither_altair_nor_pandera_until_used(chapter, imports, heavy):
    assert imported_after(f"from brbook import {imports}\nbook.setup({chapter!r})", heavy) == []


def imported_after(code: str, modules: set[str]) -> list[str]:
    """Which of ``modules`` a fresh Python has imported once it has run ``code``."""
    probe = f"import sys\n{code}\nprint(sorted(m for m in {sorted(modules)!r} if m in sys.modules))"
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return ast.literal_eval(found.stdout.strip())


@pytest.mark.parametrize("imports, heavy", [
    # a student's exercise notebook imports brbook.exercises for its checks; jupytext, which reads exercise
    # sources and brings Jupyter Server's contents manager, is the build's (about a quarter second a kernel)
    ("from brbook.exercises import StudentChecks", {"jupytext"}),
    # the command line imports pandas in the commands that use it, not for `brbook --help` (1.0 s to 0.3 s)
    ("import brbook.cli", {"pandas", "altair"}),
    # `brbook export` and a merge of shard results read saved records: pandas and Altair are for the sandbox
    # and the report's charts (0.9 s of each export, refused grading run or merge that fails its check)
    ("import brbook.grading as g\nfrom brbook.grading import export\n"
     "[g.merge, g.load_key, g.version_mismatches, g.parse_shard, g.all_graded]", {"pandas", "altair"}),
])
def test_exercise_checks_and_the_command_line_start_light(imports, heavy):
    assert imported_after(imports, heavy) == []


def test_a_chart_still_gets_the_book_theme():
    code = ("from brbook import book, charts, data\nbook.setup('military')\n"
            "fig = charts.events_by_year(data.events(), title='t', description='d')\n"
            "config = fig.spec['config']\n"
            "print(config['font'] == charts.FONT, config['range']['category'] == charts.PALETTE)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert found.stdout.split() == ["True", "True"]


def _run(notebook, folder, forked: bool):
    """Execute ``notebook`` in ``folder`` in a forked kernel (the build's executor) or a fresh one (myst-nb's)."""
    import asyncio
    import copy
    from concurrent.futures import ThreadPoolExecutor

    from jupyter_cache.executors.utils import single_nb_execution

    notebook = copy.deepcopy(notebook)
    if forked:  # in a thread of its own: a worker that drove Playwright has an event loop running
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, execute._execute(str(folder / "page.md"), notebook, 60, False)).result()
    result = single_nb_execution(notebook, cwd=str(folder), timeout=60, allow_errors=False)
    return result.nb, result.time, result.exc_string


@pytest.mark.kernel
def test_a_forked_kernel_runs_in_the_page_folder_warm_and_reports_errors(tmp_path):
    import multiprocessing

    import nbformat

    from brbook.forked_kernels import fork_server

    # grading's sandbox starts the process's own fork server with an IPython shell in it, which a kernel
    # forked from it would trip over: kernels fork from a server of their own
    grading = multiprocessing.get_context("forkserver")
    grading.set_forkserver_preload(["brbook.grading.shell"])
    grading.Process(target=print, args=("",)).start()
    assert fork_server() is not multiprocessing.forkserver._forkserver

    cells = ["import os, sys, random\nprint(os.getcwd())\nprint('pandas' in sys.modules)", "random.random()"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells],
                                        metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                     "display_name": "Python 3"}})
    ran, seconds, error = _run(notebook, tmp_path, forked=True)
    assert error is None and seconds > 0
    assert ran.cells[0].outputs[0]["text"].split() == [str(tmp_path), "True"]  # pandas came with the fork
    fresh, _, _ = _run(notebook, tmp_path, forked=False)
    assert fresh.cells[0].outputs[0]["text"].split() == [str(tmp_path), "False"]
    again, _, _ = _run(notebook, tmp_path, forked=True)  # each fork reseeds its random numbers
    assert again.cells[1].outputs[0]["data"] != ran.cells[1].outputs[0]["data"]
    notebook.cells.append(nbformat.v4.new_code_cell("1 / 0"))
    _, _, error = _run(notebook, tmp_path, forked=True)
    assert "ZeroDivisionError" in error


@pytest.mark.kernel
@pytest.mark.parametrize("page", ["book/media/index.md"])  # charts, self-checks, excerpts, glue
def test_a_forked_kernel_gives_a_page_the_outputs_a_fresh_kernel_gives(page):
    """The build's pages executed in forked kernels are what Jupyter Book's own kernels make of them
    (widget models aside, whose ids are random in any two runs)."""
    import json
    import re

    settings = execute.Settings.read(ROOT / "_config.yml")
    notebook = execute.read_notebook(ROOT / page, settings)
    folder = (ROOT / page).parent
    forked, _, error = _run(notebook, folder, forked=True)
    assert error is None
    fresh, _, _ = _run(notebook, folder, forked=False)

    def outputs(nb) -> str:
        text = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"], sort_keys=True)
        return re.sub(r"[0-9a-f]{32}", "ID", text)

    assert outputs(forked) == outputs(fresh)
    assert len(outputs(fresh)) > 10_000


def test_a_rebuild_compiles_only_charts_it_has_not_compiled(tmp_path, monkeypatch):
    """Issue 17: compiled Vega is kept by the spec's digest, and what is kept is what the compiler gives."""
    import json

    import vl_convert

    from brbook import sphinx_ext

    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "mark": "point",
            "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x", "type": "quantitative"}}}
    body = f'<script type="application/json" class="vega-spec">{json.dumps(spec)}</script>'
    first = sphinx_ext.vega_at_build(body, cache=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 1 and first == sphinx_ext.vega_at_build(body)
    assert 'data-grammar="vega"' in first

    def refuse(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(vl_convert, "vegalite_to_vega", refuse)
    assert sphinx_ext.vega_at_build(body, cache=tmp_path) == first
    with pytest.raises(AssertionError, match="compiled again"):
        sphinx_ext.vega_at_build(body.replace('"point"', '"bar"'), cache=tmp_path)


def test_a_rebuild_draws_only_class_notebook_charts_it_has_not_drawn(tmp_path, monkeypatch):
    """Issue 17: a class notebook's chart picture is kept by its spec's digest (no JavaScript engine started
    for a rebuild after an edit of prose), and what is kept is what vl_convert draws."""
    import vl_convert

    from brbook import notebooks

    spec = {"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x", "type": "quantitative"}}}
    figure = '<figure><figcaption>One point</figcaption></figure>'
    first = notebooks._chart_outputs(spec, figure, tmp_path)
    assert first[0]["data"]["image/svg+xml"] == vl_convert.vegalite_to_svg(spec)
    assert len(list((tmp_path / notebooks.SVG_CACHE).glob("*.svg"))) == 1
    assert first[1]["data"]["text/plain"] == "One point"

    def refuse(*args, **kwargs):
        raise AssertionError("drawn again")

    monkeypatch.setattr(vl_convert, "vegalite_to_svg", refuse)
    assert notebooks._chart_outputs(spec, figure, tmp_path) == first
    with pytest.raises(AssertionError, match="drawn again"):
        notebooks._chart_outputs({**spec, "mark": "bar"}, figure, tmp_path)


def test_a_rebuild_formats_only_references_it_has_not_formatted(tmp_path, monkeypatch):
    """Issue 17: formatted references are kept beside the doctrees, keyed on the style and every field."""
    from types import SimpleNamespace

    import pybtex.database
    import pybtex.plugin
    from pybtex.style.formatting import BaseStyle

    from brbook import sphinx_ext

    bib = pybtex.database.parse_string(
        '@article{a, author = {Ann Author}, title = {One}, journal = {J}, year = {2016}}', "bibtex")
    entry = bib.entries["a"]
    style = pybtex.plugin.find_plugin("pybtex.style.formatting", "alpha")()
    original = BaseStyle.format_entry
    monkeypatch.setattr(BaseStyle, "format_entry", original)  # restored after the test

    def build(format_entry) -> tuple[str, list]:
        BaseStyle.format_entry = format_entry
        finished = []
        sphinx_ext._remember_formatted_references(
            SimpleNamespace(doctreedir=str(tmp_path), connect=lambda event, f: finished.append(f)))
        text = style.format_entry("Aut16", entry).text.render_as("text")
        finished[0](None, None)
        return text, finished

    first, _ = build(original)
    assert (tmp_path / "brbook-references.pickle").exists() and "Ann Author" in first and "One" in first

    def refuse(*args, **kwargs):
        raise AssertionError("formatted again")

    assert build(refuse)[0] == first  # the kept entry, not formatted again
    entry.fields["title"] = "Two"
    with pytest.raises(AssertionError, match="formatted again"):
        build(refuse)


def test_class_notebooks_written_in_a_fork_of_sphinx_report_success_and_failure(built_html, tmp_path):
    """Issue 17: the build forks itself to write the class notebooks beside Sphinx; it waits for the fork's
    report, and a failure there fails the build with the fork's traceback."""
    from brbook import notebooks, sphinx_ext

    written = sphinx_ext._ForkedNotebooks(ROOT, tmp_path / "notebooks")
    assert written.wait() == "" and written.exitcode == 0
    assert sorted(p.name for p in (tmp_path / "notebooks").glob("*.ipynb")) == sorted(notebooks.names(ROOT).values())
    failed = sphinx_ext._ForkedNotebooks(tmp_path / "no-book", tmp_path / "out")
    report = failed.wait()
    assert failed.exitcode == 1 and "Traceback" in report
