"""Prompt text for the teacher (Zero-shot-CoT, Few-shot-CoT) and the student sample formats.

Zero-shot-CoT (Kojima et al. 2022), as the Fine-tune-CoT paper uses it, is two calls per question:

* stage 1: ``Q: {question}\\nA: Let's think step by step.`` -> the teacher writes a **rationale**;
* stage 2: stage-1 prompt + rationale + ``\\nTherefore, the answer is`` -> the answer completion,
  which the task's answer parser reads.
"""

from __future__ import annotations

from fcot.paths import UpstreamFile, fetch

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


# -- Few-shot-CoT -------------------------------------------------------------------------------
# The exemplars are the official Fine-tune-CoT file (itsnamgyu/reasoning-teacher), pinned.
OFFICIAL_REPO = "itsnamgyu/reasoning-teacher"
OFFICIAL_COMMIT = "a2ca4d28d3bbabbd77106b76d06885d1a5eac0d9"
FEW_SHOT_ANSWER_PREFIX = "The answer is"

# fcot and Kojima task names -> the official file's keys
_FEW_SHOT_ALIASES = {
    "singleeq": "single_eq",
    "last_letters": "last_letter_concatenation",
    "commonsensqa": "commonsense_qa",
    "commonsenseqa": "commonsense_qa",
    "csqa": "commonsense_qa",
    "strategyqa": "strategy_qa",
    "date": "date_understanding",
}


def few_shot_cot_file():
    """The pinned ``data/few_shot_cot_prompts.json`` of the official repository."""
    return UpstreamFile(
        repo=OFFICIAL_REPO,
        commit=OFFICIAL_COMMIT,
        path="data/few_shot_cot_prompts.json",
        sha256="72bb973daf1ab1217ec5bc1cc95a8be8ab78d05ff42356a3176341d848956d19",
    )


def few_shot_cot_exemplars(task: str) -> str:
    """The official Few-shot-CoT exemplar text for ``task`` (``Q: ...\\nA: ... The answer is X.`` blocks)."""
    import json

    with open(fetch(few_shot_cot_file()), encoding="utf-8") as handle:
        table = json.load(handle)
    key = _FEW_SHOT_ALIASES.get(task, task)
    if key not in table:
        raise KeyError(
            f"no Few-shot-CoT exemplars for task {task!r}; the official file has {sorted(table)} "
            f"(aliases: {sorted(_FEW_SHOT_ALIASES)})"
        )
    return table[key]["prompt"]


def few_shot_cot_prompt(exemplars: str, question: str) -> str:
    """The Few-shot-CoT prompt as the official code builds it: exemplars, ``\\nQ: {question}\\nA:``."""
    return f"{exemplars}\nQ: {question}\nA:"


def split_few_shot_completion(text: str) -> tuple[str, str]:
    """(rationale, answer part) of a Few-shot-CoT completion, split at the first ``The answer is``.

    Without that phrase the whole text is the rationale and the answer part is empty.
    """
    index = text.find(FEW_SHOT_ANSWER_PREFIX)
    if index == -1:
        return text, ""
    return text[:index], text[index:]
