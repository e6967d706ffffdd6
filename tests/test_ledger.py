"""The budget cannot be defeated by any ledger content (issue 31): a property test over many generated ledgers.

hypothesis is not a dependency of fcot, so the property is checked over seeded random sequences: each case writes a
ledger of rows drawn from valid rows and every kind of bad one (NaN, +-inf, negative, non-numeric values, strings
such as "NaN", non-objects, malformed and torn lines), opens it with a budget, and then reserves, records and settles
at random. Either opening raises naming ``ledger.jsonl:<the first bad line>``, or every reservation granted keeps
``spent + reserved <= budget`` -- with ``spent`` as a reference model computes it from the rows, so a ledger that
quietly dropped or discounted a row would fail too.
"""

from __future__ import annotations

import json
import math
import random
import re
import warnings

import pytest

from fcot.records import RecordError
from fcot.teachers import Ledger

pytestmark = pytest.mark.filterwarnings("ignore:.*never settled")

PRICES = {"m": (1.0, 2.0)}  # USD per 1M tokens
BAD_NUMBERS = [float("nan"), float("inf"), float("-inf"), -1.0, -1, "NaN", "1.0", "", None, True, [1], {"a": 1}]
BAD_COUNTS = [float("nan"), -1, 1.5, "10", "NaN", True, float("inf"), [3]]


class Reference:
    """What the ledger must count: entries' costs, plus the worst case of calls sent and never settled."""

    def __init__(self) -> None:
        self.costs = 0.0
        self.open: dict[str, tuple[int, float]] = {}
        self.abandoned = 0.0

    def spent(self) -> float:
        return self.costs + sum(w for _, w in self.open.values()) + self.abandoned

    def close(self, attempt: str, abandoned: int) -> None:
        calls, worst = self.open.pop(attempt, (None, 0.0))
        if calls is not None and abandoned:
            self.abandoned += worst / max(1, calls) * abandoned


def _entry(rng: random.Random, ids: list[str]) -> tuple[dict, bool]:
    row = {"time": rng.random() * 1e9, "backend": "openai", "model": "m", "stage": "rationale",
           "prompt_tokens": rng.randrange(0, 5000), "completion_tokens": rng.randrange(0, 500),
           "cost_usd": rng.choice([None, round(rng.random() * 0.05, 6), 0.0])}
    if rng.random() < 0.3:
        field = rng.choice(["cost_usd", "prompt_tokens", "completion_tokens"])
        row[field] = rng.choice(BAD_NUMBERS if field == "cost_usd" else BAD_COUNTS)
        return row, row[field] is not None  # a null cost is an unknown one, not a bad one
    return row, False


def _sent(rng: random.Random, ids: list[str]) -> tuple[dict, bool]:
    row = {"event": "sent", "id": rng.choice(ids), "time": 0.0, "calls": rng.randrange(0, 4),
           "worst_case_usd": round(rng.random() * 0.05, 6)}
    if rng.random() < 0.3:
        field = rng.choice(["calls", "worst_case_usd", "id"])
        row[field] = rng.choice(BAD_COUNTS if field == "calls" else BAD_NUMBERS if field == "worst_case_usd"
                                else [None, 5, ""])
        return row, True
    return row, False


def _settled(rng: random.Random, ids: list[str]) -> tuple[dict, bool]:
    row = {"event": rng.choice(["done", "failed"]), "id": rng.choice(ids), "time": 0.0}
    if rng.random() < 0.5:
        row["abandoned"] = rng.choice([0, 1, 2] + BAD_COUNTS)
        return row, not (isinstance(row["abandoned"], int) and not isinstance(row["abandoned"], bool)
                         and row["abandoned"] >= 0)
    return row, False


def _line(rng: random.Random, ids: list[str]) -> tuple[str, dict | None, bool]:
    """(the line's text, the row it holds or None, whether it is bad)."""
    kind = rng.random()
    if kind < 0.04:
        return "", None, False  # a blank line
    if kind < 0.08:
        return rng.choice(['{"cost_usd": ', "not json", '{"a": NaN']), None, True
    if kind < 0.12:
        return json.dumps(rng.choice([[1], "x", 5, None, {"event": "burnt"}])), None, True
    row, bad = (_entry if kind < 0.5 else _sent if kind < 0.8 else _settled)(rng, ids)
    return json.dumps(row), row, bad


def _case(rng: random.Random):
    ids = [f"id{i}" for i in range(rng.randrange(1, 5))]
    lines = [_line(rng, ids) for _ in range(rng.randrange(0, 10))]
    torn = rng.random() < 0.2  # a writer killed mid-line: the last line has no end
    return lines, torn


def _first_bad(lines) -> int | None:
    seen_sent: set[str] = set()
    for number, (_, row, bad) in enumerate(lines, start=1):
        if bad:
            return number
        if row is not None and row.get("event") == "sent":
            if row["id"] in seen_sent:
                return number  # a 'sent' id written twice
            seen_sent.add(row["id"])
    return None


def _replay(lines, reference: Reference) -> None:
    for _, row, _ in lines:
        if row is None:
            continue
        event = row.get("event")
        if event is None:
            reference.costs += row["cost_usd"] or 0.0
        elif event == "sent":
            reference.open[row["id"]] = (row["calls"], row["worst_case_usd"])
        else:
            reference.close(row["id"], row.get("abandoned", 0))


def _exercise(ledger: Ledger, reference: Reference, rng: random.Random, budget: float) -> None:
    """Random reservations, records and settlements; every granted reservation must fit the budget."""
    reserved = 0.0
    for _ in range(rng.randrange(1, 15)):
        action = rng.random()
        if action < 0.5:
            amount = rng.choice([rng.random() * budget, 0.0, budget, *BAD_NUMBERS[:5]])
            if not (isinstance(amount, (int, float)) and not isinstance(amount, bool) and math.isfinite(amount)
                    and amount >= 0):
                with pytest.raises(ValueError, match="reservation must be a finite amount"):
                    ledger.reserve(amount)
                continue
            if ledger.reserve(amount):
                reserved += amount
                assert reference.spent() + reserved <= budget + 1e-9
        elif action < 0.8:
            tokens = rng.choice([rng.randrange(0, 2000), None, *BAD_COUNTS])
            if tokens is not None and (not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 0):
                with pytest.raises(ValueError, match="must be an integer >= 0"):
                    ledger.record("openai", "m", "rationale", tokens, 10)
                continue
            entry = ledger.record("openai", "m", "rationale", tokens, 10)
            reference.costs += entry.cost_usd or 0.0
        else:
            calls, worst = rng.randrange(1, 3), rng.random() * 0.01
            attempt = ledger.sent("openai", "m", "rationale", calls, worst)
            reference.open[attempt] = (calls, worst)
            if rng.random() < 0.5:
                abandoned = rng.randrange(0, 2)
                ledger.settle(attempt, abandoned=abandoned)
                reference.close(attempt, abandoned)
        spent = (ledger.spent_usd or 0.0) + ledger.possibly_billed[1]
        assert math.isfinite(spent) and spent >= 0
        assert spent == pytest.approx(reference.spent(), abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_any_ledger_either_errors_naming_file_and_line_or_keeps_spent_within_the_budget(tmp_path, seed):
    rng = random.Random(seed)
    for case in range(150):
        lines, torn = _case(rng)
        path = tmp_path / f"{case}" / "ledger.jsonl"
        path.parent.mkdir()
        text = "".join(line + "\n" for line, _, _ in lines)
        if torn:
            text += '{"event": "sent", "id": "torn", "calls": 1, "worst'
        path.write_text(text)
        budget = rng.choice([0.0, 0.01, 0.1, 1.0])
        bad = _first_bad(lines)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if bad is not None:
                with pytest.raises(RecordError, match=rf"ledger\.jsonl:{bad}\b"):
                    Ledger(path, prices=PRICES, budget_usd=budget)
                continue
            ledger = Ledger(path, prices=PRICES, budget_usd=budget)
            reference = Reference()
            _replay(lines, reference)
            assert (ledger.spent_usd or 0.0) + ledger.possibly_billed[1] == pytest.approx(reference.spent(), abs=1e-9)
            _exercise(ledger, reference, rng, budget)
            again = Ledger(path, prices=PRICES, budget_usd=budget)  # what this run wrote reads back the same
        assert (again.spent_usd or 0.0) + again.possibly_billed[1] == pytest.approx(reference.spent(), abs=1e-9)


def test_the_issue_example_a_nan_cost_no_longer_opens_the_budget(tmp_path):
    path = tmp_path / "l.jsonl"
    path.write_text(json.dumps({"time": 0, "backend": "openai", "model": "gpt-4o", "stage": "r", "prompt_tokens": 10,
                                "completion_tokens": 10, "cost_usd": float("nan")}) + "\n")
    with pytest.raises(RecordError, match=r"l\.jsonl:1: cost_usd must be a finite number"):
        Ledger(path, budget_usd=1.0)


def test_a_torn_last_line_is_cut_so_the_next_run_appends_on_a_line_of_its_own(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_text(json.dumps({"event": "sent", "id": "a", "calls": 1, "worst_case_usd": 0.5}) + '\n{"event": "do')
    with pytest.warns(UserWarning, match=re.escape(f"{path}:2: the last line is cut")):
        ledger = Ledger(path, budget_usd=1.0)
    assert ledger.possibly_billed == (1, 0.5) and not ledger.reserve(0.6)  # the unsettled call still counts
    ledger.settle("a")
    assert Ledger(path, budget_usd=1.0).possibly_billed == (0, 0)  # the row appended after the cut reads back


def test_a_whole_last_line_without_its_newline_is_kept(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_text(json.dumps({"event": "sent", "id": "a", "calls": 1, "worst_case_usd": 0.5}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ledger = Ledger(path, budget_usd=1.0)
    assert ledger.possibly_billed == (1, 0.5)
    ledger.sent("openai", "m", "r", 1, 0.1)
    assert Ledger(path, budget_usd=1.0).possibly_billed == (2, 0.6)
