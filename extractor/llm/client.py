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

Requests run on the client's own event loop (one thread, ``openai.AsyncOpenAI``; the loop, waits,
scrubbing and re-ask clipping live in :mod:`extractor.llm.transport`), so that

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
import contextlib
import json
import threading
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import httpx
import instructor
import openai
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from extractor.errors import ConfigError, EndpointUnavailable, TransportError
from extractor.llm.cache import AnswerCache, cache_key
from extractor.llm.config import LLMConfig
from extractor.llm.schema import Answer, schema_json, schema_of
from extractor.llm.transport import (
    REFUSAL_STATUS,
    Deadline,
    Loop,
    Message,
    clip_reasks,
    is_transient,
    scrub,
    short,
    wait_retry_after,
)
from extractor.models import Tokens

T = TypeVar("T")
MODES: Final[dict[str, tuple[str, ...]]] = {
    "auto": ("json_schema", "tools", "json", "json_plain"),
    "json_schema": ("json_schema",),
    "tools": ("tools",),
    "json": ("json", "json_plain"),
}
_SCHEMA_IN_PROMPT: Final = frozenset({"json", "json_plain"})
PREFLIGHT_TIMEOUT_S: Final = 10.0


@dataclass
class Completion:
    content: str
    mode: str
    tokens: Tokens = field(default_factory=Tokens)
    finish_reason: str | None = None
    from_cache: bool = False
    requests: int = 0  # HTTP requests this completion cost (0 from the cache)


class _Refused(Exception):
    def __init__(self, mode: str, why: str) -> None:
        self.mode, self.why = mode, why
        super().__init__(f"{mode}: {why}")


class LLMClient:
    def __init__(self, config: LLMConfig, prompt_sha256: str, cache: AnswerCache | None = None) -> None:
        if not config.model:
            raise ConfigError("no model configured for the LLM path")
        self.config = config
        self.model: str = config.model
        self.prompt_sha256 = prompt_sha256
        self.cache = cache
        self._key_value = config.resolved_api_key() or ""
        self._loop = Loop()
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
                    return Completion(hit.content, mode, hit.tokens, "stop", True, 0)
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
                self.cache.put(self._key(schema, mode, messages), done.content, done.tokens, mode)
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
            return await self._attempt(messages, kwargs)

        try:
            resp: Any = await self._retrying(probing)(send)
        except openai.APIStatusError as exc:
            if probing and exc.status_code in REFUSAL_STATUS:
                raise _Refused(mode, f"HTTP {exc.status_code}") from exc
            raise TransportError(
                self._scrub(
                    f"HTTP {exc.status_code} from the model endpoint after {attempts} attempt(s): "
                    f"{short(exc.message)}"
                )
            ) from exc
        except (openai.APIError, httpx.HTTPError, Deadline) as exc:
            raise TransportError(
                self._scrub(
                    f"{type(exc).__name__} talking to the model endpoint after {attempts} attempt(s): "
                    f"{short(str(exc))}"
                )
            ) from exc
        return self._completion(resp, mode, probing), attempts

    async def _attempt(self, messages: list[Message], kwargs: dict[str, Any]) -> Any:
        """One request, sent once a slot is held (so a stop never leaves it unawaited) and only if
        the breaker did not open while it waited its turn; the answer has its deadline."""
        try:
            async with self._gate if self._gate is not None else contextlib.nullcontext():
                if self.broken is not None:
                    raise EndpointUnavailable(
                        f"the endpoint is unavailable for the rest of this run ({self.broken})"
                    )
                return await asyncio.wait_for(
                    self._openai.chat.completions.create(
                        model=self.model,
                        messages=messages,  # type: ignore[arg-type]
                        temperature=self.config.temperature,
                        max_tokens=self.config.max_tokens,
                        **kwargs,
                    ),
                    self.config.timeout_s,
                )
        except TimeoutError as exc:
            raise Deadline(f"no complete answer within {self.config.timeout_s:g} s") from exc

    def _retrying(self, probing: bool) -> AsyncRetrying:
        """The retry policy: attempts and total time bounded, exponential waits with jitter or the
        server's Retry-After, transient errors only (a probe's refusal is not retried)."""
        return AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts) | stop_after_delay(self.config.max_total_s),
            wait=wait_retry_after(
                wait_exponential_jitter(multiplier=0.5, max=30, jitter=1), self.config.max_total_s
            ),
            retry=retry_if_exception(lambda e: is_transient(e, probing)),
            reraise=True,
        )

    def _completion(self, resp: Any, mode: str, probing: bool) -> Completion:
        """The answer out of a response, which may be anything a broken endpoint sends with 200."""
        choices = getattr(resp, "choices", None)
        if not isinstance(choices, list):
            what = f"{type(resp).__name__} {short(str(resp), 80)!r}" if resp is not None else "nothing"
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
        tokens = Tokens(
            int(getattr(usage, "prompt_tokens", 0) or 0), int(getattr(usage, "completion_tokens", 0) or 0)
        )
        return Completion(content, mode, tokens, choice.finish_reason)


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
