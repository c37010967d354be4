"""The HTTP service behind `brief serve`: drafts and checks over JSON, async jobs in a queue that survives restarts.

    POST /v1/briefs         the request `brief draft --json -` reads -> 200 with the document it prints,
                            status "published" or "rejected" (a rejection is a result, not an error)
    POST /v1/briefs:async   the same request -> 202 {"id", "status": "queued", "href"}
    GET  /v1/briefs/{id}    the job: queued | running | done (with "result") | failed (with "error")
    POST /v1/check          {"draft": brief JSON object or text, "sources"?: [...]} -> `brief check --json`
    GET  /healthz           {"status": "ok", "version"}; the OpenAPI schema is at /openapi.json

Every error is {"status": "failed", "error": {"code", "exit_code", "message"}}, exit_code being what
the CLI would exit with; the HTTP status comes from HTTP_STATUS. Up to [service] workers drafts run at once
(one at a time with the embedded model). Jobs live in <data_dir>/jobs.sqlite3, or in the PostgreSQL of
[state] postgres_dsn, which any number of replicas share (README "Scaling out").

Security model (README "Security model"): path sources only under [service] path_roots when
path_sources is on, never the data dir, no config paths in requests; bearer tokens from
BRIEF_API_TOKENS, required off loopback; on loopback the Host header must name loopback (DNS
rebinding); error messages to clients carry no endpoint address, credential or server path.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException

from agent.config import ServiceSettings, Settings, api_tokens
from agent.serve.http_guards import (BodyLimit, ErrorBody, ErrorDocument, Guard, error_response, is_loopback,
                               too_large_response)
from agent.serve.draft_runner import DraftRunner, DraftTimedOut, DraftTooLarge
from agent.progress import StageRecord
from agent.errors import (EXIT_USAGE, BriefError, ConfigError, DataDirError, LLMError, NoUsableSources, PathRefused,
                          StoreError, UsageError)
from agent.serve.jobs import Job, JobQueue, JobStore, JobWorker
from agent.serve.json_step import DraftRequest, InlineSource
from agent.sources.metadata import has_lone_surrogate
from agent.redact import hide_urls
from agent.result import BriefDocument

log = logging.getLogger("brief.service")


HTTP_STATUS: list[tuple[type[BriefError], int]] = [  # first match wins: subclasses before their bases
    (NoUsableSources, 422), (DataDirError, 503), (ConfigError, 400), (PathRefused, 403), (DraftTooLarge, 413),
    (UsageError, 422), (LLMError, 502), (StoreError, 503), (DraftTimedOut, 504)]
HTTP_CODES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
              413: "request-too-large"}


def http_status(e: BriefError) -> int:
    return next((status for cls, status in HTTP_STATUS if isinstance(e, cls)), 500)


def public_error(e: BriefError) -> dict[str, Any]:
    """The error document a client gets: no endpoint address, credential or server path in it."""
    if isinstance(e, (StoreError, DataDirError)):
        log.error("%s", e.one_line())  # the details stay in the server log
        message = "the store is unavailable (details in the server log)" if isinstance(e, StoreError) \
            else "the server's data dir is unusable (details in the server log)"
    else:
        message = hide_urls(e.one_line())
    return {"status": "failed", "error": {"code": e.code, "exit_code": e.exit_code, "message": message}}


def version() -> str:
    try:
        return metadata.version("brief-agent")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def open_job_queue(settings: Settings) -> JobQueue:
    """SQLite in the data dir, or the PostgreSQL queue every replica shares when [state] postgres_dsn is set."""
    state = settings.state
    if state.postgres_dsn:
        from agent.serve.jobs_postgres import PostgresJobStore  # psycopg: only when configured

        return PostgresJobStore(settings.data_dir, state.postgres_dsn, state.job_lease_s)
    return JobStore(settings.data_dir)


class JobAccepted(BaseModel):
    id: str
    status: Literal["queued"] = "queued"
    href: str


class JobView(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    href: str
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    attempts: int = Field(description="Runs started; a server restart during a run re-queues the job, and a "
                          "replica that dies mid-run leaves it to another once its lease runs out.")
    note: str | None = None
    progress: dict[str, Any] | None = Field(None, description="While running: stage, stages so far, LLM calls, "
                                            "tokens, passages embedded, elapsed seconds.")
    http_status: int | None = Field(None, description="What POST /v1/briefs would have answered.")
    result: BriefDocument | None = Field(None, description="When done: the brief document.")
    error: ErrorBody | None = Field(None, description="When failed.")


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    draft: dict[str, Any] | str = Field(description="A brief JSON object (Brief or brief.json), or Markdown/text.")
    sources: list[str | InlineSource] = Field(default_factory=list, description="Check claims against these.")

    @field_validator("draft", "sources")
    @classmethod
    def _encodable(cls, value: Any) -> Any:
        if has_lone_surrogate(json.dumps(value, ensure_ascii=False, default=str)):
            raise ValueError("text contains a lone surrogate (invalid Unicode)")
        return value


class CheckResult(BaseModel):
    """What `brief check --json` prints."""

    status: Literal["pass", "fail"]
    violations: list[dict[str, Any]]
    claims: list[dict[str, Any]] = Field(default_factory=list)


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


ERRORS = {status: {"model": ErrorDocument} for status in (400, 413, 422, 500, 502, 503, 504)}


def describe_invalid(errors: list[dict[str, Any]]) -> str:
    """FastAPI's validation errors as one line, in the words of `brief draft --json`."""
    # a union (path or inline source) reports every branch; our own validators' message says more
    first = next((e for e in errors if e.get("type") == "value_error"), errors[0])
    loc = [str(p) for p in first.get("loc", ())[1:]]  # drop the leading "body"
    if first.get("type") == "json_invalid":
        return f"request body is not valid JSON ({first.get('ctx', {}).get('error', 'decode error')} at character {loc[0] if loc else 0})"
    if isinstance(first.get("input"), (bytes, bytearray)):
        return "request body must be JSON, sent with Content-Type: application/json"
    if not loc and first.get("type") == "missing":
        return "request body is missing (expected a JSON object)"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"request key '{'.'.join(loc) or '(body)'}': {first.get('msg', 'invalid')}{more}"


def _install_error_handlers(app: FastAPI, settings: ServiceSettings) -> None:
    async def on_brief_error(request: Request, exc: BriefError) -> Response:
        return JSONResponse(public_error(exc), status_code=http_status(exc))

    async def on_http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 413:
            return too_large_response(settings.max_body_bytes)
        code = HTTP_CODES.get(exc.status_code, f"http-{exc.status_code}")
        return error_response(exc.status_code, code, EXIT_USAGE, str(exc.detail), headers=exc.headers)

    async def on_invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(422, "usage", EXIT_USAGE, describe_invalid(list(exc.errors())))

    async def on_bug(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        # no detail: an unexpected exception's text may name server paths or addresses
        return error_response(500, "internal", 1,
                              f"internal error: {exc.__class__.__name__} (details and traceback in the server log)")

    app.add_exception_handler(BriefError, on_brief_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(Exception, on_bug)


def create_app(settings: ServiceSettings | Settings) -> FastAPI:
    """The FastAPI app; its lifespan claims the data dir, re-queues interrupted jobs and runs the worker."""
    if isinstance(settings, Settings):
        settings = ServiceSettings(brief=settings)
    tokens = [t.get_secret_value() for t in settings.api_tokens] if settings.api_tokens is not None else api_tokens()
    runner = DraftRunner(settings)
    state = settings.brief.state
    jobs = open_job_queue(settings.brief)

    progress: dict[str, StageRecord] = {}  # running jobs' stage and calls, for GET /v1/briefs/{id}

    def run_job(job: Job) -> tuple[int, dict[str, Any]]:
        """(HTTP status, brief document or error document), as POST /v1/briefs would answer; an interrupted
        attempt's run is resumed from its checkpoint rather than drafted again."""
        record = progress[job.id] = StageRecord()
        try:
            request = DraftRequest.model_validate(job.request)
            try:
                result = runner.run(request, resume_run=job.run_id, on_run=lambda run_id: jobs.set_run(job, run_id),
                                    progress=record, cancel=job.lost)
            except UsageError:
                if not job.run_id:
                    raise
                log.warning("job %s: run %s cannot be resumed here (another replica's, or gone); drafting again",
                            job.id, job.run_id)
                result = runner.run(request, on_run=lambda run_id: jobs.set_run(job, run_id), progress=record,
                                    cancel=job.lost)
        except BriefError as e:
            return http_status(e), public_error(e)
        finally:
            progress.pop(job.id, None)
        return 200, result.document().model_dump(mode="json")

    worker = JobWorker(jobs, run_job, workers=runner.slots, lease_s=state.job_lease_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        jobs.lock()
        if requeued := jobs.requeue_interrupted():
            log.info("re-queued %d job(s) interrupted by the last server stop", requeued)
        worker.start()
        threading.Thread(target=runner.warm_up, name="brief-warm-up", daemon=True).start()
        try:
            yield
        finally:
            worker.stop()
            runner.close()
            jobs.unlock()

    app = FastAPI(title="brief-agent", version=version(), lifespan=lifespan,
                  telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
                  summary="Checked, cited briefs from a pile of sources.")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Guard, tokens=tokens, check_host=is_loopback(settings.host))  # outermost: before any body
    app.state.settings, app.state.runner, app.state.jobs = settings, runner, jobs
    _install_error_handlers(app, settings)

    @app.get("/healthz", response_model=Health)
    def healthz() -> Health:
        return Health(version=version())

    @app.post("/v1/briefs", response_model=None, responses={200: {"model": BriefDocument}, **ERRORS})
    async def draft_now(body: DraftRequest) -> Response:
        """Draft and check a brief; 200 for "published" and for "rejected" (see the document's status)."""
        result = await runner.run_async(body)
        return Response(result.document().model_dump_json(), media_type="application/json")

    @app.post("/v1/briefs:async", status_code=202, response_model=JobAccepted, responses=ERRORS)
    def draft_later(body: DraftRequest, response: Response) -> JobAccepted:
        """Queue a draft; poll the href. Jobs are kept across restarts (SQLite in the data dir, or PostgreSQL)."""
        job_id = jobs.submit(body.model_dump(mode="json"))
        worker.notify()
        response.headers["Location"] = f"/v1/briefs/{job_id}"
        return JobAccepted(id=job_id, href=f"/v1/briefs/{job_id}")

    @app.get("/v1/briefs/{job_id}", response_model=None, responses={200: {"model": JobView}, 404: {"model": ErrorDocument}})
    def job_status(job_id: str) -> JSONResponse:
        """A queued draft's status, and its result document once done."""
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job with id '{job_id}'")
        view: dict[str, Any] = {"id": job.id, "status": job.status, "href": f"/v1/briefs/{job.id}",
                                "created_at": job.created_at, "started_at": job.started_at,
                                "finished_at": job.finished_at, "attempts": job.attempts, "note": job.note,
                                "http_status": job.http_status}
        if job.status == "running" and (record := progress.get(job.id)) is not None:
            view["progress"] = record.snapshot()  # stage, stages so far, LLM calls, tokens, passages embedded
        if job.status == "done":
            view["result"] = job.outcome
        elif job.status == "failed" and job.outcome:
            view["error"] = job.outcome.get("error")
        return JSONResponse(view)

    @app.post("/v1/check", response_model=None, responses={200: {"model": CheckResult}, **ERRORS})
    def check(body: CheckRequest) -> JSONResponse:
        """Check a draft; 200 with status "pass" or "fail" and the violations."""
        return JSONResponse(runner.check(body.draft if isinstance(body.draft, str) else json.dumps(body.draft),
                                         body.sources))

    return app


def serve(settings: ServiceSettings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app under uvicorn until interrupted; refuses a data dir another server is using, and a
    non-loopback address without bearer tokens."""
    import uvicorn

    settings = settings.model_copy(update={"host": host})
    if not is_loopback(host) and not (settings.api_tokens or api_tokens()):
        raise UsageError(f"refusing to listen on {host} without authentication: set BRIEF_API_TOKENS "
                         "(comma-separated bearer tokens), or bind to 127.0.0.1")
    app = create_app(settings)
    app.state.jobs.lock()  # fail here, in one line, rather than inside uvicorn's start-up
    brief_log = logging.getLogger("brief")
    if not brief_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        brief_log.addHandler(handler)
        brief_log.setLevel(logging.INFO)
    log.info("serving http://%s:%d (data dir %s; %d draft worker(s); jobs in %s; API docs at /docs)", host, port,
             settings.brief.data_dir, app.state.runner.slots,
             "PostgreSQL" if settings.brief.state.postgres_dsn else "the data dir")
    uvicorn.run(app, host=host, port=port, timeout_graceful_shutdown=5)
