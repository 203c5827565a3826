"""A class notebook's first cell reports its progress only if loading takes more than a second.

The chapter's tools (pandas, Altair, pandera, ipywidgets) take seconds to import on a slow machine;
the set-up cell otherwise sits silent. :func:`start` arms a one-second timer that shows a short
"Loading…" line; :func:`done` cancels it and blanks the line, so a fast start prints nothing.
"""

from __future__ import annotations

import contextvars
import threading

_state: dict = {}


def start() -> None:
    """Arm the timer (call before the heavy imports)."""
    try:
        from IPython.display import HTML, display

        handle = display(HTML(""), display_id=True)
    except Exception:  # no IPython: nothing to report to
        return

    def show() -> None:
        handle.update(HTML("<p><em>Loading the chapter's tools (pandas, Altair, ipywidgets)…</em></p>"))

    # the kernel keeps the running cell in a context variable: the timer's thread reports to that cell
    timer = threading.Timer(1.0, contextvars.copy_context().run, args=(show,))
    timer.daemon = True
    timer.start()
    _state.update(handle=handle, timer=timer)


def done() -> None:
    """Cancel the timer and blank the progress line."""
    timer, handle = _state.pop("timer", None), _state.pop("handle", None)
    if timer is not None:
        timer.cancel()
    if handle is not None:
        from IPython.display import HTML

        handle.update(HTML(""))
