"""Syndication-aware source independence: near-duplicate sources count as one voice."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field

from agent.schema import Contract, Source

_WORD = re.compile(r"\w+")
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|ocid|share|s)$", re.I)


class SourceGroup(Contract):
    """Sources that are copies of one story; the group counts as one independent source."""

    group_id: int
    source_ids: list[str]
    outlets: list[str]
    reason: str = Field(description="'independent', 'near-duplicate text' or 'same canonical url'.")


def canonical_url(url: str | None) -> str | None:
    """Drop tracking parameters, fragments, 'www.' and trailing slashes."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)))
    host = parts.netloc.lower().removeprefix("www.")
    return urlunsplit(("https", host, parts.path.rstrip("/"), query, ""))


def shingles(text: str, size: int = 5) -> set[int]:
    words = _WORD.findall(text.casefold())
    return {hash(tuple(words[i:i + size])) for i in range(max(1, len(words) - size + 1))}


def containment(a: set[int], b: set[int]) -> float:
    """Share of the smaller shingle set found in the larger: robust to trimmed or extended copies."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def group_sources(sources: list[Source], threshold: float = 0.5) -> list[SourceGroup]:
    """Union-find over near-duplicate text (5-word shingle containment) and equal canonical URLs."""
    parent = list(range(len(sources)))
    reason = ["independent"] * len(sources)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sets = [shingles(s.text) for s in sources]
    urls = [canonical_url(s.url) for s in sources]
    for i in range(len(sources)):
        for j in range(i + 1, len(sources)):
            why = None
            if urls[i] and urls[i] == urls[j]:
                why = "same canonical url"
            elif containment(sets[i], sets[j]) >= threshold:
                why = "near-duplicate text"
            if why:
                parent[find(j)] = find(i)
                reason[i] = reason[j] = why
    groups: dict[int, list[int]] = {}
    for i in range(len(sources)):
        groups.setdefault(find(i), []).append(i)
    out = []
    for gid, members in enumerate(sorted(groups.values())):
        out.append(SourceGroup(
            group_id=gid + 1,
            source_ids=[sources[m].id for m in members],
            outlets=[sources[m].outlet for m in members],
            reason="independent" if len(members) == 1 else reason[members[0]],
        ))
    return out
