"""Source cleaning: chatbot leakage, prompt injection, table defects, web cruft, invisible characters, hidden HTML."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

import lxml.html
import trafilatura

from agent.checks.codes import Code
from agent.checks.injection import injection_spans
from agent.checks.leakage import leakage_spans
from agent.checks.tables import repair_row_repeating_cells, table_row_defect_lines
from agent.schema import Removal
from agent.text import detect_language, hidden_tag_text, normalize_unicode  # noqa: F401 (detect_language re-exported)

MAX_LINE_CHARS = 20_000
_CRUFT = re.compile(
    r"^\s*(?:share this (?:article|story|page)|advertisement|sponsored content|read more\b.*|related:.*|"
    r"subscribe to our newsletter.*|sign up for our newsletter.*|(?:we use|this site uses) cookies.*|"
    r"accept (?:all )?cookies.*|cookie (?:settings|policy|preferences).*|click here to .*|"
    r"follow us on .*|(?:share on )?(?:facebook|twitter|x|linkedin|whatsapp)(?:\s*[|·]\s*\w+)*|"
    r"all rights reserved.*|©.*|skip to (?:main )?content|back to top|print this page)\s*$",
    re.IGNORECASE,
)
_ALWAYS_HIDDEN = {"script", "style", "noscript", "template", "iframe", "object", "embed", "head", "title"}
_HIDDEN_CLASSES = {"sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text", "d-none", "is-hidden",
                   "hide", "hidden", "invisible"}
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_ZERO = r"0(?:\.0*)?(?:px|em|rem|pt|%)?(?![.\d])"
_HIDING = re.compile(
    r"display:none|visibility:(?:hidden|collapse)|font-size:" + _ZERO + r"|opacity:" + _ZERO
    + r"|(?:left|top|right|text-indent|margin-left|margin-top):-\d{3,}|clip:rect\(0|clip-path:inset\((?:50|100)%"
    r"|transform:scale\(0\)|(?:^|;)color:transparent"
)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def _hides(style: str) -> bool:
    """Whether inline CSS makes an element invisible to a reader (it stays readable to a model)."""
    css = re.sub(r"\s+", "", style.lower()).replace("!important", "")
    if _HIDING.search(css):
        return True
    decls = dict(d.split(":", 1) for d in css.split(";") if ":" in d)
    if (decls.get("height", "x").startswith("0") or decls.get("width", "x").startswith("0") or
            decls.get("max-height", "x").startswith("0")) and decls.get("overflow") == "hidden":
        return True
    color, background = decls.get("color"), decls.get("background-color") or decls.get("background")
    return bool(color) and color == background


def _hidden_selectors(tree) -> tuple[set[str], set[str]]:
    """Classes and ids that the page's own <style> rules hide."""
    return _selectors_hidden_by([style.text_content() for style in tree.iter("style")])


def _selectors_hidden_by(stylesheets: list[str]) -> tuple[set[str], set[str]]:
    classes, ids = set(), set()
    for css in stylesheets:
        for selectors, body in _CSS_RULE.findall(css):
            if not _hides(body):
                continue
            for selector in selectors.split(","):
                if m := re.fullmatch(r"\s*[\w-]*\.([\w-]+)\s*", selector):
                    classes.add(m.group(1))
                elif m := re.fullmatch(r"\s*#([\w-]+)\s*", selector):
                    ids.add(m.group(1))
    return classes, ids


def _is_hidden(el, classes: set[str], ids: set[str]) -> bool:
    if el.tag in _ALWAYS_HIDDEN or el.get("hidden") is not None:
        return True
    if (el.get("aria-hidden") or "").strip().lower() == "true" or _hides(el.get("style") or ""):
        return True
    names = set((el.get("class") or "").split())
    responsive = any(":" in n or (n.startswith("d-") and n != "d-none") for n in names)  # e.g. "hidden md:block"
    return bool(names & classes) or (el.get("id") or "") in ids or (bool(names & _HIDDEN_CLASSES) and not responsive)


MAX_HTML_DEPTH = 200  # libxml2 stops at 256 levels and the page's text is lost; deeper tags are dropped first
_RAW_TEXT = {"script", "style"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_TAG_TOKEN = re.compile(r"<(/?)([a-zA-Z][\w:-]*)[^>]*?(/?)>")


def _max_depth(html: str) -> int:
    """Nesting depth of the page's tags, estimated in one pass (unclosed tags count as open)."""
    depth = deepest = 0
    for m in _TAG_TOKEN.finditer(html):
        if m.group(2).lower() in _VOID or m.group(3):
            continue
        depth = max(0, depth - 1) if m.group(1) else depth + 1
        deepest = max(deepest, depth)
    return deepest


class _DepthCap(HTMLParser):
    """Re-serializes a page with tags below MAX_HTML_DEPTH dropped and their text kept, except the text of
    elements that are hidden (script, style, inline CSS, hidden attributes, classes hidden by the page)."""

    def __init__(self, classes: set[str], ids: set[str]):
        super().__init__(convert_charrefs=True)
        self.classes, self.ids = classes, ids
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, emitted)
        self.hidden_depth = 0  # > 0 inside a hidden element below the cap

    def _hidden(self, tag: str, attrs: dict) -> bool:
        names = set((attrs.get("class") or "").split())
        return (tag in _ALWAYS_HIDDEN or "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true"
                or _hides(attrs.get("style") or "") or bool(names & (self.classes | _HIDDEN_CLASSES))
                or (attrs.get("id") or "") in self.ids)

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            if len(self.stack) < MAX_HTML_DEPTH and not self.hidden_depth:
                self.out.append(self.get_starttag_text() or "")
            return
        emit = len(self.stack) < MAX_HTML_DEPTH and not self.hidden_depth
        if not emit and (self.hidden_depth or self._hidden(tag, {k: v or "" for k, v in attrs})):
            self.hidden_depth += 1
        self.stack.append((tag, emit))
        if emit:
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag):
        if tag in _VOID or not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            open_tag, emitted = self.stack.pop()
            if emitted:
                self.out.append(f"</{open_tag}>")
            elif self.hidden_depth:
                self.hidden_depth -= 1
            if open_tag == tag:
                return

    def handle_data(self, data):
        if self.hidden_depth:
            return
        if self.stack and self.stack[-1][0] in _RAW_TEXT:  # script/style text is not markup-escaped
            self.out.append(data)
        elif len(self.stack) > MAX_HTML_DEPTH and data.strip():
            self.out.append(f"<p>{escape(data, quote=False)}</p>")  # a paragraph keeps extractors reading it
        else:
            self.out.append(escape(data, quote=False))

    def handle_comment(self, data):
        pass

    def handle_decl(self, decl):
        self.out.append(f"<!{decl}>")


def cap_html_depth(html: str) -> tuple[str, bool]:
    """The page with nesting below MAX_HTML_DEPTH flattened (text kept, hidden text dropped), and whether
    anything was flattened; pages that are not that deep come back unchanged."""
    if html.count("<") <= MAX_HTML_DEPTH or _max_depth(html) <= MAX_HTML_DEPTH:
        return html, False
    styles = re.findall(r"<style\b[^>]*>(.*?)</style\s*>", html, re.IGNORECASE | re.DOTALL)
    parser = _DepthCap(*_selectors_hidden_by(styles))
    parser.feed(html)
    parser.close()
    while parser.stack:  # close what the page left open
        tag, emitted = parser.stack.pop()
        if emitted:
            parser.out.append(f"</{tag}>")
    return "".join(parser.out), True


def extract_html(html: str) -> tuple[str, dict, list[Removal]]:
    """Article text via trafilatura after dropping hidden elements; metadata from the page."""
    removed: list[Removal] = []
    html, flattened = cap_html_depth(html)
    if flattened:
        removed.append(Removal(reason="oversize-truncated",
                               text=f"HTML nested deeper than {MAX_HTML_DEPTH} levels: the deeper tags were dropped, "
                                    "their text kept"))
    meta: dict = {}
    doc = trafilatura.extract_metadata(html)  # before hidden elements go: <head> holds the metadata
    if doc is not None:
        meta = {"title": doc.title, "outlet": doc.sitename, "url": doc.url, "published": doc.date}
    try:
        tree = lxml.html.fromstring(html)
        classes, ids = _hidden_selectors(tree)
        hidden = [el for el in tree.iter() if isinstance(el.tag, str) and _is_hidden(el, classes, ids)]
        dropped: set = set()
        for el in hidden:
            if any(a in dropped for a in el.iterancestors()):
                continue
            dropped.add(el)
            text = el.text_content().strip()
            if text and el.tag not in ("script", "style", "head", "title"):
                removed.append(Removal(reason="hidden-html", text=_short(text)))
            if el.getparent() is not None:
                el.drop_tree()
        html = lxml.html.tostring(tree, encoding="unicode")
    except (ValueError, lxml.etree.ParserError):
        pass
    text = trafilatura.extract(html, favor_precision=True, include_comments=False, include_tables=True,
                               output_format="markdown", with_metadata=False) or ""
    return text, {k: v for k, v in meta.items() if v}, removed


def clean_text(text: str) -> tuple[str, list[Removal]]:
    """The cleaned text and a Removal for everything taken out."""
    smuggled = hidden_tag_text(text)
    text, invisible = normalize_unicode(text)
    note = f"; they spell out: {smuggled}" if smuggled.strip() else ""
    removed = [Removal(reason="invisible-characters",
                       text=_short(f"{invisible} invisible or bidi-control characters{note}"))] if invisible else []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if len(line) > MAX_LINE_CHARS:
            lines[i] = line[:MAX_LINE_CHARS]
            removed.append(Removal(reason="oversize-truncated", text=f"line cut to {MAX_LINE_CHARS} characters", line=i + 1))
    for i, code, _ in table_row_defect_lines("\n".join(lines)):
        if code == Code.DUPLICATE_TABLE_ROW:
            removed.append(Removal(reason=code, text=_short(lines[i]), line=i + 1))
            lines[i] = None
        elif code == Code.TABLE_ROW_REPEATS_CELLS:
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
    for a, b, family in reversed(injection_spans(text)):  # text addressed to a model is not article content
        removed.append(Removal(reason="chatbot-leakage", text=_short(f"prompt injection ({family}): {text[a:b]}"),
                               line=text.count("\n", 0, a) + 1))
        text = text[:a] + text[b:]
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, sorted(removed, key=lambda r: (r.line or 0, r.reason))
