"""The method's four stages -- teach, curate, train, evaluate -- each recorded as one run.

Each stage takes a frozen, validated config and its upstream run, and is recorded as one
:class:`fcot.runs.Run` keyed by the hash of its config plus its upstream run's key (``upstream``
in the run's config: the upstream run's kind and hash, not its name). A finished run with the same key is
reused, never recomputed (unless its large artifacts, kept outside git under ``runs_dir()``, are gone: then it
runs again); under another name it is copied (the stage walk-through and the experiment it repeats are one
computation).

    teach(data, TeachConfig)          -> teacher run   (completions of train + validation questions)
    curate(CurateConfig, teacher run) -> samples run   (fine-tuning samples; vanilla: curate(config, data=...))
    train(TrainConfig, samples run)   -> student run   (the selected student)
    evaluate(EvalConfig, student run) -> evaluation run (predictions on test)

Notebooks 10, 11, 20 and 21 call one stage each and name their upstream run by parameter;
:func:`fcot.experiments.run_experiment` composes the same four calls, so a chain and an experiment
with the same configuration give identical predictions. Which examples each stage sees is decided
once, by :func:`fcot.data.examples` on the :class:`fcot.data.DataConfig` the chain carries.

Submodules: :mod:`~fcot.stages.configs` (the teacher, curation and evaluation configs), :mod:`~fcot.stages.chain`
(the four stage functions and the readers of their runs), :mod:`~fcot.stages.narration` (what a run says to a
reader). Finding, claiming and reusing runs is :mod:`fcot.runs`'; its names are re-exported here, where the
notebooks have always found them.
"""

from fcot.runs import (  # noqa: F401 - the stage API the notebooks use: finding and reusing runs
    COMPUTED_HERE, artifact, claimed, computed_here, find, mark_computed_here, open_run, reusable, upstream_key,
    upstream_of,
)
from fcot.stages.chain import (  # noqa: F401
    ask_teacher, call_cache, chain_config, completions_of, curate, data_of, default_upstream, evaluate,
    learning_curves_of, load_student, result_of, samples_of, student_weights, teach, teacher_backend, tokenizer_of,
    train,
)
from fcot.stages.configs import BACKENDS, SIMULATED_SEED, CurateConfig, EvalConfig, TeachConfig  # noqa: F401
from fcot.stages.narration import describe, teacher_name, what_we_saw  # noqa: F401
