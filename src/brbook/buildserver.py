"""A warm process that forks the book's builds, so a rebuild after one edit does not import Sphinx again.

A rebuild after one chapter's edit takes ~2.5 s, and ~1.3 s of it is Python importing Sphinx, Jupyter
Book, MyST-NB, the theme and the extensions before any page is read. ``python -m brbook.jbuild build …``
therefore first asks the project's build server (a Unix socket in ``_build``), a process that has
imported everything the last build imported. It forks a child for each build; the child takes the
client's working directory, environment, arguments and terminal (its file descriptors, passed over the
socket), runs the build as the client would have, and sends back its exit code. Ctrl-C in the client
reaches the child. Every build starts from a fresh fork of the same imports, so no build sees another's
state.

With no server (the first build, after ``make clean``), the client builds by itself, then starts one in
the background. The server ends after ``IDLE`` seconds without a build, when its socket is removed
(``make clean``), or when a module it imported has changed on disk (an edited package, another
environment); a client whose environment variables differ from the server's builds by itself. It is
off on systems other than Linux, where ``CI`` is set, and with ``BRBOOK_BUILD_SERVER=0``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SOCKET = Path("_build") / ".build-server.sock"
LOCK = Path("_build") / ".build-server.lock"
WARM = Path("_build") / ".build-server.json"
"""What the last local build had loaded by its end, for a server to load before it serves: the modules it
imported; the regular expressions it compiled as it ran (``re``'s own cache: the theme's CSS selectors
compile to patterns that take ~0.15 s); nbformat's notebook validators (fastjsonschema writes and
compiles each one's code, ~0.1 s)."""
IDLE = 20 * 60
"""Seconds without a build after which the server ends (a working session's pauses, not a day)."""
CHECK_EVERY = 5.0
NOT_PRELOADED = ("vl_convert",)
"""Modules a server does not import before forking: vl_convert's runtime starts threads, and a process
with threads must not fork."""
SHELL_VARIABLES = {"PWD", "OLDPWD", "SHLVL", "_", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES",
                   "MAKE_TERMOUT", "MAKE_TERMERR", "TERM", "COLUMNS", "LINES"}
"""Environment variables that differ between two shells or two levels of make and mean nothing to a build."""


def enabled() -> bool:
    return (sys.platform == "linux" and os.environ.get("BRBOOK_BUILD_SERVER", "1") != "0"
            and not os.environ.get("CI"))


def _address(root: Path) -> str | None:
    path = str(root / SOCKET)
    return path if len(path.encode()) < 100 else None  # sun_path holds 108 bytes


def _environment(variables) -> dict[str, str]:
    """The environment variables that matter to a build (all but :data:`SHELL_VARIABLES`)."""
    return {k: v for k, v in variables.items() if k not in SHELL_VARIABLES}


# ---------- the client ----------

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run(root: Path, argv: list[str]) -> int | None:
    """The exit code of ``argv`` built by the project's server, or None when no server took it.

    A Ctrl-C (or SIGTERM, SIGHUP) goes to the build's process; one that comes before the server has named
    that process is held until it has, or, when no server takes the build, raised again here."""
    address = _address(root)
    if not enabled() or address is None or not os.path.exists(address):
        return None
    held: list[int] = []
    child: list[int] = []

    def forward(signum, _frame):
        if not child:
            held.append(signum)
            return
        try:
            os.kill(child[0], signum)
        except ProcessLookupError:
            pass

    before = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    client = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        client.connect(address)
        request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
        socket.send_fds(client, [json.dumps(request).encode()], [0, 1, 2])
        reply = json.loads(client.recv(65536) or b'{"refused": "no answer"}')
    except (OSError, ValueError):
        reply = {}
    if "pid" not in reply:
        client.close()
        for signum, handler in before.items():
            signal.signal(signum, handler)
        for signum in held:
            os.kill(os.getpid(), signum)
        return None
    child.append(reply["pid"])
    for signum in held:
        forward(signum, None)
    with client:
        message = client.recv(65536)  # retried after a signal's handler has run (PEP 475)
    if not message:
        print("brbook: the build server's child ended without an exit code", file=sys.stderr)
        return 1
    return int(json.loads(message)["exit"])


def start(root: Path) -> None:
    """After a local build: record what it loaded and start a server in the background."""
    address = _address(root)
    if not enabled() or address is None or not (root / "_build").is_dir():
        return
    modules = [name for name, module in list(sys.modules.items())
               if getattr(module, "__file__", None) and name != "__main__" and not name.startswith(NOT_PRELOADED)]
    validators = sys.modules.get("nbformat.validator")
    warm = {"modules": modules, "patterns": _compiled_patterns(),
            "validators": [key for key in getattr(validators, "validators", {}) if isinstance(key, tuple)]}
    (root / WARM).write_text(json.dumps(warm), encoding="utf-8")
    # where a server is still serving (or ending), the new one waits for its lock and, if it is kept, ends
    subprocess.Popen([sys.executable, "-m", "brbook.buildserver", str(root)], cwd=root,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, close_fds=True)


def _compiled_patterns() -> list[tuple[str, int]]:
    """The text patterns in ``re``'s cache of compiled expressions (a private dict keyed by type, pattern and
    flags; nothing is recorded if that changes)."""
    import re

    found = []
    for cache in (getattr(re, "_cache", None), getattr(re, "_cache2", None)):
        for key in cache if isinstance(cache, dict) else ():
            if isinstance(key, tuple) and len(key) == 3 and isinstance(key[1], str) and isinstance(key[2], int):
                found.append((key[1], key[2]))
    return found


def stop(root: Path) -> None:
    """Have the project's server end (within :data:`CHECK_EVERY` seconds): its socket is removed."""
    address = _address(root)
    if address is not None and os.path.exists(address):
        os.unlink(address)


def ready(root: Path, timeout: float = 60.0) -> bool:
    """Wait until the project's server takes builds (it has loaded what the last build loaded)."""
    address = _address(root)
    deadline = time.monotonic() + timeout
    while address is not None and time.monotonic() < deadline:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            probe.connect(address)
            return True  # it reads a connection with no request as none
        except OSError:
            time.sleep(0.1)
        finally:
            probe.close()
    return False


# ---------- the server ----------

def _warm_up(warm: dict) -> None:
    """Load what the last build had loaded (:data:`WARM`); what fails to load is left to the builds."""
    import importlib
    import re

    for name in warm.get("modules", []):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 (a module the build imported in a way not repeatable here)
            pass
    for pattern, flags in warm.get("patterns", []):
        try:
            re.compile(pattern, flags)
        except (re.error, TypeError, ValueError):
            pass
    if "nbformat.validator" not in sys.modules:
        return
    from nbformat.validator import get_validator

    # the validators a build asks for: the current format's, and 4.4 (the cached notebooks'); a cold build
    # reads its pages in forked workers, so its own process may have made neither
    wanted = {tuple(key) for key in warm.get("validators", [])} | {(None, 4, None, False), (None, 4, 4, False)}
    for name, version, minor, relaxed in wanted:
        try:
            get_validator(version=version, version_minor=minor, relax_add_props=relaxed, name=name)
        except Exception:  # noqa: BLE001
            pass


def _snapshot() -> dict[str, tuple[int, int]]:
    """Every imported module's file (and the environment's package folder) with its mtime and size."""
    files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
    files |= {os.path.join(sys.prefix, "pyvenv.cfg"), *(p for p in sys.path if p.endswith("site-packages"))}
    snapshot = {}
    for name in files:
        try:
            stat = os.stat(name)
        except (TypeError, OSError):
            continue
        snapshot[name] = (stat.st_mtime_ns, stat.st_size)
    return snapshot


def _changed(snapshot: dict[str, tuple[int, int]]) -> bool:
    for name, seen in snapshot.items():
        try:
            stat = os.stat(name)
        except OSError:
            return True
        if (stat.st_mtime_ns, stat.st_size) != seen:
            return True
    return False


def _ours(address: str, inode: int) -> bool:
    try:
        return os.stat(address).st_ino == inode
    except OSError:
        return False


def serve(root: Path, target: Callable[[list[str]], int], idle: float = IDLE,
          check_every: float = CHECK_EVERY) -> None:
    """Load what the last build loaded, then fork ``target(argv)`` for each client until idle or stale."""
    import fcntl
    import threading

    address = _address(root)
    if address is None:
        return
    lock = open(root / LOCK, "w")  # noqa: SIM115 (held for the server's life)
    for _ in range(50):  # a server that is ending may still hold it; one that serves keeps it
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            time.sleep(0.1)
    else:
        return
    _warm_up(json.loads((root / WARM).read_text(encoding="utf-8")) if (root / WARM).exists() else {})
    if threading.active_count() != 1:
        return
    import gc

    gc.collect()
    gc.freeze()  # what every build shares is never traversed by a build's collections, nor copied by them
    snapshot, environment = _snapshot(), _environment(os.environ)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        os.unlink(address)
    except FileNotFoundError:
        pass
    old_mask = os.umask(0o077)
    listener.bind(address)
    os.umask(old_mask)
    listener.listen(8)
    inode = os.stat(address).st_ino
    listener.settimeout(check_every)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # and the socket is removed
    last = time.monotonic()
    try:
        while True:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                if time.monotonic() - last > idle or not _ours(address, inode) or _changed(snapshot):
                    return
                continue
            last = time.monotonic()
            with connection:
                if not _take(connection, (listener, lock), snapshot, environment, target):
                    return
    finally:
        if _ours(address, inode):
            os.unlink(address)


def _take(connection, server_files, snapshot, environment, target) -> bool:
    """Fork a child for one client's build; False when this server should end (it is stale)."""
    connection.settimeout(10)
    fds: list[int] = []
    try:
        uid = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        if int.from_bytes(uid[4:8], sys.byteorder) != os.getuid():
            return True
        data, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
        request = json.loads(data)
        stale = _changed(snapshot)
        other = _environment(request["env"]) != environment
        if stale or other or len(fds) != 3:
            connection.send(json.dumps({"refused": "stale" if stale else "environment"}).encode())
            return not stale and not other
        pid = os.fork()
        if pid == 0:
            for file in server_files:  # the listening socket, and the lock, which outlives a server otherwise
                file.close()
            _child(connection, request, fds, target)
        return True
    except (OSError, ValueError, KeyError):
        return True
    finally:
        for fd in fds:
            os.close(fd)


def _child(connection, request: dict, fds: list[int], target: Callable[[list[str]], int]) -> None:
    """Run one build as the client would have (never returns)."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the client's Ctrl-C, forwarded
        for number, fd in enumerate(fds):
            os.dup2(fd, number)
        for stream in (sys.stdout, sys.stderr):
            stream.reconfigure(line_buffering=True)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [sys.argv[0], *request["argv"]]
        connection.send(json.dumps({"pid": os.getpid()}).encode())
        code = target(request["argv"])
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001 (reported to the client's terminal, and the build fails)
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                pass
        try:
            connection.send(json.dumps({"exit": code}).encode())
        except OSError:
            pass
        os._exit(code)


def _main(argv: list[str]) -> None:
    from brbook import jbuild

    serve(Path(argv[0]), jbuild.build)


if __name__ == "__main__":
    _main(sys.argv[1:])
