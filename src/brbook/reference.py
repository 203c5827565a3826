"""Reference pages generated from ``data/``: data dictionary, sources, glossary, index of names."""

from __future__ import annotations

import html
import re

from IPython.display import HTML

from brbook import data as book_data
from brbook import layout
from brbook.schema import dictionary, schemas


def data_dictionary() -> HTML:
    """Every table with its purpose and every column with its rules, from the schema itself."""
    table = dictionary()
    blocks = []
    for name, schema in schemas().items():
        rows = table[table["file"] == name].drop(columns="file")
        body = rows.to_html(index=False, border=0, classes="brbook-table", escape=True)
        blocks.append(f'<section class="data-table" id="table-{name.removesuffix(".csv")}">'
                      f"<p><strong><code>data/{name}</code></strong>: {html.escape(schema.description)}</p>"
                      f"{body}</section>")
    return HTML("".join(blocks))


def data_downloads():
    """Every table of ``data/`` as a download link with its purpose and row count, as MyST Markdown.

    myst-nb parses a Markdown output like the page's own text, so each ``{download}`` role makes
    Sphinx copy the CSV file into the site: the link serves the very file the book was built from.
    """
    from IPython.display import Markdown

    lines = ["| Table | What it holds | Rows |", "|---|---|---|"]
    for name, schema in schemas().items():
        rows = len(book_data.read_raw(book_data.data_dir() / name))
        lines.append(f"| {{download}}`{name} <../../data/{name}>` | {schema.description} | {rows:,} |")
    return Markdown("\n".join(lines))


def source_list() -> HTML:
    """The five sources, each with an anchor ``source-<id>`` that excerpt citations link to."""
    items = []
    for row in book_data.sources().itertuples():
        items.append(
            f'<dt id="source-{row.source_id}">{html.escape(book_data.cite(row.source_id))}</dt>'
            f"<dd><em>{html.escape(row.title)}</em>. {html.escape(row.author)}; {html.escape(row.publisher)}, "
            f"{html.escape(row.date)} ({html.escape(row.kind)}). {html.escape(row.perspective)} "
            f"<small>Source id: <code>{row.source_id}</code>.</small></dd>")
    return HTML(f'<dl class="source-list">{"".join(items)}</dl>')


def sources_table() -> HTML:
    """The five sources in one table, oldest first."""
    table = book_data.sources()
    table = table.assign(citation=table["source_id"].map(book_data.cite))
    shown = table[["citation", "kind", "title", "publisher", "date", "source_id"]]
    return HTML(shown.to_html(index=False, border=0, classes="brbook-table", escape=True))


def source_card(source_id: str) -> HTML:
    """Who wrote a source, when, for whom, and its point of view, from ``sources.csv``."""
    row = book_data.source(source_id)
    fields = {
        "Title": row["title"], "Author": row["author"], "Publisher": row["publisher"],
        "Date": f"{row['date']} ({row['date_note']})", "Kind": row["kind"], "Point of view": row["perspective"],
    }
    items = "".join(f"<dt>{k}</dt><dd>{html.escape(str(v))}</dd>" for k, v in fields.items())
    return HTML(f'<dl class="source-card" data-source="{source_id}">{items}</dl>')


def source_notes_table(issues: tuple[str, ...] | None = None) -> HTML:
    """The sources' recorded slips, typos and contradictions (only the kinds in ``issues``, if given)."""
    table = book_data.source_notes()
    if issues is not None:
        table = table[table["issue"].isin(issues)]
    table = table.assign(source=table["source_id"].map(book_data.cite))
    shown = table[["source", "location", "issue", "note"]]
    return HTML(shown.to_html(index=False, border=0, classes="brbook-table", escape=True))


def events_table(events) -> HTML:
    """Events as a table: the date as precisely as the source gives it, how it is known, and the quote."""
    shown = events.assign(
        date=book_data.event_dates(events),
        dating=events["date_basis"].map(book_data.dating), source=events["source_id"].map(book_data.cite),
    )[["date", "dating", "title", "source", "date_basis", "quote"]]
    return HTML(shown.to_html(index=False, border=0, classes="brbook-table", escape=True))


def events_by_id(*event_ids: str):
    """The events with these ids, in the order given (a ``KeyError`` names any unknown id)."""
    table = book_data.events().set_index("event_id", drop=False)
    missing = [i for i in event_ids if i not in table.index]
    if missing:
        raise KeyError(f"unknown event id(s): {', '.join(missing)}")
    return table.loc[list(event_ids)].reset_index(drop=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def glossary_list() -> HTML:
    """Every glossary term with all its spellings, so a search for any variant finds the entry."""
    items = []
    for row in book_data.glossary().itertuples():
        variants = ", ".join(f"<span class=\"variant\" lang=\"{'ru' if re.search('[а-яА-Я]', v) else 'en'}\">"
                             f"{html.escape(v)}</span>" for v in row.variant_list)
        spelled = f' <span class="glossary-variants">Also spelled: {variants}.</span>' if variants else ""
        items.append(
            f'<dt id="term-{_slug(row.term)}">{html.escape(row.term)} <small>({row.kind})</small></dt>'
            f"<dd>{html.escape(row.definition)}{spelled} <small>First in: "
            f"{html.escape(book_data.cite(row.first_source_id))}.</small></dd>")
    return HTML(f'<dl class="glossary">{"".join(items)}</dl>')


def name_patterns(term: str, kind: str, variants: list[str]) -> re.Pattern:
    """Every way the sources write a name: the term, its variants, and for a person the surname alone."""
    names = {term, *variants}
    if kind == "person":
        names.add(term.split()[-1])
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w]){alternatives}(?![\w])")


def mentions(kinds: tuple[str, ...] = ("person", "organisation")) -> dict[str, tuple[str, list[str]]]:
    """For each person or organisation in the glossary: its kind and the ids of the excerpts naming it."""
    table = book_data.excerpts()
    found = {}
    for row in book_data.glossary().itertuples():
        if row.kind not in kinds:
            continue
        pattern = name_patterns(row.term, row.kind, row.variant_list)
        hits = table[table["text"].str.contains(pattern) | table["speaker"].str.contains(pattern)]
        found[row.term] = (row.kind, hits["excerpt_id"].tolist())
    return found


SURNAME_FIRST = {"Chen Guoping"}
"""People the sources name surname first (Chinese order): indexed and shown as written."""


def index_name(term: str, kind: str) -> tuple[str, str]:
    """A name as an index shows it and its sort key: ``Lukashenka, Alyaksandr``, sorted by surname.

    Organisations keep their name and sort by it, ignoring case (``iSANS`` among the I's).
    """
    if kind != "person" or term in SURNAME_FIRST or " " not in term:
        return term, term.casefold()
    given, surname = term.rsplit(" ", 1)
    shown = f"{surname}, {given}"
    return shown, shown.casefold()


def name_index() -> HTML:
    """People and organisations, each with the excerpts that name them (or quote them), people sorted
    by surname and organisations by name."""
    from brbook.excerpts import excerpt_item

    table = book_data.excerpts().set_index("excerpt_id", drop=False)
    dates = book_data.source_dates()
    found = mentions()
    sections = []
    for kind, heading in (("person", "People"), ("organisation", "Organisations")):
        entries = []
        terms = sorted(((t, ids) for t, (k, ids) in found.items() if k == kind),
                       key=lambda item: index_name(item[0], kind)[1])
        for term, ids in terms:
            shown = html.escape(index_name(term, kind)[0])
            link = f'<a href="glossary.html#term-{_slug(term)}">glossary</a>'
            if not ids:
                entries.append(f'<li id="name-{_slug(term)}"><strong>{shown}</strong>: named in the '
                               f"glossary only ({link}).</li>")
                continue
            quotes = "".join(excerpt_item(table.loc[i], dates[table.loc[i, "source_id"]]) for i in ids)
            entries.append(
                f'<li id="name-{_slug(term)}"><details><summary><strong>{shown}</strong>: '
                f"{len(ids)} excerpt{'s' if len(ids) != 1 else ''}</summary><p>{link}</p>"
                f'<ul class="compare-excerpts">{quotes}</ul></details></li>')
        sections.append(f'<section class="name-index" aria-label="{heading}"><h2>{heading}</h2>'
                        f'<ul class="name-index-list">{"".join(entries)}</ul></section>')
    return HTML("".join(sections))


EXERCISE_DIR = layout.STUDENT_NOTEBOOKS


def exercise_list() -> HTML:
    """Every graded exercise notebook with its questions and points, and a download link.

    Built from the student notebooks that ``make exercises`` writes, so the page lists exactly
    what students can download (no solutions, no answers).
    """
    import nbformat

    from brbook.excerpts import link_to

    rows = []
    for path in sorted(EXERCISE_DIR.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title = nb.metadata.get("brbook", {}).get("title", path.stem)
        questions = [c for c in nb.cells if c.cell_type == "code" and "question" in c.metadata]
        href = link_to(f"notebooks/exercise-{path.name}")
        rows.append(f'<li><a href="{html.escape(href)}" download>{html.escape(title)}</a> '
                    f"(<code>exercise-{path.name}</code>, {len(questions)} questions)</li>")
    if not rows:
        raise FileNotFoundError(f"no student notebooks in {EXERCISE_DIR}: run `make exercises` first")
    return HTML(f'<ul class="exercise-list">{"".join(rows)}</ul>')


def exercise_link(name: str) -> HTML:
    """A download link to one chapter's student exercise notebook."""
    from brbook.excerpts import link_to

    if layout.in_wheel():  # a notebook downloaded from the site: the exercise was offered beside it
        href = f"exercise-{name}.ipynb"
    else:
        notebook = layout.student_notebook(name)
        if not notebook.exists():
            raise FileNotFoundError(f"no student notebook {notebook}: run `make exercises` first")
        href = notebook.name if layout.in_bundle() else link_to(f"notebooks/exercise-{name}.ipynb")
    return HTML(f'<p class="exercise-link">Graded exercises for this chapter: '
                f'<a href="{html.escape(href)}" download>download the notebook <code>exercise-{name}.ipynb</code></a>. '
                "Open it in JupyterLab; <code>check(\"q1\")</code> tells you at once whether an answer is "
                "right, without giving it away.</p>")


def authorship():
    """``data/authorship.csv``: who wrote, published, paid for, or informed each source."""
    from brbook.schema import read_raw

    return read_raw(book_data.data_dir() / "authorship.csv")
