"""Train the learned leakage layer (agent/checks/learned_leakage.py) and print its held-out figures.

    git clone https://github.com/tatsu-lab/alpaca_eval   # or any mirror; its .git directory is read
    python evals/training/train_leakage.py --alpaca-git-dir PATH/alpaca_eval/.git \
        --summedits ../shared/data/summedits

Positives: meta sentences of real assistant answers (alpaca_eval results/*/model_outputs.json):
preambles, closers, offers, limits, refusals, greetings, edit remarks..., found by the labelling
families (leakage_data.py), broader than the run-time patterns and used only here. Negatives: the
answers' own content sentences, news and science prose (SummEdits evaluation split: news and scitldr
documents, every domain's summaries), the project's example and eval sources, quoted / reported speech written
for the purpose. Splits: whole models and whole documents go to train, validation (threshold)
or test (reported); one phrasing family at a time is also left out of training entirely and its
recall measured on the test models. Numpy only (no scikit-learn needed). The data readers and the
labelling families are in leakage_data.py.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agent.checks.learned_leakage import WEIGHTS, LeakageModel, eligible, shape_features  # noqa: E402
from agent.checks.leakage import leakage_spans  # noqa: E402
from evals.training.leakage_data import HELD_OUT_FAMILIES, assistant_rows, prose_rows, speech_negatives  # noqa: E402


def embed_all(texts: list[str], cache: Path) -> np.ndarray:
    from agent.model.embeddings import MiniLMEmbedding

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
