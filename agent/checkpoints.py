"""Graph state checkpointed after every step in the run folder (LangGraph's SQLite saver)."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

# The state holds our own pydantic models and dataclasses: allow exactly those modules.
_ALLOWED = [("agent.nodes", "BriefState"), ("agent.state", "BriefState"), ("agent.state", "Status"), ("agent.schema", "Source"), ("agent.schema", "Passage"),
            ("agent.schema", "Removal"), ("agent.schema", "Sentence"), ("agent.schema", "Trend"),
            ("agent.schema", "CheckReport"), ("agent.schema", "Violation"), ("agent.schema", "Evidence"),
            ("agent.independence", "SourceGroup")]


@contextmanager
def open_checkpointer(run_dir: Path) -> Iterator[SqliteSaver]:
    conn = sqlite3.connect(str(Path(run_dir) / "checkpoints.sqlite3"), check_same_thread=False)
    try:
        yield SqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=_ALLOWED))
    finally:
        conn.close()
