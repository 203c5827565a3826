"""Reference pages generated from ``data/``: the data dictionary and the list of sources."""

from __future__ import annotations

import html

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
