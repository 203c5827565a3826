"""The ``brbook`` command line: data checks, exercise builds and class grading."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Tools for the Belarus–Russia teaching book.", no_args_is_help=True,
                  add_completion=False)
data_app = typer.Typer(help="Check and describe the tables in data/.", no_args_is_help=True)
app.add_typer(data_app, name="data")

DataDir = typer.Option(None, "--data-dir", help="Folder of CSV tables (default: the repository's data/).")


@data_app.command("validate")
def validate(data_dir: Path | None = DataDir) -> None:
    """Check every table against its schema; print each problem as file:row:column: message."""
    from brbook.data import data_dir as default_data_dir
    from brbook.schema import validate_dir

    directory = data_dir or default_data_dir()
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
    from brbook.data import data_dir as default_data_dir
    from brbook.provenance import check_all

    if not seeds.is_dir():
        typer.echo(f"no seeds folder at {seeds}: nothing to compare against", err=True)
        raise typer.Exit(2)
    problems = check_all(data_dir or default_data_dir(), seeds)
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


exercises_app = typer.Typer(help="Build the graded exercise notebooks.", no_args_is_help=True)
app.add_typer(exercises_app, name="exercises")
EXERCISES_OUT = Path("_build/exercises")


@exercises_app.command("build")
def exercises_build(out: Path = typer.Option(EXERCISES_OUT, help="Where student/ and key/ are written.")) -> None:
    """Write the student notebooks (no solutions) and the answer key from exercises/*.md."""
    from brbook.exercises import build

    names = build(out)
    typer.echo(f"built {len(names)} exercise notebooks into {out}/student and their key into {out}/key: "
               + ", ".join(names))


def _infer_exercise(submissions: Path) -> str:
    import json

    names = set()
    for path in sorted(submissions.glob("*.ipynb")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
            names.add(meta["brbook"]["exercise"])
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            continue
    if len(names) != 1:
        raise typer.BadParameter(f"cannot tell which exercise these are ({sorted(names) or 'none found'}); "
                                 "pass --exercise NAME or --key PATH")
    return names.pop()


@app.command("grade")
def grade(
    submissions: Path | None = typer.Argument(None, help="Folder of submitted .ipynb files (student id = file name)."),
    out: Path = typer.Option(..., "--out", help="Results folder: gradebook.csv, feedback/, report.html."),
    exercise: str | None = typer.Option(None, help="Exercise name (default: read from the notebooks)."),
    key: Path | None = typer.Option(None, help="Answer key JSON (default: _build/exercises/key/NAME.json)."),
    jobs: int = typer.Option(2, min=1, help="Submissions graded at once."),
    timeout: float = typer.Option(30.0, min=1, help="Wall-clock seconds per submission."),
    memory: int = typer.Option(2048, min=256, help="Address-space limit per submission, in MB."),
    shard: str | None = typer.Option(None, help="Grade only slice K of N, e.g. 1/4, or 'auto' (Kubernetes "
                                                "Indexed Job or Slurm array)."),
    shard_count: int | None = typer.Option(None, min=1, help="With --shard auto on Kubernetes: the number of "
                                                              "shards (the Job's completions)."),
    force: bool = typer.Option(False, help="Grade again even what was already graded."),
    merge: list[Path] = typer.Option([], help="Join the results of shard runs into --out (no grading)."),
    roster: Path | None = typer.Option(None, help="Class list CSV: id,name,email,platform_id (id = file name)."),
    allow_version_mismatch: bool = typer.Option(False, help="Grade notebooks built from another version of the "
                                                            "exercise than the key's (the report flags them)."),
) -> None:
    """Grade a class's notebooks into a gradebook, per-student feedback and a report."""
    from brbook import grading
    from brbook.grading import outputs

    if roster is not None:
        try:
            outputs.save_roster(roster, out)
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(str(exc)) from exc
    if merge:
        if not (key or exercise):
            raise typer.BadParameter("--merge needs --exercise NAME or --key PATH")
        key_path = key or EXERCISES_OUT / "key" / f"{exercise}.json"
        try:
            results = grading.merge(merge, out)
        except grading.ShardError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        key_data = grading.load_key(key_path)
        outputs.save_key_reference(out, key_path)
        grading.write_outputs(results, key_data, out)
        typer.echo(f"merged {len(results)} results from {len(merge)} shards into {out}/gradebook.csv")
        return
    if submissions is None or not submissions.is_dir():
        raise typer.BadParameter("give the folder of submissions (or --merge DIR ...)")
    name = exercise or (None if key else _infer_exercise(submissions))
    key_path = key or EXERCISES_OUT / "key" / f"{name}.json"
    if not key_path.exists():
        raise typer.BadParameter(f"no answer key at {key_path}: run `make exercises` first")
    try:
        shard_spec = grading.parse_shard(shard, shard_count)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    key_data = grading.load_key(key_path)
    mismatched = grading.version_mismatches(submissions, key_data, shard_spec)
    if mismatched and not allow_version_mismatch:
        listed = ", ".join(f"{f} ({v})" for f, v in sorted(mismatched.items())[:10])
        more = f" and {len(mismatched) - 10} more" if len(mismatched) > 10 else ""
        typer.echo(f"refusing to grade: {len(mismatched)} notebook(s) were built from another version of the "
                   f"exercise than the key ({key_data.get('version', 'none recorded')}): {listed}{more}. "
                   "Grade with the key of their version (check out that edition and run `make exercises`), "
                   "or pass --allow-version-mismatch to grade anyway (the report flags them).", err=True)
        raise typer.Exit(2)
    template = key_path.parent.parent / "student" / f"{key_data['exercise']}.ipynb"
    secrets = [key_path.parent, Path("exercises")]
    outputs.save_key_reference(out, key_path)
    results = grading.grade(submissions, out, key_data, jobs=jobs, shard=shard_spec, force=force,
                            limits=grading.Limits(timeout=timeout, memory_mb=memory), secret_paths=secrets,
                            template=template)
    everything = grading.all_graded(out) if shard_spec is None else results
    rows = grading.write_outputs(everything, key_data, out)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    typer.echo(f"graded {len(results)} submissions into {out}: "
               + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def _results_key(results: Path, key: Path | None) -> dict:
    from brbook import grading
    from brbook.grading.outputs import key_for

    key_path = key or key_for(results)
    if key_path is None or not key_path.exists():
        raise typer.BadParameter(f"no answer key recorded in {results}: pass --key PATH")
    return grading.load_key(key_path)


@app.command("review")
def review(
    results: Path = typer.Argument(..., help="A results folder written by `brbook grade`."),
    key: Path | None = typer.Option(None, help="Answer key JSON (default: the one the results were graded with)."),
    port: int = typer.Option(8765, help="Port on 127.0.0.1 (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on; keep 127.0.0.1 unless you know why."),
    open_browser: bool = typer.Option(False, "--open", help="Open the page in the default browser."),
) -> None:
    """Grade the written answers in the browser, question by question (saved to RESULTS/manual.csv)."""
    from brbook.grading.review import serve

    serve(results, _results_key(results, key), host=host, port=port, open_browser=open_browser)


@app.command("export")
def export(
    results: Path = typer.Argument(..., help="A results folder written by `brbook grade`."),
    to: str = typer.Option(..., "--to", help="canvas, moodle or csv."),
    out: Path | None = typer.Option(None, help="Where to write (default: RESULTS/export-PLATFORM.csv)."),
    key: Path | None = typer.Option(None, help="Answer key JSON (default: the one the results were graded with)."),
    assignment: str | None = typer.Option(None, help="The assignment's name on the platform (default: the "
                                                     "exercise title)."),
) -> None:
    """Write the gradebook in a learning platform's documented import format."""
    from brbook.grading.export import FORMATS
    from brbook.grading.export import export as write

    if to not in FORMATS:
        raise typer.BadParameter(f"--to takes one of {', '.join(FORMATS)}")
    target = write(results, _results_key(results, key), to, out, assignment)
    typer.echo(f"wrote {target}")


@app.command("bundle")
def bundle(
    out: Path = typer.Option(Path("_build/student-bundle.zip"), help="Where to write the zip."),
    notebooks: Path = typer.Option(Path("_build/exercises/student"), help="The student exercise notebooks."),
) -> None:
    """Write the student bundle: chapters, exercise notebooks, data and the package, with a README."""
    from brbook import bundle as student_bundle
    from brbook.layout import ROOT

    names = student_bundle.build(ROOT, notebooks, out)
    typer.echo(f"wrote {out} ({len(names)} files)")


@app.command("instructor-edition")
def instructor_edition(
    out: Path = typer.Option(Path("_build/instructor"), help="Folder for the edition's _toc.yml and _config.yml."),
) -> None:
    """Write the instructor edition's table of contents and configuration (the guide and solutions added)."""
    from brbook.instructor import write_edition
    from brbook.layout import ROOT

    toc, config = write_edition(ROOT, out)
    typer.echo(f"wrote {toc} and {config}")


if __name__ == "__main__":
    app()
