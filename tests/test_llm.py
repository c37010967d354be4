"""The LLM client through the real openai client against the fake server on 127.0.0.1."""

import json

import pytest

from agent.errors import LLMOutputInvalid, LLMUnavailable
from agent.model.llm import extract_json
from tests.fakes import (MSGS, City, EmptyBody200, EmptyChoices, FakeClock, Html200, Reset, Stall, Status, Truncated,
                         client)


@pytest.mark.parametrize(
    "replies, attempts",
    [
        ([{"city": "Velden"}], 1),
        (['```json\n{"city": "Velden"}\n```'], 1),
        (['Sure: {"city": "Velden"} done'], 1),
        ([Status(500), Status(502), {"city": "Velden"}], 3),
        ([Reset(), {"city": "Velden"}], 2),
        ([Status(429, {"Retry-After": "0"}), {"city": "Velden"}], 2),
    ],
)
def test_json_reply_is_validated_and_transient_faults_retried(fake_openai, replies, attempts):
    fake_openai.enqueue("q", *replies)
    assert client(fake_openai).complete_json("q", MSGS, City) == City(city="Velden")
    assert fake_openai.attempts("q") == attempts


def test_retry_after_is_honoured(fake_openai):
    fake_openai.enqueue("q", Status(429, {"Retry-After": "1"}), {"city": "Velden"})
    clock = FakeClock()
    client(fake_openai, clock=clock).complete_json("q", MSGS, City)
    assert clock.sleeps == [1.0]
    assert fake_openai.attempts("q") == 2


def test_absurd_retry_after_fails_fast(fake_openai):
    fake_openai.enqueue("q", Status(429, {"Retry-After": "3600"}))
    clock = FakeClock()
    with pytest.raises(LLMUnavailable, match="3600"):
        client(fake_openai, clock=clock).complete_json("q", MSGS, City)
    assert clock.sleeps == [] and fake_openai.attempts("q") == 1


@pytest.mark.parametrize("fault, attempts", [(Status(503), 3), (Status(401), 1), (Status(403), 1)])
def test_persistent_failures_stop_at_the_cap(fake_openai, fault, attempts):
    fake_openai.set_responder(lambda name, body: fault)
    with pytest.raises(LLMUnavailable) as e:
        client(fake_openai).complete_json("q", MSGS, City)
    assert fake_openai.attempts("q") == attempts
    assert "\n" not in e.value.one_line() and "127.0.0.1" in e.value.one_line()
    if fault.code == 401:
        assert "OPENAI_API_KEY" in e.value.one_line()


def test_stall_times_out_within_budget(fake_openai):
    """The timeout is real (a reply after the stall would be a City-less sentence, not a timeout); the wait isn't."""
    fake_openai.set_responder(lambda name, body: Stall(3))
    clock = FakeClock()
    with pytest.raises(LLMUnavailable, match=r"timeout.* after 2 attempt"):
        client(fake_openai, clock=clock, max_attempts=2, timeout_s=0.5).complete_json("q", MSGS, City)
    assert len(clock.sleeps) == 1 and 0.25 <= clock.sleeps[0] <= 0.5  # one jittered backoff between the two
    assert fake_openai.attempts("q") == 2


def test_invalid_json_is_reasked_with_the_validation_error(fake_openai):
    fake_openai.enqueue("q", {"town": "Velden"}, {"city": "Velden"})
    assert client(fake_openai).complete_json("q", MSGS, City).city == "Velden"
    reask = fake_openai.requests[1][1]["messages"]
    assert reask[-2]["role"] == "assistant" and "city" in reask[-1]["content"]


@pytest.mark.parametrize("bad", ["not json at all", Truncated('{"city": "Vel'), EmptyChoices(), Html200(), EmptyBody200(), ""])
def test_unusable_replies_end_in_a_typed_failure(fake_openai, bad):
    fake_openai.set_responder(lambda name, body: bad)
    with pytest.raises(LLMOutputInvalid):
        client(fake_openai, max_reasks=1).complete_json("q", MSGS, City)
    assert fake_openai.attempts("q") == 2


def test_truncated_reply_is_not_accepted_even_if_parseable(fake_openai):
    fake_openai.enqueue("q", Truncated('{"city": "Velden"}'), {"city": "Lanmouth"})
    assert client(fake_openai).complete_json("q", MSGS, City).city == "Lanmouth"
    assert "cut off" in fake_openai.requests[1][1]["messages"][-1]["content"]


def test_structured_output_dialects(fake_openai):
    fake_openai.enqueue("q", {"city": "A"})
    client(fake_openai, structured_output="json_object").complete_json("q", MSGS, City)
    assert fake_openai.requests[-1][1]["response_format"]["type"] == "json_object"
    assert "schema" in fake_openai.requests[-1][1]["response_format"]
    fake_openai.enqueue("q", Status(500, body='{"error": {"message": "response_format json_schema unsupported"}}'), {"city": "B"})
    llm = client(fake_openai, structured_output="auto")
    assert llm.complete_json("q", MSGS, City).city == "B"
    types = [r[1]["response_format"]["type"] for r in fake_openai.requests[-2:]]
    assert types == ["json_schema", "json_object"] and llm.dialect == "json_object"


def test_call_log_records_usage_and_prompt_header(fake_openai, tmp_path):
    fake_openai.enqueue("headline", {"city": "Velden"})
    llm = client(fake_openai, tmp_path)
    llm.complete_json("headline", MSGS, City)
    (line,) = (tmp_path / "calls.jsonl").read_text().splitlines()
    entry = json.loads(line)
    assert entry["prompt_name"] == "headline" and entry["ok"] and entry["attempts"] == 1
    assert entry["prompt_tokens"] == 50 and llm.usage.llm_calls == 1
    assert fake_openai.requests[0][2].get("x-brief-prompt") == "headline"


def test_extract_json_accepts_raw_newlines():
    assert extract_json('{"a": "line\nbreak"}') == {"a": "line\nbreak"}
