"""Assistant/chatbot text detector: pattern families by category, quoted speech excluded."""

from __future__ import annotations

import re

from agent.schema import Violation
from agent.text import split_sentences

_I = re.IGNORECASE
_YOU = r"(?:you|u)"
_SENTENCE_START = r"(?:^|(?<=[.!?:] )|(?<=[.!?:]  ))\s*"
_HELP_VERBS = (r"(?:help|assist|provide|format|reformat|expand|summari[sz]e|rewrite|draft|create|"
               r"generate|turn|convert|add|make|prepare|tailor|adjust|refine|polish|enhance|elaborate|"
               r"translate|break|put|write|go|dive|explore)")
# category -> (code, patterns). Patterns describe shapes of assistant talk, not exact strings.
CATEGORIES: dict[str, tuple[str, list[str]]] = {
    "offer of further help": ("chatbot-leakage", [
        rf"\bif {_YOU}(?:'d| would| want| wish| need| like)\b.{{0,60}}\b(?:i|we) (?:can|could|'d|would|will)\b",
        rf"\b(?:i|we) (?:can|could) (?:also |additionally |further )?{_HELP_VERBS}\b.{{0,80}}\b(?:if {_YOU}|for {_YOU}|{_YOU} (?:like|want|need))",
        r"\b(?:just |please )?let me know\b(?! when)(?:.{0,60}?)(?:if|whether|how|what|!|\.|$)",
        rf"\bwould {_YOU} like (?:me|us) to\b",
        rf"\b(?:do|shall) {_YOU} want me to\b",
        r"\bshall (?:i|we)\b[^.!?]{0,100}\?",
        r"\bfeel free to (?:ask|reach out|let me know)\b",
        r"\b(?:happy|glad) to (?:help|assist)(?: further)?\b",
        r"\b(?:i|we)(?:'d| would) be (?:happy|glad|delighted|more than happy) to\b",
        r"\bif (?:it|that) (?:would|'d|might) (?:help|be useful)\b.{0,40}\b(?:i|we) (?:can|could|'d|would)\b",
        rf"\bshould {_YOU} (?:wish|want|need|prefer)\b.{{0,60}}\b(?:i|we)\b",
        rf"\b(?:want|like|need) me to\b[^.!?]{{0,80}}\?",
        rf"{_SENTENCE_START}(?:i|we) (?:can|could) (?:also |additionally )?{_HELP_VERBS}\b",
        r"\bi(?:'m| am) here to help\b",
        r"\bjust ask\b",
    ]),
    "preamble": ("chatbot-leakage", [
        _SENTENCE_START + r"(?:certainly|sure|of course|absolutely|great question|okay|ok)\s*[!,.:]\s*(?:here|below|i)\b",
        _SENTENCE_START + r"(?:here(?:'s| is| are)|below (?:is|are))\s+(?:the|a|an|your)\s+(?:\w+\s+){0,3}(?:revised|corrected|updated|rewritten|improved|requested|summary|version|draft|brief|article|text|answer|response|table|list|json)\b",
    ]),
    "AI self-reference": ("chatbot-leakage", [
        r"\b(?:as|being) an? (?:ai|artificial intelligence|(?:large )?language model)\b[^.!?]{0,30}?,\s*(?:i|we)\b",
        r"\bi(?:'m| am) (?:just |only )?an? (?:ai|language model|chatbot|virtual assistant)\b",
        r"\bi (?:don't|do not|cannot|can't) (?:browse|access) (?:the internet|real-time|external)\b",
    ]),
    "knowledge-cutoff talk": ("chatbot-leakage", [
        r"\b(?:my|the) (?:knowledge|training)(?: data)? (?:cutoff|cut-off)\b",
        r"\bas of my (?:last|latest) (?:update|training|knowledge)\b",
        r"\b(?:based on|according to|up to|as of|from) my (?:training|knowledge|last update|latest update|data)\b",
    ]),
    "closing filler": ("chatbot-leakage", [
        r"\bi hope (?:this|that|it) (?:helps|was helpful|is helpful|clarifies)\b",
        _SENTENCE_START + r"hope (?:this|that) helps\b",
        r"\bhappy (?:writing|reading|coding)\b",
    ]),
    "apology": ("chatbot-leakage", [
        r"\bi(?: apologi[sz]e|'m sorry| am sorry|'m so sorry) (?:for|about) (?:the|any|my|that) (?:\w+ )?(?:confusion|error|mistake|inconvenience|oversight|misunderstanding|omission)\b",
        r"\bapologies for (?:the|any|my) (?:\w+ )?(?:confusion|error|mistake|oversight|misunderstanding)\b",
        r"\bmy apologies\b",
    ]),
    "word-count remark": ("chatbot-leakage", [
        r"\(?\bword count\s*[:=]?\s*\d+\)?",
        r"\b(?:this|the) (?:summary|text|brief|article) (?:is|contains) (?:about |approximately )?\d+ words\b",
    ]),
    "prompt echo": ("chatbot-leakage", [
        r"\byou are an? (?:helpful|expert|professional|skilled) (?:\w+ )?(?:assistant|editor|writer|journalist)\b",
        r"\b(?:reply|respond|answer) (?:with|in|as) (?:valid )?json\b",
        r"\breturn (?:only )?(?:valid )?json\b",
        r"\b(?:write|generate) (?:a|one|an) (?:brief|headline|sentence|summary) (?:about|for|on) (?:the|this)\b",
        r"\bignore (?:all )?(?:previous|prior|above) instructions\b",
        r"\((?:at most|no more than|under|max(?:imum)?|up to) \d+ words\)",
        r"\b(?:one|a single) (?:plain )?sentence (?:\(|that|which)\b",
    ]),
    "reasoning tag": ("reasoning-tag", [
        r"<(think|thinking|reasoning|scratchpad)>[\s\S]*?</\1>",
        r"</?\s*(?:think|thinking|reasoning|scratchpad)\s*>",
    ]),
    "chat-template token": ("chat-template-token", [
        r"<\|[a-z_]+\|>", r"\[/?INST\]", r"</?s>", r"<<\s*/?SYS\s*>>", r"^\s*(?:assistant|user|system)\s*:",
    ]),
    "unfilled placeholder": ("unfilled-placeholder", [
        r"\{\{\s*\w+\s*\}\}", r"\{[a-z_][a-z0-9_]*\}", r"\[(?:insert|your|add|name of|placeholder)[^\]]{0,40}\]",
        r"<(?:placeholder|insert[^>]*|your [^>]*)>", r"\b(?-i:lorem ipsum|TODO|TBD|XXX)\b",
        r"(?:^|(?<=\s))[{}](?=\s|$)",  # a lone brace: debris of the JSON reply
    ]),
}
_COMPILED = [(cat, code, re.compile(p, _I | re.MULTILINE)) for cat, (code, ps) in CATEGORIES.items() for p in ps]
_QUOTED = re.compile(r"[\"“]([^\"”\n]*)[\"”]|(?<!\w)['‘]([^'’\n]{2,}?)['’](?!\w)")


def _mask_quotes(text: str) -> str:
    """Replace quoted speech with spaces (same length) so it can't match."""
    return _QUOTED.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1], text)


def leakage_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, category) spans widened to the whole offending sentence, merged."""
    masked = _mask_quotes(text.replace("’", "'"))
    hits: list[tuple[int, int, str]] = []
    for category, _, pattern in _COMPILED:
        hits.extend((m.start(), m.end(), category) for m in pattern.finditer(masked))
    if not hits:
        return []
    sentences = split_sentences(text)
    codes = {cat: code for cat, (code, _) in CATEGORIES.items()}
    widened = []
    for start, end, category in hits:
        if codes[category] != "chatbot-leakage":  # tags, tokens, placeholders: exact span only
            widened.append((start, end, category))
            continue
        for a, b in sentences:
            if a <= start < b or a < end <= b:
                start, end = min(start, a), max(end, b)
        widened.append((start, end, category))
    merged: list[list] = []
    for start, end, category in sorted(widened):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, category])
    return [(a, b, c) for a, b, c in merged]


def find_leakage(text: str, section: str = "body") -> list[Violation]:
    """Chatbot text as violations with spans into `text`."""
    codes = {cat: code for cat, (code, _) in CATEGORIES.items()}
    return [
        Violation(code=codes[cat], section=section, start=a, end=b, text=text[a:b],
                  message=f"chatbot leakage ({cat}): '{text[a:b][:80]}'")
        for a, b, cat in leakage_spans(text)
    ]
