"""Bulk runs: expand inputs, extract them (optionally in worker processes), append records.

Records are appended one line per ``write`` on a file opened in append mode and flushed as they
finish, so a crash or Ctrl-C leaves every finished record intact; a torn last line (a kill in
the middle of a write) is detected and dropped on ``--resume``.
"""

from __future__ import annotations

import glob
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from .errors import ResultsFileError
from .load import HTML_SUFFIXES, SCRIPT_SUFFIXES, TEXT_SUFFIXES, UNSUPPORTED
from .models import Record
from .pipeline import TableHook, extract_path

#: Suffixes picked up when walking a folder. Other files in a folder are counted as skipped.
REPORT_SUFFIXES: Final = (
    (TEXT_SUFFIXES - {"", ".csv", ".tsv"})
    | HTML_SUFFIXES
    | (SCRIPT_SUFFIXES - {".jsonl"})
    | set(UNSUPPORTED)
    | {".pdf", ".docx", ".zip"}
)


@dataclass
class Inputs:
    files: list[Path]
    skipped: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def expand_inputs(args: Iterable[str]) -> Inputs:
    """Files as given, folders recursively (report suffixes only), globs expanded; sorted, unique."""
    out: list[Path] = []
    skipped: list[Path] = []
    missing: list[str] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.absolute()
        if key not in seen:
            seen.add(key)
            out.append(p)

    for arg in args:
        p = Path(arg)
        if p.is_dir():
            for root, dirs, files in os.walk(p, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    f = Path(root) / name
                    if name.startswith("."):
                        continue
                    if f.suffix.lower() in REPORT_SUFFIXES:
                        add(f)
                    else:
                        skipped.append(f)
        elif p.exists() or p.is_symlink():
            add(p)
        elif any(ch in arg for ch in "*?["):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                missing.append(arg)
            for m in matches:
                mp = Path(m)
                if mp.is_file():
                    add(mp)
        else:
            missing.append(arg)
    return Inputs(out, skipped, missing)


def read_done(results: Path) -> tuple[set[str], set[str]]:
    """Paths and sha256 already recorded in ``results``; drops a torn last line in place."""
    paths: set[str] = set()
    shas: set[str] = set()
    if not results.exists():
        return paths, shas
    good_end = 0
    with results.open("rb") as fh:
        offset = 0
        for raw in fh:
            offset += len(raw)
            if not raw.endswith(b"\n"):
                break  # torn final write: dropped below
            try:
                obj = json.loads(raw)
            except ValueError:
                break
            good_end = offset
            if isinstance(obj, dict):
                if isinstance(obj.get("path"), str):
                    paths.add(obj["path"])
                if isinstance(obj.get("sha256"), str) and obj.get("status") != "error":
                    shas.add(obj["sha256"])
    if good_end < results.stat().st_size:
        with results.open("r+b") as fh:
            fh.truncate(good_end)
    return paths, shas


def iter_records(results: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Line number and object of each record in a results file (raises on malformed lines)."""
    try:
        fh = results.open(encoding="utf-8")
    except OSError as exc:
        raise ResultsFileError(results, f"cannot open: {exc.strerror or exc}") from exc
    with fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise ResultsFileError(results, f"line {i} is not valid JSON ({exc})") from exc
            if not isinstance(obj, dict):
                raise ResultsFileError(results, f"line {i} is not a JSON object")
            yield i, obj


class RecordWriter:
    """Append records to a JSONL file: one ``write`` per record, flushed at once."""

    def __init__(self, path: Path, *, append: bool) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] = path.open("a" if append else "w", encoding="utf-8")
        self.count = 0

    def write(self, record: Record) -> None:
        self._fh.write(record.to_json() + "\n")
        self._fh.flush()
        self.count += 1
        if self.count % 200 == 0:
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()


def _work(path: str) -> str:
    return extract_path(path).to_json()


def run(
    files: list[Path],
    writer: RecordWriter,
    *,
    jobs: int = 1,
    hook: TableHook | None = None,
    concurrency: int = 1,
    on_record: Callable[[Record], None] | None = None,
) -> Counter[str]:
    """Extract ``files`` and write each record as soon as it is ready. Returns counts by status."""
    counts: Counter[str] = Counter()

    def done(rec: Record) -> None:
        writer.write(rec)
        counts[rec.status] += 1
        if on_record is not None:
            on_record(rec)

    if hook is not None and concurrency > 1:
        # LLM calls are I/O bound: threads, bounded in flight.
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            pending: set[Future[Record]] = set()
            it = iter(files)
            for p in it:
                pending.add(pool.submit(extract_path, p, hook=hook))
                if len(pending) >= concurrency * 2:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        done(fut.result())
            for fut in pending:
                done(fut.result())
        return counts
    if jobs <= 1 or hook is not None:
        for p in files:
            done(extract_path(p, hook=hook))
        return counts
    with ProcessPoolExecutor(max_workers=jobs) as ppool:
        for line in ppool.map(_work, [str(p) for p in files], chunksize=8):
            done(Record.model_validate_json(line))
    return counts
