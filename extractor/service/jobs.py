"""Background jobs on the CLI's runner (:func:`extractor.run.runner.run`), stored in SQLite.

A job's uploads are kept under ``DATA/jobs/ID/in/``; the runner reads them exactly as
``extractor extract`` would and hands each record to :class:`StoreWriter`, which commits it at
once under the name it was uploaded with. On start, jobs left ``queued`` or ``running`` (a
server stopped or killed) are resumed: the paths already stored are skipped, so nothing is lost
and nothing is stored twice.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from extractor.errors import ConfigError
from extractor.llm.options import LLMOptions
from extractor.models import Record
from extractor.pipeline import TableHook
from extractor.run.bulk import run
from extractor.run.reaper import start_reaper
from extractor.service.store import Store

_SAFE: Final = frozenset("-_.()+")


class JobStopped(Exception):
    """Raised inside the runner's callback to stop a job (cancelled, or the server stopping)."""


def safe_name(name: str) -> str:
    """An uploaded file name reduced to one harmless path component (folders dropped)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = "".join(ch if ch.isalnum() or ch in _SAFE else "_" for ch in base).lstrip(".")
    return cleaned or "upload"


def zip_members(path: Path) -> int:
    """Number of file entries in a zip (for progress), 0 when it cannot be opened."""
    try:
        with zipfile.ZipFile(path) as zf:
            return sum(1 for info in zf.infolist() if not info.is_dir())
    except (OSError, zipfile.BadZipFile):
        return 1


class StoreWriter:
    """The runner's writer, committing each record to the store under its uploaded name."""

    def __init__(self, store: Store, job_id: str, root: Path) -> None:
        self.store, self.job_id, self.root = store, job_id, root
        self.prefix = str(root) + "/"
        self.count = 0
        self.statuses: Counter[str] = Counter()
        self._closed = False
        self._ids: list[str] = []

    def write(self, record: Record) -> int:
        on_disk = record.path.split("!", 1)[0]
        record.path = record.path.removeprefix(self.prefix)
        record.error = record.error.replace(self.prefix, "") if record.error else record.error
        for f in record.findings:
            f.message = f.message.replace(self.prefix, "")
        line = record.to_json()
        rec_id = self.store.add_record(self.job_id, json.loads(line), line, on_disk)
        self.count += 1
        self.statuses[record.status] += 1
        return self.key(rec_id) if rec_id else -1

    def key(self, rec_id: str) -> int:
        """The runner keeps an integer per record (a line offset for the JSONL writer)."""
        self._ids.append(rec_id)
        return len(self._ids) - 1

    def read_at(self, offset: int) -> str:
        return self.store.record_line(self._ids[offset])

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True


@dataclass
class Limits:
    max_upload_bytes: int = 200 << 20
    max_files_per_job: int = 10_000
    max_active_jobs: int = 4


@dataclass
class RunOptions:
    """How jobs run: the options of ``extractor extract`` (worker processes, LLM hook, engine)."""

    jobs: int = 1
    hook: TableHook | None = None
    concurrency: int = 4
    engine: str = "local"
    ray_address: str | None = None
    #: The LLM options the hook was built from: Ray workers rebuild the same hook from them.
    llm_options: LLMOptions | None = None


class JobManager:
    """Starts, resumes and cancels jobs; one thread per running job."""

    def __init__(self, store: Store, data_dir: Path, *, run_options: RunOptions | None = None) -> None:
        self.store, self.data_dir = store, data_dir
        self.options = run_options or RunOptions()
        self._stop: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._shutdown = threading.Event()
        self._lock = threading.Lock()

    def job_dir(self, job_id: str) -> Path:
        return self.data_dir / "jobs" / job_id / "in"

    def active(self) -> int:
        return len(self.store.jobs_in(("queued", "running")))

    def create(self, uploads: list[tuple[str, Path]]) -> str:
        """A new job from uploaded files already spooled to disk (name as sent, temp path)."""
        total = sum(zip_members(p) if name.lower().endswith(".zip") else 1 for name, p in uploads)
        job_id = uuid.uuid4().hex[:16]
        root = self.job_dir(job_id)
        root.mkdir(parents=True)
        used: set[str] = set()
        for i, (name, tmp) in enumerate(uploads):
            target = safe_name(name)
            if target in used:
                target = f"{i:05d}_{target}"
            used.add(target)
            shutil.move(tmp, root / target)
        self.store.new_job(job_id, total)  # only once every input is in place: a kill before leaves no job
        self.start(job_id)
        return job_id

    def start(self, job_id: str) -> None:
        with self._lock:
            stop = self._stop.setdefault(job_id, threading.Event())
            thread = threading.Thread(
                target=self._run, args=(job_id, stop), name=f"job-{job_id}", daemon=True
            )
            self._threads[job_id] = thread
        thread.start()

    def resume_all(self) -> list[str]:
        """Resume unfinished jobs; drop what a kill left half-made (spooled uploads, inputs of no job)."""
        shutil.rmtree(self.data_dir / "tmp", ignore_errors=True)
        for d in (self.data_dir / "jobs").glob("*"):
            if self.store.job(d.name) is None:
                shutil.rmtree(d, ignore_errors=True)
        jobs = self.store.jobs_in(("queued", "running"))
        for job_id in jobs:
            self.start(job_id)
        return jobs

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop after the record in hand; False if it is not active."""
        state = (self.store.job(job_id) or {}).get("state")
        if state not in ("queued", "running"):
            return False
        self.store.set_state(job_id, "cancelled")
        with self._lock:
            self._stop.setdefault(job_id, threading.Event()).set()
        return True

    def shutdown(self, timeout: float = 1.0) -> None:
        """Stop every job (they stay ``running`` in the store, and resume on the next start)."""
        self._shutdown.set()
        with self._lock:
            for ev in self._stop.values():
                ev.set()
            threads = list(self._threads.values())
        client = getattr(self.options.hook, "client", None)
        if client is not None:  # in-flight model requests: the client's own cancellation
            client.cancel_all()
        for t in threads:
            t.join(timeout / max(1, len(threads)))

    def start_engine(self) -> None:
        """Start Ray before serving (``--engine ray``), in the main thread: the server's signal
        handlers, installed afterwards, then stay in charge of SIGINT/SIGTERM (Ray's would not)."""
        if self.options.engine != "ray":
            return
        try:
            import ray
        except ImportError as exc:
            raise ConfigError("the Ray engine needs the 'ray' extra: pip install 'extractor[ray]'") from exc
        if self.options.ray_address is None:  # a local cluster of our own: it must not outlive us
            start_reaper()
        ray.init(address=self.options.ray_address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False, ignore_reinit_error=True)  # fmt: skip

    def release_engine(self) -> None:
        """End a local Ray started for the jobs (normally done at exit; needed before ``os._exit``)."""
        ray = sys.modules.get("ray")
        if self.options.engine == "ray" and ray is not None and ray.is_initialized():
            ray.shutdown()

    def busy(self) -> bool:
        """True while a job thread is still running (e.g. blocked after :meth:`shutdown`)."""
        with self._lock:
            return any(t.is_alive() for t in self._threads.values())

    def _run(self, job_id: str, stop: threading.Event) -> None:
        root = self.job_dir(job_id)
        self.store.set_state(job_id, "running")
        done_paths, shas = self.store.done(job_id)
        writer = StoreWriter(self.store, job_id, root)
        seen = {str(root / p) for p in done_paths}
        offsets = {sha: writer.key(rid) for sha, rid in shas.items()}

        def check_stop(_rec: Record) -> None:
            if stop.is_set():
                raise JobStopped

        files = sorted(p for p in root.iterdir() if p.is_file())
        try:
            o = self.options
            run(files, writer, jobs=o.jobs, hook=o.hook, concurrency=o.concurrency, on_record=check_stop,
                done_paths=seen, done_shas=offsets, engine=o.engine, ray_address=o.ray_address,
                hook_factory=o.llm_options)  # fmt: skip
        except JobStopped:
            return
        except Exception as exc:  # a job that fails says why; the server goes on
            if not self._shutdown.is_set():  # stopping pulls things from under a job: it resumes
                self.store.set_state(job_id, "failed", f"{type(exc).__name__}: {exc}")
            return
        if not self._shutdown.is_set() and not stop.is_set():
            self.store.set_state(job_id, "done")

    def progress(self, job_id: str) -> dict[str, Any] | None:
        job = self.store.job(job_id)
        if job is None:
            return None
        counts = self.store.counts(job_id)
        return {
            "id": job_id,
            "state": job["state"],
            "done": sum(counts.values()),
            "total": max(job["total"], sum(counts.values())),
            "counts": counts,
            "llm_usage": self.store.llm_usage(job_id),
            "error": job["error"],
        }
