"""Bulk runs: expand inputs, extract them (optionally in worker processes), append records.

Records are appended one line per ``write`` on a file opened in append mode and flushed as they
finish, so a crash or Ctrl-C leaves every finished record intact; a torn last line (a kill in
the middle of a write) is detected and dropped on ``--resume``.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from extractor.check.record import error_record
from extractor.errors import InputError, ResultsFileError
from extractor.models import Finding, Record
from extractor.pipeline import TableHook, extract_bytes, extract_path
from extractor.read.load import HTML_SUFFIXES, SCRIPT_SUFFIXES, TEXT_SUFFIXES, UNSUPPORTED, sha256_bytes

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


def read_done(results: Path) -> tuple[set[str], dict[str, int]]:
    """Paths, and sha256 → line offset, already recorded in ``results``; drops a torn last line."""
    paths: set[str] = set()
    shas: dict[str, int] = {}
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
            start = good_end
            good_end = offset
            if isinstance(obj, dict):
                if isinstance(obj.get("path"), str):
                    paths.add(obj["path"])
                sha = obj.get("sha256")
                if isinstance(sha, str) and obj.get("status") != "error":
                    shas.setdefault(sha, start)
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
        self.statuses: Counter[str] = Counter()

    def write(self, record: Record) -> int:
        """Append one record; returns the byte offset its line starts at."""
        self._fh.flush()
        offset = self._fh.buffer.tell() if hasattr(self._fh, "buffer") else 0
        self._fh.write(record.to_json() + "\n")
        self._fh.flush()
        self.count += 1
        self.statuses[record.status] += 1
        if self.count % 200 == 0:
            os.fsync(self._fh.fileno())
        return offset

    def read_at(self, offset: int) -> str:
        """The record line written at ``offset`` (for duplicates of an earlier input)."""
        self._fh.flush()
        with self.path.open("rb") as fh:
            fh.seek(offset)
            return fh.readline().decode("utf-8")

    @property
    def closed(self) -> bool:
        return self._fh.closed

    def close(self) -> None:
        if self._fh.closed:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()


@dataclass(frozen=True)
class Item:
    """One unit of work: a file on disk, or a zip member held in memory, or a refusal."""

    display: str
    path: str | None = None
    data: bytes | None = None
    suffix: str = ""
    sha256: str | None = None
    error: InputError | None = None


def _file_sha(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def iter_items(files: Iterable[Path]) -> Iterator[Item]:
    """Work items, streamed: zip archives are opened member by member."""
    for f in files:
        if f.suffix.lower() == ".zip" and f.is_file():
            from extractor.read.formats import iter_zip

            for name, payload in iter_zip(f):
                if isinstance(payload, InputError):
                    yield Item(name, error=payload)
                else:
                    inner = name.rsplit("!", 1)[-1]
                    yield Item(
                        name, data=payload, suffix=Path(inner).suffix.lower(), sha256=sha256_bytes(payload)
                    )
        else:
            yield Item(str(f), path=str(f), suffix=f.suffix.lower(), sha256=_file_sha(f))


def process(item: Item, hook: TableHook | None = None) -> str:
    """Extract one item; always returns a record (as JSON), never raises for bad input."""
    if item.error is not None:
        rec = error_record(item.display, item.error, item.sha256)
    elif item.data is not None:
        rec = extract_bytes(item.data, item.display, suffix=item.suffix, hook=hook)
    else:
        rec = extract_path(item.path or item.display, display_path=item.display, hook=hook)
    return rec.to_json()


def _duplicate(line: str, item: Item, original: str) -> Record:
    rec = Record.model_validate_json(line)
    rec.path = item.display
    rec.findings = [
        *rec.findings,
        Finding(
            check="duplicate",
            severity="info",
            message=f"identical to {original} (same SHA-256); extracted once",
        ),
    ]
    return rec


def run(
    files: list[Path],
    writer: RecordWriter,
    *,
    jobs: int = 1,
    hook: TableHook | None = None,
    concurrency: int = 1,
    on_record: Callable[[Record], None] | None = None,
    done_paths: set[str] | None = None,
    done_shas: dict[str, int] | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> Counter[str]:
    """Extract ``files`` and write each record as soon as it is ready. Returns counts by status.

    Identical inputs (same SHA-256) are extracted once: later copies get the first record with
    their own path and a ``duplicate`` finding. ``done_paths``/``done_shas`` come from
    :func:`read_done` for ``--resume``. At most a small window of items is in flight, so memory
    does not grow with the number of inputs.
    """
    counts: Counter[str] = Counter()
    done_paths = done_paths or set()
    sha_offset: dict[str, int] = dict(done_shas or {})
    first_path: dict[str, str] = {}
    in_flight: dict[str, list[Item]] = {}

    def emit(rec: Record, sha: str | None) -> None:
        offset = writer.write(rec)
        if sha and rec.status != "error" and sha not in sha_offset:
            sha_offset[sha] = offset
            first_path.setdefault(sha, rec.path)
        counts[rec.status] += 1
        if on_record is not None:
            on_record(rec)

    def finish(item: Item, line: str) -> None:
        rec = Record.model_validate_json(line)
        emit(rec, item.sha256)
        for dup in in_flight.pop(item.sha256 or "", []):
            emit(_duplicate(line, dup, rec.path), None)

    def route(item: Item) -> bool:
        """True when the item must be extracted; otherwise it is handled here."""
        if item.display in done_paths:
            return False
        sha = item.sha256
        if sha and sha in sha_offset:
            emit(
                _duplicate(writer.read_at(sha_offset[sha]), item, first_path.get(sha, "an earlier record")),
                None,
            )
            return False
        if sha and sha in in_flight:
            in_flight[sha].append(item)
            return False
        if sha:
            in_flight[sha] = []
        return True

    items = (it for it in iter_items(files) if route(it))
    if engine == "ray":
        from extractor.run.engine_ray import ray_process

        for it, line in ray_process(items, address=ray_address):
            finish(it, line)
        return counts
    if jobs <= 1 and (hook is None or concurrency <= 1):
        for it in items:
            finish(it, process(it, hook))
        return counts
    pool: Executor
    if hook is not None:
        pool = ThreadPoolExecutor(max_workers=concurrency)
        work: Callable[[Item], str] = functools.partial(process, hook=hook)
        window = concurrency * 2
    else:
        pool = ProcessPoolExecutor(max_workers=jobs)
        work = process
        window = jobs * 4
    with pool:
        pending: dict[Future[str], Item] = {}
        for it in items:
            pending[pool.submit(work, it)] = it
            if len(pending) >= window:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    finish(pending.pop(fut), fut.result())
        for fut in as_completed(list(pending)):
            finish(pending.pop(fut), fut.result())
    return counts
