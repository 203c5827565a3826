"""brbook: the package behind the Belarus–Russia teaching book.

Modules, one concern each: ``data`` (typed access to data/), ``schema`` (validation and the data
dictionary), ``provenance`` (quotes checked against the sources), ``excerpts`` (cited block quotes),
``charts`` (interactive Altair figures), ``selfcheck`` (in-page questions), ``widgets`` (live
explorers), ``reference`` (generated reference pages), ``book`` (chapter set-up and glued numbers),
``assets`` (vendored browser libraries) and ``cli`` (the ``brbook`` command).
"""

__version__ = "0.1.0"
