"""Prompt text for the teacher (Zero-shot-CoT, Few-shot-CoT) and the student sample formats.

Zero-shot-CoT (Kojima et al. 2022), as the Fine-tune-CoT paper uses it, is two calls per question:

* stage 1: ``Q: {question}\\nA: Let's think step by step.`` -> the teacher writes a **rationale**;
* stage 2: stage-1 prompt + rationale + ``\\nTherefore, the answer is`` -> the answer completion,
  which the task's answer parser reads.
"""

from __future__ import annotations

COT_TRIGGER = "Let's think step by step."
ANSWER_TRIGGER = "Therefore, the answer is"


def zero_shot_cot_stage1(question: str) -> str:
    """The stage-1 prompt: ``Q: {question}\\nA: Let's think step by step.``"""
    return f"Q: {question}\nA: {COT_TRIGGER}"


def zero_shot_cot_stage2(stage1_prompt: str, rationale: str) -> str:
    """The stage-2 prompt: the stage-1 prompt, the rationale, then the answer trigger."""
    return f"{stage1_prompt}{rationale}\n{ANSWER_TRIGGER}"


def question_from_prompt(prompt: str) -> str | None:
    """The question of the *last* ``Q: ... \\nA:`` block of a prompt (None if there is none).

    Backends that read prompts (the simulated teacher, replay) use this, so few-shot exemplars
    before the final question are skipped.
    """
    start = prompt.rfind("Q: ")
    if start == -1:
        return None
    end = prompt.find("\nA:", start)
    if end == -1:
        return None
    return prompt[start + 3 : end]
