"""RSS 2.0 and Atom feeds -> their items' pages as sources; items already seen come from the cache, unfetched.

feedparser only ever parses bytes we fetched ourselves (through agent.sources.fetch's guard), never a URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Sequence

import feedparser

from agent.errors import UsageError
from agent.sources.fetch import FEED_TYPES, FetchFailed, Fetcher, Page, is_url
from agent.sources.ingest import IngestResult, Skipped, load_sources
from agent.runs import write_atomic

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.I)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass
class FeedItem:
    url: str
    key: str  # the GUID (or the link when there is none): what "seen" is recorded by
    title: str
    outlet: str
    published: datetime | None
    seen: bool = False


@dataclass
class FeedRead:
    """One feed as read now: its title and the items that pass --since and --limit."""

    label: str
    url: str
    title: str = ""
    items: list[FeedItem] = field(default_factory=list)
    left_out: int = 0  # items older than --since or past --limit
    unchanged: bool = False  # the server answered 304


def parse_since(text: str | None) -> timedelta | None:
    """'24h', '90m', '2d', '1w' -> a timedelta; None for no window."""
    if not text:
        return None
    m = _SINCE.match(text)
    if not m:
        raise UsageError(f"--since must be a number and a unit (s, m, h, d, w), e.g. 24h; not '{text}'")
    return timedelta(**{_UNITS[m.group(2).lower()]: float(m.group(1))})


def resolve_feed(name_or_url: str, named: dict[str, str]) -> tuple[str, str]:
    """(label, url) for a URL or a name from the [feeds] table (exact, else case-insensitive)."""
    if is_url(name_or_url):
        return name_or_url, name_or_url.strip()
    if name_or_url in named:
        return name_or_url, named[name_or_url]
    folded = {k.casefold(): k for k in named}
    if (key := folded.get(name_or_url.casefold())) is not None:
        return key, named[key]
    known = ", ".join(sorted(named)) or "none configured"
    raise UsageError(f"no feed named '{name_or_url}' in [feeds] (known: {known}); give a feed URL or a name")


class SeenItems:
    """GUIDs and links of feed items already fetched, per feed, in <data_dir>/feeds/seen.json."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "feeds" / "seen.json"
        try:
            self.data: dict[str, dict[str, dict]] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}

    def has(self, feed_url: str, item: FeedItem) -> bool:
        seen = self.data.get(feed_url, {})
        return item.key in seen or any(v.get("url") == item.url for v in seen.values())

    def add(self, feed_url: str, item: FeedItem) -> None:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.data.setdefault(feed_url, {}).setdefault(item.key, {"url": item.url, "first_seen": now})

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.data, indent=1, ensure_ascii=False))


def _when(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime(*parsed[:6], tzinfo=timezone.utc) if parsed else None


def parse_feed(page: Page, label: str) -> tuple[str, list[FeedItem]]:
    """(feed title, items newest first) from the fetched bytes; FetchFailed when it is no feed."""
    parsed = feedparser.parse(page.body, response_headers={"content-location": page.final_url})
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise FetchFailed(f"not an RSS or Atom feed{f' ({problem})' if problem else ''}")
    title = parsed.feed.get("title") or page.host
    items = []
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        if not is_url(link):
            continue
        source = entry.get("source") or {}
        items.append(FeedItem(url=link, key=entry.get("id") or link, title=entry.get("title") or "",
                              outlet=source.get("title") or title, published=_when(entry)))
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    return title, sorted(items, key=lambda i: i.published or epoch, reverse=True)


def read_feed(label: str, url: str, fetcher: Fetcher, seen: SeenItems, *, since: timedelta | None = None,
              limit: int | None = None, now: datetime | None = None) -> FeedRead:
    """The feed's items within --since (undated items kept) and --limit, each marked seen or new."""
    page = fetcher.get(url, accept=(*FEED_TYPES, "text/plain", "text/html"))
    title, items = parse_feed(page, label)
    now = now or datetime.now(timezone.utc)
    kept = [i for i in items if since is None or i.published is None or i.published >= now - since]
    if limit is not None:
        kept = kept[:limit]
    for item in kept:
        item.seen = seen.has(url, item)
    return FeedRead(label=label, url=url, title=title, items=kept, left_out=len(items) - len(kept),
                    unchanged=page.from_cache)


def feed_sources(feeds: Sequence[str], settings, *, since: timedelta | None = None, limit: int | None = None,
                 fetcher: Fetcher | None = None) -> tuple[IngestResult, list[FeedRead]]:
    """The feeds' items as cleaned sources; items seen before are read from the cache without a request."""
    fetcher = fetcher or Fetcher.from_settings(settings)
    seen = SeenItems(settings.data_dir)
    reads, failed = [], []
    for name in feeds:
        label, url = resolve_feed(name, settings.feeds)
        try:
            reads.append(read_feed(label, url, fetcher, seen, since=since, limit=limit))
        except FetchFailed as e:
            failed.append(Skipped(url, f"feed: {e}"))
    items = {i.url: (read, i) for read in reads for i in read.items}
    for item_url, (read, item) in items.items():
        fetcher.hints[item_url] = {"outlet": item.outlet, "title": item.title,
                                   "published": item.published.date().isoformat() if item.published else None}
        if item.seen:
            fetcher.no_revalidate.add(item_url)
    fetched: set[str] = set()
    previous = fetcher.on_fetch

    def note(page: Page) -> None:
        fetched.add(page.url)
        if callable(previous):
            previous(page)

    fetcher.on_fetch = note
    try:
        result = load_sources(list(items), settings.ingest, fetcher=fetcher)
    finally:
        fetcher.on_fetch = previous
    for item_url in fetched & set(items):
        seen.add(items[item_url][0].url, items[item_url][1])
    seen.save()
    result.skipped[:0] = failed
    return result, reads
