"""Charts a student can trust: every chart spec of the built book, read as the browser receives it.

Each check is a function over one Vega-Lite spec (or all of them) that returns its problems, so the
unit tests at the bottom can prove with a constructed bad spec that each check can fail.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup

from brbook import charts
from brbook import data as book_data

from .conftest import HTML, PHONE, vega_lite_specs

SOURCE_FIELD = "source"
COLOUR_CHANNELS = ("color", "fill", "stroke")
LABEL_CHANNELS = ("x", "y", "color", "fill", "stroke", "shape", "fillOpacity", "row", "column")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
SOURCE_IDS = re.compile(r"\b(?:article2014|paper2016|news2016_18|study2019|brief2022)\b")
NARROWEST = 300
"""The widest a fixed-width view may be and still fit a 390 px phone's column with its axis."""


def chart_pages() -> list[str]:
    return sorted(str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
                  if "_static" not in p.parts and "vega-spec" in p.read_text(encoding="utf-8"))


def page_specs(path: str) -> list[dict]:
    return vega_lite_specs(path)


@pytest.fixture(scope="module")
def every_spec(built_html) -> list[tuple[str, dict]]:
    found = [(path, spec) for path in chart_pages() for spec in page_specs(path)]
    assert len(found) >= 10, "the book should have at least ten charts"
    return found


# ---------- walking a spec ----------

def views(spec: dict) -> Iterator[dict]:
    """The spec and every view nested in it (layers and concatenations)."""
    yield spec
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for sub in spec.get(key) or []:
            yield from views(sub)
    if isinstance(spec.get("spec"), dict):
        yield from views(spec["spec"])


def rows(spec: dict, view: dict) -> list[dict]:
    """The rows a view draws from (Altair stores them in the top-level ``datasets``)."""
    source = view.get("data") or spec.get("data") or {}
    if "values" in source:
        return source["values"]
    return (spec.get("datasets") or {}).get(source.get("name"), [])


def _title_text(title) -> list[str]:
    if title is None:
        return []
    if isinstance(title, dict):
        return [str(t) for key in ("text", "subtitle") for t in
                (title.get(key) if isinstance(title.get(key), list) else [title.get(key)]) if t]
    return [str(t) for t in (title if isinstance(title, list) else [title])]


def labels(spec: dict) -> list[str]:
    """Every text a reader sees around the marks: titles, axis and legend titles, tooltip titles,
    control names and options, and the values shown as axis or legend labels."""
    found = _title_text(spec.get("title"))
    for view in views(spec):
        found += _title_text(view.get("title"))
        for param in view.get("params") or []:
            bind = param.get("bind") or {}
            # a dropdown shows its labels where it has them, else its options
            found += [str(bind.get("name", ""))] + [str(o) for o in bind.get("labels") or bind.get("options") or []]
        for channel, enc in (view.get("encoding") or {}).items():
            for item in enc if isinstance(enc, list) else [enc]:
                if not isinstance(item, dict):
                    continue
                found += _title_text(item.get("title"))
                for guide in ("axis", "legend"):
                    if isinstance(item.get(guide), dict):
                        found += _title_text(item[guide].get("title"))
                        found += [str(v) for v in item[guide].get("values") or []]
                if channel in LABEL_CHANNELS and item.get("type") in ("nominal", "ordinal") and item.get("field"):
                    found += sorted({str(r.get(item["field"])) for r in rows(spec, view)})
    return [t for t in found if t]


# ---------- the checks ----------

def colour_problems(specs: list[tuple[str, dict]]) -> list[str]:
    """A source drawn in two colours anywhere in the book, or coloured without a fixed scale."""
    problems, seen = [], defaultdict(set)
    for where, spec in specs:
        for view in views(spec):
            for channel in COLOUR_CHANNELS:
                enc = (view.get("encoding") or {}).get(channel)
                if not isinstance(enc, dict) or enc.get("field") != SOURCE_FIELD:
                    continue
                scale = enc.get("scale") or {}
                domain, colours = scale.get("domain"), scale.get("range")
                if not isinstance(domain, list) or not isinstance(colours, list):
                    problems.append(f"{where}: {channel} of source has no fixed domain and range")
                    continue
                for label, colour in zip(domain, colours, strict=False):
                    seen[label].add(str(colour).lower())
                for label in {str(r.get(SOURCE_FIELD)) for r in rows(spec, view)} - set(domain):
                    problems.append(f"{where}: source {label!r} is outside the colour scale's domain")
    problems += [f"{label!r} is drawn in {sorted(c)}" for label, c in seen.items() if len(c) > 1]
    return problems


def label_problems(spec: dict) -> list[str]:
    """Raw tags, snake_case tokens, source ids or doubled brackets in what a reader sees."""
    bad = []
    for text in labels(spec):
        if SNAKE.search(text) or SOURCE_IDS.search(text) or "))" in text:
            bad.append(text)
    return bad


def count_axis_problems(spec: dict) -> list[str]:
    """Axes that count things (an aggregate count, or titled "Number of …") without integer ticks."""
    bad = []
    for view in views(spec):
        for channel in ("x", "y"):
            enc = (view.get("encoding") or {}).get(channel)
            if not isinstance(enc, dict):
                continue
            axis = enc.get("axis") if isinstance(enc.get("axis"), dict) else {}
            title = " ".join(_title_text(enc.get("title")) + _title_text(axis.get("title")))
            counts = enc.get("aggregate") == "count" or title.lower().startswith("number of")
            integer = axis.get("format") == "d" or (axis.get("tickMinStep") or 0) >= 1
            if counts and not integer:
                bad.append(f"{channel}: {title or 'count'}")
    return bad


def width_problems(spec: dict) -> list[str]:
    """A chart that does not take its container's width, or a view fixed wider than a phone allows."""
    bad = []
    concat = any(key in spec for key in ("hconcat", "vconcat", "concat"))
    autosize = (spec.get("autosize") or (spec.get("config") or {}).get("autosize") or {})
    kind = autosize.get("type") if isinstance(autosize, dict) else autosize
    if not concat and (spec.get("width") != "container" or kind not in ("fit", "fit-x")):
        bad.append(f"width {spec.get('width')!r} with autosize {kind!r}, not the container's width")
    for view in views(spec):
        width = view.get("width")
        if isinstance(width, (int, float)) and width > NARROWEST:
            bad.append(f"a view fixed at {width} px")
    legend = (spec.get("config") or {}).get("legend") or {}
    if legend.get("orient", "right") not in ("bottom", "top", "none"):
        bad.append("legends beside the chart take width from it")
    return bad


# ---------- the built book ----------

def test_every_source_has_one_colour_in_every_chart(every_spec):
    assert colour_problems(every_spec) == []


def test_the_book_colours_are_the_fixed_source_colours(every_spec):
    for where, spec in every_spec:
        for view in views(spec):
            enc = (view.get("encoding") or {}).get("color") or {}
            if enc.get("field") == SOURCE_FIELD:
                mapping = dict(zip(enc["scale"]["domain"], enc["scale"]["range"], strict=True))
                assert mapping == {book_data.cite(s): c for s, c in charts.SOURCE_COLOURS.items()}, where


def test_no_raw_tag_in_any_label(every_spec):
    problems = {f"{where}: {spec.get('title')}": label_problems(spec) for where, spec in every_spec}
    assert {k: v for k, v in problems.items() if v} == {}


def test_count_axes_have_integer_ticks(every_spec):
    problems = {f"{where}: {spec.get('title')}": count_axis_problems(spec) for where, spec in every_spec}
    assert {k: v for k, v in problems.items() if v} == {}


def test_every_chart_takes_its_container_width(every_spec):
    problems = {f"{where}: {spec.get('title')}": width_problems(spec) for where, spec in every_spec}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_series_is_labelled_with_its_years(every_spec):
    shown = {text for _, spec in every_spec for text in labels(spec)}
    series = book_data.cite("news2016_18")
    assert series.endswith("(2016–2018)") and series in shown


def test_trade_shares_name_both_units():
    name = charts._series_name("trade_shares_russia_2015", ["% of Belarusian exports", "% of imports"])
    assert "exports" in name and "imports" in name and "))" not in name


# ---------- each check can fail ----------

def _bad_spec() -> dict:
    rows_ = [{"source": "Astapenia (2014)", "topic": "human_rights", "year": 2014}]
    return {
        "title": "Events by year (% of exports))",
        "data": {"values": rows_},
        "width": 900,
        "config": {"legend": {"orient": "right"}},
        "mark": "bar",
        "encoding": {
            "x": {"field": "year", "type": "ordinal", "title": "Year"},
            "y": {"aggregate": "count", "type": "quantitative", "title": "Number of events"},
            "color": {"field": "source", "type": "nominal", "title": "Source"},
            "shape": {"field": "topic", "type": "nominal", "title": "Topic"},
        },
    }


def test_each_check_fails_on_a_constructed_bad_spec():
    bad = _bad_spec()
    assert colour_problems([("bad", bad)]) == ["bad: color of source has no fixed domain and range"]
    assert set(label_problems(bad)) == {"Events by year (% of exports))", "human_rights"}
    assert count_axis_problems(bad) == ["y: Number of events"]
    assert len(width_problems(bad)) == 3


def test_colour_check_fails_on_one_source_in_two_colours():
    def coloured(colour: str) -> dict:
        spec = _bad_spec()
        spec["encoding"]["color"]["scale"] = {"domain": ["Astapenia (2014)"], "range": [colour]}
        return spec
    assert colour_problems([("a", coloured("#E69F00")), ("b", coloured("#E69F00"))]) == []
    assert colour_problems([("a", coloured("#E69F00")), ("b", coloured("#009E73"))]) == [
        "'Astapenia (2014)' is drawn in ['#009e73', '#e69f00']"]


def test_checks_pass_on_the_fixed_version_of_the_bad_spec():
    good = _bad_spec()
    good.update(title="Events by year", width="container",
                config={"autosize": {"type": "fit-x"}, "legend": {"orient": "bottom"}})
    good["data"]["values"][0]["topic"] = "Human rights"
    good["encoding"]["color"]["scale"] = charts.source_scale().to_dict()
    good["encoding"]["y"]["axis"] = {"format": "d", "tickMinStep": 1}
    assert colour_problems([("good", good)]) == []
    assert label_problems(good) == []
    assert count_axis_problems(good) == []
    assert width_problems(good) == []


# ---------- drawn in Chromium: no chart wider than its column, on a phone or a laptop ----------

@pytest.mark.parametrize("screen", ["laptop", "phone"])
@pytest.mark.parametrize("path", chart_pages())
def test_every_chart_fits_its_column_in_chromium(site_page, phone_page, path, screen):
    """On the page's laptop visit (1366 px) and its phone visit (390 px, conftest.PHONE). The laptop's comes
    after the visit was narrowed to a phone's width and widened again (conftest.BROWSER_ORDER), which once left
    every chart 1765 px wide in a 741 px column (brbook.js now follows each figure's width)."""
    with (site_page if screen == "laptop" else phone_page)(path) as (page, _):
        # the drawing (its SVG box, and everything drawn in it: titles, axes, legends) and its controls,
        # against the figure's width
        overflowing = [f"chart {n + 1}: {w} px in {c} px" for n, (w, c) in enumerate(page.evaluate(
            """() => Array.from(document.querySelectorAll('figure.brbook-chart')).map(f => {
                 const svg = f.querySelector('svg'), box = svg.getBoundingClientRect();
                 const drawn = svg.querySelector('g').getBBox();
                 const controls = Array.from(f.querySelectorAll('.vega-bindings select, .vega-bindings input'))
                   .map(e => e.getBoundingClientRect().right - f.getBoundingClientRect().left);
                 return [Math.ceil(Math.max(box.width, drawn.x + drawn.width, ...controls)),
                         Math.floor(f.getBoundingClientRect().width)];
               })""")) if w > c + 1]
    assert overflowing == []


@pytest.mark.browser
def test_a_tap_on_a_mark_opens_its_tooltip(browser, site_url):
    """On a phone there is no hover: a tap on a bar must show the same tooltip a pointer would."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(f"{site_url}/book/economy/index.html", wait_until="load")
        page.wait_for_function("document.documentElement.dataset.chartsRendered === 'true'", timeout=20000)
        mark = page.locator("figure.brbook-chart svg .mark-rect path").first
        mark.scroll_into_view_if_needed()
        box = mark.bounding_box()
        assert box is not None
        assert not page.locator("#vg-tooltip-element.visible").count()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tooltip = page.locator("#vg-tooltip-element.visible")
        tooltip.wait_for(timeout=5000)
        assert tooltip.inner_text().strip()
    finally:
        context.close()


# ---------- data with every chart: "Download data (CSV)" under each one ----------

ROW_KEYS = {"event_id": "events", "fact_id": "facts", "excerpt_id": "excerpts"}
"""A chart's rows are identified by one of these columns (the who-wrote grid by name and source)."""


def _chart_csvs(path: str) -> list[tuple[dict, object]]:
    """Each chart of a page with the table its CSV link downloads (decoded from the link itself)."""
    import io
    from urllib.parse import unquote

    import pandas as pd

    page = BeautifulSoup((HTML / path).read_text(encoding="utf-8"), "html.parser")
    found = []
    for figure, spec in zip(page.select("figure.brbook-chart"), page_specs(path), strict=True):
        link = figure.select_one(".chart-downloads a.chart-csv")
        assert link is not None, f"{path}: a chart ({spec.get('description', '')[:40]}) has no CSV download"
        prefix = "data:text/csv;charset=utf-8,"
        assert link["href"].startswith(prefix) and link["download"].endswith(".csv")
        text = unquote(link["href"][len(prefix):]).lstrip("\ufeff")
        found.append((spec, pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)))
    return found


def _drawn_keys(spec: dict) -> tuple[str, set]:
    """The id column and the ids of every row the chart holds (what its controls can show)."""
    drawn = [row for view in views(spec) for row in rows(spec, view)]
    for key in ROW_KEYS:
        if drawn and key in drawn[0]:
            return key, {row[key] for row in drawn}
    return "name", {(row["name"], row["source_id"]) for row in drawn}


def test_every_chart_downloads_exactly_its_rows_with_source_section_and_words(built_html):
    import pandas as pd

    tables = {name: pd.read_csv(book_data.data_dir() / f"{name}.csv", dtype=str, keep_default_na=False)
              for name in ("events", "facts", "excerpts", "authorship")}
    words = {"events": "quote", "facts": "quote", "excerpts": "text"}
    checked = 0
    for path in chart_pages():
        for spec, csv in _chart_csvs(path):
            key, drawn = _drawn_keys(spec)
            assert list(csv.columns[-4:]) == charts.PROVENANCE, f"{path}: {list(csv.columns)}"
            got = set(csv[key]) if key != "name" else set(zip(csv["name"], csv["source_id"], strict=True))
            assert got == drawn, f"{path}: the CSV's rows differ from the chart's: {sorted(got ^ drawn)[:5]}"
            blank = list(csv[csv["section"] == ""][key])
            assert not blank, f"{path}: rows with no section: {blank[:5]}"
            if key == "name":
                table = tables["authorship"].rename(columns={"entity": "name"})
                truth = table.set_index(["name", "source_id"])["evidence"]
                assert all(q in set(truth.loc[[(n, s)]]) for n, s, q in zip(csv["name"], csv["source_id"],
                                                                           csv["quote"], strict=True))
            else:
                table = tables[ROW_KEYS[key]].set_index(key)
                assert (csv.set_index(key)["quote"] == table.loc[csv[key], words[ROW_KEYS[key]]]).all(), path
                assert (csv.set_index(key)["source_id"] == table.loc[csv[key], "source_id"]).all(), path
            checked += 1
    assert checked >= 10
