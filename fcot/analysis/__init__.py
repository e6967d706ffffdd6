"""Sample study: where student (and teacher) rationales go wrong, in named error categories, decided by rule.

``checkers`` reads one rationale with the checker its question calls for (coin flip, last letters, shuffled
objects, arithmetic, generic): the answer it reached and its first wrong step; ``diagnosis`` gives each student or
teacher completion one category (:data:`CATEGORIES`) and tabulates them per question; ``summaries`` counts the
categories, sets student and teacher side by side, says "What we saw" and records the study as a run.
"""

from .checkers import CHECKERS, RationaleCheck, check_rationale, generic_answer
from .diagnosis import (
    CATEGORIES,
    CATEGORY_HELP,
    ERROR_CATEGORIES,
    Diagnosis,
    categorize,
    diagnose_completions,
    diagnose_predictions,
    diagnose_student,
    diagnose_teacher,
    split_completion,
)
from .summaries import (
    agreement_table,
    category_counts,
    compare,
    record_sample_study,
    side_by_side,
    teacher_mistakes,
    what_we_saw,
)
