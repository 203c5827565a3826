"""brbook.provenance: every quotation is verbatim in its source (when the sources are present)."""

from __future__ import annotations

import csv

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
