"""The estimate of a profile: its plan walked step by step into teacher steps and student runs.

:func:`estimate` expands a profile exactly as ``make reproduce PROFILE=<name>`` would
(:func:`fcot.study.plan`, with the same ``--set`` overrides and ``--only`` selection) and walks its
steps:

* **Teacher** (each notebook-10 step): the real teacher driver (:func:`fcot.teachers.generate`)
  runs over the task's real train questions with an :class:`fcot.costs.teacher.EstimatingBackend`, an offline
  stand-in for the endpoint that makes no network call and returns completions of realistic
  length. The driver's own :class:`fcot.teachers.Ledger` counts the calls, prompt and completion
  tokens and prices them with :data:`fcot.teachers.ledger.DEFAULT_PRICES` (an unknown model gets
  cost None, with the reason). Lengths come from the recorded text-davinci-002 logs
  (:mod:`fcot.recorded`): a question's own recording where the log covers it, else a recording of
  another question of the same task (the logs that cover the test side only), else ``max_tokens``
  (an upper bound). With ``sample`` set, the driver runs over that many evenly spaced questions per
  step and the counts are scaled to the whole step (calls exactly: two per question and sample).
* **Students** (notebooks 20/21, 30-36, 40): parameters of the student (:data:`fcot.costs.hardware.STUDENT_PARAMETERS`)
  x tokens. Training: 6 FLOPs per parameter per training token (forward + backward) over the
  curated samples (the teacher estimate above, filtered by :func:`fcot.curate.curate`) and the
  epochs, plus a forward pass (2 FLOPs per parameter per token) over the validation samples each
  epoch. Evaluation: 2 FLOPs per parameter per token, prompt plus ``max_new_tokens`` generated (an
  upper bound). An encoder-decoder's tokens pass through about half its parameters (encoder or
  decoder). Experiments (30-36) with the same canonical configuration are one run, counted once,
  as :func:`fcot.experiments.run_experiment` skips a finished configuration.
* **GPU hours** = FLOPs / (peak FLOP/s x MFU). The MFU measured by ``make bench-gpu``
  (``results/bench/gpu.json``) is used when that file exists (the measured size nearest in
  parameters), else :data:`fcot.costs.basis.DEFAULT_GPU` at :data:`fcot.costs.basis.DEFAULT_MFU` (an assumption, said so).

A :class:`PlanWalk` takes the plan's notebook executions in order and keeps what the earlier steps made
(teacher runs by name, curations, trained students) so that later steps read them; the step registry
(:func:`fcot.steps.job`) says which step is which.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from fcot import steps, students, study
from fcot.costs.basis import CHARS_PER_TOKEN, DEFAULT_SAMPLE
from fcot.costs.hardware import Gpu, gpu_assumption, student_spec
from fcot.costs.questions import spread, test_side, train_side
from fcot.costs.student_runs import StudentRun, curated_per_question, experiment_run, student_run
from fcot.costs.teacher import TeacherStep, estimate_teacher, simulated_teacher

@dataclass
class CostEstimate:
    """Everything :func:`estimate` found: teacher steps, student runs, the GPU and the assumptions."""

    profile: str
    overrides: tuple[str, ...]
    only: str | None
    sample: int | None
    executions: int
    gpu: Gpu
    teacher: list[TeacherStep]
    students: list[StudentRun]
    free_steps: dict[str, int]  # notebook -> executions that cost neither API calls nor GPU time
    assumptions: list[str]

    # -- totals -----------------------------------------------------------------------------------
    def teacher_totals(self) -> dict:
        costs = [t.cost_usd for t in self.teacher]
        return {
            "steps": len(self.teacher),
            "questions": sum(t.questions for t in self.teacher),
            "calls": sum(t.calls for t in self.teacher),
            "prompt_tokens": sum(t.prompt_tokens for t in self.teacher),
            "completion_tokens": sum(t.completion_tokens for t in self.teacher),
            "cost_usd": None if any(c is None for c in costs) else sum(costs),
            "cost_usd_known": sum(c for c in costs if c is not None),
            "steps_with_unknown_cost": sum(c is None for c in costs),
        }

    def student_stages(self) -> list[dict]:
        """One row per profile step id (in order): runs, tokens, FLOPs, GPU hours."""
        rows: dict[str, dict] = {}
        for run in self.students:
            row = rows.setdefault(run.step, {"step": run.step, "runs": 0, "shared_runs": 0, "students": [],
                                             "training_tokens": 0, "evaluation_tokens": 0, "flops": 0.0,
                                             "gpu_hours": 0.0, "unknown": 0})
            if not run.counted:
                row["shared_runs"] += 1
                continue
            row["runs"] += 1
            if run.student not in row["students"]:
                row["students"].append(run.student)
            row["training_tokens"] += run.training_tokens
            row["evaluation_tokens"] += run.evaluation_tokens
            if run.training_flops is None:
                row["unknown"] += 1
            else:
                row["flops"] += run.training_flops + run.evaluation_flops
                row["gpu_hours"] += run.gpu_hours
        return list(rows.values())

    def student_totals(self) -> dict:
        stages = self.student_stages()
        return {
            "runs": sum(r["runs"] for r in stages),
            "shared_runs": sum(r["shared_runs"] for r in stages),
            "training_tokens": sum(r["training_tokens"] for r in stages),
            "evaluation_tokens": sum(r["evaluation_tokens"] for r in stages),
            "flops": sum(r["flops"] for r in stages),
            "gpu_hours": sum(r["gpu_hours"] for r in stages),
            "runs_with_unknown_flops": sum(r["unknown"] for r in stages),
        }


def _defaults(notebook_path: Path) -> dict:
    return {name: p.default for name, p in study.notebook_parameters(notebook_path).items()}


def _train_and_validation(task: str, n_train: int, n_val: int) -> tuple[int, int]:
    """Train and validation questions of a chain (as :func:`fcot.data.examples` counts them)."""
    size = train_side(task)[1]
    val = n_val or max(1, round(0.1 * size))
    train = min(n_train, size - val) if n_train else size - val
    return train, val


def _teacher_questions(p: Mapping) -> int:
    """Questions a teacher step answers: its train and validation questions (0 = the whole train side)."""
    return p["n_train"] + p["n_val"] if p["n_train"] and p["n_val"] else 0

@dataclass
class PlanWalk:
    """What :func:`estimate` has found so far, walking a plan's runs in order; :meth:`add` takes the next run."""

    gpu: Gpu
    sample: int | None
    prices: Mapping[str, tuple[float, float]] | None
    teacher_steps: list[TeacherStep] = field(default_factory=list)
    student_runs: list[StudentRun] = field(default_factory=list)
    free: dict[str, int] = field(default_factory=dict)
    notes: set[str] = field(default_factory=set)
    by_name: dict[str, TeacherStep] = field(default_factory=dict)
    derived: dict[tuple, TeacherStep] = field(default_factory=dict)
    seen_experiments: set[str] = field(default_factory=set)
    defaults_cache: dict[Path, dict] = field(default_factory=dict)
    # curation run name -> (teacher step or None, task, method, n_train, n_val, n_test)
    curations: dict[str, tuple] = field(default_factory=dict)
    trained: dict[str, tuple] = field(default_factory=dict)  # student run name -> (task, student, method, n_test)
    data_of: dict[str, tuple] = field(default_factory=dict)  # teacher run name -> (n_train, n_val, n_test)

    def parameters(self, run) -> dict:
        """The run's notebook parameters: the notebook's defaults under the run's own."""
        if run.notebook_path not in self.defaults_cache:
            self.defaults_cache[run.notebook_path] = _defaults(run.notebook_path)
        return {**self.defaults_cache[run.notebook_path], **run.parameters}

    def count_free(self, notebook: str) -> None:
        """Count one execution of ``notebook`` that costs neither API calls nor GPU time."""
        self.free[notebook] = self.free.get(notebook, 0) + 1

    def add(self, run) -> None:
        """Estimate one notebook execution of the plan."""
        notebook = run.notebook_path.stem
        job = steps.job(notebook)  # what the notebook computes, from the step registry
        p = self.parameters(run)
        if job == "teach":
            self.add_teacher(run, p)
        elif job == "curate":
            self.add_curation(notebook, p)
        elif job == "train":
            self.add_training(run, notebook, p)
        elif job == "evaluate":
            self.add_evaluation(run, notebook, p)
        elif job in ("sweep", "recipe"):
            self.add_experiments(run, notebook, p)
        else:
            self.count_free(notebook)

    def teacher_for(self, task: str, teacher: str, *, degree: int = 1, accuracy: float | None = None,
                    max_tokens: int = 128, seed: int = 0) -> TeacherStep:
        """The teacher estimate a student step reads: a notebook-10 run of this plan by name, the
        recorded runs, or the simulated teacher."""
        if teacher in self.by_name and self.by_name[teacher].task == task:
            return self.by_name[teacher]
        kind = "simulated" if teacher == "simulated" else "replay"
        if teacher not in ("recorded", "replay", "simulated"):
            self.notes.add(f"teacher {teacher!r} is not written by a teacher step of this plan: its rationale lengths "
                           f"are taken from the recorded text-davinci-002 runs")
        key = (task, kind, degree, accuracy, max_tokens, seed)
        if key not in self.derived:
            if kind == "simulated":
                self.derived[key] = simulated_teacher(task, degree=degree, accuracy=accuracy, max_tokens=max_tokens,
                                                      seed=seed, sample=self.sample)
            else:
                self.derived[key] = estimate_teacher(f"({teacher})", task, backend="replay", model="text-davinci-002",
                                                     degree=1, max_tokens=max_tokens, sample=self.sample, seed=seed)
        return self.derived[key]

    def add_teacher(self, run, p: Mapping) -> None:
        """A notebook-10 step: estimate its teacher run and keep it by name for the steps that read it."""
        name = p["name"] or f"{p['task']}-{p['backend']}-d{p['degree']}"
        step = estimate_teacher(
            run.name, p["task"], backend=p["backend"], model=p["model"], degree=p["degree"],
            max_tokens=p["max_tokens"], temperature=p["temperature"], n_train=_teacher_questions(p),
            seed=p["data_seed"], budget_usd=p["budget_usd"], sample=self.sample, prices=self.prices,
        )
        self.teacher_steps.append(step)
        self.by_name[name] = step
        self.data_of[name] = (p["n_train"], p["n_val"], p["n_test"])
        if p["backend"] == "replay" and "own question" not in step.lengths:
            self.notes.add(f"{run.name}: backend replay has no recording for (some of) the {p['task']} train "
                           f"questions; the real run stops there (replay serves recorded questions only)")

    def add_curation(self, notebook: str, p: Mapping) -> None:
        """A notebook-11 step: free, but remember which teacher run and method its samples come from."""
        if not p["teacher_run"] or p["teacher_run"] not in self.by_name:
            self.count_free(notebook)  # reads a run made outside this plan (or the smoke chain)
            return
        teacher = self.by_name[p["teacher_run"]]
        name = p["name"] or f"{teacher.task}-{p['method']}"
        self.curations[name] = (teacher if p["method"] != "vanilla" else None, teacher.task, p["method"],
                                *self.data_of[p["teacher_run"]])
        self.count_free(notebook)

    def add_training(self, run, notebook: str, p: Mapping) -> None:
        """A notebook-20 step: the student's training on the curated samples (with validation)."""
        if p["samples_run"] not in self.curations:
            self.count_free(notebook)  # the smoke chain's tiny student, on the CPU
            return
        teacher, task, method, n_train, n_val, n_test = self.curations[p["samples_run"]]
        student = p["student"]
        chosen = {k: p[k] for k in ("epochs", "lr") if p.get(k) is not None}
        config = students.recipe_config(p["recipe"], student=student, seed=p["seed"], **chosen)
        spec = student_spec(student)
        kind = spec.kind if spec else "decoder"
        pool = teacher.examples if teacher else spread(train_side(task)[0], self.sample)
        questions_train, questions_val = _train_and_validation(task, n_train, n_val)
        per_question = curated_per_question(teacher, pool, method=method, kind=kind, degree=1,
                                            filter_mode="correct_only", max_rationale_tokens=None,
                                            max_length=config.max_length)
        self.student_runs.append(student_run(
            run.step.id, run.name, task, student, method=method, epochs=config.epochs,
            questions_train=questions_train, questions_val=questions_val, per_question=per_question,
            val_per_question=per_question, test=(), eval_fmt=method, max_new_tokens=0, gpu=self.gpu,
            note="validation: loss each epoch" if config.select_by == "eval_loss" else "",
        ))
        name = p["name"] or f"{task}-{method}"
        self.trained[name] = (task, student, method, n_test)

    def add_evaluation(self, run, notebook: str, p: Mapping) -> None:
        """A notebook-21 step: a trained student's test evaluation."""
        if p["student_run"] not in self.trained:
            self.count_free(notebook)
            return
        task, student, method, n_test = self.trained[p["student_run"]]
        test = list(test_side(task))[: n_test or None]
        k = p.get("self_consistency", 0) or 1
        max_new_tokens = p["max_new_tokens"] or (128 if method == "ft_cot" else 32)
        self.student_runs.append(student_run(
            run.step.id, run.name, task, student, method=method, epochs=0, questions_train=0, questions_val=0,
            per_question=None, val_per_question=None, test=test, eval_fmt=method,
            max_new_tokens=max_new_tokens, gpu=self.gpu, generations=k,
        ))

    def add_experiments(self, run, notebook: str, p: Mapping) -> None:
        """A sweep step (29-36): each point it computes (:func:`fcot.steps.points`, as the runner plans them), a
        configuration run before counted once."""
        for config in steps.points(notebook, p):
            key = config.key()
            counted = key not in self.seen_experiments
            self.seen_experiments.add(key)
            self.student_runs.append(experiment_run(run, config, self.teacher_for, self.gpu, self.sample, counted))


def estimate(
    profile: str | os.PathLike = "paper",
    overrides: Sequence[str] = (),
    *,
    only: str | None = None,
    sample: int | None = DEFAULT_SAMPLE,
    gpu: Gpu | None = None,
    prices: Mapping[str, tuple[float, float]] | None = None,
    profiles_dir: str | os.PathLike | None = None,
) -> CostEstimate:
    """The cost of running ``profile`` (a name in ``notebooks/profiles`` or a ``.yaml`` path) with
    ``--set`` ``overrides`` and ``--only`` selection, as :func:`fcot.study.plan` expands it.

    ``sample``: teacher questions driven per step (None = every question; slower, the same counts
    of calls, tokens scaled from fewer questions otherwise). ``gpu``: default :func:`gpu_assumption`.
    """
    loaded = study.load_profile(profile, profiles_dir)
    runs = study.plan(loaded, [study.parse_override(o) for o in overrides], only)
    gpu = gpu or gpu_assumption()
    walk = PlanWalk(gpu=gpu, sample=sample, prices=prices)
    for run in runs:
        walk.add(run)
    assumptions = _assumptions(gpu, sample, walk.teacher_steps, sorted(walk.notes))
    return CostEstimate(
        profile=loaded.name, overrides=tuple(overrides), only=only, sample=sample, executions=len(runs), gpu=gpu,
        teacher=walk.teacher_steps, students=walk.student_runs, free_steps=walk.free, assumptions=assumptions,
    )


def _assumptions(gpu: Gpu, sample: int | None, teacher: Sequence[TeacherStep], notes: Sequence[str]) -> list[str]:
    driven = "every train question" if sample is None else (
        f"at most {sample} evenly spaced train questions per step, scaled to the step's questions (calls are "
        f"exact: 2 per question and sample)")
    items = [
        f"Teacher: the real driver (`fcot.teachers.generate`) over {driven}, with an offline estimating backend "
        f"(`fcot.costs.EstimatingBackend`, no network); calls, tokens and USD are its ledger's "
        f"(`fcot.teachers.ledger.DEFAULT_PRICES`).",
        f"Tokens: ceil(characters / {CHARS_PER_TOKEN}) for teacher and students (no GPT-2/GPT-3 tokenizer offline); "
        "approximate, perhaps +-25%.",
        "Rationale lengths: the recorded text-davinci-002 completions where a task has a log in the data mirror "
        "(multiarith, addsub, coin_flip, last_letter_concatenation: the question's own; commonsense_qa, aqua: "
        "test questions' recordings); other tasks: the max_tokens limit (an upper bound). Diverse reasoning "
        "(D > 1) is priced at the greedy recording's length for every sample.",
        "Kept samples (correct-only filtering): the recorded verdicts where recorded, else every rationale is "
        "assumed kept (an upper bound on student tokens).",
        "Student FLOPs: 6 x parameters x training tokens (forward + backward) for every epoch, + 2 x parameters x "
        "validation tokens each epoch, + 2 x parameters x (prompt + max_new_tokens) per test question (an upper "
        "bound on generated tokens); encoder-decoder tokens pass through half the parameters; attention FLOPs "
        "(quadratic in length) are left out; samples cut at the training recipe's max_length.",
        f"GPU hours = FLOPs / (peak x MFU); {gpu.source}. Small students at batch 8 often reach less than this "
        f"MFU, and decoding is memory-bound, so evaluation hours are a lower bound.",
        "Experiments (notebooks 30-36) with the same canonical configuration are one run (fcot skips a finished "
        "configuration): counted once.",
    ]
    over = [t for t in teacher if t.budget_usd is not None and t.cost_usd is not None and t.cost_usd > t.budget_usd]
    for t in over:
        items.append(f"{t.step}: the estimate (${t.cost_usd:,.2f}) exceeds its budget_usd={t.budget_usd:g}; the run "
                     f"stops at the budget.")
    items.extend(notes)
    return items
