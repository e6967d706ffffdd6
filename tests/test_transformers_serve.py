"""fcot's openai backend against a real third-party OpenAI-compatible server: `transformers serve` (transformers'
own server, the `serving` extra) serving a tiny model built and saved here. Measured with it: the model must be the
served path (others are a 400), `n` is ignored, `stop` is not applied to the returned text, an unpinned server answers
a model it cannot load with a bare 500, and `max_tokens: 0` is a 500."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from fcot import stages, students, study, teachers  # noqa: E402
from fcot.records import Example  # noqa: E402
from fcot.teachers.base import GenerationRequest  # noqa: E402
from fcot.teachers.openai_backend import BadRequestError, OpenAIBackend  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:no price for model"),
              pytest.mark.filterwarnings("ignore:.*empty rationale")]
TEXT = "Q: What is 1 plus 1?\nA: Let's think step by step. One plus one is two. Therefore, the answer is 2."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(model: str | None):
    """``transformers serve`` on a free port: pinned to ``model`` (a local path), or unpinned (None); yields the base
    URL and stops the server."""
    port = _free_port()
    command = [str(Path(sys.executable).with_name("transformers")), "serve", *([model] if model else []),
               "--port", str(port)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail("transformers serve exited at start")
                time.sleep(0.5)
        else:
            pytest.fail("transformers serve did not answer /health within 60 s")
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    model, tokenizer = students.load_student("tiny-gpt2-xs", texts=[TEXT] * 20)
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    path = students.save_student(model, tokenizer, folder / "tiny")
    for base_url in _serve(str(path)):
        yield base_url, str(path)


@pytest.mark.parametrize("style", ["completions", "chat"])
def test_the_openai_backend_completes_through_transformers_serve(served, style):
    base_url, model = served
    backend = OpenAIBackend(model=model, base_url=base_url, style=style, api_key_env="FCOT_NO_SUCH_KEY", max_retries=0)
    result = backend.complete([GenerationRequest("Q: What is 1 plus 1?\nA:", max_tokens=6)])[0]
    assert isinstance(result.text, str) and result.finish_reason in ("length", "stop")
    assert result.prompt_tokens > 0 and 0 < result.completion_tokens <= 6


def test_a_model_the_server_does_not_serve_is_a_bad_request_naming_the_endpoint(served):
    base_url, _ = served
    backend = OpenAIBackend(model="some/other-model", base_url=base_url, api_key_env="FCOT_NO_SUCH_KEY", max_retries=0)
    with pytest.raises(BadRequestError, match=r"/v1/completions: HTTP 4\d\d \(bad request\) for model 'some/other-model'"):
        backend.complete([GenerationRequest("Q: x\nA:", max_tokens=4)])


def test_the_teacher_driver_runs_both_stages_through_transformers_serve_and_asks_again_for_n(served):
    base_url, model = served
    backend = OpenAIBackend(model=model, base_url=base_url, api_key_env="FCOT_NO_SUCH_KEY", use_n=True, max_retries=0)
    examples = [Example("toy", f"t{i}", f"What is {i} plus 1?", str(i + 1), "number") for i in range(2)]
    with pytest.warns(UserWarning, match="sampled rationales are identical"):  # it samples greedily whatever the
        completions = teachers.generate(examples, backend, degree=2, temperature=0.7, max_tokens=8,  # temperature
                                        answer_max_tokens=4)
    assert len(completions) == 4 and {c.sample_index for c in completions} == {0, 1}
    assert all(c.source == f"openai:{model}" and c.prompt_tokens for c in completions)


def test_an_unknown_model_on_an_unpinned_server_is_refused_at_once_not_retried_for_half_a_minute():
    for base_url in _serve(None):  # it loads models on demand and answers one it cannot load with a bare 500
        backend = OpenAIBackend(model="some/other-model", base_url=base_url, api_key_env="FCOT_NO_SUCH_KEY")
        started = time.monotonic()
        with pytest.raises(BadRequestError, match=r"HTTP 500.*'some/other-model', which the server does not list"):
            backend.complete([GenerationRequest("Q: x\nA:", max_tokens=4)])
        assert backend.retries == 0 and time.monotonic() - started < 10


def test_max_tokens_zero_which_the_server_answers_with_a_500_is_refused_before_any_call(served):
    with pytest.raises(ValueError, match="max_tokens must be >= 1"):
        GenerationRequest("Q: x\nA:", max_tokens=0)
    with pytest.raises(ValueError, match=r"TeachConfig.max_tokens: must be an integer >= 1, got 0"):
        stages.TeachConfig(backend="openai", model=served[1], max_tokens=0)


def test_notebook_10_generates_rationales_through_transformers_serve(served, tmp_path, monkeypatch):
    base_url, model = served
    profile = tmp_path / "served.yaml"
    profile.write_text(
        "description: notebook 10 against transformers serve (test)\n"
        "steps:\n"
        "  - notebook: 10_generate_teacher_rationales\n"
        f"    parameters: {{task: coin_flip, n_train: 3, n_val: 2, n_test: 2, backend: openai, model: '{model}',\n"
        f"                 base_url: '{base_url}', api_key_env: FCOT_NO_SUCH_KEY, style: chat, concurrency: 2,\n"
        "                 max_tokens: 8, name: served}\n"
    )
    results = Path(os.environ["FCOT_RESULTS_DIR"])
    study.run_study(str(profile), results_root=results, log=lambda line: None)
    executed = nbformat.read(results / "served" / "notebooks" / "10_generate_teacher_rationales.ipynb", as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    monkeypatch.setenv("FCOT_PROFILE", "served")
    run = stages.find("teacher", "served")
    completions = stages.completions_of(run)
    assert len(completions) == 3 + 2 and all(c.source == f"openai:{model}" for c in completions)  # train + val
    metrics = run.metrics  # every call the server answered is in the ledger, none left unsettled
    assert metrics["ledger_calls"] == 2 * (3 + 2) and metrics["ledger_possibly_billed_calls"] == 0
