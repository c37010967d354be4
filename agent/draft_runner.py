"""Drafts for the HTTP service: one at a time, each in a thread under the time limit (then cancelled), store kept open.

Checks run in killable child processes under their own limit. Path sources go through the service's
PathPolicy (agent.confine); a request's own config file is refused.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from agent.cancel import cancel_scope
from agent.config import Settings
from agent.confine import PathPolicy, is_url_source
from agent.errors import BriefError, NoUsableSources, PathRefused, UsageError
from agent.json_step import DraftRequest, InlineSource, inline_sources
from agent.killable import KillablePool, TimedOut
from agent.result import BriefResult, Skipped

log = logging.getLogger("brief.service")


class DraftTimedOut(BriefError):
    code = "timeout"


class DraftTooLarge(UsageError):
    code = "request-too-large"


class ServiceSettings(BaseModel):
    """The brief settings plus the server's own limits."""

    model_config = ConfigDict(extra="forbid")

    brief: Settings
    time_limit_s: float = Field(300.0, gt=0, description="Per draft, waiting for the drafter included; then 504.")
    max_body_bytes: int = Field(10_000_000, ge=1, description="Larger request bodies get 413.")
    host: str = Field("127.0.0.1", description="The bind address: off loopback, bearer tokens are required.")
    api_tokens: list[SecretStr] | None = Field(None, description="None: from BRIEF_API_TOKENS.")


class DraftRunner:
    """Drafts one at a time (one trend registry, one embedded model), each in a thread under the time limit."""

    def __init__(self, settings: ServiceSettings):
        self.settings = settings
        self._one_at_a_time = threading.Lock()
        self._stores: dict[tuple[str, str], Any] = {}
        self._stores_lock = threading.Lock()
        self.paths = PathPolicy(settings.brief.service, settings.brief.data_dir)
        self.checks = KillablePool(settings.brief.service.check_workers, preload=("agent.draft_runner",
                                                                                    "agent.checks.draft_check"))

    def settings_for(self, request: DraftRequest) -> Settings:
        """The server's settings. A config path in a request is refused without looking at it, so a client
        learns nothing about the server's files (not even whether one exists)."""
        if request.config is not None:
            raise PathRefused("this server does not accept a config file in requests (its own config applies)")
        return self.settings.brief

    def sources_of(self, sources: list[str | InlineSource], settings: Settings) -> tuple[list, list[str]]:
        """Inline records cleaned, path sources confined (agent.confine), URL sources passed on as given."""
        records, skipped = inline_sources(DraftRequest(sources=sources), settings)
        strings = [s for s in sources if isinstance(s, str)]
        urls = [s for s in strings if is_url_source(s)]
        if urls and not getattr(getattr(settings, "fetch", None), "in_service", False):
            raise PathRefused("this server does not fetch URL sources; send the text inline ({\"text\": ...})")
        files = self.paths.files([s for s in strings if not is_url_source(s)], settings.ingest.max_file_bytes)
        return [*records, *files, *urls], skipped

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

    def draft(self, request: DraftRequest, on_run: Callable[[str], None] | None = None,
              progress=None) -> BriefResult:
        """What `brief draft --json -` does with the request, without the time limit; `on_run` gets the run id."""
        from agent.api import draft_brief

        settings = self.settings_for(request)
        sources, skipped = self.sources_of(request.sources, settings)
        result = draft_brief(sources, config=settings, store=self._store(settings), on_run=on_run, progress=progress)
        result.skipped_sources[:0] = [Skipped(origin=r.split(":")[0], reason=r.split(": ", 1)[-1]) for r in skipped]
        return result

    def resume(self, run_id: str, progress=None) -> BriefResult:
        """Continue an interrupted run from its checkpoint (`brief resume`): finished LLM calls are not sent again."""
        from agent.api import resume_brief

        settings = self.settings.brief
        return resume_brief(run_id, config=settings, store=self._store(settings), progress=progress)

    def _start(self, job: Callable[[], BriefResult]) -> tuple[Future, threading.Event]:
        future: Future = Future()
        abandoned = threading.Event()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                with self._one_at_a_time, cancel_scope(abandoned):  # past the limit the draft stops, freeing the slot
                    if abandoned.is_set():
                        raise self._timed_out()
                    result = job()
            except BaseException as e:  # handed to whoever waits on the future, which reports it
                future.set_exception(e)
            else:
                future.set_result(result)

        threading.Thread(target=work, name="brief-draft", daemon=True).start()
        return future, abandoned

    def _timed_out(self) -> DraftTimedOut:
        return DraftTimedOut(f"the draft did not finish within the time limit of {self.settings.time_limit_s:g} s "
                             "and was stopped")

    def run(self, request: DraftRequest, *, resume_run: str | None = None,
            on_run: Callable[[str], None] | None = None, progress=None) -> BriefResult:
        """Blocking, for the job worker: a fresh draft, or the resumption of `resume_run`; `progress` (e.g. a
        StageRecord) follows its stages and calls."""
        job = ((lambda: self.resume(resume_run, progress)) if resume_run
               else (lambda: self.draft(request, on_run, progress)))
        future, abandoned = self._start(job)
        try:
            return future.result(timeout=self.settings.time_limit_s)
        except TimeoutError:
            if future.done():  # the draft itself raised TimeoutError: report that, not the limit
                raise
            abandoned.set()
            raise self._timed_out() from None

    async def run_async(self, request: DraftRequest) -> BriefResult:
        future, abandoned = self._start(lambda: self.draft(request))
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.settings.time_limit_s)
        except TimeoutError:
            if future.done():
                raise
            abandoned.set()
            raise self._timed_out() from None

    def check(self, raw: str, sources: list[str | InlineSource]) -> dict[str, Any]:
        """`brief check --json` on a draft, against the sources when there are any: in a child process that is
        killed at the check time limit, so a crafted draft cannot keep a core busy after its 504."""
        settings = self.settings.brief
        limits = settings.service
        if len(raw.encode("utf-8", "replace")) > limits.max_check_bytes:
            raise DraftTooLarge(f"the draft is larger than the limit of {limits.max_check_bytes} bytes")
        inline = [s.model_dump(mode="json") for s in sources if isinstance(s, InlineSource)]
        strings = [s for s in sources if isinstance(s, str)]
        if any(is_url_source(s) for s in strings):
            raise PathRefused("/v1/check does not fetch URL sources; send the text inline ({\"text\": ...})")
        files = [str(p) for p in self.paths.files(strings, settings.ingest.max_file_bytes)]
        try:
            return self.checks.call(check_in_child, (raw, inline, files, settings.model_dump_json()),
                                    limits.check_time_limit_s)
        except TimedOut:
            raise DraftTimedOut(f"the check did not finish within the time limit of {limits.check_time_limit_s:g} s "
                                "and was stopped") from None

    def close(self) -> None:
        self.checks.close()


def check_in_child(raw: str, inline: list[dict], files: list[str], settings_json: str) -> dict[str, Any]:
    """The check itself (runs in a KillablePool child): ingest, passages, every checker rule."""
    from agent.api import _passages
    from agent.checks.draft_check import check_draft, report_json
    from agent.ingest import load_sources

    settings = Settings.model_validate_json(settings_json)
    passages = None
    if inline or files:
        records, _ = inline_sources(DraftRequest(sources=[InlineSource(**i) for i in inline]), settings) \
            if inline else ([], [])
        found = records + (load_sources([Path(f) for f in files], settings.ingest).sources if files else [])
        if not found:
            raise NoUsableSources("no usable sources to check the draft against")
        passages = _passages(found, settings.ingest.passage_chars)
    return report_json(check_draft(raw, passages))
