"""brbook.data: typed tables, filters and citations."""

from __future__ import annotations

import pandas as pd
import pytest

from brbook import data
from brbook.schema import DIMENSIONS, MAIN_DIMENSIONS


def test_five_sources_in_the_order_they_were_complete():
    sources = data.sources()
    assert len(sources) == 5
    assert list(sources["last"]) == sorted(sources["last"])
    # the series runs to February 2018, so it comes after the August 2016 paper, not before it
    assert list(sources["source_id"]) == ["article2014", "paper2016", "news2016_18", "study2019", "brief2022"]
    assert dict(zip(sources["source_id"], sources["years"], strict=True))["news2016_18"] == "2016–2018"


def test_the_series_articles_are_dated_and_most_come_after_the_2016_paper():
    articles = data.articles("news2016_18")
    assert len(articles) == 15 and articles["article_id"].is_unique
    assert list(articles["published"]) == sorted(articles["published"])
    assert articles["published"].iloc[0] == "2016-02" and articles["published"].iloc[-1] == "2018-02"
    assert (articles["published"] > "2016-08").sum() == 12


def test_every_item_of_the_series_carries_its_article_date():
    dates = set(data.articles("news2016_18")["published"])
    for table in (data.excerpts(source="news2016_18"), data.facts(source="news2016_18"),
                  data.events(source="news2016_18")):
        assert set(table["published"]) <= dates and (table["published"] != "").all()
    assert data.excerpts().set_index("excerpt_id").loc["news2016_18-x601", "published"] == "2017-11"


def test_excerpts_of_other_sources_are_published_on_the_source_date():
    dates = data.source_dates()
    others = data.excerpts()[lambda f: f["source_id"] != "news2016_18"]
    assert (others["published"] == others["source_id"].map(dates)).all()


def test_facts_are_numeric_and_filter_by_dimension():
    military = data.facts(dimension="military")
    assert pd.api.types.is_float_dtype(military["value"])
    assert set(military["dimension"].astype(str)) == {"military"}
    assert data.fact_value("paper2016-f901") == 447


def test_filter_by_source_and_topic():
    rows = data.excerpts(source="paper2016", topic="airbase")
    assert "paper2016-x904" in set(rows["excerpt_id"])
    assert set(rows["source_id"]) == {"paper2016"}
    assert all("airbase" in t.split("|") for t in rows["topics"])


def test_excerpts_by_year_use_the_date_said_or_the_source_date():
    rows = data.excerpts(years=(2022, 2022))
    assert set(rows["source_id"]) == {"brief2022"}


def test_events_are_dated_and_sorted():
    events = data.events(dimension="military", years=(2017, 2017))
    assert pd.api.types.is_datetime64_any_dtype(events["date"])
    assert (events["year"] == 2017).all()
    assert list(events["date"]) == sorted(events["date"])


def test_unknown_dimension_is_an_error():
    with pytest.raises(ValueError, match="unknown dimension"):
        data.facts(dimension="culture")


def test_loaders_return_copies():
    frame = data.facts()
    frame.loc[:, "value"] = -1
    assert (data.facts()["value"] != -1).any()


@pytest.mark.parametrize("source_id, expected", [
    ("paper2016", "Astapenia and Balkunets (2016)"), ("article2014", "Astapenia (2014)"),
    ("brief2022", "OST Research Centre et al. (2022)"),
    ("news2016_18", "Belarus Digest and Ostrogorski Centre (2016–2018)"),
])
def test_cite(source_id, expected):
    assert data.cite(source_id) == expected


def test_cite_unknown_source_names_the_known_ones():
    with pytest.raises(KeyError, match="paper2016"):
        data.cite("blog2099")


def test_glossary_variants_are_lists():
    glossary = data.glossary()
    lukashenka = glossary[glossary["term"].str.contains("Lukashenka")].iloc[0]
    assert "Lukashenko" in lukashenka["variant_list"] or lukashenka["variant_list"]


def test_minimum_coverage_of_the_data():
    facts, excerpts, events = data.facts(), data.excerpts(), data.events()
    assert len(facts) >= 150 and len(excerpts) >= 120 and len(events) >= 100
    per_source = excerpts["source_id"].value_counts()
    assert (per_source >= 10).all() and len(per_source) == 5
    per_dimension = excerpts["dimension"].value_counts()
    assert all(per_dimension[d] >= 20 for d in MAIN_DIMENSIONS)
    assert events["year"].between(2013, 2022).all()
    assert set(facts["dimension"].astype(str)) <= set(DIMENSIONS)


QUOTED = r"[“\"]([^”\"]{4,})[”\"]"


def test_disagreements_cite_two_sources_in_date_order_and_quote_them_verbatim():
    import re

    from brbook.provenance import normalise

    table = data.disagreements()
    assert len(table) >= 6
    excerpts = data.excerpts().set_index("excerpt_id")
    for row in table.itertuples():
        missing = [i for i in row.excerpt_list if i not in excerpts.index]
        assert not missing, f"{row.disagreement_id}: unknown excerpts {missing}"
        sources = [excerpts.loc[i, "source_id"] for i in row.excerpt_list]
        assert len(set(sources)) >= 2, row.disagreement_id
        # oldest first by each excerpt's own publication date (the series' articles span 2016-2018)
        published = [data.full_date(excerpts.loc[i, "published"]) for i in row.excerpt_list]
        assert published == sorted(published), f"{row.disagreement_id}: excerpts not in date order {published}"
        assert row.answer in row.option_list and len(row.option_list) >= 3, row.disagreement_id
        cited = normalise(" ".join(excerpts.loc[i, "text"] for i in row.excerpt_list))
        for field in (row.summary, row.explanation, row.options, row.question):
            for quoted in re.findall(QUOTED, field):
                assert normalise(quoted) in cited, f"{row.disagreement_id}: “{quoted}” is not in its excerpts"


def test_a_misquoted_disagreement_is_caught():
    import re

    from brbook.provenance import normalise

    row = data.disagreements().iloc[0]
    cited = normalise(" ".join(data.excerpts().set_index("excerpt_id").loc[row["excerpt_list"], "text"]))
    forged = re.sub(QUOTED, lambda m: "“" + m[1] + " indeed”", row["summary"], count=1)
    assert any(normalise(q) not in cited for q in re.findall(QUOTED, forged))
