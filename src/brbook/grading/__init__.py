"""Class grading: the sandbox, the grader, hand-graded written answers, the report, exports, clusters.

| module | concern |
|---|---|
| ``sandbox`` | running one submission in a forked, limited process (its own uid as root) |
| ``shell`` | the warm interpreter submissions fork from |
| ``core`` | reading submissions, scoring against the key, saved results, resuming |
| ``written`` | written answers taken from notebooks; ``manual.csv`` |
| ``outputs`` | gradebook, feedback and report rebuilt from what is saved; the roster |
| ``analysis``, ``report`` | question analysis, copying signals, the class report |
| ``review`` | ``brbook review``: grading written answers in the browser |
| ``export`` | Canvas, Moodle and plain CSV gradebook imports |
| ``cluster`` | ``--shard auto`` and checked merges |
"""

from __future__ import annotations

from importlib import import_module

_FROM = {
    "cluster": ("ShardError", "merge", "shard_from_env"),
    "core": ("Graded", "all_graded", "grade", "key_digest", "list_submissions", "load_key", "parse_shard",
             "read_submission", "score_answers", "shard_of", "version_mismatches"),
    "outputs": ("feedback_markdown", "rewrite", "write_outputs"),
    "sandbox": ("Limits", "Run", "run_cells", "run_trusted"),
}
"""The package's names, by the module each comes from."""
_MODULE_OF = {name: module for module, names in _FROM.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    """Each name from its module on first use, so that importing one module of the package (``export``,
    ``cluster``) does not import the others: the report's charts need pandas and Altair, reading saved results
    does not."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value
