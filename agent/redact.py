"""Secrets out of URLs: userinfo and credential-like query values, wherever a URL is written or shown.

`redact_url` is the one redaction function; `redact_text` applies it to every URL inside a message
(error lines, logs), and `hide_urls` replaces URLs entirely for people outside (HTTP clients), who
must not learn internal addresses either.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

MASK = "***"
# Query keys whose values are credentials: these names, or any key containing one of the stems.
_SECRET_KEYS = {"key", "auth", "authorization", "sig", "signature", "code", "session", "sessionid", "pwd", "passwd"}
_SECRET_STEMS = ("apikey", "token", "secret", "password", "credential", "accesskey")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s\"'<>()\[\]{}`]+")


def _is_secret(key: str) -> bool:
    folded = re.sub(r"[-_.\s]", "", key.lower())
    return folded in _SECRET_KEYS or any(stem in folded for stem in _SECRET_STEMS)


def redact_url(url: str) -> str:
    """The URL with its userinfo and credential-like query values masked; other parts as they were."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = "&".join(f"{quote(k, safe='')}={MASK if _is_secret(k) else quote(v, safe='/:')}"
                         for k, v in pairs)
    fragment = MASK if parts.fragment else ""  # fragments may carry tokens (OAuth implicit flow)
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: redact_url(_bare(m.group(0))) + m.group(0)[len(_bare(m.group(0))):], text)


def hide_urls(text: str, placeholder: str = "the model endpoint") -> str:
    """`text` with every URL replaced by `placeholder`: for clients, who must not see internal addresses."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: placeholder + m.group(0)[len(_bare(m.group(0))):], text)


def _bare(match: str) -> str:
    """A matched URL without the sentence punctuation that followed it."""
    return match.rstrip(".,;:!?")
