"""Disk cache of LLM replies keyed by the request, so reruns and resumed runs cost no calls.

One JSON file per request under <dir>/<key[:2]>/<key>.json (diffable, committable). The key
hashes what decides the reply — model, messages, response format, temperature, max_tokens —
and not the endpoint URL, so the embedded model's random port does not matter.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from agent.errors import CacheMiss
from agent.runs import write_atomic


def request_key(model: str, messages: list[dict], response_format: dict | None, temperature: float,
                max_tokens: int) -> str:
    payload = {"model": model, "messages": messages, "response_format": response_format,
               "temperature": temperature, "max_tokens": max_tokens}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class CachedReply:
    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


class ReplyCache:
    """One cache directory; mode 'use' reads and writes, 'replay' only reads (a miss is an error)."""

    def __init__(self, directory: Path, mode: str = "use"):
        self.dir, self.mode = Path(directory), mode

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedReply | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            return CachedReply(data["content"], data.get("finish_reason", "stop"),
                               data.get("prompt_tokens", 0), data.get("completion_tokens", 0))
        except (OSError, ValueError, KeyError):
            return None

    def put(self, key: str, reply: CachedReply, prompt_name: str) -> None:
        if self.mode == "replay":
            return
        write_atomic(self._path(key), json.dumps({"prompt_name": prompt_name, **reply.__dict__}, ensure_ascii=False, indent=1))


class LayeredCache:
    """Look up in order (e.g. the run's own cache, then the user's); store in every writable layer."""

    def __init__(self, layers: Iterable[ReplyCache]):
        self.layers = [layer for layer in layers if layer is not None]

    @property
    def replay_only(self) -> bool:
        return any(layer.mode == "replay" for layer in self.layers)

    def get(self, key: str, prompt_name: str) -> CachedReply | None:
        for layer in self.layers:
            if (hit := layer.get(key)) is not None:
                for earlier in self.layers:  # copy into the run's cache so a resume finds it
                    if earlier is layer:
                        break
                    earlier.put(key, hit, prompt_name)
                return hit
        if self.replay_only:
            raise CacheMiss(f"{prompt_name}: not in the replay cache "
                            f"({', '.join(str(l.dir) for l in self.layers if l.mode == 'replay')}; key {key[:12]})")
        return None

    def put(self, key: str, reply: CachedReply, prompt_name: str) -> None:
        for layer in self.layers:
            layer.put(key, reply, prompt_name)


def build_cache(settings: Any, run_dir: Path | None) -> LayeredCache:
    """The run folder's own cache (for resume) plus the configured user cache, if any."""
    layers: list[ReplyCache] = []
    if run_dir is not None:
        layers.append(ReplyCache(run_dir / "llm-cache", "use"))
    if settings.cache.mode != "off":
        layers.append(ReplyCache(settings.cache.dir or settings.data_dir / "llm-cache", settings.cache.mode))
    return LayeredCache(layers)
