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
    """The class notebooks (``brbook.notebooks``), from this build's execution, as ``notebooks/NN-<name>.ipynb``."""
    if exception is not None or app.builder.format != "html" or app.builder.name != "html":
        return
    from brbook import notebooks

    root = Path(app.srcdir)
    if not (root / notebooks.CACHE).exists():
        return
    notebooks.build(root, Path(app.outdir) / "notebooks")
    _write_wheel(root, Path(app.outdir))


def _write_wheel(root: Path, outdir: Path) -> None:
    """The package with its data as a wheel, served beside the notebooks (page "Run the notebooks yourself")."""
    import shutil
    import subprocess
    import tempfile

    from brbook.edition import version

    target = outdir / wheel_name(version())
    uv = root / ".tools" / "bin" / "uv"
    if target.exists() or not uv.exists():
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(uv), "build", "--wheel", "--offline", "--quiet", "--out-dir", tmp, str(root)],
                       check=True, cwd=tmp)
        shutil.copyfile(Path(tmp) / target.name, target)


def wheel_name(version: str) -> str:
    """The wheel's file name, as hatchling writes it."""
    return f"brbook-{version}-py3-none-any.whl"


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _stamp_footer)
    app.connect("html-page-context", _clean_page, priority=900)
    app.connect("build-finished", _write_chapter_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
