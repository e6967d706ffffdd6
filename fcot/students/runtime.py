"""The process settings a student runs under: seeds, torch CPU threads, transformers' and peft's logs kept quiet."""

from __future__ import annotations

import contextlib
import random

import numpy as np

from fcot.records import is_int


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def set_threads(threads: int | None) -> None:
    """Torch CPU threads for this process's training and evaluation; None leaves torch's setting (one per core).
    Tiny students train faster on ONE thread, and on one thread whenever processes share the cores (``--jobs 2``):
    torch's default then oversubscribes them. The thread count can change a result's last bits, so a study fixes it."""
    if threads is None:
        return
    if not is_int(threads) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1 or None (torch's default), got {threads!r}")
    import torch

    torch.set_num_threads(threads)


@contextlib.contextmanager
def quiet_transformers():
    """Silence transformers' progress bars and info logs (weight loading/writing) inside the block."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    level = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


@contextlib.contextmanager
def peft_quiet():
    """peft reads transformers' deprecated ``is_gradient_checkpointing`` when it wraps a model: not the user's to fix."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
        yield

