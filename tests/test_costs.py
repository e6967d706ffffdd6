"""fcot.costs: what a profile costs, estimated offline from the teacher driver's own ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fcot import cli, costs, paths, study
from fcot.teachers.base import GenerationRequest
from fcot.teachers.ledger import DEFAULT_PRICES

GPU = costs.Gpu(name="test GPU", peak_flops=100e12, mfu=0.5, source="given in the test")

TINY_PROFILE = """\
description: one task, a few questions
steps:
  - notebook: 10_generate_teacher_rationales
    parameters: {task: coin_flip, backend: openai, model: text-davinci-002, degree: 2, max_tokens: 128, n_train: 27,
                 n_val: 3, n_test: 10, name: "tiny-${task}"}
  - notebook: 11_curate_samples
    parameters: {teacher_run: "tiny-${task}", method: ft_cot, student: gpt2, name: "tiny-${task}"}
    grid: {task: [coin_flip]}
  - notebook: 20_finetune_student
    parameters: {samples_run: "tiny-${task}", recipe: paper, epochs: 2, student: gpt2, name: "tiny-${task}"}
    grid: {task: [coin_flip]}
  - notebook: 21_evaluate_student
    parameters: {student_run: "tiny-${task}", max_new_tokens: 16}
    grid: {task: [coin_flip]}
"""


@pytest.fixture()
def tiny_profile(tmp_path: Path, mirror: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_PROFILE, encoding="utf-8")
    return path


def test_the_teacher_estimate_counts_two_calls_per_question_and_sample_and_prices_every_token(tiny_profile: Path) -> None:
    result = costs.estimate(tiny_profile, sample=None, gpu=GPU)
    [teacher] = result.teacher
    assert (teacher.questions, teacher.driven, teacher.degree) == (30, 30, 2)
    assert teacher.calls == 30 * 2 * 2  # questions x degree x (rationale + answer)
    assert teacher.prompt_tokens > teacher.completion_tokens > 0
    input_price, output_price = DEFAULT_PRICES["text-davinci-002"]
    assert teacher.cost_usd == pytest.approx(
        (teacher.prompt_tokens * input_price + teacher.completion_tokens * output_price) / 1e6
    )
    assert "own question" in teacher.lengths  # coin_flip's recorded log covers its train questions
    assert result.teacher_totals()["cost_usd"] == pytest.approx(teacher.cost_usd)


def test_student_flops_are_parameters_times_tokens_and_hours_follow_the_gpu(tiny_profile: Path) -> None:
    result = costs.estimate(tiny_profile, sample=None, gpu=GPU)
    train, evaluation = result.students
    n = costs.STUDENT_PARAMETERS["gpt2"].parameters
    assert (train.questions_train, train.questions_val, train.epochs) == (27, 3, 2)  # 10% validation
    assert 0 < train.samples_train <= 27 * 2  # correct-only: at most one sample per rationale
    assert train.training_flops == pytest.approx(6 * n * train.training_tokens + 2 * n * train.validation_tokens)
    assert train.gpu_hours == pytest.approx(train.training_flops / (100e12 * 0.5) / 3600)
    assert (evaluation.student, evaluation.test_questions) == ("gpt2", 10)  # the student the training step named
    assert evaluation.evaluation_tokens > 10 * 16  # prompts + 16 generated tokens each
    assert evaluation.evaluation_flops == pytest.approx(2 * n * evaluation.evaluation_tokens)
    assert result.free_steps == {"11_curate_samples": 1}  # curation calls no API and trains nothing


def test_a_sampled_estimate_keeps_the_exact_call_count_and_scales_tokens(tiny_profile: Path) -> None:
    full = costs.estimate(tiny_profile, sample=None, gpu=GPU).teacher[0]
    sampled = costs.estimate(tiny_profile, sample=10, gpu=GPU).teacher[0]
    assert (sampled.driven, sampled.questions, sampled.calls) == (10, 30, full.calls)
    assert sampled.prompt_tokens == pytest.approx(full.prompt_tokens, rel=0.2)


def test_overrides_change_the_estimate_as_they_change_the_run(tiny_profile: Path) -> None:
    result = costs.estimate(tiny_profile, ["10_generate_teacher_rationales.degree=3", "max_tokens=64"], sample=None, gpu=GPU)
    [teacher] = result.teacher
    assert (teacher.degree, teacher.max_tokens, teacher.calls) == (3, 64, 30 * 3 * 2)


def test_an_unknown_model_has_no_cost_and_says_why(tiny_profile: Path) -> None:
    result = costs.estimate(tiny_profile, ["model=my-own-model"], sample=5, gpu=GPU)
    [teacher] = result.teacher
    assert teacher.cost_usd is None and teacher.calls == 120
    assert "no price for model 'my-own-model'" in teacher.cost_note and "text-davinci-002" in teacher.cost_note
    assert result.teacher_totals()["cost_usd"] is None
    assert "unknown" in costs.markdown(result) and "no price for model 'my-own-model'" in costs.markdown(result)


def test_a_bad_profile_name_fails_listing_the_profiles(capsys) -> None:
    with pytest.raises(study.ProfileError, match=r"known profiles: .*paper"):
        costs.estimate("no-such-profile")
    assert cli.main(["cost", "--profile", "no-such-profile"]) == 2
    assert "known profiles" in capsys.readouterr().err


def test_the_estimating_backend_serves_recordings_cut_at_max_tokens_or_an_upper_bound() -> None:
    from fcot.prompts import zero_shot_cot_stage1, zero_shot_cot_stage2
    from fcot.records import Completion

    recorded = Completion(task="t", example_id="0", sample_index=0, question="How many?", rationale="x" * 400,
                          answer_completion=" 4.", prediction="4", gold="4", correct=True)
    backend = costs.EstimatingBackend("openai", "text-davinci-002", [recorded])
    stage1 = zero_shot_cot_stage1("How many?")
    cut, answer = backend.complete([GenerationRequest(stage1, max_tokens=50),
                                    GenerationRequest(zero_shot_cot_stage2(stage1, "x" * 200), max_tokens=32)])
    assert (cut.completion_tokens, cut.finish_reason) == (50, "length")
    assert (answer.text, answer.prompt_tokens) == (" 4.", costs.count_tokens(zero_shot_cot_stage2(stage1, "x" * 200)))
    [bound] = costs.EstimatingBackend("openai", "m").complete([GenerationRequest(stage1, max_tokens=128)])
    assert (bound.completion_tokens, bound.finish_reason) == (128, "length")


def test_the_parameter_table_matches_models_built_from_the_published_configs() -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, T5Config, T5ForConditionalGeneration

    with torch.device("meta"):
        gpt2 = GPT2LMHeadModel(GPT2Config(n_embd=768, n_layer=12, n_head=12))
        t5 = T5ForConditionalGeneration(T5Config(vocab_size=32128, d_model=512, d_ff=2048, num_layers=6, num_heads=8))
    assert costs.student_spec("openai-community/gpt2").parameters == sum(p.numel() for p in gpt2.parameters())
    assert costs.student_spec("t5-small").parameters == sum(p.numel() for p in t5.parameters())
    assert costs.student_spec("t5-small").kind == "encoder_decoder" and costs.student_spec("no/such-model") is None


@pytest.fixture(scope="module")
def paper(mirror: Path) -> costs.CostEstimate:
    return costs.estimate("paper")


def test_the_paper_estimate_covers_every_teacher_and_student_step(paper: costs.CostEstimate) -> None:
    assert len(paper.teacher) == 12 + 4 + 5  # D=1 on the 12 tasks, D=64 on 4, D=8 on 5 (Table 1's diverse arm)
    assert {t.task for t in paper.teacher if t.degree == 8} == {"single_eq", "addsub", "tracking_shuffled_objects",
                                                                 "coin_flip", "strategy_qa"}
    assert all(t.cost_usd is not None and t.cost_usd > 0 for t in paper.teacher)
    assert {t.task for t in paper.teacher if t.degree == 64} == {"multiarith", "svamp", "date_understanding",
                                                                  "last_letter_concatenation"}
    shared = [r for r in paper.students if not r.counted]
    assert shared and all(r.gpu_hours == 0 for r in shared)  # one run per canonical experiment configuration
    assert all(r.training_flops is not None for r in paper.students)
    assert paper.student_totals()["gpu_hours"] > 0


def test_the_committed_paper_cost_files_and_readme_block_are_current(paper: costs.CostEstimate, tmp_path: Path) -> None:
    root = Path(paths.REPO_ROOT)
    stale = "stale: run `make notes` (python -m fcot cost --profile paper --markdown results/paper_cost.md " \
            "--json results/paper_cost.json --write-readme README.md)"
    assert (root / "results" / "paper_cost.md").read_text(encoding="utf-8") == costs.markdown(paper), stale
    assert json.loads((root / "results" / "paper_cost.json").read_text(encoding="utf-8")) == json.loads(
        json.dumps(costs.to_json(paper))), stale
    copy = tmp_path / "README.md"
    copy.write_text((root / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert not costs.write_readme_block(copy, costs.summary_markdown(paper)), stale


def test_writing_the_readme_block_needs_the_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="paper-cost"):
        costs.write_readme_block(readme, "block")
