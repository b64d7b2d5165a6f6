"""Bulk benchmark (not a test): a generated archive of N mixed reports through ``extractor extract``.

    python scripts/bench_bulk.py [--n 10000 100000] [--runs jobs1 jobs2 ray resume] [--skip-ray]

The archive mixes the bundled samples in several layouts and formats (tab text, pipes,
one-cell-per-line, run-together cells, HTML, HTML escaped in JSON, GB18030, DOCX, the real PDF,
zip archives); every file is made unique so de-duplication does not shortcut the work.
For ``--jobs 1``, ``--jobs 2``, the Ray engine, and a resumed re-run it prints wall time,
reports/s, the CPU seconds of the whole process tree and per report (and of the parent process
alone), the peak RSS of the whole process tree and of the parent (sampled from /proc every
50 ms), and the tree's peak RSS when 1k, 10k, 100k records had been written (flat = no growth
with the number of files); first, the start-up CPU of ``extractor --help``.
Per-format figures against the floor are in ``scripts/bench.py``.
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
from dataclasses import dataclass, field
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


def _tree(pid: int) -> list[int]:
    """``pid`` and every process descending from it."""
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one live process (from /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    """What one run cost: wall and CPU seconds, peak RSS of the tree and of the parent process,
    and the tree's RSS when the output held ``checkpoints`` records."""

    wall: float = 0.0
    cpu: float = 0.0
    parent_cpu: float = 0.0
    peak_kb: int = 0
    parent_peak_kb: int = 0
    at: dict[int, int] = field(default_factory=dict)


class _Watch:
    """Samples the process tree every 50 ms; counts the output's lines as they are appended."""

    def __init__(self, pid: int, output: Path | None, checkpoints: list[int], sample: Sample) -> None:
        self.pid, self.output, self.sample = pid, output, sample
        self.todo = sorted(checkpoints)
        self.lines, self.read_to = 0, 0
        self.stop = threading.Event()

    def _count_lines(self) -> None:
        if self.output is None or not self.output.exists():
            return
        with self.output.open("rb") as fh:
            if fh.seek(0, 2) < self.read_to:  # truncated (--overwrite): start again
                self.read_to = self.lines = 0
            fh.seek(self.read_to)
            chunk = fh.read()
        self.read_to += len(chunk)
        self.lines += chunk.count(b"\n")

    def loop(self) -> None:
        s = self.sample
        while not self.stop.is_set():
            procs = _tree(self.pid)
            rss = sum(_rss_kb(p) for p in procs)
            s.peak_kb = max(s.peak_kb, rss)
            s.parent_peak_kb = max(s.parent_peak_kb, _rss_kb(self.pid))
            s.parent_cpu = max(s.parent_cpu, _cpu_s(self.pid))
            self._count_lines()
            while self.todo and self.lines >= self.todo[0]:
                s.at[self.todo.pop(0)] = s.peak_kb
            time.sleep(0.05)
        self._count_lines()  # the last records land just before the run ends: count them too
        while self.todo and self.lines >= self.todo[0]:
            s.at[self.todo.pop(0)] = s.peak_kb


def measure(cmd: list[str], output: Path | None = None, checkpoints: list[int] | None = None) -> Sample:
    """Run ``cmd``; its wall and CPU seconds (whole tree), peak RSS (tree, parent), and the peak
    tree RSS so far when the output reached each checkpoint's number of records."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sample = Sample()
    watch = _Watch(proc.pid, output, checkpoints or [], sample)
    t = threading.Thread(target=watch.loop, daemon=True)
    t.start()
    _, err = proc.communicate()
    watch.stop.set()
    t.join()
    sample.wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sample.cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return sample


HEADER = (
    f"{'run':<16}{'reports':>9}{'wall s':>8}{'reports/s':>11}{'CPU s':>8}{'CPU ms/rep':>11}"
    f"{'parent ms/rep':>14}{'peak RSS MiB':>13}{'parent MiB':>11}"
)


def _line(name: str, reports: int, s: Sample) -> str:
    rates = f"{reports / s.wall:>11.0f}{s.cpu:>8.1f}{1000 * s.cpu / reports:>11.2f}"
    rss = f"{s.peak_kb / 1024:>13.0f}{s.parent_peak_kb / 1024:>11.0f}"
    return f"{name:<16}{reports:>9}{s.wall:>8.1f}{rates}{1000 * s.parent_cpu / reports:>14.2f}{rss}"


RUNS = {"jobs1": ["-j", "1"], "jobs2": ["-j", "2"], "ray": ["--engine", "ray"]}


def _bench(args: argparse.Namespace, n: int) -> None:
    archive = args.workdir / f"archive-{n}"
    t0 = time.perf_counter()
    made = generate(archive, n)
    print(f"\n{made} reports generated in {time.perf_counter() - t0:.1f} s under {archive}")
    exe = [sys.executable, "-m", "extractor", "extract", str(archive), "-q", "--overwrite"]
    print(HEADER)
    marks = sorted({m for m in (1000, 10_000, 50_000, 100_000, n) if m <= n})
    last: Path | None = None
    for name in [r for r in args.runs if r in RUNS]:
        out = args.workdir / f"{name}-{n}.jsonl"
        out.unlink(missing_ok=True)  # a previous run's lines would pass the checkpoints at once
        s = measure([*exe, "-o", str(out), *RUNS[name]], out, marks)
        print(_line(name, out.read_bytes().count(b"\n"), s))
        at = ", ".join(f"{k}: {v / 1024:.0f} MiB" for k, v in sorted(s.at.items()))
        print(f"{'':<16}peak tree RSS by records written: {at}")
        last = last or out
    if "resume" in args.runs and last is not None:
        resume = [*exe[:-1], "--resume", "-o", str(last)]
        print(_line("resumed re-run", made, measure(resume)))
    if last is not None:
        statuses: dict[str, int] = {}
        with last.open(encoding="utf-8") as fh:
            for line in fh:
                st = json.loads(line)["status"]
                statuses[st] = statuses.get(st, 0) + 1
        print(f"statuses ({last.name}):", json.dumps(statuses, sort_keys=True))
    if not args.keep:
        shutil.rmtree(archive)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[10000], help="archive sizes (e.g. 10000 100000)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/extractor-bench"))
    ap.add_argument("--runs", nargs="+", default=["jobs1", "jobs2", "ray", "resume"],
                    help="any of jobs1 jobs2 ray resume")  # fmt: skip
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the generated archives")
    args = ap.parse_args()
    if args.skip_ray:
        args.runs = [r for r in args.runs if r != "ray"]
    startup = measure([sys.executable, "-m", "extractor", "--help"])
    print(f"start-up: extractor --help {1000 * startup.cpu:.0f} ms CPU ({1000 * startup.wall:.0f} ms wall)")
    for n in args.n:
        _bench(args, n)


if __name__ == "__main__":
    main()
