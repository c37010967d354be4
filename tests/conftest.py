"""Shared fixtures: the fake OpenAI-compatible server on loopback."""

import pytest

from tests.fakes import FakeOpenAI


@pytest.fixture
def fake_openai():
    with FakeOpenAI() as server:
        yield server
    server.check()  # a responder with no reply for a prompt fails the test by name
