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
from pathlib import Path
from typing import Any

import diskcache  # type: ignore[import-untyped]


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


class AnswerCache:
    """Raw answers by key. ``get`` returns ``{"content", "usage", "mode"}`` or None."""

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

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._open().get(key)
        return value if isinstance(value, dict) else None

    def put(self, key: str, content: str, usage: dict[str, int], mode: str) -> None:
        self._open().set(key, {"content": content, "usage": dict(usage), "mode": mode})

    def __len__(self) -> int:
        return len(self._open())

    def close(self) -> None:
        with self._lock:
            if self._cache is not None:
                self._cache.close()
                self._cache = None
