"""The PostgreSQL seam shared by the job queue and the checkpointer: connections whose errors are one line."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from agent.config import redact_dsn
from agent.errors import StoreError

_ready: set[tuple[str, str]] = set()  # (dsn, schema name) set up by this process
_ready_lock = threading.Lock()


def connect(dsn: str, **options: Any):
    """An autocommit psycopg connection, or a StoreError naming the database without its password."""
    import psycopg

    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=10, **options)
    except psycopg.Error as e:
        raise StoreError(f"{redact_dsn(dsn)}: cannot connect to PostgreSQL ({_first_line(e)})") from None


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [e.__class__.__name__])[0]


def setup_once(dsn: str, name: str, create: Callable[[Any], None]) -> None:
    """Run `create(conn)` once per process and database, under an advisory lock so replicas starting
    together don't race on the same CREATE/migration statements."""
    import psycopg

    with _ready_lock:
        if (dsn, name) in _ready:
            return
        from psycopg.rows import dict_row

        conn = connect(dsn, row_factory=dict_row)
        try:
            # polled, not a blocking pg_advisory_lock: a session blocked in a statement holds a snapshot, and the
            # checkpointer's CREATE INDEX CONCURRENTLY in the lock holder would wait for it (a deadlock)
            deadline = time.monotonic() + 60
            while not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (f"brief-agent:{name}",)).fetchone()[
                    "pg_try_advisory_lock"]:
                if time.monotonic() > deadline:
                    raise StoreError(f"{redact_dsn(dsn)}: another process has been setting up the {name} tables "
                                     "for a minute")
                time.sleep(0.1)
            create(conn)
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"brief-agent:{name}",))
        except psycopg.Error as e:
            raise StoreError(f"{redact_dsn(dsn)}: cannot set up the {name} tables ({_first_line(e)})") from None
        finally:
            conn.close()
        _ready.add((dsn, name))


def database_error(dsn: str, what: str, e: Exception) -> StoreError:
    return StoreError(f"{redact_dsn(dsn)}: {what} ({_first_line(e)})")
