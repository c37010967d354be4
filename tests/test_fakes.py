"""The fakes themselves: the scripted model answers by prompt name and template variables, and fails by name."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from agent.config import ModelRole
from agent.errors import LLMOutputInvalid, LLMUnavailable
from agent.model.llm import LLMClient
from agent.prompting import render
from tests.fakes import NoScript, PromptCall, ScriptedModel, good_reply


class Sentence(BaseModel):
    sentence: str


def sentence_prompt(passage_id: str, text: str = "The council approved the Blue line extension on Monday."):
    return render("draft_sentence.drafter", passage_id=passage_id, passage_text=text, purpose="facts", feedback=[],
                  previous="")


def test_rendered_messages_carry_their_template_and_variables():
    messages = sentence_prompt("S1:2")
    assert messages.template == "draft_sentence.drafter" and messages.variables["passage_id"] == "S1:2"
    assert [m["role"] for m in messages] == ["system", "user"] and isinstance(messages, list)


@pytest.mark.parametrize("script, name, passage_id, expected", [
    ({"draft_sentence.body": {"sentence": "exact name"}}, "draft_sentence.body", "S1:0", "exact name"),
    ({"draft_sentence": {"sentence": "family"}}, "draft_sentence.nuance", "S1:0", "family"),
    ({"draft_sentence": {"sentence": "family"}, "draft_sentence.body": {"sentence": "exact"}},
     "draft_sentence.body", "S1:0", "exact"),
    ({"draft_sentence.body": '{"sentence": "a JSON string"}'}, "draft_sentence.body", "S1:0", "a JSON string"),
    ({"draft_sentence.body": lambda call: {"sentence": f"about {call.passages()[0][0]}"}},
     "draft_sentence.body", "S3:4", "about S3:4"),
])
def test_replies_are_found_by_name_then_family(script, name, passage_id, expected):
    model = ScriptedModel(script)
    assert model.complete_json(name, sentence_prompt(passage_id), Sentence).sentence == expected
    assert model.names == [name]


def test_rules_match_template_variables_and_are_used_in_turn():
    model = (ScriptedModel().on("draft_sentence", {"sentence": "first S1:1"}, {"sentence": "second S1:1"},
                                passage_id="S1:1")
             .on("draft_sentence", {"sentence": "any S2"}, repeat=True, passage_id=lambda pid: pid.startswith("S2:")))
    replies = [model.complete_json("draft_sentence.body", sentence_prompt(pid), Sentence).sentence
               for pid in ("S1:1", "S2:0", "S1:1", "S2:7")]
    assert replies == ["first S1:1", "any S2", "second S1:1", "any S2"]
    with pytest.raises(NoScript) as failed:
        model.complete_json("draft_sentence.body", sentence_prompt("S1:1"), Sentence)  # S1:1's replies are used up
    assert "passage_id='S1:1'" in str(failed.value) and "(used up)" in str(failed.value)


def test_an_unscripted_call_fails_naming_the_prompt_template_and_variables():
    model = ScriptedModel({"headline": {"headline": "h", "dek": "d"}})
    with pytest.raises(NoScript) as failed:
        model.complete_json("draft_sentence.what_to_watch", sentence_prompt("S2:3"), Sentence)
    message = str(failed.value)
    for seen in ("'draft_sentence.what_to_watch'", "template draft_sentence.drafter", "passage_id='S2:3'",
                 "purpose='facts'", "scripted: headline"):
        assert seen in message


@pytest.mark.parametrize("reply, error", [
    ({"wrong": "field"}, LLMOutputInvalid),
    ("not json", LLMOutputInvalid),
    (LLMUnavailable("down"), LLMUnavailable),
])
def test_an_invalid_reply_or_a_scripted_error_is_raised_as_the_client_would(reply, error):
    with pytest.raises(error):
        ScriptedModel({"draft_sentence": reply}).complete_json("draft_sentence.body", sentence_prompt("S1:0"), Sentence)


def test_good_reply_reads_the_same_passage_in_process_and_over_http():
    messages = sentence_prompt("S1:0", "The council will decide in May. Work is due to open in 2027 with a review.")
    in_process = PromptCall.from_messages("draft_sentence.what_to_watch", messages)
    over_http = PromptCall.from_request("draft_sentence.what_to_watch", {"messages": list(messages)})
    assert over_http.variables == {} and over_http.template == ""
    assert good_reply(in_process) == good_reply(over_http) == {"sentence": "The council will decide in May."}


def test_the_same_script_answers_over_http_and_an_unscripted_prompt_fails_the_test_by_name(fake_openai):
    model = ScriptedModel({"q": {"sentence": "Velden"}})
    fake_openai.set_responder(model.responder)
    client = LLMClient(ModelRole(max_attempts=1, max_reasks=0, structured_output="json_object"),
                       base_url=fake_openai.base_url, api_key=None)
    assert client.complete_json("q", [{"role": "user", "content": "Which city?"}], Sentence).sentence == "Velden"
    with pytest.raises(LLMUnavailable, match="HTTP 500"):
        client.complete_json("other", [{"role": "user", "content": "Which city?"}], Sentence)
    with pytest.raises(NoScript, match="'other'"):
        fake_openai.check()
    fake_openai.errors.clear()  # seen: don't fail the fixture's own check
