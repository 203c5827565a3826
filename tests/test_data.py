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


# --- issue 15: what the book says about the sources -------------------------------------------

AUTHOR_SPEAKER = r"^(?:authors? of |Ryhor Astapenia)"
HEDGED = r"\b(?:allegedly|reportedly|according to|claimed|claims)\b"


def test_no_reported_event_rests_on_a_claim_its_source_disputes():
    events = data.events()
    reported = events[events["claim"] == "reported"]
    hedged = reported[reported["quote"].str.contains(HEDGED, case=False, regex=True)]
    assert hedged.empty, f"reported events whose quote attributes or hedges the claim: {list(hedged['event_id'])}"
    disputed = events[events["claim"] == "disputed"]
    assert (disputed["disputed_by"].str.len() > 20).all()
    assert (events.loc[events["claim"] != "disputed", "disputed_by"] == "").all()
    ukraine = events.set_index("event_id").loc["news2016_18-e916"]
    assert ukraine["claim"] == "disputed" and "claims" in ukraine["title"]
    assert "to downplay" in ukraine["disputed_by"] and "undoubtedly continue" in ukraine["disputed_by"]


def test_a_disputed_event_without_its_dispute_is_reported(tmp_path):
    import shutil

    from brbook.schema import validate_dir

    target = tmp_path / "data"
    shutil.copytree(data.data_dir(), target)
    frame = pd.read_csv(target / "events.csv", dtype=str, keep_default_na=False)
    row = frame.index[frame["event_id"] == "news2016_18-e916"][0]
    frame.loc[row, "disputed_by"] = ""
    frame.to_csv(target / "events.csv", index=False)
    assert f"events.csv:{row + 2}:disputed_by: a disputed event must say who disputes it" in \
        [str(p) for p in validate_dir(target)]


def test_the_cadet_figures_carry_no_academic_year():
    import re

    facts = data.facts().set_index("fact_id")
    for fact_id in ("paper2016-f901", "paper2016-f902"):
        row = facts.loc[fact_id]
        for column in ("period", "label", "subject"):
            assert not re.search(r"20\d\d/\d\d", row[column]), f"{fact_id} {column}: {row[column]}"
    note = data.source_notes("paper2016")
    cadets = note[note["location"].str.contains("last academic year")].iloc[0]["note"]
    assert "does not resolve" in cadets and "2012/13" in cadets and "2014/15" in cadets


def test_poll_figures_are_dated_by_the_papers_footnotes():
    facts = data.facts().set_index("fact_id")
    assert facts.loc["paper2016-f857", "period"].startswith("March 2015")
    assert facts.loc["paper2016-f857", "label"] == "March 2015"
    assert facts.loc["paper2016-f858", "period"].startswith("December 2014")
    assert facts.loc["paper2016-f859", "period"].startswith("December 2014")
    assert facts.loc["paper2016-f860", "period"].startswith("2014")
    assert not any("2016" in facts.loc[f"paper2016-f{n}", "period"] for n in (857, 858, 859, 860))


def test_rough_thirds_with_a_remainder_are_not_called_inconsistent():
    notes = data.source_notes("brief2022")
    thirds = notes[notes["location"].str.contains("about a third")].iloc[0]
    assert thirds["issue"] != "figure" and "Not an inconsistency" in thirds["note"]
    assert "do not add up" not in thirds["note"]


def test_a_quoted_speaker_is_given_only_for_their_own_words():
    excerpts = data.excerpts()
    quoted = excerpts[~excerpts["speaker"].str.contains(AUTHOR_SPEAKER, regex=True)]
    framing = r"\b(?:said|says|noted|notes|argues|according to|claims|writes|stated|is quoted as saying)\b"
    framed = quoted[quoted["text"].str.contains(framing, case=False, regex=True)]
    assert framed.empty, f"the author's framing words under a quoted speaker: {list(framed['excerpt_id'])}"
    named = [r.excerpt_id for r in quoted.itertuples() if r.speaker.split(" (")[0].split()[-1] in r.text]
    assert not named, f"a quoted speaker named in their own words (the author's frame?): {named}"
    row = excerpts.set_index("excerpt_id").loc["news2016_18-x601"]
    assert row["speaker"] == "author of the article (not named)" and "Herashchenko" in row["context"]
    authors = excerpts[excerpts["speaker"].str.contains(AUTHOR_SPEAKER, regex=True)]
    assert (authors["said_on"] == "").all(), "the authors' words are dated by `published`, not `said_on`"


def test_the_stockholm_embassy_was_re_opened():
    event = data.events().set_index("event_id").loc["news2016_18-e115"]
    assert "re-opens" in event["title"] and "re-opened" in event["description"]


def test_the_glossary_does_not_credit_all_sources_with_lukashenka_since_1994():
    term = data.glossary().set_index("term").loc["Alyaksandr Lukashenka", "definition"]
    assert "all five" not in term and "first elected in 1994" in term and "2019 study" in term


def test_off_subject_facts_are_dropped():
    ids = set(data.facts()["fact_id"])
    dropped = {f"news2016_18-f{n}" for n in (*range(126, 131), *range(135, 142))}
    assert not ids & dropped


def test_an_excerpt_card_shows_its_articles_date_not_the_series_first_year():
    from brbook import excerpts

    html = excerpts.show("news2016_18-x601")._repr_html_()
    assert '<time datetime="2017-11">November 2017</time>' in html
