"""The one small interface every teacher backend implements.

A backend turns prompts into text; it knows nothing about tasks, stages or caching. The
generation driver (``fcot.teachers``) builds the two Zero-shot-CoT stages, caches every call
durably, keeps the token ledger and parses answers. Backends: ``openai`` (any OpenAI-compatible
endpoint), ``hf`` (a local transformers causal LM), ``replay`` (recorded text-davinci-002 runs)
and ``simulated`` (a rule-based offline stand-in for a large teacher -- a simulator, not an LM).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt to complete. ``seed`` makes sampled completions distinct and repeatable."""

    prompt: str
    max_tokens: int = 128
    temperature: float = 0.0
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")


@dataclass(frozen=True)
class GenerationResult:
    """A backend's answer to one request. ``finish_reason``: ``"stop"``, ``"length"`` or None."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    extra: dict = field(default_factory=dict, compare=False)


@runtime_checkable
class Backend(Protocol):
    """``name`` is the backend kind (``"openai"``, ...); ``model`` identifies the model in cache keys."""

    name: str
    model: str

    def complete(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        """Complete every request; the result list is in request order."""
        ...
