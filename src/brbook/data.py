"""Typed, cached access to the tables in ``data/``: the only way chapters read data.

Each loader returns a fresh copy of a cached, typed DataFrame, so a chapter that
modifies its frame cannot change what the next cell sees. Filters take the
vocabulary of the schema (dimension, source, topic, years).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pandas as pd

from brbook.layout import DATA
from brbook.schema import DIMENSIONS, read_raw


def data_dir() -> Path:
    """Where the tables live: ``$BRBOOK_DATA_DIR`` if set, else ``data/`` (of the repository or bundle)."""
    return Path(os.environ.get("BRBOOK_DATA_DIR", DATA))


@cache
def _table(name: str, directory: str) -> pd.DataFrame:
    frame = read_raw(Path(directory) / f"{name}.csv")
    if "dimension" in frame:
        frame["dimension"] = pd.Categorical(frame["dimension"], categories=DIMENSIONS)
    if name == "facts":
        frame["value"] = pd.to_numeric(frame["value"])
    if name == "events":
        frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
        frame["year"] = frame["date"].dt.year
    if name == "sources":
        frame["year"] = frame["date"].str[:4].astype(int)
    return frame


def _load(name: str) -> pd.DataFrame:
    return _table(name, str(data_dir())).copy()


def _years(frame: pd.DataFrame, column: str, years: tuple[int, int] | None) -> pd.DataFrame:
    if years is None:
        return frame
    first, last = years
    year = pd.to_numeric(frame[column].astype(str).str[:4], errors="coerce")
    return frame[(year >= first) & (year <= last)]


def _filter(frame: pd.DataFrame, dimension: str | None, source: str | None) -> pd.DataFrame:
    if dimension is not None:
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dimension!r}; use one of {DIMENSIONS}")
        frame = frame[frame["dimension"] == dimension]
    if source is not None:
        frame = frame[frame["source_id"] == source]
    return frame


def articles(source: str | None = None) -> pd.DataFrame:
    """The dated articles of a source that collects several (the 2016–2018 series), oldest first."""
    frame = _filter(_load("articles"), None, source)
    return frame.sort_values(["published", "article_id"]).reset_index(drop=True)


def sources() -> pd.DataFrame:
    """The five sources in the order they were complete: by ``last``, the date of their latest item.

    ``first`` and ``last`` are the dates of a source's earliest and latest article (both its own date
    when it is one text), and ``years`` is the span as a reader sees it (``2016–2018``). A series is
    ordered by its latest article, so the 2016–2018 series, most of whose articles date from
    2017–2018, comes after the August 2016 paper.
    """
    return _sources(str(data_dir())).copy()


@cache
def _sources(directory: str) -> pd.DataFrame:
    frame = _table("sources", directory).copy()
    spans = _table("articles", directory).groupby("source_id")["published"].agg(["min", "max"])
    frame["first"] = frame["source_id"].map(spans["min"]).fillna(frame["date"])
    frame["last"] = frame["source_id"].map(spans["max"]).fillna(frame["date"])
    first, last = frame["first"].str[:4], frame["last"].str[:4]
    frame["years"] = first.where(first == last, first + "–" + last)
    return frame.sort_values(["last", "date"]).reset_index(drop=True)


def facts(dimension: str | None = None, source: str | None = None) -> pd.DataFrame:
    """Figures with the verbatim sentence that states each; ``value`` is a float."""
    return _filter(_load("facts"), dimension, source).reset_index(drop=True)


def excerpts(dimension: str | None = None, source: str | None = None, topic: str | None = None,
             years: tuple[int, int] | None = None) -> pd.DataFrame:
    """Verbatim passages, filtered by dimension, source, topic tag and the year they were said."""
    frame = _filter(_load("excerpts"), dimension, source)
    if topic is not None:
        frame = frame[frame["topics"].str.split("|").apply(lambda tags: topic in tags)]
    if years is not None:
        frame = frame.assign(_when=when_said(frame))
        frame = _years(frame, "_when", years).drop(columns="_when")
    return frame.reset_index(drop=True)


def when_said(excerpts: pd.DataFrame) -> pd.Series:
    """Each excerpt's date (ISO text): when it was said if the source gives it, else when it was
    published (its article's date for the series, not the source's first year)."""
    return excerpts["said_on"].where(excerpts["said_on"] != "", excerpts["published"])


def events(dimension: str | None = None, source: str | None = None,
           years: tuple[int, int] | None = None) -> pd.DataFrame:
    """Dated events in date order; ``date`` is a datetime and ``year`` an int."""
    frame = _years(_filter(_load("events"), dimension, source), "date", years)
    return frame.sort_values(["date", "event_id"]).reset_index(drop=True)


_ACRONYMS = {"eeu": "EEU", "csto": "CSTO", "tv": "TV", "sof": "SOF", "it": "IT", "eu": "EU"}


def tag_label(tag: str) -> str:
    """A tag as a reader sees it: ``eeu_exports_2015`` -> ``EEU exports 2015``, ``west_relations`` ->
    ``West relations``."""
    words = [_ACRONYMS.get(w, w) for w in tag.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def topics(frame: pd.DataFrame | None = None) -> list[str]:
    """Every topic tag used in the excerpts (of ``frame``, if given), sorted."""
    frame = excerpts() if frame is None else frame
    return sorted({t for tags in frame["topics"] for t in tags.split("|") if t})


_ISO_LENGTH = {"year": 4, "month": 7, "day": 10}
_DATE_FORMATS = {4: "%Y", 7: "%B %Y", 10: "%-d %B %Y"}


def full_date(iso: str) -> str:
    """A partial ISO date padded to a day: ``2016`` -> ``2016-01-01``, ``2016-08`` -> ``2016-08-01``."""
    return iso + {4: "-01-01", 7: "-01"}.get(len(iso), "")


def date_label(iso: str) -> str:
    """A date written only as precisely as it is given: ``2014-03`` -> ``March 2014``."""
    if not iso:
        return ""
    return pd.Timestamp(full_date(iso)).strftime(_DATE_FORMATS[len(iso)])


def event_dates(events: pd.DataFrame) -> pd.Series:
    """Each event's date as precisely as its source gives it (``2016``, not ``1 January 2016``)."""
    isos = [d.strftime("%Y-%m-%d")[:_ISO_LENGTH[p]] for d, p in zip(events["date"], events["date_precision"],
                                                                      strict=True)]
    return pd.Series([date_label(iso) for iso in isos], index=events.index)


def dating(basis: str) -> str:
    """How an event's date is known, from its ``date_basis``: stated, or completed from context."""
    if basis == "stated":
        return "Date stated in the source"
    if "day and month" in basis:
        return "Day and month stated, year inferred"
    return "Date inferred from context"


def glossary() -> pd.DataFrame:
    """Terms with their spelling variants as a list in ``variant_list``."""
    frame = _load("glossary")
    frame["variant_list"] = frame["variants"].apply(lambda v: [x for x in v.split("|") if x])
    return frame.sort_values("term", key=lambda s: s.str.lower()).reset_index(drop=True)


def disagreements() -> pd.DataFrame:
    """Disagreements between the sources, with ``excerpt_list`` and ``option_list`` as lists."""
    frame = _load("disagreements")
    frame["excerpt_list"] = frame["excerpt_ids"].str.split("|")
    frame["option_list"] = frame["options"].str.split("|")
    return frame


def person_name(speaker: str) -> str:
    """The book's spelling of a speaker: ``Dzyanis Melyantsou (BISS)`` -> ``Dzianis Melyantsou``.

    The note in brackets is dropped; a name that is a glossary variant, or shares a glossary
    person's surname and initial, becomes the glossary term. Other names are kept as the source prints them.
    """
    name = speaker.split(" (")[0].strip()
    for row in glossary().itertuples():
        if row.kind != "person":
            continue
        same_person = (name.split()[-1] == row.term.split()[-1] and name[:1] == row.term[:1])  # Dzyanis/Dzianis
        if name == row.term or name in row.variant_list or same_person:
            return row.term
    return name


def source_notes(source: str | None = None) -> pd.DataFrame:
    """The sources' own slips and contradictions."""
    return _filter(_load("source_notes"), None, source).reset_index(drop=True)


def source_dates() -> dict[str, str]:
    """Each source's publication date (ISO text), by id; for the series, its first article's.

    To date or order an item, use its ``published`` column (or :func:`when_said`) instead.
    """
    table = _load("sources")
    return dict(zip(table["source_id"], table["date"], strict=True))


def source(source_id: str) -> pd.Series:
    """One source's row; raises ``KeyError`` naming the known ids."""
    table = _load("sources").set_index("source_id")
    if source_id not in table.index:
        raise KeyError(f"unknown source {source_id!r}; known: {', '.join(table.index)}")
    return table.loc[source_id]


def cite(source_id: str) -> str:
    """A short author–year citation, e.g. ``Astapenia and Balkunets (2016)``.

    Where the text names no author the publisher stands in, as in author–date styles, and where
    it names neither, the first words of the title.
    """
    known = _citations(str(data_dir()))
    if source_id not in known:
        source(source_id)  # raises the KeyError that names the known ids
    return known[source_id]


def citations() -> dict[str, str]:
    """Every source's short citation (:func:`cite`), by id: map a column of ids with it."""
    return dict(_citations(str(data_dir())))


@cache
def _citations(directory: str) -> dict[str, str]:
    table = _sources(directory)
    return {row.source_id: f"{_who(row.author, row.publisher, row.title)} ({row.years})"
            for row in table.itertuples()}


def _who(author: str, publisher: str, title: str) -> str:
    if author != "not stated":
        names = [name.strip().split()[-1] for name in author.split(";")]
    elif publisher != "not stated":
        names = [name.strip() for name in publisher.split(";")]
    else:
        words = title.split()
        names = ["“" + " ".join(words[:4]) + ("…”" if len(words) > 4 else "”")]
    return names[0] if len(names) == 1 else (
        f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al.")


def source_years() -> dict[str, str]:
    """Each source's year, or span of years for a series (``2016–2018``), by id."""
    table = _sources(str(data_dir()))
    return dict(zip(table["source_id"], table["years"], strict=True))


def fact(fact_id: str) -> pd.Series:
    """One fact's row, by id."""
    table = _load("facts").set_index("fact_id")
    if fact_id not in table.index:
        raise KeyError(f"unknown fact {fact_id!r}")
    return table.loc[fact_id]


def fact_value(fact_id: str) -> float | int:
    """A fact's number, as an int when it is whole (so prose prints 15, not 15.0)."""
    value = float(fact(fact_id)["value"])
    return int(value) if value.is_integer() else value
