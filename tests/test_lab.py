"""`make lab`: JupyterLab serves the MyST chapters as notebooks, with jupytext as the default viewer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from brbook import lab

from .conftest import ROOT

pytestmark = pytest.mark.kernel


def test_overrides_make_jupytext_the_default_viewer_and_keep_other_settings(tmp_path):
    settings = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}))
    lab.write_overrides(tmp_path)
    written = json.loads(settings.read_text())
    viewers = written["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    assert written["@jupyterlab/apputils-extension:themes"]["theme"] == "JupyterLab Dark"


def test_exercise_copies_are_made_once_and_never_overwritten(tmp_path):
    student = tmp_path / "_build" / "exercises" / "student"
    student.mkdir(parents=True)
    (student / "military.ipynb").write_text("fresh")
    assert [p.name for p in lab.copy_exercises(tmp_path)] == ["exercise-military.ipynb"]
    copy = tmp_path / "_build" / "lab" / "exercise-military.ipynb"
    copy.write_text("a student's work")
    assert lab.copy_exercises(tmp_path) == [] and copy.read_text() == "a student's work"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_jupyterlab_opens_a_chapter_as_a_notebook_with_the_jupytext_viewer(tmp_path):
    lab.write_overrides()
    port = _free_port()
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}",
               "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={ROOT}", "--allow-root",
               "--ServerApp.ip=127.0.0.1"]
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                _get(f"{base}/api/status")
                break
            except OSError:
                time.sleep(0.5)
        chapter = _get(f"{base}/api/contents/book/military/index.md?type=notebook&content=1")
        assert chapter["type"] == "notebook"
        sources = [c["source"] for c in chapter["content"]["cells"] if c["cell_type"] == "code"]
        assert any("book.setup(\"military\")" in s for s in sources)
        settings = _get(f"{base}/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
        # overrides.json changes the defaults of the setting schema that JupyterLab loads
        assert settings["schema"]["properties"]["defaultViewers"]["default"]["markdown"] == "Jupytext Notebook"
    finally:
        server.terminate()
        server.wait(timeout=30)
