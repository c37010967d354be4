"""Jinja2 environment over prompts/: render(name, **vars) -> chat messages."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

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


@lru_cache(maxsize=64)
def role_blocks(env: Environment, filename: str) -> tuple[tuple[str, Template], ...]:
    """The template's role blocks, split on [[system]] / [[user]] lines before any variable is filled
    in, so text inside a variable (a source quoting "[[system]]") can never open a new role."""
    source, _, _ = env.loader.get_source(env, filename)
    parts = _ROLE_SPLIT.split(source)
    if len(parts) == 1:
        return (("user", env.from_string(source)),)
    return tuple((role, env.from_string(content)) for role, content in zip(parts[1::2], parts[2::2]))


def render_messages(env: Environment, filename: str, **variables: object) -> list[dict[str, str]]:
    """Render a role-split template of `env` into chat messages (used for prompts/ and the eval judge)."""
    return [{"role": role, "content": block.render(**variables).strip()} for role, block in role_blocks(env, filename)]


class Messages(list):
    """Rendered chat messages that remember their template and variables (a scripted fake model reads them)."""

    def __init__(self, messages: list[dict[str, str]] = (), template: str = "", variables: dict | None = None):
        super().__init__(messages)
        self.template, self.variables = template, dict(variables or {})


def render(name: str, **variables: object) -> Messages:
    """Render prompts/<name>.j2 into messages; [[system]] / [[user]] lines split the roles."""
    return Messages(render_messages(environment(), f"{name}.j2", **variables), name, variables)


def template_hashes() -> dict[str, str]:
    """SHA-256 of every prompt template, for the run manifest."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        for p in sorted(PROMPTS_DIR.glob("*.j2"))
    }
