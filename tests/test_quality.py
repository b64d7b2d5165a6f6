"""Strict at the edges: ruff (lint and format) and mypy --strict are part of the test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .helpers import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_lint() -> None:
    res = _run("ruff", "check", "extractor", "tests", "scripts")
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format() -> None:
    res = _run("ruff", "format", "--check", "extractor", "tests", "scripts")
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_strict() -> None:
    res = _run("mypy")
    assert res.returncode == 0, res.stdout + res.stderr


def test_modules_stay_small() -> None:
    """One module per pipeline stage, each small (the style guide's ~400 lines)."""
    big = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "extractor").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 520
    }
    assert not big, big


def test_import_contracts() -> None:
    """The architecture in pyproject.toml: imports point down the pipeline; check is pure."""
    res = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "3 kept, 0 broken" in res.stdout


def test_public_api_is_stable() -> None:
    import extractor

    assert extractor.__all__ == [
        "ConfigError",
        "ExtractorError",
        "Finding",
        "InputError",
        "LLMConfig",
        "ModelAnswerError",
        "Record",
        "TransportError",
        "UnsupportedFormatError",
        "__version__",
        "extract_bytes",
        "extract_file",
        "extract_text",
    ]
    for name in extractor.__all__:
        assert getattr(extractor, name) is not None, name
