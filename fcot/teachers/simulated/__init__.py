"""The simulated teacher: an OFFLINE, RULE-BASED STAND-IN for a large teacher LM (not an LM).

:class:`SimulatedTeacher` is a :class:`fcot.teachers.base.Backend` written by hand, so the whole pipeline runs
offline with a teacher whose accuracy is a known knob: it reads each question, solves it by rule (with at most
one realistic mistake) and writes a step-by-step rationale, then the answer that rationale concluded. Submodules:

* :mod:`fcot.teachers.simulated.teacher` -- the teacher itself: settings, stage 1 and stage 2, token counts;
* :mod:`fcot.teachers.simulated.kinds` -- the question kinds it reads: parse, solve, render, read back a state;
* :mod:`fcot.teachers.simulated.wording` -- wording helpers: numbers and lists as text, word choices.
"""

from __future__ import annotations

from fcot.teachers.simulated.kinds import read_question
from fcot.teachers.simulated.teacher import (
    DEFAULT_ACCURACY,
    FALLBACK_ACCURACY,
    KINDS,
    MAX_STYLES,
    NO_ANSWER,
    SimulatedTeacher,
    SimulatedTeacherConfig,
    count_tokens,
)

__all__ = [
    "SimulatedTeacher",
    "SimulatedTeacherConfig",
    "DEFAULT_ACCURACY",
    "FALLBACK_ACCURACY",
    "MAX_STYLES",
    "KINDS",
    "read_question",
    "count_tokens",
    "NO_ANSWER",
]
