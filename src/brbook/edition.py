"""Which edition of the book this is, under what licence, and how to cite it.

One version, read from ``pyproject.toml``, stamps every page footer, downloadable notebook, the
student bundle and each exercise key, so an instructor can tell which text a class read and which
questions a notebook was built with. The citation is read from ``CITATION.cff``, so the "How to
cite" page, the README and the file citation tools read can never disagree.
"""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from functools import cache
from importlib import metadata

from brbook import layout

VERSION_FILE = "VERSION.txt"
"""Where the student bundle, which has no ``pyproject.toml``, records its version."""
CODE_LICENCE = "MIT"
CONTENT_LICENCE = "CC BY 4.0"
CONTENT_LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
EXCERPTS_NOTICE = ("Quoted excerpts remain their authors' and publishers' work, quoted with attribution for "
                   "teaching and criticism; they are not covered by the book's licence.")


LICENCE_SUMMARY = (f"Code: {CODE_LICENCE}. Chapters, exercises and data: {CONTENT_LICENCE} ({CONTENT_LICENCE_URL}). "
                   + EXCERPTS_NOTICE)
"""The licence line every download carries (in its metadata, and as the last cell of a class notebook)."""


def stamp() -> dict[str, str]:
    """The edition's record in a downloadable notebook's metadata."""
    return {"version": version(), "licence": LICENCE_SUMMARY}


def notebook_footer() -> str:
    """The Markdown closing a class notebook: the version, the licence and how to cite."""
    return (f"---\n*Belarus and Russia: reading the sources*, version {version()}. {LICENCE_SUMMARY} "
            "To cite the book or its dataset, see its page \"How to cite and reuse this book\".")


@cache
def version() -> str:
    """The book's version: ``pyproject.toml`` in the repository, else the bundle's record, else the wheel's."""
    pyproject = layout.ROOT / "pyproject.toml"
    if pyproject.exists():
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    recorded = layout.ROOT / VERSION_FILE
    if recorded.exists():
        return recorded.read_text(encoding="utf-8").strip()
    try:
        return metadata.version("brbook")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_date() -> str:
    """Today's date (UTC), or ``SOURCE_DATE_EPOCH``'s, so a rebuild can reproduce a page byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.date().isoformat()


def footer_html() -> str:
    """The licence, version and build date line under every page."""
    return (f"<p class=\"brbook-edition\">Version {version()}, built {build_date()}. "
            f"Code: {CODE_LICENCE}. Chapters, exercises and data: "
            f"<a href=\"{CONTENT_LICENCE_URL}\" rel=\"license\">{CONTENT_LICENCE}</a>. "
            f"{EXCERPTS_NOTICE}</p>")


@cache
def citation_file() -> dict:
    """``CITATION.cff`` as a mapping (only in the repository)."""
    import yaml

    return yaml.safe_load((layout.ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def _authors(entry: dict) -> str:
    return " and ".join(a.get("name") or f"{a['family-names']}, {a['given-names']}" for a in entry["authors"])


def citations() -> dict[str, dict[str, str]]:
    """Author–year text and BibTeX for the book and for its dataset, from ``CITATION.cff``."""
    cff = citation_file()
    result = {}
    for key, entry, kind in (("book", cff, "Interactive teaching book"),
                             ("dataset", cff["references"][0], "Dataset")):
        year = str(entry["date-released"])[:4]
        authors = _authors(entry)
        text = f"{authors} ({year}). {entry['title']}. {kind}, version {entry['version']}."
        bibtex = (f"@misc{{brbook-{key}-{entry['version']},\n"
                  f"  author = {{{{{authors}}}}},\n"
                  f"  title = {{{{{entry['title']}}}}},\n"
                  f"  year = {{{year}}},\n"
                  f"  version = {{{entry['version']}}},\n"
                  f"  note = {{{kind}; licence {', '.join(_as_list(entry['license']))}}}\n"
                  f"}}")
        result[key] = {"text": text, "bibtex": bibtex}
    return result


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def citation_block():
    """The "How to cite" page's citations: author–year text and BibTeX, for the book and the dataset."""
    import html

    from IPython.display import HTML

    parts = []
    for key, heading in (("book", "The book"), ("dataset", "The dataset (the tables in data/)")):
        cite = citations()[key]
        parts.append(f"<h3>{heading}</h3><p class=\"brbook-citation\">{html.escape(cite['text'])}</p>"
                     f"<pre class=\"brbook-bibtex\"><code>{html.escape(cite['bibtex'])}</code></pre>")
    return HTML("".join(parts))


def licence_block():
    """What may be reused and under which terms: the same words as ``LICENSE-CONTENT.md``, in brief."""
    from IPython.display import HTML

    return HTML(
        "<ul class=\"brbook-licence\">"
        f"<li><strong>Code</strong> (the <code>brbook</code> package, tests, build files): {CODE_LICENCE}.</li>"
        "<li><strong>Chapters, exercises and the tables in <code>data/</code></strong> (their selection, "
        f"structure, ids, descriptions, dates and notes): <a href=\"{CONTENT_LICENCE_URL}\" rel=\"license\">"
        f"{CONTENT_LICENCE}</a>. Credit &ldquo;Belarus and Russia: reading the sources, by the brbook "
        f"contributors&rdquo;, version {version()}, and say what you changed.</li>"
        f"<li><strong>Quoted excerpts</strong>: {EXCERPTS_NOTICE} To reuse a quotation beyond that, ask its "
        "rights holder.</li></ul>")
