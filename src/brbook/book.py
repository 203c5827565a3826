"""Chapter set-up and the numbers that prose quotes from ``data/``.

Every chapter starts with one hidden cell calling :func:`setup`; prose that
cites a figure uses ``{glue:text}`` with a name glued by :func:`glue_facts`, so
a correction in ``data/facts.csv`` corrects the book.
"""

from __future__ import annotations

from brbook import charts, layout
from brbook import data as book_data


def setup(chapter: str | None = None):
    """Theme and renderers for a chapter; call once from the first cell (its input hidden).

    With a chapter name it returns the chapter's download link, shown under the title: the
    chapter as a notebook to run in JupyterLab, with live widgets.
    """
    charts.setup()
    if chapter is None or layout.in_bundle():  # in the bundle the reader already has the notebook
        return None
    from IPython.display import HTML

    from brbook.excerpts import link_to

    href = link_to(f"chapters/{chapter}.ipynb")
    return HTML(f'<p class="chapter-download"><a href="{href}" download>Download this chapter as a notebook '
                f"(<code>{chapter}.ipynb</code>)</a> to run it in JupyterLab with live widgets.</p>")


def glue_numbers(**values: float | int) -> dict[str, float | int]:
    """Glue numbers computed from ``data/`` (counts, sums) into the page under the given names."""
    try:
        from myst_nb import glue
    except ImportError:  # a notebook outside the book (the student bundle) has no page to glue into
        return values
    for name, value in values.items():
        glue(name, value, display=False)
    return values


def glue_facts(**names: str) -> dict[str, float | int]:
    """Glue facts into the page under the given names: ``glue_facts(cadets_2014="paper2016-f010")``.

    The values are glued as numbers (whole numbers as ints); prose formats them, e.g.
    ``{glue:text}`cadets_2014:,``` for a thousands separator. Returns the values.
    """
    return glue_numbers(**{name: book_data.fact_value(fact_id) for name, fact_id in names.items()})
