"""The stages' configs: what the teacher, curation and evaluation stages take (training's is ``students.TrainConfig``).

Each is frozen and validated on construction; a stage's run is keyed by its ``key`` (see :mod:`fcot.stages.chain`).
"""


from __future__ import annotations

import dataclasses
import math
import re
import urllib.parse
from dataclasses import dataclass

from fcot import curate, teachers
from fcot.records import is_int, is_number
from fcot.teachers import simulated

BACKENDS = ("simulated", "replay", "file", "openai", "hf")
SIMULATED_SEED = 0  # the simulated teacher is one fixed "model": its own seed never varies




# ----------------------------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------------------------


def resolved_temperature(temperature: float | None, degree: int) -> float:
    """The teacher's sampling temperature: ``temperature``, else the paper's (0 at D=1, 0.7 above)."""
    if temperature is not None:
        return float(temperature)
    return 0.0 if degree == 1 else float(teachers.DIVERSE_TEMPERATURE)


def resolved_accuracy(backend: str, accuracy: float | None, task: str) -> float | None:
    """The simulated teacher's accuracy on ``task``: ``accuracy``, else its task default; None for other backends."""
    if backend != "simulated":
        return None
    if accuracy is not None:
        return float(accuracy)
    return float(simulated.DEFAULT_ACCURACY.get(task, simulated.FALLBACK_ACCURACY))


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
        def fail(field: str, message: str) -> None:
            raise ValueError(f"TeachConfig.{field}: {message}")

        if self.backend not in BACKENDS:
            fail("backend", f"{self.backend!r} is not accepted; accepted: {', '.join(BACKENDS)}")
        if self.accuracy is not None:
            if self.backend != "simulated":
                fail("accuracy", f"is a knob of the simulated teacher only; use None with backend={self.backend!r}")
            if not is_number(self.accuracy) or not 0.0 <= self.accuracy <= 1.0:
                fail("accuracy", f"must be in [0, 1] or None (task default), got {self.accuracy!r}")
        if not isinstance(self.completions, str):
            fail("completions", f"must be a string (a teacher run or a completions JSONL), got {self.completions!r}")
        if self.backend == "file" and not self.completions:
            fail("completions", "backend='file' needs completions= (a teacher run name or a completions .jsonl path)")
        if self.backend != "file" and self.completions:
            fail("completions", f"is only read with backend='file' (got backend={self.backend!r}); leave it empty")
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
        return resolved_temperature(self.temperature, self.degree)

    def resolved_accuracy(self, task: str) -> float | None:
        return resolved_accuracy(self.backend, self.accuracy, task)

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


