"""Shared fixtures and markers (the LLM-path fixtures live here; other fixtures may follow)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm_server import ScriptedServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "llm_real: runs a real local model (llama-cpp-python server + Gemma 3 270M); fails, never "
        "skips, when llama_cpp is missing unless EXTRACTOR_SKIP_REAL_LLM=1",
    )


@pytest.fixture(scope="session")
def _scripted_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def llm_server(_scripted_server: ScriptedServer) -> Iterator[ScriptedServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (fresh script for each test)."""
    _scripted_server.reset()
    yield _scripted_server
    _scripted_server.reset()
