"""The study runner: execute the notebook chain in ``notebooks/`` with papermill, from a profile (``make reproduce``).

``profiles`` reads a profile (``notebooks/profiles/<name>.yaml``: strict YAML, ``extends``, ``--set`` overrides,
``--only`` selections); ``parameters`` reads a notebook's parameters cell and checks values against its annotations;
``planning`` expands a profile into its notebook executions and validates them before anything runs; ``execution``
runs them with papermill (skipping what this machine completed, ``--jobs``, timings) and is the study loop.
"""

from fcot.reproduction import format_reproduction, headline_numbers, reproduction_check  # noqa: F401 - the study's API

from .execution import (
    KERNEL,
    METADATA_KEY,
    RESUME_HINT,
    TIMINGS_NOTE,
    RunOptions,
    StepFailedError,
    StepOutcome,
    StudyReport,
    checkout_pythonpath,
    computed_runs,
    cpu_seconds,
    execute_run,
    execution_groups,
    failed_path,
    format_plan,
    format_summary,
    is_complete,
    kernel_config,
    kernel_threads,
    local_dir,
    local_timings_path,
    run_study,
    timings_path,
    to_execute,
)
from .parameters import NotebookParameter, coerce_value, is_grid_axis, notebook_parameters
from .planning import PlannedRun, plan, validate_profile
from .profiles import (
    NOTEBOOKS_DIR,
    PROFILE_KEYS,
    PROFILES_DIR,
    STEP_KEYS,
    DuplicateKeyError,
    Override,
    Profile,
    ProfileError,
    StepSpec,
    load_profile,
    matches,
    parse_override,
    profile_path,
    select_steps,
)
