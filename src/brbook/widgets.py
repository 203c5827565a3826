"""Live explorers for JupyterLab, built with ipywidgets.

In a running notebook each control re-filters the data through ``brbook.data``.
The static book has no kernel, so there the same display is the in-page explorer of
:mod:`brbook.explorer`, whose script filters the same rows in the browser.
"""

from __future__ import annotations

import html
import re

import ipywidgets as w
import pandas as pd

from brbook import compare as topic_compare
from brbook import data as book_data
from brbook import explorer as page_explorer
from brbook.excerpts import Excerpts

ALL = "All"

STATIC_NOTE = page_explorer.NO_SCRIPT_NOTE
"""What the book's explorer says until its script runs (a class notebook shows :data:`LIVE_NOTE` instead)."""


LIVE_NOTE = "Run this cell (Shift+Enter) to use the explorer: its controls filter the excerpts."
"""What a class notebook's explorer says before its cell is run (it replaces :data:`STATIC_NOTE`)."""

PAGE = 10
"""Excerpts an explorer shows at first; "Show more" adds as many again."""

SCROLL = w.Layout(max_height="520px", overflow="auto", border="1px solid #ddd", padding="0 8px")


def _options(values) -> list[str]:
    return [ALL] + sorted({v for v in values if v})


class _Explorer(w.VBox):
    """Base: a VBox whose display also carries the in-page explorer (``text/html``) for the book."""

    title = "Explorer"

    def page_html(self) -> str:
        """The same explorer for a page with no kernel (see :mod:`brbook.explorer`)."""
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.page_html()
        return bundle


class ExcerptExplorer(_Explorer):
    """Browse excerpts by source, topic, speaker and year, with a text search."""

    title = "Excerpt explorer"

    def __init__(self, dimension: str | None = None):
        self.table = book_data.excerpts(dimension=dimension)
        dates = book_data.when_said(self.table)  # the series' items by their article's date
        self.table = self.table.assign(year=dates.str[:4].astype(int))
        self.source = w.Dropdown(options=_options(self.table["source_id"]), description="Source")
        self.dimension = dimension
        self.topic = w.Dropdown(options=[ALL] + book_data.topics(self.table), description="Topic")
        self.speaker = w.Dropdown(options=_options(self.table["speaker"]), description="Speaker")
        low, high = int(self.table["year"].min()), int(self.table["year"].max())
        self.years = w.IntRangeSlider(value=(low, high), min=low, max=high, description="Years",
                                      layout=w.Layout(width="380px"), style={"description_width": "initial"})
        self.search = w.Text(placeholder="word or phrase", description="Search")
        self.summary = w.HTML()
        self.output = w.HTML(layout=SCROLL)
        self.more = w.Button(description=f"Show {PAGE} more", layout=w.Layout(width="auto"))
        self.more.on_click(self._show_more)
        self.limit = PAGE
        for control in (self.source, self.topic, self.speaker, self.years, self.search):
            control.observe(self._update, names="value")
        super().__init__([w.HBox([self.source, self.topic, self.speaker]), w.HBox([self.years, self.search]),
                          self.summary, self.output, self.more])
        self._update()

    def matches(self) -> pd.DataFrame:
        """The excerpts the controls currently select."""
        rows = self.table
        if self.source.value != ALL:
            rows = rows[rows["source_id"] == self.source.value]
        if self.topic.value != ALL:
            rows = rows[rows["topics"].str.split("|").apply(lambda tags: self.topic.value in tags)]
        if self.speaker.value != ALL:
            rows = rows[rows["speaker"] == self.speaker.value]
        first, last = self.years.value
        rows = rows[(rows["year"] >= first) & (rows["year"] <= last)]
        if self.search.value.strip():
            rows = rows[rows["text"].str.contains(self.search.value.strip(), case=False, regex=False)]
        return rows

    def _show_more(self, button=None) -> None:
        self.limit += PAGE
        self._render()

    def _update(self, change=None) -> None:
        self.limit = PAGE
        self._render()

    def _render(self) -> None:
        """The count, the first ``limit`` matches in a scroll box, and "Show more" while some are hidden."""
        rows = self.matches()
        shown = rows.head(self.limit)
        self.summary.value = (f"<p><strong>{len(rows)}</strong> excerpt(s) match"
                              + (f"; showing the first {len(shown)}." if len(shown) < len(rows) else ".") + "</p>")
        self.output.value = (Excerpts(shown.drop(columns="year"))._repr_html_() if len(shown)
                             else "<p>No excerpt matches.</p>")
        self.more.layout.display = "" if len(shown) < len(rows) else "none"

    def page_html(self) -> str:
        return page_explorer.excerpt_explorer_html(self.dimension, self.table.drop(columns="year"), self.title)


class CompareExplorer(_Explorer):
    """One topic, the chosen sources side by side, oldest source first (the live form of the book's
    in-page compare view, :func:`brbook.explorer.compare_html`)."""

    title = "Compare the sources on one topic"

    def __init__(self, topic: str, sources: tuple[str, ...] = (), heading: str = "h3"):
        self.heading = heading  # the level of each column's heading on the book's page
        every = book_data.sources()["source_id"].tolist()
        topics = page_explorer.compare_topics()  # as the book's view: topics two or more sources speak on
        if topic not in topics:
            raise KeyError(f"no two sources speak on {topic!r}; topics to compare: {', '.join(topics)}")
        self.topic = w.Dropdown(options=[(f"{book_data.tag_label(t)} ({n} sources)", t) for t, n in topics.items()],
                                value=topic, description="Topic")
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

    def page_html(self) -> str:
        return page_explorer.compare_html(self.topic.value, self.sources.value, self.heading)


def excerpt_explorer(dimension: str | None = None) -> ExcerptExplorer:
    """One-call explorer of a chapter's excerpts."""
    return ExcerptExplorer(dimension)


def compare(topic: str, *sources: str, heading: str = "h3") -> CompareExplorer:
    """One-call side-by-side view of a topic: every source, or the ones named; ``heading`` is the level
    of each source's heading in the book (one below the section the view sits in)."""
    return CompareExplorer(topic, sources, heading)


class SelfCheckForm(w.VBox):
    """A self-check in a kernel: the same question, options and feedback as the book's page.

    It is built from the token a class notebook stores (see :mod:`brbook.notebooks`): a salted hash
    of the answer and masked feedback, exactly what the page carries, so no cell shows the answer.
    """

    def __init__(self, token: str):
        import base64
        import json

        self.state = json.loads(base64.b64decode(token))
        self.tries = 0
        question = w.HTML(f"<p><strong>Self-check</strong> {html.escape(self.state['question'])}</p>")
        if self.state["kind"] == "choice":
            self.answer = w.RadioButtons(options=[label for label, _ in self.state["options"]], value=None,
                                         layout=w.Layout(width="auto"))
        else:
            self.answer = w.Text(placeholder="a number", description="Your answer",
                                 style={"description_width": "initial"})
        unit = w.HTML(html.escape(self.state.get("unit", "")))
        self.check = w.Button(description="Check", button_style="primary")
        self.check.on_click(self._check)
        self.feedback = w.HTML()
        self.feedback.add_class("brbook-feedback")
        self.extra = w.HTML()
        row = w.HBox([self.answer, unit]) if self.state["kind"] == "number" else self.answer
        super().__init__([question, row, self.check, self.feedback, self.extra])
        self.add_class("brbook-self-check")

    def _unmask(self, key: str, encoded: str) -> str:
        from brbook.selfcheck import unmask

        return unmask(self.state["salt"], key, encoded) if encoded else ""

    def judge(self, value: str) -> tuple[bool | None, str]:
        """Whether ``value`` is right, and the feedback the book gives for it."""
        import math

        from brbook.selfcheck import answer_hash, normalise

        salt, answer = self.state["salt"], self.state["answer"]
        if self.state["kind"] == "number":
            try:
                x = float(str(value).replace(",", "").replace(" ", ""))
            except ValueError:
                return None, "Please type a number."
            step = self.state["step"]
            hit = any(answer_hash(salt, str(k)) == answer for k in (math.floor(x / step), math.ceil(x / step)))
            return hit, "" if hit else self._unmask("hint", self.state["hint"])
        if value is None:
            return None, "Please choose an answer."
        key = normalise(value)
        feedback = dict(self.state["options"]).get(value, "")
        return answer_hash(salt, key) == answer, self._unmask("feedback|" + key, feedback)

    def _check(self, button=None) -> None:
        right, message = self.judge(self.answer.value)
        if right is None:
            self.feedback.value = f"<p>{html.escape(message)}</p>"
            return
        self.tries += 1
        verdict = "Correct. " if right else "Not yet. "
        self.feedback.value = (f'<p class="self-check-{"correct" if right else "incorrect"}">'
                               f"<strong>{verdict}</strong>{html.escape(message)}</p>")
        extra = []
        if right:
            extra.append(self._unmask("worked", self.state.get("worked", "")))
        if right or self.tries >= self.state.get("tries", 3):
            extra.append(self._unmask("explain", self.state.get("explanation", "")))
        self.extra.value = "".join(f"<p>{html.escape(x)}</p>" for x in extra if x)


def self_check(token: str) -> SelfCheckForm:
    """The live self-check of a class notebook's cell."""
    return SelfCheckForm(token)


class LiveChart(w.VBox):
    """A chart in a kernel: the book's Vega-Lite spec drawn as SVG, its bound parameters as controls.

    JupyterLab draws no Vega-Lite 6, so each control sets its parameter's value in the spec and the
    chart is drawn again (vl-convert, the same engine as the print edition). The spec is the book's own.
    """

    def __init__(self, figure):
        import copy

        self.figure = figure
        self.spec = copy.deepcopy(figure.spec)
        self.drawing = w.HTML()
        self.controls = self._controls(self._params(self.spec))
        caption = w.HTML(f"<p><em>{html.escape(figure.description)}</em> {html.escape(figure.source_line)}</p>")
        super().__init__([*[c for c in self.controls if c is not None], self.drawing, caption])
        self.add_class("brbook-live-chart")
        self.draw()

    @staticmethod
    def _params(spec: dict) -> list[dict]:
        found = list(spec.get("params") or [])
        for key in ("layer", "hconcat", "vconcat", "concat"):
            for sub in spec.get(key) or []:
                found += LiveChart._params(sub)
        return [p for p in found if p.get("bind") and "input" in p["bind"]]

    def _controls(self, params: list[dict]) -> list:
        """One control per bound parameter; a ``from_<x>``/``to_<x>`` pair of sliders becomes one range slider.

        The book's page shows two sliders (a brush does not work by touch); in a kernel one two-handled
        slider sets both ends at once, and the chart is drawn again for the interval.
        """
        by_name = {p["name"]: p for p in params}
        paired = {p["name"]: by_name.get("to_" + p["name"][5:]) for p in params if p["name"].startswith("from_")}
        paired = {k: v for k, v in paired.items()
                  if v is not None and by_name[k]["bind"]["input"] == v["bind"]["input"] == "range"}
        partners = {v["name"] for v in paired.values()}
        return [self._interval(p, paired[p["name"]]) if p["name"] in paired else self._control(p)
                for p in params if p["name"] not in partners]

    def _interval(self, first: dict, last: dict) -> w.IntRangeSlider:
        bind = first["bind"]
        label = re.sub(r"^from\s+", "", (bind.get("name") or first["name"][5:]).strip(), flags=re.I)
        control = w.IntRangeSlider(value=(first.get("value", bind["min"]), last.get("value", bind["max"])),
                                   min=bind["min"], max=bind["max"], step=bind.get("step", 1),
                                   description=label[:1].upper() + label[1:] + "s", continuous_update=False,
                                   style={"description_width": "initial"}, layout=w.Layout(width="420px"))

        def changed(change):
            first["value"], last["value"] = change["new"]
            self.draw()

        control.observe(changed, names="value")
        return control

    def _control(self, param: dict):
        bind = param["bind"]
        label = (bind.get("name") or param["name"]).strip()
        style = {"description_width": "initial"}
        if bind["input"] == "select":
            control = w.Dropdown(options=bind["options"], value=param.get("value"), description=label, style=style)
        elif bind["input"] == "checkbox":
            control = w.Checkbox(value=bool(param.get("value")), description=label, style=style, indent=False)
        elif bind["input"] == "range":
            control = w.IntSlider(value=param.get("value"), min=bind["min"], max=bind["max"],
                                  step=bind.get("step", 1), description=label, style=style)
        else:
            return None

        def changed(change, param=param):
            param["value"] = change["new"]
            self.draw()

        control.observe(changed, names="value")
        return control

    def draw(self) -> None:
        import vl_convert as vlc

        svg = vlc.vegalite_to_svg(self.spec)
        label = html.escape(self.figure.description)
        self.drawing.value = f'<div class="brbook-chart-drawing" role="img" aria-label="{label}">{svg}</div>'
