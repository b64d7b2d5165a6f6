"""Strict at the edges: ruff (lint and format) and mypy --strict are part of the test run."""

from __future__ import annotations

import subprocess
import sys

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
        p.name: n
        for p in (ROOT / "extractor").glob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 520
    }
    assert not big, big
