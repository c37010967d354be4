"""A fake OpenAI-compatible server on 127.0.0.1: scripted replies by prompt name, injectable faults.

The HTTP seam for tests and benchmarks: the real `openai` client talks to it over loopback."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from pydantic import BaseModel


@dataclass
class Status:
    code: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"error": {"message": "fake failure", "type": "server_error"}}'


@dataclass
class Stall:
    seconds: float
    where: str = "headers"  # or "body"


@dataclass
class Reset:
    pass


@dataclass
class Truncated:
    content: str = '{"sentence": "The council vot'


@dataclass
class Html200:
    pass


@dataclass
class EmptyChoices:
    pass


@dataclass
class EmptyBody200:
    pass


Reply = Any  # str | dict | BaseModel | one of the faults above
Responder = Callable[[str, dict], Reply]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a stalled reply closes its socket: not worth a traceback."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeOpenAI:
    """Serve /v1/chat/completions and /v1/models; count every attempt per prompt name."""

    def __init__(self) -> None:
        self.queues: dict[str, deque] = defaultdict(deque)
        self.responder: Responder | None = None
        self.requests: list[tuple[str, dict, dict]] = []
        self.errors: list[Exception] = []  # what the responder raised (a script with no reply): see check()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "test"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                name = self.headers.get("x-brief-prompt", "unnamed")
                with fake._lock:
                    fake.requests.append((name, body, {k.lower(): v for k, v in self.headers.items()}))
                    reply = fake.queues[name].popleft() if fake.queues[name] else None
                if reply is None and fake.responder is not None:
                    try:
                        reply = fake.responder(name, body)
                    except Exception as e:  # kept for check(); the client sees a 500 naming it, not a dropped socket
                        with fake._lock:
                            fake.errors.append(e)
                        self._json(500, {"error": {"message": f"fake server: {e}", "type": "server_error"}})
                        return
                if reply is None:
                    self._json(500, {"error": {"message": f"fake server: no scripted reply for {name}"}})
                    return
                self._reply(reply)

            def _json(self, code: int, payload: Any, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _completion(self, content: str, finish: str = "stop") -> dict:
                return {"id": "fake-1", "object": "chat.completion", "created": int(time.time()), "model": "fake",
                        "choices": [{"index": 0, "finish_reason": finish,
                                     "message": {"role": "assistant", "content": content}}],
                        "usage": {"prompt_tokens": 50, "completion_tokens": max(1, len(content) // 4),
                                  "total_tokens": 50 + max(1, len(content) // 4)}}

            def _reply(self, reply: Reply) -> None:
                if isinstance(reply, Status):
                    data = reply.body.encode()
                    self.send_response(reply.code)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                elif isinstance(reply, Stall):
                    if reply.where == "headers":
                        time.sleep(reply.seconds)
                        self._json(200, self._completion('{"sentence": "late"}'))
                    else:
                        data = json.dumps(self._completion('{"sentence": "late"}')).encode()
                        self.send_response(200)
                        self.send_header("content-type", "application/json")
                        self.send_header("content-length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data[:10])
                        self.wfile.flush()
                        time.sleep(reply.seconds)
                elif isinstance(reply, Reset):
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                elif isinstance(reply, Truncated):
                    self._json(200, self._completion(reply.content, finish="length"))
                elif isinstance(reply, Html200):
                    data = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                    self.send_response(200)
                    self.send_header("content-type", "text/html")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                elif isinstance(reply, EmptyChoices):
                    payload = self._completion("")
                    payload["choices"] = []
                    self._json(200, payload)
                elif isinstance(reply, EmptyBody200):
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", "0")
                    self.end_headers()
                else:
                    if isinstance(reply, BaseModel):
                        reply = reply.model_dump()
                    content = reply if isinstance(reply, str) else json.dumps(reply)
                    self._json(200, self._completion(content))

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # a short poll: shutdown() waits up to one poll interval, and every test using the fixture pays it
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def enqueue(self, prompt_name: str, *replies: Reply) -> None:
        with self._lock:
            self.queues[prompt_name].extend(replies)

    def set_responder(self, responder: Responder | None) -> None:
        self.responder = responder

    def attempts(self, prompt_name: str) -> int:
        return sum(1 for name, _, _ in self.requests if name == prompt_name)

    def check(self) -> None:
        """Raise the first error the responder raised, so a script with no reply fails the test by name."""
        if self.errors:
            raise self.errors[0]

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
