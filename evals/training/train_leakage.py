"""Train the learned leakage layer (agent/checks/learned_leakage.py) and print its held-out figures.

    git clone https://github.com/tatsu-lab/alpaca_eval   # or any mirror; its .git directory is read
    python evals/training/train_leakage.py --alpaca-git-dir PATH/alpaca_eval/.git \
        --summedits ../shared/data/summedits

Positives: meta sentences of real assistant answers (alpaca_eval results/*/model_outputs.json):
preambles, closers, offers, limits, refusals, greetings, edit remarks..., found by the labelling
families below, which are broader than the run-time patterns and used only here. Negatives: the
answers' own content sentences, news and science prose (SummEdits evaluation split, news and
scitldr domains), the project's example and eval sources, and quoted / reported speech written
for the purpose. Splits: whole models and whole documents go to train, validation (threshold)
or test (reported); one phrasing family at a time is also left out of training entirely and its
recall measured on the test models. Numpy only (no scikit-learn needed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agent.checks.learned_leakage import SHAPE_FEATURES, WEIGHTS, LeakageModel, eligible, shape_features  # noqa: E402
from agent.checks.leakage import leakage_spans  # noqa: E402
from agent.text import split_sentences  # noqa: E402

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


def embed_all(texts: list[str], cache: Path) -> np.ndarray:
    from agent.embeddings import MiniLMEmbedding

    stored: dict[str, np.ndarray] = {}
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            stored = dict(zip(data["texts"].tolist(), data["vectors"]))
    todo = [t for t in dict.fromkeys(texts) if t not in stored]
    if todo:
        started = time.perf_counter()
        vectors = MiniLMEmbedding()(todo)
        stored.update(zip(todo, vectors))
        print(f"embedded {len(todo)} sentences in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, texts=np.array(list(stored)), vectors=np.stack(list(stored.values())))
    return np.stack([stored[t] for t in texts]).astype(np.float32)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 25) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method, positives and negatives weighted equally."""
    xb = np.hstack([x, np.ones((len(x), 1), dtype=np.float64)])
    sample = np.where(y == 1, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))
    w = np.zeros(xb.shape[1])
    reg = np.full(xb.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (sample * (p - y)) + reg * w
        hess = (xb * (sample * p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-6)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w[:-1], float(w[-1])


def train_model(emb: np.ndarray, shapes: np.ndarray, y: np.ndarray, l2: float) -> LeakageModel:
    mean, std = shapes.mean(0), shapes.std(0) + 1e-6
    w, b = fit(np.hstack([emb, (shapes - mean) / std]).astype(np.float64), y.astype(np.float64), l2)
    return LeakageModel(weights=w.astype(np.float32), bias=b, shape_mean=mean.astype(np.float32),
                        shape_std=std.astype(np.float32), threshold=0.5)


def pick_threshold(p: np.ndarray, y: np.ndarray, max_fpr: float) -> float:
    """The lowest threshold whose false-positive rate on the validation negatives stays within max_fpr."""
    neg = np.sort(p[y == 0])[::-1]
    allowed = int(np.floor(max_fpr * len(neg)))
    return float(max(0.5, neg[allowed] + 1e-4)) if len(neg) > allowed else 0.5


def rates(p: np.ndarray, y: np.ndarray, t: float) -> dict:
    pos, neg = p[y == 1], p[y == 0]
    return {"recall": round(float((pos >= t).mean()), 3) if len(pos) else None, "positives": int(len(pos)),
            "fp_rate": round(float((neg >= t).mean()), 4) if len(neg) else None, "negatives": int(len(neg))}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alpaca-git-dir", type=Path, required=True, help="git directory of tatsu-lab/alpaca_eval")
    ap.add_argument("--summedits", type=Path, help="folder with summedits_<domain>.json (news negatives)")
    ap.add_argument("--models", type=int, default=None, help="alpaca_eval models to read (shuffled; default all)")
    ap.add_argument("--per-model", type=int, default=12, help="meta sentences per family and model; content sentences per model")
    ap.add_argument("--prose", type=int, default=2500, help="news / science / project sentences")
    ap.add_argument("--l2", type=float, default=3.0)
    ap.add_argument("--max-val-fpr", type=float, default=0.005, help="false-positive budget on validation negatives")
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "leakage-embeddings.npz")
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--stats", type=Path, default=WEIGHTS.with_name("leakage_stats.json"))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)

    commit = subprocess.run(["git", "--git-dir", str(args.alpaca_git_dir), "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    rows = assistant_rows(args.alpaca_git_dir, args.models, args.per_model, rng)
    rows += prose_rows(args.summedits, args.prose, rng)
    rows += [dict(text=t, y=0, family="quoted or reported speech", source="written", group=g,
                  split="test" if g.endswith("2") else "val" if g.endswith("1") else "train") for t, g in speech_negatives()]
    texts = [r["text"] for r in rows]
    emb = embed_all(texts, args.cache)
    shapes = np.stack([shape_features(t) for t in texts])
    y = np.array([r["y"] for r in rows])
    split = np.array([r["split"] for r in rows])
    family = np.array([r["family"] for r in rows])
    source = np.array([r["source"] for r in rows])
    gate = np.array([eligible(t) for t in texts])  # what reaches the model at run time (no quotes, no reported speech)
    speech = family == "quoted or reported speech"
    split = np.where(gate | speech, split, "gated")  # sentences the gate removes: only in the system-level figures
    train, val, test = split == "train", split == "val", split == "test"
    everywhere = np.array([r["split"] for r in rows])
    model = train_model(emb[train], shapes[train], y[train], args.l2)
    p_val = model.probabilities(emb[val], [t for t, m in zip(texts, val) if m])
    threshold = pick_threshold(p_val, y[val], args.max_val_fpr)
    report: dict = {"alpaca_eval_commit": commit, "threshold": round(threshold, 4)}
    report["counts"] = {s: {f"{sp}/{'meta' if yy else 'other'}": n for (sp, yy), n in Counter(
        (r["split"], r["y"]) for r in rows if r["source"] == s).items()} for s in sorted(set(source))}
    report["families"] = dict(Counter(r["family"] for r in rows))

    p_all = model.probabilities(emb, texts) * gate  # the system: gated sentences are never flagged
    held = everywhere != "train"
    report["validation"] = rates(p_all[everywhere == "val"], y[everywhere == "val"], threshold)
    report["test_models_and_documents"] = rates(p_all[everywhere == "test"], y[everywhere == "test"], threshold)
    news = family == "news prose"
    report["test_news_prose_fp"] = rates(p_all[(everywhere == "test") & news], y[(everywhere == "test") & news], threshold)
    report["held_out_news_prose_fp"] = rates(p_all[held & news], y[held & news], threshold)
    content = family == "answer content"
    report["test_answer_content_fp"] = rates(p_all[(everywhere == "test") & content], y[(everywhere == "test") & content], threshold)
    patterns = np.array([bool(leakage_spans(t)) for t in texts])  # the run-time first layer
    system = patterns | (p_all >= threshold)
    report["test_system_patterns_plus_learned"] = rates(system[everywhere == "test"].astype(float),
                                                        y[everywhere == "test"], 0.5)
    report["test_patterns_alone"] = rates(patterns[everywhere == "test"].astype(float), y[everywhere == "test"], 0.5)
    report["reported_speech_fp_model_alone"] = rates(model.probabilities(emb, texts)[speech & held], y[speech & held], threshold)
    report["reported_speech_fp_with_gate"] = rates(p_all[speech & held], y[speech & held], threshold)

    unseen = {}  # leave one phrasing family out of training; recall on it, test models only
    for fam in HELD_OUT_FAMILIES:
        keep = train & (family != fam)
        m = train_model(emb[keep], shapes[keep], y[keep], args.l2)
        pv = m.probabilities(emb[val & (family != fam)], [t for t, k in zip(texts, val & (family != fam)) if k])
        t_fam = pick_threshold(pv, y[val & (family != fam)], args.max_val_fpr)
        sel = test & ((family == fam) | (y == 0))
        unseen[fam] = rates(m.probabilities(emb[sel], [t for t, k in zip(texts, sel) if k]), y[sel], t_fam)
    report["unseen_family_test"] = unseen
    report["unseen_family_mean_recall"] = round(float(np.mean([v["recall"] for v in unseen.values() if v["recall"] is not None])), 3)

    # Ship the model the threshold was chosen for (trained on the train split only), so every figure above is its own.
    shipped = LeakageModel(model.weights, model.bias, model.shape_mean, model.shape_std, threshold)
    shipped.save(args.out, alpaca_eval_commit=commit, trained_sentences=int(train.sum()))
    args.stats.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB) and {args.stats}", file=sys.stderr)


if __name__ == "__main__":
    main()
