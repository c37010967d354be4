"""HTTP guards in front of the service's routes: body size, bearer tokens, the Host header; errors in our shape."""

from __future__ import annotations

import hmac
import ipaddress
import re
from typing import Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.errors import EXIT_USAGE

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
_HOST = re.compile(r"(\[[0-9a-fA-F:.]*\]|[^:\[\]]+)(?::\d{1,5})?")  # name or [v6], then an optional port
OPEN_PATHS = {"/healthz"}  # answered without a token (load balancers); says nothing but the version


def is_loopback(host: str) -> bool:
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ErrorBody(BaseModel):
    code: str
    exit_code: int
    message: str


class ErrorDocument(BaseModel):
    status: Literal["failed"] = "failed"
    error: ErrorBody


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, "request body too large")


class BodyLimit:
    """413 in our error shape: from Content-Length before reading, or while reading a body sent without it."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _drain(receive)
            return await too_large_response(self.max_bytes)(scope, receive, send)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b"")) if message["type"] == "http.request" else 0
            if received > self.max_bytes:
                if message.get("more_body"):
                    await _drain(receive)
                raise BodyTooLarge()  # an HTTPException, so the handler below answers it
            return message

        await self.app(scope, counted, send)


DRAIN_LIMIT_BYTES = 64_000_000


async def _drain(receive: Receive) -> None:
    """Read (and drop) the rest of a refused body, up to a bound, so the client gets our error response
    instead of a connection reset while it is still sending."""
    drained = 0
    while drained <= DRAIN_LIMIT_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body"):
            return


class Guard:
    """Bearer tokens when configured; on a loopback bind, a Host header that names loopback (DNS rebinding)."""

    def __init__(self, app: ASGIApp, tokens: list[str], check_host: bool):
        self.app = app
        self.tokens = [t.encode() for t in tokens]
        self.check_host = check_host

    def _host_ok(self, host: str) -> bool:
        m = _HOST.fullmatch(host.strip())
        return bool(m) and m.group(1).lower() in LOOPBACK_HOSTS

    def _token_ok(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        given = token.strip().encode()
        # compare with every token (no early exit), in constant time per token
        return scheme.lower() == "bearer" and bool(given) and sum(hmac.compare_digest(given, t) for t in self.tokens) > 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        if self.check_host and not self._host_ok(headers.get("host", "")):
            await _drain(receive)
            return await error_response(403, "host-not-allowed", EXIT_USAGE,
                                "the Host header must name this loopback server (127.0.0.1, localhost or [::1])"
                                )(scope, receive, send)
        if self.tokens and scope.get("path") not in OPEN_PATHS and not self._token_ok(headers.get("authorization", "")):
            await _drain(receive)
            return await error_response(401, "unauthorized", EXIT_USAGE, "a valid bearer token is required "
                                "(Authorization: Bearer <token>)", headers={"WWW-Authenticate": "Bearer"}
                                )(scope, receive, send)
        await self.app(scope, receive, send)


def too_large_response(max_bytes: int) -> JSONResponse:
    """413 in our error shape."""
    return error_response(413, "request-too-large", EXIT_USAGE,
                          f"request body is larger than the limit of {max_bytes} bytes")


def error_response(status: int, code: str, exit_code: int, message: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """An error as the service's ErrorDocument: {"status": "failed", "error": {"code", "exit_code", "message"}}."""
    body = ErrorDocument(error=ErrorBody(code=code, exit_code=exit_code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)
