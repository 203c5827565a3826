"""Chapter set-up and the numbers that prose quotes from ``data/``.

Every chapter starts with one hidden cell calling :func:`setup`; prose that
cites a figure uses ``{glue:text}`` with a name glued by :func:`glue_facts`, so
a correction in ``data/facts.csv`` corrects the book.
"""

from __future__ import annotations

from brbook import charts, layout
from brbook import data as book_data

CLASSROOM = {"on": False}
"""Set by ``setup(..., classroom=True)``, the first cell of a class notebook (``brbook.notebooks``)."""


def setup(chapter: str | None = None, classroom: bool = False):
    """Theme and renderers for a chapter; call once from the first cell (its input hidden).

    In the book, with a chapter name, it returns the chapter's download link, shown under the
    title: the class notebook of the chapter, to run in JupyterLab with live widgets. In a class
    notebook (``classroom=True``) it prints nothing: charts become :class:`brbook.widgets.LiveChart`
    (JupyterLab draws no Vega-Lite 6) and nothing is glued (there is no page to glue into).
    """
    charts.setup()
    if classroom:
        _classroom()
        return None
    if chapter is None or layout.in_bundle():  # in the bundle the reader already has the notebook
        return None
    from IPython.display import HTML

    from brbook.excerpts import link_to

    name = class_notebook_name(chapter)
    href = link_to(f"notebooks/{name}")
    return HTML(f'<p class="chapter-download"><a href="{href}" download>Download this chapter as a notebook '
                f"(<code>{name}</code>)</a> to run it in JupyterLab with live widgets.</p>")


def wheel_link():
    """A download link to the wheel that the build serves (``brbook.sphinx_ext``): package and data in one file."""
    from IPython.display import HTML

    from brbook.edition import version
    from brbook.excerpts import link_to
    from brbook.sphinx_ext import wheel_name

    name = wheel_name(version())
    return HTML(f'<p class="wheel-download"><a href="{link_to(name)}" download><code>{name}</code></a> '
                "(the <code>brbook</code> package with its data)</p>")


def class_notebook_name(chapter: str) -> str:
    """``military`` -> ``02-military.ipynb``, the chapter's class notebook (see ``brbook.notebooks``)."""
    from brbook.bundle import chapter_sources, notebook_name

    for n, source in enumerate(chapter_sources(layout.ROOT), start=1):
        if notebook_name(n, source).endswith(f"-{chapter}.ipynb"):
            return notebook_name(n, source)
    raise KeyError(f"{chapter} is not a chapter of the table of contents")


def _classroom() -> None:
    from IPython import get_ipython

    from brbook import progress
    from brbook.widgets import LiveChart

    CLASSROOM["on"] = True
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.mimebundle_formatter.for_type(
            charts.Figure, lambda figure, include=None, exclude=None: LiveChart(figure)._repr_mimebundle_())
    progress.done()


def glue_numbers(**values: float | int) -> dict[str, float | int]:
    """Glue numbers computed from ``data/`` (counts, sums) into the page under the given names."""
    if CLASSROOM["on"]:  # a class notebook has no page to glue into
        return values
    try:
        from myst_nb import glue
    except ImportError:  # a notebook outside the book has no page to glue into
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
