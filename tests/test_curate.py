"""fcot.curate: filtering teacher completions and formatting them as fine-tuning samples."""

from __future__ import annotations

import pytest

from fcot.curate import (
    FILTER_MODES,
    FORMATS,
    Sample,
    compare_modes,
    curate,
    format_for,
    format_sample,
    inference_prompt,
    read_samples,
    sample_lengths,
    samples_texts,
    write_samples,
)
from fcot.records import Completion, Example, RecordError


def example(i: int, answer: str = "nk", answer_type: str = "text", question: str | None = None) -> Example:
    return Example("synth_last_letter", f"e{i}", question or f'Take the last letters of the words in "W{i} X{i}".',
                   answer, answer_type)


def completion(i: int, k: int, correct: bool, rationale: str = " The last letter of W is n. So the answer is nk.") -> Completion:
    return Completion("synth_last_letter", f"e{i}", k, example(i).question, rationale, " nk.",
                      "nk" if correct else "xx", "nk", correct, "stop", None, None, "simulated")


# three examples, degree 2: e0 both right, e1 one right, e2 none right
EXAMPLES = [example(0), example(1), example(2)]
COMPLETIONS = [completion(0, 0, True), completion(0, 1, True), completion(1, 0, False), completion(1, 1, True),
               completion(2, 0, False), completion(2, 1, False)]


# -- formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, expected",
    [
        ("ft_cot", [("Q? ###", " R. --> A")]),
        ("ft_cot_encdec", [("Q?", "R. --> A")]),
        ("vanilla", [("Q? ###", " A")]),
        ("vanilla_encdec", [("Q?", "A")]),
        ("multitask", [("[label] Q? ###", " A"), ("[rationale] Q? ###", " R.")]),
        ("multitask_encdec", [("[label] Q?", "A"), ("[rationale] Q?", "R.")]),
    ],
)
def test_sample_formats_follow_the_official_templates(fmt, expected):
    assert format_sample("  Q?\n", " A ", fmt, rationale="  R.\n") == expected


@pytest.mark.parametrize(
    "fmt, prompt",
    [("ft_cot", "Q? ###"), ("vanilla", "Q? ###"), ("multitask", "[label] Q? ###"), ("ft_cot_encdec", "Q?"),
     ("multitask_encdec", "[label] Q?")],
)
def test_inference_prompts_are_the_training_prompts_of_the_answer_task(fmt, prompt):
    assert inference_prompt(" Q? ", fmt) == prompt


def test_format_for_maps_method_and_student_kind():
    assert format_for("ft_cot", "decoder") == "ft_cot"
    assert format_for("vanilla", "encoder_decoder") == "vanilla_encdec"
    with pytest.raises(ValueError, match="accepted: \\('ft_cot', 'vanilla', 'multitask'\\)"):
        format_for("zero_shot", "decoder")


# -- filtering and counts -----------------------------------------------------------------------


def test_correct_only_keeps_only_rationales_with_the_right_answer():
    result = curate(COMPLETIONS, EXAMPLES, mode="correct_only", fmt="ft_cot")
    assert [(s.example_id, s.sample_index) for s in result.samples] == [("e0", 0), ("e0", 1), ("e1", 1)]
    report = result.report
    assert (report.examples, report.examples_with_completion, report.examples_with_correct) == (3, 3, 2)
    assert (report.completions, report.completions_correct, report.completions_filtered) == (6, 3, 3)
    assert report.samples_kept == 3 and report.examples_with_sample == 2
    assert report.share_filtered == pytest.approx(0.5)


def test_keep_all_keeps_every_rationale():
    result = curate(COMPLETIONS, EXAMPLES, mode="keep_all", fmt="ft_cot")
    assert len(result.samples) == 6 and result.report.completions_filtered == 0 and result.report.share_filtered == 0


def test_keep_all_matched_keeps_a_random_subset_of_all_rationales_as_large_as_correct_only():
    matched = curate(COMPLETIONS, EXAMPLES, mode="keep_all_matched", fmt="ft_cot")
    correct = curate(COMPLETIONS, EXAMPLES, mode="correct_only", fmt="ft_cot")
    assert len(matched.samples) == len(correct.samples) == 3
    assert matched.report.completions_filtered == 3
    assert [s.sample_index for s in matched.samples] == [
        s.sample_index for s in curate(COMPLETIONS, EXAMPLES, mode="keep_all_matched", fmt="ft_cot").samples]  # seeded
    all_kept = {(s.example_id, s.sample_index) for s in curate(COMPLETIONS, EXAMPLES, mode="keep_all").samples}
    assert {(s.example_id, s.sample_index) for s in matched.samples} <= all_kept


def test_samples_carry_the_gold_answer_not_the_teachers_prediction():
    result = curate(COMPLETIONS, EXAMPLES, mode="keep_all", fmt="ft_cot")
    wrong = [s for s in result.samples if s.example_id == "e2"]
    assert all(s.completion.endswith(" --> nk") for s in wrong)
    assert result.samples[0] == Sample("e0", 0, EXAMPLES[0].question + " ###",
                                       " The last letter of W is n. So the answer is nk. --> nk", "ft_cot")


def test_completions_of_other_examples_never_become_samples():
    stray = completion(9, 0, True)
    result = curate(COMPLETIONS + [stray], EXAMPLES, fmt="ft_cot")
    assert "e9" not in {s.example_id for s in result.samples}
    assert result.report.completions_unknown_example == 1


def test_vanilla_needs_no_teacher_and_gives_one_sample_per_example():
    result = curate([], EXAMPLES, mode="correct_only", fmt="vanilla")
    assert [(s.example_id, s.completion) for s in result.samples] == [("e0", " nk"), ("e1", " nk"), ("e2", " nk")]


def test_multitask_gives_a_label_and_a_rationale_sample_per_kept_rationale():
    result = curate(COMPLETIONS, EXAMPLES, fmt="multitask")
    assert [s.sample_index for s in result.samples] == [0, 1, 2, 3, 2, 3]
    assert [s.prompt.split(" ", 1)[0] for s in result.samples[:2]] == ["[label]", "[rationale]"]


def test_stop_phrase_is_appended_for_openai_style_fine_tuning():
    result = curate(COMPLETIONS, EXAMPLES, fmt="ft_cot", stop_phrase=" END")
    assert all(s.completion.endswith(" --> nk END") for s in result.samples)


def test_compare_modes_has_one_row_per_filter_mode():
    table = compare_modes(COMPLETIONS, EXAMPLES)
    assert list(table.index) == list(FILTER_MODES)
    assert list(table["samples_kept"]) == [3, 6, 3]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "best_of"}, "accepted: \\('correct_only', 'keep_all', 'keep_all_matched'\\)"),
        ({"fmt": "chat"}, "accepted: \\('ft_cot'"),
        ({"max_sample_tokens": 10}, "pass tokenizer="),
        ({"max_rationale_tokens": 0, "tokenizer": object()}, "must be >= 1"),
    ],
)
def test_bad_parameters_are_rejected_naming_what_is_accepted(kwargs, message):
    with pytest.raises(ValueError, match=message):
        curate(COMPLETIONS, EXAMPLES, **kwargs)


def test_duplicate_examples_are_an_error():
    with pytest.raises(ValueError, match="duplicate example id 'e0'"):
        curate(COMPLETIONS, [example(0), example(0)])


# -- length limits --------------------------------------------------------------------------------


class WordTokenizer:
    """One token per whitespace-separated word (enough to count and cut)."""

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": list(range(len(text.split())))}

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(f"w{i}" for i in ids)


def test_long_rationales_are_cut_to_the_token_limit_and_counted():
    result = curate(COMPLETIONS, EXAMPLES, mode="keep_all", tokenizer=WordTokenizer(), max_rationale_tokens=4)
    assert result.report.rationales_truncated == 6
    assert result.samples[0].completion == " w0 w1 w2 w3 --> nk"


def test_samples_over_the_token_limit_are_dropped_and_counted():
    long = Example("synth_last_letter", "e5", "word " * 30, "nk", "text")
    short = Example("synth_last_letter", "e6", "short question", "nk", "text")
    result = curate([], [long, short], fmt="vanilla", tokenizer=WordTokenizer(), max_sample_tokens=10)
    assert [s.example_id for s in result.samples] == ["e6"]
    assert result.report.samples_dropped_too_long == 1


def test_sample_lengths_count_tokens_as_trained_or_characters():
    samples = curate([], EXAMPLES[:1], fmt="vanilla").samples
    # decoder: prompt words + completion words + EOS
    assert sample_lengths(samples, WordTokenizer()) == [len(samples[0].prompt.split()) + 1 + 1]
    assert sample_lengths(samples) == [len(samples[0].prompt) + len(samples[0].completion)]


# -- records ------------------------------------------------------------------------------------------


def test_samples_round_trip_through_jsonl(tmp_path):
    samples = curate(COMPLETIONS, EXAMPLES, fmt="multitask").samples
    path = write_samples(tmp_path / "samples.jsonl", samples)
    assert read_samples(path) == samples
    assert samples_texts(samples[:1]) == [samples[0].prompt, samples[0].completion]


def test_a_sample_with_an_unknown_format_is_a_record_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"example_id": "e0", "sample_index": 0, "prompt": "p", "completion": "c", "format": "chat"}\n')
    with pytest.raises(RecordError, match="bad.jsonl:1.*format 'chat' is not one of"):
        read_samples(path)
    assert set(FORMATS) >= {"ft_cot", "vanilla", "multitask"}
