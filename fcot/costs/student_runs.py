"""Student runs' compute: curated training tokens, evaluation tokens, FLOPs and GPU hours."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from fcot import curate, tasks
from fcot.costs.basis import (
    FORWARD_FLOPS_PER_PARAMETER_TOKEN,
    TRAIN_FLOPS_PER_PARAMETER_TOKEN,
    ApproxTokenizer,
    count_tokens,
)
from fcot.costs.hardware import Gpu, StudentSpec, student_spec
from fcot.costs.questions import spread, train_side
from fcot.costs.teacher import TeacherStep
from fcot.prompts import zero_shot_cot_stage1

# ---------------------------------------------------------------------------------------------
# Student runs


@dataclass
class StudentRun:
    """The compute of one student run: training (with validation) and/or evaluation."""

    step: str
    run: str
    task: str
    student: str
    parameters: int | None
    kind: str | None
    method: str
    epochs: int
    questions_train: int
    questions_val: int
    samples_train: int
    training_tokens: int  # every epoch's training tokens
    validation_tokens: int  # every epoch's validation tokens (forward only)
    test_questions: int
    evaluation_tokens: int  # prompts + generated tokens (upper bound)
    training_flops: float | None
    evaluation_flops: float | None
    gpu_hours: float | None
    counted: bool = True  # False: the same configuration as an earlier run (not run again)
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _effective_parameters(spec: StudentSpec) -> float:
    # An encoder-decoder's token goes through the encoder or the decoder: about half the parameters.
    return spec.parameters / 2 if spec.kind == "encoder_decoder" else float(spec.parameters)


def curated_per_question(teacher: TeacherStep | None, examples: Sequence, *, method: str, kind: str, degree: int,
                         filter_mode: str, max_rationale_tokens: int | None, max_length: int) -> tuple[float, float]:
    """(samples, tokens) per train question of the curated data, from the driven questions."""
    fmt = curate.format_for(method, kind)
    completions = [c for c in (teacher.completions if teacher else []) if c.sample_index < degree]
    cut = max_rationale_tokens if method != "vanilla" else None
    result = curate.curate(completions, examples, mode=filter_mode, fmt=fmt,
                           tokenizer=ApproxTokenizer() if cut else None, max_rationale_tokens=cut)
    tokens = 0
    for sample in result.samples:
        prompt, completion = count_tokens(sample.prompt), count_tokens(sample.completion) + 1  # + EOS
        if kind == "encoder_decoder":
            tokens += min(prompt + 1, max_length) + min(completion, max_length)
        else:
            tokens += min(prompt + completion, max_length)
    return len(result.samples) / len(examples), tokens / len(examples)


def _prompt_tokens(test: Sequence, fmt: str, kind: str) -> float:
    """Mean tokens of the evaluation prompts of ``test`` questions in ``fmt``."""
    if not test:
        return 0.0
    if fmt in curate.METHODS:
        full = curate.format_for(fmt, kind)
        return sum(count_tokens(curate.inference_prompt(e.question, full)) for e in test) / len(test)
    return sum(count_tokens(zero_shot_cot_stage1(e.question)) for e in test) / len(test)


def student_run(step: str, run: str, task: str, student: str, *, method: str, epochs: int, questions_train: int,
                questions_val: int, per_question: tuple[float, float] | None, val_per_question: tuple[float, float] | None,
                test: Sequence, eval_fmt: str, max_new_tokens: int, gpu: Gpu, generations: int = 1,
                note: str = "", counted: bool = True) -> StudentRun:
    """The :class:`StudentRun` of one training and/or evaluation: its tokens, FLOPs and GPU hours."""
    spec = student_spec(student)
    kind = spec.kind if spec else "decoder"
    samples = round(per_question[0] * questions_train) if per_question else 0
    training_tokens = round(per_question[1] * questions_train * epochs) if per_question else 0
    validation_tokens = round(val_per_question[1] * questions_val * epochs) if val_per_question else 0
    prompt = _prompt_tokens(test, eval_fmt, kind)
    evaluation_tokens = round(len(test) * generations * (prompt + max_new_tokens))
    if spec is None:
        flops_train = flops_eval = hours = None
        note = "; ".join(filter(None, [note, f"no parameter count for student {student!r} (add it to "
                                             f"fcot.costs.STUDENT_PARAMETERS): FLOPs not estimated"]))
    else:
        n = _effective_parameters(spec)
        flops_train = TRAIN_FLOPS_PER_PARAMETER_TOKEN * n * training_tokens + FORWARD_FLOPS_PER_PARAMETER_TOKEN * n * validation_tokens
        flops_eval = FORWARD_FLOPS_PER_PARAMETER_TOKEN * n * evaluation_tokens
        hours = gpu.hours(flops_train + flops_eval, spec.parameters) if counted else 0.0
    return StudentRun(
        step=step, run=run, task=task, student=student, parameters=spec.parameters if spec else None,
        kind=spec.kind if spec else None, method=method, epochs=epochs, questions_train=questions_train,
        questions_val=questions_val, samples_train=samples, training_tokens=training_tokens,
        validation_tokens=validation_tokens, test_questions=len(test), evaluation_tokens=evaluation_tokens,
        training_flops=flops_train, evaluation_flops=flops_eval, gpu_hours=hours, counted=counted, note=note,
    )


def experiment_run(run, config, teacher_for, gpu: Gpu, sample: int | None, counted: bool) -> StudentRun:
    """One notebook-30..36 execution: the experiment's training and test evaluation."""
    train_config = config.train_config()
    spec = student_spec(config.student)
    kind = spec.kind if spec else "decoder"
    split = tasks.load_split(config.task, validation_count=config.n_val or None, test_only=True)
    questions_train = min(config.n_train, len(split.train_indices)) if config.n_train else len(split.train_indices)
    questions_val = len(split.validation_indices)
    test = list(split.test)[: config.n_test or None]
    teacher = None
    if config.method != "vanilla":
        name = config.teacher_file if config.teacher == "file" else config.teacher
        teacher = teacher_for(config.task, name, degree=config.degree, accuracy=config.resolved_teacher_accuracy,
                              max_tokens=config.teacher_max_tokens, seed=config.data_seed)
    pool = teacher.examples if teacher else spread(train_side(config.task)[0], sample)
    per_question = curated_per_question(
        teacher, pool, method=config.method, kind=kind, degree=config.degree, filter_mode=config.filter_mode,
        max_rationale_tokens=config.max_rationale_tokens, max_length=train_config.max_length,
    )
    note = "" if counted else "same configuration as an earlier run: run once, not counted again"
    if teacher is not None and teacher.degree < config.degree:
        note = "; ".join(filter(None, [note, f"teacher has D={teacher.degree} < degree {config.degree}"]))
    return student_run(
        run.step.id, run.name, config.task, config.student, method=config.method, epochs=train_config.epochs,
        questions_train=questions_train, questions_val=questions_val, per_question=per_question,
        val_per_question=per_question, test=test, eval_fmt=config.method,
        max_new_tokens=config.resolved_max_new_tokens, gpu=gpu, note=note, counted=counted,
    )
