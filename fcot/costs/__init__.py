"""What a profile costs: teacher calls, tokens and USD, student FLOPs and GPU hours -- estimated offline.

:func:`estimate` expands a profile exactly as ``make reproduce PROFILE=<name>`` would
(:func:`fcot.study.plan`, with the same ``--set`` overrides and ``--only`` selection) and walks its
steps:

* **Teacher** (each notebook-10 step): the real teacher driver (:func:`fcot.teachers.generate`)
  runs over the task's real train questions with an :class:`EstimatingBackend`, an offline
  stand-in for the endpoint that makes no network call and returns completions of realistic
  length. The driver's own :class:`fcot.teachers.Ledger` counts the calls, prompt and completion
  tokens and prices them with :data:`fcot.teachers.ledger.DEFAULT_PRICES` (an unknown model gets
  cost None, with the reason). Lengths come from the recorded text-davinci-002 logs
  (:mod:`fcot.recorded`): a question's own recording where the log covers it, else a recording of
  another question of the same task (the logs that cover the test side only), else ``max_tokens``
  (an upper bound). With ``sample`` set, the driver runs over that many evenly spaced questions per
  step and the counts are scaled to the whole step (calls exactly: two per question and sample).
* **Students** (notebooks 20/21, 30-36, 40): parameters of the student (:data:`STUDENT_PARAMETERS`)
  x tokens. Training: 6 FLOPs per parameter per training token (forward + backward) over the
  curated samples (the teacher estimate above, filtered by :func:`fcot.curate.curate`) and the
  epochs, plus a forward pass (2 FLOPs per parameter per token) over the validation samples each
  epoch. Evaluation: 2 FLOPs per parameter per token, prompt plus ``max_new_tokens`` generated (an
  upper bound). An encoder-decoder's tokens pass through about half its parameters (encoder or
  decoder). Experiments (30-36) with the same canonical configuration are one run, counted once,
  as :func:`fcot.experiments.run_experiment` skips a finished configuration.
* **GPU hours** = FLOPs / (peak FLOP/s x MFU). The MFU measured by ``make bench-gpu``
  (``results/bench/gpu.json``) is used when that file exists (the measured size nearest in
  parameters), else :data:`DEFAULT_GPU` at :data:`DEFAULT_MFU` (an assumption, said so).

:func:`markdown` renders the tables with the assumptions under them, :func:`summary_markdown`
the README block (between :data:`BEGIN` and :data:`END`, written by :func:`write_readme_block`),
:func:`to_json` the same numbers as a JSON object. ``python -m fcot cost --profile paper``.

Submodules:

* :mod:`fcot.costs.basis` -- units and defaults: token counting, FLOPs per token, the default GPU and sample;
* :mod:`fcot.costs.hardware` -- student parameter counts and the GPU the hours are computed for;
* :mod:`fcot.costs.questions` -- the questions an estimate drives: train and test sides, recordings;
* :mod:`fcot.costs.teacher` -- teacher steps: the estimating backend, the driver's ledger scaled, the simulator;
* :mod:`fcot.costs.student_runs` -- student runs' compute: tokens, FLOPs and GPU hours;
* :mod:`fcot.costs.estimation` -- the estimate: the profile's plan walked step by step;
* :mod:`fcot.costs.output` -- the Markdown report, the README block and the JSON object.
"""

from __future__ import annotations

from fcot import paths  # `costs.paths`: read by tests
from fcot.costs.basis import (
    BEGIN,
    BENCH_GPU_JSON,
    CHARS_PER_TOKEN,
    DEFAULT_GPU,
    DEFAULT_MFU,
    DEFAULT_SAMPLE,
    END,
    FORWARD_FLOPS_PER_PARAMETER_TOKEN,
    TRAIN_FLOPS_PER_PARAMETER_TOKEN,
    ApproxTokenizer,
    count_tokens,
)
from fcot.costs.estimation import (
    CURATE_NOTEBOOK,
    EVALUATE_NOTEBOOK,
    EXPERIMENT_NOTEBOOKS,
    TEACHER_NOTEBOOK,
    TRAIN_NOTEBOOK,
    CostEstimate,
    estimate,
)
from fcot.costs.hardware import STUDENT_PARAMETERS, Gpu, StudentSpec, gpu_assumption, student_spec
from fcot.costs.output import (
    markdown,
    student_table,
    summary_markdown,
    teacher_table,
    to_json,
    write_outputs,
    write_readme_block,
)
from fcot.costs.student_runs import StudentRun
from fcot.costs.teacher import EstimatingBackend, TeacherStep, estimate_teacher

__all__ = [
    "BEGIN",
    "CHARS_PER_TOKEN",
    "CostEstimate",
    "DEFAULT_GPU",
    "DEFAULT_MFU",
    "DEFAULT_SAMPLE",
    "END",
    "EstimatingBackend",
    "Gpu",
    "STUDENT_PARAMETERS",
    "StudentRun",
    "TeacherStep",
    "count_tokens",
    "estimate",
    "gpu_assumption",
    "markdown",
    "student_spec",
    "summary_markdown",
    "to_json",
    "write_readme_block",
]
