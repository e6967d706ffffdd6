"""Wording helpers of the simulated teacher: numbers and lists as text, and word choices (fixed or sampled)."""

from __future__ import annotations

import random
from typing import Sequence


def format_number(value: float) -> str:
    """``value`` as a rationale writes it: an integer without a decimal part, else at most two decimals."""
    if abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def listed(parts: Sequence[str]) -> str:
    """``parts`` as an English list: ``a``, ``a and b``, ``a, b, and c``."""
    if len(parts) <= 1:
        return "".join(parts)
    if len(parts) == 2:
        return f"{parts[0]} and {parts[1]}"
    return ", ".join(parts[:-1]) + f", and {parts[-1]}"


class Words:
    """Wording choices: the first option at temperature 0, a sampled one otherwise."""

    def __init__(self, rng: random.Random | None):
        self.rng = rng

    def __call__(self, *options: str) -> str:
        return options[0] if self.rng is None else self.rng.choice(options)
