"""The registry of Kojima et al.'s upstream logs: which task has which pinned log, and fetching it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fcot.paths import UpstreamFile, fetch

LOG_REPO = "kojima-takeshi188/zero_shot_cot"
LOG_COMMIT = "5ef330fcdeec0cd26aee27943504f91f8ec1c33c"
SOURCE = "replay:text-davinci-002"


@dataclass(frozen=True)
class RecordedLogSpec:
    """One upstream log: its fcot task, Kojima's dataset name, pin, and which questions it covers."""

    task: str
    log_name: str
    sha256: str | None
    covers: str  # "all" (every train and test question) or "test" (the test set only)

    @property
    def file(self) -> UpstreamFile:
        return UpstreamFile(LOG_REPO, LOG_COMMIT, f"log/{self.log_name}_zero_shot_cot.log", self.sha256)


# REPRODUCTION NOTE: the eight logs in the fcot data mirror are pinned by sha256; the other four logs
# at the same commit were never downloaded by fcot's authors, so their sha256 is unknown (None:
# fetched but not verified).
RECORDED_LOGS: dict[str, RecordedLogSpec] = {
    spec.task: spec
    for spec in (
        RecordedLogSpec("multiarith", "multiarith",
                        "e2e3416d5f376b84513847b0ed2ac40fcfbe424b8279a18f0b6c980ff75fa351", "all"),
        RecordedLogSpec("addsub", "addsub",
                        "5a35a7d04ad18f17a5918ba9f456ef85598ffb4ab340d40abd510b316ec65ce4", "all"),
        RecordedLogSpec("coin_flip", "coin_flip",
                        "6c5cd500498686106fad37b8ce85bed2bd26a790b6b1aaa8bec382a0d1103048", "all"),
        RecordedLogSpec("last_letter_concatenation", "last_letters",
                        "31e13b33aed4f1c8a920b10914fb31bc0965089afc714d0e72cf78a2f17387b5", "all"),
        RecordedLogSpec("commonsense_qa", "commonsensqa",
                        "f8027dc6f4c85045ad7567dc71a9b5a4d69fb75af7cdf08ef809fcea617a2757", "test"),
        RecordedLogSpec("aqua", "aqua",
                        "743315681523f6c459bb9dee0d106e1bbf813059bb0ecc3a75a9bbf8917766ad", "test"),
        RecordedLogSpec("single_eq", "singleeq", None, "all"),
        RecordedLogSpec("svamp", "svamp", None, "all"),
        RecordedLogSpec("gsm8k", "gsm8k", None, "test"),
        RecordedLogSpec("date_understanding", "date_understanding",
                        "14090fec37b29d4b7053f6ccc8d3865b8ffd949d9d2f21ae71c55f145cb087c8", "all"),
        RecordedLogSpec("tracking_shuffled_objects", "shuffled_objects",
                        "1bb4b95719d37b0cde221fa6d7fe40ab0aeb894d87973f48c6e1675b25301aa5", "all"),
        RecordedLogSpec("strategy_qa", "strategyqa", None, "all"),
    )
}
MIRRORED_TASKS: tuple[str, ...] = tuple(t for t, s in RECORDED_LOGS.items() if s.sha256 is not None)


def log_spec(task: str) -> RecordedLogSpec:
    """The upstream log of ``task``; an unknown task raises naming the accepted ones."""
    try:
        return RECORDED_LOGS[task]
    except KeyError:
        raise ValueError(
            f"no recorded Zero-shot-CoT log for task {task!r}; accepted: {', '.join(RECORDED_LOGS)}"
        ) from None


def fetch_log(task: str, mirror: str | os.PathLike | None = None) -> Path:
    """A local, verified path of ``task``'s log (see :func:`fcot.paths.fetch`)."""
    spec = log_spec(task)
    hint = (
        f"The recorded log for {task} ({spec.file.path}) is not in the fcot data mirror. Download "
        f"{spec.file.url} and put it at <mirror>/{spec.file.relpath} (FCOT_DATA_MIRROR) or in the "
        f"download cache, or run with network access."
    )
    return fetch(spec.file, mirror=mirror, how_to_provide=hint)


