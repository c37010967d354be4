#!/usr/bin/env python3
"""Foundation figures on this machine: embedding throughput, index/query latency, embedded-model tokens/s."""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.config import load_settings  # noqa: E402
from agent.model.embeddings import HashingEmbedding, MiniLMEmbedding  # noqa: E402
import openai  # noqa: E402
from agent.model.local_model import EmbeddedModel  # noqa: E402
from agent.schema import Passage, Source, content_id  # noqa: E402
from agent.store import PassageStore  # noqa: E402

WORDS = ("harbour board approved ferry terminal council budget reservoir drought growers irrigation plant "
         "desalination cost billion crowns minister vote parliament law shipping cargo tram line museum").split()


def passages(n: int, words: int = 100) -> list[str]:
    return [" ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(words)) + f" story {i}." for i in range(n)]


def rate(ef, texts) -> float:
    ef(texts[:4])  # warm up (loads weights once per process)
    started = time.perf_counter()
    ef(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    texts = passages(200)
    print(f"embedding, 200 passages of ~100 words: MiniLM (numpy) {rate(MiniLMEmbedding(), texts):.1f} passages/s; "
          f"hashing {rate(HashingEmbedding(), texts):.0f} passages/s")
    with tempfile.TemporaryDirectory() as tmp:
        store = PassageStore(Path(tmp), MiniLMEmbedding())
        sources = [Source(id=content_id(t), outlet="bench", text=t) for t in texts]
        ps = [Passage(id=f"S{i + 1}:1", source_id=s.id, text=s.text, start=0, end=len(s.text)) for i, s in enumerate(sources)]
        started = time.perf_counter()
        store.index(sources, ps)
        first = time.perf_counter() - started
        started = time.perf_counter()
        store.index(sources, ps)
        again = time.perf_counter() - started
        lat = []
        for q in ("ferry terminal budget", "drought irrigation growers", "museum ship hall"):
            started = time.perf_counter()
            store.search(q, source_ids=[s.id for s in sources[:50]], k=8)
            lat.append(time.perf_counter() - started)
        print(f"index 200 passages: {first:.1f} s first time, {again * 1000:.0f} ms again (unchanged); "
              f"hybrid query over 50 sources: median {statistics.median(lat) * 1000:.0f} ms")
    settings = load_settings(env={})
    with EmbeddedModel(settings.local_model) as model:
        print(f"embedded model start: {model.startup_s:.2f} s")
        client = openai.OpenAI(base_url=model.base_url, api_key="not-needed", max_retries=0)

        def timed(content: str, max_tokens: int):
            started = time.perf_counter()
            r = client.chat.completions.create(model=model.model_name, max_tokens=max_tokens, temperature=0,
                                               messages=[{"role": "user", "content": content}])
            return r.usage, time.perf_counter() - started

        usage, took = timed("Summarise in one word: " + " ".join(texts[:4]), 1)
        print(f"embedded model: prompt {usage.prompt_tokens / took:.0f} tokens/s ({usage.prompt_tokens} tokens)", end="; ")
        usage, took = timed("Write a long story about a harbour.", 200)
        print(f"generation {usage.completion_tokens / took:.0f} tokens/s ({usage.completion_tokens} tokens, "
              f"includes a {usage.prompt_tokens}-token prompt)")

if __name__ == "__main__":
    main()
