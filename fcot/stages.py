"""The method's four stages -- teach, curate, train, evaluate -- each recorded as one run.

Each stage takes a frozen, validated config and its upstream run, and is recorded as one
:class:`fcot.runs.Run` keyed by the hash of its config plus its upstream run's key (``upstream``
in the run's config: the upstream run's kind and hash, not its name). A finished run with the same key is
reused, never recomputed (unless its large artifacts, kept outside git under ``runs_dir()``, are gone: then it
runs again); under another name it is copied (the stage walk-through and the experiment it repeats are one
computation).

    teach(data, TeachConfig)          -> teacher run   (completions of train + validation questions)
    curate(CurateConfig, teacher run) -> samples run   (fine-tuning samples; vanilla: curate(config, data=...))
    train(TrainConfig, samples run)   -> student run   (the selected student)
    evaluate(EvalConfig, student run) -> evaluation run (predictions on test)

Notebooks 10, 11, 20 and 21 call one stage each and name their upstream run by parameter;
:func:`fcot.experiments.run_experiment` composes the same four calls, so a chain and an experiment
with the same configuration give identical predictions. Which examples each stage sees is decided
once, by :func:`fcot.data.examples` on the :class:`fcot.data.DataConfig` the chain carries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from fcot import paths, teachers
from fcot import curate as curation
from fcot.curate import arm_label
from fcot.data import DataConfig, Examples, examples
from fcot.records import is_int, is_number, write_jsonl
from fcot.runs import Run, config_dict

BACKENDS = ("simulated", "replay", "file", "openai", "hf")
SIMULATED_SEED = 0  # the simulated teacher is one fixed "model": its own seed never varies


# ----------------------------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeachConfig:
    """The teacher and how it is asked (defaults: the simulated teacher, one greedy rationale)."""

    backend: str = "simulated"  # simulated | replay | file | openai | hf
    accuracy: float | None = None  # simulated: its accuracy on the task; None = the task's default
    completions: str = ""  # file: a teacher run (path or name) or a completions JSONL; samples < degree are used
    model: str = ""  # openai: the endpoint's model name; hf: hub id or local path
    base_url: str = ""  # openai: e.g. http://127.0.0.1:8000/v1; "" = api.openai.com
    api_key_env: str = "OPENAI_API_KEY"  # openai: NAME of the environment variable holding the key
    style: str = "completions"  # openai: completions | chat
    concurrency: int = 8  # openai: requests in flight at once
    degree: int = 1  # rationales per question (diverse reasoning: D > 1)
    temperature: float | None = None  # None = the paper's: 0 at D=1, 0.7 above
    max_tokens: int = 128  # stage-1 (rationale) tokens, at most
    budget_usd: float | None = None  # stop before the estimated spend passes this; None = no cap
    timeout_s: float = 120.0  # openai: seconds for one whole request (connect + full response), at most

    def __post_init__(self) -> None:
        import math
        import re
        import urllib.parse

        def fail(field: str, message: str) -> None:
            raise ValueError(f"TeachConfig.{field}: {message}")

        if self.backend not in BACKENDS:
            fail("backend", f"{self.backend!r} is not accepted; accepted: {', '.join(BACKENDS)}")
        if self.accuracy is not None:
            if self.backend != "simulated":
                fail("accuracy", f"is a knob of the simulated teacher only; use None with backend={self.backend!r}")
            if not is_number(self.accuracy) or not 0.0 <= self.accuracy <= 1.0:
                fail("accuracy", f"must be in [0, 1] or None (task default), got {self.accuracy!r}")
        if (self.backend == "file") != bool(self.completions):
            fail("completions", "backend='file' needs completions= (a teacher run or a completions JSONL), "
                                "and only it reads them")
        if self.backend in ("openai", "hf") and not self.model:
            fail("model", f"backend {self.backend!r} needs model= (an endpoint's model name, or a hub id / local path)")
        if not is_int(self.degree) or self.degree < 1:
            fail("degree", f"must be an integer >= 1 (rationales per question), got {self.degree!r}")
        if self.temperature is not None and (not is_number(self.temperature) or not 0 <= self.temperature <= 2):
            fail("temperature", f"must be in [0, 2] or None (paper default), got {self.temperature!r}")
        if self.backend == "replay" and (self.degree != 1 or (self.temperature or 0) > 0):
            fail("degree", "the replay teacher holds one greedy completion per question: use degree=1, temperature None/0")
        if not is_int(self.max_tokens) or self.max_tokens < 1:
            fail("max_tokens", f"must be an integer >= 1, got {self.max_tokens!r}")
        if not is_int(self.concurrency) or self.concurrency < 1:
            fail("concurrency", f"must be an integer >= 1, got {self.concurrency!r}")
        if self.budget_usd is not None and (not is_number(self.budget_usd) or self.budget_usd < 0):
            fail("budget_usd", f"must be >= 0 or None (no cap), got {self.budget_usd!r}")
        if not is_number(self.timeout_s) or not math.isfinite(self.timeout_s) or self.timeout_s <= 0:
            fail("timeout_s", f"must be a number of seconds > 0 (one whole request, at most), got {self.timeout_s!r}")
        if not isinstance(self.base_url, str):
            fail("base_url", f"must be a string (an http(s) URL, or empty for api.openai.com), got {self.base_url!r}")
        parsed = urllib.parse.urlparse(self.base_url)
        if self.base_url and (parsed.scheme not in ("http", "https") or not parsed.netloc):
            fail("base_url", f"must be an http(s) URL such as http://127.0.0.1:8000/v1, or empty (api.openai.com), "
                             f"got {self.base_url!r}")
        if self.style not in ("completions", "chat"):
            fail("style", f"{self.style!r} is not accepted; accepted: completions, chat")
        if not isinstance(self.api_key_env, str) or (self.api_key_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*",
                                                                                           self.api_key_env)):
            fail("api_key_env", "must be the NAME of an environment variable (e.g. OPENAI_API_KEY), or empty (no key); "
                                "the value given is not a variable name (not shown: it may be a key itself)")

    @property
    def resolved_temperature(self) -> float:
        if self.temperature is not None:
            return float(self.temperature)
        from fcot.teachers import DIVERSE_TEMPERATURE

        return 0.0 if self.degree == 1 else float(DIVERSE_TEMPERATURE)

    def resolved_accuracy(self, task: str) -> float | None:
        if self.backend != "simulated":
            return None
        if self.accuracy is not None:
            return float(self.accuracy)
        from fcot.teachers import simulated

        return float(simulated.DEFAULT_ACCURACY.get(task, simulated.FALLBACK_ACCURACY))

    def key(self, task: str) -> dict:
        """What decides the completions (the key's part): settings of other backends blanked."""
        values = dataclasses.asdict(self)
        values.update(accuracy=self.resolved_accuracy(task), temperature=self.resolved_temperature)
        if self.backend != "openai":
            values.update(base_url="", api_key_env="", style="", concurrency=None)
        if self.backend not in ("openai", "hf"):
            values["model"] = ""
        values.pop("budget_usd")  # a cap changes what is spent, not what a finished run holds
        values.pop("timeout_s")  # a deadline changes when a request is given up, not the completions (nor run hashes)
        return values


@dataclass(frozen=True)
class CurateConfig:
    """How completions become samples (defaults: Fine-tune-CoT, answer-filtered, no length limits)."""

    method: str = "ft_cot"  # ft_cot | vanilla | multitask (distilling step-by-step)
    filter_mode: str = "correct_only"  # correct_only | keep_all | keep_all_matched (fcot.curate.FILTER_MODES)
    max_rationale_tokens: int | None = None  # rationales are cut to this many tokens; None = no cut
    max_sample_tokens: int | None = None  # longer samples are dropped (the paper's 512); None = no limit
    student: str = "tiny-gpt2-s"  # whose format (decoder / encoder-decoder) and tokenizer count tokens
    vocab_size: int = 512  # tiny students: the BPE vocabulary of the tokenizer that counts tokens

    def __post_init__(self) -> None:
        from fcot import curate

        def fail(field: str, message: str) -> None:
            raise ValueError(f"CurateConfig.{field}: {message}")

        if self.method not in curate.METHODS:
            fail("method", f"{self.method!r} is not accepted; accepted: {', '.join(curate.METHODS)}")
        if self.filter_mode not in curate.FILTER_MODES:
            fail("filter_mode", f"{self.filter_mode!r} is not accepted; accepted: {', '.join(curate.FILTER_MODES)}")
        for name in ("max_rationale_tokens", "max_sample_tokens"):
            value = getattr(self, name)
            if value is not None and (not is_int(value) or value < 1):
                fail(name, f"must be an integer >= 1 or None (no limit), got {value!r}")
        if not isinstance(self.student, str) or not self.student:
            fail("student", "must name a tiny alias (e.g. tiny-gpt2-s), a local path or a hub id")
        if not is_int(self.vocab_size) or self.vocab_size < 260:
            fail("vocab_size", f"must be an integer >= 260, got {self.vocab_size!r}")

    @property
    def needs_tokenizer(self) -> bool:
        return self.max_sample_tokens is not None or (self.max_rationale_tokens is not None and self.method != "vanilla")


@dataclass(frozen=True)
class EvalConfig:
    """How the student answers the test questions (defaults: greedy, the method's token budget)."""

    max_new_tokens: int | None = None  # None = 128 with a rationale, 32 answer-only
    batch_size: int = 64  # questions per generation batch
    self_consistency: int = 0  # k sampled completions per question with a majority vote (0 = greedy)
    temperature: float = 0.7  # sampling temperature for self-consistency
    seed: int = 0  # sampling seed (self-consistency)

    def __post_init__(self) -> None:
        def fail(field: str, message: str) -> None:
            raise ValueError(f"EvalConfig.{field}: {message}")

        if self.max_new_tokens is not None and (not is_int(self.max_new_tokens) or self.max_new_tokens < 1):
            fail("max_new_tokens", f"must be an integer >= 1 or None, got {self.max_new_tokens!r}")
        for name in ("batch_size",):
            if not is_int(getattr(self, name)) or getattr(self, name) < 1:
                fail(name, f"must be an integer >= 1, got {getattr(self, name)!r}")
        if not is_int(self.self_consistency) or self.self_consistency < 0:
            fail("self_consistency", f"must be an integer >= 0 (0 = greedy), got {self.self_consistency!r}")
        if not is_number(self.temperature) or not 0 <= self.temperature <= 2:
            fail("temperature", f"must be in [0, 2], got {self.temperature!r}")

    def resolved_max_new_tokens(self, method: str) -> int:
        if self.max_new_tokens is not None:
            return self.max_new_tokens
        return 128 if method == "ft_cot" else 32


# ----------------------------------------------------------------------------------------------
# Runs: opening, finding, reading upstream
# ----------------------------------------------------------------------------------------------


COMPUTED_HERE = ".computed"  # an artifact marking a run computed on this machine (see mark_computed_here)


def mark_computed_here(run: Run) -> None:
    """Mark ``run`` as computed on this machine. A run whose record is committed (results/) but which
    this machine never computed -- a fresh clone -- has no marker and runs again, so that ``make
    reproduce`` recomputes what it is compared against instead of reading it back."""
    (run.artifacts() / COMPUTED_HERE).write_text("", encoding="utf-8")


def computed_here(run: Run) -> bool:
    """Whether this machine computed ``run`` (or copied it from a twin it computed): only then are its large
    artifacts (completions, samples, checkpoints: ``runs/``, outside git) here. A committed record alone -- a fresh
    clone's state -- has its small outputs (config, metrics, predictions) but none of its artifacts."""
    return (run.artifacts_dir / COMPUTED_HERE).is_file()


def reusable(run: Run, *needed: str) -> bool:
    """Whether a run is finished, was computed on this machine and still has its ``needed`` artifacts here."""
    return run.finished and computed_here(run) and all((run.artifacts_dir / file).exists() for file in needed)


def artifact(run: Run, *parts: str) -> Path:
    """The path of one of ``run``'s large artifacts, which must be on this machine: a clear error for a committed
    record computed elsewhere (a fresh clone) or an artifact deleted since, naming the stage to run."""
    path = run.artifacts_dir.joinpath(*parts)
    if not computed_here(run):
        raise FileNotFoundError(
            f"{run.kind} run {run.path.name}: its artifacts ({'/'.join(parts)}) are not on this machine -- its record is "
            f"committed (computed elsewhere) but this machine never computed it; run its stage here first (its "
            f"notebook, or `make reproduce`)")
    if not path.exists():
        raise FileNotFoundError(f"{run.kind} run {run.path.name}: {paths.portable(path)} is gone (deleted since it was "
                                f"computed); run its stage again")
    return path


def open_run(kind: str, config: dict, name: str, seed: int | None, data: DataConfig, *needed: str) -> Run:
    """Open the run of ``config``; a finished one not computed here, or whose ``needed`` artifacts are gone, runs
    again."""
    run = Run.open(kind, config, name=name, seed=seed, data_hashes=data.data_hashes())
    if run.finished and not reusable(run, *needed):
        run = Run.open(kind, config, name=name, seed=seed, data_hashes=data.data_hashes(), rerun=True)
    return run


@contextlib.contextmanager
def claimed(kind: str, config: dict, name: str, seed: int | None, data: DataConfig, *needed: str):
    """The run of ``config``, held exclusively while it is computed: a second process (a parallel sweep
    point sharing this stage) waits for the first, then finds the run finished and reuses it. A run the body
    finishes is marked computed here (:func:`mark_computed_here`).

    The lock is the configuration's (its hash), not the name's: a run of the same configuration and upstream
    runs under another name -- the stage walk-through and the main table's coin-flip column, say -- is the same
    computation, so it is computed once and copied under the second name (:func:`_copy_twin`)."""
    peek = Run.peek(kind, config, name, seed, data.data_hashes())
    if reusable(peek, *needed):
        yield Run.load(peek.path)
        return
    locks = peek.artifacts_dir.parent / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{peek.hash}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            twin = None if reusable(peek, *needed) else _twin(peek, *needed)
            if twin is not None:
                yield _copy_twin(twin, peek)
            else:
                run = open_run(kind, config, name, seed, data, *needed)  # again: it may have finished meanwhile
                yield run
                if Run.load(run.path).finished and not computed_here(run):
                    mark_computed_here(run)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _finished_with_hash(kind_dir: Path, hash_: str) -> list[Run]:
    """The finished runs ``<kind_dir>/<any name>-<hash_>``: the same configuration, seed and upstream runs under
    each name (copies of one computation)."""
    found = (Run.load(m.parent) for m in sorted(kind_dir.glob(f"*-{hash_}/manifest.json")))
    return [run for run in found if run.finished]


def _twin(peek: Run, *needed: str) -> Run | None:
    """A finished run of ``peek``'s kind and hash under another name, on the same data and with its ``needed``
    artifacts on this machine; None when there is none."""
    return next((run for run in _finished_with_hash(peek.path.parent, peek.hash)
                 if run.path != peek.path and run.data_hashes == peek.data_hashes and reusable(run, *needed)), None)


def _copy_twin(twin: Run, peek: Run) -> Run:
    """``twin``'s record and artifacts copied under ``peek``'s name (the paths they record renamed), marked
    ``copied_from``: the name's run without computing it again."""
    old, new = str(twin.relpath), str(peek.relpath)
    shutil.copytree(twin.artifacts_dir, peek.artifacts_dir, dirs_exist_ok=True)
    shutil.copytree(twin.path, peek.path, dirs_exist_ok=True)
    for file in peek.path.glob("*.json"):
        text = file.read_text(encoding="utf-8")
        if old in text:
            file.write_text(text.replace(old, new), encoding="utf-8")
    peek._update_manifest(name=peek.name, copied_from=old)  # peek's path is the copy's
    return Run.load(peek.path)


def find(kind: str, ref: str | Path | Run) -> Run:
    """A finished run of ``kind`` named by ``ref``: a Run, a run directory, or a run name.

    A name refers to the one finished run ``<profile>/runs/<kind>/<name>-<hash>`` of the current
    profile (:func:`fcot.paths.profile_runs`); when there are several (the same name with other configurations),
    the one computed on this machine (a clone's committed records under the name stay readable but are not it), and
    when that does not decide, the error lists them: pass a path.
    """
    if isinstance(ref, Run):
        run = ref
    else:
        text = str(ref)
        if not text:
            raise ValueError(f"no {kind} run given: pass a run directory or name (the output of its notebook)")
        path = Path(text)
        if (path / "manifest.json").is_file():
            run = Run.load(path)
        else:
            root = paths.profile_runs() / kind
            found = [p.parent for p in sorted(root.glob(f"{text}-*/manifest.json"))
                     if p.parent.name[len(text) + 1:].isalnum() and Run.load(p.parent).finished]
            if not found:
                raise FileNotFoundError(
                    f"no finished {kind} run {text!r}: not a run directory, and no {root}/{text}-<hash> "
                    f"(run its notebook first, or pass the directory it printed)")
            if len(found) > 1:  # the same name with other configurations: the one computed here, if only one is
                here = [p for p in found if computed_here(Run.load(p))]
                found = here if len(here) == 1 else found
            if len(found) > 1:
                listing = "\n  ".join(str(p) for p in found)
                raise ValueError(f"{len(found)} finished {kind} runs are named {text!r}; pass one directory:\n  {listing}")
            run = Run.load(found[0])
    if run.kind != kind:
        raise ValueError(f"{run.path} is a {run.kind} run, not a {kind} run")
    if not run.finished:
        raise ValueError(f"{run.path}: the {kind} run did not finish (status {run.status!r}); rerun its stage")
    return run


def data_of(run: Run) -> DataConfig:
    """The DataConfig a run of the chain was made for."""
    return DataConfig.from_mapping(run.config["data"])


def upstream_key(run: Run) -> dict:
    """How a run names its upstream run in its config (and so in its key): by kind and hash, not by name, so that
    the same chain under other names (the stage walk-through, an experiment) has the same keys."""
    return {"kind": run.kind, "hash": run.hash}


def upstream_of(run: Run) -> Run | None:
    """The run a stage's run was made from (None for a teacher run, or a vanilla curation): a finished run of the
    recorded kind and hash in the same profile (under any name: they are copies), one computed on this machine where
    there is one (a fresh clone holds committed copies whose artifacts are elsewhere)."""
    upstream = run.config.get("upstream")
    if not upstream:
        return None
    root = run.path.parent.parent / upstream["kind"]  # same profile
    finished = _finished_with_hash(root, upstream["hash"])
    if not finished:
        raise FileNotFoundError(f"{run.path}: its upstream {upstream['kind']} run (hash {upstream['hash']}) is not in {root}")
    here = [r for r in finished if computed_here(r)] or finished  # copies: the one whose artifacts are here
    named = [r for r in here if r.name == upstream.get("name")]  # a record written before keys left names out
    return (named or here)[0]


# ----------------------------------------------------------------------------------------------
# Teach
# ----------------------------------------------------------------------------------------------


def teacher_backend(task: str, config: TeachConfig, on_missing: str = "error"):
    """The backend of ``config`` (not for ``file``, which reads completions instead)."""
    if config.backend == "simulated":
        return teachers.make_backend("simulated", accuracy=config.resolved_accuracy(task), seed=SIMULATED_SEED, task=task)
    if config.backend == "replay":
        return teachers.make_backend("replay", task=task, on_missing=on_missing)
    return teachers.choose_backend(config.backend, task=task, model=config.model, base_url=config.base_url,
                                   api_key_env=config.api_key_env, style=config.style, concurrency=config.concurrency,
                                   timeout_s=config.timeout_s)


def call_cache(task: str, backend) -> Path:
    """The durable call cache shared by every teacher run of this task and teacher model (``runs_dir()``)."""
    model = str(getattr(backend, "model", backend.name)).replace("/", "-")
    name = f"{task}-{backend.name}-{model}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-]*", name):
        raise ValueError(f"teacher call cache name must be letters, digits, '.', '_' or '-' (from the task, backend and "
                         f"model), got {name!r}")
    return paths.runs_dir() / "teacher" / name / "calls.jsonl"


def _open_cache(path: Path, wait_s: float = 900.0):
    """Open a call cache, waiting while another process (a parallel grid point) holds it."""
    from fcot.teachers.cache import CacheLockedError, ResponseCache

    deadline = time.monotonic() + wait_s
    while True:
        try:
            return ResponseCache(path)
        except CacheLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def ask_teacher(task: str, config: TeachConfig, questions: Sequence, *, seed: int, greedy: bool = False,
                ledger=None, on_missing: str = "error") -> list:
    """Completions of ``questions`` (``degree`` each; one greedy each with ``greedy=True``)."""
    degree = 1 if greedy else config.degree
    if config.backend == "file":
        ids = {e.id for e in questions}
        source = config.completions
        if not source.endswith(".jsonl"):
            source = str(artifact(find("teacher", source), "completions.jsonl"))
        return [c for c in teachers.load_completions(source) if c.example_id in ids and c.sample_index < degree]
    backend = teacher_backend(task, config, on_missing=on_missing)
    cache = _open_cache(call_cache(task, backend))
    try:
        return teachers.generate(list(questions), backend, degree=degree,
                                 temperature=0.0 if greedy else config.resolved_temperature,
                                 max_tokens=config.max_tokens, cache=cache, ledger=ledger,
                                 budget_usd=None if greedy else config.budget_usd, seed=seed)
    finally:
        cache.close()


def _mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def teach(data: DataConfig, config: TeachConfig, *, name: str | None = None) -> Run:
    """The teacher stage: completions of the train and validation questions of ``data``.

    Metrics: the driver's summary (teacher accuracy, share filtered, lengths, tokens, cost) and,
    for train questions alone, ``teacher_accuracy_train`` and ``teacher_coverage_train`` (share of
    questions with a correct sample); simulated and replay teachers also answer the test questions
    greedily once (``teacher_accuracy_test``, the teacher row of a table; never used to train).
    Completions: ``completions.jsonl`` in the run's artifacts (``runs_dir()``), with the ledger.
    """
    name = name or f"{data.task}-{config.backend}-d{config.degree}"
    key = {"data": data.resolved(), "teach": config.key(data.task), "upstream": _file_source(config)}
    with claimed("teacher", key, name, None, data, "completions.jsonl") as run:
        if run.finished:
            return run
        with run:
            chosen = examples(data)
            ledger = teachers.Ledger(run.artifacts() / "ledger.jsonl", budget_usd=config.budget_usd) \
                if config.backend == "openai" else None
            completions = ask_teacher(data.task, config, chosen.teacher_questions, seed=data.data_seed, ledger=ledger)
            write_jsonl(run.artifacts() / "completions.jsonl", completions)
            train_ids = {e.id for e in chosen.train}
            on_train = [c for c in completions if c.example_id in train_ids]
            metrics = {k: v for k, v in teachers.summarize(completions).items() if k != "sources"}
            metrics.update(
                completions_train=len(on_train),
                teacher_accuracy_train=_mean(float(c.correct) for c in on_train),
                teacher_coverage_train=len({c.example_id for c in on_train if c.correct}) / len(chosen.train) if chosen.train else None,
            )
            if config.backend in ("simulated", "replay"):
                greedy = ask_teacher(data.task, config, chosen.test, seed=data.data_seed, greedy=True, on_missing="skip")
                metrics["teacher_accuracy_test"] = _mean(float(c.correct) for c in greedy)
            if ledger is not None:
                metrics.update({f"ledger_{k}": v for k, v in ledger.totals().items()})
            run.save_metrics(metrics)
    return run


def _file_source(config: TeachConfig) -> dict | None:
    """What a ``file`` teacher reads, for the key: the teacher run (its hash), or the JSONL's sha256."""
    if config.backend != "file":
        return None
    if config.completions.endswith(".jsonl"):
        path = Path(config.completions)
        if not path.is_file():
            raise FileNotFoundError(f"TeachConfig.completions: {path}: no such completions file")
        return {"kind": "file", "name": path.name, "hash": paths.sha256_file(path)[:10]}
    return upstream_key(find("teacher", config.completions))


def completions_of(run: Run) -> list:
    """The completions a teacher run stored."""
    return teachers.load_completions(artifact(run, "completions.jsonl"))


# ----------------------------------------------------------------------------------------------
# Curate
# ----------------------------------------------------------------------------------------------


def curate(config: CurateConfig, teacher: Run | str | None = None, *, data: DataConfig | None = None,
           name: str | None = None) -> Run:
    """The curation stage: filter and format the teacher's completions into fine-tuning samples.

    ``teacher``: the teacher run (a Run, directory or name); vanilla fine-tuning needs none and
    takes ``data`` instead (given both, vanilla ignores the teacher). Validation samples are
    curated the same way as train (they select the best epoch). Samples are written to
    ``samples_train.jsonl`` / ``samples_val.jsonl`` in the run's artifacts; the counts table,
    metrics and a few samples to read go to the run.
    """
    from fcot import students

    teacher_run = find("teacher", teacher) if teacher not in (None, "") else None
    if data is None:
        if teacher_run is None:
            raise ValueError("curate needs its teacher run (or, for vanilla, data=DataConfig(...))")
        data = data_of(teacher_run)
    if config.method != "vanilla" and teacher_run is None:
        raise ValueError(f"method {config.method!r} curates a teacher's rationales: pass its teacher run")
    uses_teacher = config.method != "vanilla"
    key = {"data": data.resolved(), "curate": dataclasses.asdict(config),
           "upstream": upstream_key(teacher_run) if uses_teacher else None}
    with claimed("curation", key, name or f"{data.task}-{config.method}", None, data,
                  "samples_train.jsonl", "samples_val.jsonl") as run:
        if run.finished:
            return run
        with run:
            chosen = examples(data)
            completions = completions_of(teacher_run) if uses_teacher else []
            fmt = curation.format_for(config.method, students.student_kind(config.student))
            tokenizer = _tokenizer(config, chosen, completions)
            options = dict(mode=config.filter_mode, fmt=fmt, tokenizer=tokenizer, max_sample_tokens=config.max_sample_tokens,
                           max_rationale_tokens=config.max_rationale_tokens if uses_teacher else None)
            splits = curation.CuratedSplits(
                train=curation.curate(completions, chosen.train, **options),
                val=curation.curate(completions, chosen.validation, **options),
                examples_train=chosen.train, examples_val=chosen.validation, completions=completions,
            )
            curation.save_splits(run, splits, tokenizer)
    return run


def _tokenizer(config: CurateConfig, chosen: Examples, completions: list):
    """The student's tokenizer when a length limit needs it (a tiny one is trained on the task's text), else None."""
    from fcot import students

    if not config.needs_tokenizer:
        return None
    texts = curation.task_texts(chosen.teacher_questions, completions)
    return students.load_tokenizer(config.student, texts=texts, vocab_size=config.vocab_size)


def tokenizer_of(run: Run):
    """The tokenizer a curation run counted tokens with (None: it counted none, lengths are characters)."""
    config = CurateConfig(**run.config["curate"])
    teacher_run = upstream_of(run)
    return _tokenizer(config, examples(data_of(run)), completions_of(teacher_run) if teacher_run else [])


def samples_of(run: Run) -> tuple[list, list]:
    """``(train, validation)`` samples of a curation run."""
    return (curation.read_samples(artifact(run, "samples_train.jsonl")),
            curation.read_samples(artifact(run, "samples_val.jsonl")))


# ----------------------------------------------------------------------------------------------
# Train
# ----------------------------------------------------------------------------------------------


def train(config, samples: Run | str, *, name: str | None = None, keep_checkpoints: bool = False,
          threads: int | None = None) -> Run:
    """The training stage: fine-tune ``config.student`` (a ``fcot.students.TrainConfig``) on the
    samples of a curation run, the best epoch chosen on its validation samples (never test).

    The selected student is ``train/best`` in the run's artifacts (``metrics["best_model_dir"]``);
    checkpoints are deleted after success unless ``keep_checkpoints``. ``threads``: torch CPU threads
    (:func:`fcot.students.set_threads`; None: leave torch's setting).
    """
    from fcot import students

    students.set_threads(threads)

    samples_run = find("curation", samples)
    data = data_of(samples_run)
    method = samples_run.config["curate"]["method"]
    key = {"data": data.resolved(), "method": method, "train": dataclasses.asdict(config),
           "upstream": upstream_key(samples_run)}
    with claimed("student", key, name or f"{data.task}-{method}", config.seed, data, "train/best") as run:
        if run.finished:
            return run
        with run:
            train_samples, val_samples = samples_of(samples_run)
            if not train_samples or not val_samples:
                metrics = samples_run.metrics
                raise ValueError(
                    f"{samples_run.path.name}: curation kept {metrics.get('samples_train')} train and "
                    f"{metrics.get('samples_val')} validation samples; raise n_train/n_val or the teacher's accuracy"
                )
            result = students.train_student(train_samples, val_samples, config, run.artifacts("train"))
            students.record_training(run, result)
    if not keep_checkpoints:
        shutil.rmtree(run.artifacts_dir / "train" / "checkpoints", ignore_errors=True)
    return run


def learning_curves_of(run: Run):
    """The per-epoch learning curves a training run recorded (a DataFrame)."""
    import pandas as pd

    return pd.read_csv(run.path / "tables" / "learning_curves.csv")


# ----------------------------------------------------------------------------------------------
# Evaluate
# ----------------------------------------------------------------------------------------------


def evaluate(config: EvalConfig, student: Run | str, *, name: str | None = None, threads: int | None = None) -> Run:
    """The evaluation stage: the student of a training run answers the test questions of its chain.

    Predictions go to ``predictions.jsonl`` (one row per question: prompt, completion, answer,
    gold, correct); metrics: accuracy with its interval, stop rate. ``threads``: torch CPU threads
    (:func:`fcot.students.set_threads`; None: leave torch's setting).
    """
    from fcot import evaluate as evaluation
    from fcot import students

    students.set_threads(threads)

    student_run = find("student", student)
    data = data_of(student_run)
    method = student_run.config["method"]
    degree = _degree_of(upstream_of(student_run))
    key = {"data": data.resolved(), "method": method, "evaluate": dataclasses.asdict(config),
           "upstream": upstream_key(student_run)}
    with claimed("evaluation", key, name or f"{data.task}-{method}", config.seed, data, COMPUTED_HERE) as run:
        if run.finished:
            return run
        with run:
            started = time.perf_counter()
            model, tokenizer = students.load_trained(student_weights(student_run))
            result = evaluation.evaluate_student(
                model, tokenizer, examples(data).test, fmt=method, batch_size=config.batch_size,
                max_new_tokens=config.resolved_max_new_tokens(method), self_consistency=config.self_consistency,
                temperature=config.temperature, seed=config.seed, method=arm_label(method, degree),
            )
            run.save_predictions(result.predictions)
            run.save_metrics(result.metrics() | {
                "test_questions": result.n, "correct": int(round(result.accuracy * result.n)),
                "eval_seconds": time.perf_counter() - started,
            })
    return run


def student_weights(run: Run) -> Path:
    """Where a training run's selected student is: its artifacts (``train/best``) where this machine trained it;
    else the LoRA adapter its committed record carries (``student/``, a few MB, written for a LoRA student of a named
    base: loadable on any machine that resolves the base, without training); else a clear error naming the stage."""
    shipped = run.path / "student"
    if not computed_here(run) and (shipped / "adapter_config.json").is_file():
        return shipped
    return artifact(run, "train", "best")


def load_student(student: Run | str):
    """``(model, tokenizer)`` of a training run's selected student (a run, its directory or name; see
    :func:`student_weights`): what notebooks 21 and 40 ask a new question live."""
    from fcot import students

    return students.load_trained(student_weights(find("student", student)))


def result_of(run: Run):
    """The :class:`fcot.evaluate.EvalResult` an evaluation run recorded (predictions included)."""
    from fcot.evaluate import EvalResult
    from fcot.records import read_jsonl

    metrics = run.metrics
    fields = {f.name for f in dataclasses.fields(EvalResult)} - {"predictions"}
    return EvalResult(**{k: metrics[k] for k in fields if k in metrics},
                      predictions=list(read_jsonl(run.path / "predictions.jsonl")))


def _degree_of(samples_run: Run) -> int:
    """The teacher's degree D behind a curation run (1 for vanilla)."""
    teacher_run = upstream_of(samples_run)
    return 1 if teacher_run is None else int(teacher_run.config["teach"]["degree"])


def chain_config(run: Run) -> dict:
    """The configs of a run and every run upstream of it, by stage (for display)."""
    out = {run.kind: {k: v for k, v in run.config.items() if k != "upstream"}}
    parent = upstream_of(run)
    while parent is not None:
        out[parent.kind] = {k: v for k, v in parent.config.items() if k not in ("upstream", "data")}
        parent = upstream_of(parent)
    return config_dict(out)


# ----------------------------------------------------------------------------------------------
# Reading a chain
# ----------------------------------------------------------------------------------------------


def default_upstream(kind: str) -> Run:
    """The run notebook 10, 11, 20 or 21 makes with its default (smoke) parameters: what notebooks 11,
    20, 21 and 40 use when no upstream run is given, so each still runs alone."""
    from fcot import students

    if kind == "teacher":
        return teach(DataConfig(), TeachConfig())
    if kind == "curation":
        return curate(CurateConfig(), default_upstream("teacher"))
    if kind == "student":
        return train(students.recipe_config("smoke", student="tiny-gpt2-xs", epochs=2), default_upstream("curation"))
    if kind == "evaluation":
        return evaluate(EvalConfig(), default_upstream("student"))
    raise ValueError(f"no default upstream of kind {kind!r}; accepted: teacher, curation, student, evaluation")


def _percent(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def describe(run: Run):
    """A short, computed account of a stage run (Markdown): what it is, its main numbers, its directory."""
    from IPython.display import Markdown

    m, c = run.metrics, run.config
    data = c.get("data", {})
    where = f"`{run.relpath}` (under `results/{paths.profile_name()}/runs/`)"
    if run.kind == "teacher":
        t = c["teach"]
        text = (f"**Teacher run** {where}: {t['backend']} teacher, D={t['degree']}, on {m.get('questions')} "
                f"{data.get('task')} questions (train + validation). Accuracy on train "
                f"{_percent(m.get('teacher_accuracy_train'))}, so answer filtering keeps the rationales of "
                f"{_percent(m.get('teacher_coverage_train'))} of the train questions; median rationale "
                f"{m.get('rationale_words_median')} words"
                + (f"; greedy accuracy on {data.get('task')} test {_percent(m.get('teacher_accuracy_test'))}"
                   if m.get("teacher_accuracy_test") is not None else "") + ".")
    elif run.kind == "curation":
        text = (f"**Curation run** {where}: {c['curate']['method']} samples ({c['curate']['filter_mode']}) of "
                f"{data.get('task')}: {m.get('samples_train')} train and {m.get('samples_val')} validation samples "
                f"from {m.get('questions_train')} and {m.get('questions_val')} questions; "
                f"{_percent(m.get('share_filtered_train'))} of the train completions filtered out.")
    elif run.kind == "student":
        text = (f"**Student run** {where}: {c['train']['student']} trained on {m.get('train_samples')} "
                f"{c['method']} samples of {data.get('task')}; kept epoch {m.get('best_epoch')} of "
                f"{m.get('epochs_run')} (`select_by={m.get('select_by')}`, {m.get('val_samples')} validation samples); "
                f"{m.get('parameters'):,} parameters, {m.get('tokens_per_second', 0):,.0f} tokens/s.")
    elif run.kind == "evaluation":
        text = (f"**Evaluation run** {where}: {_percent(m.get('accuracy'))} "
                f"[{_percent(m.get('low'))}, {_percent(m.get('high'))}] on {m.get('test_questions')} "
                f"{data.get('task')} test questions ({c['method']}); the student stopped by itself on "
                f"{_percent(m.get('stop_rate'))} of them.")
    else:
        raise ValueError(f"describe: {run.kind} runs are not stage runs")
    return Markdown(text)


def _teacher_of(run: Run) -> Run | None:
    """The teacher run at the top of ``run``'s chain (None for a vanilla chain, which asks no teacher)."""
    while run is not None and run.kind != "teacher":
        run = upstream_of(run)
    return run


def teacher_name(teach, task: str | None = None) -> str:
    """Which teacher a teacher run's ``teach`` configuration names, in words: the rule-based simulator and the
    accuracy it was set to, the recorded text-davinci-002 (replay), a completions file, or a model. ``teach``: a
    run's ``config["teach"]`` (a dict) or a :class:`TeachConfig` (``task`` resolves its default accuracy)."""
    if isinstance(teach, TeachConfig):
        teach = teach.key(task) if task else dataclasses.asdict(teach)
    backend = teach.get("backend")
    if backend == "simulated":
        accuracy = teach.get("accuracy")
        return ("the rule-based teacher simulator (not a language model"
                + (f", set to {_percent(accuracy)} accuracy)" if accuracy is not None else ")"))
    if backend == "replay":
        return "the recorded text-davinci-002 (the paper's teacher, replayed from its logs)"
    if backend == "file":
        return f"the teacher whose completions were read from `{teach.get('completions')}`"
    if backend == "openai":
        return f"`{teach.get('model')}` (an OpenAI-compatible endpoint)"
    if backend == "hf":
        return f"`{teach.get('model')}` (a Hugging Face model)"
    return f"a {backend} teacher"


def _filter_lines(m: dict) -> list[str]:
    """Notebook 10: what the answer filter of notebook 11 will drop, from the counts the metrics table prints
    (``completions``, ``teacher_accuracy``, ``share_filtered``: train plus validation; ``completions_train``,
    ``teacher_accuracy_train``: train alone)."""
    n, n_train = m.get("completions"), m.get("completions_train")
    accuracy_all, accuracy_train = m.get("teacher_accuracy"), m.get("teacher_accuracy_train")
    share = m.get("share_filtered", None if accuracy_all is None else 1 - accuracy_all)
    if not n or share is None or accuracy_train is None or not n_train:
        return [f"The teacher answered {n or 0} completions: there is nothing to filter."] if not n else []
    wrong_all, wrong_train = round(n * share), round(n_train * (1 - accuracy_train))
    n_val, wrong_val = n - n_train, round(n * share) - round(n_train * (1 - accuracy_train))
    lines = [f"The teacher was right on {_percent(accuracy_train)} of its {n_train} train completions"
             + (f" and on {_percent(accuracy_all)} of all {n} (train plus validation)." if n_val else ".")]
    lines.append(f"The answer filter (notebook 11, `correct_only`) will drop the wrong ones: {wrong_train} of the "
                 f"{n_train} train completions ({_percent(wrong_train / n_train)})"
                 + (f" and {wrong_val} of the {n_val} validation completions; {wrong_all} of {n} in all "
                    f"(`share_filtered` {_percent(share)}, train plus validation)." if n_val else "."))
    lines.append(f"It leaves {_percent(m.get('teacher_coverage_train'))} of the train questions with at least one "
                 "rationale: a weaker teacher means fewer samples.")
    return lines


def _epoch_lines(m: dict, curves) -> list[str]:
    """Notebook 20: where validation loss was lowest (from the learning curves, whatever ``select_by`` kept), and
    which epoch's weights ``select_by`` kept (``best_epoch`` in the metrics is the kept epoch)."""
    kept, ran, select_by = m.get("best_epoch"), m.get("epochs_run"), m.get("select_by")
    lines = []
    if curves is not None and "eval_loss" in curves and curves["eval_loss"].notna().any():
        scored = curves[curves["eval_loss"].notna()]
        low = scored.loc[scored["eval_loss"].idxmin()]
        last = scored.loc[scored["epoch"].idxmax()]
        if low["epoch"] == last["epoch"]:
            lines.append(f"Validation loss was lowest at the last epoch ({last['epoch']:g} of {last['epoch']:g}, "
                         f"{low['eval_loss']:.3f}): the student was still improving, so more epochs (or more data) "
                         "would likely help.")
        else:
            text = (f"Validation loss was lowest at epoch {low['epoch']:g} of {last['epoch']:g} ({low['eval_loss']:.3f}) "
                    f"and ended at {last['eval_loss']:.3f}")
            falling = "train_loss" in scored and low.get("train_loss") is not None and last.get("train_loss") is not None \
                and last["train_loss"] < low["train_loss"]
            lines.append(text + (f", while train loss fell from {low['train_loss']:.3f} to {last['train_loss']:.3f}: "
                                 f"after epoch {low['epoch']:g} the student overfits its {m.get('train_samples')} samples."
                                 if falling else ": the student stopped improving on validation after it."))
    if kept is not None:
        why = {"last": "the last epoch, whatever its validation loss",
               "eval_loss": "the lowest validation loss",
               "eval_accuracy": "the highest validation accuracy"}.get(select_by, "its rule")
        lines.append(f"`select_by=\"{select_by}\"` kept the weights of epoch {kept:g}"
                     + (f" of {ran:g}" if ran is not None else "") + f" ({why}).")
    return lines


def _teacher_comparison(m: dict, teacher: Run) -> str:
    """Notebook 21: the student's test accuracy against its teacher's on the same questions, the teacher named
    (:func:`teacher_name`); a teacher score inside the student's interval is within noise."""
    score, accuracy = teacher.metrics["teacher_accuracy_test"], m.get("accuracy") or 0.0
    gap = accuracy - score
    direction = "level with" if round(100 * gap, 1) == 0 else "above" if gap > 0 else "below"
    low, high = m.get("low"), m.get("high")
    noise = (" (its score lies inside the student's interval: within noise)"
             if direction != "level with" and low is not None and high is not None and low <= score <= high else "")
    distance = "" if direction == "level with" else f"{abs(100 * gap):.1f} points "
    return (f"Its teacher, {teacher_name(teacher.config.get('teach', {}))}, scored {_percent(score)} on the same "
            f"questions: the student is {distance}{direction} it{noise}.")


def what_we_saw(run: Run):
    """The closing "What we saw" of notebooks 10, 11, 20 and 21 (Markdown), computed from a stage run's numbers and
    read against what the paper leads one to expect, so it stays true when the parameters change."""
    from IPython.display import Markdown

    from fcot import data as data_module, evaluate as evaluate_module

    m, c = run.metrics, run.config
    task = c.get("data", {}).get("task")
    lines = []
    if run.kind == "teacher":
        lines += _filter_lines(m)
        if (m.get("degree") or 1) > 1:
            lines.append(f"With D={m.get('degree')} samples per question, {_percent(m.get('share_questions_all_distinct'))} "
                         "of the questions got all-distinct rationales: only distinct ones add information "
                         "(diverse reasoning).")
        if m.get("truncation_rate"):
            lines.append(f"{_percent(m['truncation_rate'])} of the rationales hit the length limit: truncated "
                         "rationales rarely reach an answer.")
    elif run.kind == "curation":
        method = c["curate"]["method"]
        lines.append(f"{m.get('samples_train')} {method} training samples from {m.get('questions_train')} questions "
                     f"({_percent(m.get('share_filtered_train'))} of the teacher's train completions filtered out"
                     + (", none needed for vanilla samples, which carry the gold answer only" if method == "vanilla"
                        else "") + ").")
        if m.get("samples_dropped_too_long_train") or m.get("rationales_truncated_train"):
            lines.append(f"{m.get('samples_dropped_too_long_train') or 0} samples were too long for the student and "
                         f"{m.get('rationales_truncated_train') or 0} rationales were cut.")
    elif run.kind == "student":
        curves_file = run.path / "tables" / "learning_curves.csv"
        lines += _epoch_lines(m, learning_curves_of(run) if curves_file.is_file() else None)
        lines.append(f"{m.get('parameters', 0):,} parameters trained at {m.get('tokens_per_second', 0):,.0f} tokens/s "
                     f"for {m.get('train_runtime_s', 0):.0f} s.")
    elif run.kind == "evaluation":
        test = data_module.examples(data_of(run)).test
        chance = evaluate_module.random_baseline(test)
        low, high = m.get("low"), m.get("high")
        where = ("above" if low is not None and low > chance else
                 "below" if high is not None and high < chance else "not distinguishable from")
        lines.append(f"The student scored {_percent(m.get('accuracy'))} [{_percent(low)}, {_percent(high)}] on "
                     f"{m.get('test_questions')} {test[0].task if test else task} test questions: its interval is "
                     f"**{where}** random guessing ({_percent(chance)}).")
        teacher = _teacher_of(run)
        if teacher is not None and teacher.metrics.get("teacher_accuracy_test") is not None:
            lines.append(_teacher_comparison(m, teacher))
        if (m.get("stop_rate") or 0) < 0.9:
            lines.append(f"It stopped by itself on only {_percent(m.get('stop_rate'))} of the questions: an unfinished "
                         "completion has no answer after ` --> `.")
    else:
        raise ValueError(f"what_we_saw: {run.kind} runs are not stage runs")
    return Markdown("\n".join(f"- {line}" for line in lines))
