"""Bad inputs a careful user tries, and what fcot answers each with.

Each :class:`Probe` does one wrong thing (a corrupt file, a wrong-typed parameter, an impossible
request) in a scratch folder and says what a clear answer names: an error, or a warning, whose
message matches ``expect`` (the file and line, the field or parameter, what is accepted). A probe is
**clear** when fcot answers so, **raw** when it raises something else (a bare ``TypeError``, a codec
error without the file), and **silent** when it answers nothing at all.

``python -m fcot.testing.probes`` runs them all and prints one line each and the counts;
``tests/test_probes.py`` requires every probe to be clear. Needs the data mirror
(``FCOT_DATA_MIRROR``) for the probes that read real tasks.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

# a message these types carry is Python's, not fcot's: raw even when a name happens to match
RAW_TYPES = ("AttributeError", "IndexError", "KeyError", "NameError", "TypeError", "UnicodeDecodeError",
             "JSONDecodeError", "ZeroDivisionError", "AssertionError", "UnboundLocalError")


@dataclass(frozen=True)
class Probe:
    name: str  # what the user did
    call: Callable[[Path], object]  # does it, given an empty scratch folder
    expect: str  # a regex the clear answer's message matches
    answer: str = "error"  # error | warning: what a user of this field expects


@dataclass(frozen=True)
class Outcome:
    probe: str
    verdict: str  # clear | raw | silent
    message: str  # the first line of what fcot said


def run(probe: Probe, folder: Path) -> Outcome:
    """Do ``probe`` in ``folder`` and judge fcot's answer."""
    stderr = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        try:
            returned = probe.call(folder)
        except SystemExit as stop:
            returned = stop.code
        except Exception as error:  # noqa: BLE001 - judging any answer is the point
            message = f"{type(error).__name__}: {error}"
            raw = type(error).__name__ in RAW_TYPES
            clear = probe.answer == "error" and not raw and re.search(probe.expect, str(error))
            return Outcome(probe.name, "clear" if clear else "raw", _first_line(message))
    said = [str(w.message) for w in caught] + ([stderr.getvalue()] if stderr.getvalue().strip() else [])
    if probe.answer == "error" and isinstance(returned, int) and returned != 0 and stderr.getvalue().strip():
        text = stderr.getvalue()  # a command line's answer: a non-zero exit and its message
        return Outcome(probe.name, "clear" if re.search(probe.expect, text) else "raw", _first_line(text))
    for text in said:
        if probe.answer == "warning" and re.search(probe.expect, text):
            return Outcome(probe.name, "clear", _first_line(text))
    return Outcome(probe.name, "silent", _first_line(said[0]) if said else "(nothing)")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


# -- helpers that make valid files to break ------------------------------------------------------

def _completions_file(folder: Path, lines: int = 3) -> Path:
    from fcot import data, teachers
    from fcot.records import write_jsonl

    chosen = data.examples(data.DataConfig(task="coin_flip", n_train=lines, n_val=1, n_test=1))
    backend = teachers.make_backend("simulated", task="coin_flip")
    path = folder / "completions.jsonl"
    write_jsonl(path, teachers.generate(chosen.train, backend))
    return path


def _cli(*argv: str) -> int:
    from fcot import cli

    return cli.main(list(argv))


def _rescore(path: Path) -> int:
    return _cli("rescore", "--task", "coin_flip", "--completions", str(path))


def _torn(folder: Path) -> int:
    path = _completions_file(folder)
    path.write_bytes(path.read_bytes()[:-40])
    return _rescore(path)


def _write(folder: Path, name: str, content: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _cache_row(**changes) -> str:
    row = {"key": "k1", "backend": "openai", "model": "m", "text": "It is heads.", "finish_reason": "stop",
           "prompt_tokens": 5, "completion_tokens": 4, "extra": {}}
    return json.dumps(row | changes) + "\n"


def _cache(folder: Path, content: bytes | str):
    from fcot.teachers import ResponseCache

    return ResponseCache(_write(folder, "cache.jsonl", content))


def _ledger(folder: Path, content: bytes | str):
    from fcot.teachers import Ledger

    return Ledger(_write(folder, "ledger.jsonl", content))


def _profile(folder: Path, text: bytes | str, *overrides: str):
    from fcot import study

    path = _write(folder, "mine.yaml", text)
    return study.plan(study.load_profile(path), [study.parse_override(o) for o in overrides])


def _default_plan(*overrides: str):
    from fcot import study

    return study.plan(study.load_profile("default"), [study.parse_override(o) for o in overrides])


def _teach(**settings):
    from fcot import stages

    return stages.TeachConfig(**settings)


def _data(**settings):
    from fcot import data

    return data.DataConfig(**settings)


def _examples(**settings):
    from fcot import data

    return data.examples(data.DataConfig(**settings))


def _train_config(**settings):
    from fcot import students

    return students.TrainConfig(**settings)


def _experiment(**settings):
    from fcot import experiments

    return experiments.ExperimentConfig(**settings)


def _mirror(root: Path):
    from fcot import tasks

    previous = os.environ.get("FCOT_DATA_MIRROR")
    os.environ["FCOT_DATA_MIRROR"] = str(root)
    try:
        return tasks.load_examples("coin_flip")
    finally:
        if previous is None:
            os.environ.pop("FCOT_DATA_MIRROR", None)
        else:
            os.environ["FCOT_DATA_MIRROR"] = previous


def _resume_other_training(folder: Path):
    from fcot import students

    checkpoints = folder / "run" / "checkpoints"
    first = students.TrainConfig(epochs=12, lr=3e-3)
    students._check_resume(checkpoints, None, "key-of-the-first", first)
    (checkpoints / "checkpoint-10").mkdir()
    students._check_resume(checkpoints, str(checkpoints / "checkpoint-10"), "key-of-another",
                           students.TrainConfig(epochs=20, lr=1e-3))


def _samples_as_completions(folder: Path):
    from fcot import hfdata

    path = _write(folder, "samples.jsonl", json.dumps({"prompt": "Q", "completion": "A", "example_id": "e"}) + "\n")
    return hfdata.load(path, "completion")


def _identical_samples(folder: Path):
    from fcot import data, teachers
    from fcot.teachers.base import GenerationResult

    class DeafToSeeds:  # a server that ignores temperature and seed
        name, model, variant, batch_size, groups_samples = "openai", "greedy", "", 8, False

        def complete(self, requests):
            return [GenerationResult("Heads were flipped twice. So the answer is yes.", "stop", 5, 5) for _ in requests]

    chosen = data.examples(data.DataConfig(task="coin_flip", n_train=4, n_val=1, n_test=1))
    return teachers.generate(chosen.train, DeafToSeeds(), degree=2, temperature=0.7)


def _empty_rationales(folder: Path):
    from fcot import data, teachers
    from fcot.teachers.base import GenerationResult

    class Mute:
        name, model, variant, batch_size, groups_samples = "openai", "mute", "", 8, False

        def complete(self, requests):
            return [GenerationResult("", "stop", 5, 0) for _ in requests]

    chosen = data.examples(data.DataConfig(task="coin_flip", n_train=3, n_val=1, n_test=1))
    return teachers.generate(chosen.train, Mute())


PROBES: tuple[Probe, ...] = (
    # -- numbers that would be silently wrong
    Probe("rescore an empty completions file", lambda f: _rescore(_write(f, "empty.jsonl", "")), r"empty\.jsonl"),
    Probe("rescore a completions file whose last line is cut", _torn, r"completions\.jsonl:3: the last line is cut.*2 row",
          "warning"),
    Probe("rescore a file of another kind", lambda f: _rescore(_write(f, "other.jsonl", '{"a": 1}\n')),
          r"other\.jsonl:1"),
    Probe("ask a real task for more training questions than it has", lambda f: _examples(task="coin_flip", n_train=100000),
          r"n_train.*100000.*340", "warning"),
    Probe("ask a real task for more test questions than it has", lambda f: _examples(task="coin_flip", n_test=100000),
          r"n_test.*100000.*150", "warning"),
    Probe("a server that ignores temperature returns identical diverse samples", _identical_samples,
          r"identical", "warning"),
    Probe("a teacher returns empty rationales", _empty_rationales, r"empty rationale", "warning"),
    Probe("resume a run directory with another configuration", _resume_other_training, r"epochs: 12 -> 20"),
    # -- files fcot reads: file, line and field
    Probe("rescore a non-UTF-8 completions file", lambda f: _rescore(_write(f, "latin.jsonl", b"\xff\xfe{}\n")),
          r"latin\.jsonl"),
    Probe("rescore a completions row with a wrong-typed field",
          lambda f: _rescore(_write(f, "typed.jsonl", _completions_file(f).read_text().replace('"sample_index": 0',
                                                                                               '"sample_index": "zero"', 1))),
          r"typed\.jsonl:1.*sample_index"),
    Probe("a non-UTF-8 profile", lambda f: _profile(f, b"steps:\n  - notebook: 00_tour\n    parameters: {seed: \xff}\n"),
          r"mine\.yaml"),
    Probe("a profile that is not YAML", lambda f: _profile(f, "steps: [\n"), r"mine\.yaml"),
    Probe("a profile with an unknown parameter", lambda f: _profile(f, "steps:\n  - notebook: 00_tour\n    parameters: {sed: 1}\n"),
          r"mine\.yaml.*sed"),
    Probe("a profile step without a notebook", lambda f: _profile(f, "steps:\n  - parameters: {seed: 1}\n"),
          r"mine\.yaml.*notebook"),
    Probe("a profile naming a notebook that does not exist", lambda f: _profile(f, "steps:\n  - notebook: 99_nothing\n"),
          r"99_nothing"),
    Probe("a non-UTF-8 cache line", lambda f: _cache(f, _cache_row().encode() + b'{"key": "\xff"}\n'), r"cache\.jsonl:2"),
    Probe("a cache line that is a JSON list", lambda f: _cache(f, _cache_row() + "[1, 2]\n"), r"cache\.jsonl:2"),
    Probe("a cache field of the wrong type", lambda f: _cache(f, _cache_row(prompt_tokens="five")),
          r"cache\.jsonl:1.*prompt_tokens"),
    Probe("a cache text that is not a string", lambda f: _cache(f, _cache_row(text=5)), r"cache\.jsonl:1.*text"),
    Probe("a malformed ledger row", lambda f: _ledger(f, '{"kind": "call", "calls": "x"}\n'), r"ledger\.jsonl:1"),
    Probe("a ledger row that is a JSON list", lambda f: _ledger(f, "[1]\n"), r"ledger\.jsonl:1"),
    Probe("a non-UTF-8 ledger", lambda f: _ledger(f, b'{"backend": "\xff"}\n'), r"ledger\.jsonl"),
    Probe("samples read as completions", _samples_as_completions, r"samples\.jsonl"),
    # -- parameters: named, with the expected type, before any work
    Probe("--set epochs=three", lambda f: _default_plan("epochs=three"), r"epochs.*three"),
    Probe("--set a teacher's degree to 0", lambda f: _default_plan("10_generate_teacher_rationales.degree=0"),
          r"degree"),
    Probe("--set a parameter no notebook has", lambda f: _default_plan("epoch=3"), r"epoch"),
    Probe("--set without =", lambda f: _default_plan("epochs"), r"epochs"),
    Probe("max_tokens given as a string", lambda f: _teach(max_tokens="128"), r"max_tokens"),
    Probe("concurrency given as a string", lambda f: _teach(concurrency="8"), r"concurrency"),
    Probe("max_tokens 0", lambda f: _teach(max_tokens=0), r"max_tokens"),
    Probe("a temperature of 3", lambda f: _teach(temperature=3), r"temperature"),
    Probe("an unknown teacher backend", lambda f: _teach(backend="gpt"), r"backend.*simulated"),
    Probe("the openai backend without a model", lambda f: _teach(backend="openai"), r"model"),
    Probe("a simulated accuracy of 1.5", lambda f: _teach(accuracy=1.5), r"accuracy"),
    Probe("a simulated teacher for an unknown task",
          lambda f: __import__("fcot.teachers", fromlist=["x"]).make_backend("simulated", task="coin_flop"),
          r"coin_flop"),
    Probe("an unknown task", lambda f: _data(task="coin_flop"), r"coin_flop.*accepted"),
    Probe("a difficulty for a real task", lambda f: _data(task="coin_flip", difficulty=3), r"difficulty"),
    Probe("a negative n_train", lambda f: _data(n_train=-1), r"n_train"),
    Probe("test_split real for a real task", lambda f: _data(task="coin_flip", test_split="real"), r"test_split"),
    Probe("a learning rate given as a string", lambda f: _train_config(lr="3e-3"), r"lr"),
    Probe("zero epochs", lambda f: _train_config(epochs=0), r"epochs"),
    Probe("an unknown scheduler", lambda f: _train_config(scheduler="step"), r"scheduler.*cosine"),
    Probe("an unknown student alias", lambda f: __import__("fcot.students", fromlist=["x"]).load_student("tiny-gpt2-xl"),
          r"tiny-gpt2-xl"),
    Probe("a local student path that does not exist",
          lambda f: __import__("fcot.students", fromlist=["x"]).load_student(str(f / "no-model")), r"no-model"),
    Probe("an unknown curation method", lambda f: _experiment(method="cot"), r"method"),
    Probe("an unknown filter mode", lambda f: _experiment(filter_mode="some"), r"filter_mode"),
    Probe("a teacher accuracy of -0.1", lambda f: _experiment(teacher_accuracy=-0.1), r"teacher_accuracy"),
    Probe("an unknown profile", lambda f: __import__("fcot.study", fromlist=["x"]).load_profile("fast"), r"fast.*smoke"),
    # -- the data mirror
    Probe("FCOT_DATA_MIRROR pointing at an empty folder", lambda f: _mirror(f), r"mirror root .* is empty: check FCOT_DATA_MIRROR"),
    Probe("FCOT_DATA_MIRROR pointing at nothing", lambda f: _mirror(f / "missing"), r"mirror root .*missing does not exist"),
    Probe("rescore with an unknown task", lambda f: _cli("rescore", "--task", "coin_flop", "--completions", "x.jsonl"),
          r"coin_flop"),
)


def run_all(probes: tuple[Probe, ...] = PROBES) -> list[Outcome]:
    outcomes = []
    for probe in probes:
        with tempfile.TemporaryDirectory() as scratch:
            outcomes.append(run(probe, Path(scratch)))
    return outcomes


def main() -> int:
    os.environ.setdefault("FCOT_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as scratch:  # no probe writes results or runs into the repository
        for name in ("FCOT_RESULTS_DIR", "FCOT_RUNS_DIR", "FCOT_CACHE_DIR"):
            os.environ[name] = str(Path(scratch) / name.lower())
        outcomes = run_all()
    for outcome in outcomes:
        print(f"{outcome.verdict:6s}  {outcome.probe}: {outcome.message}")
    counts = {verdict: sum(o.verdict == verdict for o in outcomes) for verdict in ("clear", "raw", "silent")}
    print(f"{len(outcomes)} probes: " + ", ".join(f"{n} {verdict}" for verdict, n in counts.items()))
    return 0 if counts["clear"] == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
