"""Summaries of diagnosed completions: category counts, student beside teacher, "What we saw" and the recorded run.

Inputs are the frames of :func:`fcot.analysis.diagnosis.diagnose_predictions` (the student) and
:func:`fcot.analysis.diagnosis.diagnose_completions` (the teacher); notebook 40 calls these in order.
"""

from __future__ import annotations

from typing import Any, Mapping

from fcot.analysis.diagnosis import CATEGORIES, CATEGORY_HELP, ERROR_CATEGORIES
from fcot.runs import Run


def category_counts(frames: Mapping[str, Any]):
    """Counts and shares of each category per source (a DataFrame: rows = :data:`CATEGORIES`).

    ``frames``: ``{"student": diagnose_predictions(...), "teacher": diagnose_completions(...)}``.
    Columns: ``<source>`` (count) and ``<source> %`` (share of that source's completions).
    """
    import pandas as pd

    if not frames:
        raise ValueError("category_counts needs at least one {source: diagnosis frame}")
    table = pd.DataFrame(index=pd.Index(CATEGORIES, name="category"))
    for source, frame in frames.items():
        if "category" not in frame.columns:
            raise ValueError(f"category_counts: frame {source!r} has no 'category' column (pass diagnose_* output)")
        unknown = sorted(set(frame["category"]) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"category_counts: frame {source!r} has unknown categories {unknown}; accepted: {CATEGORIES}")
        counts = frame["category"].value_counts().reindex(CATEGORIES, fill_value=0).astype(int)
        table[source] = counts
        table[f"{source} %"] = (100 * counts / max(1, len(frame))).round(1)
    return table


def compare(student, teacher):
    """Student and teacher diagnoses of the same questions side by side (inner join on example_id).

    Columns: ``example_id``, ``question``, ``gold``, then ``student_*`` and ``teacher_*`` for
    ``rationale``, ``prediction``, ``category`` and ``detail``.
    """
    keep = ["rationale", "prediction", "category", "detail"]
    left = student[["example_id", "question", "gold", *keep]].rename(columns={k: f"student_{k}" for k in keep})
    right = teacher[["example_id", *keep]].rename(columns={k: f"teacher_{k}" for k in keep})
    return left.merge(right, on="example_id", how="inner")


def agreement_table(comparison):
    """Cross-tabulation of student category (rows) by teacher category (columns) on the same questions."""
    import pandas as pd

    return pd.crosstab(
        pd.Categorical(comparison["student_category"], CATEGORIES),
        pd.Categorical(comparison["teacher_category"], CATEGORIES),
        rownames=["student"], colnames=["teacher"], dropna=False,
    )


def side_by_side(comparison, n: int = 3, category: str | None = None, width: int | None = None):
    """Up to ``n`` questions per student error category (or only ``category``), student and teacher
    rationales next to each other (whole, or cut to ``width`` characters), for display."""
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; accepted: {CATEGORIES}")
    wanted = [category] if category else list(ERROR_CATEGORIES)
    picked = [comparison[comparison["student_category"] == c].head(n) for c in wanted]
    import pandas as pd

    frame = pd.concat(picked) if picked else comparison.head(0)
    frame = frame.copy()
    if width is not None:
        for column in ("question", "student_rationale", "teacher_rationale"):
            frame[column] = frame[column].astype(str).str.slice(0, width)
    return frame.reset_index(drop=True)


def teacher_mistakes(comparison, n: int = 3):
    """Up to ``n`` questions per teacher error category: the rationales answer filtering would remove had they been
    training questions (the paper's point that filtering by the final answer alone keeps some wrong reasoning and
    drops some right reasoning), whole, with the student's answer beside them."""
    import pandas as pd

    picked = [comparison[comparison["teacher_category"] == c].head(n) for c in ERROR_CATEGORIES]
    columns = ["example_id", "question", "gold", "teacher_category", "teacher_rationale", "teacher_prediction",
               "student_prediction", "student_category"]
    return (pd.concat(picked) if picked else comparison.head(0))[columns].reset_index(drop=True)


def what_we_saw(counts, comparison, teacher: str | None = None):
    """Notebook 40's closing "What we saw" (Markdown), computed from :func:`category_counts` and :func:`compare`.
    ``teacher`` names which teacher the ``teacher`` column is (``fcot.stages.teacher_name``: the rule-based simulator
    or the recorded text-davinci-002), so its score is never read as another teacher's."""
    from IPython.display import Markdown

    lines = []
    for source in [c for c in counts.columns if not str(c).endswith("%")]:
        column = counts[source]
        total = int(column.sum())
        errors = column.drop("correct")
        if total == 0:
            continue
        who = f"The {source}" + (f", {teacher}," if teacher and source == "teacher" else "")
        text = f"{who} answered {100 * column['correct'] / total:.1f}% of {total} questions correctly"
        if errors.sum():
            top = errors.idxmax()
            text += (f"; its most common error is **{top}** ({int(errors[top])} questions, "
                     f"{100 * errors[top] / errors.sum():.0f}% of its errors: {CATEGORY_HELP[top]})")
        lines.append(text + ".")
    if not comparison.empty:
        student_right = comparison["student_category"] == "correct"
        teacher_right = comparison["teacher_category"] == "correct"
        lines.append(f"On the {len(comparison)} questions both answered, the student is right where the teacher is wrong "
                     f"on {int((student_right & ~teacher_right).sum())} and wrong where the teacher is right on "
                     f"{int((~student_right & teacher_right).sum())}; both are wrong on "
                     f"{int((~student_right & ~teacher_right).sum())}.")
    return Markdown("\n".join(f"- {line}" for line in lines))


def record_sample_study(counts, comparison, config: Mapping[str, Any], *, name: str, seed: int = 0, figure=None):
    """Write the sample study through ``fcot.runs`` (kind ``sample_study``): the counts table,
    the side-by-side rows (predictions.jsonl) and the figure; returns the finished Run."""
    with Run.open("sample_study", dict(config), name=name, seed=seed) as run:
        run.save_table(counts, "error_categories")
        run.save_predictions(comparison.to_dict(orient="records"))
        shares = {f"{source}_{category}": int(counts.loc[category, source])
                  for source in counts.columns if not source.endswith("%") for category in counts.index}
        run.save_metrics(shares)
        if figure is not None:
            run.save_figure(figure, "error_categories")
    return run
