"""Rationale checkers: what a rationale reached, and where its steps go wrong, read per task kind.

What "the rationale reached" and "which step is wrong" mean is decided by a **checker** chosen
from the question (:func:`check_rationale`):

* ``coin_flip`` (coin-flip questions, real and ``synth_coin_flip``): every stated action
  ("X flips / does not flip") must match the question, every stated coin side must match the true
  side after the last person mentioned; the rationale's answer is its last stated side;
* ``last_letters`` (last-letter questions): every "the last letter of W is L" (also ``W ends
  with L``, ``W -> L``, "of the second word") must name a real word and its real last letter, and
  the concatenation (the last quoted string after the letters) must join them; its answer is that
  string (or the letters joined, when no string follows);
* ``shuffled_objects`` (BIG-bench tracking questions): every stated swap must be the next swap of
  the question, every "P has X" must match the true holdings after the swaps stated so far; its
  answer is the option of the target's last stated object;
* ``arithmetic`` (number questions): every equation ``a op b ... = r`` must compute (``r`` as
  written, rounded to its decimals), and for fcot's ``synth_arithmetic`` questions the i-th result
  must be the true value after the i-th operation; its answer is the rationale's last number;
* ``generic`` (everything else): no steps are checked; the rationale's answer is its last
  candidate under the answer type (last number, last ``(X)`` option, last yes/no word, last quoted
  string).

The checkers are the teacher-simulator's question readers (:func:`fcot.teachers.simulated.read_question`)
plus the rules here; they only *read* text and never guess: a rationale they cannot read has
``answer=None`` and no checked steps.
"""

from __future__ import annotations

import ast
import operator
import re
import string
from dataclasses import dataclass

from fcot import answers
from fcot.records import Example
from fcot.teachers.simulated import read_question

CHECKERS: tuple[str, ...] = ("coin_flip", "last_letters", "shuffled_objects", "arithmetic", "generic")

_CLAUSES = re.compile(r"(?<=[.!?])\s+|\n+|;\s*")


def _clauses(rationale: str) -> list[str]:
    """The rationale's clauses (split after a sentence's end, at line breaks and semicolons), empty ones left out."""
    return [clause for clause in _CLAUSES.split(rationale) if clause.strip()]
_QUOTED = re.compile(r'"([^"\n]*)"')
_OPTION = re.compile(r"\(([A-Z])\)")


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RationaleCheck:
    """What a checker read in one rationale.

    ``answer``: the answer the rationale reached, in the parsers' form (None: it reached none the
    checker could read). ``steps_checked``: intermediate steps compared with the truth.
    ``first_wrong_step``: 1-based position of the first wrong one among them (None: none wrong or
    none checked); ``detail`` says what it claimed and what is true.
    """

    checker: str
    answer: str | None
    steps_checked: int = 0
    first_wrong_step: int | None = None
    detail: str = ""


# ----------------------------------------------------------------------------------------------
# Generic answers
# ----------------------------------------------------------------------------------------------


def _n_choices(example: Example) -> int:
    return len(example.choices) if example.choices else 26


def generic_answer(rationale: str, example: Example) -> str | None:
    """The answer a rationale states last, by answer type (None when it states none).

    number: the last number (``"... so 4 + 3 = 7 apples."`` -> ``"7"``); choice: the last ``(X)``
    option within the example's letters; yes_no: the last ``yes``/``no`` word; text: the last
    double-quoted string, cleaned as the text parser cleans it.
    """
    kind = example.answer_type
    if kind == "number":
        found = answers.number_candidates(rationale)
    elif kind == "choice":
        letters = string.ascii_uppercase[: _n_choices(example)]
        found = [x for x in _OPTION.findall(rationale) if x in letters]
    elif kind == "yes_no":
        found = answers.yes_no_candidates(rationale)
    else:
        found = [c for q in _QUOTED.findall(rationale) for c in answers.text_candidates(q)]
    return found[-1] if found else None


# ----------------------------------------------------------------------------------------------
# Checkers
# ----------------------------------------------------------------------------------------------


def _name_pattern(name: str) -> re.Pattern:
    return re.compile(r"(?<![A-Za-z])" + re.escape(name) + r"(?![A-Za-z])")


_COIN_ACTION = r"\s+(does not flip|doesn't flip|did not flip|didn't flip|does not touch|leaves it|flips|flipped|flip)\b"
_COIN_SIDE = re.compile(r"(not (?:still )?|no longer |n't )?\b(heads|tails)(?: (up|down))?\b|(?::|Start:|End:)\s*([HT])\b")
# hypothetical or alternative sides are not claims: "if the coin was heads up, ...", "(heads up or tails up)"
_COIN_HYPOTHETICAL = re.compile(r"\bif (?:the coin|it) (?:was|is|were)\b|\b(?:heads|tails)(?: up)? or (?:heads|tails)\b", re.I)


def _check_coin_flip(rationale: str, problem, example: Example) -> RationaleCheck:
    """Sample rationale: ``Jeff does not flip the coin, so it remains heads up. Jen flips the
    coin, so it is now tails up. ...`` -- actions and sides checked one person at a time."""
    truth = [problem.start_heads]
    for _, flips in problem.actions:
        truth.append(truth[-1] ^ flips)
    names = [_name_pattern(name) for name, _ in problem.actions]
    current = 0  # sides stated now refer to the state after the `current`-th person
    steps = 0
    wrong: tuple[int, str] | None = None
    last_side: bool | None = None
    for clause in _clauses(rationale):
        mentioned = []
        for index, ((name, flips), pattern) in enumerate(zip(problem.actions, names)):
            for found in pattern.finditer(clause):
                mentioned.append((found.start(), index))
                action = re.match(_COIN_ACTION, clause[found.end() :])
                if action:
                    says_flip = not re.match(r"(?:does|did|do)(?: no|n')t|does not touch|leaves", action.group(1))
                    steps += 1
                    if says_flip != flips and wrong is None:
                        wrong = (steps, f"says {name} {'flips' if says_flip else 'does not flip'} the coin; the question says the opposite")
        if mentioned:
            current = max(index for _, index in mentioned) + 1
        side = None
        for negated, word, direction, short in ([] if _COIN_HYPOTHETICAL.search(clause) else _COIN_SIDE.findall(clause)):
            if negated:
                continue
            side = ((word == "heads") != (direction == "down")) if word else (short == "H")
        if side is not None:
            last_side = side
            steps += 1
            if side != truth[current] and wrong is None:
                who = "at the start" if current == 0 else f"after {problem.actions[current - 1][0]}"
                wrong = (steps, f"says the coin is {'heads' if side else 'tails'} up {who}; it is {'heads' if truth[current] else 'tails'} up")
    if last_side is not None:
        answer = "yes" if last_side == problem.asked_heads else "no"
    else:
        answer = generic_answer(rationale, example)
    return RationaleCheck("coin_flip", answer, steps, wrong[0] if wrong else None, wrong[1] if wrong else "")


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth")
_LETTER_CLAIM = r'"?\s*(?:is|ends with|ends in|->|:)\s*"?([A-Za-z])"?(?![A-Za-z])'
_ORDINAL_CLAIM = re.compile(r"(?:last letter of the )(" + "|".join(_ORDINALS) + r") word" + _LETTER_CLAIM, re.I)


_SPELLED = re.compile(r"[A-Za-z](?:[\s,+-]+[A-Za-z])+")


def _joined(quoted: str) -> str:
    """A quoted result as the text parser reads it; letters spelled out (``"n-e-h-h"``) are joined."""
    if _SPELLED.fullmatch(quoted.strip()):
        return re.sub(r"[^A-Za-z]", "", quoted)
    return answers.text_candidates(quoted)[0]


def _check_last_letters(rationale: str, problem, example: Example) -> RationaleCheck:
    """Sample rationale: ``The last letter of "Jeff" is "f". ... So the answer is "fnel".`` --
    each letter claim, then the concatenation."""
    words = list(problem.words)
    claims: list[tuple[int, int, str, str, str | None]] = []  # (start, end, word label, letter, true letter)
    for word in words:
        for found in re.finditer(r"(?<![A-Za-z])" + re.escape(word) + _LETTER_CLAIM, rationale):
            claims.append((found.start(), found.end(), word, found.group(1), word[-1]))
    for found in _ORDINAL_CLAIM.finditer(rationale):
        index = _ORDINALS.index(found.group(1).lower())
        truth = words[index][-1] if index < len(words) else None
        claims.append((found.start(), found.end(), f"the {found.group(1).lower()} word", found.group(2), truth))
    claims.sort()
    wrong: tuple[int, str] | None = None
    for number, (_, _, label, letter, truth) in enumerate(claims, start=1):
        if truth is None:
            wrong = (number, f"names a letter of {label}, but there are only {len(words)} words")
            break
        if letter != truth:
            wrong = (number, f'says the last letter of {label} is "{letter}"; it is "{truth}"')
            break
    tail = rationale[claims[-1][1] :] if claims else rationale
    finals = [_joined(q) for q in _QUOTED.findall(tail) if answers.text_candidates(q)]
    if finals:
        answer: str | None = finals[-1]
    elif claims:
        answer = "".join(c[3] for c in claims)
    else:
        answer = generic_answer(rationale, example)
    steps = len(claims)
    if finals:
        steps += 1
        joined = "".join(c[3] for c in claims)
        if wrong is None and claims and answer != joined:
            wrong = (steps, f'joins the letters {", ".join(c[3] for c in claims)} as "{answer}"')
        elif wrong is None and claims and answer != problem.answer():
            wrong = (steps, f'"{answer}" leaves out or repeats a word (the words are {", ".join(words)})')
    return RationaleCheck("last_letters", answer, steps, wrong[0] if wrong else None, wrong[1] if wrong else "")


_SWAP_WORD = re.compile(r"\b(?:swap|swaps|swapped|trade|trades|traded|switch|switches|switched|exchange|exchanges)\b|<->")


def _check_shuffled_objects(rationale: str, problem, example: Example) -> RationaleCheck:
    """Sample rationale: ``First, Alice and Bob swap, so now Alice has the blue ball and Bob has
    the red ball. ... At the end, Bob has the pink ball, which is option (C).``"""
    states = [dict(problem.holding)]
    for a, b in problem.swaps:
        state = dict(states[-1])
        state[a], state[b] = state[b], state[a]
        states.append(state)
    people = {person: _name_pattern(person) for person in problem.people}
    items = sorted(problem.choices, key=len, reverse=True)
    done = 0  # swaps stated so far
    steps = 0
    wrong: tuple[int, str] | None = None
    target_item: str | None = None
    for clause in _clauses(rationale):
        mentions = sorted((found.start(), found.end(), person) for person, pattern in people.items()
                          for found in pattern.finditer(clause))
        if _SWAP_WORD.search(clause) and len({m[2] for m in mentions}) >= 2:
            pair = []
            for _, _, person in mentions:
                if person not in pair:
                    pair.append(person)
                if len(pair) == 2:
                    break
            done += 1
            steps += 1
            if wrong is None:
                if done > len(problem.swaps):
                    wrong = (steps, f"states a swap {pair[0]}-{pair[1]} after the last of the {len(problem.swaps)} swaps")
                elif set(pair) != set(problem.swaps[done - 1]):
                    a, b = problem.swaps[done - 1]
                    wrong = (steps, f"swap {done} is {pair[0]}-{pair[1]} in the rationale; it is {a}-{b}")
        at = min(done, len(problem.swaps))
        for i, (_, end, person) in enumerate(mentions):
            limit = mentions[i + 1][0] if i + 1 < len(mentions) else len(clause)
            segment = clause[end:limit]
            best = None
            for item in items:
                position = segment.find(item)
                if position != -1 and (best is None or position < best[0]):
                    best = (position, item)
            if best is None:
                continue
            steps += 1
            if person == problem.target:
                target_item = best[1]
            if best[1] != states[at][person] and wrong is None:
                when = "at the start" if at == 0 else f"after swap {at}"
                wrong = (steps, f"says {person} has {best[1]} {when}; {person} has {states[at][person]}")
    if target_item is not None:
        answer: str | None = problem.letters[problem.choices.index(target_item)]
    else:
        answer = generic_answer(rationale, example)
    return RationaleCheck("shuffled_objects", answer, steps, wrong[0] if wrong else None, wrong[1] if wrong else "")


_TERM = r"\(?\s*\$?\d(?:[\d,]*\d)?(?:\.\d+)?\s*\)?"
_EXPRESSION = _TERM + r"(?:\s*[-+*/x×÷]\s*" + _TERM + r")*"
# an equation chain "a op b = c" or "a op b = c op d = e": expressions joined by "="
_CHAIN = re.compile(r"(?<![\w.])-?" + _EXPRESSION + r"(?:\s*=\s*-?" + _EXPRESSION + r")+")
_OPERATOR = re.compile(r"\d\s*\)?\s*[-+*/x×÷]\s*\(?\s*\$?\d")
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _evaluate(expression: str) -> float | None:
    """The value of an arithmetic expression of numbers and + - * / (None if it is not one)."""
    text = expression.replace("$", "").replace(",", "").replace("×", "*").replace("÷", "/")
    text = re.sub(r"(?<=[\d)\s])x(?=[\s\d(])", "*", text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return None

    def value(node) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        raise ValueError("not arithmetic")

    try:
        return value(tree.body)
    except (ValueError, ZeroDivisionError):
        return None


def _same_number(value: float, written: str) -> bool:
    """Whether ``written`` is ``value`` as written: exactly, or rounded to the written decimals."""
    text = re.sub(r"[$,()\s]", "", written)
    try:
        target = float(text)
    except ValueError:
        return False
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(value - target) <= 1e-6 or (decimals > 0 and round(value, decimals) == target)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _check_arithmetic(rationale: str, problem, example: Example) -> RationaleCheck:
    """Sample rationale: ``4 - 3 = 1 student remains. Then 1 + 42 = 43 students.`` -- each
    equation computed; for synth_arithmetic also each result against the true running value."""
    truth: list[float] | None = None
    if problem is not None and getattr(problem, "kind", None) == "arithmetic":
        truth, value = [], problem.start
        for op, k in problem.steps:
            value = {"+": value + k, "-": value - k, "*": value * k, "/": value / k}[op]
            truth.append(value)
    steps = 0
    wrong: tuple[int, str] | None = None
    results = []
    for found in _CHAIN.finditer(rationale):
        parts = [part.strip() for part in found.group(0).split("=")]
        values = [_evaluate(part) for part in parts]
        if any(v is None for v in values):
            continue
        for left, right, left_value, right_value in zip(parts, parts[1:], values, values[1:]):
            if not (_OPERATOR.search(left) or _OPERATOR.search(right)):
                continue  # "5 = 5": nothing computed
            steps += 1
            if wrong is None:
                written = right if not _OPERATOR.search(right) else None
                same = _same_number(left_value, written) if written else abs(left_value - right_value) <= 1e-6
                if not same:
                    wrong = (steps, f"{left} = {right}, but {left} is {_fmt(left_value)}")
        result = parts[-1].replace("$", "")
        results.append(result)
        if wrong is None and truth is not None and len(results) <= len(truth) and not _OPERATOR.search(result) \
                and not _same_number(truth[len(results) - 1], result):
            wrong = (steps, f"result {len(results)} is {result}; the true value after operation {len(results)} is "
                            f"{_fmt(truth[len(results) - 1])}")
    if truth is not None and not results:  # equation-free style: "7 more: 19."
        for number, found in enumerate(re.findall(r":\s*(-?\d+(?:\.\d+)?)\.", rationale), start=1):
            steps += 1
            if wrong is None and number <= len(truth) and not _same_number(truth[number - 1], found):
                wrong = (steps, f"step {number} gives {found}; the true value is {_fmt(truth[number - 1])}")
    answer = generic_answer(rationale, example)
    return RationaleCheck("arithmetic", answer, steps, wrong[0] if wrong else None, wrong[1] if wrong else "")


def _problem(question: str):
    return read_question(question)


def check_rationale(rationale: str, example: Example) -> RationaleCheck:
    """Read one rationale for ``example`` with the checker its question calls for (module docstring)."""
    problem = _problem(example.question)
    kind = getattr(problem, "kind", None)
    if kind == "coin_flip" and example.answer_type == "yes_no":
        return _check_coin_flip(rationale, problem, example)
    if kind == "last_letters" and example.answer_type == "text":
        return _check_last_letters(rationale, problem, example)
    if kind == "shuffled_objects" and example.answer_type == "choice":
        return _check_shuffled_objects(rationale, problem, example)
    if example.answer_type == "number":
        return _check_arithmetic(rationale, problem, example)
    return RationaleCheck("generic", generic_answer(rationale, example))
