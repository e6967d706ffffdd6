"""fcot's openai backend against a real third-party OpenAI-compatible server: `transformers serve` (transformers'
own server, the `serving` extra) serving a tiny model built and saved here. Measured with it: the model must be the
served path (others are a 400), `n` is ignored, `stop` is not applied to the returned text."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from fcot import students, teachers  # noqa: E402
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


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    model, tokenizer = students.load_student("tiny-gpt2-xs", texts=[TEXT] * 20)
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    path = students.save_student(model, tokenizer, folder / "tiny")
    port = _free_port()
    command = [str(Path(sys.executable).with_name("transformers")), "serve", str(path), "--port", str(port)]
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
        yield base_url, str(path)
    finally:
        server.terminate()
        server.wait(timeout=30)


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
