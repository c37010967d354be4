"""Veracity ordering on constructed corpora: independence, syndication, contradiction."""

from agent.config import load_settings
from agent.independence import canonical_url, group_sources
from agent.schema import Passage, Sentence, Source, content_id
from agent.veracity import assess_claim, contradiction_sentences, score_veracity

CFG = load_settings(env={}).veracity
CLAIM = "The Orsk port authority approved a 300 million euro dredging plan on Monday."
STORIES = {
    "wire": "The Orsk port authority approved a 300 million euro dredging plan on Monday, officials said. "
            "Work on the channel starts in spring and will let larger container ships reach the docks.",
    "daily": "On Monday the port authority in Orsk signed off on its dredging plan, worth 300 million euro, "
             "according to board minutes. Shipping firms had lobbied for a deeper channel for years.",
    "radio": "Board members of the Orsk port authority approved the 300 million euro dredging plan at Monday's meeting. "
             "Environmental groups said they would study the permits before deciding whether to object.",
    "rival": "The Orsk port authority approved a dredging plan on Monday whose true cost is 450 million euro, "
             "two board members said, well above the published estimate.",
}


def corpus(*names: str, text_of=STORIES.get, urls=None):
    sources, passages = [], {}
    for n, name in enumerate(names, start=1):
        text = text_of(name)
        src = Source(id=content_id(text + str(n) if urls else text), outlet=f"Outlet {name}", text=text,
                     url=(urls or {}).get(n))
        sources.append(src)
        passages[f"S{n}:1"] = Passage(id=f"S{n}:1", source_id=src.id, text=text, start=0, end=len(text))
    return sources, passages


def score(sources, passages):
    groups = group_sources(sources)
    group_of = {sid: g.group_id for g in groups for sid in g.source_ids}
    claim = assess_claim(Sentence(text=CLAIM, citations=["S1:1"]), passages, group_of)
    cited = {s.id for s in sources}
    return score_veracity([claim], groups, cited, CFG), claim


def syndicated_copy(name: str) -> str:
    return STORIES["wire"].replace("officials said", "officials told reporters") + " (Reporting by the wire desk.)"


def test_three_independent_agreeing_sources_beat_one():
    one, _ = score(*corpus("wire"))
    three, claim = score(*corpus("wire", "daily", "radio"))
    assert len(claim.supporting_groups) == 3
    assert three.score > one.score
    assert three.label in ("Corroborated", "Confirmed") and one.label == "Unverified"


def test_syndicated_copies_score_like_one_source():
    one, _ = score(*corpus("wire"))
    sources, passages = corpus("a", "b", "c", text_of=syndicated_copy, urls={1: "https://x.example/a", 2: None, 3: None})
    groups = group_sources(sources)
    assert len(groups) == 1 and groups[0].reason == "near-duplicate text"
    copies, _ = score(sources, passages)
    assert copies.score == one.score
    assert "syndicated" in copies.rationale


def test_contradiction_lowers_the_score_and_is_stated_with_both_sources():
    agreeing, _ = score(*corpus("wire", "daily", "radio"))
    sources, passages = corpus("wire", "daily", "radio", "rival")
    disputed, claim = score(sources, passages)
    assert disputed.score < agreeing.score
    assert claim.contradictions and "contradicted" in disputed.rationale
    (nuance,) = contradiction_sentences([claim], passages, {s.id: s.outlet for s in sources})
    assert nuance.citations == ["S1:1", "S4:1"]
    assert "Outlet wire gives 300 million euro" in nuance.text and "Outlet rival 450 million euro" in nuance.text


def test_canonical_url_drops_tracking():
    assert canonical_url("http://www.x.example/a/?utm_source=tw&id=3#top") == canonical_url("https://x.example/a?id=3")
