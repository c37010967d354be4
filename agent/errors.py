"""The error tree; each leaf maps to one exit code and prints as one readable line.

    BriefError                      exit 1  (unexpected)
    ├── UsageError                  exit 2  bad flags, bad config file or key
    │   ├── ConfigError             exit 2
    │   │   └── DataDirError        exit 2  the data dir is a file, or cannot be written
    │   └── PathRefused             exit 2  (service) a path source outside the allowed roots, or a config path
    ├── NoUsableSources             exit 3  nothing left after ingest and cleaning
    ├── LLMError                    exit 4  endpoint failed after retries, or output never valid
    │   ├── LLMUnavailable          exit 4  refused, timed out, 5xx, 401/403, embedded model won't start
    │   │   └── EmbeddedModelCrashed exit 4  the embedded server process died (signal or exit); names the log
    │   ├── LLMOutputInvalid        exit 4  re-asks exhausted; carries the last output
    │   ├── CacheMiss               exit 4  replay-only mode and the request is not in the cache
    │   └── ContextTooLong          exit 4  the endpoint says the prompt exceeds its context (callers shrink)
    ├── BudgetExceeded              exit 7  a token or cost cap was reached (the run stops gracefully)
    └── StoreError                  exit 5  chromadb failed, or the store is locked by another writer

A checker rejection is not an exception: it is a result with status "rejected" (exit 6).
Every message has the URLs in it redacted (agent.redact), so no credential reaches a log or a client.
"""

from __future__ import annotations

from agent.redact import redact_text

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_NO_SOURCES = 3
EXIT_LLM = 4
EXIT_STORE = 5
EXIT_REJECTED = 6
EXIT_BUDGET = 7


class BriefError(Exception):
    """Base of every error the agent raises on purpose."""

    exit_code = 1
    code = "error"

    def __init__(self, message: str):
        message = redact_text(message)
        super().__init__(message)
        self.message = message

    def one_line(self) -> str:
        return " ".join(self.message.split())


class UsageError(BriefError):
    exit_code = EXIT_USAGE
    code = "usage"


class ConfigError(UsageError):
    code = "config"


class DataDirError(ConfigError):
    code = "data-dir"


class PathRefused(UsageError):
    """The service does not read this path for a client (disabled, outside the roots, over the bounds)."""

    code = "path-refused"


class NoUsableSources(BriefError):
    exit_code = EXIT_NO_SOURCES
    code = "no-usable-sources"


class LLMError(BriefError):
    exit_code = EXIT_LLM
    code = "llm"


class LLMUnavailable(LLMError):
    code = "llm-unavailable"


class EmbeddedModelCrashed(LLMUnavailable):
    """Never retried: a dead process does not answer the next attempt either."""

    code = "embedded-model-crashed"


class LLMOutputInvalid(LLMError):
    code = "llm-output-invalid"

    def __init__(self, message: str, last_output: str = ""):
        super().__init__(message)
        self.last_output = last_output


class ContextTooLong(LLMError):
    code = "context-too-long"


class CacheMiss(LLMError):
    code = "cache-miss"


class BudgetExceeded(BriefError):
    """Raised by the LLM client before a call that the budget no longer allows."""

    exit_code = EXIT_BUDGET
    code = "budget-exceeded"


class StoreError(BriefError):
    exit_code = EXIT_STORE
    code = "store"
