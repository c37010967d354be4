"""Source grouping: the same groups as comparing every pair of sources, without comparing every pair."""

import random

import pytest

import agent.analysis.independence as independence
from agent.analysis.independence import canonical_url, containment, group_sources, shingles
from agent.schema import Source, content_id

VOCAB = [f"w{k}" for k in range(2500)]


def all_pairs(sources: list[Source], threshold: float = 0.5) -> list[dict]:
    """The reference: union-find over every pair, as group_sources did before its index."""
    parent, reason = list(range(len(sources))), ["independent"] * len(sources)

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i
    sets, urls = [shingles(s.text) for s in sources], [canonical_url(s.url) for s in sources]
    for i in range(len(sources)):
        for j in range(i + 1, len(sources)):
            why = ("same canonical url" if urls[i] and urls[i] == urls[j]
                   else "near-duplicate text" if containment(sets[i], sets[j]) >= threshold else None)
            if why:
                parent[find(j)] = find(i)
                reason[i] = reason[j] = why
    groups: dict[int, list[int]] = {}
    for i in range(len(sources)):
        groups.setdefault(find(i), []).append(i)
    return [{"group_id": g + 1, "source_ids": [sources[m].id for m in members],
             "outlets": [sources[m].outlet for m in members],
             "reason": "independent" if len(members) == 1 else reason[members[0]]}
            for g, members in enumerate(sorted(groups.values()))]


def story(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(words))


def source(n: int, text: str, url: str | None = None) -> Source:
    return Source(id=content_id(f"{n}:{text}"), outlet=f"Outlet {n}", text=text, url=url)


def corpus(seed: int, stories: int = 40) -> list[Source]:
    """Stories, with copies of some: trimmed, extended, edited every k-th word (around the 0.5 cut), and
    republished under a tracking-parameter URL."""
    rng = random.Random(seed)
    texts = [story(rng, rng.randint(3, 400)) for _ in range(stories)]
    out = [source(n, t, f"https://news.example/{n}" if n % 3 == 0 else None) for n, t in enumerate(texts)]
    for n in range(stories // 2):
        words, kind = texts[n].split(), n % 5
        if kind == 0:
            text = " ".join(words[: max(1, len(words) // rng.randint(2, 6))])
        elif kind == 1:
            text = texts[n] + " " + story(rng, rng.randint(50, 900))
        elif kind == 2:
            step = rng.randint(8, 12)  # one changed word breaks 5 shingles: about half survive
            text = " ".join(rng.choice(VOCAB) if k % step == 0 else w for k, w in enumerate(words))
        elif kind == 3:
            text = " ".join(words[len(words) // 3:] + words[: len(words) // 3])
        else:
            text = story(rng, 120)
        url = f"https://news.example/{n}?utm_source=feed" if n % 3 == 0 and kind == 4 else None
        out.append(source(stories + n, text, url))
    rng.shuffle(out)
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8, 1.0])
def test_groups_equal_the_all_pairs_groups(seed, threshold):
    sources = corpus(seed)
    assert [g.model_dump() for g in group_sources(sources, threshold)] == all_pairs(sources, threshold)


@pytest.mark.parametrize("texts, urls", [
    ([], []),
    (["", "", "one"], [None, None, None]),  # empty and short texts: one shingle each
    (["a b c", "a b c", "a b c d e f"], [None, "https://x.example/a", "https://www.x.example/a/"]),
    (["a b c d e f g h", "a b c d e f g h"], [None, None]),  # identical
    (["a b c d e f g h i j", "a b c d e x y z w v"], [None, None]),  # exactly half of the shingles in common
    (["a b c d e f g h i j", "f g h i j k l m n o"], [None, None]),
])
def test_edge_cases_group_as_all_pairs_do(texts, urls):
    sources = [source(n, t, u) for n, (t, u) in enumerate(zip(texts, urls))]
    for threshold in (0.0, 0.5, 1.0, 1.5):
        assert [g.model_dump() for g in group_sources(sources, threshold)] == all_pairs(sources, threshold)


def test_grouping_compares_only_pairs_that_could_be_copies(monkeypatch):
    rng = random.Random(7)
    sources = [source(n, story(rng, 300)) for n in range(300)]
    sources += [source(300 + n, sources[n].text + " " + story(rng, 40)) for n in range(10)]  # ten copies
    compared = []
    monkeypatch.setattr(independence, "containment", lambda a, b: compared.append(1) or containment(a, b))
    groups = group_sources(sources)
    assert sum(len(g.source_ids) == 2 for g in groups) == 10 and len(groups) == 300
    assert 10 <= len(compared) <= 30  # all pairs: 47,895


@pytest.mark.parametrize("text", ["", "one two", "The Port of Carrow, the port!", "a b c d e f g a b c d e f g " * 3])
def test_shingles_are_the_hashes_of_five_word_runs(text):
    words = independence._WORD.findall(text.casefold())
    assert shingles(text) == {hash(tuple(words[i:i + 5])) for i in range(max(1, len(words) - 4))}
