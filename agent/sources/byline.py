"""A plain-text source's own title, byline and date, read from its opening lines.

A .txt or .md file without front matter often opens like a paper or a story: a title line, an
author line ("By Jane Roe", "Jane Roe, Senior Fellow, Example Institute"), a "Source:" or date
line, a "Summary" heading. Those lines are metadata, not body sentences: they are taken out of the
text and become the source's title, outlet and date. The outlet is the stated outlet or
organisation, else the author's name (a Source has no author field).
"""

from __future__ import annotations

import re
from datetime import date

from agent.sources.cleaning import clean_text

MAX_HEADER_LINES = 6
MAX_TITLE_WORDS = 20
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_BY = re.compile(r"^(?:by|por|par|von|di|door|written by|escrito por)\s+(.+)$", re.I)
_FIELD = re.compile(r"^(source|fuente|fonte|quelle|outlet|publisher|published by|publicado por|medio|"
                    r"author|authors|autor|autora|autores|auteur|written by|"
                    r"date|published|fecha|publicado|datum|data)\s*[:：\-–—]\s*(.+)$", re.I)
_OUTLET_FIELDS = {"source", "fuente", "fonte", "quelle", "outlet", "publisher", "published by", "publicado por", "medio"}
_DATE_FIELDS = {"date", "published", "fecha", "publicado", "datum", "data"}
_SECTION_WORDS = {"summary", "abstract", "introduction", "key points", "executive summary", "resumen", "introducción",
                  "résumé", "zusammenfassung", "sumário", "resumo", "sommario", "sintesi", "overview"}
_PARTICLES = {"de", "del", "da", "do", "dos", "van", "von", "der", "den", "la", "le", "y", "bin", "al"}
_ARTICLES = {"the", "a", "an", "el", "la", "los", "las", "le", "les", "der", "die", "das", "il", "o", "os", "this"}
_ROLE_WORDS = {"fellow", "director", "correspondent", "reporter", "editor", "analyst", "researcher", "professor",
               "writer", "economist", "chair", "head", "associate", "lecturer", "investigador", "investigadora",
               "corresponsal", "redactor", "redactora", "periodista", "profesor", "profesora", "analista", "directora"}
_MONTHS = {m: i for i, m in enumerate("january february march april may june july august september october "
                                      "november december".split(), start=1)}
_MONTHS.update({m: i for i, m in enumerate("enero febrero marzo abril mayo junio julio agosto septiembre octubre "
                                           "noviembre diciembre".split(), start=1)})


def _words(line: str) -> list[str]:
    return line.split()


def is_person_name(text: str) -> bool:
    """Two to four capitalised words (particles allowed), no digits: 'Jane Roe', 'Ana de la Cruz'."""
    words = [w.strip(",.") for w in _words(text)]
    named = [w for w in words if w.casefold() not in _PARTICLES]
    if words and words[0].casefold() in _ARTICLES:
        return False
    return (2 <= len(named) <= 4 and len(words) <= 6 and not any(c.isdigit() for c in text)
            and all(w[:1].isupper() and (w[1:].islower() or "-" in w or "'" in w or "’" in w) for w in named))


def _looks_like_title(line: str) -> bool:
    """Short, capitalised, no closing period, not a name, and not a line cleaning would remove (boilerplate,
    leakage, instructions to a model)."""
    words = _words(line)
    return (2 <= len(words) <= MAX_TITLE_WORDS and len(line) <= 200 and line[:1].isupper() | line[:1].isdigit()
            and not line.rstrip().endswith((".", ",", ";", ":")) and not is_person_name(line)
            and clean_text(line)[0].strip() == line.strip())


def _date(text: str) -> str | None:
    """An ISO date from '2026-03-05', '5 March 2026', 'March 5, 2026' or '5 de marzo de 2026'."""
    text = text.strip().casefold()
    m = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", text)
    if m:
        parts = tuple(int(g) for g in m.groups())
    else:
        m = re.search(r"\b(\d{1,2})\s+(?:de\s+)?([a-z]+)\s+(?:de\s+)?(\d{4})\b", text) or \
            re.search(r"\b([a-z]+)\s+(\d{1,2}),?\s+(\d{4})\b", text)
        if not m:
            return None
        a, b, year = m.groups()
        day, month = (a, b) if a.isdigit() else (b, a)
        if month not in _MONTHS:
            return None
        parts = (int(year), _MONTHS[month], int(day))
    try:
        return date(*parts).isoformat()
    except ValueError:
        return None


def _byline(text: str) -> tuple[str, str]:
    """(author, organisation) from 'Jane Roe, Senior Fellow, Example Institute' or 'Jane Roe | Example Wire'."""
    parts = [p.strip() for p in re.split(r"\s*(?:,|\||·|—|–|\s-\s)\s*", text) if p.strip()]
    if not parts:
        return "", ""
    author = parts[0] if is_person_name(parts[0]) or " and " in parts[0] or " y " in parts[0] else ""
    rest = [p for p in parts[1:] if not _date(p)]
    org = ""
    for part in reversed(rest):
        if part[:1].isupper() and not ({w.casefold() for w in _words(part)} & _ROLE_WORDS):
            org = part
            break
    return author or (parts[0] if not rest else ""), org


def opening_metadata(text: str) -> tuple[dict, str]:
    """Title, outlet and published date stated in the opening lines, and the text without those lines.

    Only the first few non-empty lines are read, and reading stops at the first line of prose.
    """
    lines = text.split("\n")
    meta: dict = {}
    author = ""
    consumed = 0  # lines taken out of the text
    seen = 0
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        seen += 1
        if seen > MAX_HEADER_LINES:
            break
        heading = _HEADING.match(line)
        field = _FIELD.match(line)
        by = _BY.match(line)
        if heading and "title" not in meta and seen == 1:
            meta["title"] = heading.group(1).strip()
        elif field:
            key, value = field.group(1).casefold(), field.group(2).strip()
            if key in _OUTLET_FIELDS:
                meta["outlet"] = value
            elif key in _DATE_FIELDS:
                if not _date(value):
                    break
                meta["published"] = _date(value)
            else:
                author = author or value
        elif by and (is_person_name(_byline(by.group(1))[0] or by.group(1).split(",")[0]) or " and " in by.group(1)):
            name, org = _byline(by.group(1))
            author = author or name
            if org:
                meta.setdefault("outlet", org)
        elif "title" in meta and not author and (is_person_name(line) or is_person_name(line.split(",")[0])):
            name, org = _byline(line)
            author = name
            if org:
                meta.setdefault("outlet", org)
        elif "title" in meta and _date(line) and len(_words(line)) <= 6:
            meta["published"] = _date(line)
        elif "title" in meta and line.casefold().rstrip(":") in _SECTION_WORDS:
            consumed = i + 1
            break
        elif "title" not in meta and seen == 1 and _looks_like_title(line):
            meta["title"] = line
        else:
            break
        consumed = i + 1
    rest = "\n".join(lines[consumed:]).lstrip("\n")
    if not meta and not author or not rest.strip():
        return {}, text  # nothing stated, or nothing but a header: the text stays as it is
    if author and not meta.get("outlet"):
        meta["outlet"] = author
    return meta, rest
