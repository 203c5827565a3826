"""Grade a class: read each submission, run it in the sandbox, score it against the key, save it.

Each finished submission is saved at once and atomically under ``RESULTS/graded/``, with the
digests of the submission and of the key it was graded against, so a killed run resumes where it
stopped and a changed submission or key is graded again. The gradebook, the feedback and the
report are always rewritten from those records, the hand-graded points in ``manual.csv`` and
the roster, so a regrade of one written answer changes that answer's cells and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from brbook.checkers import Checker, from_plain
from brbook.grading.sandbox import MAX_CELLS, Limits, become_subreaper, run_cells, sweep_orphans, uid_block

SECRET_MODE = 0o700
MAX_BYTES = 20_000_000
"""A submission larger than this is not a notebook someone wrote (ours are well under 1 MB)."""
MAX_SOURCE = 2_000_000
"""Characters of code a submission may hold in all."""


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
    key_digest: str = ""
    version: str = ""
    written: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""

    @property
    def percentage(self) -> float:
        return round(100.0 * self.total / self.possible, 1) if self.possible else 0.0

    @classmethod
    def from_dict(cls, data: Mapping) -> Graded:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def load_key(key_path: Path) -> dict:
    """The answer key written by ``make exercises``."""
    return json.loads(key_path.read_text(encoding="utf-8"))


def key_digest(key: Mapping) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Submission:
    """What the grader takes from a submitted file before anything of it runs."""

    cells: list[str] | None
    why: str = ""
    digest: str = ""
    notebook: Any = None
    version: str = ""


def _read_bytes(path: Path) -> tuple[bytes | None, str]:
    """The file's bytes if it is a regular file of a sane size, never following a link or blocking."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if path.is_symlink():
            return None, "a symbolic link, not a notebook file: submit the .ipynb file itself"
        return None, f"cannot be read: {exc.strerror}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a special file (pipe, device or socket)"
            return None, f"{kind}, not a notebook file"
        if info.st_size > MAX_BYTES:
            return None, (f"{info.st_size / 1e6:.0f} MB, far larger than any notebook written for this "
                          f"exercise (limit {MAX_BYTES / 1e6:.0f} MB)")
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            return fh.read(MAX_BYTES + 1), ""
    finally:
        if fd >= 0:
            os.close(fd)


def read_submission(path: Path) -> Submission:
    """The code cells of a submitted notebook, or ``None`` and why it is unreadable."""
    import nbformat

    raw, why = _read_bytes(path)
    if raw is None:
        return Submission(None, why, digest=f"unreadable:{path.name}")
    digest = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        return Submission(None, "the file is empty", digest)
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return Submission(None, "not valid JSON: not a Jupyter notebook", digest)
    except RecursionError:
        return Submission(None, "JSON nested far deeper than any notebook", digest)
    if not isinstance(data, dict) or "cells" not in data or not isinstance(data["cells"], list):
        return Submission(None, "valid JSON but not a Jupyter notebook (no list of cells)", digest)
    if len(data["cells"]) > MAX_CELLS:
        return Submission(None, f"{len(data['cells']):,} cells, far more than any notebook of this exercise",
                          digest)
    try:
        notebook = nbformat.from_dict(data)
        cells = []
        for cell in notebook.cells:
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                cells.append("".join(source) if isinstance(source, list) else str(source))
    except (RecursionError, TypeError, AttributeError, ValueError) as exc:
        return Submission(None, f"not a readable notebook: {type(exc).__name__}", digest)
    if sum(len(c) for c in cells) > MAX_SOURCE:
        return Submission(None, f"more than {MAX_SOURCE:,} characters of code, far more than any answer",
                          digest)
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    brbook_meta = meta.get("brbook") if isinstance(meta.get("brbook"), dict) else {}
    return Submission(cells, "", digest, notebook, str(brbook_meta.get("version", "")))


def notebook_version(path: Path) -> str | None:
    """The exercise version a notebook records, "" if none, ``None`` if it is not a readable notebook."""
    sub = read_submission(path)
    return None if sub.cells is None else sub.version


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


def atomic_write(path: Path, text: str) -> None:
    """Write a whole file or nothing: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_atomic_write = atomic_write


def list_submissions(folder: Path) -> list[Path]:
    """Every entry named ``*.ipynb``, whatever it is (a link, a pipe or a folder gets its row too)."""
    with os.scandir(folder) as entries:
        return sorted((Path(e.path) for e in entries if e.name.endswith(".ipynb") and not e.name.startswith(".")),
                      key=lambda p: p.name)


def shard_of(files: Sequence[Path], shard: tuple[int, int] | None) -> list[Path]:
    """A deterministic slice: file i (in name order) belongs to shard ``i % N + 1``."""
    ordered = sorted(files, key=lambda p: p.name)
    if shard is None:
        return ordered
    k, n = shard
    return [p for i, p in enumerate(ordered) if i % n == k - 1]


def protect(paths: Iterable[Path]) -> None:
    """Make the key, the exercise sources, the submissions and the results unreadable to sandbox uids."""
    for path in paths:
        if path.exists() and not path.is_symlink():
            os.chmod(path, SECRET_MODE)


_protect_secrets = protect


def grade(submissions: Path, out: Path, key: dict, *, jobs: int = 2, limits: Limits | None = None,
          shard: tuple[int, int] | None = None, force: bool = False, progress: bool = True,
          secret_paths: Sequence[Path] = (), template: Path | None = None) -> list[Graded]:
    """Grade every ``*.ipynb`` in ``submissions`` (a shard of them) into ``out``.

    Each finished submission is saved at once (atomically) under ``out/graded/``,
    so a killed run loses nothing finished and a rerun skips it unless ``force``,
    the file changed, or the key changed.
    """
    from tqdm import tqdm

    from brbook.grading.written import fingerprint, template_answers, written_answers

    limits = limits or Limits()
    as_root = os.geteuid() == 0
    out.mkdir(parents=True, exist_ok=True)
    opened = stat.S_IMODE(os.stat(submissions).st_mode)
    if as_root:  # closed to sandbox uids for the run; the submissions folder is given back its mode after
        protect([*secret_paths, submissions, out])
    become_subreaper()
    everyone = list_submissions(submissions)
    position = {p.name: i for i, p in enumerate(everyone)}  # a uid per submission across all shards
    files = shard_of(everyone, shard)
    graded_dir = out / "graded"
    graded_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="brbook-grade-"))
    os.chmod(scratch, 0o711)
    answer_names = [n for q in key["questions"] for n in q["answers"]]
    possible = sum(q["points"] for q in key["questions"])
    kd = key_digest(key)
    blank = template_answers(template, key)
    blank_fp = _template_fingerprint(template)

    def one(index_path: tuple[int, Path]) -> Graded:
        index, path = index_path
        record = graded_dir / f"{_student_id(path)}.json"
        sub = read_submission(path)
        if record.exists() and not force:
            try:
                saved = Graded.from_dict(json.loads(record.read_text(encoding="utf-8")))
                if saved.digest == sub.digest and saved.key_digest == kd:
                    return saved
            except (ValueError, TypeError):
                pass  # a damaged record is graded again
        if sub.cells is None:
            result = Graded(_student_id(path), path.name, "unreadable", sub.why, {}, {}, {}, 0.0, possible,
                            sub.digest, kd)
        else:
            uid = first_uid + index if as_root else None
            run = run_cells(sub.cells, answer_names, limits, uid=uid, scratch=scratch)
            scores, feedback, shown, total, _ = score_answers(key, run.answers)
            result = Graded(_student_id(path), path.name, run.status, run.reason, scores, feedback, shown, total,
                            possible, sub.digest, kd, sub.version, written_answers(sub.notebook, key, blank),
                            fingerprint(sub.notebook))
            if result.fingerprint == blank_fp:
                result.fingerprint = ""  # a notebook left as handed out resembles every other such one
        atomic_write(record, json.dumps(asdict(result), indent=1))
        return result

    if shard is not None:
        atomic_write(out / "shard.json", json.dumps({"shard": shard[0], "of": shard[1], "key_digest": kd,
                                                     "files": [p.name for p in files]}, indent=1))
    indexed = [(position[p.name], p) for p in files]
    leases = ExitStack()
    try:
        first_uid = leases.enter_context(uid_block()) if as_root else 0  # never shared with a concurrent run
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(tqdm(pool.map(one, indexed), total=len(indexed), disable=not progress,
                                desc="grading", unit="notebook"))
    finally:
        leases.close()
        shutil.rmtree(scratch, ignore_errors=True)
        sweep_orphans()
        if as_root:
            os.chmod(submissions, opened)
    _mark_duplicates(results)
    return results


def _template_fingerprint(template: Path | None) -> str:
    from brbook.grading.written import fingerprint

    if template is None or not template.exists():
        return ""
    sub = read_submission(template)
    return fingerprint(sub.notebook) if sub.notebook is not None else ""


def _mark_duplicates(results: list[Graded]) -> None:
    """Flag byte-identical submissions after the first (they keep the grade their answers earn)."""
    first: dict[str, str] = {}
    for result in sorted(results, key=lambda r: r.file):
        if result.status == "unreadable":
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
            results.append(Graded.from_dict(json.loads(record.read_text(encoding="utf-8"))))
        except (ValueError, TypeError):
            continue
    _mark_duplicates(results)
    return results


def version_mismatches(submissions: Path, key: Mapping, shard: tuple[int, int] | None = None) -> dict[str, str]:
    """File name -> the version it records, for every readable notebook built from another version."""
    want = str(key.get("version", ""))
    found = {}
    for path in shard_of(list_submissions(submissions), shard):
        got = notebook_version(path)
        if got is not None and got != want:
            found[path.name] = got or "none recorded"
    return found


def parse_shard(text: str | None, count: int | None = None, env: Mapping[str, str] | None = None
                ) -> tuple[int, int] | None:
    """``"2/4"`` -> (2, 4); ``"auto"`` reads the scheduler's environment (see ``cluster``)."""
    if not text:
        return None
    if text == "auto":
        from brbook.grading.cluster import shard_from_env

        return shard_from_env(os.environ if env is None else env, count)
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError as exc:
        raise ValueError(f"--shard takes K/N, e.g. 1/2, or auto (got {text!r})") from exc
    if not 1 <= k <= n:
        raise ValueError(f"--shard K/N needs 1 <= K <= N (got {text!r})")
    return k, n
