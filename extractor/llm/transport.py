"""The transport pieces of the LLM client that hold no client state: the client's own event loop
(:class:`Loop`), the overall deadline of one request, which failures are transient, waits that
honour Retry-After (tenacity), re-asks with earlier answers clipped, and scrubbing of secrets
out of every error text."""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import re
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Final, TypeVar

import httpx
import openai
from tenacity import RetryCallState
from tenacity.wait import wait_base

from extractor.errors import RunStopped

T = TypeVar("T")
Message = dict[str, str]

REFUSAL_STATUS: Final = frozenset({400, 404, 405, 415, 422, 500, 501})
MAX_RETRY_AFTER_S: Final = 60.0
#: A previous (bad) answer sent back in a re-ask is cut to this many characters.
MAX_REASK_ANSWER_CHARS: Final = 4000
_AUTH: Final = re.compile(r"(?i)(authorization|x-api-key|api-key)(\W{1,4})([^\s\"',;}]+(?: [^\s\"',;}]+)?)")
_BEARER: Final = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+")


class Deadline(Exception):
    """One request ran past its overall deadline (retried like a timeout)."""


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without the given secrets, Authorization-like header values or bearer tokens."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    text = _AUTH.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    return _BEARER.sub("Bearer [redacted]", text)


def status_of(exc: BaseException) -> int | None:
    return exc.status_code if isinstance(exc, openai.APIStatusError) else None


def is_transient(exc: BaseException, probing: bool) -> bool:
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, httpx.TransportError, Deadline)):
        return True
    status = status_of(exc)
    if status is None:
        return False
    if probing and status in REFUSAL_STATUS:
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


class Loop:
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


def short(s: str, n: int = 300) -> str:
    return s if len(s) <= n else s[:n] + "…"
