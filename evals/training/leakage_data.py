"""Training data for the learned leakage layer: labelling families, readers of each source, splits.

Used by evals/training/train_leakage.py; see agent/checks/data/LEAKAGE-CARD.md for what it yields.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import subprocess
from collections import Counter
from pathlib import Path

from agent.text import split_sentences

ROOT = Path(__file__).resolve().parents[2]

# Labelling families (training only). A sentence is META when a family matches; "edge" families
# count only in an answer's first two or last three sentences, where assistants put their talk.
FAMILIES: dict[str, tuple[bool, list[str]]] = {
    "preamble": (True, [
        r"^(?:sure|certainly|of course|absolutely|okay|ok|alright|yes)\b[!,.]",
        r"^(?:here(?:'s| is| are)|below (?:is|are)|the following (?:is|are))\b.*:$",
        r"^here(?:'s| is| are) (?:a|an|the|some|my|your)\b", r"^here (?:you go|it is)\b",
        r"^(?:i'd|i would|i will|i'll|let me|allow me to)\b.{0,60}\b(?:help|explain|provide|give|share|outline|walk|break)\b",
    ]),
    "offer or closer": (False, [
        r"\blet me know\b", r"\bfeel free to\b", r"\bdon't hesitate to\b", r"\bdo not hesitate to\b",
        r"\bi hope (?:this|that|it|these|my)\b", r"^hope (?:this|that) helps", r"\bif you have any (?:other |more |further )?(?:questions|concerns)\b",
        r"\b(?:happy|glad) to help\b", r"\bif you need (?:any )?(?:more|further|additional)\b.{0,40}\b(?:ask|know|help)\b",
        r"\bwould you like me to\b", r"\bi can (?:also )?(?:help|provide|assist)\b.{0,60}\b(?:if you|you)\b",
        r"\bgood luck\b.{0,30}[!.]$", r"\bbest of luck\b", r"\banything else\b.{0,60}\?$", r"^(?:enjoy|have fun)\b.{0,40}!$",
        r"\b(?:happy|glad) to (?:adjust|tweak|revise|change|expand|clarify|elaborate)\b",
    ]),
    "limits and self-reference": (False, [
        r"\bas an ai\b", r"\bi(?:'m| am) (?:just |only |not )?an? (?:ai|language model|assistant|chatbot|virtual)\b",
        r"\bi (?:do not|don't) have (?:access to|personal|the ability|real-time|feelings|opinions|emotions|beliefs|preferences|a physical|a body|the capability)\b",
        r"\bmy (?:training|knowledge)(?: data)? (?:cut|is|was|only|does|doesn't|goes|extends|ends)\b", r"\bknowledge cut-?off\b", r"\bas of my last\b",
        r"\bi (?:cannot|can't|am unable to|am not able to) (?:browse|access|predict the future|see|provide real-time)\b",
        r"\bi(?:'m| am) not (?:able to|capable of) (?:brows|access|having|provid|form)",
    ]),
    "refusal": (False, [
        r"^i(?:'m| am) sorry,? but\b", r"\bi (?:cannot|can't|won't) (?:help|assist|fulfill|comply|provide|create|write|do that)\b",
        r"\bi(?:'m| am) (?:unable|not able) to (?:help|assist|fulfill|comply|provide|create|write)\b",
        r"\b(?:not appropriate|inappropriate) for me to\b", r"\bi must (?:decline|respectfully decline)\b",
    ]),
    "greeting, thanks, praise": (True, [
        r"^(?:hi|hello|hey|greetings)\b", r"^(?:thanks|thank you)\b", r"^you're welcome\b",
        r"^(?:great|good|excellent|interesting|fascinating|wonderful) (?:question|point|catch|idea|choice)\b",
        r"^what an? (?:great|interesting|fascinating|wonderful|good) (?:question|idea)\b",
        r"\bthat's a (?:great|good|interesting|fascinating) question\b",
    ]),
    "edit remarks and acknowledgements": (False, [
        r"\bi(?:'ve| have) (?:rewritten|revised|edited|corrected|changed|updated|highlighted|reformatted|rephrased|simplified|shortened|condensed|adjusted|tweaked|polished|reworded|restructured)\b",
        r"\b(?:below|above),? i(?:'ve| have)\b",
        r"\b(?:as (?:you )?requested|per your (?:request|instructions)|as you asked|based on your (?:request|instructions|input))\b",
        r"\bin this (?:version|revision|rewrite)\b", r"^note:? i\b",
    ]),
    "word counts and option labels": (True, [
        r"^\(?word count\s*:?\s*~?\d", r"\((?:approx\.?|approximately|about|around|~)?\s*\d+ words\)", r"\b(?:approximately|about|around|roughly|~) ?\d+ words\b",
        r"^(?:option|version|alternative|variant|draft|example) ?(?:\d+|[a-c])\s*:?$",
    ]),
}
HELD_OUT_FAMILIES = tuple(FAMILIES)  # each family is left out of training once, for the unseen-phrasing figure
_COMPILED = {fam: (edge, [re.compile(p, re.IGNORECASE) for p in ps]) for fam, (edge, ps) in FAMILIES.items()}
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|i'm|i've|i'll|i'd)\b", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)]|#+)\s+")
_MARKUP = re.compile(r"\*\*|__|`")

# Quoted and reported speech: third parties saying assistant-like things are news, never leakage.
SPEAKERS = ["The minister", "A council spokeswoman", "The mayor", "Residents", "The company's chief executive",
            "Union leaders", "Officials", "Jana Novak", "The head of the agency", "A hospital spokesman",
            "The fire chief", "Local farmers", "The museum's director", "Two teachers", "The coach"]
FRAMES = ["said she was happy to help the families affected by the floods",
          "told reporters he hoped the plan would help commuters",
          "said they would let residents know the outcome in May",
          "apologised for the confusion caused by the new timetable",
          "thanked volunteers for their work over the weekend",
          "said the agency could not comment on an ongoing investigation",
          "said he was unable to confirm the figures",
          "asked whether the board would like to see the report first",
          "said she would be glad to assist the inquiry",
          "promised to answer any further questions at a briefing on Friday",
          "said it had no access to the data before 2019",
          "welcomed what she called a good question from the audience",
          "wrote that he hoped the changes would help small businesses",
          "added that the ministry was ready to provide more support if needed",
          "said the revised version of the plan would be published next week"]
QUOTED = ["“I hope this helps the families,” the minister said.",
          "\"Let me know if you need anything,\" she told the volunteers.",
          "'We are happy to help,' a spokesman said on Monday.",
          "“As requested, we have published the full report,” the council said.",
          "\"Thank you for your patience,\" the airline wrote in a statement.",
          "“I’m sorry, but I can’t comment on that,” the coach said.",
          "“Great question,” the mayor replied, before declining to answer.",
          "“Feel free to visit the site,” the company said in an advert.",
          "“I have rewritten the rules,” the commissioner told parliament.",
          "“Here is what we know so far,” the police chief said."]


def speech_negatives() -> list[tuple[str, str]]:
    """(sentence, template group): frames split by group so held-out frames are new phrasings."""
    out = [(f"{s} {f}.", f"frame{j % 3}") for i, s in enumerate(SPEAKERS) for j, f in enumerate(FRAMES) if (i + j) % 3 == 0]
    return out + [(q, f"quote{k % 3}") for k, q in enumerate(QUOTED)]


def bucket(key: str, train: float = 0.6, val: float = 0.2) -> str:
    h = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "train" if h < train else "val" if h < train + val else "test"


def label(sentence: str, position: int, count: int) -> str | None:
    """The META family of a sentence of an answer, or None."""
    s = sentence.replace("’", "'").strip()
    edge = position < 2 or position >= count - 3
    for fam, (edge_only, patterns) in _COMPILED.items():
        if (edge or not edge_only) and any(p.search(s) for p in patterns):
            return fam
    return None


def answer_sentences(output: str) -> list[str]:
    """Prose sentences of an answer: code blocks and table rows dropped, bullets and bold stripped."""
    lines, in_code = [], False
    for line in output.split("\n"):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code or line.count("|") >= 2:
            continue
        lines.append(_MARKUP.sub("", _BULLET.sub("", line)))
    text = "\n".join(lines)
    return [text[a:b].strip() for a, b in split_sentences(text) if 1 <= len(text[a:b].split()) <= 60]


def git_show(git_dir: Path, path: str) -> str:
    return subprocess.run(["git", "--git-dir", str(git_dir), "show", f"HEAD:{path}"], check=True,
                          capture_output=True, text=True).stdout


FAMILY_CAPS = {"preamble": 700, "offer or closer": 600, "limits and self-reference": 400, "refusal": 300,
               "greeting, thanks, praise": 300, "edit remarks and acknowledgements": 300, "word counts and option labels": 200}
_PROSE_END = re.compile(r"[.!?]$")


def assistant_rows(git_dir: Path, models: int | None, per_model: int, rng: random.Random) -> list[dict]:
    """Meta sentences (each family capped, at most `per_model` per family and model) and content sentences."""
    listing = subprocess.run(["git", "--git-dir", str(git_dir), "ls-tree", "--name-only", "HEAD", "results/"],
                             check=True, capture_output=True, text=True).stdout.split()
    names = sorted(p.split("/", 1)[1] for p in listing)
    names = [n for n in names if n != "NullModel"]
    rng.shuffle(names)
    rows, totals = [], Counter()
    for name in names[:models]:
        try:
            outputs = json.loads(git_show(git_dir, f"results/{name}/model_outputs.json"))
        except (subprocess.CalledProcessError, json.JSONDecodeError):
            continue
        rng.shuffle(outputs)
        split = bucket("model:" + name)
        mine, seen = Counter(), set()
        for item in outputs:
            sentences = answer_sentences(str(item.get("output", "")))
            for i, s in enumerate(sentences):
                if s in seen:
                    continue
                fam = label(s, i, len(sentences))
                if fam and mine[fam] < per_model and totals[fam] < FAMILY_CAPS[fam]:
                    rows.append(dict(text=s, y=1, family=fam, source="alpaca_eval", group=name, split=split))
                    mine[fam] += 1
                    totals[fam] += 1
                    seen.add(s)
                elif (fam is None and 2 <= i < len(sentences) - 3 and not _FIRST_PERSON.search(s)
                      and len(s.split()) >= 5 and _PROSE_END.search(s) and mine["content"] < per_model
                      and rng.random() < 0.05):
                    rows.append(dict(text=s, y=0, family="answer content", source="alpaca_eval", group=name, split=split))
                    mine["content"] += 1
                    seen.add(s)
    return rows


def prose_rows(summedits: Path | None, limit: int, rng: random.Random) -> list[dict]:
    """News and science prose (SummEdits) and the project's own sources, split by document."""
    docs: list[tuple[str, str, str]] = []  # (text, source, document key)
    if summedits:
        for path in sorted(summedits.glob("summedits_*.json")):
            domain = path.stem.split("_", 1)[1]
            seen = set()
            for row in json.loads(path.read_text()):
                key = hashlib.sha256(row["doc"].encode()).hexdigest()[:12]
                if domain in ("news", "scitldr") and row["doc"] not in seen:  # the other domains' documents are dialogue
                    seen.add(row["doc"])
                    docs.append((row["doc"], f"summedits-{domain}", key))
                docs.append((row["summary"], "summedits-summaries", key))  # third-person summaries, every domain
    skip = {"library-chatbot-leftovers", "only-chatbot-text", "injection-canary", "hidden-html-injection", "no-usable-sources"}
    for path in sorted([*(ROOT / "examples").rglob("*.md"), *(ROOT / "evals" / "sources").rglob("*.md")]):
        if not skip & set(path.parts) and path.name != "README.md":
            docs.append((path.read_text(encoding="utf-8"), "project-sources", str(path.relative_to(ROOT))))
    rows = []
    for text, source, key in docs:
        for a, b in split_sentences(text):
            s = text[a:b].strip()
            if 3 <= len(s.split()) <= 60 and label(s, 5, 99) is None and s.count("|") < 2:
                rows.append(dict(text=s, y=0, family="news prose", source=source, group=key, split=bucket("doc:" + key)))
    rows = list({r["text"]: r for r in rows}.values())
    rng.shuffle(rows)
    return rows[:limit] + brief_rows()


WATCH = ["Watch whether", "Watch for signs that", "Look for", "Expect", "Keep an eye on whether", "The next test is whether"]
EVENTS = ["the council confirms the budget at its May meeting", "the regulator publishes its review before the summer",
          "the board signs the construction contract", "ferry operators pass the fare cut on to passengers",
          "parliament votes on the water bill in the autumn", "the union calls a second strike",
          "the plant meets its 2029 opening date", "prices fall once the new harvest arrives"]
BENEFITS = ["Commuters would gain most if the line opens on time.", "Shellfish farmers stand to lose if the discharge rules change.",
            "The contractor benefits from a fixed-price deal worth 1.2 billion crowns.",
            "Households in the north would pay less for water under the plan.",
            "For the city, the plant means a supply that does not depend on rain.",
            "It means the authority will have to borrow more than it planned."]


def brief_rows() -> list[dict]:
    """Sentences in the brief's own sections: 'What to watch' items start like imperatives but are news."""
    rows = [dict(text=f"{w} {e}.", y=0, family="news prose", source="written", group=f"brief{(i + j) % 3}",
                 split=("train", "val", "test")[(i + j) % 3]) for i, w in enumerate(WATCH) for j, e in enumerate(EVENTS)]
    return rows + [dict(text=t, y=0, family="news prose", source="written", group=f"brief{k % 3}",
                        split=("train", "val", "test")[k % 3]) for k, t in enumerate(BENEFITS)]
