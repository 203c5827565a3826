"""brbook.provenance: every quotation is verbatim in its source (when the sources are present)."""

from __future__ import annotations

import csv

import pytest

from brbook.provenance import check_all, fragments, normalise, value_in_quote

from .conftest import DATA


def test_normalise_folds_typography_only():
    assert normalise("“Holy cow”—it’s   here⁵³.") == normalise('"Holy cow"-it\'s here.')
    assert normalise("Holy cow") != normalise("Holy cows")


def test_omissions_split_a_quote_into_fragments():
    assert fragments("We must be ready […] to defend the state") == ["we must be ready", "to defend the state"]


def test_value_must_be_written_in_its_quote():
    assert value_in_quote(10998.1, "Belarus\t10 998.1\t68.0")  # a space as thousands separator
    assert value_in_quote(1536779, "aliexpress.com 1,536,779 31.5")
    assert value_in_quote(15, "exceeded the previous year by 15%")
    assert not value_in_quote(16, "exceeded the previous year by 15%")


def test_every_quote_and_excerpt_is_verbatim(seeds):
    problems = check_all(DATA, seeds)
    assert problems == [], "\n".join(map(str, problems[:20]))


def test_a_changed_word_is_caught_with_its_location(seeds, data_copy):
    path = data_copy / "excerpts.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["text"] = rows[0]["text"].replace(" the ", " a ", 1)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    problems = [str(p) for p in check_all(data_copy, seeds)]
    assert len(problems) == 1 and problems[0].startswith(f"excerpts.csv:2:text: {rows[0]['excerpt_id']}")


def test_a_value_missing_from_its_quote_is_caught(seeds, data_copy):
    path = data_copy / "facts.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    target = next(i for i, r in enumerate(rows) if not r["conversion"])
    rows[target]["value"] = "123456789"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    problems = [str(p) for p in check_all(data_copy, seeds)]
    assert any(p.startswith(f"facts.csv:{target + 2}:value:") for p in problems)


def _seed_text(seeds, source_id: str) -> str:
    with (DATA / "sources.csv").open(newline="", encoding="utf-8") as fh:
        seed = next(r["seed_file"] for r in csv.DictReader(fh) if r["source_id"] == source_id)
    return normalise((seeds / seed).read_text(encoding="utf-8"))


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_item_of_the_series_carries_the_date_of_the_article_that_holds_it(seeds):
    from brbook.provenance import article_index, article_starts

    text = _seed_text(seeds, "news2016_18")
    articles = sorted((r for r in _rows("articles.csv") if r["source_id"] == "news2016_18"),
                      key=lambda r: r["article_id"])
    starts = article_starts(text, [a["title"] for a in articles])  # raises if a title is not found in order
    assert starts == sorted(starts) and len(starts) == 15
    wrong = []
    for name, column in (("excerpts.csv", "text"), ("facts.csv", "quote"), ("events.csv", "quote")):
        for row in _rows(name):
            if row["source_id"] != "news2016_18":
                continue
            found = article_index(row[column], text, starts)
            if found is None or row["published"] != articles[found]["published"]:
                wrong.append((name, next(iter(row.values())), row["published"]))
    assert wrong == []


def test_a_wrong_article_date_is_caught(seeds):
    from brbook.provenance import article_index, article_starts

    text = _seed_text(seeds, "news2016_18")
    articles = sorted(_rows("articles.csv"), key=lambda r: r["article_id"])
    starts = article_starts(text, [a["title"] for a in articles])
    quote = "At a press conference on 17 November 2017 in Minsk"
    assert articles[article_index(quote, text, starts)]["published"] == "2017-11"
    assert article_index("words that stand in no article at all", text, starts) is None


QUOTED_WORDS = r"(?<![A-Za-z])'([^']{4,}?)'(?![A-Za-z])"


def _quoted_in_seeds(seeds, table: str, column: str) -> list[str]:
    import re

    every = " ".join(normalise(p.read_text(encoding="utf-8")) for p in seeds.glob("*.txt"))
    missing = []
    for row in _rows(table):
        for quoted in re.findall(QUOTED_WORDS, row[column]):
            if any(piece not in every for piece in fragments(quoted)):
                missing.append(f"{next(iter(row.values()))}: '{quoted}'")
    return missing


def test_words_quoted_in_glossary_definitions_are_the_sources_words(seeds):
    assert _quoted_in_seeds(seeds, "glossary.csv", "definition") == []


@pytest.mark.parametrize("table, column", [
    ("events.csv", "disputed_by"), ("events.csv", "title"), ("events.csv", "description"),
    ("articles.csv", "date_basis"), ("sources.csv", "perspective"), ("sources.csv", "date_note"),
    ("excerpts.csv", "context"), ("facts.csv", "subject"), ("facts.csv", "period"),
])
def test_words_quoted_about_a_source_are_the_sources_words(seeds, table, column):
    """Single-quoted words in what the book says about a source stand verbatim in a source text."""
    assert _quoted_in_seeds(seeds, table, column) == []


def test_a_misquotation_about_a_source_is_caught(seeds, tmp_path, monkeypatch):
    import shutil

    from tests import test_provenance

    shutil.copytree(DATA, tmp_path / "data")
    path = tmp_path / "data" / "glossary.csv"
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    rows[0]["definition"] += " The 2019 study calls him 'president since 1994 in all five sources'."
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setattr(test_provenance, "DATA", tmp_path / "data")
    assert _quoted_in_seeds(seeds, "glossary.csv", "definition") == [
        f"{rows[0]['term']}: 'president since 1994 in all five sources'"]
