"""The composition root: the store, each role's LLM client, the claim judge and the trend registry, from one Settings.

Entry points (the API, `brief ask`, `brief check`, the service, the evals) build their parts here and nowhere else.
chromadb and openai are imported on first use, not with this module: `import agent` (and so `brief --help`)
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

from agent.checks.claims import LLMJudge
from agent.config import DEFAULT_CONFIG, Settings
from agent.model.llm_cache import LayeredCache, build_cache

if TYPE_CHECKING:
    from chromadb.api.types import EmbeddingFunction

    from agent.model.llm import CallLog, LLMClient
    from agent.result import Usage
    from agent.store import PassageStore
    from agent.analysis.trends import TrendRegistry

DEFAULT_SEED_TRENDS = DEFAULT_CONFIG.parent / "seed-trends.toml"
REPLAY_ONLY_URL = "http://127.0.0.1:9/v1"  # replay: every reply comes from the cache; the model is never started

Role = Literal["drafter", "judge"]


def build_embedder(settings: Settings) -> EmbeddingFunction:
    """The configured embedding function; chromadb is always given one (it would download its own)."""
    from agent.model.embeddings import build_embedding_function as from_config  # chromadb: on first use

    return from_config(settings.embeddings)


def build_store(settings: Settings) -> PassageStore:
    """The passage store: embedded chromadb in the data dir, or the configured Chroma server."""
    from agent.store import PassageStore  # chromadb: on first use

    cfg = settings.embeddings
    return PassageStore(settings.data_dir, build_embedder(settings), lexical_weight=cfg.lexical_weight,
                        server=settings.store, dense=cfg.dense, lazy_candidates=cfg.lazy_candidates)


def build_call_log(settings: Settings, path: Path | None = None,
                   on_record: Callable[[Usage], None] | None = None) -> CallLog:
    """The log every client of one run writes to (a JSON line per call when `path` is given), priced by [prices]."""
    from agent.model.llm import CallLog  # openai: on first use

    return CallLog(path, prices=settings.prices, on_record=on_record)


def build_client(settings: Settings, role_name: Role, call_log: CallLog | None = None,
                 cache: LayeredCache | None = None, *, capped: bool = True) -> LLMClient:
    """A model role's client: the configured endpoint, or the embedded model started on demand.

    `capped`: held to the per-brief [budget]; the eval judge, one client for a whole eval run, is not."""
    from agent.model.llm import LLMClient  # openai: on first use

    role = getattr(settings, role_name)
    base_url, server = role.base_url, None
    if role.embedded:  # the embedded server's own context is the limit
        role = role.model_copy(update={"context_tokens": min(role.context_tokens, settings.local_model.context_tokens)})
        if settings.cache.mode == "replay":
            base_url = REPLAY_ONLY_URL
        else:
            from agent.model.local_model import shared_embedded_model  # only when the embedded model is used

            server = shared_embedded_model(settings.local_model)
            base_url = server.base_url
    api_key = role.api_key.get_secret_value() if role.api_key else None
    return LLMClient(role, base_url=base_url, api_key=api_key, call_log=call_log or build_call_log(settings),
                     role_name=role_name, embedded=role.embedded, cache=cache,
                     budget=settings.budget if capped else None, server=server,
                     restarts=1 if settings.local_model.restart_after_crash else 0)


def build_drafter(settings: Settings, call_log: CallLog | None = None, cache: LayeredCache | None = None) -> LLMClient:
    """The drafter role's client (the model under test)."""
    return build_client(settings, "drafter", call_log, cache)


def build_claim_judge(settings: Settings, call_log: CallLog | None = None,
                      cache: LayeredCache | None = None) -> LLMJudge | None:
    """The claim judge, when the checker's judge layer is on (settings.check.layers = "judge"); else None."""
    if settings.check.layers != "judge":
        return None
    return LLMJudge(build_client(settings, "judge", call_log, cache))


def build_eval_judge(settings: Settings, call_log: CallLog | None = None) -> LLMClient:
    """The eval harness's rubric grader: the judge role (never the drafter), through the configured LLM cache."""
    return build_client(settings, "judge", call_log, build_cache(settings, None), capped=False)


def build_registry(settings: Settings) -> TrendRegistry:
    """The tracked-trend registry (in the data dir, or the Chroma server), seeded with the shipped trends unless
    the config names its own."""
    from agent.analysis.trends import TrendRegistry  # chromadb: on first use

    from agent.model.embeddings import trend_embedding_function  # the fp32 MiniLM the threshold was calibrated on

    registry = TrendRegistry(settings.data_dir, trend_embedding_function(settings.embeddings),
                             settings.trends.threshold, server=settings.store)
    if not registry.records:
        registry.seed(settings.trends.seed_file or DEFAULT_SEED_TRENDS)
    return registry
