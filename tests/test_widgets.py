"""brbook.widgets in a real Jupyter kernel: a control changes what the explorer shows."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from brbook.forked_kernels import ForkedKernelManager

pytestmark = pytest.mark.kernel

CELLS = [
    "from brbook import widgets\nexplorer = widgets.excerpt_explorer(dimension='{dimension}')\n"
    "before = len(explorer.matches())\nsummary_before = explorer.summary.value",
    "explorer.source.value = 'paper2016'\nafter_source = len(explorer.matches())\n"
    "summary_after = explorer.summary.value",
    "explorer.search.value = '{word}'\nafter_search = len(explorer.matches())",
    "compare = widgets.compare('airbase', 'paper2016', 'study2019')\nleft_before = len(compare.side('paper2016'))\n"
    "compare.topic.value = 'neutrality'\nleft_after = len(compare.side('paper2016'))",
    "print(before, after_source, after_search, summary_before != summary_after, left_before, left_after)",
]


def printed(tmp_path, *sources: str) -> list[str]:
    """Run the cells in a real kernel (forked warm, as the book's pages run); return the words the last cell printed."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
                   kernel_manager_class=ForkedKernelManager).execute()
    return nb.cells[-1].outputs[0]["text"].split()


@pytest.mark.parametrize("dimension, word", [("military", "airbase"), ("economy", "oil"), ("foreign_policy", "Crimea"),
                                             ("media", "television")])
def test_explorer_controls_change_its_output_in_a_kernel(tmp_path, dimension, word):
    cells = [c.replace("{dimension}", dimension).replace("{word}", word) for c in CELLS]
    before, after_source, after_search, summary_changed, left_before, left_after = printed(tmp_path, *cells)
    assert int(before) > int(after_source) > int(after_search) > 0
    assert summary_changed == "True"
    assert int(left_before) > 0 and left_before != left_after


def test_explorer_output_widget_holds_the_filtered_excerpts(tmp_path):
    source = ("from brbook import widgets\nexplorer = widgets.excerpt_explorer(dimension='military')\n"
              "explorer.source.value = 'brief2022'\n"
              "shown = explorer.output.value\n"
              "print(shown.count('data-source=\"brief2022\"') == shown.count('class=\"excerpt\"'), "
              "shown.count('class=\"excerpt\"'))")
    only_brief, count = printed(tmp_path, source)
    assert only_brief == "True" and int(count) >= 2


def test_comparison_explorer_follows_its_topic_and_sources(tmp_path):
    source = ("from brbook import widgets\ncompare = widgets.compare('crimea')\n"
              "every = compare.columns.value.count('class=\"compare-column\"')\n"
              "compare.sources.value = ('article2014', 'brief2022')\n"
              "two = compare.columns.value.count('class=\"compare-column\"')\n"
              "first = compare.columns.value.index('article2014') < compare.columns.value.index('brief2022')\n"
              "compare.topic.value = 'china'\n"
              "print(every, two, first, 'china' in compare.summary.value.lower())")
    assert printed(tmp_path, source) == ["5", "2", "True", "True"]


def test_the_live_comparison_offers_the_topics_the_books_view_offers():
    """A comparison needs two voices: the notebook's dropdown lists what the page's does, labelled alike."""
    from brbook import data, explorer, widgets

    topics = explorer.compare_topics()
    compare = widgets.compare("crimea")
    assert [value for _, value in compare.topic.options] == list(topics)
    assert dict(compare.topic.options)[f"{data.tag_label('crimea')} ({topics['crimea']} sources)"] == "crimea"
    alone = sorted(set(data.topics()) - set(topics))
    assert alone, "every topic has two sources: pick another check"
    with pytest.raises(KeyError, match="no two sources"):
        widgets.compare(alone[0])
