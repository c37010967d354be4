"""The learned leakage layer: catches assistant talk the patterns miss, spares news and reported speech."""

import numpy as np
import pytest

from agent.checks import learned_leakage as learned
from agent.checks.leakage import find_leakage, leakage_spans
from agent.model.embeddings import HashingEmbedding, MiniLMEmbedding
from tests.fakes import CLEAN, REPORTED_SPEECH

# Assistant talk in phrasings no pattern covers (each is checked to slip past the patterns first).
UNSEEN = [
    "I can't look that up for you.",
    "Let me walk you through the main points.",
    "I trust this meets your needs.",
    "Sorry, that's outside what I can do.",
    "I've kept it under 150 words.",
]
BRIEF_LIKE = [
    "Watch whether the council confirms the budget in May.",
    "Expect delays on the coast road while the pipes are laid.",
    "What this means for households is higher water bills from 2027.",
    "Shellfish farmers stand to lose if the discharge rules change.",
    "In short, the plant will cost 1.2 billion crowns and open in 2029.",
    "Residents hope the new ferry link will cut commuting times across the bay.",
]


@pytest.fixture(autouse=True)
def fresh_layer():
    learned.use_leakage_embedder(MiniLMEmbedding())
    yield
    learned._state["embed"] = "auto"
    learned._scores.clear()


def test_shipped_weights_are_small_and_load():
    assert learned.WEIGHTS.stat().st_size < 300_000
    model = learned.load_model()
    assert model is not None and 0.5 <= model.threshold < 1.0
    assert model.weights.shape == (384 + len(learned.SHAPE_FEATURES),)


@pytest.mark.parametrize("text", UNSEEN)
def test_learned_layer_catches_what_the_patterns_miss(text):
    assert leakage_spans(text) == []
    (v,) = find_leakage(text, "body")
    assert v.code == "chatbot-leakage" and "learned layer, p=" in v.message and text[v.start:v.end] == text


@pytest.mark.parametrize("text", CLEAN + REPORTED_SPEECH + BRIEF_LIKE)
def test_learned_layer_spares_news_quotes_and_reported_speech(text):
    assert find_leakage(text, "body") == []


def test_only_sentences_the_patterns_missed_and_the_gate_let_through_are_embedded():
    seen: list[str] = []

    class Spy(MiniLMEmbedding):
        def __call__(self, input):
            seen.extend(input)
            return super().__call__(input)

    learned.use_leakage_embedder(Spy())
    text = "I hope this helps! The port reopened on Monday. \"Let me know,\" she said. La planta costará 1.200 millones de coronas."
    found = find_leakage(text, "body")
    assert seen == ["The port reopened on Monday."]
    assert [text[v.start:v.end] for v in found] == ["I hope this helps!"]
    find_leakage(text, "body")
    assert seen == ["The port reopened on Monday."]  # scores are cached by sentence


def test_hashing_backend_or_no_embedder_turns_the_layer_off():
    learned.use_leakage_embedder(HashingEmbedding())
    assert learned.score_sentences(UNSEEN) is None and find_leakage(UNSEEN[0]) == []
    learned.use_leakage_embedder(None)
    assert find_leakage(UNSEEN[0]) == []


def test_environment_switch_turns_the_layer_off(monkeypatch):
    monkeypatch.setenv(learned.DISABLE_ENV, "off")
    assert find_leakage(UNSEEN[0]) == []


@pytest.mark.parametrize("text, ok", [
    ("I trust this meets your needs.", True),
    ("The minister said she was happy to help the families.", False),
    ("“Happy to help,” a spokesman replied.", False),
    ("Gracias por su pregunta, aquí tiene el resumen que pidió para la reunión.", False),
    ("| North | n/a | 1.2 |", False),
])
def test_gate(text, ok):
    assert learned.eligible(text) == ok


def test_brief_check_with_the_hashing_backend_skips_the_learned_layer(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    draft = tmp_path / "d.md"
    draft.write_text(UNSEEN[2])
    cfg = tmp_path / "c.toml"
    cfg.write_text('[embeddings]\nbackend = "hashing"\n')
    run = [sys.executable, "-m", "agent.cli", "check", str(draft)]
    caught = subprocess.run(run, cwd=root, capture_output=True, text=True, timeout=120)
    skipped = subprocess.run(run + ["--config", str(cfg)], cwd=root, capture_output=True, text=True, timeout=120)
    assert caught.returncode == 6 and "learned layer" in caught.stdout
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr


def test_shape_features_count_words_without_digits():
    # The weights were fitted on letter-only word counts: "40" is no word here (agent.text.words counts it).
    features = learned.shape_features("We paid 40 dollars.")
    assert features[learned.SHAPE_FEATURES.index("log_words")] == pytest.approx(np.log1p(3))
