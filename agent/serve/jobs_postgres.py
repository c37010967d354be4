"""The job queue in PostgreSQL, shared by every `brief serve` replica: leased claims, fenced outcomes.

A claim takes the oldest job that is queued, or running with a lease that ran out (its replica died or
stalled), with `FOR UPDATE SKIP LOCKED`, so two replicas claiming at once never take the same job. The
claim bumps the job's attempt number; renewals, the run id and the outcome are written only while the
attempt is still the current one, so a stale attempt can neither extend a lease nor overwrite a result.
Leases run on the database's clock, so the replicas' clocks need not agree.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from agent.serve.jobs import MAX_ATTEMPTS, Job, gave_up
from agent.serve.postgres import connect, database_error, setup_once

_SCHEMA = """
CREATE TABLE IF NOT EXISTS brief_jobs (
    id TEXT PRIMARY KEY,
    seq BIGSERIAL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    request JSONB NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER,
    outcome JSONB,
    note TEXT,
    run_id TEXT,
    owner TEXT,
    lease_until TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS brief_jobs_open ON brief_jobs (seq) WHERE status IN ('queued', 'running');
"""

_GIVE_UP = """
UPDATE brief_jobs SET status = 'failed', finished_at = %(now)s, http_status = 500, outcome = %(outcome)s,
       note = 'interrupted too often', lease_until = NULL
 WHERE status = 'running' AND lease_until < now() AND attempts >= %(max)s
"""

_CLAIM = """
WITH next AS (
    SELECT id FROM brief_jobs
     WHERE status = 'queued' OR (status = 'running' AND lease_until < now())
     ORDER BY seq LIMIT 1
       FOR UPDATE SKIP LOCKED)
UPDATE brief_jobs AS j
   SET status = 'running', attempts = j.attempts + 1, owner = %(owner)s, started_at = %(now)s,
       lease_until = now() + make_interval(secs => %(lease)s),
       note = CASE WHEN j.status = 'running' THEN 'taken over: its replica stopped renewing the lease' ELSE j.note END
  FROM next WHERE j.id = next.id
RETURNING j.*
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _job(row: dict[str, Any]) -> Job:
    return Job(id=row["id"], status=row["status"], request=row["request"], created_at=row["created_at"],
               started_at=row["started_at"], finished_at=row["finished_at"], attempts=row["attempts"],
               http_status=row["http_status"], outcome=row["outcome"], note=row["note"], run_id=row["run_id"])


class PostgresJobStore:
    """The brief_jobs table; a fresh connection per call, so any thread may use it."""

    def __init__(self, data_dir: Path, dsn: str, lease_s: float = 30.0, max_attempts: int = MAX_ATTEMPTS):
        self.data_dir, self.dsn, self.lease_s, self.max_attempts = Path(data_dir), dsn, lease_s, max_attempts
        setup_once(dsn, "job", lambda conn: conn.execute(_SCHEMA))

    def _execute(self, what: str, sql: str, args: dict[str, Any] | tuple = ()) -> list[dict[str, Any]]:
        import psycopg
        from psycopg.rows import dict_row
        from psycopg.types.json import Jsonb

        args = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in args.items()} if isinstance(args, dict) else \
            tuple(Jsonb(v) if isinstance(v, dict) else v for v in args)
        try:
            with connect(self.dsn, row_factory=dict_row) as conn:
                cursor = conn.execute(sql, args)
                return cursor.fetchall() if cursor.description else [{"rowcount": cursor.rowcount}]
        except psycopg.Error as e:
            raise database_error(self.dsn, f"job queue: {what} failed", e) from None

    def lock(self) -> None:
        """Nothing to lock: replicas share the queue, and leases keep their jobs apart."""

    def unlock(self) -> None:
        pass

    def requeue_interrupted(self, max_attempts: int = MAX_ATTEMPTS) -> int:
        """Nothing at start-up: other replicas' running jobs are alive; a dead replica's lease runs out instead."""
        return 0

    def submit(self, request: dict[str, Any]) -> str:
        job_id = uuid.uuid4().hex
        self._execute("submit", "INSERT INTO brief_jobs (id, status, request, created_at) VALUES (%s, 'queued', %s, %s)",
                      (job_id, request, _now()))
        return job_id

    def get(self, job_id: str) -> Job | None:
        rows = self._execute("read", "SELECT * FROM brief_jobs WHERE id = %s", (job_id,))
        return _job(rows[0]) if rows else None

    def claim(self, worker: str = "") -> Job | None:
        """The oldest queued job, or one whose lease ran out, now leased to `worker` for lease_s."""
        self._execute("give up", _GIVE_UP, {"now": _now(), "outcome": gave_up(self.max_attempts),
                                            "max": self.max_attempts})
        rows = self._execute("claim", _CLAIM, {"owner": worker, "now": _now(), "lease": self.lease_s})
        return _job(rows[0]) if rows else None

    def renew(self, job: Job) -> bool:
        """Extend this attempt's lease; False when the job is no longer this attempt's (taken over, or finished)."""
        rows = self._execute("renew", "UPDATE brief_jobs SET lease_until = now() + make_interval(secs => %s) "
                             "WHERE id = %s AND attempts = %s AND status = 'running'",
                             (self.lease_s, job.id, job.attempts))
        return rows[0]["rowcount"] == 1

    def release(self, job: Job) -> bool:
        """Give this attempt's job back to the queue now (a replica stopping), rather than when its lease runs out."""
        rows = self._execute("release", "UPDATE brief_jobs SET status = 'queued', lease_until = NULL, "
                             "note = 're-queued: its replica stopped' WHERE id = %s AND attempts = %s "
                             "AND status = 'running'", (job.id, job.attempts))
        return rows[0]["rowcount"] == 1

    def set_run(self, job: Job, run_id: str) -> None:
        self._execute("set run", "UPDATE brief_jobs SET run_id = %s WHERE id = %s AND attempts = %s",
                      (run_id, job.id, job.attempts))

    def finish(self, job: Job, http_status: int, outcome: dict[str, Any]) -> bool:
        """Record this attempt's outcome; False when another attempt took the job over meanwhile (a stale run)."""
        status = "failed" if outcome.get("status") == "failed" else "done"
        rows = self._execute(
            "finish", "UPDATE brief_jobs SET status = %s, finished_at = %s, http_status = %s, outcome = %s, "
            "lease_until = NULL WHERE id = %s AND attempts = %s AND status = 'running'",
            (status, _now(), http_status, outcome, job.id, job.attempts))
        return rows[0]["rowcount"] == 1
