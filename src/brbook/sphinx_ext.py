"""A small Sphinx extension that keeps every page of the book private and accessible.

- Thebe (live code from a remote Binder) is off in this book, but sphinx-thebe, which Jupyter
  Book always loads, still adds its configuration script (naming a CDN) to every page, and on
  some builds adds it twice, which is a console error. Both scripts are dropped.
- Sphinx marks a bibliography as ``role="list"`` whose entries are ``role="doc-biblioentry"``,
  which is not a list item: screen readers and axe-core reject it. Entries become list items.
"""

from __future__ import annotations

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


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _clean_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
