"""Execute the book's notebook pages on every core before Sphinx reads them.

Jupyter Book 1 executes pages one after another while it reads them, so on a 2-core machine one
core waits. This module fills the same jupyter-cache that ``_config.yml`` names (``execute_notebooks:
cache``) with every page that is not cached yet, several kernels at a time; ``jupyter-book build``
then finds every page in the cache and only renders. A page is read exactly as myst-nb reads it
(same MyST extensions, same source map) and executed as myst-nb executes it (jupyter-cache's
``single_nb_execution`` in the page's folder, with the configured timeout), so the cache key and the
outputs are the ones a serial build stores: the built HTML is byte for byte the same.

``python -m brbook.execute`` (``make book`` runs it); ``--jobs 1`` runs serially; ``--times`` prints
the execution time of every page recorded in the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from brbook.layout import ROOT


@dataclass(frozen=True)
class Settings:
    """The execution settings of a Jupyter Book configuration file."""

    mode: str
    cache: Path
    timeout: int
    allow_errors: bool
    exclude: tuple[str, ...]
    extensions: tuple[str, ...]

    @classmethod
    def read(cls, config: Path, root: Path = ROOT) -> Settings:
        data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        execute = data.get("execute") or {}
        return cls(
            mode=execute.get("execute_notebooks", "auto"),
            cache=root / execute.get("cache", "_build/.jupyter_cache"),
            timeout=int(execute.get("timeout", 30)),
            allow_errors=bool(execute.get("allow_errors", False)),
            exclude=tuple(execute.get("exclude_patterns") or ()),
            extensions=tuple((data.get("parse") or {}).get("myst_enable_extensions") or ()),
        )


def pages(toc: Path, root: Path = ROOT) -> list[Path]:
    """The source files of every page in a table of contents, in its order."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    found = []
    for docname in parse_toc_yaml(toc):
        for suffix in (".md", ".ipynb"):
            path = root / f"{docname}{suffix}"
            if path.is_file():
                found.append(path.resolve())
                break
    return found


def read_notebook(path: Path, settings: Settings):
    """A page as myst-nb reads it (the cache key depends on it), or None when it is not a notebook."""
    import nbformat
    from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        return nbformat.reads(text, as_version=4)
    if not is_myst_markdown_notebook(text):
        return None
    config = MdParserConfig(enable_extensions=set(settings.extensions))
    return read_myst_markdown_notebook(text, config=config, add_source_map=True, path=str(path))


STAMP = "brbook-pages.json"
"""In the cache folder: each page's code digest when it was last found cached (see :func:`code_digest`)."""
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def code_digest(text: str) -> str:
    """A digest of everything in a MyST page that the cache key can depend on: the front matter and
    every line of every fenced block that opens as a code or raw cell (with its options).

    Prose edits leave it unchanged, so an edited chapter is known to be cached without loading myst-nb.
    It errs on the safe side: when in doubt a line counts, and a changed digest only means a full check.
    """
    lines = text.splitlines()
    kept = []
    if lines and lines[0].strip() == "---":  # front matter (kernelspec is part of the key)
        end = next((n for n, line in enumerate(lines[1:], 1) if line.strip() == "---"), len(lines) - 1)
        kept += lines[:end + 1]
        lines = lines[end + 1:]
    fence = None
    for line in lines:
        opening = _FENCE.match(line)
        if fence is None:
            if opening and ("code-cell" in line or "raw-cell" in line):
                fence = opening.group(1)
                kept.append(line)
            elif "code-cell" in line or "raw-cell" in line:
                kept.append(line)
        else:
            kept.append(line)
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence) \
                    and not line.strip().lstrip(fence[0]):
                fence = None
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()


def _settings_digest(settings: Settings) -> str:
    return hashlib.sha256(repr((settings.extensions, settings.exclude)).encode()).hexdigest()


def _stamp(settings: Settings) -> dict:
    path = settings.cache / STAMP
    try:
        stamp = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if stamp.get("settings") == _settings_digest(settings) else {}


def _write_stamp(settings: Settings, digests: dict[str, str]) -> None:
    stamp = {"settings": _settings_digest(settings), "pages": digests}
    (settings.cache / STAMP).write_text(json.dumps(stamp, indent=1), encoding="utf-8")


def all_cached(sources: list[Path], settings: Settings) -> bool:
    """Whether every page of ``sources`` was found in the cache, code unchanged, when pages were last executed."""
    known = _stamp(settings).get("pages", {})
    return all(known.get(str(p.resolve())) == code_digest(p.read_text(encoding="utf-8")) for p in sources)


async def _execute(path: str, notebook, timeout: int, allow_errors: bool):
    """Run one notebook in its own folder, as myst-nb's cache client does (jupyter-cache's
    ``single_nb_execution``: the notebook's own ``execution`` metadata may override the settings), in a
    kernel forked from the warm fork server (:mod:`brbook.forked_kernels`)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    from brbook.forked_kernels import ForkedKernelManager

    overrides = notebook.metadata.get("execution", {})
    timeout = overrides.get("timeout", timeout)
    allow_errors = overrides.get("allow_errors", allow_errors)
    client = NotebookClient(notebook, resources={"metadata": {"path": str(Path(path).parent)}}, timeout=timeout,
                            allow_errors=allow_errors, record_timing=False, kernel_manager_class=ForkedKernelManager)
    started, error = time.perf_counter(), None
    try:
        await client.async_execute()
    except (CellExecutionError, CellTimeoutError):
        error = traceback.format_exc()
    return notebook, time.perf_counter() - started, error


async def _execute_all(order: list[str], todo: dict, settings: Settings, jobs: int):
    """Yield ``(path, (notebook, seconds, error))`` as pages finish, ``jobs`` kernels at a time."""
    import asyncio

    gate = asyncio.Semaphore(jobs)

    async def one(path: str):
        async with gate:
            return path, await _execute(path, todo[path], settings.timeout, settings.allow_errors)

    for finished in asyncio.as_completed([one(p) for p in order]):
        yield await finished


def _previous_seconds(cache) -> dict[str, float]:
    """The last recorded execution time of every page, to start the longest first."""
    seconds: dict[str, float] = {}
    for record in sorted(cache.list_cache_records(), key=lambda r: r.created):
        if (record.data or {}).get("execution_seconds") is not None:
            seconds[record.uri] = record.data["execution_seconds"]
    return seconds


def default_jobs() -> int:
    """One kernel per core, and one more: a kernel spends part of its start waiting (process start, ZeroMQ
    handshake), and on 2 cores a third kernel cut the cold build by a sixth (measured with ``make bench``)."""
    return (os.cpu_count() or 1) + 1


def execute(toc: Path, config: Path, jobs: int | None = None, log=print) -> dict[str, float]:
    """Execute every page of ``toc`` missing from the cache, ``jobs`` at a time; return their seconds.

    Raises ``RuntimeError`` naming every page that failed (their tracebacks are logged first).
    """
    settings = Settings.read(config)
    if settings.mode != "cache":
        log(f"execute_notebooks is {settings.mode!r}, not 'cache': Jupyter Book executes the pages itself")
        return {}
    every = [p for p in pages(toc)
             if not any(PurePosixPath(p.relative_to(ROOT).as_posix()).match(x) for x in settings.exclude)]
    digests = {str(p): code_digest(p.read_text(encoding="utf-8")) for p in every}
    known = _stamp(settings).get("pages", {})
    if all(known.get(p) == d for p, d in digests.items()):
        return {}  # no code changed since every page was last found in the cache
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    from brbook.forked_kernels import fork_server

    fork_server()  # warms up (imports pandas, Altair, ipykernel) while the pages are matched with the cache
    cache = get_cache(settings.cache)
    todo = {}
    for path in every:
        notebook = read_notebook(path, settings)
        if notebook is None or not any(c.cell_type == "code" for c in notebook.cells):
            continue
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            todo[str(path)] = notebook
    if not todo:
        _write_stamp(settings, digests)
        return {}
    previous = _previous_seconds(cache)
    order = sorted(todo, key=lambda p: -previous.get(p, float("inf")))  # longest (or unknown) first
    jobs = max(1, min(jobs or default_jobs(), len(order)))
    log(f"executing {len(order)} notebook page(s), {jobs} at a time")
    done: dict[str, float] = {}
    failed = []
    started = time.perf_counter()
    async def run() -> None:
        async for path, (notebook, seconds, error) in _execute_all(order, todo, settings, jobs):
            name = Path(path).relative_to(ROOT)
            if error:
                failed.append(str(name))
                log(f"{name}: execution failed\n{error}")
                continue
            cache.cache_notebook_bundle(CacheBundleIn(notebook, path, data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            done[path] = seconds
            log(f"{name}: executed in {seconds:.1f} s")

    import asyncio  # here: a build with nothing to execute does not import it (~40 ms)

    asyncio.run(run())
    log(f"executed {len(done)} page(s) in {time.perf_counter() - started:.1f} s")
    if failed:
        raise RuntimeError(f"{len(failed)} page(s) failed to execute: {', '.join(failed)}")
    _write_stamp(settings, digests)
    return done


def recorded_seconds(toc: Path, config: Path) -> dict[str, float]:
    """The execution time the cache records for each page of ``toc`` as it is now (cached pages only)."""
    from jupyter_cache import get_cache

    settings = Settings.read(config)
    cache = get_cache(settings.cache)
    seconds = {}
    for path in pages(toc):
        notebook = read_notebook(path, settings)
        if notebook is None:
            continue
        try:
            record = cache.match_cache_notebook(notebook)
        except KeyError:
            continue
        seconds[str(path.relative_to(ROOT))] = (record.data or {}).get("execution_seconds")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    parser.add_argument("--config", type=Path, default=ROOT / "_config.yml")
    parser.add_argument("--jobs", type=int, default=None, help="kernels at a time (default: cores + 1)")
    parser.add_argument("--times", action="store_true", help="print the recorded time of every page and stop")
    args = parser.parse_args(argv)
    if args.times:
        for page, seconds in recorded_seconds(args.toc, args.config).items():
            print(f"{page}\t{seconds:.2f}" if seconds is not None else f"{page}\t-")
        return 0
    try:
        execute(args.toc, args.config, args.jobs)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
