"""One topic, every source, side by side, oldest source first.

The same grouping feeds the static view of the book (every topic rendered once,
a ``<select>`` in ``brbook.js`` shows one at a time, with no kernel) and the live
explorer of :mod:`brbook.widgets`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

import pandas as pd

from brbook import data as book_data
from brbook import selfcheck
from brbook.excerpts import excerpt_item, show


def by_source(topic: str, sources: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """The excerpts tagged ``topic``, per source, in the order of the sources' dates.

    Sources with nothing on the topic are kept, with an empty frame: a silence is
    worth seeing too.
    """
    table = book_data.excerpts(topic=topic)
    ordered = book_data.sources()["source_id"].tolist()
    chosen = ordered if sources is None else [s for s in ordered if s in set(sources)]
    return {s: table[table["source_id"] == s].reset_index(drop=True) for s in chosen}


SHOWN = 3
"""Excerpts shown at once in a comparison column; the rest fold under "N more"."""


def _span(source_id: str) -> str:
    """A source's date, or the years its items span (the 2016–2018 series is not "2016")."""
    row = book_data.sources().set_index("source_id").loc[source_id]
    return row["years"] if row["first"] != row["last"] else row["date"]


def column_html(source_id: str, rows: pd.DataFrame, heading: str = "h4") -> str:
    """One source's column: its citation, date, count and excerpts (or a note that it is silent)."""
    row = book_data.source(source_id)
    head = (f'<{heading} class="compare-source">{html.escape(book_data.cite(source_id))}</{heading}>'
            f'<p class="compare-meta">{html.escape(row["kind"])}, {html.escape(_span(source_id))}: '
            f"{len(rows)} excerpt{'s' if len(rows) != 1 else ''}</p>")
    if rows.empty:
        body = '<p class="compare-silent">Nothing on this topic in the book\'s excerpts of this source.</p>'
    else:
        items = [excerpt_item(r, row["date"]) for _, r in rows.iterrows()]
        body = f'<ul class="compare-excerpts">{"".join(items[:SHOWN])}</ul>'
        if len(items) > SHOWN:  # a long column folds, so the columns stay comparable at a glance
            body += (f'<details class="compare-more"><summary>{len(items) - SHOWN} more from this source</summary>'
                     f'<ul class="compare-excerpts">{"".join(items[SHOWN:])}</ul></details>')
    return f'<div class="compare-column" data-source="{source_id}">{head}{body}</div>'


WRONG_READING = ("Test “{option}” against the excerpts above: which of them would support it, and does it say "
                 "so, at that date?")
"""Feedback for a wrong option of a disagreement that gives no feedback of its own (the old rows)."""


def option_feedback(row: pd.Series) -> dict[str, str]:
    """Each option of a disagreement mapped to its own feedback.

    From the row's ``option_feedback`` (a JSON object, option -> feedback) where it is given;
    otherwise a prompt to test the option against the excerpts, and no text for the right option,
    whose explanation is revealed below it anyway (so a right answer never shows the same text twice).
    """
    given = row.get("option_feedback")
    if isinstance(given, str) and given.strip():
        given = json.loads(given)
    given = given if isinstance(given, dict) else {}
    if given and set(given) != set(row["option_list"]):
        raise ValueError(f"option_feedback must give every option, and only the options: "
                         f"{sorted(set(given) ^ set(row['option_list']))}")
    feedback = {}
    for option in row["option_list"]:
        text = str(given.get(option, "")).strip()
        if not text:
            text = "" if option == row["answer"] else WRONG_READING.format(option=option)
        feedback[option] = text
    return feedback


class Disagreement:
    """One row of ``data/disagreements.csv`` as a section: the sources' claims, their words, a question."""

    def __init__(self, disagreement_id: str):
        table = book_data.disagreements().set_index("disagreement_id")
        if disagreement_id not in table.index:
            raise KeyError(f"unknown disagreement {disagreement_id!r}; known: {', '.join(table.index)}")
        self.ident = disagreement_id
        self.row = table.loc[disagreement_id]
        # the sources whose excerpts show the disagreement, oldest first
        cited = book_data.excerpts().set_index("excerpt_id").loc[self.row["excerpt_list"], "source_id"]
        self.sources = list(dict.fromkeys(cited))

    def _repr_html_(self) -> str:
        quotes = show(*self.row["excerpt_list"], anchor_prefix=f"{self.ident}-")._repr_html_()
        options = option_feedback(self.row)
        explanation = self.row["explanation"]
        if selfcheck.normalise(options[self.row["answer"]]) == selfcheck.normalise(explanation):
            explanation = ""  # the right option's feedback already says it: say it once
        check = selfcheck.choice(self.row["question"], options, answer=self.row["answer"],
                                 explanation=explanation)._repr_html_()
        cited = ", ".join(book_data.cite(s) for s in self.sources)
        return (f'<section class="disagreement" data-disagreement="{self.ident}" '
                f'data-sources="{" ".join(self.sources)}" aria-label="{html.escape(self.row["title"])}">'
                f'<p class="disagreement-summary">{html.escape(self.row["summary"])}</p>'
                f'<p class="disagreement-sources">In their own words ({html.escape(cited)}):</p>'
                f"{quotes}{check}</section>")


def disagreement(disagreement_id: str) -> Disagreement:
    """Show one disagreement between the sources: summary, excerpts, and a question to weigh them."""
    return Disagreement(disagreement_id)
