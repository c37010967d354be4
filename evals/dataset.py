"""Eval cases (one JSON object a line) and the optional <dataset>.toml beside them."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from agent.errors import UsageError
from agent.serve.json_step import InlineSource  # the same inline record `brief draft --json` takes
from agent.schema import Contract

ROOT = Path(__file__).resolve().parent.parent  # paths in cases are relative to the repository root


class Expect(Contract):
    must_mention: list[str | list[str]] = Field(
        default_factory=list, description="Each item must occur in the brief; a list means any one of them.")
    must_not_contain: list[str] = Field(default_factory=list)
    verdict: Literal["published", "rejected", "failed"] = "published"


class Case(Contract):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    sources: list[str | InlineSource] = Field(min_length=1)
    reference: str | None = Field(None, description="A human summary, for ROUGE-L.")
    key_facts: list[str | list[str]] = Field(default_factory=list, description="Scored like must_mention.")
    expect: Expect = Field(default_factory=Expect)
    notes: str = ""


class Gate(Contract):
    """Thresholds on the dataset means: higher-is-better scorers get min_score, costs max_score."""

    min_score: dict[str, float] = Field(default_factory=dict)
    max_score: dict[str, float] = Field(default_factory=dict)
    max_errors: int = Field(0, ge=0, description="Cases that may end in an error row.")


class DatasetConfig(Contract):
    """<dataset>.toml: the agent config to run it with, where its LLM cache lives, and its gate."""

    config: Path | None = Field(None, description="Agent TOML, relative to the repository root.")
    cache_dir: Path | None = Field(None, description="Shared LLM cache, relative to the repository root.")
    gate: Gate = Field(default_factory=Gate)


def load_cases(path: Path) -> list[Case]:
    """Every case of a JSONL dataset; a bad line is a UsageError naming the line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise UsageError(f"{path}: cannot read dataset ({e.strerror or e})") from None
    cases: list[Case] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            cases.append(Case.model_validate(json.loads(line)))
        except json.JSONDecodeError as e:
            raise UsageError(f"{path}:{number}: not JSON ({e.msg})") from None
        except ValidationError as e:
            first = e.errors()[0]
            raise UsageError(f"{path}:{number}: key '{'.'.join(map(str, first['loc']))}': {first['msg']}") from None
    ids = [c.id for c in cases]
    if dupes := sorted({i for i in ids if ids.count(i) > 1}):
        raise UsageError(f"{path}: duplicate case id(s): {', '.join(dupes)}")
    if not cases:
        raise UsageError(f"{path}: no cases")
    return cases


def load_dataset_config(dataset: Path) -> DatasetConfig:
    """The <dataset>.toml beside the JSONL, or defaults when there is none."""
    path = Path(dataset).with_suffix(".toml")
    if not path.exists():
        return DatasetConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return DatasetConfig.model_validate(data)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: invalid TOML ({e})") from None
    except ValidationError as e:
        first = e.errors()[0]
        raise UsageError(f"{path}: key '{'.'.join(map(str, first['loc']))}': {first['msg']}") from None


def resolve(path: Path | str) -> Path:
    """A path from a dataset: absolute as is, otherwise relative to the repository root."""
    p = Path(path)
    return p if p.is_absolute() else ROOT / p
