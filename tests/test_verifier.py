"""The trained claim verifier: shipped weights load, and its verdict follows the evidence."""

import math

import numpy as np
import pytest

from agent.checks.verifier import LEXICAL_FEATURES, MINILM_FEATURES, claim_features, load_verifier, verify_claim
from agent.text import words

SOURCE = ("The Velden council approved the tram extension on Tuesday by 9 votes to 4. "
          "Construction starts in May and the first trams run in 2028.")


@pytest.mark.parametrize("variant,names", [("lexical", LEXICAL_FEATURES), ("minilm", MINILM_FEATURES)])
def test_both_variants_ship_with_their_feature_names_and_cut_offs(variant, names):
    v = load_verifier(variant)
    assert v.names == names and len(v.coef) == len(names) and np.all(v.scale > 0)
    assert 0 < v.threshold <= v.confident < 1


@pytest.mark.parametrize("claim,supported", [
    ("The Velden council approved the tram extension on Tuesday.", True),
    ("Construction of the tram extension starts in May.", True),
    ("The mayor promised free bus travel for pensioners across the region.", False),
    ("A charity feeds vulnerable families in the harbour district every winter.", False),
])
def test_verdict_follows_the_evidence(claim, supported):
    probability, verifier, _ = verify_claim(claim, SOURCE)
    assert (probability >= verifier.threshold) is supported, probability


def test_minilm_variant_is_used_when_an_embedding_function_is_given():
    calls = []

    def embed(texts):
        calls.append(len(texts))
        return [np.ones(4) / 2 for _ in texts]  # every sentence alike: similarity 1

    _, verifier, features = verify_claim("The council approved the extension.", SOURCE, embed=embed)
    assert verifier.names == MINILM_FEATURES and calls == [3]
    assert features["sim_max"] == pytest.approx(1.0) and features["sim_second_gap"] == pytest.approx(0.0)


def test_features_see_meaning_changes_and_missing_figures():
    f = claim_features("The council rejected the tram extension by 12 votes.", SOURCE)
    assert f["meaning_direction"] == 1.0 and f["number_missing"] == 1.0
    assert claim_features("The council approved the tram extension.", SOURCE)["meaning_direction"] == 0.0


def test_features_keep_their_trained_tokens():
    # The weights were fitted on \w+ tokens: "embedding_options" is one word here, two for agent.text.words.
    claim = "The embedding_options flag was removed."
    assert claim_features(claim, SOURCE)["claim_words"] == pytest.approx(math.log1p(5))
    assert len(words(claim)) == 6
