"""Altair charts that stay interactive in the static book, with a theme and text alternatives.

Interactivity comes from Vega-Lite parameters bound to controls (dropdowns,
sliders, brushes), so it runs in the reader's browser with no kernel. Every
chart is shown through :class:`Figure`, which refuses a chart without a title,
axis titles, a source line or a text alternative, and which embeds the spec for
``brbook.js`` to draw with the book's own copy of Vega.
"""

from __future__ import annotations

import html
import json
import os
import sys
from collections.abc import Iterable, Sequence
from itertools import count

import pandas as pd

from brbook import data as book_data
from brbook.lazy import LazyModule

alt = LazyModule("altair")  # imported when a page draws its first chart: pages without one never load it

STATIC_ENV = "BRBOOK_STATIC_CHARTS"
"""When set (``make pdf``), charts are drawn as static SVG at build time instead of in the browser."""

ALL = "All"
"""The option of every filter dropdown that keeps every row."""

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
_figures = count(1)


def _theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            # the drawing is one image (role="img" labelled with its description, a data table beside it):
            # no per-mark ARIA descriptions (brbook.js also drops the roles Vega gives groups and brushes)
            "aria": False,
            "font": FONT,
            "view": {"continuousWidth": 480, "continuousHeight": 280, "stroke": None},
            "range": {"category": PALETTE},
            "title": {"fontSize": 15, "anchor": "start", "color": "#1a1a1a", "subtitleColor": "#444444"},
            "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelColor": "#333333",
                     "titleColor": "#1a1a1a", "gridColor": "#e4e4e4"},
            # below the plot: long source names fit, and the chart keeps its width on narrow screens
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "labelColor": "#333333",
                       "titleColor": "#1a1a1a", "labelLimit": 320, "orient": "bottom", "columns": 2,
                       "direction": "vertical"},
            "background": "#ffffff",
        }
    }


_configured = False


def setup() -> None:
    """Configure Altair once per chapter (called from the hidden set-up cell).

    Where Altair is not imported yet, the configuration waits for the page's first :class:`Figure`,
    so a page without a chart never imports Altair.
    """
    if "altair" in sys.modules:
        _configure()


def _configure() -> None:
    global _configured
    if not _configured:
        alt.theme.register("brbook", enable=True)(_theme)
        alt.renderers.enable("mimetype")
        alt.data_transformers.disable_max_rows()
        _configured = True


def _missing_titles(spec: dict, path: str = "") -> list[str]:
    """Positional encodings of the spec that have a field but no title."""
    missing = []
    for channel, enc in (spec.get("encoding") or {}).items():
        if channel in ("x", "y") and isinstance(enc, dict) and enc.get("field"):
            axis = enc.get("axis")  # axis=None hides the axis, and a hidden axis needs no title
            if not enc.get("title") and not (isinstance(axis, dict) and axis.get("title")) and axis is not None:
                missing.append(f"{path}{channel} ({enc['field']})")
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for n, sub in enumerate(spec.get(key) or []):
            missing += _missing_titles(sub, f"{path}{key}[{n}].")
    return missing


class Figure:
    """A chart with its caption, source line and text alternative, ready to display.

    In the book it renders as ``<figure class="brbook-chart">`` holding the
    Vega-Lite spec; in JupyterLab it also offers the Vega-Lite MIME type.
    """

    def __init__(self, chart: alt.TopLevelMixin, *, description: str, sources: Sequence[str],
                 table: pd.DataFrame | None = None):
        _configure()
        spec = chart.to_dict()
        if not spec.get("title"):
            raise ValueError("a chart needs a title")
        missing = _missing_titles(spec)
        if missing:
            raise ValueError(f"axis titles (with units) are missing for: {', '.join(missing)}")
        if not description.strip():
            raise ValueError("a chart needs a text alternative (description)")
        if not sources:
            raise ValueError("a chart needs at least one source")
        spec["description"] = description
        self.spec = spec
        self.description = description
        self.sources = list(sources)
        self.table = table
        self.ident = f"chart-{next(_figures)}"

    @property
    def source_line(self) -> str:
        return "Source: " + "; ".join(book_data.cite(s) for s in self.sources) + "."

    def params(self) -> list[dict]:
        """The spec's parameters that are bound to a control (what makes it interactive)."""
        found = list(self.spec.get("params") or [])
        for key in ("layer", "hconcat", "vconcat", "concat"):
            for sub in self.spec.get(key) or []:
                found += sub.get("params") or []
        return [p for p in found if p.get("bind")]

    def _table_html(self) -> str:
        if self.table is None:
            return ""
        body = self.table.to_html(index=False, border=0, classes="brbook-table", escape=True)
        return (f'<details class="chart-table"><summary>Data table behind this chart '
                f"({len(self.table)} rows)</summary>{body}</details>")

    def _drawing_html(self, title: str) -> str:
        label = f'{html.escape(str(title))}: {html.escape(self.description)}'
        if os.environ.get(STATIC_ENV):
            import vl_convert as vlc

            svg = vlc.vegalite_to_svg(self.spec)
            return (f'<div class="static-chart" role="img" aria-label="{label}">{svg}</div>'
                    '<p class="chart-print-note">Printed at its default setting; the online book lets you '
                    "change it.</p>")
        spec_json = json.dumps(self.spec, ensure_ascii=False).replace("</", "<\\/")
        # brbook.js draws the chart and gives its SVG role="img" and this label; the div itself takes
        # no role, because the chart's controls are drawn inside it and must stay reachable
        return (f'<div class="vega-chart" data-label="{label}"></div>'
                f'<script type="application/json" class="vega-spec">{spec_json}</script>')

    def _repr_html_(self) -> str:
        title = self.spec["title"]["text"] if isinstance(self.spec["title"], dict) else self.spec["title"]
        return (
            f'<figure class="brbook-chart" id="{self.ident}" aria-labelledby="{self.ident}-cap">'
            f"{self._drawing_html(title)}"
            f'<figcaption id="{self.ident}-cap"><span class="chart-description">{html.escape(self.description)}'
            f'</span> <span class="chart-source">{html.escape(self.source_line)}</span></figcaption>'
            f"{self._table_html()}</figure>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/html": self._repr_html_(), "application/vnd.vegalite.v6+json": self.spec,
                "text/plain": f"<Figure: {self.spec['title']}>"}


def _dropdown(name: str, label: str, values: Iterable[str], with_all: bool = True) -> alt.Parameter:
    options = ([ALL] if with_all else []) + sorted({str(v) for v in values})
    return alt.param(name=name, value=options[0], bind=alt.binding_select(options=options, name=label + " "))


def _keep(field: str, param: alt.Parameter) -> str:
    """A filter expression keeping rows equal to the parameter, or every row for "All"."""
    return f"({param.name} == '{ALL}') || (datum['{field}'] == {param.name})"


def source_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Add a readable ``source`` column ("Astapenia and Balkunets (2016)") beside ``source_id``."""
    return frame.assign(source=frame["source_id"].map(book_data.cite))


def bars(frame: pd.DataFrame, *, category: str, value: str, title: str, value_title: str,
         category_title: str, description: str, sources: Sequence[str], filter_field: str | None = None,
         filter_label: str = "Show", color: str | None = None, subtitle: str | None = None,
         sort_by_value: bool = True) -> Figure:
    """Horizontal bars of ``value`` by ``category``, optionally filtered by a dropdown.

    The dropdown (bound to ``filter_field``) filters in the browser; its first
    option is the first value in sorted order, not "All", so that the bars of
    one group are never summed by accident.
    """
    chart = alt.Chart(frame, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).mark_bar()
    y_sort = "-x" if sort_by_value else None
    encoding = {
        "y": alt.Y(f"{category}:N", title=category_title, sort=y_sort),
        "x": alt.X(f"{value}:Q", title=value_title),
        "tooltip": [alt.Tooltip(f"{category}:N", title=category_title),
                    alt.Tooltip(f"{value}:Q", title=value_title)],
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=color.replace("_", " ").capitalize())
    chart = chart.encode(**encoding)
    if filter_field:
        param = _dropdown(f"{filter_field}_choice", filter_label, frame[filter_field], with_all=False)
        chart = chart.add_params(param).transform_filter(f"datum['{filter_field}'] == {param.name}")
    return Figure(chart, description=description, sources=sources, table=frame)


def timeline(events: pd.DataFrame, *, title: str, description: str, height: int = 260) -> Figure:
    """Events on a time axis, one lane per dimension, with dimension and source dropdowns,
    a brush on the overview strip that zooms the main view, and a tooltip with the date as the
    source gives it, how it is known, and the quote. Marks are shaped by how the date is known."""
    frame = source_labels(events).assign(
        date=events["date"].dt.strftime("%Y-%m-%d"),
        when=book_data.event_dates(events),
        dating=events["date_basis"].map(book_data.dating),
        dimension=events["dimension"].astype(str),
        quote_short=events["quote"].str.slice(0, 160),
    )[["event_id", "date", "when", "date_precision", "dating", "date_basis", "dimension", "title", "source",
       "quote_short"]]
    dim = _dropdown("dimension_choice", "Dimension", frame["dimension"])
    src = _dropdown("source_choice", "Source", frame["source"])
    brush = alt.selection_interval(name="period", encodings=["x"])
    base = alt.Chart(frame).transform_filter(_keep("dimension", dim)).transform_filter(_keep("source", src))
    points = base.mark_point(filled=True, size=70, opacity=0.85).encode(
        x=alt.X("date:T", title="Date", scale=alt.Scale(domain={"param": brush.name})),
        y=alt.Y("dimension:N", title="Dimension"),
        color=alt.Color("source:N", title="Source"),
        shape=alt.Shape("dating:N", title="How the date is known"),
        tooltip=[alt.Tooltip("title:N", title="Event"), alt.Tooltip("when:N", title="Date"),
                 alt.Tooltip("dating:N", title="Dating"), alt.Tooltip("date_basis:N", title="Date basis"),
                 alt.Tooltip("source:N", title="Source"), alt.Tooltip("quote_short:N", title="Quote")],
    ).properties(height=height).add_params(dim, src)
    overview = base.mark_tick(thickness=2).encode(
        x=alt.X("date:T", title="Drag here to zoom on a period (date)"),
        color=alt.Color("source:N", title="Source"),
    ).properties(height=40).add_params(brush)
    chart = alt.vconcat(points, overview, title=title)
    return Figure(chart, description=description, sources=sorted(events["source_id"].unique()),
                  table=frame.drop(columns=["quote_short", "date"]))


AUTHOR_SPEAKERS = r"^(?:authors?|representatives) of |^Ryhor Astapenia|^Siarhei Bohdan; Gumer"
"""Speakers who are a source's own authors: the actors view shows the people the sources quote."""


def actors(excerpts: pd.DataFrame, *, title: str, description: str) -> Figure:
    """Who said what, when: one row per person or body the sources quote, one mark per statement.

    A statement is placed on the date the source gives for it, or else on the source's own date,
    shown as an open mark. A topic dropdown filters the statements and a checkbox keeps only the
    dated ones; the tooltip carries the words.
    """
    quoted = excerpts[~excerpts["speaker"].str.contains(AUTHOR_SPEAKERS, regex=True)].copy()
    dates = book_data.source_dates()
    quoted["dated"] = quoted["said_on"] != ""
    when = quoted["said_on"].where(quoted["dated"], quoted["source_id"].map(dates))
    quoted["date"] = when.map(book_data.full_date)
    quoted["when"] = [w if d else f"not dated (source of {w})" for w, d in zip(when, quoted["dated"], strict=True)]
    quoted["dating"] = quoted["dated"].map({True: "Date given for the statement",
                                            False: "Undated: placed at the source's date"})
    quoted["actor"] = quoted["speaker"].map({s: book_data.person_name(s) for s in quoted["speaker"].unique()})
    quoted = source_labels(quoted)
    rows = []
    for row in quoted.itertuples():
        for topic in [t for t in row.topics.split("|") if t] or ["other"]:
            rows.append({"actor": row.actor, "date": row.date, "when": row.when, "dating": row.dating,
                         "dated": row.dated, "topic": topic, "source": row.source, "excerpt_id": row.excerpt_id,
                         "words": row.text[:200] + ("…" if len(row.text) > 200 else "")})
    frame = pd.DataFrame(rows)
    topic = _dropdown("topic_choice", "Topic", frame["topic"])
    dated_only = alt.param(name="dated_only", value=False,
                           bind=alt.binding_checkbox(name="Only statements the source dates "))
    chart = alt.Chart(frame, title=title).mark_point(size=90, filled=True).encode(
        x=alt.X("date:T", title="When it was said (or the source's date)"),
        y=alt.Y("actor:N", title="Who (as the sources name them)", sort="x"),
        color=alt.Color("source:N", title="Source"),
        shape=alt.Shape("dating:N", title="Dating"),
        tooltip=[alt.Tooltip("actor:N", title="Who"), alt.Tooltip("when:N", title="When"),
                 alt.Tooltip("words:N", title="Words"), alt.Tooltip("source:N", title="Source"),
                 alt.Tooltip("excerpt_id:N", title="Excerpt")],
    ).add_params(topic, dated_only).transform_filter(_keep("topic", topic)).transform_filter(
        f"!{dated_only.name} || datum.dated").transform_aggregate(
        # one mark per statement even when it carries several topics
        groupby=["actor", "date", "when", "dating", "dated", "source", "excerpt_id", "words"],
    ).properties(width=460, height=alt.Step(18))
    table = frame.drop_duplicates("excerpt_id")[["actor", "when", "source", "excerpt_id", "words"]]
    return Figure(chart, description=description, sources=sorted(quoted["source_id"].unique()), table=table)


def fact_series(facts: pd.DataFrame, *, title: str, description: str, chooser: str = "Figure",
                subtitle: str | None = None) -> Figure:
    """Bars of the figures in ``facts.csv`` that share a ``series``, one series at a time.

    A dropdown bound to the series name switches between them in the browser; each
    bar is labelled by the fact's ``label`` and the axis title carries the unit.
    """
    rows = facts[facts["series"] != ""].copy()
    if rows.empty:
        raise ValueError("no facts with a series to chart")
    # one dropdown entry per series, named with the unit of its first figure (sources word units differently)
    first_unit = rows.groupby("series")["unit"].transform("first")
    rows["figure"] = rows["series"].map(book_data.tag_label) + " (" + first_unit + ")"
    rows["source"] = rows["source_id"].map(book_data.cite)
    frame = rows[["figure", "label", "value", "unit", "source", "period", "fact_id"]]
    choice = _dropdown("series_choice", chooser, frame["figure"], with_all=False)
    chart = alt.Chart(frame, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).mark_bar().encode(
        y=alt.Y("label:N", title="Figure (as labelled in the source)", sort=None),
        x=alt.X("value:Q", title="Value, in the unit named in the dropdown"),
        color=alt.Color("source:N", title="Source"),
        tooltip=[alt.Tooltip("label:N", title="Label"), alt.Tooltip("value:Q", title="Value"),
                 alt.Tooltip("unit:N", title="Unit"), alt.Tooltip("period:N", title="Period"),
                 alt.Tooltip("source:N", title="Source"), alt.Tooltip("fact_id:N", title="Fact id")],
    ).add_params(choice).transform_filter(f"datum.figure == {choice.name}").properties(
        width=460, height=alt.Step(34))
    return Figure(chart, description=description, sources=sorted(rows["source_id"].unique()), table=frame)


def events_by_year(events: pd.DataFrame, *, title: str, description: str) -> Figure:
    """Events per year, coloured by source, with a slider that sets the first year shown
    and a checkbox that keeps only events whose date the source states in full."""
    frame = source_labels(events).assign(
        year=events["date"].dt.year, stated=events["date_basis"].eq("stated"),
        dimension=events["dimension"].astype(str))[["event_id", "year", "title", "source", "stated", "dimension"]]
    first = alt.param(name="first_year", value=int(frame["year"].min()),
                      bind=alt.binding_range(min=int(frame["year"].min()), max=int(frame["year"].max()), step=1,
                                             name="From year "))
    stated = alt.param(name="stated_only", value=False,
                       bind=alt.binding_checkbox(name="Only events whose year the source states "))
    chart = alt.Chart(frame, title=title).mark_bar().encode(
        x=alt.X("year:O", title="Year"),
        y=alt.Y("count():Q", title="Number of events"),
        color=alt.Color("source:N", title="Source"),
        tooltip=[alt.Tooltip("year:O", title="Year"), alt.Tooltip("count():Q", title="Events"),
                 alt.Tooltip("source:N", title="Source")],
    ).add_params(first, stated).transform_filter(f"datum.year >= {first.name}").transform_filter(
        f"!{stated.name} || datum.stated")
    return Figure(chart, description=description, sources=sorted(events["source_id"].unique()), table=frame)
