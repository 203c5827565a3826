"""The sandbox a submission runs in: a forked process with limits, its own uid as root, no way back.

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

import ctypes
import fcntl
import io
import json
import multiprocessing as mp
import os
import resource
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brbook.checkers import from_plain

STATUSES = ("ok", "timeout", "memory", "error", "unreadable", "duplicate")
OUTPUT_LIMIT = 1_000_000  # bytes a submission may print
UID_BASE = 200_000  # sandbox uids (no passwd entry needed) when running as root
UID_BLOCK = 1_000_000  # uids one grading run may use: a class of up to a million notebooks
UID_BLOCKS = 64  # grading runs that may run at once on one machine as root
MAX_CELLS = 2_000  # far more code cells than any exercise notebook has
PR_SET_CHILD_SUBREAPER = 36

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

@contextmanager
def uid_block(lease_dir: Path | None = None) -> Iterator[int]:
    """Lease a block of sandbox uids for one grading run; yields its first uid.

    Two runs on one machine (two classes, or two shards) must never share a uid: a run
    kills every process of its uids when a submission ends, and would end the other
    run's submissions. Each block is held by an exclusive lock on its own file for the
    whole run, and is free again when the run ends, however it ends.
    """
    lease_dir = lease_dir or Path(tempfile.gettempdir()) / "brbook-uid-leases"
    lease_dir.mkdir(mode=0o755, exist_ok=True)
    for block in range(UID_BLOCKS):
        handle = open(lease_dir / f"{block}.lock", "a")  # noqa: SIM115 - held open for the whole run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        try:
            yield UID_BASE + block * UID_BLOCK
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return
    raise RuntimeError(f"{UID_BLOCKS} grading runs already hold every block of sandbox uids on this machine")


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
    from brbook.grading.shell import shell

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
        _context.set_forkserver_preload(["brbook.grading.shell"])
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
    try:  # the child leads its own session and group: end whatever is left in it, finished or not
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if timed_out:
        process.kill()
        process.join(5)
    if uid is not None:  # reap anything the submission left running, or lying around, under its uid
        _kill_uid(uid)
        _remove_uid_files(uid)
    sweep_orphans()
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

SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm")


def _remove_uid_files(uid: int) -> None:
    """Delete what a sandbox uid left in the world-writable folders, so no later run can find it."""
    for folder in SHARED_TMP:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue


def _stat(pid: str) -> tuple[int, int] | None:
    """(parent pid, session id) of a process, from ``/proc/PID/stat``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[3])


_before: set[int] = set()


def _children() -> set[int]:
    me = os.getpid()
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            info = _stat(entry.name)
            if info and info[0] == me:
                found.add(int(entry.name))
    return found


def become_subreaper() -> bool:
    """Adopt every orphan a submission leaves (Linux), so none outlives grading by escaping to init.

    The children we already have are remembered and never swept.
    """
    _before.clear()
    _before.update(_children())
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def sweep_orphans(rounds: int = 5) -> int:
    """Kill processes a submission left behind that were re-parented to us.

    Our own children share our session; a student process starts a session of its own, so a child
    in another session that we did not have when grading began can only be something a submission
    started (a daemon, a double fork, ``start_new_session``) and we adopted as its subreaper.
    Killing one re-parents its own children to us, hence rounds.
    """
    me, session, killed = os.getpid(), os.getsid(0), 0
    for _ in range(rounds):
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                info = _stat(entry.name)
                if info and info[0] == me and info[1] != session and int(entry.name) not in _before:
                    found.append(int(entry.name))
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                killed += 1
            except (ProcessLookupError, ChildProcessError, PermissionError):
                continue
    return killed


def run_trusted(cells: Sequence[str], answer_names: Sequence[str]) -> Run:
    """Run the reference solution (no privilege drop: it is our own code)."""
    return run_cells(cells, answer_names, Limits(timeout=120))

