"""What the paper claims for each phenomenon, and the profile's hypotheses shown beside an unclear verdict.

The paper's words and Table 1 numbers per phenomenon (:func:`paper_claim`), the Table 1 task that stands beside each
main-table column (:data:`COLUMN_PAPER_TASK`), and the one rule for when a finding needs its profile's hypothesis
(:func:`unexplained`); the README's Results block and every notebook's "What we saw" read them.
"""

from __future__ import annotations

import re
from typing import Mapping

from fcot import paths, steps

# What the paper reports for each phenomenon: (prefix of the finding's phenomenon, the paper's words
# and numbers). Numbers are Table 1's GPT-3 6.7B students (fcot/resources/published_table1.csv);
# ablations without a number in the paper say what its figure shows.
_PAPER_CLAIMS: tuple[tuple[str, str], ...] = (
    ("Fine-tune-CoT beats vanilla", "yes: {column_claim} (Table 1)"),  # the column's task: see COLUMN_PAPER_TASK
    ("diverse reasoning (D > 1) beats", "yes: last letter D=8 {ft_cot_diverse} vs D=1 {ft_cot} (Table 1)"),
    ("step-by-step multitask", "no claim (a later method, Hsieh et al. 2023; described only)"),
    ("accuracy rises with the diversity degree", "yes: rises with D up to 64 (Figure 3)"),
    ("accuracy rises with the number of training", "yes: rises with the data size (Figure 4)"),
    ("accuracy rises with the student's size", "yes: 0.3B -> 1.3B -> 6.7B students improve (Table 1, Figure 5)"),
    ("accuracy rises with the teacher's accuracy", "yes: better teachers give better students (Figure 6)"),
    ("the student matches or beats an imperfect teacher (teacher", "yes on some tasks, e.g. last letter D=8 "
                                                                   "{ft_cot_diverse} vs teacher {teacher} (Table 1)"),
    ("filtering wrong rationales helps", "filtering is the method's default; its ablation shows small effects "
                                         "(appendix)"),
    ("filtering helps at equal sample count", "the appendix compares at equal size (its control)"),
    ("accuracy rises with the rationale cap", "no claim (fcot's ablation: the paper never cuts rationales)"),
    ("the student matches or beats an imperfect teacher (best", "yes on some tasks (Table 1)"),
)


def _profile_of(study: str | None):
    """``study``'s profile (None: the profile this process runs), or None when it has no profile file."""
    from fcot import study as runner  # a cycle: fcot.study imports fcot.report, through teaching

    try:
        return runner.load_profile(paths.profile_name(study))
    except runner.ProfileError:
        return None


def stage_evaluations(study: str | None = None) -> list[str]:
    """The names of the evaluation runs that ``study``'s profile writes through its stage notebooks (the steps
    whose job is ``evaluate``, :func:`fcot.steps.job`, by their ``name`` parameter): its stage walk-through. A study
    without a profile file has none."""
    profile = _profile_of(study)
    return [str(step.parameters["name"]) for step in (profile.steps if profile else ())
            if steps.job(step.notebook) == "evaluate" and "name" in step.parameters]


def hypotheses_of(study: str | None = None, root=None) -> dict[str, str]:
    """The hypotheses of ``study``'s profile (``{phenomenon's first words: text}``; None: the profile this process
    runs), with each ``{pretrained:<task>}`` filled with that column of the pretrained study's committed table
    (:func:`fcot.levels.column_evidence`). A study without a profile file has none. The texts hold no result of
    their own study: they are shown only where its verdict is not clear (:func:`unexplained`)."""
    from fcot import levels  # a cycle: levels imports fcot.report

    profile = _profile_of(study)
    return {prefix: re.sub(r"\{pretrained:([a-z_]+)\}", lambda m: levels.column_evidence(m.group(1), root=root),
                             text)
            for prefix, text in (profile.hypotheses if profile else {}).items()}


def hypothesis(phenomenon: str, hypotheses: Mapping[str, str]) -> str:
    """The text of the first hypothesis whose prefix starts ``phenomenon`` ("" when none)."""
    return next((text for prefix, text in hypotheses.items() if phenomenon.startswith(prefix)), "")


def unexplained(phenomenon: str, verdict: str, noise: str = "", hypotheses: Mapping[str, str] | None = None) -> bool:
    """Whether a finding needs its hypothesis beside it: a phenomenon the paper reports (or filtering, its default)
    that was measured here and does not show clearly, and for which ``hypotheses`` (default: the current profile's,
    :func:`hypotheses_of`) has one. The README's list and each notebook's "What we saw" use this one rule."""
    hypotheses = hypotheses_of() if hypotheses is None else hypotheses
    claimed = paper_claim(phenomenon, None).startswith(("yes", "filtering"))
    measured = verdict not in ("not measured", "one point so far")
    return claimed and measured and not _shows_clearly(verdict, noise) and bool(hypothesis(phenomenon, hypotheses))


# The paper's Table 1 task whose Fine-tune-CoT and vanilla numbers stand beside a main-table column: the real task a
# synthetic family imitates (fcot's arithmetic family has no original; MultiArith is the paper's task of its form:
# short integer word problems of two operations).
COLUMN_PAPER_TASK = {"synth_last_letter": "last_letter_concatenation", "synth_coin_flip": "coin_flip",
                      "synth_shuffled_objects": "tracking_shuffled_objects", "synth_arithmetic": "multiarith"}
PAPER_TASK_WORDS = {"last_letter_concatenation": "last letter", "coin_flip": "coin flip",
                     "tracking_shuffled_objects": "shuffled objects", "multiarith": "MultiArith"}


def phenomenon_column(phenomenon: str) -> str:
    """The main-table column a methods phenomenon names: ``(coin_flip: real test split ...)`` -> ``coin_flip``,
    ``(synth_last_letter; no claim ...)`` -> ``synth_last_letter``; "" when it names none."""
    import re

    found = re.search(r"\((\w+)[:;)]", phenomenon)
    return found.group(1) if found else ""


def _column_claim(phenomenon: str) -> str:
    """The paper's Fine-tune-CoT vs vanilla numbers on the column's task, as placeholders :func:`paper_claim` fills
    from the published table, e.g. ``coin flip {ft_cot:coin_flip} vs {vanilla:coin_flip}``."""
    column = phenomenon_column(phenomenon)
    task = COLUMN_PAPER_TASK.get(column, column) if column else "last_letter_concatenation"
    words = PAPER_TASK_WORDS.get(task, task)
    if column == "synth_arithmetic":
        words += " (the paper's task of this form; fcot's family has no original)"
    return f"{words} {{ft_cot:{task}}} vs {{vanilla:{task}}}"


def published_accuracy(published, method: str, task: str) -> float | None:
    """The paper's accuracy (percent) of ``method`` on ``task`` in the published table; None when it has none."""
    if published is None:
        return None
    rows = published[(published["method"] == method) & (published["task"] == task)]
    return float(rows["accuracy"].iloc[0]) if len(rows) else None


def _shows_clearly(verdict: str, noise: str) -> bool:
    """A phenomenon shows clearly: the verdict is yes and the intervals separate."""
    return verdict == "yes" and noise == "clear"


def paper_claim(phenomenon: str, published) -> str:
    """What the paper reports for ``phenomenon`` (:data:`_PAPER_CLAIMS`), numbers from ``published``; "—" if none."""
    import re

    for prefix, text in _PAPER_CLAIMS:
        if phenomenon.startswith(prefix):
            text = text.replace("{column_claim}", _column_claim(phenomenon))

            def number(match) -> str:
                value = published_accuracy(published, match.group(1), match.group(2) or "last_letter_concatenation")
                return "?" if value is None else f"{value:.1f}%"

            return re.sub(r"\{(\w+)(?::(\w+))?\}", number, text)
    return "—"
