"""Every violation code the checker emits, said once; each rule module exports the group it owns.

A `StrEnum`: a code compares, hashes and serialises as its plain string, so brief.json and
`brief check --json` read exactly as before.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    # claim support (agent/checks/support.py, claims.py)
    MISSING_CITATION = "missing-citation"
    UNKNOWN_CITATION = "unknown-citation"
    UNSUPPORTED_NUMBER = "unsupported-number"
    UNSUPPORTED_NAME = "unsupported-name"
    UNSUPPORTED_QUOTE = "unsupported-quote"
    UNSUPPORTED_CONTENT = "unsupported-content"
    MEANING_CHANGED = "meaning-changed"
    UNSUPPORTED_CLAIM = "unsupported-claim"  # the judge's verdict
    # chatbot leakage (leakage.py, echo.py)
    CHATBOT_LEAKAGE = "chatbot-leakage"
    REASONING_TAG = "reasoning-tag"
    CHAT_TEMPLATE_TOKEN = "chat-template-token"
    UNFILLED_PLACEHOLDER = "unfilled-placeholder"
    # tables (tables.py)
    DUPLICATE_TABLE_ROW = "duplicate-table-row"
    TABLE_ROW_REPEATS_CELLS = "table-row-repeats-cells"
    TABLE_COLUMN_MISMATCH = "table-column-mismatch"
    # repetition (repetition.py)
    REPEATED_SENTENCE = "repeated-sentence"
    LOOPING_TEXT = "looping-text"
    # sentence debris (debris.py)
    FRAGMENT = "fragment"
    DANGLING_REFERENCE = "dangling-reference"
    MARKUP_DEBRIS = "markup-debris"
    SPEAKER_LABEL = "speaker-label"
    FOOTNOTE_MARK = "footnote-mark"
    # prompt injection (injection.py)
    INJECTED_INSTRUCTION = "injected-instruction"
    INJECTED_CONTENT = "injected-content"
    UNSOURCED_LINK = "unsourced-link"
    MARKUP_IN_BRIEF = "markup-in-brief"
    ENCODED_TEXT = "encoded-text"
    # section purpose (purpose.py)
    OFF_PURPOSE = "off-purpose"
    # brief structure (run.py)
    NO_SOURCES = "no-sources"
    EMPTY_SECTION = "empty-section"
    TOO_LONG = "too-long"
    UNSUPPORTED_BRIEF = "unsupported-brief"


STRUCTURE_CODES = frozenset({Code.NO_SOURCES, Code.EMPTY_SECTION, Code.TOO_LONG, Code.UNSUPPORTED_BRIEF})
