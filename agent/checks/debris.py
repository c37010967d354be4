"""Sentence debris: footnote marks, speaker labels, markup and JSON braces, fragments, dangling openings.

One set of rules, two uses: `clean_source_sentence` deletes what it can from a source sentence
(or says it can't be published), and `find_debris` reports the same defects in a draft. Markup,
braces, speaker labels and footnote marks don't depend on the language; fragments and dangling
openings need word lists, so they run only for a language that has one (en, es) and say
nothing otherwise.
"""

from __future__ import annotations

import html
import re

from agent.checks.codes import Code
from agent.checks.debris_words import LEXICONS, Lexicon, has_finite_verb
from agent.schema import Violation
from agent.text import split_sentences

MAX_WORDS = 60
DEBRIS_CODES = frozenset({Code.FRAGMENT, Code.DANGLING_REFERENCE, Code.MARKUP_DEBRIS, Code.SPEAKER_LABEL,
                          Code.FOOTNOTE_MARK})

# --- language-independent shapes -----------------------------------------------------------
_SUPERSCRIPTS = "\u00b9\u00b2\u00b3\u2070\u2074\u2075\u2076\u2077\u2078\u2079"
_FOOTNOTE = re.compile(
    r"\[(?:\d{1,3}(?:\s*[,–-]\s*\d{1,3})*|[a-z]|citation needed|note \d{1,3}|nota \d{1,3})\]"
    rf"|[{_SUPERSCRIPTS}]+|[†‡]"
    r"|(?<=[^\W\d_][.,;:!?])\d{1,3}(?=[\s)]|$)"  # "with the country.4"
    r"|(?<=[^\W\d_][.!?][\"”’»)])\d{1,3}(?=\s|$)",  # "…he said.”4"
    re.IGNORECASE)
_NUMBERED_ABBREV = re.compile(r"(?:^|\W)(?:no|nos|nr|p|pp|vol|art|sec|ch|fig|op|v|núm|n)[.,;:]$", re.IGNORECASE)
_LINE_MARK = re.compile(r"^[ \t]*(?:#{1,6}|>+|[-*•+‣◦▪]|\d{1,2}[.)])[ \t]+", re.MULTILINE)
_EMPHASIS = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__"
                       r"|(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"
                       r"|(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=\S)_(?![\w_])|`([^`\n]+)`")
_LINK = re.compile(r"(!?)\[([^\]\n]+)\]\([^)\s]*\)")
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", re.DOTALL)
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,7}|#\d{1,6}|#[xX][0-9A-Fa-f]{1,5});")
_JSON = re.compile(r"(?:^|[{\[,])\s*\"[A-Za-z_][\w-]*\"\s*:\s*\"?|\"\s*[}\]]+\s*,?|[{\[]\s*\""  # {"key": "…"}
                   r"|\{\{|\}\}|\{%|%\}|\\[nrt\"]")  # template delimiters, escaped newlines and quotes
_PLACEHOLDER = re.compile(r"\{\{\s*\w+\s*\}\}|\{[a-z_][a-z0-9_]*\}")  # the leakage rule's to report
_BRACE = re.compile(r"[{}]|\*+|(?<!\w)_{2,}|_{2,}(?!\w)")  # what is left after emphasis pairs are taken
_CAPTION = re.compile(r"^\s*(?:photo(?:graph)?|image|picture|caption|credits?|source|video|listen|read more|related|"
                      r"advertisement|editor'?s note|foto(?:grafía)?|imagen|fuente|crédito|vídeo|lea también|"
                      r"ver también)\s*[:|]", re.IGNORECASE)
_ROLE_LABEL = re.compile(r"^\s*(?:Q|A|P|R|user|assistant|system|interviewer|interviewee|moderator|host|question|"
                         r"answer|reporter|speaker(?:\s*\d+)?|entrevistador[a]?|entrevistado[a]?|pregunta|"
                         r"respuesta|usuario|asistente|moderador[a]?)\s*[:：]\s*", re.IGNORECASE)
_NAME_LABEL = re.compile(r"^\s*[A-ZÁÉÍÓÚÑ][\w'’.-]*(?:\s+[A-ZÁÉÍÓÚÑ][\w'’.-]*){0,2}\s*:\s+"
                         r"(?=[\"“«¿¡A-ZÁÉÍÓÚÑ])")
_OUTLET, _DASH = r"(?:\s*\([^()]{2,40}\))?", r"\s*[—–-]{1,2}(?:\s+|$)"
_DATELINE = re.compile(  # "PORT CARROW, March 3 (Meridian Wire) —", "Lisk, 3 de marzo (EFE) —"
    rf"^[A-ZÁÉÍÓÚÑ][A-ZÁÉÍÓÚÑ .'’-]{{1,40}}(?:,\s*[A-Z][a-z]{{2,8}}\.?\s+\d{{1,2}}(?:,\s*\d{{4}})?)?"
    rf"{_OUTLET}{_DASH}"
    r"|^[A-ZÁÉÍÓÚÑ][\w .'’-]{1,40},\s*(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}"
    rf"(?:,\s*\d{{4}})?|\d{{1,2}}\s+de\s+[a-z]+(?:\s+de\s+\d{{4}})?){_OUTLET}{_DASH}")
_OPEN_QUOTES, _CLOSE_QUOTES = "“«", "”»"
_WORDS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _footnote_spans(text: str) -> list[tuple[int, int]]:
    """Footnote marks; a digit glued after "No." or "p." is a number, not a note."""
    return [(m.start(), m.end()) for m in _FOOTNOTE.finditer(text)
            if not (m.group(0).isdigit() and _NUMBERED_ABBREV.search(text[max(0, m.start() - 6):m.start()]))]


def _speaker_label(sentence: str, roles_only: bool) -> tuple[re.Match, bool] | None:
    """(label match, is a role rather than a person); headlines may use 'Topic: subtitle', so only roles there."""
    if _CAPTION.match(sentence):
        return None
    role = _ROLE_LABEL.match(sentence)
    if role:
        return role, True
    name = None if roles_only else _NAME_LABEL.match(sentence)
    return (name, False) if name else None


def _markup_spans(text: str, short: bool) -> list[tuple[int, int, str]]:
    """(start, end, what) for markup, tags, entities, JSON or template braces and caption or dateline labels."""
    found: list[tuple[int, int, str]] = []
    families = [(_LINE_MARK, "list or heading marker"), (_EMPHASIS, "markdown emphasis"), (_LINK, "markdown link"),
                (_TAG, "HTML tag"), (_ENTITY, "HTML entity"), (_JSON, "JSON or template debris")]
    for pattern, what in families:
        found += [(m.start(), m.end(), what) for m in pattern.finditer(text)]
    placeholders = [(m.start(), m.end()) for m in _PLACEHOLDER.finditer(text)]
    for m in _BRACE.finditer(text):
        if not any(a <= m.start() < b for a, b in placeholders + [(a, b) for a, b, _ in found]):
            found.append((m.start(), m.end(), "stray brace or emphasis mark"))
    if text.count("[") != text.count("]"):
        found += [(m.start(), m.end(), "unbalanced bracket") for m in re.finditer(r"[\[\]]", text)]
    for a, b in split_sentences(text):
        sentence = text[a:b]
        caption = _CAPTION.match(sentence)
        dateline = None if short else _DATELINE.match(sentence)
        for m, what in ((caption, "caption label"), (dateline, "dateline")):
            if m:
                found.append((a + m.start(), a + m.end(), what))
    merged: list[tuple[int, int, str]] = []
    for a, b, what in sorted(set(found)):  # "} { <br>" is one piece of debris, not three
        if merged and not text[merged[-1][1]:a].strip():
            start, end, kinds = merged[-1]
            merged[-1] = (start, max(end, b), kinds if what in kinds else f"{kinds}, {what}")
        else:
            merged.append((a, b, what))
    return merged


def _strip_markup(text: str) -> str:
    """Markup, tags, entities, JSON and template debris, footnote marks and datelines deleted (link text kept)."""
    text = _TAG.sub(" ", html.unescape(_TAG.sub(" ", text)))
    text = _LINK.sub(lambda m: "" if m.group(1) else m.group(2), text)
    text = _EMPHASIS.sub(lambda m: next(g for g in m.groups() if g is not None), text)
    text = _JSON.sub(" ", text)
    text = _LINE_MARK.sub("", text)
    text = _BRACE.sub(" ", text)
    if text.count("[") != text.count("]"):
        text = re.sub(r"[\[\]]", " ", text)
    for a, b in reversed(_footnote_spans(text)):
        text = text[:a] + text[b:]
    text = _DATELINE.sub("", text.strip())
    text = " ".join(text.split())
    return re.sub(r"\s+([.,;:!?])", r"\1", text)


# --- quotes, openings, fragments -------------------------------------------------------------


def _balanced_quotes(text: str) -> str | None:
    """Text with a stray edge quote removed, or None when it starts or ends mid-quote."""
    text = re.sub(r'^["“”]\s+|\s+["“”]$', "", text)
    depth = 0
    for ch in text:
        depth += ch in _OPEN_QUOTES
        depth -= ch in _CLOSE_QUOTES
        if depth < 0:
            return None  # a quote closes that opened in an earlier sentence
    if depth or text.count('"') % 2:
        return None
    body = text.rstrip(".!?,;")
    if body[:1] in '"“«' and body[-1:] in '"”»' and not re.search(r'["“”«»]', body[1:-1]):
        return None  # nothing but a quotation: its speaker is in another sentence
    return text


def _opening(sentence: str) -> tuple[str, str]:
    """(leading punctuation, the rest): '¿', '¡' and dialogue dashes are not words."""
    m = re.match(r"^[¿¡—–(]*", sentence)
    return sentence[:m.end()], sentence[m.end():]


def _recapitalise(sentence: str) -> str:
    lead, rest = _opening(sentence)
    word = rest.split(" ", 1)[0]
    if word[:1].islower() and word.islower():
        rest = rest[0].upper() + rest[1:]
    return lead + rest


def _dangling(sentence: str, lex: Lexicon, preceded: bool) -> tuple[int, int, str] | None:
    """(start, end, why) of an opening that points outside the sentence; lower-case starts always count."""
    lead, rest = _opening(sentence)
    if not rest or rest[0] in "\"“«'‘":
        return None  # quoted speech keeps its own references
    words = _WORDS.findall(rest)
    if not words:
        return None
    first = words[0]
    start = len(lead) + rest.find(first)
    if first.islower() and not (first in lex.name_particles and len(words) > 1 and words[1][:1].isupper()):
        return start, start + len(first), f"starts mid-sentence ('{first}')"
    if preceded:
        return None
    connective = lex.connective.match(rest)
    if connective:
        phrase = connective.group(0).strip(" ,")
        return start, len(lead) + connective.end(), f"opens on a connective that refers back ('{phrase}')"
    low, nxt = first.lower(), (words[1].lower() if len(words) > 1 else "")
    if low in lex.referents and not lex.refers_to_nothing(nxt, rest):
        return start, start + len(first), f"opens on '{first}', whose referent is outside the sentence"
    also = lex.also_after_subject.match(rest)
    if also:
        return start, len(lead) + also.end(), "opens on a subject marked as continuing earlier text"
    if low in lex.dropped_subject_verbs:
        return start, start + len(first), f"opens on '{first}' with its subject outside the sentence"
    return None


def _lexicon(language: str | None, text: str) -> Lexicon | None:
    return LEXICONS.get((language or guess_language(text)).split("-")[0].lower())


def guess_language(text: str) -> str:
    """'en', 'es' or 'und' from a vote of function words; short or mixed text is 'und'."""
    words = [w.lower() for w in _WORDS.findall(text)[:3000]]
    votes = {code: sum(w in lex.markers for w in words) for code, lex in LEXICONS.items()}
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    return best if top >= 1 and top >= 2 * second + 1 else "und"


# --- the two public pieces -----------------------------------------------------------------


def clean_source_sentence(text: str, language: str = "en") -> str | None:
    """A source sentence made publishable by deletion only, or None when no deletion can do it.

    A named speaker's label ("Specter:") makes it None rather than being deleted, since the words would lose
    their speaker; role labels ("Q:", "INTERVIEWER:") are deleted. A language without word lists gets only the
    language-independent deletions (markup, braces, footnote marks, labels, quotes, length).
    """
    sentence = _strip_markup(text)
    if not sentence or _CAPTION.match(sentence) or sentence.rstrip().endswith((":", "?")):
        return None
    label = _speaker_label(sentence, roles_only=False)
    if label:
        match, is_role = label
        if not is_role:
            return None  # a named speaker's words: deleting the name would drop the attribution
        sentence = sentence[match.end():]
    sentence = _balanced_quotes(sentence.strip())
    if not sentence:
        return None
    letters = sum(c.isalpha() for c in sentence)
    if letters < 0.5 * len(sentence.replace(" ", "")) or len(sentence.split()) > MAX_WORDS:
        return None
    lex = LEXICONS.get(language.split("-")[0].lower())
    if lex is None:
        return sentence
    for _ in range(3):  # "But however, …"
        lead, rest = _opening(sentence)
        connective = lex.connective.match(rest)
        if not connective or not rest[connective.end():].strip():
            break
        sentence = _recapitalise(lead + rest[connective.end():].lstrip(" ,"))
    if _dangling(sentence, lex, preceded=False) or not has_finite_verb(sentence, lex.code):
        return None
    return sentence


def find_debris(text: str, section: str, allow_fragment: bool = False, *, language: str | None = None,
                preceded: bool = False) -> list[Violation]:
    """Debris in a draft text as violations; `preceded`: an earlier sentence of the section comes before it."""
    found: list[tuple[int, int, str, str]] = []
    for a, b, what in _markup_spans(text, short=allow_fragment):
        found.append((a, b, Code.MARKUP_DEBRIS, f"markup debris ({what}): '{text[a:b][:60]}'"))
    for a, b in _footnote_spans(text):
        found.append((a, b, Code.FOOTNOTE_MARK, f"footnote mark '{text[a:b]}' left in the text"))
    lex = _lexicon(language, text)
    for index, (a, b) in enumerate(split_sentences(text)):
        sentence = text[a:b]
        label = _speaker_label(sentence, roles_only=allow_fragment)
        if label:
            m = label[0]
            found.append((a + m.start(), a + m.end(), Code.SPEAKER_LABEL,
                          f"speaker label '{m.group(0).strip()}' at the start of a sentence"))
        if lex is None:
            continue  # no word lists for this language: say nothing rather than guess
        clean = _strip_markup(sentence)
        relabel = _speaker_label(clean, roles_only=allow_fragment)
        clean = clean[relabel[0].end():] if relabel else clean
        dangling = _dangling(clean, lex, preceded=preceded or index > 0)
        if dangling:
            word = clean[dangling[0]:dangling[1]]
            at = sentence.find(word)
            start = a + max(at, 0)
            found.append((start, start + len(word), Code.DANGLING_REFERENCE, f"dangling reference: {dangling[2]}"))
        if not allow_fragment and clean and not has_finite_verb(clean, lex.code):
            found.append((a, b, Code.FRAGMENT, f"fragment: no finite verb in '{sentence[:80]}'"))
    return [Violation(code=code, section=section, start=a, end=b, text=text[a:b], message=message)
            for a, b, code, message in found]
