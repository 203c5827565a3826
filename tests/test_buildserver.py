"""The build server (issue 17): a warm process that forks each build with the client's folder, environment,
arguments and terminal, relays its exit code and Ctrl-C, and ends when idle, removed or out of date."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brbook import buildserver

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the build server runs on Linux only")

SERVER = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import probe_module  # a module of the server's own, which a test edits
from brbook import buildserver

def target(argv):
    if argv[0] == "sleep":
        print("started", flush=True)
        time.sleep(60)
    print("argv", argv, "cwd", os.getcwd(), "probe", os.environ.get("PROBE"), probe_module.VALUE, flush=True)
    print("to stderr", file=sys.stderr)
    return int(argv[0])

buildserver.serve(Path(sys.argv[1]), target, idle=float(sys.argv[2]), check_every=0.2)
"""

CLIENT = """
import sys
from pathlib import Path
from brbook import buildserver
code = buildserver.run(Path(sys.argv[1]), sys.argv[2:])
sys.exit(99 if code is None else code)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "BRBOOK_BUILD_SERVER" and k != "CI"}
    return {**env, "PROBE": "from the client", **extra}


@pytest.fixture
def server(tmp_path):
    """``(root, process)``: a server for a project at ``root`` whose builds print what they were given."""
    (tmp_path / "_build").mkdir()
    (tmp_path / "probe_module.py").write_text("VALUE = 'first'\n", encoding="utf-8")
    started = []

    def start(idle: float = 60.0):
        process = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path), str(idle)], env=_env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        started.append(process)
        assert buildserver.ready(tmp_path, timeout=60), process.stderr.read() if process.poll() is not None else ""
        return process

    yield tmp_path, start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def _client(root: Path, *argv: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CLIENT, str(root), *argv], cwd=cwd or root, env=_env(**env),
                          capture_output=True, text=True, timeout=60)


def _ends(process: subprocess.Popen, within: float) -> bool:
    try:
        process.wait(timeout=within)
        return True
    except subprocess.TimeoutExpired:
        return False


def test_a_build_runs_in_the_clients_folder_with_its_environment_and_terminal(server):
    root, start = server
    process = start()
    folder = root / "book"
    folder.mkdir()
    first = _client(root, "0", "--flag", cwd=folder)
    assert first.returncode == 0, first.stderr
    assert f"argv ['0', '--flag'] cwd {folder} probe from the client first" in first.stdout
    assert "to stderr" in first.stderr
    failed = _client(root, "3")  # a failing build's exit code is the client's
    assert failed.returncode == 3 and "argv ['3']" in failed.stdout
    assert process.poll() is None  # it serves the next build too


def test_a_client_with_another_environment_builds_by_itself_and_the_server_ends(server):
    root, start = server
    process = start()
    other = _client(root, "0", PROBE="another shell")
    assert other.returncode == 99 and other.stdout == ""  # not served: the client builds by itself
    assert _ends(process, 15)
    assert not (root / buildserver.SOCKET).exists()


def test_an_edited_module_makes_the_server_refuse_and_end(server):
    root, start = server
    process = start()
    assert "first" in _client(root, "0").stdout
    (root / "probe_module.py").write_text("VALUE = 'second'\n", encoding="utf-8")
    assert _client(root, "0").returncode == 99  # it would have run the old code
    assert _ends(process, 15)


def test_the_server_ends_when_its_socket_is_removed_or_it_is_idle(server):
    root, start = server
    removed = start()
    buildserver.stop(root)  # as `make clean` does, removing _build
    assert _ends(removed, 5)
    idle = start(idle=1)
    assert _ends(idle, 5)
    assert _client(root, "0").returncode == 99


def test_ctrl_c_in_the_client_stops_the_build(server):
    root, start = server
    process = start()
    client = subprocess.Popen([sys.executable, "-c", CLIENT, str(root), "sleep"], cwd=root, env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert client.stdout.readline().strip() == "started"
    began = time.monotonic()
    client.send_signal(signal.SIGINT)
    assert client.wait(timeout=20) == 1 and time.monotonic() - began < 15
    stopped = client.stderr.read()
    assert "KeyboardInterrupt" in stopped and "in target" in stopped  # the build's own, not the client's
    assert process.poll() is None and _client(root, "0").returncode == 0  # the server lives on


def test_the_server_is_off_where_asked_and_in_ci(tmp_path, monkeypatch):
    (tmp_path / "_build").mkdir()
    (tmp_path / buildserver.SOCKET).write_text("not a socket", encoding="utf-8")
    for name, value in (("BRBOOK_BUILD_SERVER", "0"), ("CI", "true")):
        with monkeypatch.context() as env:
            env.delenv("BRBOOK_BUILD_SERVER", raising=False)
            env.setenv(name, value)
            assert not buildserver.enabled()
            assert buildserver.run(tmp_path, ["build"]) is None
    monkeypatch.delenv("BRBOOK_BUILD_SERVER", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert buildserver.enabled() and buildserver.run(tmp_path, ["build"]) is None  # nothing answers there
