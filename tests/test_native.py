"""The compiled hot modules (mypyc, see extractor/_native.py): in use where the package was built
with them, the same records as their sources, and never used once a source has changed.

``EXTRACTOR_PURE=1`` runs everything from the sources (then these tests check that instead).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from extractor import _native
from tests.helpers import ROOT

_PURE = os.environ.get("EXTRACTOR_PURE") == "1"
_PROBE = (
    "import json, importlib, sys; import extractor._native as n;"
    "print(json.dumps([n.status(), [importlib.import_module(m).__file__ for m in n.COMPILED]]))"
)


def _probe(env: dict[str, str], pythonpath: Path | None = None, cwd: Path = ROOT) -> tuple[str, list[str]]:
    if pythonpath is not None:
        env = {**env, "PYTHONPATH": str(pythonpath)}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=True,
    )
    state, files = json.loads(out.stdout)
    return state, files


def test_compiled_modules_are_in_use() -> None:
    """A build with a C compiler (CI's ``pip install -e .``) runs the compiled modules."""
    state = _native.status()
    files = [str(importlib.import_module(m).__file__) for m in _native.COMPILED]
    if _PURE:
        assert state == "pure" and all(f.endswith(".py") for f in files), files
        return
    assert state == "compiled", (
        f"the compiled modules are {state}: rebuild with `pip install -e .` (needs a C compiler), "
        "or run with EXTRACTOR_PURE=1 to test the sources alone"
    )
    assert all(f.endswith(".so") for f in files), files


def test_sources_and_compiled_modules_give_the_same_records(tmp_path: Path) -> None:
    out = {}
    for mode in ("pure", "default"):
        env = {k: v for k, v in os.environ.items() if k != "EXTRACTOR_PURE"}
        if mode == "pure":
            env["EXTRACTOR_PURE"] = "1"
            state, files = _probe(env)
            assert state == "pure" and all(f.endswith(".py") for f in files), files
        target = tmp_path / f"{mode}.jsonl"
        cmd = [sys.executable, "-m", "extractor", "extract", str(ROOT / "samples"), "-o", str(target), "-q"]
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        assert res.returncode in (0, 1), res.stderr
        out[mode] = target.read_bytes()
    assert out["pure"].count(b"\n") == 19
    assert out["pure"] == out["default"]


def test_a_changed_source_is_never_shadowed_by_its_build(tmp_path: Path) -> None:
    """A copy of the built package runs compiled; once one compiled module's source changes,
    every compiled module loads from its source (one group: no mix of old and new code)."""
    if _PURE:
        state, files = _probe(dict(os.environ))
        assert state == "pure" and all(f.endswith(".py") for f in files)
        return
    copy = tmp_path / "pkg"
    shutil.copytree(ROOT / "extractor", copy / "extractor", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "EXTRACTOR_PURE"}
    state, files = _probe(env, copy, cwd=tmp_path)
    assert state == "stale", "the copy without its compiled library must not use another build's"
    assert all(f.endswith(".py") for f in files), files
    group = importlib.util.find_spec(_native.GROUP)
    assert group is not None and group.origin is not None
    shutil.copy2(group.origin, copy)
    state, files = _probe(env, copy, cwd=tmp_path)
    assert state == "compiled" and all(f.startswith(str(copy)) and f.endswith(".so") for f in files), files
    edited = _native.source_path("extractor.tables.splitting", copy)
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    state, files = _probe(env, copy, cwd=tmp_path)
    assert state == "stale"
    assert all(f.startswith(str(copy)) and f.endswith(".py") for f in files), files
    manifest = json.loads((copy / "extractor" / _native.MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["modules"]) == set(_native.COMPILED)


@pytest.mark.parametrize("module", _native.COMPILED)
def test_every_compiled_module_has_its_source(module: str) -> None:
    assert _native.source_path(module).is_file()
