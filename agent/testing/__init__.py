"""Fakes for tests and benchmarks (like inspect_ai's mockllm): a fake OpenAI-compatible server on loopback,
scripted models keyed by prompt name and template variables, and settings for runs against them."""

from agent.testing.clock import FakeClock
from agent.testing.fake_server import (EmptyBody200, EmptyChoices, FakeOpenAI, Html200, Reset, Stall, Status,
                                       Truncated)
from agent.testing.harness import settings_for
from agent.testing.question import MSGS, City
from agent.testing.scripted import (HEADLINE, PASSAGE_RE, STORY, TREND, NoScript, PromptCall, ScriptedModel, answer_sentence,
                                    first_sentence, good_model, good_reply, leaky_model, never_valid)

__all__ = ["City", "EmptyBody200", "EmptyChoices", "FakeClock", "FakeOpenAI", "HEADLINE", "Html200", "MSGS", "NoScript",
           "PASSAGE_RE", "PromptCall", "Reset", "STORY", "ScriptedModel", "Stall", "Status", "TREND", "Truncated",
           "answer_sentence", "first_sentence", "good_model", "good_reply", "leaky_model", "never_valid", "settings_for"]
