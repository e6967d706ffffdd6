"""Fine-tuning a student on curated samples with the transformers ``Trainer``: :func:`train_student` and its result.

The training recipe (:func:`train_student`) is the transformers ``Trainer`` with

* loss on the completion only: labels are ``-100`` on the prompt and on padding, and they are
  built from the *unpadded* sequence, so the end-of-sequence token stays in the loss even where
  the pad token *is* the EOS token (GPT-2) -- otherwise the student never learns to stop;
* dynamic padding with length-grouped batches, seeds set, bf16/TF32 on CUDA, gradient
  accumulation, checkpoints under ``fcot.paths.runs_dir()``, resume after interruption;
* model selection (best epoch) on the **validation** split, by validation loss by default or by
  validation accuracy (greedy decoding, via ``fcot.evaluate`` when present); never on test.

The same code runs under ``accelerate launch`` with several processes (DDP): see :mod:`fcot.students.script`
(``python -m fcot.students --train ... --val ... --run-dir ... --recipe ...``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from fcot import paths, progress
from fcot.curate import RATIONALE_PREFIX, samples_texts
from fcot.runs import is_main_process
from fcot.students.recipes import LORA_TARGETS, TrainConfig
from fcot.students.encoding import SampleCollator, encode_samples
from fcot.students.kinds import StudentKind, is_tiny_alias, student_kind
from fcot.students.loading import count_parameters, load_student, save_adapter, save_student, shippable_base
from fcot.students.runtime import peft_quiet, quiet_transformers, set_seed
from fcot.students.tiny import build_tiny_student


@dataclass
class TrainResult:
    """What :func:`train_student` did. ``log_history`` is the Trainer's (per-epoch train loss and
    validation metrics); ``best_model_dir`` holds the selected student (``load_trained`` reads it)."""

    run_dir: str
    best_model_dir: str
    best_checkpoint: str | None
    select_by: str
    best_metric: float | None
    best_epoch: float | None
    epochs_run: float
    train_runtime_s: float
    tokens_per_second: float
    samples_train: int
    samples_val: int
    train_tokens_per_epoch: int
    parameters: int
    trainable_parameters: int
    truncated_samples: int
    resumed_from: str | None
    skipped: bool
    config: dict
    log_history: list[dict] = field(default_factory=list)
    world_size: int = 1  # training processes (DDP ranks)
    val_accuracy: float | None = None  # the selected student's greedy accuracy on the validation questions
    adapter_dir: str | None = None  # a LoRA student of a named base: its adapter alone (save_adapter), a few MB

    def learning_curves(self):
        """Per-epoch train and validation loss (and accuracy where measured), a pandas DataFrame."""
        return learning_curves(self.log_history)


def learning_curves(log_history: Sequence[dict]):
    """One row per epoch from a Trainer log history: ``epoch, train_loss, eval_loss[, eval_accuracy]``."""
    import pandas as pd

    rows: dict[float, dict] = {}
    for entry in log_history:
        if "epoch" not in entry:
            continue
        epoch = round(float(entry["epoch"]), 4)
        row = rows.setdefault(epoch, {"epoch": epoch})
        if "loss" in entry:
            row["train_loss"] = entry["loss"]
        for key in ("eval_loss", "eval_accuracy"):
            if key in entry:
                row[key] = entry[key]
    columns = ["epoch", "train_loss", "eval_loss"] + (["eval_accuracy"] if any("eval_accuracy" in r for r in rows.values()) else [])
    frame = pd.DataFrame(list(rows.values()), columns=columns)
    return frame.sort_values("epoch").reset_index(drop=True)


def _gold_answer(sample) -> str:
    """The answer a validation sample teaches: the text after the last ``-->`` (ft_cot), else the completion."""
    text = sample.completion.strip()
    return text.rsplit("-->", 1)[-1].strip() if "-->" in text else text


def greedy_answers(model, tokenizer, prompts: Sequence[str], max_new_tokens: int = 128, batch_size: int = 64) -> list[str]:
    """Greedy completions of ``prompts`` for validation accuracy during training: the one batched
    generator, :func:`fcot.evaluate.generate_outputs`, without stop strings."""
    from fcot.evaluate import generate_outputs  # a cycle: fcot.evaluate imports fcot.students

    outputs = generate_outputs(model, tokenizer, prompts, batch_size=batch_size, max_new_tokens=max_new_tokens, stop=())
    return [generations[0].text for generations in outputs]


def validation_accuracy(model, tokenizer, samples_val: Sequence, max_new_tokens: int = 128, batch_size: int = 64) -> float:
    """Share of validation questions whose greedy answer string equals the gold answer of the samples.

    One question per distinct prompt (diverse-reasoning samples share prompts); multitask
    formats are asked the ``[label]`` task only. Exact string match after the last ``-->``.
    """
    gold: dict[str, str] = {}
    for sample in samples_val:
        if sample.prompt.startswith(RATIONALE_PREFIX):
            continue
        gold.setdefault(sample.prompt, _gold_answer(sample))
    if not gold:
        return float("nan")
    prompts = list(gold)
    answers = greedy_answers(model, tokenizer, prompts, max_new_tokens, batch_size)
    hits = 0
    for prompt, text in zip(prompts, answers):
        predicted = text.rsplit("-->", 1)[-1].strip() if "-->" in text else text.strip()
        hits += predicted == gold[prompt]
    return hits / len(prompts)


def _precision_flags(precision: str) -> dict:
    import torch

    cuda = torch.cuda.is_available()
    if precision == "auto":
        bf16 = cuda and torch.cuda.is_bf16_supported()
        return {"bf16": bf16, "tf32": bool(bf16)}
    if precision in ("bf16", "fp16") and not cuda:
        raise ValueError(f"TrainConfig.precision={precision!r} needs a CUDA GPU; use 'auto' or 'fp32' on a CPU")
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def _apply_lora(model, config: TrainConfig):
    from peft import LoraConfig, TaskType, get_peft_model

    targets = LORA_TARGETS.get(getattr(model.config, "model_type", ""), "all-linear")
    if isinstance(targets, list):
        names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
        targets = [t for t in targets if t in names] or "all-linear"
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
        fan_in_fan_out=getattr(model.config, "model_type", "") == "gpt2",  # GPT-2's Conv1D stores weights transposed
        task_type=TaskType.SEQ_2_SEQ_LM if student_kind(model) == "encoder_decoder" else TaskType.CAUSAL_LM,
    )
    with peft_quiet():
        return get_peft_model(model, lora)


def _prepare_student(config: TrainConfig, samples_train: Sequence, run_dir: Path):
    """Build or load the initial student; tiny students are saved to run_dir/init once (by the
    main process, others wait) so every process and every resumed attempt use the same tokenizer."""
    if not is_tiny_alias(config.student):
        return load_student(config.student)
    import torch
    from accelerate import PartialState

    init = run_dir / "init"
    with PartialState(cpu=not torch.cuda.is_available()).main_process_first():
        if not (init / "config.json").is_file():
            model, tokenizer = build_tiny_student(
                config.student, samples_texts(samples_train), seed=config.seed,
                vocab_size=config.tiny_vocab_size, dropout=config.tiny_dropout, max_positions=max(config.max_length, 64),
            )
            save_student(model, tokenizer, init)
    return load_student(init)


class _BestInMemory:
    """The best epoch's weights, kept in memory (``TrainConfig.checkpoints=False``): what the
    Trainer's ``load_best_model_at_end`` does with checkpoints on disk, without writing one per epoch."""

    def __init__(self, metric: str, greater: bool):
        self.metric, self.greater = metric, greater
        self.value = self.epoch = self.weights = None

    def offer(self, metrics: dict, epoch: float | None, model) -> None:
        if self.metric == "last":  # no selection: the weights stay the trainer's; remember the epoch and its loss
            self.value, self.epoch = metrics.get("eval_loss"), epoch
            return
        value = metrics.get(self.metric)
        if value is None:
            return
        if self.value is None or (value > self.value if self.greater else value < self.value):
            self.value, self.epoch = float(value), epoch
            self.weights = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def restore(self, model) -> None:
        if self.weights is not None:
            model.load_state_dict(self.weights)


RESUME_KEY_FILE = "fcot_key.json"  # in checkpoints/: the configuration + samples key of the training that wrote them


def check_resume(checkpoints: Path, resume: str | None, key: str, config: TrainConfig) -> None:
    """Resume only the same training: checkpoints record the key of their configuration and samples
    (:data:`RESUME_KEY_FILE`); checkpoints of another training are refused, naming what differs, and
    nothing is overwritten. A fresh start records the key."""
    stamp = checkpoints / RESUME_KEY_FILE
    if resume:
        try:
            recorded = json.loads(stamp.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = {}
        if recorded.get("key") != key:
            before = recorded.get("config") or {}
            changed = sorted(k for k, v in dataclasses.asdict(config).items() if before.get(k, v) != v)
            what = (", ".join(f"{k}: {before[k]!r} -> {getattr(config, k)!r}" for k in changed) if changed
                    else "the training or validation samples" if before else "an unrecorded configuration")
            raise ValueError(
                f"{checkpoints.parent}: holds checkpoints of another training ({what}); a run directory resumes only "
                f"the same configuration and samples. Use another run directory, or delete {checkpoints} to start over."
            )
    elif config.checkpoints and is_main_process():
        checkpoints.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"key": key, "config": dataclasses.asdict(config)}, default=str), encoding="utf-8")


def _config_key(config: TrainConfig, samples_train: Sequence, samples_val: Sequence) -> str:
    import hashlib

    digest = hashlib.sha256(json.dumps(dataclasses.asdict(config), sort_keys=True).encode())
    for sample in list(samples_train) + [None] + list(samples_val):
        digest.update(b"\0" if sample is None else f"{sample.prompt}\x1f{sample.completion}\x1e".encode())
    return digest.hexdigest()[:16]

def train_student(
    samples_train: Sequence,
    samples_val: Sequence,
    config: TrainConfig,
    run_dir: str | os.PathLike,
    *,
    model=None,
    tokenizer=None,
    callbacks: Sequence | None = None,
    accuracy_fn=None,
) -> TrainResult:
    """Fine-tune a student on ``samples_train``, select the best epoch on ``samples_val``.

    ``run_dir`` holds checkpoints (``checkpoints/``), the selected model (``best/``) and
    ``train_result.json``; use ``Run.artifacts(...)`` so it lies under ``fcot.paths.runs_dir()``.
    A finished ``run_dir`` with the same config and samples is not retrained (``skipped=True``);
    an interrupted one resumes from its last checkpoint. ``model``/``tokenizer`` override
    ``config.student``. With ``select_by="eval_accuracy"``, ``accuracy_fn(model, tokenizer) ->
    float`` scores each epoch (default: :func:`validation_accuracy` on ``samples_val``).
    """
    _check_splits(samples_train, samples_val)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    key = _config_key(config, samples_train, samples_val)
    result_file = run_dir / "train_result.json"
    finished = _finished_result(result_file, key) if model is None else None
    if finished is not None:
        return finished

    set_seed(config.seed)
    model, tokenizer, kind = _initial_student(config, samples_train, samples_val, run_dir, model, tokenizer)
    parameters = count_parameters(model)
    if config.finetune == "lora":
        model = _apply_lora(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    rows = (encode_samples(tokenizer, samples_train, kind, config.max_length),
            encode_samples(tokenizer, samples_val, kind, config.max_length))
    args = _training_arguments(config, run_dir, len(rows[0]))
    score = accuracy_fn or (lambda m, t: validation_accuracy(m, t, samples_val, config.max_new_tokens, config.eval_batch_size))
    kept = _BestInMemory(config.select_by, config.select_by == "eval_accuracy")
    trainer = _student_trainer(model, tokenizer, kind, config, args, rows, list(callbacks or []), score, kept)
    resume, started_epoch = _resume_point(run_dir, key, config)
    with quiet_transformers():
        output = trainer.train(resume_from_checkpoint=resume)
    runtime = float(output.metrics.get("train_runtime", 0.0))
    val_accuracy = _select_student(trainer, tokenizer, config, kept, score)
    best_dir, adapter_dir = _save_selected(trainer, tokenizer, config, run_dir)
    result = _train_result(trainer, config, kept, rows, run_dir=str(run_dir), best_model_dir=str(best_dir),
                           runtime=runtime, started_epoch=started_epoch, parameters=parameters, trainable=trainable,
                           resume=resume, val_accuracy=val_accuracy, adapter_dir=adapter_dir)
    if is_main_process():
        tmp = result_file.with_name(result_file.name + ".tmp")
        tmp.write_text(json.dumps({"key": key, "result": dataclasses.asdict(result)}, indent=1, default=str))
        os.replace(tmp, result_file)
    return result


def _check_splits(samples_train: Sequence, samples_val: Sequence) -> None:
    """Both splits have samples: training needs some, and model selection needs a validation split (never test)."""
    if not samples_train:
        raise ValueError("train_student: samples_train is empty (did curation filter every rationale?)")
    if not samples_val:
        raise ValueError("train_student: samples_val is empty; model selection needs a validation split (never test)")


def _finished_result(result_file: Path, key: str) -> TrainResult | None:
    """The recorded result of a finished training of the same configuration and samples (``skipped=True``), if any."""
    if result_file.is_file():
        recorded = json.loads(result_file.read_text())
        if recorded.get("key") == key and Path(recorded["result"]["best_model_dir"]).is_dir():
            return TrainResult(**{**recorded["result"], "skipped": True})
    return None


def _initial_student(config: TrainConfig, samples_train: Sequence, samples_val: Sequence, run_dir: Path, model,
                     tokenizer):
    """``(model, tokenizer, kind)`` to train: the given ones, else ``config.student``'s; the samples' formats must fit
    the student's kind, and a tokenizer without a pad token pads with EOS."""
    if model is None:
        model, tokenizer = _prepare_student(config, samples_train, run_dir)
    elif tokenizer is None:
        raise ValueError("train_student: pass tokenizer= with model=")
    kind = student_kind(model)
    formats = {s.format for s in list(samples_train) + list(samples_val)}
    wrong = sorted(f for f in formats if f.endswith("_encdec") != (kind == "encoder_decoder"))
    if wrong:
        raise ValueError(
            f"sample format(s) {wrong} do not fit a {kind} student; use "
            f"{'the *_encdec formats' if kind == 'encoder_decoder' else 'the decoder formats (no _encdec)'}"
        )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer, kind


def _training_arguments(config: TrainConfig, run_dir: Path, train_rows: int):
    """The Trainer's arguments for ``config`` (``train_rows`` tokenised training samples set the warm-up steps)."""
    import torch
    from transformers import TrainingArguments

    steps_per_epoch = math.ceil(train_rows / (config.batch_size * config.grad_accum))
    total_steps = config.max_steps if config.max_steps > 0 else steps_per_epoch * config.epochs
    accuracy = config.select_by == "eval_accuracy"
    last = config.select_by == "last"
    # REPRODUCTION NOTE: the official code evaluates every epoch on the test split and the paper
    # reports those numbers; fcot chooses the epoch on a validation split carved out of train (the
    # best by loss or by accuracy, or the last: the tiny recipe's, chosen on validation in notebook 29)
    # and leaves test to fcot.evaluate, once, afterwards.
    return TrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.grad_accum,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        learning_rate=config.lr,
        weight_decay=config.weight_decay,
        adam_beta2=config.adam_beta2,
        warmup_steps=int(round(config.warmup_ratio * total_steps)),
        lr_scheduler_type=config.scheduler,
        optim=config.optim,
        eval_strategy="epoch",
        save_strategy="epoch" if config.checkpoints else "no",
        logging_strategy="epoch",
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=config.checkpoints and not last,
        metric_for_best_model=None if last else config.select_by,
        greater_is_better=accuracy,
        seed=config.seed,
        data_seed=config.seed,
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        remove_unused_columns=False,
        report_to="none",
        disable_tqdm=progress.disabled(),  # the Trainer's own bars: in a terminal and JupyterLab, not in stored notebooks
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        ddp_find_unused_parameters=False,
        use_cpu=not torch.cuda.is_available(),  # also makes torchrun/accelerate processes on CPUs use DDP (gloo)
        log_level="warning",
        **_precision_flags(config.precision),
    )


def _student_trainer(model, tokenizer, kind: StudentKind, config: TrainConfig, args, rows, callbacks: list, score,
                     kept: _BestInMemory):
    """The Trainer of ``model`` on ``rows`` (training, validation): each evaluation adds the validation accuracy
    (``select_by="eval_accuracy"``) and offers the epoch to ``kept`` (no checkpoints, or the last epoch kept)."""
    from transformers import PrinterCallback, Trainer

    accuracy = config.select_by == "eval_accuracy"
    last = config.select_by == "last"

    class _StudentTrainer(Trainer):
        def evaluate(self, *a, **kw):
            metrics = super().evaluate(*a, **kw)
            if accuracy:
                value = float(score(self.accelerator.unwrap_model(self.model), tokenizer))
                metrics["eval_accuracy"] = value
                self.log({"eval_accuracy": value})
            if not config.checkpoints or last:
                kept.offer(metrics, self.state.epoch, self.accelerator.unwrap_model(self.model))
            return metrics

    trainer = _StudentTrainer(
        model=model,
        args=args,
        train_dataset=rows[0],
        eval_dataset=rows[1],
        data_collator=SampleCollator(tokenizer.pad_token_id, kind),
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # the log history is returned; no dict printing per epoch
    return trainer


def _resume_point(run_dir: Path, key: str, config: TrainConfig) -> tuple[str | None, float]:
    """The last checkpoint of this same training to resume from (None: a fresh start) and its epoch."""
    from transformers.trainer_utils import get_last_checkpoint

    checkpoints = run_dir / "checkpoints"
    resume = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    check_resume(checkpoints, resume, key, config)
    started_epoch = 0.0
    if resume:
        state = json.loads((Path(resume) / "trainer_state.json").read_text())
        started_epoch = float(state.get("epoch") or 0.0)
        print(f"fcot: resuming the training in {run_dir} from {Path(resume).name} (epoch {started_epoch:g}; same "
              "configuration and samples)")
    return resume, started_epoch


def _select_student(trainer, tokenizer, config: TrainConfig, kept: _BestInMemory, score) -> float | None:
    """Put the selected epoch's weights in the trainer's model (kept in memory without checkpoints) and return its
    validation accuracy."""
    if not config.checkpoints:
        kept.restore(trainer.accelerator.unwrap_model(trainer.model))
    # the selected student's validation accuracy, once (selection by accuracy measured it already): what a
    # base point or a learning rate is chosen on, never test
    if config.select_by == "eval_accuracy":
        return kept.value
    return float(score(trainer.accelerator.unwrap_model(trainer.model), tokenizer))


def _save_selected(trainer, tokenizer, config: TrainConfig, run_dir: Path) -> tuple[Path, str | None]:
    """Write the selected student to ``run_dir/best`` (a LoRA one merged) and, for a LoRA student of a named base,
    its adapter alone to ``run_dir/adapter``; only the main process writes. Returns both directories."""
    best_dir = run_dir / "best"
    final = trainer.model
    adapter_dir = None
    if config.finetune == "lora" and shippable_base(config.student) and is_main_process():
        adapter_dir = str(save_adapter(trainer.accelerator.unwrap_model(final), config.student, run_dir / "adapter"))
    if config.finetune == "lora":
        final = trainer.accelerator.unwrap_model(final).merge_and_unload()
    if is_main_process():
        save_student(trainer.accelerator.unwrap_model(final), tokenizer, best_dir)
    return best_dir, adapter_dir


def _train_result(trainer, config: TrainConfig, kept: _BestInMemory, rows, *, run_dir: str, best_model_dir: str,
                  runtime: float, started_epoch: float, parameters: int, trainable: int, resume: str | None,
                  val_accuracy: float | None, adapter_dir: str | None) -> TrainResult:
    """The :class:`TrainResult` of a finished ``trainer`` on ``rows`` (training, validation): the selected epoch and
    its metric, sizes and speed, and what :func:`train_student` measured on the way."""
    train_rows, val_rows = rows
    tokens_per_epoch = sum(train_rows["length"])  # decoder: the sequence; encoder-decoder: input + labels
    epochs_run = float(trainer.state.epoch or 0.0)
    best_epoch, best_metric = kept.epoch, kept.value
    best_checkpoint = trainer.state.best_model_checkpoint if config.checkpoints and config.select_by != "last" else None
    if best_checkpoint:
        best_state = json.loads((Path(best_checkpoint) / "trainer_state.json").read_text())
        best_epoch, best_metric = best_state.get("epoch"), trainer.state.best_metric
    return TrainResult(
        run_dir=run_dir,
        best_model_dir=best_model_dir,
        best_checkpoint=best_checkpoint,
        select_by=config.select_by,
        best_metric=best_metric,
        best_epoch=best_epoch,
        epochs_run=epochs_run,
        train_runtime_s=runtime,
        tokens_per_second=(tokens_per_epoch * max(epochs_run - started_epoch, 0.0) / runtime) if runtime > 0 else 0.0,
        samples_train=len(train_rows),
        samples_val=len(val_rows),
        train_tokens_per_epoch=tokens_per_epoch,
        parameters=parameters,
        trainable_parameters=trainable,
        truncated_samples=sum(train_rows["truncated"]) + sum(val_rows["truncated"]),
        resumed_from=resume,
        skipped=False,
        config=dataclasses.asdict(config),
        log_history=[dict(e) for e in trainer.state.log_history],
        world_size=int(trainer.args.world_size),
        val_accuracy=val_accuracy,
        adapter_dir=adapter_dir,
    )


def record_training(run, result: TrainResult, figure=None) -> dict:
    """Write a training result to ``run`` (``fcot.runs.Run``): metrics (best epoch and metric,
    tokens/s, runtime, parameters, where the selected student is), the per-epoch learning curves
    table, the log history, the figure (``learning_curves.png``); then mark the run finished."""
    metrics = {
        "select_by": result.select_by,
        "best_metric": result.best_metric,
        "best_epoch": result.best_epoch,
        "val_accuracy": result.val_accuracy,
        "epochs_run": result.epochs_run,
        "train_runtime_s": result.train_runtime_s,
        "tokens_per_second": result.tokens_per_second,
        "train_tokens_per_epoch": result.train_tokens_per_epoch,
        "samples_train": result.samples_train,
        "samples_val": result.samples_val,
        "parameters": result.parameters,
        "trainable_parameters": result.trainable_parameters,
        "truncated_samples": result.truncated_samples,
        "world_size": result.world_size,
        "best_model_dir": paths.portable(result.best_model_dir),  # no machine path in results/
        "skipped_training": result.skipped,
    }
    if result.adapter_dir:  # a LoRA student of a named base ships with the record: loadable without training
        run.save_directory(result.adapter_dir, "student")
        metrics["student_adapter"] = paths.portable(run.path / "student")
    run.save_metrics(metrics)
    run.save_table(result.learning_curves(), "learning_curves")
    run.save_json(result.log_history, "log_history")
    if figure is not None:
        run.save_figure(figure, "learning_curves")
    if run.status != "finished":
        run.finish()
    return metrics
