"""Assistant/chatbot text detector: pattern families by category, then a learned sentence classifier.

Quoted and reported speech are excluded from both layers. The patterns are the precise first
layer (and the only one used to clean sources); agent.checks.learned_leakage is the second.
"""

from __future__ import annotations

import re

from agent.checks.codes import Code
from agent.checks.learned_leakage import learned_leakage_spans
from agent.schema import Violation
from agent.text import split_sentences

LEAKAGE_CODES = frozenset({Code.CHATBOT_LEAKAGE, Code.REASONING_TAG, Code.CHAT_TEMPLATE_TOKEN, Code.UNFILLED_PLACEHOLDER})
# Text the assistant wrote about itself or its format (a placeholder is the draft's own gap, not such text).
ASSISTANT_TEXT_CODES = LEAKAGE_CODES - {Code.UNFILLED_PLACEHOLDER}

_I = re.IGNORECASE
_YOU = r"(?:you|u)"
_SENTENCE_START = r"(?:^|(?<=[.!?:] )|(?<=[.!?:]  ))\s*"
_HELP_VERBS = (r"(?:help|assist|provide|format|reformat|expand|summari[sz]e|rewrite|draft|create|"
               r"generate|turn|convert|add|make|prepare|tailor|adjust|refine|polish|enhance|elaborate|"
               r"translate|break|put|write|go|dive|explore)")
# category -> (code, patterns). Patterns describe shapes of assistant talk, not exact strings.
CATEGORIES: dict[str, tuple[str, list[str]]] = {
    "offer of further help": (Code.CHATBOT_LEAKAGE, [
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
    "preamble": (Code.CHATBOT_LEAKAGE, [
        _SENTENCE_START + r"(?:certainly|sure|of course|absolutely|great question|okay|ok)\s*[!,.:]\s*(?:here|below|i)\b",
        _SENTENCE_START + r"(?:here(?:'s| is| are)|below (?:is|are))\s+(?:the|a|an|your)\s+(?:\w+\s+){0,3}(?:revised|corrected|updated|rewritten|improved|requested|summary|version|draft|brief|article|text|answer|response|table|list|json)\b",
        _SENTENCE_START + r"(?:certainly|sure|of course|absolutely|gladly|with pleasure|no problem|got it|understood)\s*!",
        _SENTENCE_START + r"(?:certainly|sure|absolutely|got it|understood|okay)\s*[.!]\s*$",
        _SENTENCE_START + r"the following (?:is|are) (?:a|an|the|my|your) (?:\w+\s+){0,3}(?:revised|corrected|updated|rewritten|improved|edited|shortened|requested|version|summary|draft)\b",
    ]),
    "acknowledgement of instructions": (Code.CHATBOT_LEAKAGE, [
        rf"\b(?:as (?:{_YOU} )?requested|as {_YOU} asked|as instructed|per your (?:request|instructions?|brief|prompt)|"
        rf"(?:following|based on) your (?:request|instructions?|prompt|guidelines))\b",
        rf"\b{_YOU} (?:asked|wanted|requested) (?:me (?:to|for)|for)\b",
        _SENTENCE_START + r"(?:understood|noted|got it|will do)\s*[.!,:]\s*(?:here|below|i|i'll|i will)\b",
    ]),
    "AI self-reference": (Code.CHATBOT_LEAKAGE, [
        r"\b(?:as|being) an? (?:ai|artificial intelligence|(?:large )?language model)\b[^.!?]{0,30}?,\s*(?:i|we)\b",
        r"\bi(?:'m| am) (?:just |only )?an? (?:ai|language model|chatbot|virtual assistant)\b",
        r"\bi (?:don't|do not|cannot|can't) (?:browse|access) (?:the internet|real-time|external)\b",
    ]),
    "assistant's own limits": (Code.CHATBOT_LEAKAGE, [
        r"\bi (?:don't|do not|cannot|can't|am unable to|'m unable to|am not able to|'m not able to) (?:\w+ ){0,2}?"
        r"(?:access|browse|search|look up|check|verify|retrieve|see)\b[^.!?]{0,50}\b(?:internet|web|online|real-time|live|current|latest|up-to-date|external)\b",
        r"\bi (?:don't|do not) have (?:access to )?(?:real-time|live|current|up-to-date|internet|browsing|web)\b",
        r"\bi (?:don't|do not|can't|cannot) (?:have )?(?:personal (?:opinions|experiences|feelings|views)|feelings|emotions|opinions of my own)\b",
        r"\bmy (?:training|knowledge)(?: data)? (?:only )?(?:goes|extends|runs|is current|ends|stops)\b",
        r"\bi was (?:last )?(?:trained|updated) (?:on|in|up to|until|through)\b",
        r"\b(?:since|because) i(?:'m| am) (?:just |only )?an? (?:ai|language model|chatbot|assistant)\b",
    ]),
    "refusal": (Code.CHATBOT_LEAKAGE, [
        rf"\bi(?:'m| am) (?:sorry|afraid),? (?:but )?i (?:can't|cannot|won't|am unable|'m unable|am not able|'m not able)\b",
        _SENTENCE_START + r"i (?:can't|cannot|won't|am unable to|'m unable to|am not able to|'m not able to) "
        r"(?:help|assist|comply|fulfil+|do that|provide|create|write|generate|produce|complete)(?: with)? (?:that|this|your|the request|such)\b",
        r"\bi must (?:respectfully |politely )?decline\b",
        r"\bi(?:'m| am) not (?:comfortable|permitted|allowed) (?:to )?(?:help|assist|provid|writ|generat|creat|compl)",
        r"\b(?:this|that|your) request (?:violates|goes against|is against|conflicts with) (?:my|the|our)\b",
    ]),
    "remark about its own edits": (Code.CHATBOT_LEAKAGE, [
        r"\b(?:i|we)(?:'ve| have) (?:\w+ )?(?:rewritten|revised|edited|corrected|reformatted|rephrased|reworded|restructured|"
        r"tightened|condensed|shortened|polished|tweaked|trimmed|highlighted|bolded|streamlined|simplified)\b",
        r"\b(?:below|above),? (?:i(?:'ve| have)|you(?:'ll| will) find)\b",
        r"\bin this (?:version|revision|rewrite|edit|draft),? (?:i(?:'ve| have)?|we)\b",
        r"\b(?:changes|edits|revisions) (?:i )?made\s*:",
        r"\bi (?:made|kept|tried to keep) (?:the |a few |some |minor )?(?:changes|edits|tweaks|it (?:concise|short|brief|neutral))\b",
    ]),
    "greeting or flattery": (Code.CHATBOT_LEAKAGE, [
        _SENTENCE_START + r"(?:hi|hello|hey|greetings)(?: there| everyone| all)?\s*[!,.]",
        _SENTENCE_START + r"(?:thanks|thank you)(?: (?:so|very) much)?(?: for (?:asking|your|the|sharing|reaching|bringing|pointing|providing|this|that)\b|\s*!)",
        _SENTENCE_START + r"(?:great|good|excellent|fantastic|wonderful|interesting|fascinating|insightful|brilliant|smart|nice|astute|sharp)"
        r" (?:question|catch|point|observation|idea|thinking|eye|spot|find)\s*[!.,]",
        r"\bwhat an? (?:great|excellent|interesting|fascinating|thoughtful|wonderful|insightful) (?:question|idea|topic|point)\b",
        rf"\b(?:that's|that is|this is|{_YOU}(?:'ve| have) (?:made|raised|asked)) an? (?:great|excellent|good|fascinating|interesting|insightful|thoughtful) (?:question|point|observation)\b",
        rf"\b{_YOU}(?:'re| are) (?:absolutely|completely|totally|quite) right\b",
        _SENTENCE_START + r"(?:you're welcome|you are welcome|my pleasure|glad (?:i|to) (?:could )?help)\b",
    ]),
    "generated-by disclaimer": (Code.CHATBOT_LEAKAGE, [
        r"\b(?:this|the) (?:text|article|summary|brief|content|response|draft|piece|story|answer) (?:was|has been|is) "
        r"(?:\w+ )?(?:generated|written|created|produced|drafted|composed) (?:\w+ )?(?:by|with|using) (?:an? )?"
        r"(?:ai|artificial intelligence|chatgpt|gpt|language model|llm|claude|gemini|(?:ai )?assistant)\b",
        _SENTENCE_START + r"\(?(?:generated|written|created|drafted|produced) (?:by|with|using) (?:an? )?(?:ai|chatgpt|gpt-?\d*|claude|gemini|llm|language model)\b",
        r"\bdisclaimer\s*:[^.!?]{0,80}\b(?:ai|language model|generated)\b",
    ]),
    "alternative-version label": (Code.CHATBOT_LEAKAGE, [
        r"^\s*(?:[*_#>-]+\s*)?(?:option|version|alternative|variant|alt|take)\s*(?:\d+|[a-c]|one|two|three)\s*[*_]*\s*[:)]",
    ]),
    "knowledge-cutoff talk": (Code.CHATBOT_LEAKAGE, [
        r"\b(?:my|the) (?:knowledge|training)(?: data)? (?:cutoff|cut-off)\b",
        r"\bas of my (?:last|latest) (?:update|training|knowledge)\b",
        r"\b(?:based on|according to|up to|as of|from) my (?:training|knowledge|last update|latest update|data)\b",
    ]),
    "closing filler": (Code.CHATBOT_LEAKAGE, [
        r"\bi hope (?:this|that|it) (?:helps|was helpful|is helpful|clarifies)\b",
        _SENTENCE_START + r"hope (?:this|that) helps\b",
        r"\bhappy (?:writing|reading|coding)\b",
        r"\bhope (?:this|that|it) (?:helps|was helpful|is helpful|is useful|answers your)\b",
        r"\bif you have any (?:other |more |further |additional )?(?:questions|concerns|feedback)\b",
        r"\b(?:don't|do not) hesitate to (?:ask|reach out|contact me|get in touch|let me know)\b",
        r"\bfeel free to (?:modify|adjust|tweak|customi[sz]e|edit|adapt|use (?:it|this))\b",
    ]),
    "apology": (Code.CHATBOT_LEAKAGE, [
        r"\bi(?: apologi[sz]e|'m sorry| am sorry|'m so sorry) (?:for|about) (?:the|any|my|that) (?:\w+ )?(?:confusion|error|mistake|inconvenience|oversight|misunderstanding|omission)\b",
        r"\bapologies for (?:the|any|my) (?:\w+ )?(?:confusion|error|mistake|oversight|misunderstanding)\b",
        r"\bmy apologies\b",
    ]),
    "word-count remark": (Code.CHATBOT_LEAKAGE, [
        r"\(?\bword count\s*[:=]?\s*\d+\)?",
        r"\b(?:this|the) (?:summary|text|brief|article) (?:is|contains) (?:about |approximately )?\d+ words\b",
        r"\((?:approx(?:\.|imately)?|about|around|roughly|~|≈|ca\.?|circa)?\s*\d[\d,]*\+?\s*words?\)",
        r"\bword count\s*[:=~≈]?\s*(?:approx(?:\.|imately)?|about|around|roughly|~|≈)?\s*\d",
        r"\b(?:is|comes to|runs to) (?:approx(?:\.|imately)|about|around|roughly|just under|just over) \d[\d,]* words\b(?!\s+(?:long|of|from|by|in|and)\b)",
        r"^\s*(?:~|≈|approx(?:\.|imately)?)\s*\d[\d,]* words\.?\s*$",
    ]),
    "prompt echo": (Code.CHATBOT_LEAKAGE, [
        r"\byou are an? (?:helpful|expert|professional|skilled) (?:\w+ )?(?:assistant|editor|writer|journalist)\b",
        r"\b(?:reply|respond|answer) (?:with|in|as) (?:valid )?json\b",
        r"\breturn (?:only )?(?:valid )?json\b",
        r"\b(?:write|generate) (?:a|one|an) (?:brief|headline|sentence|summary) (?:about|for|on) (?:the|this)\b",
        r"\bignore (?:all )?(?:previous|prior|above) instructions\b",
        r"\((?:at most|no more than|under|max(?:imum)?|up to) \d+ words\)",
        r"\b(?:one|a single) (?:plain )?sentence (?:\(|that|which)\b",
    ]),
    "reasoning tag": (Code.REASONING_TAG, [
        r"<(think|thinking|reasoning|scratchpad)>[\s\S]*?</\1>",
        r"</?\s*(?:think|thinking|reasoning|scratchpad)\s*>",
    ]),
    "chat-template token": (Code.CHAT_TEMPLATE_TOKEN, [
        r"<\|[a-z_]+\|>", r"\[/?INST\]", r"</?s>", r"<<\s*/?SYS\s*>>", r"<(?:start|end)_of_turn>", r"</?(?:bos|eos)>",
        r"^\s*(?:[*_#>]+\s*)?(?:assistant|user|system|human|ai|bot|chatbot|chatgpt|gpt-?\d*o?|claude|gemini|llama|model)\s*[*_]*\s*:",
        r"^\s*#{2,}\s*(?:response|instruction|input|output|answer)\s*:?\s*$",
    ]),
    "unfilled placeholder": (Code.UNFILLED_PLACEHOLDER, [
        r"\{\{\s*\w+\s*\}\}", r"\{[a-z_][a-z0-9_]*\}", r"\[(?:insert|your|add|name of|placeholder)[^\]]{0,40}\]",
        r"<(?:placeholder|insert[^>]*|your [^>]*)>", r"\b(?-i:lorem ipsum|TODO|TBD|XXX)\b",
        r"(?:^|(?<=\s))[{}]{1,2}(?=\s|$)",  # lone braces: debris of the JSON reply
    ]),
}
_COMPILED = [(cat, code, re.compile(p, _I | re.MULTILINE)) for cat, (code, ps) in CATEGORIES.items() for p in ps]
# Reported speech is news whoever speaks ("The minister said she was happy to help the families"),
# unless the assistant reports itself or the user ("as you said", "I wrote").
_REPORTED = re.compile(
    r"\b(?:said|says|told|tells|according to|added|stated|wrote|announced|explained|insisted|"
    r"promised|replied|urged|warned|recalled|acknowledged|admitted|conceded|pledged|vowed|declared|testified)\b", _I)
_SELF = {"i", "you", "we", "u", "i've", "you've", "we've", "i'd", "you'd", "as"}
_QUOTED = re.compile(r"[\"“]([^\"”\n]*)[\"”]|(?<!\w)['‘]([^'’\n]{2,}?)['’](?!\w)")


def _mask_quotes(text: str) -> str:
    """Replace quoted speech with spaces (same length) so it can't match."""
    return _QUOTED.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1], text)


def is_reported_speech(sentence: str) -> bool:
    """A third party's words reported by the writer: 'X said ...', '..., she told reporters'."""
    for m in _REPORTED.finditer(sentence):
        before = sentence[:m.start()].split()
        if not before or before[-1].casefold().strip(",") not in _SELF:
            return True
    return False


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
        if codes[category] != Code.CHATBOT_LEAKAGE:  # tags, tokens, placeholders: exact span only
            widened.append((start, end, category))
            continue
        for a, b in sentences:
            if a <= start < b or a < end <= b:
                start, end = min(start, a), max(end, b)
        if category != "prompt echo" and is_reported_speech(masked[start:end]):
            continue
        widened.append((start, end, category))
    merged: list[list] = []
    for start, end, category in sorted(widened):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, category])
    return [(a, b, c) for a, b, c in merged]


def find_leakage(text: str, section: str = "body") -> list[Violation]:
    """Chatbot text as violations with spans into `text`: the patterns, then the learned layer on the rest."""
    codes = {cat: code for cat, (code, _) in CATEGORIES.items()}
    spans = leakage_spans(text)
    found = [
        Violation(code=codes[cat], section=section, start=a, end=b, text=text[a:b],
                  message=f"chatbot leakage ({cat}): '{text[a:b][:80]}'")
        for a, b, cat in spans
    ]
    rest = [(a, b) for a, b in split_sentences(text) if not any(a < end and start < b for start, end, _ in spans)]
    found += [
        Violation(code=Code.CHATBOT_LEAKAGE, section=section, start=a, end=b, text=text[a:b],
                  message=f"chatbot leakage (learned layer, p={p:.2f}): '{text[a:b][:80]}'")
        for a, b, p in learned_leakage_spans(text, rest)
    ]
    return sorted(found, key=lambda v: (v.start or 0))
