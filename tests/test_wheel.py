"""The built wheel works on its own: prompts and LICENSE inside, the LLM path runs from it.

The wheel is built from this checkout (no network: ``--no-deps --no-build-isolation``), unpacked
with pip into a fresh folder and run as a child process whose ``sys.path`` starts with that folder,
so the non-editable package (not the checkout) answers ``extract --llm always`` against the
scripted OpenAI-compatible server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from extractor import _native
from tests.helpers import CORPUS, ROOT
from tests.llm_server import ScriptedServer, answer_rows, dump, rule_truth

_PURE = os.environ.get("EXTRACTOR_PURE") == "1"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
           str(ROOT)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, cwd=out)
    (whl,) = out.glob("extractor-*.whl")
    return whl


def test_wheel_ships_prompts_and_license(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert all(f"extractor/prompts/tables_v{i}.toml" in names for i in (1, 2, 3))
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_wheel_ships_the_compiled_modules_and_their_sources(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in _native.COMPILED:
        path = module.replace(".", "/")
        assert f"{path}.py" in names
        if not _PURE:
            assert any(n.startswith(f"{path}.cpython-") and n.endswith(".so") for n in names), path
    if not _PURE:
        assert f"extractor/{_native.MANIFEST}" in names
        assert any(n.startswith(f"{_native.GROUP}.cpython-") for n in names)


def test_installed_wheel_runs_the_llm_path(wheel: Path, tmp_path: Path, llm_server: ScriptedServer) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    report = CORPUS / "015.txt"
    _, located, reads = rule_truth(report)
    for t in reads:
        llm_server.default[t] = dump(answer_rows(reads[t], located.template))
    out = tmp_path / "r.jsonl"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import extractor, extractor._native as n;"
        "assert extractor.__file__.startswith(sys.argv[1]), extractor.__file__;"
        f"assert n.status() == {'pure' if _PURE else 'compiled'!r}, n.status();"
        "from extractor.cli import app; sys.argv = ['extractor', *sys.argv[2:]]; app()"
    )
    args = ["extract", str(report), "-o", str(out), "-q", "--llm", "always", "--model", "scripted",
            "--base-url", llm_server.base_url, "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    env = {**os.environ, "EXTRACTOR_API_KEY": "wheel-test-key"}
    res = subprocess.run(
        [sys.executable, "-c", code, str(target), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert rec["meta"]["llm_usage"]["calls"] >= 1
    assert len(llm_server.calls()) >= 1
