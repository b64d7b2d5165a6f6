"""Benchmark of the rule path (not a test): reports per CPU-second per format, against a floor.

    python scripts/bench.py [--rounds 5] [--no-startup]

Pins the process to one CPU and runs every report of each format through the whole pipeline
(load → normalise → locate → rules → verify → record → JSON), timed in CPU seconds. Formats:
the text/markdown samples, the seeds as HTML and as HTML escaped in JSON, the corpus PDF and the
seeds rendered as PDF and DOCX (tests/renders.py). The floor for the same files is reading the
bytes, decoding them and one ``\\d+`` regex pass, the least any reader must do; for a PDF the
"decoding" is pdfium's plain text of every page, for a DOCX unzipping ``word/document.xml``.
Also prints the peak RSS and the start-up CPU of ``extractor --help`` and of a one-file
``extractor extract`` (child processes, median of 5), compiled from source as this environment
runs it and with bytecode cached as an installed package runs (``--startup-only``: just those).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402

from extractor.pipeline import extract_bytes  # noqa: E402
from tests.helpers import SEEDS, to_html  # noqa: E402
from tests.renders import renders  # noqa: E402

_DIGITS = re.compile(r"\d+")


def corpus() -> dict[str, list[tuple[str, bytes]]]:
    """Reports by format, as (name, bytes)."""
    samples = sorted(p for p in (ROOT / "samples").rglob("*") if p.suffix in (".txt", ".md"))
    out: dict[str, list[tuple[str, bytes]]] = {"text": [(p.name, p.read_bytes()) for p in samples]}
    htmls = [to_html(p.read_text(encoding="utf-8")) for p in SEEDS]
    out["html"] = [(f"{i}.html", h.encode()) for i, h in enumerate(htmls)]
    out["json"] = [
        (f"{i}.json", json.dumps({"content": h}, ensure_ascii=False).encode()) for i, h in enumerate(htmls)
    ]
    rendered = list(renders())
    out["pdf"] = [("013.pdf", (ROOT / "samples/corpus/013.pdf").read_bytes())]
    out["pdf"] += [(n, d) for n, d in rendered if n.endswith("_ruled.pdf")]
    out["docx"] = [(n, d) for n, d in rendered if n.endswith("_merged.docx")]
    return out


def _cpu_per_report(
    files: list[tuple[str, bytes]], work: Callable[[str, bytes], object], rounds: int
) -> float:
    for name, data in files:  # warm-up: imports, compiled regexes
        work(name, data)
    c0 = time.process_time()
    for _ in range(rounds):
        for name, data in files:
            work(name, data)
    return (time.process_time() - c0) / (rounds * len(files))


def _floor(name: str, data: bytes) -> int:
    if name.endswith(".pdf"):  # the text layer as pdfium gives it, page by page
        doc = pdfium.PdfDocument(data)
        text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
        doc.close()
    elif name.endswith(".docx"):  # the main part, unzipped
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            text = zf.read("word/document.xml").decode("utf-8")
    else:
        text = data.decode("utf-8", "replace")
    return len(_DIGITS.findall(text))


def _child_cpu_median(args: list[str], env: dict[str, str] | None = None) -> float:
    runs = []
    for _ in range(5):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    return sorted(runs)[2]


def startup() -> None:
    """Two figures a case: as this environment runs it (with PYTHONDONTWRITEBYTECODE=1 and no
    ``__pycache__`` in the tree, every run compiles the package's source), and with bytecode cached
    as an installed package has it (a private PYTHONPYCACHEPREFIX, filled by a first run)."""
    extract = [sys.executable, "-m", "extractor", "extract", str(SEEDS[0]), "-q", "--overwrite"]
    with tempfile.TemporaryDirectory() as tmp:
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = f"{tmp}/pycache"
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "extractor --help": [sys.executable, "-m", "extractor", "--help"],
            "extract one .txt": [*extract, "-o", f"{tmp}/o.jsonl"],
        }
        for label, args in cases.items():
            as_is = _child_cpu_median(args)
            subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=cached)
            warm = _child_cpu_median(args, cached)
            print(f"start-up  {label:<18} {1000 * as_is:6.0f} ms CPU as run here, "
                  f"{1000 * warm:4.0f} ms with bytecode cached (median of 5)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-startup", action="store_true")
    ap.add_argument("--startup-only", action="store_true")
    args = ap.parse_args()
    if args.startup_only:
        startup()
        return
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"{'format':<7}{'files':>6}{'ms/report':>11}{'reports/CPU-s':>15}{'floor ms':>10}{'ratio':>8}")
    for fmt, files in corpus().items():
        cpu = _cpu_per_report(files, lambda n, d: extract_bytes(d, n).to_json(), args.rounds)
        floor = _cpu_per_report(files, _floor, args.rounds * 10)
        row = f"{fmt:<7}{len(files):>6}{1000 * cpu:>11.2f}{1 / cpu:>15.0f}"
        print(f"{row}{1000 * floor:>10.3f}{cpu / floor:>7.0f}x")
    pdf = corpus()["pdf"][:1]
    cpu = _cpu_per_report(pdf, lambda n, d: extract_bytes(d, n).to_json(), args.rounds)
    print(f"corpus PDF 013.pdf: {1000 * cpu:.1f} ms a report, {1000 * cpu / 6:.1f} ms a page (6 pages)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")
    if not args.no_startup:
        startup()


if __name__ == "__main__":
    main()
