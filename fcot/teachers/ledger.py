"""The token ledger: tokens per teacher call, estimated cost, and a budget cap.

Every call a backend actually makes (cache hits are free and not entered) is one
:class:`LedgerEntry`: backend, model, stage, prompt/completion tokens and the estimated cost
from a **price table** (USD per 1M tokens, per model: ``{"model": (input, output)}``). A model
missing from the table gets cost ``None`` and one warning -- never a guessed price. Local
backends (``hf``, ``simulated``) and ``replay`` cost nothing.

The **budget cap** is checked *before* each call: the driver asks :meth:`Ledger.reserve` for the
call's worst-case cost (every prompt byte a token -- a byte-level BPE never makes more tokens than
bytes -- plus ``max_tokens``); if spent + reserved + that would pass the budget, the call is not
made and :class:`BudgetExceeded` is raised once the calls in flight are saved. So a run stops
*before* exceeding its budget, never after.

A ledger with a ``path`` appends its entries to a JSONL file (fsync'd), so the money spent on a
study is on disk across runs. Entries never contain prompts, texts or keys.

**Write-ahead.** Before a chunk of calls goes out the driver writes a ``sent`` row (:meth:`Ledger.sent`: how many
calls, their worst-case cost); when their results are stored it writes ``done`` (:meth:`Ledger.settle`), and
``failed`` where the endpoint refused them outright (4xx: not billed). A ``sent`` row without either -- calls in
flight when the process was killed, or abandoned after timeouts -- may have been billed by the server: it counts as
**possibly billed** (worst-case cost) in :meth:`Ledger.totals` and against the budget, and a later run reports how
many it found (:attr:`Ledger.unsettled_at_start`). So do attempts the client gave up on after they went out and
then retried successfully (a timeout while the server kept working): the ``done`` row carries their count
(``abandoned``), and each is counted as possibly billed at its call's worst-case cost.

**No value lowers the spend.** A ledger row whose cost, token or call count is not a finite number >= 0 (NaN,
+-inf, negative, a string), a malformed line or a ``sent`` id written twice raises :class:`RecordError` naming
``file:line``; a torn last line (a writer killed mid-line) is cut off with a warning (its call's ``sent`` row stays
open, so it is counted at its worst case). Token counts a server reports are checked the same way before they are
entered, and a reservation must be a finite amount >= 0: whatever the file or the server says, ``spent + reserved``
never passes the budget.
"""

from __future__ import annotations

import threading
import time
import uuid
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping

from fcot.records import (RecordError, append_jsonl, cut_torn_tail, from_dict, is_count, is_finite_number, is_int,
                          read_numbered)

#: USD per 1M tokens (input, output). Published list prices; edit or pass your own table.
#: text-davinci-002 (the paper's teacher) was $0.02 / 1K tokens for input and output alike.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "text-davinci-002": (20.0, 20.0),
    "text-davinci-003": (20.0, 20.0),
    "gpt-3.5-turbo-instruct": (1.5, 2.0),
    "gpt-3.5-turbo": (0.5, 1.5),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4o": (2.5, 10.0),
}

#: Backend kinds whose calls cost nothing: local models, and replays of recorded runs.
FREE_BACKENDS = frozenset({"hf", "simulated", "replay", "echo"})

_WARN_LOCK = threading.Lock()


class BudgetExceeded(RuntimeError):
    """The next call could pass the budget; everything done so far is saved."""


def price_of(
    backend: str,
    model: str,
    prices: Mapping[str, tuple[float, float]] | None,
    warned: set[str] | None = None,
) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens, (0, 0) for local backends, None (with a warning) if unknown.

    ``warned``: models already warned about (the warning is given once per set).
    """
    if backend in FREE_BACKENDS:
        return (0.0, 0.0)
    table = DEFAULT_PRICES if prices is None else prices
    if model in table:
        value = table[model]
        if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(is_finite_number(v) for v in value):
            raise ValueError(f"price table entry for {model!r} must be (input, output) USD per 1M tokens >= 0, got {value!r}")
        return (float(value[0]), float(value[1]))
    with _WARN_LOCK:
        if warned is None or model not in warned:
            if warned is not None:
                warned.add(model)
            warnings.warn(
                f"no price for model {model!r} in the price table (known: {sorted(table)}); its cost is "
                "reported as None. Pass prices={model: (input_usd_per_1M, output_usd_per_1M)}.",
                stacklevel=3,
            )
    return None


def estimate_cost(
    backend: str,
    model: str,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    prices: Mapping[str, tuple[float, float]] | None = None,
    warned: set[str] | None = None,
) -> float | None:
    """USD for one call; None where the price or a token count is unknown."""
    price = price_of(backend, model, prices, warned)
    if price is None:
        return None
    if backend in FREE_BACKENDS:
        return 0.0
    if prompt_tokens is None or completion_tokens is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6


@dataclass(frozen=True)
class LedgerEntry:
    """One call made (not a cache hit)."""

    time: float
    backend: str
    model: str
    stage: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None


class Ledger:
    """Tokens and cost of the calls made, with an optional budget (USD).

    ``path``: JSONL file the entries are appended to (and read back from, so ``spent_usd``
    counts earlier runs written to the same file). ``prices``: the price table (default
    :data:`DEFAULT_PRICES`).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        prices: Mapping[str, tuple[float, float]] | None = None,
        budget_usd: float | None = None,
    ) -> None:
        if budget_usd is not None and not is_finite_number(budget_usd):
            raise ValueError(f"budget_usd must be a finite number of USD >= 0, or None for no budget; got {budget_usd!r}")
        self.path = Path(path) if path is not None else None
        self.prices = dict(DEFAULT_PRICES if prices is None else prices)
        self.budget_usd = budget_usd
        self.entries: list[LedgerEntry] = []
        self._reserved = 0.0
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self._open: dict[str, dict] = {}  # sent, neither done nor failed: possibly billed
        self._abandoned: list[dict] = []  # attempts given up on after they went out, then retried: possibly billed
        self._sent_lines: dict[str, str] = {}  # id -> the line of its 'sent' row (an id is written once)
        if self.path is not None and self.path.is_dir():
            raise RecordError(f"{self.path}: the ledger path is a folder; give a file path such as "
                              f"{self.path}/ledger.jsonl")
        if self.path is not None and self.path.is_file():
            cut_torn_tail(self.path)  # so rows appended later start on a line of their own
            for number, row in read_numbered(self.path):
                self._load_row(row, f"{self.path}:{number}")
        self.unsettled_at_start = sum(a["calls"] for a in self._open.values())
        if self.unsettled_at_start:
            warnings.warn(f"{self.path}: {self.unsettled_at_start} teacher call(s) were sent by an earlier run and "
                          "never settled (killed or abandoned in flight): counted as possibly billed, at their "
                          "worst-case cost, in the totals and against the budget", stacklevel=2)

    def _load_row(self, row: dict, where: str) -> None:
        event = row.get("event") if isinstance(row, dict) else None
        if event is None:  # a finished call's entry (also every row of ledgers written before write-ahead)
            self.entries.append(_checked_entry(from_dict(LedgerEntry, row, where), where))
            return
        if event == "sent":
            attempt, opened = _sent_row(row, where)
            if attempt in self._sent_lines:
                raise RecordError(f"{where}: a second 'sent' row with id {attempt!r} (the first is at line "
                                  f"{self._sent_lines[attempt]}); each id is written once")
            self._sent_lines[attempt] = where.rpartition(":")[2]
            self._open[attempt] = opened
        elif event in ("done", "failed"):
            abandoned = row.get("abandoned", 0)
            if not is_int(abandoned) or abandoned < 0:
                raise RecordError(f"{where}: 'abandoned' must be an integer >= 0, got {abandoned!r}")
            self._close(str(row.get("id")), abandoned)
        else:
            raise RecordError(f"{where}: unknown ledger event {event!r}; accepted: sent, done, failed")

    # -- totals ---------------------------------------------------------------------------------
    @property
    def calls(self) -> int:
        return len(self.entries)

    @property
    def prompt_tokens(self) -> int:
        return sum(e.prompt_tokens or 0 for e in self.entries)

    @property
    def completion_tokens(self) -> int:
        return sum(e.completion_tokens or 0 for e in self.entries)

    @property
    def spent_usd(self) -> float | None:
        """Sum of known costs (None when no entry has a known cost)."""
        known = [e.cost_usd for e in self.entries if e.cost_usd is not None]
        return sum(known) if known else (0.0 if not self.entries else None)

    @property
    def possibly_billed(self) -> tuple[int, float]:
        """(calls, worst-case USD) sent and never settled: in flight at a kill, or abandoned after timeouts."""
        with self._lock:
            return self._held()

    def _held(self) -> tuple[int, float]:
        """(calls, worst-case USD) possibly billed; the caller holds the lock."""
        held = list(self._open.values()) + self._abandoned
        return sum(a["calls"] for a in held), sum(a["worst_case_usd"] for a in held)

    def totals(self) -> dict:
        calls, usd = self.possibly_billed
        return {
            "possibly_billed_calls": calls,
            "possibly_billed_usd": usd,
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.spent_usd,
            "calls_with_unknown_cost": sum(e.cost_usd is None for e in self.entries),
            "budget_usd": self.budget_usd,
        }

    # -- budget ---------------------------------------------------------------------------------
    def check_budget_possible(self, backend: str, model: str) -> None:
        """A budget needs a price: raise (before any call) when the model has none."""
        if self.budget_usd is not None and price_of(backend, model, self.prices, self._warned) is None:
            raise ValueError(
                f"budget_usd={self.budget_usd} cannot be enforced: model {model!r} has no price in the "
                f"price table (known: {sorted(self.prices)}). Add it to prices= or drop the budget."
            )

    def worst_case_cost(self, backend: str, model: str, prompt: str, max_tokens: int, n: int = 1) -> float:
        """An upper bound on one call's cost: one token per prompt byte (+16 for chat framing) plus max_tokens."""
        if self.budget_usd is None:
            return 0.0
        price = price_of(backend, model, self.prices, self._warned)
        if price is None:
            return 0.0
        prompt_bound = len(prompt.encode("utf-8")) + 16
        return n * (prompt_bound * price[0] + max_tokens * price[1]) / 1e6

    def reserve(self, amount: float) -> bool:
        """Hold ``amount`` for a call about to be made; False (nothing held) if it could pass the budget."""
        if not is_finite_number(amount):
            raise ValueError(f"a reservation must be a finite amount of USD >= 0, got {amount!r}")
        with self._lock:
            if self.budget_usd is None:
                self._reserved += amount
                return True
            spent = sum(e.cost_usd or 0.0 for e in self.entries) + self._held()[1]
            if spent + self._reserved + amount > self.budget_usd + 1e-12:
                return False
            self._reserved += amount
            return True

    def release(self, amount: float) -> None:
        if not is_finite_number(amount):
            raise ValueError(f"a released reservation must be a finite amount of USD >= 0, got {amount!r}")
        with self._lock:
            self._reserved = max(0.0, self._reserved - amount)

    # -- write-ahead ------------------------------------------------------------------------------
    def sent(self, backend: str, model: str, stage: str, calls: int, worst_case_usd: float) -> str:
        """Write that ``calls`` calls are about to go out (before they do); returns the id to settle them with."""
        if not is_count(calls) or not is_finite_number(worst_case_usd):
            raise ValueError(f"sent: calls must be an integer >= 0 and worst_case_usd a finite number >= 0, got "
                             f"calls={calls!r}, worst_case_usd={worst_case_usd!r}")
        attempt = uuid.uuid4().hex
        row = {"event": "sent", "id": attempt, "time": time.time(), "backend": backend, "model": model,
               "stage": stage, "calls": int(calls), "worst_case_usd": float(worst_case_usd)}
        with self._lock:
            self._open[attempt] = {"calls": int(calls), "worst_case_usd": float(worst_case_usd)}
            if self.path is not None:
                append_jsonl(self.path, [row])
        return attempt

    def settle(self, attempt: str, outcome: str = "done", abandoned: int = 0) -> None:
        """Close a :meth:`sent` row: ``done`` (results stored, their entries recorded) or ``failed`` (refused, not
        billed). ``abandoned``: attempts of these calls the client gave up on after they went out (a timeout, a
        dropped connection) and retried: the server may have done and billed them, so they stay possibly billed.
        Calls never settled stay possibly billed."""
        if outcome not in ("done", "failed"):
            raise ValueError(f"outcome must be 'done' or 'failed', got {outcome!r}")
        if not is_int(abandoned) or abandoned < 0:
            raise ValueError(f"abandoned must be an integer >= 0, got {abandoned!r}")
        with self._lock:
            if attempt not in self._open:
                return
            self._close(attempt, abandoned)
            row = {"event": outcome, "id": attempt, "time": time.time()} | ({"abandoned": abandoned} if abandoned else {})
            if self.path is not None:  # not fsync'd: lost only with the machine, it then over-counts (never under)
                append_jsonl(self.path, [row], durable=False)

    def _close(self, attempt: str, abandoned: int) -> None:
        opened = self._open.pop(attempt, None)
        if opened and abandoned:
            per_call = opened["worst_case_usd"] / max(1, opened["calls"])
            self._abandoned.append({"calls": abandoned, "worst_case_usd": per_call * abandoned})

    # -- entries --------------------------------------------------------------------------------
    def record(
        self,
        backend: str,
        model: str,
        stage: str,
        prompt_tokens: int | None,
        completion_tokens: int | None,
    ) -> LedgerEntry:
        """Enter one call made; token counts that cannot be counts (negative, not integers) raise, never recorded."""
        for name, value in (("prompt_tokens", prompt_tokens), ("completion_tokens", completion_tokens)):
            if value is not None and not is_count(value):
                raise ValueError(f"{backend}:{model} ({stage}): {name} must be an integer >= 0 or None (unknown), got "
                                 f"{value!r}; not entered in the ledger")
        entry = LedgerEntry(
            time=time.time(),
            backend=backend,
            model=model,
            stage=stage,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=estimate_cost(backend, model, prompt_tokens, completion_tokens, self.prices, self._warned),
        )
        with self._lock:
            self.entries.append(entry)
            if self.path is not None:
                append_jsonl(self.path, [asdict(entry)])
        return entry


def _checked_entry(entry: LedgerEntry, where: str) -> LedgerEntry:
    """A loaded call entry whose counts and cost can be a spend: integers/finite numbers >= 0 (or None)."""
    for name in ("prompt_tokens", "completion_tokens"):
        value = getattr(entry, name)
        if value is not None and not is_count(value):
            raise RecordError(f"{where}: {name} must be an integer >= 0 or null, got {value!r}")
    if entry.cost_usd is not None and not is_finite_number(entry.cost_usd):
        raise RecordError(f"{where}: cost_usd must be a finite number of USD >= 0 or null, got {entry.cost_usd!r}; "
                          "a value that cannot be a cost is never counted (it could lower the spend)")
    return entry


def _sent_row(row: dict, where: str) -> tuple[str, dict]:
    """The id and the held amount of a 'sent' row, its fields checked."""
    missing = [name for name in ("id", "calls", "worst_case_usd") if name not in row]
    if missing:
        raise RecordError(f"{where}: a 'sent' ledger row needs id, calls and worst_case_usd (missing {missing})")
    if not isinstance(row["id"], str) or not row["id"]:
        raise RecordError(f"{where}: 'id' of a 'sent' row must be a non-empty string, got {row['id']!r}")
    if not is_count(row["calls"]):
        raise RecordError(f"{where}: 'calls' of a 'sent' row must be an integer >= 0, got {row['calls']!r}")
    if not is_finite_number(row["worst_case_usd"]):
        raise RecordError(f"{where}: 'worst_case_usd' of a 'sent' row must be a finite number of USD >= 0, got "
                          f"{row['worst_case_usd']!r}")
    return row["id"], {"calls": row["calls"], "worst_case_usd": float(row["worst_case_usd"])}
