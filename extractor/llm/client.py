"""Transport to an OpenAI-compatible endpoint: structured-output mode choice and fallback,
transport retries (tenacity) and the answer cache. Thread-safe: one client serves all threads.

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
first mode that worked. Transport retries (429 honouring Retry-After, 5xx, timeouts, dropped
connections; exponential backoff with jitter, bounded attempts and total time) are separate
from the re-ask loop in :mod:`extractor.llm.route`, which handles answers that fail the checks.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import instructor
import openai
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay

from extractor.errors import ConfigError, TransportError
from extractor.llm.cache import AnswerCache, cache_key
from extractor.llm.config import LLMConfig
from extractor.llm.schema import Answer, schema_json, schema_of

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


def _status(exc: BaseException) -> int | None:
    return exc.status_code if isinstance(exc, openai.APIStatusError) else None


def _transient(exc: BaseException, probing: bool) -> bool:
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, httpx.TransportError)):
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


class LLMClient:
    def __init__(self, config: LLMConfig, prompt_sha256: str, cache: AnswerCache | None = None) -> None:
        if not config.model:
            raise ConfigError("no model configured for the LLM path")
        self.config = config
        self.model: str = config.model
        self.prompt_sha256 = prompt_sha256
        self.cache = cache
        self._openai = openai.OpenAI(
            api_key=config.resolved_api_key() or "not-needed",
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,
        )
        self._lock = threading.Lock()
        self._working: str | None = None
        self._refused: set[str] = set()

    # ------------------------------------------------------------ public
    def complete(self, name: str, model: type[Answer], build: Callable[[bool], list[Message]]) -> Completion:
        """One structured answer for the messages ``build(schema_in_prompt)`` makes."""
        schema = schema_json(model)
        modes = self._modes()
        if self.cache is not None:
            for mode in MODES[self.config.structured_mode]:
                hit = self.cache.get(self._key(schema, mode, build(mode in _SCHEMA_IN_PROMPT)))
                if hit is not None:
                    usage = {k: int(v) for k, v in dict(hit.get("usage", {})).items()}
                    return Completion(str(hit["content"]), mode, usage, "stop", True, 0)
        last: _Refused | None = None
        requests = 0
        for i, mode in enumerate(modes):
            messages = build(mode in _SCHEMA_IN_PROMPT)
            probing = self._working != mode and i < len(modes) - 1
            try:
                done, n = self._request(name, model, mode, messages, probing)
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
        self._openai.close()

    # ------------------------------------------------------------ internals
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

    def _request(
        self, name: str, model: type[Answer], mode: str, messages: list[Message], probing: bool
    ) -> tuple[Completion, int]:
        kwargs = _mode_kwargs(name, model, mode)
        attempts = 0

        def send() -> Any:
            nonlocal attempts
            attempts += 1
            return self._openai.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=self.config.temperature,
                max_tokens=self.config.max_tokens,
                **kwargs,
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.config.max_attempts) | stop_after_delay(self.config.max_total_s),
            wait=self._wait,
            retry=retry_if_exception(lambda e: _transient(e, probing)),
            reraise=True,
        )
        try:
            resp = retrying(send)
        except openai.APIStatusError as exc:
            if probing and exc.status_code in _REFUSAL_STATUS:
                raise _Refused(mode, f"HTTP {exc.status_code}") from exc
            raise TransportError(
                f"HTTP {exc.status_code} from the model endpoint after {attempts} attempt(s): "
                f"{_short(exc.message)}"
            ) from exc
        except (openai.APIError, httpx.HTTPError) as exc:
            raise TransportError(
                f"{type(exc).__name__} talking to the model endpoint after "
                f"{attempts} attempt(s): {_short(str(exc))}"
            ) from exc
        choice = resp.choices[0] if resp.choices else None
        if choice is None:
            raise TransportError("the endpoint answered with no choices")
        msg = choice.message
        content = msg.content or ""
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
        return Completion(content, mode, counts, choice.finish_reason), attempts

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        asked = retry_after_s(exc) if exc is not None else None
        wait = min(asked, MAX_RETRY_AFTER_S) if asked is not None else backoff_s(state.attempt_number)
        remaining = self.config.max_total_s - (state.seconds_since_start or 0.0)
        return max(0.0, min(wait, remaining))


def backoff_s(attempt: int, initial: float = 0.5, cap: float = 30.0, jitter: float = 1.0) -> float:
    """Exponential backoff with full jitter on top: initial·2^(n−1), capped, plus U(0, jitter)."""
    return min(cap, initial * 2.0 ** max(0, attempt - 1)) + random.uniform(0, jitter)


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
