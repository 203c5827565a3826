"""brbook.schema and `brbook data validate`: every kind of bad row is caught and located."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from brbook.cli import app
from brbook.schema import DIMENSIONS, dictionary, validate_dir

from .conftest import DATA, FIXTURE_DATA


def _edit(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell (row numbered as in the error messages: header is row 1)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[row - 2][column] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture()
def fixture_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, target)
    return target


def messages(directory: Path) -> list[str]:
    return [str(p) for p in validate_dir(directory)]


def test_repository_data_is_valid():
    assert messages(DATA) == []


def test_fixture_data_is_valid(fixture_copy):
    assert messages(fixture_copy) == []


def test_missing_column_is_reported_with_file_and_column(fixture_copy):
    path = fixture_copy / "excerpts.csv"
    with path.open(encoding="utf-8") as fh:
        rows = [r[:-1] for r in csv.reader(fh)]  # drop the last column, published
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    assert "excerpts.csv:1:published: required column is missing" in messages(fixture_copy)


def test_duplicate_id_names_both_rows(fixture_copy):
    _edit(fixture_copy / "facts.csv", 3, "fact_id", "paper2016-f001")
    found = messages(fixture_copy)
    assert any(m.startswith("facts.csv:2:fact_id: duplicate") for m in found)
    assert any(m.startswith("facts.csv:3:fact_id: duplicate") for m in found)


def test_unknown_source_is_reported(fixture_copy):
    _edit(fixture_copy / "events.csv", 3, "source_id", "blog2099")
    assert any(m.startswith("events.csv:3:source_id: unknown source_id") for m in messages(fixture_copy))


@pytest.mark.parametrize("bad", ["14 March 2015", "2015-02-30", "2015/03/14"])
def test_bad_date_is_reported(fixture_copy, bad):
    _edit(fixture_copy / "events.csv", 2, "date", bad)
    assert any(m.startswith("events.csv:2:date:") for m in messages(fixture_copy))


def test_non_numeric_value_is_reported(fixture_copy):
    _edit(fixture_copy / "facts.csv", 2, "value", "two thirds")
    assert "facts.csv:2:value: must be a number (got 'two thirds')" in messages(fixture_copy)


def test_unknown_dimension_is_reported(fixture_copy):
    _edit(fixture_copy / "excerpts.csv", 3, "dimension", "culture")
    assert any(m.startswith("excerpts.csv:3:dimension: must be one of") for m in messages(fixture_copy))


def test_every_problem_is_reported_not_just_the_first(fixture_copy):
    _edit(fixture_copy / "facts.csv", 2, "value", "many")
    _edit(fixture_copy / "events.csv", 3, "date_basis", "guessed")
    _edit(fixture_copy / "glossary.csv", 2, "kind", "animal")
    found = messages(fixture_copy)
    assert {m.split(":")[0] for m in found} == {"facts.csv", "events.csv", "glossary.csv"}


def test_missing_file_is_reported(fixture_copy):
    (fixture_copy / "glossary.csv").unlink()
    assert "glossary.csv:0:-: file is missing" in messages(fixture_copy)


def test_cli_exits_1_and_prints_location_for_a_broken_copy_of_data(data_copy):
    _edit(data_copy / "facts.csv", 5, "value", "n/a")
    result = CliRunner().invoke(app, ["data", "validate", "--data-dir", str(data_copy)])
    assert result.exit_code == 1
    assert "facts.csv:5:value: must be a number (got 'n/a')" in result.output


def test_cli_exits_0_on_the_repository_data():
    result = CliRunner().invoke(app, ["data", "validate", "--data-dir", str(DATA)])
    assert result.exit_code == 0, result.output


def test_disagreement_rules_across_tables_are_reported(fixture_copy):
    _edit(fixture_copy / "disagreements.csv", 2, "excerpt_ids", "article2014-x001|paper2016-x999")
    _edit(fixture_copy / "disagreements.csv", 2, "answer", "Maybe")
    found = messages(fixture_copy)
    assert "disagreements.csv:2:excerpt_ids: unknown excerpt id(s): paper2016-x999" in found
    assert "disagreements.csv:2:answer: must be one of the options, exactly as written" in found


def test_a_disagreement_needs_two_sources(fixture_copy):
    _edit(fixture_copy / "disagreements.csv", 2, "excerpt_ids", "article2014-x001")
    assert "disagreements.csv:2:excerpt_ids: must cite excerpts from at least 2 sources" in messages(fixture_copy)


def test_dictionary_documents_every_column_of_every_table():
    table = dictionary()
    assert {"sources.csv", "facts.csv", "excerpts.csv", "events.csv", "glossary.csv", "articles.csv",
            "disagreements.csv", "source_notes.csv"} <= set(table["file"])
    assert table["meaning"].str.len().min() > 5
    dims = table[(table["file"] == "facts.csv") & (table["column"] == "dimension")]["rules"].iloc[0]
    assert all(d in dims for d in DIMENSIONS)
