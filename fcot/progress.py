"""Progress bars (``tqdm.auto``) on long work: shown where someone watches, off where output is stored.

* a terminal (``make reproduce``, ``python -m fcot ...``): text bars on stderr;
* an interactive JupyterLab kernel: widget bars (``ipywidgets``);
* off when ``TQDM_DISABLE`` is set -- ``fcot reproduce`` sets it in the papermill kernels it starts, so the
  executed notebooks that get committed hold no bar residue and no "IProgress not found" warning -- and when
  stderr is not a terminal outside Jupyter (CI logs, pipes).
"""

from __future__ import annotations

import os
import sys
from typing import Iterable

DISABLE_ENV = "TQDM_DISABLE"


def _in_jupyter() -> bool:
    shell = sys.modules.get("IPython")
    ip = getattr(shell, "get_ipython", lambda: None)() if shell is not None else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def disabled() -> bool:
    """True where no bar should be drawn (see the module docstring)."""
    if os.environ.get(DISABLE_ENV, "").strip().lower() not in ("", "0", "false", "no"):
        return True
    if _in_jupyter():
        return False
    return not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


def sync_libraries() -> None:
    """Give the libraries that draw their own bars (``datasets``' map and load) the same on/off as fcot's."""
    from datasets.utils import logging as datasets_logging

    (datasets_logging.disable_progress_bar if disabled() else datasets_logging.enable_progress_bar)()


def bar(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", unit: str = "it"):
    """A ``tqdm.auto`` bar over ``iterable`` (or ``total`` steps, advanced with ``.update(n)``); disappears when done."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=False, disable=disabled(), dynamic_ncols=True)
