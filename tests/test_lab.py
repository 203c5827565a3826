"""`make lab` and the class notebooks (issue 20): prose that reads as prose, no answer in sight,
live self-checks and charts, a classroom JupyterLab; then the same in a real JupyterLab with Chromium.

The notebook tests read the class notebooks of the last `make book` (``_build/html/notebooks``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from brbook import data, lab, notebooks, widgets

from .bench import command_words
from .conftest import ROOT

pytestmark = [pytest.mark.kernel, pytest.mark.built]  # the class notebooks and the wheel come from `make book`

BUILT = ROOT / "_build" / "html" / "notebooks"
RAW_MYST = re.compile(r"\{[a-z]+(:[a-z]+)?\}`|^\([\w:-]+\)=\s*$|^(```|:::)\{|^:(filter|class|keyprefix|tags):",
                      re.M)


def _chapters() -> list[Path]:
    paths = sorted(BUILT.glob("[0-9][0-9]-*.ipynb"))
    assert paths, "no class notebooks: run `make book` first"
    return paths


def _markdown(path: Path) -> str:
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")


def test_class_notebooks_are_named_after_the_chapters_in_reading_order():
    names = [p.name for p in _chapters()]
    assert names[:2] == ["01-sources.ipynb", "02-military.ipynb"] and "08-synthesis.ipynb" in names
    exercise_names = {p.name for p in (ROOT / "_build" / "exercises" / "student").glob("*.ipynb")}
    assert not exercise_names & set(names)  # a chapter and its exercises never share a file name


def test_a_rebuild_converts_only_the_chapters_whose_inputs_changed(tmp_path, monkeypatch):
    """Issue 17: the warm rebuild after one chapter's edit converts that chapter alone, and writes what the
    full conversion writes."""
    out = tmp_path / "notebooks"
    first = notebooks.build(ROOT, out)
    assert [p.read_bytes() for p in first] == [(BUILT / p.name).read_bytes() for p in first]
    converted = []
    convert = notebooks.class_notebook
    monkeypatch.setattr(notebooks, "class_notebook", lambda root, source: converted.append(source) or
                        convert(root, source))
    notebooks.build(ROOT, out)
    assert converted == []
    digest = notebooks.inputs_digest
    edited = ROOT / "book" / "military" / "index.md"
    monkeypatch.setattr(notebooks, "inputs_digest", lambda source, titles: digest(source, titles) +
                        ("-edited" if source == edited else ""))
    (out / "05-media.ipynb").unlink()
    again = notebooks.build(ROOT, out)
    assert converted == [edited, ROOT / "book" / "media" / "index.md"]
    assert [p.read_bytes() for p in again] == [(BUILT / p.name).read_bytes() for p in again]


def test_class_notebooks_read_as_prose():
    for path in _chapters():
        text = _markdown(path)
        assert not RAW_MYST.search(text), (path.name, RAW_MYST.search(text).group(0))
    military = _markdown(BUILT / "02-military.ipynb")
    # glued numbers are the numbers, formatted as the book formats them
    assert f"{data.fact_value('paper2016-f903'):,} participants" in military
    # citations: author-year text linked to the chapter's reference list
    assert "[Astapenia and Balkunets, 2016](#References)" in military
    assert "## References" in military and "*Belarus-Russia Relations after the Ukraine Conflict*" in military
    # cross-references: links to the other class notebooks that exist
    for target in re.findall(r"\]\(([^)#]+\.ipynb)", military):
        assert (BUILT / target).exists(), target
    assert "](01-sources.ipynb)" in military
    # admonitions: a quoted block with a bold title
    assert "> **What these sources cannot tell you**" in military


def test_class_notebooks_show_their_outputs_before_anything_runs_and_link_nowhere_dead():
    nb = nbformat.read(BUILT / "02-military.ipynb", as_version=4)
    mimes = [m for c in nb.cells if c.cell_type == "code" for o in c.outputs for m in o.get("data", {})]
    assert "image/svg+xml" in mimes  # the chart, drawn from the book's spec
    assert mimes.count("text/html") > 10  # the excerpts
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            markup = output.get("data", {}).get("text/html", "")
            for href in re.findall(r'href="([^"]+)"', markup):
                assert href.startswith(("#", "http", "exercise-")), href
            assert "widget-view" not in json.dumps(output)
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_no_cell_of_a_class_notebook_shows_a_self_check_answer_or_feedback():
    from brbook import selfcheck

    source = (ROOT / "book" / "military" / "index.md").read_text(encoding="utf-8")
    defined = selfcheck.definitions(ROOT / "exercises" / "selfchecks")["military-airbase-reason"]
    feedback = next(o.feedback for o in defined.options if o.right)
    assert feedback.startswith("Right: the paper judges that the refusal")  # what the definition holds
    assert feedback not in source and 'selfcheck.show("military-airbase-reason")' in source
    nb = nbformat.read(BUILT / "02-military.ipynb", as_version=4)
    text = json.dumps(nb, ensure_ascii=False)
    assert feedback not in text and "answer=" not in text and "selfcheck." not in text
    checks = [c for c in nb.cells if c.source.startswith("widgets.self_check(")]
    assert len(checks) == len(selfcheck.SHOW.findall(source))
    for cell in checks:
        assert cell.metadata["jupyter"]["source_hidden"] is True
        state = json.loads(base64.b64decode(cell.source.split('"')[1]))
        assert set(state) >= {"salt", "answer", "options"} and feedback not in json.dumps(state, ensure_ascii=False)


def test_a_self_check_form_gives_the_books_feedback_for_each_option():
    nb = nbformat.read(BUILT / "02-military.ipynb", as_version=4)
    tokens = [c.source.split('"')[1] for c in nb.cells if c.source.startswith("widgets.self_check(")]
    form = widgets.self_check(tokens[0])
    verdicts = {label: form.judge(label) for label in form.answer.options}
    right = [label for label, (ok, _) in verdicts.items() if ok]
    assert right == ["His wish not to overcomplicate relations with the United States and the EU"]
    assert "primarily determined" in verdicts[right[0]][1]
    wrong = next(label for label, (ok, _) in verdicts.items() if not ok)
    form.answer.value = wrong
    form._check()
    assert "Not yet." in form.feedback.value
    form.answer.value = right[0]
    form._check()
    assert "Correct." in form.feedback.value
    numbers = [t for t in tokens if json.loads(base64.b64decode(t))["kind"] == "number"]
    fall = data.fact_value("paper2016-f901") - data.fact_value("paper2016-f902")
    cadets = widgets.self_check(numbers[0])
    assert cadets.judge(str(fall))[0] is True and cadets.judge(str(fall + 10))[0] is False
    cadets.answer.value = str(fall)
    cadets._check()
    assert f"= {fall} cadets" in cadets.extra.value  # the working shows once it is right


def test_a_live_chart_redraws_when_its_control_moves():
    from brbook import charts

    figure = charts.fact_series(data.facts(dimension="military"), title="Military figures", description="Bars.")
    live = widgets.LiveChart(figure)
    before = live.drawing.value
    assert "<svg" in before and live.controls
    control = live.controls[0]
    control.value = control.options[1]
    assert "<svg" in live.drawing.value and live.drawing.value != before


def test_the_live_timeline_sets_its_interval_with_one_range_control():
    """The book's timeline has two year sliders; live, one two-handled slider redraws the chosen years."""
    from brbook import charts

    events = data.events()
    live = widgets.LiveChart(charts.timeline(events, title="Events", description="Points."))
    ranges = [c for c in live.controls if isinstance(c, widgets.w.IntRangeSlider)]
    assert len(ranges) == 1 and ranges[0].value == (events["date"].dt.year.min(), events["date"].dt.year.max())
    assert not [c for c in live.controls if isinstance(c, widgets.w.IntSlider)]
    points = _points(live.drawing.value)
    assert points == len(events)
    ranges[0].value = (2017, 2018)
    assert _points(live.drawing.value) == events["date"].dt.year.between(2017, 2018).sum() < points


def _points(svg: str) -> int:
    """Marks drawn in the chart's plotting area (its first symbol group; the others are legends)."""
    group = re.search(r'<g class="mark-symbol role-mark marks"[^>]*>(.*?)</g>', svg, re.S)
    return group.group(1).count("<path") if group else 0


def test_the_explorer_pages_its_matches_in_a_scroll_box():
    explorer = widgets.excerpt_explorer("military")
    total = len(explorer.matches())
    assert total > widgets.PAGE
    assert f"<strong>{total}</strong>" in explorer.summary.value and f"first {widgets.PAGE}" in explorer.summary.value
    assert explorer.output.layout.overflow == "auto" and explorer.more.layout.display != "none"
    shown = explorer.output.value.count("<blockquote")
    explorer.more.click()
    assert explorer.output.value.count("<blockquote") == min(total, 2 * shown)


def test_overrides_silence_the_news_shut_kernels_with_their_tabs_and_keep_other_settings(tmp_path):
    settings = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
                                    "@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {}}}))
    lab.write_overrides(tmp_path)
    written = json.loads(settings.read_text())
    assert written["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert written["@jupyterlab/notebook-extension:tracker"]["kernelShutdown"] is True
    assert written["@jupyterlab/apputils-extension:themes"]["theme"] == "JupyterLab Dark"
    assert "@jupyterlab/docmanager-extension:plugin" not in written  # .md files open as text again


def test_the_class_folder_holds_chapters_exercises_and_data_only_and_keeps_work(tmp_path):
    root = tmp_path / "repo"
    (root / "_build" / "html").mkdir(parents=True)
    shutil.copytree(BUILT, root / "_build" / "html" / "notebooks")
    shutil.copytree(ROOT / "_build" / "exercises", root / "_build" / "exercises")
    shutil.copytree(ROOT / "data", root / "data")
    folder, copied = lab.class_folder(root)
    names = {p.relative_to(folder).parts[0] for p in folder.rglob("*")}
    assert names == ({lab.START, "data"} | {p.name for p in _chapters()}
                     | {f"exercise-{p.name}" for p in (ROOT / "_build" / "exercises" / "student").glob("*.ipynb")})
    assert not [p for p in folder.rglob("*") if re.search(r"key|solution|\.md$|node_modules", p.name)]
    work = folder / "02-military.ipynb"
    work.write_text("a student's work")
    assert lab.class_folder(root)[1] == [] and work.read_text() == "a student's work"
    start = nbformat.read(folder / lab.START, as_version=4)
    assert start.metadata["kernelspec"]["name"] == "python3" and "](02-military.ipynb)" in start.cells[0].source


def test_the_lab_command_runs_as_root_on_the_given_port_and_an_instructor_gets_the_repository():
    user = lab.command(ROOT, port="", euid=1000)
    assert "--allow-root" not in user and f"--ServerApp.root_dir={ROOT / '_build' / 'class'}" in user
    assert f"--ServerApp.default_url=/lab/tree/{lab.START}" in user
    root = lab.command(ROOT, port="8899", euid=0)
    assert "--allow-root" in root and "--ServerApp.port=8899" in root
    assert f"--ServerApp.root_dir={ROOT}" in lab.command(ROOT, instructor=True, port="", euid=1000)
    # kernels forked warm, as in the JupyterLab the tests below drive (which checks that they are)
    assert lab.FORKED_KERNELS in user and lab.FORKED_KERNELS in root
    from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

    assert issubclass(lab.ForkedServerKernelManager, ServerKernelManager)


def test_a_forked_lab_kernel_runs_in_its_folder_interrupts_restarts_and_shuts_down(tmp_path):
    """The kernels `make lab` forks behave as any kernel does under Jupyter Server's own kernel manager."""
    import asyncio
    import concurrent.futures

    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from traitlets.config import Config

    async def run(client, code: str, until: str | None = None) -> list[str]:
        """Run code; return what it printed and its error's name, once it is done (or once it prints ``until``)."""
        msg_id, seen = client.execute(code), []
        while True:
            msg = await client.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                seen.append(msg["content"]["text"].strip())
                if until and until in seen[-1]:
                    return seen
            elif msg["msg_type"] == "error":
                seen.append(msg["content"]["ename"])
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return seen

    def forked(pid: str) -> bool:  # a forked kernel has the fork server's command line, not ipykernel_launcher's
        command = " ".join(command_words(int(pid)))
        return "forkserver" in command and "ipykernel_launcher" not in command

    def ended(pid: str) -> bool:
        status = Path(f"/proc/{pid}/status")
        return not status.exists() or "zombie" in status.read_text().lower()

    async def scenario() -> None:
        config = Config()
        config.AsyncMappingKernelManager.kernel_manager_class = lab.FORKED_KERNELS.split("=", 1)[1]
        kernels = AsyncMappingKernelManager(config=config, root_dir=str(ROOT), connection_dir=str(tmp_path))
        kernel_id = await kernels.start_kernel(kernel_name="python3", path="book")
        client = kernels.get_kernel(kernel_id).client()
        client.start_channels()
        try:
            assert type(kernels.get_kernel(kernel_id)).__name__ == "ForkedServerKernelManager"
            await client.wait_for_ready(timeout=60)
            folder, pid = (await run(client, "import os; x = 1; print(os.getcwd(), os.getpid())"))[0].split()
            assert folder == str(ROOT / "book") and forked(pid)
            assert await run(client, "import time; print('asleep', flush=True); time.sleep(60)", until="asleep")
            await kernels.interrupt_kernel(kernel_id)
            while (msg := await client.get_iopub_msg(timeout=30))["msg_type"] != "error":
                pass
            assert msg["content"]["ename"] == "KeyboardInterrupt"
            await kernels.restart_kernel(kernel_id)
            await client.wait_for_ready(timeout=60)
            restarted, defined = (await run(client, "import os; print(os.getpid(), 'x' in dir())"))[0].split()
            assert restarted != pid and defined == "False" and forked(restarted) and ended(pid)
        finally:
            client.stop_channels()
            await kernels.shutdown_kernel(kernel_id)
        assert kernels.list_kernel_ids() == [] and ended(restarted)

    # in a thread of its own: the session's Playwright keeps an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, scenario()).result()


# ------------------------------------------------------------------ a real JupyterLab, driven by Chromium

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, browser):
    """One JupyterLab server on a copy of the class notebooks, for every browser test."""
    folder = tmp_path_factory.mktemp("class")
    for path in _chapters():
        shutil.copyfile(path, folder / path.name)
    lab.write_overrides()  # no news pop-up, as in class
    port = _free_port()
    runtime = tmp_path_factory.mktemp("runtime")
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}",
               "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={folder}", "--allow-root",
               "--ServerApp.ip=127.0.0.1", "--LabApp.expose_app_in_browser=True",
               f"--LabApp.user_settings_dir={runtime / 'settings'}", f"--LabApp.workspaces_dir={runtime / 'ws'}",
               lab.FORKED_KERNELS]  # as `make lab` starts kernels
    settings = runtime / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_DIR": str(runtime / "config")}
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status", timeout=5)
            break
        except OSError:
            time.sleep(0.5)
    try:  # the session's one Chromium (conftest): a second Playwright in this process cannot start
        yield browser, base, folder
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a server still shutting its kernels down on a loaded machine
            server.kill()
            server.wait(timeout=30)


def _open(page, base: str, name: str) -> None:
    """Open a notebook as the only tab and wait until its kernel is up and idle."""
    if page.url.startswith(f"{base}/lab"):  # the app is loaded: the last chapter's tab and kernel are gone
        page.evaluate("""async n => { const app = window.jupyterapp;  // and the launcher an empty dock opens, closed
          const opened = await app.commands.execute('docmanager:open', {path: n, factory: 'Notebook'});
          for (const w of Array.from(app.shell.widgets('main'))) { if (w !== opened) { w.dispose(); } } }""", name)
    else:  # a workspace of its own, reset: no notebook of another run is restored in a hidden tab
        page.goto(f"{base}/lab/workspaces/chapters/tree/{name}?reset")
    page.wait_for_function("n => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                           " return !!w && !!w.context && w.context.path === n"
                           " && !!w.content.node.querySelector('.jp-Cell'); }", arg=name, timeout=60_000)
    _wait_for_idle_kernel(page)


def _open_and_run(page, base: str, name: str) -> None:
    """Open a notebook, wait for its kernel, run every cell and wait until each has run and drawn its widgets.

    Every wait is on a real condition (kernel status, execution counts, rendered views), never a sleep,
    so a machine under load only makes it slower.
    """
    _open(page, base, name)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(RUN_STATE + "return s.kernel === 'idle' && s.pending === 0; }", polling=100,
                           timeout=240_000)
    nb = nbformat.read(BUILT / name, as_version=4)
    forms = sum(c.source.startswith("widgets.self_check(") for c in nb.cells)
    page.wait_for_function("n => document.querySelectorAll('.brbook-self-check').length >= n", arg=forms,
                           timeout=60_000)


def _wait_for_idle_kernel(page) -> None:
    """Until the current notebook's kernel is up and idle. Polled every 100 ms rather than on every animation
    frame: a kernel takes seconds, and polling each frame costs Chromium about a tenth of a core while it
    waits (measured on a book page)."""
    page.wait_for_function(RUN_STATE + "return s.kernel === 'idle'; }", polling=100, timeout=120_000)


CHOSEN_IN_KERNEL = """async n => { const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const reply = await kernel.requestExecute({code: '', silent: true, store_history: false, user_expressions: {
    chosen: `[f.answer.index for f in __import__('ipywidgets').widgets.widget._instances.values()`
            + ` if type(f).__name__ == 'SelfCheckForm' and f.state['kind'] == 'choice'][:1] == [${n}]`}}).done;
  const chosen = reply.content.user_expressions.chosen;
  return chosen.status === 'ok' && chosen.data['text/plain'] === 'True'; }"""
"""Whether the kernel holds option ``n`` as the answer of the notebook's first multiple-choice self-check."""


def _choose(page, labels, n: int) -> None:
    """Click option ``n`` of the first multiple-choice self-check and wait until the kernel has it.

    ipywidgets sends a widget's next change only once the kernel has answered its last one, so under load a
    Check clicked at once can reach the kernel before the new choice and be judged on the old one (seen once
    in a loaded `make test`). The question goes to the kernel after the click, so its answer is up to date.
    """
    labels.nth(n).click()
    deadline = time.monotonic() + 30
    # asked again until it says yes; each ask waits for the kernel's reply (wait_for_function takes a promise
    # for a true answer and would not wait for it)
    while not page.evaluate(CHOSEN_IN_KERNEL, n):
        assert time.monotonic() < deadline, f"the kernel never had option {n}"
        page.wait_for_timeout(100)


def _click_and_read(page, check, button) -> str:
    """Click Check and return the feedback once it has changed (a widget view updates asynchronously)."""
    feedback = check.locator(".brbook-feedback")
    before = feedback.inner_text()
    button.click()
    page.wait_for_function("([el, old]) => el.innerText !== old && el.innerText.trim() !== ''",
                           arg=[feedback.element_handle(), before], timeout=30_000)
    return feedback.inner_text()


RUN_STATE = """() => { const w = window.jupyterapp.shell.currentWidget;
  if (!w || !w.content || !w.content.model || !w.sessionContext.session) { return false; }
  const cells = w.content.model.cells, s = {pending: 0};
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i); if (c.type === 'code' && !c.executionCount) { s.pending += 1; } }
  const k = w.sessionContext.session.kernel; s.kernel = k ? k.status : 'none';
  """


@pytest.fixture(scope="module")
def lab_page(jupyterlab):
    """``with lab_page() as (page, base)``: one JupyterLab page for the chapters in turn, as in a class.

    The app loads once (~4 s of the processor's time); each chapter then opens in it once the last one's
    tab is closed and its kernel shut down, so no chapter runs beside another. A test that fails closes the
    page, and the next chapter starts from a fresh load.
    """
    browser, base, _ = jupyterlab
    held: dict = {}

    @contextmanager
    def chapter_page():
        if "page" not in held:
            held["page"] = browser.new_page(viewport={"width": 1300, "height": 900})
        page = held["page"]
        try:
            yield page, base
            _close_chapters(page)
        except BaseException:
            held.pop("page").close()
            raise

    yield chapter_page
    if "page" in held:
        held["page"].close()


def _launched_kernels(running: list[dict]) -> list[str]:
    """The command lines of kernels among ``running`` that were started as processes of their own
    (``python -m ipykernel_launcher -f …/kernel-<id>.json``) rather than forked warm."""
    files = [f"kernel-{kernel['id']}.json" for kernel in running]
    commands = (" ".join(command_words(int(process.name))) for process in Path("/proc").glob("[0-9]*"))
    return [text for text in commands if "ipykernel_launcher" in text and any(f in text for f in files)]


def _close_chapters(page) -> None:
    """Close every tab without asking to save (a run marks a notebook changed), then end every kernel."""
    page.evaluate("""async () => { const app = window.jupyterapp;
      for (const w of Array.from(app.shell.widgets('main'))) { if (w.context) { w.context.model.dirty = false; }
        w.dispose(); }
      await app.serviceManager.sessions.shutdownAll(); }""")
    assert page.locator(".jp-Dialog").count() == 0


@pytest.mark.parametrize("name", sorted(notebooks.names(ROOT).values()))
def test_each_class_notebook_runs_in_jupyterlab_with_charts_self_checks_and_prose(lab_page, name):
    with lab_page() as (page, base):
        _open_and_run(page, base, name)
        running = json.loads(urllib.request.urlopen(f"{base}/api/kernels", timeout=10).read())
        assert running and not _launched_kernels(running)  # forked warm, as in `make lab`
        # the tab is named after the chapter's notebook, not "index.md"
        assert page.evaluate("() => window.jupyterapp.shell.currentWidget.title.label") == name
        tabs = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab .lm-TabBar-tabLabel").all_inner_texts()
        assert tabs == [name]
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        assert errors.count() == 0, errors.first.inner_text()
        assert page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count() == 0
        markdown = page.locator(".jp-MarkdownOutput").all_inner_texts()
        assert markdown and not RAW_MYST.search("\n".join(markdown))
        charts = page.locator(".brbook-live-chart")
        for n in range(charts.count()):
            chart = charts.nth(n)
            chart.locator("svg").first.wait_for(timeout=30_000)
            before = chart.locator(".brbook-chart-drawing").inner_html()
            select = chart.locator("select")
            if select.count():
                count = select.first.locator("option").count()
                chosen = select.first.evaluate("s => s.selectedIndex")
                select.first.select_option(index=(chosen + 1) % count)
            else:
                chart.locator("input[type=checkbox]").first.check()
            page.wait_for_function(
                "([el, old]) => el.querySelector('.brbook-chart-drawing').innerHTML !== old",
                arg=[chart.element_handle(), before], timeout=30_000)
        checks = page.locator(".brbook-self-check").filter(has=page.locator("input[type=radio]"))
        if checks.count():
            check = checks.first
            labels = check.locator("label:has(input[type=radio])")
            verdicts = []
            button = check.get_by_role("button", name="Check")
            for n in range(labels.count()):
                _choose(page, labels, n)
                verdicts.append(_click_and_read(page, check, button))
            right = [n for n, v in enumerate(verdicts) if v.startswith("Correct.")]
            assert len(right) == 1 and sum(v.startswith("Not yet.") for v in verdicts) == len(verdicts) - 1
            if verdicts[-1].startswith("Correct."):  # end on a wrong answer, so the right one follows it
                wrong = next(n for n, v in enumerate(verdicts) if v.startswith("Not yet."))
                _choose(page, labels, wrong)
                assert _click_and_read(page, check, button).startswith("Not yet.")
            _choose(page, labels, right[0])  # wrong before, right now
            assert _click_and_read(page, check, button).startswith("Correct.")


def test_saving_a_class_notebook_in_jupyterlab_changes_nothing_in_the_repository(jupyterlab, lab_page):
    _, _, folder = jupyterlab
    before = subprocess.run(["git", "status", "--porcelain", "book"], cwd=ROOT, capture_output=True, text=True).stdout
    with lab_page() as (page, base):  # the chapters' JupyterLab page: the app loads once
        _open(page, base, "07-compare.ipynb")
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.context.isReady", timeout=60_000)
        # once the notebook has taken its language from the kernel (name and version, which the class
        # notebook does not carry): that change, landing after the save, would leave it changed again
        page.wait_for_function("async () => { const w = window.jupyterapp.shell.currentWidget;"
                               " const told = (await w.sessionContext.session.kernel.info).language_info;"
                               " const kept = w.context.model.getMetadata('language_info') || {};"
                               " return kept.name === told.name && kept.version === told.version; }",
                               polling=100, timeout=60_000)
        stamp = (folder / "07-compare.ipynb").stat().st_mtime_ns
        page.evaluate("() => { window.jupyterapp.shell.currentWidget.context.model.dirty = true; }")
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=60_000)
        assert (folder / "07-compare.ipynb").stat().st_mtime_ns > stamp  # it was saved, in the copy
    after = subprocess.run(["git", "status", "--porcelain", "book"], cwd=ROOT, capture_output=True, text=True).stdout
    assert after == before


def test_a_fresh_environment_with_only_the_wheel_runs_every_downloadable_notebook(tmp_path):
    """Issue 19: pip install the served wheel, run every notebook.

    Its dependencies come at the versions the book was built and tested with, from uv's cache where it
    has them. The index is still asked for their metadata (``--offline`` cannot resolve a registry
    package from wheels that ``uv sync`` fetched by lock-file URL), as ``make test`` asks it to build .venv.
    """
    wheel = sorted((ROOT / "_build" / "html").glob("brbook-*-py3-none-any.whl"))
    assert wheel, "no wheel in _build/html: run `make book`"
    uv = str(ROOT / ".tools" / "bin" / "uv")
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    # the wheel's declared dependencies, at the versions the book was built and tested with (from the uv cache)
    pins = subprocess.run([uv, "pip", "freeze", "--python", str(ROOT / ".venv" / "bin" / "python")],
                          check=True, capture_output=True, text=True).stdout
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("".join(line + "\n" for line in pins.splitlines()
                                   if "==" in line and not line.startswith("brbook")))
    subprocess.run([uv, "pip", "install", "--quiet", "--python", python, "-c", str(constraints),
                    str(wheel[-1])], check=True)
    work = tmp_path / "work"
    work.mkdir()
    downloads = sorted((ROOT / "_build" / "html" / "notebooks").glob("*.ipynb"))
    for path in downloads:
        shutil.copyfile(path, work / path.name)
    # the first notebook in a kernel started as a reader's is; the others in kernels forked from a process of
    # this environment that imported pandas and Altair once (brbook.forked_kernels, which the wheel ships: the
    # same packages from the same environment, outputs as a fresh kernel's), ~30 s less of the processor
    script = """
import sys, nbformat, brbook.layout
from pathlib import Path
from nbclient import NotebookClient
from brbook.forked_kernels import ForkedKernelManager
assert brbook.layout.in_wheel(), brbook.layout.PACKAGE
for n, path in enumerate(sorted(Path('.').glob('*.ipynb'))):
    nb = nbformat.read(path, as_version=4)
    forked = {'kernel_manager_class': ForkedKernelManager} if n else {}
    NotebookClient(nb, timeout=300, kernel_name='python3', allow_errors=False,
                   resources={'metadata': {'path': '.'}}, **forked).execute()
    print('ran', path.name, 'forked' if n else 'fresh')
"""
    # bytecode is written as the first kernel imports each module, as on a reader's machine (this machine sets
    # PYTHONDONTWRITEBYTECODE, which would have every kernel compile pandas and Altair again: 92 s against 56 s)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")}
    env["JUPYTER_PATH"] = str(venv / "share" / "jupyter")
    result = subprocess.run([python, "-c", script], cwd=work, capture_output=True, text=True, env=env, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("ran ") == len(downloads) and result.stdout.count(" fresh") == 1


def test_a_class_notebook_says_what_to_install_where_brbook_is_missing(tmp_path):
    nb = nbformat.read(BUILT / "02-military.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "pip install" in first.source and "Run the notebooks yourself" in first.source
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys\nsys.modules['brbook'] = None\n" + first.source)])
    with pytest.raises(CellExecutionError, match="pip install"):
        NotebookClient(probe, timeout=60, kernel_name="python3").execute()


def test_launch_buttons_are_off_by_default():
    import yaml

    theme = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]["html_theme_options"]
    config = theme["launch_buttons"]
    assert not theme["repository_url"]
    assert not any(config.get(k) for k in ("jupyterhub_url", "binderhub_url", "colab_url")) and not config["thebe"]
    page = (ROOT / "_build" / "html" / "book" / "military" / "index.html").read_text(encoding="utf-8")
    for outside in ("mybinder", "colab.research.google.com", "user-redirect/git-pull", "launch-buttons"):
        assert outside not in page, outside


def test_launch_buttons_appear_on_the_chapters_once_an_instructor_turns_them_on(tmp_path):
    """The same book built with the settings book/about/run-notebooks.md gives instructors: each chapter
    gets a launch menu for the hub (an nbgitpuller link), Binder and Colab, pointing at the repository."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    theme = config["sphinx"]["config"]["html_theme_options"]
    theme["repository_url"] = "https://github.com/example-school/belarus-russia"
    theme["launch_buttons"].update(jupyterhub_url="https://hub.example-school.org",
                                   binderhub_url="https://mybinder.org",
                                   colab_url="https://colab.research.google.com")
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    # on from the book's own build, as an instructor's rebuild would be: only an HTML option changed, so Sphinx
    # writes every page again and reads none (~5 s instead of ~19 s)
    for kept in (".doctrees", "jupyter_execute"):
        shutil.copytree(ROOT / "_build" / kept, tmp_path / "_build" / kept)
    build = subprocess.run([sys.executable, "-m", "brbook.jbuild", "build", ".", "--builder", "html",
                            "--config", str(tmp_path / "_config.yml"), "--path-output", str(tmp_path), "-n"],
                           cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    page = (tmp_path / "_build" / "html" / "book" / "military" / "index.html").read_text(encoding="utf-8")
    assert "https://hub.example-school.org/hub/user-redirect/git-pull?repo=https%3A//github.com/example-school" \
           "/belarus-russia" in page.replace("%3A%2F%2F", "%3A//")
    assert "https://mybinder.org/v2/gh/example-school/belarus-russia/main" in page
    assert "https://colab.research.google.com/github/example-school/belarus-russia/blob/main" in page


def test_no_class_notebook_output_carries_a_memory_address():
    """An object's default text (``<… at 0x7f…>``) changes on every run, so two builds of the same
    book would differ; every object the chapters display says what it holds instead."""
    for path in sorted(BUILT.glob("[0-9][0-9]-*.ipynb")):
        found = re.findall(r"<[\w.]+ (?:object )?at 0x[0-9a-f]+>", path.read_text(encoding="utf-8"))
        assert not found, f"{path.name}: {sorted(set(found))[:3]}"
