"""Sample-study error categories (fcot.analysis), table-driven on handcrafted completions."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fcot import analysis
from fcot.records import Completion, Example

COIN = Example("synth_coin_flip", "coin-1",
               'A coin is heads up. Ann flips the coin. Bo does not flip the coin. Is the coin still heads up? '
               'Note that "flip" here means "reverse".', "no", "yes_no")
LETTERS = Example("synth_last_letter", "letters-1",
                  'Take the last letters of each words in "Ann Bo Cy" and concatenate them.', "noy", "text")
SHUFFLED = Example(
    "tracking_shuffled_objects", "shuffled-1",
    "Alice, Bob, and Claire are playing a game. At the start of the game, they are each holding a ball: Alice has a "
    "red ball, Bob has a blue ball, and Claire has a pink ball. \n\nAs the game progresses, pairs of players trade "
    "balls. First, Alice and Bob swap balls. Then, Claire and Alice swap balls. Finally, Bob and Claire swap balls. "
    "At the end of the game, Bob has the \nWhich choice is true? Answer choices: (A) red ball, (B) blue ball, "
    "(C) pink ball.",
    "B", "choice", choices=("red ball", "blue ball", "pink ball"))
SYNTH_SUM = Example("synth_arithmetic", "arith-1",
                    "Ann has 12 pens. She buys 7 more pens. Then Ann ends up with 2 times as many pens as before. "
                    "How many pens does Ann have now?", "38", "number")
WORD_PROBLEM = Example("multiarith", "ma-1", "Tom had 5 apples and twice as many pears. He got 3 more apples. "
                       "How many apples does he have?", "8", "number")
YES_NO = Example("strategy_qa", "sqa-1", "Is a whale a fish?", "no", "yes_no")
CHOICE = Example("commonsense_qa", "csqa-1", "Which is a color? Answer choices: (A) red, (B) dog.", "A", "choice",
                 choices=("red", "dog"))

COIN_RIGHT = "Ann flips the coin, so it is now tails up. Bo does not flip the coin, so it stays tails up."
LETTERS_RIGHT = 'The last letter of "Ann" is "n". The last letter of "Bo" is "o". The last letter of "Cy" is "y". So the answer is "noy".'
SHUFFLED_RIGHT = (
    "First, Alice and Bob swap, so now Alice has the blue ball and Bob has the red ball.\n"
    "Then, Claire and Alice swap, so now Claire has the blue ball and Alice has the pink ball.\n"
    "Finally, Bob and Claire swap, so now Bob has the blue ball and Claire has the red ball.\n"
    "At the end, Bob has the blue ball, which is option (B)."
)


@pytest.mark.parametrize(
    "correct, stopped, prediction, reached, expected",
    [
        (True, True, "7", True, "correct"),
        (True, False, "7", False, "correct"),  # a right answer counts even without EOS
        (False, False, "6", True, "never_stopped"),
        (False, False, None, False, "never_stopped"),
        (False, True, "6", True, "wrong_final_extraction"),
        (False, True, None, True, "wrong_final_extraction"),
        (False, None, None, False, "no_answer"),  # stopped unknown (recorded logs) = stopped
        (False, True, "6", False, "wrong_step"),
    ],
)
def test_categorize_applies_the_documented_precedence(correct, stopped, prediction, reached, expected):
    assert analysis.categorize(correct, stopped, prediction, reached) == expected


@pytest.mark.parametrize(
    "text, rationale, answer_part",
    [
        (" A has 3. 3 + 4 = 7. --> 7", " A has 3. 3 + 4 = 7. ", " 7"),
        ("no delimiter 7", "no delimiter 7", None),
        ("a --> b --> c", "a ", " b --> c"),
        ("x -->", "x ", ""),
    ],
)
def test_split_completion_cuts_at_the_first_delimiter(text, rationale, answer_part):
    assert analysis.split_completion(text) == (rationale, answer_part)


@pytest.mark.parametrize(
    "example, text, stopped, category, checker, first_wrong_step, detail",
    [
        # coin flip: actions and sides checked person by person
        (COIN, f"{COIN_RIGHT} --> no", True, "correct", "coin_flip", None, ""),
        (COIN, "Ann flips the coin, so it is now tails up. Bo does not flip the coin, so it is heads up. --> yes",
         True, "wrong_step", "coin_flip", 4, "heads up after Bo"),
        (COIN, "Ann does not flip the coin, so it stays heads up. Bo does not flip the coin. --> yes",
         True, "wrong_step", "coin_flip", 1, "says Ann does not flip"),
        (COIN, "The coin starts heads down. Ann flips the coin, so it is heads up. --> yes", True, "wrong_step", "coin_flip", 1,
         "tails up at the start"),
        (COIN, f"{COIN_RIGHT} --> yes", True, "wrong_final_extraction", "coin_flip", None, ""),
        (COIN, "If the coin was heads up, it is now tails up. Ann Bo --> maybe", True, "no_answer", "coin_flip", None, ""),
        (COIN, "Ann flips the coin, so it is now heads up. Ann flips the coin, so", False, "never_stopped", "coin_flip", 2,
         "heads up after Ann"),
        # last letters: each letter, then the concatenation
        (LETTERS, f"{LETTERS_RIGHT} --> noy", True, "correct", "last_letters", None, ""),
        (LETTERS, 'The last letter of "Ann" is "n". The last letter of "Bo" is "B". The last letter of "Cy" is "y". '
                  'So the answer is "nBy". --> nBy', True, "wrong_step", "last_letters", 2, 'of Bo is "B"'),
        (LETTERS, 'The last letter of the first word is "n". The last letter of the second word is "o". The last letter '
                  'of the third word is "y". The last letter of the fourth word is "a". So the answer is "noya". --> noya',
         True, "wrong_step", "last_letters", 4, "only 3 words"),
        (LETTERS, 'Ann -> n\nBo -> o\nCy -> y\nJoined together: "noyy". --> noyy', True, "wrong_step", "last_letters", 4,
         "joins the letters n, o, y"),
        (LETTERS, f"{LETTERS_RIGHT} --> nyo", True, "wrong_final_extraction", "last_letters", None, ""),
        (LETTERS, LETTERS_RIGHT.replace('"noy"', '"n-o-y"') + " --> n-o-y", True,
         "wrong_final_extraction", "last_letters", None, ""),
        (LETTERS, 'The last letter of "Ann" is "n". So the answer is "noy". --> noy', True, "correct", "last_letters",
         2, 'joins the letters n as "noy"'),
        # tracking shuffled objects: swaps in order, holdings after each
        (SHUFFLED, f"{SHUFFLED_RIGHT} --> B", True, "correct", "shuffled_objects", None, ""),
        (SHUFFLED, SHUFFLED_RIGHT.replace("Then, Claire and Alice", "Then, Claire and Bob") + " --> B", True,
         "correct", "shuffled_objects", 4, "swap 2 is Claire-Bob"),
        (SHUFFLED, "First, Alice and Bob swap, so now Alice has the blue ball and Bob has the red ball.\n"
                   "Then, Claire and Alice swap, so now Claire has the red ball.\nAt the end, Bob has the red ball, "
                   "which is option (A). --> A", True, "wrong_step", "shuffled_objects", 5, "says Claire has red ball"),
        (SHUFFLED, f"{SHUFFLED_RIGHT} --> C", True, "wrong_final_extraction", "shuffled_objects", None, ""),
        # arithmetic: equations computed; synth_arithmetic results against the true running value
        (SYNTH_SUM, "12 + 7 = 19. 19 * 2 = 38. --> 38", True, "correct", "arithmetic", None, ""),
        (SYNTH_SUM, "12 + 7 = 19. 19 * 2 = 40. --> 40", True, "wrong_step", "arithmetic", 2, "but 19 * 2 is 38"),
        (SYNTH_SUM, "12 + 7 = 19. 19 + 2 = 21. --> 21", True, "wrong_step", "arithmetic", 2, "true value after operation 2 is 38"),
        (SYNTH_SUM, "12 + 7 = 19 and 19 x 2 = 19 + 19 = 38. --> 36", True, "wrong_final_extraction", "arithmetic", None, ""),
        (WORD_PROBLEM, "5 + 3 = 9. --> 9", True, "wrong_step", "arithmetic", 1, "5 + 3 = 9"),
        (WORD_PROBLEM, "He has 5 + 3 = 8 apples. --> 9", True, "wrong_final_extraction", "arithmetic", None, ""),
        (WORD_PROBLEM, "He has 10 / 4 = 2.5 boxes, then 5 + 3 = 8. --> 8", True, "correct", "arithmetic", None, ""),
        (WORD_PROBLEM, "He has 10 / 3 = 3.33 boxes, then 5 + 3 = 7. --> 7", True, "wrong_step", "arithmetic", 2, "5 + 3 = 7"),
        (WORD_PROBLEM, "He has some apples. --> many", True, "no_answer", "arithmetic", None, ""),
        # generic fallback: the last candidate of the rationale
        (YES_NO, "Whales are mammals, not fish, so no. --> yes", True, "wrong_final_extraction", "generic", None, ""),
        (YES_NO, "Whales live in the sea like fish, so yes. --> yes", True, "wrong_step", "generic", None, ""),
        (YES_NO, "Whales are mammals. --> no", True, "correct", "generic", None, ""),
        (CHOICE, "Red is a color, so (A). --> B", True, "wrong_final_extraction", "generic", None, ""),
        (CHOICE, "Dogs bark. -->", True, "no_answer", "generic", None, ""),
    ],
)
def test_diagnose_student_names_the_category_and_the_first_wrong_step(
    example, text, stopped, category, checker, first_wrong_step, detail
):
    diagnosis = analysis.diagnose_student(text, example, stopped=stopped)
    assert diagnosis.category == category
    assert diagnosis.checker == checker
    assert diagnosis.first_wrong_step == first_wrong_step
    assert detail in diagnosis.detail
    assert diagnosis.category in analysis.CATEGORIES


@pytest.mark.parametrize(
    "example, rationale, answer",
    [
        (COIN, COIN_RIGHT, "no"),
        (COIN, "The coin ends heads up.", "yes"),
        (COIN, "It is unclear (heads up or tails up).", None),
        (LETTERS, LETTERS_RIGHT, "noy"),
        (LETTERS, 'The last letter of "Ann" is "n". The last letter of "Bo" is "o".', "no"),  # no final string: letters joined
        (SHUFFLED, SHUFFLED_RIGHT, "B"),
        (SYNTH_SUM, "12 + 7 = 19, then 38 pens.", "38"),
        (YES_NO, "Yes, and then no.", "no"),
        (CHOICE, "Not (B) but (A), maybe B.", "A"),
        (Example("x", "t", "Spell it.", "ab", "text"), 'It is "a" then "a b".', "ab"),
    ],
)
def test_check_rationale_reads_the_answer_the_rationale_reached(example, rationale, answer):
    assert analysis.check_rationale(rationale, example).answer == answer


def test_diagnose_teacher_counts_a_truncated_rationale_as_never_stopped():
    completion = Completion("synth_coin_flip", COIN.id, 0, COIN.question, "Ann flips the coin, so it is now heads",
                            " yes.", "yes", "no", False, finish_reason="length")
    assert analysis.diagnose_teacher(completion, COIN).category == "never_stopped"
    finished = Completion("synth_coin_flip", COIN.id, 0, COIN.question, COIN_RIGHT, " yes.", "yes", "no", False,
                          finish_reason="stop")
    assert analysis.diagnose_teacher(finished, COIN).category == "wrong_final_extraction"
    unknown = Completion("synth_coin_flip", COIN.id, 0, COIN.question, COIN_RIGHT, " no.", "no", "no", True)
    assert analysis.diagnose_teacher(unknown, COIN).category == "correct"


def _frames():
    examples = [COIN, LETTERS, SYNTH_SUM]
    predictions = [
        {"example_id": COIN.id, "completion": f"{COIN_RIGHT} --> no", "prediction": "no", "stopped": True},
        {"example_id": LETTERS.id, "completion": f"{LETTERS_RIGHT} --> nyo", "prediction": "nyo", "stopped": True},
        {"example_id": SYNTH_SUM.id, "completion": "12 + 7 = 19. 19 + 19 = 38. 38 +", "prediction": "38",
         "stopped": False},
    ]
    completions = [
        Completion(e.task, e.id, k, e.question, r, a, p, e.answer, ok)
        for e, r, a, p, ok in [(COIN, COIN_RIGHT, " no.", "no", True),
                               (LETTERS, 'Ann is "n", Bo is "o", Cy is "y": "noy".', ' "noy".', "noy", True),
                               (SYNTH_SUM, "12 + 7 = 20. 20 * 2 = 40.", " 40.", "40", False)]
        for k in (0, 1)
    ]
    completions.append(Completion("other", "not-asked", 0, "?", "", "", None, "1", False))
    student = analysis.diagnose_predictions(predictions, examples)
    teacher = analysis.diagnose_completions(completions, examples)
    return student, teacher


def test_diagnose_predictions_and_completions_give_one_row_per_question():
    student, teacher = _frames()
    assert list(student["category"]) == ["correct", "wrong_final_extraction", "correct"]
    assert list(teacher["category"]) == ["correct", "correct", "wrong_step"]
    assert list(teacher["example_id"]) == [COIN.id, LETTERS.id, SYNTH_SUM.id]  # first sample only, example order
    assert teacher.loc[2, "first_wrong_step"] == 1 and "12 + 7 = 20" in teacher.loc[2, "detail"]
    assert student.loc[1, "answer_part"] == "nyo"
    empty = analysis.diagnose_completions([], [COIN])
    assert empty.empty and list(empty.columns) == list(student.columns)


def test_diagnose_predictions_names_a_missing_field_and_an_unknown_example():
    with pytest.raises(KeyError, match="prediction 1: lacks 'completion'"):
        analysis.diagnose_predictions([{"example_id": COIN.id}], [COIN])
    with pytest.raises(KeyError, match="'nope' is not among the examples"):
        analysis.diagnose_predictions([{"example_id": "nope", "completion": ""}], [COIN])


def test_category_counts_has_every_category_with_counts_and_shares():
    student, teacher = _frames()
    counts = analysis.category_counts({"student": student, "teacher": teacher})
    assert list(counts.index) == list(analysis.CATEGORIES)
    assert list(counts.columns) == ["student", "student %", "teacher", "teacher %"]
    assert counts["student"].sum() == 3 and counts.loc["wrong_final_extraction", "student"] == 1
    assert counts.loc["wrong_step", "teacher %"] == pytest.approx(33.3)
    with pytest.raises(ValueError, match="unknown categories"):
        analysis.category_counts({"x": pd.DataFrame({"category": ["oops"]})})


def test_compare_agreement_and_side_by_side_line_up_student_and_teacher():
    student, teacher = _frames()
    comparison = analysis.compare(student, teacher)
    assert len(comparison) == 3
    assert {"student_rationale", "teacher_rationale", "student_category", "teacher_category"} <= set(comparison.columns)
    table = analysis.agreement_table(comparison)
    assert table.shape == (len(analysis.CATEGORIES), len(analysis.CATEGORIES))
    assert table.loc["correct", "wrong_step"] == 1 and int(table.to_numpy().sum()) == 3
    shown = analysis.side_by_side(comparison, n=2)
    assert list(shown["example_id"]) == [LETTERS.id]
    with pytest.raises(ValueError, match="unknown category"):
        analysis.side_by_side(comparison, category="bad")


def test_record_sample_study_writes_table_rows_and_metrics_through_a_run():
    student, teacher = _frames()
    counts = analysis.category_counts({"student": student, "teacher": teacher})
    run = analysis.record_sample_study(counts, analysis.compare(student, teacher), {"task": "mixed"}, name="unit")
    assert run.status == "finished"
    assert (run.path / "tables" / "error_categories.csv").is_file()
    rows = [json.loads(line) for line in (run.path / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    assert run.metrics["student_correct"] == 2 and run.metrics["teacher_wrong_step"] == 1


def test_recorded_teacher_rationale_with_a_wrong_concatenation_is_a_located_wrong_step(mirror):
    from fcot import recorded, tasks

    examples = tasks.load_examples("last_letter_concatenation")
    completions = recorded.load_recorded("last_letter_concatenation").completions
    first = next(c for c in completions if '"Jeff Jen Giselle Noel"' in c.question)
    example = next(e for e in examples if e.id == first.example_id)
    diagnosis = analysis.diagnose_teacher(first, example)
    assert diagnosis.category == "wrong_step"
    assert diagnosis.first_wrong_step == 5  # four right letters, then "fnenl"
    assert 'as "fnenl"' in diagnosis.detail
