"""brbook: the package behind the Belarus–Russia teaching book.

Modules, one concern each: ``data`` (typed access to data/), ``schema`` (validation and the data
dictionary), ``provenance`` (quotes checked against the sources), ``excerpts`` (cited block quotes),
``charts`` (interactive Altair figures), ``selfcheck`` (in-page questions), ``widgets`` (live
explorers), ``reference`` (generated reference pages), ``book`` (chapter set-up and glued numbers),
``assets`` (vendored browser libraries) and ``cli`` (the ``brbook`` command).
"""


def __getattr__(name: str):
    """``brbook.__version__``: the book's version, from ``pyproject.toml`` (see ``brbook.edition``), read when
    asked for: reading it costs every ``import brbook.<module>`` ~55 ms (importlib.metadata, tomllib), three
    times in a rebuild after one edit."""
    if name == "__version__":
        from brbook.edition import version

        return version()
    raise AttributeError(f"module 'brbook' has no attribute {name!r}")
