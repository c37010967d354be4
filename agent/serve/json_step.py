"""`brief draft --json -`: one JSON request on stdin, one JSON result on stdout, errors as JSON too."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from agent.config import Ingest
from agent.errors import BriefError, UsageError
from agent.sources.ingest import build_source
from agent.sources.metadata import has_lone_surrogate
from agent.result import Skipped
from agent.schema import Contract, Source


class InlineSource(Contract):
    text: str | None = None
    html: str | None = None
    outlet: str | None = None
    title: str | None = None
    topic: str | None = None
    url: str | None = None
    published: date | None = None
    language: str | None = None

    @field_validator("text", "html", "outlet", "title", "topic", "url", "language")
    @classmethod
    def _encodable(cls, value: str | None) -> str | None:
        return _no_lone_surrogates(value)


class DraftRequest(Contract):
    """Sources as paths or inline records; `config` is a TOML file layered over the defaults."""

    sources: list[str | InlineSource] = Field(min_length=1)
    config: Path | None = None

    @field_validator("sources")
    @classmethod
    def _encodable_paths(cls, value: list) -> list:
        for item in value:
            if isinstance(item, str):
                _no_lone_surrogates(item)
        return value


def _no_lone_surrogates(value: str | None) -> str | None:
    """JSON can carry "\\udc00", which no file, store or UTF-8 output can hold: refuse it at the boundary."""
    if value is not None and has_lone_surrogate(value):
        raise ValueError("text contains a lone surrogate (invalid Unicode)")
    return value


def parse_request(raw: str) -> DraftRequest:
    try:
        return DraftRequest.model_validate(json.loads(raw))
    except json.JSONDecodeError as e:
        raise UsageError(f"request is not valid JSON ({e.msg} at line {e.lineno})") from None
    except RecursionError:
        raise UsageError("request JSON is nested too deeply") from None
    except ValidationError as e:  # a union (path or inline source) reports every branch: our validators say more
        first = next((err for err in e.errors() if err["type"] == "value_error"), e.errors()[0])
        raise UsageError(f"request key '{'.'.join(map(str, first['loc']))}': {first['msg']}") from None


def inline_source(item: InlineSource, index: int, settings: Ingest) -> Source | Skipped:
    """One inline record cleaned into a Source, or why it is unusable; `index` counts inline records only."""
    body = item.text if item.text is not None else item.html
    if body is None:
        return Skipped(origin=f"sources[{index}]", reason="needs 'text' or 'html'")
    meta = item.model_dump(exclude={"text", "html"}, exclude_none=True)
    built = build_source(body, meta, f"inline[{index}]", body.encode("utf-8"), settings, is_html=item.text is None)
    return Skipped(origin=f"inline[{index}]", reason=built) if isinstance(built, str) else built


def error_document(e: BriefError) -> str:
    return json.dumps({"status": "failed", "error": {"code": e.code, "exit_code": e.exit_code, "message": e.one_line()}})
