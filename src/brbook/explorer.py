"""Explorers that run in the page of the static book, with no kernel.

The book has no Python kernel, so a chapter's excerpt explorer and the compare view are written at
build time as a form, the rows they filter (as JSON, only the columns shown) and a link to
``_static/explorer.js``, a small plain script that filters and renders them in the browser. The same
cells give the ipywidgets explorers of :mod:`brbook.widgets` in a kernel: this module supplies the
``text/html`` of their display, so a page that has no explorer loads neither the script nor its styles.
Without scripts the page still shows the first excerpts (or the first topic's columns) and says why
the controls are missing.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Iterable

import pandas as pd

from brbook import data as book_data
from brbook.excerpts import BIBLIOGRAPHY_PAGE, excerpt_item, link_to

PAGE = 10
"""Excerpts shown at first; "Show more" adds as many again (as in the kernel's explorer)."""

SCRIPT = "_static/explorer.js"
STYLES = "_static/explorer.css"

NO_SCRIPT_NOTE = ("The controls of this explorer need JavaScript, which is off or has not loaded: "
                  "below is its first view.")
"""Shown until the script runs; a class notebook replaces it with its own note (see ``widgets``)."""

_ids = itertools.count(1)


def _assets() -> str:
    """The explorer's stylesheet and script, linked relative to the page being executed."""
    return (f'<link rel="stylesheet" href="{html.escape(link_to(STYLES))}">'
            f'<script defer src="{html.escape(link_to(SCRIPT))}"></script>')


def _json(payload: dict) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` can close it early)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sources(ids: Iterable[str]) -> list[dict]:
    """What a citation of each source needs, in the order of the sources' dates."""
    wanted = set(ids)
    table = book_data.sources()
    return [{"id": r.source_id, "cite": book_data.cite(r.source_id), "kind": r.kind, "years": r.years,
             "span": r.years if r.first != r.last else r.date,
             "href": link_to(BIBLIOGRAPHY_PAGE, f"source-{r.source_id}")}
            for r in table.itertuples() if r.source_id in wanted]


def rows(table: pd.DataFrame) -> list[dict]:
    """The rows as the page carries them: only what an excerpt shows or is filtered by.

    ``w`` is the date shown (when said, else when published) and ``y`` its year, the year the
    filters use, as in the kernel's explorer.
    """
    when = book_data.when_said(table)
    return [{"i": r.excerpt_id, "s": r.source_id, "p": r.speaker, "w": w, "d": book_data.date_label(w),
             "y": int(w[:4]), "t": " ".join(r.text.split()), "c": r.section,
             "g": [t for t in r.topics.split("|") if t]}
            for r, w in zip(table.itertuples(), when, strict=True)]


def _select(ident: str, name: str, label: str, options: list[tuple[str, str]], selected: str = "") -> str:
    """A ``<select>`` with its own ``<label>``; ``options`` are (value, text) pairs."""
    items = "".join(f'<option value="{html.escape(v)}"{" selected" if v == selected else ""}>{html.escape(t)}'
                    "</option>" for v, t in options)
    return (f'<div class="explorer-field"><label for="{ident}-{name}">{html.escape(label)}</label>'
            f'<select id="{ident}-{name}" name="{name}">{items}</select></div>')


def excerpt_explorer_html(dimension: str | None = None, table: pd.DataFrame | None = None,
                          title: str = "Excerpt explorer") -> str:
    """A chapter's in-page explorer: filters by source, topic, speaker, years and words.

    Args:
        dimension: the chapter's dimension (``military``); ``None`` for every excerpt.
        table: the excerpts to explore, if not the dimension's (the kernel's explorer passes its own).
        title: the explorer's name, also its accessible name.

    Returns:
        HTML: the form (hidden until the script runs), the live count, the first page of excerpts in a
        scroll box, "Show more", the rows as JSON, and links to the script and styles.
    """
    table = book_data.excerpts(dimension=dimension) if table is None else table
    table = table.reset_index(drop=True)
    data = rows(table)
    years = sorted({r["y"] for r in data})
    sources = _sources(table["source_id"])
    ident = f"explorer-{next(_ids)}"
    controls = "".join([
        _select(ident, "source", "Source", [("", "All sources")] + [(s["id"], s["cite"]) for s in sources]),
        _select(ident, "topic", "Topic", [("", "All topics")] + [(t, book_data.tag_label(t))
                                                          for t in book_data.topics(table)]),
        _select(ident, "speaker", "Speaker", [("", "All speakers")] + [(p, p) for p in sorted(set(table["speaker"]))]),
        _select(ident, "from", "From year", [(str(y), str(y)) for y in years], str(years[0])),
        _select(ident, "to", "To year", [(str(y), str(y)) for y in years], str(years[-1])),
        f'<div class="explorer-field explorer-words"><label for="{ident}-words">Words</label>'
        f'<input type="search" id="{ident}-words" name="words" autocomplete="off" placeholder="a word or phrase">'
        "</div>",
        '<button type="reset" class="explorer-reset">Clear the filters</button>',
    ])
    first = "".join(excerpt_item(row) for _, row in table.head(PAGE).iterrows())
    shown = min(PAGE, len(table))
    count = f"{len(table)} of {len(table)} excerpts" + (f"; showing the first {shown}." if shown < len(table)
                                                          else ".")
    payload = {"sources": sources, "rows": data, "page": PAGE}
    return (
        f'{_assets()}<section class="brbook-explorer" data-explorer="excerpts" data-dimension="{dimension or ""}" '
        f'aria-labelledby="{ident}-title">'
        f'<p class="explorer-title" id="{ident}-title"><strong>{html.escape(title)}</strong></p>'
        f'<p class="explorer-note">{NO_SCRIPT_NOTE}</p>'
        f'<form class="explorer-controls" hidden aria-label="Filter the excerpts">{controls}</form>'
        f'<p class="explorer-count" role="status" aria-live="polite">{count}</p>'
        f'<div class="explorer-results" tabindex="0" role="region" aria-label="Excerpts that match">'
        f'<ul class="explorer-list">{first}</ul></div>'
        f'<button type="button" class="explorer-more" hidden>Show {PAGE} more</button>'
        f'<script type="application/json" class="explorer-data">{_json(payload)}</script></section>')


def compare_topics(min_sources: int = 2) -> dict[str, int]:
    """Topics at least ``min_sources`` sources speak on, with how many do (a comparison needs two voices)."""
    table = book_data.excerpts()
    speakers: dict[str, set[str]] = {}
    for source, tags in zip(table["source_id"], table["topics"], strict=True):
        for tag in filter(None, tags.split("|")):
            speakers.setdefault(tag, set()).add(source)
    return {t: len(s) for t, s in sorted(speakers.items()) if len(s) >= min_sources}


def compare_html(topic: str, sources: Iterable[str] = (), heading: str = "h3") -> str:
    """The in-page compare view: a topic, checkboxes for the sources, their excerpts side by side.

    Args:
        topic: the topic shown first.
        sources: the sources ticked at first (every source if none is named).
        heading: the heading level of each column's citation.

    Returns:
        HTML: the form (hidden until the script runs), the live count, the columns of the first view
        (as :func:`brbook.compare.column_html` draws them), every tagged excerpt as JSON, and the links
        to the script and styles.
    """
    from brbook import compare as topic_compare

    topics = compare_topics()
    if topic not in topics:
        raise KeyError(f"no two sources speak on {topic!r}; topics to compare: {', '.join(topics)}")
    every = book_data.sources()["source_id"].tolist()
    chosen = [s for s in every if s in set(sources)] or every
    table = book_data.excerpts()
    table = table[table["topics"].str.split("|").apply(lambda tags: bool(set(tags) & set(topics)))]
    info = _sources(every)
    ident = f"compare-{next(_ids)}"
    options = [(t, f"{book_data.tag_label(t)} ({n} sources)") for t, n in topics.items()]
    boxes = "".join(
        f'<label class="compare-pick" data-source="{s["id"]}"><input type="checkbox" name="source" '
        f'value="{s["id"]}"{" checked" if s["id"] in chosen else ""}> {html.escape(s["cite"])} '
        f'<span class="compare-pick-meta">({html.escape(s["kind"])}, {html.escape(s["years"])})</span></label>'
        for s in info)
    controls = (_select(ident, "topic", "Topic", options, topic)
                + f'<fieldset class="compare-sources"><legend>Sources side by side (two or more)</legend>{boxes}'
                  "</fieldset>")
    shown = topic_compare.by_source(topic, chosen)
    speaking = sum(not r.empty for r in shown.values())
    label = book_data.tag_label(topic)
    columns = "".join(topic_compare.column_html(s, r, heading=heading) for s, r in shown.items())
    payload = {"sources": info, "rows": rows(table), "labels": {t: book_data.tag_label(t) for t in topics},
               "shown": topic_compare.SHOWN, "heading": heading}
    return (
        f'{_assets()}<section class="brbook-compare" data-explorer="compare" data-topic="{topic}" '
        f'aria-labelledby="{ident}-title">'
        f'<p class="explorer-title" id="{ident}-title"><strong>Compare the sources on one topic</strong></p>'
        f'<p class="explorer-note">{NO_SCRIPT_NOTE}</p>'
        f'<form class="explorer-controls" hidden aria-label="Choose a topic and the sources">{controls}</form>'
        f'<p class="explorer-count" role="status" aria-live="polite">{speaking} of {len(shown)} chosen sources '
        f"speak on “{html.escape(label)}”.</p>"
        f'<div class="compare-grid" role="region" aria-label="The chosen sources side by side, in order of date">'
        f"{columns}</div>"
        f'<script type="application/json" class="explorer-data">{_json(payload)}</script></section>')
