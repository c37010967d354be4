"""The fakes tests share, in one module: the fake server, scripted and leaky models, settings, stories, attacks.

What benchmarks need too lives in agent.testing and is re-exported here; this module adds what only tests use.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from agent.testing import (HEADLINE, PASSAGE_RE, STORY, TREND, EmptyBody200, EmptyChoices, FakeClock, FakeOpenAI, Html200, NoScript,
                           PromptCall, Reset, ScriptedModel, Stall, Status, Truncated, answer_sentence, first_sentence,
                           good_model, good_reply, leaky_model, never_valid, settings_for)
from agent.testing.attacks import (ARTICLE, ATTACKS, BENIGN, CANARY, ESCAPES, EVIL, LISK_ARTICLE, ORDER, POISONED_META,
                                   SOURCE_URL, STUFFING, TAGS, Attack, compliant_model, leaked, poisoned_sources,
                                   run_case, sources_for)
from agent.testing.cli_runner import cli
from agent.testing.harness import CONFIG, failing_replace, settings, write_old_output
from agent.testing.samples import BRIEF, PASSAGES, sample_result
from agent.testing.service import call, free_port, poll_job, running, service_settings

# Chatbot talk a drafter must never publish.
LEAKY = "I hope this helps! Let me know if you would like more detail on the tram."
LEAKY_SENTENCE = "I hope this helps! Let me know if you want more."
ROOT = Path(__file__).resolve().parent.parent


# --- the CLI in a subprocess -------------------------------------------------------------------


def run(args, tmp_path, base_url="http://127.0.0.1:9/v1", stdin=None, config=None):
    """The CLI as editors run it: a real subprocess against `base_url`, two attempts, small passages."""
    cfg = config or tmp_path / "test.toml"
    if config is None:
        cfg.write_text('[embeddings]\nbackend = "hashing"\n[drafter]\nmax_attempts = 2\ntimeout_s = 5\n'
                       '[ingest]\npassage_chars = 200\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "BRIEF"))}
    env.update(OPENAI_BASE_URL=base_url, BRIEF_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "agent.cli", *args, "--config", str(cfg)], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=240)


def assert_one_line_error(proc):
    """Bad input ends in one `error:` line on stderr, never a traceback."""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("error:")


# --- the Orsk dredging story: three outlets agree on a figure, a rival disputes it ----------------

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


def write_corpus(folder):
    """The wire, daily and rival stories as Markdown sources in `folder`."""
    folder.mkdir()
    for name in ("wire", "daily", "rival"):
        (folder / f"{name}.md").write_text(f"---\noutlet: Outlet {name}\ntitle: Orsk dredging plan\n---\n{STORIES[name]}\n")
    return folder


ORSK_FACT = re.compile(r"disagree on a figure: (.+?) gives (.+?), (Outlet \w+) (.+?)\.\n")
ORSK_HEADLINE = {"headline": "Orsk port authority approves dredging plan",
                 "dek": "The Orsk port authority approved the dredging plan on Monday."}


def model_with_nuance(reply):
    """good_model, wording each computed dispute with `reply` (format fields: first, second, a, b)."""
    def word(fact):
        first, first_value, second, second_value = fact.groups()
        return reply.format(first=first, second=second, a=first_value, b=second_value)

    def respond(prompt, body):
        if prompt == "nuance":
            return {"sentence": word(ORSK_FACT.search(body["messages"][-1]["content"]))}
        if prompt == "headline":
            return dict(ORSK_HEADLINE)
        if prompt == "draft_brief":  # the one-call draft words the disputes too
            out = good_model(prompt, body)
            facts = ORSK_FACT.finditer(body["messages"][-1]["content"])
            return {**out, **ORSK_HEADLINE, "disputes": [word(f) for f in facts]}
        return good_model(prompt, body)
    return respond


__all__ = ["ARTICLE", "ATTACKS", "Attack", "BENIGN", "BRIEF", "CANARY", "CONFIG", "ESCAPES", "EVIL", "EmptyBody200",
           "EmptyChoices", "FakeClock", "FakeOpenAI", "HEADLINE", "Html200", "LEAKY", "LEAKY_SENTENCE", "LISK_ARTICLE",
           "NoScript", "ORDER", "PASSAGES", "PASSAGE_RE", "POISONED_META", "PromptCall", "ROOT", "Reset", "SOURCE_URL",
           "STORIES", "STORY", "STUFFING", "ScriptedModel", "Stall", "Status", "TAGS", "TREND", "Truncated",
           "answer_sentence", "assert_one_line_error", "call", "cli", "compliant_model", "failing_replace",
           "first_sentence", "free_port", "good_model", "good_reply", "leaked", "leaky_model", "model_with_nuance",
           "never_valid", "poisoned_sources", "poll_job", "run", "run_case", "running", "sample_result",
           "service_settings", "settings", "settings_for", "sources_for", "write_corpus", "write_old_output"]
