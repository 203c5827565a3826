"""The ``brbook`` command line: data checks, exercise builds and class grading."""

from __future__ import annotations

from pathlib import Path

import typer

from brbook import data as book_data

app = typer.Typer(help="Tools for the Belarus–Russia teaching book.", no_args_is_help=True,
                  add_completion=False)
data_app = typer.Typer(help="Check and describe the tables in data/.", no_args_is_help=True)
app.add_typer(data_app, name="data")

DataDir = typer.Option(None, "--data-dir", help="Folder of CSV tables (default: the repository's data/).")


@data_app.command("validate")
def validate(data_dir: Path | None = DataDir) -> None:
    """Check every table against its schema; print each problem as file:row:column: message."""
    from brbook.schema import validate_dir

    directory = data_dir or book_data.data_dir()
    problems = validate_dir(directory)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {directory}", err=True)
        raise typer.Exit(1)
    typer.echo(f"data OK: {directory}")


@data_app.command("provenance")
def provenance(
    seeds: Path = typer.Option(Path("../shared/seeds"), help="Folder holding the source texts."),
    data_dir: Path | None = DataDir,
) -> None:
    """Check that every quote and excerpt stands verbatim in its source text."""
    from brbook.provenance import check_all

    if not seeds.is_dir():
        typer.echo(f"no seeds folder at {seeds}: nothing to compare against", err=True)
        raise typer.Exit(2)
    problems = check_all(data_dir or book_data.data_dir(), seeds)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("every quote is verbatim in its source")


@data_app.command("dictionary")
def dictionary() -> None:
    """Print the data dictionary (every column of every table) as Markdown."""
    from brbook.schema import dictionary as build

    typer.echo(build().to_markdown(index=False))
