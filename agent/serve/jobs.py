"""Asynchronous brief jobs: a queue that survives restarts, and N worker threads.

    queued ──claim──▶ running ──▶ done    (the brief document: published or rejected)
       ▲                 │     └─▶ failed  (an error document)
       └── server stop ──┘  run again, up to MAX_ATTEMPTS runs

A job records its run id as soon as its run folder exists, so a re-queued job resumes that run from
its last checkpoint (as `brief resume` does) instead of sending its finished LLM calls again.

Two stores, one contract (JobQueue): JobStore, SQLite in the data dir (the default), where one server owns
the data dir (a lock file), so a starting server re-queues every job it finds "running"; and
agent.serve.jobs_postgres.PostgresJobStore, one queue for many replicas, where a running job holds a lease that
its worker renews, and a job whose lease ran out (its replica died) is taken over by the next claim.
Either way an attempt's number fences it: an outcome from an attempt that is no longer current is discarded.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, TextIO

from agent.cancel import Cancelled
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


def gave_up(max_attempts: int) -> dict[str, Any]:
    """The error document of a job whose runs were interrupted too often."""
    return {"status": "failed", "error": {
        "code": "interrupted", "exit_code": 1,
        "message": f"the server stopped during this job {max_attempts} times; not retrying"}}


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
    lost: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)  # lease lost: stop


class JobQueue(Protocol):
    """What the service and the worker need from a job store."""

    def lock(self) -> None: ...
    def unlock(self) -> None: ...
    def requeue_interrupted(self, max_attempts: int = MAX_ATTEMPTS) -> int: ...
    def submit(self, request: dict[str, Any]) -> str: ...
    def get(self, job_id: str) -> Job | None: ...
    def claim(self, worker: str = "") -> Job | None: ...
    def renew(self, job: Job) -> bool: ...
    def release(self, job: Job) -> bool: ...
    def set_run(self, job: Job, run_id: str) -> None: ...
    def finish(self, job: Job, http_status: int, outcome: dict[str, Any]) -> bool: ...


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

    def claim(self, worker: str = "") -> Job | None:
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

    def renew(self, job: Job) -> bool:
        """Nothing to renew: this server owns the data dir, so its running jobs are its own until it stops."""
        return True

    def release(self, job: Job) -> bool:
        """Nothing to release: the next server on this data dir re-queues the job at its start."""
        return False

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
        self._write("UPDATE jobs SET status = 'failed', finished_at = ?, http_status = 500, outcome = ?, "
                    "note = 'interrupted too often' WHERE status = 'running' AND attempts >= ?",
                    (_now(), json.dumps(gave_up(max_attempts)), max_attempts))
        return self._write("UPDATE jobs SET status = 'queued', started_at = NULL, "
                           "note = 're-queued after a server restart' WHERE status = 'running'", ())


class JobWorker:
    """`workers` daemon threads: each claims the oldest queued job, runs it, records the outcome; they wake on
    submit. One more thread renews the leases of the jobs running here, every lease_s / 3."""

    def __init__(self, store: JobQueue, runner: Runner, poll_s: float = 1.0, workers: int = 1, lease_s: float = 30.0):
        self.store = store
        self.runner = runner
        self.poll_s = poll_s
        self.workers = workers
        self.lease_s = lease_s
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"  # who holds a lease
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[str, Job] = {}  # job id -> the attempt running here
        self._running_lock = threading.Lock()

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._loop, name=f"brief-jobs-{n}", daemon=True)
                         for n in range(self.workers)]
        self._threads.append(threading.Thread(target=self._heartbeat, name="brief-jobs-lease", daemon=True))
        for thread in self._threads:
            thread.start()

    def notify(self) -> None:
        with self._wake:
            self._wake.notify()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop claiming. A job still running here runs again later: re-queued at the next start (SQLite), or
        released to the other replicas at once and stopped here at its next cancellation point (PostgreSQL)."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._running_lock:
            running = list(self._running.values())
        for job in running:
            try:
                if self.store.release(job):
                    job.lost.set()
            except StoreError as e:  # its lease runs out instead
                log.error("job %s: cannot release it: %s", job.id, e.one_line())

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.store.claim(self.name)
            except StoreError as e:
                log.error("job queue: %s", e.one_line())
                job = None
            if job is None:
                with self._wake:
                    self._wake.wait(self.poll_s)
                continue
            with self._running_lock:
                self._running[job.id] = job
            try:
                self._run(job)
            finally:
                with self._running_lock:
                    self._running.pop(job.id, None)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            with self._running_lock:
                running = list(self._running.values())
            for job in running:
                try:
                    if not self.store.renew(job):
                        log.warning("job %s: attempt %d lost its lease (another replica took it over); stopping it",
                                    job.id, job.attempts)
                        job.lost.set()
                except StoreError as e:
                    log.error("job %s: cannot renew its lease: %s", job.id, e.one_line())

    def _run(self, job: Job) -> None:
        try:
            http_status, outcome = self.runner(job)
        except Cancelled:  # its lease was lost: the attempt that took the job over records the outcome
            log.warning("job %s: attempt %d stopped", job.id, job.attempts)
            return
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
