"""The public Python API: one report in, one verified :class:`~extractor.models.Record` out.

These are the functions ``import extractor`` exports. They never raise for bad input (a bad
file is an ``error`` record, as in a bulk run); they raise :class:`~extractor.errors.ConfigError`
for a bad LLM configuration. With ``llm=None`` the rule path runs alone, offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from extractor import pipeline
from extractor.models import Record

if TYPE_CHECKING:
    from extractor.llm.config import LLMConfig
    from extractor.pipeline import TableHook


@contextmanager
def _hook(llm: LLMConfig | None) -> Iterator[TableHook | None]:
    if llm is None or not llm.enabled:
        yield None
        return
    from extractor.llm.route import LLMRouter  # the LLM stack loads only when it is asked for

    router = LLMRouter(llm)
    try:
        yield router
    finally:
        router.close()


def extract_file(path: str | Path, *, llm: LLMConfig | None = None) -> Record:
    """Extract one report file (text, HTML, JSON, PDF, DOCX)."""
    with _hook(llm) as hook:
        return pipeline.extract_path(path, hook=hook)


def extract_bytes(data: bytes, name: str, *, llm: LLMConfig | None = None) -> Record:
    """Extract a report held in memory; ``name`` is its file name (the suffix picks the reader)."""
    with _hook(llm) as hook:
        return pipeline.extract_bytes(data, name, suffix=Path(name).suffix.lower(), hook=hook)


def extract_text(text: str, name: str = "<text>", *, llm: LLMConfig | None = None) -> Record:
    """Extract a report whose text is already decoded (plain text, markdown or HTML markup)."""
    suffix = Path(name).suffix.lower() or ".txt"
    with _hook(llm) as hook:
        return pipeline.extract_bytes(text.encode("utf-8"), name, suffix=suffix, hook=hook)


__all__ = ["extract_bytes", "extract_file", "extract_text"]
