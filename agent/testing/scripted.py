"""Scripted fake models keyed by prompt name and template variables, and the well-behaved `good_model`.

One script serves both seams: in process as the nodes' drafter (`ScriptedModel`), and over HTTP as the
fake server's responder (`ScriptedModel.responder`, `good_model`).
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from pydantic import BaseModel, ValidationError

from agent.errors import LLMOutputInvalid
from agent.draft.purposes import answers

# The repository's three-source tram story, the one good_model's answers are written for (a checkout only).
STORY = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "story"
PASSAGE_RE = re.compile(r'<passage id="(S\d+:\d+)"[^>]*>\n(.*?)\n</passage>', re.S)

Reply = Any  # dict | BaseModel | str | Exception (raised) | Callable[[PromptCall], Reply]


@dataclass(frozen=True)
class PromptCall:
    """One request as a fake model sees it: the call's prompt name, its template and variables, the messages."""

    name: str  # the client's prompt name: "draft_sentence.body", "headline", "judge_claim"
    messages: list[dict] = field(default_factory=list)
    template: str = ""  # "draft_sentence.drafter"; "" over HTTP, where only the rendered text travels
    variables: Mapping[str, Any] = field(default_factory=dict)  # the template's variables (in process only)

    @classmethod
    def from_messages(cls, name: str, messages: list[dict]) -> "PromptCall":
        """In process: agent.prompting.render's messages carry their template and variables."""
        return cls(name, list(messages), getattr(messages, "template", ""), dict(getattr(messages, "variables", {})))

    @classmethod
    def from_request(cls, name: str, body: dict) -> "PromptCall":
        """Over HTTP: the X-Brief-Prompt header names the call; the variables are not sent."""
        return cls(name, list(body.get("messages", [])))

    @property
    def family(self) -> str:
        """The prompt name before its dot: "draft_sentence" for "draft_sentence.body"."""
        return self.name.split(".", 1)[0]

    @property
    def section(self) -> str:
        """The section a drafting call is for: "body" for "draft_sentence.body" ("" for others)."""
        return self.name.split(".", 1)[1] if "." in self.name else ""

    @property
    def prompt(self) -> str:
        """What a model answers: a drafting call's last message (feedback included), else the first user turn."""
        if not self.messages:
            return ""
        if self.name.startswith("draft") or len(self.messages) < 2:
            return self.messages[-1]["content"]
        return self.messages[1]["content"]

    def passages(self) -> list[tuple[str, str]]:
        """(id, text) of the passages in the prompt: from the variables in process, else parsed from the text."""
        v = self.variables
        if "passage_id" in v:
            return [(str(v["passage_id"]), str(v["passage_text"]))]
        if "passages" in v:
            return [(str(_field(p, "id")), str(_field(p, "text"))) for p in v["passages"]]  # type: ignore[union-attr]
        return PASSAGE_RE.findall(self.prompt)

    def describe(self) -> str:
        shown = ", ".join(f"{k}={_short(val)}" for k, val in self.variables.items()) or "variables not visible"
        return f"{self.name!r} (template {self.template or '?'}; {shown})"


def _field(item: Any, name: str) -> Any:
    """A template variable's field, whether the renderer was given a dict or an object."""
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NoScript(AssertionError):
    """A fake model was asked something it has no reply for: names the call and what was scripted."""


@dataclass
class _Rule:
    name: str
    when: dict[str, Any]
    replies: deque
    repeat: bool

    def matches(self, call: PromptCall) -> bool:
        if self.name not in (call.name, call.family):
            return False
        for key, want in self.when.items():
            if key not in call.variables:
                return False
            have = call.variables[key]
            if not (want(have) if callable(want) else have == want):
                return False
        return bool(self.replies)

    def describe(self) -> str:
        cond = ", ".join(f"{k}={_short(v, 30)}" for k, v in self.when.items())
        used = "" if self.replies else " (used up)"
        return f"{self.name}[{cond}]{used}" if cond else f"{self.name}{used}"


class ScriptedModel:
    """An in-process model (the LLMClient surface nodes use) that replies from a script.

    `script` maps a prompt name (exact, or its family before the dot) to one reply, repeated, or a list of
    replies used in turn. `on(name, *replies, **when)` adds a rule that also matches template variables
    (equal values, or predicates). A reply may be a callable of the PromptCall. Anything unscripted falls
    to `otherwise` (e.g. `good_reply`), else raises NoScript naming the prompt and variables it saw.
    """

    def __init__(self, script: Mapping[str, Reply] | None = None, *,
                 otherwise: Callable[[PromptCall], Reply] | None = None, context_tokens: int | None = None):
        self.rules: list[_Rule] = []
        self.otherwise = otherwise
        self.calls: list[PromptCall] = []
        self.context_tokens = context_tokens
        for name, reply in (script or {}).items():
            self.on(name, *(reply if isinstance(reply, list) else [reply]), repeat=not isinstance(reply, list))

    def on(self, name: str, *replies: Reply, repeat: bool = False, **when: Any) -> "ScriptedModel":
        """Script `name` (optionally only for these template variables); replies are used in turn, or the
        one reply for ever with repeat=True. Later rules win over earlier ones."""
        self.rules.insert(0, _Rule(name, when, deque(replies), repeat))
        return self

    @property
    def names(self) -> list[str]:
        """The prompt names called so far, in order."""
        return [c.name for c in self.calls]

    def reply_to(self, call: PromptCall) -> Reply:
        """The scripted reply to a call (callables resolved); NoScript when nothing answers it."""
        self.calls.append(call)
        rule = next((r for r in self.rules if r.matches(call)), None)
        if rule is not None:
            reply = rule.replies[0] if rule.repeat else rule.replies.popleft()
        elif self.otherwise is not None:
            reply = self.otherwise
        else:
            scripted = ", ".join(r.describe() for r in self.rules) or "nothing"
            raise NoScript(f"no scripted reply for {call.describe()}; scripted: {scripted}")
        while callable(reply) and not isinstance(reply, type):
            reply = reply(call)
        return reply

    # --- the LLMClient surface the nodes use ---------------------------------------------

    def complete_json(self, prompt_name: str, messages: list[dict], schema: type[BaseModel]) -> BaseModel:
        reply = self.reply_to(PromptCall.from_messages(prompt_name, messages))
        if isinstance(reply, Exception):
            raise reply
        try:
            if isinstance(reply, BaseModel):
                reply = reply.model_dump()
            return schema.model_validate(json.loads(reply) if isinstance(reply, str) else reply)
        except (ValueError, ValidationError) as e:  # as the real client does once its re-asks are spent
            raise LLMOutputInvalid(f"{prompt_name}: no valid reply ({str(e)[:200]})", str(reply)) from None

    def complete_text(self, prompt_name: str, messages: list[dict]) -> str:
        reply = self.reply_to(PromptCall.from_messages(prompt_name, messages))
        if isinstance(reply, Exception):
            raise reply
        return reply if isinstance(reply, str) else json.dumps(reply)

    def context_budget(self) -> int | None:
        """None: prompts are never packed to fit (give a number to test packing)."""
        return self.context_tokens

    # --- the same script over HTTP -----------------------------------------------------

    def responder(self, prompt: str, body: dict) -> Reply:
        """For FakeOpenAI.set_responder: rules that need template variables cannot match over HTTP."""
        return self.reply_to(PromptCall.from_request(prompt, body))


def never_valid(call: PromptCall) -> LLMOutputInvalid:
    """A model that never gives a usable reply (as `otherwise=`): every call ends in the client's typed failure."""
    return LLMOutputInvalid(f"{call.name}: no valid reply (scripted)")


# --- the well-behaved model -------------------------------------------------------------

# What a well-behaved model looks for in a passage to answer each section's question.
SECTION_CUES = {"who_benefits": r"\b(won|welcomed|contract|hire)",
                "what_to_watch": r"\b(will decide|due to open|review)",
                "what_this_means": r"\b(would|could|expected to)", "nuance": r"\b(warned|but|over budget)"}


def first_sentence(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if len(line.split()) >= 6 and "|" not in line:
            return re.split(r"(?<=[.!?])\s", line)[0]
    return text.split("\n")[0]


def answer_sentence(text: str, section: str) -> str:
    """The passage's first sentence that answers the section (its first sentence for the body, or if none does)."""
    cue = SECTION_CUES.get(section)
    for line in text.splitlines():
        for sentence in re.split(r"(?<=[.!?])\s", line.strip()):
            if cue and len(sentence.split()) >= 6 and "|" not in sentence and re.search(cue, sentence):
                return sentence
    return first_sentence(text)


HEADLINE = {"headline": "Velden council approves tram line extension", "dek": "The Blue line will reach the harbour district."}
TREND = {"name": "Cities Extend Light Rail", "description": "Mid-sized cities are expanding tram networks."}


def good_reply(call: PromptCall) -> dict:
    """A well-behaved model: restates the sentence of its passage(s) that answers the section asked for."""
    passages, user = call.passages(), call.prompt
    if call.family == "draft_sentence":
        return {"sentence": answer_sentence(passages[0][1], call.section)}
    if call.family == "draft_section":
        return {"sentences": [{"text": answer_sentence(t, call.section), "citations": [pid]} for pid, t in passages[:2]]}
    if call.name == "headline":
        return dict(HEADLINE)
    if call.name == "trend":
        return dict(TREND)
    texts = dict(passages)
    if call.name == "draft_brief":  # the whole brief at once: each section from the passage sentences that answer it
        asked = re.findall(r'^- "(\w+)": (\d+) sentences?\. .*Passages: (.*)\.$', user, re.M)
        facts = re.findall(r"^\d+\. (Sources disagree.*|Las fuentes.*)$", user, re.M)
        used: set[str] = set()
        sections = {}
        for key, count, ids in asked:
            own = ids.split(", ")
            pool = [(pid, sentence) for pid in own + [p for p in texts if p not in own]
                    for sentence in re.split(r"(?<=[.!?])\s", " ".join(texts[pid].split()))
                    if len(sentence.split()) >= 6 and sentence not in used]
            fits = [(pid, t) for pid, t in pool if answers(key, t) is not False][:min(int(count), 2)]
            fits = fits or [(own[0], answer_sentence(texts[own[0]], key))]
            used.update(t for _, t in fits)
            sections[key] = [{"text": t, "citations": [pid]} for pid, t in fits]
        return {"sections": sections, **HEADLINE, "trend": dict(TREND), "disputes": facts}
    if call.name == "revise_brief":  # each rejected sentence again, from the passage it overlaps most
        items = re.findall(r'^\d+\. Section "(\w+)": .*\n\s+Rejected: "(.*)"$', user, re.M)
        out: dict = {"sentences": []}
        for key, rejected in items:
            words = set(rejected.lower().split())
            pid = max(texts, key=lambda p: len(words & set(texts[p].lower().split())))
            out["sentences"].append({"text": answer_sentence(texts[pid], key), "citations": [pid]})
        return {**out, **(HEADLINE if "were rejected:" in user else {})}
    raise NoScript(f"good_model has no reply for {call.describe()}")


def good_model(prompt: str, body: dict) -> dict:
    """good_reply as a FakeOpenAI responder."""
    return good_reply(PromptCall.from_request(prompt, body))


def leaky_model(reply: Reply, family: str = "draft_sentence") -> Callable[[str, dict], Reply]:
    """A FakeOpenAI responder that answers one prompt family with `reply` (say, chatbot talk) and the rest well."""
    def respond(prompt: str, body: dict) -> Reply:
        return reply if prompt.split(".", 1)[0] == family else good_model(prompt, body)
    return respond
