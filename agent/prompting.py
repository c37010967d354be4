"""Jinja2 environment over prompts/: render(name, **vars) -> chat messages."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_ROLE_SPLIT = re.compile(r"^\[\[(system|user)\]\]\s*$", re.MULTILINE)


def datamark(text: str) -> str:
    """Neutralise anything in untrusted text that could close or fake our delimiters."""
    return re.sub(r"</?\s*(source|passage|system|user|assistant)\b", "[tag]", str(text), flags=re.I).replace(
        "<|", "< |"
    )


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(PROMPTS_DIR)),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["datamark"] = datamark
    return env


def render(name: str, **variables: object) -> list[dict[str, str]]:
    """Render prompts/<name>.j2 into messages; [[system]] / [[user]] lines split the roles."""
    text = environment().get_template(f"{name}.j2").render(**variables)
    parts = _ROLE_SPLIT.split(text)
    messages = []
    for role, content in zip(parts[1::2], parts[2::2]):
        messages.append({"role": role, "content": content.strip()})
    if not messages:
        messages = [{"role": "user", "content": text.strip()}]
    return messages


def template_hashes() -> dict[str, str]:
    """SHA-256 of every prompt template, for the run manifest."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        for p in sorted(PROMPTS_DIR.glob("*.j2"))
    }
