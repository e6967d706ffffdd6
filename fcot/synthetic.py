"""Synthetic tasks: seeded generators of examples of any size and difficulty.

Four task families, each written in the exact text format of the dataset it imitates, so the same
prompts, answer parsers and teachers work on them unchanged:

==========================  ===========  ==================================  ====================
task                        answer_type  difficulty (default = the original)  accepted difficulty
==========================  ===========  ==================================  ====================
``synth_coin_flip``         yes_no       people who act on the coin (4)      1 .. 40
``synth_last_letter``       text         words to concatenate (4)            1 .. 40
``synth_shuffled_objects``  choice       people/objects and swaps (3)        2 .. 12
``synth_arithmetic``        number       arithmetic operations (2)           1 .. 4
==========================  ===========  ==================================  ====================

* coin flip and last letters follow Kojima et al.'s ``coin_flip.json`` / ``last_letters.json``
  sentences word for word (``A coin is heads up. X flips the coin. ...``; ``Take the last letters
  of each words in "..." and concatenate them.``);
* shuffled objects follow the five BIG-bench ``tracking_shuffled_objects`` scenarios (ball game,
  gift exchange, soccer positions, books, square dance) with N people, N objects and N swaps, and
  the official multiple-choice verbalization: ``<input>\\nWhich choice is true? Answer choices:
  (A) x, (B) y, (C) z.`` -- the choices are the N objects in their starting order;
* arithmetic is fcot's own family of integer word problems (no original): a starting amount,
  then 1-4 operations (``+ - *`` and exact division) in varied sentences about people, shops and
  containers, then a question; every intermediate result is a positive integer.

Names, colors, books, positions and items come from ``fcot/resources/*.txt`` (written for fcot).
Each example is generated from its own random stream (task, difficulty, seed, index), so the first
``n`` examples of a longer run are the same examples, and different seeds give different ones.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable, Iterable, Sequence

from fcot.records import Example

__all__ = [
    "SYNTHETIC_TASKS",
    "DIFFICULTY_RANGES",
    "DEFAULT_DIFFICULTY",
    "ANSWER_TYPES",
    "generate_examples",
    "synthetic_split",
    "resource_lines",
]

SYNTHETIC_TASKS: tuple[str, ...] = ("synth_coin_flip", "synth_last_letter", "synth_shuffled_objects", "synth_arithmetic")
DIFFICULTY_RANGES: dict[str, tuple[int, int]] = {
    "synth_coin_flip": (1, 40),
    "synth_last_letter": (1, 40),
    "synth_shuffled_objects": (2, 12),
    "synth_arithmetic": (1, 4),
}
DEFAULT_DIFFICULTY: dict[str, int] = {
    "synth_coin_flip": 4,
    "synth_last_letter": 4,
    "synth_shuffled_objects": 3,
    "synth_arithmetic": 2,
}
ANSWER_TYPES: dict[str, str] = {
    "synth_coin_flip": "yes_no",
    "synth_last_letter": "text",
    "synth_shuffled_objects": "choice",
    "synth_arithmetic": "number",
}
DIFFICULTY_MEANING: dict[str, str] = {
    "synth_coin_flip": "number of people",
    "synth_last_letter": "number of words",
    "synth_shuffled_objects": "number of people, objects and swaps",
    "synth_arithmetic": "number of operations",
}


# -- resources --------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def resource_lines(name: str) -> tuple[str, ...]:
    """The non-empty, non-comment lines of ``fcot/resources/<name>.txt``."""
    path = resources.files("fcot").joinpath("resources", f"{name}.txt")
    if not path.is_file():
        raise FileNotFoundError(f"fcot/resources/{name}.txt: no such resource file")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return tuple(line for line in lines if line and not line.startswith("#"))


def _names() -> tuple[str, ...]:
    return resource_lines("first_names")


# -- arguments ----------------------------------------------------------------------------------
def _check_task(task: str) -> None:
    if task not in SYNTHETIC_TASKS:
        raise ValueError(f"unknown synthetic task {task!r}; accepted: {', '.join(SYNTHETIC_TASKS)}")


def _check_int(name: str, value, low: int | None = None, high: int | None = None, task: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        where = f" for {task} ({DIFFICULTY_MEANING[task]})" if task else ""
        accepted = f"{low} .. {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} {value} is out of range{where}; accepted: {accepted}")
    return value


def _difficulty(task: str, difficulty: int | None) -> int:
    if difficulty is None:
        return DEFAULT_DIFFICULTY[task]
    low, high = DIFFICULTY_RANGES[task]
    return _check_int("difficulty", difficulty, low, high, task)


def _stream(task: str, difficulty: int, seed: int, index: int) -> random.Random:
    key = f"fcot.synthetic|{task}|d{difficulty}|s{seed}|{index}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


# -- coin flip --------------------------------------------------------------------------------------
def _coin_flip(rng: random.Random, n: int) -> tuple[str, str, None]:
    people = rng.sample(_names(), n)
    flips = [rng.random() < 0.5 for _ in people]
    acts = " ".join(f"{p} flips the coin." if f else f"{p} does not flip the coin." for p, f in zip(people, flips))
    question = f'A coin is heads up. {acts} Is the coin still heads up? Note that "flip" here means "reverse".'
    return question, "yes" if sum(flips) % 2 == 0 else "no", None


# -- last letters ---------------------------------------------------------------------------------
def _last_letter(rng: random.Random, n: int) -> tuple[str, str, None]:
    words = rng.sample(_names(), n)
    question = f'Take the last letters of each words in "{" ".join(words)}" and concatenate them.'
    return question, "".join(w[-1] for w in words), None


# -- tracking shuffled objects ----------------------------------------------------------------------
def _listed(parts: Sequence[str]) -> str:
    """``a``; ``a and b``; ``a, b, and c`` (the BIG-bench lists use the serial comma)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return f"{parts[0]} and {parts[1]}"
    return ", ".join(parts[:-1]) + f", and {parts[-1]}"


@dataclass(frozen=True)
class _Scenario:
    """One BIG-bench tracking scenario: its sentences with {people}, {holdings}, {swaps}, {target}."""

    intro: str  # "{people} are playing a game."
    start: str  # "At the start of the game, they are each holding a ball:"
    holding: str  # "{p} has a {x} ball"
    middle: str  # "As the game progresses, pairs of players trade balls."
    swap: str  # "{a} and {b} swap balls."
    ending: str  # "At the end of the game, {t} has the "
    choice: str  # "{x} ball": the option text
    objects: Callable[[random.Random, int, Sequence[str]], list[str]]
    capacity: Callable[[], int]


def _colors(rng, n, people):
    return rng.sample(resource_lines("colors"), n)


def _from(name: str):
    return lambda rng, n, people: rng.sample(resource_lines(name), n)


def _partners(rng, n, people):
    return rng.sample([x for x in _names() if x not in people], n)


_SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario(
        "{people} are playing a game.", "At the start of the game, they are each holding a ball:",
        "{p} has a {x} ball", "As the game progresses, pairs of players trade balls.", "{a} and {b} swap balls.",
        "At the end of the game, {t} has the ", "{x} ball", _colors, lambda: len(resource_lines("colors")),
    ),
    _Scenario(
        "{people} are holding a white elephant gift exchange.",
        "At the start of the event, they are each holding a present of a different color:",
        "{p} has a {x} present", "As the event progresses, pairs of people swap gifts.",
        "{a} and {b} swap their gifts.", "At the end of the event, {t} has the ", "{x} present",
        _colors, lambda: len(resource_lines("colors")),
    ),
    _Scenario(
        "{people} are on the same team in a soccer match.",
        "At the start of the match, they are each assigned to a position:", "{p} is playing {x}",
        "As the game progresses, pairs of players occasionally swap positions.", "{a} and {b} trade positions.",
        "At the end of the match, {t} is playing ", "{x}", _from("positions"), lambda: len(resource_lines("positions")),
    ),
    _Scenario(
        "{people} are friends and avid readers who occasionally trade books.",
        "At the start of the semester, they each buy one new book:", "{p} gets {x}",
        "As the semester proceeds, they start trading around the new books.", "{a} and {b} swap books.",
        "At the end of the semester, {t} has  ", "{x}", _from("books"), lambda: len(resource_lines("books")),
    ),
    _Scenario(
        "{people} are dancers at a square dance.", "At the start of a song, they each have a partner:",
        "{p} is dancing with {x}", "Throughout the song, the dancers often trade partners.",
        "{a} and {b} switch partners.", "At the end of the dance, {t} is dancing with  ", "{x}",
        _partners, lambda: len(_names()) // 2,
    ),
)


def _swap_words(n: int) -> list[str]:
    """``First,`` / ``Then,`` ... / ``Finally,`` for n swaps, as the BIG-bench inputs order them."""
    if n == 1:
        return ["First,"]
    return ["First,"] + ["Then,"] * (n - 2) + ["Finally,"]


# REPRODUCTION NOTE: synthetic shuffled-objects questions use BIG-bench's five scenarios word for
# word but random people (fcot's name list, not Alice/Bob/Claire/...), fcot's own colors, books and
# positions, any N from 2 to 12 (BIG-bench has 3, 5 and 7), and uniformly random swap pairs.
def _shuffled_objects(rng: random.Random, n: int) -> tuple[str, str, tuple[str, ...]]:
    scenario = rng.choice([s for s in _SCENARIOS if s.capacity() >= n])
    people = rng.sample(_names(), n)
    objects = scenario.objects(rng, n, people)
    holder = dict(zip(people, objects))
    swaps = []
    for _ in range(n):
        a, b = rng.sample(people, 2)
        swaps.append((a, b))
        holder[a], holder[b] = holder[b], holder[a]
    target = rng.choice(people)
    holdings = _listed([scenario.holding.format(p=p, x=x) for p, x in zip(people, objects)])
    swap_text = " ".join(f"{w} {scenario.swap.format(a=a, b=b)}" for w, (a, b) in zip(_swap_words(n), swaps))
    # BIG-bench inputs end with the target's blank and a trailing space ("... Alice has the "); fcot's
    # tracking_shuffled_objects keeps that space before "\nWhich choice is true?", as the official
    # processed dataset does, and so do these questions.
    text = (
        f"{scenario.intro.format(people=_listed(people))} {scenario.start} {holdings}. \n\n"
        f"{scenario.middle} {swap_text} {scenario.ending.format(t=target)}"
    )
    choices = tuple(scenario.choice.format(x=x) for x in objects)
    listed = ", ".join(f"({chr(ord('A') + i)}) {c}" for i, c in enumerate(choices))
    question = f"{text}\nWhich choice is true? Answer choices: {listed}."
    return question, chr(ord("A") + objects.index(holder[target])), choices


# -- arithmetic ---------------------------------------------------------------------------------------
# REPRODUCTION NOTE: synth_arithmetic is fcot's own family (no dataset of the paper has it): simpler
# and more regular than MultiArith/GSM8K, one number per sentence, answers are positive integers.
# Each frame: who or what holds the items, the opening sentence, the question, and the sentences of
# each operation ({s} subject, {o} another person, {i} items, {k} the operand, {c} the container).
_FRAMES = (
    {
        "kind": "person",
        "start": ("{s} has {a} {i}.", "{s} collected {a} {i}.", "{s} started the week with {a} {i}."),
        "question": ("How many {i} does {s} have now?", "How many {i} does {s} have in the end?"),
        "+": ("{s} buys {k} more {i}.", "Then {o} gives {s} {k} more {i}.", "Later, {s} finds {k} more {i}."),
        "-": ("{s} gives {k} {i} to {o}.", "Then {s} loses {k} {i}.", "{s} uses {k} of the {i} for a school project."),
        "*": ("Then {s} ends up with {k} times as many {i} as before.",
              "After a lucky trade, {s} has {k} times as many {i} as before."),
        "/": ("{s} splits the {i} into {k} equal piles and keeps only one pile.",
              "Then {s} shares the {i} in {k} equal parts and keeps one part."),
    },
    {
        "kind": "shop",
        "start": ("A {c} has {a} {i} in stock.", "In the morning, a {c} has {a} {i}."),
        "question": ("How many {i} does the {c} have now?", "How many {i} does the {c} have at the end of the day?"),
        "+": ("The {c} orders {k} more {i}.", "Then a delivery brings {k} more {i}."),
        "-": ("The {c} sells {k} {i}.", "Then {k} {i} are sold to {o}."),
        "*": ("Then the stock grows to {k} times as many {i} as before.",
              "After a big delivery, the {c} has {k} times as many {i} as before."),
        "/": ("The {c} packs the {i} into {k} equal boxes and keeps only one box on the shelf.",
              "Then the {c} sends the {i} to {k} branches in equal parts and keeps one part."),
    },
    {
        "kind": "container",
        "start": ("There are {a} {i} in a {c}.", "A {c} holds {a} {i}."),
        "question": ("How many {i} are in the {c} now?", "How many {i} are in the {c} at the end?"),
        "+": ("{o} puts {k} more {i} into the {c}.", "Then {o} adds {k} more {i}."),
        "-": ("{o} takes {k} {i} out of the {c}.", "Then {o} removes {k} {i} from the {c}."),
        "*": ("Then the number of {i} in the {c} becomes {k} times as large.",
              "{o} refills the {c} until it has {k} times as many {i} as before."),
        "/": ("{o} divides the {i} into {k} equal groups and leaves only one group in the {c}.",
              "Then {o} splits the {i} into {k} equal parts and leaves one part in the {c}."),
    },
)
_SHOPS = ("corner shop", "toy store", "bakery", "market stall", "gift shop", "school store", "craft store")
_CONTAINERS = ("box", "jar", "basket", "bag", "crate", "drawer", "bucket", "bin")


def _operations(rng: random.Random, n: int) -> tuple[int, list[tuple[str, int]]]:
    """A start value and n operations whose intermediate results are positive integers (<= 2000)."""
    while True:
        value = start = rng.randint(6, 96)
        steps: list[tuple[str, int]] = []
        for _ in range(n):
            options = ["+", "-", "*", "/"]
            rng.shuffle(options)
            for op in options:
                if op == "+":
                    k = rng.randint(2, 40)
                elif op == "-" and value > 2:
                    k = rng.randint(1, value - 1)
                elif op == "*" and value * 2 <= 2000:
                    k = rng.randint(2, min(5, 2000 // value))
                elif op == "/":
                    divisors = [d for d in range(2, 7) if value % d == 0]
                    if not divisors:
                        continue
                    k = rng.choice(divisors)
                else:
                    continue
                break
            steps.append((op, k))
            value = {"+": value + k, "-": value - k, "*": value * k, "/": value // k}[op]
        if len({op for op, _ in steps}) >= min(2, n):  # at least two kinds of operation when n >= 2
            return start, steps


def _arithmetic(rng: random.Random, n: int) -> tuple[str, str, None]:
    start, steps = _operations(rng, n)
    frame = rng.choice(_FRAMES)
    subject, other = rng.sample(_names(), 2)
    container = rng.choice(_SHOPS if frame["kind"] == "shop" else _CONTAINERS)
    items = rng.choice(resource_lines("items"))
    fill = dict(s=subject, o=other, i=items, c=container)
    sentences = [rng.choice(frame["start"]).format(a=start, **fill)]
    value = start
    for op, k in steps:
        sentences.append(rng.choice(frame[op]).format(k=k, **fill))
        value = {"+": value + k, "-": value - k, "*": value * k, "/": value // k}[op]
    sentences.append(rng.choice(frame["question"]).format(**fill))
    return " ".join(sentences), str(value), None


_GENERATORS = {
    "synth_coin_flip": _coin_flip,
    "synth_last_letter": _last_letter,
    "synth_shuffled_objects": _shuffled_objects,
    "synth_arithmetic": _arithmetic,
}


# -- public API -----------------------------------------------------------------------------------
def _example(task: str, difficulty: int, seed: int, index: int) -> Example:
    question, answer, choices = _GENERATORS[task](_stream(task, difficulty, seed, index), difficulty)
    return Example(
        task=task,
        id=f"{task}-d{difficulty}-s{seed}-{index}",
        question=question,
        answer=answer,
        answer_type=ANSWER_TYPES[task],  # type: ignore[arg-type]
        choices=choices,
        index=index,
    )


def generate_examples(task: str, n: int, difficulty: int | None = None, seed: int = 0) -> list[Example]:
    """``n`` examples of a synthetic ``task`` (see the module table for difficulty ranges).

    ``difficulty=None`` takes the original dataset's setting (4 people, 4 words, 3 objects, 2
    operations). Ids are ``f"{task}-d{difficulty}-s{seed}-{i}"``. Deterministic: the same arguments
    give the same examples; example ``i`` does not depend on ``n``. Questions may repeat at low
    difficulty (there are few distinct ones); :func:`synthetic_split` removes repeats.
    """
    _check_task(task)
    _check_int("n", n, 0)
    _check_int("seed", seed)
    level = _difficulty(task, difficulty)
    return [_example(task, level, seed, i) for i in range(n)]


def distinct_examples(task: str, count: int, difficulty: int | None = None, seed: int = 0,
                      exclude: Iterable[str] = ()) -> list[Example]:
    """The first ``count`` examples of the ``seed`` stream (:func:`generate_examples`' order) whose questions are
    distinct and not in ``exclude``. Raises ValueError if the task at this difficulty has too few such questions."""
    _check_task(task)
    level = _difficulty(task, difficulty)
    seen = set(exclude)
    new = "new " if seen else ""  # distinct from the excluded ones too
    drawn: list[Example] = []
    index = 0
    limit = 20 * count + 1000
    while len(drawn) < count:
        if index >= limit:
            raise ValueError(
                f"{task} at difficulty {level} ({DIFFICULTY_MEANING[task]}): found only {len(drawn)} distinct "
                f"{new}questions in {limit} draws, {count} asked; ask for fewer examples or raise "
                f"the difficulty"
            )
        example = _example(task, level, seed, index)
        index += 1
        if example.question not in seen:
            seen.add(example.question)
            drawn.append(example)
    return drawn


def synthetic_split(
    task: str, n_train: int, n_val: int, n_test: int, difficulty: int | None = None, seed: int = 0
) -> tuple[list[Example], list[Example], list[Example]]:
    """(train, validation, test) examples of a synthetic task; no question occurs twice across them.

    Examples are drawn in order from the ``seed`` stream; a question already drawn is skipped. Raises
    ValueError if the task at this difficulty has too few distinct questions for the sizes asked.
    """
    _check_task(task)
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        _check_int(name, value, 0)
    _check_int("seed", seed)
    drawn = distinct_examples(task, n_train + n_val + n_test, difficulty, seed)
    return drawn[:n_train], drawn[n_train : n_train + n_val], drawn[n_train + n_val :]
