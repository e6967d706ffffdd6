"""What a profile costs: teacher calls, tokens and USD, student FLOPs and GPU hours -- estimated offline.

:func:`estimate` expands a profile as ``make reproduce PROFILE=<name>`` would and walks its steps: the real
teacher driver over the real questions with an offline :class:`EstimatingBackend` (its ledger counts calls,
tokens and USD), students as parameters x tokens (FLOPs), GPU hours as FLOPs / (peak x MFU); :func:`markdown`,
:func:`summary_markdown` and :func:`to_json` render it (``python -m fcot cost --profile paper``). Submodules:

* :mod:`fcot.costs.basis` -- units and defaults: token counting, FLOPs per token, the default GPU and sample;
* :mod:`fcot.costs.hardware` -- student parameter counts and the GPU the hours are computed for;
* :mod:`fcot.costs.questions` -- the questions an estimate drives: train and test sides, recordings;
* :mod:`fcot.costs.teacher` -- teacher steps: the estimating backend, the driver's ledger scaled, the simulator;
* :mod:`fcot.costs.student_runs` -- student runs' compute: tokens, FLOPs and GPU hours;
* :mod:`fcot.costs.estimation` -- the estimate: the profile's plan walked step by step;
* :mod:`fcot.costs.output` -- the Markdown report, the README block and the JSON object.
"""

from __future__ import annotations

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
