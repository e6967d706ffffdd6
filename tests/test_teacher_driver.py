"""The generation driver (fcot.teachers.generate): prompts, sampling, cache, ledger, budget, summary."""

from __future__ import annotations

import threading

import pytest

from fcot.prompts import question_from_prompt
from fcot.records import Completion, Example, read_records
from fcot.teachers import (
    KINDS,
    BudgetExceeded,
    Ledger,
    ResponseCache,
    TeacherConfig,
    distinct_counts,
    generate,
    load_completions,
    make_backend,
    sample_seed,
    save_completions,
    summarize,
)
from fcot.teachers.base import Backend, GenerationResult

pytestmark = pytest.mark.filterwarnings("ignore:no price for model")

GOLD = {"What is 2 plus 3?": "5", "What is 4 plus 4?": "8", "What is 1 plus 1?": "2"}


def examples(n: int = 3) -> list[Example]:
    questions = list(GOLD)[:n]
    return [Example(task="toy", id=f"q{i}", question=q, answer=GOLD[q], answer_type="number") for i, q in enumerate(questions)]


class ScriptedBackend:
    """Rationale names the seed when sampling; the answer is right for every question but the last."""

    name = "scripted"
    model = "script-1"

    def __init__(self, wrong: str = "What is 1 plus 1?", finish: str = "stop") -> None:
        self.requests = []
        self.wrong = wrong
        self.finish = finish
        self.lock = threading.Lock()

    def complete(self, requests):
        with self.lock:
            self.requests.extend(requests)
        out = []
        for r in requests:
            question = question_from_prompt(r.prompt)
            if r.prompt.endswith("Therefore, the answer is"):
                answer = "7" if question == self.wrong else GOLD[question]
                out.append(GenerationResult(f" {answer}.", "stop", 40, 2))
            else:
                tag = r.seed if r.temperature > 0 else "greedy"
                out.append(GenerationResult(f" We add the numbers ({tag}).", self.finish, 20, 6))
        return out


def test_scripted_backend_satisfies_the_backend_protocol():
    assert isinstance(ScriptedBackend(), Backend)


def test_each_question_gets_the_papers_two_stage_prompts_exactly():
    backend = ScriptedBackend()
    generate(examples(1), backend)
    stage1, stage2 = backend.requests
    assert stage1.prompt == "Q: What is 2 plus 3?\nA: Let's think step by step."
    assert stage2.prompt == "Q: What is 2 plus 3?\nA: Let's think step by step. We add the numbers (greedy).\nTherefore, the answer is"
    assert (stage1.max_tokens, stage1.temperature) == (128, 0.0)
    assert (stage2.max_tokens, stage2.temperature) == (32, 0.0)


def test_completions_carry_rationale_answer_parse_correctness_and_tokens():
    completions = generate(examples(3), ScriptedBackend())
    assert [c.example_id for c in completions] == ["q0", "q1", "q2"]
    first = completions[0]
    assert first.rationale == " We add the numbers (greedy)."
    assert first.answer_completion == " 5."
    assert (first.prediction, first.gold, first.correct) == ("5", "5", True)
    assert completions[2].prediction == "7" and completions[2].correct is False
    assert (first.prompt_tokens, first.completion_tokens) == (60, 8)  # both stages summed
    assert first.finish_reason == "stop"
    assert first.source == "scripted:script-1"


def test_diverse_reasoning_samples_each_rationale_with_its_own_seed_at_temperature_0_7():
    backend = ScriptedBackend()
    completions = generate(examples(2), backend, degree=4, seed=3)
    stage1 = [r for r in backend.requests if r.prompt.endswith("step by step.")]
    assert len(stage1) == 8 and {r.temperature for r in stage1} == {0.7}
    assert len({r.seed for r in stage1}) == 8
    assert [c.sample_index for c in completions[:4]] == [0, 1, 2, 3]
    assert stage1[0].seed == sample_seed(3, "q0", 0)
    assert distinct_counts(completions) == {"q0": 4, "q1": 4}


def test_sample_seeds_depend_on_run_seed_example_and_index():
    seeds = {sample_seed(s, e, k) for s in (0, 1) for e in ("a", "b") for k in (0, 1)}
    assert len(seeds) == 8
    assert sample_seed(0, "a", 0) == sample_seed(0, "a", 0)


def test_rerunning_a_finished_generation_with_its_cache_makes_zero_calls(tmp_path):
    path = tmp_path / "calls.jsonl"
    first = generate(examples(3), ScriptedBackend(), degree=2, cache=path)
    again_backend = ScriptedBackend()
    again = generate(examples(3), again_backend, degree=2, cache=path)
    assert again_backend.requests == []
    assert again == first


def test_changing_a_sampling_parameter_misses_the_cache(tmp_path):
    path = tmp_path / "calls.jsonl"
    generate(examples(1), ScriptedBackend(), cache=path)
    backend = ScriptedBackend()
    generate(examples(1), backend, cache=path, max_tokens=64)
    assert len(backend.requests) == 1  # stage 1 is new; stage 2's prompt is unchanged and cached


def test_summary_reports_accuracy_filtering_lengths_truncation_distinct_tokens_and_cost():
    completions = generate(examples(3), ScriptedBackend(finish="length"), degree=2)
    summary = summarize(completions, prices={"script-1": (1.0, 2.0)})
    assert summary["questions"] == 3 and summary["completions"] == 6 and summary["degree"] == 2
    assert summary["teacher_accuracy"] == pytest.approx(4 / 6)
    assert summary["share_filtered"] == pytest.approx(2 / 6)
    assert summary["truncation_rate"] == 1.0
    assert summary["rationale_words_median"] == 5
    assert summary["distinct_per_question_mean"] == 2 and summary["share_questions_all_distinct"] == 1
    assert (summary["prompt_tokens"], summary["completion_tokens"]) == (360, 48)
    assert summary["cost_usd"] == pytest.approx((360 * 1 + 48 * 2) / 1e6)


def test_summary_cost_is_none_with_a_warning_for_a_model_without_a_price():
    completions = generate(examples(1), ScriptedBackend())
    with pytest.warns(UserWarning, match="no price for model 'script-1'"):
        assert summarize(completions, prices={})["cost_usd"] is None


def test_ledger_counts_tokens_of_calls_made_not_of_cache_hits(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl", prices={"script-1": (1.0, 1.0)})
    generate(examples(2), ScriptedBackend(), cache=tmp_path / "c.jsonl", ledger=ledger)
    assert ledger.calls == 4 and ledger.prompt_tokens == 2 * 20 + 2 * 40
    generate(examples(2), ScriptedBackend(), cache=tmp_path / "c.jsonl", ledger=ledger)
    assert ledger.calls == 4
    assert Ledger(tmp_path / "ledger.jsonl").calls == 4  # on disk


def test_budget_stops_before_exceeding_and_keeps_the_finished_calls(tmp_path):
    prices = {"script-1": (1000.0, 1000.0)}  # $0.001 per token
    cache = tmp_path / "calls.jsonl"
    with pytest.raises(BudgetExceeded, match="rerun with a larger budget"):
        generate(examples(3), ScriptedBackend(), cache=cache, ledger=tmp_path / "l.jsonl", budget_usd=0.3, prices=prices)
    spent = Ledger(tmp_path / "l.jsonl", prices=prices)
    # worst case per call: one token per prompt byte (+16) plus max_tokens; actual: 26 or 42 tokens
    assert spent.calls == 5 and spent.spent_usd == pytest.approx(3 * 0.026 + 2 * 0.042)
    assert spent.spent_usd <= 0.3
    with ResponseCache(cache) as saved:
        made = len(saved)
    assert made == 5
    ledger = Ledger(prices=prices)
    # what was spent stays under the budget; a rerun with more money makes only the missing calls
    backend = ScriptedBackend()
    generate(examples(3), backend, cache=cache, ledger=ledger, budget_usd=10.0)
    assert len(backend.requests) == 6 - made
    assert ledger.spent_usd <= 10.0


def test_a_budget_for_a_model_without_a_price_is_refused_before_any_call():
    backend = ScriptedBackend()
    with pytest.raises(ValueError, match="no price"):
        generate(examples(1), backend, budget_usd=1.0, prices={})
    assert backend.requests == []


def test_backend_errors_propagate_after_saving_finished_chunks(tmp_path):
    class Flaky(ScriptedBackend):
        def complete(self, requests):
            if any("4 plus 4" in r.prompt for r in requests):
                raise RuntimeError("boom")
            return super().complete(requests)

    with pytest.raises(RuntimeError, match="boom"):
        generate(examples(3), Flaky(), cache=tmp_path / "c.jsonl", concurrency=3)
    with ResponseCache(tmp_path / "c.jsonl") as cache:
        assert len(cache) == 2  # stage 1 of q0 and q2, in flight with q1's


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"degree": 0}, "degree must be an integer >= 1"),
        ({"temperature": -1}, r"temperature must be in \[0, 2\]"),
        ({"method": "cot"}, r"method must be one of \('zero_shot_cot', 'few_shot_cot'\)"),
        ({"max_tokens": 0}, "max_tokens and answer_max_tokens must be >= 1"),
        ({"budget_usd": -1}, "budget_usd must be >= 0"),
        ({"stop": "\n"}, "stop must be a tuple"),
    ],
)
def test_config_rejects_bad_values_naming_what_is_accepted(settings, message):
    with pytest.raises(ValueError, match=message):
        TeacherConfig(**settings)


@pytest.mark.parametrize("degree, temperature, expected", [(1, None, 0.0), (4, None, 0.7), (4, 1.0, 1.0)])
def test_default_temperature_is_greedy_at_degree_one_and_0_7_for_diverse_reasoning(degree, temperature, expected):
    assert TeacherConfig(degree=degree, temperature=temperature).sampling_temperature == expected


def test_repeated_example_ids_are_refused():
    twice = examples(1) * 2
    with pytest.raises(ValueError, match="unique"):
        generate(twice, ScriptedBackend())


def test_unknown_backend_kind_lists_the_accepted_kinds():
    with pytest.raises(ValueError, match=r"accepted: \('openai', 'hf', 'replay', 'simulated'\)"):
        make_backend("davinci")
    assert KINDS == ("openai", "hf", "replay", "simulated")


def test_make_backend_builds_an_openai_backend_with_its_settings():
    backend = make_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", style="chat")
    assert (backend.name, backend.model, backend.style) == ("openai", "m", "chat")


def test_completions_are_saved_at_a_path_and_read_back(tmp_path):
    completions = generate(examples(2), ScriptedBackend())
    path = save_completions(completions, tmp_path / "teacher" / "completions.jsonl")
    assert read_records(Completion, path) == completions == load_completions(path)


def test_a_teacher_run_name_is_not_a_completions_file():
    # a teacher run's files live where its stage run keeps them (fcot.stages): a name is found there, not here
    with pytest.raises(ValueError, match=r"'toy-run' is not a completions \.jsonl file.*fcot\.stages\.find"):
        load_completions("toy-run")


def test_few_shot_cot_prompts_with_the_official_exemplars_and_parses_the_answer(mirror):
    class FewShot:
        name, model = "scripted", "fs"

        def __init__(self):
            self.requests = []

        def complete(self, requests):
            self.requests.extend(requests)
            return [GenerationResult(" 2 + 3 = 5. The answer is 5.", "stop") for _ in requests]

    backend = FewShot()
    [completion] = generate([Example("multiarith", "m0", "What is 2 plus 3?", "5", "number")], backend, method="few_shot_cot")
    [request] = backend.requests
    assert request.prompt.startswith("Q: There are 15 trees in the grove.")
    assert request.prompt.endswith("\nQ: What is 2 plus 3?\nA:")
    assert request.stop == ("\nQ:",)
    assert completion.rationale == " 2 + 3 = 5. "
    assert completion.answer_completion == "The answer is 5."
    assert completion.correct


def test_rationale_length_figure_splits_correct_and_filtered_completions():
    from matplotlib.figure import Figure

    from fcot.plots import rationale_lengths

    figure = rationale_lengths(generate(examples(3), ScriptedBackend()), title="toy")
    assert isinstance(figure, Figure)
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels == ["correct (2)", "filtered out (1)"]
    with pytest.raises(ValueError, match="no completions"):
        rationale_lengths([])


def test_choose_backend_takes_only_the_settings_each_kind_needs():
    openai = __import__("fcot.teachers", fromlist=["choose_backend"]).choose_backend(
        "openai", task="toy", model="m", base_url="http://127.0.0.1:9/v1", style="chat", concurrency=3, simulated_accuracy=0.5
    )
    assert (openai.name, openai.style, openai.concurrency, openai.base_url) == ("openai", "chat", 3, "http://127.0.0.1:9/v1")


@pytest.mark.parametrize("kind, message", [("openai", "needs model="), ("hf", "needs model="), ("gpt", "accepted")])
def test_choose_backend_names_what_is_missing(kind, message):
    from fcot.teachers import choose_backend

    with pytest.raises(ValueError, match=message):
        choose_backend(kind, task="toy")


def test_few_shot_exemplars_exist_for_the_official_tasks_and_a_missing_one_lists_them(mirror):
    from fcot.prompts import few_shot_cot_exemplars, split_few_shot_completion

    assert few_shot_cot_exemplars("coin_flip").startswith("Q: A coin is heads up.")
    assert few_shot_cot_exemplars("last_letters") == few_shot_cot_exemplars("last_letter_concatenation")
    with pytest.raises(KeyError, match="no Few-shot-CoT exemplars for task 'tracking_shuffled_objects'"):
        few_shot_cot_exemplars("tracking_shuffled_objects")
    assert split_few_shot_completion(" So 5.") == (" So 5.", "")


class _TimingOut(ScriptedBackend):
    def complete(self, requests):
        from fcot.teachers.openai_backend import EndpointError

        raise EndpointError("http://127.0.0.1:9/v1/completions: gave up after 7 attempts; last problem: timed out")


def test_calls_abandoned_after_timeouts_stay_in_the_ledger_as_possibly_billed(tmp_path):
    prices = {"script-1": (1.0, 1.0)}
    with pytest.raises(Exception, match="timed out"):
        generate(examples(2), _TimingOut(), ledger=tmp_path / "l.jsonl", prices=prices, concurrency=2)
    with pytest.warns(UserWarning, match="never settled"):
        ledger = Ledger(tmp_path / "l.jsonl", prices=prices)
    assert ledger.calls == 0 and ledger.totals()["possibly_billed_calls"] >= 1


class _Ignoring(ScriptedBackend):
    """A server that ignores temperature and seed (measured with `transformers serve`): every sample the same."""

    def complete(self, requests):
        return [GenerationResult(text=" The answer is 2." if "Therefore" in r.prompt else " One plus one.",
                                 finish_reason="stop", prompt_tokens=1, completion_tokens=1) for r in requests]


class _Silent(ScriptedBackend):
    def complete(self, requests):
        return [GenerationResult(text=" 2" if "Therefore" in r.prompt else "", finish_reason="stop",
                                 prompt_tokens=1, completion_tokens=1) for r in requests]


def test_identical_diverse_samples_and_empty_rationales_are_stored_with_a_warning():
    with pytest.warns(UserWarning, match="all 3 sampled rationales are identical"):
        completions = generate(examples(2), _Ignoring(), degree=3)
    assert len(completions) == 6  # stored as they are
    with pytest.warns(UserWarning, match="2 of 2 completions have an empty rationale"):
        generate(examples(2), _Silent())
