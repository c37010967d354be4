"""Progress an editor can read: the observer the API calls, the stderr display, and the CLI's switches."""

from __future__ import annotations

import io
import json

from rich.console import Console

from agent.api import draft_brief
from agent.config import Budget
from agent.progress import ConsoleProgress, StageRecord, budget_left
from tests.fakes import STORY, good_model, run, settings_for

GRAPH_STAGES = {"retrieve", "draft", "check", "finalize"}


def test_the_api_reports_every_stage_llm_calls_and_embedding(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    record = StageRecord()
    result = draft_brief([STORY], config=settings_for(tmp_path, fake_openai.base_url), progress=record)
    seen = record.snapshot()
    assert seen["stages"][:3] == ["ingest", "index", "retrieve"] and seen["stages"][-1] == "finalize"
    assert GRAPH_STAGES <= set(seen["stages"])
    assert seen["llm_calls"] == result.usage.llm_calls > 0
    assert seen["tokens"] == result.usage.prompt_tokens + result.usage.completion_tokens
    assert seen["passages_embedded"] == seen["passages_to_embed"] > 0  # a fresh store embeds every passage
    assert "3 usable source(s)" in seen["notes"]


def test_console_progress_prints_a_line_per_finished_stage_with_its_figures():
    out = io.StringIO()
    progress = ConsoleProgress(Console(file=out, width=120), Budget(max_tokens_per_brief=1000), live=False)
    with progress:
        progress.stage("index")
        progress.embedded(0, 40)
        progress.embedded(40, 40)
        progress.stage("draft")
        progress.llm_call(1, 120, 0.0)
        progress.llm_call(2, 300, 0.0)
        assert progress.status_line().startswith("draft · 2 LLM calls · run: 2 LLM calls, 300 tokens, 700 tokens left · ")
        progress.note("a.md: too large")
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:2] == ["index", "40/40"] and "passages embedded (" in lines[0] and "/s)" in lines[0]
    assert lines[1].strip() == "· a.md: too large"
    assert lines[2].split()[:4] == ["draft", "2", "LLM", "calls"]
    assert lines[3].startswith("  total     2 LLM calls, 300 tokens, 700 tokens left;")


def test_budget_left_in_words():
    assert budget_left(Budget(), 10, 0.1) == "no budget cap"
    assert budget_left(Budget(max_tokens_per_brief=100, max_cost=0.5), 30, 0.2) == "70 tokens left and 0.3000 cost left"
    assert budget_left(Budget(max_tokens_per_brief=100), 300, 0) == "0 tokens left"


def test_cli_progress_lines_quiet_and_the_json_step(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    shown = run(["draft", str(STORY), "--progress", "--max-tokens-per-brief", "100000"], tmp_path, fake_openai.base_url)
    assert shown.returncode == 0, shown.stderr
    stages = [line.split()[0] for line in shown.stderr.splitlines() if line.startswith("  ") and line.split()
              and line.split()[0] != "·"]
    assert stages[:3] == ["ingest", "index", "retrieve"] and GRAPH_STAGES <= set(stages)
    assert "passages embedded" in shown.stderr and "tokens left" in shown.stderr and "LLM calls" in shown.stderr
    assert shown.stdout.startswith("# ")  # the brief alone on stdout
    quiet = run(["draft", str(STORY), "--quiet"], tmp_path, fake_openai.base_url)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout.startswith("# ")
    request = json.dumps({"sources": [str(STORY)]})
    silent = run(["draft", "--json", "-"], tmp_path, fake_openai.base_url, stdin=request)
    assert silent.returncode == 0 and silent.stderr == ""
    step = run(["draft", "--json", "-", "--progress"], tmp_path, fake_openai.base_url, stdin=request)
    assert step.returncode == 0 and json.loads(step.stdout)["status"] == "published"
    assert "retrieve" in step.stderr and "total" in step.stderr


def test_brief_index_shows_the_embedding_rate(tmp_path):
    proc = run(["index", str(STORY), "--progress"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stderr.splitlines() if ln.strip().startswith("index"))
    assert "passages embedded (" in line and "/s)" in line
    again = run(["index", str(STORY), "--progress"], tmp_path)
    assert "all passages already in the store" in again.stderr


def test_a_source_cut_at_the_size_limit_is_a_warning_even_without_progress(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    cfg = tmp_path / "small.toml"
    cfg.write_text('[embeddings]\nbackend = "hashing"\n[ingest]\npassage_chars = 200\nmax_file_bytes = 1000\n')
    big = tmp_path / "big.md"
    big.write_text((STORY / "wire.md").read_text() + "\n\nThe council met again to talk about the tram line. " * 60)
    proc = run(["draft", str(big), str(STORY / "daily.md")], tmp_path, fake_openai.base_url, config=cfg)
    assert f"warning: {big}: too large, kept the first 1000 bytes" in proc.stderr
    quiet = run(["draft", str(big), str(STORY / "daily.md"), "--quiet"], tmp_path, fake_openai.base_url, config=cfg)
    assert quiet.stderr.startswith(f"warning: {big}: too large")  # --quiet drops progress, not warnings
