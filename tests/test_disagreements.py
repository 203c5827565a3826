"""The synthesis tables: disagreements, forecasts and authorship, checked across tables and against the seeds.

These are the rules of issues 15 and 16 that a schema alone cannot state: a disagreement
spans two sources in the order they were written, a third of them ask for a judgement,
every option has its own feedback, a forecast is tested only against a later source, and
every claim about who made a source stands verbatim in that source.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from brbook import data
from brbook.provenance import fragments, normalise, seed_texts
from brbook.schema import validate_dir

from .conftest import DATA, FIXTURE_DATA

QUOTED = r"[“\"]([^”\"]{4,})[”\"]"


def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def excerpts() -> pd.DataFrame:
    return data.excerpts().set_index("excerpt_id")


@pytest.fixture(scope="module")
def disagreements() -> pd.DataFrame:
    table = data.disagreements()
    table["feedback"] = table["option_feedback"].map(json.loads)
    return table


def _quotes_stand_in(texts: list[str], cited: str) -> list[str]:
    """The quoted spans of ``texts`` that are not verbatim in ``cited``."""
    return [q for t in texts for q in re.findall(QUOTED, t) if normalise(q) not in cited]


# --- disagreements -------------------------------------------------------------------------

def test_every_disagreement_cites_two_sources_oldest_first(disagreements, excerpts):
    for row in disagreements.itertuples():
        cited = excerpts.loc[row.excerpt_list]
        assert cited["source_id"].nunique() >= 2, row.disagreement_id
        published = cited["published"].tolist()
        assert published == sorted(published), f"{row.disagreement_id}: excerpts not in order of writing"


def test_the_five_contradictions_of_issue_15_are_taught(disagreements, excerpts):
    ids = dict(zip(disagreements["disagreement_id"], disagreements["excerpt_list"], strict=True))
    assert {"syria", "ukraine_arms", "troops_abroad", "russification", "crimea"} <= set(ids)
    assert {"article2014-x018", "news2016_18-x701"} <= set(ids["syria"])       # “continue to support” / Communist party
    assert {"paper2016-x011", "news2016_18-x708", "news2016_18-x008"} <= set(ids["ukraine_arms"])
    assert {"news2016_18-x139", "brief2022-x002"} <= set(ids["troops_abroad"])
    assert {"paper2016-x818", "news2016_18-x106", "brief2022-x029"} <= set(ids["russification"])
    assert "paper2016-x054" in ids["crimea"]                                   # “an illegal aggression”


def test_at_least_a_third_of_disagreements_ask_for_a_judgement(disagreements):
    kinds = disagreements["kind"].value_counts()
    assert set(kinds.index) <= {"judgement", "reconcile"}
    assert kinds.get("judgement", 0) * 3 >= len(disagreements), kinds.to_dict()


def test_every_option_has_its_own_feedback(disagreements):
    for row in disagreements.itertuples():
        assert list(row.feedback) == row.option_list, row.disagreement_id
        texts = list(row.feedback.values())
        assert len(set(texts)) == len(texts), f"{row.disagreement_id}: feedback repeated across options"
        assert all(len(t) >= 40 for t in texts), f"{row.disagreement_id}: feedback too short to teach"
        for option, text in row.feedback.items():
            if option != row.answer:  # wrong-option feedback says why, without giving the answer away
                assert normalise(row.answer) not in normalise(text), (row.disagreement_id, option)


def test_distractors_are_about_as_long_as_the_answer(disagreements):
    longest = 0
    for row in disagreements.itertuples():
        lengths = {o: len(o) for o in row.option_list}
        right = lengths[row.answer]
        assert all(n >= 0.75 * right for n in lengths.values()), f"{row.disagreement_id}: a distractor is too short"
        longest += right == max(lengths.values())
    assert longest * 3 <= len(disagreements), f"the right option is the longest in {longest} questions"


def test_quotations_in_disagreements_are_verbatim_in_their_excerpts(disagreements, excerpts):
    for row in disagreements.itertuples():
        cited = normalise(" ".join(excerpts.loc[row.excerpt_list, "text"]))
        texts = [row.summary, row.question, row.explanation, *row.option_list, *row.feedback.values()]
        assert not _quotes_stand_in(texts, cited), row.disagreement_id


def test_no_right_answer_rests_on_a_sources_politics(disagreements):
    politics = re.compile(r"opposition|speaks for|\bpolitics\b|hostile|biased|propaganda", re.IGNORECASE)
    for row in disagreements.itertuples():
        assert not politics.search(row.answer), row.disagreement_id
        assert not politics.search(row.feedback[row.answer]), row.disagreement_id


def test_rough_thirds_are_not_called_an_inconsistency(disagreements):
    opinion = disagreements.set_index("disagreement_id").loc["opinion"]
    for text in (opinion["answer"], opinion["explanation"], opinion["summary"], opinion["feedback"][opinion["answer"]]):
        assert not re.search(r"add up|exceed|inconsisten", text), text


def test_validation_reports_feedback_that_misses_an_option(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, target)
    path = target / "disagreements.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    feedback = json.loads(rows[0]["option_feedback"])
    feedback.pop(next(iter(feedback)))
    rows[0]["option_feedback"] = json.dumps(feedback)
    rows[0]["kind"] = "both can be right"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    found = [str(p) for p in validate_dir(target)]
    assert any(p.startswith("disagreements.csv:2:option_feedback: must give feedback for exactly the options")
               for p in found), found
    assert any(p.startswith("disagreements.csv:2:kind:") for p in found), found


# --- forecasts -----------------------------------------------------------------------------

def test_forecasts_quote_their_source_and_are_tested_against_a_later_one(excerpts):
    forecasts = _table("forecasts.csv")
    assert set(forecasts["source_id"]) == {"article2014", "paper2016", "study2019"}
    assert forecasts["source_id"].value_counts().min() >= 3
    assert {"held", "did_not_hold", "partly"} <= set(forecasts["verdict"])
    for row in forecasts.itertuples():
        said = excerpts.loc[row.forecast_excerpts.split("|")]
        later = excerpts.loc[row.outcome_excerpts.split("|")]
        assert set(said["source_id"]) == {row.source_id}, row.forecast_id
        assert (later["published"] > said["published"].max()).all(), row.forecast_id
        assert "brief2022" in set(later["source_id"]), f"{row.forecast_id}: not set beside the 2022 brief"
        cited = normalise(" ".join([*said["text"], *later["text"]]))
        assert not _quotes_stand_in([row.forecast, row.reason], cited), row.forecast_id
        for hedge in filter(None, row.hedge.split("; ")):
            assert normalise(hedge) in normalise(" ".join(said["text"])), (row.forecast_id, hedge)


def test_validation_reports_a_forecast_tested_against_its_own_source(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, target)
    path = target / "forecasts.csv"
    text = path.read_text(encoding="utf-8").replace(",paper2016-x001,", ",article2014-x001,")
    path.write_text(text, encoding="utf-8")
    found = [str(p) for p in validate_dir(target)]
    assert "forecasts.csv:2:outcome_excerpts: must come from a source published after the forecast" in found


def test_forecasts_are_shown_beside_the_later_source_with_the_verdict_folded():
    from bs4 import BeautifulSoup

    from brbook import forecasts

    table = forecasts.table().set_index("forecast_id")
    page = BeautifulSoup(forecasts.tested("study2019")._repr_html_(), "html.parser")
    sections = page.select("section.forecast")
    assert [s["data-forecast"] for s in sections] == [i for i in table.index if i.startswith("study2019-")]
    for section in sections:
        row = table.loc[section["data-forecast"]]
        said, later = section.select("div.compare-column")
        assert [b["data-excerpt"] for b in said.select("blockquote.excerpt")] == row["forecast_list"]
        assert [b["data-excerpt"] for b in later.select("blockquote.excerpt")] == row["outcome_list"]
        verdict = section.select_one("details.forecast-verdict")
        assert verdict is not None and forecasts.VERDICTS[row["verdict"]] in verdict.get_text()
    ids = [tag["id"] for tag in page.select("[id]")]
    assert len(ids) == len(set(ids))


# --- authorship ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def authorship() -> pd.DataFrame:
    return _table("authorship.csv")


def test_authorship_names_every_source_and_its_authors(authorship):
    sources = set(data.sources()["source_id"])
    assert set(authorship["source_id"]) == sources
    authors = authorship[authorship["role"] == "author"]
    assert set(authors["source_id"]) == sources  # "not stated" counts: the chart must show the silence


def test_authorship_shows_the_funders_and_the_circle_of_three(authorship):
    def who(role: str, source: str) -> set[str]:
        rows = authorship[(authorship["role"] == role) & (authorship["source_id"] == source)]
        return set(rows["entity"])

    assert "Mott Foundation" in who("funder", "paper2016")
    assert "GCRF COMPASS" in who("funder", "brief2022")
    in_sources = authorship.groupby("entity")["source_id"].agg(set)
    circle = {"article2014", "paper2016", "news2016_18"}
    assert circle <= in_sources["Ostrogorski Centre"] and circle <= in_sources["Belarus Digest"]
    assert "Ryhor Astapenia" in who("author", "article2014") & who("author", "paper2016")
    informants = authorship[authorship["role"].isin(["informant", "speaker"])]
    shared = informants.groupby("entity")["source_id"].nunique()
    assert {"Yauheni Preiherman", "Dzianis Melyantsou", "Arkady Moshes"} <= set(shared[shared >= 2].index)


def test_authorship_evidence_is_verbatim_in_its_source(authorship, seeds):
    texts = seed_texts(seeds, DATA / "sources.csv")
    for row in authorship.itertuples():
        for piece in fragments(row.evidence):
            assert piece in texts[row.source_id], (row.source_id, row.entity, piece[:60])


def test_synthesis_page_renders_every_disagreement(built_html: Path):
    from bs4 import BeautifulSoup

    page = BeautifulSoup((built_html / "book" / "synthesis" / "index.html").read_text(encoding="utf-8"), "html.parser")
    shown = {s["data-disagreement"] for s in page.select("section.disagreement")}
    assert shown == set(data.disagreements()["disagreement_id"])
    assert "Forecasts tested" in page.get_text()
