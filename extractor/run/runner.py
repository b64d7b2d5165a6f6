"""Bulk runs: work items from the inputs (:mod:`extractor.run.inputs`), extract them (optionally
in worker processes), append records.

Records go through :class:`extractor.run.jsonl.RecordWriter` as they finish, so a crash or a
stop leaves every finished record intact. Every item is guarded: whatever goes wrong while one
file is read, parsed or sent to the model becomes that file's ``error`` record (or a finding),
never the end of the run. Per item, a wall-clock deadline is enforced where the item runs
(:func:`deadline`); worker processes die with their parent (:func:`_worker_init`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from extractor.check.record import error_record
from extractor.errors import InputError, InputTooLargeError, RunStopped
from extractor.models import Record, finding
from extractor.pipeline import Prepared, TableHook, complete, prepare_bytes, prepare_path
from extractor.read.load import (
    HTML_SUFFIXES,
    SCRIPT_SUFFIXES,
    TEXT_SUFFIXES,
    check_regular_file,
    sha256_bytes,
    sha256_file,
    shown_path,
)
from extractor.run.inputs import REPORT_SUFFIXES as REPORT_SUFFIXES  # re-exported for scripts
from extractor.run.inputs import Inputs as Inputs
from extractor.run.inputs import expand_inputs as expand_inputs


@dataclass(frozen=True)
class Item:
    """One unit of work: a file on disk, or a zip member held in memory, or a refusal."""

    display: str
    path: str | None = None
    data: bytes | None = None
    suffix: str = ""
    sha256: str | None = None
    error: InputError | None = None
    size: int = 0  # bytes (of the file, or of the member held)


#: Items read as text (no container to unpack) of at most this size may share a worker task.
BATCH_ITEM_BYTES: Final = 64 << 10
_TEXT_LIKE: Final = TEXT_SUFFIXES | HTML_SUFFIXES | SCRIPT_SUFFIXES


def batchable(item: Item) -> bool:
    """True for an item that is quick and predictable to read: a small text, HTML or JSON file."""
    return item.error is None and item.size <= BATCH_ITEM_BYTES and item.suffix in _TEXT_LIKE


#: Wall-clock seconds one file may take on the rule path before it becomes an ``error`` record.
FILE_TIMEOUT_S: Final = 120.0


class FileTimeout(BaseException):
    """Raised by the SIGALRM handler inside a stuck item. A BaseException so that no reader's
    ``except Exception`` can swallow it."""


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise :class:`FileTimeout` in the block after ``seconds`` of wall time (main thread only).

    A raising signal handler also breaks a blocking system call (PEP 475), so a read that never
    returns ends too. Elsewhere (a service job's thread) it does nothing. With a model, the rule
    path of each item runs in the main thread under it and only the hook runs in threads (bounded
    by the request deadlines of :mod:`extractor.llm.client`), see ``bulk._pooled``.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(_signum: int, _frame: object) -> None:
        raise FileTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _file_item(f: Path) -> Item:
    """A file's work item; what is not a regular file of a readable size is refused unread."""
    shown = shown_path(str(f))
    try:
        size = check_regular_file(f, shown)
    except InputError as exc:
        return Item(shown, error=exc)
    sha = sha256_file(f, size)  # None: the reader says why, in the file's error record
    return Item(shown, path=str(f), suffix=f.suffix.lower(), sha256=sha, size=size)


def iter_items(files: Iterable[Path]) -> Iterator[Item]:
    """Work items, streamed: zip archives are opened member by member."""
    for f in files:
        if f.suffix.lower() == ".zip" and f.is_file():
            from extractor.read.archive import iter_zip

            for name, payload in iter_zip(f):
                if isinstance(payload, InputError):
                    yield Item(name, error=payload)
                else:
                    inner = name.rsplit("!", 1)[-1]
                    suffix, sha = Path(inner).suffix.lower(), sha256_bytes(payload)
                    yield Item(name, data=payload, suffix=suffix, sha256=sha, size=len(payload))
        else:
            yield _file_item(f)


@dataclass(frozen=True)
class Done:
    """A finished item as a run needs it: the record as its JSON line, plus the few fields the
    run counts and reports (so the scheduler's process never parses a record again)."""

    line: str
    path: str
    status: str
    error: str | None = None
    #: The checks of the record's ``error`` findings (why it is not verified).
    error_checks: frozenset[str] = frozenset()

    @classmethod
    def of(cls, rec: Record, line: str | None = None) -> Done:
        """Of a record (``line``: its JSON as already written elsewhere, kept byte for byte)."""
        checks = frozenset(f.check for f in rec.findings if f.severity == "error")
        return cls(line or rec.to_json(), rec.path, rec.status, rec.error, checks)


def process(item: Item, hook: TableHook | None = None, timeout: float | None = FILE_TIMEOUT_S) -> str:
    """Extract one item; always returns a record (as JSON), never raises for a bad item.

    Only a stop of the run (:class:`KeyboardInterrupt`, the client's cancellation) goes through.
    The deadline bounds the rule path only; with a hook, see :func:`prepare` and :func:`finish`.
    """
    return process_record(item, hook, timeout).to_json()


def process_record(
    item: Item, hook: TableHook | None = None, timeout: float | None = FILE_TIMEOUT_S
) -> Record:
    """:func:`process`, the record itself."""
    prepared = prepare(item, None if hook is not None else timeout)
    return prepared if isinstance(prepared, Record) else finish(item, prepared, hook)


def process_done(item: Item, timeout: float | None = FILE_TIMEOUT_S) -> Done:
    """The rule path of one item in a worker process: what goes back to the scheduler."""
    return Done.of(process_record(item, None, timeout))


def process_batch(items: tuple[Item, ...], timeout: float | None = FILE_TIMEOUT_S) -> list[Done]:
    """:func:`process_done` of each item, in one worker task (each under its own deadline)."""
    return [process_done(it, timeout) for it in items]


def prepare(item: Item, timeout: float | None = FILE_TIMEOUT_S) -> Record | Prepared:
    """The rule path of one item under the wall-clock deadline (main thread or a worker
    process): its record, or the prepared report for :func:`finish`."""
    try:
        with deadline(timeout):
            return _prepare(item)
    except FileTimeout:
        why = InputTooLargeError(item.display, f"took more than {timeout:g} s of wall time; stopped")
        return error_record(item.display, why, item.sha256)
    except BaseException as exc:
        return _failed(item, exc)


def finish(item: Item, prepared: Prepared, hook: TableHook | None) -> Record:
    """The hook (the LLM path: bounded by its request deadlines) and the record."""
    try:
        return complete(prepared, hook)
    except BaseException as exc:
        return _failed(item, exc)


def _failed(item: Item, exc: BaseException) -> Record:
    """The error record of an item that raised; a stop of the run goes through."""
    if isinstance(exc, (RecursionError, MemoryError)):
        why = InputTooLargeError(item.display, f"too deeply nested or too large ({type(exc).__name__})")
        return error_record(item.display, why, item.sha256)
    if is_stop(exc) or not isinstance(exc, Exception):
        raise exc
    return error_record(item.display, exc, item.sha256)


def _prepare(item: Item) -> Record | Prepared:
    if item.error is not None:
        return error_record(item.display, item.error, item.sha256)
    if item.data is not None:
        return prepare_bytes(item.data, item.display, suffix=item.suffix)
    return prepare_path(item.path or item.display, display_path=item.display)


def is_stop(exc: BaseException) -> bool:
    """True for the exceptions that mean "the run is stopping", which no item may swallow."""
    return isinstance(exc, (KeyboardInterrupt, RunStopped))


def _duplicate(rec: Record, item: Item, original: str) -> Record:
    """``rec`` (the first record of the same content) as the record of ``item``, its copy."""
    rec.path = item.display
    rec.findings = [
        *rec.findings,
        finding("duplicate", "info", f"identical to {original} (same SHA-256); extracted once"),
    ]
    return rec
