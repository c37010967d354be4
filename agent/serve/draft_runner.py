"""Drafts for the HTTP service: [service] workers at once (one with the embedded model), each in a thread under
the time limit (then cancelled), store kept open.

Checks run in killable child processes under their own limit. Path sources go through the service's
PathPolicy (agent.serve.confine); a request's own config file is refused.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from agent.api import check_draft, draft_from_request, resume_brief
from agent.cancel import cancel_scope
from agent.config import ServiceSettings, Settings
from agent.serve.confine import PathPolicy, is_url_source
from agent.deps import build_store
from agent.errors import BriefError, PathRefused, UsageError
from agent.serve.json_step import DraftRequest, InlineSource
from agent.killable import KillablePool, TimedOut
from agent.progress import Progress
from agent.result import BriefResult

if TYPE_CHECKING:
    from agent.store import PassageStore

log = logging.getLogger("brief.service")


class DraftTimedOut(BriefError):
    code = "timeout"


class DraftTooLarge(UsageError):
    code = "request-too-large"


def draft_slots(settings: Settings) -> int:
    """Drafts that may run at once: [service] workers, but one when a model role in use is the embedded model
    (one llama.cpp process, which answers one request at a time)."""
    embedded = settings.drafter.embedded or (settings.check.layers == "judge" and settings.judge.embedded)
    return 1 if embedded and settings.cache.mode != "replay" else settings.service.workers


class DraftRunner:
    """Drafts in threads under the time limit, at most `slots` at once."""

    def __init__(self, settings: ServiceSettings):
        self.settings = settings
        self.slots = draft_slots(settings.brief)
        self._free_slots = threading.BoundedSemaphore(self.slots)
        self._stores: dict[tuple[str, str], PassageStore] = {}
        self._stores_lock = threading.Lock()
        self.paths = PathPolicy(settings.brief.service, settings.brief.data_dir)
        self.checks = KillablePool(settings.brief.service.check_workers, preload=("agent.serve.draft_runner",
                                                                                    "agent.checks.draft_check"))

    def settings_for(self, request: DraftRequest) -> Settings:
        """The server's settings. A config path in a request is refused without looking at it, so a client
        learns nothing about the server's files (not even whether one exists)."""
        if request.config is not None:
            raise PathRefused("this server does not accept a config file in requests (its own config applies)")
        return self.settings.brief

    def confined(self, strings: list[str], settings: Settings) -> list[Path | str]:
        """Path sources confined (agent.serve.confine), then URL sources as given when this server fetches them."""
        urls = [s for s in strings if is_url_source(s)]
        if urls and not settings.fetch.in_service:
            raise PathRefused("this server does not fetch URL sources; send the text inline ({\"text\": ...})")
        return [*self.paths.files([s for s in strings if not is_url_source(s)], settings.ingest.max_file_bytes), *urls]

    def _store(self, settings: Settings) -> PassageStore:
        """One open chromadb store (and embedding model) per data dir and store setup, kept warm."""
        key = (str(settings.data_dir), settings.embeddings.model_dump_json() + settings.store.model_dump_json())
        with self._stores_lock:
            if key not in self._stores:
                self._stores[key] = build_store(settings)
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
              progress: Progress | None = None) -> BriefResult:
        """What `brief draft --json -` does with the request, without the time limit; `on_run` gets the run id."""
        settings = self.settings_for(request)
        return draft_from_request(request, settings, confine=lambda strings: self.confined(strings, settings),
                                  store=self._store(settings), progress=progress, on_run=on_run)

    def resume(self, run_id: str, progress: Progress | None = None) -> BriefResult:
        """Continue an interrupted run from its checkpoint (`brief resume`): finished LLM calls are not sent again."""
        settings = self.settings.brief
        return resume_brief(run_id, config=settings, store=self._store(settings), progress=progress)

    def _start(self, job: Callable[[], BriefResult], abandoned: threading.Event | None = None
               ) -> tuple[Future, threading.Event]:
        future: Future = Future()
        abandoned = abandoned or threading.Event()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                with self._free_slots, cancel_scope(abandoned):  # past the limit the draft stops, freeing the slot
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
            on_run: Callable[[str], None] | None = None, progress: Progress | None = None,
            cancel: threading.Event | None = None) -> BriefResult:
        """Blocking, for the job worker: a fresh draft, or the resumption of `resume_run`; `progress` (e.g. a
        StageRecord) follows its stages and calls; setting `cancel` stops the draft (agent.cancel.Cancelled)."""
        job = ((lambda: self.resume(resume_run, progress)) if resume_run
               else (lambda: self.draft(request, on_run, progress)))
        future, abandoned = self._start(job, cancel)
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
    """The check itself (runs in a KillablePool child): `brief check --json`, without the judge layer."""
    from agent.checks.draft_check import report_json  # preloaded by the pool's children

    sources: list[InlineSource | Path] = [*(InlineSource(**i) for i in inline), *(Path(f) for f in files)]
    return report_json(check_draft(raw, sources, config=Settings.model_validate_json(settings_json), use_judge=False))
