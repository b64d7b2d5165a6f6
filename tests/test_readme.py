"""The README's own commands and code run as printed: the quick start's main job and the Python API
example (over a PDF rendering of a seed, its figure checked against the seed's printed table)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, seed, tab_rows
from tests.renders import layout_pdf

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str, section: str = "") -> list[str]:
    text = README.split(f"\n## {section}\n", 1)[1] if section else README
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_python_api_example_runs_on_a_pdf(tmp_path: Path) -> None:
    code = _blocks("python", "Python API")[0]
    text = seed("001").read_text(encoding="utf-8")
    (tmp_path / "report.pdf").write_bytes(layout_pdf(text))
    total = next(r for r in tab_rows(text) if r[0].startswith("一、本年新收"))[-1]
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["verified", total]


def test_quick_start_main_job_runs_offline(tmp_path: Path) -> None:
    setup = _blocks("bash")[0]
    job = setup.split("&&")[-1].strip()
    argv = shlex.split(job)
    assert argv[:2] == [".venv/bin/extractor", "extract"], job
    argv = [str(ROOT / a) if a == "samples" else a for a in argv[1:]]
    res = subprocess.run(
        [sys.executable, "-m", "extractor", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    lines = (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= len(list((ROOT / "samples").glob("0*_*.txt")))
    assert '"status":"verified"' in "".join(lines)
