"""The real embedded model: started on loopback, answering a structured question."""

import importlib.util
import time

import pytest
from pydantic import BaseModel

from agent.config import load_settings
from agent.llm import CallLog, LLMClient
from agent.local_model import EmbeddedModel, locate_gguf

pytestmark = [
    pytest.mark.embedded,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python not installed (run ./scripts/setup)"),
]


class Place(BaseModel):
    city: str


def test_gguf_ships_in_its_package():
    path = locate_gguf()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


def test_embedded_model_gives_a_validated_structured_answer():
    settings = load_settings(env={})
    with EmbeddedModel(settings.local_model) as model:
        llm = LLMClient(settings.drafter, base_url=model.base_url, api_key=None, call_log=CallLog(), embedded=True)
        messages = [{"role": "user", "content": (
            "Passage: The new tram depot opened in Velden on Monday. The mayor of Velden cut the ribbon.\n"
            'Which city is the passage about? Reply as {"city": "..."}')}]
        started = time.monotonic()
        answer = llm.complete_json("extract_city", messages, Place)
        elapsed = time.monotonic() - started
    assert "velden" in answer.city.lower()
    usage = llm.usage
    print(f"\nembedded model: startup {model.startup_s:.2f} s, {usage.prompt_tokens} prompt + "
          f"{usage.completion_tokens} completion tokens in {elapsed:.2f} s")
    assert model.process is None  # stopped on exit
