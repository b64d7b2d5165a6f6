"""Shared test helpers: paths of the bundled samples and layout renderers for seed tables."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SEEDS = sorted(SAMPLES.glob("0*_*.txt"))
CORPUS = SAMPLES / "corpus"


def seed(prefix: str) -> Path:
    return next(p for p in SEEDS if p.name.startswith(prefix))


def tab_rows(text: str) -> list[list[str]]:
    """The tab-separated rows of a seed, cells stripped (header/prose lines are single cells)."""
    return [[c.strip() for c in line.split("\t")] for line in text.splitlines()]


def relayout(text: str, sep: str) -> str:
    """Re-render every tab-separated line of a seed with another cell layout."""
    out = []
    for line in text.splitlines():
        if "\t" not in line:
            out.append(line)
            continue
        cells = [c.strip() for c in line.split("\t")]
        if sep == "pipe":
            out.append("| " + " | ".join(cells) + " |")
        elif sep == "lines":
            out.extend(c for c in cells if c)
        elif sep == "spaces":
            out.append("  ".join(c for c in cells if c))
        elif sep == "glued":
            out.append("".join(cells))
        else:
            raise ValueError(sep)
    return "\n".join(out)


def to_html(text: str) -> str:
    """Render a seed as HTML: paragraphs, and each tab block as a <table> with &nbsp; blanks."""
    parts = ["<html><body>"]
    in_table = False
    for line in text.splitlines():
        if "\t" in line:
            if not in_table:
                parts.append('<table border="1">')
                in_table = True
            cells = "".join(f"<td>{c.strip() or '&nbsp;'}</td>" for c in line.split("\t"))
            parts.append(f"<tr>{cells}</tr>")
        else:
            if in_table:
                parts.append("</table>")
                in_table = False
            if line.strip():
                parts.append(f"<p>{line}</p>")
    if in_table:
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


# Linux counts a child's peak RSS from before its exec: a process forked from pytest starts with
# pytest's pages (511 MB late in a full run on CI), so ``wait4`` from the test process measures
# pytest. A small fresh Python starts the command and reports the peak of it and its workers.
_MEASURE = """
import os, subprocess, sys, time
timeout = float(sys.argv[1])
t0 = time.monotonic()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
while True:
    pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
    if pid:
        cpu = ru.ru_utime + ru.ru_stime
        print(os.waitstatus_to_exitcode(status), ru.ru_maxrss / 1024, cpu, file=sys.__stdout__)
        break
    if time.monotonic() - t0 > timeout:
        proc.kill()
        proc.wait()
        print("timeout 0 0", file=sys.__stdout__)
        break
    time.sleep(0.02)
"""


class Measured(NamedTuple):
    code: int | None  # None: killed at the timeout
    rss_mb: float  # peak RSS of the command and its waited-for children
    cpu_s: float
    wall_s: float
    stderr: str


def measured(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> Measured:
    """Run ``cmd`` (its stdout discarded) and measure its own peak RSS, CPU and wall time."""
    t0 = time.monotonic()
    wrapper = [sys.executable, "-c", _MEASURE, str(timeout), *cmd]
    done = subprocess.run(wrapper, capture_output=True, timeout=timeout + 30, check=False, env=env)
    wall = time.monotonic() - t0
    code, rss, cpu = done.stdout.decode().split()
    return Measured(None if code == "timeout" else int(code), float(rss), float(cpu), wall,
                    done.stderr.decode("utf-8", "replace"))  # fmt: skip
