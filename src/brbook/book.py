"""Chapter set-up and the numbers that prose quotes from ``data/``.

Every chapter starts with one hidden cell calling :func:`setup`; prose that
cites a figure uses ``{glue:text}`` with a name glued by :func:`glue_facts`, so
a correction in ``data/facts.csv`` corrects the book.
"""

from __future__ import annotations

from brbook import charts
from brbook import data as book_data


def setup(chapter: str | None = None):
    """Theme and renderers for a chapter; call once from the first cell (its input hidden).

    With a chapter name it returns the chapter's download link, shown under the title: the
    chapter as a notebook to run in JupyterLab, with live widgets.
    """
    charts.setup()
    if chapter is None:
        return None
    from IPython.display import HTML

    from brbook.excerpts import link_to

    href = link_to(f"chapters/{chapter}.ipynb")
    return HTML(f'<p class="chapter-download"><a href="{href}" download>Download this chapter as a notebook '
                f"(<code>{chapter}.ipynb</code>)</a> to run it in JupyterLab with live widgets.</p>")


def format_value(value: float) -> str:
    """A fact's number as prose prints it: thousands separated, no trailing ``.0``."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,}".rstrip("0").rstrip(".")


class _Prose(str):
    """A string glued as itself (``repr`` would add quotes in ``{glue:text}``)."""

    def __repr__(self) -> str:
        return str(self)


def glue_facts(**names: str) -> dict[str, str]:
    """Glue facts into the page under the given names: ``glue_facts(cadets_2014="paper2016-f010")``.

    Returns the formatted values, so a cell can also use them.
    """
    from myst_nb import glue

    formatted = {}
    for name, fact_id in names.items():
        formatted[name] = format_value(book_data.fact(fact_id)["value"])
        glue(name, _Prose(formatted[name]), display=False)
    return formatted
