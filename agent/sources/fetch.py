"""URLs -> web pages: SSRF guard on every connection, robots.txt, size and time caps, a conditional-GET cache.

A page that cannot or may not be fetched raises FetchFailed with a one-line reason; ingest turns it
into a skipped source, as it does for a missing file.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import socket
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Iterable, Iterator, Sequence
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

from agent.config import Fetch

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, ECS task, Alibaba): refused even
# when private addresses are allowed, unless a network in allow_networks names them.
METADATA = frozenset(ipaddress.ip_address(a) for a in
                     ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_URL = re.compile(r"^https?://[^/\s]", re.I)
CONTENT_TYPES = {"text/html": ".html", "application/xhtml+xml": ".html", "text/plain": ".txt", "text/markdown": ".md"}
FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml"}
REDIRECTS = {301, 302, 303, 307, 308}


class FetchFailed(Exception):
    """A URL that could not or may not be fetched; the message is the reason shown to the editor."""


class FetchRefused(FetchFailed):
    """The SSRF guard refused an address."""


def is_url(value: object) -> bool:
    """An http(s) URL given as a string (a Path has already lost its '//')."""
    return isinstance(value, str) and bool(_URL.match(value.strip()))


def user_agent(cfg: Fetch) -> str:
    if cfg.user_agent:
        return cfg.user_agent
    try:
        version = metadata.version("brief-agent")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"brief-agent/{version}"


# --- the SSRF guard -------------------------------------------------------------------------


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv4-mapped, 6to4 or NAT64 IPv6 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_kind(ip: IPAddress) -> str | None:
    """Why an address is not a public web server's ('loopback', 'private', ...), or None when it is."""
    ip = _unwrap(ip)
    if ip in METADATA:
        return "cloud metadata"
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-public"


def refusal(ip: IPAddress, cfg: Fetch) -> str | None:
    """The reason to refuse connecting to this address under the config, or None to allow it."""
    plain = _unwrap(ip)
    if any(plain in ipaddress.ip_network(net, strict=False) or ip in ipaddress.ip_network(net, strict=False)
           for net in cfg.allow_networks):
        return None
    kind = address_kind(ip)
    if kind is None or (cfg.allow_private and kind != "cloud metadata"):
        return None
    hint = "add it to [fetch] allow_networks" if kind == "cloud metadata" else \
        "set [fetch] allow_private = true or list it in allow_networks"
    return f"refused: {ip} is a {kind} address ({hint})"


def resolve_checked(host: str, port: int, cfg: Fetch) -> list[str]:
    """Every address of the host, if all of them are allowed; the caller connects to these, not the name."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise FetchFailed(f"cannot resolve host '{host}' ({getattr(e, 'strerror', None) or e})") from None
    addresses = list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))
    for address in addresses:  # one bad address refuses the host: DNS could hand out either
        if reason := refusal(ipaddress.ip_address(address), cfg):
            raise FetchRefused(f"{host}: {reason}" if host != address else reason)
    return addresses


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves and checks the host at connect time, then connects to the checked address (no DNS rebinding)."""

    def __init__(self, cfg: Fetch):
        self.cfg = cfg

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in resolve_checked(host, port, self.cfg):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as e:
                last = e
        raise last or httpcore.ConnectError(f"no address for {host}")


def guarded_client(cfg: Fetch) -> httpx.Client:
    """An httpx client whose every connection, redirect hops included, passes the SSRF guard."""
    transport = httpx.HTTPTransport(trust_env=False)  # no proxy from the environment: it would resolve for us
    pool = getattr(transport, "_pool", None)
    if not hasattr(pool, "_network_backend"):  # an httpx/httpcore upgrade must not silently drop the guard
        raise RuntimeError("httpx transport internals changed: cannot install the SSRF guard")
    pool._network_backend = _GuardedBackend(cfg)
    return httpx.Client(transport=transport, trust_env=False, follow_redirects=False,
                        timeout=httpx.Timeout(cfg.timeout_s), headers={"User-Agent": user_agent(cfg)})


# --- the response cache ---------------------------------------------------------------------


@dataclass
class Page:
    """A fetched (or cached) response body and what is known about it."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    truncated: bool = False
    from_cache: bool = False
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str = ""

    @property
    def suffix(self) -> str:
        return CONTENT_TYPES.get(self.content_type, ".html")

    @property
    def host(self) -> str:
        host = urlsplit(self.final_url).hostname or ""
        return host[4:] if host.startswith("www.") else host


def page_author(page: Page) -> str | None:
    """The author trafilatura finds in the page's metadata (meta tags, JSON-LD, bylines), if any."""
    import trafilatura

    try:
        doc = trafilatura.extract_metadata(page.body.decode("utf-8", "replace"))
    except Exception:  # metadata is a nicety: a page it cannot read is still a page
        return None
    return (doc.author or None) if doc is not None else None


class ResponseCache:
    """Bodies and validators (ETag, Last-Modified) by requested URL, under <data_dir>/web-cache/."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
        return self.folder / f"{key}.json", self.folder / f"{key}.body"

    def get(self, url: str) -> Page | None:
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if hashlib.sha256(body).hexdigest() != meta.pop("body_sha256", None):
            return None  # a torn or edited entry is a miss, never a wrong page
        return Page(**meta, body=body, from_cache=True)

    def put(self, page: Page) -> None:
        meta_path, body_path = self._paths(page.url)
        meta = {k: v for k, v in page.__dict__.items() if k not in ("body", "from_cache")}
        meta["body_sha256"] = hashlib.sha256(page.body).hexdigest()
        try:
            _write_atomic(body_path, page.body)
            _write_atomic(meta_path, json.dumps(meta, indent=1).encode("utf-8"))
        except OSError:
            pass  # a cache that cannot be written costs a refetch next time, nothing more


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- fetching -------------------------------------------------------------------------------


@dataclass
class Fetcher:
    """Fetches pages for ingest: `fetcher(url)` -> Page. Feed items can carry metadata hints."""

    cfg: Fetch
    data_dir: Path
    on_fetch: object = None  # optional callable(Page): progress reporting
    hints: dict[str, dict] = field(default_factory=dict)  # url -> fallback metadata (outlet, title, published)
    no_revalidate: set[str] = field(default_factory=set)  # urls served from the cache without a request
    requests: int = 0  # HTTP requests made (robots.txt and redirect hops included)
    _robots: dict[str, RobotFileParser | None] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings, progress=None) -> "Fetcher":
        """A fetcher for these settings; `progress` (agent.progress) hears about each page."""
        def note(page: Page) -> None:
            how = "from the cache" if page.from_cache else f"{len(page.body):,} bytes"
            progress.note(f"fetched {page.url} ({how}{', cut at the size limit' if page.truncated else ''})")

        return cls(settings.fetch, Path(settings.data_dir), on_fetch=note if progress is not None else None)

    @property
    def cache(self) -> ResponseCache:
        return ResponseCache(self.data_dir / "web-cache")

    def __call__(self, url: str) -> Page:
        return self.get(url, revalidate=url not in self.no_revalidate)

    def defaults(self, page: Page) -> dict:
        """Metadata for a page's source where the page itself names none (its site name wins over these).

        The outlet: the feed's word for it, else the page's author (a Source has no author field, so
        the byline credits the writer, as for files), else the host.
        """
        author = page_author(page) if page.suffix == ".html" else None
        hinted = {k: v for k, v in self.hints.get(page.url, {}).items() if v}
        return {"url": page.final_url, "outlet": author or page.host, **hinted}

    def get(self, url: str, *, revalidate: bool = True, accept: Sequence[str] | None = None) -> Page:
        """The page at url, from the cache when the server says it is unchanged (or without asking)."""
        url = url.strip()
        if not is_url(url):
            raise FetchFailed("not an http(s) URL")
        cached = self.cache.get(url)
        if cached is not None and not revalidate:
            self._report(cached)
            return cached
        deadline = time.monotonic() + self.cfg.timeout_s
        with guarded_client(self.cfg) as client:
            page = self._follow(client, url, cached, deadline, accept or tuple(CONTENT_TYPES))
        if not page.from_cache:
            self.cache.put(page)
        self._report(page)
        return page

    def _report(self, page: Page) -> None:
        if callable(self.on_fetch):
            self.on_fetch(page)

    def _follow(self, client: httpx.Client, url: str, cached: Page | None, deadline: float,
                accept: Sequence[str]) -> Page:
        current = url
        for hop in range(self.cfg.max_redirects + 1):
            self._check_robots(client, current, deadline)
            headers = {}
            if cached is not None and cached.final_url == current:
                if cached.etag:
                    headers["If-None-Match"] = cached.etag
                if cached.last_modified:
                    headers["If-Modified-Since"] = cached.last_modified
            with self._send(client, current, headers) as response:
                if response.status_code in REDIRECTS and response.headers.get("location"):
                    nxt = urljoin(current, response.headers["location"])
                    if not is_url(nxt):
                        raise FetchFailed(f"redirected to a non-http(s) URL ({nxt[:80]})")
                    current = nxt
                    continue
                if response.status_code == 304 and cached is not None and headers:
                    return cached
                if response.status_code != 200:
                    raise FetchFailed(f"HTTP {response.status_code} {response.reason_phrase}".strip())
                content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if content_type not in accept:
                    raise FetchFailed(f"not a web page or text (content type '{content_type or 'none'}')")
                body, truncated = self._read(response, deadline)
                return Page(url=url, final_url=current, status=200, content_type=content_type, body=body,
                            truncated=truncated, etag=response.headers.get("etag"),
                            last_modified=response.headers.get("last-modified"),
                            fetched_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        raise FetchFailed(f"more than {self.cfg.max_redirects} redirects")

    @contextmanager
    def _send(self, client: httpx.Client, url: str, headers: dict) -> Iterator[httpx.Response]:
        """A streamed GET; transport failures become one readable FetchFailed."""
        self.requests += 1
        try:
            with client.stream("GET", url, headers=headers) as response:
                yield response
        except httpx.TimeoutException:
            raise FetchFailed(f"timed out after {self.cfg.timeout_s:g} s") from None
        except httpx.HTTPError as e:
            raise FetchFailed(f"cannot fetch ({e.__class__.__name__}: {e})") from None

    def _read(self, response: httpx.Response, deadline: float) -> tuple[bytes, bool]:
        """At most max_bytes of the body, within the page's deadline (a trickling server cannot hold us)."""
        chunks, size = [], 0
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > self.cfg.max_bytes:
                    return b"".join(chunks)[:self.cfg.max_bytes], True
                if time.monotonic() > deadline:
                    raise FetchFailed(f"timed out after {self.cfg.timeout_s:g} s (body still arriving)")
        except httpx.TimeoutException:
            raise FetchFailed(f"timed out after {self.cfg.timeout_s:g} s") from None
        except httpx.HTTPError as e:
            raise FetchFailed(f"cannot fetch ({e.__class__.__name__}: {e})") from None
        return b"".join(chunks), False

    def _check_robots(self, client: httpx.Client, url: str, deadline: float) -> None:
        """RFC 9309: a 4xx robots.txt allows everything; an unreachable one (5xx, network) disallows all."""
        if not self.cfg.respect_robots:
            return
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._robots_for(client, origin + "/robots.txt", deadline)
        rules = self._robots[origin]
        if rules is not None and not rules.can_fetch(user_agent(self.cfg), url):
            unreadable = getattr(rules, "unreadable", None)
            raise FetchFailed(f"not fetched: {origin}/robots.txt could not be read ({unreadable})" if unreadable
                              else f"disallowed by {origin}/robots.txt")

    def _robots_for(self, client: httpx.Client, robots_url: str, deadline: float) -> RobotFileParser | None:
        cached = self.cache.get(robots_url)
        headers = {"If-None-Match": cached.etag} if cached is not None and cached.etag else {}
        if cached is not None and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        parser = RobotFileParser(robots_url)
        try:
            with self._send(client, robots_url, headers) as response:
                if response.status_code == 304 and cached is not None:
                    text = cached.body.decode("utf-8", "replace")
                elif 400 <= response.status_code < 500 or response.status_code in REDIRECTS:
                    return None  # no robots.txt: everything allowed
                elif response.status_code != 200:
                    parser.disallow_all, parser.unreadable = True, f"HTTP {response.status_code}"
                    return parser
                else:
                    body, _ = self._read(response, deadline)
                    self.cache.put(Page(url=robots_url, final_url=robots_url, status=200, content_type="text/plain",
                                        body=body, etag=response.headers.get("etag"),
                                        last_modified=response.headers.get("last-modified")))
                    text = body.decode("utf-8", "replace")
        except FetchRefused:
            raise
        except FetchFailed as e:
            parser.disallow_all, parser.unreadable = True, str(e)
            return parser
        parser.parse(text.splitlines())
        return parser


def refuse_urls_unless_enabled(sources: Sequence[object], cfg: Fetch, where: str = "the HTTP service") -> None:
    """For entry points that serve others (brief serve): URL sources only when [fetch] in_service is on."""
    from agent.errors import UsageError

    urls = [s for s in sources if is_url(s)]
    if urls and not cfg.in_service:
        raise UsageError(f"URL sources are turned off in {where} ([fetch] in_service = false): {urls[0]}")
