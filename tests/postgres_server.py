"""The PostgreSQL fixture for tests: agent.testing.postgres's throwaway server, or a skip that says why not."""

from __future__ import annotations

import pytest

from agent.testing.postgres import Postgres


@pytest.fixture(scope="session")
def postgres():
    """The DSN of a fresh PostgreSQL on loopback for the test session, or a skip that says why not."""
    server = Postgres()
    problem = server.start()
    if problem is not None:
        server.stop()
        pytest.skip(f"PostgreSQL could not start here: {problem}")
    yield server.dsn
    server.stop()


def fresh_database(dsn: str, name: str) -> str:
    """A new, empty database on the server of `dsn` (dropped first if it exists); its DSN."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return dsn.rsplit("/", 1)[0] + "/" + name
