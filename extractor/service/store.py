"""The service's embedded database: jobs, records and reviews in one SQLite file.

Every record is committed in its own transaction as soon as it is written (WAL journal), so a
server killed with SIGKILL keeps every record it had reported; ``UNIQUE(job_id, path)`` makes a
record impossible to store twice, whatever a restart replays.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from extractor.models import LLMUsage

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, created REAL NOT NULL, state TEXT NOT NULL, total INTEGER NOT NULL,
    error TEXT, finished REAL
);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, job_id TEXT, seq INTEGER NOT NULL, path TEXT NOT NULL, sha256 TEXT,
    status TEXT NOT NULL, agency TEXT, year INTEGER, checks TEXT NOT NULL, source TEXT,
    json TEXT NOT NULL, UNIQUE (job_id, path)
);
CREATE INDEX IF NOT EXISTS records_job ON records (job_id, seq);
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, reviewer TEXT NOT NULL,
    at TEXT NOT NULL, reason TEXT NOT NULL, cells TEXT NOT NULL, before_status TEXT NOT NULL
);
"""

#: Job states. ``queued``/``running`` jobs are resumed when the server starts.
ACTIVE_STATES: Final = ("queued", "running")


@dataclass(frozen=True)
class Summary:
    """One record as listed (no tables)."""

    id: str
    job_id: str | None
    path: str
    status: str
    agency: str | None
    year: int | None
    checks: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job_id": self.job_id,
            "path": self.path,
            "status": self.status,
            "agency": self.agency,
            "year": self.year,
            "checks": self.checks,
        }


def failing_checks(rec: dict[str, Any]) -> list[str]:
    """The checks with an error finding in a record, sorted and unique."""
    found = rec.get("findings") or []
    return sorted({f["check"] for f in found if isinstance(f, dict) and f.get("severity") == "error"})


class Store:
    """Thread-safe access to the SQLite file (one connection guarded by a lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # ------------------------------------------------------------------------------ jobs
    def new_job(self, job_id: str, total: int) -> None:
        self._run("INSERT INTO jobs VALUES (?, ?, 'queued', ?, NULL, NULL)", (job_id, time.time(), total))

    def job(self, job_id: str) -> dict[str, Any] | None:
        rows = self._all(
            "SELECT id, created, state, total, error, finished FROM jobs WHERE id = ?", (job_id,)
        )
        if not rows:
            return None
        keys = ("id", "created", "state", "total", "error", "finished")
        return dict(zip(keys, rows[0], strict=True))

    def set_state(self, job_id: str, state: str, error: str | None = None) -> None:
        finished = None if state in ACTIVE_STATES else time.time()
        self._run(
            "UPDATE jobs SET state = ?, error = ?, finished = ? WHERE id = ?",
            (state, error, finished, job_id),
        )

    def jobs_in(self, states: tuple[str, ...]) -> list[str]:
        marks = ", ".join("?" * len(states))
        return [
            r[0] for r in self._all(f"SELECT id FROM jobs WHERE state IN ({marks}) ORDER BY created", states)
        ]

    def counts(self, job_id: str) -> dict[str, int]:
        rows = self._all("SELECT status, count(*) FROM records WHERE job_id = ? GROUP BY status", (job_id,))
        return {status: n for status, n in rows}

    def llm_usage(self, job_id: str) -> dict[str, float]:
        """LLM usage summed over the job's records so far (``meta.llm_usage`` numbers)."""
        total: dict[str, float] = {}
        for (raw,) in self._all(
            "SELECT json FROM records WHERE job_id = ? AND json LIKE '%llm_usage%'", (job_id,)
        ):
            usage = (json.loads(raw).get("meta") or {}).get("llm_usage")
            if usage is None:
                continue
            for k, v in LLMUsage.from_dict(usage).numbers().items():
                total[k] = total.get(k, 0) + v
        return total

    # --------------------------------------------------------------------------- records
    def add_record(
        self, job_id: str | None, rec: dict[str, Any], line: str, source: str | None
    ) -> str | None:
        """Store a record; returns its id, or None when the job already holds that path."""
        rec_id = uuid.uuid4().hex[:16]
        with self._lock:
            seq = self._db.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM records WHERE job_id IS ?", (job_id,)
            ).fetchone()[0]
            cur = self._db.execute(
                "INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rec_id, job_id, seq, rec["path"], rec.get("sha256"), rec["status"], rec.get("agency"),
                 rec.get("year"), ",".join(failing_checks(rec)), source, line),
            )  # fmt: skip
        return rec_id if cur.rowcount == 1 else None

    def record(self, rec_id: str) -> tuple[dict[str, Any], str | None] | None:
        """A record as stored and the on-disk file its source text comes from."""
        rows = self._all("SELECT json, source FROM records WHERE id = ?", (rec_id,))
        return (json.loads(rows[0][0]), rows[0][1]) if rows else None

    def record_line(self, rec_id: str) -> str:
        return str(self._all("SELECT json FROM records WHERE id = ?", (rec_id,))[0][0])

    def done(self, job_id: str) -> tuple[set[str], dict[str, str]]:
        """Paths already recorded in a job, and SHA-256 → record id of its non-error records."""
        rows = self._all(
            "SELECT path, sha256, id, status FROM records WHERE job_id = ? ORDER BY seq", (job_id,)
        )
        shas: dict[str, str] = {}
        for _, sha, rid, status in rows:
            if sha and status != "error":
                shas.setdefault(sha, rid)
        return {r[0] for r in rows}, shas

    def job_lines(self, job_id: str, status: str | None, batch: int = 500) -> Iterator[str]:
        """The job's records as JSON lines in the order they were written, in pages."""
        last = 0
        while True:
            rows = self._all(
                "SELECT seq, json FROM records WHERE job_id = ? AND seq > ? AND (? IS NULL OR status = ?) "
                "ORDER BY seq LIMIT ?",
                (job_id, last, status, status, batch),
            )
            if not rows:
                return
            for seq, line in rows:
                last = seq
                yield line + "\n"

    def summaries(self, filters: dict[str, Any], limit: int) -> list[Summary]:
        where, args = ["1 = 1"], []
        for col in ("job_id", "status", "agency", "year"):
            if filters.get(col) is not None:
                where.append(f"{col} = ?")
                args.append(filters[col])
        if filters.get("check"):
            where.append("(',' || checks || ',') LIKE ?")
            args.append(f"%,{filters['check']},%")
        rows = self._all(
            "SELECT id, job_id, path, status, agency, year, checks FROM records WHERE "
            + " AND ".join(where) + " ORDER BY rowid LIMIT ?",
            (*args, limit),
        )  # fmt: skip
        return [Summary(r[0], r[1], r[2], r[3], r[4], r[5], [c for c in r[6].split(",") if c]) for r in rows]

    def save_review(self, rec_id: str, new: dict[str, Any], review: dict[str, Any], before: str) -> None:
        """Replace a record by its reviewed version and log the review, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "UPDATE records SET status = ?, checks = ?, json = ? WHERE id = ?",
                    (
                        new["status"],
                        ",".join(failing_checks(new)),
                        json.dumps(new, ensure_ascii=False),
                        rec_id,
                    ),
                )
                self._db.execute(
                    "INSERT INTO reviews (record_id, reviewer, at, reason, cells, before_status) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (rec_id, review["reviewer"], review["at"], review["reason"],
                     json.dumps(review["cells"], ensure_ascii=False), before),
                )  # fmt: skip
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def reviews(self, rec_id: str) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT reviewer, at, reason, cells, before_status FROM reviews WHERE record_id = ? ORDER BY id",
            (rec_id,),
        )
        return [
            {"reviewer": r[0], "at": r[1], "reason": r[2], "cells": json.loads(r[3]), "before_status": r[4]}
            for r in rows
        ]
