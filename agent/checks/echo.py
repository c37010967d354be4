"""Prompt echo: text the model copied from our own instructions instead of from the sources.

Any run of words from the static text of prompts/*.j2 or the section purposes that reappears in a
draft is an echo: a 4-word run with at least two content words in a sentence, a 3-word run in
the short fields (headline, dek, trend). Content words keep ordinary phrases ("one of the")
from counting.
"""

from __future__ import annotations

import re
from functools import lru_cache

from agent.checks.codes import Code
from agent.house_format import SECTIONS
from agent.prompting import PROMPTS_DIR
from agent.schema import Violation

_WORD = re.compile(r"[a-z0-9']+")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\[\[\w+\]\]|<[^>]*>", re.S)
_SMALL = set("""the a an of to in on at by for and or but is are was were be been it its this that with as from
who what when where which why how one only each any all not no""".split())


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold().replace("’", "'"))


def _grams(words: list[str], n: int) -> set[tuple[str, ...]]:
    grams = set()
    for i in range(len(words) - n + 1):
        gram = tuple(words[i:i + n])
        if sum(1 for w in gram if len(w) >= 4 and w not in _SMALL) >= 2:
            grams.add(gram)
    return grams


@lru_cache(maxsize=1)
def instruction_grams() -> tuple[frozenset, frozenset]:
    """3- and 4-word runs of our instructions (templates without their variables, section purposes)."""
    texts = [_JINJA.sub(" ", p.read_text(encoding="utf-8")) for p in sorted(PROMPTS_DIR.glob("*.j2"))]
    texts += [spec.purpose for spec in SECTIONS.values()]
    words = [_words(t) for t in texts]
    return (frozenset(g for w in words for g in _grams(w, 3)), frozenset(g for w in words for g in _grams(w, 4)))


def find_prompt_echo(text: str, section: str, short: bool = False) -> list[Violation]:
    three, four = instruction_grams()
    words = _words(text)
    hits = (_grams(words, 3) & three) if short else (_grams(words, 4) & four)
    if not hits:
        return []
    phrase = " ".join(sorted(hits)[0])
    return [Violation(code=Code.CHATBOT_LEAKAGE, section=section, start=0, end=len(text), text=text[:200],
                      message=f"chatbot leakage (prompt echo): repeats the instructions ('{phrase}')")]
