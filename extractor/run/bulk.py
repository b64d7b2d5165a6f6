"""The scheduler of a bulk run: de-duplicate, extract (here, in worker processes or in threads for
the LLM path), write each record as soon as it is ready, and stop promptly when asked.

A stop (the CLI turns SIGINT/SIGTERM into :class:`KeyboardInterrupt` in the main thread) ends the
run within seconds whatever it is doing: worker processes are killed, queued items are cancelled,
in-flight model requests are cancelled by the client, and :class:`Outcome` says how many inputs
were left undone. Records already finished are on disk; ``--resume`` does the rest.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from extractor.check.record import error_record
from extractor.errors import InputError
from extractor.llm.options import LLMOptions
from extractor.models import Record
from extractor.pipeline import TableHook
from extractor.run.jsonl import RecordSink
from extractor.run.runner import (
    FILE_TIMEOUT_S,
    Item,
    _duplicate,
    finish,
    is_stop,
    iter_items,
    prepare,
    process,
)

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
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)


class _Dedup:
    """Identical inputs (same SHA-256) are extracted once; later copies get the first record."""

    def __init__(self, writer: RecordSink, outcome: Outcome, on_record: Callable[[Record], None] | None,
                 done_paths: set[str], done_shas: dict[str, int]) -> None:  # fmt: skip
        self.writer, self.outcome, self.on_record = writer, outcome, on_record
        self.done_paths = done_paths
        self.sha_offset = dict(done_shas)
        self.first_path: dict[str, str] = {}
        self.in_flight: dict[str, list[Item]] = {}

    def emit(self, rec: Record, sha: str | None) -> None:
        offset = self.writer.write(rec)
        if sha and rec.status != "error" and sha not in self.sha_offset:
            self.sha_offset[sha] = offset
            self.first_path.setdefault(sha, rec.path)
        self.outcome.counts[rec.status] += 1
        if self.on_record is not None:
            self.on_record(rec)

    def finish(self, item: Item, line: str) -> None:
        rec = Record.model_validate_json(line)
        self.emit(rec, item.sha256)
        for dup in self.in_flight.pop(item.sha256 or "", []):
            self.emit(_duplicate(line, dup, rec.path), None)

    def wanted(self, item: Item) -> bool:
        """True when the item must be extracted; otherwise it is handled here."""
        if item.display in self.done_paths:
            return False
        sha = item.sha256
        if sha and sha in self.sha_offset:
            line = self.writer.read_at(self.sha_offset[sha])
            self.emit(_duplicate(line, item, self.first_path.get(sha, "an earlier record")), None)
            return False
        if sha and sha in self.in_flight:
            self.in_flight[sha].append(item)
            return False
        if sha:
            self.in_flight[sha] = []
        return True

    def waiting(self) -> int:
        """Copies of in-flight items still waiting for their original's record."""
        return sum(len(v) for v in self.in_flight.values())


def run(
    files: list[Path],
    writer: RecordSink,
    *,
    jobs: int = 1,
    hook: TableHook | None = None,
    concurrency: int = 1,
    on_record: Callable[[Record], None] | None = None,
    done_paths: set[str] | None = None,
    done_shas: dict[str, int] | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    file_timeout: float = FILE_TIMEOUT_S,
    hook_factory: LLMOptions | None = None,
) -> Outcome:
    """Extract ``files`` and write each record as soon as it is ready.

    ``done_paths``/``done_shas`` come from :meth:`RecordWriter.resume` (or the service's store).
    At most a small window of items is in flight, so memory does not grow with the number of
    inputs. A stop is caught here and reported in the :class:`Outcome` (``stopped``, ``undone``).
    """
    outcome = Outcome()
    dedup = _Dedup(writer, outcome, on_record, done_paths or set(), done_shas or {})
    items = (it for it in iter_items(files) if dedup.wanted(it))
    try:
        if engine == "ray":
            from extractor.run.engine_ray import ray_process

            for it, line in ray_process(items, address=ray_address, hook_factory=hook_factory,
                                        timeout=file_timeout):  # fmt: skip
                dedup.finish(it, line)
        elif jobs <= 1 and hook is None:  # with a model: threads, so no record waits for a request
            for it in items:
                outcome.undone = 1
                dedup.finish(it, process(it, hook, file_timeout))
                outcome.undone = 0
        else:
            _pooled(items, dedup, outcome, jobs, hook, concurrency, file_timeout)
    except BaseException as exc:
        if not is_stop(exc):
            raise
        outcome.stopped = True
    outcome.undone += dedup.waiting()
    return outcome


def _pooled(items: Iterator[Item], dedup: _Dedup, outcome: Outcome, jobs: int, hook: TableHook | None,
            concurrency: int, file_timeout: float) -> None:  # fmt: skip
    if hook is None:
        _in_processes(items, dedup, outcome, jobs, file_timeout)
        return
    # The rule path runs here, in the main thread, under the per-file deadline; only the hook
    # (the model's requests) runs in threads. Reports that need no model never queue behind
    # ones that do: there are more threads than request slots.
    threads = concurrency * 2 + 2
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="extract")
    pending: dict[Future[str], Item] = {}
    try:
        for it in items:
            try:
                prepared = prepare(it, file_timeout)
            except BaseException:
                outcome.undone += 1  # (a stop while this item was being read)
                raise
            if isinstance(prepared, str):
                dedup.finish(it, prepared)
            else:
                pending[pool.submit(finish, it, prepared, hook)] = it
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
    return ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(os.getpid(),))


def _in_processes(items: Iterator[Item], dedup: _Dedup, outcome: Outcome, jobs: int, timeout: float) -> None:
    """The rule path in worker processes. A worker that dies (a crash in a native reader, the
    kernel's OOM killer) does not end the run: the items it may have held are run again one by
    one in a fresh process, and the one that kills that too becomes an ``error`` record."""
    pool = _new_pool(jobs)
    work = functools.partial(process, timeout=timeout)
    pending: dict[Future[str], Item] = {}
    try:
        for it in items:
            if it.error is not None:  # refused before reading: recorded here, not sent to a worker
                dedup.finish(it, process(it))
                continue
            pending[pool.submit(work, it)] = it
            while len(pending) >= jobs * 4:
                pool = _drain_or_recover(pool, pending, dedup, jobs, work)
        while pending:
            pool = _drain_or_recover(pool, pending, dedup, jobs, work)
    except BaseException:
        outcome.undone += len(pending)
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _drain_or_recover(pool: ProcessPoolExecutor, pending: dict[Future[str], Item], dedup: _Dedup, jobs: int,
                      work: Callable[[Item], str]) -> ProcessPoolExecutor:  # fmt: skip
    try:
        _drain(pending, dedup)
        return pool
    except BrokenProcessPool:
        pass
    _stop_pool(pool)
    held = list(pending.items())
    pending.clear()
    for fut, item in held:
        finished = fut.done() and not fut.cancelled() and fut.exception() is None
        dedup.finish(item, fut.result() if finished else _alone(item, work))
    return _new_pool(jobs)


def _alone(item: Item, work: Callable[[Item], str]) -> str:
    """Run one item in a process of its own; its ``error`` record if that process dies too."""
    solo = _new_pool(1)
    try:
        return solo.submit(work, item).result()
    except BrokenProcessPool:
        why = InputError(item.display, "the worker process reading this file died (a crash or out of memory)")
        return error_record(item.display, why, item.sha256).to_json()
    finally:
        _stop_pool(solo)


def _harvest(pending: dict[Future[str], Item], dedup: _Dedup) -> None:
    """Write the records already finished (without waiting)."""
    for fut in [f for f in pending if f.done()]:
        dedup.finish(pending.pop(fut), fut.result())


def _drain(pending: dict[Future[str], Item], dedup: _Dedup) -> None:
    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
    for fut in finished:
        line = fut.result()  # raises before the item leaves ``pending`` (a broken pool recovers it)
        dedup.finish(pending.pop(fut), line)


def _stop_pool(pool: Executor) -> None:
    """End a pool now: cancel what is queued, kill worker processes (threads end when their
    requests are cancelled by the client)."""
    if isinstance(pool, ProcessPoolExecutor):
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)
