"""Shared text utilities: unicode cleanup, sentence spans, comparison keys."""

from __future__ import annotations

import re
import unicodedata

# Format, bidi-control, filler and variation-selector characters, and the Unicode "tag" block
# (U+E0000-E007F), which can spell out ASCII that a reader never sees but a model may read.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_TAGS = re.compile("[\U000e0020-\U000e007e]+")
_ABBREV = {"mr", "mrs", "ms", "dr", "prof", "st", "gen", "sen", "rep", "gov", "lt", "col", "sgt",
           "inc", "ltd", "co", "corp", "jr", "sr", "no", "vs", "etc", "e.g", "i.e", "u.s", "u.k",
           "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+|$)")
_PUNCT = re.compile(r"[^\w\s]")


def normalize_unicode(text: str) -> tuple[str, int]:
    """NFC, newlines unified, invisible and bidi-control characters removed (count returned)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    cleaned, count = _INVISIBLE.subn("", unicodedata.normalize("NFC", text))
    return cleaned, count


def hidden_tag_text(text: str) -> str:
    """ASCII spelled out in invisible Unicode tag characters ("ASCII smuggling"), decoded."""
    return " ".join("".join(chr(ord(c) - 0xE0000) for c in m.group(0)) for m in _TAGS.finditer(text))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences; lines (bullets, table rows) never join across a newline."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        start = 0
        for m in _BOUNDARY.finditer(line):
            before = line[start:m.start()].split()
            last = before[-1].lower().rstrip(".") if before else ""
            if last in _ABBREV or (len(last) == 1 and last.isalpha()):
                continue  # "Dr. Lind", "J. Smith", "U.S."
            nxt = line[m.end():].lstrip()
            if nxt and nxt[0].islower():
                continue
            _add(spans, line, offset, start, m.end())
            start = m.end()
        _add(spans, line, offset, start, len(line))
        offset += len(line) + 1
    return spans


def _add(spans: list[tuple[int, int]], line: str, offset: int, a: int, b: int) -> None:
    piece = line[a:b]
    if piece.strip():
        lead = len(piece) - len(piece.lstrip())
        spans.append((offset + a + lead, offset + a + len(piece.rstrip())))


def normalize_for_compare(text: str) -> str:
    """Casefolded, punctuation-free, whitespace-collapsed: the key for duplicate detection."""
    return " ".join(_PUNCT.sub(" ", text.casefold()).split())
