"""The simulated teacher: an OFFLINE, RULE-BASED STAND-IN for a large teacher LM (not an LM).

:class:`SimulatedTeacher` implements :class:`fcot.teachers.base.Backend` so that the whole
Fine-tune-CoT pipeline (teacher -> filter -> curate -> fine-tune -> evaluate) runs offline, in
seconds, with a teacher whose accuracy is a known knob. It is a simulator written by hand: it
never learned anything and must never be reported as a language model's result.

It reads the prompt text as an LM would:

* a stage-1 Zero-shot-CoT prompt (``Q: {question}\\nA: Let's think step by step.``) -> it finds
  the question (:func:`fcot.prompts.question_from_prompt`), recognises its kind -- coin flip,
  last-letter concatenation, tracking shuffled objects (the real datasets' questions and
  :mod:`fcot.synthetic`'s, which share their format) and fcot's synthetic arithmetic family --
  solves it by rule and writes a step-by-step rationale (starting with a space, as after
  "step."). A Few-shot-CoT prompt (ending in ``A:``) gets the same rationale ending in
  ``The answer is X.``;
* a stage-2 prompt (stage 1 + rationale + ``\\nTherefore, the answer is``) -> it reads the
  rationale it is continuing and writes the answer *that rationale* concluded (`` yes.``,
  `` (B).`` / `` B.``, `` 42.``, `` "yajo".``), so a wrong step carries through to a wrong
  final answer. A rationale without a conclusion (e.g. cut at ``max_tokens``) is read for its
  last stated intermediate state (coin side, letters so far, the target's object, last result).
* A question it cannot read gets an "I am not sure" rationale with a best literal reading: the
  first option when answer choices are listed, "no" for a question starting with an auxiliary
  verb (Is/Does/Can/...), else the last number in the question, else no guess; stage 2 repeats
  that guess, or writes `` not clear from the reasoning above.`` when there is none.

Knobs (:class:`SimulatedTeacherConfig`): ``accuracy`` -- the chance that a rationale is correct;
a wrong one has exactly one realistic wrong step whose consequence carries through (a misread
coin flip, a wrong or skipped letter, a mis-tracked swap, an arithmetic slip), chosen so the
final answer really is wrong, so over many questions the share of correct answers is
``accuracy``. ``n_styles`` -- how many phrasing styles rationales use (1..4). ``seed`` -- the
teacher's seed. Temperature: ``0`` gives the canonical phrasing (style 0) and a deterministic
mistake decision per question (a hash of question and teacher seed); ``> 0`` samples style,
wording and mistakes from the request's ``seed`` (different seeds give distinct rationales; a
request without a seed draws one from the teacher's own seeded stream). The mistake rate does not
depend on the temperature.

Tokens are approximated as whitespace-separated words (prompt and completion counts, and the
``max_tokens`` cut, after which ``finish_reason`` is ``"length"``; otherwise ``"stop"``).
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from fcot.prompts import COT_TRIGGER, question_from_prompt
from fcot.teachers.base import GenerationRequest, GenerationResult

__all__ = [
    "SimulatedTeacher",
    "SimulatedTeacherConfig",
    "DEFAULT_ACCURACY",
    "FALLBACK_ACCURACY",
    "MAX_STYLES",
    "KINDS",
    "read_question",
    "count_tokens",
]

MAX_STYLES = 4
FALLBACK_ACCURACY = 0.7
# REPRODUCTION NOTE: the paper's teacher is text-davinci-002 (an LM, via the OpenAI API); this
# simulator replaces it offline. Its default accuracies are Kojima et al.'s Zero-shot-CoT numbers
# on whole datasets, not the paper's teacher accuracy on the train split, and its rationales are
# hand-written templates (4 styles), far less varied than an LM's.
# Zero-shot-CoT accuracy of text-davinci-002 reported by Kojima et al. (2022, Table 1); the
# recorded logs in the data mirror end with the same numbers (coin_flip 91.4, last_letters 57.6,
# multiarith 78.7). The synthetic tasks take the numbers of the dataset they imitate.
DEFAULT_ACCURACY: dict[str, float] = {
    "coin_flip": 0.914,
    "last_letter_concatenation": 0.576,
    "tracking_shuffled_objects": 0.524,
    "multiarith": 0.787,
    "synth_coin_flip": 0.914,
    "synth_last_letter": 0.576,
    "synth_shuffled_objects": 0.524,
    "synth_arithmetic": 0.787,
}
KINDS = ("coin_flip", "last_letters", "shuffled_objects", "arithmetic")
NO_ANSWER = " not clear from the reasoning above."


@dataclass(frozen=True)
class SimulatedTeacherConfig:
    """``accuracy`` in [0, 1]; ``n_styles`` in 1..MAX_STYLES; ``seed`` an integer."""

    accuracy: float = FALLBACK_ACCURACY
    n_styles: int = MAX_STYLES
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.accuracy, bool) or not isinstance(self.accuracy, (int, float)) or not 0.0 <= self.accuracy <= 1.0:
            raise ValueError(f"accuracy must be a number in [0, 1] (share of correct rationales), got {self.accuracy!r}")
        if isinstance(self.n_styles, bool) or not isinstance(self.n_styles, int) or not 1 <= self.n_styles <= MAX_STYLES:
            raise ValueError(f"n_styles must be an integer in 1..{MAX_STYLES} (phrasing styles), got {self.n_styles!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")


# REPRODUCTION NOTE: token counts (and the max_tokens cut) are whitespace words, not GPT-3 BPE tokens
# (roughly 1.3 tokens per English word), so a max_tokens=128 cut falls later than the paper's.
def count_tokens(text: str) -> int:
    """Tokens approximated as whitespace-separated words (the simulator has no tokenizer)."""
    return len(text.split())


def _hash_int(*parts) -> int:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def _unit(*parts) -> float:
    return _hash_int(*parts) / 2**64


def _fmt(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _listed(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    if len(parts) == 2:
        return f"{parts[0]} and {parts[1]}"
    return ", ".join(parts[:-1]) + f", and {parts[-1]}"


class _Words:
    """Wording choices: the first option at temperature 0, a sampled one otherwise."""

    def __init__(self, rng: random.Random | None):
        self.rng = rng

    def __call__(self, *options: str) -> str:
        return options[0] if self.rng is None else self.rng.choice(options)


# ------------------------------------------------------------------------------------------------
# Question kinds: parse, solve (with at most one mistake), render in a style, read back a state
# ------------------------------------------------------------------------------------------------
_COIN = re.compile(
    r"^A coin is (?P<start>heads|tails) up\.\s+(?P<acts>.*?)\s*Is the coin still (?P<asked>heads|tails) up\?", re.S
)
_COIN_ACT = re.compile(r"\s*(?P<name>[^.]+?) (?P<verb>flips|does not flip) the coin\.")
_COIN_STATE = re.compile(r"(not (?:still )?|no longer )?\b(heads|tails)(?: up)?\b|: ([HT])\b")


@dataclass
class _CoinFlip:
    """Sample: ``A coin is heads up. Ann flips the coin. Bo does not flip the coin. Is the coin
    still heads up? Note that "flip" here means "reverse".`` -> answer ``no``."""

    kind = "coin_flip"
    start_heads: bool
    asked_heads: bool
    actions: list[tuple[str, bool]]

    @classmethod
    def parse(cls, question: str):
        match = _COIN.match(question.strip())
        if not match:
            return None
        acts, position = [], 0
        text = match.group("acts")
        while position < len(text):
            act = _COIN_ACT.match(text, position)
            if not act:
                return None
            acts.append((act.group("name").strip(), act.group("verb") == "flips"))
            position = act.end()
        if not acts:
            return None
        return cls(match.group("start") == "heads", match.group("asked") == "heads", acts)

    def _answer(self, flips: Sequence[bool]) -> str:
        heads = self.start_heads ^ (sum(flips) % 2 == 1)
        return "yes" if heads == self.asked_heads else "no"

    def answer(self) -> str:
        return self._answer([f for _, f in self.actions])

    def solve(self, mistake: random.Random | None) -> list[bool]:
        """The flips as read: a mistake misreads one person's action."""
        read = [f for _, f in self.actions]
        if mistake is not None:
            j = mistake.randrange(len(read))
            read[j] = not read[j]
        return read

    def render(self, read: list[bool], style: int, w: _Words) -> tuple[str, str]:
        side = lambda heads: "heads up" if heads else "tails up"  # noqa: E731
        answer = self._answer(read)
        asked = side(self.asked_heads)
        heads = self.start_heads
        lines: list[str] = []
        if style == 0:
            lines.append(f"The coin starts {side(heads)}.")
            for (name, _), flip in zip(self.actions, read):
                if flip:
                    heads = not heads
                    lines.append(f"{name} flips the coin, {w('so it is now', 'so now it is', 'which makes it')} {side(heads)}.")
                else:
                    lines.append(f"{name} does not flip the coin, {w('so it is still', 'so it stays', 'so it remains')} {side(heads)}.")
            verdict = f"still {asked}" if answer == "yes" else f"not {asked} anymore"
            lines.append(f"The coin ends {side(heads)}, so it is {verdict}.")
            return "\n".join(lines), answer
        if style == 1:
            flippers = [name for (name, _), flip in zip(self.actions, read) if flip]
            others = [name for (name, _), flip in zip(self.actions, read) if not flip]
            lines.append(w("Let's count how many times the coin is flipped.", "We only need to count the flips."))
            for i, name in enumerate(flippers, start=1):
                lines.append(f"{name} flips it ({i} flip{'s' if i > 1 else ''} so far).")
            if others:
                lines.append(f"{_listed(others)} {'does' if len(others) == 1 else 'do'} not flip it.")
            n = len(flippers)
            parity = "even" if n % 2 == 0 else "odd"
            effect = "leaves the coin as it started" if n % 2 == 0 else "turns the coin over"
            final = side(self.start_heads ^ (n % 2 == 1))
            lines.append(f"The coin is flipped {n} time{'s' if n != 1 else ''}, an {parity} number, which {effect}, so it ends {final}.")
            return "\n".join(lines), answer
        if style == 2:
            parts = [f"The coin is {side(heads)} at first."]
            for (name, _), flip in zip(self.actions, read):
                if flip:
                    heads = not heads
                    parts.append(f"After {name} flips it, the coin is {side(heads)}.")
                else:
                    parts.append(f"{name} {w('leaves it alone', 'does not touch it')}, so it stays {side(heads)}.")
            parts.append(f"In the end the coin is {side(heads)}.")
            return " ".join(parts), answer
        letter = lambda heads: "H" if heads else "T"  # noqa: E731
        lines.append(f"Write H for heads up and T for tails up. Start: {letter(heads)}.")
        for i, ((name, _), flip) in enumerate(zip(self.actions, read), start=1):
            if flip:
                heads = not heads
            lines.append(f"{i}. {name} {'flips' if flip else 'does not flip'}: {letter(heads)}")
        lines.append(f"End: {letter(heads)}, so the coin is {side(heads)}.")
        return "\n".join(lines), answer

    def read_state(self, rationale: str) -> str | None:
        last = None
        for negated, word, short in _COIN_STATE.findall(rationale):
            if negated:
                continue
            last = (word == "heads") if word else (short == "H")
        if last is None:
            return None
        return "yes" if last == self.asked_heads else "no"


_LETTERS = re.compile(r'^Take the last letters? of (?:each|the|all the) words? in "(?P<words>[^"]+)" and concatenate them\.?$')


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def _compound_names() -> frozenset[str]:
    from fcot.synthetic import resource_lines

    return frozenset(_fold(line) for line in resource_lines("compound_given_names"))


# REPRODUCTION NOTE: Kojima's last-letter questions join four names with spaces, and 15 of the 500
# names have two parts ("Jose Antonio"); the gold answers take ONE letter per name. The simulator
# knows common compound given names (resources/compound_given_names.txt) and a name + initial
# ("Jose A") and reads each as one word, so at accuracy 1 it matches every gold answer; a real LM
# reading "each words" literally would take one letter per word there.
def _group_names(words: list[str]) -> list[str]:
    """Words, with two-word given names (``Jose Antonio``) and a name + initial (``Jose A``) as one."""
    compounds = _compound_names()
    out: list[str] = []
    i = 0
    while i < len(words):
        if i + 1 < len(words):
            pair = f"{words[i]} {words[i + 1]}"
            initial = len(words[i + 1]) == 1 and words[i + 1].isupper() and len(words[i]) > 1
            if _fold(pair) in compounds or initial:
                out.append(pair)
                i += 2
                continue
        out.append(words[i])
        i += 1
    return out


@dataclass
class _LastLetters:
    """Sample: ``Take the last letters of each words in "Ann Bo Cy Di" and concatenate them.``
    -> answer ``noyi``. Two-word given names (``Jose Antonio``) count as one word, as in the data."""

    kind = "last_letters"
    words: list[str]

    @classmethod
    def parse(cls, question: str):
        match = _LETTERS.match(question.strip())
        if not match:
            return None
        words = _group_names(match.group("words").split())
        return cls(words) if words else None

    def answer(self) -> str:
        return "".join(word[-1] for word in self.words)

    def solve(self, mistake: random.Random | None) -> list[str | None]:
        """The letter read per word (None: the word was skipped); a mistake spoils one word."""
        read: list[str | None] = [word[-1] for word in self.words]
        if mistake is not None:
            j = mistake.randrange(len(self.words))
            word = self.words[j]
            options: list[str | None] = [None]  # skipping a word always changes the result
            for candidate in (word[-2] if len(word) > 1 and word[-2] != " " else None, word[0]):
                if candidate is not None and candidate != word[-1] and candidate not in options:
                    options.append(candidate)
            read[j] = mistake.choice(options)
        return read

    def render(self, read: list[str | None], style: int, w: _Words) -> tuple[str, str]:
        pairs = [(word, letter) for word, letter in zip(self.words, read) if letter is not None]
        result = "".join(letter for _, letter in pairs)
        if style == 0:
            lines = [f'The last letter of "{word}" is "{letter}".' for word, letter in pairs]
            lines.append(f'{w("Putting them together gives", "Concatenating them gives", "Together they make")} "{result}".')
            return "\n".join(lines), f'"{result}"'
        if style == 1:
            lines = [f"The words are {_listed(self.words)}."]
            lines.append(_listed([f'{word} ends with "{letter}"' for word, letter in pairs]) + ".")
            lines.append(f'{w("Concatenating the letters gives", "Joining the letters gives")} "{result}".')
            return "\n".join(lines), f'"{result}"'
        if style == 2:
            lines = [w("Start with an empty string.", "We build the answer one letter at a time.")]
            built = ""
            for word, letter in pairs:
                built += letter
                lines.append(f'"{word}" ends in "{letter}", so we have "{built}".')
            return "\n".join(lines), f'"{result}"'
        lines = [f"{word} -> {letter}" for word, letter in pairs]
        lines.append(f'Joined together: "{result}".')
        return "\n".join(lines), f'"{result}"'

    def read_state(self, rationale: str) -> str | None:
        letters = []
        for word in self.words:
            found = re.search(re.escape(word) + r'"?\s+(?:is|ends with|ends in|->)\s+"?(\w)', rationale)
            if found:
                letters.append(found.group(1))
        return f'"{"".join(letters)}"' if letters else None


_CHOICES = re.compile(r"\(([A-Z])\) (.*?)(?=, \([A-Z]\) |\.?\s*$)", re.S)
_PEOPLE = re.compile(r"^(?P<people>.+?) are ")
_SWAP = re.compile(r"(?:First|Then|Finally|Next|After that),\s+(?P<a>.+?) and (?P<b>.+?) (?:swap|trade|switch|exchange)")
_TARGET = re.compile(r"At the end of the [\w ]+?, (?P<target>.+?) (?P<verb>has the|has|is playing|is dancing with|is holding)\s*$")


def _choices_of(question: str) -> tuple[list[str], list[str]]:
    """(letters, texts) of an ``Answer choices: (A) x, (B) y.`` suffix (empty lists if none)."""
    index = question.rfind("Answer choices:")
    if index == -1:
        return [], []
    found = _CHOICES.findall(question[index + len("Answer choices:") :].strip())
    return [letter for letter, _ in found], [text.strip() for _, text in found]


@dataclass
class _ShuffledObjects:
    """Sample (BIG-bench format): ``Alice, Bob, and Claire are playing a game. At the start of the
    game, they are each holding a ball: Alice has a red ball, Bob has a blue ball, and Claire has a
    pink ball. \\n\\nAs the game progresses, pairs of players trade balls. First, Alice and Bob swap
    balls. Then, ... Finally, ... At the end of the game, Bob has the \\nWhich choice is true? Answer
    choices: (A) red ball, (B) blue ball, (C) pink ball.`` -> the letter of Bob's last ball."""

    kind = "shuffled_objects"
    people: list[str]
    holding: dict[str, str]
    swaps: list[tuple[str, str]]
    target: str
    verb: str
    letters: list[str]
    choices: list[str]

    @classmethod
    def parse(cls, question: str):
        letters, choices = _choices_of(question)
        if len(choices) < 2:
            return None
        body = question.split("\nWhich choice is true?")[0]
        if "Answer choices:" in body:
            body = body[: body.rfind("Answer choices:")]
        people_match = _PEOPLE.match(body.strip())
        target_match = _TARGET.search(body.rstrip())
        if not people_match or not target_match or ":" not in body:
            return None
        people = [p.strip() for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", people_match.group("people")) if p.strip()]
        if len(people) < 2 or len(set(people)) != len(people):
            return None
        start = body.index(":") + 1
        end = body.find("\n\n", start)
        if end == -1:
            end = body.find(". ", start)
        if end == -1:
            return None
        segment = body[start:end]
        holding: dict[str, str] = {}
        positions = []
        for person in people:
            found = re.search(r"\b" + re.escape(person) + r"\b", segment)
            if not found:
                return None
            positions.append(found.start())
        bounds = positions[1:] + [len(segment)]
        for person, low, high in zip(people, positions, bounds):
            clause = segment[low + len(person) : high]
            matches = [c for c in choices if c in clause]
            if not matches:
                return None
            holding[person] = max(matches, key=len)
        if len(set(holding.values())) != len(people):
            return None
        swaps = []
        for found in _SWAP.finditer(body[end:]):
            a, b = found.group("a").strip(), found.group("b").strip()
            if a not in people or b not in people or a == b:
                return None
            swaps.append((a, b))
        target = target_match.group("target").strip()
        if not swaps or target not in people:
            return None
        return cls(people, holding, swaps, target, target_match.group("verb"), letters, choices)

    def _run(self, swaps: Sequence[tuple[str, str, bool]]) -> list[dict[str, str]]:
        state = dict(self.holding)
        states = []
        for a, b, applied in swaps:
            if applied:
                state[a], state[b] = state[b], state[a]
            states.append(dict(state))
        return states

    def _letter(self, item: str) -> str:
        return self.letters[self.choices.index(item)]

    def answer(self) -> str:
        return self._letter(self._run([(a, b, True) for a, b in self.swaps])[-1][self.target])

    def solve(self, mistake: random.Random | None) -> list[tuple[str, str, bool]]:
        """The swaps as tracked (pair written, applied?); a mistake skips or misreads one swap."""
        read = [(a, b, True) for a, b in self.swaps]
        if mistake is None:
            return read
        right = self._run(read)[-1][self.target]
        candidates = []
        for j, (a, b, _) in enumerate(read):
            options = [(a, b, False)] + [(a, r, True) for r in self.people if r not in (a, b)]
            options += [(r, b, True) for r in self.people if r not in (a, b)]
            for option in options:
                trial = read[:j] + [option] + read[j + 1 :]
                if self._run(trial)[-1][self.target] != right:
                    candidates.append(trial)
        return mistake.choice(candidates) if candidates else read

    def _has(self, person: str, item: str) -> str:
        return f"{person} {self.verb} {item}"

    def render(self, read: list[tuple[str, str, bool]], style: int, w: _Words) -> tuple[str, str]:
        states = self._run(read)
        final = states[-1][self.target]
        letter = self._letter(final)
        order = ["First,"] + ["Then,"] * (len(read) - 2) + ["Finally,"] if len(read) > 1 else ["First,"]
        if style == 0:
            lines = [f"At the start, {_listed([self._has(p, self.holding[p]) for p in self.people])}."]
            for word, (a, b, _), state in zip(order, read, states):
                lines.append(f"{word} {a} and {b} swap, so {w('now', 'after that')} {self._has(a, state[a])} and {self._has(b, state[b])}.")
            lines.append(f"At the end, {self._has(self.target, final)}, which is option ({letter}).")
            return "\n".join(lines), f"({letter})"
        if style == 1:
            table = lambda state: ", ".join(f"{p}: {state[p]}" for p in self.people)  # noqa: E731
            lines = [w("Let's keep track of who has what.", "Let's track every person after each swap."),
                     f"Start: {table(self.holding)}."]
            for (a, b, _), state in zip(read, states):
                lines.append(f"After {a} and {b} swap: {table(state)}.")
            lines.append(f"{self.target} ends with {final}, which is ({letter}).")
            return "\n".join(lines), f"({letter})"
        if style == 2:
            lines = [f"We only need to follow {self.target}.", f"{self.target} starts with {self.holding[self.target]}."]
            for word, (a, b, _), state in zip(order, read, states):
                if self.target in (a, b):
                    lines.append(f"{word} {a} and {b} swap, so {self.target} now {self.verb} {state[self.target]}.")
                else:
                    lines.append(f"{word} {a} and {b} swap; {self.target} is not involved and still {self.verb} {state[self.target]}.")
            lines.append(f"So {self.target} ends up with {final}, which is option {letter}.")
            return "\n".join(lines), letter
        lines = [f"Start: {'; '.join(self._has(p, self.holding[p]) for p in self.people)}."]
        for (a, b, _), state in zip(read, states):
            lines.append(f"{a} <-> {b}: {self._has(a, state[a])}; {self._has(b, state[b])}.")
        lines.append(f"Final: {self._has(self.target, final)} = ({letter}).")
        return "\n".join(lines), f"({letter})"

    def read_state(self, rationale: str) -> str | None:
        last = None
        for found in re.finditer(re.escape(self.target), rationale):
            tail = re.split(r"[,;.\n=]", rationale[found.end() : found.end() + 120], maxsplit=1)[0]
            best = None
            for item in self.choices:
                at = tail.find(item)
                if at != -1 and (best is None or (at, -len(item)) < (best[0], -len(best[1]))):
                    best = (at, item)
            if best is not None:
                last = best[1]
        return f"({self._letter(last)})" if last is not None else None


_SENTENCE = re.compile(r"(?<=[.?!])\s+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# "How many X does Y have (now)?" / "How many X are (left) in the Z?": the quantity being tracked.
_HOW_MANY = re.compile(
    r"^How many (?P<items>.+?) (?:(?:does|do|did|will) .+? (?:have|has|own|keep)|(?:are|is|were|was) (?:there|left|still|in|on|at))\b.*\?$"
)
_ADD_VERBS = re.compile(r"\b(?:buys|bought|finds|found|receives|received|gets|got|adds|added|puts|put|orders|ordered|brings|brought|collects|collected|earns|earned|picks|picked|bakes|baked|wins|won)\b")
_SUB_VERBS = re.compile(r"\b(?:gives|gave|loses|lost|sells|sold|uses|used|takes|took|removes|removed|eats|ate|spends|spent|breaks|broke|donates|donated)\b")
_OPS = {"+": lambda a, k: a + k, "-": lambda a, k: a - k, "*": lambda a, k: a * k, "/": lambda a, k: a / k}


# Quantities the rules do not model (relations, rates, unknowns): such questions are not read.
_UNMODELLED = re.compile(
    r"\b(?:dozens?|half|twice|each|per|than|total|some|if|every|remaining|rest|percent|average|sum|ago|age|years? old|plus|times the|thirds?|quarters? of|fraction|same|in all)\b", re.I
)
_RECEIVES = re.compile(r"\b(?:gave|gives|hands|handed|sends|sent) (?:him|her|them|me|us)\b")
_TAKEN_FROM = re.compile(r"\b(?:bought|buys|took|takes|ate|eats) \d+ of \w+ ?'s\b")


def _operation(sentence: str) -> str | None:
    if _RECEIVES.search(sentence):
        return "+"
    if _TAKEN_FROM.search(sentence):
        return "-"
    if re.search(r"\bequal\b", sentence):
        return "/"
    if re.search(r"\btimes as\b", sentence):
        return "*"
    if re.search(r"\b(?:ate|eats|sold|sells|lost|loses|used|uses|spent|spends) \d+ more\b", sentence):
        return "-"
    if re.search(r"\bmore\b", sentence):
        return "+"
    if _SUB_VERBS.search(sentence):
        return "-"
    if _ADD_VERBS.search(sentence):
        return "+"
    return None


@dataclass
class _Arithmetic:
    """Sample (fcot's synthetic family): ``Ann has 12 pens. She buys 7 more pens. Then Ann ends up
    with 2 times as many pens as before. How many pens does Ann have now?`` -> ``38``. One number per
    sentence; the operation is read from cue words (more/buys -> +, gives/sells -> -, times as -> *,
    equal parts -> exact division)."""

    kind = "arithmetic"
    start: float
    steps: list[tuple[str, float]]
    items: str

    @classmethod
    def parse(cls, question: str):
        sentences = [s.strip() for s in _SENTENCE.split(question.strip()) if s.strip()]
        if len(sentences) < 3 or _UNMODELLED.search(" ".join(sentences[:-1])):
            return None
        how_many = _HOW_MANY.match(sentences[-1])
        if not how_many or _NUMBER.search(sentences[-1]):
            return None
        first = _NUMBER.findall(sentences[0])
        if len(first) != 1 or f"{first[0]} {how_many.group('items')}" not in sentences[0]:
            return None
        steps = []
        for sentence in sentences[1:-1]:
            numbers = _NUMBER.findall(sentence)
            op = _operation(sentence)
            if len(numbers) != 1 or op is None:
                return None
            steps.append((op, float(numbers[0])))
        if any(op == "/" and k == 0 for op, k in steps):
            return None
        return cls(float(first[0]), steps, how_many.group("items"))

    def _values(self, slip: tuple[int, float] | None = None) -> list[float]:
        values, value = [], self.start
        for j, (op, k) in enumerate(self.steps):
            value = _OPS[op](value, k)
            if slip is not None and slip[0] == j:
                value += slip[1]
            values.append(value)
        return values

    def answer(self) -> str:
        return _fmt(self._values()[-1])

    def solve(self, mistake: random.Random | None) -> list[float]:
        """The result of each step as computed; a mistake is an arithmetic slip in one step."""
        if mistake is None:
            return self._values()
        right = self._values()
        j = mistake.randrange(len(self.steps))
        deltas = [d for d in (-10, -2, -1, 1, 2, 10) if right[j] + d > 0]
        return self._values((j, mistake.choice(deltas)))

    def render(self, values: list[float], style: int, w: _Words) -> tuple[str, str]:
        before = [self.start] + values[:-1]
        items, result = self.items, _fmt(values[-1])
        sign = {"+": "+", "-": "-", "*": "*" if style != 1 else "x", "/": "/"}
        equations = [f"{_fmt(a)} {sign[op]} {_fmt(k)} = {_fmt(r)}" for a, (op, k), r in zip(before, self.steps, values)]
        if style == 0:
            lead = {"+": "Adding {k} more gives", "-": "Taking away {k} leaves", "*": "Having {k} times as many gives",
                    "/": "Keeping one of {k} equal parts leaves"}
            lines = [f"{w('We start with', 'At first there are', 'There are')} {_fmt(self.start)} {items}."]
            for (op, k), equation in zip(self.steps, equations):
                lines.append(f"{lead[op].format(k=_fmt(k))} {equation}.")
            lines.append(f"There are {result} {items} at the end.")
            return "\n".join(lines), result
        if style == 1:
            words = ["First,"] + ["Then,"] * (len(equations) - 2) + ["Finally,"] if len(equations) > 1 else ["We compute"]
            text = " ".join(f"{word} {equation}." for word, equation in zip(words, equations))
            return f"{text} {w('So in the end there are', 'That leaves')} {result} {items}.", result
        if style == 2:
            lines = [w("Let's write each step as an equation.", "Let's solve it one step at a time.")]
            lines += [f"Step {i}: {equation}" for i, equation in enumerate(equations, start=1)]
            return "\n".join(lines), result
        change = {"+": "{k} more", "-": "{k} fewer", "*": "{k} times as many", "/": "one of {k} equal parts"}
        lines = [f"{_fmt(self.start)} {items} at first."]
        lines += [f"{change[op].format(k=_fmt(k))}: {_fmt(r)}." for (op, k), r in zip(self.steps, values)]
        return "\n".join(lines), result

    def read_state(self, rationale: str) -> str | None:
        results = re.findall(r"=\s*(-?\d+(?:\.\d+)?)", rationale) or re.findall(r":\s*(-?\d+(?:\.\d+)?)\.", rationale)
        return results[-1] if results else None


_READERS = (_CoinFlip, _LastLetters, _ShuffledObjects, _Arithmetic)


def read_question(question: str):
    """The parsed problem (``.kind`` in :data:`KINDS`) the simulator can solve, or None."""
    for reader in _READERS:
        try:
            problem = reader.parse(question)
        except (ValueError, IndexError, KeyError):  # a question that only looks like a kind
            problem = None
        if problem is not None:
            return problem
    return None


# ------------------------------------------------------------------------------------------------
# Conclusions and stage 2
# ------------------------------------------------------------------------------------------------
_CONCLUSION = re.compile(r"(?:answer is|answer:|best guess is)\s*:?\s*(.+?)\s*(?:\.(?=\s|$)|\n|$)", re.I)
_STAGE2 = re.compile(r"\n?Therefore, the answer(?: \([^)\n]*\))? is\s*$")
_AUXILIARY = re.compile(r"^(?:is|are|was|were|do|does|did|can|could|would|will|should|has|have|had)\b", re.I)


def _conclusion_leads(w: _Words) -> str:
    return w("So the answer is", "Therefore, the answer is", "Thus, the answer is", "Hence the answer is")


def _unreadable(question: str, w: _Words) -> str:
    letters, choices = _choices_of(question)
    opening = w("I am not sure how to work this out step by step.", "I am not sure how to solve this one.")
    if letters:
        return f" {opening} Reading it literally, option ({letters[0]}) {choices[0]} looks the most plausible, so my best guess is ({letters[0]})."
    stem = question.strip()
    if _AUXILIARY.match(stem) or "yes or no" in stem.lower():
        return f" {opening} Without more to go on, my best guess is no."
    numbers = _NUMBER.findall(stem.replace(",", ""))
    if numbers:
        return f" {opening} The last number given is {numbers[-1]}, so my best guess is {numbers[-1]}."
    return f" {opening} I cannot tell what the answer should be."


def _normalize(kind: str | None, text: str) -> str:
    """The stage-2 completion for a concluded answer ``text`` of a question ``kind``."""
    if kind == "coin_flip":
        found = re.search(r"\b(yes|no)\b", text, re.I)
        return f" {found.group(1).lower()}." if found else f" {text}."
    if kind == "last_letters":
        found = re.search(r'"([^"]*)"', text)
        return f' "{found.group(1)}".' if found else f' "{text.split()[0]}".' if text.split() else NO_ANSWER
    if kind == "shuffled_objects":
        found = re.search(r"\(([A-Z])\)", text)
        if found:
            return f" ({found.group(1)})."
        found = re.search(r"\b([A-Z])\b", text)
        return f" {found.group(1)}." if found else f" {text}."
    if kind == "arithmetic":
        found = _NUMBER.search(text.replace(",", ""))
        return f" {found.group(0)}." if found else f" {text}."
    return f" {text}."


def _split_stage2(prompt: str) -> tuple[str, str] | None:
    """(stage-1 prompt, rationale) of a stage-2 prompt, or None if it is not one."""
    trigger = _STAGE2.search(prompt)
    if trigger is None:
        return None
    head = prompt[: trigger.start()]
    start = head.rfind("Q: ")
    cut = head.find(COT_TRIGGER, start if start != -1 else 0)
    if cut != -1:
        return head[: cut + len(COT_TRIGGER)], head[cut + len(COT_TRIGGER) :]
    answer = head.find("\nA:", start if start != -1 else 0)
    if answer != -1:
        return head[: answer + 3], head[answer + 3 :]
    return head, ""


class SimulatedTeacher:
    """A rule-based offline stand-in for a large teacher LM (a simulator, NOT a language model).

    ``SimulatedTeacher(accuracy=0.7, n_styles=4, seed=0)``, or ``config=SimulatedTeacherConfig(...)``.
    ``task`` (optional) only picks the default accuracy from :data:`DEFAULT_ACCURACY` (the
    text-davinci-002 Zero-shot-CoT accuracy of the task it imitates; :data:`FALLBACK_ACCURACY`
    otherwise) when ``accuracy`` is not given; the teacher itself reads every question from the
    prompt, whatever the task. ``model`` names the settings, e.g. ``simulated-acc0.7-styles4``
    (``-seed3`` is added for a non-zero seed), so caches keyed by model never mix settings.
    """

    name = "simulated"

    def __init__(
        self,
        accuracy: float | None = None,
        n_styles: int = MAX_STYLES,
        seed: int = 0,
        task: str | None = None,
        config: SimulatedTeacherConfig | None = None,
    ) -> None:
        if task is not None:
            from fcot.data import known_tasks

            known = known_tasks()
            if task not in known:
                raise ValueError(f"SimulatedTeacher.task: unknown task {task!r}; accepted: {', '.join(known)} or None")
        if config is None:
            if accuracy is None:
                accuracy = DEFAULT_ACCURACY.get(task or "", FALLBACK_ACCURACY)
            config = SimulatedTeacherConfig(accuracy=accuracy, n_styles=n_styles, seed=seed)
        elif not isinstance(config, SimulatedTeacherConfig):
            raise ValueError(f"config must be a SimulatedTeacherConfig, got {type(config).__name__}")
        self.config = config
        self.task = task
        self._rng = random.Random(_hash_int("unseeded", config.seed))
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        c = self.config
        return f"simulated-acc{c.accuracy:g}-styles{c.n_styles}" + (f"-seed{c.seed}" if c.seed else "")

    def __repr__(self) -> str:
        return f"SimulatedTeacher({self.model!r}, task={self.task!r})"

    # -- the Backend interface -------------------------------------------------------------------
    def complete(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        """Complete every request (stage 1 or stage 2, recognised from the prompt), in order."""
        return [self._complete(request) for request in requests]

    def respond(self, prompt: str, temperature: float = 0.0, seed: int | None = None) -> str:
        """The completion text for one prompt (a ``Responder`` for :mod:`fcot.testing.server`)."""
        return self._complete(GenerationRequest(prompt, max_tokens=10**6, temperature=temperature, seed=seed)).text

    def _complete(self, request: GenerationRequest) -> GenerationResult:
        stage2 = _split_stage2(request.prompt)
        if stage2 is not None:
            text, extra = self._answer(*stage2)
        else:
            text, extra = self._rationale(request)
        finish = "stop"
        for stop in request.stop:
            if stop and stop in text:
                text = text[: text.index(stop)]
        spans = list(re.finditer(r"\S+", text))
        if len(spans) > request.max_tokens:
            text = text[: spans[request.max_tokens - 1].end()]
            finish = "length"
        return GenerationResult(
            text=text,
            finish_reason=finish,
            prompt_tokens=count_tokens(request.prompt),
            completion_tokens=count_tokens(text),
            extra=extra,
        )

    # -- stage 1 ----------------------------------------------------------------------------------
    def _draws(self, question: str, temperature: float, seed: int | None) -> tuple[float, random.Random, int, random.Random | None]:
        """(mistake draw in [0,1), rng for the mistake's details, style, wording rng or None)."""
        c = self.config
        if temperature <= 0:
            return _unit("mistake", c.seed, question), random.Random(_hash_int("detail", c.seed, question)), 0, None
        if seed is None:
            with self._lock:
                seed = self._rng.randrange(2**63)
        rng = random.Random(_hash_int("sample", c.seed, seed, question))
        draw = rng.random()
        detail = random.Random(rng.randrange(2**63))
        style = rng.randrange(c.n_styles)
        return draw, detail, style, random.Random(rng.randrange(2**63))

    def _rationale(self, request: GenerationRequest) -> tuple[str, dict]:
        prompt = request.prompt
        question = question_from_prompt(prompt)
        if question is None:
            question = prompt.strip()
        few_shot = prompt.rstrip().endswith("A:") and not prompt.rstrip().endswith(COT_TRIGGER)
        draw, detail, style, wording = self._draws(question, request.temperature, request.seed)
        w = _Words(wording)
        problem = read_question(question)
        if problem is None:
            text = _unreadable(question, w)
            if few_shot:
                text = text.replace("my best guess is", "The answer is")
            return text, {"kind": None, "style": style, "mistake": None}
        mistake = draw >= self.config.accuracy
        body, answer = problem.render(problem.solve(detail if mistake else None), style, w)
        lead = "The answer is" if few_shot else _conclusion_leads(w)
        opener = w("", "", "Let's see.\n", "Okay.\n", "We go through it carefully.\n")
        return f" {opener}{body}\n{lead} {answer}.", {"kind": problem.kind, "style": style, "mistake": mistake}

    # -- stage 2 ----------------------------------------------------------------------------------
    def _answer(self, stage1: str, rationale: str) -> tuple[str, dict]:
        question = question_from_prompt(stage1) or stage1
        problem = read_question(question)
        kind = problem.kind if problem is not None else None
        conclusions = _CONCLUSION.findall(rationale)
        if conclusions:
            return _normalize(kind, conclusions[-1].strip()), {"kind": kind, "read": "conclusion"}
        if problem is not None:
            state = problem.read_state(rationale)
            if state is not None:
                return _normalize(kind, state), {"kind": kind, "read": "state"}
        return NO_ANSWER, {"kind": kind, "read": None}
