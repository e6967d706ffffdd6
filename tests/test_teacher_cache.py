"""The durable call cache and the token ledger."""

from __future__ import annotations

import dataclasses
import json
import warnings

import pytest

from fcot.records import RecordError
from fcot.teachers.base import GenerationRequest, GenerationResult
from fcot.teachers.cache import CacheLockedError, ResponseCache, cache_key
from fcot.teachers.ledger import BudgetExceeded, Ledger, estimate_cost

REQUEST = GenerationRequest("Q: 1+1?\nA: Let's think step by step.", max_tokens=128, temperature=0.7, seed=5)
RESULT = GenerationResult(" Two.", "stop", 12, 2)


@pytest.mark.parametrize(
    "change",
    [
        {"prompt": "Q: 1+2?\nA:"},
        {"max_tokens": 64},
        {"temperature": 0.0},
        {"seed": 6},
        {"stop": ("\nQ:",)},
    ],
)
def test_the_key_changes_with_every_sampling_parameter(change):
    assert cache_key("openai", "m", REQUEST) != cache_key("openai", "m", dataclasses.replace(REQUEST, **change))


@pytest.mark.parametrize("backend, model, variant", [("hf", "m", ""), ("openai", "m2", ""), ("openai", "m", "chat")])
def test_the_key_changes_with_backend_model_and_variant(backend, model, variant):
    assert cache_key("openai", "m", REQUEST) != cache_key(backend, model, REQUEST, variant)


def test_results_survive_reopening_and_prompts_are_not_stored(tmp_path):
    path = tmp_path / "calls.jsonl"
    with ResponseCache(path) as cache:
        cache.put("k1", RESULT, backend="openai", model="m")
    with ResponseCache(path) as cache:
        assert cache.get("k1") == RESULT and "k1" in cache and len(cache) == 1
    assert "1+1" not in path.read_text()


def test_a_torn_last_line_is_cut_and_later_appends_stay_readable(tmp_path):
    path = tmp_path / "calls.jsonl"
    with ResponseCache(path) as cache:
        cache.put("k1", RESULT)
    with open(path, "a") as handle:
        handle.write('{"key": "k2", "text": " Thr')  # killed mid-write
    with pytest.warns(UserWarning, match=r"calls\.jsonl: cut a torn last line \(27 bytes"), ResponseCache(path) as cache:
        assert len(cache) == 1
        cache.put("k3", RESULT)
    with ResponseCache(path) as cache:
        assert sorted(cache._data) == ["k1", "k3"]


def test_a_malformed_earlier_line_is_an_error_naming_file_and_line(tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_text('{"key": "k1", "text": "a"}\nnot json\n{"key": "k2", "text": "b"}\n')
    with pytest.raises(RecordError, match=r"calls.jsonl:2: not a cache record"):
        ResponseCache(path)


def test_two_holders_of_one_cache_file_are_refused(tmp_path):
    with ResponseCache(tmp_path / "calls.jsonl"):
        with pytest.raises(CacheLockedError, match="in use by another running process"):
            ResponseCache(tmp_path / "calls.jsonl")


def test_an_in_memory_cache_writes_nothing(tmp_path):
    cache = ResponseCache()
    cache.put("k", RESULT)
    assert cache.get("k") == RESULT and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "backend, model, prompt_tokens, completion_tokens, expected",
    [
        ("openai", "text-davinci-002", 1_000_000, 0, 20.0),
        ("openai", "gpt-3.5-turbo-instruct", 1_000_000, 1_000_000, 3.5),
        ("hf", "anything", 10, 10, 0.0),
        ("simulated", "sim", None, None, 0.0),
        ("openai", "text-davinci-002", None, 5, None),
    ],
)
def test_cost_comes_from_the_price_table(backend, model, prompt_tokens, completion_tokens, expected):
    cost = estimate_cost(backend, model, prompt_tokens, completion_tokens)
    assert cost == (pytest.approx(expected) if expected is not None else None)


def test_an_unknown_model_costs_none_with_one_warning_per_ledger():
    ledger = Ledger(prices={"known": (1.0, 1.0)})
    with pytest.warns(UserWarning, match="no price for model 'mystery'"):
        entry = ledger.record("openai", "mystery", "rationale", 10, 10)
    assert entry.cost_usd is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ledger.record("openai", "mystery", "answer", 10, 10)
    assert ledger.totals()["calls_with_unknown_cost"] == 2


def test_the_ledger_reserves_worst_case_costs_against_the_budget():
    ledger = Ledger(prices={"m": (1e6, 1e6)}, budget_usd=100.0)  # $1 per token
    worst = ledger.worst_case_cost("openai", "m", "abcd", max_tokens=10)
    assert worst == 4 + 16 + 10
    assert ledger.reserve(worst) and ledger.reserve(worst) and ledger.reserve(worst)
    assert not ledger.reserve(worst)  # 120 > 100: refused before the call
    ledger.release(worst)
    ledger.record("openai", "m", "rationale", 5, 5)
    assert ledger.spent_usd == 10.0 and ledger.reserve(worst)


def test_budget_exceeded_is_a_runtime_error():
    assert issubclass(BudgetExceeded, RuntimeError)


def test_calls_sent_and_never_settled_count_as_possibly_billed_after_a_kill(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path, prices={"m": (1e6, 1e6)}, budget_usd=100.0)
    finished = ledger.sent("openai", "m", "rationale", 1, 30.0)
    ledger.record("openai", "m", "rationale", 5, 5)
    ledger.settle(finished)
    ledger.sent("openai", "m", "rationale", 2, 40.0)  # then the process is killed: no 'done' row
    refused = ledger.sent("openai", "m", "rationale", 1, 30.0)
    ledger.settle(refused, "failed")  # a 400: nothing billed
    with pytest.warns(UserWarning, match="2 teacher call.s. were sent by an earlier run and never settled"):
        resumed = Ledger(path, prices={"m": (1e6, 1e6)}, budget_usd=100.0)
    assert resumed.unsettled_at_start == 2 and resumed.calls == 1
    totals = resumed.totals()
    assert totals["possibly_billed_calls"] == 2 and totals["possibly_billed_usd"] == 40.0
    assert not resumed.reserve(51.0) and resumed.reserve(50.0)  # 10 spent + 40 possibly billed + 50 = 100


def test_a_malformed_ledger_row_is_an_error_naming_file_and_line(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_text('{"time": 1, "backend": "openai"}\n', encoding="utf-8")
    with pytest.raises(RecordError, match=r"ledger\.jsonl:1: missing field"):
        Ledger(path)
    path.write_text('{"event": "sent", "id": "x"}\n', encoding="utf-8")
    with pytest.raises(RecordError, match=r"ledger\.jsonl:1: a 'sent' ledger row needs"):
        Ledger(path)


# -- a key stored twice, and paths that cannot hold a cache (issue 31) -----------------------------------------------
def _row(text: str = " Two.", **changes) -> str:
    return json.dumps({"key": "k", "backend": "openai", "model": "m", "text": text, "finish_reason": "stop",
                       "prompt_tokens": 12, "completion_tokens": 2} | changes) + "\n"


def test_the_same_answer_stored_twice_is_accepted(tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_text(_row() + _row())
    with ResponseCache(path) as cache:
        assert len(cache) == 1 and cache.get("k") == RESULT


@pytest.mark.parametrize("changes, field", [({"text": " Three."}, "text"),
                                            ({"finish_reason": "length"}, "finish_reason"),
                                            ({"completion_tokens": 3}, "completion_tokens")])
def test_one_key_with_two_answers_is_an_error_naming_both_lines(tmp_path, changes, field):
    path = tmp_path / "calls.jsonl"
    path.write_text(_row() + "\n" + _row(**changes))
    with pytest.raises(RecordError, match=rf"calls\.jsonl:3: key k\.\.\. was already stored at line 1 with another "
                                          rf"{field}"):
        ResponseCache(path)


def test_a_cache_path_that_is_a_folder_is_named(tmp_path):
    with pytest.raises(OSError, match=r"calls\.jsonl: the cache path is a folder"):
        ResponseCache((tmp_path / "calls.jsonl").mkdir() or tmp_path / "calls.jsonl")
