"""A real OpenAI-compatible HTTP server on 127.0.0.1, with fault injection, for tests and benchmarks.

It speaks ``POST /v1/completions`` and ``POST /v1/chat/completions`` (``model``, ``prompt`` or
``messages``, ``max_tokens``, ``temperature``, ``n``, ``seed``, ``stop``) and answers with
``choices`` (``text`` / ``message``, ``index``, ``finish_reason``) and ``usage``. The text comes
from a teacher **backend** (e.g. the simulated teacher: choice ``i`` is sampled with
``seed + i``) or, by default, from :func:`echo_responder` -- a trivial deterministic rule.
Tokens are counted as whitespace-separated words.

Faults (:class:`Faults`, changeable while the server runs): the next N requests (or a random
share) answered 429, 500 or dropped (connection closed without a response); a fixed and a random
extra delay; ``ignore_n`` (one choice whatever ``n`` asks); a required API key (401 otherwise); ``drip_s`` (the
body written one byte at a time, ``drip_s`` apart: a server that never quite stops answering); ``redirect_to``
(every POST answered ``302`` to that URL); ``mangle`` (a function that rewrites each 200 body: wrong types,
odd fields).
``hold()`` makes new requests wait (counted in ``held``) until ``release()``; ``release(drop=True)``
closes them unanswered -- tests use it to kill a client at a moment when nothing is half-stored.

Counters: ``requests`` (POSTs received), ``served`` (200 responses written), ``status_counts``,
``peak_in_flight`` (most requests handled at once), ``served_log`` (prompt, seed, n of each 200).

    with FakeOpenAIServer(faults=Faults(delay_s=0.2)) as server:
        backend = OpenAIBackend(model="fake", base_url=server.base_url)
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from fcot.prompts import ANSWER_TRIGGER
from fcot.teachers.base import GenerationRequest

#: (prompt, temperature, seed) -> completion text
Responder = Callable[[str, float, "int | None"], str]


def echo_responder(prompt: str, temperature: float, seed: int | None) -> str:
    """A trivial rule: stage-2 prompts get `` 42.``; others a short text that names the seed when sampling.

    Greedy requests (temperature 0) get the same text whatever the seed, as a real server would.
    """
    if prompt.rstrip().endswith(ANSWER_TRIGGER):
        return " 42."
    digest = hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:6]
    if temperature > 0:
        tag = seed if seed is not None else random.randrange(1 << 30)
        return f" First, read question {digest}. Sample {tag} reasons about it. The answer is 42."
    return f" First, read question {digest}. Then reason about it. The answer is 42."


@dataclass
class Faults:
    """What goes wrong, and when. Counts (``next_*``) are consumed one request at a time."""

    next_429: int = 0
    next_500: int = 0
    next_drop: int = 0
    p_429: float = 0.0
    p_500: float = 0.0
    p_drop: float = 0.0
    delay_s: float = 0.0
    random_delay_s: float = 0.0
    next_slow: int = 0  # the next requests wait slow_s before they are served (a client timing out still gets billed)
    slow_s: float = 0.0
    ignore_n: bool = False
    ignore_stop: bool = False  # like `transformers serve`: `stop` is accepted but not applied to the returned text
    api_key: str | None = None
    retry_after_s: float | None = None
    drip_s: float = 0.0  # > 0: the body goes out one byte per drip_s seconds
    redirect_to: str | None = None  # every POST is answered 302 with this Location
    mangle: Callable[[dict], dict] | None = None  # rewrites each 200 body before it is sent


class FakeOpenAIServer:
    """A ThreadingHTTPServer in a daemon thread on an ephemeral 127.0.0.1 port (see module docstring)."""

    def __init__(
        self,
        faults: Faults | None = None,
        backend=None,
        responder: Responder | None = None,
        seed: int = 0,
        port: int = 0,
        models: tuple[str, ...] | None = ("fake", "fake-teacher"),
    ) -> None:
        self.faults = faults or Faults()
        self.models = models  # what GET /models lists; None: no model list (a 404, as some servers answer)
        self.backend = backend
        self.responder = responder or echo_responder
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._gate = threading.Event()
        self._gate.set()
        self._drop_held = False
        self.requests = 0
        self.served = 0
        self.held = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.status_counts: dict[int, int] = {}
        self.served_log: list[tuple[str, int | None, int]] = []
        self._httpd = _Server(("127.0.0.1", port), _handler_for(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "FakeOpenAIServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release(drop=True)
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def hold(self) -> None:
        """New requests wait (counted in ``held``) until :meth:`release`."""
        self._drop_held = False
        self._gate.clear()

    def release(self, drop: bool = False) -> None:
        """Let held requests go on; ``drop=True`` closes them without an answer."""
        self._drop_held = drop
        self._gate.set()

    def reset_counters(self) -> None:
        with self._lock:
            self.requests = self.served = 0
            self.status_counts.clear()
            self.served_log.clear()
            self.peak_in_flight = 0

    # -- request handling -------------------------------------------------------------------------
    def _take(self, name: str, probability: float) -> bool:
        with self._lock:
            count = getattr(self.faults, name)
            if count > 0:
                setattr(self.faults, name, count - 1)
                return True
            return probability > 0 and self._rng.random() < probability

    def _texts(self, prompt: str, temperature: float, seed: int | None, n: int) -> list[str]:
        seeds = [None if seed is None else seed + i for i in range(n)]
        if self.backend is not None:
            return [
                r.text
                for r in self.backend.complete(
                    [GenerationRequest(prompt, max_tokens=10_000, temperature=temperature, seed=s) for s in seeds]
                )
            ]
        return [self.responder(prompt, temperature, s) for s in seeds]

    def handle(self, path: str, headers, body: bytes) -> tuple[int, dict | None, dict]:
        """(status, JSON body or None to drop the connection, extra headers)."""
        with self._lock:
            self.requests += 1
        faulted = self._fault(headers)
        if faulted is not None:
            return faulted
        chat = path.rstrip("/").endswith("/chat/completions")
        if not (chat or path.rstrip("/").endswith("/completions")):
            return 404, _error(f"Unknown path {path}", "not_found"), {}
        try:
            request = _parse_request(body, chat)
        except (ValueError, KeyError, TypeError, IndexError) as error:
            return 400, _error(f"Invalid request: {error}", "invalid_request_error"), {}
        if request["n"] < 1 or request["max_tokens"] < 1:
            return 400, _error("n and max_tokens must be >= 1", "invalid_request_error"), {}
        return 200, self._completion(request, chat), {}

    def _fault(self, headers) -> tuple[int, dict | None, dict] | None:
        """The injected fault's response to this request (held, delayed, refused, dropped, redirected), or None."""
        faults = self.faults
        if not self._gate.is_set():
            with self._lock:
                self.held += 1
            self._gate.wait()
            with self._lock:
                self.held -= 1
            if self._drop_held:
                return 0, None, {}
        if faults.delay_s or faults.random_delay_s:
            time.sleep(faults.delay_s + (self._rng.random() * faults.random_delay_s if faults.random_delay_s else 0))
        if faults.slow_s and self._take("next_slow", 0.0):
            time.sleep(faults.slow_s)
        if faults.api_key is not None:
            if headers.get("Authorization", "") != f"Bearer {faults.api_key}":
                return 401, _error("Incorrect API key provided.", "invalid_api_key"), {}
        if self._take("next_drop", faults.p_drop):
            return 0, None, {}
        if faults.redirect_to is not None:
            return 302, {}, {"Location": faults.redirect_to}
        if self._take("next_429", faults.p_429):
            extra = {"Retry-After": str(faults.retry_after_s)} if faults.retry_after_s is not None else {}
            return 429, _error("Rate limit reached, slow down.", "rate_limit_exceeded"), extra
        if self._take("next_500", faults.p_500):
            return 500, _error("The server had an error.", "server_error"), {}
        return None

    def _completion(self, request: dict, chat: bool) -> dict:
        """The completion (or chat completion) object answering a parsed request."""
        faults = self.faults
        prompt, max_tokens = request["prompt"], request["max_tokens"]
        n = 1 if faults.ignore_n else request["n"]
        texts = self._texts(prompt, request["temperature"], request["seed"], n)
        choices, completion_tokens = _choices(texts, [] if faults.ignore_stop else request["stop"], max_tokens, chat)
        prompt_tokens = len(prompt.split())
        with self._lock:
            self.served += 1
            self.served_log.append((prompt, request["seed"], n))
        mangle = faults.mangle or (lambda payload: payload)
        return mangle({
            "id": f"fake-{self.served}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": request["model"],
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        })


def _parse_request(body: bytes, chat: bool) -> dict:
    """The fields of a completions (or chat completions) request body that the fake server reads."""
    data = json.loads(body)
    prompt = data["messages"][-1]["content"] if chat else data["prompt"]
    if not isinstance(prompt, str):
        raise TypeError("prompt must be a string")
    stop = data.get("stop") or []
    return {"model": data["model"], "prompt": prompt, "max_tokens": int(data.get("max_tokens", 16)),
            "temperature": float(data.get("temperature", 1.0)), "n": int(data.get("n", 1)), "seed": data.get("seed"),
            "stop": [stop] if isinstance(stop, str) else list(stop)}


def _choices(texts: list[str], stop: list[str], max_tokens: int, chat: bool) -> tuple[list[dict], int]:
    """The response's choices (each text cut at a stop string, then at ``max_tokens`` words) and their tokens."""
    choices, completion_tokens = [], 0
    for i, text in enumerate(texts):
        finish = "stop"
        for s in stop:
            cut = text.find(s)
            if cut != -1:
                text = text[:cut]
        words = text.split()
        if len(words) > max_tokens:
            text = " " + " ".join(words[:max_tokens])
            finish = "length"
        completion_tokens += min(len(words), max_tokens)
        if chat:
            choices.append({"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish})
        else:
            choices.append({"index": i, "text": text, "finish_reason": finish, "logprobs": None})
    return choices, completion_tokens

def _error(message: str, code: str) -> dict:
    return {"error": {"message": message, "type": code, "code": code}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def _handler_for(state: FakeOpenAIServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format, *args):  # quiet
            pass

        def do_POST(self):  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with state._lock:
                state.in_flight += 1
                state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
            try:
                status, payload, extra = state.handle(self.path, self.headers, body)
            finally:
                with state._lock:
                    state.in_flight -= 1
            with state._lock:
                state.status_counts[status] = state.status_counts.get(status, 0) + 1
            if payload is None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            data = json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self._write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _write(self, data: bytes) -> None:
            """The body at once, or one byte per ``drip_s`` (for at most 10 minutes: the loop is bounded)."""
            drip = state.faults.drip_s
            if drip <= 0:
                self.wfile.write(data)
                return
            for byte in data[: max(1, int(600 / drip))]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(drip)

        def do_GET(self):  # noqa: N802
            if self.path.rstrip("/").endswith("/models") and state.models is not None:
                listed = [{"id": name, "object": "model"} for name in state.models]
                data = json.dumps({"object": "list", "data": listed}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self._write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            else:
                self.send_error(404)

    return Handler


def main(argv: list[str] | None = None) -> int:
    """``python -m fcot.testing.server --port 8000 --delay 0.2``: serve until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="fixed delay per request, seconds")
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(faults=Faults(delay_s=args.delay), port=args.port).start()
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
