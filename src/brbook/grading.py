"""Grade a class's notebooks: fast, isolated from the key, resumable, and never fooled.

Trust model. Student code runs in its own process, forked from a warm
interpreter that already imported pandas and ``brbook`` (multiprocessing's
fork server), so a submission costs a fork rather than a kernel start. That
process has a wall-clock limit, an address-space limit, an output limit and a
private working directory; when the grader runs as root it also drops to a
uid of its own (distinct per submission, so it cannot signal or read another
submission's process or files) and cannot read the answer key or the
exercise sources. The student process only reports its answer variables as
plain JSON after each cell; the checks that decide the grade run here, in
the grading process, against the key, which the student process never sees.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing as mp
import os
import resource
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from brbook.checkers import Checker, from_plain

STATUSES = ("ok", "timeout", "memory", "error", "unreadable", "duplicate")
OUTPUT_LIMIT = 1_000_000  # bytes a submission may print
UID_BASE = 200_000  # sandbox uids (no passwd entry needed) when running as root
SECRET_MODE = 0o700

@dataclass
class Limits:
    """Per-submission limits."""

    timeout: float = 30.0
    memory_mb: int = 2048
    output_bytes: int = OUTPUT_LIMIT

@dataclass
class Run:
    """What a notebook run reported: the answers as plain data and what went wrong."""

    answers: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    status: str = "ok"
    reason: str = ""
    cells_run: int = 0
    seconds: float = 0.0

# --------------------------------------------------------------------------------------------
# The student process
# --------------------------------------------------------------------------------------------
class _LimitedStream(io.TextIOBase):
    """stdout/stderr for student code: counts what is written, stops a flood once per cell."""

    def __init__(self, sink, limit: int):
        self.sink, self.limit, self.written, self.tripped = sink, limit, 0, False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written += len(text)
        if self.written > self.limit:
            if not self.tripped:
                self.tripped = True
                raise OSError("output limit exceeded: this cell printed too much and was stopped")
            return len(text)
        return self.sink.write(text)

    def flush(self) -> None:
        self.sink.flush()

def _drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)

def _child(cells: Sequence[str], answer_names: Sequence[str], workdir: str, report: str, limits: Limits,
           uid: int | None) -> None:
    """Run in the forked student process: never returns normally (``os._exit``)."""
    os.setsid()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    report_fd = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.chdir(workdir)
    env = {"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = workdir
    out = open(os.path.join(workdir, "output.txt"), "w", encoding="utf-8")  # noqa: SIM115
    os.dup2(out.fileno(), 1)
    os.dup2(out.fileno(), 2)
    if uid is not None:
        _drop_privileges(uid)
        resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
    mem = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes * 4, limits.output_bytes * 4))
    resource.setrlimit(resource.RLIMIT_CPU, (int(limits.timeout) + 2, int(limits.timeout) + 2))
    import sys

    from brbook.checkers import to_plain
    from brbook.grading_shell import shell

    stream = _LimitedStream(out, limits.output_bytes)
    sys.stdout = sys.stderr = stream
    errors: list[str] = []
    encode, write = json.dumps, os.write  # keep our own references before student code runs

    def snapshot(n: int) -> None:
        answers = {}
        for name in answer_names:
            try:
                answers[name] = to_plain(shell.user_ns.get(name))
            except Exception:  # an answer that cannot be read counts as no answer
                answers[name] = None
        line = encode({"cells": n, "answers": answers, "errors": errors[-20:]}) + "\n"
        write(report_fd, line.encode("utf-8", "replace"))

    for n, source in enumerate(cells, start=1):
        stream.tripped = False
        try:
            result = shell.run_cell(source, store_history=False, silent=False)
            failure = result.error_before_exec or result.error_in_exec
        except BaseException as exc:  # noqa: BLE001 - anything a cell throws is the student's
            failure = exc
        if failure is not None:
            errors.append(f"cell {n}: {type(failure).__name__}: {str(failure)[:160]}")
        snapshot(n)
    write(report_fd, b'{"done": true}\n')
    os._exit(0)

# --------------------------------------------------------------------------------------------
# The grading process side
# --------------------------------------------------------------------------------------------
_context: mp.context.ForkServerContext | None = None

def _fork_server() -> mp.context.ForkServerContext:
    """A warm interpreter with pandas, brbook and an IPython shell loaded, to fork from."""
    global _context
    if _context is None:
        _context = mp.get_context("forkserver")
        _context.set_forkserver_preload(["brbook.grading_shell"])
    return _context

def _read_report(path: Path, limit: int = 5_000_000) -> tuple[dict, bool]:
    """The last complete snapshot the child wrote, and whether it finished every cell."""
    last: dict = {}
    done = False
    try:
        with path.open("rb") as fh:
            data = fh.read(limit)
    except OSError:
        return last, done
    for raw in data.splitlines():
        try:
            record = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(record, dict):
            continue
        if record.get("done") is True:
            done = True
        elif isinstance(record.get("answers"), dict):
            last = record
    return last, done

def run_cells(cells: Sequence[str], answer_names: Sequence[str], limits: Limits | None = None,
              uid: int | None = None, scratch: Path | None = None) -> Run:
    """Run notebook cells in a fresh sandboxed process and collect the answers as plain data."""
    limits = limits or Limits()
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="brbook-run-", dir=scratch))
    workdir, report = root / "work", root / "report.jsonl"
    workdir.mkdir()
    report.touch()
    if uid is not None:
        os.chown(workdir, uid, uid)
        os.chmod(workdir, 0o700)
        os.chown(report, uid, uid)
    ctx = _fork_server()
    process = ctx.Process(target=_child, args=(list(cells), list(answer_names), str(workdir), str(report),
                                               limits, uid), daemon=True)
    process.start()
    process.join(limits.timeout)
    timed_out = process.is_alive()
    if timed_out:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.kill()
        process.join(5)
    if uid is not None:  # reap anything the submission left running under its uid
        _kill_uid(uid)
    record, done = _read_report(report)
    run = Run(answers={k: from_plain(v) for k, v in (record.get("answers") or {}).items()
                       if k in answer_names},
              errors=[str(e)[:200] for e in (record.get("errors") or [])][:20],
              cells_run=int(record.get("cells") or 0), seconds=time.monotonic() - started)
    output_size = (workdir / "output.txt").stat().st_size if (workdir / "output.txt").exists() else 0
    shutil.rmtree(root, ignore_errors=True)
    _classify(run, timed_out, done, process.exitcode, limits, output_size, len(cells))
    return run

def _classify(run: Run, timed_out: bool, done: bool, exitcode: int | None, limits: Limits, output_size: int,
              total_cells: int) -> None:
    memory_errors = [e for e in run.errors if "MemoryError" in e]
    output_errors = [e for e in run.errors if "output limit exceeded" in e]
    if timed_out:
        run.status, run.reason = "timeout", (f"stopped after {limits.timeout:g} s in cell {run.cells_run + 1} "
                                             f"of {total_cells}; answers from earlier cells were kept")
    elif memory_errors:
        run.status, run.reason = "memory", f"over the {limits.memory_mb} MB memory limit: {memory_errors[0]}"
    elif not done:
        how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
        if exitcode is not None and exitcode < 0 and -exitcode in (signal.SIGKILL, signal.SIGSEGV) \
                and not run.cells_run:
            run.status, run.reason = "memory", f"the process was killed ({how}), probably by the memory limit"
        else:
            run.status, run.reason = "error", (f"the notebook ended its own process ({how}) in cell "
                                               f"{run.cells_run + 1}; answers from earlier cells were kept")
    elif output_errors:
        run.status, run.reason = "error", f"a cell printed more than {limits.output_bytes:,} bytes and was stopped"
    elif run.errors:
        run.status, run.reason = "error", "; ".join(run.errors[:3])
    else:
        run.status, run.reason = "ok", ""
    if output_size > limits.output_bytes * 4:
        run.reason += " (output file limit reached)"

def _kill_uid(uid: int) -> None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue

def run_trusted(cells: Sequence[str], answer_names: Sequence[str]) -> Run:
    """Run the reference solution (no privilege drop: it is our own code)."""
    return run_cells(cells, answer_names, Limits(timeout=120))

# --------------------------------------------------------------------------------------------
# Submissions, gradebook, feedback and report
# --------------------------------------------------------------------------------------------
@dataclass
class Graded:
    """One submission's result: the row of the gradebook and its feedback."""

    student: str
    file: str
    status: str
    reason: str
    scores: dict[str, float]
    feedback: dict[str, str]
    answers_shown: dict[str, str]
    total: float
    possible: float
    digest: str = ""

    @property
    def percentage(self) -> float:
        return round(100.0 * self.total / self.possible, 1) if self.possible else 0.0

def load_key(key_path: Path) -> dict:
    """The answer key written by ``make exercises``."""
    return json.loads(key_path.read_text(encoding="utf-8"))

def read_submission(path: Path) -> tuple[list[str] | None, str]:
    """The code cells of a submitted notebook, or ``None`` and why it is unreadable."""
    import nbformat

    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror}"
    if not raw.strip():
        return None, "the file is empty"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "not valid JSON: not a Jupyter notebook"
    if not isinstance(data, dict) or "cells" not in data or not isinstance(data["cells"], list):
        return None, "valid JSON but not a Jupyter notebook (no list of cells)"
    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # nbformat raises several kinds
        return None, f"not a readable notebook: {type(exc).__name__}"
    cells = []
    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append("".join(source) if isinstance(source, list) else str(source))
    return cells, ""

def score_answers(key: Mapping, answers: Mapping[str, Any]) -> tuple[dict, dict, dict, float, float]:
    """Check answers (plain data) against the key in this process; nothing else decides a grade."""
    scores, feedback, shown = {}, {}, {}
    total = possible = 0.0
    expected = {k: from_plain(v) for k, v in key["expected"].items()}
    for q in key["questions"]:
        checker = Checker.from_dict(q["checker"])
        possible += q["points"]
        results = [checker.check(answers.get(name), expected[name], q["points"]) for name in q["answers"]]
        right = all(r.correct for r in results)
        scores[q["id"]] = float(q["points"]) if right else 0.0
        feedback[q["id"]] = "Correct." if right else next(r.feedback for r in results if not r.correct)
        shown[q["id"]] = "; ".join(_short(answers.get(name)) for name in q["answers"])
        total += scores[q["id"]]
    return scores, feedback, shown, total, possible

def _short(value: Any) -> str:
    if value is None or value is Ellipsis:
        return "(no answer)"
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "…"

def _student_id(path: Path) -> str:
    return path.stem

def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)

def shard_of(files: Sequence[Path], shard: tuple[int, int] | None) -> list[Path]:
    """A deterministic slice: file i (in name order) belongs to shard ``i % N + 1``."""
    ordered = sorted(files, key=lambda p: p.name)
    if shard is None:
        return ordered
    k, n = shard
    return [p for i, p in enumerate(ordered) if i % n == k - 1]

def _protect_secrets(paths: Iterable[Path]) -> None:
    """Make the key and the exercise sources unreadable to sandbox uids (root only)."""
    for path in paths:
        if path.exists():
            os.chmod(path, SECRET_MODE)

def grade(submissions: Path, out: Path, key: dict, *, jobs: int = 2, limits: Limits | None = None,
          shard: tuple[int, int] | None = None, force: bool = False, progress: bool = True,
          secret_paths: Sequence[Path] = ()) -> list[Graded]:
    """Grade every ``*.ipynb`` in ``submissions`` (a shard of them) into ``out``.

    Each finished submission is saved at once (atomically) under ``out/graded/``,
    so a killed run loses nothing finished and a rerun skips it unless ``force``.
    """
    from tqdm import tqdm

    limits = limits or Limits()
    as_root = os.geteuid() == 0
    if as_root:
        _protect_secrets(secret_paths)
    files = shard_of([p for p in submissions.iterdir() if p.suffix == ".ipynb" and p.is_file()], shard)
    graded_dir = out / "graded"
    graded_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="brbook-grade-"))
    os.chmod(scratch, 0o711)
    answer_names = [n for q in key["questions"] for n in q["answers"]]
    possible = sum(q["points"] for q in key["questions"])
    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() if p.stat().st_size < 50_000_000 else p.name
               for p in files}

    def one(index_path: tuple[int, Path]) -> Graded:
        index, path = index_path
        record = graded_dir / f"{_student_id(path)}.json"
        if record.exists() and not force:
            try:
                return Graded(**json.loads(record.read_text(encoding="utf-8")))
            except (ValueError, TypeError):
                pass  # a damaged record is graded again
        cells, why = read_submission(path)
        if cells is None:
            result = Graded(_student_id(path), path.name, "unreadable", why, {}, {}, {}, 0.0, possible,
                            digests[path])
        else:
            uid = UID_BASE + index if as_root else None
            run = run_cells(cells, answer_names, limits, uid=uid, scratch=scratch)
            scores, feedback, shown, total, _ = score_answers(key, run.answers)
            result = Graded(_student_id(path), path.name, run.status, run.reason, scores, feedback, shown, total,
                            possible, digests[path])
        _atomic_write(record, json.dumps(asdict(result), indent=1))
        return result

    indexed = list(enumerate(files))
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(tqdm(pool.map(one, indexed), total=len(indexed), disable=not progress,
                                desc="grading", unit="notebook"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _mark_duplicates(results)
    return results

def _mark_duplicates(results: list[Graded]) -> None:
    """Flag byte-identical submissions after the first (they keep the grade their answers earn)."""
    first: dict[str, str] = {}
    for result in sorted(results, key=lambda r: r.file):
        if result.status == "unreadable" and result.reason == "the file is empty":
            continue
        if result.digest in first:
            result.status = "duplicate"
            result.reason = f"byte-identical to {first[result.digest]}; graded the same, check for copying"
        else:
            first[result.digest] = result.file

def all_graded(out: Path) -> list[Graded]:
    """Every saved result under ``out/graded`` (for merging shards and rewriting reports)."""
    results = []
    for record in sorted((out / "graded").glob("*.json")):
        try:
            results.append(Graded(**json.loads(record.read_text(encoding="utf-8"))))
        except (ValueError, TypeError):
            continue
    _mark_duplicates(results)
    return results

def write_outputs(results: Sequence[Graded], key: Mapping, out: Path) -> None:
    """Write ``gradebook.csv``, ``feedback/<student>.md`` and ``report.html``, each atomically."""
    qids = [q["id"] for q in key["questions"]]
    manual = [m["id"] for m in key.get("manual", [])]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "file", *qids, *[f"{m} (manual)" for m in manual], "total", "possible",
                     "percentage", "status", "reason"])
    for r in sorted(results, key=lambda r: r.student):
        writer.writerow([r.student, r.file, *[f"{r.scores.get(q, 0.0):g}" for q in qids], *["" for _ in manual],
                         f"{r.total:g}", f"{r.possible:g}", f"{r.percentage:g}", r.status, r.reason])
    _atomic_write(out / "gradebook.csv", buffer.getvalue())
    for r in results:
        _atomic_write(out / "feedback" / f"{r.student}.md", feedback_markdown(r, key))
    from brbook.report import report_html

    _atomic_write(out / "report.html", report_html(results, key))

def feedback_markdown(result: Graded, key: Mapping) -> str:
    """One student's feedback: each question's points and a hint, never the expected answer."""
    lines = [f"# Feedback for {result.student}: {key.get('title', key['exercise'])}", "",
             f"**Score:** {result.total:g} / {result.possible:g} ({result.percentage:g}%)", "",
             f"**Status:** {result.status}" + (f": {result.reason}" if result.reason else ""), ""]
    if result.status == "unreadable":
        lines.append("Your file could not be graded. Submit the .ipynb notebook you worked in.")
        return "\n".join(lines) + "\n"
    lines += ["| Question | Points | Your answer | Feedback |", "|---|---|---|---|"]
    for q in key["questions"]:
        qid = q["id"]
        answer = result.answers_shown.get(qid, "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {qid} | {result.scores.get(qid, 0):g} / {q['points']:g} | {answer} | "
                     f"{result.feedback.get(qid, '').replace('|', '/')} |")
    for m in key.get("manual", []):
        lines.append(f"| {m['id']} | graded by hand / {m['points']:g} | | see your instructor's comments |")
    return "\n".join(lines) + "\n"

def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/4"`` -> (2, 4), with a clear error for anything else."""
    if not text:
        return None
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError as exc:
        raise ValueError(f"--shard takes K/N, e.g. 1/2 (got {text!r})") from exc
    if not 1 <= k <= n:
        raise ValueError(f"--shard K/N needs 1 <= K <= N (got {text!r})")
    return k, n

def merge(results_dirs: Sequence[Path], out: Path) -> list[Graded]:
    """Join the saved results of several shards into ``out/graded``."""
    target = out / "graded"
    target.mkdir(parents=True, exist_ok=True)
    for directory in results_dirs:
        for record in (directory / "graded").glob("*.json"):
            if not (target / record.name).exists() or directory.resolve() != out.resolve():
                _atomic_write(target / record.name, record.read_text(encoding="utf-8"))
    return all_graded(out)

ProgressFn = Callable[[int, int], None]
