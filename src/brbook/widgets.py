"""Live explorers for JupyterLab, built with ipywidgets.

In a running notebook each control re-filters the data through ``brbook.data``.
The static book has no kernel, so there an explorer shows a still snapshot of
its first view with a note saying so: it never pretends to compute.
"""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd

from brbook import compare as topic_compare
from brbook import data as book_data
from brbook.excerpts import Excerpts

ALL = "All"

STATIC_NOTE = ("This explorer is live in JupyterLab (run <code>make lab</code>): there its controls filter "
               "the excerpts. The book has no Python kernel, so here you see a still snapshot of its first view.")


def _options(values) -> list[str]:
    return [ALL] + sorted({v for v in values if v})


def _snapshot_table(rows: pd.DataFrame, limit: int = 6) -> str:
    if rows.empty:
        return "<p>No excerpt matches.</p>"
    items = "".join(
        f"<tr><td>{html.escape(book_data.cite(r.source_id))}</td><td>{html.escape(r.speaker)}</td>"
        f"<td>{html.escape(r.text[:140])}{'…' if len(r.text) > 140 else ''}</td></tr>"
        for r in rows.head(limit).itertuples())
    return ("<table class='brbook-table'><thead><tr><th>Source</th><th>Speaker</th><th>Beginning of the excerpt"
            f"</th></tr></thead><tbody>{items}</tbody></table>")


class _Explorer(w.VBox):
    """Base: a VBox that also offers a static HTML snapshot for the book."""

    title = "Explorer"

    def snapshot_html(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = (
            f'<section class="widget-snapshot" aria-label="{html.escape(self.title)} (snapshot)">'
            f"<p class='widget-snapshot-title'><strong>{html.escape(self.title)}</strong></p>"
            f"<p class='widget-static-note'>{STATIC_NOTE}</p>{self.snapshot_html()}</section>")
        return bundle


class ExcerptExplorer(_Explorer):
    """Browse excerpts by source, topic and year, with a text search."""

    title = "Excerpt explorer"

    def __init__(self, dimension: str | None = None):
        self.table = book_data.excerpts(dimension=dimension)
        dates = book_data.when_said(self.table)  # the series' items by their article's date
        self.table = self.table.assign(year=dates.str[:4].astype(int))
        self.source = w.Dropdown(options=_options(self.table["source_id"]), description="Source")
        self.topic = w.Dropdown(options=[ALL] + book_data.topics(self.table), description="Topic")
        low, high = int(self.table["year"].min()), int(self.table["year"].max())
        self.years = w.IntRangeSlider(value=(low, high), min=low, max=high, description="Years")
        self.search = w.Text(placeholder="word or phrase", description="Search")
        self.summary = w.HTML()
        self.output = w.HTML()
        for control in (self.source, self.topic, self.years, self.search):
            control.observe(self._update, names="value")
        super().__init__([w.HBox([self.source, self.topic]), w.HBox([self.years, self.search]),
                          self.summary, self.output])
        self._update()

    def matches(self) -> pd.DataFrame:
        """The excerpts the controls currently select."""
        rows = self.table
        if self.source.value != ALL:
            rows = rows[rows["source_id"] == self.source.value]
        if self.topic.value != ALL:
            rows = rows[rows["topics"].str.split("|").apply(lambda tags: self.topic.value in tags)]
        first, last = self.years.value
        rows = rows[(rows["year"] >= first) & (rows["year"] <= last)]
        if self.search.value.strip():
            rows = rows[rows["text"].str.contains(self.search.value.strip(), case=False, regex=False)]
        return rows

    def _update(self, change=None) -> None:
        rows = self.matches()
        self.summary.value = f"<p><strong>{len(rows)}</strong> excerpt(s) match.</p>"
        self.output.value = Excerpts(rows.drop(columns="year"))._repr_html_()

    def snapshot_html(self) -> str:
        rows = self.matches()
        return f"<p>{len(rows)} excerpts in this chapter's data.</p>" + _snapshot_table(rows)


class CompareExplorer(_Explorer):
    """One topic, the chosen sources side by side, oldest source first (the live form of
    :func:`brbook.compare.view`)."""

    title = "Compare the sources on one topic"

    def __init__(self, topic: str, sources: tuple[str, ...] = ()):
        every = book_data.sources()["source_id"].tolist()
        self.topic = w.Dropdown(options=book_data.topics(), value=topic, description="Topic")
        self.sources = w.SelectMultiple(options=[(book_data.cite(s), s) for s in every],
                                        value=tuple(sources) or tuple(every), description="Sources", rows=5)
        self.summary = w.HTML()
        self.columns = w.HTML()
        for control in (self.topic, self.sources):
            control.observe(self._update, names="value")
        super().__init__([w.HBox([self.topic, self.sources]), self.summary, self.columns])
        self._update()

    def side(self, source_id: str) -> pd.DataFrame:
        """The excerpts of one source on the chosen topic."""
        return topic_compare.by_source(self.topic.value, [source_id])[source_id]

    def shown(self) -> dict[str, pd.DataFrame]:
        """What the view shows now: the chosen sources' excerpts on the topic, by source date."""
        return topic_compare.by_source(self.topic.value, self.sources.value)

    def _update(self, change=None) -> None:
        shown = self.shown()
        speaking = sum(not rows.empty for rows in shown.values())
        self.summary.value = (f"<p><strong>{speaking}</strong> of {len(shown)} source(s) speak on "
                              f"“{html.escape(book_data.tag_label(self.topic.value))}”.</p>")
        self.columns.value = ('<div class="compare-columns">'
                              + "".join(topic_compare.column_html(s, rows) for s, rows in shown.items()) + "</div>")

    def snapshot_html(self) -> str:
        cells = "".join(
            f"<div><p><strong>{html.escape(book_data.cite(s))}</strong> on “{html.escape(self.topic.value)}”"
            f"</p>{_snapshot_table(rows, limit=2)}</div>"
            for s, rows in self.shown().items() if not rows.empty)
        return f"<div class='widget-snapshot-columns'>{cells}</div>"


def excerpt_explorer(dimension: str | None = None) -> ExcerptExplorer:
    """One-call explorer of a chapter's excerpts."""
    return ExcerptExplorer(dimension)


def compare(topic: str, *sources: str) -> CompareExplorer:
    """One-call side-by-side view of a topic: every source, or the ones named."""
    return CompareExplorer(topic, sources)
