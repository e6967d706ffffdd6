"""Bad inputs a careful user tries, and what fcot answers each with.

Each :class:`Probe` does one wrong thing (a corrupt file, a wrong-typed parameter, an impossible
request) in a scratch folder and says what a clear answer names: an error, or a warning, whose
message matches ``expect`` (the file and line, the field or parameter, what is accepted). A probe is
**clear** when fcot answers so, **raw** when it raises something else (a bare ``TypeError``, a codec
error without the file), and **silent** when it answers nothing at all. An input fcot should simply accept
(a byte-order mark) is a probe with ``answer="result"``: clear when the call returns, without a warning, a
value whose text matches ``expect``.

``python -m fcot.testing.probes`` runs them all and prints one line each and the counts;
``tests/test_probes.py`` requires every probe to be clear. Needs the data mirror
(``FCOT_DATA_MIRROR``) for the probes that read real tasks.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import json
import os
import re
import socket
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from fcot import cli, data, experiments, hfdata, paths, recorded, stages, steps, students, study, tasks, teachers
from fcot.records import write_jsonl
from fcot.teachers import Ledger, ResponseCache
from fcot.teachers.base import GenerationRequest, GenerationResult
from fcot.teachers.openai_backend import OpenAIBackend
from fcot.testing.server import FakeOpenAIServer, Faults

# a message these types carry is Python's, not fcot's: raw even when a name happens to match
RAW_TYPES = ("AttributeError", "IndexError", "KeyError", "NameError", "TypeError", "UnicodeDecodeError",
             "JSONDecodeError", "ZeroDivisionError", "AssertionError", "UnboundLocalError")


@dataclass(frozen=True)
class Probe:
    name: str  # what the user did
    call: Callable[[Path], object]  # does it, given an empty scratch folder
    expect: str  # a regex the clear answer's message matches
    answer: str = "error"  # error | warning | result: what a user of this field expects


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
    if probe.answer == "result":  # accepted and handled: what it returned says so, with nothing to warn about
        clear = not said and re.search(probe.expect, str(returned))
        return Outcome(probe.name, "clear" if clear else "silent", _first_line(said[0] if said else str(returned)))
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
    chosen = data.examples(data.DataConfig(task="coin_flip", n_train=lines, n_val=1, n_test=1))
    backend = teachers.make_backend("simulated", task="coin_flip")
    path = folder / "completions.jsonl"
    write_jsonl(path, teachers.generate(chosen.train, backend))
    return path


def _cli(*argv: str) -> int:
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
    return ResponseCache(_write(folder, "cache.jsonl", content))


def _ledger(folder: Path, content: bytes | str):
    return Ledger(_write(folder, "ledger.jsonl", content))


def _profile(folder: Path, text: bytes | str, *overrides: str):
    path = _write(folder, "mine.yaml", text)
    return study.plan(study.load_profile(path), [study.parse_override(o) for o in overrides])


def _default_plan(*overrides: str):
    return study.plan(study.load_profile("default"), [study.parse_override(o) for o in overrides])


def _select(only: str):
    return study.plan(study.load_profile("default"), only=only)


def _teach(**settings):
    return stages.TeachConfig(**settings)


def _data(**settings):
    return data.DataConfig(**settings)


def _examples(**settings):
    return data.examples(data.DataConfig(**settings))


def _train_config(**settings):
    return students.TrainConfig(**settings)


def _experiment(**settings):
    return experiments.ExperimentConfig(**settings)


def _mirror(root: Path):
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
    checkpoints = folder / "run" / "checkpoints"
    first = students.TrainConfig(epochs=12, lr=3e-3)
    students.check_resume(checkpoints, None, "key-of-the-first", first)
    (checkpoints / "checkpoint-10").mkdir()
    students.check_resume(checkpoints, str(checkpoints / "checkpoint-10"), "key-of-another",
                           students.TrainConfig(epochs=20, lr=1e-3))


def _samples_as_completions(folder: Path):
    path = _write(folder, "samples.jsonl", json.dumps({"prompt": "Q", "completion": "A", "example_id": "e"}) + "\n")
    return hfdata.load(path, "completion")


def _identical_samples(folder: Path):
    class DeafToSeeds:  # a server that ignores temperature and seed
        name, model, variant, batch_size, groups_samples = "openai", "greedy", "", 8, False

        def complete(self, requests):
            return [GenerationResult("Heads were flipped twice. So the answer is yes.", "stop", 5, 5) for _ in requests]

    chosen = data.examples(data.DataConfig(task="coin_flip", n_train=4, n_val=1, n_test=1))
    return teachers.generate(chosen.train, DeafToSeeds(), degree=2, temperature=0.7)


def _empty_rationales(folder: Path):
    class Mute:
        name, model, variant, batch_size, groups_samples = "openai", "mute", "", 8, False

        def complete(self, requests):
            return [GenerationResult("", "stop", 5, 0) for _ in requests]

    chosen = data.examples(data.DataConfig(task="coin_flip", n_train=3, n_val=1, n_test=1))
    return teachers.generate(chosen.train, Mute())


# -- the ledger, the cache and the file system (issue 31) -------------------------------------------------------

def _ledger_row(**changes) -> str:
    row = {"time": 0.0, "backend": "openai", "model": "gpt-4o", "stage": "rationale", "prompt_tokens": 10,
           "completion_tokens": 10, "cost_usd": 0.000125}
    return json.dumps(row | changes) + "\n"


def _sent_row(**changes) -> str:
    return json.dumps({"event": "sent", "id": "a1", "calls": 1, "worst_case_usd": 0.01} | changes) + "\n"


def _budget(**settings):
    return Ledger(**settings)


def _reserve(amount):
    return Ledger(budget_usd=1.0).reserve(amount)


def _record(**tokens):
    return Ledger(budget_usd=1.0).record("openai", "gpt-4o", "rationale", **tokens)


def _full(folder: Path, name: str) -> Path:
    """A file in ``folder`` on a full disk: a link to /dev/full (every write: ENOSPC)."""
    path = folder / name
    path.symlink_to("/dev/full")
    return path


@contextlib.contextmanager
def _refusing(folder: Path, code: int):
    """Writes under ``folder`` fail with ``code`` (EROFS: a read-only mount; EACCES: a folder not ours) -- as chmod
    would, also where the probes run as root (who may write anywhere)."""
    real_open, real_mkdir = builtins.open, Path.mkdir

    def refuse(path) -> None:
        if str(Path(path)).startswith(str(folder)):
            raise OSError(code, os.strerror(code), str(path))

    def guarded_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def guarded_mkdir(self, *args, **kwargs):
        if not self.exists():
            refuse(self)
        return real_mkdir(self, *args, **kwargs)

    builtins.open, Path.mkdir = guarded_open, guarded_mkdir
    try:
        yield
    finally:
        builtins.open, Path.mkdir = real_open, real_mkdir


def _read_only(folder: Path, call: Callable[[Path], object], code: int = errno.EROFS):
    target = folder / "results"
    target.mkdir()
    with _refusing(target, code):
        return call(target)


def _save(folder: Path):
    return write_jsonl(folder / "completions.jsonl", [{"a": 1}])


def _full_ledger(folder: Path):
    return Ledger(_full(folder, "ledger.jsonl")).sent("openai", "gpt-4o", "rationale", 1, 0.01)


def _full_cache(folder: Path):
    with ResponseCache(_full(folder, "cache.jsonl")) as cache:
        cache.put("k1", GenerationResult("It is heads.", "stop", 5, 4))


def _cache_in_a_folder(folder: Path):
    (folder / "cache.jsonl").mkdir()
    return ResponseCache(folder / "cache.jsonl")


def _answer(changes: dict, style: str = "completions", timeout_s: float = 10.0, redirect: bool = False,
            drip_s: float = 0.0):
    """One call to a local server whose 200 body is changed by ``changes`` (``usage__x``/``choice__x``: a field of
    ``usage``/the first choice), that drips its body, or that redirects to a closed port."""
    def mangle(payload: dict) -> dict:
        for name, value in changes.items():
            part, _, field = name.partition("__")
            target = payload if not field else payload["usage"] if part == "usage" else payload["choices"][0]
            target[field or part] = value
        return payload

    with FakeOpenAIServer(faults=Faults(mangle=mangle, drip_s=drip_s)) as server:
        if redirect:
            server.faults.redirect_to = f"http://127.0.0.1:{_closed_port()}/v1/completions"
        backend = OpenAIBackend(model="fake", base_url=server.base_url, style=style, api_key_env=None,
                                max_retries=0, timeout_s=timeout_s, sleep=lambda seconds: None)
        return backend.complete([GenerationRequest("Q: hi\nA:")])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dripped_download(folder: Path):
    with FakeOpenAIServer(faults=Faults(drip_s=0.25)) as server:
        return paths.download(f"{server.base_url}/models", timeout_s=1, deadline_s=1)


def _kojima_log(folder: Path, prefix: bytes = b"", times: int = 1) -> Path:
    return _write(folder, "coin_flip_zero_shot_cot.log", prefix + recorded.fetch_log("coin_flip").read_bytes() * times)


def _rescored(path: Path) -> str:
    return str(recorded.rescore("coin_flip", path).as_dict())


def _doubled(folder: Path) -> Path:
    path = _completions_file(folder)
    return _write(folder, "twice.jsonl", path.read_bytes() * 2)


def _file_teacher_with_a_repeated_row(folder: Path):
    path = _completions_file(folder)
    lines = path.read_text().splitlines(keepends=True)
    return teachers.load_completions(_write(folder, "teacher.jsonl", "".join(lines + lines[:1])))


def _cache_in_results(folder: Path):
    return ResponseCache(folder / "cache.jsonl")


def _cache_key_twice(folder: Path):
    return _cache(folder, _cache_row() + _cache_row(text="It is tails."))


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
    Probe("a non-UTF-8 profile", lambda f: _profile(f, b"steps:\n  - notebook: " + steps.TOUR.encode() + b"\n    parameters: {seed: \xff}\n"),
          r"mine\.yaml"),
    Probe("a profile that is not YAML", lambda f: _profile(f, "steps: [\n"), r"mine\.yaml"),
    Probe("a profile with an unknown parameter", lambda f: _profile(f, f"steps:\n  - notebook: {steps.TOUR}\n    parameters: {{sed: 1}}\n"),
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
    Probe("--set a teacher's degree to 0", lambda f: _default_plan(f"{steps.TEACH}.degree=0"),
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
    # -- the budget holds against any ledger content and any server answer (issue 31)
    Probe("a ledger row whose cost_usd is NaN", lambda f: _ledger(f, _ledger_row(cost_usd=float("nan"))),
          r"ledger\.jsonl:1: cost_usd .*finite.*got nan"),
    Probe("a ledger row whose cost_usd is negative", lambda f: _ledger(f, _ledger_row() + _ledger_row(cost_usd=-5.0)),
          r"ledger\.jsonl:2: cost_usd .*got -5\.0"),
    Probe("a ledger row whose cost_usd is Infinity", lambda f: _ledger(f, _ledger_row(cost_usd=float("inf"))),
          r"ledger\.jsonl:1: cost_usd"),
    Probe("a ledger row whose cost_usd is the string NaN", lambda f: _ledger(f, _ledger_row(cost_usd="NaN")),
          r"ledger\.jsonl:1: field 'cost_usd'.*a number or null"),
    Probe("a ledger row with negative prompt_tokens", lambda f: _ledger(f, _ledger_row(prompt_tokens=-30)),
          r"ledger\.jsonl:1: prompt_tokens must be an integer >= 0"),
    Probe("a 'sent' ledger row whose worst case is \"NaN\"", lambda f: _ledger(f, _sent_row(worst_case_usd="NaN")),
          r"ledger\.jsonl:1: 'worst_case_usd'.*finite"),
    Probe("a 'sent' ledger row with calls -1", lambda f: _ledger(f, _sent_row(calls=-1)), r"ledger\.jsonl:1: 'calls'"),
    Probe("a 'sent' ledger id written twice", lambda f: _ledger(f, _sent_row() + _sent_row(worst_case_usd=0.0)),
          r"ledger\.jsonl:2: a second 'sent' row with id 'a1'"),
    Probe("a ledger whose last line is torn", lambda f: _ledger(f, _sent_row() + '{"event": "do'),
          r"ledger\.jsonl:2: the last line is cut", "warning"),
    Probe("a budget of NaN", lambda f: _budget(budget_usd=float("nan")), r"budget_usd must be a finite number"),
    Probe("a reservation of NaN", lambda f: _reserve(float("nan")), r"reservation must be a finite amount"),
    Probe("a price table with a NaN price", lambda f: _budget(prices={"gpt-4o": (float("nan"), 1.0)}, budget_usd=1.0)
          .check_budget_possible("openai", "gpt-4o"), r"price table entry for 'gpt-4o'"),
    Probe("negative token counts entered in the ledger", lambda f: _record(prompt_tokens=-30, completion_tokens=5),
          r"prompt_tokens must be an integer >= 0.*-30"),
    # -- server answers of the wrong type or shape: named, never a Python error
    Probe("a server answering choices: [\"yes\"]", lambda f: _answer({"choices": ["yes"]}),
          r"response 'fake-1': choices\[0\] is a string 'yes'"),
    Probe("a server sending usage counts as strings", lambda f: _answer({"usage__prompt_tokens": "30"}),
          r"usage\.prompt_tokens is a string '30'; expected an integer >= 0"),
    Probe("a server sending negative usage", lambda f: _answer({"usage__completion_tokens": -30}),
          r"usage\.completion_tokens is an integer -30"),
    Probe("a server sending usage as a list", lambda f: _answer({"usage": [1, 2]}), r"'usage' is a list"),
    Probe("a server with a finish_reason fcot does not know", lambda f: _answer({"choice__finish_reason": "banana"}),
          r"finish_reason is a string 'banana', which fcot does not know.*accepted: stop, length"),
    Probe("a chat server whose message is a string", lambda f: _answer({"choice__message": "hi"}, style="chat"),
          r"chat/completions: response 'fake-1': a choice has no string message\.content"),
    Probe("a server whose choice index is a string", lambda f: _answer({"choice__index": "0"}),
          r"choices\[0\]\.index is a string"),
    # -- no hang, and the address that failed
    Probe("a server dripping its answer a byte at a time", lambda f: _answer({}, timeout_s=1, drip_s=0.25),
          r"timed out: no whole response within timeout_s=1s"),
    Probe("a download dripping a byte at a time", _dripped_download,
          r"/v1/models: the download did not finish within 1s"),
    Probe("a 302 redirect to a closed port", lambda f: _answer({}, redirect=True),
          r"at http://127\.0\.0\.1:\d+/v1/completions \(where http://127\.0\.0\.1:\d+/v1/completions redirected\)"),
    # -- the response cache and the file system
    Probe("a cache holding one key twice with different texts", _cache_key_twice,
          r"cache\.jsonl:2: key k1\.\.\. was already stored at line 1 with another text"),
    Probe("a cache path that is a folder", _cache_in_a_folder, r"cache\.jsonl: the cache path is a folder"),
    Probe("a response cache on a full disk", _full_cache, r"cache\.jsonl: cannot finish storing.*no space left"),
    Probe("a ledger on a full disk", _full_ledger, r"ledger\.jsonl: cannot finish appending.*no space left"),
    Probe("records written to a read-only folder", lambda f: _read_only(f, _save),
          r"results/completions\.jsonl: cannot finish writing it.*read-only"),
    Probe("a response cache in a folder that is not ours", lambda f: _read_only(f, _cache_in_results, errno.EACCES),
          r"cache\.jsonl: cannot finish opening the response cache: permission denied"),
    Probe("records written where a folder stands", lambda f: _save((f / "completions.jsonl").mkdir() or f),
          r"completions\.jsonl: cannot finish writing it.*it is a folder"),
    # -- duplicated records, and inputs that are fine
    Probe("rescore a completions file concatenated twice", lambda f: _rescore(_doubled(f)),
          r"twice\.jsonl:4: the completion of example_id .* is already at line 1"),
    Probe("rescore a Kojima log concatenated twice", lambda f: _rescore(_kojima_log(f, times=2)),
          r"coin_flip_zero_shot_cot\.log:\d+: block 1 is already at line \d+"),
    Probe("a file teacher with a duplicated row", _file_teacher_with_a_repeated_row,
          r"teacher\.jsonl:4: the completion of example_id .* is already at line 1"),
    Probe("rescore a Kojima log with a UTF-8 BOM (accepted)", lambda f: _rescored(_kojima_log(f, b"\xef\xbb\xbf")),
          r"'n': [1-9]", "result"),
    Probe("rescore a completions file with a UTF-8 BOM (accepted)",
          lambda f: _rescored(_write(f, "bom.jsonl", b"\xef\xbb\xbf" + _completions_file(f).read_bytes())),
          r"'n': 3", "result"),
    Probe("FCOT_DATA_MIRROR pointing at a file", lambda f: _mirror(_write(f, "mirror.txt", "x")),
          r"mirror root .*mirror\.txt is a file, not a folder"),
    # -- profiles: YAML corner cases, selections and outputs (issue 31)
    Probe("a profile with two top-level steps:",
          lambda f: _profile(f, f"steps:\n  - notebook: {steps.TOUR}\nsteps:\n  - notebook: {steps.EXPLORE}\n"),
          r"mine\.yaml:3: key 'steps' appears twice in one mapping \(first at line 1\)"),
    Probe("a profile step stating one parameter twice",
          lambda f: _profile(f, f"steps:\n  - notebook: {steps.TOUR}\n    parameters:\n      seed: 1\n      seed: 2\n"),
          r"mine\.yaml:5: key 'seed' appears twice"),
    Probe("a profile stating defaults twice",
          lambda f: _profile(f, f"defaults: {{seed: 1}}\ndefaults: {{seed: 2}}\nsteps:\n  - notebook: {steps.TOUR}\n"),
          r"mine\.yaml:2: key 'defaults' appears twice"),
    Probe("a profile step stating notebook twice",
          lambda f: _profile(f, f"steps:\n  - notebook: {steps.TOUR}\n    notebook: {steps.EXPLORE}\n"),
          r"mine\.yaml:3: key 'notebook' appears twice"),
    Probe("a duplicated key inside a merged mapping",
          lambda f: _profile(f, f"steps:\n  - notebook: {steps.TOUR}\n    parameters: {{<<: {{seed: 1, seed: 2}}}}\n"),
          r"mine\.yaml:3: key 'seed' appears twice"),
    Probe("a key given as 1 and as true in one mapping",
          lambda f: _profile(f, f"steps:\n  - notebook: {steps.TOUR}\n    parameters: {{1: a, true: b}}\n"),
          r"mine\.yaml:3: key True appears twice"),
    Probe("a profile without steps", lambda f: _profile(f, "description: nothing yet\n"), r"mine\.yaml: profile mine has no steps"),
    Probe("a profile whose steps is a mapping", lambda f: _profile(f, f"steps: {{notebook: {steps.TOUR}}}\n"),
          r"mine\.yaml: 'steps' must be a list"),
    Probe("a profile that is a list", lambda f: _profile(f, f"- notebook: {steps.TOUR}\n"), r"mine\.yaml: a profile is a mapping"),
    Probe("a profile grid listing one value twice",
          lambda f: _profile(f, f"steps:\n  - notebook: {steps.TOUR}\n    grid: {{seed: [0, 1, 0]}}\n"),
          rf"mine\.yaml, step 1 \({steps.TOUR}\) \(grid\): step {steps.TOUR}, parameter 'seed': the value 0 is listed twice"),
    Probe("two steps writing one output notebook",
          lambda f: _profile(f, f"steps:\n  - notebook: {steps.TOUR}\n    grid: {{seed: [1]}}\n"
                                f"  - notebook: {steps.EXPLORE}\n    output: {steps.TOUR}__seed-1\n"),
          rf"two runs would write one output {steps.TOUR}__seed-1\.ipynb"),
    Probe("grid values that differ only in characters an output name drops",
          lambda f: _profile(f, f"steps:\n  - notebook: {steps.EXPLORE}\n    grid: {{tasks: [coin/flip, coin-flip]}}\n"),
          rf"two runs would write one output {steps.EXPLORE}__tasks-coin-flip\.ipynb"),
    Probe("--only ','", lambda f: _select(","), rf"--only ',' names no step .*steps: {steps.TOUR}, {steps.EXPLORE}"),
    Probe("--only ''", lambda f: _select(""), r"--only '' names no step"),
    Probe("--only ',' on the command line",
          lambda f: _cli("reproduce", "--profile", "smoke", "--list", "--only", ","), r"--only ',' names no step"),
    Probe("--set a list of one value twice", lambda f: _default_plan("10.task=[coin_flip, coin_flip]"),
          rf"--set 10\.task=.*step {steps.TEACH}, parameter 'task': the value 'coin_flip' is listed twice"),
    Probe("--set a mapping where one value is expected", lambda f: _default_plan("10.task={coin_flip: 1}"),
          rf"--set 10\.task=.*parameter 'task' of {steps.TEACH}\.ipynb: got .* \(dict\)"),
    Probe("--set a key twice in a mapping value", lambda f: _default_plan("29.recipes=[{n_train: 1, n_train: 2}]"),
          r"--set '29\.recipes=.*': key 'n_train' appears twice in one mapping of the value"),
    # -- every override validated against its step's config by --list, before anything runs (issue 31)
    Probe("--set a negative learning rate", lambda f: _default_plan(f"{steps.TRAIN}.lr=-1"),
          rf"^20_train_ft_cot \(--set {steps.TRAIN}\.lr=-1\): TrainConfig\.lr must be > 0"),
    Probe("--set a negative student seed", lambda f: _default_plan(f"{steps.TRAIN}.seed=-3"),
          rf"--set {steps.TRAIN}\.seed=-3.*seed: must be an integer >= 0"),
    Probe("--set an unknown training recipe", lambda f: _default_plan(f"{steps.TRAIN}.recipe=fast"),
          rf"--set {steps.TRAIN}\.recipe=fast.*unknown training recipe 'fast'"),
    Probe("--set an ftp teacher endpoint", lambda f: _default_plan(f"{steps.TEACH}.base_url=ftp://x"),
          r"TeachConfig\.base_url: must be an http\(s\) URL.*'ftp://x'"),
    Probe("--set a teacher deadline of 0", lambda f: _default_plan("10.timeout_s=0"), r"TeachConfig\.timeout_s: must be"),
    Probe("--set an unknown chat style", lambda f: _default_plan("10.style=poem"),
          r"TeachConfig\.style: 'poem' is not accepted; accepted: completions, chat"),
    Probe("--set zero threads for an evaluation", lambda f: _default_plan("21.threads=0"), r"--set 21\.threads=0.*threads: must be"),
    Probe("--set a negative sweep seed", lambda f: _default_plan(f"{steps.SWEEPS['methods']}.seeds=[-3]"),
          rf"--set {steps.SWEEPS['methods']}\.seeds=\[-3\].*ExperimentConfig\.seed: must be an integer >= 0"),
    Probe("--set a negative learning rate for a sweep", lambda f: _default_plan(f"{steps.SWEEPS['degree']}.lr=-1"),
          rf"--set {steps.SWEEPS['degree']}\.lr=-1.*ExperimentConfig\.lr: must be > 0"),
    Probe("--set zero workers for a sweep", lambda f: _default_plan("32.workers=0"), r"--set 32\.workers=0.*workers: must be"),
    Probe("a teacher deadline of NaN", lambda f: _teach(timeout_s=float("nan")), r"TeachConfig\.timeout_s: must be .*nan"),
    Probe("a teacher deadline given as a string", lambda f: _teach(timeout_s="120"), r"TeachConfig\.timeout_s: .*'120'"),
    Probe("an API key where its variable's name belongs", lambda f: _teach(api_key_env="sk-abc123"),
          r"TeachConfig\.api_key_env: must be the NAME.*not shown"),
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
