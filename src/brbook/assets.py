"""Copy the browser libraries the book serves itself out of ``node_modules``.

The built site must load nothing from another host, so Vega, Vega-Lite,
vega-embed and the hash function of the self-checks are installed from the npm registry (pinned in
``package-lock.json``) and copied under ``vendor/`` of the site. (Live ipywidgets
are for JupyterLab; the book shows their saved output as static HTML, so it
needs neither require.js nor the widget manager.) They live
outside ``_static/`` because Jupyter Book injects every script found there into
every page; ``brbook.js`` loads each library only on the pages that need it.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

# site path under vendor/ -> path inside node_modules
VENDORED = {
    "vega/vega.min.js": "vega/build/vega.min.js",
    "vega/LICENSE": "vega/LICENSE",
    "vega-lite/vega-lite.min.js": "vega-lite/build/vega-lite.min.js",
    "vega-lite/LICENSE": "vega-lite/LICENSE",
    "vega-embed/vega-embed.min.js": "vega-embed/build/vega-embed.min.js",
    "vega-embed/LICENSE": "vega-embed/LICENSE",
    "js-sha256/sha256.min.js": "js-sha256/build/sha256.min.js",
    "js-sha256/LICENSE.txt": "js-sha256/LICENSE.txt",
}


def copy_vendor(node_modules: Path, out: Path) -> list[Path]:
    """Copy every vendored file into ``out/vendor``; return the files written."""
    target = out / "vendor"
    shutil.rmtree(target, ignore_errors=True)
    written = []
    for site_path, module_path in VENDORED.items():
        source = node_modules / module_path
        if not source.exists():
            raise FileNotFoundError(f"{source} is missing: run `make vendor` (npm ci) first")
        dest = target / site_path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        written.append(dest)
    return written


def inputs_digest(paths: list[Path]) -> str:
    """One hash of every file under ``paths`` (names and contents), to know when outputs are stale.

    Caches and ``data/staging`` (ignored by git: work in progress, never read by the book) are skipped.
    """
    digest = hashlib.sha256()
    skipped = {"__pycache__", "staging"}
    for root in paths:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not skipped & set(p.parts)):
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def stamp_unchanged(stamp: Path, paths: list[Path]) -> bool:
    """Compare the inputs with the stamp file, then update it; True when nothing changed."""
    current = inputs_digest(paths)
    previous = stamp.read_text().strip() if stamp.exists() else ""
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current)
    return current == previous


def chapter_name(source: Path) -> str:
    """``book/military/index.md`` -> ``military``; ``book/sources.md`` -> ``sources``."""
    return source.parent.name if source.stem == "index" else source.stem


if __name__ == "__main__":
    if sys.argv[1] == "--stamp":
        sys.exit(0 if stamp_unchanged(Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]) else 1)
    files = copy_vendor(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"vendored {len(files)} files into {sys.argv[2]}/vendor")
