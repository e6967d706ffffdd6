"""The openai backend against a real local HTTP server (fcot.testing.FakeOpenAIServer)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fcot.records import Completion, Example, read_records
from fcot.teachers import Ledger, generate, save_completions
from fcot.teachers.base import GenerationRequest
from fcot.teachers.openai_backend import AuthError, BadRequestError, EndpointError, OpenAIBackend
from fcot.testing import FakeOpenAIServer, Faults

pytestmark = pytest.mark.filterwarnings("ignore:no price for model")

REPO = Path(__file__).resolve().parent.parent
CANARY = "sk-canary-7f3a9c1e5b2d4680aa11"


def toy_examples(n: int) -> list[Example]:
    return [Example("toy", f"t{i}", f"What is {i} plus 42 minus {i}?", "42", "number") for i in range(n)]


@pytest.fixture
def server():
    with FakeOpenAIServer() as running:
        yield running


def backend_for(server, **settings) -> OpenAIBackend:
    settings.setdefault("sleep", lambda seconds: None)
    settings.setdefault("api_key_env", None)
    return OpenAIBackend(model="fake-teacher", base_url=server.base_url, **settings)


def test_a_completion_round_trips_text_finish_reason_and_usage(server):
    [result] = backend_for(server).complete([GenerationRequest("Q: hi\nA: Let's think step by step.", max_tokens=4)])
    assert result.text.split()[:3] == ["First,", "read", "question"] and len(result.text.split()) == 4
    assert result.finish_reason == "length" and result.completion_tokens == 4
    assert result.prompt_tokens == 8  # the fake server counts words


def test_chat_style_posts_messages_to_chat_completions(server):
    [result] = backend_for(server, style="chat").complete([GenerationRequest("Q: hi\nA:")])
    assert result.text.startswith(" First, read question")
    assert server.status_counts == {200: 1}


def test_requests_overlap_up_to_the_concurrency_limit(server):
    server.faults.delay_s = 0.2
    backend = backend_for(server, concurrency=8)
    started = time.perf_counter()
    backend.complete([GenerationRequest(f"Q: {i}\nA:") for i in range(16)])
    elapsed = time.perf_counter() - started
    assert server.peak_in_flight == 8
    assert elapsed < 1.2  # one at a time: 3.2 s


def test_the_driver_keeps_concurrency_calls_in_flight(server):
    server.faults.delay_s = 0.1
    generate(toy_examples(12), backend_for(server), concurrency=6)
    assert server.peak_in_flight == 6
    assert server.served == 24


@pytest.mark.parametrize(
    "faults",
    [
        {"next_429": 3},
        {"next_500": 2},
        {"next_drop": 2},
        {"next_429": 1, "next_500": 1, "next_drop": 1},
    ],
)
def test_rate_limits_server_errors_and_dropped_connections_are_retried(server, faults):
    for name, value in faults.items():
        setattr(server.faults, name, value)
    delays = []
    backend = backend_for(server, sleep=delays.append, backoff_s=1.0)
    [result] = backend.complete([GenerationRequest("Q: retry me\nA:")])
    failures = sum(faults.values())
    assert result.text and backend.retries == failures and server.requests == failures + 1
    # exponential backoff with jitter: attempt k waits between 2**k / 2 and 2**k seconds
    for k, delay in enumerate(delays):
        assert 2**k / 2 <= delay <= 2**k


def test_retry_after_from_the_server_is_honoured(server):
    server.faults.next_429 = 1
    server.faults.retry_after_s = 7
    delays = []
    backend_for(server, sleep=delays.append, backoff_s=0.01).complete([GenerationRequest("Q: x\nA:")])
    assert delays == [7]


def test_timeouts_are_retried_then_reported_naming_the_endpoint(server):
    server.faults.delay_s = 0.5
    backend = backend_for(server, timeout_s=0.1, max_retries=1)
    with pytest.raises(EndpointError, match=r"completions: gave up after 2 attempts; last problem: timed out"):
        backend.complete([GenerationRequest("Q: slow\nA:")])


def test_attempts_abandoned_on_a_timeout_are_in_the_ledger_as_possibly_billed(server, tmp_path):
    server.faults.next_slow, server.faults.slow_s = 2, 0.6  # served (and billed) after the client gave up
    backend = backend_for(server, timeout_s=0.2, concurrency=1)
    ledger = Ledger(tmp_path / "ledger.jsonl")
    generate(toy_examples(3), backend, ledger=ledger)
    time.sleep(0.8)  # the abandoned requests finish on the server
    totals = ledger.totals()
    assert backend.retries == 2 and totals["possibly_billed_calls"] == 2
    assert server.served == totals["calls"] + totals["possibly_billed_calls"] == 3 * 2 + 2  # every served call counted
    assert Ledger(tmp_path / "ledger.jsonl").totals()["possibly_billed_calls"] == 2  # and so on the next run


def test_retries_run_out_with_a_clear_error(server):
    server.faults.next_500 = 10
    with pytest.raises(EndpointError, match="gave up after 3 attempts; last problem: HTTP 500"):
        backend_for(server, max_retries=2).complete([GenerationRequest("Q: x\nA:")])
    assert server.requests == 3


def test_a_server_error_for_a_model_the_server_does_not_list_is_refused_at_once_naming_the_listed_ones(server):
    server.faults.next_500 = 10  # an unpinned `transformers serve` answers a model it cannot load with a bare 500
    backend = OpenAIBackend(model="no/such-model", base_url=server.base_url, sleep=lambda s: None)
    with pytest.raises(BadRequestError, match=r"HTTP 500.* 'no/such-model', which the server does not list among "
                                              r"its models \('fake', 'fake-teacher'\)"):
        backend.complete([GenerationRequest("Q: x\nA:")])
    assert server.requests == 1 and backend.retries == 0


def test_server_errors_are_retried_as_usual_where_the_server_has_no_model_list():
    with FakeOpenAIServer(Faults(next_500=1), models=None) as unlisted:
        backend = OpenAIBackend(model="no/such-model", base_url=unlisted.base_url, sleep=lambda s: None)
        [result] = backend.complete([GenerationRequest("Q: x\nA:")])
    assert result.text and backend.retries == 1


def test_a_wrong_key_fails_at_once_without_retry_and_without_the_key_in_the_message(server, monkeypatch):
    server.faults.api_key = "sk-the-right-key-000000"
    monkeypatch.setenv("FCOT_TEST_KEY", CANARY)
    backend = backend_for(server, api_key_env="FCOT_TEST_KEY")
    with pytest.raises(AuthError) as caught:
        backend.complete([GenerationRequest("Q: x\nA:")])
    message = str(caught.value)
    assert server.base_url in message and "HTTP 401" in message and "$FCOT_TEST_KEY" in message
    assert CANARY not in message and CANARY not in repr(backend) and CANARY not in json.dumps(vars(backend), default=str)
    assert server.requests == 1


def test_a_missing_key_is_sent_as_no_authorization_and_fails_fast(server, monkeypatch):
    server.faults.api_key = "sk-needed-000000"
    monkeypatch.delenv("FCOT_TEST_KEY", raising=False)
    with pytest.raises(AuthError):
        backend_for(server, api_key_env="FCOT_TEST_KEY").complete([GenerationRequest("Q: x\nA:")])
    assert server.requests == 1


def test_a_server_that_ignores_stop_is_cut_at_the_stop_string_by_fcot():
    import urllib.request

    request = GenerationRequest("Q: What is 1 plus 42 minus 1?\nA: Let's think step by step.", stop=("The answer",))
    with FakeOpenAIServer(Faults(ignore_stop=True)) as loose:
        body = json.dumps({"model": "m", "prompt": request.prompt, "max_tokens": 128, "stop": list(request.stop)})
        raw = urllib.request.urlopen(urllib.request.Request(f"{loose.base_url}/completions", data=body.encode(),
                                                            headers={"Content-Type": "application/json"}))
        assert "The answer" in json.loads(raw.read())["choices"][0]["text"]  # the server returns the text past stop
        loose_text = backend_for(loose).complete([request])[0].text
    with FakeOpenAIServer() as strict:
        strict_text = backend_for(strict).complete([request])[0].text
    assert "The answer" not in loose_text and loose_text == strict_text


def test_a_bad_request_fails_at_once_naming_the_endpoint_and_problem(server):
    backend = backend_for(server, extra_body={"n": 0})
    with pytest.raises(BadRequestError, match=r"HTTP 400 \(bad request\) for model 'fake-teacher': n and max_tokens"):
        backend.complete([GenerationRequest("Q: x\nA:")])
    assert server.requests == 1


@pytest.mark.parametrize("settings, message", [
    ({"style": "legacy"}, r"style must be one of \('completions', 'chat'\)"),
    ({"base_url": "localhost:8000"}, "base_url must be an http"),
    ({"api_key_env": "sk-abc"}, "NAME of an environment variable"),
    ({"concurrency": 0}, "concurrency must be >= 1"),
])
def test_bad_settings_are_refused_naming_what_is_accepted(settings, message):
    settings = {"model": "m", "base_url": "http://127.0.0.1:1/v1", **settings}
    with pytest.raises(ValueError, match=message):
        OpenAIBackend(**settings)


def test_diverse_samples_with_n_are_one_call_per_question(server):
    completions = generate(toy_examples(2), backend_for(server, use_n=True), degree=3)
    stage1 = [entry for entry in server.served_log if entry[0].endswith("step by step.")]
    assert [n for _, _, n in stage1] == [3, 3]
    assert len({c.rationale for c in completions}) == 6


def test_a_server_ignoring_n_is_asked_again_until_every_sample_is_there(server):
    server.faults.ignore_n = True
    completions = generate(toy_examples(2), backend_for(server, use_n=True), degree=3)
    stage1 = [entry for entry in server.served_log if entry[0].endswith("step by step.")]
    assert [n for _, _, n in stage1] == [1, 1, 1, 1, 1, 1]
    assert len(completions) == 6 and len({c.rationale for c in completions}) == 6


def test_per_sample_seeds_give_distinct_samples_one_call_each(server):
    completions = generate(toy_examples(3), backend_for(server), degree=4)
    seeds = [seed for prompt, seed, _ in server.served_log if prompt.endswith("step by step.")]
    assert len(seeds) == 12 and len(set(seeds)) == 12
    assert len({c.rationale for c in completions}) == 12


def test_a_cached_rerun_makes_zero_requests(server, tmp_path):
    generate(toy_examples(5), backend_for(server), degree=2, cache=tmp_path / "calls.jsonl")
    assert server.served == 20
    server.reset_counters()
    again = generate(toy_examples(5), backend_for(server), degree=2, cache=tmp_path / "calls.jsonl")
    assert server.requests == 0 and len(again) == 10


def test_the_api_key_appears_in_no_written_file(server, tmp_path, monkeypatch):
    server.faults.api_key = CANARY
    monkeypatch.setenv("FCOT_TEST_KEY", CANARY)
    run = tmp_path / "run"
    backend = backend_for(server, api_key_env="FCOT_TEST_KEY")
    completions = generate(
        toy_examples(4), backend, degree=2, cache=run / "calls.jsonl", ledger=Ledger(run / "ledger.jsonl")
    )
    save_completions(completions, run / "completions.jsonl")
    assert server.served == 16
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "completions.jsonl" for p in written) and len(written) >= 4
    for path in written:
        assert CANARY.encode() not in path.read_bytes(), path


CLIENT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from fcot.records import Example
    from fcot.teachers import generate, save_completions
    from fcot.teachers.openai_backend import OpenAIBackend

    base_url, cache = sys.argv[1], sys.argv[2]
    examples = [Example("toy", f"t{i}", f"What is {i} plus 42 minus {i}?", "42", "number") for i in range(20)]
    backend = OpenAIBackend(model="fake-teacher", base_url=base_url, api_key_env=None, concurrency=4)
    completions = generate(examples, backend, degree=2, cache=cache)
    save_completions(completions, Path(cache).parent / "completions.jsonl")
    """
)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


def test_a_run_killed_with_sigkill_resumes_losing_no_call_and_repeating_none(server, tmp_path):
    server.faults.delay_s = 0.02
    cache = tmp_path / "calls.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", CLIENT, server.base_url, str(cache)]
    first = subprocess.Popen(command, env=env, cwd=REPO)
    try:
        _wait(lambda: server.served >= 30)
        server.hold()  # new requests wait; then kill when every answered call is on disk
        _wait(lambda: server.held >= 1 and server.in_flight == server.held and _lines(cache) == server.served)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    killed_at = server.served
    assert 30 <= killed_at < 80
    server.release(drop=True)  # the calls in flight at the kill never got an answer
    second = subprocess.run(command, env=env, cwd=REPO, timeout=60)
    assert second.returncode == 0
    unique_calls = 20 * 2 * 2  # questions x degree x stages
    assert server.served == unique_calls
    assert len({(prompt, seed) for prompt, seed, _ in server.served_log}) == unique_calls
    assert _lines(cache) == unique_calls
    completions = read_records(Completion, tmp_path / "completions.jsonl")
    assert len(completions) == 40 and all(c.correct for c in completions)


def test_the_server_can_be_backed_by_a_teacher_backend():
    from fcot.teachers.replay import ReplayBackend

    recorded = Completion("toy", "t0", 0, "What is 1 plus 1?", " One and one make two.", " 2.", "2", "2", True)
    with FakeOpenAIServer(backend=ReplayBackend(completions=[recorded])) as backed:
        [completion] = generate([Example("toy", "t0", "What is 1 plus 1?", "2", "number")], backend_for(backed))
    assert completion.rationale == " One and one make two." and completion.answer_completion == " 2."
    assert completion.correct and completion.source == "openai:fake-teacher"


def test_the_openai_backend_through_a_server_backed_by_the_simulated_teacher_gives_its_answers():
    from fcot.teachers import make_backend, summarize

    examples = [
        Example("coin_flip", f"c{i}", f"A coin is heads up. {a} flips the coin. {b} does not flip the coin. "
                "Is the coin still heads up? Note that \"flip\" here means \"reverse\".", "no", "yes_no")
        for i, (a, b) in enumerate([("Ann", "Bob"), ("Cid", "Dee"), ("Eve", "Fay")])
    ]
    simulated = make_backend("simulated", accuracy=1.0, seed=0)
    direct = generate(examples, simulated, degree=2)
    with FakeOpenAIServer(backend=simulated) as backed:
        served = generate(examples, backend_for(backed), degree=2)
    assert [c.rationale for c in served] == [c.rationale for c in direct]
    assert summarize(served)["teacher_accuracy"] == 1.0
    assert summarize(served)["distinct_per_question_mean"] == 2


# -- answers of the wrong shape, the overall deadline, redirects (issue 31) ------------------------------------------
def _mangled(**changes):
    """A ``Faults.mangle`` that overrides top-level fields, or ``usage``/``choices[0]`` ones (``usage__x=...``)."""
    def mangle(payload: dict) -> dict:
        for name, value in changes.items():
            part, _, field = name.partition("__")
            if not field:
                payload[part] = value
            elif part == "usage":
                payload["usage"][field] = value
            else:
                payload["choices"][0][field] = value
        return payload
    return mangle


@pytest.mark.parametrize("changes, names", [
    ({"choices": ["yes"]}, r"choices\[0\] is a string 'yes'"),
    ({"choices": "yes"}, r"no 'choices' list \(got a string"),
    ({"choices": [{"index": "0", "text": "x", "finish_reason": "stop"}]}, r"choices\[0\]\.index is a string"),
    ({"usage__prompt_tokens": "30"}, r"usage\.prompt_tokens is a string '30'; expected an integer >= 0"),
    ({"usage__completion_tokens": -30}, r"usage\.completion_tokens is an integer -30"),
    ({"usage__prompt_tokens": 2.5}, r"usage\.prompt_tokens is a number 2\.5"),
    ({"usage__prompt_tokens": True}, r"usage\.prompt_tokens is a boolean"),
    ({"usage": [1, 2]}, r"'usage' is a list"),
    ({"choice__finish_reason": "banana"}, r"choices\[0\]\.finish_reason is a string 'banana', which fcot does not"),
    ({"choice__finish_reason": 7}, r"choices\[0\]\.finish_reason is an integer 7"),
    ({"choice__text": None}, r"a choice has no string text"),
])
def test_an_answer_of_the_wrong_shape_is_an_error_naming_the_response_and_field(server, changes, names):
    server.faults.mangle = _mangled(**changes)
    with pytest.raises(EndpointError, match=r"completions: response 'fake-1'.*" + names):
        backend_for(server, max_retries=0).complete([GenerationRequest("Q: hi\nA:")])


def test_a_chat_message_that_is_not_an_object_is_named(server):
    server.faults.mangle = _mangled(choice__message="hello")
    with pytest.raises(EndpointError, match=r"chat/completions: response 'fake-1': a choice has no string message"):
        backend_for(server, style="chat", max_retries=0).complete([GenerationRequest("Q: hi\nA:")])


def test_negative_usage_is_never_entered_in_the_ledger(server, tmp_path):
    server.faults.mangle = _mangled(usage__prompt_tokens=-30)
    ledger = Ledger(tmp_path / "ledger.jsonl", prices={"fake-teacher": (1.0, 1.0)}, budget_usd=1.0)
    with pytest.raises(EndpointError, match=r"usage\.prompt_tokens is an integer -30"):
        generate(toy_examples(1), backend_for(server, max_retries=0), ledger=ledger)
    assert ledger.calls == 0 and ledger.possibly_billed[0] == 1  # the call stays possibly billed, at its worst case


def test_a_server_dripping_its_answer_is_given_up_on_at_the_overall_deadline(server):
    server.faults.drip_s = 0.5  # one byte per 0.5 s: every single read is quick, the answer never ends
    backend = backend_for(server, timeout_s=2, max_retries=0)
    started = time.monotonic()
    with pytest.raises(EndpointError, match=r"timed out: no whole response within timeout_s=2s"):
        backend.complete([GenerationRequest("Q: hi\nA:")])
    assert 1.5 < time.monotonic() - started < 4.0


def test_the_deadline_holds_for_every_attempt_and_a_fast_answer_is_untouched(server):
    server.faults.drip_s = 0.3
    backend = backend_for(server, timeout_s=1, max_retries=2)
    started = time.monotonic()
    with pytest.raises(EndpointError, match=r"gave up after 3 attempts; last problem: timed out"):
        backend.complete([GenerationRequest("Q: hi\nA:")])
    assert time.monotonic() - started < 5.0
    server.faults.drip_s = 0.0
    assert backend.complete([GenerationRequest("Q: hi\nA:")])[0].text


def test_a_redirect_to_a_closed_port_names_the_redirect_target(server):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    server.faults.redirect_to = f"http://127.0.0.1:{closed}/v1/completions"
    with pytest.raises(EndpointError, match=rf"at http://127\.0\.0\.1:{closed}/v1/completions \(where "
                                            rf"{server.base_url}/completions redirected\)"):
        backend_for(server, max_retries=0).complete([GenerationRequest("Q: hi\nA:")])
