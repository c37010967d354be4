"""What the meaning-change rules share: tokens, stems, clauses, lexicons, figures, dates, findings.

English lexicons only: `looks_english` gates the rules, so another language gets no findings
rather than false ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from agent.text import FUNCTION_WORDS, number_spans, split_sentences

# Not agent.text.words: the rules need offsets, "4,200" and "town's" as one token, and digits apart from letters.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)

# Weighed against OTHER_FUNCTION: "a", "in" and "on" occur in other languages too, among many of their own words.
ENGLISH_FUNCTION = frozenset("""the a an in on of to and is are was were for with by that it as at from has have had
be been will would could should said says this which its their not but or who after while than they he she""".split())
# Function words of other languages the sources may be in (Spanish, French, German, Italian, Portuguese, Dutch).
OTHER_FUNCTION = frozenset("""el la los las del que y en un una por con para es se lo al le les des du et est une
dans pour pas sur au aux der das und ist den dem nicht mit von zu auf ein eine sich il di che per non gli della
het een van op niet zijn ook os da em não uma com pelo pela""".split())
# What a clause's content words leave out: the shared function words (agent.text) plus pronouns, quantifiers
# and ordinals, less the words that carry a meaning change here ("before" orders events; "made", "make",
# "like" and "well" can be the claim's verb or its manner).
STOPWORDS = (ENGLISH_FUNCTION | FUNCTION_WORDS | frozenset("""here his her our we you i one any all each both can
may do did so if up out no yes per its' whose whom how why new first last same own few""".split())) - frozenset(
    "before made make like well".split())

IRREGULAR = {
    "rose": "rise", "risen": "rise", "fell": "fall", "fallen": "fall", "won": "win", "lost": "lose",
    "grew": "grow", "grown": "grow", "sold": "sell", "bought": "buy", "began": "begin", "begun": "begin",
    "left": "leave", "led": "lead", "paid": "pay", "built": "build", "held": "hold", "took": "take",
    "taken": "take", "gave": "give", "given": "give", "met": "meet", "said": "say", "told": "tell",
    "spent": "spend", "brought": "bring", "fought": "fight", "struck": "strike", "sought": "seek",
    "chose": "choose", "chosen": "choose", "ran": "run", "went": "go", "gone": "go", "came": "come",
    "kept": "keep", "saw": "see", "seen": "see", "made": "make", "drew": "draw", "drawn": "draw",
    "shrank": "shrink", "shrunk": "shrink", "sank": "sink", "sunk": "sink", "wrote": "write",
    "written": "write", "lent": "lend", "sent": "send", "hired": "hire", "shot": "shoot", "beaten": "beat",
    "overtook": "overtake", "overtaken": "overtake", "undertook": "undertake", "forbade": "forbid",
    "forbidden": "forbid", "withdrew": "withdraw", "withdrawn": "withdraw", "slid": "slide", "sued": "sue",
    "owed": "owe", "suing": "sue", "bore": "bear", "upheld": "uphold", "withheld": "withhold",
    "overheard": "overhear", "borne": "bear", "found": "find", "caught": "catch", "taught": "teach",
}
PAST_PARTICIPLE_IRREGULAR = frozenset(IRREGULAR) - {"rose", "fell", "grew", "began", "took", "gave", "chose", "ran",
                                                     "went", "came", "saw", "drew", "shrank", "sank", "wrote", "suing",
                                                     "overtook", "forbade", "withdrew", "bore"}


def stem(word: str) -> str:
    """A crude stem that maps inflections of one verb or noun together (approve/approved/approves)."""
    w = word.casefold().replace("’", "'").removesuffix("'s").strip("'")
    w = IRREGULAR.get(w, w)
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("ied") and len(w) > 4:
        return w[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s", "e"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            w = w[: -len(suffix)]
            if suffix in ("ing", "ed") and len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # cutting -> cut
            break
    return w


@dataclass(frozen=True)
class Token:
    text: str
    low: str
    stem: str
    start: int
    end: int


@dataclass(frozen=True)
class Clause:
    tokens: tuple[Token, ...]
    start: int
    end: int
    sentence: tuple[int, int]

    @property
    def content(self) -> set[str]:
        return {t.stem for t in self.tokens if is_content(t)}


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0), m.group(0).casefold().replace("’", "'"), stem(m.group(0)), m.start(), m.end())
            for m in _TOKEN.finditer(text)]


def is_content(t: Token) -> bool:
    return t.low not in STOPWORDS and (len(t.low) > 2 or t.low[0].isdigit()) and not is_negation(t)


def is_negation(t: Token) -> bool:
    return t.low in NEGATIONS or t.low.endswith("n't")


NEGATIONS = frozenset({"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "cannot"})
# Words that open a new clause: a rule compares the claim's clauses with the source's, not whole sentences.
CLAUSE_OPENERS = frozenset({"but", "while", "whereas", "although", "though", "because", "when", "which", "who",
                            "whom", "whose", "once", "until", "unless", "if", "and", "after", "before", "that",
                            "where", "since", "so"})
_CLAUSE_PUNCT = re.compile(r"[,;:()\u2014\u2013]|\s-\s")


def clauses(text: str) -> list[Clause]:
    """Clauses of every sentence: split at clause punctuation and at clause-opening words."""
    out: list[Clause] = []
    toks = tokens(text)
    for a, b in split_sentences(text) or [(0, len(text))]:
        current: list[Token] = []
        inside = [t for t in toks if a <= t.start < b]
        for i, t in enumerate(inside):
            gap = text[inside[i - 1].end:t.start] if i else ""
            if current and (_CLAUSE_PUNCT.search(gap) or t.low in CLAUSE_OPENERS):
                out.append(Clause(tuple(current), current[0].start, current[-1].end, (a, b)))
                current = []
            current.append(t)
        if current:
            out.append(Clause(tuple(current), current[0].start, current[-1].end, (a, b)))
    return out


def negated(clause: Clause) -> bool:
    """Odd number of negations in the clause ("not only" is not one)."""
    toks = clause.tokens
    count = sum(1 for i, t in enumerate(toks) if is_negation(t)
                and not (t.low == "not" and i + 1 < len(toks) and toks[i + 1].low == "only"))
    return count % 2 == 1


@lru_cache(maxsize=1024)  # every meaning rule asks it of the same claim and evidence
def looks_english(text: str) -> bool:
    """Enough English function words that the English lexicons can be trusted on this text."""
    # not agent.text.detect_language: that wants two stopword votes and disagrees on 131 of 2,540 project texts
    words = [t.low for t in tokens(text) if not t.low[0].isdigit()]
    if not words:
        return False
    hits = sum(1 for w in words if w in ENGLISH_FUNCTION)
    foreign = sum(1 for w in words if w in OTHER_FUNCTION)
    return hits >= 1 and hits > foreign


# --- direction and polarity -------------------------------------------------------------
_DIRECTION_GROUPS = {
    "amount": ("rise increase grow climb jump soar surge raise boost expand swell double triple widen hike lift "
               "accelerate gain up higher exceed", "fall drop decline decrease cut reduce lower shrink slump plunge "
               "sink slide slash tumble halve narrow contract trim down loss lose below"),
    "approval": ("approve accept pass endorse adopt allow permit authorize authorise grant agree favour favor "
                 "support uphold", "reject refuse deny veto block oppose ban forbid prohibit overturn dismiss "
                 "oppos"),
    "outcome": ("win succeed victory", "lose fail defeat"),
    "openness": ("open reopen launch start begin resume restart", "close shut stop halt suspend cease scrap cancel "
                 "abandon end"),
    "finance": ("profit surplus gain", "loss deficit"),
    "jobs": ("hire employ recruit", "fire sack layoff"),
    "quality": ("improve strengthen better best", "worsen weaken worse worst deteriorate undermine"),
    "verdict": ("acquit", "convict"),
    "trade": ("buy purchase import acquire", "sell export divest"),
    "membership": ("join enter arrive", "leave quit exit depart"),
    "inclusion": ("include", "exclude omit remove"),
    "stance": ("praise welcome", "criticise criticize condemn"),
}
DIRECTION: dict[str, list[tuple[str, int]]] = {}
for _group, (_up, _down) in _DIRECTION_GROUPS.items():
    for _words, _sign in ((_up, 1), (_down, -1)):
        for _w in _words.split():
            DIRECTION.setdefault(stem(_w), []).append((_group, _sign))
_NOUN_SENSE_ONLY_AFTER_DET = {stem(w) for w in ("end", "start", "open", "close", "support", "cut", "pass", "gain",
                                                   "loss", "lift", "block", "ban", "fire", "exit")}
_DETERMINERS = frozenset("the a an its their his her this that these those our your every each".split())


def direction_marks(clause: Clause) -> list[tuple[Token, str, int]]:
    """(token, group, sign) for each direction word whose reading is clear enough to compare."""
    out = []
    toks = clause.tokens
    for i, t in enumerate(toks):
        for group, sign in DIRECTION.get(t.stem, []):
            before = toks[i - 1].low if i else ""
            after = toks[i + 1].low if i + 1 < len(toks) else ""
            if t.low in ("up", "down", "below", "exceed", "higher", "lower") and not _near_number(toks, i):
                continue  # "set up", "step down": direction only next to a figure
            if t.stem == stem("close") and after == "to":
                continue  # "close to 40 percent"
            if t.stem in _NOUN_SENSE_ONLY_AFTER_DET and before in _DETERMINERS and group not in ("finance", "amount"):
                continue  # "at the end of September"
            out.append((t, group, sign))
    return out


def _near_number(toks: tuple[Token, ...], i: int) -> bool:
    return any(t.low[0].isdigit() or t.low in ("percent", "%") for t in toks[max(0, i - 3): i + 4])


# --- hedges, modality and attribution --------------------------------------------------
ATTRIBUTION = frozenset("""say says said saying tell tells told according reportedly allegedly claimed alleged
estimated estimates believes believed argued argues warned warns insisted insists stated predicted predicts
forecast forecasts wrote writes announced announces confirmed""".split())
MODALITY = frozenset("""could may might would should likely unlikely possibly probably perhaps potentially
expect expects expected expecting plan plans planned planning aim aims aimed intend intends intended hope hopes
hoped hoping want wants wanted seek seeks sought ask asks asked urge urges urged projected estimate estimates
estimated if unless wish wishes appear appears seem seems due""".split())
# Words that are hedges only as verbs: "plans to", "we expect", "has asked"; not "insurance plans".
_VERB_SENSE = frozenset("""expect expects plan plans aim aims intend intends hope hopes want wants seek seeks ask asks
urge urges estimate estimates wish wishes due""".split())
_HEDGE_CONTEXT_BEFORE = frozenset("""we they he she it i you who which that has have had is are was were will would
also still now and""".split())
STRONG_MODALS = frozenset({"could", "may", "might", "would", "likely", "possibly", "probably", "perhaps"})


def hedges(clause: Clause) -> list[Token]:
    """Modal and hedging words of the clause (the verbs among them only in a verb's position)."""
    out = []
    toks = clause.tokens
    for i, t in enumerate(toks):
        if t.low not in MODALITY or (t.low == "may" and i and t.text[0].isupper()):
            continue  # "in May"
        if t.low in _VERB_SENSE:
            before = toks[i - 1].low if i else ""
            after = toks[i + 1].low if i + 1 < len(toks) else ""
            if t.low == "due" and before not in ("is", "are", "was", "were", "be"):
                continue
            doer = i and (toks[i - 1].text[:1].isupper() or (before.endswith("s") and before not in STOPWORDS))
            if after not in ("to", "that") and before not in _HEDGE_CONTEXT_BEFORE and not doer:
                continue
        out.append(t)
    return out


def attributions(clause: Clause, *, lenient: bool = False) -> list[Token]:
    """Attribution words; `lenient` (for a claim) also takes verbs that credit a figure to someone."""
    words = ATTRIBUTION | _CREDITING if lenient else ATTRIBUTION
    return [t for t in clause.tokens if t.low in words]


# "Meridian Wire gives 1.2 billion", "critics put the cost at": a claim that credits its figure to someone.
_CREDITING = frozenset("gives give puts put cites cited quotes quoted reports reported describes described".split())


# --- figures and dates -----------------------------------------------------------------
UNIT_CLASSES = {
    "currency": "crown crowns euro euros dollar dollars pound pounds yen kronor krona franc francs rupee rupees "
                "yuan peso pesos",
    "percent": "percent % per-cent",
    "measure": "metre metres meter meters kilometre kilometres kilometer kilometers mile miles tonne tonnes ton tons "
               "litre litres liter liters hectare hectares acre acres cubic square degree degrees kilogram "
               "kilograms kg km megawatt megawatts gigawatt gigawatts",
    "duration": "second seconds minute minutes hour hours day days week weeks month months year years decade decades",
}
UNIT_OF = {w: cls for cls, words in UNIT_CLASSES.items() for w in words.split()}
CURRENCY_SIGNS = {"$": "dollar", "€": "euro", "£": "pound", "¥": "yen"}
SCALE_WORDS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9}


@dataclass(frozen=True)
class Figure:
    start: int
    end: int
    whole: float
    value: float
    scale: str
    unit: str  # the unit word ("percent", "crowns"), "" when none follows
    unit_class: str


def figures(text: str) -> list[Figure]:
    """Numeric mentions with their scale word and unit; bare years are dates, not figures."""
    out = []
    for start, end, values in number_spans(text):
        mention = text[start:end].casefold()
        glued = text[max(0, start - 1):start] == "-" and text[max(0, start - 2):start - 1].isalnum()
        if not mention[:1].isdigit() or glued:
            continue  # number words ("two") stay with the existing number rule; "CoV-2" is a name
        scale = next((w for w in SCALE_WORDS if re.search(rf"\b{w}\b", mention)), "")
        whole = min(values)
        value = whole * SCALE_WORDS.get(scale, 1.0)
        sign = text[max(0, start - 1):start]
        rest = tokens(text[end:end + 40])
        unit = "percent" if ("%" in mention or "percent" in mention or "per cent" in mention) else ""
        if not unit and sign in CURRENCY_SIGNS:
            unit = CURRENCY_SIGNS[sign]
        if not unit and rest and rest[0].low in UNIT_OF:
            unit = rest[0].low
        if not scale and rest and rest[0].low in SCALE_WORDS:
            scale = rest[0].low
            value = whole * SCALE_WORDS[scale]
            if len(rest) > 1 and not unit and rest[1].low in UNIT_OF:
                unit = rest[1].low
        if not unit and not scale and whole == int(whole) and 1900 <= whole <= 2100 and "," not in mention:
            continue  # a year
        unit_class = UNIT_OF.get(unit, "")
        out.append(Figure(start, end, whole, value, scale, stem(unit) if unit_class != "percent" else "percent",
                          unit_class))
    return out


_MONTHS = "january february march april may june july august september october november december".split()
_DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_TIME_RE = re.compile(
    r"\b(?:(?P<day>" + "|".join(_DAYS) + r")|(?P<md>\d{1,2}\s+(?:" + "|".join(_MONTHS) + r"))|"
    r"(?P<month>" + "|".join(m for m in _MONTHS if m != "may") + r"|May(?=\s+\d))|"
    r"(?P<year>(?:19|20)\d\d)(?!\d|[.,]\d|\s*(?:percent|%|crowns|euros|dollars))|"
    r"(?P<rel>yesterday|today|tomorrow|tonight|(?:this|next|last)\s+(?:week|month|year|summer|winter|spring|"
    r"autumn|weekend|quarter)))\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class TimeMention:
    key: str
    start: int
    end: int


def time_mentions(text: str) -> list[TimeMention]:
    return [TimeMention(" ".join(m.group(0).casefold().split()), m.start(), m.end()) for m in _TIME_RE.finditer(text)]


@lru_cache(maxsize=256)
def source_tokens(source: str) -> tuple[Token, ...]:
    """Tokens of a source text, cached like its clauses."""
    return tuple(tokens(source))


@lru_cache(maxsize=256)
def source_clauses(source: str) -> tuple[Clause, ...]:
    """Clauses of a source text, cached: one source is compared with many claims."""
    return tuple(clauses(source))


# --- findings and clause alignment, shared by the rules -------------------------------------
@dataclass(frozen=True)
class Finding:
    """One meaning change: its kind, where it is in the claim and which source span it contradicts."""

    kind: str  # direction | hedge-dropped | hedge-added | figure-moved | actor-swapped | time-shifted
    claim_span: tuple[int, int]
    source_span: tuple[int, int]
    message: str


def finding(kind: str, claim: str, c: tuple[int, int], source: str, s: tuple[int, int], why: str) -> Finding:
    """A Finding whose message quotes both spans."""
    return Finding(kind, c, s, f"{why} (claim: '{claim[c[0]:c[1]][:80]}'; source: '{source[s[0]:s[1]][:120]}')")


def english(claim: str, source: str) -> bool:
    """Both texts English enough for the lexicons; otherwise a rule says nothing."""
    return looks_english(claim) and looks_english(source)


def overlap(c: Clause, s: Clause, exclude: set[str] = frozenset()) -> tuple[int, float]:
    """Content words of claim clause `c` found in source clause `s`: (count, share of c's)."""
    want = c.content - exclude
    shared = len(want & s.content)
    return shared, shared / (len(want) or 1)


def sentence_tokens(source: str, clause: Clause) -> list[Token]:
    """Tokens of the sentence the clause belongs to."""
    a, b = clause.sentence
    return [t for t in source_tokens(source) if a <= t.start < b]
