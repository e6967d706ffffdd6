"""fcot: a notebook-first, reproducible study package for Fine-tune-CoT.

Ho, Schmid, Yun, "Large Language Models Are Reasoning Teachers", ACL 2023.
The package is a thin set of nouns (tasks, prompts, teachers, curate, students, evaluate, runs,
plots, paths); the notebooks in ``notebooks/`` call it one step per cell.
"""

__version__ = "0.1.0"


def _in_kernel() -> bool:
    import sys

    return "ipykernel" in sys.modules


if _in_kernel():  # fcot's errors open with their message in notebooks (fcot.errors)
    from fcot import errors as _errors

    _errors.install()
