"""Shared fixtures: the fake OpenAI-compatible server on loopback."""

import pytest

from tests.fake_openai import FakeOpenAI


@pytest.fixture
def fake_openai():
    with FakeOpenAI() as server:
        yield server
