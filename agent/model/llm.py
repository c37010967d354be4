"""OpenAI-compatible client: the single retry layer, schema-validated output, a log of every call."""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable, Protocol, TypeVar

import openai
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from agent import cancel
from agent.config import Budget, ModelRole, Price
from agent.errors import (BudgetExceeded, ContextTooLong, EmbeddedModelCrashed, LLMError, LLMOutputInvalid,
                          LLMUnavailable)
from agent.model.llm_cache import CachedReply, LayeredCache, request_key
from agent.redact import redact_url
from agent.result import Usage

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_CONTEXT = re.compile(r"context|too long|too many tokens|exceeds? .{0,40}tokens|maximum .{0,40}tokens", re.I)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.I)


class _Retryable(Exception):
    def __init__(self, kind: str, retry_after: float | None = None):
        super().__init__(kind)
        self.kind, self.retry_after = kind, retry_after


class _BadReply(Exception):
    """The endpoint answered, but not with a usable reply; goes down the re-ask path."""

    def __init__(self, problem: str, content: str = ""):
        super().__init__(problem)
        self.problem, self.content = problem, content


class CallLog:
    """One JSON line per logical call (the run folder's audit trail) plus running totals."""

    def __init__(self, path: Path | None = None, prices: dict[str, Price] | None = None, on_record=None):
        self.path = path
        self.prices = prices or {}
        self.on_record = on_record  # optional callable(totals: Usage), e.g. a progress display
        self.totals = Usage()
        self.drafting_calls = self.drafting_invalid = 0
        self._lock = threading.Lock()

    def cost_of(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        price = self.prices.get(model)
        if price is None:
            return 0.0
        return (prompt_tokens * price.prompt_per_1m + completion_tokens * price.completion_per_1m) / 1e6

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["cost"] = round(self.cost_of(entry["model"], entry["prompt_tokens"], entry["completion_tokens"]), 8)
            self.totals.llm_calls += 1
            if entry["prompt_name"].startswith("draft"):  # the calls in which the model writes the brief
                self.drafting_calls += 1
                self.drafting_invalid += not entry.get("ok", False)
            if entry["attempts"] == 0 and entry.get("cached"):  # served entirely from the cache
                self.totals.cached_calls += 1
            self.totals.http_attempts += entry["attempts"]
            self.totals.prompt_tokens += entry["prompt_tokens"]
            self.totals.completion_tokens += entry["completion_tokens"]
            self.totals.cost += entry["cost"]
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            totals = self.totals.model_copy()
        if self.on_record is not None:
            self.on_record(totals)


class Clock(Protocol):
    """Time as the retry layer sees it; injectable, so a test asserts the waits instead of timing them."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def parse_retry_after(headers: Any, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from retry-after-ms / Retry-After (seconds or an HTTP date, measured from `now()`)."""
    if headers is None:
        return None
    if ms := headers.get("retry-after-ms"):
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now())
        except (TypeError, ValueError):
            return None


def extract_json(text: str) -> Any:
    """The outermost JSON object in a reply, tolerating fences and raw newlines in strings."""
    text = _FENCE.sub("", text.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the reply")
    return json.loads(text[start:end + 1], strict=False)


class ServerProcess(Protocol):
    """A model server this process started (the embedded model): it can tell that it died."""

    def crash(self, during: str = ..., wait_s: float = ...) -> EmbeddedModelCrashed | None: ...

    def restart(self) -> str: ...


class LLMClient:
    """One model role behind the `openai` client; the SDK's own retries are off."""

    def __init__(self, role: ModelRole, *, base_url: str, api_key: str | None, call_log: CallLog | None = None,
                 role_name: str = "drafter", embedded: bool = False, cache: LayeredCache | None = None,
                 budget: Budget | None = None, server: ServerProcess | None = None, restarts: int = 0,
                 clock: Clock | None = None):
        self.role, self.base_url, self.role_name = role, base_url.rstrip("/"), role_name
        self.clock = clock or SystemClock()  # backoff sleeps, Retry-After dates and latency read this
        self.server, self.restarts_left, self._api_key = server, restarts, api_key or "not-needed"
        self.call_log = call_log or CallLog()
        self.cache, self.budget = cache or LayeredCache([]), budget or Budget()
        self.dialect = role.structured_output if role.structured_output != "auto" else (
            "json_object" if embedded else "json_schema")
        self._client = self._open()

    def _open(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url, api_key=self._api_key, max_retries=0, timeout=self.role.timeout_s)

    def _after_crash(self, crash: EmbeddedModelCrashed) -> None:
        """A dead server is never retried as such: restart it if allowed (then retry), else raise."""
        if self.server is None or self.restarts_left <= 0:
            raise crash
        self.restarts_left -= 1
        log.warning("%s; restarting it once", crash.one_line())
        self._client.close()
        self.base_url = self.server.restart().rstrip("/")
        self._client = self._open()

    @property
    def usage(self) -> Usage:
        return self.call_log.totals

    # --- the one retry layer ---------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return min(8.0, 0.5 * 2 ** (state.attempt_number - 1)) * (0.5 + random.random() / 2)

    def _send_once(self, prompt_name: str, messages: list[dict], response_format: dict | None) -> Any:
        kwargs: dict[str, Any] = dict(model=self.role.model, messages=messages, temperature=self.role.temperature,
                                      max_tokens=self.role.max_tokens, extra_headers={"X-Brief-Prompt": prompt_name})
        if response_format:
            kwargs["response_format"] = response_format
        try:
            return self._client.chat.completions.create(**kwargs)
        except openai.APIStatusError as e:
            status = e.status_code
            if status in (401, 403):
                raise LLMUnavailable(f"{self.base_url}: HTTP {status} (check OPENAI_API_KEY)") from None
            if status in (400, 413) and _CONTEXT.search(str(e.message)):
                raise ContextTooLong(f"{prompt_name}: HTTP {status}: prompt too long for the model "
                                     f"({str(e.message)[:120]})") from None
            if status in (400, 422, 500) and "response_format" in str(e.message) and self.dialect == "json_schema":
                raise _BadReply(f"HTTP {status}: response_format json_schema not supported") from None
            if status in RETRY_STATUS:
                wait = parse_retry_after(e.response.headers, self.clock.time)
                if wait is not None and wait > self.role.max_retry_after_s:
                    raise LLMUnavailable(f"{self.base_url}: HTTP {status} asks to retry after {wait:.0f} s "
                                         f"(limit {self.role.max_retry_after_s:.0f} s)") from None
                raise _Retryable(f"HTTP {status}", wait) from None
            raise _BadReply(f"HTTP {status}: {str(e.message)[:200]}") from None
        except openai.APITimeoutError:
            raise _Retryable("timeout") from None
        except openai.APIConnectionError as e:
            raise _Retryable(f"connection error ({e.__cause__.__class__.__name__ if e.__cause__ else 'unknown'})") from None
        except (openai.APIResponseValidationError, ValueError, TypeError) as e:
            raise _BadReply(f"unreadable response ({e.__class__.__name__})") from None

    def _send_within_deadline(self, prompt_name: str, messages: list[dict], response_format: dict | None) -> Any:
        """One attempt that must finish within timeout_s as a whole: the HTTP client's timeout is per
        read, so a server trickling its reply could otherwise hold the call for ever."""
        box: dict[str, Any] = {}
        done = threading.Event()

        def attempt() -> None:
            try:
                box["value"] = self._send_once(prompt_name, messages, response_format)
            except BaseException as e:  # handed to the caller's thread below
                box["error"] = e
            finally:
                done.set()

        threading.Thread(target=attempt, name="llm-attempt", daemon=True).start()
        if not cancel.wait(done, self.role.timeout_s):  # an abandoned draft stops here, mid-call
            raise _Retryable(f"timeout (no complete reply within {self.role.timeout_s:g} s)")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _send(self, prompt_name: str, messages: list[dict], response_format: dict | None, counter: list[int]) -> Any:
        # One budget per logical call: transport retries and re-asks share max_attempts.
        retrying = Retrying(stop=lambda _: counter[0] >= self.role.max_attempts, wait=self._wait,
                            retry=retry_if_exception_type(_Retryable), reraise=True, sleep=self.clock.sleep)
        if self.server is not None and (crash := self.server.crash("before a request", wait_s=0)):
            self._after_crash(crash)
        try:
            for attempt in retrying:
                with attempt:
                    counter[0] += 1
                    try:
                        return self._send_within_deadline(prompt_name, messages, response_format)
                    except _Retryable:
                        if self.server is not None and (crash := self.server.crash("during a request")):
                            self._after_crash(crash)
                        raise
        except _Retryable as e:
            raise LLMUnavailable(f"{self.base_url}: {e.kind} after {counter[0]} attempt(s)") from None

    # --- logical calls ---------------------------------------------------------------

    def _response_format(self, schema: type[BaseModel] | None) -> dict | None:
        if schema is None:
            return None
        if self.dialect == "json_object":
            return {"type": "json_object", "schema": schema.model_json_schema()}
        return {"type": "json_schema", "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": False}}

    def _check_budget(self) -> None:
        totals, cap = self.call_log.totals, self.budget
        if cap.max_tokens_per_brief is not None and totals.prompt_tokens + totals.completion_tokens >= cap.max_tokens_per_brief:
            raise BudgetExceeded(f"token budget reached: {totals.prompt_tokens + totals.completion_tokens} "
                                 f"of {cap.max_tokens_per_brief} tokens used")
        if cap.max_cost is not None and totals.cost >= cap.max_cost:
            raise BudgetExceeded(f"cost budget reached: {totals.cost:.4f} of {cap.max_cost:.4f}")

    def _fetch(self, prompt_name: str, convo: list[dict], response_format: dict | None,
               counter: list[int]) -> tuple[CachedReply, bool]:
        """The reply to one request: from the cache, or from the endpoint (then cached)."""
        key = request_key(self.role.model, convo, response_format, self.role.temperature, self.role.max_tokens)
        if (hit := self.cache.get(key, prompt_name)) is not None:
            return hit, True
        self._check_budget()
        if counter[0] >= self.role.max_attempts:
            raise _BadReply(f"no HTTP attempts left (max_attempts {self.role.max_attempts})")
        response = self._send(prompt_name, convo, response_format, counter)
        choices = getattr(response, "choices", None)
        if not choices:
            raise _BadReply("the reply has no choices")
        choice, usage = choices[0], getattr(response, "usage", None)
        reply = CachedReply(content=(choice.message.content or "") if choice.message else "",
                            finish_reason=choice.finish_reason or "",
                            prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
                            completion_tokens=(usage.completion_tokens or 0) if usage else 0)
        self.cache.put(key, reply, prompt_name)
        return reply, False

    @staticmethod
    def _content(reply: CachedReply) -> str:
        if reply.finish_reason == "length":
            raise _BadReply("your reply was cut off at the length limit; answer much shorter", reply.content)
        if not reply.content.strip():
            raise _BadReply("the reply was empty")
        return reply.content

    def _call(self, prompt_name: str, messages: list[dict], schema: type[T] | None) -> Any:
        cancel.raise_if_cancelled()  # an abandoned draft makes no further call
        started, counter, reasks = self.clock.monotonic(), [0], 0
        convo = list(messages)
        entry: dict[str, Any] = {"prompt_name": prompt_name, "role": self.role_name, "model": self.role.model,
                                 "base_url": redact_url(self.base_url), "messages": messages}
        tokens, requests = [0, 0], [0, 0]  # tokens: prompt, completion; requests: made, from cache
        last = ""
        try:
            while True:
                try:
                    reply, cached = self._fetch(prompt_name, convo, self._response_format(schema), counter)
                    requests[0] += 1
                    requests[1] += cached
                    if not cached:
                        tokens[0] += reply.prompt_tokens
                        tokens[1] += reply.completion_tokens
                    content = self._content(reply)
                    last = content
                    value = schema.model_validate(extract_json(content)) if schema else content.strip()
                    entry.update(ok=True, reply=content, finish_reason=reply.finish_reason)
                    return value
                except _BadReply as e:
                    if self._switch_dialect(e.problem):
                        continue
                    problem, last = e.problem, e.content or last
                except (ValueError, ValidationError) as e:
                    problem = _short_error(e)
                if reasks >= self.role.max_reasks or counter[0] >= self.role.max_attempts:
                    raise LLMOutputInvalid(f"{prompt_name}: no valid reply after {reasks + 1} tries ({problem})", last)
                reasks += 1
                convo = messages + ([{"role": "assistant", "content": last[:2000]}] if last else []) + [
                    {"role": "user", "content": f"Your reply was not usable: {problem}. Reply again with JSON only, "
                                                "exactly in the format asked."}]
        except (LLMError, BudgetExceeded) as e:
            entry.update(ok=False, error=e.one_line(), reply=last)
            raise
        finally:
            entry.update(attempts=counter[0], reasks=reasks, prompt_tokens=tokens[0], completion_tokens=tokens[1],
                         requests=requests[0], cached=requests[1], latency_s=round(self.clock.monotonic() - started, 3))
            self.call_log.record(entry)

    def _switch_dialect(self, problem: str) -> bool:
        """OpenAI's json_schema rejected (llama.cpp answers 500): use json_object from now on."""
        if self.dialect == "json_schema" and self.role.structured_output == "auto" and "response_format" in problem:
            self.dialect = "json_object"
            return True
        return False

    def close(self) -> None:
        """Close the HTTP connections now rather than at garbage collection (long-running services)."""
        self._client.close()

    def context_budget(self) -> int:
        """Prompt tokens this role can take: its context minus room for the reply."""
        return self.role.context_tokens - self.role.max_tokens

    def ping(self) -> str:
        """One plain request through the retry layer, any finish reason accepted (setup's "does it answer")."""
        try:
            response = self._send("ping", [{"role": "user", "content": "Say OK."}], None, [0])
        except _BadReply as e:
            raise LLMUnavailable(f"{self.base_url}: {e.problem}") from None
        content = (response.choices[0].message.content or "") if getattr(response, "choices", None) else ""
        if not content.strip():
            raise LLMUnavailable(f"{self.base_url}: the model answered with no text")
        return content

    def complete_text(self, prompt_name: str, messages: list[dict]) -> str:
        return self._call(prompt_name, messages, None)

    def complete_json(self, prompt_name: str, messages: list[dict], schema: type[T]) -> T:
        return self._call(prompt_name, messages, schema)


def _short_error(e: Exception) -> str:
    if isinstance(e, ValidationError):
        first = e.errors()[0]
        return f"field '{'.'.join(map(str, first['loc'])) or '(root)'}': {first['msg']}"
    return str(e)[:200]
