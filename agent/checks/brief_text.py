"""Read the project's own brief.md / brief.html back into a Brief, so an edited brief can be re-checked.

The shapes are those of agent/output/templates/brief.md.j2 and brief.html.j2: headings, the trend and
veracity lines, the explainer, the disclaimer and the source line are structure, not claims.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from agent.checks.debris import guess_language
from agent.house_format import DISPUTE_PREFIXES, LABELS, SECTION_KEYS, SECTIONS
from agent.schema import Brief, Paragraph, Sentence, SourceRef, Trend, Veracity
from agent.text import split_sentences

# Every shipped language's titles and labels (agent/house_format.py), so a Spanish brief.md reads back too.
_TITLE_TO_SECTION = {spec.title(lang): key for key, spec in SECTIONS.items() if key != "body" for lang in LABELS}
_EXPLAINERS = {f"_{words.explainer}_" for words in LABELS.values()}
_LAST_SECTION = SECTION_KEYS[-1]  # the disclaimer follows it


def _any(texts) -> str:
    return "|".join(sorted({re.escape(t) for t in texts}, key=len, reverse=True))


_CITATION = re.compile(r"\s*\[(S\d+:\d+(?:\s*,\s*S\d+:\d+)*)\]")
_PROVISIONAL = _any(w.provisional for w in LABELS.values())
_TREND = re.compile(rf"^\*\*(?:{_any(w.trend for w in LABELS.values())})( \((?:{_PROVISIONAL})\))?:\*\* (.*?)(?: — (.*))?$")
_VERACITY = re.compile(rf"^\*\*(?:{_any(w.veracity for w in LABELS.values())}): (.*?) (\d{{1,3}})/100\*\*"
                       rf"( \((?:{_PROVISIONAL})\))?(?: — (.*))?$")
_SOURCE_LINE = re.compile(rf"^(\d+) (?:{_any(t for w in LABELS.values() for t in (w.sources_one, w.sources_many))}) — "
                          rf"(?:{_any(w.synthesized_from for w in LABELS.values())}): ?(.*)$")
_CREDIT = re.compile(r"^(.*?)(?: \(([^()]*)\))?$")
_EXTRACTED = re.compile(r"^“(.*)” \(extracted\)$", re.S)


def _language(*texts: str) -> str:
    """The brief's language from its own sentences (its labels follow it)."""
    guessed = guess_language(" ".join(texts))
    return guessed if guessed in LABELS else "en"


def _sentences(line: str) -> list[Sentence]:
    """One rendered run of sentences: each cited sentence ends at its '[S1:2]' marker."""
    out: list[Sentence] = []
    pos = 0
    for m in [*_CITATION.finditer(line), None]:
        chunk = line[pos:m.start() if m else len(line)].strip()
        citations = [c.strip() for c in m.group(1).split(",")] if m else []
        pos = m.end() if m else len(line)
        if not chunk:
            continue
        pieces = [chunk] if citations or _EXTRACTED.match(chunk) or _is_italic(chunk) else \
            [chunk[a:b] for a, b in split_sentences(chunk)]
        for k, piece in enumerate(pieces):
            out.append(_sentence(piece, citations if k == len(pieces) - 1 else []))
    return out


def _is_italic(text: str) -> bool:
    return len(text) > 2 and text.startswith("_") and text.endswith("_")


def _sentence(text: str, citations: list[str]) -> Sentence:
    extracted = _EXTRACTED.match(text)
    if extracted:
        return Sentence(text=extracted.group(1), citations=citations, kind="extracted")
    if _is_italic(text):
        return Sentence(text=text[1:-1], citations=citations, kind="notice")
    if text.startswith(DISPUTE_PREFIXES) and len(citations) == 2:  # a disagreement the agent computed: figures checked
        return Sentence(text=text, citations=citations, kind="computed")
    return Sentence(text=text, citations=citations)


def _sources(count: int, credits: str) -> list[SourceRef]:
    refs = []
    for number, credit in enumerate([c.strip() for c in credits.split(" · ") if c.strip()][:count], start=1):
        m = _CREDIT.match(credit)
        refs.append(SourceRef(source_id=f"S{number}", number=number, outlet=m.group(1), topic=m.group(2) or ""))
    return refs


def parse_brief_markdown(text: str) -> Brief | None:
    """The Brief a brief.md was rendered from (citations kept as written), or None if it isn't one."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").split("\n")]
    lines = [ln for ln in lines if not ln.startswith(">")]  # the rejected-draft banner
    head = next((i for i, ln in enumerate(lines) if ln.startswith("# ")), None)
    if head is None or not any(_VERACITY.match(ln) for ln in lines) or not any(_SOURCE_LINE.match(ln) for ln in lines):
        return None
    fields: dict = {"headline": lines[head][2:].strip(), "dek": "", **{key: [] for key in SECTION_KEYS},
                    "disclaimer": "", "sources": []}
    section = "body"
    for ln in lines[head + 1:]:
        if not ln.strip():
            continue
        trend, veracity, source_line = _TREND.match(ln), _VERACITY.match(ln), _SOURCE_LINE.match(ln)
        if trend:
            fields["trend"] = Trend(name=trend.group(2), description=trend.group(3) or "",
                                    provisional=bool(trend.group(1)))
        elif veracity:
            fields["veracity"] = Veracity(label=veracity.group(1), score=min(int(veracity.group(2)), 100),
                                          rationale=veracity.group(4) or "", provisional=bool(veracity.group(3)))
        elif source_line:
            fields["sources"] = _sources(int(source_line.group(1)), source_line.group(2))
        elif ln.startswith("## "):
            section = _TITLE_TO_SECTION.get(ln[3:].strip(), section)
        elif ln in _EXPLAINERS:
            continue
        elif section == "body" and not fields["dek"] and not fields["body"] and _is_italic(ln):
            fields["dek"] = ln[1:-1]
        elif SECTIONS[section].bullets and ln.startswith("- "):
            fields[section].extend(_sentences(ln[2:]))
        elif section == _LAST_SECTION and _is_italic(ln) and not _CITATION.search(ln):
            fields["disclaimer"] = ln[1:-1]
        elif section == "body":
            fields["body"].append(Paragraph(sentences=_sentences(ln)))
        else:
            fields[section].extend(_sentences(ln))
    if "trend" not in fields or "veracity" not in fields:
        return None
    return Brief(**fields, language=_language(fields["dek"], *(s.text for para in fields["body"]
                                                                for s in para.sentences)))


class _BriefHTML(HTMLParser):
    """Collects the brief.html template's parts by their classes and tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        self.parts: dict[str, str] = {"headline": "", "dek": "", "trend_name": "", "trend_desc": "", "badge": "",
                                      "rationale": "", "disclaimer": "", "sources": "", "masthead": "",
                                      "trend_small": "", "verdict_small": ""}
        self.section = "body"
        self.sections: dict[str, list[list[Sentence]]] = {name: [] for name in SECTIONS}
        self.claim: dict | None = None
        self.in_h2 = ""
        self.in_panel = False

    def _classes(self) -> set[str]:
        return {c for _, cls in self.stack for c in cls.split()}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("meta", "br", "link", "img"):
            return
        cls = dict(attrs).get("class") or ""
        self.stack.append((tag, cls))
        names = set(cls.split())
        if "panel" in names:
            self.in_panel = True
        if tag == "p" and not names or tag == "li":
            if not self.in_panel or tag == "li":
                self.sections[self.section].append([])
        if names & {"claim", "notice"} and self.claim is None:
            kind = next((k for k in ("notice", "extracted", "computed", "selected") if k in names), "drafted")
            self.claim = {"text": "", "cite": "", "kind": kind, "depth": len(self.stack)}
        if tag == "h2":
            self.in_h2 = " "

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, cls = self.stack.pop()
            if self.claim is not None and len(self.stack) < self.claim["depth"]:
                self._end_claim()
            if open_tag == "h2" and self.in_h2:
                self.section = _TITLE_TO_SECTION.get(self.in_h2.strip(), self.section)
                self.in_h2 = ""
                self.in_panel = False
            if open_tag == tag:
                break

    def _end_claim(self) -> None:
        claim, self.claim = self.claim, None
        text = " ".join(claim["text"].split())
        if claim["kind"] == "extracted":
            text = text.strip("“”")
        citations = [c.strip() for c in claim["cite"].split(",") if c.strip()]
        if text and self.sections[self.section]:
            self.sections[self.section][-1].append(Sentence(text=text, citations=citations, kind=claim["kind"]))

    def handle_data(self, data: str) -> None:
        classes = self._classes()
        if self.in_h2:
            self.in_h2 += data
            return
        if self.claim is not None:
            if "pop" in classes:
                return  # the hover card quoting the passage
            self.claim["cite" if "cite" in classes else "text"] += data
            return
        tags = [t for t, _ in self.stack]
        for key, cls in (("dek", "dek"), ("rationale", "rationale"), ("disclaimer", "disclaimer"),
                         ("sources", "sources"), ("masthead", "masthead")):
            if cls in classes:
                self.parts[key] += data
                return
        if "small" in tags and classes & {"trend", "verdict"}:
            self.parts["trend_small" if "trend" in classes else "verdict_small"] += data
        elif "badge" in classes:
            self.parts["badge"] += data + " "
        elif "trend" in classes and "strong" in tags:
            self.parts["trend_name"] += data
        elif "trend" in classes and "small" not in tags:
            self.parts["trend_desc"] += data
        elif "h1" in tags:
            self.parts["headline"] += data


def parse_brief_html(text: str) -> Brief | None:
    """The Brief a brief.html was rendered from, or None if it isn't one."""
    if 'class="masthead"' not in text or 'class="dek"' not in text or 'class="sources"' not in text:
        return None
    parser = _BriefHTML()
    parser.feed(text)
    parser.close()
    p = {k: " ".join(v.split()) for k, v in parser.parts.items()}
    badge = re.match(r"^(.*?)\s*(\d{1,3})/100$", p["badge"])
    source_line = _SOURCE_LINE.match(re.sub(r"^(\d+ \w+) (?!—)", r"\1 — ", p["sources"]))
    if badge is None or source_line is None:
        return None
    sections = {name: [s for para in paras for s in para] for name, paras in parser.sections.items()}
    return Brief(headline=p["headline"], dek=p["dek"],
                 body=[Paragraph(sentences=para) for para in parser.sections["body"] if para],
                 trend=Trend(name=p["trend_name"], description=p["trend_desc"], provisional="provisional" in p["trend_small"]),
                 veracity=Veracity(label=badge.group(1), score=min(int(badge.group(2)), 100), rationale=p["rationale"],
                                   provisional="provisional" in p["verdict_small"]),
                 **{key: sections[key] for key in SECTION_KEYS if key != "body"}, disclaimer=p["disclaimer"], sources=_sources(int(source_line.group(1)), source_line.group(2)),
                 language=_language(p["dek"], *(s.text for para in parser.sections["body"] for s in para)))
