"""The public use cases' shared parts: load_corpus (every entry point's ingest) and the composition root's clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.api import load_corpus, passages_of
from agent.config import load_settings
from agent.deps import REPLAY_ONLY_URL, build_claim_judge, build_client, build_drafter, build_eval_judge
from agent.errors import NoUsableSources
from agent.serve.json_step import InlineSource
from agent.schema import Source

STORY = Path(__file__).parent / "fixtures" / "story"
ARTICLE = ("The Velden council approved the tram extension on Tuesday by 9 votes to 4, after a debate that "
           "lasted most of the afternoon. Construction of the first section starts in May, the council said.")


def settings(tmp_path: Path, **overrides):
    return load_settings(overrides={"data_dir": str(tmp_path / "data"), "embeddings": {"backend": "hashing"},
                                    **overrides}, env={})


def test_records_come_first_in_their_order_then_files(tmp_path):
    cfg = settings(tmp_path)
    record = load_corpus([InlineSource(text=ARTICLE, outlet="Wire")], cfg).sources[0]
    corpus = load_corpus([STORY, InlineSource(text=ARTICLE.replace("Velden", "Lisk"), outlet="Daily"), record], cfg)
    story_files = sorted(p.name for p in STORY.iterdir() if not p.name.startswith("."))
    assert [s.outlet for s in corpus.sources[:2]] == ["Daily", "Wire"]
    assert sorted(Path(s.origin).name for s in corpus.sources[2:]) == story_files
    assert all(isinstance(s, Source) for s in corpus.sources) and corpus.skipped == []
    assert corpus.passages == passages_of(corpus.sources, cfg.ingest.passage_chars)
    assert {p.id.split(":")[0] for p in corpus.passages.values()} == {f"S{n}" for n in
                                                                       range(1, len(corpus.sources) + 1)}


@pytest.mark.parametrize("inputs, skipped", [
    ([InlineSource(outlet="Wire"), InlineSource(text=ARTICLE)], ("sources[0]", "needs 'text' or 'html'")),
    ([InlineSource(text=ARTICLE), InlineSource(text="Accept all cookies")], ("inline[1]", "no usable text after cleaning")),
    ([InlineSource(text=ARTICLE), "missing.md"], ("missing.md", "no such file or directory")),
])
def test_an_unusable_input_beside_a_usable_one_is_skipped_with_its_origin(tmp_path, inputs, skipped):
    inputs = [str(tmp_path / i) if isinstance(i, str) else i for i in inputs]
    corpus = load_corpus(inputs, settings(tmp_path))
    assert len(corpus.sources) == 1 and len(corpus.skipped) == 1
    origin, reason = skipped
    assert Path(corpus.skipped[0].origin).name == origin and corpus.skipped[0].reason.startswith(reason)


@pytest.mark.parametrize("inputs, reason", [
    ([], "(no sources were given)"),
    ([InlineSource(text="Accept all cookies"), InlineSource(html="<p>Share this article</p>")],
     "(inline[0]: no usable text after cleaning"),
    (["missing.md"], "missing.md: no such file or directory)"),
])
def test_nothing_usable_raises_one_line_naming_the_reasons(tmp_path, inputs, reason):
    with pytest.raises(NoUsableSources) as raised:
        load_corpus([str(tmp_path / i) if isinstance(i, str) else i for i in inputs], settings(tmp_path))
    line = raised.value.one_line()
    assert line.startswith("no usable sources (") and reason in line and "\n" not in line


def test_the_drafter_is_held_to_the_brief_budget_and_the_eval_judge_is_not(tmp_path):
    cfg = settings(tmp_path, drafter={"base_url": "http://127.0.0.1:1/v1"}, judge={"base_url": "http://127.0.0.1:2/v1"},
                   budget={"max_tokens_per_brief": 500})
    drafter, grader = build_drafter(cfg), build_eval_judge(cfg)
    try:
        assert drafter.role_name == "drafter" and drafter.budget.max_tokens_per_brief == 500
        assert grader.role_name == "judge" and grader.budget.max_tokens_per_brief is None
        assert grader.base_url == "http://127.0.0.1:2/v1" and grader.role.temperature == cfg.judge.temperature
    finally:
        drafter.close()
        grader.close()


def test_replay_never_starts_the_embedded_model_and_the_judge_layer_is_off_by_default(tmp_path):
    cfg = settings(tmp_path, cache={"mode": "replay"})  # both roles embedded (no base_url)
    client = build_client(cfg, "judge")
    try:
        assert client.base_url == REPLAY_ONLY_URL.rstrip("/") and client.server is None
        assert client.role.context_tokens <= cfg.local_model.context_tokens
    finally:
        client.close()
    assert build_claim_judge(cfg) is None
    judge = build_claim_judge(settings(tmp_path, check={"layers": "judge"}, judge={"base_url": "http://127.0.0.1:2/v1"}))
    assert judge is not None and judge.client.role_name == "judge"
    judge.client.close()
