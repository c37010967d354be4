"""A small web on 127.0.0.1 for fetch and feed tests: pages, feeds, redirects, faults, robots.txt, ETags."""

from __future__ import annotations

import hashlib
import html
import threading
import time
from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STORY = Path(__file__).parent / "fixtures" / "story"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
LAST_MODIFIED = format_datetime(NOW - timedelta(days=1), usegmt=True)


def _story(name: str) -> tuple[dict, str]:
    head, body = STORY.joinpath(name).read_text().split("---\n", 2)[1:]
    meta = dict(line.split(": ", 1) for line in head.strip().splitlines())
    return meta, body


def story_page(name: str, site_name: bool = False, author: str = "") -> str:
    """A fixture story as an article page; the outlet is in the page only when site_name is set."""
    meta, body = _story(name)
    paragraphs = "\n".join(f"<p>{html.escape(p.strip())}</p>" for p in body.split("\n") if p.strip())
    site = f'<meta property="og:site_name" content="{meta["outlet"]}">' if site_name else ""
    byline = f'<meta name="author" content="{author}">' if author else ""
    return (f'<!doctype html><html lang="en"><head><title>{html.escape(meta["title"])}</title>{byline}'
            f'<meta name="date" content="{meta["published"]}">{site}'
            f'</head><body><nav>Home | World | Cities</nav><article><h1>{html.escape(meta["title"])}</h1>'
            f'{paragraphs}</article><footer>Share this article</footer></body></html>')


ITEMS = [("wire.md", "/story/wire.html"), ("daily.md", "/story/daily.html"), ("blog.md", "/story/blog.html")]


def rss(base: str) -> str:
    """An aggregator's RSS 2.0 feed: each item names its outlet in <source>."""
    items = []
    for n, (name, path) in enumerate(ITEMS):
        meta, _ = _story(name)
        when = format_datetime(NOW - timedelta(hours=2 + 10 * n), usegmt=True)
        items.append(f"<item><title>{html.escape(meta['title'])}</title><link>{base}{path}</link>"
                     f"<guid isPermaLink=\"false\">velden-{n}</guid><pubDate>{when}</pubDate>"
                     f"<source url=\"{base}/rss.xml\">{meta['outlet']}</source></item>")
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Velden regional news</title>'
            f'<link>{base}/</link><description>Aggregated</description>{"".join(items)}</channel></rss>')


def atom(base: str) -> str:
    """One outlet's Atom feed: the feed title is the outlet; one entry is 3 days old."""
    entries = []
    for n, path in enumerate(["/story/wire.html", "/redirect/1", "/story/old.html"]):
        when = (NOW - timedelta(hours=1 + 36 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        entries.append(f"<entry><title>Item {n}</title><id>urn:nw:{n}</id><link href=\"{base}{path}\"/>"
                       f"<updated>{when}</updated></entry>")
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f'<title>Northfield Wire</title><id>urn:nw</id><updated>{NOW:%Y-%m-%dT%H:%M:%SZ}</updated>'
            f'{"".join(entries)}</feed>')


@dataclass
class Hit:
    path: str
    status: int
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that give up (timeouts, size caps) are part of the tests


class FakeWeb:
    """`with FakeWeb() as web:` serves on web.base; web.hits logs every request."""

    def __init__(self, slow_s: float = 3.0, huge_bytes: int = 3_000_000, robots_status: int = 200):
        self.hits: list[Hit] = []
        self.slow_s, self.huge_bytes, self.robots_status = slow_s, huge_bytes, robots_status
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeWeb":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self, status: int | None = None) -> list[str]:
        return [h.path for h in self.hits if status is None or h.status == status]

    def routes(self) -> dict[str, tuple[str, str]]:
        """path -> (content type, body) for the static resources (served with ETag and Last-Modified)."""
        routes = {path: ("text/html; charset=utf-8", story_page(name)) for name, path in ITEMS}
        routes.update({
            "/robots.txt": ("text/plain", "User-agent: *\nDisallow: /private/\n"),
            "/story/sited.html": ("text/html", story_page("wire.md", site_name=True)),
            "/story/old.html": ("text/html", story_page("daily.md")),
            "/story/signed.html": ("text/html", story_page("blog.md", author="Mara Olsen")),
            "/private/memo.html": ("text/html", story_page("wire.md")),
            "/rss.xml": ("application/rss+xml", rss(self.base)),
            "/atom.xml": ("application/atom+xml", atom(self.base)),
            "/image.png": ("image/png", "\x89PNG not really"),
            "/notes.txt": ("text/plain", _story("wire.md")[1]),
        })
        return routes

    def _handler(self):
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                with web._lock:
                    web.hits.append(Hit(self.path, status, dict(self.headers)))
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    try:
                        self.wfile.write(body)
                    except OSError:
                        pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path
                redirects = {"/redirect/1": "/redirect/2", "/redirect/2": "/story/wire.html", "/loop": "/loop",
                             "/to-private": "http://169.254.169.254/latest/meta-data/"}
                if path in redirects:
                    return self._send(302 if path != "/redirect/2" else 301, headers={"Location": redirects[path]})
                if path == "/robots.txt" and web.robots_status != 200:
                    return self._send(web.robots_status, b"robots unavailable", {"Content-Type": "text/plain"})
                if path == "/slow":
                    time.sleep(web.slow_s)
                    return self._send(200, story_page("wire.md").encode(), {"Content-Type": "text/html"})
                if path == "/huge":
                    filler = "<p>" + "The council met again and talked at length about the tram. " * 40 + "</p>\n"
                    page = story_page("wire.md").replace("</article>", filler * (web.huge_bytes // len(filler)) + "</article>")
                    return self._send(200, page.encode(), {"Content-Type": "text/html"})
                route = web.routes().get(path)
                if route is None:
                    return self._send(404, b"not found", {"Content-Type": "text/plain"})
                content_type, text = route
                body = text.encode("utf-8")
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag or (
                        "If-None-Match" not in self.headers and self.headers.get("If-Modified-Since") == LAST_MODIFIED):
                    return self._send(304, headers={"ETag": etag})
                self._send(200, body, {"Content-Type": content_type, "ETag": etag, "Last-Modified": LAST_MODIFIED})

        return Handler
