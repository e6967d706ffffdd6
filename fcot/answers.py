"""Reading answers out of teacher and student text, and scoring them against gold answers.

Two kinds of text are parsed, with the rules of the official Fine-tune-CoT evaluator
(itsnamgyu/reasoning-teacher ``src/evaluation/evaluator.py``), which are Kojima et al.'s
Zero-shot-CoT ``answer_cleansing`` rules made prefix-aware:

* a **teacher** answer completion -- the text a teacher writes after the stage-2 trigger
  ``Therefore, the answer is`` -- is read by :func:`parse_teacher`: the *first* candidate;
* a **student** completion in the Fine-tune-CoT format ``{rationale} --> {answer}`` is read by
  :func:`parse_student`: the *first* candidate after ``-->``, or the *last* candidate in the whole
  text when the delimiter is missing (vanilla, answer-only outputs: ``delimiter=None``, the first
  candidate).

What counts as a candidate depends only on the example's ``answer_type`` (and, for ``choice``,
on how many choices it has), never on the task's name, so synthetic tasks parse like real ones:

========  ==========================================================================
number    ``-?\\d+(?:\\.\\d+)?`` after removing every comma ("1,000" -> "1000")
choice    any capital letter among the first ``len(choices)`` letters (A-E for AQuA and
          CommonsenseQA, A-F for Date Understanding, A-C for Tracking Shuffled Objects)
yes_no    the words ``yes``/``no`` after lower-casing and turning quotes, newlines,
          periods, whitespace, colons and commas into spaces
text      the whole text with quotes, newlines, periods and whitespace removed
========  ==========================================================================

Every parser returns None when nothing parses; nothing is guessed.
"""

from __future__ import annotations

import functools
import re
import string
from decimal import Decimal
from typing import Callable

from fcot.records import Example

STUDENT_DELIMITER = " --> "  # what fcot.curate writes between rationale and answer
_DELIMITER_TOKEN = STUDENT_DELIMITER.strip()  # what the parser looks for (the official prefix "-->")
NUMBER_TOLERANCE = 1e-6

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_YES_NO_SEPARATORS = re.compile(r"[\"'\n.\s:,]")
_TEXT_NOISE = re.compile(r"[\"'\n.\s]")
_GOLD_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


# REPRODUCTION NOTE: the official evaluator fixes the letters per task (A-E aqua/commonsense_qa, A-F
# date_understanding, A-C tracking_shuffled_objects); fcot uses the example's own number of choices,
# which is the same except for date_understanding questions with 5 options (fcot: A-E, official: A-F).
# An empty last-letter answer is None here where the official code kept "" (both never correct).
@functools.lru_cache(maxsize=None)
def _choice_pattern(n_choices: int) -> re.Pattern:
    """The compiled pattern of the choice format for ``n_choices`` options (A.., one letter each)."""
    return re.compile("[" + re.escape(string.ascii_uppercase[:n_choices]) + "]")


def _n_choices(example: Example) -> int:
    if not example.choices:
        raise ValueError(
            f"Example {example.task}/{example.id}: answer_type 'choice' needs choices "
            f"(a tuple of 2..26 option texts), got {example.choices!r}"
        )
    n = len(example.choices)
    if not 2 <= n <= 26:
        raise ValueError(
            f"Example {example.task}/{example.id}: {n} choices; accepted: 2..26 (letters A..Z)"
        )
    return n


# -- candidates per answer format -------------------------------------------------------------


def number_candidates(text: str) -> list[str]:
    """All numbers in ``text``, commas removed first.

    Sample stage-2 completion: ``" 1,250 dollars. She had 3 left."`` -> ``["1250", "3"]``.
    Negative and decimal numbers keep their sign and fraction (``"-3.5"``); a trailing period is
    not part of a number (``"12."`` -> ``"12"``).
    """
    return _NUMBER.findall(text.replace(",", ""))


def choice_candidates(text: str, n_choices: int) -> list[str]:
    """Every capital letter among the first ``n_choices`` letters, in order.

    Sample stage-2 completion (5 choices): ``" (B) staying home."`` -> ``["B"]``.
    As in the official evaluator, a letter anywhere counts (``"Both"`` yields ``"B"``), and
    letters beyond the example's choices do not (``"F"`` for a 5-choice question).
    """
    return _choice_pattern(n_choices).findall(text)


def yes_no_candidates(text: str) -> list[str]:
    """The words ``yes`` / ``no``, lower-cased, after the official tokenisation.

    Sample stage-2 completion: ``' "Yes". The coin is still heads up.'`` -> ``["yes"]``.
    Quotes, newlines, periods, whitespace, colons and commas separate words, so ``"Yes."`` and
    ``"no,"`` count but ``"Yes!"`` and ``"Nope"`` do not.
    """
    words = _YES_NO_SEPARATORS.sub(" ", text.lower()).split(" ")
    return [word for word in words if word in ("yes", "no")]


def text_candidates(text: str) -> list[str]:
    """The whole text with quotes, newlines, periods and whitespace removed (one candidate).

    Sample stage-2 completion: ``' "ynln".'`` -> ``["ynln"]``. Empty text has no candidate.
    """
    cleaned = _TEXT_NOISE.sub("", text)
    return [cleaned] if cleaned else []


def candidates(text: str, example: Example) -> list[str]:
    """All answer candidates in ``text`` under the rules of ``example.answer_type``."""
    if text is None:
        return []
    kind = example.answer_type
    if kind == "number":
        return number_candidates(text)
    if kind == "choice":
        return choice_candidates(text, _n_choices(example))
    if kind == "yes_no":
        return yes_no_candidates(text)
    if kind == "text":
        return text_candidates(text)
    raise ValueError(
        f"Example {example.task}/{example.id}: answer_type {kind!r}; accepted: number, choice, yes_no, text"
    )


# -- the parsers ------------------------------------------------------------------------------


def parse_teacher(text: str, example: Example) -> str | None:
    """The answer in a teacher's stage-2 Zero-shot-CoT completion: its first candidate.

    ``text`` is what the teacher wrote after ``Therefore, the answer is``, e.g.
    ``" 18.\\n\\nQ: ..."`` -> ``"18"`` for a number question, ``" (C) staying home."`` -> ``"C"``
    for a 5-choice question. None when the text holds no candidate.
    """
    found = candidates(text, example)
    return found[0] if found else None


def parse_student(text: str, example: Example, delimiter: str | None = _DELIMITER_TOKEN) -> str | None:
    """The answer in a student completion ``{rationale} --> {answer}``.

    Sample: ``"Tom has 3 + 4 = 7 apples. He eats 2, so 5 are left. --> 5"`` -> ``"5"``.
    With the delimiter present, the first candidate after its first occurrence (None if there
    is none after it); without it, the *last* candidate of the whole text. ``delimiter=None``
    reads vanilla (answer-only) outputs: the first candidate of the whole text.
    """
    if delimiter is None:
        return parse_teacher(text, example)
    position = text.find(delimiter)
    if position == -1:
        found = candidates(text, example)
        return found[-1] if found else None
    found = candidates(text[position + len(delimiter) :], example)
    return found[0] if found else None


# -- gold answers and scoring -----------------------------------------------------------------


def canonical_number(text: str | int | float) -> str:
    """A number in the one form fcot stores and compares gold answers in: no commas, no sign ``+``,
    no trailing zeros, integral values without ``.0`` (the task loaders, curation and scoring all
    use this function).

    ``"1,080" -> "1080"``, ``43.0 -> "43"``, ``"12.50" -> "12.5"``, ``"0.625" -> "0.625"``.
    Raises ValueError (naming the value) for anything else, including ``nan``, ``inf`` and booleans.
    """
    if isinstance(text, bool):
        raise ValueError(f"not a number: {text!r}")
    raw = (repr(text) if isinstance(text, float) else str(text)).strip().replace(",", "")
    if not _GOLD_NUMBER.fullmatch(raw):
        raise ValueError(f"not a number: {text!r} (accepted: e.g. '42', '-3.5', '1,000')")
    plain = format(Decimal(raw).normalize(), "f").lstrip("+")
    return "0" if plain == "-0" else plain


def normalize_gold(example: Example) -> str:
    """The example's gold answer in the form the parsers return.

    number: :func:`canonical_number` (``"1,000"`` -> ``"1000"``, ``"5.0"`` -> ``"5"``); choice: one upper-case letter (``"(b)"`` ->
    ``"B"``) within the example's choices; yes_no: ``"yes"``/``"no"``; text: stripped.
    A gold answer that does not fit its type raises ValueError naming the example.
    """
    raw = example.answer.strip()
    where = f"Example {example.task}/{example.id}: gold answer {example.answer!r}"
    kind = example.answer_type
    if kind == "number":
        try:
            return canonical_number(raw)
        except ValueError as error:
            raise ValueError(f"{where} is {error}") from None
    if kind == "choice":
        letter = raw.strip("()").upper()
        letters = string.ascii_uppercase[: _n_choices(example)]
        if len(letter) != 1 or letter not in letters:
            raise ValueError(f"{where} is not one of the choice letters {', '.join(letters)}")
        return letter
    if kind == "yes_no":
        value = raw.lower()
        if value not in ("yes", "no"):
            raise ValueError(f"{where}; accepted: 'yes' or 'no' (any case)")
        return value
    if kind == "text":
        return raw
    raise ValueError(f"{where}: answer_type {kind!r}; accepted: number, choice, yes_no, text")


def _numbers_equal(prediction: str, gold: str) -> bool:
    try:
        return abs(float(prediction.replace(",", "")) - float(gold)) <= NUMBER_TOLERANCE
    except ValueError:
        return False


_COMPARATORS: dict[str, Callable[[str, str], bool]] = {
    # REPRODUCTION NOTE: the official evaluator compares strings for gsm8k and multiarith (so "5.0"
    # is wrong against "5") and floats within 1e-6 for addsub/svamp/single_eq; fcot compares
    # numerically within 1e-6 for every number task.
    "number": _numbers_equal,
    "choice": lambda prediction, gold: prediction.strip().upper() == gold,
    "yes_no": lambda prediction, gold: prediction.strip().lower() == gold,
    "text": lambda prediction, gold: prediction == gold,
}


def is_correct(prediction: str | None, example: Example) -> bool:
    """Whether a parsed prediction equals the example's gold answer (None is never correct)."""
    if prediction is None:
        return False
    return _COMPARATORS[example.answer_type](prediction, normalize_gold(example))
