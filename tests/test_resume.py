"""Checkpointed runs: kill and resume without repeating a finished LLM call; budgets; the reply cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent.api import draft_brief, resume_brief
from agent.errors import CacheMiss
from tests.fakes import STORY, Stall, answered_keys, brief_fields, config_file, good_model, reviser, settings_for

ROOT = Path(__file__).resolve().parent.parent


def test_killed_after_the_first_llm_call_resumes_without_repeating_it(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    reference = draft_brief([STORY], config=settings_for(tmp_path / "ref", fake_openai.base_url))
    assert reference.status == "published"
    fake_openai.requests.clear()

    first_answered = threading.Event()
    count = {"n": 0}

    def one_then_stall(prompt, body):
        count["n"] += 1
        if count["n"] == 1:
            first_answered.set()
            return good_model(prompt, body)
        return Stall(30)

    fake_openai.set_responder(one_then_stall)
    cfg = config_file(tmp_path, fake_openai.base_url)
    child = subprocess.Popen([sys.executable, "-m", "agent.cli", "draft", str(STORY), "--config", str(cfg)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert first_answered.wait(60), "the child never made an LLM call"
        deadline = time.monotonic() + 10
        while count["n"] < 2 and time.monotonic() < deadline:  # the second call is in flight: kill now
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        child.kill()
    before = answered_keys(fake_openai)[:1]  # only the first request was answered
    runs = list((tmp_path / "data" / "runs").iterdir())
    assert len(runs) == 1 and not (runs[0] / "result.json").exists()

    fake_openai.set_responder(good_model)
    seen = len(fake_openai.requests)
    resumed = resume_brief(runs[0].name, config=cfg)
    after = answered_keys(fake_openai, seen)
    assert resumed.status == "published"
    assert not set(before) & set(after), "a finished LLM call was repeated on resume"
    assert len(after) == len(set(after))
    assert brief_fields(resumed) == brief_fields(reference)
    # the one-call draft finished its node before the kill: the checkpoint has it, no request and no cache hit
    assert "draft_brief" not in [json.loads(key)[0] for key in after]


@pytest.mark.parametrize("node", ["draft", "check", "revise", "finalize"])
def test_killed_when_a_node_starts_resumes_to_the_same_brief(tmp_path, fake_openai, node):
    fake_openai.set_responder(reviser)
    reference = draft_brief([STORY], config=settings_for(tmp_path / "ref", fake_openai.base_url))
    assert reference.status == "published" and fake_openai.attempts("revise_brief") >= 1  # revised
    fake_openai.requests.clear()

    cfg = config_file(tmp_path, fake_openai.base_url)
    done = subprocess.run([sys.executable, "-m", "tests.crash_run", node, "--", str(STORY), "--config", str(cfg)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 137, done.stderr[-500:]
    before = answered_keys(fake_openai)
    (run,) = list((tmp_path / "data" / "runs").iterdir())

    seen = len(fake_openai.requests)
    resumed = resume_brief(run.name, config=cfg)
    after = answered_keys(fake_openai, seen)
    assert resumed.status == "published"
    assert not set(before) & set(after), f"resume after a kill at '{node}' repeated an LLM call"
    assert brief_fields(resumed) == brief_fields(reference)
    if node == "finalize":
        assert after == []  # everything the model had to do was finished before the kill


def test_budget_cap_stops_the_run_and_resume_finishes_it(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    cfg = config_file(tmp_path, fake_openai.base_url, "[budget]\nmax_tokens_per_brief = 200\n")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "agent.cli", "draft", str(STORY), "--config", str(cfg), "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 7, done.stderr
    assert "budget" in done.stderr and "Traceback" not in done.stderr
    document = json.loads((out / "INCOMPLETE-brief.json").read_text())
    assert document["status"] == "budget_exceeded" and "token budget" in document["error"]
    assert not (out / "brief.md").exists()
    used = document["usage"]["prompt_tokens"] + document["usage"]["completion_tokens"]
    assert 200 <= used < 400  # stopped at the first call over the cap, not at the end
    made = answered_keys(fake_openai)

    run_id = document["run_id"]
    resumed = subprocess.run([sys.executable, "-m", "agent.cli", "resume", run_id, "--config", str(cfg),
                              "--max-tokens-per-brief", "100000"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert not set(made) & set(answered_keys(fake_openai, len(made)))


def test_cost_cap_uses_the_price_table(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    settings = settings_for(tmp_path, fake_openai.base_url)
    settings = type(settings).model_validate({
        **settings.model_dump(), "budget": {"max_cost": 0.2},
        "prices": {"smollm2-135m": {"prompt_per_1m": 1000.0, "completion_per_1m": 1000.0}}})
    result = draft_brief([STORY], config=settings)
    assert result.status == "budget_exceeded" and "cost budget" in result.error
    assert 0.2 <= result.usage.cost < 0.4
    calls = [json.loads(line) for line in (result.run_dir / "llm_calls.jsonl").read_text().splitlines()]
    assert sum(c["cost"] for c in calls) == pytest.approx(result.usage.cost, abs=1e-6)


def test_reply_cache_makes_a_rerun_free_and_replay_never_starts_the_model(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    def with_cache(settings, mode):
        data = settings.model_dump()
        data["drafter"]["structured_output"] = "json_object"  # the embedded model's dialect, in both runs
        return type(settings).model_validate({**data, "cache": {"mode": mode, "dir": str(tmp_path / "c")}})

    first = draft_brief([STORY], config=with_cache(settings_for(tmp_path / "a", fake_openai.base_url, mode="section"), "use"))
    made = len(fake_openai.requests)
    assert made == first.usage.http_attempts > 0  # (a revision repeating a request exactly is served by the run's cache)

    replay = with_cache(settings_for(tmp_path / "b", "", mode="section"), "replay")  # "" = embedded: never started
    second = draft_brief([STORY], config=replay)
    assert len(fake_openai.requests) == made
    assert second.usage.cached_calls == second.usage.llm_calls == first.usage.llm_calls
    assert second.usage.http_attempts == 0
    assert brief_fields(second) == brief_fields(first)

    other = tmp_path / "other"
    other.mkdir()
    (other / "note.md").write_text("---\noutlet: Elsewhere\n---\n" + "A different story about a library that opened "
                                   "its new reading room on the river front this spring. " * 3)
    with pytest.raises(CacheMiss, match="not in the replay cache"):
        draft_brief([other], config=replay)


def test_run_record_has_versions_models_and_costs_but_no_secret(tmp_path, fake_openai):
    from agent.config import load_settings

    fake_openai.set_responder(good_model)
    settings = load_settings(overrides={"data_dir": str(tmp_path / "data"), "embeddings": {"backend": "hashing"},
                                        "drafter": {"base_url": fake_openai.base_url},
                                        "prices": {"smollm2-135m": {"prompt_per_1m": 2.0, "completion_per_1m": 8.0}}},
                             env={"OPENAI_API_KEY": "sk-test-SECRET-4242"})
    result = draft_brief([STORY], config=settings)
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["code_version"].startswith("0.1.0")
    assert manifest["models"]["drafter"] == {"model": "smollm2-135m", "endpoint": fake_openai.base_url}
    assert manifest["seed"] == settings.local_model.seed and len(manifest["corpus_hash"]) == 16
    for path in result.run_dir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl"):
            assert "SECRET-4242" not in path.read_text(errors="replace"), path
    assert fake_openai.requests[0][2]["authorization"] == "Bearer sk-test-SECRET-4242"
    expected = (result.usage.prompt_tokens * 2.0 + result.usage.completion_tokens * 8.0) / 1e6
    assert result.usage.cost == pytest.approx(expected, rel=1e-6) and result.usage.cost > 0
