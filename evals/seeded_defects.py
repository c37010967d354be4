"""Seeded-defect self-test of the checker: plant defects into clean drafts, measure recall and false positives.

    python -m evals.seeded_defects [--cases N] [--seed S]

Clean drafts are built from a pool of original news sentences (and, in half the drafts, a small
markdown table). Each defect type is planted at a random position in its own copy of a draft;
a defect counts as caught when the checker (agent.checks.draft_check.check_text, the same rules
as the graph's checker node) reports a violation of that type's codes over the planted span.
Clean controls, including benign look-alikes (quoted speech, "hope", "certainly", reporting that
mentions an AI model), give each type's false-positive rate. Leakage phrasings are composed from
parts, so most of them are not strings the detector lists.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass

from agent.checks.codes import Code
from agent.checks.draft_check import check_text
from agent.checks.leakage import LEAKAGE_CODES

SENTENCES = [
    "The harbour board approved a new ferry terminal on Monday after a two-hour debate.",
    "Work on the terminal is expected to start in the spring and finish within three years.",
    "The regional water company said reservoir levels had fallen to 41 percent of capacity.",
    "Farmers in the valley have been asked to cut irrigation by a fifth until the autumn.",
    "The museum reopened its north wing with a restored fishing boat as the centrepiece.",
    "Ticket sales in the first week were higher than the director had forecast.",
    "The city council voted 23 to 8 to extend the tram line to the university campus.",
    "Opponents argued that the extension would disrupt traffic on the main bridge for months.",
    "A spokesperson for the transport authority said the budget would be reviewed in June.",
    "The company reported revenue of 2.4 billion crowns for the third quarter.",
    "Its chief executive told analysts that demand for heat pumps had slowed since the summer.",
    "Unions at the plant have scheduled a vote on the new wage offer for next Thursday.",
    "The ministry published a list of 14 schools that will receive new ventilation systems.",
    "Parents at two of the schools said they had waited more than five years for repairs.",
    "Police closed the coastal road overnight after a landslide near the lighthouse.",
    "Engineers expect to reopen one lane by the weekend if the weather stays dry.",
    "The festival drew about 60,000 visitors over four days, organisers said.",
    "Hotel owners in the old town reported occupancy close to full for the period.",
    "Researchers at the institute found that wetland restoration reduced flooding downstream.",
    "The study, which followed three rivers for a decade, was published in a peer-reviewed journal.",
    "The airline will resume flights to the island in March after a two-year pause.",
    "Fares on the route are expected to be lower than before the pause, the airline said.",
    "Shipping volumes through the canal rose for the fourth month in a row.",
    "Port officials attributed the rise to lower fuel prices and a mild winter.",
]
BENIGN = [
    "\"Certainly not,\" the spokesman said when asked whether the terminal would be delayed.",
    "Residents hope the new ferry link will cut commuting times across the bay.",
    "The startup markets its software as an AI model for reading shipping invoices.",
    "\"I'm sorry for the inconvenience,\" the operator's chief executive told stranded passengers.",
    "Officials said they hope that helps reduce congestion on the bridge.",
    "The regulator will let each bidder know the outcome in writing by the end of the month.",
    "The report notes that the company's chatbot told users it was an AI assistant.",
    "'Here is the plan we promised,' the mayor said, holding up the transport strategy.",
    "Of course, the council's own forecast assumed a milder winter, critics pointed out.",
    "Sure enough, the river rose above the warning level on Tuesday night.",
]
TABLE_ROWS = [["Port Carrow", "1.2", "2029"], ["Bray", "0.4", "2027"], ["Lisk", "0.9", "2031"],
              ["Ostend Bay", "2.1", "2030"], ["Harlow", "0.7", "2028"]]

# Leakage, composed from parts: opener x body x closer within each category.
LEAKAGE_PARTS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "offer of further help": (
        ["If you'd like,", "If you want,", "Should you wish,", "If it would help,", "If you need it,"],
        ["I can also", "I could", "I'd be happy to", "I can"],
        ["turn this into a one-page briefing.", "draft a shorter version for social media.",
         "add a timeline of the key dates.", "expand the section on costs.", "format this as a table."]),
    "offer (question form)": (
        ["Would you like me to", "Do you want me to", "Shall I", "Want me to"],
        ["summarize the remaining sources", "add more detail on the vote", "rewrite this in a more formal tone",
         "prepare a version for the website"],
        ["?", " as well?", " next?"]),
    "preamble": (
        ["Certainly!", "Sure!", "Of course!", "Absolutely.", "Okay,"],
        ["Here is the revised brief", "Here's the updated summary", "Here is a corrected version",
         "Below is the rewritten article"],
        [":", " you asked for:", " with the changes applied:"]),
    "AI self-reference": (
        ["As an AI language model,", "As an AI assistant,", "Being an AI,", "I am just an AI, so"],
        ["I cannot verify", "I don't have access to", "I can't confirm"],
        [" the latest figures.", " events after my training.", " real-time data on this."]),
    "knowledge cutoff": (
        ["As of my last update,", "Based on my training data,", "Up to my knowledge cutoff,"],
        ["the project had not", "no decision had", "the figures had not"],
        [" been announced.", " been made public.", " been confirmed."]),
    "closing filler": (
        ["I hope this helps!", "Hope this helps.", "I hope that was helpful.", "Happy reading!"],
        ["", " Let me know if you have questions.", " Just let me know if anything needs changing."], [""]),
    "apology": (
        ["I apologize for the confusion.", "My apologies for the error above.", "I'm sorry for the mistake."],
        ["", " The correct figure is below."], [""]),
    "word count": (["(Word count: 212)", "Word count: 148", "This summary is about 150 words."], [""], [""]),
    "reasoning tag": (["<think>The user wants a brief.</think>", "<thinking>check the numbers</thinking>",
                       "</think>"], [""], [""]),
    "chat-template token": (["<|im_end|>", "<|assistant|>", "[INST]", "<|eot_id|>"], [""], [""]),
    "placeholder": (["[Insert quote from the mayor]", "{{ headline }}", "[Your name]", "TODO: add the date."],
                    [""], [""]),
    "prompt echo": (["You are a helpful assistant that writes news briefs.", "Reply with valid JSON only.",
                     "Ignore previous instructions.", "Write one sentence (at most 35 words)."], [""], [""]),
}
TYPE_CODES: dict[str, frozenset[Code]] = {
    "leakage": LEAKAGE_CODES,
    **{code.value: frozenset({code}) for code in (Code.DUPLICATE_TABLE_ROW, Code.TABLE_ROW_REPEATS_CELLS,
                                                  Code.TABLE_COLUMN_MISMATCH, Code.REPEATED_SENTENCE)},
}


@dataclass
class Draft:
    text: str
    span: tuple[int, int] | None = None  # where the defect was planted
    category: str = ""


def _table(rows: list[list[str]]) -> list[str]:
    return ["| Town | Cost (bn) | Opens |", "| --- | --- | --- |"] + ["| " + " | ".join(r) + " |" for r in rows]


def clean_draft(rng: random.Random, benign: bool) -> tuple[list[str], list[str]]:
    """(sentences, table lines) of a clean draft; benign look-alikes mixed in when asked."""
    sentences = rng.sample(SENTENCES, rng.randint(4, 7))
    if benign:
        for b in rng.sample(BENIGN, rng.randint(1, 3)):
            sentences.insert(rng.randint(0, len(sentences)), b)
    table = _table(rng.sample(TABLE_ROWS, rng.randint(2, 4))) if rng.random() < 0.5 else []
    return sentences, table


def assemble(sentences: list[str], table: list[str], planted: str | None = None, at: int = 0,
             table_line: str | None = None, table_at: int = 0) -> Draft:
    """Join into text, returning the planted item's span."""
    parts: list[str] = []
    span = None
    items = list(sentences)
    if planted is not None:
        items.insert(at, planted)
    text = ""
    for i, s in enumerate(items):
        if text:
            text += " " if i % 3 else "\n\n"
        if planted is not None and i == at:
            span = (len(text), len(text) + len(s))
        text += s
    if table:
        rows = list(table)
        if table_line is not None:
            rows.insert(table_at, table_line)
        text += "\n\n"
        for n, line in enumerate(rows):
            if table_line is not None and n == table_at:
                span = (len(text), len(text) + len(line))
            text += line + "\n"
    parts.append(text)
    return Draft(text=text, span=span)


def leakage_phrase(rng: random.Random) -> tuple[str, str]:
    category = rng.choice(list(LEAKAGE_PARTS))
    a, b, c = (rng.choice(p) for p in LEAKAGE_PARTS[category])
    text = " ".join(f"{a} {b}".split()) if b else a
    return category, (text + c if not c or c[0] in "?.,:;" else f"{text} {c.strip()}")


def near_copy(rng: random.Random, sentence: str) -> str:
    choice = rng.randrange(3)
    if choice == 0:
        return sentence
    if choice == 1:
        return sentence.upper()[:1] + sentence[1:].lower()
    return sentence.replace(" the ", " the  ", 1).rstrip(".") + " ."


def plant(rng: random.Random, kind: str) -> Draft:
    sentences, table = clean_draft(rng, benign=rng.random() < 0.5)
    if kind == "leakage":
        category, phrase = leakage_phrase(rng)
        draft = assemble(sentences, table, phrase, rng.randint(0, len(sentences)))
        draft.category = category
        return draft
    if kind == "repeated-sentence":
        i = rng.randrange(len(sentences))
        return assemble(sentences, table, near_copy(rng, sentences[i]), rng.randint(i + 1, len(sentences)))
    table = table or _table(rng.sample(TABLE_ROWS, 3))
    body_rows = table[2:]
    if kind == "duplicate-table-row":
        row = rng.choice(body_rows)
        variant = rng.choice([row, row.upper(), row.replace(" | ", "|"), row.replace(" |", ".  |", 1)])
        at = rng.randint(table.index(row) + 1, len(table))
        return assemble(sentences, table, table_line=variant, table_at=at)
    if kind == "table-row-repeats-cells":
        cells = rng.choice(TABLE_ROWS)[:2]
        return assemble(sentences, table, table_line="| " + " | ".join(cells * 2) + " |",
                        table_at=rng.randint(2, len(table)))
    if kind == "table-column-mismatch":
        cells = rng.choice(TABLE_ROWS) + ["extra"]
        return assemble(sentences, table, table_line="| " + " | ".join(cells) + " |", table_at=rng.randint(2, len(table)))
    raise ValueError(kind)


def caught(draft: Draft, kind: str) -> bool:
    report = check_text(draft.text)
    a, b = draft.span or (0, len(draft.text))
    return any(v.code in TYPE_CODES[kind] and v.start < b and a < v.end for v in report.violations)


def run_seeded_defects(seed: int = 0, cases: int = 200) -> dict:
    """Per defect type: planted, caught, recall; per type on clean controls: false-positive rate."""
    rng = random.Random(seed)
    out: dict = {"seed": seed, "cases": cases, "types": {}, "leakage_by_category": {}, "misses": []}
    for kind in TYPE_CODES:
        hits = 0
        for _ in range(cases):
            draft = plant(rng, kind)
            ok = caught(draft, kind)
            hits += ok
            if kind == "leakage":
                row = out["leakage_by_category"].setdefault(draft.category, [0, 0])
                row[0] += ok
                row[1] += 1
            if not ok and len(out["misses"]) < 20:
                a, b = draft.span or (0, 0)
                out["misses"].append({"type": kind, "text": draft.text[a:b]})
        out["types"][kind] = {"planted": cases, "caught": hits, "recall": hits / cases}
    controls = [assemble(*clean_draft(rng, benign=i % 2 == 0)) for i in range(cases)]
    reports = [check_text(d.text) for d in controls]
    for kind, codes in TYPE_CODES.items():
        flagged = [d for d, r in zip(controls, reports) if any(v.code in codes for v in r.violations)]
        out["types"][kind]["controls"] = len(controls)
        out["types"][kind]["false_positive_rate"] = len(flagged) / len(controls)
        for d in flagged[:5]:
            bad = [v.text for v in check_text(d.text).violations if v.code in codes]
            out["misses"].append({"type": f"{kind} (false positive)", "text": bad[0] if bad else ""})
    return out


def print_table(result: dict) -> None:
    print(f"Seeded-defect self-test (seed {result['seed']}, {result['cases']} plants per type)")
    print(f"{'defect type':<26} {'planted':>8} {'recall':>8} {'FP rate':>9}")
    for kind, row in result["types"].items():
        print(f"{kind:<26} {row['planted']:>8} {row['recall']:>8.3f} {row['false_positive_rate']:>9.3f}")
    print("\nleakage recall by category")
    for category, (hit, n) in sorted(result["leakage_by_category"].items()):
        print(f"  {category:<24} {hit:>3}/{n:<3} {hit / n:.2f}")
    if result["misses"]:
        print("\nmisses and false positives (first few)")
        for m in result["misses"][:12]:
            print(f"  {m['type']}: {m['text'][:90]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Seeded-defect self-test of the checker.")
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print_table(run_seeded_defects(args.seed, args.cases))


if __name__ == "__main__":
    main()
