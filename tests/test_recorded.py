"""Spec of fcot.recorded: Kojima's recorded Zero-shot-CoT logs, their matching, rescoring and report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fcot import cli, recorded
from fcot.paths import DataUnavailableError
from fcot.records import Completion, Example, write_jsonl

# Every mirrored log under fcot's rules: (entries, correct), and (test entries, correct) on the official
# default split's test side. Computed once from the logs; entries checked by hand: date_understanding
# entry 1 (log "D" = 09/08/2021 is fcot's "A"), entry 2 (log GT "F" = 04/26/2002 is fcot's "C");
# tracking entry 1 ("(A) Sam." matches fcot's "(A) Sam", gold B = Helga).
MIRRORED = {
    "multiarith": ((600, 472), (180, 140)),
    "addsub": ((395, 282), (119, 85)),
    "coin_flip": ((500, 457), (150, 137)),
    "last_letter_concatenation": ((500, 288), (150, 83)),
    "commonsense_qa": ((1221, 789), (1221, 789)),
    "aqua": ((254, 85), (254, 85)),
    "date_understanding": ((369, 249), (111, 73)),
    "tracking_shuffled_objects": ((750, 393), (225, 111)),
}
ENTRIES = {task: counts[0][0] for task, counts in MIRRORED.items()}  # entries per mirrored log
SEP = "*" * 25
HEADER = (
    "*****************************\n"
    "Namespace(cot_trigger=\"Let's think step by step.\", dataset='multiarith', "
    "direct_answer_trigger='\\nTherefore, the answer (arabic numerals) is', method='zero_shot_cot')\n"
    "*****************************\n"
    "setup data loader ...\n"
    "data size : 3\n"
)


def block(n: int, question: str, rationale: str, completion: str, mode: str, gt: str, before: str | None = None) -> str:
    before = completion if before is None else before
    return (
        f"{SEP}\n{n}st data\n1_th_sampling\n"
        f"Q: {question}\nA: Let's think step by step.{rationale} \nTherefore, the answer (arabic numerals) is{completion}\n"
        f"pred_before : {before}\npred_after : {mode}\npred_list : [{mode!r}]\npred_mode : {mode}\nGT : {gt}\n{SEP}\n"
    )


SYNTHETIC = (
    HEADER
    + block(1, "Tom has 3 apples and buys 4. How many?", " \n\nTom has 3 + 4 = 7 apples.", " 7.", "7", "7")
    + block(
        2,
        "Ann had 10 pens\nand gave 4 away. How many are left?",
        " \nTherefore, the answer (arabic numerals) is 5, no:\n10 - 4 = 6.",
        " 6.\n\nQ: next question 9",
        "6",
        "6",
    )
    + block(3, "A cake costs 12.5 dollars. Price?", " It costs 12.5.", " 12.50 dollars.", "12.50", "12.5")
    + "accuracy : 66.66666666666666\n./log/multiarith_zero_shot_cot_api_log.json\n"
)


def number_example(i: int, question: str, answer: str, task: str = "multiarith") -> Example:
    return Example(task=task, id=str(i), question=question, answer=answer, answer_type="number", index=i)


SYNTHETIC_EXAMPLES = [
    number_example(0, "A cake costs 12.5 dollars.   Price?", "12.5"),
    number_example(1, "Tom has 3 apples and buys 4. How many?", "7"),
    number_example(2, "Ann had 10 pens and gave 4 away. How many are left?", "6"),
    number_example(3, "Never asked in the log?", "1"),
]


@pytest.fixture
def synthetic_log(tmp_path) -> Path:
    path = tmp_path / "multiarith_zero_shot_cot.log"
    path.write_text(SYNTHETIC, encoding="utf-8")
    return path


# -- reading logs ---------------------------------------------------------------------------


def test_read_log_splits_each_block_into_question_rationale_completion_and_verdict_fields(synthetic_log):
    log = recorded.read_log(synthetic_log)
    assert log.n == 3 and log.dataset == "multiarith"
    assert log.answer_trigger == "Therefore, the answer (arabic numerals) is"
    assert log.accuracy == pytest.approx(200 / 3)
    first, second, third = log.entries
    assert first.position == 1 and first.line == 7  # the 'Nst data' line
    assert first.question == "Tom has 3 apples and buys 4. How many?"
    assert first.rationale == " \n\nTom has 3 + 4 = 7 apples."  # the space Kojima adds before the trigger is gone
    assert first.answer_completion == " 7."
    assert (first.pred_after, first.pred_list, first.pred_mode, first.gold) == ("7", ("7",), "7", "7")
    assert first.log_correct
    # a multi-line question; the trigger inside the rationale; a multi-line completion
    assert second.question == "Ann had 10 pens\nand gave 4 away. How many are left?"
    assert second.rationale.endswith("10 - 4 = 6.") and "is 5, no:" in second.rationale
    assert second.answer_completion == " 6.\n\nQ: next question 9"
    assert second.pred_before == second.answer_completion
    assert not third.log_correct  # "12.50" != "12.5" as strings
    assert log.log_correct == 2


def test_read_log_splits_at_the_trigger_whose_remainder_is_pred_before(tmp_path):
    # the completion itself repeats the trigger: the first occurrence is the real one
    text = HEADER + block(1, "Q1?", " It is 3.", " 3. \nTherefore, the answer (arabic numerals) is", "3", "3") + "accuracy : 100.0\n"
    path = tmp_path / "x.log"
    path.write_text(text)
    entry = recorded.read_log(path).entries[0]
    assert entry.rationale == " It is 3."
    assert entry.answer_completion == " 3. \nTherefore, the answer (arabic numerals) is"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t: t.replace("GT : 6\n", ""), r":\d+: expected a line starting with 'GT :'"),
        (lambda t: t.split("accuracy :")[0], "does not end with an 'accuracy : N' line"),
        (lambda t: t.replace("pred_list : ['7']", "pred_list : ['7'"), r":\d+: pred_list is not a Python list literal"),
        (lambda t: t.replace("A: Let's think step by step. It costs", "A: It costs"), r":\d+: no 'A: Let's think"),
        (lambda t: t.replace("Therefore, the answer (arabic numerals) is 12.50", "So 12.50"), r":\d+: no stage-2 answer trigger"),
        (lambda t: HEADER, "no question blocks"),
    ],
)
def test_a_malformed_log_raises_naming_the_file_and_line(synthetic_log, mutate, message):
    synthetic_log.write_text(mutate(SYNTHETIC))
    with pytest.raises(recorded.LogFormatError) as error:
        recorded.read_log(synthetic_log)
    assert str(synthetic_log) in str(error.value)
    assert re.search(message, str(error.value)), str(error.value)


def test_read_log_of_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        recorded.read_log(tmp_path / "nope.log")


@pytest.mark.parametrize("task, n", ENTRIES.items())
def test_the_mirrored_logs_parse_completely_and_reproduce_their_recorded_accuracy(mirror, task, n):
    log = recorded.read_log(recorded.fetch_log(task, mirror=mirror))
    assert log.n == n
    assert [e.position for e in log.entries] == list(range(1, n + 1))
    assert 100.0 * log.log_correct / log.n == pytest.approx(log.accuracy, abs=1e-9)
    assert all(e.question and e.rationale.strip() and e.gold for e in log.entries)
    assert log.answer_trigger.startswith("Therefore,")


# -- the registry ---------------------------------------------------------------------------


def test_twelve_logs_are_registered_and_only_the_mirrored_eight_are_pinned_by_sha256():
    assert len(recorded.RECORDED_LOGS) == 12
    assert set(recorded.MIRRORED_TASKS) == set(ENTRIES)
    assert recorded.log_spec("last_letter_concatenation").file.path == "log/last_letters_zero_shot_cot.log"
    assert recorded.log_spec("commonsense_qa").file.path == "log/commonsensqa_zero_shot_cot.log"
    assert recorded.log_spec("svamp").sha256 is None


def test_an_unknown_task_has_no_log_and_the_error_names_the_accepted_ones():
    with pytest.raises(ValueError, match="accepted: multiarith, addsub"):
        recorded.log_spec("imagenet")


def test_a_registered_log_outside_the_mirror_says_it_is_not_available_and_where_to_put_it(mirror):
    with pytest.raises(DataUnavailableError) as error:
        recorded.load_recorded("svamp", mirror=mirror)
    message = str(error.value)
    assert "not available" in message and "not in the fcot data mirror" in message
    assert "kojima-takeshi188/zero_shot_cot/log/svamp_zero_shot_cot.log" in message


# -- matching and completions ---------------------------------------------------------------


def test_entries_match_examples_by_whitespace_normalised_question_text(synthetic_log):
    log = recorded.read_log(synthetic_log)
    run = recorded.match_log("multiarith", log, SYNTHETIC_EXAMPLES)
    assert [(e.position, x.id) for e, x in run.pairs] == [(1, "1"), (2, "2"), (3, "0")]
    assert run.unmatched_entries == () and run.unmatched_example_ids == ("3",)
    c = run.completions[2]
    assert (c.task, c.example_id, c.sample_index, c.source) == ("multiarith", "0", 0, "replay:text-davinci-002")
    assert c.question == "A cake costs 12.5 dollars.   Price?"  # fcot's text, which prompts are built from
    assert (c.answer_completion, c.prediction, c.gold, c.correct) == (" 12.50 dollars.", "12.50", "12.5", True)
    assert c.finish_reason is None


def test_kojima_choice_format_matches_fcot_choice_format():
    fcot_example = Example(
        task="aqua", id="97467", question="Pick one. Answer choices: (A) 5(√3 + 1), (B) 6, (C) 7.",
        answer="A", answer_type="choice", choices=("5(√3 + 1)", "6", "7"),
    )
    entry = recorded.LogEntry(1, 1, "Pick one. Answer Choices:  (A) 5 (√3 + 1)  (B) 6 (C) 7", " ", " A.", " A.",
                              "A", ("A",), "A", "A")
    match = recorded.match_entries([entry], [fcot_example])
    assert match.pairs == ((entry, fcot_example),) and match.unmatched == () and match.missing == ()


def test_a_repeated_question_pairs_with_the_example_whose_gold_equals_the_logs_gt():
    twins = [number_example(0, "Same?", "3", "addsub"), number_example(1, "Same?", "4", "addsub")]
    entry = recorded.LogEntry(1, 1, "Same?", " r", " 4", " 4", "4", ("4",), "4", "4")
    match = recorded.match_entries([entry], twins)
    assert match.pairs[0][1].id == "1" and match.missing == ("0",) and match.ambiguous == (entry,)


@pytest.mark.parametrize("task, n", ENTRIES.items())
def test_load_recorded_matches_every_entry_of_the_mirrored_logs(mirror, task, n):
    run = recorded.load_recorded(task, mirror=mirror)
    assert len(run.completions) == n and run.unmatched_entries == ()
    if task in ("aqua", "commonsense_qa"):
        assert run.covers == "test" and run.unmatched_example_ids == ()
    ids = [c.example_id for c in run.completions]
    assert len(set(ids)) == n
    assert all(c.source == "replay:text-davinci-002" and c.sample_index == 0 for c in run.completions)


# -- rescoring, CLI -------------------------------------------------------------------------


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_rescore_cli_json_reports_n_correct_and_accuracy_in_percent(mirror, capsys):
    log = recorded.fetch_log("addsub", mirror=mirror)
    code, out, _ = run_cli(capsys, "rescore", "--task", "addsub", "--completions", str(log), "--json")
    assert code == 0
    data = json.loads(out)
    assert {"n", "correct", "accuracy", "unmatched", "ambiguous"} <= set(data)
    assert data["unmatched"] == 0 and data["ambiguous"] == 0 and data["split"] == "all"
    assert data["n"] == 395 and data["correct"] == 282
    assert data["accuracy"] == pytest.approx(100 * 282 / 395)


def test_rescore_cli_prints_a_readable_summary(mirror, capsys):
    log = recorded.fetch_log("coin_flip", mirror=mirror)
    code, out, _ = run_cli(capsys, "rescore", "--task", "coin_flip", "--completions", str(log))
    assert code == 0
    assert "n: 500" in out and "correct: 457" in out and "accuracy: 91.40%" in out


def test_rescore_of_a_completions_jsonl_reparses_answer_completions(mirror, tmp_path, capsys):
    run = recorded.load_recorded("coin_flip", mirror=mirror)
    rows = list(run.completions[:20])
    # a stale stored verdict does not matter: the answer completion is parsed again
    rows[0] = Completion(**{**rows[0].__dict__, "correct": not rows[0].correct, "prediction": None})
    path = tmp_path / "completions.jsonl"
    write_jsonl(path, rows)
    code, out, _ = run_cli(capsys, "rescore", "--task", "coin_flip", "--completions", str(path), "--json")
    assert code == 0
    correct = sum(c.correct for c in run.completions[:20])
    assert json.loads(out) == {
        "n": 20, "correct": correct, "accuracy": pytest.approx(100 * correct / 20),
        "unmatched": 0, "ambiguous": 0, "examples": 20, "split": "all",
    }


@pytest.mark.parametrize(
    "content, expected",
    [
        ("{not json\n", r"completions.jsonl:1: malformed JSON"),
        ('{"task": "coin_flip"}\n', r"completions.jsonl:1: missing field"),
        (None, r"completions.jsonl:1: field 'example_id' '99999'"),
        ("wrong-task", r"completions.jsonl:1: field 'task' is 'addsub'"),
    ],
)
def test_rescore_cli_rejects_bad_completion_files_with_exit_2_naming_file_line_and_field(
    mirror, tmp_path, capsys, content, expected
):
    path = tmp_path / "completions.jsonl"
    good = dict(task="coin_flip", example_id="99999", sample_index=0, question="q", rationale="r",
                answer_completion=" yes", prediction="yes", gold="yes", correct=True)
    if content is None:
        write_jsonl(path, [good])
    elif content == "wrong-task":
        write_jsonl(path, [{**good, "task": "addsub", "example_id": "0"}])
    else:
        path.write_text(content)
    code, out, err = run_cli(capsys, "rescore", "--task", "coin_flip", "--completions", str(path), "--json")
    assert code == 2 and out == ""
    assert re.search(expected, err), err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--task", "nope", "--completions", "LOG"], "unknown task 'nope'; accepted: single_eq"),
        (["--task", "coin_flip", "--completions", "/no/such/file.jsonl"], "/no/such/file.jsonl: no such file"),
        (["--task", "aqua", "--completions", "LOG"], "not on 'aqua'; pass --task coin_flip"),
    ],
)
def test_rescore_cli_errors_are_one_line_with_exit_2(mirror, capsys, argv, expected):
    log = str(recorded.fetch_log("coin_flip", mirror=mirror))
    code, _, err = run_cli(capsys, "rescore", *[log if a == "LOG" else a for a in argv])
    assert code == 2 and expected in err
    assert len(err.strip().splitlines()) == 1


def test_report_recorded_cli_reports_a_missing_log_in_one_line_with_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "report-recorded", "--mirror", str(tmp_path))
    assert code == 2 and "not available" in err and len(err.strip().splitlines()) == 1


# -- the README report ----------------------------------------------------------------------


def test_differences_classify_string_comparison_as_the_cause(synthetic_log):
    log = recorded.read_log(synthetic_log)
    run = recorded.match_log("multiarith", log, SYNTHETIC_EXAMPLES)
    found = recorded.disagreements(run)
    assert [(d.entry.position, d.cause, d.fcot_correct) for d in found] == [(3, "string_compare", True)]
    assert "'12.50' vs GT '12.5'" in found[0].detail


def test_differences_name_gold_mismatches_and_unmatched_questions_are_not_scored(synthetic_log):
    log = recorded.read_log(synthetic_log)
    examples = [number_example(1, "Tom has 3 apples and buys 4. How many?", "8"), SYNTHETIC_EXAMPLES[2]]
    run = recorded.match_log("multiarith", log, examples)
    causes = {d.entry.position: d.cause for d in recorded.differences(run)}
    assert causes == {1: "gold"}
    assert [e.position for e in run.unmatched_entries] == [3]  # no example: reported, never scored
    score, _ = recorded.score_log("multiarith", log, examples)
    assert (score.n, score.correct, score.unmatched) == (2, 1, 1)


def test_the_report_block_replaces_only_the_text_between_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# T\n\n{recorded.BEGIN_MARKER}\nold\n{recorded.END_MARKER}\n\nrest\n")
    recorded.write_report_block(readme, "| a |\n")
    assert readme.read_text() == f"# T\n\n{recorded.BEGIN_MARKER}\n| a |\n{recorded.END_MARKER}\n\nrest\n"
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="needs the markers"):
        recorded.write_report_block(readme, "x")


def test_the_committed_readme_block_is_what_the_generator_writes_today(mirror):
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text(encoding="utf-8")
    start = text.index(recorded.BEGIN_MARKER) + len(recorded.BEGIN_MARKER)
    block = text[start : text.index(recorded.END_MARKER)].strip("\n")
    generated = recorded.report_recorded(mirror=mirror)
    assert block == generated, "README is stale: run `python -m fcot report-recorded --write README.md`"
    for task in ENTRIES:
        assert f"| {task} |" in block


# -- every mirrored log, matched and scored --------------------------------------------------


@pytest.mark.parametrize("task", MIRRORED)
def test_every_mirrored_log_matches_all_entries_and_scores_as_stated(mirror, capsys, task):
    (n, correct), (n_test, correct_test) = MIRRORED[task]
    log = str(recorded.fetch_log(task, mirror=mirror))
    for split, expected in (("all", (n, correct)), ("test", (n_test, correct_test))):
        code, out, _ = run_cli(capsys, "rescore", "--task", task, "--completions", log, "--split", split, "--json")
        data = json.loads(out)
        assert code == 0 and data["unmatched"] == 0
        assert (data["n"], data["correct"]) == expected
        assert data["accuracy"] == pytest.approx(100 * expected[1] / expected[0])


def test_the_date_log_letters_are_mapped_through_the_option_texts_into_the_official_order(mirror):
    run = recorded.load_recorded("date_understanding", mirror=mirror)
    (first, example), completion = run.pairs[0], run.completions[0]
    assert first.position == 1 and "09/08/2021" in first.question
    assert example.choices[0] == "09/08/2021"  # log "(D) 09/08/2021" is fcot's option A
    assert (first.pred_mode, first.gold, completion.answer_completion, completion.prediction) == ("A", "A", " A.", "A")
    assert completion.rationale.endswith("Therefore, the answer is (A).")  # the log wrote "(D)"
    second = run.completions[1]
    assert second.prediction == "B" and second.gold == "C" and not second.correct  # log: D (04/25) vs GT F (04/26)
    # whatever the order, the log's verdicts are kept: fcot's accuracy equals the recorded one
    assert sum(c.correct for c in run.completions) == run.log.log_correct


def test_choice_entries_match_by_stem_and_option_set_whatever_the_order_and_trailing_periods():
    example = Example(task="tracking_shuffled_objects", id="7",
                      question="Alice has the \nWhich choice is true? Answer choices: (A) Sam, (B) Helga, (C) Karl.",
                      answer="B", answer_type="choice", choices=("Sam", "Helga", "Karl"))
    shuffled = recorded.LogEntry(1, 1, "Alice has the\nWhich choice is true ? Answer Choices: (A) Karl. (B) Sam. (C) Helga.",
                                 " r (C).", " C.", " C.", "C", ("C",), "C", "C")
    other = recorded.LogEntry(2, 9, "Alice has the Answer Choices: (A) Karl (B) Sam (C) Bob", " r", " A.", " A.",
                              "A", ("A",), "A", "A")
    match = recorded.match_entries([shuffled, other], [example])
    [(entry, paired)] = match.pairs
    assert paired is example and (entry.pred_mode, entry.gold, entry.rationale) == ("B", "B", " r (B).")
    assert match.unmatched == (other,) and match.missing == ()


def test_repeated_option_texts_map_in_order():
    example = Example(task="aqua", id="1", question="Q? Answer choices: (A) 8.75, (B) 8.79, (C) 8.75.",
                      answer="C", answer_type="choice", choices=("8.75", "8.79", "8.75"))
    entry = recorded.LogEntry(1, 1, "Q? Answer Choices: (A) 8.75 (B) 8.79 (C) 8.75", " r", " C.", " C.", "C",
                              ("C",), "C", "C")
    assert recorded.letter_map(entry, example) == {"A": "A", "B": "B", "C": "C"}


def test_duplicate_questions_are_paired_in_order_and_counted_as_ambiguous(mirror):
    run = recorded.load_recorded("multiarith", mirror=mirror)
    assert len(run.ambiguous_entries) == 40  # MultiArith has 20 pairs of identical questions, one gold each
    ids = [c.example_id for c in run.completions]
    assert len(set(ids)) == 600 and run.unmatched_entries == ()


@pytest.mark.parametrize("content, expected", [("", "the file is empty"), (b"\xff\xfe", "not UTF-8")])
def test_rescore_refuses_an_empty_or_undecodable_file_naming_it(mirror, tmp_path, capsys, content, expected):
    path = tmp_path / "completions.jsonl"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    code, out, err = run_cli(capsys, "rescore", "--task", "coin_flip", "--completions", str(path))
    assert code == 2 and out == "" and expected in err and "completions.jsonl" in err


def test_rescore_of_a_test_only_log_on_the_train_side_is_an_error_not_zero_percent(mirror, capsys):
    log = str(recorded.fetch_log("aqua", mirror=mirror))
    code, out, err = run_cli(capsys, "rescore", "--task", "aqua", "--completions", log, "--split", "train")
    assert code == 2 and out == "" and "no completion of aqua on the train side" in err
