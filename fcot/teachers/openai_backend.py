"""The ``openai`` backend: any OpenAI-compatible HTTP endpoint (OpenAI, vLLM, llama.cpp server,
Ollama, TGI's messages API, ...).

It speaks ``POST {base_url}/completions`` (``style="completions"``, the paper's text-davinci-002
way) or ``POST {base_url}/chat/completions`` (``style="chat"``: the prompt is sent as one user
message) through the ``openai`` package's client (``openai.OpenAI`` with ``base_url``, ``timeout`` and
``max_retries=0``: the client does the HTTP, fcot keeps the retry policy, so it stays the same for every server and
testable without waiting):

* **retried** with exponential backoff and jitter (``backoff_s * 2**attempt``, capped at
  ``max_backoff_s``, half of it random; a server's ``Retry-After`` is honoured): HTTP 408, 409,
  429 and 5xx, timeouts, refused/reset/dropped connections, truncated or non-JSON bodies;
* **not retried** (an immediate :class:`AuthError` / :class:`BadRequestError` naming the
  endpoint and the server's message): 401/403 and 400/404/422 -- retrying cannot fix them; and a 5xx for a
  model the server's ``GET /models`` does not list (servers that load models on demand answer an unknown one
  with a bare 500), named with the models it does list.

**Deadline.** ``timeout_s`` bounds each attempt as a whole -- connecting, sending, and reading the headers and
the whole body -- not only each read (a server that drips its answer a byte at a time is given up on after
``timeout_s``, then retried as a timeout). The same holds for ``GET /models``.

**Answers are checked** before anything is stored or entered in the ledger: ``choices`` must be a list of objects
with a string text, ``finish_reason`` one of :data:`FINISH_REASONS` (or null), and ``usage`` token counts integers
>= 0 (or absent). Anything else is an :class:`EndpointError` naming the endpoint, the response id and the field --
a count that cannot be a count would otherwise lower the spend the budget is held against.

An attempt given up on after it went out (a timeout, a dropped connection, a cut body) may still be done and
billed by the server; a result says how many its call had (``extra["abandoned_attempts"]``), and the driver's
ledger counts them as possibly billed.

The API key is read from the environment variable *named* by ``api_key_env`` at each call and
is never stored on the object, in a record, a cache, the ledger or an error message (messages are
scrubbed of it). If that variable is unset, requests go without an ``Authorization`` header (fine
for local servers; api.openai.com fails fast with an error naming the variable).

``use_n=True`` sends the requests of one chunk that differ only in their seed (the D samples of
one question) as one call with ``n`` (prompt tokens billed once); servers that ignore ``n`` are
detected by counting choices and asked again for the rest. Token usage of such a call is split
over its results: the prompt tokens go to the first, completion tokens are shared out evenly, so
sums stay exact. Default ``use_n=False``: one call per sample, each with its own ``seed``.
"""

from __future__ import annotations

import json
import os
import random
import re
import contextlib
import socket
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

from fcot.records import is_count
from fcot.teachers.base import GenerationRequest, GenerationResult

STYLES = ("completions", "chat")
RETRY_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))
AUTH_STATUS = frozenset({401, 403})
BAD_REQUEST_STATUS = frozenset({400, 404, 405, 413, 415, 422})
#: finish reasons fcot understands: ``length`` is a cut answer; the others end it (null: the server does not say)
FINISH_REASONS = ("stop", "length", "content_filter", "tool_calls", "function_call", "eos", "eos_token")
_KEY_PATTERN = re.compile(r"(sk-|Bearer\s+)[A-Za-z0-9_\-\*\.]{4,}")


class EndpointError(RuntimeError):
    """The endpoint failed in a way retrying cannot fix (or retries ran out)."""


class AuthError(EndpointError):
    """401/403: the key is missing, wrong or lacks access."""


class BadRequestError(EndpointError):
    """400/404/422: the request (model name, parameters, URL) is wrong."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None,
                 maybe_billed: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.maybe_billed = maybe_billed  # the server may have done (and billed) the work: a timeout, a cut body


class OpenAIBackend:
    """Completes prompts through an OpenAI-compatible endpoint (see the module docstring).

    ``concurrency`` requests are in flight at once (a thread pool; the generation driver uses the
    same number for its own pool). ``sleep`` is injectable so tests need not wait for backoff.
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = "https://api.openai.com/v1",
        style: str = "completions",
        api_key_env: str | None = "OPENAI_API_KEY",
        concurrency: int = 8,
        use_n: bool = False,
        max_retries: int = 6,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        timeout_s: float = 120.0,
        extra_body: dict | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {style!r}")
        if not model:
            raise ValueError("model must be a non-empty model name as the endpoint knows it")
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {base_url!r}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_retries < 0 or backoff_s < 0 or max_backoff_s < 0 or timeout_s <= 0:
            raise ValueError("max_retries, backoff_s, max_backoff_s must be >= 0 and timeout_s > 0")
        if api_key_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", api_key_env):
            raise ValueError(
                f"api_key_env is the NAME of an environment variable (e.g. OPENAI_API_KEY), got {api_key_env!r}"
            )
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.style = style
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.use_n = use_n
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s
        self.extra_body = dict(extra_body or {})
        self._sleep = sleep
        self._rng = random.Random()
        self.calls = 0  # HTTP attempts made (including retried ones)
        self.retries = 0
        self._count_lock = threading.Lock()
        self._client = None  # the openai client, made at the first call; it never holds the key (sent per request)
        self._served: list[str] | None | bool = False  # the server's model list (GET /models), read once; None: none

    # -- identity for caches and records ----------------------------------------------------
    @property
    def variant(self) -> str:
        return self.style

    @property
    def batch_size(self) -> int:
        return 1

    @property
    def groups_samples(self) -> bool:
        return self.use_n

    @property
    def url(self) -> str:
        return f"{self.base_url}/{'chat/completions' if self.style == 'chat' else 'completions'}"

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r}, style={self.style!r})"

    # -- public -----------------------------------------------------------------------------
    def complete(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        requests = list(requests)
        if not requests:
            return []
        if self.use_n and len(requests) > 1 and _same_but_seed(requests):
            return self._complete_group(requests)
        if len(requests) == 1 or self.concurrency == 1:
            return [self._complete_group([r])[0] for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(lambda r: self._complete_group([r])[0], requests))

    # -- internals --------------------------------------------------------------------------
    def _complete_group(self, requests: list[GenerationRequest]) -> list[GenerationResult]:
        """One call with n=len(requests) (or n=1); loop while the server returns too few choices."""
        results: list[GenerationResult] = []
        abandoned = 0
        while len(results) < len(requests):
            remaining = requests[len(results) :]
            body = self._body(remaining[0], len(remaining))
            data, given_up = self._post(body)
            abandoned += given_up
            where = self._where(data)
            choices = self._choices(data, where)[: len(remaining)]
            prompt_tokens, completion_tokens = self._usage(data, where)
            shares = _split(completion_tokens, len(choices))
            for i, choice in enumerate(choices):
                results.append(
                    GenerationResult(
                        text=_cut_at_stop(self._text(choice, where), remaining[0].stop),
                        finish_reason=choice.get("finish_reason"),
                        prompt_tokens=(prompt_tokens if i == 0 else 0) if prompt_tokens is not None else None,
                        completion_tokens=shares[i],
                    )
                )
        if abandoned:  # the ledger counts them as possibly billed (see fcot.teachers.ledger)
            results[0].extra["abandoned_attempts"] = abandoned
        return results

    def _body(self, request: GenerationRequest, n: int) -> dict:
        body: dict = {"model": self.model, "max_tokens": request.max_tokens, "temperature": request.temperature}
        if self.style == "chat":
            body["messages"] = [{"role": "user", "content": request.prompt}]
        else:
            body["prompt"] = request.prompt
        if n != 1:
            body["n"] = n
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = list(request.stop)
        body.update(self.extra_body)
        return body

    def _where(self, data: dict) -> str:
        """How errors name one response: the endpoint and the response's id."""
        answer_id = data.get("id")
        return f"{self.url}: response {answer_id!r}" if isinstance(answer_id, str) else f"{self.url}: the response"

    def _choices(self, data: dict, where: str) -> list[dict]:
        """The response's choices in index order, each an object with a known finish_reason."""
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices:
            raise EndpointError(f"{where} has no 'choices' list (got {_shown(choices)}; keys {sorted(data)})")
        for i, choice in enumerate(choices):
            if not isinstance(choice, dict):
                raise EndpointError(f"{where}: choices[{i}] is {_shown(choice)}; expected an object with "
                                    f"{'message.content' if self.style == 'chat' else 'text'} and finish_reason")
            if "index" in choice and not is_count(choice["index"]):
                raise EndpointError(f"{where}: choices[{i}].index is {_shown(choice['index'])}; "
                                    "expected an integer >= 0")
            reason = choice.get("finish_reason")
            if reason is not None and reason not in FINISH_REASONS:
                raise EndpointError(f"{where}: choices[{i}].finish_reason is {_shown(reason)}, which fcot does not "
                                    f"know (accepted: {', '.join(FINISH_REASONS)} or null); it could not tell a "
                                    "whole answer from a cut one")
        return sorted(choices, key=lambda c: c.get("index", 0))

    def _usage(self, data: dict, where: str) -> tuple[int | None, int | None]:
        """(prompt_tokens, completion_tokens) of ``usage``: integers >= 0, None where the server does not say."""
        usage = data.get("usage")
        if usage is None:
            return None, None
        if not isinstance(usage, dict):
            raise EndpointError(f"{where}: 'usage' is {_shown(usage)}; expected an object with integer token counts")
        counts = []
        for name in ("prompt_tokens", "completion_tokens"):
            value = usage.get(name)
            if value is not None and not is_count(value):
                raise EndpointError(f"{where}: usage.{name} is {_shown(value)}; expected an integer >= 0 (or absent): "
                                    "a count that is not one is never entered in the ledger")
            counts.append(value)
        return counts[0], counts[1]

    def _text(self, choice: dict, where: str) -> str:
        if self.style == "chat":
            message = choice.get("message")
            text = message.get("content") if isinstance(message, dict) else None
        else:
            text = choice.get("text")
        if not isinstance(text, str):
            field = "message.content" if self.style == "chat" else "text"
            raise EndpointError(f"{where}: a choice has no string {field} (got {_shown(choice)})")
        return text

    def _redirected(self, error: Exception) -> str:
        """`` at <url> (where <self.url> redirected)`` when the failed request was not the one sent to the endpoint
        (the server answered a redirect), else ``""``: the message names the address that failed."""
        request = None
        for cause in (error.__cause__, error):  # httpx's error holds the request that failed; openai's, the first
            with contextlib.suppress(Exception):  # httpx raises RuntimeError for a request it never set
                request = request or getattr(cause, "request", None)
        failed = str(getattr(request, "url", "") or "")
        if not failed or failed.rstrip("/") == self.url.rstrip("/"):
            return ""
        return f" at {failed} (where {self.url} redirected)"

    def _key(self) -> str | None:
        if self.api_key_env is None:
            return None
        return os.environ.get(self.api_key_env) or None

    def _scrub(self, message: str) -> str:
        key = self._key()
        if key:
            message = message.replace(key, "***")
        return _KEY_PATTERN.sub(lambda m: m.group(1) + "***", message)

    def _post(self, body: dict) -> tuple[dict, int]:
        """The response of one call, retried per the policy, and how many of its attempts were abandoned after the
        request went out (timeouts, dropped connections, cut bodies: possibly billed)."""
        key = self._key()
        if key is None and urllib.parse.urlparse(self.base_url).hostname == "api.openai.com":
            raise AuthError(
                f"{self.url}: no API key: set the environment variable {self.api_key_env or 'OPENAI_API_KEY'} "
                "(and pass its name as api_key_env)"
            )
        attempt = 0
        abandoned = 0  # attempts given up on that the server may still have done and billed
        while True:
            with self._count_lock:
                self.calls += 1
            try:
                return self._attempt(body, key), abandoned
            except _Retryable as problem:
                abandoned += problem.maybe_billed
                if attempt == 0 and problem.status is not None and problem.status >= 500:
                    self._refuse_an_unserved_model(problem, key)
                if attempt >= self.max_retries:
                    raise EndpointError(  # its calls stay unsettled in the ledger: all possibly billed
                        self._scrub(f"{self.url}: gave up after {attempt + 1} attempts; last problem: {problem}")
                    ) from None
                delay = min(self.max_backoff_s, self.backoff_s * (2**attempt))
                delay = delay / 2 + self._rng.uniform(0, delay / 2)
                if problem.retry_after is not None:
                    delay = max(delay, min(problem.retry_after, self.max_backoff_s))
                attempt += 1
                with self._count_lock:
                    self.retries += 1
                self._sleep(delay)

    def _refuse_an_unserved_model(self, problem: _Retryable, key: str | None) -> None:
        """A 5xx for a model the server does not list is not retried: servers that load models on demand answer
        a model they cannot load with a bare 500 (measured: an unpinned ``transformers serve``), and retrying it
        only waits. A server without a model list, or one that lists the model, is retried as usual."""
        served = self._served_models(key)
        if served is not None and self.model not in served:
            raise BadRequestError(self._scrub(
                f"{self.url}: {problem} for model {self.model!r}, which the server does not list among its models "
                f"({', '.join(map(repr, served[:10])) or 'it lists none'}); check the model name (a server that "
                "loads models on demand could not load this one)"
            )) from None

    def _served_models(self, key: str | None) -> list[str] | None:
        """The model ids ``GET {base_url}/models`` lists, read once per backend; None where the server has no list."""
        with self._count_lock:
            if self._served is not False:
                return self._served
        import openai

        headers = {"Authorization": f"Bearer {key}" if key else openai.Omit()}
        served = None
        for _ in range(2):  # a server may reset the kept-alive connection its 500 came on (measured: uvicorn)
            try:
                with deadline(self.timeout_s):
                    served = [model.id for model in self._openai().models.list(extra_headers=headers).data]
                break
            except openai.APIConnectionError:
                continue
            except Exception:  # no list (404), an odd body: the usual retries decide
                break
        with self._count_lock:
            self._served = served
        return served

    def _openai(self):
        """The ``openai.OpenAI`` client of this endpoint (one per backend, shared by the threads; no retries of its
        own). Its ``api_key`` is a placeholder: the real key is read from the environment at each call and sent as
        that request's header, so it is never held by an object fcot keeps."""
        with self._count_lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(api_key="fcot-sends-the-key-per-request", base_url=self.base_url,
                                             max_retries=0, timeout=self.timeout_s,
                                             http_client=_deadline_client(self.timeout_s, self.concurrency))
            return self._client

    def _attempt(self, body: dict, key: str | None) -> dict:
        import openai

        client = self._openai()
        fields = dict(body)
        standard = {name: fields.pop(name) for name in ("model", "max_tokens", "temperature", "n", "seed", "stop",
                                                        "messages", "prompt") if name in fields}
        resource = client.chat.completions if self.style == "chat" else client.completions
        headers = {"Authorization": f"Bearer {key}" if key else openai.Omit()}
        try:
            with deadline(self.timeout_s):
                response = resource.with_raw_response.create(**standard, extra_body=fields or None,
                                                             extra_headers=headers)
                raw = response.http_response.content
        except openai.APIStatusError as error:
            status = error.status_code
            try:
                detail = error.response.text[:500]
            except Exception:  # the body itself may be cut
                detail = ""
            detail = self._scrub(_server_message(detail))
            reason = error.response.reason_phrase if getattr(error, "response", None) is not None else ""
            if status in AUTH_STATUS:
                raise AuthError(
                    f"{self.url}: HTTP {status} (authentication/permission): {detail or reason}. "
                    f"Check the key in ${self.api_key_env} and that it may use model {self.model!r}."
                ) from None
            if status in RETRY_STATUS:
                raise _Retryable(f"HTTP {status}: {detail or reason}",
                                 _retry_after(error.response.headers.get("Retry-After")), status) from None
            if status in BAD_REQUEST_STATUS or 400 <= status < 500:
                raise BadRequestError(
                    f"{self.url}: HTTP {status} (bad request) for model {self.model!r}: {detail or reason}"
                ) from None
            raise _Retryable(f"HTTP {status}: {detail or reason}", status=status) from None
        except openai.APITimeoutError as error:
            raise _Retryable(f"timed out: no whole response within timeout_s={self.timeout_s}s (the deadline covers "
                             f"connecting and reading the whole answer){self._redirected(error)}",
                             maybe_billed=True) from None
        except openai.APIConnectionError as error:
            cause = error.__cause__
            while cause is not None and not isinstance(cause, socket.gaierror):
                cause = cause.__cause__ or cause.__context__
            if isinstance(cause, socket.gaierror):
                raise EndpointError(f"{self.url}{self._redirected(error)}: cannot resolve the host ({cause})") from None
            reason = error.__cause__ or error
            raise _Retryable(f"connection dropped{self._redirected(error)}: {type(reason).__name__}: {reason}",
                             maybe_billed=True) from None
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Retryable(f"the body is not JSON ({raw[:80]!r})", maybe_billed=True) from None
        if not isinstance(data, dict):
            raise _Retryable("the body is not a JSON object", maybe_billed=True)
        return data


def _shown(value) -> str:
    """A value as an error message shows it: its JSON type and a short repr."""
    kind = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "a list", dict: "an object",
            type(None): "null"}.get(type(value), type(value).__name__)
    return f"{kind} {value!r:.60}" if value is not None else kind


# -- the overall deadline ---------------------------------------------------------------------------
# httpx's timeout bounds each read, so a server that drips its answer is waited on for ever. Every connection of
# the backend's client goes through a network backend whose reads, writes and connects are bounded by the time left
# to the deadline of the request the calling thread makes (the sync client does its I/O in the calling thread).
_DEADLINE = threading.local()


@contextlib.contextmanager
def deadline(seconds: float):
    """Requests this thread makes inside the block must finish within ``seconds`` in all."""
    previous = getattr(_DEADLINE, "at", None)
    _DEADLINE.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _DEADLINE.at = previous


def _http():
    """The (httpx, httpcore) modules the installed openai client is built on (``httpx2``/``httpcore2`` in newer
    releases of openai, ``httpx``/``httpcore`` before)."""
    import importlib

    import openai

    root = next(k.__module__.split(".")[0] for k in openai.DefaultHttpxClient.__mro__ if k.__name__ == "Client")
    return importlib.import_module(root), importlib.import_module(root.replace("httpx", "httpcore"))


def _time_left(timeout: float | None, kind: str) -> float | None:
    """The timeout of one network operation: ``timeout`` cut to what is left of the deadline (an error past it)."""
    httpcore = _http()[1]

    at = getattr(_DEADLINE, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        error = {"read": httpcore.ReadTimeout, "write": httpcore.WriteTimeout}.get(kind, httpcore.ConnectTimeout)
        raise error("the overall deadline passed before the whole response came")
    return left if timeout is None else min(timeout, left)


def _deadline_network():
    """An httpcore network backend whose every operation honours the calling thread's :func:`deadline`."""
    httpcore = _http()[1]

    class Stream(httpcore.NetworkStream):
        def __init__(self, inner) -> None:
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._inner.read(max_bytes, _time_left(timeout, "read"))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, _time_left(timeout, "write"))

        def close(self) -> None:
            self._inner.close()

        def start_tls(self, ssl_context, server_hostname=None, timeout=None):
            return Stream(self._inner.start_tls(ssl_context, server_hostname, _time_left(timeout, "connect")))

        def get_extra_info(self, info: str):
            return self._inner.get_extra_info(info)

    class Network(httpcore.NetworkBackend):
        def __init__(self) -> None:
            self._inner = httpcore.SyncBackend()

        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            return Stream(self._inner.connect_tcp(host, port, _time_left(timeout, "connect"), local_address,
                                                  socket_options))

        def connect_unix_socket(self, path, timeout=None, socket_options=None):
            return Stream(self._inner.connect_unix_socket(path, _time_left(timeout, "connect"), socket_options))

        def sleep(self, seconds: float) -> None:
            self._inner.sleep(seconds)

    return Network()


def _deadline_client(timeout_s: float, concurrency: int):
    """The openai client's httpx client, every transport of which (proxies too) honours :func:`deadline`."""
    import openai

    httpx = _http()[0]
    limits = httpx.Limits(max_connections=max(100, 2 * concurrency), max_keepalive_connections=max(20, concurrency))
    client = openai.DefaultHttpxClient(timeout=timeout_s, limits=limits,
                                       transport=httpx.HTTPTransport(limits=limits))
    for transport in [client._transport, *client._mounts.values()]:
        if transport is None:  # a pattern mounted to go without a proxy: the default transport serves it
            continue
        pool = getattr(transport, "_pool", None)
        if pool is None or not hasattr(pool, "_network_backend"):
            raise RuntimeError(f"httpx {httpx.__version__}: cannot bound the whole response (no network backend to "
                               "wrap); fcot needs httpx 0.2x / httpcore 1.x")
        pool._network_backend = _deadline_network()
    return client


def _same_but_seed(requests: list[GenerationRequest]) -> bool:
    first = requests[0]
    return all(
        (r.prompt, r.temperature, r.max_tokens, r.stop) == (first.prompt, first.temperature, first.max_tokens, first.stop)
        for r in requests
    )


def _cut_at_stop(text: str, stop) -> str:
    """``text`` up to its first stop string: some servers accept ``stop`` but return the text past it
    (measured: ``transformers serve``), and what follows a stop string is never part of the completion."""
    cuts = [text.find(s) for s in (stop or ()) if s and s in text]
    return text[: min(cuts)] if cuts else text


def _split(total: int | None, parts: int) -> list[int | None]:
    if total is None:
        return [None] * parts
    base, extra = divmod(int(total), parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _server_message(detail: str) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the raw (truncated) body."""
    try:
        data = json.loads(detail)
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
    except (json.JSONDecodeError, AttributeError):
        pass
    return detail.strip()
