"""Drafts for the HTTP service: one at a time, each in a daemon thread under the time limit, store kept open."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.config import Settings, load_settings
from agent.errors import BriefError, NoUsableSources
from agent.json_step import DraftRequest, InlineSource, inline_sources
from agent.result import BriefResult, Skipped

log = logging.getLogger("brief.service")


class DraftTimedOut(BriefError):
    code = "timeout"


class ServiceSettings(BaseModel):
    """The brief settings plus the server's own limits."""

    model_config = ConfigDict(extra="forbid")

    brief: Settings
    time_limit_s: float = Field(300.0, gt=0, description="Per draft, waiting for the drafter included; then 504.")
    max_body_bytes: int = Field(10_000_000, ge=1, description="Larger request bodies get 413.")


class DraftRunner:
    """Drafts one at a time (one trend registry, one embedded model), each in a thread under the time limit."""

    def __init__(self, settings: ServiceSettings):
        self.settings = settings
        self._one_at_a_time = threading.Lock()
        self._stores: dict[tuple[str, str], Any] = {}
        self._stores_lock = threading.Lock()

    def settings_for(self, request: DraftRequest) -> Settings:
        """A request's own config file replaces the server's, as with `brief draft --json`; the data dir stays."""
        if request.config is None:
            return self.settings.brief
        return load_settings(request.config, overrides={"data_dir": str(self.settings.brief.data_dir)})

    def _store(self, settings: Settings):
        """One open chromadb store (and embedding model) per data dir and store setup, kept warm."""
        from agent.api import _store

        key = (str(settings.data_dir), settings.embeddings.model_dump_json() + settings.store.model_dump_json())
        with self._stores_lock:
            if key not in self._stores:
                self._stores[key] = _store(settings)
            return self._stores[key]

    def warm_up(self) -> None:
        """At start-up, in the background: import the graph and open the store, so the first draft is not slower."""
        # Not the embedded model: it starts with the first draft and then stays up for the process;
        # starting it here would orphan it whenever the server stops during the model's start-up.
        try:
            import agent.graph  # noqa: F401  (the first draft would otherwise pay for the imports)

            self._store(self.settings.brief)
        except BriefError as e:  # the first request reports it properly; say it early too
            log.warning("warm-up: %s", e.one_line())

    def draft(self, request: DraftRequest) -> BriefResult:
        """What `brief draft --json -` does with the request, without the time limit."""
        from agent.api import draft_brief

        settings = self.settings_for(request)
        records, skipped = inline_sources(request, settings)
        paths = [Path(s) for s in request.sources if isinstance(s, str)]
        result = draft_brief([*records, *paths], config=settings, store=self._store(settings))
        result.skipped_sources[:0] = [Skipped(origin=r.split(":")[0], reason=r.split(": ", 1)[-1]) for r in skipped]
        return result

    def _start(self, request: DraftRequest) -> tuple[Future, threading.Event]:
        future: Future = Future()
        abandoned = threading.Event()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                with self._one_at_a_time:
                    if abandoned.is_set():
                        raise self._timed_out()
                    result = self.draft(request)
            except BaseException as e:  # handed to whoever waits on the future, which reports it
                future.set_exception(e)
            else:
                future.set_result(result)

        threading.Thread(target=work, name="brief-draft", daemon=True).start()
        return future, abandoned

    def _timed_out(self) -> DraftTimedOut:
        return DraftTimedOut(f"the draft did not finish within the time limit of {self.settings.time_limit_s:g} s "
                             "(a draft already started goes on; its run folder records the outcome)")

    def run(self, request: DraftRequest) -> BriefResult:
        """Blocking, for the job worker."""
        future, abandoned = self._start(request)
        try:
            return future.result(timeout=self.settings.time_limit_s)
        except TimeoutError:
            if future.done():  # the draft itself raised TimeoutError: report that, not the limit
                raise
            abandoned.set()
            raise self._timed_out() from None

    async def run_async(self, request: DraftRequest) -> BriefResult:
        future, abandoned = self._start(request)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.settings.time_limit_s)
        except TimeoutError:
            if future.done():
                raise
            abandoned.set()
            raise self._timed_out() from None

    def check(self, raw: str, sources: list[str | InlineSource]) -> dict[str, Any]:
        """`brief check --json` on a draft, against the sources when there are any."""
        from agent.api import _passages
        from agent.checks.draft_check import check_draft, report_json
        from agent.ingest import load_sources

        settings = self.settings.brief
        passages = None
        if sources:
            records, _ = inline_sources(DraftRequest(sources=sources), settings)
            paths = [Path(s) for s in sources if isinstance(s, str)]
            found = records + (load_sources(paths, settings.ingest).sources if paths else [])
            if not found:
                raise NoUsableSources("no usable sources to check the draft against")
            passages = _passages(found, settings.ingest.passage_chars)
        return report_json(check_draft(raw, passages))
