"""Synthetic tasks: the originals' exact text formats, right answers, seeds, splits, argument errors."""

from __future__ import annotations

import json
import re

import pytest

from fcot import synthetic
from fcot.records import Example
from fcot.synthetic import SYNTHETIC_TASKS, generate_examples, synthetic_split

KOJIMA = "kojima-takeshi188/zero_shot_cot/dataset"

# The sentence frames of Kojima et al.'s coin flip and last letters questions (names are any text).
COIN_FLIP = re.compile(
    r'A coin is heads up\. ((?:[^.]+? (?:flips|does not flip) the coin\. )+)'
    r'Is the coin still heads up\? Note that "flip" here means "reverse"\.'
)
LAST_LETTERS = re.compile(r'Take the last letters of each words in "([^"]+)" and concatenate them\.')


def raw_examples(mirror, path: str) -> list[dict]:
    with open(mirror / KOJIMA / path, encoding="utf-8") as handle:
        return json.load(handle)["examples"]


def tracking_question(item: dict) -> tuple[str, tuple[str, ...]]:
    """The official processing of a BIG-bench tracking example (fcot keeps the input's trailing space)."""
    choices = tuple(text[:-1] if text.endswith(".") else text for text in item["target_scores"])
    listed = ", ".join(f"({'ABCDEFG'[i]}) {c}" for i, c in enumerate(choices))
    return f"{item['input']}\nWhich choice is true? Answer choices: {listed}.", choices


def skeleton(question: str, people: list[str], objects: tuple[str, ...]) -> str:
    """The question with every person replaced by P and every object by X: its sentence frame."""
    names = sorted(set(people) | set(objects), key=len, reverse=True)
    pattern = re.compile("|".join(r"\b" + re.escape(name) + r"(?=\W|$)" for name in names))
    return pattern.sub(lambda m: "X" if m.group(0) in objects else "P", question)


def people_of(question: str) -> list[str]:
    return re.split(r",\s*(?:and\s+)?|\s+and\s+", question.split(" are ", 1)[0])


# -- API, determinism ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "task, answer_type, default_difficulty",
    [("synth_coin_flip", "yes_no", 4), ("synth_last_letter", "text", 4),
     ("synth_shuffled_objects", "choice", 3), ("synth_arithmetic", "number", 2)],
)
def test_each_task_generates_n_examples_with_ids_answer_type_and_default_difficulty(task, answer_type, default_difficulty):
    examples = generate_examples(task, 7, seed=3)
    assert len(examples) == 7 and all(isinstance(e, Example) for e in examples)
    assert [e.id for e in examples] == [f"{task}-d{default_difficulty}-s3-{i}" for i in range(7)]
    assert {e.task for e in examples} == {task} and {e.answer_type for e in examples} == {answer_type}
    assert [e.index for e in examples] == list(range(7))
    assert all((e.choices is not None) == (answer_type == "choice") for e in examples)


def test_the_task_list_names_the_four_synthetic_tasks():
    assert SYNTHETIC_TASKS == ("synth_coin_flip", "synth_last_letter", "synth_shuffled_objects", "synth_arithmetic")


@pytest.mark.parametrize("task", SYNTHETIC_TASKS)
def test_the_same_seed_gives_the_same_examples_and_other_seeds_give_other_examples(task):
    first = generate_examples(task, 20, seed=1)
    assert generate_examples(task, 20, seed=1) == first
    other = generate_examples(task, 20, seed=2)
    assert sum(a.question != b.question for a, b in zip(first, other)) >= 18


@pytest.mark.parametrize("task", SYNTHETIC_TASKS)
def test_example_i_does_not_depend_on_how_many_are_generated(task):
    assert generate_examples(task, 30, seed=4)[:10] == generate_examples(task, 10, seed=4)


def test_zero_examples_is_an_empty_list():
    assert generate_examples("synth_coin_flip", 0) == []


# -- formats match the originals -------------------------------------------------------------------
def test_every_real_and_every_synthetic_coin_flip_question_has_the_same_sentence_frame(mirror):
    real = raw_examples(mirror, "coin_flip/coin_flip.json")
    assert all(COIN_FLIP.fullmatch(item["question"]) for item in real)
    synthetic_questions = generate_examples("synth_coin_flip", 200, difficulty=4)
    assert all(COIN_FLIP.fullmatch(e.question) for e in synthetic_questions)
    assert all(e.question.count(" the coin.") == 4 for e in synthetic_questions)


def test_every_real_and_every_synthetic_last_letter_question_has_the_same_sentence_frame(mirror):
    real = raw_examples(mirror, "last_letters/last_letters.json")
    assert all(LAST_LETTERS.fullmatch(item["question"]) for item in real)
    for e in generate_examples("synth_last_letter", 200, difficulty=4):
        match = LAST_LETTERS.fullmatch(e.question)
        assert match and len(match.group(1).split()) == 4


def test_synthetic_shuffled_objects_use_the_sentence_frames_of_the_big_bench_questions(mirror):
    real_frames = set()
    for item in raw_examples(mirror, "Bigbench_object_tracking/task.json"):
        question, choices = tracking_question(item)
        real_frames.add(skeleton(question, people_of(question), choices))
    assert len(real_frames) == 5  # ball game, gift exchange, soccer positions, books, square dance
    generated = generate_examples("synth_shuffled_objects", 300, difficulty=3)
    frames = {skeleton(e.question, people_of(e.question), e.choices) for e in generated}
    assert frames == real_frames


def test_more_objects_mean_more_people_choices_and_swaps_in_the_same_order_words():
    for e in generate_examples("synth_shuffled_objects", 30, difficulty=5):
        assert len(people_of(e.question)) == 5 and len(e.choices) == 5
        assert re.findall(r"\b(First|Then|Finally),", e.question) == ["First", "Then", "Then", "Then", "Finally"]
        letters = ", ".join(f"({'ABCDE'[i]}) {c}" for i, c in enumerate(e.choices))
        assert e.question.endswith(f"\nWhich choice is true? Answer choices: {letters}.")


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4])
def test_arithmetic_questions_have_one_sentence_per_operation_and_end_with_a_question(difficulty):
    for e in generate_examples("synth_arithmetic", 50, difficulty=difficulty, seed=9):
        sentences = re.split(r"(?<=[.?])\s+", e.question)
        assert len(sentences) == difficulty + 2
        assert sentences[-1].startswith("How many ") and sentences[-1].endswith("?")
        assert all(len(re.findall(r"\d+", s)) == 1 for s in sentences[:-1])


def test_arithmetic_questions_vary_their_sentences():
    openings = {re.sub(r"\d+.*", "", e.question.split(". ")[0]) for e in generate_examples("synth_arithmetic", 200)}
    assert len(openings) >= 20  # people, shops and containers, several phrasings each


# -- answers recomputed independently ---------------------------------------------------------------
@pytest.mark.parametrize("difficulty", [1, 4, 9])
def test_coin_flip_answers_are_yes_exactly_when_the_number_of_flips_is_even(difficulty):
    examples = generate_examples("synth_coin_flip", 100, difficulty=difficulty)
    for e in examples:
        assert e.question.count(" the coin.") == difficulty
        assert e.answer == ("yes" if e.question.count(" flips the coin.") % 2 == 0 else "no")
    assert {e.answer for e in examples} == {"yes", "no"}


@pytest.mark.parametrize("difficulty", [1, 4, 12])
def test_last_letter_answers_concatenate_the_last_letter_of_each_word(difficulty):
    for e in generate_examples("synth_last_letter", 100, difficulty=difficulty):
        words = LAST_LETTERS.fullmatch(e.question).group(1).split()
        assert len(words) == difficulty
        assert e.answer == "".join(word[-1] for word in words)


@pytest.mark.parametrize("difficulty", [2, 3, 7, 12])
def test_shuffled_object_answers_are_the_letter_of_what_the_asked_person_holds_after_all_swaps(difficulty):
    letters = {}
    for e in generate_examples("synth_shuffled_objects", 60, difficulty=difficulty):
        people = people_of(e.question)
        holdings, _, rest = e.question.partition(" \n\n")
        holds = {}
        anyone = "|".join(map(re.escape, people))
        for person in people:  # each person's object: the choice named between them and the next person
            clause = re.search(r"(?:, (?:and )?| and |^)" + re.escape(person) + rf" (.*?)(?=,? (?:and )?(?:{anyone}) |\.?$)",
                               holdings.split(": ", 1)[1])
            holds[person] = max((c for c in e.choices if c in clause.group(1)), key=len)
        assert [holds[p] for p in people] == list(e.choices)  # options are listed in starting order
        swaps = re.findall(r"(?:First|Then|Finally), (\w+) and (\w+) ", rest)
        assert len(swaps) == difficulty
        for a, b in swaps:
            holds[a], holds[b] = holds[b], holds[a]
        target = re.search(r"At the end of the \w+, (\w+) ", rest).group(1)
        assert e.answer == "ABCDEFGHIJKL"[e.choices.index(holds[target])]
        letters[e.answer] = letters.get(e.answer, 0) + 1
    assert len(letters) >= 2


# Independent reading of the arithmetic family: the cue words that name each operation.
OPERATIONS = [
    (re.compile(r"\bequal\b"), lambda a, k: a // k if a % k == 0 else None),
    (re.compile(r"\btimes as\b"), lambda a, k: a * k),
    (re.compile(r"\bmore\b"), lambda a, k: a + k),
    (re.compile(r"\b(gives|loses|uses|sells|sold|takes|removes)\b"), lambda a, k: a - k),
]


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4])
def test_arithmetic_answers_are_the_positive_integer_the_operations_lead_to(difficulty):
    for e in generate_examples("synth_arithmetic", 100, difficulty=difficulty, seed=2):
        sentences = re.split(r"(?<=[.?])\s+", e.question)
        value = int(re.search(r"\d+", sentences[0]).group(0))
        for sentence in sentences[1:-1]:
            k = int(re.search(r"\d+", sentence).group(0))
            value = next(apply(value, k) for cue, apply in OPERATIONS if cue.search(sentence))
            assert value is not None and value > 0  # exact division, positive amounts
        assert e.answer == str(value)


def test_arithmetic_uses_every_operation():
    ops = set()
    for e in generate_examples("synth_arithmetic", 100, difficulty=3):
        for cue, _ in OPERATIONS:
            if cue.search(e.question):
                ops.add(cue.pattern)
    assert len(ops) == 4


# -- splits -----------------------------------------------------------------------------------------
def test_a_split_has_the_sizes_asked_and_no_question_twice_across_or_within_parts():
    train, val, test = synthetic_split("synth_coin_flip", 300, 50, 100, difficulty=2, seed=1)
    assert (len(train), len(val), len(test)) == (300, 50, 100)
    questions = [e.question for e in train + val + test]
    assert len(set(questions)) == len(questions)
    assert synthetic_split("synth_coin_flip", 300, 50, 100, difficulty=2, seed=1) == (train, val, test)


def test_a_split_larger_than_the_distinct_questions_raises_naming_the_difficulty():
    # one person: each name either flips or not, so at most 2 * (number of names) distinct questions
    too_many = 2 * len(synthetic.resource_lines("first_names")) + 1
    with pytest.raises(ValueError, match=r"synth_coin_flip at difficulty 1 \(number of people\).*raise the difficulty"):
        synthetic_split("synth_coin_flip", too_many, 0, 0, difficulty=1)


# -- argument errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: generate_examples("coin_flip", 3), r"unknown synthetic task 'coin_flip'; accepted: synth_coin_flip, synth_last_letter"),
        (lambda: generate_examples("synth_coin_flip", -1), r"n -1 is out of range; accepted: >= 0"),
        (lambda: generate_examples("synth_coin_flip", 2.5), r"n must be an integer, got 2.5"),
        (lambda: generate_examples("synth_coin_flip", 3, 0), r"difficulty 0 is out of range for synth_coin_flip \(number of people\); accepted: 1 .. 40"),
        (lambda: generate_examples("synth_last_letter", 3, 41), r"accepted: 1 .. 40"),
        (lambda: generate_examples("synth_shuffled_objects", 3, 1), r"\(number of people, objects and swaps\); accepted: 2 .. 12"),
        (lambda: generate_examples("synth_arithmetic", 3, 5), r"\(number of operations\); accepted: 1 .. 4"),
        (lambda: generate_examples("synth_arithmetic", 3, seed="1"), r"seed must be an integer"),
        (lambda: synthetic_split("synth_arithmetic", 3, -2, 1), r"n_val -2 is out of range; accepted: >= 0"),
        (lambda: synthetic_split("synth_x", 3, 1, 1), r"accepted: synth_coin_flip"),
    ],
)
def test_bad_arguments_raise_naming_the_argument_and_what_is_accepted(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- resources -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, at_least", [("first_names", 300), ("colors", 30), ("books", 40), ("positions", 12), ("items", 40)])
def test_resource_lists_are_long_and_have_no_repeats(name, at_least):
    lines = synthetic.resource_lines(name)
    assert len(lines) >= at_least and len(set(lines)) == len(lines)


def test_names_are_single_capitalised_ascii_words_of_two_letters_or_more():
    for name in synthetic.resource_lines("first_names"):
        assert re.fullmatch(r"[A-Z][a-z]+", name), name


def test_no_name_starts_a_compound_given_name_so_synthetic_words_read_one_by_one():
    first_parts = {line.split()[0] for line in synthetic.resource_lines("compound_given_names")}
    assert not first_parts & set(synthetic.resource_lines("first_names"))


def test_a_missing_resource_raises_naming_the_file():
    with pytest.raises(FileNotFoundError, match="fcot/resources/nope.txt"):
        synthetic.resource_lines("nope")
