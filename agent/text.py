"""Shared text utilities: unicode cleanup, sentence spans, comparison keys, languages and figures."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

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
_NEXT_CHAR = re.compile(r"\s*(\S)")
_WINDOW = 64  # longer than any abbreviation; a longer last word is not one either way


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
            # only the last word before and the first character after: linear on a 10 MB line
            before = line[max(start, m.start() - _WINDOW):m.start()].split()
            last = before[-1].lower().rstrip(".") if before else ""
            if last in _ABBREV or (len(last) == 1 and last.isalpha()):
                continue  # "Dr. Lind", "J. Smith", "U.S."
            nxt = _NEXT_CHAR.match(line, m.end())
            if nxt and nxt.group(1).islower():
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


# --- languages ---------------------------------------------------------------------------
# Function words per language: the language detector's votes and the words a content-word
# comparison ignores. Small on purpose; add a language by adding a line.
STOPWORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in {
    "en": "the and of to in is that for on with as was were said by it its at from an be has have had will would "
          "this which their they not but or are been after than about also into over who more when",
    "es": "el la los las y que del en por una para con es se su sus al lo como más pero fue ha han dijo este esta "
          "sobre entre según sin también hasta desde donde cuando muy ya le les son",
    "fr": "le la les et des est une dans pour que qui pas du au aux sur avec ce cette il elle sont ont été par plus "
          "mais ou leur selon sans entre aussi",
    "de": "der die und das ist nicht mit den von zu sich auf dem des ein eine einer im für wird wurde sind hat auch "
          "bei nach aus oder über wie noch",
    "pt": "o os as que do da dos das em no na nos nas um uma para com não é foi ao pelo pela mais mas como seu sua "
          "ser são também entre",
    "it": "il lo gli che di e per una non sono del della dei delle nel nella con è ha alla al anche più ma come "
          "questo questa tra dopo",
    "nl": "de het een en van is dat op te met voor niet zijn werd door ook bij naar als aan er maar",
}.items()}
ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())
# English function words a claim-to-source comparison skips: the English stopwords plus the longer
# function words (pronouns, modals, quantifiers) that carry no fact. Support, claims, the verifier's
# features and injection's payload tokens all read this one list (the verifier was trained on it).
FUNCTION_WORDS = STOPWORDS["en"] | frozenset("""because before being could does done just like made make many
might most much must only other says shall should some such them then there these those under very well what
where while your""".split())
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # the tokenizer: runs of letters and digits, any script
_ALIGN_WORD = re.compile(r"[a-z][a-z'’\-]{3,}")  # what claim alignment compares: Latin words of four letters or more


def words(text: str) -> list[str]:
    """The words of a text, as written: runs of letters and digits in any script."""
    return _WORD.findall(text)


def content_words(text: str) -> frozenset[str]:
    """Words of three letters or more that are no language's stopword (drafting and checking compare these)."""
    return frozenset(w for w in words(text.casefold()) if len(w) >= 3 and w not in ALL_STOPWORDS)


def alignment_stem(word: str) -> str:
    """A crude stem for claim alignment ("approved", "approves" -> "approv")."""
    word = word.replace("’", "'").removesuffix("'s")
    for suffix in ("ings", "ing", "ies", "ied", "es", "ed", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def alignment_words(text: str) -> list[str]:
    """A claim's words that alignment looks for in its evidence: four letters or more, no function words."""
    return [w for w in _ALIGN_WORD.findall(text.casefold()) if w not in FUNCTION_WORDS]


def alignment_stems(text: str) -> set[str]:
    """Stems of every word of four letters or more in the evidence (function words included)."""
    return {alignment_stem(w) for w in _ALIGN_WORD.findall(text.casefold())}


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of a's content words that b has; a sentence of few words counts as at least 6, so a short,
    generic sentence can't look like a perfect match for everything."""
    return len(a & b) / max(len(a), 6)


def detect_language(text: str) -> str:
    """ISO 639-1 code by a stopword vote over the first 2,000 words; 'und' when nothing is clear."""
    words = _LETTERS.findall(text[:20_000].casefold())[:2000]
    if len(words) < 4:
        return "und"
    scores = {lang: sum(w in stop for w in words) for lang, stop in STOPWORDS.items()}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (lang, best), (_, second) = ranked[0], ranked[1]
    if best < max(2, len(words) // 20) or best == second:
        return "und"
    return lang


# --- figures -----------------------------------------------------------------------------
# One parser for numbers with their scale, unit and rate, in English and the European formats
# ("1.2 billion crowns", "40 millones de euros", "1,2 millones", "1.200", "6 por ciento").
_NUMBER_WORDS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}
SCALES = {
    "thousand": 1e3, "million": 1e6, "millions": 1e6, "billion": 1e9, "billions": 1e9, "trillion": 1e12,
    "bn": 1e9, "mn": 1e6, "k": 1e3,
    "mil": 1e3, "millón": 1e6, "millon": 1e6, "millones": 1e6, "billón": 1e12, "billones": 1e12,
    "mille": 1e3, "milliard": 1e9, "milliards": 1e9,
    "tausend": 1e3, "mio": 1e6, "millionen": 1e6, "milliarde": 1e9, "milliarden": 1e9, "mrd": 1e9,
    "milhão": 1e6, "milhões": 1e6, "bilhão": 1e9, "bilhões": 1e9,
    "mila": 1e3, "milione": 1e6, "milioni": 1e6, "miliardo": 1e9, "miliardi": 1e9,
}
UNITS = {canonical: set(words.split()) for canonical, words in {
    "percent": "% percent pct prozent",
    "euro": "€ euro euros eur",
    "dollar": "$ dollar dollars usd dólar dólares",
    "pound": "£ pound pounds gbp libra libras",
    "crown": "crown crowns krona kronor krone kroner sek nok dkk corona coronas kr",
    "yen": "¥ yen",
    "franc": "franc francs chf franco francos",
    "peso": "peso pesos",
    "yuan": "yuan renminbi",
    "rouble": "rouble roubles ruble rubles rublo rublos",
    "metre": "metre metres meter meters metro metros mètre mètres",
    "km": "km kilometre kilometres kilometer kilometers kilómetro kilómetros",
    "tonne": "tonne tonnes ton tons tonelada toneladas",
    "litre": "litre litres liter liters litro litros",
    "hectare": "hectare hectares hectárea hectáreas",
    "megawatt": "megawatt megawatts mw",
    "gigawatt": "gigawatt gigawatts gw",
}.items()}
UNIT_OF = {w: canonical for canonical, words in UNITS.items() for w in words}
CURRENCIES = frozenset("euro dollar pound crown yen franc peso yuan rouble".split())
_PERCENT_PHRASES = re.compile(r"\s*(?:per\s?cent|por\s+cient[oa]|pour\s+cent|per\s+cento|por\s+cento)\b", re.I)
_PER = {"day": "day days día dia jour tag giorno", "year": "year years año ano an jahr anno annually yearly anuales "
        "anual", "month": "month months mes mois monat mese", "week": "week weeks semana semaine woche settimana"}
PER_OF = {w: k for k, words in _PER.items() for w in words.split()}
_RATE_WORDS = frozenset("a an per each al por par pro ao il la le by".split())
_CONNECTORS = frozenset("de of".split())
_OF_WORDS = frozenset("of de del des du di della do da".split())
_NOT_NOUNS = frozenset("""january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday enero febrero marzo abril mayo junio julio agosto septiembre
octubre noviembre diciembre lunes martes miércoles jueves viernes sábado domingo percent""".split())
_NUM_RE = re.compile(r"(?<![\w.,])(\d{1,3}(?:[.,\u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?!\d)")
_NUM_WORD_RE = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
_TAIL_TOKEN = re.compile(r"%|[^\W\d_]+|\S", re.UNICODE)
_SIGN_BEFORE = re.compile(r"(US\$|€|\$|£|¥|\b(?:EUR|USD|GBP|SEK|NOK|DKK|CHF)\s?)$")


@dataclass(frozen=True)
class Figure:
    """A numeric mention: `value` is scaled ("1.2 billion" -> 1.2e9); `unit` canonical or the counted noun."""

    start: int
    end: int
    whole: float
    value: float
    unit: str = ""
    per: str = ""
    of: str = ""
    spelled: bool = False
    number_end: int = -1  # where the number with its suffix, percent sign and scale words ends (no unit noun)

    @property
    def values(self) -> set[float]:
        """The values a text may show for this mention: as written and scaled (numbers_in's contract)."""
        return {self.whole, self.value}

    @property
    def key(self) -> tuple[str, str, str]:
        """What the figure measures: unit, rate and (for a share) what it is a share of."""
        return (self.unit, self.per, self.of)

    @property
    def is_year(self) -> bool:
        return (not self.unit and not self.spelled and self.value == self.whole and self.whole == int(self.whole)
                and 1900 <= self.whole <= 2100)


def parse_number(digits: str) -> float:
    """'1,200' and '1.200' are 1200; '1,2' and '1.25' are decimals; '1.250,5' and '1,250.5' both 1250.5."""
    s = digits.replace("\u00a0", "").replace("\u202f", "")
    if "," in s and "." in s:
        dec = "," if s.rfind(",") > s.rfind(".") else "."
        return float(s.replace("." if dec == "," else ",", "").replace(dec, "."))
    for sep in ",.":
        if sep in s:
            parts = s.split(sep)
            if len(parts) > 2 or (len(parts[-1]) == 3 and parts[0] != "0"):
                return float("".join(parts))
            return float(".".join(parts))
    return float(s)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and len(word) > 3 and not word.endswith("ss") else word


def _is_stopword(word: str) -> bool:
    return any(word in stop for stop in STOPWORDS.values())


def _describe(text: str, start: int, end: int) -> tuple[float, str, str, str, int, int]:
    """Scale, unit, rate and share-of for the number at text[start:end]; the mention's new end and the
    end of the number itself with its suffix, percent sign and scale words."""
    scale, unit, per, of = 1.0, "", "", ""
    sign = _SIGN_BEFORE.search(text[max(0, start - 5):start])
    if sign:
        unit = UNIT_OF.get(sign.group(1).strip().casefold(), "")
    worded = False  # a unit word has been read (a currency sign before the number still takes a scale word)
    suffix = re.match(r"(bn|mn|k|m)\b", text[end:end + 3], re.I)
    if suffix:
        s = suffix.group(1).casefold()
        if s == "m" and not unit:
            unit = "metre"
        else:
            scale = SCALES["mn" if s == "m" else s]
        end += suffix.end()
    percent = _PERCENT_PHRASES.match(text, end)
    if percent:
        unit, end, worded = "percent", percent.end(), True
    toks = [(m.group(0), m.start(), m.end()) for m in _TAIL_TOKEN.finditer(text, end, min(len(text), end + 80))]
    i, last, modifier, number_end = 0, end, "", end
    while i < len(toks):
        word, a, b = toks[i]
        low = word.casefold()
        if text[last:a].strip():
            break
        if low in SCALES and len(low) > 1 and not worded:
            scale *= SCALES[low]
            number_end = b if number_end == last else number_end
        elif low in _CONNECTORS and scale > 1 and not unit:
            pass  # "40 millones de euros"
        elif low in ("cubic", "square") and not unit:
            modifier = low + " "
        elif not unit and low in UNIT_OF:
            unit, worded = UNIT_OF[low], True
            number_end = b if unit == "percent" and number_end == last else number_end
        elif not unit and len(low) >= 3 and word[0].islower() and low not in _NOT_NOUNS and not _is_stopword(low):
            unit, worded = _singular(low), True
        elif unit == "metre" and low in ("cúbicos", "cuadrados"):
            modifier = "cubic " if low.startswith("c") else "square "
        else:
            break
        last, i = b, i + 1
    if unit in ("metre", "km") and modifier:
        unit = modifier + unit
    rest = [t[0].casefold() for t in toks[i:i + 8] if t[0].isalpha()]
    for j, w in enumerate(rest[:5]):
        if w in PER_OF and ((j == 0 and w in ("annually", "yearly", "anuales", "anual")) or (j and rest[j - 1] in _RATE_WORDS)):
            per = PER_OF[w]
            break
    if unit == "percent" and rest and rest[0] in _OF_WORDS:
        of = next((_singular(w) for w in rest[1:4] if not _is_stopword(w) and len(w) >= 3), "")
    return scale, unit, per, of, max(end, last), number_end


def figures_in(text: str, words: bool = True) -> list[Figure]:
    """Every numeric mention in order, with scale, unit, rate and share-of; number words too unless words=False."""
    out: list[Figure] = []
    for m in _NUM_RE.finditer(text):
        whole = parse_number(m.group(1))
        scale, unit, per, of, end, number_end = _describe(text, m.start(), m.end())
        out.append(Figure(m.start(), end, whole, whole * scale, unit, per, of, number_end=number_end))
    if words:
        for m in _NUM_WORD_RE.finditer(text):
            whole = float(_NUMBER_WORDS[m.group(1).casefold()])
            scale, unit, per, of, end, number_end = _describe(text, m.start(), m.end())
            out.append(Figure(m.start(), end, whole, whole * scale, unit, per, of, spelled=True, number_end=number_end))
    return sorted(out, key=lambda f: f.start)


def number_spans(text: str) -> list[tuple[int, int, set[float]]]:
    """(start, end, acceptable values) of every number, its span without the unit noun: what the support rule
    and the meaning rules compare, from the one parser that also builds the disputes."""
    return [(f.start, f.number_end, f.values) for f in figures_in(text)]


_WORDLIKE = re.compile(r"\w\w")


def has_words(text: str) -> bool:
    """Two word characters in a row: '...', '—' or a lone letter is as empty as nothing (checker and scorers)."""
    return _WORDLIKE.search(text) is not None
