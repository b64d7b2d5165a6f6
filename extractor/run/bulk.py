"""The scheduler of a bulk run: de-duplicate, extract (here, in worker processes or in threads for
the LLM path), write each record as soon as it is ready, and stop promptly when asked.

A stop (the CLI turns SIGINT/SIGTERM into :class:`KeyboardInterrupt` in the main thread) ends the
run within seconds whatever it is doing: worker processes are killed, queued items are cancelled,
in-flight model requests are cancelled by the client, and :class:`Outcome` says how many inputs
were left undone. Records already finished are on disk; ``--resume`` does the rest.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from extractor.check.record import error_record
from extractor.errors import InputError
from extractor.llm.options import LLMOptions
from extractor.models import Record
from extractor.pipeline import Prepared, TableHook
from extractor.read.load import shown_path
from extractor.run.jsonl import LineSink, RecordSink
from extractor.run.runner import (
    FILE_TIMEOUT_S,
    Done,
    Item,
    _duplicate,
    batchable,
    finish,
    is_stop,
    iter_items,
    prepare,
    process_batch,
    process_done,
)
from extractor.run.seen import FirstRecords, SeenPaths

if TYPE_CHECKING:  # the pools load when a run uses one (a one-file run does not: start-up)
    from concurrent.futures import Executor, Future, ProcessPoolExecutor

    _Pending = dict[Future[list[Done]], tuple[Item, ...]]
    _Threads = dict[Future[tuple[Done, Record]], Item]

_PR_SET_PDEATHSIG = 1


@dataclass
class Outcome:
    """Counts by status of the records written, and what a stop left undone."""

    counts: Counter[str] = field(default_factory=Counter)
    stopped: bool = False
    undone: int = 0


def _worker_init(parent: int) -> None:
    """In each worker process: die with the parent (SIGKILL on its death), leave SIGINT to it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)


@dataclass
class Callbacks:
    """Called with each record written: ``on_record`` with the record (parsed again in this
    process when it came from a worker), ``on_done`` with its :class:`Done` summary (free)."""

    on_record: Callable[[Record], None] | None = None
    on_done: Callable[[Done], None] | None = None


#: What an earlier run did: its paths, and each input SHA-256's first record (sink key).
DonePaths = Collection[str] | SeenPaths
DoneShas = Mapping[str, int] | FirstRecords


class _Dedup:
    """Identical inputs (same SHA-256) are extracted once; later copies get the first record."""

    def __init__(self, writer: RecordSink, outcome: Outcome, calls: Callbacks, done_paths: DonePaths,
                 done_shas: DoneShas) -> None:  # fmt: skip
        self.writer, self.outcome, self.calls = writer, outcome, calls
        # a JSONL sink takes the worker's line as it is, unless the caller wants the Record anyway
        self.lines = writer if isinstance(writer, LineSink) and calls.on_record is None else None
        # the indexes given are the caller's; the ones made here are closed by ``close``
        self.done_paths = done_paths if isinstance(done_paths, SeenPaths) else SeenPaths(done_paths)
        self.first = done_shas if isinstance(done_shas, FirstRecords) else FirstRecords(done_shas.items())
        made = ((self.done_paths, done_paths), (self.first, done_shas))
        self.owned = [index for index, given in made if index is not given]
        self.in_flight: dict[str, list[Item]] = {}

    def emit(self, done: Done, sha: str | None, rec: Record | None = None) -> str:
        """Write one record; returns its path as written (a sink may rewrite it)."""
        if self.lines is not None:
            key = self.lines.write_line(done.line, done.status)
        else:
            rec = rec or Record.from_json(done.line)
            key = self.writer.write(rec)
        if sha and done.status != "error":
            self.first.add(sha, key)
        self.outcome.counts[done.status] += 1
        if self.calls.on_record is not None and rec is not None:
            self.calls.on_record(rec)
        if self.calls.on_done is not None:
            self.calls.on_done(done)
        return rec.path if rec is not None else done.path

    def finish(self, item: Item, done: Done, rec: Record | None = None) -> None:
        original = self.emit(done, item.sha256, rec)
        for dup in self.in_flight.pop(item.sha256 or "", []):
            copy = _duplicate(Record.from_json(done.line), dup, original)
            self.emit(Done.of(copy), None, copy)

    def wanted(self, item: Item) -> bool:
        """True when the item must be extracted; otherwise it is handled here."""
        if self.done_paths and item.display in self.done_paths:
            return False
        sha = item.sha256
        first = self.first.get(sha) if sha else None
        if first is not None:
            key, resumed = first
            rec = Record.from_json(self.writer.read_at(key))
            copy = _duplicate(rec, item, "an earlier record" if resumed else rec.path)
            self.emit(Done.of(copy), None, copy)
            return False
        if sha and sha in self.in_flight:
            self.in_flight[sha].append(item)
            return False
        if sha:
            self.in_flight[sha] = []
        return True

    def close(self) -> None:
        for index in self.owned:
            index.close()

    def waiting(self) -> int:
        """Copies of in-flight items still waiting for their original's record."""
        return sum(len(v) for v in self.in_flight.values())


def run(
    files: Iterable[Path],
    writer: RecordSink,
    *,
    jobs: int = 1,
    hook: TableHook | None = None,
    concurrency: int = 1,
    on_record: Callable[[Record], None] | None = None,
    on_done: Callable[[Done], None] | None = None,
    done_paths: DonePaths = (),
    done_shas: DoneShas | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    file_timeout: float = FILE_TIMEOUT_S,
    hook_factory: LLMOptions | None = None,
) -> Outcome:
    """Extract ``files`` (any iterable: it is walked once, lazily) and write each record as
    soon as it is ready.

    ``done_paths``/``done_shas`` come from :meth:`RecordWriter.resume` (or the service's store).
    At most a small window of items is in flight, so memory does not grow with the number of
    inputs. A stop is caught here and reported in the :class:`Outcome` (``stopped``, ``undone``).
    ``on_done`` is the cheap callback (no record is parsed for it); ``on_record`` costs a parse.
    """
    outcome = Outcome()
    dedup = _Dedup(writer, outcome, Callbacks(on_record, on_done), done_paths, done_shas or {})
    todo = (
        (f for f in files if shown_path(str(f)) not in dedup.done_paths) if dedup.done_paths else iter(files)
    )
    items = (it for it in iter_items(todo) if dedup.wanted(it))  # done ones are skipped unread
    try:
        if engine == "ray":
            _on_ray(items, dedup, ray_address, hook_factory, file_timeout)
        elif jobs <= 1 and hook is None:  # with a model: threads, so no record waits for a request
            for it in items:
                outcome.undone = 1
                dedup.finish(it, process_done(it, file_timeout))
                outcome.undone = 0
        elif hook is None:
            _in_processes(items, dedup, outcome, jobs, file_timeout)
        else:
            _in_threads(items, dedup, outcome, hook, concurrency, file_timeout)
    except BaseException as exc:
        if not is_stop(exc):
            raise
        outcome.stopped = True
    finally:
        dedup.close()
    outcome.undone += dedup.waiting()
    return outcome


def _on_ray(items: Iterator[Item], dedup: _Dedup, address: str | None, hook_factory: LLMOptions | None,
            timeout: float) -> None:  # fmt: skip
    from extractor.run.engine_ray import ray_process

    for it, line in ray_process(items, address=address, hook_factory=hook_factory, timeout=timeout):
        rec = Record.from_json(line)
        dedup.finish(it, Done.of(rec, line), rec)


def _finish_done(item: Item, prepared: Prepared, hook: TableHook | None) -> tuple[Done, Record]:
    rec = finish(item, prepared, hook)
    return Done.of(rec), rec


def _in_threads(items: Iterator[Item], dedup: _Dedup, outcome: Outcome, hook: TableHook, concurrency: int,
                file_timeout: float) -> None:  # fmt: skip
    """The LLM path. The rule path runs here, in the main thread, under the per-file deadline;
    only the hook (the model's requests) runs in threads. Reports that need no model never queue
    behind ones that do: there are more threads than request slots."""
    from concurrent.futures import ThreadPoolExecutor

    threads = concurrency * 2 + 2
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="extract")
    pending: _Threads = {}
    try:
        for it in items:
            try:
                prepared = prepare(it, file_timeout)
            except BaseException:
                outcome.undone += 1  # (a stop while this item was being read)
                raise
            if isinstance(prepared, Record):
                dedup.finish(it, Done.of(prepared), prepared)
            else:
                pending[pool.submit(_finish_done, it, prepared, hook)] = it
            _harvest(pending, dedup)
            while len(pending) >= threads * 2:
                _drain(pending, dedup)
        while pending:
            _drain(pending, dedup)
    except BaseException:
        outcome.undone += len(pending)
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _new_pool(jobs: int) -> ProcessPoolExecutor:
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(os.getpid(),))


#: At most this many small text items share one worker task (fewer round trips to the workers).
_BATCH: Final = 8


class _Batcher:
    """Groups small text items into worker tasks, in input order. A batch goes out when it is
    full, before any item that must go alone (PDF, DOCX, a big file), and at once while fewer
    tasks than workers are in flight, so no worker waits for a batch to fill."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.batch: list[Item] = []

    def add(self, item: Item, in_flight: int) -> list[tuple[Item, ...]]:
        """The tasks to submit now that ``item`` has come."""
        if not batchable(item):
            return [*self.flush(), (item,)]
        self.batch.append(item)
        if len(self.batch) >= _BATCH or in_flight < self.jobs:
            return self.flush()
        return []

    def flush(self) -> list[tuple[Item, ...]]:
        out, self.batch = ([tuple(self.batch)] if self.batch else []), []
        return out


def _in_processes(items: Iterator[Item], dedup: _Dedup, outcome: Outcome, jobs: int, timeout: float) -> None:
    """The rule path in worker processes. A worker that dies (a crash in a native reader, the
    kernel's OOM killer) does not end the run: the items it may have held are run again one by
    one in a fresh process, and the one that kills that too becomes an ``error`` record."""
    pool = _new_pool(jobs)
    work = functools.partial(process_batch, timeout=timeout)
    pending: _Pending = {}
    batcher = _Batcher(jobs)
    try:
        for it in items:
            if it.error is not None:  # refused before reading: recorded here, not sent to a worker
                dedup.finish(it, process_done(it))
                continue
            for task in batcher.add(it, len(pending)):
                pending[pool.submit(work, task)] = task
            while len(pending) >= jobs * 4:
                pool = _drain_or_recover(pool, pending, dedup, jobs, work)
        for task in batcher.flush():
            pending[pool.submit(work, task)] = task
        while pending:
            pool = _drain_or_recover(pool, pending, dedup, jobs, work)
    except BaseException:
        outcome.undone += sum(map(len, pending.values())) + len(batcher.batch)
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _drain_or_recover(pool: ProcessPoolExecutor, pending: _Pending, dedup: _Dedup, jobs: int,
                      work: Callable[[tuple[Item, ...]], list[Done]]) -> ProcessPoolExecutor:  # fmt: skip
    from concurrent.futures.process import BrokenProcessPool

    try:
        _drain_batches(pending, dedup)
        return pool
    except BrokenProcessPool:
        pass
    _stop_pool(pool)
    held = list(pending.items())
    pending.clear()
    for fut, task in held:
        finished = fut.done() and not fut.cancelled() and fut.exception() is None
        results = fut.result() if finished else [_alone(item, work) for item in task]
        for item, done in zip(task, results, strict=True):
            dedup.finish(item, done)
    return _new_pool(jobs)


def _drain_batches(pending: _Pending, dedup: _Dedup) -> None:
    from concurrent.futures import FIRST_COMPLETED, wait

    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
    for fut in finished:
        results = fut.result()  # raises before the task leaves ``pending`` (a broken pool recovers it)
        for item, done in zip(pending.pop(fut), results, strict=True):
            dedup.finish(item, done)


def _alone(item: Item, work: Callable[[tuple[Item, ...]], list[Done]]) -> Done:
    """Run one item in a process of its own; its ``error`` record if that process dies too."""
    from concurrent.futures.process import BrokenProcessPool

    solo = _new_pool(1)
    try:
        return solo.submit(work, (item,)).result()[0]
    except BrokenProcessPool:
        why = InputError(item.display, "the worker process reading this file died (a crash or out of memory)")
        return Done.of(error_record(item.display, why, item.sha256))
    finally:
        _stop_pool(solo)


def _harvest(pending: _Threads, dedup: _Dedup) -> None:
    """Write the records already finished (without waiting)."""
    for fut in [f for f in pending if f.done()]:
        dedup.finish(pending.pop(fut), *fut.result())


def _drain(pending: _Threads, dedup: _Dedup) -> None:
    from concurrent.futures import FIRST_COMPLETED, wait

    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
    for fut in finished:
        done, rec = fut.result()
        dedup.finish(pending.pop(fut), done, rec)


def _stop_pool(pool: Executor) -> None:
    """End a pool now: cancel what is queued, kill worker processes (threads end when their
    requests are cancelled by the client)."""
    from concurrent.futures import ProcessPoolExecutor

    if isinstance(pool, ProcessPoolExecutor):
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)
