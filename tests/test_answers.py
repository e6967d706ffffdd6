"""Spec of fcot.answers: the official Fine-tune-CoT / Zero-shot-CoT answer rules, table by table."""

from __future__ import annotations

import pytest

from fcot.answers import (
    STUDENT_DELIMITER,
    candidates,
    is_correct,
    canonical_number,
    normalize_gold,
    parse_student,
    parse_teacher,
)
from fcot.records import Example


def number(answer: str = "5") -> Example:
    return Example(task="multiarith", id="0", question="How many?", answer=answer, answer_type="number")


def choice(answer: str = "B", n: int = 5) -> Example:
    options = tuple(f"option {i}" for i in range(n))
    return Example(task="aqua", id="0", question="Which?", answer=answer, answer_type="choice", choices=options)


def yes_no(answer: str = "yes") -> Example:
    return Example(task="coin_flip", id="0", question="Heads up?", answer=answer, answer_type="yes_no")


def text(answer: str = "ynln") -> Example:
    return Example(task="last_letter_concatenation", id="0", question="Concatenate.", answer=answer, answer_type="text")


# -- teacher stage-2 completions (text after "Therefore, the answer is") ----------------------

TEACHER_CASES = [
    # numbers
    (number(), " 5.", "5"),
    (number(), " 18.\n\nQ: How many apples are left? 3", "18"),
    (number(), " 1,000 dollars.", "1000"),
    (number(), " $1,250,000.", "1250000"),
    (number(), " -3 degrees.", "-3"),
    (number(), " 3.75 hours.", "3.75"),
    (number(), " 12 apples and 5 oranges.", "12"),
    (number(), " 2 + 3 = 5", "2"),
    (number(), ": \n\n126 - 54 = 72", "126"),
    (number(), " 5.0.", "5.0"),
    (number(), " not given in the question.", None),
    (number(), "", None),
    # choice letters, limited to the example's choices
    (choice(), " (B) staying home.", "B"),
    (choice(), " B.", "B"),
    (choice(), " probably (A), (B), (C), or (D).", "A"),
    (choice(), " E) 12", "E"),
    (choice(), " none of the above.", None),
    (choice(n=5), " F.", None),
    (choice(n=6), " F.", "F"),
    (choice(n=3), " (D) the ball", None),
    (choice(n=3), " D or C", "C"),
    (choice(n=7), " (G) Bob.", "G"),
    (choice(), " Both (A) and (C)", "B"),  # the official rule: any capital letter in range counts
    # yes / no
    (yes_no(), ' "Yes".', "yes"),
    (yes_no(), " Yes.", "yes"),
    (yes_no(), " no, the coin is tails up.", "no"),
    (yes_no(), " No", "no"),
    (yes_no(), "\nYES", "yes"),
    (yes_no(), " Yes!", None),
    (yes_no(), " Nope.", None),
    (yes_no(), " heads up.", None),
    # text (last letter concatenation): the whole answer, quotes/whitespace/periods removed
    (text(), ' "ynln".', "ynln"),
    (text(), " ynln", "ynln"),
    (text(), " y n l n.", "ynln"),
    (text(), " 'ab'\n", "ab"),
    (text(), " .\n", None),
    (text(), "", None),
]


@pytest.mark.parametrize("example, completion, expected", TEACHER_CASES)
def test_parse_teacher_takes_the_first_candidate_of_its_format(example, completion, expected):
    assert parse_teacher(completion, example) == expected


# -- student completions "{rationale} --> {answer}" -------------------------------------------

STUDENT_CASES = [
    (number(), "Tom has 3 + 4 = 7 apples. He eats 2, so 5 are left. --> 5", "5"),
    (number(), "He had 10 and gave 4. --> 6 apples, 7", "6"),
    (number(), "10 - 4 = 6 --> 1,000", "1000"),
    (number(), "It is colder by 3. --> -3", "-3"),
    (number(), "Half of 7 is 3.5 --> 3.5", "3.5"),
    (number(), "10 - 4 = 6, so 6 are left", "6"),  # no "-->": the LAST candidate
    (number(), "There are 12 pens and 3 boxes. 12 / 3 = 4", "4"),
    (number(), "10 - 4 = 6 -->", None),  # delimiter present, nothing after it: never guess
    (number(), "10 - 4 = 6 --> six", None),
    (number(), "no numbers here", None),
    (number(), "a --> 2 --> 3", "2"),  # the first delimiter counts
    (choice(), "A rock is heavy. --> (B)", "B"),
    (choice(), "A rock is heavy. --> B", "B"),
    (choice(), "Answer A is wrong, C is right", "C"),
    (choice(n=3), "Bob has the ball. --> D", None),
    (yes_no(), "Two flips cancel out. --> yes", "yes"),
    (yes_no(), "yes it flips, so no --> no", "no"),
    (yes_no(), "The coin was flipped once, so no.", "no"),
    (yes_no(), "The coin --> maybe", None),
    (text(), 'The last letters are y, n, l, n. --> "ynln"', "ynln"),
    (text(), "The answer --> y nln.", "ynln"),
    (text(), "ynln", "ynln"),
]


@pytest.mark.parametrize("example, completion, expected", STUDENT_CASES)
def test_parse_student_reads_the_first_candidate_after_the_delimiter_else_the_last(example, completion, expected):
    assert parse_student(completion, example) == expected


@pytest.mark.parametrize(
    "example, completion, expected",
    [(number(), " 42", "42"), (number(), "12 and then 13", "12"), (choice(), "(C) and (D)", "C")],
)
def test_parse_student_without_a_delimiter_reads_vanilla_outputs_by_their_first_candidate(
    example, completion, expected
):
    assert parse_student(completion, example, delimiter=None) == expected


def test_the_student_delimiter_is_the_fine_tune_cot_arrow():
    assert STUDENT_DELIMITER == " --> "
    sample = "3 + 4 = 7" + STUDENT_DELIMITER + "7"
    assert parse_student(sample, number("7")) == "7"


# -- gold answers and scoring -----------------------------------------------------------------


@pytest.mark.parametrize(
    "example, expected",
    [
        (number("5"), "5"),
        (number("1,000"), "1000"),
        (number("5.0"), "5"),
        (number(" -2.50 "), "-2.5"),
        (choice("(b)"), "B"),
        (choice("E"), "E"),
        (yes_no("Yes"), "yes"),
        (yes_no("no"), "no"),
        (text(" ynln "), "ynln"),
    ],
)
def test_normalize_gold_gives_the_form_the_parsers_return(example, expected):
    assert normalize_gold(example) == expected


@pytest.mark.parametrize(
    "example, accepted",
    [
        (number("five"), "not a number"),
        (choice("F", n=5), "A, B, C, D, E"),
        (choice("AB"), "choice letters"),
        (yes_no("maybe"), "'yes' or 'no'"),
    ],
)
def test_normalize_gold_rejects_gold_answers_that_do_not_fit_their_type(example, accepted):
    with pytest.raises(ValueError, match="gold answer") as error:
        normalize_gold(example)
    assert accepted in str(error.value)


def test_a_choice_example_without_choices_is_an_error_naming_it():
    bare = Example(task="synthetic", id="7", question="Which?", answer="A", answer_type="choice")
    with pytest.raises(ValueError, match="synthetic/7.*needs choices"):
        parse_teacher(" A", bare)


@pytest.mark.parametrize(
    "prediction, example, expected",
    [
        ("5", number("5"), True),
        ("5.0", number("5"), True),  # REPRODUCTION NOTE: numeric for every number task
        ("5.0000001", number("5"), True),
        ("5.01", number("5"), False),
        ("1000", number("1,000"), True),
        ("-3", number("-3"), True),
        ("3", number("-3"), False),
        (None, number("5"), False),
        ("B", choice("B"), True),
        ("C", choice("B"), False),
        ("yes", yes_no("Yes"), True),
        ("no", yes_no("yes"), False),
        ("ynln", text("ynln"), True),
        ("YNLN", text("ynln"), False),
        (None, text("ynln"), False),
    ],
)
def test_is_correct_compares_in_the_answer_types_own_terms(prediction, example, expected):
    assert is_correct(prediction, example) is expected


def test_candidates_of_synthetic_tasks_depend_on_answer_type_not_task_name():
    synthetic = Example(
        task="synthetic_shuffle_9", id="0", question="?", answer="H", answer_type="choice",
        choices=tuple("abcdefghi"),
    )
    assert candidates(" (H) and (J)", synthetic) == ["H"]
    assert is_correct(parse_teacher(" (H)", synthetic), synthetic)


@pytest.mark.parametrize("raw, canonical", [
    ("43", "43"), (43.0, "43"), ("14696.0", "14696"), (" 1,080", "1080"), ("850,000", "850000"),
    ("0.625", "0.625"), (0.16666666666666666, "0.16666666666666666"), ("-3", "-3"), ("12.50", "12.5"), (7, "7"),
    ("1,000.0", "1000"), ("0.50", "0.5"), ("+7", "7"), ("-0", "0"), (".5", "0.5"),
])
def test_one_number_grammar_for_every_gold_answer(raw, canonical):
    assert canonical_number(raw) == canonical


@pytest.mark.parametrize("raw", ["", "abc", "1/2", "nan", "inf", True, "1.2.3"])
def test_canonical_number_rejects_non_numbers(raw):
    with pytest.raises(ValueError, match="not a"):
        canonical_number(raw)
