"""The paper profile rehearsed offline: its own chain, changed by ``--set`` overrides only.

Nothing in fcot's tests or the default study executes ``notebooks/profiles/paper.yaml``, so
"runnable by changing parameters only" needs a proof. :func:`rehearse` runs the paper profile's
teacher → curation → training → evaluation chain (notebooks 10 → 11 → 20 → 21, for a decoder and an
encoder-decoder student), its main-table
experiments (30) and its report (90) on two or three tasks, with these overrides and nothing else:

* ``backend=replay``: the recorded text-davinci-002 runs instead of an API;
* small ``n_train`` / ``n_val`` / ``n_test`` and ``epochs=1``;
* students given as local directories that stand in for the hub ids with the same architecture
  classes (``GPT2LMHeadModel`` for ``gpt2``, ``T5ForConditionalGeneration`` for ``t5-small``),
  random-initialised and saved with ``save_pretrained``, with tokenizers trained on the tasks' text
  (:func:`stand_in_students`).

With a network and a GPU the same steps take the hub ids: drop the student overrides (and
``backend=replay`` to call a real endpoint), as the README's paper section shows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence
from fcot import steps, students, study
from fcot.paths import RESULTS_ENV, RUNS_ENV, environment
from fcot.tasks import load_examples

# The steps of paper.yaml a rehearsal runs (ids; a step without an ``output`` is named after its notebook;
# 30_compare_methods_base is the D=1 method comparison).
STEPS = (
    "10_teacher", steps.CURATE, "11_curate_encdec", "20_train_gpt2", "21_evaluate_gpt2", "20_train_t5-small",
    "21_evaluate_t5-small", "30_compare_methods_base", steps.FIGURES,
)
# hub id in paper.yaml -> (tiny architecture built in its place, the steps whose student it is)
STAND_INS = {
    "gpt2": ("tiny-gpt2", (steps.CURATE, "20_train_gpt2", "30_compare_methods_base")),
    "t5-small": ("tiny-t5", ("11_curate_encdec", "20_train_t5-small")),
}
DEFAULT_TASKS = ("coin_flip", "date_understanding")


def stand_in_students(root: str | os.PathLike, tasks: Sequence[str], seed: int = 0) -> dict[str, Path]:
    """One saved, random-initialised model per hub student of :data:`STAND_INS`, under ``root/<hub id>``.

    The tokenizer (byte-level BPE) is trained on the tasks' questions; a directory that already
    holds a model is reused.
    """
    root = Path(root)
    texts = [example.question for task in tasks for example in load_examples(task)]
    made = {}
    for hub_id, (alias, _) in STAND_INS.items():
        path = root / hub_id
        if not (path / "config.json").is_file():
            model, tokenizer = students.build_tiny_student(alias, texts, seed=seed)
            students.save_student(model, tokenizer, path)
        made[hub_id] = path
    return made


def overrides(tasks: Sequence[str], stand_ins: dict[str, Path], *, n_train: int = 40, n_val: int = 10,
              n_test: int = 20, epochs: int = 1) -> list[str]:
    """The ``--set`` overrides of a rehearsal (``STEP.NAME=VALUE`` or ``NAME=VALUE``)."""
    sets = [
        "backend=replay",
        f"task=[{','.join(tasks)}]",
        f"n_train={n_train}",
        "10_teacher.n_train=0",  # the teacher answers the whole train side: curation carves validation from it
        f"n_val={n_val}",
        f"n_test={n_test}",
        f"epochs={epochs}",
    ]
    for hub_id, (_, ids) in STAND_INS.items():
        sets += [f"{step}.student={stand_ins[hub_id]}" for step in ids]
    return sets


def rehearse(workdir: str | os.PathLike, tasks: Sequence[str] = DEFAULT_TASKS, *, jobs: int = 1,
             log: Callable[[str], None] = print):
    """Run the rehearsal into ``workdir`` (results, runs and stand-in students); returns the StudyReport.

    ``FCOT_RESULTS_DIR`` and ``FCOT_RUNS_DIR`` point into ``workdir`` for the duration, so the
    executed notebooks never touch the committed ``results/`` or the user's ``runs/``.
    """
    workdir = Path(workdir).resolve()
    with environment({RESULTS_ENV: str(workdir / "results"), RUNS_ENV: str(workdir / "runs")}):
        stand_ins = stand_in_students(workdir / "students", tasks)
        return study.run_study("paper", overrides(tasks, stand_ins), ",".join(STEPS),
                               study.RunOptions(jobs=jobs), results_root=workdir / "results", log=log)
