"""Files, folders, stdin -> cleaned Source records (with what was removed, and why)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Sequence

import yaml

from agent.sources.byline import opening_metadata
from agent.sources.cleaning import clean_text, extract_html
from agent.config import Ingest
from agent.sources.decoding import DecodeError, decode_bytes
from agent.schema import Passage, Removal, Source, content_id
from agent.text import detect_language, split_sentences

EXTENSIONS = {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl"}
META_KEYS = {"outlet", "title", "topic", "url", "published", "language"}


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class IngestResult:
    sources: list[Source] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _folder(path: Path, result: IngestResult) -> list[Path]:
    """Files under a folder, hidden files and folders left out; unreadable folders are reported, not lost."""
    def unreadable(e: OSError) -> None:
        result.skipped.append(Skipped(str(e.filename or path), f"cannot read folder ({e.strerror or e})"))

    found: list[Path] = []
    for root, dirs, names in os.walk(path, onerror=unreadable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root) / n for n in names if not n.startswith(".") and n.lower() != "readme.md"]
    if not found:
        result.skipped.append(Skipped(str(path), "empty folder: no source files in it (hidden files and README.md "
                                                 "are left out)"))
    files: list[Path] = []
    for child in sorted(found):
        if not child.is_file():
            result.skipped.append(Skipped(str(child), "not a regular file"))
        elif child.suffix.lower() in EXTENSIONS:
            files.append(child)
        else:
            result.skipped.append(Skipped(str(child), f"unsupported file type '{child.suffix}'"))
    return files


def _walk(paths: list[Path], result: IngestResult) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        try:
            if path.is_dir():
                files += _folder(path, result)
            elif path.is_file():
                files.append(path)
            elif path.exists():
                result.skipped.append(Skipped(str(path), "not a regular file or folder"))
            else:
                result.skipped.append(Skipped(str(path), "no such file or directory"))
        except OSError as e:
            result.skipped.append(Skipped(str(path), f"cannot read ({e.strerror or e})"))
    return files


def _read(path: Path, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes (bounded memory), and whether the file was longer."""
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    return data[:limit], len(data) > limit


def _front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        return {}, text
    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError:
        return {}, text
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[end + 4:].lstrip("\n")


def _published(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def build_source(text: str, meta: dict, origin: str, raw: bytes, settings: Ingest,
                 is_html: bool = False, removed: list[Removal] | None = None, defaults: dict | None = None) -> Source | str:
    """Clean one document; returns a Source, or a one-line reason why it is unusable.

    Metadata precedence: `meta` (front matter, JSON fields) > the page's own > `defaults` (a web page's host).
    """
    removed = list(removed or [])
    html_meta: dict = {}
    if is_html:
        text, html_meta, html_removed = extract_html(text)
        removed += html_removed
    meta = {**(defaults or {}), **html_meta, **{k: v for k, v in meta.items() if v}}
    cleaned, cleaning = clean_text(text)
    removed += cleaning
    if len(cleaned) < settings.min_source_chars:
        what = ", ".join(sorted({r.reason for r in removed})) or "nothing"
        return (f"no usable text after cleaning ({len(cleaned)} characters left, fewer than [ingest] "
                f"min_source_chars = {settings.min_source_chars}; removed: {what})")
    return Source(
        id=content_id(cleaned), outlet=str(meta.get("outlet") or "Unknown outlet"),
        title=str(meta.get("title") or ""), topic=str(meta.get("topic") or ""),
        url=meta.get("url") or None, published=_published(meta.get("published")),
        language=str(meta.get("language") or detect_language(cleaned)), text=cleaned, removed=removed,
        origin=origin, content_sha256=hashlib.sha256(raw).hexdigest(),
    )


def _records(text: str, origin: str, jsonl: bool) -> tuple[list[tuple[dict, str]], list[Skipped]]:
    """JSON records with their origin; bad lines are skipped, the rest go through."""
    out, bad = [], []
    rows = [(f"{origin}:{i}", line) for i, line in enumerate(text.splitlines(), 1) if line.strip()] if jsonl else [(origin, text)]
    for where, chunk in rows:
        try:
            data = json.loads(chunk)
        except json.JSONDecodeError as e:
            bad.append(Skipped(where, f"invalid JSON ({e.msg} at line {e.lineno})"))
            continue
        for i, rec in enumerate(data if isinstance(data, list) else [data]):
            if not isinstance(rec, dict) or not isinstance(rec.get("text") or rec.get("html"), str):
                bad.append(Skipped(where, "record has no 'text' or 'html' string field"))
                continue
            out.append((rec, where if not isinstance(data, list) else f"{where}[{i}]"))
    return out, bad


def _documents(origin: str, text: str, suffix: str) -> tuple[list[tuple[str, dict, str, bool]], list[Skipped]]:
    """(text, metadata, origin, is_html) for every document in one decoded file."""
    if suffix in (".json", ".jsonl"):
        records, bad = _records(text, origin, suffix == ".jsonl")
        docs = [(r.get("text") or r.get("html"), {k: r.get(k) for k in META_KEYS}, where, "html" in r and not r.get("text"))
                for r, where in records]
        return docs, bad
    if suffix in (".html", ".htm"):
        return [(text, {}, origin, True)], []
    meta, body = _front_matter(text)
    if not meta:  # no front matter: the opening lines may state the title, author or outlet and date
        meta, body = opening_metadata(body)
    return [(body, {k: meta.get(k) for k in META_KEYS}, origin, False)], []


def _fetched(urls: list[str], fetcher, result: IngestResult) -> list[tuple[str, str, bytes, list[Removal], dict]]:
    """Web pages as ingest inputs; a page that cannot or may not be fetched is skipped with the reason."""
    from agent.sources.fetch import FetchFailed

    inputs = []
    for url in urls:
        if fetcher is None:
            result.skipped.append(Skipped(url, "URL sources are not enabled here"))
            continue
        try:
            page = fetcher(url)
        except FetchFailed as e:
            result.skipped.append(Skipped(url, str(e)))
            continue
        removed = [Removal(reason="oversize-truncated", text=f"kept the first {len(page.body)} bytes of the page")] \
            if page.truncated else []
        inputs.append((url, page.suffix, page.body, removed, fetcher.defaults(page)))
    return inputs


def load_sources(paths: Sequence[Path | str], settings: Ingest, stdin_text: str | None = None,
                 fetcher=None) -> IngestResult:
    """Every readable source from paths, URLs (through `fetcher`, see agent.sources.fetch) and stdin.

    Unusable inputs are skipped with a reason.
    """
    from agent.sources.fetch import is_url

    result = IngestResult()
    inputs: list[tuple[str, str, bytes, list[Removal], dict]] = []  # (origin, suffix, raw, removals, defaults)
    for path in _walk([Path(p) for p in paths if not is_url(p)], result):
        try:
            raw, truncated = _read(path, settings.max_file_bytes)
        except OSError as e:
            result.skipped.append(Skipped(str(path), f"cannot read ({e.strerror or e})"))
            continue
        removed = [Removal(reason="oversize-truncated", text=f"kept the first {settings.max_file_bytes} bytes")] if truncated else []
        inputs.append((str(path), path.suffix.lower(), raw, removed, {}))
    inputs += _fetched([p.strip() for p in paths if is_url(p)], fetcher, result)
    if stdin_text is not None:
        suffix = ".json" if stdin_text.lstrip()[:1] in ("{", "[") else ".md"
        inputs.append(("stdin", suffix, stdin_text.encode("utf-8"), [], {}))
    seen: dict[str, str] = {}
    for origin, suffix, raw, removed, defaults in inputs:
        try:
            text = decode_bytes(raw)
        except DecodeError as e:
            result.skipped.append(Skipped(origin, str(e)))
            continue
        docs, bad = _documents(origin, text, suffix)
        result.skipped += bad
        for body, meta, where, is_html in docs:
            built = build_source(body, meta, where, raw, settings, is_html=is_html, removed=removed, defaults=defaults)
            if isinstance(built, str):
                result.skipped.append(Skipped(where, built))
            elif built.id in seen:
                result.skipped.append(Skipped(where, f"duplicate of {seen[built.id]}"))
            else:
                seen[built.id] = where
                result.sources.append(built)
    return result


def split_passages(source: Source, number: int, passage_chars: int) -> list[Passage]:
    """Passages of about `passage_chars` on sentence boundaries; text == source.text[start:end]."""
    passages: list[Passage] = []
    start = end = None
    for a, b in split_sentences(source.text):
        paragraph_break = end is not None and "\n\n" in source.text[end:a]
        if start is not None and (b - start > passage_chars or (paragraph_break and end - start > passage_chars // 2)):
            passages.append(_passage(source, number, len(passages) + 1, start, end))
            start = None
        start = a if start is None else start
        end = b
    if start is not None:
        passages.append(_passage(source, number, len(passages) + 1, start, end))
    return passages


def _passage(source: Source, number: int, k: int, start: int, end: int) -> Passage:
    return Passage(id=f"S{number}:{k}", source_id=source.id, text=source.text[start:end], start=start, end=end)
