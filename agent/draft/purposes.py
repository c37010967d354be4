"""Does a sentence answer its section's question? One test per section, used by the drafter's
selection and by the checker (code `off-purpose`). English and Spanish cue words; in another
language a test abstains (None) rather than guess."""

from __future__ import annotations

import re
from datetime import date

from agent.house_format import SECTIONS

_W = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_YEAR = re.compile(r"\b(20\d\d)\b")

_FORWARD = {
    "en": re.compile(r"\b(will|would|could|may|might|expected|expects|plans?|planned|planning|scheduled|"
                     r"(?:is|are|was|were|be) due|due (?:in|by|on)|deadline|"
                     r"next|upcoming|later this|later in|by (?:the end of )?(?:20\d\d|january|february|march|april|may|"
                     r"june|july|august|september|october|november|december|spring|summer|autumn|winter)|"
                     r"whether|is set to|are set to|aims? to|intends?|proposed|pending|awaits?|awaiting|"
                     r"to decide|to vote|to rule|to review|to open|to begin|to start|to be)\b", re.I),
    "es": re.compile(r"\b(\w+rá|\w+rán|podría|podrían|prevé|prevén|previsto|prevista|se espera|espera|planea|"
                     r"próximo|próxima|plazo|pendiente|antes de|a partir de|si (?:el|la|los|las)|decidirá|votará)\b", re.I),
}
_GAIN = {
    "en": re.compile(r"\b(benefit\w*|gain\w*|win|wins|won|winning|award\w*|contract\w*|revenue\w*|profit\w*|jobs?|"
                     r"fund\w*|grant\w*|sav(?:e|es|ed|ing|ings)|receiv\w*|boost\w*|advantage\w*|secures|secured|relief|"
                     r"cheaper|lower (?:bills|costs|prices)|compensat\w*|subsid\w*|supplies|supplied|"
                     r"would get|will get|stand to|hire\w*|employ\w*|market share|orders?|free up|frees?)\b", re.I),
    "es": re.compile(r"\b(benefici\w*|gana\w*|ganó|adjudic\w*|contrato\w*|ingresos|beneficio\w*|empleos?|"
                     r"puestos de trabajo|financi\w*|ahorr\w*|recib\w*|ventaja\w*|subvenci\w*|suministr\w*|"
                     r"compensaci\w*|ayudas?)\b", re.I),
}
_LOSS = {  # a "gain" word next to these is a loss ("will receive 35 percent less water")
    "en": re.compile(r"\b(less|fewer|cuts?|lose|loses|lost|losing|loss(?:es)?|without|shortages?|reduc\w*|drop\w*|"
                     r"fell|fall|falls|lower|penalt\w*|fines?d?|called into question|undermin\w*|erod\w*)\b", re.I),
    "es": re.compile(r"\b(menos|recort\w*|pierde\w*|perdi\w*|pérdida\w*|sin|escasez|reduc\w*|caíd\w*|baj\w*|multa\w*)\b",
                     re.I),
}
_ACTOR_NOUNS = {
    "en": re.compile(r"\b(company|companies|firm|firms|builders?|contractors?|operator|growers?|farmers?|residents?|"
                     r"households?|workers?|union|unions|investors?|shareholders?|government|authority|council|city|"
                     r"town|region|ministry|industry|industries|suppliers?|exporters?|consumers?|customers?|"
                     r"families|users?|owners?|banks?|utility|utilities|agency|state|country|producers?|passengers?|"
                     r"travellers?|travelers?|commuters?|tenants?|patients?|students?|drivers?)\b", re.I),
    "es": re.compile(r"\b(empresa|empresas|constructora|agricultores|regantes|vecinos|hogares|trabajadores|sindicato|"
                     r"inversores|gobierno|ayuntamiento|ciudad|región|ministerio|sector|proveedores|consumidores|"
                     r"familias|usuarios|propietarios|bancos|comunidad)\b", re.I),
}
_IMPLICATION = {
    "en": re.compile(r"\b(means?|meaning|makes? it|making it|"
                     r"the (?:first|second|third|fourth|largest|biggest|highest|lowest)\b[^.;]{0,40}\b(?:to|in|since|ever)|"
                     r"part of|signals?|shift\w*|trend|amid|reflects?|likely|risks?|raises? (?:questions|concerns)|"
                     r"after years of|for the first time|across the|broader|wider|could|would|depend\w*|"
                     r"pressure|implications?|because|so that|as a result|leaves?|puts?)\b", re.I),
    "es": re.compile(r"\b(significa|supone|convierte|primer[ao]?|tercer[ao]?|mayor|parte de|refleja|probable|"
                     r"riesgos?|tras años de|por primera vez|en toda la|podría|dependerá|presión|porque|"
                     r"como resultado|deja)\b", re.I),
}
_DISPUTE = {
    "en": re.compile(r"\b(however|but|although|though|critics?|criticis\w*|disput\w*|question\w*|unclear|uncertain\w*|"
                     r"estimat\w*|concern\w*|worr\w*|oppos\w*|challeng\w*|den(?:y|ies|ied)|not (?:been |yet )?confirmed|unconfirmed|not yet|"
                     r"leaked|internal|yet to|declined to|warn\w*|doubt\w*|disagree\w*|differ\w*|rather than|"
                     r"above|below|instead|contest\w*|object\w*|against)\b", re.I),
    "es": re.compile(r"\b(sin embargo|pero|aunque|críticos?|critic\w*|disput\w*|cuestion\w*|incierto|estim\w*|"
                     r"preocup\w*|oposici\w*|se opone\w*|recurr\w*|neg\w*|no confirmad\w*|filtrad\w*|advierte\w*|"
                     r"duda\w*|discrep\w*|en lugar de|frente a)\b", re.I),
}


def _lang(language: str) -> str | None:
    return language if language in _FORWARD else None


def looks_ahead(sentence: str, language: str = "en", story_date: date | None = None) -> bool | None:
    """What to watch: a future step (will/could/expected/plans/whether…) or a year after the story's."""
    lang = _lang(language)
    if lang is None:
        return None
    year = (story_date or date.today()).year
    years = [int(y) for y in _YEAR.findall(sentence)]
    if years and max(years) < year:  # "in 2022 … planned to": already past by the story's date
        return False
    return bool(_FORWARD[lang].search(sentence)) or any(y > year for y in years)


def names_beneficiary(sentence: str, language: str = "en") -> bool | None:
    """Who benefits: an actor (a name or an actor noun) and what they gain."""
    lang = _lang(language)
    if lang is None:
        return None
    words = _W.findall(sentence)
    named = any(w[0].isupper() for w in words[1:]) or bool(_ACTOR_NOUNS[lang].search(sentence))
    return named and bool(_GAIN[lang].search(sentence)) and not _LOSS[lang].search(sentence)


def states_implication(sentence: str, language: str = "en", restates: bool = False) -> bool | None:
    """What this means: implication or context, not a repeat of a body fact."""
    lang = _lang(language)
    if lang is None:
        return None
    return not restates and bool(_IMPLICATION[lang].search(sentence))


def flags_dispute(sentence: str, language: str = "en") -> bool | None:
    """The nuance: something disputed, uncertain or one-sided."""
    lang = _lang(language)
    if lang is None:
        return None
    return bool(_DISPUTE[lang].search(sentence))


def answers(section: str, sentence: str, language: str = "en", *, story_date: date | None = None,
            restates: bool = False) -> bool | None:
    """The purpose test of a section (None: no test for this section or language)."""
    test = SECTIONS[section].test if section in SECTIONS else None
    if test == "forward":
        return looks_ahead(sentence, language, story_date)
    if test == "gain":
        return names_beneficiary(sentence, language)
    if test == "implication":
        return states_implication(sentence, language, restates)
    if test == "dispute":
        return flags_dispute(sentence, language)
    return None


_CUES = {"forward": _FORWARD, "gain": _GAIN, "implication": _IMPLICATION, "dispute": _DISPUTE}


def purpose_strength(section: str, sentence: str, language: str = "en") -> int:
    """How many cue words of the section's test a sentence carries (ranks candidates)."""
    table = _CUES.get(SECTIONS[section].test or "") if section in SECTIONS else None
    lang = _lang(language)
    if table is None or lang is None:
        return 0
    return len(table[lang].findall(sentence))
