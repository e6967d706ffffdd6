"""fcot.students: tiny offline students, sample encoding, and the training recipe."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fcot.curate import Sample, samples_texts, write_samples
from fcot.students import (
    RECIPE_LR,
    RECIPES,
    TINY_STUDENTS,
    SampleCollator,
    TrainConfig,
    build_tiny_student,
    config_from_args,
    count_parameters,
    encode_sample,
    greedy_answers,
    load_student,
    load_trained,
    recipe_config,
    save_adapter,
    save_student,
    shippable_base,
    student_kind,
    train_student,
    validation_accuracy,
)

REPO = Path(__file__).resolve().parent.parent
WORDS = ["apple", "stone", "river", "cloud", "tiger", "lemon", "piano", "house", "green", "night", "smile", "ocean"]


def toy_samples(n: int, seed: int, fmt: str = "ft_cot") -> list[Sample]:
    """Two-word last-letter concatenation samples with a rule-written rationale."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = rng.sample(WORDS, 2)
        question = f'Take the last letters of the words in "{" ".join(words)}" and concatenate them.'
        rationale = " ".join(f'The last letter of "{w}" is "{w[-1]}".' for w in words)
        answer = "".join(w[-1] for w in words)
        lead, suffix = ("", "") if fmt.endswith("_encdec") else (" ", " ###")
        completion = f"{lead}{rationale} --> {answer}" if fmt.startswith("ft_cot") else f"{lead}{answer}"
        out.append(Sample(f"q{seed}-{i}", 0, question + suffix, completion, fmt))
    return out


TEXTS = samples_texts(toy_samples(50, 0))
FAST = dict(student="tiny-gpt2-xs", epochs=2, batch_size=16, lr=3e-3, eval_batch_size=64, max_new_tokens=48)


# -- tiny students ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alias, low, high",
    [
        ("tiny-gpt2-xs", 0.05e6, 0.3e6),
        ("tiny-gpt2-s", 0.3e6, 0.8e6),
        ("tiny-gpt2-m", 1.2e6, 3e6),
        ("tiny-t5-xs", 0.05e6, 0.4e6),
        ("tiny-t5-s", 0.3e6, 1.2e6),
        ("tiny-t5-m", 1.2e6, 4e6),
    ],
)
def test_tiny_aliases_have_the_documented_sizes_and_kind(alias, low, high):
    model, tokenizer = build_tiny_student(alias, TEXTS)
    assert low <= count_parameters(model) <= high
    assert student_kind(model) == TINY_STUDENTS[alias].kind


def test_tiny_tokenizer_is_trained_on_the_task_text_and_round_trips_it():
    _, tokenizer = build_tiny_student("tiny-gpt2", TEXTS)
    assert (tokenizer.pad_token, tokenizer.pad_token_id) == ("<pad>", 0)
    assert (tokenizer.eos_token, tokenizer.eos_token_id) == ("<eos>", 1)
    text = TEXTS[1]
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    # merges learned from the task text: far fewer tokens than bytes
    assert len(ids) < len(text.encode()) / 2


def test_same_seed_builds_the_same_weights_and_another_seed_differs():
    a, _ = build_tiny_student("tiny-gpt2-xs", TEXTS, seed=1)
    b, _ = build_tiny_student("tiny-gpt2-xs", TEXTS, seed=1)
    c, _ = build_tiny_student("tiny-gpt2-xs", TEXTS, seed=2)
    wa, wb, wc = (m.transformer.wte.weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_unknown_alias_and_missing_texts_are_clear_errors():
    with pytest.raises(ValueError, match="accepted: .*tiny-gpt2-s"):
        build_tiny_student("tiny-gpt9", TEXTS)
    with pytest.raises(ValueError, match="pass texts="):
        load_student("tiny-gpt2")
    with pytest.raises(FileNotFoundError, match="neither a tiny alias"):
        load_student("/no/such/student-dir")


@pytest.mark.parametrize("alias", ["tiny-gpt2-xs", "tiny-t5-xs"])
def test_saved_students_load_back_from_a_local_path_with_the_same_weights(tmp_path, alias):
    model, tokenizer = load_student(alias, texts=TEXTS)
    save_student(model, tokenizer, tmp_path / "student")
    loaded, loaded_tokenizer = load_trained(tmp_path / "student")
    assert type(loaded) is type(model)
    for (name, p), (_, q) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(p, q), name
    assert loaded_tokenizer(TEXTS[0])["input_ids"] == tokenizer(TEXTS[0])["input_ids"]
    assert loaded.generation_config.eos_token_id == tokenizer.eos_token_id


# -- encoding and collation ---------------------------------------------------------------------


def test_labels_mask_the_prompt_and_end_with_eos_even_when_pad_is_eos():
    _, tokenizer = build_tiny_student("tiny-gpt2-xs", TEXTS)
    tokenizer.pad_token = tokenizer.eos_token  # the GPT-2 situation
    assert tokenizer.pad_token_id == tokenizer.eos_token_id
    short, long = toy_samples(2, 5)
    long = Sample("x", 0, long.prompt, long.completion + " and more words here", "ft_cot")
    rows = [encode_sample(tokenizer, s.prompt, s.completion, "decoder") for s in (short, long)]
    prompt_len = len(tokenizer(short.prompt)["input_ids"])
    assert rows[0]["labels"][:prompt_len] == [-100] * prompt_len
    assert rows[0]["labels"][prompt_len:] == rows[0]["input_ids"][prompt_len:]
    batch = SampleCollator(tokenizer.pad_token_id)(rows)
    for row, encoded in zip(batch["labels"], rows):
        n = len(encoded["input_ids"])
        assert row[n - 1].item() == tokenizer.eos_token_id  # EOS is learned
        assert (row[n:] == -100).all()  # padding is not
    assert batch["attention_mask"].sum().item() == sum(len(r["input_ids"]) for r in rows)


def test_encoder_decoder_samples_put_the_prompt_in_the_encoder_and_the_completion_with_eos_in_labels():
    _, tokenizer = build_tiny_student("tiny-t5-xs", TEXTS)
    sample = toy_samples(1, 3, fmt="ft_cot_encdec")[0]
    row = encode_sample(tokenizer, sample.prompt, sample.completion, "encoder_decoder")
    assert tokenizer.decode(row["input_ids"]) == sample.prompt
    assert row["labels"][-1] == tokenizer.eos_token_id
    assert tokenizer.decode(row["labels"][:-1]) == sample.completion


def test_samples_over_max_length_are_cut_and_flagged():
    _, tokenizer = build_tiny_student("tiny-gpt2-xs", TEXTS)
    sample = toy_samples(1, 3)[0]
    row = encode_sample(tokenizer, sample.prompt, sample.completion, "decoder", max_length=10)
    assert len(row["input_ids"]) == len(row["labels"]) == 10 and row["truncated"]


# -- configuration ------------------------------------------------------------------------------


def test_paper_profile_has_the_papers_hyperparameters():
    paper = RECIPES["paper"]
    assert (paper.lr, paper.batch_size, paper.epochs, paper.max_length) == (3e-4, 8, 20, 512)
    assert RECIPES["tiny"].batch_size == 8 and RECIPES["tiny"].lr == 3e-3 and RECIPES["tiny"].tiny_dropout == 0
    assert RECIPES["tiny"].select_by == "last"  # chosen on validation (notebook 29)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("epochs", 0, "epochs must be an integer >= 1"),
        ("lr", 0.0, "lr must be > 0"),
        ("finetune", "qlora", "accepted: full, lora"),
        ("select_by", "test_accuracy", "accepted: eval_loss, eval_accuracy, last"),
        ("precision", "int8", "accepted"),
        ("max_steps", 0, "max_steps must be -1"),
        ("warmup_ratio", 1.5, "warmup_ratio must be in"),
    ],
)
def test_train_config_rejects_bad_values_naming_what_is_accepted(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value})


def test_config_from_args_layers_profile_file_and_overrides(tmp_path):
    file = tmp_path / "train.yaml"
    file.write_text("epochs: 7\nlr: 0.001\n")
    config = config_from_args("smoke", str(file), ["lr=0.002", "group_by_length=false", "student=tiny-t5-xs"])
    assert (config.epochs, config.lr, config.group_by_length, config.student) == (7, 0.002, False, "tiny-t5-xs")
    with pytest.raises(ValueError, match="unknown TrainConfig field"):
        recipe_config("smoke", learning_rate=1)
    with pytest.raises(ValueError, match="accepted: paper, pretrained, smoke, tiny"):
        recipe_config("huge")


# -- training -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny student trained for a few epochs (shared by the tests below)."""
    run_dir = tmp_path_factory.mktemp("train")
    config = TrainConfig(**{**FAST, "epochs": 4})
    train, val = toy_samples(128, 1), toy_samples(24, 2)
    return train_student(train, val, config, run_dir), train, val, config


def test_a_trained_tiny_student_learns_to_stop(trained):
    result, train, _, _ = trained
    model, tokenizer = load_trained(result.best_model_dir)
    prompts = [s.prompt for s in train[:16]]
    encoded = tokenizer(prompts[0])["input_ids"]
    out = model.generate(torch.tensor([encoded]), max_new_tokens=80, do_sample=False)
    generated = out[0, len(encoded):].tolist()
    assert tokenizer.eos_token_id in generated and len(generated) < 80
    answers = greedy_answers(model, tokenizer, prompts, max_new_tokens=80)
    assert all(" --> " in a and len(a) < 200 for a in answers)


def test_training_lowers_the_loss_and_records_per_epoch_curves(trained):
    result, _, _, config = trained
    curves = result.learning_curves()
    assert list(curves["epoch"]) == [1.0, 2.0, 3.0, 4.0]
    assert curves["train_loss"].iloc[-1] < curves["train_loss"].iloc[0] / 2
    assert curves["eval_loss"].iloc[-1] < curves["eval_loss"].iloc[0]
    assert result.tokens_per_second > 0 and result.samples_train == 128 and result.samples_val == 24
    assert result.config == {**result.config, "epochs": 4}


def test_the_best_epoch_is_chosen_by_validation_loss_and_saved(trained):
    result, _, val, config = trained
    curves = result.learning_curves()
    best = curves.loc[curves["eval_loss"].idxmin()]
    assert result.best_epoch == best["epoch"]
    assert result.best_metric == pytest.approx(best["eval_loss"])
    assert Path(result.best_checkpoint).is_dir()
    # the saved student is the selected one: it reproduces the best validation loss
    model, tokenizer = load_trained(result.best_model_dir)
    rows = [encode_sample(tokenizer, s.prompt, s.completion, "decoder") for s in val]
    batch = SampleCollator(tokenizer.pad_token_id)(rows)
    with torch.no_grad():
        loss = model(**batch).loss.item()
    assert loss == pytest.approx(result.best_metric, rel=0.02)


def test_without_checkpoints_the_best_epoch_is_kept_in_memory_and_written_once(tmp_path, trained):
    reference, train, val, config = trained
    result = train_student(train, val, config.replace(checkpoints=False), tmp_path / "run")
    assert not list((tmp_path / "run").glob("checkpoints/checkpoint-*")) and result.best_checkpoint is None
    curves = result.learning_curves()
    assert result.best_epoch == curves.loc[curves["eval_loss"].idxmin(), "epoch"]
    assert result.best_metric == pytest.approx(curves["eval_loss"].min())
    model, tokenizer = load_trained(result.best_model_dir)
    rows = [encode_sample(tokenizer, s.prompt, s.completion, "decoder") for s in val]
    with torch.no_grad():
        loss = model(**SampleCollator(tokenizer.pad_token_id)(rows)).loss.item()
    assert loss == pytest.approx(result.best_metric, rel=0.02)


def test_rerunning_a_finished_training_skips_it(trained):
    result, train, val, config = trained
    again = train_student(train, val, config, result.run_dir)
    assert again.skipped and again.best_model_dir == result.best_model_dir
    assert again.log_history == result.log_history


class _Interrupt(Exception):
    pass


def StopAfterFirstSave():
    """A Trainer callback that interrupts training at its first checkpoint (a crash after one epoch)."""
    from transformers import TrainerCallback

    class _Stop(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            raise _Interrupt()

    return _Stop()


def test_an_interrupted_training_resumes_from_its_last_checkpoint(tmp_path):
    config = TrainConfig(**{**FAST, "epochs": 3})
    train, val = toy_samples(48, 1), toy_samples(8, 2)
    with pytest.raises(_Interrupt):
        train_student(train, val, config, tmp_path, callbacks=[StopAfterFirstSave()])
    assert not (tmp_path / "train_result.json").exists()
    result = train_student(train, val, config, tmp_path)
    assert result.resumed_from is not None and result.resumed_from.endswith("checkpoint-3")
    assert result.epochs_run == 3.0 and not result.skipped
    assert [row["epoch"] for row in result.learning_curves().to_dict("records")] == [1.0, 2.0, 3.0]


def test_checkpoints_of_another_configuration_or_other_samples_are_never_resumed(tmp_path, capsys):
    config = TrainConfig(**{**FAST, "epochs": 3})
    train, val = toy_samples(48, 1), toy_samples(8, 2)
    with pytest.raises(_Interrupt):
        train_student(train, val, config, tmp_path, callbacks=[StopAfterFirstSave()])
    with pytest.raises(ValueError, match=r"holds checkpoints of another training \(epochs: 3 -> 5, lr: 0.003 -> 0.001\)"):
        train_student(train, val, config.replace(epochs=5, lr=1e-3), tmp_path)
    with pytest.raises(ValueError, match="another training \\(the training or validation samples\\)"):
        train_student(toy_samples(48, 7), val, config, tmp_path)
    assert not (tmp_path / "train_result.json").exists()  # nothing was trained or saved under the new configuration
    result = train_student(train, val, config, tmp_path)  # the same training resumes, and says so
    assert result.resumed_from is not None and "fcot: resuming the training in" in capsys.readouterr().out


def test_selection_by_validation_accuracy_scores_every_epoch(tmp_path):
    config = TrainConfig(**{**FAST, "select_by": "eval_accuracy", "max_new_tokens": 40})
    result = train_student(toy_samples(48, 1), toy_samples(8, 2), config, tmp_path)
    curves = result.learning_curves()
    assert "eval_accuracy" in curves and curves["eval_accuracy"].between(0, 1).all()
    assert result.best_metric == pytest.approx(curves["eval_accuracy"].max())


@pytest.mark.parametrize("checkpoints", [False, True])
def test_selection_last_keeps_the_final_epoch_and_records_its_validation_accuracy(tmp_path, checkpoints):
    config = TrainConfig(**{**FAST, "epochs": 3, "select_by": "last", "checkpoints": checkpoints, "max_new_tokens": 40})
    result = train_student(toy_samples(48, 1), toy_samples(8, 2), config, tmp_path)
    curves = result.learning_curves()
    assert result.best_epoch == result.epochs_run == 3.0 and result.best_checkpoint is None
    assert result.best_metric == pytest.approx(curves["eval_loss"].iloc[-1])  # the last epoch's loss, not the lowest
    assert 0.0 <= result.val_accuracy <= 1.0  # measured once, on the kept student


def test_the_tiny_recipe_gives_each_student_its_own_learning_rate_unless_one_is_set():
    assert recipe_config("tiny", student="tiny-gpt2-xs").lr == RECIPE_LR["tiny"]["tiny-gpt2-xs"]
    assert recipe_config("tiny", student="tiny-gpt2-m").lr == RECIPE_LR["tiny"]["tiny-gpt2-m"]
    assert recipe_config("tiny", student="tiny-gpt2-xs", lr=1e-3).lr == 1e-3  # an explicit lr wins
    assert recipe_config("tiny", student="tiny-t5-s").lr == RECIPES["tiny"].lr  # no entry: the recipe's


def test_validation_accuracy_counts_exact_answers_once_per_question():
    class Echo:
        """A stand-in student: answers every prompt with a fixed completion."""

    samples = [
        Sample("a", 0, "q1 ###", " r --> ab", "ft_cot"),
        Sample("a", 1, "q1 ###", " r2 --> ab", "ft_cot"),
        Sample("b", 0, "q2 ###", " r --> cd", "ft_cot"),
    ]
    import fcot.students.training as students  # validation_accuracy looks greedy_answers up there

    original = students.greedy_answers
    students.greedy_answers = lambda m, t, prompts, *a: [" x --> ab" for _ in prompts]
    try:
        assert validation_accuracy(Echo(), None, samples) == 0.5
    finally:
        students.greedy_answers = original


def test_a_tiny_t5_student_trains_on_encoder_decoder_samples(tmp_path):
    config = TrainConfig(**{**FAST, "student": "tiny-t5-xs"})
    result = train_student(toy_samples(48, 1, "ft_cot_encdec"), toy_samples(8, 2, "ft_cot_encdec"), config, tmp_path)
    curves = result.learning_curves()
    assert curves["train_loss"].iloc[-1] < curves["train_loss"].iloc[0]
    model, _ = load_trained(result.best_model_dir)
    assert student_kind(model) == "encoder_decoder"


def test_formats_that_do_not_fit_the_student_are_rejected(tmp_path):
    config = TrainConfig(**{**FAST, "student": "tiny-t5-xs"})
    with pytest.raises(ValueError, match="do not fit a encoder_decoder student"):
        train_student(toy_samples(8, 1), toy_samples(4, 2), config, tmp_path)


def test_empty_splits_are_rejected_and_test_is_never_a_selection_metric(tmp_path):
    with pytest.raises(ValueError, match="samples_val is empty"):
        train_student(toy_samples(8, 1), [], TrainConfig(**FAST), tmp_path)
    with pytest.raises(ValueError, match="samples_train is empty"):
        train_student([], toy_samples(8, 1), TrainConfig(**FAST), tmp_path)


def test_lora_trains_only_adapters_and_saves_a_merged_student(tmp_path):
    config = TrainConfig(**{**FAST, "finetune": "lora", "lora_r": 4, "epochs": 1})
    result = train_student(toy_samples(32, 1), toy_samples(8, 2), config, tmp_path)
    assert 0 < result.trainable_parameters < result.parameters / 2
    model, _ = load_trained(result.best_model_dir)
    assert count_parameters(model) == result.parameters
    assert not any("lora" in name for name, _ in model.named_parameters())


def test_a_lora_students_adapter_alone_rebuilds_it_on_the_base_it_names(tmp_path):
    from fcot.students.training import _apply_lora

    model, tokenizer = build_tiny_student("tiny-gpt2-xs", TEXTS)
    base = save_student(model, tokenizer, tmp_path / "base")  # stands in for an alias or hub id
    lora = _apply_lora(model, TrainConfig(**{**FAST, "finetune": "lora", "lora_r": 4}))
    with torch.no_grad():
        for name, parameter in lora.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0.0, 0.05)  # a trained adapter: B is no longer zero
    adapter = save_adapter(lora, str(base), tmp_path / "adapter")
    ids = tokenizer(TEXTS[0], return_tensors="pt").input_ids
    with torch.no_grad():
        expected = lora.merge_and_unload()(ids).logits
        loaded, _ = load_trained(adapter)
        assert torch.allclose(loaded(ids).logits, expected, atol=1e-3)  # fp16 adapter weights
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == str(base)
    assert (adapter / "adapter_model.safetensors").stat().st_size < 2 * count_parameters(model) / 10


def test_only_a_base_that_every_machine_resolves_ships_an_adapter(tmp_path):
    assert shippable_base("smollm2-135m") and shippable_base("gpt2")
    assert not shippable_base("tiny-gpt2-xs") and not shippable_base(str(tmp_path))


@pytest.mark.slow
def test_the_script_entry_trains_under_accelerate_launch_with_two_cpu_processes(tmp_path):
    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    write_samples(train, toy_samples(64, 1))
    write_samples(val, toy_samples(8, 2))
    launcher = Path(sys.executable).with_name("accelerate")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(REPO)}
    command = [
        # accelerate 1.15 starts several *CPU* processes only through MPI (--cpu) or through its torchrun
        # path (--multi_gpu); fcot's TrainingArguments set use_cpu without CUDA, so that path runs DDP on gloo.
        str(launcher), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
        "--dynamo_backend", "no", "-m", "fcot.students", "--train", str(train), "--val", str(val),
        "--run-dir", str(tmp_path / "run"), "--recipe", "smoke", "--set", "epochs=1",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["world_size"] == 2
    assert summary["epochs_run"] == 1.0
    # each of the 2 processes sees half the batches: 64 samples / (8 per device * 2) = 4 steps
    state = json.loads(next((tmp_path / "run" / "checkpoints").glob("checkpoint-*/trainer_state.json")).read_text())
    assert state["global_step"] == 4
    assert (tmp_path / "run" / "best" / "config.json").is_file()
