"""brbook.widgets in a real Jupyter kernel: a control changes what the explorer shows."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

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


@pytest.mark.parametrize("dimension, word", [("military", "airbase"), ("economy", "oil"), ("media", "television")])
def test_explorer_controls_change_its_output_in_a_kernel(tmp_path, dimension, word):
    cells = [c.replace("{dimension}", dimension).replace("{word}", word) for c in CELLS]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    before, after_source, after_search, summary_changed, left_before, left_after = (
        nb.cells[-1].outputs[0]["text"].split())
    assert int(before) > int(after_source) > int(after_search) > 0
    assert summary_changed == "True"
    assert int(left_before) > 0 and left_before != left_after


def test_explorer_output_widget_holds_the_filtered_excerpts(tmp_path):
    source = ("from brbook import widgets\nexplorer = widgets.excerpt_explorer(dimension='military')\n"
              "explorer.source.value = 'brief2022'\n"
              "shown = explorer.output.value\n"
              "print(shown.count('data-source=\"brief2022\"') == shown.count('class=\"excerpt\"'), "
              "shown.count('class=\"excerpt\"'))")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    only_brief, count = nb.cells[0].outputs[0]["text"].split()
    assert only_brief == "True" and int(count) >= 2
