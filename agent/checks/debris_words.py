"""Word lists behind the debris rules, per language: finite verbs, back-referring openings, connectives.

Only English and Spanish ship; a language without a lexicon gets no fragment or dangling-reference
rule (the caller says nothing rather than flag everything).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


@dataclass(frozen=True)
class Lexicon:
    code: str
    markers: frozenset[str]  # function words that vote for the language
    connective: re.Pattern  # a leading connective that refers back, with its comma
    referents: frozenset[str]  # pronouns and demonstratives whose referent is outside the sentence
    time_nouns: frozenset[str]  # "this year", "esta semana": a demonstrative that points at the calendar
    expletive: re.Pattern  # "It is unclear whether…": an 'it' that refers to nothing
    also_after_subject: re.Pattern  # "The renovation also…"
    dropped_subject_verbs: frozenset[str]  # "Dijo que…": a verb whose subject is in an earlier sentence
    name_particles: frozenset[str]  # "van Gogh", "de la Cruz": lower-case words that start names

    def refers_to_nothing(self, nxt: str, sentence: str) -> bool:
        """"This year…", "It is unclear whether…": the demonstrative or pronoun needs no earlier sentence."""
        return nxt in self.time_nouns or bool(self.expletive.match(sentence))


def _connectives(with_comma: str, bare: str) -> re.Pattern:
    """Phrases (separated by '|') that need a comma after them, and words that may stand without one."""
    comma = "|".join(sorted((re.escape(p) for p in with_comma.split("|")), key=len, reverse=True))
    plain = "|".join(sorted((re.escape(p) for p in bare.split("|")), key=len, reverse=True))
    return re.compile(rf"(?:(?:{comma})\s*,|(?:{plain})\b\s*,?)\s*", re.IGNORECASE)


# --- English ---------------------------------------------------------------------------------
EN_AUX = _set("""am is are was were has have had do does did will would shall should can could may might must
isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't wouldn't shan't shouldn't can't
cannot couldn't mightn't mustn't ain't""")
EN_PAST_ONLY = _set("""took went came gave saw knew began became ran wrote fell rose grew drove broke chose spoke flew drew
threw shook tore wore woke forgot forgave froze bore forbade overtook oversaw undertook underwent withdrew sank sang
rang sprang stole swam""")  # never participles: "rose by a tenth" is active
EN_PAST = EN_PAST_ONLY | _set("""said told made got found left thought brought bought built held kept lost met paid
sent sold spent stood won led meant felt struck sought fought caught taught hung sat slid stuck swore hid bent dealt
dug fled fed knelt lent lit withheld swung upheld cost put set cut hit let quit shut spread split""")
EN_BASE = _set("""accept add agree aim allow announce appear apply approve argue arrive ask attract back become begin
believe benefit blame block borrow break bring build buy call cancel carry cause challenge change charge choose
claim close come comment compete complain consider continue control cost count cover create cut decide decline
defend delay demand deny depend describe design destroy develop die disagree double drop earn employ encourage
end enter estimate expand expect explain face fail fall fear feel fight file fill find finish fix follow force
forecast gain get give go grow happen hear help hire hold hope house hurt include increase insist intend invest
involve join keep kill know lack last launch lead learn leave lend let like limit link live look lose make manage
mark matter mean meet miss move name need note object offer open operate oppose order owe own pay plan play
point predict prefer prepare present press prevent promise propose protect protest prove provide publish pull push
put raise reach read receive recommend record reduce refuse reject release rely remain remove reopen repeat
replace report represent require resign respond rest result return reveal rise risk rule run save say see seek
seem sell send serve set settle share show shrink sign slow spend stand start stay stop struggle study sue suffer
suggest supply support suspect take talk target tell tend think threaten total trade travel try turn understand
urge use vary visit vote wait want warn watch win wish work worry write amount display ride host exceed account
affect attend cancel collect contain deliver discuss enable ensure exist fund govern handle ignore imply improve
indicate inform lower mention observe obtain occur outline outweigh own pass permit plead pledge produce qualify
recall recover reflect remind rent repair request resume retain review scrap secure separate shape shift
spark stem strengthen stress suspend sustain switch tackle tighten top transfer treat triple undermine unveil
welcome widen withdraw worsen yield accuse acquire adopt advise afford anticipate appoint arrest assess assume
attack avoid bear blow board boost breach brief burn calculate campaign capture cite clear climb collapse combine
commit compare compensate complete confirm connect contribute convert cooperate cope cover criticise criticize
damage deal declare deploy deserve detect determine dismiss dispute divide dominate donate draw drive dry eat
elect eliminate emerge endorse enforce engage enjoy equal escape establish evacuate examine exclude expire export
extend feature feed fly focus forbid freeze generate guarantee guard halt hang harm hate head hide hit host hunt
identify illustrate impose import inherit inspect install invite issue jump kick land lay lift listen lobby
locate maintain measure merge migrate mind monitor negotiate notice notify oversee participate perform persuade
pick place pose post pour praise pray process profit project prompt prosecute purchase pursue question rank rate
recognise recognize recruit refer reform register regulate reinforce relate relieve remember renew reply rescue
resist resolve restore restrict retire revise ride ring rise rob roll sail satisfy scan search seize sentence
shoot shut sing sink sit sleep smoke solve sort speak split spread stage steal step store strike submit succeed
surge surround survive swim teach tear test thank throw tie track train transport trust vanish violate walk wash
wear weigh wonder worsen""")
EN_DET = _set("""the a an this that these those its their his her our your my some any no every each all both several
many few more most other another such whose what which of in on at by for with from to into onto over under about
after before during since until between among through against across without within per via as than like near
around behind beyond and or but nor if""")
EN_ADJ = _set("""new old big small first last final latest next former early late large major key main local national
regional public private high low top own recent same only two three four five six seven eight nine ten""")
EN_ADV = _set("also already still now never often just only not recently newly once long soon later again even "
              "further finally reportedly allegedly initially then")
EN_ED_NOT_VERB = _set("hundred red bed shed speed seed feed breed greed creed naked wicked sacred kindred rugged ragged "
                      "beloved wretched crooked learned aged blessed dogged jagged sled fled")  # 'fled' is in EN_PAST
EN_SUBJECT = _set("i we you they he she it who which that there")
_BY_AMOUNT = re.compile(r"^(?:\d|a$|an$|about|around|nearly|almost|more|less|over|under|up|half|roughly|some|just|"
                        r"only|at|as|one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty)")
EN_PLURAL_NOUNS = _set("people police children staff crew public cattle data media")
_EN_OBJECT_START = _set("the a an its their his her this these those some every no to")
_EN_AUX_NOUNS = _set("will can may must might")
_EN_S_PRONOUN = _set("it's he's she's that's there's what's who's here's where's how's")

# --- Spanish ---------------------------------------------------------------------------------
ES_AUX = _set("""es son fue fueron era eran será serán sería serían sea sean está están estaba estaban estuvo estará
estarán ha han he hemos había habían habrá habría hay hubo puede pueden podrá podrán podría podrían pudo deben debe
deberá debería deberían tiene tienen tenía tenían tuvo tendrá tendrán va van iba iban dijo dice dicen hizo hace hacen
da dan dio quiere quieren sigue siguen queda quedan parece parecen une unen ve ven tuvo estuvo detuvo obtuvo
mantuvo contuvo anduvo puso propuso impuso dispuso supuso quiso vino hizo trajo produjo redujo condujo introdujo
supo cupo""")
ES_PRESENT = _set("""aumenta aumentan sube suben baja bajan cae caen crece crecen cuesta cuestan espera esperan prevé
prevén considera consideran afirma afirman asegura aseguran explica explican señala señalan indica indican advierte
advierten propone proponen pide piden exige exigen necesita necesitan permite permiten incluye incluyen supone suponen
representa representan recibe reciben ofrece ofrecen llega llegan vuelve vuelven abre abren cierra cierran aprueba
aprueban rechaza rechazan anuncia anuncian critica critican defiende defienden mantiene mantienen existe existen
ocurre depende dependen cuenta cuentan lleva llevan pasa pasan trabaja trabajan vive viven sabe saben cree creen
piensa piensan busca buscan logra logran alcanza alcanzan supera superan reduce reducen financia financian construye
construyen invierte invierten gasta gastan paga pagan vende venden compra compran produce producen genera generan
obliga obligan garantiza garantizan recorta recortan amenaza amenazan denuncia denuncian acusa acusan calcula
calculan estima estiman niega niegan teme temen apoya apoyan empieza empiezan comienza comienzan termina terminan
continúa continúan cambia cambian decide deciden muestra muestran refleja reflejan tiene""")
ES_DET = _set("""el la los las un una unos unas lo al del su sus este esta estos estas ese esa esos esas mi mis tu tus
nuestro nuestra cada otro otra otros otras de en con por para sin sobre entre hasta desde y o e ni""")
_ES_ENDINGS = re.compile(r"(?:[^\W\d_]{2,}ó|[^\W\d_]{2,}(?:aron|ieron|yeron|jeron|aban|ábamos|ían)|[^\W\d_]{3,}aba"
                         r"|[^\W\d_]{2,}(?:ará|erá|irá|arán|erán|irán|arían|erían|irían|aría|iría))$")
_ES_NOT_VERB = _set("secretaría notaría librería")
_ES_FUNCTION = _set("para contra hacia tras ante mediante durante según donde cuando mientras aunque siempre "
                    "entre sobre desde hasta nunca ahora")
_ES_OBJECT_START = _set("el la los las un una unos unas su sus este esta estos estas a al")
_ES_INFINITIVE = re.compile(r"^[^\W\d_]{2,}(?:ar|er|ir)(?:se|lo|la|los|las|le|les)?$")

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d[\d.,]*")


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(word, comma or colon between it and the previous word)."""
    out, last = [], 0
    for m in _TOKEN.finditer(text):
        out.append((m.group(0), bool(re.search(r"[,;:(—–]", text[last:m.start()]))))
        last = m.end()
    return out


def _subject_before(tokens: list[tuple[str, bool]], i: int) -> str | None:
    """The word a verb at i would follow as its subject (adverbs skipped), or None if it can't be one."""
    j = i
    while j > 0:
        word, comma = tokens[j]
        if comma and sum(c for _, c in tokens[:j + 1]) % 2:
            return None  # ", completed in May": a participle phrase ("X, the builder, declined" closes a pair)
        prev = tokens[j - 1][0].lower().replace("’", "'")
        if prev in EN_ADV or (prev.endswith("ly") and len(prev) > 4):
            j -= 1
            continue
        if prev in EN_DET - EN_SUBJECT or prev in EN_ADJ or prev in EN_AUX or prev.endswith(("'s", "s'")):
            return None
        return prev
    return None


_EN_PREP_AFTER_VERB = frozenset("from to with into for at on in".split())


def _plural_noun(word: str) -> bool:
    return (len(word) >= 4 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ous"))
            and word not in EN_DET | EN_ADV) or word in EN_PLURAL_NOUNS


def _third_person(word: str) -> bool:
    if len(word) < 4 or not word.endswith("s") or word.endswith(("ss", "us", "is", "ous", "ics", "ness")):
        return False
    stems = {word[:-1], word[:-2]} | ({word[:-3] + "y"} if word.endswith("ies") else set())
    return bool(stems & EN_BASE)


def _finite_en(text: str) -> bool:
    tokens = _tokens(text)
    for i, (tok, _) in enumerate(tokens):
        low = tok.lower().replace("’", "'")
        nxt = tokens[i + 1][0].lower() if i + 1 < len(tokens) else ""
        prev = tokens[i - 1][0].lower() if i else ""
        after = tokens[i + 2][0].lower() if i + 2 < len(tokens) else ""
        if low in EN_AUX:
            if tok == "May" and (i > 0 or nxt[:1].isdigit()):
                continue  # the month
            if low in _EN_AUX_NOUNS and prev in EN_DET - EN_SUBJECT:
                continue  # "the will of", "a can of"
            return True
        if low in _EN_S_PRONOUN or low.endswith(("n't", "'re", "'ve", "'ll", "'d", "'m")):
            return True
        if not tok.islower():
            continue
        subject = _subject_before(tokens, i)
        if subject is None:
            continue
        passive = nxt == "by" and not _BY_AMOUNT.match(after) and low not in EN_PAST_ONLY
        if not passive and (low in EN_PAST or (low.endswith("ed") and len(low) >= 5 and low not in EN_ED_NOT_VERB)):
            return True
        if _third_person(low) or (subject in {"he", "she", "it"} and low.endswith("s") and not low.endswith("ss")):
            return True
        plural = (subject.endswith("s") and not subject.endswith(("ss", "us", "is")) and len(subject) >= 4
                  or subject in EN_PLURAL_NOUNS or subject.endswith("men"))
        if low in EN_BASE and (subject in {"i", "we", "you", "they", "who", "which", "that"} or plural):
            return True
        if low in EN_BASE and nxt in _EN_PREP_AFTER_VERB and any(
                _plural_noun(w.lower()) for w, _ in tokens[max(0, i - 6):i - 1]):
            return True  # "young families on the island benefit from…": the subject sits before a phrase
        if subject in {"i", "we", "you", "they"} and low not in EN_DET | EN_ADJ | EN_ADV and not low.endswith("ly"):
            return True  # "they jump", "we climb": after a plural pronoun the next word is the verb
        verb_like = (low in EN_BASE or low.endswith(("ate", "ize", "ise", "ify"))
                     or plural or subject in {"i", "we", "you", "they"}
                     or (low.endswith("s") and not low.endswith(("ss", "us", "is"))))
        if nxt in _EN_OBJECT_START and verb_like and low not in EN_DET | EN_ADJ | EN_ADV | EN_SUBJECT:
            return True  # "the museum now displays the ship", "critics question the cost": a verb takes its object
    return False


def _finite_es(text: str) -> bool:
    tokens = [t for t, _ in _tokens(text)]
    for i, tok in enumerate(tokens):
        low = tok.lower()
        prev = tokens[i - 1].lower() if i else ""
        if low in ES_AUX and prev not in ES_DET:
            return True
        if prev in {"se", "no"} and tok.islower() and low not in {"obstante", "solo", "sólo"} and not low.isdigit():
            return True
        if tok.islower() and low not in _ES_NOT_VERB and _ES_ENDINGS.search(low):
            return True
        if low in ES_PRESENT and prev not in ES_DET:
            return True
        nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        if (i and tok.islower() and len(low) >= 4 and low.endswith(("a", "an", "e", "en")) and prev not in ES_DET
                and low not in ES_DET | _ES_FUNCTION
                and (nxt in _ES_OBJECT_START or nxt[:1].isdigit() or _ES_INFINITIVE.match(nxt))):
            return True  # "la empresa destina 40 millones", "financia la obra", "recomienda prohibir": an object
    return False


def has_finite_verb(text: str, language: str) -> bool | None:
    """Whether the text has a finite verb, by lexicon and morphology; None for a language without word lists."""
    check = {"en": _finite_en, "es": _finite_es}.get(language.split("-")[0].lower())
    return None if check is None else check(text)


LEXICONS: dict[str, Lexicon] = {
    "en": Lexicon(
        code="en",
        markers=_set("the and of to is was were that for on with said by has have will it are from at which this"),
        connective=_connectives(
            "however|meanwhile|moreover|furthermore|additionally|still|nevertheless|nonetheless|instead|likewise|"
            "similarly|besides|consequently|therefore|thus|hence|indeed|then|otherwise|separately|in addition|"
            "that said|even so|as a result|on the other hand|by contrast|in contrast|in turn|in response|"
            "at the same time|after that|on top of that|for its part|for their part|what is more|all the same|so",
            "but|and|also|yet|and yet|but also"),
        referents=_set("it its they them their he she his her him this that these those such we our us i you your "
                       "latter former"),
        time_nouns=_set("year year's week week's month month's morning afternoon evening summer winter spring autumn "
                        "fall quarter season time weekend decade century"),
        expletive=re.compile(r"^It\s+(?:is|was|remains|remained|seems|seemed|appears|appeared|has been|had been|"
                             r"will be|would be|could be|may be|might be)\s+(?:\S+\s+){0,3}?"
                             r"(?:that|whether|to|if|how|when|why|who|unclear|not clear)\b", re.IGNORECASE),
        also_after_subject=re.compile(r"^(?:the|this|that|these|those|its|their|his|her)\s+"
                                      r"(?:(?!that\b|which\b|who\b)[\w'’-]+\s+){0,3}?also\b|^the (?:latter|former)\b",
                                      re.IGNORECASE),
        dropped_subject_verbs=frozenset(),
        name_particles=_set("van von de da di du der den ter ten bin ibn al le la"),
    ),
    "es": Lexicon(
        code="es",
        markers=_set("el la los las y de del que en por una para con es se al lo su fue dijo más según como ha han son"),
        connective=_connectives(
            "sin embargo|además|por otra parte|por otro lado|no obstante|asimismo|mientras tanto|en cambio|aun así|"
            "aún así|de hecho|por lo tanto|por tanto|por ello|por eso|por su parte|en consecuencia|así|entonces|"
            "a su vez|del mismo modo|igualmente|por último|finalmente|al mismo tiempo",
            "pero|y|también|además"),
        referents=_set("él ella ellos ellas este esta estos estas esto ese esa esos esas eso ello aquel aquella "
                       "aquello dicho dicha dichos dichas su sus nosotros nosotras ambos ambas"),
        time_nouns=_set("año mes semana lunes martes miércoles jueves viernes sábado domingo mañana tarde noche día "
                        "verano invierno otoño primavera trimestre fin vez siglo"),
        expletive=re.compile(r"^(?!)"),
        also_after_subject=re.compile(r"^(?:el|la|los|las|este|esta|estos|estas|su|sus)\s+"
                                      r"(?:(?!que\b)[\w'’-]+\s+){0,3}?también\b", re.IGNORECASE),
        dropped_subject_verbs=_set("dijo afirmó añadió explicó señaló aseguró indicó agregó destacó subrayó recordó "
                                   "advirtió insistió declaró precisó apuntó manifestó"),
        name_particles=_set("de del la van von da di el al"),
    ),
}
