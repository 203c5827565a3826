"""Grading on a cluster: which slice this task grades, and joining the slices back with no gap.

``--shard auto`` reads the slice from the scheduler that started the task: a Kubernetes Indexed
Job sets ``JOB_COMPLETION_INDEX`` (0-based; the count is the Job's ``completions``, passed with
``--shard-count`` or ``BRBOOK_SHARD_COUNT``), a Slurm job array sets ``SLURM_ARRAY_TASK_ID`` with
``SLURM_ARRAY_TASK_MIN`` and ``SLURM_ARRAY_TASK_COUNT``. Every shard run records what it graded in
``shard.json``; :func:`merge` refuses a set with a shard missing, given twice, from another split
or another key, and names it, so a merged gradebook is never silently short.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from brbook.grading.core import Graded, all_graded, atomic_write


class ShardError(ValueError):
    """A set of shards that does not make up one whole class."""


def shard_from_env(env: Mapping[str, str], count: int | None = None) -> tuple[int, int]:
    """(K, N) with K 1-based, from a Kubernetes Indexed Job or a Slurm job array."""
    if "JOB_COMPLETION_INDEX" in env:
        n = count or _int(env.get("BRBOOK_SHARD_COUNT"), "BRBOOK_SHARD_COUNT")
        if not n:
            raise ValueError("--shard auto under a Kubernetes Indexed Job needs the number of shards: "
                             "pass --shard-count N (the Job's completions) or set BRBOOK_SHARD_COUNT")
        k = _int(env["JOB_COMPLETION_INDEX"], "JOB_COMPLETION_INDEX") + 1
    elif "SLURM_ARRAY_TASK_ID" in env:
        task = _int(env["SLURM_ARRAY_TASK_ID"], "SLURM_ARRAY_TASK_ID")
        first = _int(env.get("SLURM_ARRAY_TASK_MIN", "0"), "SLURM_ARRAY_TASK_MIN")
        n = count or _int(env.get("SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_COUNT")
        if not n:
            raise ValueError("--shard auto under Slurm needs SLURM_ARRAY_TASK_COUNT (or --shard-count)")
        k = task - first + 1
    else:
        raise ValueError("--shard auto found neither JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) nor "
                         "SLURM_ARRAY_TASK_ID (a Slurm job array); use --shard K/N to pick a slice by hand")
    if not 1 <= k <= n:
        raise ValueError(f"--shard auto: task {k} of {n} is out of range (is --shard-count right, and does "
                         "the array start at its minimum?)")
    return k, n


def _int(value: str | None, name: str) -> int:
    if value in (None, ""):
        return 0
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not a whole number") from exc


def check_shards(dirs: Sequence[Path]) -> list[dict]:
    """Every shard's record, or :class:`ShardError` naming what is missing, doubled or mismatched."""
    records = []
    for directory in dirs:
        try:
            record = json.loads((directory / "shard.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ShardError(f"{directory} is not a shard's results (no readable shard.json: run it with "
                             "--shard K/N or --shard auto)") from exc
        record["dir"] = directory
        records.append(record)
    if not records:
        raise ShardError("no shards given")
    counts = {r["of"] for r in records}
    if len(counts) > 1:
        raise ShardError("the shards come from different splits: " + ", ".join(
            f"{r['dir']} is {r['shard']}/{r['of']}" for r in records))
    n = counts.pop()
    keys = {r.get("key_digest") for r in records}
    if len(keys) > 1:
        raise ShardError("the shards were graded against different keys: " + ", ".join(
            f"{r['dir']} ({r.get('key_digest')})" for r in records))
    problems = []
    by_index: dict[int, list[Path]] = {}
    for r in records:
        by_index.setdefault(int(r["shard"]), []).append(r["dir"])
    for k, where in sorted(by_index.items()):
        if len(where) > 1:
            problems.append(f"shard {k}/{n} given twice ({', '.join(map(str, where))})")
    missing = [k for k in range(1, n + 1) if k not in by_index]
    if missing:
        problems.append(f"shard{'s' if len(missing) > 1 else ''} {', '.join(f'{k}/{n}' for k in missing)} "
                        "missing")
    seen: dict[str, Path] = {}
    for r in records:
        for name in r.get("files", []):
            if name in seen and seen[name] != r["dir"]:
                problems.append(f"{name} graded in both {seen[name]} and {r['dir']} (overlapping shards)")
            seen.setdefault(name, r["dir"])
        graded = {p.stem for p in (r["dir"] / "graded").glob("*.json")}
        unfinished = [f for f in r.get("files", []) if Path(f).stem not in graded]
        if unfinished:
            problems.append(f"shard {r['shard']}/{n} in {r['dir']} did not finish: {len(unfinished)} "
                            f"submission(s) not graded (run it again to resume)")
    if problems:
        raise ShardError("cannot merge: " + "; ".join(problems))
    return records


def merge(results_dirs: Sequence[Path], out: Path) -> list[Graded]:
    """Join the saved results of a complete set of shards into ``out/graded``."""
    records = check_shards(results_dirs)
    target = out / "graded"
    target.mkdir(parents=True, exist_ok=True)
    for record in records:
        for name in record.get("files", []):
            source = record["dir"] / "graded" / f"{Path(name).stem}.json"
            if source.resolve() != (target / source.name).resolve():
                atomic_write(target / source.name, source.read_text(encoding="utf-8"))
    return all_graded(out)
