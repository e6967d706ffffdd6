"""The replay backend: recorded text-davinci-002 completions served by question text."""

from __future__ import annotations

import pytest

from fcot.recorded import load_recorded
from fcot.tasks import load_split
from fcot.teachers import generate, make_backend, summarize
from fcot.teachers.replay import MissingRecordingError, ReplayBackend


@pytest.fixture(scope="module")
def multiarith(mirror):
    return load_split("multiarith", mirror=mirror).train[:25], load_recorded("multiarith", mirror=mirror)


def test_replay_reproduces_the_recorded_rationales_answers_and_parses(multiarith):
    examples, recorded = multiarith
    by_question = {c.question: c for c in recorded.completions}
    completions = generate(examples, make_backend("replay", task="multiarith"))
    assert len(completions) == len(examples)
    for completion in completions:
        original = by_question[completion.question]
        assert completion.rationale == original.rationale
        assert completion.answer_completion == original.answer_completion
        assert (completion.prediction, completion.correct) == (original.prediction, original.correct)
        assert completion.source == "replay:text-davinci-002"
        assert completion.finish_reason is None and completion.prompt_tokens is None
    summary = summarize(completions)
    assert summary["truncation_rate"] is None and summary["prompt_tokens"] is None
    assert summary["cost_usd"] == 0.0  # replaying recordings costs nothing
    assert summary["teacher_accuracy"] > 0.7  # text-davinci-002 gets ~80% of MultiArith with Zero-shot-CoT


@pytest.mark.parametrize("settings", [{"degree": 2}, {"temperature": 0.7}])
def test_replay_refuses_sampling_because_only_greedy_runs_were_recorded(multiarith, settings):
    examples, recorded = multiarith
    with pytest.raises(ValueError, match="replays greedy recordings"):
        generate(examples[:2], ReplayBackend(completions=recorded.completions), **settings)


def test_questions_without_a_recording_are_listed_before_any_call(multiarith):
    examples, recorded = multiarith
    backend = ReplayBackend(task="multiarith", completions=recorded.completions[:0] + tuple(
        c for c in recorded.completions if c.question != examples[3].question
    ))
    with pytest.raises(MissingRecordingError, match=rf"1 of 25 questions have no recorded completion:\n  {examples[3].id}: "):
        generate(examples, backend)


def test_on_missing_skip_drops_unrecorded_questions_with_a_warning_and_keeps_their_ids(multiarith):
    examples, recorded = multiarith
    keep = tuple(c for c in recorded.completions if c.question not in {examples[0].question, examples[1].question})
    backend = ReplayBackend(completions=keep, on_missing="skip")
    with pytest.warns(UserWarning, match="2 of 25 questions have no recorded completion"):
        completions = generate(examples, backend)
    assert len(completions) == 23
    assert backend.missing_ids == [examples[0].id, examples[1].id]


def test_replay_matches_questions_ignoring_whitespace_and_case(multiarith):
    examples, recorded = multiarith
    from fcot.teachers.base import GenerationRequest

    question = "  " + examples[0].question.upper().replace(" ", "   ") + " "
    [result] = ReplayBackend(completions=recorded.completions).complete(
        [GenerationRequest(f"Q: {question}\nA: Let's think step by step.")]
    )
    assert result.text == next(c.rationale for c in recorded.completions if c.question == examples[0].question)


def test_replay_rejects_a_bad_on_missing_value():
    with pytest.raises(ValueError, match=r"on_missing must be one of \('error', 'skip'\)"):
        ReplayBackend(completions=(), on_missing="ignore")


def test_a_recorded_rationale_that_writes_a_next_question_still_gets_its_answer():
    from fcot.records import Completion, Example

    rambling = " 2 + 2 = 4.\n\nQ: What is 3 plus 3?\nA: 6."
    recorded = Completion("toy", "r0", 0, "What is 2 plus 2?", rambling, " 4.", "4", "4", True)
    [completion] = generate([Example("toy", "r0", "What is 2 plus 2?", "4", "number")], ReplayBackend(completions=[recorded]))
    assert completion.rationale == rambling and completion.answer_completion == " 4." and completion.correct


def test_replay_covers_every_multiarith_train_question(mirror):
    examples = load_split("multiarith", mirror=mirror).train
    completions = generate(examples, ReplayBackend(task="multiarith"))
    assert len(completions) == len(examples)


REPLAY_TASKS = ("multiarith", "addsub", "coin_flip", "last_letter_concatenation", "date_understanding",
                "tracking_shuffled_objects")  # the mirrored logs that cover train and test


@pytest.mark.parametrize("task", REPLAY_TASKS)
def test_replay_serves_every_official_train_and_test_question_of_the_mirrored_full_logs(mirror, task):
    split = load_split(task, mirror=mirror)
    backend = ReplayBackend(task=task)
    for part in (split.official_train, split.test):
        assert backend.filter_examples(part) == part, f"{task}: {backend.missing_ids[:5]}"


def test_replay_on_date_understanding_answers_in_the_official_option_order(mirror):
    """Kojima's Date log shuffled the options: the replayed answer is rewritten into fcot's order."""
    split = load_split("date_understanding", mirror=mirror)
    completions = generate(split.official_train, ReplayBackend(task="date_understanding"))
    recorded = {c.example_id: c for c in load_recorded("date_understanding", mirror=mirror).completions}
    assert all(c.correct == recorded[c.example_id].correct for c in completions)
    # the log's accuracy on these questions (176 of 258, counted with the log's own letters)
    assert sum(c.correct for c in completions) == 176 and len(completions) == 258


def test_a_task_without_a_mirrored_log_says_which_log_is_missing(tmp_path):
    from fcot.paths import DataUnavailableError

    with pytest.raises(DataUnavailableError, match="strategyqa_zero_shot_cot.log"):
        load_recorded("strategy_qa", mirror=tmp_path)
