"""The one question the LLM-client cases and the robustness soak ask the fake server, and its answer's shape."""

from __future__ import annotations

from pydantic import BaseModel

MSGS = [{"role": "user", "content": "Which city?"}]


class City(BaseModel):
    city: str
