"""Transport to an OpenAI-compatible endpoint: structured-output mode choice and fallback,
transport retries (tenacity), the answer cache, deadlines, cancellation and a circuit breaker.
Thread-safe: one client serves all threads.

Structured-output modes, tried in this order under ``structured_mode = "auto"``:

* ``json_schema`` — ``response_format={"type": "json_schema", ...}`` (OpenAI and most servers);
* ``tools``       — a forced function call whose parameters are the schema (instructor's
  ``openai_schema``);
* ``json``        — ``response_format={"type": "json_object", "schema": ...}`` plus the schema in
  the system prompt: llama.cpp's server constrains the output with a grammar built from it;
* ``json_plain``  — ``{"type": "json_object"}`` only, for servers that refuse the extra key.

A mode is *refused* when its first request to this endpoint fails with 400/404/405/415/422/
500/501 (llama.cpp's server answers ``json_schema`` with HTTP 500) or, for ``tools``, when the
answer carries no tool call; the client then falls back to the next mode and remembers the
first mode that worked.

Requests run on the client's own event loop (one thread, ``openai.AsyncOpenAI``), so that

* every request has an overall deadline (``timeout_s``, for the whole request: an endpoint that
  trickles a byte a second cannot stretch it);
* :meth:`LLMClient.cancel_all` cancels in-flight requests with the HTTP client's own
  cancellation (a stop of the run), and the waiting threads get :class:`RunStopped`;
* after ``breaker_after`` consecutive requests that failed at transport level (after their
  retries), the endpoint is unavailable for the rest of the run (:attr:`LLMClient.broken`;
  later tables fail at once with :class:`EndpointUnavailable` and keep their rule reading).

Transport retries (429 honouring Retry-After, 5xx, timeouts, dropped connections) use tenacity's
exponential wait with jitter behind :class:`wait_retry_after`, bounded in attempts and total time;
they are separate from the re-ask loop in :mod:`extractor.llm.route`. Error text stored anywhere
is scrubbed of the API key and of Authorization headers (:func:`scrub`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import email.utils
import json
import re
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import httpx
import instructor
import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from extractor.errors import ConfigError, EndpointUnavailable, RunStopped, TransportError
from extractor.llm.cache import AnswerCache, cache_key
from extractor.llm.config import LLMConfig
from extractor.llm.schema import Answer, schema_json, schema_of

T = TypeVar("T")
Message = dict[str, str]
MODES: Final[dict[str, tuple[str, ...]]] = {
    "auto": ("json_schema", "tools", "json", "json_plain"),
    "json_schema": ("json_schema",),
    "tools": ("tools",),
    "json": ("json", "json_plain"),
}
_REFUSAL_STATUS: Final = frozenset({400, 404, 405, 415, 422, 500, 501})
_SCHEMA_IN_PROMPT: Final = frozenset({"json", "json_plain"})
MAX_RETRY_AFTER_S: Final = 60.0
#: A previous (bad) answer sent back in a re-ask is cut to this many characters.
MAX_REASK_ANSWER_CHARS: Final = 4000
PREFLIGHT_TIMEOUT_S: Final = 10.0
_AUTH: Final = re.compile(r"(?i)(authorization|x-api-key|api-key)(\W{1,4})([^\s\"',;}]+(?: [^\s\"',;}]+)?)")
_BEARER: Final = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+")


@dataclass
class Completion:
    content: str
    mode: str
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None
    from_cache: bool = False
    requests: int = 0  # HTTP requests this completion cost (0 from the cache)


class _Refused(Exception):
    def __init__(self, mode: str, why: str) -> None:
        self.mode, self.why = mode, why
        super().__init__(f"{mode}: {why}")


class _Deadline(Exception):
    """One request ran past its overall deadline (retried like a timeout)."""


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without the given secrets, Authorization-like header values or bearer tokens."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    text = _AUTH.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    return _BEARER.sub("Bearer [redacted]", text)


def _status(exc: BaseException) -> int | None:
    return exc.status_code if isinstance(exc, openai.APIStatusError) else None


def _transient(exc: BaseException, probing: bool) -> bool:
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, httpx.TransportError, _Deadline)):
        return True
    status = _status(exc)
    if status is None:
        return False
    if probing and status in _REFUSAL_STATUS:
        return False
    return status in (408, 409, 429) or status >= 500


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds asked for by a Retry-After (or retry-after-ms) header, if any."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class wait_retry_after(wait_base):
    """Wait what a Retry-After header asks (capped), else ``fallback``; never past ``max_total_s``."""

    def __init__(self, fallback: wait_base, max_total_s: float) -> None:
        self.fallback, self.max_total_s = fallback, max_total_s

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        asked = retry_after_s(exc) if exc is not None else None
        wait = min(asked, MAX_RETRY_AFTER_S) if asked is not None else self.fallback(retry_state)
        remaining = self.max_total_s - (retry_state.seconds_since_start or 0.0)
        return max(0.0, min(wait, remaining))


def clip_reasks(messages: list[Message], limit: int = MAX_REASK_ANSWER_CHARS) -> list[Message]:
    """Previous answers in a re-ask cut to ``limit`` characters (a 10 MB bad answer is not resent)."""
    out = []
    for m in messages:
        content = m.get("content", "")
        if m.get("role") == "assistant" and len(content) > limit:
            m = {**m, "content": content[:limit] + f"… [cut: {len(content) - limit} more characters]"}
        out.append(m)
    return out


class _Loop:
    """The client's event loop on its own daemon thread; coroutines are submitted from any thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="llm-transport", daemon=True)
        self.thread.start()
        self.tasks: set[concurrent.futures.Future[Any]] = set()
        self.lock = threading.Lock()
        self.stopping = False

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self.lock:
            if self.stopping:
                coro.close()
                raise RunStopped("the run is stopping")
            fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
            self.tasks.add(fut)
        try:
            return fut.result()
        except concurrent.futures.CancelledError:
            raise RunStopped("the model request was cancelled: the run is stopping") from None
        except BaseException:
            fut.cancel()  # e.g. KeyboardInterrupt in the waiting (main) thread
            raise
        finally:
            with self.lock:
                self.tasks.discard(fut)

    def cancel_all(self) -> None:
        with self.lock:
            self.stopping = True
            for fut in list(self.tasks):
                fut.cancel()  # cancels the task on the loop: httpx closes the connection

    def close(self, aclose: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self.loop.is_closed():
            return
        if not self.stopping:
            try:
                asyncio.run_coroutine_threadsafe(aclose(), self.loop).result(timeout=5)
            except Exception:
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


class LLMClient:
    def __init__(self, config: LLMConfig, prompt_sha256: str, cache: AnswerCache | None = None) -> None:
        if not config.model:
            raise ConfigError("no model configured for the LLM path")
        self.config = config
        self.model: str = config.model
        self.prompt_sha256 = prompt_sha256
        self.cache = cache
        self._key_value = config.resolved_api_key() or ""
        self._loop = _Loop()
        self._openai: openai.AsyncOpenAI = self._loop.run(self._make_client())
        self._finalizer = weakref.finalize(self, self._loop.close, self._openai.close)
        self._lock = threading.Lock()
        self._working: str | None = None
        self._refused: set[str] = set()
        self._failures = 0
        #: Why the endpoint is unavailable for the rest of the run (None while it is usable).
        self.broken: str | None = None
        self._gate: asyncio.Semaphore | None = None

    async def _make_client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=self._key_value or "not-needed",
            base_url=self.config.base_url,
            timeout=self.config.timeout_s,
            max_retries=0,
        )

    # ------------------------------------------------------------ public
    def set_concurrency(self, n: int) -> None:
        """At most ``n`` requests in flight at once, whatever the number of calling threads."""

        async def make() -> asyncio.Semaphore:
            return asyncio.Semaphore(max(1, n))

        self._gate = self._loop.run(make())

    def cancel_all(self) -> None:
        """Cancel every in-flight request now; later calls raise RunStopped. Safe in a signal handler."""
        self._loop.cancel_all()

    def preflight(self) -> None:
        """Fail fast (TransportError with a clear message) when the endpoint is not usable."""
        url = self.config.base_url or "the default OpenAI endpoint"

        async def probe() -> Any:
            return await asyncio.wait_for(
                self._openai.models.list(), min(PREFLIGHT_TIMEOUT_S, self.config.timeout_s)
            )

        try:
            self._loop.run(probe())
        except openai.APIStatusError as exc:
            hint = "the API key was refused" if exc.status_code in (401, 403) else "check --base-url"
            raise TransportError(
                self._scrub(
                    f"the model endpoint {url} answered HTTP {exc.status_code} to GET /models; {hint}"
                )
            ) from exc
        except (TimeoutError, openai.APIError, httpx.HTTPError, ValueError) as exc:
            raise TransportError(
                self._scrub(
                    f"cannot reach the model endpoint {url}: {type(exc).__name__}: {exc}; check --base-url"
                )
            ) from exc

    def complete(self, name: str, model: type[Answer], build: Callable[[bool], list[Message]]) -> Completion:
        """One structured answer for the messages ``build(schema_in_prompt)`` makes."""
        if self.broken is not None:
            raise EndpointUnavailable(f"the endpoint is unavailable for the rest of this run ({self.broken})")
        schema = schema_json(model)
        modes = self._modes()
        if self.cache is not None:
            for mode in MODES[self.config.structured_mode]:
                hit = self.cache.get(self._key(schema, mode, clip_reasks(build(mode in _SCHEMA_IN_PROMPT))))
                if hit is not None:
                    usage = {k: int(v) for k, v in dict(hit.get("usage", {})).items()}
                    return Completion(str(hit["content"]), mode, usage, "stop", True, 0)
        last: _Refused | None = None
        requests = 0
        for i, mode in enumerate(modes):
            messages = clip_reasks(build(mode in _SCHEMA_IN_PROMPT))
            probing = self._working != mode and i < len(modes) - 1
            try:
                done, n = self._guarded_request(name, model, mode, messages, probing)
            except _Refused as exc:
                requests += 1
                last = exc
                with self._lock:
                    self._refused.add(mode)
                continue
            requests += n
            with self._lock:
                self._working = mode
            done.requests = requests
            if self.cache is not None and _cacheable(done):
                self.cache.put(self._key(schema, mode, messages), done.content, done.usage, mode)
            return done
        raise TransportError(f"the endpoint refused every structured-output mode ({last})")

    def close(self) -> None:
        self._finalizer()

    # ------------------------------------------------------------ internals
    def _scrub(self, text: str) -> str:
        return scrub(text, (self._key_value,))

    def _modes(self) -> tuple[str, ...]:
        order = MODES[self.config.structured_mode]
        with self._lock:
            if self._working in order:
                return (self._working,)
            left = tuple(m for m in order if m not in self._refused)
        return left or order[-1:]

    def _key(self, schema: str, mode: str, messages: list[Message]) -> str:
        return cache_key(
            prompt_sha256=self.prompt_sha256,
            schema=schema,
            model=self.model,
            params=self.config.params(),
            mode=mode,
            messages=messages,
        )

    def _guarded_request(
        self, name: str, model: type[Answer], mode: str, messages: list[Message], probing: bool
    ) -> tuple[Completion, int]:
        """One request with its retries, counted by the circuit breaker."""
        return self._loop.run(self._counted(lambda: self._request(name, model, mode, messages, probing)))

    async def _counted(self, request: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """The breaker's count, kept on the loop as the request ends: a request waiting for its
        turn sees the breaker open before it is sent."""
        try:
            done = await request()  # made here: a run stopping before it starts leaves nothing unawaited
        except TransportError as exc:
            with self._lock:
                self._failures += 1
                if self._failures >= self.config.breaker_after and self.broken is None:
                    self.broken = f"{self._failures} consecutive transport failures, the last: {exc}"
            raise
        with self._lock:
            self._failures = 0
        return done

    async def _request(
        self, name: str, model: type[Answer], mode: str, messages: list[Message], probing: bool
    ) -> tuple[Completion, int]:
        kwargs = _mode_kwargs(name, model, mode)
        attempts = 0

        async def send() -> Any:
            nonlocal attempts
            attempts += 1

            def call() -> Coroutine[
                Any, Any, Any
            ]:  # made once a slot is held: a stop never leaves it unawaited
                return self._openai.chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=self.config.temperature,
                    max_tokens=self.config.max_tokens,
                    **kwargs,
                )

            try:
                async with self._gate if self._gate is not None else contextlib.nullcontext():
                    if self.broken is not None:  # the breaker opened while this request waited its turn
                        raise EndpointUnavailable(f"the endpoint is unavailable for the rest of this run "
                                                  f"({self.broken})")  # fmt: skip
                    return await asyncio.wait_for(call(), self.config.timeout_s)
            except TimeoutError as exc:
                raise _Deadline(f"no complete answer within {self.config.timeout_s:g} s") from exc

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts) | stop_after_delay(self.config.max_total_s),
            wait=wait_retry_after(
                wait_exponential_jitter(multiplier=0.5, max=30, jitter=1), self.config.max_total_s
            ),
            retry=retry_if_exception(lambda e: _transient(e, probing)),
            reraise=True,
        )
        try:
            resp: Any = await retrying(send)
        except openai.APIStatusError as exc:
            if probing and exc.status_code in _REFUSAL_STATUS:
                raise _Refused(mode, f"HTTP {exc.status_code}") from exc
            raise TransportError(
                self._scrub(
                    f"HTTP {exc.status_code} from the model endpoint after {attempts} attempt(s): "
                    f"{_short(exc.message)}"
                )
            ) from exc
        except (openai.APIError, httpx.HTTPError, _Deadline) as exc:
            raise TransportError(
                self._scrub(
                    f"{type(exc).__name__} talking to the model endpoint after {attempts} attempt(s): "
                    f"{_short(str(exc))}"
                )
            ) from exc
        return self._completion(resp, mode, probing), attempts

    def _completion(self, resp: Any, mode: str, probing: bool) -> Completion:
        """The answer out of a response, which may be anything a broken endpoint sends with 200."""
        choices = getattr(resp, "choices", None)
        if not isinstance(choices, list):
            what = f"{type(resp).__name__} {_short(str(resp), 80)!r}" if resp is not None else "nothing"
            raise TransportError(self._scrub(f"the endpoint answered 200 with {what}, not a chat completion"))
        choice = choices[0] if choices else None
        msg = getattr(choice, "message", None)
        if choice is None or msg is None:
            raise TransportError("the endpoint answered with no choice or a null message")
        content = msg.content if isinstance(msg.content, str) else ""
        if mode == "tools":
            calls = msg.tool_calls or []
            fn = getattr(calls[0], "function", None) if calls else None
            if fn is not None:
                content = fn.arguments or ""
            elif probing:
                raise _Refused(mode, "the answer carries no tool call")
        usage = resp.usage
        counts = {
            "prompt_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
            "completion_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
        }
        return Completion(content, mode, counts, choice.finish_reason)


def _mode_kwargs(name: str, model: type[Answer], mode: str) -> dict[str, Any]:
    schema = schema_of(model)
    if mode == "json_schema":
        return {"response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}}
    if mode == "tools":
        fn = instructor.openai_schema(model).openai_schema
        fn = {**fn, "name": name}
        return {
            "tools": [{"type": "function", "function": fn}],
            "tool_choice": {"type": "function", "function": {"name": name}},
        }
    if mode == "json":
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {"response_format": {"type": "json_object"}}


def _cacheable(done: Completion) -> bool:
    """Only complete answers that are JSON objects are cached (never failures)."""
    if done.finish_reason == "length" or not done.content.strip():
        return False
    try:
        return isinstance(json.loads(done.content), dict)
    except json.JSONDecodeError:
        return False


def _short(s: str, n: int = 300) -> str:
    return s if len(s) <= n else s[:n] + "…"
