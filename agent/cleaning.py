"""Source cleaning: chatbot leakage, table defects, web cruft, invisible characters, hidden HTML."""

from __future__ import annotations

import re

import lxml.html
import trafilatura

from agent.checks.leakage import leakage_spans
from agent.checks.tables import repair_row_repeating_cells, table_row_defect_lines
from agent.schema import Removal
from agent.text import normalize_unicode

MAX_LINE_CHARS = 20_000
_CRUFT = re.compile(
    r"^\s*(?:share this (?:article|story|page)|advertisement|sponsored content|read more\b.*|related:.*|"
    r"subscribe to our newsletter.*|sign up for our newsletter.*|(?:we use|this site uses) cookies.*|"
    r"accept (?:all )?cookies.*|cookie (?:settings|policy|preferences).*|click here to .*|"
    r"follow us on .*|(?:share on )?(?:facebook|twitter|x|linkedin|whatsapp)(?:\s*[|·]\s*\w+)*|"
    r"all rights reserved.*|©.*|skip to (?:main )?content|back to top|print this page)\s*$",
    re.IGNORECASE,
)
_HIDDEN_XPATH = (
    "//script|//style|//noscript|//template|//iframe|//*[@hidden]|//*[@aria-hidden='true']"
    "|//*[contains(translate(@style,' ',''),'display:none')]"
    "|//*[contains(translate(@style,' ',''),'visibility:hidden')]"
)
_STOPWORDS = {
    "en": "the and of to in is that for on with as was said by",
    "de": "der die und das ist nicht mit den von zu sich auf",
    "fr": "le la les et des est une dans pour que qui pas",
    "es": "el la los las y que del en por una para con",
    "it": "il la che di e per una non sono del della con",
    "pt": "o a os as que de do da em para com uma",
    "nl": "de het een en van is dat op te met voor niet",
}
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def extract_html(html: str) -> tuple[str, dict, list[Removal]]:
    """Article text via trafilatura after dropping hidden elements; metadata from the page."""
    removed: list[Removal] = []
    try:
        tree = lxml.html.fromstring(html)
        for el in tree.xpath(_HIDDEN_XPATH):
            text = el.text_content().strip()
            if text and el.tag not in ("script", "style"):
                removed.append(Removal(reason="hidden-html", text=_short(text)))
            el.drop_tree()
        html = lxml.html.tostring(tree, encoding="unicode")
    except (ValueError, lxml.etree.ParserError):
        pass
    text = trafilatura.extract(html, favor_precision=True, include_comments=False, include_tables=True,
                               output_format="markdown", with_metadata=False) or ""
    meta: dict = {}
    doc = trafilatura.extract_metadata(html)
    if doc is not None:
        meta = {"title": doc.title, "outlet": doc.sitename, "url": doc.url, "published": doc.date}
    return text, {k: v for k, v in meta.items() if v}, removed


def clean_text(text: str) -> tuple[str, list[Removal]]:
    """The cleaned text and a Removal for everything taken out."""
    text, invisible = normalize_unicode(text)
    removed = [Removal(reason="invisible-characters", text=f"{invisible} invisible or bidi-control characters")] if invisible else []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if len(line) > MAX_LINE_CHARS:
            lines[i] = line[:MAX_LINE_CHARS]
            removed.append(Removal(reason="oversize-truncated", text=f"line cut to {MAX_LINE_CHARS} characters", line=i + 1))
    for i, code, _ in table_row_defect_lines("\n".join(lines)):
        if code == "duplicate-table-row":
            removed.append(Removal(reason=code, text=_short(lines[i]), line=i + 1))
            lines[i] = None
        elif code == "table-row-repeats-cells":
            removed.append(Removal(reason=code, text=_short(lines[i]), line=i + 1))
            lines[i] = repair_row_repeating_cells(lines[i])
    kept = []
    for i, line in enumerate(lines):
        if line is None:
            continue
        if _CRUFT.match(line):
            removed.append(Removal(reason="web-boilerplate", text=_short(line), line=i + 1))
            continue
        kept.append(line)
    text = "\n".join(kept)
    spans = leakage_spans(text)
    for a, b, category in reversed(spans):
        removed.append(Removal(reason="chatbot-leakage", text=_short(text[a:b]), line=text.count("\n", 0, a) + 1))
        text = text[:a] + text[b:]
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, sorted(removed, key=lambda r: (r.line or 0, r.reason))


def detect_language(text: str) -> str:
    """Tiny stopword vote over the first 2,000 words; 'und' when nothing is clear."""
    words = _WORDS.findall(text[:20_000].casefold())[:2000]
    if len(words) < 5:
        return "und"
    scores = {lang: sum(w in set(sw.split()) for w in words) for lang, sw in _STOPWORDS.items()}
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    return lang if best >= max(2, len(words) // 25) else "und"
