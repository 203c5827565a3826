"""A small Sphinx extension that keeps every page of the book private and accessible.

- Thebe (live code from a remote Binder) is off in this book, but sphinx-thebe, which Jupyter
  Book always loads, still adds its configuration script (naming a CDN) to every page, and on
  some builds adds it twice, which is a console error. Both scripts are dropped.
- Every executable chapter is also offered as a class notebook (``notebooks/NN-<name>.ipynb``, see
  ``brbook.notebooks``), written here once the build has executed the chapters.
- Sphinx marks a bibliography as ``role="list"`` whose entries are ``role="doc-biblioentry"``,
  which is not a list item: screen readers and axe-core reject it. Entries become list items.
- Every page's footer names the book's version, its build date and its licences
  (``brbook.edition``), and every downloadable notebook records the version in its metadata.
- Light pages (issue 19): the theme's 1.5 MB Font Awesome script is dropped and its icons drawn from a
  small stylesheet (``brbook.icons``); the search index and Sphinx's search code load only on the search
  page (the theme loads them on every page for a search-as-you-type mode the book leaves off). The theme
  writes both into its layout, so they are taken out of each rendered page here. Assets of extensions
  Jupyter Book always loads (sphinx-design, copy and toggle buttons) stay off pages that do not use them,
  and so does the saved ipywidgets state (the book loads no widget manager). With
  ``brbook_vega_at_build`` every chart's Vega-Lite spec is compiled to Vega while the page is written.
- Search that knows the names: every page that names a glossary entry (``data/glossary.csv``) in any
  spelling is indexed under all its spellings (a node the search index reads and no writer shows), and
  the search page shows the sentence that matches, in any spelling, not the page's table of contents.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

from brbook.kept import kept

SEARCH_JS = "brbook-search.js"
_FONTAWESOME = re.compile(r'[ \t]*<script[^>]*src="[^"]*_static/scripts/fontawesome\.js[^"]*"[^>]*></script>\n?')
_SEARCH_SCRIPTS = re.compile(r'[ \t]*<script[^>]*src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|'
                             r'searchindex\.js)[^"]*"[^>]*></script>\n?')
_VEGA_SPEC = re.compile(r'(<script type="application/json" class="vega-spec")(>)(.*?)(</script>)', re.S)


def vega_at_build(body: str, originals: list[dict] | None = None, cache: Path | None = None) -> str:
    """Every chart's Vega-Lite spec in a page body compiled to Vega (``vl_convert``, the Vega-Lite version the
    site vendors), so that the browser needs Vega and vega-embed but not the Vega-Lite compiler.
    ``originals``, if given, receives every chart's spec as the page had it, in page order; ``cache``, if
    given, is a folder that keeps each compiled spec by its digest (a rebuild compiles only changed charts)."""

    def compile_one(match: re.Match) -> str:
        spec = json.loads(match.group(3))
        if originals is not None:
            originals.append(spec)
        if "vega-lite" not in spec.get("$schema", ""):
            return match.group(0)
        def compiled() -> str:
            import vl_convert

            vega = vl_convert.vegalite_to_vega(spec, vl_version=VEGA_LITE_VERSION)
            return json.dumps(vega, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")

        text = kept(cache, VEGA_LITE_VERSION + match.group(3), compiled, ".json")
        return f'{match.group(1)} data-grammar="vega"{match.group(2)}{text}{match.group(4)}'

    return _VEGA_SPEC.sub(compile_one, body)


def vega_lite_specs_path(outdir: Path, pagename: str) -> Path:
    """Where a page's charts are kept as the Vega-Lite the book wrote, beside the site and not in it: the
    tests read encodings, colours and labels there, which the compiled Vega spreads over scales and marks."""
    return Path(outdir).parent / "vega-lite" / f"{pagename}.json"


def _keep_vega_lite(app: Sphinx, pagename: str, specs: list[dict]) -> None:
    target = vega_lite_specs_path(app.outdir, pagename)
    if specs:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(specs, ensure_ascii=False), encoding="utf-8")
    else:
        target.unlink(missing_ok=True)


VEGA_LITE_VERSION = "6.4"
"""The Vega-Lite release vendored under vendor/ (package-lock.json: vega-lite 6.4.1, with vega 6.2.0)."""


_PER_PAGE_ASSETS = {
    # file name part -> what in a page body uses it: the extensions Jupyter Book always loads add them to
    # every page, used or not (sphinx-design's 55 KB stylesheet is used by no page of this book)
    "sphinx-design": re.compile(r'class="[^"]*\bsd-'),
    "design-tabs": re.compile(r'class="[^"]*\bsd-tab'),
    "copybutton": re.compile(r'class="highlight'),
    "clipboard.min": re.compile(r'class="highlight'),
    "togglebutton": re.compile(r'class="[^"]*\b(toggle|dropdown|tag_hide-)'),
}


def _clean_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = []
    seen = set()
    for script in context.get("script_files", []):
        filename = getattr(script, "filename", script)
        attributes = getattr(script, "attributes", {}) or {}
        body = attributes.get("body", "")
        if (filename and "thebe" in str(filename)) or "THEBE_JS_URL" in body:
            continue
        if attributes.get("type") == "application/vnd.jupyter.widget-state+json":
            continue  # saved ipywidgets state: the book shows widgets' static HTML and loads no widget manager
        key = (filename, body)
        if key in seen:
            continue
        seen.add(key)
        scripts.append(script)
    body = context.get("body", "")
    unused = [name for name, pattern in _PER_PAGE_ASSETS.items() if not pattern.search(body)]

    def used(asset) -> bool:
        return not any(name in str(getattr(asset, "filename", asset)) for name in unused)

    context["script_files"] = [script for script in scripts if used(script)]
    unused.append("thebe")
    context["css_files"] = [css for css in context.get("css_files", []) if used(css)]
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')
        if app.config.brbook_vega_at_build:
            specs: list[dict] = []
            context["body"] = vega_at_build(context["body"], specs, Path(app.doctreedir) / "brbook-vega")
            _keep_vega_lite(app, pagename, specs)


def _search_page_script(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """The search page, and only it, loads the result summaries (after searchtools.js: deferred)."""
    if pagename == "search":
        app.add_js_file(SEARCH_JS, defer="defer")


def _stamp_footer(app: Sphinx, config) -> None:
    from brbook.edition import footer_html

    options = dict(config.html_theme_options or {})
    options["extra_footer"] = (options.get("extra_footer") or "") + footer_html()
    config.html_theme_options = options


def _start_chapter_notebooks(app: Sphinx) -> None:
    """Start writing the class notebooks and the wheel beside Sphinx's own work, when every chapter's
    execution is already in the cache (``make book`` executes the pages before Sphinx starts); otherwise
    they are written once the build has executed them (:func:`_write_chapter_notebooks`)."""
    if app.builder.format != "html" or app.builder.name != "html":
        return
    from brbook import bundle, execute, notebooks

    root, out = Path(app.srcdir), Path(app.outdir)
    config = root / "_config.yml"  # an edition's own configuration names the same cache
    if not config.exists() or not (root / notebooks.CACHE).exists() \
            or not execute.all_cached(bundle.chapter_sources(root), execute.Settings.read(config, root)):
        return
    folder = tempfile.TemporaryDirectory()
    app.brbook_background = (  # type: ignore[attr-defined]
        _ForkedNotebooks(root, out / "notebooks"), _start_wheel(root, out, folder.name), folder)


class _ForkedNotebooks:
    """The class notebooks written by a fork of this Sphinx process, which has already imported most of what
    they need (jupyter-cache and its database layer, nbformat): a fresh interpreter would spend ~0.7 s
    importing them again, which a rebuild after one edit waits for at its end."""

    def __init__(self, root: Path, out: Path):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._reader, writer = context.Pipe(duplex=False)
        self._process = context.Process(target=_write_notebooks_in_fork, args=(root, out, writer))
        self._process.start()
        writer.close()

    def wait(self) -> str:
        """Wait for the fork: its error report, or "" when every notebook is written."""
        try:
            report = self._reader.recv()
        except EOFError:
            report = "it ended without a report"
        self._process.join()
        return report or (f"it ended with exit code {self.exitcode}" if self.exitcode else "")

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode


def _write_notebooks_in_fork(root: Path, out: Path, pipe) -> None:
    import traceback

    from brbook import notebooks

    try:
        notebooks.build(root, out)
    except BaseException:
        pipe.send(traceback.format_exc())
        raise SystemExit(1) from None
    pipe.send("")


def _write_chapter_notebooks(app: Sphinx, exception) -> None:
    """The class notebooks (``brbook.notebooks``), from this build's execution, as ``notebooks/NN-<name>.ipynb``,
    and the wheel beside them: waited for when :func:`_start_chapter_notebooks` started them, else written now."""
    background = getattr(app, "brbook_background", None)
    if background is not None:
        del app.brbook_background
        writing, building, folder = background
        with folder:
            failure = writing.wait()
            if exception is not None or failure:
                _finish_wheel(building, None, Path(app.outdir))
                if exception is None:
                    from sphinx.errors import ExtensionError

                    raise ExtensionError(f"writing the class notebooks failed:\n{failure}")
                return
            _finish_wheel(building, Path(folder.name), Path(app.outdir))
        return
    if exception is not None or app.builder.format != "html" or app.builder.name != "html":
        return
    from brbook import notebooks

    root = Path(app.srcdir)
    if not (root / notebooks.CACHE).exists():
        return
    notebooks.build(root, Path(app.outdir) / "notebooks")
    _write_wheel(root, Path(app.outdir))


def _start_wheel(root: Path, outdir: Path, folder: str) -> subprocess.Popen | None:
    """``uv build`` of the wheel into ``folder``, started (None when the site has it or uv is missing)."""
    from brbook.edition import version

    uv = root / ".tools" / "bin" / "uv"
    if (outdir / wheel_name(version())).exists() or not uv.exists():
        return None
    return subprocess.Popen([str(uv), "build", "--wheel", "--offline", "--quiet", "--out-dir", folder, str(root)],
                            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish_wheel(building: subprocess.Popen | None, folder: Path | None, outdir: Path) -> None:
    """Wait for the wheel's build and copy the wheel into the site (``folder`` None: wait only)."""
    if building is None:
        return
    output = building.communicate()[0]
    if folder is None:
        return
    if building.returncode:
        raise RuntimeError(f"uv build failed:\n{output}")
    from brbook.edition import version

    shutil.copyfile(folder / wheel_name(version()), outdir / wheel_name(version()))


def _write_wheel(root: Path, outdir: Path) -> None:
    """The package with its data as a wheel, served beside the notebooks (page "Run the notebooks yourself")."""
    with tempfile.TemporaryDirectory() as tmp:
        _finish_wheel(_start_wheel(root, outdir, tmp), Path(tmp), outdir)


def wheel_name(version: str) -> str:
    """The wheel's file name, as hatchling writes it."""
    return f"brbook-{version}-py3-none-any.whl"


def lighten(html: str, pagename: str) -> str:
    """A rendered page without the Font Awesome script, and without the search code but on the search page."""
    html = _FONTAWESOME.sub("", html)
    return html if pagename == "search" else _SEARCH_SCRIPTS.sub("", html)


def _lighten_pages(app: Sphinx) -> None:
    """Wrap the HTML builder's template rendering (Sphinx has no event after a page is rendered) and write
    the icon and search stylesheets and scripts into the site's ``_static``."""
    if app.builder.format != "html":
        return
    from brbook import icons

    render = app.builder.templates.render

    def render_light(template: str, context: dict) -> str:
        return lighten(render(template, context), context.get("pagename", ""))

    app.builder.templates.render = render_light
    static = Path(app.outdir) / "_static"
    icons.write(static, Path(app.doctreedir) / "brbook-icons")
    app.add_css_file(icons.FILENAME, priority=900)
    (static / SEARCH_JS).write_text(search_script(name_groups(Path(app.srcdir) / "data" / "glossary.csv")),
                                    encoding="utf-8")


# ---------- search that knows the names ----------

class search_terms(nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """Other spellings of names a page uses: read by the search index, shown by no writer."""


def _skip(self, node) -> None:
    raise nodes.SkipNode


def name_groups(glossary: Path) -> list[list[str]]:
    """Each glossary entry's spellings: its term, then its variants (the ``|``-separated column)."""
    if not glossary.exists():
        return []
    with glossary.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    groups = []
    for row in rows:
        names = [row["term"].strip()] + [v.strip() for v in (row.get("variants") or "").split("|")]
        names = list(dict.fromkeys(n for n in names if n))
        if len(names) > 1:
            groups.append(names)
    return groups


@functools.lru_cache(maxsize=2)
def _cached_groups(glossary: Path, mtime: float) -> list[list[str]]:
    return name_groups(glossary)


@functools.cache
def _names_pattern(name: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE)


def visible_text(doctree) -> str:
    """A page's text as the search index reads it: raw HTML without its scripts, styles and tags (an
    explorer's JSON data names people the page itself may not show)."""
    parts = []
    for node in doctree.findall(lambda n: isinstance(n, (nodes.Text, nodes.raw))):
        if isinstance(node, nodes.raw):
            if "html" in node.get("format", "").split():
                html = re.sub(r"<(script|style)\b.*?</\1>", " ", node.astext(), flags=re.S | re.I)
                parts.append(re.sub(r"<[^<]+?>", " ", html))
        elif not isinstance(node.parent, (nodes.raw, nodes.comment)):
            parts.append(node.astext())
    return " ".join(parts)


def _index_spellings(app: Sphinx, doctree, docname: str) -> None:
    """Give a page that names a glossary entry in one spelling every other spelling, for the search index."""
    if app.builder.format != "html":
        return
    glossary = Path(app.srcdir) / "data" / "glossary.csv"
    text = visible_text(doctree)
    folded = text.lower()  # a cheap first test: a name the pattern finds is in the text in lower case
    extra = []  # every spelling, even one the page has: the index may have glued it to the next word
    for group in _cached_groups(glossary, glossary.stat().st_mtime if glossary.exists() else 0):
        if any(name.lower() in folded and _names_pattern(name).search(text) for name in group):
            extra.extend(group)
    if extra:
        doctree += search_terms("", nodes.Text(" ".join(extra)))


def search_script(groups: list[list[str]]) -> str:
    """The search page's script: result summaries that show the matching sentence, found in any spelling."""
    return _SEARCH_JS.replace("GROUPS", json.dumps(groups, ensure_ascii=False))


_SEARCH_JS = r"""/* brbook-search.js (written by brbook.sphinx_ext): the search page shows, under each result, the
 * sentence that matches the query, in whichever spelling of a name the page uses (data/glossary.csv). */
(function () {
  "use strict";
  var groups = GROUPS;
  var SKIP = ".headerlink, script, style, nav, .bd-toc, .bd-header-article, .header-article, .bd-sidebar-secondary, " +
             ".prev-next-area, .bd-footer-article, footer, .cell_input";

  function lower(s) { return s.toLowerCase(); }
  function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  /* Words to look for: each query stem, then every spelling of a glossary entry the stem names. */
  function candidates(keywords) {
    var words = [];
    keywords.forEach(function (k) { words.push(lower(k)); });
    keywords.forEach(function (k) {
      var stem = lower(k);
      groups.forEach(function (names) {
        var hit = names.some(function (n) {
          return lower(n).split(/[^\wЀ-ӿ]+/).some(function (w) { return w && w.indexOf(stem) === 0; });
        });
        if (hit) names.forEach(function (n) { words.push(lower(n)); });
      });
    });
    return words.filter(function (w, i) { return w && words.indexOf(w) === i; });
  }

  function blocks(htmlString, anchor) {
    var doc = new DOMParser().parseFromString(htmlString, "text/html");
    var main = (anchor && doc.querySelector('[role="main"] ' + anchor)) || doc.querySelector('[role="main"]');
    if (!main) return [];
    Array.prototype.forEach.call(main.querySelectorAll(SKIP), function (el) { el.remove(); });
    var found = main.querySelectorAll("p, li, dd, dt, td, th, blockquote, figcaption, h1, h2, h3, h4");
    var texts = Array.prototype.map.call(found, function (el) {
      return el.textContent.replace(/\s+/g, " ").trim();
    }).filter(Boolean);
    texts.push(main.textContent.replace(/\s+/g, " ").trim());  /* a name in a table or figure: the whole text */
    return texts;
  }

  function sentenceAround(text, at) {
    var start = 0, end = text.length, re = /[.!?]["”’)]?\s+(?=["“‘(]?[A-Z0-9Ѐ-ӿ])/g, m;
    while ((m = re.exec(text))) {
      var cut = m.index + m[0].length;
      if (cut <= at) start = cut; else { end = m.index + m[0].length; break; }
    }
    return [start, end];
  }

  Search.makeSearchSummary = function (htmlText, keywords, anchor) {
    var texts = blocks(htmlText, anchor), words = candidates(Array.from(keywords));
    for (var w = 0; w < words.length; w++) {
      var re = new RegExp("(^|[^\\w\u0400-\u04ff])(" + escapeRe(words[w]) + "[\\w\u0400-\u04ff'\u2019-]*)", "i");
      for (var b = 0; b < texts.length; b++) {
        var m = re.exec(texts[b]);
        if (!m) continue;
        var at = m.index + m[1].length, span = sentenceAround(texts[b], at);
        var start = Math.max(span[0], at - 160), end = Math.min(span[1], at + m[2].length + 160);
        var summary = document.createElement("p"), mark = document.createElement("mark");
        summary.classList.add("context", "brbook-match");
        mark.textContent = texts[b].slice(at, at + m[2].length);
        summary.append((start > span[0] ? "…" : "") + texts[b].slice(start, at), mark,
                       texts[b].slice(at + m[2].length, end).trimEnd() + (end < span[1] ? "…" : ""));
        return summary;
      }
    }
    var first = document.createElement("p");  /* matched in a title only: the page's first sentence */
    first.classList.add("context");
    var text = texts.filter(function (t) { return t.length > 60 && !/^Download this/.test(t); })[0] || "";
    first.textContent = text.slice(0, sentenceAround(text, 0)[1]).slice(0, 300).trim();
    return first;
  };
})();
"""


# ---------- work a rebuild need not redo, kept beside the doctrees (gone with them on a cold build) ----------

def _cache_compiled_templates(app: Sphinx) -> None:
    """Jinja compiles each theme template in each process that renders a page (~0.5 s a build); its
    bytecode cache keeps them, keyed on the template's text, for the next build."""
    if app.builder.format != "html":
        return
    from jinja2 import FileSystemBytecodeCache

    folder = Path(app.doctreedir) / "brbook-jinja"
    folder.mkdir(parents=True, exist_ok=True)
    app.builder.templates.environment.bytecode_cache = FileSystemBytecodeCache(str(folder))


def _remember_bibtex_plugins() -> None:
    """pybtex (sphinxcontrib-bibtex) looks each of its plugins up among every installed package's entry points
    each time it formats the references (~1 s a build); the plugins do not change while Sphinx runs."""
    import pybtex.plugin

    if not hasattr(pybtex.plugin._load_entry_point, "cache_info"):  # once a process
        pybtex.plugin._load_entry_point = functools.cache(pybtex.plugin._load_entry_point)


def _remember_formatted_references(app: Sphinx) -> None:
    """sphinxcontrib-bibtex formats every reference again with pybtex on each build (~0.5 s), though
    nothing changed: the formatted entries are kept, keyed on the style and every field of the entry."""
    import pickle

    from pybtex.style.formatting import BaseStyle

    path = Path(app.doctreedir) / "brbook-references.pickle"
    try:
        known = pickle.loads(path.read_bytes())
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        known = {}
    fresh: dict = {}
    format_entry = getattr(BaseStyle.format_entry, "__wrapped__", BaseStyle.format_entry)  # one wrapper a process

    def remembered(self, label, entry, bib_data=None):
        if bib_data is not None:  # cross-references read other entries: not kept
            return format_entry(self, label, entry, bib_data=bib_data)
        key = hashlib.sha256(pickle.dumps((
            type(self).__module__, type(self).__qualname__, label, entry.key, entry.type,
            sorted((k, str(v)) for k, v in entry.fields.items()),
            sorted((role, [str(p) for p in people]) for role, people in entry.persons.items()),
            type(self.name_style).__qualname__, type(self.label_style).__qualname__, self.abbreviate_names,
        ))).hexdigest()
        if key not in known:
            known[key] = format_entry(self, label, entry, bib_data=bib_data)
        fresh[key] = known[key]
        return known[key]

    def save(app: Sphinx, exception) -> None:
        if exception is None and fresh:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(fresh))
            tmp.replace(path)

    remembered.__wrapped__ = format_entry  # type: ignore[attr-defined]
    BaseStyle.format_entry = remembered
    app.connect("build-finished", save)


def setup(app: Sphinx) -> dict:
    app.add_config_value("brbook_vega_at_build", False, "html", bool)
    app.connect("config-inited", _stamp_footer)
    app.connect("builder-inited", _lighten_pages)
    app.connect("builder-inited", _start_chapter_notebooks)
    app.connect("builder-inited", _cache_compiled_templates)
    app.connect("builder-inited", _remember_formatted_references)
    _remember_bibtex_plugins()
    app.add_node(search_terms, **{writer: (_skip, None) for writer in ("html", "latex", "text", "man", "texinfo")})
    app.connect("doctree-resolved", _index_spellings)
    app.connect("html-page-context", _search_page_script)
    app.connect("html-page-context", _clean_page, priority=900)
    app.connect("build-finished", _write_chapter_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
