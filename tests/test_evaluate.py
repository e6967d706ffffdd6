"""Specs for fcot.evaluate: batched generation, parsing, accuracy intervals, baselines, tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from fcot import evaluate
from fcot.evaluate import (
    EvalResult,
    accuracy_interval,
    evaluate_student,
    generate_completions,
    generate_outputs,
    majority_vote,
    prompt_for,
    random_baseline,
    results_table,
    teacher_baseline,
    wilson_interval,
)
from fcot.records import Completion, Example
from fcot.students import build_tiny_student, train_tokenizer

NAMES = ["Ann", "Bob", "Carl", "Dora", "Eve", "Finn"]


def coin(i: int, flips: int, answer: str) -> Example:
    people = " ".join(f"{NAMES[(i + j) % len(NAMES)]} flips the coin." for j in range(flips))
    return Example("coin_flip", f"c{i}", f"A coin is heads up. {people} Is the coin still heads up?", answer, "yes_no")


EXAMPLES = [coin(i, 1 + i % 4, "yes" if i % 2 else "no") for i in range(12)]
TEXTS = [e.question + " ###" for e in EXAMPLES] + [" The coin was flipped once. --> no END", " So it is heads. --> yes"]


@pytest.fixture(scope="module")
def gpt2():
    model, tokenizer = build_tiny_student("tiny-gpt2-xs", TEXTS, seed=0)
    return model.eval(), tokenizer


@pytest.fixture(scope="module")
def t5():
    model, tokenizer = build_tiny_student("tiny-t5-xs", TEXTS, seed=0)
    return model.eval(), tokenizer


class ScriptedModel(torch.nn.Module):
    """A stand-in student whose completions are scripted per prompt (``script(prompt, k) -> text``).

    It speaks the ``generate`` interface evaluate uses (left-padded ids + attention mask in, prompt
    + new ids out, finished rows padded), so parsing, voting and scoring are tested exactly.
    """

    def __init__(self, tokenizer, script, encoder_decoder: bool = False):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.tokenizer = tokenizer
        self.script = script
        self.config = type("Config", (), {"is_encoder_decoder": encoder_decoder})()
        self.calls: list[dict] = []

    def generate(self, input_ids, attention_mask, max_new_tokens, num_return_sequences=1, pad_token_id=0,
                 eos_token_id=1, **options):
        self.calls.append({"batch": input_ids.shape[0], "max_new_tokens": max_new_tokens, **options})
        rows = []
        for ids, mask in zip(input_ids.tolist(), attention_mask.tolist()):
            prompt = self.tokenizer.decode([t for t, m in zip(ids, mask) if m])
            for k in range(num_return_sequences):
                new = self.tokenizer(self.script(prompt, k), add_special_tokens=False)["input_ids"] + [eos_token_id]
                rows.append(new[:max_new_tokens])
        width = max(len(r) for r in rows)
        new = torch.tensor([r + [pad_token_id] * (width - len(r)) for r in rows])
        prefix = input_ids.repeat_interleave(num_return_sequences, dim=0)
        if self.config.is_encoder_decoder:
            prefix = torch.full((new.shape[0], 1), pad_token_id)
        return torch.cat([prefix, new], dim=1)


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS + ["Q: A: Let's think step by step. Therefore, the answer is (A) 12"], vocab_size=300)


# -- prompts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, encdec, expected",
    [
        ("ft_cot", False, "How many? ###"),
        ("ft_cot", True, "How many?"),
        ("vanilla", False, "How many? ###"),
        ("vanilla", True, "How many?"),
        ("multitask", False, "[label] How many? ###"),
        ("zero_shot", False, "Q: How many?\nA: The answer is"),
        ("zero_shot_cot", False, "Q: How many?\nA: Let's think step by step."),
        ("few_shot_cot", False, "Q: 1+1?\nA: 1+1=2. The answer is 2.\n\nQ: How many?\nA:"),
    ],
)
def test_prompt_for_follows_the_curation_and_prompting_contracts(fmt, encdec, expected):
    example = Example("t", "0", "  How many? ", "3", "number")
    exemplars = "Q: 1+1?\nA: 1+1=2. The answer is 2.\n"
    assert prompt_for(example, fmt, encdec, exemplars=exemplars) == expected


def test_prompt_for_rejects_unknown_formats_and_few_shot_without_exemplars():
    with pytest.raises(ValueError, match="accepted"):
        prompt_for("q", "ft_natural")
    with pytest.raises(ValueError, match="exemplars"):
        prompt_for("q", "few_shot_cot")


# -- generation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("student", ["gpt2", "t5"])
def test_batched_greedy_generation_equals_one_prompt_at_a_time(student, request):
    model, tok = request.getfixturevalue(student)
    prompts = [prompt_for(e, "ft_cot", student == "t5") for e in EXAMPLES]
    batched = generate_outputs(model, tok, prompts, batch_size=5, max_new_tokens=12)
    single = generate_outputs(model, tok, prompts, batch_size=1, max_new_tokens=12)
    assert batched == single
    assert all(len(g) == 1 for g in batched)


def test_completion_text_is_only_the_generated_part(gpt2):
    model, tok = gpt2
    prompt = prompt_for(EXAMPLES[0], "ft_cot")
    [text] = generate_completions(model, tok, [prompt], max_new_tokens=6)
    ids = tok(prompt, return_tensors="pt")
    full = model.generate(**ids, max_new_tokens=6, do_sample=False, pad_token_id=tok.pad_token_id)
    assert text == tok.decode(full[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert not text.startswith(prompt)


def test_generation_stops_at_eos_and_at_the_end_marker_and_reports_it(tokenizer):
    script = {"a ###": "The coin was flipped once. --> no END and more", "b ###": "So it is heads. --> yes",
              "c ###": "So it is heads. " * 30}
    model = ScriptedModel(tokenizer, lambda prompt, k: script[prompt])
    outputs = generate_outputs(model, tokenizer, ["a ###", "b ###", "c ###"], max_new_tokens=40)
    assert [o[0].text for o in outputs][:2] == ["The coin was flipped once. --> no", "So it is heads. --> yes"]
    assert [o[0].stopped for o in outputs] == [True, True, False]  # the third ran into max_new_tokens
    assert outputs[2][0].tokens == 40


def test_generation_sorts_by_length_batches_and_returns_prompt_order(tokenizer):
    model = ScriptedModel(tokenizer, lambda prompt, k: prompt.upper())
    prompts = ["b", "a long prompt here", "c c", "dd", "e"]
    assert generate_completions(model, tokenizer, prompts, batch_size=2) == [p.upper() for p in prompts]
    assert [c["batch"] for c in model.calls] == [2, 2, 1]


def test_sampling_returns_k_completions_per_prompt_and_repeats_with_the_seed(gpt2):
    model, tok = gpt2
    prompts = [prompt_for(e, "ft_cot") for e in EXAMPLES[:3]]
    first = generate_completions(model, tok, prompts, do_sample=True, temperature=1.0, num_return_sequences=3,
                                 max_new_tokens=8, seed=7)
    again = generate_completions(model, tok, prompts, do_sample=True, temperature=1.0, num_return_sequences=3,
                                 max_new_tokens=8, seed=7)
    assert first == again
    assert [len(c) for c in first] == [3, 3, 3]
    assert len({c for cs in first for c in cs}) > 1  # sampled, not greedy


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"num_return_sequences": 2}, "do_sample"),
        ({"do_sample": True, "temperature": 0.0}, "temperature"),
    ],
)
def test_generation_rejects_bad_parameters_naming_them(tokenizer, kwargs, message):
    model = ScriptedModel(tokenizer, lambda prompt, k: "x")
    with pytest.raises(ValueError, match=message):
        generate_outputs(model, tokenizer, ["a"], **kwargs)


# -- evaluation ---------------------------------------------------------------------------------


def test_evaluate_student_parses_scores_and_records_each_prediction(tokenizer):
    answers = {e.question + " ###": ("Flipped. --> yes" if i % 3 else "Flipped.") for i, e in enumerate(EXAMPLES)}
    model = ScriptedModel(tokenizer, lambda prompt, k: answers[prompt])
    result = evaluate_student(model, tokenizer, EXAMPLES, fmt="ft_cot", batch_size=4)
    frame = result.frame()
    assert list(frame.columns) == ["example_id", "task", "prompt", "completion", "prediction", "gold", "correct", "stopped"]
    assert frame["example_id"].tolist() == [e.id for e in EXAMPLES]
    # every third completion has no answer: None, wrong; the others say yes, right on odd ids
    expected = [(i % 3 != 0) and (i % 2 == 1) for i in range(len(EXAMPLES))]
    assert frame["correct"].tolist() == expected
    assert [row["prediction"] for row in result.predictions] == [("yes" if i % 3 else None) for i in range(len(EXAMPLES))]
    assert result.accuracy == pytest.approx(sum(expected) / len(EXAMPLES))
    assert (result.low, result.high) == wilson_interval(sum(expected), len(EXAMPLES))
    assert result.stop_rate == 1.0 and result.method == "ft_cot" and result.task == "coin_flip" and result.n == 12


def test_vanilla_reads_the_first_candidate_of_an_answer_only_completion(tokenizer):
    model = ScriptedModel(tokenizer, lambda prompt, k: "no, yes")
    result = evaluate_student(model, tokenizer, EXAMPLES[:2], fmt="vanilla")
    assert result.frame()["prediction"].tolist() == ["no", "no"]


def test_self_consistency_votes_over_k_samples(tokenizer):
    votes = ["Hm. --> yes", "Hm. --> no", "Hm. --> no", "Hm.", "Hm. --> yes"]
    model = ScriptedModel(tokenizer, lambda prompt, k: votes[k])
    result = evaluate_student(model, tokenizer, EXAMPLES[:2], fmt="ft_cot", self_consistency=5, temperature=0.7)
    frame = result.frame()
    assert frame["prediction"].tolist() == ["yes", "yes"]  # 2 yes vs 2 no: the first seen wins
    assert frame["votes"].tolist()[0] == ["yes", "no", "no", None, "yes"]
    assert len(frame["completions"][0]) == 5
    assert result.method == "ft_cot+sc5"
    assert model.calls[0]["do_sample"] is True and model.calls[0]["temperature"] == 0.7


def test_zero_shot_cot_asks_the_answer_in_a_second_stage_with_the_rationale(tokenizer):
    def script(prompt, k):
        return " Ann flips it once, so it is tails." if prompt.endswith("step by step.") else " no."

    model = ScriptedModel(tokenizer, script)
    result = evaluate_student(model, tokenizer, EXAMPLES[:2], fmt="zero_shot_cot")
    row = result.predictions[0]
    assert row["rationale"] == " Ann flips it once, so it is tails."
    assert row["completion"] == " no." and row["prediction"] == "no"
    assert result.frame()["correct"].tolist() == [True, False]
    assert [c["max_new_tokens"] for c in model.calls] == [128, evaluate.ZERO_SHOT_COT_ANSWER_TOKENS]


def test_few_shot_cot_cuts_the_invented_next_exemplar_and_reads_after_the_answer_prefix(tokenizer):
    model = ScriptedModel(tokenizer, lambda prompt, k: " 1 flip, so no. The answer is yes.\nQ: The answer is no")
    result = evaluate_student(model, tokenizer, EXAMPLES[:1], fmt="few_shot_cot", exemplars="Q: x\nA: The answer is no.\n")
    assert result.predictions[0]["completion"] == " 1 flip, so no. The answer is yes."
    assert result.predictions[0]["prediction"] == "yes"


def test_evaluate_student_validates_its_parameters(tokenizer):
    model = ScriptedModel(tokenizer, lambda prompt, k: "x")
    with pytest.raises(ValueError, match="accepted"):
        evaluate_student(model, tokenizer, EXAMPLES, fmt="cot")
    with pytest.raises(ValueError, match="self_consistency"):
        evaluate_student(model, tokenizer, EXAMPLES, self_consistency=-1)
    with pytest.raises(ValueError, match="at least one example"):
        evaluate_student(model, tokenizer, [])


def test_a_real_tiny_student_evaluates_end_to_end(t5):
    model, tok = t5
    result = evaluate_student(model, tok, EXAMPLES, fmt="ft_cot", max_new_tokens=8, batch_size=4)
    assert result.n == len(EXAMPLES) and 0.0 <= result.accuracy <= 1.0
    assert 0.0 <= result.stop_rate <= 1.0
    assert result.low <= result.accuracy <= result.high


# -- voting, intervals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers, expected",
    [
        (["a", "b", "b"], "b"),
        (["a", "b", "b", "a"], "a"),  # tie: first seen
        ([None, None, "c"], "c"),  # None does not vote
        ([None, "b", None, "a", "a"], "a"),
        ([None, None], None),
        ([], None),
    ],
)
def test_majority_vote(answers, expected):
    assert majority_vote(answers) == expected


@pytest.mark.parametrize(
    "successes, n, low, high",
    [
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_wilson_interval_matches_known_values(successes, n, low, high):
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_narrows_with_lower_confidence():
    wide, narrow = wilson_interval(30, 60, 0.99), wilson_interval(30, 60, 0.90)
    assert wide[0] < narrow[0] < 0.5 < narrow[1] < wide[1]


def test_bootstrap_interval_agrees_with_the_normal_approximation_and_repeats():
    correct = [True] * 600 + [False] * 400
    low, high = accuracy_interval(correct, "bootstrap")
    half = 1.96 * math.sqrt(0.6 * 0.4 / 1000)
    assert low == pytest.approx(0.6 - half, abs=0.005) and high == pytest.approx(0.6 + half, abs=0.005)
    assert accuracy_interval(correct, "bootstrap") == (low, high)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: accuracy_interval([True], "exact"), "wilson"),
        (lambda: accuracy_interval([True], confidence=1.0), "confidence"),
        (lambda: accuracy_interval([]), "at least one"),
        (lambda: wilson_interval(3, 2), "successes"),
    ],
)
def test_intervals_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- baselines, tables --------------------------------------------------------------------------


def test_random_baseline_is_the_uniform_guess_expectation():
    choice = Example("aqua", "a", "q Answer choices: (A) 1 (B) 2 (C) 3 (D) 4 (E) 5", "B", "choice", ("1", "2", "3", "4", "5"))
    number = Example("gsm8k", "n", "q", "5", "number")
    yes = Example("coin_flip", "y", "q", "yes", "yes_no")
    assert random_baseline([choice]) == pytest.approx(0.2)
    assert random_baseline([yes, yes, yes]) == 0.5  # not the share of the majority label
    assert random_baseline([number]) == 0.0
    assert random_baseline([choice, yes, number]) == pytest.approx(0.7 / 3)
    with pytest.raises(ValueError, match="without choices"):
        random_baseline([Example("aqua", "x", "q", "A", "choice")])


def _completion(example_id: str, index: int, correct: bool, finish: str | None = "stop") -> Completion:
    return Completion("coin_flip", example_id, index, "q", "r", " yes", "yes", "yes" if correct else "no", correct,
                      finish_reason=finish)


def test_teacher_baseline_scores_the_first_completion_per_example():
    records = [_completion("a", 1, False), _completion("a", 0, True), _completion("b", 0, False, "length"),
               _completion("c", 0, True, None)]
    result = teacher_baseline(records)
    assert (result.n, result.accuracy, result.method) == (3, pytest.approx(2 / 3), "teacher")
    assert result.stop_rate == 0.5  # of the two that record a finish reason
    assert teacher_baseline(records, first_only=False).n == 4


def test_results_table_long_and_wide():
    ft = EvalResult("ft_cot", "coin_flip", 100, 0.58, 0.482, 0.672, 0.9)
    results = [ft, {"method": "random", "task": "coin_flip", "accuracy": 0.5},
               EvalResult("ft_cot", "date", 10, 0.5, 0.2366, 0.7634)]
    long = results_table(results)
    assert list(long.columns) == ["method", "task", "n", "accuracy", "low", "high", "stop_rate"]
    assert long["accuracy"].tolist() == [0.58, 0.5, 0.5]
    wide = results_table(results, wide=True)
    assert list(wide.index) == ["ft_cot", "random"] and list(wide.columns) == ["coin_flip", "date"]
    assert wide.loc["ft_cot", "coin_flip"] == "58.0 [48.2, 67.2]"
    assert wide.loc["random", "coin_flip"] == "50.0"
    assert pd.isna(wide.loc["random", "date"])
    with pytest.raises(ValueError, match="lacks"):
        results_table([{"method": "x"}])


def test_examples_side_by_side_shows_correct_and_wrong_predictions(tokenizer):
    model = ScriptedModel(tokenizer, lambda prompt, k: "--> yes")
    result = evaluate_student(model, tokenizer, EXAMPLES, fmt="ft_cot")
    table = evaluate.examples_side_by_side(result, n=2)
    assert table["correct"].tolist() == [True, True, False, False]
    assert (table["gold"] == ["yes", "yes", "no", "no"]).all()


# -- notebook helpers ---------------------------------------------------------------------------


def test_standard_baselines_has_random_and_the_recorded_teacher(mirror):
    from fcot import tasks

    test = tasks.load_examples("coin_flip", part="test")[:20]
    rows = evaluate.standard_baselines(test)
    assert rows[0] == {"method": "random", "task": "coin_flip", "accuracy": 0.5}
    teacher = rows[1]
    assert teacher.method.startswith("teacher") and teacher.n == 20 and teacher.accuracy > 0.5


def test_accuracy_bars_draws_one_bar_per_method_and_task_with_interval_whiskers():
    from fcot import plots

    table = results_table([EvalResult("ft_cot", "coin_flip", 100, 0.58, 0.482, 0.672),
                           EvalResult("ft_cot", "date", 10, 0.5, 0.2366, 0.7634),
                           {"method": "random", "task": "coin_flip", "accuracy": 0.5}])
    figure = plots.accuracy_bars(table, title="t")
    ax = figure.axes[0]
    heights = sorted(round(p.get_height(), 1) for p in ax.patches  # seaborn's legend handles are empty patches
                     if not math.isnan(p.get_height()) and p.get_height() > 0)
    assert heights == [50.0, 50.0, 58.0]  # random has no date row: no bar there
    assert ax.get_ylabel() == "accuracy (%)" and ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["coin_flip", "date"]
    with pytest.raises(ValueError, match="lacks columns"):
        plots.accuracy_bars(pd.DataFrame({"method": ["x"]}))
    import matplotlib.pyplot as plt

    plt.close(figure)


@pytest.mark.parametrize("name, label", [
    ("coin_flip", "coin_flip"),
    ("synth_last_letter", "synth_last_letter"),
    ("tracking_shuffled_objects", "tracking_shuffled_\nobjects"),
    ("last_letter_concatenation", "last_letter_\nconcatenation"),
])
def test_a_long_task_name_is_wrapped_after_an_underscore_so_neighbouring_ticks_do_not_overlap(name, label):
    from fcot import plots

    assert plots.wrap_name(name) == label and plots.wrap_name(name).replace("\n", "") == name


def test_a_batch_of_decoder_prompts_on_a_cpu_decodes_with_a_static_cache_and_the_same_completions(gpt2, t5):
    model, tokenizer = gpt2
    assert evaluate._cache_options(model, 4, False) == {"cache_implementation": "static", "disable_compile": True}
    assert evaluate._cache_options(model, 1, False) == {}  # one prompt: the dynamic cache was faster
    assert evaluate._cache_options(t5[0], 4, True) == {}
    prompts = [e.question + " ###" for e in EXAMPLES[:6]]
    batched = evaluate.generate_completions(model, tokenizer, prompts, batch_size=6, max_new_tokens=12)
    assert batched == [evaluate.generate_completions(model, tokenizer, [p], batch_size=1, max_new_tokens=12)[0]
                       for p in prompts]
