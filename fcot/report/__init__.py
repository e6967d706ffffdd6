"""The study's tables, its "What we saw" verdicts and the README's generated Results blocks (what notebook 90 calls).

``tables`` builds the main table (the shape of the paper's Table 1) and the ablation summaries from finished runs
and writes them through one ``report`` run; ``claims`` holds what the paper claims per phenomenon and the profile's
hypotheses shown beside an unclear verdict; ``verdicts`` judges the paper's phenomena from those tables by fixed
rules; ``readme`` writes the README's Results and summary blocks from them.
"""

from .claims import hypotheses_of, unexplained
from .readme import (
    PRETRAINED_BEGIN,
    PRETRAINED_END,
    RESULTS_BEGIN,
    RESULTS_END,
    SUMMARY_BEGIN,
    SUMMARY_END,
    Column,
    column_verdict,
    counted_sentence,
    describe_design,
    main_columns,
    results_block,
    summary_block,
    tally,
    write_results_block,
)
from .tables import (
    MAIN_COLUMNS,
    METHOD_ROWS,
    PUBLISHED_COLUMNS,
    PUBLISHED_TABLE1,
    NoExperimentsError,
    ablation_figures,
    ablation_names,
    ablation_status,
    ablation_summaries,
    base_runs,
    column_label,
    column_task,
    experiment_runs,
    is_blank,
    load_published,
    main_figure,
    main_table,
    method_key,
    no_runs_message,
    random_accuracy,
    recorded_teacher,
    wide_table,
    with_columns,
    write_tables,
)
from .verdicts import (
    FILTERING_MATCHED_PHENOMENON,
    FILTERING_PHENOMENON,
    FINDING_COLUMNS,
    FINDING_ORDER,
    INTERVAL_RULE,
    TEACHER_PHENOMENON,
    Findings,
    Point,
    ablation_finding,
    findings,
)
