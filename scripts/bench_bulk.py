"""Bulk benchmark (not a test): a generated archive of N mixed reports through ``extractor extract``.

    python scripts/bench_bulk.py [--n 10000] [--workdir /tmp/extractor-bench] [--skip-ray]

The archive mixes the bundled samples in several layouts and formats (tab text, pipes,
one-cell-per-line, run-together cells, HTML, HTML escaped in JSON, GB18030, DOCX, the real PDF,
zip archives); every file is made unique so de-duplication does not shortcut the work.
For ``--jobs 1``, ``--jobs 2``, the Ray engine, and a resumed re-run it prints wall time,
reports/s, the CPU seconds of the whole process tree and reports per CPU-second, and the peak
RSS of the whole process tree (sampled from /proc every 50 ms); first, the start-up CPU of
``extractor --help``. Per-format figures against the floor are in ``scripts/bench.py``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers import relayout, to_html  # type: ignore[import-not-found]  # noqa: E402


def _variants(text: str) -> list[tuple[str, bytes]]:
    return [
        (".txt", text.encode()),
        (".txt", relayout(text, "pipe").encode()),
        (".txt", relayout(text, "lines").encode()),
        (".txt", relayout(text, "glued").encode()),
        (".html", to_html(text).encode()),
        (".json", json.dumps({"content": to_html(text)}, ensure_ascii=False).encode()),
        (".txt", text.encode("gb18030")),
    ]


def _docx(text: str) -> bytes | None:
    try:
        import docx
    except ImportError:
        return None
    d = docx.Document()
    rows = [line.split("\t") for line in text.splitlines()]
    block: list[list[str]] = []
    for row in [*rows, [""]]:
        if len(row) > 1:
            block.append(row)
            continue
        if block:
            width = max(len(r) for r in block)
            t = d.add_table(rows=len(block), cols=width)
            for i, r in enumerate(block):
                for j, c in enumerate(r):
                    t.cell(i, j).text = c.strip()
            block = []
        if row and row[0].strip():
            d.add_paragraph(row[0])
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def generate(out: Path, n: int) -> int:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "samples").glob("0*_*.txt"))]
    corpus = [
        p.read_bytes() for p in sorted((ROOT / "samples" / "corpus").iterdir()) if p.suffix in (".txt", ".md")
    ]
    pool: list[tuple[str, bytes]] = []
    for t in texts:
        pool += _variants(t)
        d = _docx(t)
        if d:
            pool.append((".docx", d))
    pool += [(".txt", c) for c in corpus]
    pdf = (ROOT / "samples" / "corpus" / "013.pdf").read_bytes()
    pool.append((".pdf", pdf))
    made = 0
    for i in range(n):
        suffix, data = pool[i % len(pool)]
        tag = f"\n%{i}\n" if suffix == ".pdf" else f"\n<!-- {i} -->\n" if suffix == ".html" else f"\n#{i}\n"
        body = data + tag.encode()
        if suffix == ".docx":  # identical DOCX bytes would be de-duplicated: vary the zip comment
            buf = io.BytesIO(data)
            with zipfile.ZipFile(buf, "a") as zf:
                zf.comment = str(i).encode()
            body = buf.getvalue()
        sub = out / f"{i // 1000:02d}"
        sub.mkdir(exist_ok=True)
        if i % 100 == 99:  # every hundredth report travels inside a zip archive
            with zipfile.ZipFile(sub / f"bundle{i:05d}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(f"inner/r{i:05d}{suffix}", body)
        else:
            (sub / f"r{i:05d}{suffix}").write_bytes(body)
        made += 1
    return made


def _tree_rss_kb(pid: int) -> int:
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total


def measure(cmd: list[str]) -> tuple[float, int, float]:
    """(wall seconds, peak RSS of the process tree in KiB, CPU seconds of the whole tree)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    stop.set()
    t.join()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, peak, cpu


def _line(name: str, wall: float, reports: int, cpu: float, peak_kb: int) -> str:
    rates = f"{reports / wall:>11.0f}{cpu:>9.1f}{reports / cpu:>15.0f}"
    return f"{name:<16}{wall:>9.1f}{rates}{peak_kb / 1024:>14.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/extractor-bench"))
    ap.add_argument("--skip-ray", action="store_true")
    args = ap.parse_args()
    archive = args.workdir / "archive"
    t0 = time.perf_counter()
    n = generate(archive, args.n)
    print(f"generated {n} reports in {time.perf_counter() - t0:.1f} s under {archive}")
    exe = [sys.executable, "-m", "extractor", "extract", str(archive), "-q", "--overwrite"]
    runs = [("--jobs 1", ["-j", "1"]), ("--jobs 2", ["-j", "2"])]
    if not args.skip_ray:
        runs.append(("--engine ray", ["--engine", "ray"]))
    startup, _, startup_cpu = measure([sys.executable, "-m", "extractor", "--help"])
    print(f"start-up: extractor --help {1000 * startup_cpu:.0f} ms CPU ({1000 * startup:.0f} ms wall)")
    print(f"{'run':<16}{'wall s':>9}{'reports/s':>11}{'CPU s':>9}{'reports/CPU-s':>15}{'peak RSS MiB':>14}")
    last = args.workdir / "jobs1.jsonl"
    for name, extra in runs:
        out = args.workdir / (name.strip("-").replace(" ", "") + ".jsonl")
        wall, peak, cpu = measure([*exe, "-o", str(out), *extra])
        lines = out.read_bytes().count(b"\n")
        print(_line(name, wall, lines, cpu, peak))
        if name == "--jobs 1":
            last = out
    resume = [sys.executable, "-m", "extractor", "extract", str(archive), "-q", "--resume", "-o", str(last)]
    wall, peak, cpu = measure(resume)
    print(_line("resumed re-run", wall, n, cpu, peak))
    statuses: dict[str, int] = {}
    with last.open(encoding="utf-8") as fh:
        for line in fh:
            s = json.loads(line)["status"]
            statuses[s] = statuses.get(s, 0) + 1
    print("statuses (--jobs 1):", json.dumps(statuses, sort_keys=True))


if __name__ == "__main__":
    main()
