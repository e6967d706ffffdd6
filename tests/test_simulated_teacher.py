"""The simulated teacher: a rule-based stand-in that reads prompts, writes rationales, answers from them."""

from __future__ import annotations

import json
import re

import pytest

from fcot.prompts import zero_shot_cot_stage1, zero_shot_cot_stage2
from fcot.records import Example
from fcot.synthetic import SYNTHETIC_TASKS, generate_examples
from fcot.teachers.base import Backend, GenerationRequest
from fcot.teachers.simulated import (
    DEFAULT_ACCURACY,
    FALLBACK_ACCURACY,
    SimulatedTeacher,
    SimulatedTeacherConfig,
    read_question,
)

KOJIMA = "kojima-takeshi188/zero_shot_cot/dataset"


# -- a tiny local answer check (independent of fcot.answers) ------------------------------------------
def answer_of(text: str, example: Example) -> str | None:
    """The first answer of the example's type in a stage-2 completion, or None."""
    if example.answer_type == "yes_no":
        found = re.search(r"\b(yes|no)\b", text.lower())
    elif example.answer_type == "choice":
        found = re.search("[" + "ABCDEFGHIJKL"[: len(example.choices)] + "]", text)
    elif example.answer_type == "number":
        found = re.search(r"-?\d+(?:\.\d+)?", text)
    else:
        cleaned = re.sub(r"[\"'\n.\s]", "", text)
        return cleaned or None
    return found.group(0) if found else None


def two_stages(teacher, example: Example, temperature: float = 0.0, seed: int | None = None, max_tokens: int = 256):
    """(stage-1 result, stage-2 result) for one example, as the generation driver makes them."""
    prompt = zero_shot_cot_stage1(example.question)
    [rationale] = teacher.complete([GenerationRequest(prompt, max_tokens, temperature, seed)])
    [answer] = teacher.complete([GenerationRequest(zero_shot_cot_stage2(prompt, rationale.text), 32, 0.0, seed)])
    return rationale, answer


def is_right(teacher, example: Example, **kwargs) -> bool:
    _, answer = two_stages(teacher, example, **kwargs)
    return answer_of(answer.text, example) == example.answer


# -- the real datasets' questions, read straight from the mirror's raw JSON --------------------------
def real_examples(mirror, task: str) -> list[Example]:
    if task == "tracking_shuffled_objects":
        with open(mirror / KOJIMA / "Bigbench_object_tracking/task.json", encoding="utf-8") as handle:
            items = json.load(handle)["examples"]
        out = []
        for i, item in enumerate(items):
            choices = tuple(text[:-1] if text.endswith(".") else text for text in item["target_scores"])
            listed = ", ".join(f"({'ABC'[j]}) {c}" for j, c in enumerate(choices))
            question = f"{item['input']}\nWhich choice is true? Answer choices: {listed}."
            gold = "ABC"[list(item["target_scores"].values()).index(1)]
            out.append(Example(task, str(i), question, gold, "choice", choices))
        return out
    path, answer_type = {"coin_flip": ("coin_flip/coin_flip.json", "yes_no"),
                         "last_letter_concatenation": ("last_letters/last_letters.json", "text")}[task]
    with open(mirror / KOJIMA / path, encoding="utf-8") as handle:
        items = json.load(handle)["examples"]
    return [Example(task, str(i), item["question"], item["answer"], answer_type) for i, item in enumerate(items)]


REAL_TASKS = ["coin_flip", "last_letter_concatenation", "tracking_shuffled_objects"]


@pytest.mark.parametrize("task", REAL_TASKS)
def test_it_reads_every_real_question_of_the_task(mirror, task):
    examples = real_examples(mirror, task)
    assert len(examples) in (500, 750)
    assert all(read_question(e.question) is not None for e in examples)


@pytest.mark.parametrize("task", REAL_TASKS)
@pytest.mark.parametrize("temperature", [0.0, 0.7])
def test_at_accuracy_one_it_gets_every_real_question_right_through_both_stages(mirror, task, temperature):
    teacher = SimulatedTeacher(accuracy=1.0)
    examples = real_examples(mirror, task)
    wrong = [e.id for i, e in enumerate(examples) if not is_right(teacher, e, temperature=temperature, seed=i, max_tokens=128)]
    assert wrong == []


def test_compound_given_names_in_real_last_letter_questions_count_as_one_word(mirror):
    [example] = [e for e in real_examples(mirror, "last_letter_concatenation") if '"Ira Paola Jose Antonio Maria"' in e.question]
    rationale, answer = two_stages(SimulatedTeacher(accuracy=1.0), example)
    assert 'The last letter of "Jose Antonio" is "o".' in rationale.text
    assert answer.text == ' "aaoa".' and example.answer == "aaoa"


# -- the Backend interface ------------------------------------------------------------------------------
def test_it_is_a_backend_named_simulated_whose_model_names_its_settings():
    teacher = SimulatedTeacher(accuracy=0.7, n_styles=4)
    assert isinstance(teacher, Backend)
    assert teacher.name == "simulated" and teacher.model == "simulated-acc0.7-styles4"
    assert SimulatedTeacher(accuracy=1.0, n_styles=2, seed=3).model == "simulated-acc1-styles2-seed3"


def test_its_docstring_says_it_is_a_rule_based_simulator_not_an_lm():
    assert "not a language model" in SimulatedTeacher.__doc__.replace("NOT", "not")
    assert "rule-based" in SimulatedTeacher.__doc__


def test_the_task_picks_the_default_accuracy_unless_accuracy_is_given():
    assert SimulatedTeacher(task="coin_flip").config.accuracy == DEFAULT_ACCURACY["coin_flip"] == 0.914
    assert SimulatedTeacher(task="synth_last_letter").config.accuracy == 0.576
    assert SimulatedTeacher().config.accuracy == FALLBACK_ACCURACY
    with pytest.raises(ValueError, match=r"unknown task 'no_such_task'; accepted: .*coin_flip"):
        SimulatedTeacher(task="no_such_task")
    assert SimulatedTeacher(task="coin_flip", accuracy=0.25).config.accuracy == 0.25
    config = SimulatedTeacherConfig(accuracy=0.5, n_styles=1, seed=2)
    assert SimulatedTeacher(config=config).config is config


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"accuracy": 1.5}, r"accuracy must be a number in \[0, 1\]"),
        ({"accuracy": -0.1}, r"accuracy must be a number in \[0, 1\]"),
        ({"accuracy": "high"}, r"accuracy must be a number in \[0, 1\]"),
        ({"n_styles": 0}, r"n_styles must be an integer in 1..4"),
        ({"n_styles": 5}, r"n_styles must be an integer in 1..4"),
        ({"seed": 1.5}, r"seed must be an integer"),
    ],
)
def test_bad_settings_raise_naming_the_setting_and_the_accepted_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SimulatedTeacherConfig(**kwargs)
    with pytest.raises(ValueError, match=message):
        SimulatedTeacher(**kwargs)


def test_results_come_back_in_request_order_with_word_token_counts():
    teacher = SimulatedTeacher(accuracy=1.0)
    examples = generate_examples("synth_coin_flip", 3) + generate_examples("synth_arithmetic", 3)
    requests = [GenerationRequest(zero_shot_cot_stage1(e.question)) for e in examples]
    results = teacher.complete(requests)
    assert [r.text for r in results] == [teacher.complete([q])[0].text for q in requests]
    for request, result in zip(requests, results):
        assert result.prompt_tokens == len(request.prompt.split())
        assert result.completion_tokens == len(result.text.split())
        assert result.finish_reason == "stop"


# -- stage 1 and stage 2 ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "example, first_line, answer",
    [
        (Example("c", "0", 'A coin is heads up. Ann flips the coin. Bo does not flip the coin. Is the coin still heads up? '
                 'Note that "flip" here means "reverse".', "no", "yes_no"), " The coin starts heads up.", " no."),
        (Example("l", "0", 'Take the last letters of each words in "Ann Bo Cyd" and concatenate them.', "nod", "text"),
         ' The last letter of "Ann" is "n".', ' "nod".'),
        (Example("a", "0", "Ann has 12 pens. Ann buys 7 more pens. Then Ann ends up with 2 times as many pens as before. "
                 "How many pens does Ann have now?", "38", "number"), " We start with 12 pens.", " 38."),
    ],
)
def test_a_stage1_prompt_gets_a_step_by_step_rationale_and_stage2_the_answer_it_concluded(example, first_line, answer):
    rationale, completion = two_stages(SimulatedTeacher(accuracy=1.0), example)
    assert rationale.text.startswith(first_line)  # a space first, as after "Let's think step by step."
    assert rationale.text.count("\n") >= 2
    assert completion.text == answer


def test_a_shuffled_objects_rationale_tracks_each_swap_and_answers_with_the_option_letter():
    [example] = generate_examples("synth_shuffled_objects", 1, seed=5)
    rationale, completion = two_stages(SimulatedTeacher(accuracy=1.0), example)
    assert rationale.text.startswith(" At the start, ")
    assert len(re.findall(r"^(First|Then|Finally), \w+ and \w+ swap", rationale.text, re.M)) == 3
    assert completion.text == f" ({example.answer})."


def test_stage2_answers_what_the_rationale_in_the_prompt_concluded_not_the_right_answer():
    [example] = [e for e in generate_examples("synth_coin_flip", 20) if e.answer == "yes"][:1]
    prompt = zero_shot_cot_stage1(example.question)
    teacher = SimulatedTeacher(accuracy=1.0)
    for rationale, expected in [(" I think it ends tails up.\nSo the answer is no.", " no."),
                                (" It is heads up. Therefore, the answer is yes.", " yes.")]:
        [result] = teacher.complete([GenerationRequest(zero_shot_cot_stage2(prompt, rationale), 32)])
        assert result.text == expected


def test_stage2_of_a_rationale_cut_before_its_conclusion_reads_the_last_state_it_reached():
    example = Example("l", "0", 'Take the last letters of each words in "Ann Bo Cyd Dee" and concatenate them.', "node", "text")
    prompt = zero_shot_cot_stage1(example.question)
    teacher = SimulatedTeacher(accuracy=1.0)
    [cut] = teacher.complete([GenerationRequest(prompt, max_tokens=14)])
    assert cut.finish_reason == "length" and '"Bo" is "o"' in cut.text and "Cyd" not in cut.text
    [answer] = teacher.complete([GenerationRequest(zero_shot_cot_stage2(prompt, cut.text), 32)])
    assert answer.text == ' "no".'


def test_a_few_shot_prompt_gets_a_rationale_ending_with_the_answer_is():
    [example] = generate_examples("synth_arithmetic", 1)
    prompt = f"Q: Tom has 1 cat. How many cats does Tom have?\nA: Tom has 1 cat. The answer is 1.\n\nQ: {example.question}\nA:"
    [result] = SimulatedTeacher(accuracy=1.0).complete([GenerationRequest(prompt)])
    assert result.text.startswith(" ") and result.text.endswith(f"The answer is {example.answer}.")


@pytest.mark.parametrize(
    "question, guess",
    [
        ("Which gas do plants absorb? Answer choices: (A) oxygen, (B) carbon dioxide, (C) helium.", " (A)."),
        ("Is the sky green at noon?", " no."),
        ("A train leaves at 3 pm and travels 60 miles per hour for 2 hours. What is its speed in km/h?", " 2."),
        ("Describe a sunset.", " not clear from the reasoning above."),
    ],
)
def test_a_question_it_cannot_read_gets_an_unsure_rationale_and_its_best_literal_guess(question, guess):
    teacher = SimulatedTeacher(accuracy=1.0)
    prompt = zero_shot_cot_stage1(question)
    [rationale] = teacher.complete([GenerationRequest(prompt)])
    assert rationale.text.startswith(" I am not sure")
    assert rationale.extra["kind"] is None
    [answer] = teacher.complete([GenerationRequest(zero_shot_cot_stage2(prompt, rationale.text))])
    assert answer.text == guess


@pytest.mark.parametrize("prompt", ["", "no question here", "Q: ", "Q: ?\nA:", "\nTherefore, the answer is",
                                    "Q: x\nA: Let's think step by step.\nTherefore, the answer is"])
def test_odd_prompts_never_crash(prompt):
    [result] = SimulatedTeacher().complete([GenerationRequest(prompt, 16, 0.7, 1)])
    assert isinstance(result.text, str) and result.finish_reason in ("stop", "length")


# -- accuracy: calibrated, and mistakes are one wrong step that carries through --------------------------
@pytest.mark.parametrize("task", SYNTHETIC_TASKS)
def test_over_500_questions_the_share_of_right_answers_is_the_accuracy(task):
    teacher = SimulatedTeacher(accuracy=0.7)
    examples = generate_examples(task, 500, seed=11)
    share = sum(is_right(teacher, e) for e in examples) / len(examples)
    assert share == pytest.approx(0.7, abs=0.07)


def test_sampled_rationales_are_calibrated_too():
    teacher = SimulatedTeacher(accuracy=0.4)
    examples = generate_examples("synth_last_letter", 500, seed=12)
    share = sum(is_right(teacher, e, temperature=0.7, seed=i) for i, e in enumerate(examples)) / len(examples)
    assert share == pytest.approx(0.4, abs=0.07)


@pytest.mark.parametrize("task", SYNTHETIC_TASKS)
def test_at_accuracy_zero_every_answer_is_wrong_and_at_one_every_answer_is_right(task):
    examples = generate_examples(task, 100, seed=13)
    assert not any(is_right(SimulatedTeacher(accuracy=0.0), e, temperature=0.7, seed=3) for e in examples)
    assert all(is_right(SimulatedTeacher(accuracy=1.0), e, temperature=0.7, seed=3) for e in examples)


def wrong_rationales(task: str, n: int = 40, difficulty: int | None = None):
    teacher = SimulatedTeacher(accuracy=0.0)  # style 0 at temperature 0
    for e in generate_examples(task, n, difficulty, seed=14):
        rationale, answer = two_stages(teacher, e)
        yield e, rationale.text, answer.text


def test_a_coin_flip_mistake_misreads_exactly_one_persons_action_and_the_answer_follows_it():
    for e, rationale, answer in wrong_rationales("synth_coin_flip"):
        actual = re.findall(r"(\w+) (flips|does not flip) the coin\.", e.question)
        written = re.findall(r"^(\w+) (flips|does not flip) the coin,", rationale, re.M)
        assert [name for name, _ in written] == [name for name, _ in actual]
        assert sum(a != w for a, w in zip(actual, written)) == 1
        flips = sum(verb == "flips" for _, verb in written)
        assert answer == (" yes." if flips % 2 == 0 else " no.") and answer.strip(" .") != e.answer


def test_a_last_letter_mistake_spoils_exactly_one_word_and_the_answer_is_the_letters_written():
    for e, rationale, answer in wrong_rationales("synth_last_letter"):
        words = re.search(r'"([^"]+)"', e.question).group(1).split()
        written = dict(re.findall(r'The last letter of "(\w+)" is "(\w)"\.', rationale))
        spoiled = [w for w in words if written.get(w) != w[-1]]
        assert len(spoiled) == 1  # one word has a wrong letter or is skipped
        assert answer == ' "' + "".join(written[w] for w in words if w in written) + '".'
        assert answer.strip(' ".') != e.answer


def test_a_shuffled_objects_mistake_mis_tracks_one_swap_and_the_rest_is_tracked_faithfully():
    for e, rationale, answer in wrong_rationales("synth_shuffled_objects", difficulty=5):
        actual = re.findall(r"(?:First|Then|Finally), (\w+) and (\w+) ", e.question.split("\n\n")[1])
        lines = re.findall(r"^(?:First|Then|Finally), (\w+) and (\w+) swap, so now (\w+) (?:has the|has|is playing|is dancing with) "
                           r"(.+?) and (\w+) (?:has the|has|is playing|is dancing with) (.+?)\.$", rationale, re.M)
        assert len(lines) == 5
        state = dict(re.findall(r"(?:At the start, |, (?:and )?)(\w+) (?:has the|has|is playing|is dancing with) (.+?)(?=, |\.$)",
                                rationale.split("\n")[0]))
        faithful = 0
        for (a, b), (wa, wb, ra, xa, rb, xb) in zip(actual, lines):
            if (wa, wb) == (a, b) and (xa, xb) == (state[b], state[a]):
                faithful += 1
            state[ra], state[rb] = xa, xb
        assert faithful == 4  # exactly one swap skipped or misread
        assert answer.strip(" .()") != e.answer


def test_an_arithmetic_mistake_is_one_slip_whose_wrong_result_the_next_steps_build_on():
    for e, rationale, answer in wrong_rationales("synth_arithmetic", difficulty=3):
        steps = re.findall(r"(\d+(?:\.\d+)?) ([-+*/]) (\d+) = (-?\d+(?:\.\d+)?)", rationale)
        assert len(steps) == 3
        slips = 0
        for i, (a, op, k, r) in enumerate(steps):
            exact = {"+": float(a) + int(k), "-": float(a) - int(k), "*": float(a) * int(k), "/": float(a) / int(k)}[op]
            slips += abs(exact - float(r)) > 0.01
            if i:
                assert a == steps[i - 1][3]  # each step starts from the previous result, right or wrong
        assert slips == 1
        assert answer == f" {steps[-1][3]}." and answer.strip(" .") != e.answer


# -- temperature and seeds ----------------------------------------------------------------------------
def test_temperature_zero_is_deterministic_canonical_and_ignores_the_request_seed():
    examples = generate_examples("synth_shuffled_objects", 20)
    first = [two_stages(SimulatedTeacher(accuracy=0.5), e, seed=1) for e in examples]
    again = [two_stages(SimulatedTeacher(accuracy=0.5), e, seed=2) for e in examples]
    assert [(r.text, a.text) for r, a in first] == [(r.text, a.text) for r, a in again]
    assert all(r.extra["style"] == 0 and r.text.startswith(" At the start, ") for r, _ in first)


def test_the_teacher_seed_decides_which_questions_get_a_mistake_at_temperature_zero():
    examples = generate_examples("synth_coin_flip", 200)
    right = [[is_right(SimulatedTeacher(accuracy=0.5, seed=s), e) for e in examples] for s in (0, 1)]
    assert right[0] != right[1]


def test_sampling_with_different_seeds_gives_distinct_rationales_and_the_same_seed_the_same():
    teacher = SimulatedTeacher(accuracy=0.7)
    for e in generate_examples("synth_last_letter", 20):
        prompt = zero_shot_cot_stage1(e.question)
        texts = [r.text for r in teacher.complete([GenerationRequest(prompt, 256, 0.7, seed) for seed in range(4)])]
        assert len(set(texts)) >= 3
        assert teacher.complete([GenerationRequest(prompt, 256, 0.7, 2)])[0].text == texts[2]


def test_sampled_rationales_use_every_style_and_one_style_when_n_styles_is_one():
    examples = generate_examples("synth_arithmetic", 10)
    requests = [GenerationRequest(zero_shot_cot_stage1(e.question), 256, 0.7, seed) for e in examples for seed in range(4)]
    assert {r.extra["style"] for r in SimulatedTeacher(n_styles=4).complete(requests)} == {0, 1, 2, 3}
    assert {r.extra["style"] for r in SimulatedTeacher(n_styles=1).complete(requests)} == {0}


def test_sampling_without_a_request_seed_draws_from_the_teacher_seed():
    [e] = generate_examples("synth_coin_flip", 1)
    request = GenerationRequest(zero_shot_cot_stage1(e.question), 256, 0.7)
    texts = [r.text for r in SimulatedTeacher(seed=4).complete([request] * 6)]
    assert len(set(texts)) >= 3
    assert [r.text for r in SimulatedTeacher(seed=4).complete([request] * 6)] == texts


# -- truncation and stop sequences ----------------------------------------------------------------------
def test_max_tokens_cuts_the_rationale_after_that_many_words_with_finish_reason_length():
    [e] = generate_examples("synth_shuffled_objects", 1)
    prompt = zero_shot_cot_stage1(e.question)
    teacher = SimulatedTeacher(accuracy=1.0)
    [full] = teacher.complete([GenerationRequest(prompt, 1000)])
    [cut] = teacher.complete([GenerationRequest(prompt, 7)])
    assert full.finish_reason == "stop" and full.completion_tokens > 7
    assert cut.finish_reason == "length" and cut.completion_tokens == 7
    assert full.text.startswith(cut.text) and cut.text.split() == full.text.split()[:7]


def test_a_stop_sequence_ends_the_text_before_it():
    [e] = generate_examples("synth_coin_flip", 1)
    [result] = SimulatedTeacher(accuracy=1.0).complete([GenerationRequest(zero_shot_cot_stage1(e.question), stop=("\n",))])
    assert result.text == " The coin starts heads up." and result.finish_reason == "stop"


# -- through the generation driver ---------------------------------------------------------------------
def test_the_driver_builds_the_simulated_teacher_by_name_and_scores_its_answers():
    from fcot import teachers

    examples = generate_examples("synth_last_letter", 60, seed=21)
    backend = teachers.make_backend("simulated", task="synth_last_letter", accuracy=1.0, seed=0)
    completions = teachers.generate(examples, backend, degree=2)
    assert len(completions) == 120 and all(c.correct for c in completions)
    assert {c.source for c in completions} == {"simulated:simulated-acc1-styles4"}
