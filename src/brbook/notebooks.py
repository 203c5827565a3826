"""The class notebooks: the chapters as executed Jupyter notebooks that read as prose.

One set of notebooks serves the book's download links, ``make lab`` and the student bundle:
``01-sources.ipynb``, ``02-military.ipynb`` … in reading order. Each is the chapter's MyST source
merged with the outputs of the book's own execution (the jupyter-cache that ``make book`` fills),
so its tables and charts show before anything runs. Then, because JupyterLab knows no MyST:

- roles become Markdown: ``{ref}``/``{doc}`` links to the other notebooks (plain text for pages
  that are not notebooks), ``{cite:p}``/``{cite:t}`` author–year text linked to a reference list
  that replaces ``{bibliography}``, ``{glue:text}`` the glued number; ``(label)=`` lines go;
  admonitions become quoted blocks with a bold title;
- a self-check cell (``selfcheck.show("<id>")``; its definition lives in ``exercises/selfchecks/``, which no
  class folder or bundle holds) keeps no source that names its answer or feedback: it becomes
  ``widgets.self_check("<token>")``, the token holding only what the book's page holds (a salted
  hash of the answer and masked feedback), and its stored output is the question and options;
- a chart's stored output is its drawing (SVG, from the same spec) with its caption; run, it is a
  live chart with its controls (:class:`brbook.widgets.LiveChart`);
- explorers keep their snapshot until run; links into the web book are dropped from outputs.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import html
import json
import re
from pathlib import Path

import nbformat

from brbook.assets import chapter_name
from brbook.bundle import notebook_name
from brbook.edition import notebook_footer, stamp, version
from brbook.kept import kept

CACHE = Path("_build") / ".jupyter_cache"
SETUP = '''try:
    from brbook import progress
    progress.start()
{imports}
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        "This notebook needs the brbook package and its data: pip install the wheel "
        "brbook-{version}-py3-none-any.whl (see the book's page 'Run the notebooks yourself'), or open it "
        "from the unzipped student bundle after `pip install -r requirements.txt`. "
        "Then restart the kernel.") from missing
{rest}'''
"""The class notebooks' first cell: says what to install where brbook is missing; prints nothing."""

ROLE = re.compile(r"\{(ref|doc|cite:p|cite:t|glue:text|glue)\}`([^`]*)`")
LABEL = re.compile(r"^\((?P<label>[\w:-]+)\)=\s*$")
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*$")


def names(root: Path) -> dict[str, str]:
    """Each class chapter's docname (``book/military/index``) mapped to its notebook's file name."""
    from brbook.bundle import chapter_sources

    return {str(src.relative_to(root).with_suffix("")): notebook_name(n, src)
            for n, src in enumerate(chapter_sources(root), start=1)}


def anchor(title: str) -> str:
    """JupyterLab's id for a heading: its text with spaces as hyphens."""
    return re.sub(r"\s+", "-", re.sub(r"[`*_]", "", title).strip())


def labels(root: Path) -> dict[str, tuple[str, str]]:
    """``(label)=`` targets of every page: label -> (docname, heading that follows)."""
    found = {}
    for path in sorted((root / "book").rglob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            match = LABEL.match(line)
            if not match:
                continue
            title = next((HEADING.match(x)["title"] for x in lines[n + 1:n + 4] if HEADING.match(x)), "")
            found[match["label"]] = (str(path.relative_to(root).with_suffix("")), title)
    return found


class References:
    """Author–year citations and reference entries from ``data/references.bib``."""

    def __init__(self, bib: Path):
        from pybtex.database import parse_file

        self.entries = parse_file(str(bib)).entries

    @staticmethod
    def _name(person) -> str:
        return " ".join(person.last_names).replace("{", "").replace("}", "")

    def _year(self, key: str) -> str:
        return self.entries[key].fields.get("year", "n.d.").replace("--", "–")

    def authors(self, key: str) -> str:
        people = self.entries[key].persons.get("author", [])
        names = [self._name(p) for p in people]
        if not names:
            return self.entries[key].fields.get("title", key).replace("{", "").replace("}", "")
        return names[0] + " et al." if len(names) > 2 else " and ".join(names)

    def cite(self, keys: list[str], textual: bool) -> str:
        """As the rest of the book names a source (``brbook.data.cite``), linked to the reference list."""
        from brbook.data import cite

        parts = []
        for key in keys:
            try:
                label = cite(key)
            except (KeyError, IndexError, ValueError):
                label = f"{self.authors(key)} ({self._year(key)})"
            if not textual:
                label = re.sub(r" \((.*)\)$", r", \1", label)
            parts.append(f"[{label}](#References)")
        return "; ".join(parts) if textual else "(" + "; ".join(parts) + ")"

    def entry(self, key: str) -> str:
        fields = self.entries[key].fields
        people = self.entries[key].persons.get("author", [])
        who = ", ".join(" ".join(p.first_names + p.last_names) for p in people).replace("{", "").replace("}", "")
        title = fields.get("title", "").replace("{", "").replace("}", "").replace("`", "‘")
        where = fields.get("institution") or fields.get("howpublished") or fields.get("publisher") or ""
        text = f"{who + '. ' if who else ''}*{title}*. {where + ', ' if where else ''}{self._year(key)}."
        return text.replace("--", "–")


class Converter:
    """MyST Markdown of one chapter -> Markdown that JupyterLab renders."""

    def __init__(self, root: Path, docname: str, glued: dict[str, object]):
        self.root = root
        self.docname = docname
        self.glued = glued
        self.names = names(root)
        self.labels = labels(root)
        self.refs = References(root / "data" / "references.bib")
        self.cited: list[str] = []

    def _bib_key(self, key: str) -> str:
        key = key.strip()
        if key in self.refs.entries:
            return key
        return key.split("-", 1)[1] if "-" in key and key.split("-", 1)[1] in self.refs.entries else key

    def _link(self, text: str, docname: str, title: str = "") -> str:
        target = self.names.get(docname)
        if target is None:
            return f"*{text}* (a page of the web book)"
        if docname == self.docname:
            return f"[{text}](#{anchor(title)})" if title else text
        return f"[{text}]({target}{'#' + anchor(title) if title else ''})"

    def _role(self, match: re.Match) -> str:
        role, body = match.group(1), match.group(2)
        explicit = re.match(r"^(?P<text>.*?)\s*<(?P<target>[^>]+)>$", body, re.S)
        text, target = (explicit["text"], explicit["target"]) if explicit else ("", body)
        if role == "ref":
            docname, title = self.labels.get(target, ("", target))
            top = not docname or title == self._doc_title(docname)
            return self._link(text or title, docname, "" if top else title)
        if role == "doc":
            docname = str(Path(self.docname).parent / target) if not target.startswith("/") else target[1:]
            docname = str(Path(docname))
            title = self._doc_title(docname)
            return self._link(text or title, docname)
        if role.startswith("cite"):
            keys = [self._bib_key(k) for k in target.split(",")]
            self.cited += [k for k in keys if k not in self.cited]
            return self.refs.cite(keys, textual=role == "cite:t")
        name, _, spec = target.partition(":")
        value = self.glued.get(name)
        if value is None:
            raise KeyError(f"{self.docname}: nothing glued under {name!r} (run `make book` first)")
        return format(value, spec) if spec else str(value)

    def _doc_title(self, docname: str) -> str:
        return page_title(self.root / f"{docname}.md", docname)

    def _bibliography(self, heading: bool = True) -> str:
        if not self.cited:
            return ""
        items = "\n".join(f"- {self.refs.entry(k)}" for k in sorted(self.cited, key=self.refs.authors))
        return f"## References\n\n{items}\n" if heading else f"{items}\n"

    def convert(self, text: str) -> str:
        """One Markdown cell's text, converted."""
        out: list[str] = []
        lines = text.splitlines()
        n = 0
        while n < len(lines):
            line = lines[n]
            if LABEL.match(line):
                n += 1
                continue
            fence = re.match(r"^(`{3,}|:{3,})\{(?P<name>[\w-]+)\}\s*(?P<arg>.*)$", line)
            if fence:
                close = fence.group(1)
                body = []
                n += 1
                while n < len(lines) and lines[n].strip() != close:
                    body.append(lines[n])
                    n += 1
                n += 1
                body = [b for b in body if not re.match(r"^:[\w-]+:", b)]
                if fence["name"] == "bibliography":
                    out.append("\0BIBLIOGRAPHY\0")
                else:
                    title = fence["arg"] or fence["name"].capitalize()
                    inner = ROLE.sub(self._role, "\n".join(body).strip())
                    out.append(f"> **{title}**\n>\n" + "\n".join(f"> {b}".rstrip() for b in inner.splitlines()))
                continue
            out.append(ROLE.sub(self._role, line))
            n += 1
        return "\n".join(out)

    def finish(self, text: str) -> str:
        heading = not re.search(r"^#+ References\s*$", text, re.M)
        return text.replace("\0BIBLIOGRAPHY\0", self._bibliography(heading))


def _glued(notebook) -> dict[str, object]:
    """Values glued by the chapter's cells (``book.glue_facts``), from the executed outputs."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("scrapbook")
            if not meta:
                continue
            text = output["data"].get(meta["mime_prefix"] + "text/plain", "")
            try:
                values[meta["name"]] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[meta["name"]] = text.strip("'\"")
    return values


def _attrs(tag: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}


def self_check_token(markup: str) -> str | None:
    """The self-check in a cell's HTML output as a token: only what the book's page carries."""
    head = re.search(r'<div class="self-check"[^>]*>', markup)
    if not head:
        return None
    attrs = _attrs(head.group(0))
    question = re.search(r'<p class="self-check-question"[^>]*><span[^>]*>[^<]*</span>\s*(.*?)</p>', markup, re.S)
    options = [(_attrs(tag).get("value", ""), _attrs(tag).get("data-feedback", ""))
               for tag in re.findall(r'<input type="radio"[^>]*>', markup)]
    masked = {cls: _attrs(tag).get("data-masked", "") for cls, tag in
              re.findall(r'<p class="self-check-(worked|explanation)"([^>]*)>', markup)}
    unit = re.search(r'<span class="self-check-unit">(.*?)</span>', markup)
    state = {"question": html.unescape(question.group(1)) if question else "", "kind": attrs.get("data-kind"),
             "salt": attrs.get("data-salt"), "answer": attrs.get("data-answer"),
             "tries": int(attrs.get("data-tries", 3)), "step": float(attrs.get("data-step", 1)),
             "hint": attrs.get("data-hint", ""), "options": options, "unit": html.unescape(unit.group(1)) if unit
             else "", "worked": masked.get("worked", ""), "explanation": masked.get("explanation", "")}
    return base64.b64encode(json.dumps(state, ensure_ascii=False).encode()).decode()


def _self_check_preview(state: dict) -> str:
    items = "".join(f"<li>{html.escape(label)}</li>" for label, _ in state["options"])
    unit = f" ({html.escape(state['unit'])})" if state["unit"] else ""
    body = f"<ul>{items}</ul>" if items else f"<p>Your answer{unit}</p>"
    return (f"<div><p><strong>Self-check</strong> {html.escape(state['question'])}</p>{body}"
            "<p><em>Run this cell (Shift+Enter) to answer.</em></p></div>")


_BOOK_LINK = re.compile(r'<a\b[^>]*href="(?!https?:|#|mailto:)[^"]*\.html(?:#[^"]*)?"[^>]*>(.*?)</a>', re.S)


_BOOK_ASSET = re.compile(r'<link\b[^>]*\bhref="(?!https?:)[^"]*"[^>]*>'
                         r'|<script\b[^>]*\bsrc="(?!https?:)[^"]*"[^>]*>\s*</script>'
                         r'|<script type="application/json" class="explorer-data">.*?</script>', re.S)
"""The book's own styles and scripts, and an in-page explorer's rows: dead weight in a notebook, whose
explorer runs in the kernel."""


def _clean_html(markup: str) -> str:
    """Links into the web book are dead in a notebook: keep their text; drop the book's scripts and styles."""
    from brbook.widgets import LIVE_NOTE, STATIC_NOTE

    markup = re.sub(r'href="[^"]*notebooks/([a-z][\w-]*)\.ipynb"', r'href="exercise-\1.ipynb"', markup)
    markup = _BOOK_ASSET.sub("", markup)
    return _BOOK_LINK.sub(r"\1", markup).replace(STATIC_NOTE, LIVE_NOTE)


INPUTS = Path("_build") / ".notebook-inputs"
"""Outside the site: what each class notebook was made from (:func:`inputs_digest`) and its charts' pictures."""
SVG_CACHE = INPUTS / "svg"
"""Where each chart's picture is kept by its spec's digest (:func:`brbook.kept.kept`)."""


def _chart_outputs(spec: dict, markup: str, root: Path | None = None) -> list:
    from importlib.metadata import version as installed

    def drawn() -> str:
        import vl_convert

        return vl_convert.vegalite_to_svg(spec)

    key = installed("vl-convert-python") + json.dumps(spec, sort_keys=True)
    svg = kept(root / SVG_CACHE if root is not None else None, key, drawn, ".svg")
    caption = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", markup, re.S)
    text = re.sub(r"<[^>]+>", "", caption.group(1)).strip() if caption else ""
    return [nbformat.v4.new_output("display_data", data={"image/svg+xml": svg}),
            nbformat.v4.new_output("display_data", data={"text/markdown": html.unescape(text),
                                                          "text/plain": html.unescape(text)})]


def _code_cell(cell, chapter: str, first: bool, root: Path | None = None) -> None:
    tags = cell.metadata.get("tags", [])
    hidden = bool({"remove-input", "remove-cell", "hide-input"} & set(tags))
    if first:
        lines = cell.source.splitlines()
        imports = [line for line in lines if re.match(r"^(from \S+ )?import ", line)]
        if not any(re.search(r"\bwidgets\b", line) for line in imports):
            imports.append("from brbook import widgets  # the self-checks' forms")
        rest = [re.sub(r"book\.setup\((.*)\)", r"book.setup(\1, classroom=True)", line)
                for line in lines if not re.match(r"^(from \S+ )?import ", line) and line.strip()]
        cell.source = SETUP.format(imports="\n".join("    " + line for line in imports), rest="\n".join(rest),
                                   version=version())
        cell.outputs = []
    elif "remove-cell" in tags and cell.source.rstrip().endswith(")"):
        cell.source = cell.source.rstrip() + ";"  # a hidden cell's value is not for show
    outputs = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if (output.get("metadata", {}).get("scrapbook") or output.get("output_type") == "stream"
                or "remove-cell" in tags):
            continue
        if "application/vnd.vegalite.v6+json" in data:
            outputs += _chart_outputs(data["application/vnd.vegalite.v6+json"], data.get("text/html", ""), root)
            continue
        markup = data.get("text/html", "")
        token = self_check_token(markup) if markup else None
        if token:
            state = json.loads(base64.b64decode(token))
            cell.source = f'widgets.self_check("{token}")'
            outputs.append(nbformat.v4.new_output("display_data", data={
                "text/html": _self_check_preview(state), "text/plain": "Self-check: run this cell to answer."}))
            continue
        if "application/vnd.jupyter.widget-view+json" in data:
            data = {k: v for k, v in data.items() if k != "application/vnd.jupyter.widget-view+json"}
        if markup:
            data = {**data, "text/html": _clean_html(markup)}
        outputs.append(nbformat.v4.new_output("display_data", data=data))
    cell.outputs = outputs
    cell.execution_count = None
    cell.metadata = {"tags": tags} if tags else {}
    if hidden:
        cell.metadata["jupyter"] = {"source_hidden": True}


def page_title(path: Path, default: str = "") -> str:
    """A MyST page's title: its first level-one heading (``default`` when it has none or is missing)."""
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        match = HEADING.match(line)
        if match and line.startswith("# "):
            return match["title"]
    return default


def executed(root: Path, source: Path):
    """The chapter merged with its outputs from the book's execution cache (``make book``).

    If the chapter's text changed after the build executed it (someone editing prose during a
    build), its latest execution is used, cell by cell, as long as it has the same code cells.
    """
    import jupytext  # here, not at the top: Sphinx imports this module, and jupytext brings jupyter-server
    from jupyter_cache import get_cache

    notebook = jupytext.read(source)
    cache = get_cache(str(root / CACHE))
    try:
        return cache.merge_match_into_notebook(notebook)[1]
    except KeyError:
        records = sorted((r for r in cache.list_cache_records() if Path(r.uri) == source.resolve()),
                         key=lambda r: r.created)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        ran = [c for c in cache.get_cache_bundle(records[-1].pk).nb.cells if c.cell_type == "code"] if records else []
        if not ran or len(ran) != len(code):
            raise KeyError(f"{source} has not been executed since it last changed: run `make book` again") from None
        for cell, done in zip(code, ran, strict=True):
            cell.outputs = done.get("outputs", [])
        return notebook


def class_notebook(root: Path, source: Path):
    """One chapter as a class notebook (see the module docstring)."""
    notebook = executed(root, source)
    docname = str(source.relative_to(root).with_suffix(""))
    converter = Converter(root, docname, _glued(notebook))
    first = True
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = converter.convert(cell.source)
            cell.metadata = {}
        elif cell.cell_type == "code":
            _code_cell(cell, chapter_name(source), first, root)
            first = False
    last = [c for c in notebook.cells if c.cell_type == "markdown" and "\0BIBLIOGRAPHY\0" in c.source]
    for cell in last:
        cell.source = converter.finish(cell.source)
    if converter.cited and not last:
        notebook.cells.append(nbformat.v4.new_markdown_cell(converter._bibliography()))
    notebook.cells = [c for c in notebook.cells if c.cell_type != "markdown" or c.source.strip()]
    notebook.cells.append(nbformat.v4.new_markdown_cell(notebook_footer()))
    for n, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{n}"
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "brbook": {**stamp(), "chapter": chapter_name(source)}}
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    nbformat.validate(notebook)
    return notebook


def _digests_file(root: Path, out: Path) -> Path:
    """Where the digest of each class notebook's inputs is kept (see :func:`inputs_digest`): in ``_build``,
    outside the site, one file per output folder."""
    key = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:12]
    return root / INPUTS / f"{key}.json"


def page_titles(root: Path) -> dict[str, str]:
    """The title of every page of the book (:func:`page_title`), by its path under ``root``."""
    return {str(p.relative_to(root)): page_title(p) for p in sorted((root / "book").rglob("*.md"))}


def inputs_digest(source: Path, titles: dict[str, str]) -> str:
    """What a class notebook is made from, as a digest: the chapter's text, the title of every page it may
    link to (:func:`page_titles`), and the edition. Its outputs follow its code (the execution cache keys on
    it), and a change to ``data/``, the package or the self-checks clears the whole site (``make
    cache-check``), notebooks included.
    """
    text = json.dumps([source.read_text(encoding="utf-8"), titles, stamp()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def build(root: Path, out: Path) -> list[Path]:
    """Write every class notebook into ``out``; return their paths, in reading order.

    A notebook whose inputs are unchanged since it was written is kept as it is, so a rebuild after one
    chapter's edit converts that chapter only.
    """
    from brbook.bundle import chapter_sources
    from brbook.selfcheck import check_usage

    check_usage(root)  # an unused self-check definition fails the build (an unknown id fails its cell)
    out.mkdir(parents=True, exist_ok=True)
    try:
        known = json.loads(_digests_file(root, out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    digests, written, titles = {}, [], page_titles(root)
    for n, source in enumerate(chapter_sources(root), start=1):
        target = out / notebook_name(n, source)
        digests[target.name] = inputs_digest(source, titles)
        if not (target.exists() and known.get(target.name) == digests[target.name]):
            text = nbformat.writes(class_notebook(root, source))
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
        written.append(target)
    record = _digests_file(root, out)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(digests, indent=1), encoding="utf-8")
    return written


if __name__ == "__main__":
    import sys

    here = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    for path in build(here, here / "_build" / "notebooks"):
        print(path)
