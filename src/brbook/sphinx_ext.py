"""A small Sphinx extension that keeps every page of the book private and accessible.

- Thebe (live code from a remote Binder) is off in this book, but sphinx-thebe, which Jupyter
  Book always loads, still adds its configuration script (naming a CDN) to every page, and on
  some builds adds it twice, which is a console error. Both scripts are dropped.
- Every executable chapter is also offered as a notebook (``chapters/<name>.ipynb``), written
  here, in the Sphinx process that has already loaded nbformat, and only when its source changed.
- Sphinx marks a bibliography as ``role="list"`` whose entries are ``role="doc-biblioentry"``,
  which is not a list item: screen readers and axe-core reject it. Entries become list items.
- Every page's footer names the book's version, its build date and its licences
  (``brbook.edition``), and every downloadable notebook records the version in its metadata.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx


def _clean_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = []
    seen = set()
    for script in context.get("script_files", []):
        filename = getattr(script, "filename", script)
        body = (getattr(script, "attributes", {}) or {}).get("body", "")
        if (filename and "thebe" in str(filename)) or "THEBE_JS_URL" in body:
            continue
        key = (filename, body)
        if key in seen:
            continue
        seen.add(key)
        scripts.append(script)
    context["script_files"] = scripts
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def _stamp_footer(app: Sphinx, config) -> None:
    from brbook.edition import footer_html

    options = dict(config.html_theme_options or {})
    options["extra_footer"] = (options.get("extra_footer") or "") + footer_html()
    config.html_theme_options = options


def _write_chapter_notebooks(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import jupytext

    from brbook.assets import chapter_name
    from brbook.edition import version

    out = Path(app.outdir) / "chapters"
    out.mkdir(parents=True, exist_ok=True)
    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        if source.suffix != ".md" or "kernelspec:" not in source.read_text(encoding="utf-8")[:400]:
            continue
        target = out / f"{chapter_name(source)}.ipynb"
        stamp = f'"version": "{version()}"'
        if (not target.exists() or target.stat().st_mtime < source.stat().st_mtime
                or stamp not in target.read_text(encoding="utf-8")):
            notebook = jupytext.read(source)
            notebook.metadata.setdefault("brbook", {})["version"] = version()
            jupytext.write(notebook, target, fmt="ipynb")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _stamp_footer)
    app.connect("html-page-context", _clean_page, priority=900)
    app.connect("build-finished", _write_chapter_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
