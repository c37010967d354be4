"""The CLI as editors run it: real subprocess, fake endpoint on loopback, documented exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.fakes import LEAKY_SENTENCE, STORY, Status, assert_one_line_error, good_model, leaky_model, run

ROOT = Path(__file__).resolve().parent.parent


def test_draft_writes_three_files_and_json_validates_against_the_exported_schema(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    out = tmp_path / "out"
    proc = run(["draft", str(STORY), "-o", str(out)], tmp_path, fake_openai.base_url)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["brief.html", "brief.json", "brief.md"]
    schema = json.loads((ROOT / "schemas" / "brief.schema.json").read_text())
    document = json.loads((out / "brief.json").read_text())
    jsonschema.validate(document, schema)
    assert document["status"] == "published" and proc.stdout == ""
    assert "REJECTED" not in (out / "brief.html").read_text()


def test_draft_to_stdout_prints_only_the_brief(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    proc = run(["draft", str(STORY), "--format", "json"], tmp_path, fake_openai.base_url)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["brief"]["disclaimer"]


def test_rejected_draft_exits_6_and_is_written_as_rejected(tmp_path, fake_openai):
    fake_openai.set_responder(leaky_model({"sentence": LEAKY_SENTENCE}))
    cfg = tmp_path / "reject.toml"
    cfg.write_text('[embeddings]\nbackend = "hashing"\n[draft]\nfallback = "reject"\nmax_revisions = 1\nmode = "sentence"\n'
                   '[ingest]\npassage_chars = 200\n')
    out = tmp_path / "out"
    proc = run(["draft", str(STORY), "-o", str(out)], tmp_path, fake_openai.base_url, config=cfg)
    assert proc.returncode == 6
    assert sorted(p.name for p in out.iterdir()) == ["REJECTED-brief.html", "REJECTED-brief.json", "REJECTED-brief.md"]
    assert "NOT FOR PUBLICATION" in (out / "REJECTED-brief.html").read_text()
    assert "chatbot-leakage" in proc.stderr


def test_endpoint_failure_exits_4_with_one_line_and_no_brief(tmp_path, fake_openai):
    fake_openai.set_responder(lambda prompt, body: Status(503))
    out = tmp_path / "out"
    proc = run(["draft", str(STORY), "-o", str(out)], tmp_path, fake_openai.base_url)
    assert proc.returncode == 4
    assert_one_line_error(proc)
    assert not out.exists()


def test_unreachable_endpoint_exits_4(tmp_path):
    proc = run(["draft", str(STORY)], tmp_path, "http://127.0.0.1:9/v1")
    assert proc.returncode == 4
    assert_one_line_error(proc)


def test_no_usable_sources_exits_3_without_calling_the_model(tmp_path, fake_openai):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "banner.md").write_text("Accept all cookies\nShare this article\n")
    proc = run(["draft", str(tmp_path / "src")], tmp_path, fake_openai.base_url)
    assert proc.returncode == 3 and fake_openai.requests == []
    assert "no usable sources" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("text, key", [("[drafter]\ntemprature = 1\n", "drafter.temprature"),
                                       ("[draft]\nmax_revisions = -1\n", "draft.max_revisions")])
def test_bad_config_exits_2_naming_the_key_with_no_network_call(tmp_path, fake_openai, text, key):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    proc = run(["draft", str(STORY)], tmp_path, fake_openai.base_url, config=cfg)
    assert proc.returncode == 2 and key in proc.stderr and str(cfg) in proc.stderr
    assert_one_line_error(proc)
    assert fake_openai.requests == []


def test_index_reports_sources_passages_and_removals(tmp_path):
    proc = run(["index", str(STORY)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "indexed 3 sources" in proc.stdout
    assert "removed (chatbot-leakage" in proc.stdout and "removed (duplicate-table-row" in proc.stdout


def test_ask_prints_an_answer_and_the_passages_used(tmp_path, fake_openai):
    fake_openai.set_responder(lambda prompt, body: {"answer": "The Velden city council."})
    proc = run(["ask", "Who approved the extension?", "--sources", str(STORY)], tmp_path, fake_openai.base_url)
    assert proc.returncode == 0, proc.stderr
    assert "Velden" in proc.stdout and "passages: S" in proc.stdout


def test_json_step_round_trips_inline_and_path_sources(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    request = {"sources": [str(STORY / "wire.md"),
                           {"text": (STORY / "daily.md").read_text().split("---", 2)[2], "outlet": "Velden Daily",
                            "title": "Tram extension wins council backing", "published": "2026-05-13"}]}
    proc = run(["draft", "--json", "-"], tmp_path, fake_openai.base_url, stdin=json.dumps(request))
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)  # stdout holds exactly one JSON object
    jsonschema.validate(document, json.loads((ROOT / "schemas" / "brief.schema.json").read_text()))
    assert document["status"] == "published"
    assert {s["outlet"] for s in document["brief"]["sources"]} <= {"Northfield Wire", "Velden Daily"}


@pytest.mark.parametrize("stdin, code, exit_code", [
    ("{not json", "usage", 2),
    ('{"sources": []}', "usage", 2),
    ('{"sources": [{"text": "Accept all cookies"}]}', "no-usable-sources", 3),
])
def test_json_step_errors_are_json(tmp_path, fake_openai, stdin, code, exit_code):
    proc = run(["draft", "--json", "-"], tmp_path, fake_openai.base_url, stdin=stdin)
    assert proc.returncode == exit_code
    error = json.loads(proc.stdout)
    assert error["status"] == "failed" and error["error"]["code"] == code and error["error"]["message"]
    assert fake_openai.requests == []


@pytest.mark.parametrize("args, text", [(["draft", "--help"], "Stop at this cost from [prices] (exit 7)"),
                                        (["trends", "seed", "--help"], "TOML file of [[trend]] name/description"),
                                        (["feeds", "--help"], "the [feeds] table")])
def test_help_texts_keep_their_brackets(tmp_path, args, text):
    proc = subprocess.run([sys.executable, "-m", "agent.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and text in " ".join(proc.stdout.split())


def test_error_lines_keep_their_brackets(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[fetch]\nallow_networks = ['not-a-net']\n")
    proc = run(["draft", str(STORY)], tmp_path, config=cfg)
    assert proc.returncode == 2 and "fetch.allow_networks" in proc.stderr and "'not-a-net'" in proc.stderr


def test_trends_show_takes_any_case_or_a_unique_prefix(tmp_path):
    seed = tmp_path / "seed.toml"
    seed.write_text("".join(f'[[trend]]\nname = "{n}"\ndescription = "About {n.lower()}."\n\n' for n in
                            ("Tram Lines Extend Outward", "Tram Fares Rise Again", "Harbour Towns Build Ferries")))
    assert run(["trends", "seed", str(seed)], tmp_path).returncode == 0
    exact = run(["trends", "show", "tram lines extend outward"], tmp_path)
    assert exact.returncode == 0 and exact.stdout.startswith("Tram Lines Extend Outward\n")
    prefix = run(["trends", "show", "harbour"], tmp_path)
    assert prefix.returncode == 0 and prefix.stdout.startswith("Harbour Towns Build Ferries\n")
    ambiguous = run(["trends", "show", "Tram"], tmp_path)
    assert ambiguous.returncode == 2 and "'Tram' matches 2 trends" in ambiguous.stderr
    assert "'Tram Fares Rise Again'" in ambiguous.stderr
    missing = run(["trends", "show", "ports"], tmp_path)
    assert missing.returncode == 2 and "no trend named 'ports'" in missing.stderr


def test_schema_prints_to_stdout_and_writes_only_when_given_a_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "BRIEF"))}
    env["PYTHONPATH"] = str(ROOT)
    printed = subprocess.run([sys.executable, "-m", "agent.cli", "schema"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert printed.returncode == 0 and json.loads(printed.stdout)["title"] == "BriefDocument"
    assert list(tmp_path.iterdir()) == []  # no schemas/ folder in the working directory
    written = subprocess.run([sys.executable, "-m", "agent.cli", "schema", "out/s.json"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert written.returncode == 0 and (tmp_path / "out" / "s.json").read_text() == printed.stdout


def test_no_usable_sources_says_why(tmp_path, fake_openai):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".hidden.md").write_text("x")
    proc = run(["draft", str(tmp_path / "empty")], tmp_path, fake_openai.base_url)
    assert proc.returncode == 3 and "empty folder" in proc.stderr and "no input given" not in proc.stderr
    short = run(["draft", "--json", "-"], tmp_path, fake_openai.base_url, stdin='{"sources": [{"text": "Too short."}]}')
    error = json.loads(short.stdout)["error"]
    assert short.returncode == 3 and "inline[0]: no usable text after cleaning (10 characters left" in error["message"]
    assert "min_source_chars = 80" in error["message"] and fake_openai.requests == []
