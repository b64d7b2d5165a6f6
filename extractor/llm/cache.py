"""A disk cache of raw model answers (diskcache: thread- and process-safe).

The key is the SHA-256 of everything that determines an answer: the prompt file's content hash,
the answer schema (JSON), the model, the generation parameters, the structured-output mode and
the messages sent (which hold the table text and, on a re-ask, the feedback). No API key or
base URL goes into a key or a value. Only successful answers are stored — the caller decides
(transport errors and unparseable answers are never cached).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache  # type: ignore[import-untyped]

from extractor.models import Tokens


def cache_key(
    *,
    prompt_sha256: str,
    schema: str,
    model: str,
    params: dict[str, Any],
    mode: str,
    messages: list[dict[str, str]],
) -> str:
    blob = json.dumps(
        {
            "prompt": prompt_sha256,
            "schema": schema,
            "model": model,
            "params": params,
            "mode": mode,
            "messages": messages,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedAnswer:
    content: str
    tokens: Tokens
    mode: str


class AnswerCache:
    """Raw answers by key, stored as ``{"content", "usage": {"prompt_tokens", "completion_tokens"},
    "mode"}`` (plain data: a cache outlives the classes of one version)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = str(directory)
        self._cache: diskcache.Cache | None = None
        self._lock = threading.Lock()

    def _open(self) -> diskcache.Cache:
        with self._lock:
            if self._cache is None:
                Path(self.directory).mkdir(parents=True, exist_ok=True)
                self._cache = diskcache.Cache(self.directory)
            return self._cache

    def get(self, key: str) -> CachedAnswer | None:
        value = self._open().get(key)
        if not isinstance(value, dict):
            return None
        usage = value.get("usage") or {}
        tokens = Tokens(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)))
        return CachedAnswer(str(value["content"]), tokens, str(value.get("mode", "")))

    def put(self, key: str, content: str, tokens: Tokens, mode: str) -> None:
        usage = {"prompt_tokens": tokens.prompt_tokens, "completion_tokens": tokens.completion_tokens}
        self._open().set(key, {"content": content, "usage": usage, "mode": mode})

    def __len__(self) -> int:
        return len(self._open())

    def close(self) -> None:
        with self._lock:
            if self._cache is not None:
                self._cache.close()
                self._cache = None
