"""Soak run (not a test): thousands of mixed generated files, hostile ones among them.

    python scripts/soak.py [--n 2000] [--jobs 2] [--llm-subset 120] [--keep DIR]

Generates ``--n`` inputs: good reports in several formats (the seeds as text, re-laid out as pipe
and space tables, as HTML, as HTML in JSON, rendered as PDF and DOCX; each made distinct) and,
one folder per fifty, the hostile cases of ``tests/test_hostile.py`` (nesting bombs, a span bomb, a
deflate-bomb PDF, DOCX bombs, a FIFO, a symlink to /dev/zero, UTF-16 without BOM). Then:

1. ``extractor extract --jobs 2`` over all of them (rule path), a fake API key in the environment;
2. ``extractor extract --llm always`` over a subset against the scripted OpenAI-compatible
   server on 127.0.0.1 (tests/llm_server.py), which echoes the Authorization header in some
   error bodies, with the answer cache on.

For each run it prints the one-record-per-input check, the peak RSS and CPU time of the run
(the extract process and its workers, from ``wait4``) and its wall time; at the end, whether
the fake key appears anywhere under the work folder (outputs, ``.dropped`` files, the cache).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import SEEDS, measured, relayout, to_html  # noqa: E402
from tests.llm_server import ScriptedServer  # noqa: E402
from tests.renders import renders  # noqa: E402
from tests.test_hostile import make_hostile  # noqa: E402


def _distinct_binary(name: str, data: bytes, i: int) -> bytes:
    """The same document with different bytes (no de-duplication): a PDF comment after %%EOF,
    an extra part in a DOCX package."""
    if name.endswith(".pdf"):
        return data + b"\n%% soak %d\n" % i
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr(f"customXml/soak{i}.xml", f"<soak n='{i}'/>")
    return buf.getvalue()


def generate(d: Path, n: int) -> int:
    """Write ``n`` inputs (about) into ``d``; return how many files there are."""
    d.mkdir(parents=True)
    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    binaries = list(renders())
    hostile_dirs = max(1, n // 50)
    per_dir = len(make_hostile(d / "hostile000"))
    good = n - hostile_dirs * per_dir
    for i in range(good):
        text = texts[i % len(texts)] + f"\n附注：编号{i}\n"
        kind = i % 7
        if kind == 0:
            (d / f"g{i:05d}.txt").write_text(text, encoding="utf-8")
        elif kind == 1:
            (d / f"g{i:05d}_pipe.md").write_text(relayout(text, "pipe"), encoding="utf-8")
        elif kind == 2:
            (d / f"g{i:05d}_spaces.txt").write_text(relayout(text, "spaces"), encoding="utf-8")
        elif kind == 3:
            (d / f"g{i:05d}.html").write_text(to_html(text), encoding="utf-8")
        elif kind == 4:
            payload = json.dumps({"title": "年度报告", "content": to_html(text)}, ensure_ascii=False)
            (d / f"g{i:05d}.json").write_text(payload, encoding="utf-8")
        else:
            name, data = binaries[i % len(binaries)]
            (d / f"g{i:05d}_{name}").write_bytes(_distinct_binary(name, data, i))
    for k in range(1, hostile_dirs):
        make_hostile(d / f"hostile{k:03d}")
    return sum(1 for p in d.rglob("*") if not p.is_dir())


def run(args: list[str], env: dict[str, str]) -> tuple[int, float, float, float, str]:
    """``python -m extractor ARGS`` → (exit, peak RSS MB, CPU s, wall s, stderr tail)."""
    m = measured([sys.executable, "-m", "extractor", *args], 3600, env)
    return -9 if m.code is None else m.code, m.rss_mb, m.cpu_s, m.wall_s, m.stderr[-1500:]


def check_records(out: Path, inputs: set[str]) -> str:
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    paths = [r["path"] for r in recs]
    ok = len(paths) == len(set(paths)) == len(inputs) and set(paths) == inputs
    statuses: dict[str, int] = {}
    for r in recs:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    verdict = (
        "OK" if ok else f"MISMATCH (missing {len(inputs - set(paths))}, extra {len(set(paths) - inputs)})"
    )
    return f"{len(recs)} records for {len(inputs)} inputs: one per input {verdict}; {statuses}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--llm-subset", type=int, default=120)
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temp one)")
    a = ap.parse_args()
    work = a.keep or Path(tempfile.mkdtemp(prefix="extractor-soak-"))
    key = f"sk-soak-{secrets.token_hex(16)}"
    env = {**os.environ, "EXTRACTOR_API_KEY": key}
    try:
        src = work / "in"
        t0 = time.process_time()
        files = generate(src, a.n)
        print(f"generated {files} files in {time.process_time() - t0:.1f} s CPU under {src}")
        inputs = {str(p) for p in src.rglob("*") if not p.is_dir()}

        out = work / "rules.jsonl"
        code, rss, cpu, wall, tail = run(["extract", str(src), "-o", str(out), "-q", "-j", str(a.jobs)], env)
        print(
            f"[rules, --jobs {a.jobs}] exit {code}; peak RSS {rss:.0f} MB; CPU {cpu:.1f} s; wall {wall:.1f} s"
        )
        print("  " + check_records(out, inputs))
        if code != 0:
            print(tail)

        subset = work / "subset"
        subset.mkdir()
        chosen = sorted(p for p in src.glob("g*.txt"))[: a.llm_subset]
        for p in chosen:
            shutil.copy(p, subset / p.name)
        make_hostile(subset / "hostile")
        sub_inputs = {str(p) for p in subset.rglob("*") if not p.is_dir()}
        server = ScriptedServer()
        faults: list[dict[str, Any]] = [{"echo_auth": 500}, {"content": "{}"}] * 40
        for table in ("active_disclosure", "applications", "review_litigation"):
            server.push(table, *faults)
        cfg = work / "llm.toml"
        cfg.write_text("timeout_s = 10\nmax_attempts = 2\nmax_total_s = 30\nbreaker_after = 1000\n")
        out2 = work / "llm.jsonl"
        try:
            code, rss, cpu, wall, tail = run(
                ["extract", str(subset), "-o", str(out2), "-q", "--model", "m", "--llm", "always",
                 "--base-url", server.base_url, "--config", str(cfg), "--cache-dir", str(work / "cache"),
                 "--concurrency", "4"], env)  # fmt: skip
        finally:
            server.close()
        print(f"[LLM always, {len(chosen)} reports + hostile] exit {code}; peak RSS {rss:.0f} MB; "
              f"CPU {cpu:.1f} s; wall {wall:.1f} s; {len(server.requests)} model requests")  # fmt: skip
        print("  " + check_records(out2, sub_inputs))
        if code not in (0, 3):
            print(tail)

        leaks = []
        for p in work.rglob("*"):
            if p.is_file() and not p.is_symlink() and key.encode() in p.read_bytes():  # no FIFO, no /dev/zero
                leaks.append(str(p))
        print(f"fake key on disk under {work}: {'NOWHERE' if not leaks else leaks}")
    finally:
        if a.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
