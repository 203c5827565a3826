"""Reference pages generated from ``data/``: the data dictionary and the list of sources."""

from __future__ import annotations

import html
from pathlib import Path

from IPython.display import HTML

from brbook import data as book_data
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


def source_notes_table() -> HTML:
    """The sources' recorded slips, typos and contradictions."""
    table = book_data.source_notes()
    table = table.assign(source=table["source_id"].map(book_data.cite))
    shown = table[["source", "location", "issue", "note"]]
    return HTML(shown.to_html(index=False, border=0, classes="brbook-table", escape=True))


EXERCISE_DIR = Path(__file__).resolve().parents[2] / "_build" / "exercises" / "student"


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
        href = link_to(f"notebooks/{path.name}")
        rows.append(f'<li><a href="{html.escape(href)}" download>{html.escape(title)}</a> '
                    f"(<code>{path.name}</code>, {len(questions)} questions)</li>")
    if not rows:
        raise FileNotFoundError(f"no student notebooks in {EXERCISE_DIR}: run `make exercises` first")
    return HTML(f'<ul class="exercise-list">{"".join(rows)}</ul>')


def exercise_link(name: str) -> HTML:
    """A download link to one chapter's student exercise notebook."""
    from brbook.excerpts import link_to

    if not (EXERCISE_DIR / f"{name}.ipynb").exists():
        raise FileNotFoundError(f"no student notebook {name}.ipynb: run `make exercises` first")
    href = link_to(f"notebooks/{name}.ipynb")
    return HTML(f'<p class="exercise-link">Graded exercises for this chapter: '
                f'<a href="{html.escape(href)}" download>download the notebook <code>{name}.ipynb</code></a>. '
                "Open it in JupyterLab; <code>check(\"q1\")</code> tells you at once whether an answer is "
                "right, without giving it away.</p>")
