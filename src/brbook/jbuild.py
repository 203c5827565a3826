"""``jupyter-book build`` with Sphinx's parallel jobs: ``python -m brbook.jbuild [--jobs N] build ...``.

Jupyter Book 1's command line always asks Sphinx for one process, though every extension the book
uses declares itself safe to read and write in parallel. The pages' notebooks are executed before
Sphinx starts (:mod:`brbook.execute`), so what is left is Sphinx's own reading and writing, which
this spreads over the machine's cores. Everything else is Jupyter Book's own command. A build is first
offered to the project's build server (:mod:`brbook.buildserver`), which forks it from a process that has
all of this loaded already; with none, it runs here and starts one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    """Build through the project's build server when one runs (:mod:`brbook.buildserver`), else here."""
    from brbook import buildserver

    building = "build" in argv[:3]
    root = Path.cwd()
    code = buildserver.run(root, argv) if building else None
    if code is None:
        code = build(argv)
        if building:
            buildserver.start(root)
    _exit_now(code)


def build(argv: list[str]) -> int:
    """Jupyter Book's command with Sphinx's parallel jobs; its exit code."""
    jobs = os.cpu_count() or 1
    if argv[:1] == ["--jobs"]:
        jobs, argv = int(argv[1]), argv[2:]
    from jupyter_book import sphinx as jb_sphinx
    from jupyter_book.cli.main import main as command

    build_sphinx = jb_sphinx.build_sphinx

    def with_jobs(*args, **kwargs):
        kwargs["jobs"] = jobs
        return build_sphinx(*args, **kwargs)

    jb_sphinx.build_sphinx = with_jobs  # the command imports it when it runs
    _declare_parallel_safe()
    _write_few_pages_serially()
    try:
        command(argv, prog_name="jupyter-book")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


def _exit_now(code) -> None:
    """End the process without tearing down the interpreter: with Sphinx, Jupyter Book and pandas loaded,
    freeing every module's objects one by one takes ~0.4 s a build. Every page, the environment and the
    caches are written and closed by then; what is left is to flush the logs and the output."""
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))


UNDECLARED = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")
"""Extensions Jupyter Book loads that declare nothing about parallel builds, so that Sphinx would read
serially (with a warning, an error under ``-W``). The first only replaces how the main process numbers
sections once every page is read; the second only acts on the LaTeX builder. Neither keeps state that
parallel reading would split."""


def _declare_parallel_safe() -> None:
    import importlib

    for name in UNDECLARED:
        module = importlib.import_module(name)
        setup = module.setup

        def declared(app, setup=setup):
            metadata = setup(app) or {}
            return {**metadata, "parallel_read_safe": True, "parallel_write_safe": True}

        module.setup = declared


PARALLEL_FROM = 6
"""Sphinx reads in parallel only from six pages on; writing is held to the same rule, because forking
writers for the two or three pages a rebuild after one edit writes costs more than it saves (~1.5 s)."""


def _write_few_pages_serially() -> None:
    from sphinx.builders import Builder

    parallel = Builder._write_parallel

    def write(self, docnames, nproc):
        if len(docnames) < PARALLEL_FROM:
            return self._write_serial(docnames)
        return parallel(self, docnames, nproc)

    Builder._write_parallel = write


if __name__ == "__main__":
    main(sys.argv[1:])
