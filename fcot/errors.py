"""fcot's errors in a notebook: the message first, in one line, the full traceback after it.

fcot raises plain ``ValueError`` / ``FileNotFoundError`` (and their subclasses) whose message names the file, field or
parameter and what is accepted. In a Jupyter kernel IPython prints the traceback first and that message last, 60-80
lines down; :func:`install` adds a custom exception handler that puts ``fcot: <message>`` on top for errors raised
inside fcot (other errors are shown as usual), so an executed notebook opens its error with the sentence that says
what to fix. Importing fcot in a kernel installs it once.
"""

from __future__ import annotations

import traceback
from pathlib import Path

_PACKAGE = str(Path(__file__).resolve().parent)
_HANDLED = (ValueError, FileNotFoundError, LookupError, TypeError, RuntimeError)


def raised_in_fcot(tb) -> bool:
    """True when the innermost frame of ``tb`` that is not a library's is fcot's own code."""
    frames = traceback.extract_tb(tb)
    return bool(frames) and any(frame.filename.startswith(_PACKAGE) for frame in frames[-3:])


def headline(etype, value) -> str:
    """The one line an fcot error opens with."""
    return f"fcot: {etype.__name__}: {value}"


def _handler(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler: shows (and returns) the structured traceback, fcot's message first."""
    stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    if raised_in_fcot(tb):
        stb = [f"\x1b[1;31m{headline(etype, value)}\x1b[0m", "(the full traceback follows)", *stb]
    shell._showtraceback(etype, value, stb)  # ipykernel sends it as the cell's error output
    return stb


def install() -> bool:
    """Install the handler in the running IPython kernel (once); False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or getattr(shell, "_fcot_errors", False):
        return shell is not None
    shell.set_custom_exc(_HANDLED, _handler)
    shell._fcot_errors = True
    return True
