"""One loader per task: the raw upstream files turned into examples in the official order and text format.

Every task's examples are built from the raw upstream datasets (as mirrored by Kojima et al.'s
Zero-shot-CoT repository, plus GSM8K from OpenAI) in **exactly** the order and text format of
the official Fine-tune-CoT processed datasets (``notebooks/old/Data Preparation.ipynb`` in
``itsnamgyu/reasoning-teacher``), so the official split files -- ``data/split/<task>__<split>.json``,
``{"train": [...], "test": [...]}`` index lists into that processed dataset -- select the same
questions here. ``Example.index`` is the position in that official order and ``Example.id`` is
``str(index)``.

Format rules reproduced from the official preprocessing:

* multiple choice is appended as ``" Answer choices: (A) x, (B) y."`` (each option stripped);
* BIG-bench tasks (date_understanding, tracking_shuffled_objects) get ``"\\nWhich choice is true?"``
  before the choices and lose one trailing ``"."`` per option; date_understanding shuffles its
  options with one ``np.random.RandomState(0)`` used sequentially over the examples;
* GSM8K is train + test (7473 + 1319), CommonsenseQA is train + dev (9741 + 1221), AQuA is
  train + test (97467 + 254).

Gold answers (``Example.answer``): numbers are canonical strings without commas -- integral
values without a decimal part (``"43"``, not ``"43.0"``), others as the shortest float repr
(``"0.625"``); ``choice`` answers are one letter; ``yes_no`` answers are ``"yes"``/``"no"``;
last-letter answers are the exact string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from fcot.answers import canonical_number
from fcot.records import AnswerType, Example
from fcot.tasks.readers import get_field, list_of, read_json, read_numbered_lines
from fcot.tasks.registry import AQUA_TRAIN_SIZE, TaskDataError

# ---------------------------------------------------------------------------------------------
# Answer and question formats


def _verbalize_choices(question: str, choices: Sequence[str]) -> str:
    """``question + " Answer choices: (A) x, (B) y."`` -- the official multiple-choice format."""
    listed = ", ".join(f"({chr(ord('A') + i)}) {choice.strip()}" for i, choice in enumerate(choices))
    return f"{question} Answer choices: {listed}."


def _choice_example(task: str, index: int, question: str, choices: Sequence[str], answer_index: int, where: str,
                    n_choices: int | None = None) -> Example:
    if n_choices is not None and len(choices) != n_choices:
        raise TaskDataError(f"{where}: expected {n_choices} answer options, got {len(choices)}")
    if not 2 <= len(choices) <= 26:
        raise TaskDataError(f"{where}: expected 2 to 26 answer options, got {len(choices)}")
    if not 0 <= answer_index < len(choices):
        raise TaskDataError(f"{where}: the correct option {answer_index} is not among {len(choices)} options")
    stripped = tuple(choice.strip() for choice in choices)
    return Example(
        task=task,
        id=str(index),
        question=_verbalize_choices(question, stripped),
        answer=chr(ord("A") + answer_index),
        answer_type="choice",
        choices=stripped,
        index=index,
    )


def _number_example(task: str, index: int, question: str, answer: Any, where: str) -> Example:
    if not isinstance(question, str) or not question.strip():
        raise TaskDataError(f"{where}: empty or non-text question")
    try:
        gold = canonical_number(answer)
    except ValueError as error:
        raise TaskDataError(f"{where}: gold answer {answer!r} is not a number ({error})") from None
    return Example(task=task, id=str(index), question=question, answer=gold, answer_type="number", index=index)


# ---------------------------------------------------------------------------------------------
# Loaders: one per task, each producing the official order and text (see the module docstring).
# Each takes the local paths of TaskSpec.files and the index of the first example.


def _load_solutions_file(task: str, paths: list[Path], start: int, strip: bool) -> list[Example]:
    """SingleEq, AddSub and MultiArith share one format: a JSON list of ``sQuestion`` + ``lSolutions``.

    ``strip``: the official preprocessing strips AddSub/MultiArith questions; SingleEq's are kept as
    they are (the official notebook asserts they are already stripped).
    """
    path = paths[0]
    out = []
    for i, item in enumerate(list_of(read_json(path), path)):
        where = f"{path}: example {i}"
        solutions = get_field(item, "lSolutions", where, list)
        if len(solutions) != 1:
            raise TaskDataError(f"{where}: expected one solution in 'lSolutions', got {len(solutions)}")
        question = get_field(item, "sQuestion", where, str)
        out.append(_number_example(task, start + i, question.strip() if strip else question, solutions[0], where))
    return out


def _load_single_eq(paths: list[Path], start: int = 0) -> list[Example]:
    return _load_solutions_file("single_eq", paths, start, strip=False)


def _load_addsub(paths: list[Path], start: int = 0) -> list[Example]:
    return _load_solutions_file("addsub", paths, start, strip=True)


def _load_multiarith(paths: list[Path], start: int = 0) -> list[Example]:
    return _load_solutions_file("multiarith", paths, start, strip=True)


def _load_svamp(paths: list[Path], start: int = 0) -> list[Example]:
    path = paths[0]
    out = []
    for i, item in enumerate(list_of(read_json(path), path)):
        where = f"{path}: example {i}"
        question = get_field(item, "Body", where, str).strip() + " " + get_field(item, "Question", where, str).strip()
        out.append(_number_example("svamp", start + i, question, get_field(item, "Answer", where, (int, float, str)), where))
    return out


def _gsm8k_rows(path: Path, start: int) -> list[Example]:
    out = []
    rows = read_numbered_lines(path)
    if not rows:
        raise TaskDataError(f"{path}: the dataset is empty (no examples)")
    for offset, (line, item) in enumerate(rows):
        where = f"{path}:{line}"
        solution = get_field(item, "answer", where, str)
        if solution.count("####") != 1:
            raise TaskDataError(f"{where}: field 'answer' should contain exactly one '####' before the final answer")
        final = solution[solution.find("####") + 4 :]
        # the question is kept exactly as upstream (the official code does not strip it)
        out.append(_number_example("gsm8k", start + offset, get_field(item, "question", where, str), final, where))
    return out


def _load_gsm8k(paths: list[Path], start: int = 0) -> list[Example]:
    train = _gsm8k_rows(paths[0], start)
    return train + _gsm8k_rows(paths[1], start + len(train))


def _mc_jsonl_rows(task: str, path: Path, start: int) -> list[Example]:
    """AQuA (``question``/``options``/``correct``) and CommonsenseQA (``question.stem``/``answerKey``) lines."""
    rows = read_numbered_lines(path)
    if not rows:
        raise TaskDataError(f"{path}: the dataset is empty (no examples)")
    out = []
    for offset, (line, item) in enumerate(rows):
        where = f"{path}:{line}"
        if task == "aqua":
            question = get_field(item, "question", where, str).strip()
            options = get_field(item, "options", where, list)
            choices = []
            for option in options:
                if not isinstance(option, str) or len(option) < 2 or option[0] not in "ABCDE" or option[1] != ")":
                    raise TaskDataError(f"{where}: option {option!r} is not of the form 'A)...'")
                choices.append(option[2:])
            correct = get_field(item, "correct", where, str)
        else:
            stem_obj = get_field(item, "question", where, dict)
            question = get_field(stem_obj, "stem", where, str).strip()
            choices = [get_field(c, "text", where, str) for c in get_field(stem_obj, "choices", where, list)]
            correct = get_field(item, "answerKey", where, str)
        if correct not in ("A", "B", "C", "D", "E"):
            raise TaskDataError(f"{where}: correct answer {correct!r} is not one of A-E")
        out.append(_choice_example(task, start + offset, question, choices, ord(correct) - ord("A"), where, n_choices=5))
    return out


def _load_aqua(paths: list[Path], start: int = 0) -> list[Example]:
    train = _mc_jsonl_rows("aqua", paths[0], start)
    return train + _mc_jsonl_rows("aqua", paths[1], start + len(train))


def load_aqua_test(path: Path) -> list[Example]:
    """The 254 aqua test examples alone (indices from :data:`AQUA_TRAIN_SIZE` on), without AQuA's train file."""
    return _mc_jsonl_rows("aqua", path, AQUA_TRAIN_SIZE)


def _load_commonsense_qa(paths: list[Path], start: int = 0) -> list[Example]:
    train = _mc_jsonl_rows("commonsense_qa", paths[0], start)
    return train + _mc_jsonl_rows("commonsense_qa", paths[1], start + len(train))


def _bigbench_choice(task: str, path: Path, start: int, *, expected_name: str, n_choices: int | None,
                     shuffle: bool, strip_input: bool) -> list[Example]:
    data = read_json(path)
    name = get_field(data, "name", str(path), str)
    if name != expected_name:
        raise TaskDataError(f"{path}: BIG-bench task name {name!r}, expected {expected_name!r}")
    examples = list_of(data, path, "examples")
    state = None
    if shuffle:
        import numpy as np  # legacy RandomState: the same stream on every numpy version

        # one generator for the whole file, used sequentially -- as the official preprocessing did
        state = np.random.RandomState(0)
    out = []
    for i, item in enumerate(examples):
        where = f"{path}: example {i}"
        question = get_field(item, "input", where, str)
        if strip_input:
            question = question.strip()
        question += "\nWhich choice is true?"
        scores = get_field(item, "target_scores", where, dict)
        order = list(range(len(scores)))
        if state is not None:
            order = [int(k) for k in state.permutation(order)]
        choices: list[str | None] = [None] * len(scores)
        correct = [order[j] for j, value in enumerate(scores.values()) if value]
        if len(correct) != 1:
            raise TaskDataError(f"{where}: 'target_scores' should mark exactly one option correct, marks {len(correct)}")
        for j, text in enumerate(scores):
            choices[order[j]] = text[:-1] if text.endswith(".") else text
        out.append(_choice_example(task, start + i, question, choices, correct[0], where, n_choices=n_choices))  # type: ignore[arg-type]
    return out


def _load_date_understanding(paths: list[Path], start: int = 0) -> list[Example]:
    return _bigbench_choice("date_understanding", paths[0], start, expected_name="date_understanding",
                            n_choices=None, shuffle=True, strip_input=True)


def _load_tracking_shuffled_objects(paths: list[Path], start: int = 0) -> list[Example]:
    # The official processed dataset keeps the input's trailing space ("... Alice has the \nWhich
    # choice is true?"): it was saved before a .strip() was added to the preprocessing notebook
    # (the notebook reports it as "Changed" and never overwrote it). fcot reproduces the saved file.
    return _bigbench_choice("tracking_shuffled_objects", paths[0], start, expected_name="three_objects",
                            n_choices=3, shuffle=False, strip_input=False)


def _load_kojima_examples(task: str, answer_type: AnswerType, paths: list[Path], start: int) -> list[Example]:
    path = paths[0]
    out = []
    for i, item in enumerate(list_of(read_json(path), path, "examples")):
        where = f"{path}: example {i}"
        question = get_field(item, "question", where, str)
        answer = get_field(item, "answer", where, str)
        if answer_type == "yes_no" and answer not in ("yes", "no"):
            raise TaskDataError(f"{where}: answer {answer!r} is not 'yes' or 'no'")
        if not question.strip() or not answer:
            raise TaskDataError(f"{where}: empty question or answer")
        out.append(Example(task=task, id=str(start + i), question=question, answer=answer,
                           answer_type=answer_type, index=start + i))
    return out


def _load_coin_flip(paths: list[Path], start: int = 0) -> list[Example]:
    return _load_kojima_examples("coin_flip", "yes_no", paths, start)


def _load_last_letter_concatenation(paths: list[Path], start: int = 0) -> list[Example]:
    return _load_kojima_examples("last_letter_concatenation", "text", paths, start)


def _load_strategy_qa(paths: list[Path], start: int = 0) -> list[Example]:
    path = paths[0]
    out = []
    for i, item in enumerate(list_of(read_json(path), path, "examples")):
        where = f"{path}: example {i}"
        scores = get_field(item, "target_scores", where, dict)
        if scores.get("Yes") == 1 and scores.get("No") != 1:
            answer = "yes"
        elif scores.get("No") == 1 and scores.get("Yes") != 1:
            answer = "no"
        else:
            raise TaskDataError(f"{where}: 'target_scores' {scores} marks neither or both of Yes/No")
        question = get_field(item, "input", where, str).strip()
        # REPRODUCTION NOTE: the official answers are "Yes"/"No"; fcot stores yes_no golds lower-case.
        out.append(Example(task="strategy_qa", id=str(start + i), question=question, answer=answer,
                           answer_type="yes_no", index=start + i))
    return out


#: The loader of each task: ``loader(local paths of TaskSpec.files, index of the first example)``.
LOADERS: dict[str, Callable[[list[Path], int], list[Example]]] = {
    "single_eq": _load_single_eq,
    "addsub": _load_addsub,
    "multiarith": _load_multiarith,
    "gsm8k": _load_gsm8k,
    "aqua": _load_aqua,
    "svamp": _load_svamp,
    "date_understanding": _load_date_understanding,
    "tracking_shuffled_objects": _load_tracking_shuffled_objects,
    "last_letter_concatenation": _load_last_letter_concatenation,
    "coin_flip": _load_coin_flip,
    "commonsense_qa": _load_commonsense_qa,
    "strategy_qa": _load_strategy_qa,
}
