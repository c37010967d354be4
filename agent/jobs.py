"""Asynchronous brief jobs: a SQLite queue in the data dir that survives restarts, and one worker thread.

    queued ──claim──▶ running ──▶ done    (the brief document: published or rejected)
       ▲                 │     └─▶ failed  (an error document)
       └── server stop ──┘  re-queued at the next start, up to MAX_ATTEMPTS runs

A job records its run id as soon as its run folder exists, so a re-queued job resumes that run from
its last checkpoint (as `brief resume` does) instead of sending its finished LLM calls again.

One server owns a data dir at a time (a lock file), so a starting server can safely re-queue
every job it finds "running": the process that was running it is gone.
"""

from __future__ import annotations

import fcntl
import json
import logging
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TextIO

from agent.errors import StoreError

MAX_ATTEMPTS = 3
log = logging.getLogger("brief.jobs")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    request TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER,
    outcome TEXT,
    note TEXT,
    run_id TEXT
)
"""

# A job runner takes the job (its stored request, and the run id of an interrupted attempt) and returns
# (HTTP status, the JSON document to keep).
Runner = Callable[["Job"], tuple[int, dict[str, Any]]]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Job:
    id: str
    status: str
    request: dict[str, Any]
    created_at: str
    started_at: str | None
    finished_at: str | None
    attempts: int
    http_status: int | None
    outcome: dict[str, Any] | None
    note: str | None
    run_id: str | None = None


class JobStore:
    """The jobs table in <data_dir>/jobs.sqlite3; a fresh connection per call, so any thread may use it."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "jobs.sqlite3"
        self._lock_file: TextIO | None = None
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
                if "run_id" not in {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}:
                    db.execute("ALTER TABLE jobs ADD COLUMN run_id TEXT")  # a queue from before resumable jobs
        except (OSError, sqlite3.Error) as e:
            raise StoreError(f"{self.path}: cannot open the job queue ({e})") from None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def _write(self, sql: str, args: tuple) -> int:
        try:
            with closing(self._connect()) as db:
                return db.execute(sql, args).rowcount
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: job queue write failed ({e})") from None

    def lock(self) -> None:
        """Claim the data dir for this process; a second server on it would steal running jobs."""
        if self._lock_file is not None:
            return
        handle = (self.data_dir / "serve.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StoreError(f"{self.data_dir}: another brief server is using this data dir") from None
        self._lock_file = handle

    def unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing the descriptor releases the flock
            self._lock_file = None

    def submit(self, request: dict[str, Any]) -> str:
        job_id = uuid.uuid4().hex
        self._write("INSERT INTO jobs (id, status, request, created_at) VALUES (?, 'queued', ?, ?)",
                    (job_id, json.dumps(request), _now()))
        return job_id

    def get(self, job_id: str) -> Job | None:
        try:
            with closing(self._connect()) as db:
                row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: job queue read failed ({e})") from None
        if row is None:
            return None
        return Job(id=row["id"], status=row["status"], request=json.loads(row["request"]),
                   created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
                   attempts=row["attempts"], http_status=row["http_status"],
                   outcome=json.loads(row["outcome"]) if row["outcome"] else None, note=row["note"],
                   run_id=row["run_id"])

    def claim(self) -> Job | None:
        """Mark the oldest queued job running (one transaction, so two claimers never share a job)."""
        try:
            with closing(self._connect()) as db:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY rowid LIMIT 1").fetchone()
                if row is not None:
                    db.execute("UPDATE jobs SET status = 'running', started_at = ?, attempts = attempts + 1 "
                               "WHERE id = ?", (_now(), row["id"]))
                db.execute("COMMIT")
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot claim a job ({e})") from None
        return self.get(row["id"]) if row is not None else None

    def set_run(self, job: Job, run_id: str) -> None:
        """The run folder this attempt writes to: where a re-queued attempt resumes."""
        self._write("UPDATE jobs SET run_id = ? WHERE id = ? AND attempts = ?", (run_id, job.id, job.attempts))

    def finish(self, job: Job, http_status: int, outcome: dict[str, Any]) -> bool:
        """Record the outcome of this attempt; False when the job was re-queued meanwhile (a stale run)."""
        status = "failed" if outcome.get("status") == "failed" else "done"
        changed = self._write(
            "UPDATE jobs SET status = ?, finished_at = ?, http_status = ?, outcome = ? "
            "WHERE id = ? AND attempts = ? AND status = 'running'",
            (status, _now(), http_status, json.dumps(outcome), job.id, job.attempts))
        return changed == 1

    def requeue_interrupted(self, max_attempts: int = MAX_ATTEMPTS) -> int:
        """At start-up: jobs left running by a stopped server run again, or fail after max_attempts."""
        gave_up = {"status": "failed", "error": {
            "code": "interrupted", "exit_code": 1,
            "message": f"the server stopped during this job {max_attempts} times; not retrying"}}
        self._write("UPDATE jobs SET status = 'failed', finished_at = ?, http_status = 500, outcome = ?, "
                    "note = 'interrupted too often' WHERE status = 'running' AND attempts >= ?",
                    (_now(), json.dumps(gave_up), max_attempts))
        return self._write("UPDATE jobs SET status = 'queued', started_at = NULL, "
                           "note = 're-queued after a server restart' WHERE status = 'running'", ())


class JobWorker:
    """One daemon thread: claim the oldest queued job, run it, record the outcome; wake on submit."""

    def __init__(self, store: JobStore, runner: Runner, poll_s: float = 1.0):
        self.store = store
        self.runner = runner
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="brief-jobs", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop claiming; a job still running stays 'running' and is re-queued at the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.store.claim()
            except StoreError as e:
                log.error("job queue: %s", e.one_line())
                job = None
            if job is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        try:
            http_status, outcome = self.runner(job)
        except Exception as e:  # a bug in the runner: keep the worker alive, keep the traceback in the log
            log.exception("job %s failed unexpectedly", job.id)
            http_status, outcome = 500, {"status": "failed", "error": {
                "code": "internal", "exit_code": 1,
                "message": f"internal error: {e.__class__.__name__} (details and traceback in the server log)"}}
        try:
            if not self.store.finish(job, http_status, outcome):
                log.warning("job %s: outcome of a stale attempt discarded", job.id)
        except StoreError as e:
            log.error("job %s: %s", job.id, e.one_line())
