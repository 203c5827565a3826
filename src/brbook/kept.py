"""Text kept in a folder by the digest of what it was made from, so that a rebuild redoes only what changed.

Both the build's Vega compilation (:func:`brbook.sphinx_ext.vega_at_build`) and the class notebooks' chart
pictures (:mod:`brbook.notebooks`) call ``vl_convert``, whose first call in a process starts a JavaScript
engine (~1.5 s): a rebuild after an edit of prose finds every chart it needs here instead.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def kept(folder: Path | None, key: str, make: Callable[[], str], suffix: str = ".txt") -> str:
    """``make()``, or what it gave for the same ``key`` before (``folder`` None: no keeping). The file is
    written whole and then renamed, as parallel writers may make the same text."""
    if folder is None:
        return make()
    path = folder / f"{hashlib.sha256(key.encode()).hexdigest()}{suffix}"
    if path.exists():
        return path.read_text(encoding="utf-8")
    text = make()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, delete=False) as f:
        f.write(text)
    os.replace(f.name, path)
    return text
