"""Render verbatim excerpts from ``data/excerpts.csv`` as cited block quotes.

Every excerpt in the book goes through :func:`show`, so each one carries the
same provenance: the speaker, the date, a short citation linking to the
bibliography, the section of the source, and the source's point of view.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from brbook import data as book_data
from brbook import layout

BOOK_ROOT = layout.ROOT
BIBLIOGRAPHY_PAGE = "book/reference/bibliography.html"


def link_to(page: str, anchor: str = "") -> str:
    """A link from the page being executed to another page of the built book.

    Chapters execute in their own folder, so the relative path follows from the
    working directory; outside the book it falls back to the path from the root.
    """
    here = Path.cwd().resolve()
    try:
        here.relative_to(BOOK_ROOT)
        target = os.path.relpath(BOOK_ROOT / page, here)
    except ValueError:
        target = page
    return target + (f"#{anchor}" if anchor else "")


def _provenance(row: pd.Series, source_date: str) -> tuple[str, str, str]:
    """When it was said (else when it was published: its article's date in the series, else the
    source's date), the link to the source's entry, the short citation."""
    when = row["said_on"] or row.get("published", "") or source_date
    href = html.escape(link_to(BIBLIOGRAPHY_PAGE, f"source-{row['source_id']}"))
    return when, href, html.escape(book_data.cite(row["source_id"]))


def excerpt_html(row: pd.Series, source: pd.Series, anchor_prefix: str = "") -> str:
    """One excerpt as ``<blockquote class="excerpt" data-source=... data-excerpt=...>``.

    Its ``id`` is the excerpt id, after ``anchor_prefix`` when one page shows an excerpt twice.
    """
    when, href, cite = _provenance(row, source["date"])
    paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>" for p in row["text"].split("\n") if p.strip())
    return (
        f'<blockquote class="excerpt" data-source="{row["source_id"]}" data-excerpt="{row["excerpt_id"]}" '
        f'id="{anchor_prefix}{row["excerpt_id"]}" '
        f'cite="{href}">'
        f"{paragraphs}"
        f'<footer><span class="excerpt-speaker">{html.escape(row["speaker"])}</span>'
        f'{", " if when else ""}<time datetime="{when}">{book_data.date_label(when)}</time>'
        f' &middot; <a class="excerpt-cite" href="{href}">{cite}</a>, '
        f'<span class="excerpt-section">“{html.escape(row["section"])}”</span>'
        f'<details class="excerpt-perspective"><summary>About this source</summary>'
        f'<p>{html.escape(source["perspective"])}</p><p class="excerpt-context">{html.escape(row["context"])}'
        f"</p></details></footer></blockquote>"
    )


def excerpt_item(row: pd.Series, source_date: str | None = None) -> str:
    """A compact excerpt for lists (comparison columns, the index): the quote and its provenance.

    Unlike :func:`excerpt_html` it sets no ``id``, so one excerpt can appear in several lists of a page.
    Callers that list many excerpts pass the source's date, which is otherwise looked up.
    """
    when, href, cite = _provenance(row, source_date or book_data.source_dates()[row["source_id"]])
    return (f'<li class="excerpt-item" data-source="{row["source_id"]}" data-excerpt="{row["excerpt_id"]}">'
            f'<q>{html.escape(" ".join(row["text"].split()))}</q> '
            f'<span class="excerpt-item-meta">{html.escape(row["speaker"])}, <time datetime="{when}">'
            f'{book_data.date_label(when)}</time> &middot; <a href="{href}">{cite}</a>, '
            f'“{html.escape(row["section"])}” <code>{row["excerpt_id"]}</code></span></li>')


class Excerpts:
    """A sequence of excerpts that displays as HTML in the book and in JupyterLab."""

    def __init__(self, rows: pd.DataFrame, anchor_prefix: str = ""):
        self.rows = rows
        self.anchor_prefix = anchor_prefix

    def _repr_html_(self) -> str:
        sources = book_data.sources().set_index("source_id")
        return "".join(excerpt_html(row, sources.loc[row["source_id"]], self.anchor_prefix)
                       for _, row in self.rows.iterrows())

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:  # the text a notebook stores beside the HTML: the same on every run
        return f"Excerpts({', '.join(self.rows['excerpt_id'])})"


def show(*excerpt_ids: str, anchor_prefix: str = "") -> Excerpts:
    """Display the excerpts with these ids, in the order given.

    Raises:
        KeyError: naming any id that is not in ``data/excerpts.csv``.
    """
    table = book_data.excerpts().set_index("excerpt_id", drop=False)
    missing = [i for i in excerpt_ids if i not in table.index]
    if missing:
        raise KeyError(f"unknown excerpt id(s): {', '.join(missing)}")
    return Excerpts(table.loc[list(excerpt_ids)].reset_index(drop=True), anchor_prefix)


def show_frame(rows: pd.DataFrame | Iterable[str]) -> Excerpts:
    """Display every excerpt of a filtered frame (e.g. ``data.excerpts(topic="airbase")``)."""
    if isinstance(rows, pd.DataFrame):
        return Excerpts(rows.reset_index(drop=True))
    return show(*rows)
