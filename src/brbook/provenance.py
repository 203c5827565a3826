"""Check that every quoted word in ``data/`` stands verbatim in its source text.

Only typography is normalised (quote and dash variants, whitespace, footnote
markers, Markdown emphasis); an omission inside a quote is written ``[…]`` and
each fragment around it must match on its own. The module uses only the
standard library so that it can run before the project environment exists.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

OMISSION = re.compile(r"\[(?:…|\.\.\.)\]")
_QUOTES = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
        "…": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    }
)
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_FOOTNOTE = re.compile(rf"<sup>\d{{1,3}}</sup>|[{_SUPERSCRIPTS}]+|\[\^?\d{{1,3}}\]")
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"</?[a-z]+>|\*+|\\(?=[\[\]()*_#.\-])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACED_NUMBER = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?")


def normalise(text: str) -> str:
    """Fold typography so that only the words and their order are compared."""
    text = unicodedata.normalize("NFC", text)
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _FOOTNOTE.sub("", text)
    text = _MARKUP.sub("", text)
    text = text.translate(_QUOTES)
    text = re.sub(r"\s+", " ", text)
    # a space left before punctuation by a removed footnote marker is not a difference
    text = re.sub(r" (?=[,.;:!?)\]'\"])", "", text)
    return text.strip().lower()


def fragments(quote: str) -> list[str]:
    """Split a quote at its ``[…]`` omissions into the pieces that must each match."""
    return [f for f in (normalise(p) for p in OMISSION.split(quote)) if f]


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text``: thousands commas folded, ranges split."""
    found = []
    spaced = [m.replace(" ", "").replace("\u00a0", "").replace("\u202f", "") for m in _SPACED_NUMBER.findall(text)]
    for raw in _NUMBER.findall(text) + spaced:
        candidates = {raw.replace(",", ""), raw.replace(",", ".")}
        for c in candidates:
            try:
                found.append(float(c))
            except ValueError:
                continue
    return found


def value_in_quote(value: float, quote: str) -> bool:
    """True when ``value`` is written as a number inside ``quote``."""
    return any(abs(n - value) < 1e-9 for n in numbers_in(quote))


@dataclass(frozen=True)
class Mismatch:
    """One quoted text that is not verbatim in its source."""

    file: str
    row: int
    column: str
    record_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.record_id}: {self.message}"


# Which columns of which tables carry verbatim text from the sources.
QUOTED_COLUMNS = {
    "facts.csv": ("fact_id", "quote"),
    "excerpts.csv": ("excerpt_id", "text"),
    "events.csv": ("event_id", "quote"),
}


def seed_texts(seeds_dir: Path, sources_csv: Path) -> dict[str, str]:
    """Map each ``source_id`` to its normalised seed text."""
    texts = {}
    with sources_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            path = seeds_dir / row["seed_file"]
            if path.exists():
                texts[row["source_id"]] = normalise(path.read_text(encoding="utf-8"))
    return texts


def check_table(path: Path, texts: dict[str, str]) -> Iterator[Mismatch]:
    """Yield every row of one table whose quote is not found in its source."""
    id_col, text_col = QUOTED_COLUMNS[path.name]
    with path.open(newline="", encoding="utf-8") as fh:
        for rownum, row in enumerate(csv.DictReader(fh), start=2):
            source = texts.get(row.get("source_id", ""))
            quote = row.get(text_col) or ""
            rid = row.get(id_col, "?")
            if source is None:
                yield Mismatch(path.name, rownum, "source_id", rid, "no seed text for this source")
                continue
            for frag in fragments(quote):
                if frag not in source:
                    yield Mismatch(path.name, rownum, text_col, rid, f"not verbatim in source: {frag[:80]!r}")
                    break
            if path.name == "facts.csv" and not (row.get("conversion") or "").strip():
                try:
                    value = float(row.get("value", ""))
                except ValueError:
                    continue  # the schema reports non-numeric values
                if not value_in_quote(value, quote):
                    yield Mismatch(path.name, rownum, "value", rid,
                                   f"{row['value']} is not written in the quote and no conversion explains it")


def article_starts(text: str, titles: Iterable[str]) -> list[int]:
    """Where each article of a collection begins in its normalised source text.

    Titles are searched in the order given, each after the previous one, so a title
    quoted earlier in the text is not mistaken for the article's own heading.

    Raises:
        ValueError: naming a title that is not found (in that order).
    """
    starts, at = [], 0
    for title in titles:
        found = text.find(normalise(title), at)
        if found < 0:
            raise ValueError(f"article title not found in order: {title!r}")
        starts.append(found)
        at = found + 1
    return starts


def article_index(quote: str, text: str, starts: list[int]) -> int | None:
    """Index of the article (in ``starts``) whose text holds ``quote``; ``None`` if not found."""
    pieces = fragments(quote)
    where = text.find(pieces[0]) if pieces else -1
    if where < 0:
        return None
    return max(i for i, s in enumerate(starts) if s <= where) if where >= starts[0] else None


def check_all(data_dir: Path, seeds_dir: Path, tables: Iterable[str] = QUOTED_COLUMNS) -> list[Mismatch]:
    """Check every quoted table in ``data_dir`` against the seeds."""
    texts = seed_texts(seeds_dir, data_dir / "sources.csv")
    problems: list[Mismatch] = []
    for name in tables:
        if (data_dir / name).exists():
            problems.extend(check_table(data_dir / name, texts))
    return problems


def main(argv: list[str] | None = None) -> int:
    """``python -m brbook.provenance DATA_DIR SEEDS_DIR``: print mismatches, exit 1 if any."""
    args = sys.argv[1:] if argv is None else argv
    data_dir, seeds_dir = Path(args[0]), Path(args[1])
    problems = check_all(data_dir, seeds_dir)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
