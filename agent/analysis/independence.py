"""Syndication-aware source independence: near-duplicate sources count as one voice."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from pydantic import Field

from agent.schema import Contract, Source

_WORD = re.compile(r"\w+")
_MARGIN = 16  # shingles looked up beyond the necessary ones: a partner must then be found by 1 + _MARGIN of them
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
    """Hashes of the text's `size`-word sequences (casefolded); a shorter text is one shingle."""
    return set(_shingle_array(text, size).tolist())


def _shingle_array(text: str, size: int = 5) -> np.ndarray:
    """`shingles` as a sorted array of distinct int64 hashes (what the grouping index is built from)."""
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return np.array([hash(tuple(words))], dtype=np.int64)
    return np.unique(np.fromiter(map(hash, zip(*(words[k:] for k in range(size)))), dtype=np.int64))


def containment(a: set[int], b: set[int]) -> float:
    """Share of the smaller shingle set found in the larger: robust to trimmed or extended copies."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _near_duplicate_pairs(arrays: list[np.ndarray], threshold: float) -> set[tuple[int, int]]:
    """Every pair (i < j) with containment(shingles i, shingles j) >= threshold, without comparing all pairs.

    Exact, by prefix filtering (as in set-similarity joins): if the smaller set A needs k shared
    shingles, any |A| - k + 1 of its shingles include one that the other set holds, so an inverted
    index over that many of A's shingles finds every partner (the rarest are taken: fewest entries to
    read). Looking up _MARGIN more bounds each partner's overlap (shingles found + shingles not looked
    up), so one found by fewer than 1 + _MARGIN of them cannot reach k. The rest are compared with
    `containment` itself: the pairs are exactly those of the all-pairs loop, and the work grows with
    the corpus' shingles (one sort), not with its pairs.
    """
    n = len(arrays)
    if threshold <= 0:  # every pair holds: nothing to filter
        return {(i, j) for i in range(n) for j in range(i + 1, n)}
    sizes = np.fromiter(map(len, arrays), dtype=np.int64, count=n)
    flat = np.concatenate(arrays) if n else np.empty(0, dtype=np.int64)
    if not len(flat):
        return set()
    order = np.argsort(flat)  # the inverted index: entries grouped by shingle
    ordered = flat[order]
    first = np.empty(len(flat), dtype=bool)
    first[0], first[1:] = True, ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(flat)))  # how many sources hold each shingle
    holders = np.repeat(np.arange(n, dtype=np.int32), sizes)[order]
    frequency = np.repeat(counts, counts)
    need = np.fromiter((_least_overlap(int(size), threshold) for size in sizes), dtype=np.int64, count=n)
    shared = frequency > 1  # a shingle of one source alone finds no partner
    owners = holders[shared]
    ids = np.repeat(np.arange(len(counts), dtype=np.int32), counts)[shared]
    freq = frequency[shared]
    held = np.bincount(owners, minlength=n)  # shared shingles per source
    must = held - need + 1  # shingles to look up so that no partner can hide
    looked = np.where((must > 0) & (need <= sizes), np.minimum(held, must + _MARGIN), 0)
    rarest = _rarest_first(owners, freq)
    owners, ids = owners[rarest], ids[rarest]
    rank = np.arange(len(owners)) - (np.cumsum(held) - held)[owners]
    keep = rank < looked[owners]
    owners, ids = owners[keep], ids[keep]
    lengths = counts[ids]
    at = np.repeat(starts[ids] - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))
    source, partner = np.repeat(owners, lengths).astype(np.int64), holders[at].astype(np.int64)
    mask = (partner != source) & (sizes[partner] >= sizes[source])  # A is the smaller (or equal) of the pair
    keys, found = np.unique(source[mask] * n + partner[mask], return_counts=True)
    source, partner = keys // n, keys % n
    bound = found + (held - looked)[source]  # shingles found + shingles not looked up
    pairs: set[tuple[int, int]] = set()
    for i, j in zip(source[bound >= need[source]].tolist(), partner[bound >= need[source]].tolist()):
        if containment(set(arrays[i].tolist()), set(arrays[j].tolist())) >= threshold:
            pairs.add((min(i, j), max(i, j)))
    return pairs


def _rarest_first(owners: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """The order that groups entries by source, each source's rarest shingles first."""
    return np.argsort(owners.astype(np.int64) * (int(freq.max(initial=0)) + 1) + freq)


def _least_overlap(size: int, threshold: float) -> int:
    """The fewest shared shingles for which `containment` (shared / size) reaches the threshold."""
    need = max(1, math.ceil(threshold * size) - 1)
    while need <= size and not need / size >= threshold:
        need += 1
    return need


def group_sources(sources: list[Source], threshold: float = 0.5) -> list[SourceGroup]:
    """Union-find over near-duplicate text (5-word shingle containment) and equal canonical URLs."""
    parent = list(range(len(sources)))
    reason = ["independent"] * len(sources)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    arrays = [_shingle_array(s.text) for s in sources]
    urls = [canonical_url(s.url) for s in sources]
    by_url: dict[str, list[int]] = {}
    for i, url in enumerate(urls):
        if url:
            by_url.setdefault(url, []).append(i)
    same_url = {(a, b) for members in by_url.values() for n, a in enumerate(members) for b in members[n + 1:]}
    # the pairs in the all-pairs loop's order, so each source keeps the reason of its last match
    for i, j in sorted(same_url | _near_duplicate_pairs(arrays, threshold)):
        why = "same canonical url" if (i, j) in same_url else "near-duplicate text"
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
