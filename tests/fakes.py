"""The fakes tests share, in one module: the fake server, scripted and leaky models, settings, stories, attacks.

What benchmarks need too lives in agent.testing and is re-exported here; this module adds what only tests use.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from agent.config import ModelRole
from agent.model.embeddings import HashingEmbedding
from agent.model.llm import CallLog, LLMClient
from agent.schema import Passage, Source, content_id
from agent.testing import (HEADLINE, MSGS, PASSAGE_RE, STORY, TREND, City, EmptyBody200, EmptyChoices, FakeClock, FakeOpenAI,
                           Html200, NoScript, PromptCall, Reset, ScriptedModel, Stall, Status, Truncated, answer_sentence,
                           first_sentence, good_model, good_reply, leaky_model, never_valid, settings_for)
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


# --- the LLM client against the fake server (tests/test_llm.py, tests/test_endpoint_faults.py) ------------


def client(fake, tmp_path=None, clock=None, **role):
    """An LLMClient at `fake` (3 attempts, 2 re-asks, 1.5 s timeout), its calls logged under tmp_path if given;
    `role` overrides ModelRole fields."""
    settings = dict(max_attempts=3, max_reasks=2, timeout_s=1.5, max_retry_after_s=5, structured_output="json_object")
    settings.update(role)
    log = CallLog(tmp_path / "calls.jsonl" if tmp_path else None)
    return LLMClient(ModelRole(**settings), base_url=fake.base_url, api_key=None, call_log=log,
                     clock=clock or FakeClock())  # backoffs recorded, not slept


# --- runs that are killed and resumed (tests/test_resume.py, tests/test_scaleout.py) -------------------


def config_file(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    """A TOML config with the drafter at `base_url` and data under tmp_path, for CLI subprocesses; `extra` appended."""
    path = tmp_path / "cfg.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n[embeddings]\nbackend = "hashing"\n'
                    f'[drafter]\nbase_url = "{base_url}"\nmax_attempts = 2\ntimeout_s = 20\n'
                    f'[ingest]\npassage_chars = 200\n{extra}')
    return path


def answered_keys(fake, since: int = 0) -> list[str]:
    """The (prompt, messages) keys of the requests `fake` answered since request number `since`."""
    return [json.dumps([name, body["messages"]], sort_keys=True) for name, body, _ in fake.requests[since:]]


def brief_fields(result) -> dict:
    """The brief as JSON without its trend (which depends on the registry, not the run)."""
    return result.brief.model_dump(mode="json", exclude={"trend"})


def reviser(prompt, body):
    """Like good_model, but the first drafted body sentence carries an unsupported figure, so revise runs."""
    reply = good_model(prompt, body)
    if prompt == "draft_brief":
        reply["sections"]["body"][0]["text"] += " It will cost 999 million euros."
    return reply


# --- four stories and their paraphrased queries for a real chromadb (test_store*, test_embedding_options) ---

DOCS = {
    "ferry": "The harbour board approved a new ferry terminal that will open in 2028.",
    "drought": "Reservoir levels fell to their lowest point in twelve years after a dry winter.",
    "museum": "The maritime museum reopened with a restored merchant ship in a glass hall.",
    "budget": "Councillors warned that the tram budget could rise by a fifth.",
}
QUERIES = {  # paraphrases with little word overlap
    "ferry": "port authority green-lights boat station",
    "drought": "water storage at record low following little rain",
    "museum": "nautical exhibition opens its doors again",
    "budget": "politicians fear the light-rail project will get more expensive",
}


def corpus():
    """DOCS as one-passage sources."""
    sources, passages = [], []
    for n, (name, text) in enumerate(DOCS.items(), start=1):
        src = Source(id=content_id(text), outlet=name, text=text)
        sources.append(src)
        passages.append(Passage(id=f"S{n}:1", source_id=src.id, text=text, start=0, end=len(text)))
    return sources, passages


class CountingEmbedding(HashingEmbedding):
    """The hashing embedder, counting the texts it embeds in the class attribute `calls` (reset it first)."""

    calls = 0

    def __call__(self, input):
        CountingEmbedding.calls += len(input)
        return super().__call__(input)


# --- news prose the leakage checks must spare (tests/test_leakage.py, tests/test_learned_leakage.py) -------

# News prose with words an assistant might use: never leakage.
CLEAN = [
    "'Certainly not,' the spokesman said when asked about a merger.",
    "\"Let me know when you land,\" she told him before the flight.",
    "The minister said she hoped the plan would help families in the north.",
    "The council will let residents know its decision in May.",
    "Officials can help farmers who apply before the deadline, the ministry said.",
    "Here, on the quay, fishermen unload their catch at dawn.",
    "The company apologised to customers after the outage on Monday.",
    "Analysts said the model of public funding was unlikely to change.",
    "The AI industry lobbied against the law, which passed 61 to 40.",
    "If approved, the plan would let the city borrow 300 million crowns.",
    "Sure enough, prices rose again in March.",
    "The report, which runs to 212 pages, was published on Friday.",
    "The union's leader said: \"I can help you, but only if you vote.\"",
    "The todo list of the committee was long.",
    "Growers want the promise written into law.",
    "Feel the difference, the advert said, and shoppers did.",
    "He asked whether the board would like to see the figures first.",
    "The museum hopes to attract 150,000 visitors a year.",
    "It is the third plant in the region, after Bray and Lisk.",
    "The brief was delivered to the court on Tuesday.",
    "Thanks to the new pumps, the reservoir filled faster.",
    "Hello Kitty's maker reported higher profits.",
    "Version 2.0 of the app launched in May.",
    "Option prices rose sharply on Friday.",
    "At about 900 words, the statement was the longest yet.",
    "The text of the treaty was drafted by lawyers from both countries.",
    "Good catch for the fleet: landings rose 12% this year.",
    "Voters were asked whether they would like the council to borrow more.",
    "Users complained that the chatbot kept saying 'I hope this helps'.",
    "If you wanted to buy a house in 2020, prices were lower.",
]
# Quoted and reported speech that looks like an assistant talking: news, never leakage.
REPORTED_SPEECH = [
    "The minister said she was happy to help the families affected by the floods.",
    "The mayor told reporters he would be glad to assist the inquiry.",
    "Residents said they hope this helps the town recover.",
    "Thank you, the mayor told the crowd, before leaving the stage.",
    "He wrote that he was sorry but could not help with the request.",
    "The union said it would let members know the result by Friday.",
    "A spokeswoman said the agency did not have access to real-time data.",
    "Great question, the chief executive said, before declining to answer.",
    "The commissioner told parliament that she had rewritten the rules.",
    "According to the airline, passengers should feel free to ask for refunds.",
    "“As requested, we have published the full report,” the council said.",
    "\"Let me know if you need anything,\" she told the volunteers.",
]


__all__ = ["ARTICLE", "ATTACKS", "Attack", "BENIGN", "BRIEF", "CANARY", "CLEAN", "CONFIG", "City",
           "CountingEmbedding", "DOCS", "ESCAPES", "EVIL", "EmptyBody200", "EmptyChoices", "FakeClock", "FakeOpenAI",
           "HEADLINE", "Html200", "LEAKY", "LEAKY_SENTENCE", "LISK_ARTICLE", "MSGS", "NoScript", "ORDER", "PASSAGES",
           "PASSAGE_RE", "POISONED_META", "PromptCall", "QUERIES", "REPORTED_SPEECH", "ROOT", "Reset", "SOURCE_URL",
           "STORIES", "STORY", "STUFFING", "ScriptedModel", "Stall", "Status", "TAGS", "TREND", "Truncated",
           "answer_sentence", "answered_keys", "assert_one_line_error", "brief_fields", "call", "cli", "client",
           "compliant_model", "config_file", "corpus", "failing_replace", "first_sentence", "free_port", "good_model",
           "good_reply", "leaked", "leaky_model", "model_with_nuance", "never_valid", "poisoned_sources", "poll_job",
           "reviser", "run", "run_case", "running", "sample_result", "service_settings", "settings", "settings_for",
           "sources_for", "write_corpus", "write_old_output"]
