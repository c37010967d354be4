"""CheckContext: what the checker's rules read from a run's passages, computed once per run.

A run's passages do not change between its checks (the first draft, every revision, the fallback),
but the rules used to rescan all of them on every `check_brief`: the injection rule re-read every
passage for instruction-like spans, and the headline/dek facts filtered every passage by source.
At 1,000 documents (~10,000 passages) that was seconds per check. Here those scans happen once,
and `context_for` hands the same context back while the passages are the same (compared by value:
ids, sources, offsets and text), so callers need not carry it around.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from operator import attrgetter

from agent.checks.injection import payload_tokens
from agent.checks.meaning_text import looks_english, source_clauses, source_tokens
from agent.checks.support import clear_evidence_cache
from agent.schema import Passage

Payload = dict[str, tuple[str, str, bool]]
_Key = tuple[tuple[str, ...], tuple[tuple[str, str, int, int, str], ...]]


class CheckContext:
    """Per-run indexes over the passages: injection payload tokens and passages by source."""

    def __init__(self, passages: Mapping[str, Passage]) -> None:
        self.passages = dict(passages)
        by_source: dict[str, list[tuple[str, Passage]]] = {}
        for pid, passage in self.passages.items():
            by_source.setdefault(passage.source_id, []).append((pid, passage))
        self._by_source = by_source
        self.payload: Payload = payload_tokens(self.passages)
        """`injection.payload_tokens`: tokens found only inside the passages' instruction-like spans."""

    def passages_of(self, source_ids: Iterable[str]) -> list[Passage]:
        """Every passage of these sources, in passage-id order (the order of `sorted(passages.items())`)."""
        found = [item for sid in set(source_ids) for item in self._by_source.get(sid, ())]
        return [p for _, p in sorted(found, key=lambda item: item[0])]


_FIELDS = attrgetter("id", "source_id", "start", "end", "text")


def _key(passages: Mapping[str, Passage]) -> _Key:
    """A snapshot of the passages' values (not their identity: a Passage can be changed in place)."""
    return tuple(passages), tuple(map(_FIELDS, passages.values()))


_CACHE: list[tuple[_Key, CheckContext]] = []  # most recent first
_CACHE_SIZE = 4
_CACHE_LOCK = threading.Lock()


def context_for(passages: Mapping[str, Passage]) -> CheckContext:
    """The context of these passages: built on first use, then reused while they stay equal."""
    key = _key(passages)
    with _CACHE_LOCK:
        for i, (cached, context) in enumerate(_CACHE):
            if cached == key:  # the same strings compare by identity: cheap for the same run
                _CACHE.insert(0, _CACHE.pop(i))
                return context
    context = CheckContext(passages)
    with _CACHE_LOCK:
        _CACHE.insert(0, (key, context))
        del _CACHE[_CACHE_SIZE:]
    return context


def clear_text_caches() -> None:
    """Forget what the rules keep per text (evidence words and figures, tokens, clauses): a brief's first check."""
    clear_evidence_cache()
    for cached in (source_tokens, source_clauses, looks_english):
        cached.cache_clear()


def clear_cache() -> None:
    """Forget every context and every per-text cache."""
    with _CACHE_LOCK:
        _CACHE.clear()
    clear_text_caches()


__all__ = ["CheckContext", "clear_cache", "clear_text_caches", "context_for"]
