"""The one place that reads config files and the environment.

Precedence, lowest first: built-in defaults (configs/default.toml) < a --config FILE <
environment variables < CLI flags. Unknown keys anywhere are errors naming the key.

Environment: OPENAI_API_KEY (secret, never written to disk), OPENAI_BASE_URL (both roles),
BRIEF_DRAFTER_BASE_URL / BRIEF_JUDGE_BASE_URL, BRIEF_DRAFTER_MODEL / BRIEF_JUDGE_MODEL,
BRIEF_DATA_DIR, BRIEF_POSTGRES_DSN; BRIEF_API_TOKENS (the service's bearer tokens, read by api_tokens()).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from agent.errors import ConfigError

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.toml"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelRole(Section):
    """One model role (drafter, judge): where to send requests and how hard to try."""

    base_url: str = Field("", description="Empty: the embedded local model.")
    model: str = "smollm2-135m"
    temperature: float = Field(0.2, ge=0, le=2)
    max_tokens: int = Field(256, ge=1)
    timeout_s: float = Field(120.0, gt=0)
    max_attempts: int = Field(3, ge=1, le=10)
    max_reasks: int = Field(2, ge=0, le=5)
    max_retry_after_s: float = Field(30.0, ge=0)
    structured_output: Literal["auto", "json_schema", "json_object"] = "auto"
    context_tokens: int = Field(8192, ge=512)
    weak: bool | None = Field(None, description="A model that can't rewrite without changing meaning: drafting "
                              "selects and compresses only. None: weak when embedded.")
    api_key: SecretStr | None = Field(None, exclude=True, description="Only from the environment.")

    @property
    def embedded(self) -> bool:
        return not self.base_url

    @property
    def is_weak(self) -> bool:
        return self.embedded if self.weak is None else self.weak


class Embeddings(Section):
    """Passage embeddings and hybrid retrieval; the options are compared in benchmarks/embedding_options.py."""

    backend: Literal["minilm", "minilm-int8", "hashing"] = Field(
        "minilm-int8", description="minilm: all-MiniLM-L6-v2 in numpy (fp32); minilm-int8: the same model int8-quantised "
        "in onnxruntime; hashing: no model (tests).")
    dense: Literal["eager", "lazy"] = Field(
        "eager", description="eager: embed every passage when indexing; lazy: embed only each query's BM25 "
        "shortlist (lazy_candidates), at search time, and keep those vectors in the store.")
    lazy_candidates: int = Field(48, ge=1, description="lazy: passages per query shortlisted by BM25 and embedded.")
    max_tokens: int = Field(256, ge=16, le=512, description="A passage is cut to this many tokens (MiniLM was "
                            "trained on 128).")
    batch_size: int = Field(32, ge=1)
    lexical_weight: float = Field(0.5, ge=0, le=1)


class LocalModel(Section):
    threads: int = Field(2, ge=1)
    context_tokens: int = Field(4096, ge=512)
    startup_timeout_s: float = Field(60.0, gt=0)
    seed: int = 7
    restart_after_crash: bool = Field(False, description="Restart a crashed embedded server once per run.")


class Ingest(Section):
    max_file_bytes: int = Field(5_000_000, ge=1_000)
    passage_chars: int = Field(400, ge=100)
    min_source_chars: int = Field(80, ge=1)


class Draft(Section):
    max_revisions: int = Field(2, ge=0, le=5)
    passages_per_section: int = Field(6, ge=1)
    max_passages_per_source: int = Field(3, ge=1)
    body_sentences: int = Field(5, ge=1)
    watch_bullets: int = Field(2, ge=1)
    disclaimer: str = "Observations to monitor, not financial advice."
    fallback: Literal["extract", "reject"] = "extract"
    mode: Literal["auto", "faithful", "sentence", "section"] = Field(
        "auto", description="auto: faithful for a weak drafter (the embedded model, or weak = true), section "
        "otherwise. faithful: every sentence is a cleaned source sentence, shortened only by verified deletion. "
        "section: the model writes each section. sentence: the model rewrites one passage at a time (no "
        "meaning guarantee; kept for comparison).")


class VeracityLabel(Section):
    name: str
    min_score: int = Field(ge=0, le=100)


class VeracityConfig(Section):
    """Weights of the veracity score's factors, the claim-match thresholds and the label thresholds (highest first).

    See docs/veracity.md for the calibration and its worked examples.
    """

    base: float = 35.0
    lead_weight: float = Field(50.0, description="Best-corroborated key claim: half at 2 independent groups, all at 3+.")
    coverage_weight: float = Field(20.0, description="Mean corroboration of all key claims (same scale).")
    official_weight: float = Field(25.0, description="The best-corroborated claim rests on an official or primary source.")
    single_source_penalty: float = 10.0
    contradiction_penalty: float = 30.0
    disputed_share: float = Field(0.34, ge=0, le=1)
    claim_overlap: float = Field(0.4, ge=0, le=1, description="Share of event words two sentences must share (of the shorter; at least 3).")
    dispute_max_ratio: float = Field(3.0, gt=1, description="Two values of one unit further apart than this are two "
                                                            "different quantities, not a dispute.")
    official_outlet_words: list[str] = Field(default_factory=lambda: """ministry ministerio ministère ministerium
        ministero government gobierno gouvernement regierung governo authority autoridad autorité behörde agency agencia
        agence department departamento commission comisión parliament parlamento court tribunal police policía
        ayuntamiento municipality municipio prefecture prefectura statistics estadística""".split(),
        description="An outlet whose name holds one of these words is an official or primary source.")
    labels: list[VeracityLabel] = Field(default_factory=lambda: [
        VeracityLabel(name="Confirmed", min_score=92), VeracityLabel(name="Corroborated", min_score=70),
        VeracityLabel(name="Plausible", min_score=50), VeracityLabel(name="Unverified", min_score=0)])


class Trends(Section):
    threshold: float = Field(0.35, ge=0, le=1, description="Cosine similarity (MiniLM) a story needs to join a tracked trend.")
    seed_file: Path | None = Field(None, description="TOML with [[trend]] name/description, loaded on first use.")


class Cache(Section):
    """Disk cache of LLM replies keyed by the request (model, messages, format, sampling)."""

    mode: Literal["off", "use", "replay"] = Field(
        "off", description="off; use: read and write; replay: read only, a miss is an error (exit 4).")
    dir: Path | None = Field(None, description="Default: <data_dir>/llm-cache.")


class Price(Section):
    prompt_per_1m: float = Field(0.0, ge=0)
    completion_per_1m: float = Field(0.0, ge=0)


class Budget(Section):
    """Caps per brief; reaching one stops the run gracefully with status 'budget_exceeded'."""

    max_tokens_per_brief: int | None = Field(None, ge=1)
    max_cost: float | None = Field(None, ge=0)


class Store(Section):
    """Embedded chromadb in data_dir (default), or a Chroma server started with `chroma run`."""

    host: str = Field("", description="Empty: embedded store in data_dir.")
    port: int = Field(8000, ge=1, le=65535)
    collection_prefix: str = ""


class Check(Section):
    layers: Literal["deterministic", "judge"] = Field(
        "deterministic", description="judge: undecided claims go to the judge role's model.")


class Service(Section):
    """What `brief serve` may read for a client, and how much a check may cost (the CLI is not bound by it)."""

    path_sources: bool = Field(False, description="Accept file and folder paths in requests (read from the server's disk).")
    path_roots: list[Path] = Field(default_factory=list, description="The only folders path sources may come from.")
    max_path_files: int = Field(200, ge=1, description="Files read for one request's path sources.")
    max_path_bytes: int = Field(50_000_000, ge=1, description="Bytes read for one request's path sources.")
    max_check_bytes: int = Field(2_000_000, ge=1, description="Largest draft /v1/check accepts (413 above).")
    check_time_limit_s: float = Field(30.0, gt=0, description="Wall-clock limit of one /v1/check (then 504).")
    check_workers: int = Field(2, ge=1, le=16, description="Child processes that run /v1/check.")
    workers: int = Field(1, ge=1, le=64, description="Drafts run at once against a remote endpoint (the embedded "
                         "model is one process: with it, drafts run one at a time whatever this says).")


class State(Section):
    """Where jobs and graph checkpoints live: SQLite in the data dir (one server), or one PostgreSQL for every replica."""

    postgres_dsn: str = Field("", description="Empty: SQLite in data_dir. A libpq DSN or URL, e.g. "
                              "postgresql://brief@db:5432/brief; give a password via PGPASSWORD or BRIEF_POSTGRES_DSN.")
    job_lease_s: float = Field(30.0, ge=1, description="A running job's lease, renewed while it runs; a job whose "
                               "replica stopped renewing is taken over once its lease has run out.")

    @property
    def postgres(self) -> bool:
        return bool(self.postgres_dsn)


class Fetch(Section):
    """Web sources (URLs and feed items): limits, robots.txt, the SSRF guard, the response cache."""

    timeout_s: float = Field(15.0, gt=0, description="Per page, redirects and a slow body included.")
    max_bytes: int = Field(5_000_000, ge=1_000, description="A longer response is cut at this size, with a note.")
    max_redirects: int = Field(5, ge=0, le=20)
    user_agent: str = Field("", description="Empty: brief-agent/<version>.")
    respect_robots: bool = Field(True, description="Refuse pages that the site's robots.txt disallows.")
    allow_private: bool = Field(False, description="Allow private, loopback and link-local addresses (never metadata).")
    allow_networks: list[str] = Field(default_factory=list, description="CIDR networks always allowed, e.g. 127.0.0.1/32.")
    in_service: bool = Field(False, description="Accept URL sources in `brief serve` requests.")

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"'{net}' is not a CIDR network such as 127.0.0.1/32") from None
        return value


def _feed_urls(value: dict[str, str]) -> dict[str, str]:
    for name, url in value.items():
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"feed '{name}': '{url}' is not an http(s) URL")
    return value


class Settings(Section):
    data_dir: Path = Path(".brief-data")
    drafter: ModelRole = ModelRole()
    judge: ModelRole = ModelRole(temperature=0.0, max_tokens=128)
    embeddings: Embeddings = Embeddings()
    local_model: LocalModel = LocalModel()
    ingest: Ingest = Ingest()
    draft: Draft = Draft()
    veracity: VeracityConfig = VeracityConfig()
    trends: Trends = Trends()
    cache: Cache = Cache()
    budget: Budget = Budget()
    prices: dict[str, Price] = Field(default_factory=dict, description="Model name -> price per 1M tokens.")
    store: Store = Store()
    check: Check = Check()
    service: Service = Service()
    state: State = State()
    fetch: Fetch = Fetch()
    feeds: Annotated[dict[str, str], AfterValidator(_feed_urls)] = Field(
        default_factory=dict, description="Named outlet feeds: name -> RSS or Atom URL (brief draft --feed NAME).")

    def public_dump(self) -> dict[str, Any]:
        """Settings as JSON-safe data, without secrets (for run manifests): endpoint URLs redacted."""
        from agent.redact import redact_url

        data = self.model_dump(mode="json")
        for role in ("drafter", "judge"):
            data[role]["base_url"] = redact_url(data[role]["base_url"])
        data["state"]["postgres_dsn"] = redact_dsn(data["state"]["postgres_dsn"])
        return data


class ServiceSettings(Section):
    """`brief serve`: the brief settings plus the server's own limits."""

    brief: Settings
    time_limit_s: float = Field(300.0, gt=0, description="Per draft, waiting for the drafter included; then 504.")
    max_body_bytes: int = Field(10_000_000, ge=1, description="Larger request bodies get 413.")
    host: str = Field("127.0.0.1", description="The bind address: off loopback, bearer tokens are required.")
    api_tokens: list[SecretStr] | None = Field(None, description="None: from BRIEF_API_TOKENS.")


def redact_dsn(dsn: str) -> str:
    """A PostgreSQL DSN without its password (URL userinfo, or a password=... key)."""
    from agent.redact import redact_url

    if "://" in dsn:
        return redact_url(dsn)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", dsn)


def api_tokens(env: Mapping[str, str] | None = None) -> list[str]:
    """Bearer tokens the HTTP service accepts: BRIEF_API_TOKENS, comma-separated (secrets: never written)."""
    env = os.environ if env is None else env
    return [t.strip() for t in env.get("BRIEF_API_TOKENS", "").split(",") if t.strip()]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read config file ({e.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML ({e})") from None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    shared_url = env.get("OPENAI_BASE_URL")
    for role in ("drafter", "judge"):
        values: dict[str, Any] = {}
        url = env.get(f"BRIEF_{role.upper()}_BASE_URL") or shared_url
        if url:
            values["base_url"] = url
        if model := env.get(f"BRIEF_{role.upper()}_MODEL"):
            values["model"] = model
        if values:
            layer[role] = values
    if data_dir := env.get("BRIEF_DATA_DIR"):
        layer["data_dir"] = data_dir
    if dsn := env.get("BRIEF_POSTGRES_DSN"):
        layer["state"] = {"postgres_dsn": dsn}
    return layer


def _did_you_mean(loc: tuple) -> str:
    """' (did you mean 'x'?)' for an unknown key close to a key the same table knows."""
    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return ""
        model = field.annotation
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _format_error(err: ValidationError, origin: str) -> str:
    """Every problem in one line, each naming its key; unknown keys get a 'did you mean'."""
    problems = []
    for error in err.errors():
        key = ".".join(str(p) for p in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'{_did_you_mean(error['loc'])}")
        else:
            problems.append(f"key '{key}': {error['msg']}")
    count = f"{len(problems)} problems: " if len(problems) > 1 else ""
    return f"{origin}: {count}" + "; ".join(problems)


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build the one Settings object from defaults < file < env < overrides (CLI flags)."""
    env = os.environ if env is None else env
    data = _read_toml(DEFAULT_CONFIG)
    origin = str(DEFAULT_CONFIG)
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if config_file is not None:
        layers.append((str(config_file), _read_toml(Path(config_file))))
    layers.append(("environment", _from_env(env)))
    layers.append(("command line", overrides or {}))
    for origin, layer in layers:
        data = _merge(data, layer)
        try:  # validate after each layer so the error names the layer that broke it
            Settings.model_validate(data)
        except ValidationError as e:
            raise ConfigError(_format_error(e, origin)) from None
    settings = Settings.model_validate(data)
    if key := env.get("OPENAI_API_KEY"):
        settings.drafter.api_key = SecretStr(key)
        settings.judge.api_key = SecretStr(key)
    return settings
