"""Graph state checkpointed after every step: in the run folder (LangGraph's SQLite saver), or in the
PostgreSQL named by [state] postgres_dsn (LangGraph's Postgres saver), shared by every replica.

In PostgreSQL, run ids made by two replicas' data dirs could collide, so a run's thread is a random id
kept in its run folder (`checkpoint-thread`): the same run resumes its own thread, and only it.
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NamedTuple

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from agent.runs import write_atomic

# The state holds our own pydantic models and dataclasses: allow exactly those modules.
_ALLOWED = [("agent.nodes", "BriefState"), ("agent.state", "BriefState"), ("agent.state", "Status"), ("agent.schema", "Source"), ("agent.schema", "Passage"),
            ("agent.schema", "Removal"), ("agent.schema", "Sentence"), ("agent.schema", "Trend"),
            ("agent.schema", "CheckReport"), ("agent.schema", "Violation"), ("agent.schema", "Evidence"),
            ("agent.analysis.independence", "SourceGroup")]


class Checkpointer(NamedTuple):
    saver: BaseCheckpointSaver
    thread_id: str  # the graph's thread for this run


def _serde() -> JsonPlusSerializer:
    return JsonPlusSerializer(allowed_msgpack_modules=_ALLOWED)


def run_thread(run_dir: Path) -> str:
    """This run's thread id in a shared database: made once, kept in the run folder."""
    path = Path(run_dir) / "checkpoint-thread"
    if not path.is_file():
        write_atomic(path, uuid.uuid4().hex)
    return path.read_text(encoding="utf-8").strip()


@contextmanager
def open_checkpointer(run_dir: Path, dsn: str = "") -> Iterator[Checkpointer]:
    """The run's checkpointer: SQLite in the run folder, or PostgreSQL when `dsn` is set."""
    if dsn:
        with _postgres(dsn) as saver:
            yield Checkpointer(saver, run_thread(run_dir))
        return
    conn = sqlite3.connect(str(Path(run_dir) / "checkpoints.sqlite3"), check_same_thread=False)
    try:
        yield Checkpointer(SqliteSaver(conn, serde=_serde()), Path(run_dir).name)
    finally:
        conn.close()


@contextmanager
def _postgres(dsn: str) -> Iterator[BaseCheckpointSaver]:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    from agent.serve.postgres import connect, setup_once

    setup_once(dsn, "checkpoint", lambda conn: PostgresSaver(conn, serde=_serde()).setup())
    conn = connect(dsn, prepare_threshold=0, row_factory=dict_row)
    try:
        yield PostgresSaver(conn, serde=_serde())
    finally:
        conn.close()
