"""Source metadata is data, never markup: outlet, title and topic as plain text, url as a plain http(s) URL.

Metadata comes from front matter, JSON fields, HTML <head> and requests, all untrusted, and it is
shown in every output format and put into prompts. Links, images and HTML in it would publish an
attacker's link or tracking pixel, so they are reduced to their visible text here, where a Source
is built (a validator on agent.schema.Source calls these).
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urlsplit

MAX_FIELD_CHARS = 300
MAX_URL_CHARS = 2_000

_IMAGE = re.compile(r"!\[([^\]\n]*)\]\s*(?:\([^)\n]*\)|\[[^\]\n]*\])")          # ![alt](src) / ![alt][ref]
_LINK = re.compile(r"\[([^\]\n]*)\]\s*(?:\([^)\n]*\)|\[[^\]\n]*\])")             # [text](href) / [text][ref]
_LINK_DEF = re.compile(r"^\s*\[[^\]\n]*\]:\s*\S+.*$", re.MULTILINE)              # [ref]: https://...
_AUTOLINK = re.compile(r"<(?:[a-zA-Z][\w+.-]*:|www\.)[^>\s]*>")                   # <https://...>
_TAG = re.compile(r"<!--.*?-->|<\s*/?\s*[a-zA-Z!?][^>]*>", re.DOTALL)             # <img ...>, </a>, <!doctype>
_BARE_URL = re.compile(r"\b(?:[a-zA-Z][\w+.-]*://|www\.|(?:javascript|data|vbscript|mailto):)\S*", re.IGNORECASE)
_MARKS = re.compile(r"[<>\[\]`|]")  # what is left of markup syntax: never needed in an outlet or a title


def has_lone_surrogate(text: str) -> bool:
    """A UTF-16 half that cannot be encoded as UTF-8 (JSON lets "\\udc00" through)."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _visible(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] != "C" or ch in "\t\n"  # Cc control, Cf format/bidi, Cs surrogate, Co, Cn


def plain_text(value: object, limit: int = MAX_FIELD_CHARS) -> str:
    """The visible text of a metadata field: no links, images, HTML, URLs or control characters."""
    text = str(value or "")
    for _ in range(2):  # entities may spell out markup (&lt;img&gt;); a second pass takes that too
        text = html.unescape(text)
        text = _IMAGE.sub(lambda m: m.group(1), text)
        text = _LINK.sub(lambda m: m.group(1), text)
        text = _LINK_DEF.sub(" ", text)
        text = _AUTOLINK.sub(" ", text)
        text = _TAG.sub(" ", text)
    text = "".join(ch if _visible(ch) else " " for ch in unicodedata.normalize("NFKC", text))
    text = _BARE_URL.sub(" ", text)
    text = _MARKS.sub(" ", text)
    text = " ".join(text.split())
    return text[:limit].rstrip()


def safe_url(value: object) -> str | None:
    """`value` when it is a plain absolute http(s) URL with a host, else None."""
    if value is None:
        return None
    url = str(value).strip()
    if not url or len(url) > MAX_URL_CHARS or any(not _visible(ch) or ch.isspace() for ch in url):
        return None
    if any(ch in url for ch in "<>\"'`\\{}|^[]"):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or parts.username or parts.password:
        return None
    return url
