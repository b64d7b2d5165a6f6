"""The one JSONL reader and the one JSONL writer of results files.

* :func:`iter_lines` walks a results file line by line (bytes, line number, offset): the reader
  every other one is built on.
* :func:`iter_records` is strict (``verify``, ``show``, ``export``): the first malformed line is a
  :class:`~extractor.errors.ResultsFileError` naming it.
* :class:`RecordSink` is what a run writes to. :class:`RecordWriter`, the JSONL file, appends one
  record per ``os.write`` to a file it holds an exclusive lock on (a second ``extract`` on the
  same output fails at once); a failed write (disk full, file size limit) is cut back to the
  last whole record and becomes one clear error.
* :meth:`RecordWriter.resume` keeps every parsable record of an earlier run, moves any line it
  cannot parse (a torn last line after ``kill -9``, a damaged line anywhere) to a
  ``.dropped`` file beside the output and says which lines it moved — never a silent truncation.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from extractor.errors import ResultsFileError
from extractor.models import Record
from extractor.run.seen import FirstRecords, SeenPaths


def iter_lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """``(line number, byte offset, raw line)`` of every line; raises ResultsFileError if unreadable."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise ResultsFileError(path, f"cannot read results file: {exc.strerror or exc}") from exc
    with fh:
        offset = 0
        for lineno, raw in enumerate(fh, 1):
            yield lineno, offset, raw
            offset += len(raw)


def parse_line(raw: bytes, lineno: int) -> dict[str, Any] | str:
    """The JSON object on one line, or the reason it is not one."""
    try:
        obj = json.loads(raw.decode("utf-8-sig" if lineno == 1 else "utf-8"))
    except UnicodeDecodeError as exc:
        return f"not UTF-8 ({exc.reason})"
    except (ValueError, RecursionError) as exc:
        return f"not valid JSON ({exc})"
    return obj if isinstance(obj, dict) else "not a result record (not a JSON object)"


def iter_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Line number and object of each record (strict: raises on the first malformed line)."""
    for lineno, _, raw in iter_lines(path):
        if not raw.strip():
            continue
        obj = parse_line(raw, lineno)
        if isinstance(obj, str):
            raise ResultsFileError(path, f"line {lineno} is {obj}")
        yield lineno, obj


@dataclass
class ResumeState:
    """What an earlier run left: what is done, and the lines that could not be kept."""

    #: The paths of the records kept (their inputs are not read again).
    paths: SeenPaths = field(default_factory=SeenPaths)
    #: Input SHA-256 → byte offset of its first non-error record (a later copy gets that record).
    first_at: FirstRecords = field(default_factory=FirstRecords)
    kept: int = 0
    dropped: list[int] = field(default_factory=list)
    dropped_to: Path | None = None


def _scan(path: Path) -> tuple[ResumeState, list[tuple[int, int]]]:
    """Resume state of ``path`` plus the byte ranges of the good lines (for a rewrite)."""
    state = ResumeState()
    good: list[tuple[int, int]] = []
    kept_bytes = 0
    for lineno, offset, raw in iter_lines(path):
        if not raw.strip():
            continue
        obj = parse_line(raw, lineno) if raw.endswith(b"\n") else "a torn last line"
        if isinstance(obj, str) or not isinstance(obj.get("path"), str):
            state.dropped.append(lineno)
            continue
        good.append((offset, len(raw)))
        state.paths.add(obj["path"])
        sha = obj.get("sha256")
        if isinstance(sha, str) and obj.get("status") != "error":
            state.first_at.add(sha, kept_bytes, resumed=True)
        kept_bytes += len(raw)
        state.kept += 1
    return state, good


class RecordSink(Protocol):
    """Where a run's records go: the JSONL :class:`RecordWriter`, or the service's store.

    ``write`` returns a key that ``read_at`` turns back into the record line (for later copies
    of the same input); ``count`` and ``statuses`` say what was written.
    """

    count: int
    statuses: Counter[str]

    def write(self, record: Record) -> int: ...

    def read_at(self, key: int, /) -> str: ...

    @property
    def closed(self) -> bool: ...

    def close(self) -> None: ...


@runtime_checkable
class LineSink(Protocol):
    """A sink that takes a record as its JSON line (written by a worker process) as it is, so
    the scheduler need not parse and re-encode it."""

    def write_line(self, line: str, status: str) -> int: ...


class RecordWriter:
    """Append records to a JSONL file it holds locked: one ``os.write`` per record."""

    def __init__(self, path: Path, *, append: bool) -> None:
        self.path = path
        self.count = 0
        self.statuses: Counter[str] = Counter()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = self._open_locked(path)
        except IsADirectoryError as exc:
            raise ResultsFileError(path, "the output path is a folder, not a file") from exc
        except OSError as exc:
            raise ResultsFileError(path, f"cannot write the output: {exc.strerror or exc}") from exc
        if not append:
            os.ftruncate(self._fd, 0)
        self._closed = False

    @staticmethod
    def _open_locked(path: Path) -> int:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ResultsFileError(
                path, "another 'extractor extract' is writing this output (it is locked); wait or use -o"
            ) from None
        return fd

    def resume(self) -> ResumeState:
        """Keep every parsable record; move the others to ``<output>.dropped`` and say which."""
        state, good = _scan(self.path)
        if not state.dropped:
            return state
        src = self.path.read_bytes()
        dropped_to = self.path.with_name(self.path.name + ".dropped")
        kept_ranges = {o for o, _ in good}
        with dropped_to.open("ab") as fh:
            for _, offset, raw in iter_lines(self.path):
                if offset not in kept_ranges and raw.strip():
                    fh.write(raw if raw.endswith(b"\n") else raw + b"\n")
        tmp = self.path.with_name(f".{self.path.name}.resume-{os.getpid()}")
        with tmp.open("wb") as fh:
            for offset, n in good:
                fh.write(src[offset : offset + n])
            fh.flush()
            os.fsync(fh.fileno())
        new_fd = os.open(tmp, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        fcntl.flock(new_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh inode: nobody else holds it
        os.replace(tmp, self.path)
        os.close(self._fd)
        self._fd = new_fd
        state.dropped_to = dropped_to
        return state

    def write(self, record: Record) -> int:
        """Append one record; returns the byte offset its line starts at."""
        return self.write_line(record.to_json(), record.status)

    def write_line(self, line: str, status: str) -> int:
        """Append one record given as its JSON (one line) and its status; returns its offset."""
        data = (line + "\n").encode("utf-8")
        start = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)  # no torn record left behind
            why = {errno.ENOSPC: "the disk is full", errno.EFBIG: "the file size limit was reached"}
            raise ResultsFileError(
                self.path,
                f"cannot write record {self.count + 1}: {why.get(exc.errno or 0, exc.strerror or str(exc))}; "
                f"{self.count} record(s) written, none torn; free space and run again with --resume",
            ) from exc
        self.count += 1
        self.statuses[status] += 1
        if self.count % 200 == 0:
            os.fsync(self._fd)
        return start

    def read_at(self, offset: int) -> str:
        """The record line written at ``offset`` (for duplicates of an earlier input)."""
        with self.path.open("rb") as fh:
            fh.seek(offset)
            return fh.readline().decode("utf-8")

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            os.fsync(self._fd)
        os.close(self._fd)
