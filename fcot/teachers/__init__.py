"""The teacher: Zero-shot-CoT rationales from a large LM, or a stand-in, through a durable cache, a ledger and a budget.

:mod:`~fcot.teachers.driver` runs the paper's two calls per question over every training question (:func:`generate`),
D rationales each; :mod:`~fcot.teachers.base` is the interface a backend implements; :mod:`~fcot.teachers.cache` keeps
every call, so a finished run repeats none and a killed one resumes; :mod:`~fcot.teachers.ledger` counts tokens and cost
against a budget. The backends (:func:`make_backend`): :mod:`~fcot.teachers.openai_backend` (any OpenAI-compatible
endpoint), :mod:`~fcot.teachers.hf` (a local transformers LM), :mod:`~fcot.teachers.replay` (the recorded
text-davinci-002 runs) and :mod:`~fcot.teachers.simulated` (the rule-based stand-in, not an LM).
"""

from fcot.teachers import base, cache, hf, ledger, openai_backend, replay, simulated  # noqa: F401 - the submodules
from fcot.teachers.cache import ResponseCache
from fcot.teachers.driver import (
    DIVERSE_TEMPERATURE,
    KINDS,
    METHODS,
    TeacherConfig,
    choose_backend,
    completion_table,
    distinct_counts,
    generate,
    load_completions,
    make_backend,
    rationale_words,
    run_calls,
    sample_seed,
    save_completions,
    summarize,
)
from fcot.teachers.ledger import BudgetExceeded, Ledger

__all__ = [
    "KINDS",
    "METHODS",
    "BudgetExceeded",
    "Ledger",
    "ResponseCache",
    "TeacherConfig",
    "distinct_counts",
    "generate",
    "load_completions",
    "make_backend",
    "sample_seed",
    "save_completions",
    "summarize",
]
