"""Serving: the HTTP service, the job queues (SQLite, PostgreSQL), the JSON pipeline step and the draft runner."""
