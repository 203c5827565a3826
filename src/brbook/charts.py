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
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from itertools import count
from urllib.parse import quote as url_quote

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

SOURCE_COLOURS = {"article2014": "#E69F00", "paper2016": "#0072B2", "news2016_18": "#D55E00",
                  "study2019": "#009E73", "brief2022": "#CC79A7"}
"""One fixed Okabe–Ito colour per source, in every chart of the book and the notebooks."""
SOURCE_SHAPES = {"article2014": "triangle-up", "paper2016": "circle", "news2016_18": "square",
                 "study2019": "diamond", "brief2022": "triangle-down"}
"""One fixed shape per source: the second channel where marks of several sources overlap."""
DATE_FORMAT = {"year": "%Y", "quarter": "%b %Y", "month": "%b %Y", "week": "%-d %b %Y", "date": "%-d %b %Y",
               "hours": "%-d %b %Y", "minutes": "%-d %b %Y", "seconds": "%-d %b %Y",
               "milliseconds": "%-d %b %Y"}
"""Date axis labels read as years, months or days ("2016", "Mar 2017"), never as weekdays ("Wed 15")."""
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
                       "titleColor": "#1a1a1a", "labelLimit": 300, "orient": "bottom", "columns": 1,
                       "direction": "vertical"},
            # transparent: the page shows through, light or dark
            "background": None,
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


TITLE_WIDTH, SUBTITLE_WIDTH = 34, 46
"""Characters per line of a chart's title and subtitle: a title fits a 390 px phone's column."""


def _wrapped_title(title) -> dict:
    """The title and subtitle as lists of short lines (Vega draws a list as lines; it never wraps)."""
    title = dict(title) if isinstance(title, dict) else {"text": title}

    def lines(text, width: int) -> list[str]:
        parts = text if isinstance(text, list) else [text]
        return [line for part in parts for line in textwrap.wrap(str(part), width)]

    title["text"] = lines(title["text"], TITLE_WIDTH)
    if title.get("subtitle"):
        title["subtitle"] = lines(title["subtitle"], SUBTITLE_WIDTH)
    return title


PROVENANCE = ["source_id", "source", "section", "quote"]
"""The columns every chart's CSV download ends with: whose row it is, where, and in whose words."""


def download_rows(frame: pd.DataFrame, columns: Sequence[str], *, quote: str = "quote") -> pd.DataFrame:
    """The rows a chart draws, as a reader downloads them: ``columns`` then :data:`PROVENANCE`.

    ``frame`` holds one row per drawn row with the table's own ``source_id``, ``section`` and quoted
    words (column ``quote``); a row whose table records no section gets an empty one.
    """
    rows = frame.assign(source=frame["source_id"].map(book_data.citations()),
                        quote=frame[quote]).reindex(columns=[*columns, *PROVENANCE], fill_value="")
    return rows.fillna("").reset_index(drop=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "chart"


class Figure:
    """A chart with its caption, source line and text alternative, ready to display.

    In the book it renders as ``<figure class="brbook-chart">`` holding the
    Vega-Lite spec; in JupyterLab it also offers the Vega-Lite MIME type. Under the chart a
    reader downloads the rows it draws (``download``, see :func:`download_rows`) as CSV, with
    no script; ``brbook.js`` adds "Save image" buttons (SVG and PNG) once the chart is drawn.
    """

    def __init__(self, chart: alt.TopLevelMixin, *, description: str, sources: Sequence[str],
                 table: pd.DataFrame | None = None, download: pd.DataFrame | None = None):
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
        spec["title"] = _wrapped_title(spec["title"])
        if not any(key in spec for key in ("hconcat", "vconcat", "concat", "facet", "repeat")):
            # the chart fits its column's width; its height follows its rows
            spec["width"] = "container"
            spec["autosize"] = {"type": "fit-x", "contains": "padding"}
        self.spec = spec
        self.description = description
        self.sources = list(sources)
        self.table = table
        if download is not None and not set(PROVENANCE) <= set(download.columns):
            raise ValueError(f"a chart's download needs the columns {PROVENANCE}")
        self.download = download
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

    @property
    def file_stem(self) -> str:
        """The downloads' file name: the chart's title as a slug."""
        return _slug(" ".join(self.spec["title"]["text"]))

    def csv(self) -> str:
        """The rows the chart draws with their provenance, as CSV text (UTF-8, a header row)."""
        return self.download.to_csv(index=False, lineterminator="\r\n")

    def _downloads_html(self) -> str:
        if self.download is None:
            return ""
        href = "data:text/csv;charset=utf-8," + url_quote("\ufeff" + self.csv(), safe=",;:()!*/'")
        return (f'<p class="chart-downloads"><a class="chart-csv" download="{self.file_stem}.csv" href="{href}">'
                f"Download data (CSV)</a> <span class=\"chart-csv-note\">{len(self.download)} rows, each with "
                "its source, section and quoted words</span></p>")

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
        title = " ".join(self.spec["title"]["text"])
        return (
            f'<figure class="brbook-chart" id="{self.ident}" aria-labelledby="{self.ident}-cap">'
            f"{self._drawing_html(title)}"
            f'<figcaption id="{self.ident}-cap"><span class="chart-description">{html.escape(self.description)}'
            f'</span> <span class="chart-source">{html.escape(self.source_line)}</span></figcaption>'
            f"{self._downloads_html()}{self._table_html()}</figure>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/html": self._repr_html_(), "application/vnd.vegalite.v6+json": self.spec,
                "text/plain": f"<Figure: {self.spec['title']}>"}


def _dropdown(name: str, label: str, values: Iterable[str], with_all: bool = True,
              labels: dict[str, str] | None = None) -> alt.Parameter:
    """A dropdown bound to a parameter; ``labels`` shows readable names for the values it filters on."""
    options = ([ALL] if with_all else []) + sorted({str(v) for v in values})
    shown = [(labels or {}).get(o, o) for o in options]
    return alt.param(name=name, value=options[0],
                     bind=alt.binding_select(options=options, labels=shown, name=label + " "))


def _keep(field: str, param: alt.Parameter) -> str:
    """A filter expression keeping rows equal to the parameter, or every row for "All"."""
    return f"({param.name} == '{ALL}') || (datum['{field}'] == {param.name})"


def source_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Add a readable ``source`` column ("Astapenia and Balkunets (2016)") beside ``source_id``."""
    return frame.assign(source=frame["source_id"].map(book_data.citations()))


def _source_ids() -> list[str]:
    return list(book_data.sources()["source_id"])


def source_scale(kind: str = "colour") -> alt.Scale:
    """The fixed scale from a source's label to its colour (or shape), over every source.

    The domain names every source, so no filter, slider or chart can give a source another colour.
    """
    table = SOURCE_COLOURS if kind == "colour" else SOURCE_SHAPES
    ids = _source_ids()
    return alt.Scale(domain=[book_data.cite(i) for i in ids], range=[table[i] for i in ids])


def _shown(frame: pd.DataFrame) -> list[str]:
    """The labels of the sources present in ``frame``, oldest first (the legend lists only these)."""
    present = set(frame["source"])
    return [book_data.cite(i) for i in _source_ids() if book_data.cite(i) in present]


SHORT_KINDS = {"analytical paper": "paper", "series of news analyses": "news series", "policy brief": "brief"}


def short_source_name(source_id: str) -> str:
    """A source as the prose names it, short enough for a phone's legend: "2016 paper",
    "2016–2018 news series"."""
    row = book_data.sources().set_index("source_id").loc[source_id]
    return f"{row['years']} {SHORT_KINDS.get(row['kind'], row['kind'])}"


def _source_legend(frame: pd.DataFrame) -> alt.Legend:
    """The legend of the sources present; where the plot is narrower than a full name (a phone),
    each source is named as the prose names it ("2016 paper"), on one line."""
    labels = _shown(frame)
    short = {book_data.cite(i): short_source_name(i) for i in _source_ids()}
    expr = f"width < 360 ? {json.dumps(short, ensure_ascii=False)}[datum.label] : datum.label"
    return alt.Legend(values=labels, labelExpr=expr, labelLimit=360)


def source_colour(frame: pd.DataFrame, channel=None, title: str = "Source"):
    """A colour channel (``alt.Color``, or ``alt.Stroke``/``alt.Fill``) for the ``source`` column of
    ``frame`` on the book's fixed scale."""
    return (channel or alt.Color)("source:N", title=title, scale=source_scale(), legend=_source_legend(frame))


def source_shape(frame: pd.DataFrame, title: str = "Source"):
    """A shape channel for the ``source`` column on the fixed scale (merges with the colour legend)."""
    return alt.Shape("source:N", title=title, scale=source_scale("shape"), legend=_source_legend(frame))


def _date_axis(title: str) -> alt.Axis:
    return alt.Axis(title=title, format=DATE_FORMAT, formatType="time", labelOverlap=True)


def _count_axis(title: str) -> alt.Axis:
    return alt.Axis(title=title, format="d", tickMinStep=1)


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
    if color == "source":
        encoding["color"] = source_colour(frame)
    elif color:
        encoding["color"] = alt.Color(f"{color}:N", title=book_data.tag_label(color))
    chart = chart.encode(**encoding)
    if filter_field:
        param = _dropdown(f"{filter_field}_choice", filter_label, frame[filter_field], with_all=False)
        chart = chart.add_params(param).transform_filter(f"datum['{filter_field}'] == {param.name}")
    return Figure(chart, description=description, sources=sources, table=frame)


def timeline(events: pd.DataFrame, *, title: str, description: str, height: int = 260) -> Figure:
    """Events on a time axis, one lane per dimension, with dimension and source dropdowns, two
    sliders that set the first and last year shown (they work by touch too, unlike a brush), and a
    tooltip with the date as the source gives it, how it is known, and the quote.

    Colour and shape both show the source (fixed for the whole book); a mark is filled when the
    source states the date, half-filled when it states day and month only, and hollow when the
    date is inferred from context."""
    frame = source_labels(events).assign(
        date=events["date"].dt.strftime("%Y-%m-%d"),
        year=events["date"].dt.year,
        when=book_data.event_dates(events),
        dating=events["date_basis"].map(book_data.dating),
        dimension=events["dimension"].astype(str).map(book_data.tag_label),
        quote_short=events["quote"].str.slice(0, 160),
    )[["event_id", "date", "year", "when", "date_precision", "dating", "date_basis", "dimension", "title",
       "source", "quote_short"]]
    dim = _dropdown("dimension_choice", "Dimension", frame["dimension"])
    src = _dropdown("source_choice", "Source", frame["source"])
    low, high = int(frame["year"].min()), int(frame["year"].max())
    first = alt.param(name="from_year", value=low,
                      bind=alt.binding_range(min=low, max=high, step=1, name="From year "))
    last = alt.param(name="to_year", value=high, bind=alt.binding_range(min=low, max=high, step=1, name="To year "))
    datings = ["Date stated in the source", "Day and month stated, year inferred", "Date inferred from context"]
    key = ["Filled: date stated in the source;", "half-filled: day and month stated,", "year inferred;",
           "open: date inferred from context"]
    chart = alt.Chart(frame, title=alt.Title(title, subtitle=key)).transform_filter(
        _keep("dimension", dim)).transform_filter(_keep("source", src)).transform_filter(
        f"datum.year >= {first.name} && datum.year <= max({first.name}, {last.name})").mark_point(
        filled=True, size=80, strokeWidth=1.5).encode(
        x=alt.X("date:T", axis=_date_axis("Date"),
                scale=alt.Scale(domain=[{"expr": f"datetime({first.name}, 0, 1)"},
                                        {"expr": f"datetime(max({first.name}, {last.name}) + 1, 0, 1)"}])),
        y=alt.Y("dimension:N", title="Dimension"),
        color=source_colour(frame),
        stroke=source_colour(frame, alt.Stroke),
        shape=source_shape(frame),
        # Vega-Lite draws no legend for fill opacity: the subtitle is its key
        fillOpacity=alt.FillOpacity("dating:O", title="How the date is known",
                                    scale=alt.Scale(domain=datings, range=[0.9, 0.35, 0.0])),
        tooltip=[alt.Tooltip("title:N", title="Event"), alt.Tooltip("when:N", title="Date"),
                 alt.Tooltip("dating:N", title="Dating"), alt.Tooltip("date_basis:N", title="Date basis"),
                 alt.Tooltip("source:N", title="Source"), alt.Tooltip("quote_short:N", title="Quote")],
    ).properties(height=height).add_params(dim, src, first, last)
    return Figure(chart, description=description, sources=sorted(events["source_id"].unique()),
                  table=frame.drop(columns=["quote_short", "date", "year"]), download=_event_rows(events))


def _event_rows(events: pd.DataFrame) -> pd.DataFrame:
    """Events as a chart's CSV gives them: the date as precisely as the source gives it."""
    rows = events.assign(date=book_data.event_dates(events),
                         dimension=events["dimension"].astype(str).map(book_data.tag_label))
    return download_rows(rows, ["event_id", "date", "date_basis", "dimension", "title", "claim"])


AUTHOR_SPEAKERS = r"^(?:authors?|representatives) of |^Ryhor Astapenia|^Siarhei Bohdan; Gumer"
"""Speakers who are a source's own authors: the actors view shows the people the sources quote."""


def actors(excerpts: pd.DataFrame, *, title: str, description: str) -> Figure:
    """Who said what, when: one row per person or body the sources quote, one mark per statement.

    A statement is placed on the date the source gives for it, or else on the date of its text
    (for the series, its article's date), shown as an open mark. A topic dropdown filters the
    statements and a checkbox keeps only the dated ones; the tooltip carries the words.
    """
    quoted = excerpts[~excerpts["speaker"].str.contains(AUTHOR_SPEAKERS, regex=True)].copy()
    quoted["dated"] = quoted["said_on"] != ""
    when = book_data.when_said(quoted)  # undated: its text's date (the series' article), not the source's
    quoted["date"] = when.map(book_data.full_date)
    quoted["when"] = [w if d else f"not dated (text of {w})" for w, d in zip(when, quoted["dated"], strict=True)]
    datings = ["Date given for the statement", "Undated: placed at the date of its text"]
    quoted["dating"] = quoted["dated"].map({True: datings[0], False: datings[1]})
    quoted["actor"] = quoted["speaker"].map({s: book_data.person_name(s) for s in quoted["speaker"].unique()})
    quoted = source_labels(quoted)
    rows = []
    for row in quoted.itertuples():
        for topic in [t for t in row.topics.split("|") if t] or ["other"]:
            rows.append({"actor": row.actor, "date": row.date, "when": row.when, "dating": row.dating,
                         "dated": row.dated, "topic": book_data.tag_label(topic), "source": row.source,
                         "excerpt_id": row.excerpt_id,
                         "words": row.text[:200] + ("…" if len(row.text) > 200 else "")})
    frame = pd.DataFrame(rows)
    topic = _dropdown("topic_choice", "Topic", frame["topic"])
    dated_only = alt.param(name="dated_only", value=False,
                           bind=alt.binding_checkbox(name="Only statements the source dates "))
    key = ["Filled: the source dates the statement;", "open: placed at the date of its text"]
    chart = alt.Chart(frame, title=alt.Title(title, subtitle=key)).mark_point(size=80, filled=True,
                                                                              strokeWidth=1.5).encode(
        x=alt.X("date:T", axis=_date_axis("Date said (or of its text)")),
        y=alt.Y("actor:N", title="Who (as the sources name them)", sort="x", axis=alt.Axis(labelLimit=150)),
        color=source_colour(frame),
        stroke=source_colour(frame, alt.Stroke),
        shape=source_shape(frame),
        fillOpacity=alt.FillOpacity("dating:O", title="Dating", scale=alt.Scale(domain=datings, range=[0.9, 0.0])),
        tooltip=[alt.Tooltip("actor:N", title="Who"), alt.Tooltip("when:N", title="When"),
                 alt.Tooltip("words:N", title="Words"), alt.Tooltip("source:N", title="Source"),
                 alt.Tooltip("excerpt_id:N", title="Excerpt")],
    ).add_params(topic, dated_only).transform_filter(_keep("topic", topic)).transform_filter(
        f"!{dated_only.name} || datum.dated").transform_aggregate(
        # one mark per statement even when it carries several topics
        groupby=["actor", "date", "when", "dating", "dated", "source", "excerpt_id", "words"],
    ).properties(height=alt.Step(18))
    table = frame.drop_duplicates("excerpt_id")[["actor", "when", "source", "excerpt_id", "words"]]
    labels = quoted["topics"].map(lambda tags: "; ".join(book_data.tag_label(t) for t in tags.split("|") if t))
    download = download_rows(quoted.assign(topics=labels), ["excerpt_id", "actor", "when", "topics"], quote="text")
    return Figure(chart, description=description, sources=sorted(quoted["source_id"].unique()), table=table,
                  download=download)


SERIES_TITLES = {
    "cadets_in_russian_academies": "Belarusian cadets in Russian academies",
    "exercise_participants": "Participants in joint exercises",
    "arms_exports": "Belarusian arms exports",
    "arms_export_countries": "Countries Belarus exports arms to",
    "defence_industry_interaction": "Defence industry: interaction with Russian and other firms",
    "pilot_graduate_flight_hours": "Flight hours of a graduating pilot",
    "pilot_annual_flying_hours": "Yearly flying hours of a pilot",
    "sof_night_drills": "Special forces: share of drills at night",
    "west2017_observer_days": "West-2017: days for invited observers",
    "eeu_exports_2015": "Exports to EEU partners, 2015",
    "eeu_exports_2015_vs_2014": "Exports to EEU partners, 2015 vs 2014",
    "tv_weekly_audience": "TV channels: weekly audience",
    "websites_viewers_jan2015": "Top ten websites, January 2015",
    "websites_penetration_jan2015": "Top ten websites, January 2015",
    "russian_subsidy_estimates": "Russia's yearly subsidy: three sources, three estimates",
    "trade_shares_russia_2015": "Russia's shares of Belarusian exports and imports, 2015",
    "not_watching_russian_tv": "Belarusians not watching Russian TV",
    "opinion_on_ukraine_crisis": "Opinion on the Ukrainian crisis",
    "party_deputies": "Party members among deputies",
}
"""Readable names of the series in ``facts.csv`` (a series missing here falls back to its tag)."""


def _series_name(series: str, units: Sequence[str]) -> str:
    """A series as the dropdown names it, with its unit(s) as the sources word them."""
    title = SERIES_TITLES.get(series) or book_data.tag_label(series)
    units = list(dict.fromkeys(units))
    unit = "; ".join(units)
    return f"{title}: {unit}" if "(" in unit else f"{title} ({unit})"


def _bar_label(label: str, source_id: str) -> str:
    """A bar's label without a leading source id ("paper2016: yearly dotation" -> "Yearly dotation"):
    the bar's colour and the tooltip say whose figure it is."""
    prefix = f"{source_id}: "
    if label.startswith(prefix):
        label = label[len(prefix):]
        label = label[:1].upper() + label[1:]
    return label


def fact_series(facts: pd.DataFrame, *, title: str, description: str, chooser: str = "Figure",
                subtitle: str | None = None) -> Figure:
    """Bars of the figures in ``facts.csv`` that share a ``series``, one series at a time.

    A dropdown bound to the series name switches between them in the browser; each bar is
    labelled by the fact's ``label`` and coloured by its source, and the series' name carries
    every unit its figures are given in (one series may mix exports and imports).
    """
    rows = facts[facts["series"] != ""].copy()
    if rows.empty:
        raise ValueError("no facts with a series to chart")
    names = {series: _series_name(series, group["unit"]) for series, group in rows.groupby("series")}
    rows["figure"] = rows["series"].map(names)
    rows["source"] = rows["source_id"].map(book_data.citations())
    rows["label"] = [_bar_label(label, sid) for label, sid in zip(rows["label"], rows["source_id"], strict=True)]
    frame = rows[["figure", "label", "value", "unit", "source", "period", "fact_id"]]
    choice = _dropdown("series_choice", chooser, frame["figure"], with_all=False)
    chart = alt.Chart(frame, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).mark_bar().encode(
        y=alt.Y("label:N", title="Figure (as labelled in the source)", sort=None, axis=alt.Axis(labelLimit=170)),
        x=alt.X("value:Q", title="Value (unit: see the menu)"),
        color=source_colour(frame),
        tooltip=[alt.Tooltip("label:N", title="Label"), alt.Tooltip("value:Q", title="Value", format=","),
                 alt.Tooltip("unit:N", title="Unit"), alt.Tooltip("period:N", title="Period"),
                 alt.Tooltip("source:N", title="Source"), alt.Tooltip("fact_id:N", title="Fact id")],
    ).add_params(choice).transform_filter(f"datum.figure == {choice.name}").properties(height=alt.Step(34))
    download = download_rows(rows, ["fact_id", "figure", "label", "value", "unit", "period"])
    return Figure(chart, description=description, sources=sorted(rows["source_id"].unique()), table=frame,
                  download=download)


def events_by_year(events: pd.DataFrame, *, title: str, description: str) -> Figure:
    """Events per year, coloured by source, with a slider that sets the first year shown
    and a checkbox that keeps only events whose date the source states in full."""
    frame = source_labels(events).assign(
        year=events["date"].dt.year, stated=events["date_basis"].eq("stated"),
        dimension=events["dimension"].astype(str).map(book_data.tag_label),
    )[["event_id", "year", "title", "source", "stated", "dimension"]]
    first = alt.param(name="first_year", value=int(frame["year"].min()),
                      bind=alt.binding_range(min=int(frame["year"].min()), max=int(frame["year"].max()), step=1,
                                             name="From year "))
    stated = alt.param(name="stated_only", value=False,
                       bind=alt.binding_checkbox(name="Only events whose year the source states "))
    chart = alt.Chart(frame, title=title).mark_bar().encode(
        x=alt.X("year:O", title="Year"),
        y=alt.Y("count():Q", axis=_count_axis("Number of events")),
        color=source_colour(frame),
        tooltip=[alt.Tooltip("year:O", title="Year"), alt.Tooltip("count():Q", title="Events"),
                 alt.Tooltip("source:N", title="Source")],
    ).add_params(first, stated).transform_filter(f"datum.year >= {first.name}").transform_filter(
        f"!{stated.name} || datum.stated")
    return Figure(chart, description=description, sources=sorted(events["source_id"].unique()), table=frame,
                  download=_event_rows(events))


ROLE_COLOURS = ["#0072B2", "#56B4E9", "#6A3D9A", "#E69F00", "#B8860B", "#888888", "#CC79A7", "#D55E00",
                "#8C564B", "#009E73", "#C8C8C8"]
"""One colour per role of :data:`brbook.schema.AUTHORSHIP_ROLES`, in its order (strongest first)."""


def who_wrote(links: pd.DataFrame, *, title: str, description: str) -> Figure:
    """A grid of people and organisations against the sources they are tied to (``authorship.csv``).

    One square per entity and source, coloured by its strongest role (the order of
    ``AUTHORSHIP_ROLES``); the tooltip lists every role, the spelling the source prints, its words
    and any caution. A dropdown keeps one role, and a checkbox keeps only entities found in more
    than one source: those are the links that make two sources' agreement less than independent.
    Rows whose entity is "not stated" are left out: an unknown author links nothing.
    """
    from brbook.schema import AUTHORSHIP_ROLES

    named = links[links["kind"] != "not_stated"].rename(columns={"entity": "name"})
    frame = source_labels(named)
    order = {s: n for n, s in enumerate(book_data.sources()["source_id"])}
    rank = {r: n for n, r in enumerate(AUTHORSHIP_ROLES)}

    def joined(values) -> str:
        return " | ".join(dict.fromkeys(v for v in values if v))

    cells = (frame.assign(rank=frame["role"].map(rank))
             .sort_values(["name", "source_id", "rank"])
             .groupby(["name", "kind", "source_id", "source"], as_index=False)
             .agg(role=("role", "first"), roles=("role", lambda r: ", ".join(dict.fromkeys(r))),
                  printed=("as_printed", joined), evidence=("evidence", joined), note=("note", joined)))
    cells["n_sources"] = cells.groupby("name")["source_id"].transform("nunique")
    cells["source_order"] = cells["source_id"].map(order)
    role = _dropdown("role_choice", "Role", AUTHORSHIP_ROLES,
                     labels={r: book_data.tag_label(r) for r in AUTHORSHIP_ROLES})
    shared = alt.param(name="shared_only", value=False,
                       bind=alt.binding_checkbox(name="Only names found in more than one source "))
    source_sort = sorted(order, key=order.get)
    chart = alt.Chart(cells, title=title).mark_square(size=260).encode(
        x=alt.X("source:N", title="Source", sort=[book_data.cite(s) for s in source_sort],
                axis=alt.Axis(labelAngle=-40, labelLimit=150)),
        y=alt.Y("name:N", title="Person or organisation (the book's spelling)",
                sort=alt.EncodingSortField("n_sources", order="descending"), axis=alt.Axis(labelLimit=150)),
        color=alt.Color("role:N", title="Role (strongest)",
                        scale=alt.Scale(domain=list(AUTHORSHIP_ROLES), range=ROLE_COLOURS),
                        legend=alt.Legend(labelExpr="upper(slice(datum.label, 0, 1)) + slice(datum.label, 1)")),
        tooltip=[alt.Tooltip("name:N", title="Who"), alt.Tooltip("printed:N", title="As this source prints it"),
                 alt.Tooltip("source:N", title="Source"), alt.Tooltip("roles:N", title="Roles"),
                 alt.Tooltip("n_sources:Q", title="Sources naming them"),
                 alt.Tooltip("evidence:N", title="The source's words"), alt.Tooltip("note:N", title="Caution")],
    ).add_params(role, shared).transform_filter(
        f"({role.name} == '{ALL}') || indexof(split(datum.roles, ', '), {role.name}) >= 0").transform_filter(
        f"!{shared.name} || datum.n_sources > 1").properties(height=alt.Step(16))
    table = cells.sort_values(["n_sources", "name", "source_order"], ascending=[False, True, True])[
        ["name", "printed", "source", "roles", "evidence", "note"]]
    download = download_rows(named.assign(section=named["location"]),
                             ["name", "kind", "role", "as_printed"], quote="evidence")
    return Figure(chart, description=description, sources=source_sort, table=table, download=download)
