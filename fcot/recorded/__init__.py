"""The recorded text-davinci-002 Zero-shot-CoT runs of Kojima et al., read into fcot records.

Kojima et al. published the logs of their greedy Zero-shot-CoT runs with text-davinci-002; fcot reads
them (:func:`read_log`), matches their entries to its own examples and re-parses every answer with fcot's
rules (:func:`load_recorded`), scores them (:func:`rescore`) and explains where the log's verdict and
fcot's differ (:func:`disagreements`, :func:`report_markdown`). Submodules:

* :mod:`fcot.recorded.logs` -- the registry of the pinned upstream logs and fetching one;
* :mod:`fcot.recorded.reading` -- reading one log file into a :class:`RecordedLog`;
* :mod:`fcot.recorded.matching` -- matching log entries to fcot's examples, as fcot completions;
* :mod:`fcot.recorded.scoring` -- scoring a log or a completions file with fcot's rules;
* :mod:`fcot.recorded.explain` -- explaining the differences, and the README report of every log.
"""

from __future__ import annotations

from fcot.recorded.explain import (
    BEGIN_MARKER,
    CAUSES,
    END_MARKER,
    Difference,
    LogReport,
    differences,
    disagreements,
    report_markdown,
    report_recorded,
    report_task,
    write_report_block,
)
from fcot.recorded.logs import (
    LOG_COMMIT,
    LOG_REPO,
    MIRRORED_TASKS,
    RECORDED_LOGS,
    SOURCE,
    RecordedLogSpec,
    fetch_log,
    log_spec,
)
from fcot.recorded.matching import (
    Match,
    RecordedRun,
    in_example_order,
    letter_map,
    load_recorded,
    match_entries,
    match_log,
    normalize_question,
    question_key,
    to_completion,
)
from fcot.recorded.reading import LogEntry, LogFormatError, RecordedLog, read_log
from fcot.recorded.scoring import (
    SPLIT_PARTS,
    Score,
    check_log_task,
    is_log_file,
    rescore,
    score_completions,
    score_log,
    split_example_ids,
)
