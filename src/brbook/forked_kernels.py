"""Real IPython kernels forked from a warm process, for executing the book's pages.

A page's kernel spends most of its life starting: the interpreter, ipykernel, then pandas and Altair
(a page's own code runs in well under a second). :class:`ForkedKernelManager` is jupyter_client's
kernel manager with one change, in the hook jupyter_client provides for it (``_async_launch_kernel``):
the kernel process is forked from a multiprocessing fork server that imported those libraries once,
instead of started from nothing. The child is an ordinary ``IPKernelApp`` on the connection file the
manager wrote, in its own session, with the page's folder and environment, so nbclient talks to it,
interrupts it and shuts it down as it would any kernel, and the outputs are those of a fresh kernel
(``make bench`` compares a site built this way with one Jupyter Book built alone, file by file).

Only the standard Python kernel of this interpreter is forked; any other kernel is started as usual.
The fork server imports third-party libraries only, and nothing that registers itself with a running
IPython (ipywidgets does, so it is left to the kernel); a kernel forgets the ``brbook`` modules that
forking brought, so a page imports the package from wherever a fresh kernel would (a bundle's own copy).
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import multiprocessing.context
import os
import random
import sys
import threading
import types
from multiprocessing import forkserver, popen_forkserver, spawn
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

PRELOAD = ["ipykernel.kernelapp", "ipykernel.ipkernel", "IPython.core.interactiveshell", "pandas", "altair",
           "jsonschema", "yaml", "pydantic"]
"""What the fork server imports once (each page's kernel then finds it imported)."""

_server = None
_starting = threading.Lock()


def _start(process: multiprocessing.process.BaseProcess) -> None:
    """Start a kernel's process, one at a time (multiprocessing's bookkeeping and the server are shared)."""
    with _starting:
        process.start()


def fork_server():
    """The warm process kernels fork from, started on first use (call it early to start it sooner).

    It is a fork server of this module's own: the standard library keeps one per process, which grading
    starts with its sandbox's preload, and a kernel must not fork from that one (nor a sandbox from this).
    """
    global _server
    if _server is None:
        _server = forkserver.ForkServer()
        _server.set_forkserver_preload(PRELOAD)
        _server.ensure_running()
    return _server


class _Popen(popen_forkserver.Popen):
    """The standard library's fork-server launch, asking :func:`fork_server` rather than the process's own."""

    def _launch(self, process_obj) -> None:
        _launch_from_own_server()(self, process_obj)


PARENT_ONLY = ("init_main_from_path", "init_main_from_name", "sys_path", "sys_argv")
"""What multiprocessing passes a child of the parent's own, and a kernel must not get: the parent's main
module, run again in the child (for `make lab` the ``jupyter-lab`` script, which imports JupyterLab and Jupyter
Server, ~500 modules), and the parent's ``sys.path`` and ``sys.argv``. Without them the child keeps the fork
server's, which started as a fresh interpreter does."""


def _kernel_preparation_data(name: str) -> dict:
    data = spawn.get_preparation_data(name)
    return {key: value for key, value in data.items() if key not in PARENT_ONLY}


@functools.cache
def _launch_from_own_server():
    """The standard library's own ``_launch``, run with :func:`fork_server` where it names the module's server
    (``forkserver.connect_to_new_process``) and with the preparation data a kernel needs
    (:data:`PARENT_ONLY`): nothing shared is changed, so other launches are untouched."""
    server = types.SimpleNamespace(connect_to_new_process=fork_server().connect_to_new_process,
                                   read_signed=forkserver.read_signed)
    preparation = types.SimpleNamespace(get_preparation_data=_kernel_preparation_data)
    launch = popen_forkserver.Popen._launch
    return types.FunctionType(launch.__code__, {**vars(popen_forkserver), "forkserver": server,
                                                "spawn": preparation}, launch.__name__)


class _KernelProcess(multiprocessing.context.ForkServerProcess):
    _start_method = "forkserver"

    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


def _serve(argv: list[str], cwd: str, env: dict[str, str]) -> None:
    """In the forked child: become the kernel that ``python -m ipykernel_launcher <argv>`` would start."""
    os.setsid()  # its own process group, as jupyter_client starts kernels, so signals reach only the kernel
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]  # as ipykernel_launcher does; the kernel adds the working folder back
    import ipykernel_launcher

    sys.argv = [ipykernel_launcher.__file__, *argv]  # as `python -m ipykernel_launcher <argv>` has it
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    random.seed()  # every child would otherwise share the fork server's random state
    from ipykernel.kernelapp import IPKernelApp

    for name in [m for m in sys.modules if m == "brbook" or m.startswith("brbook.")]:
        del sys.modules[name]  # this module came with the fork: the page imports brbook from where it finds it
    app = IPKernelApp.instance()
    # as for a kernel the manager started: it ends if its parent does (here the fork server, which ends
    # with the manager), and prints no console banner
    app.parent_handle = os.getppid()
    app.initialize(argv)
    app.start()


class _ForkedProcess:
    """The little of ``subprocess.Popen`` that jupyter_client's local provisioner uses, over a forked child."""

    stdin = stdout = stderr = None

    def __init__(self, process: multiprocessing.process.BaseProcess):
        self._process = process
        self.pid = process.pid

    def poll(self) -> int | None:
        return None if self._process.is_alive() else self._process.exitcode

    def wait(self, timeout: float | None = None) -> int | None:
        self._process.join(timeout)
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        if self._process.is_alive():
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self._process.kill()

    def terminate(self) -> None:
        self._process.terminate()


def _launcher_argv(kernel_cmd: list[str]) -> list[str] | None:
    """The kernel's own arguments when ``kernel_cmd`` starts ipykernel on this interpreter, else None.

    The path is compared as written, symbolic links not followed: another virtual environment's ``python`` is
    a link to the same interpreter, but its kernels need that environment's packages.
    """
    if len(kernel_cmd) >= 3 and kernel_cmd[1:3] == ["-m", "ipykernel_launcher"] \
            and os.path.abspath(kernel_cmd[0]) == os.path.abspath(sys.executable):
        return kernel_cmd[3:]
    return None


class ForkedLaunch:
    """The one change to a jupyter_client kernel manager (here, and Jupyter Server's in ``brbook.lab``): its
    standard Python kernel is forked from :func:`fork_server`, any other kernel started as usual."""

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        argv = _launcher_argv(kernel_cmd)
        if argv is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        env = {**(kw.get("env") or os.environ), "JPY_PARENT_PID": str(os.getpid())}  # as jupyter_client sets it
        cwd = str(kw.get("cwd") or os.getcwd())
        process = _KernelProcess(target=_serve, args=(argv, cwd, env), daemon=False)
        # in a thread: the first start waits while the fork server imports its libraries (~1.3 s), and a
        # Jupyter server's event loop must not stop meanwhile
        await asyncio.get_running_loop().run_in_executor(None, _start, process)
        provisioner = self.provisioner
        provisioner.process = _ForkedProcess(process)
        # the kernel leads a process group of its own (os.setsid); until it does, a signal to the group fails
        # and jupyter_client falls back to the process itself
        provisioner.pid, provisioner.pgid, provisioner.cwd = process.pid, process.pid, cwd
        self._reconcile_connection_info(provisioner.connection_info)


class ForkedKernelManager(ForkedLaunch, AsyncKernelManager):
    """An asynchronous kernel manager (nbclient's default) whose Python kernels are forked from :func:`fork_server`."""
